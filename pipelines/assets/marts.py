"""Marts: the documented tables the dashboards read. Names, columns and types are a contract
(pipelines.marts_contract); columns may be added, never renamed or removed.

All times are UTC: naive TIMESTAMP in the marts below, TIMESTAMPTZ in the detail marts
(pipelines.assets.detail) and at_risk_history. "Now" is AnalyticsSettings.now() (a setting, so
tests and replays are exact). This module also keeps the key of every mart (ALL_MARTS: what
the publish waits for).
"""

from datetime import datetime, timedelta

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    MaterializeResult,
    asset,
    multi_asset,
)

from pipelines.assets.raw import is_full_refresh, quiz_attempts_copied_whole
from pipelines.quiz_statistics import QuizStatisticsSettings, refresh_quiz_statistics
from pipelines.resources import Warehouse, mark_updated, tables_in
from pipelines.settings import AnalyticsSettings


def mart(name: str) -> AssetKey:
    return AssetKey(["marts", name])


def staging(*names: str) -> list[AssetKey]:
    return [AssetKey(["staging", n]) for n in names]


ENROLLMENTS = mart("enrollments")
STUDENT_PROGRESS = mart("student_progress")
COHORT_FUNNEL = mart("cohort_funnel")
QUIZ_STATS = mart("quiz_stats")
QUIZ_ITEM_STATS = mart("quiz_item_stats")
QUIZ_OPTION_STATS = mart("quiz_option_stats")
AT_RISK = mart("at_risk_students")
AT_RISK_HISTORY = mart("at_risk_history")
AT_RISK_BACKTEST = mart("at_risk_backtest")  # built in pipelines.assets.backtest
WORKSPACE_ACTIVITY = mart("workspace_activity")
REVENUE = mart("revenue")
# Detail marts (built in pipelines.assets.detail): one row per thing the dashboards filter.
QUIZZES = mart("quizzes")
QUIZ_QUESTIONS = mart("quiz_questions")
QUIZ_OPTIONS = mart("quiz_options")
QUIZ_ATTEMPTS = mart("quiz_attempts")
STEP_COMPLETIONS = mart("step_completions")
SUBMISSIONS = mart("submissions")
SESSION_ATTENDANCE = mart("session_attendance")  # built in pipelines.assets.attendance
ALL_MARTS = [
    ENROLLMENTS,
    STUDENT_PROGRESS,
    COHORT_FUNNEL,
    QUIZ_STATS,
    QUIZ_ITEM_STATS,
    QUIZ_OPTION_STATS,
    AT_RISK,
    AT_RISK_HISTORY,
    AT_RISK_BACKTEST,
    WORKSPACE_ACTIVITY,
    REVENUE,
    QUIZZES,
    QUIZ_QUESTIONS,
    QUIZ_OPTIONS,
    QUIZ_ATTEMPTS,
    STEP_COMPLETIONS,
    SUBMISSIONS,
    SESSION_ATTENDANCE,
]
# at_risk_history: the at-risk rows now and this long before (the "last week" of a trend).
HISTORY_LOOKBACK = timedelta(days=7)
# How much older than "now - HISTORY_LOOKBACK" the kept week-ago rows may be.
WEEK_AGO_REUSE = timedelta(hours=1)
EPOCH = datetime(1970, 1, 1)  # naive UTC, like settings.now()


def last_week_ago(db) -> datetime | None:
    """The instant of the week-ago rows in marts.at_risk_history (None: none computed)."""
    if "at_risk_week_ago" not in tables_in(db, "staging") or "at_risk_history" not in tables_in(
        db, "marts"
    ):
        return None
    # As microseconds since the epoch: DuckDB hands TIMESTAMPTZ back naive without pytz.
    micros = db.execute("SELECT epoch_us(max(as_of)) FROM staging.at_risk_week_ago").fetchone()[0]
    return None if micros is None else EPOCH + timedelta(microseconds=micros)


def build(db, name: str, sql: str, params: list | dict | None = None) -> int:
    db.execute(f"CREATE OR REPLACE TABLE marts.{name} AS {sql}", params or [])
    mark_updated(db, name)
    return db.execute(f"SELECT count(*) FROM marts.{name}").fetchone()[0]


@asset(
    key=ENROLLMENTS,
    group_name="marts",
    deps=staging("enrollments"),
    description="One row per student and track.",
)
def enrollments_mart(warehouse: Warehouse) -> MaterializeResult:
    with warehouse.connect() as db:
        rows = build(
            db,
            "enrollments",
            """
            SELECT student, track, track_name, status, source, enrolled_at, updated_at, trainer
            FROM staging.enrollments ORDER BY track, student
            """,
        )
        by_status = dict(
            db.execute("SELECT status, count(*) FROM marts.enrollments GROUP BY 1").fetchall()
        )
    return MaterializeResult(metadata={"rows": rows, **by_status})


@asset(
    key=STUDENT_PROGRESS,
    group_name="marts",
    deps=[*staging("enrollments", "curriculum", "progress"), AssetKey(["raw", "hub_activity"])],
    description="One row per enrolled student and project of the track.",
)
def student_progress(warehouse: Warehouse) -> MaterializeResult:
    with warehouse.connect() as db:
        rows = build(
            db,
            "student_progress",
            """
            WITH steps AS (
                SELECT project_id, count(*) AS steps_total
                FROM staging.track_steps GROUP BY 1
            ), done AS (
                SELECT person_id, project_id, count(*) AS steps_done,
                       max(completed_at) AS last_step_at
                FROM staging.step_completions GROUP BY 1, 2
            ), activity AS (
                SELECT username, max(last_activity) AS last_activity
                FROM raw.hub_activity GROUP BY 1
            )
            SELECT e.student, e.track, p.project_id,
                   CAST(coalesce(d.steps_done, 0) AS INTEGER) AS steps_done,
                   CAST(coalesce(s.steps_total, 0) AS INTEGER) AS steps_total,
                   -- share of the project's steps done, 0..1 (NULL for a project with no steps)
                   coalesce(d.steps_done, 0) / nullif(s.steps_total, 0) AS pct_complete,
                   d.last_step_at,
                   a.last_activity AS last_workspace_activity_at,
                   p.project_number, p.title AS project_title, e.trainer,
                   e.status AS enrollment_status
            FROM staging.enrollments e
            JOIN staging.projects p ON p.track_id = e.track_id
            LEFT JOIN steps s ON s.project_id = p.project_id
            LEFT JOIN done d ON d.person_id = e.person_id AND d.project_id = p.project_id
            LEFT JOIN activity a ON a.username = e.student
            ORDER BY e.track, e.student, p.project_number
            """,
        )
    return MaterializeResult(metadata={"rows": rows})


@asset(
    key=COHORT_FUNNEL,
    group_name="marts",
    deps=staging("enrollments", "curriculum", "progress"),
    description="One row per step of each track (step_order: its position in the whole "
    "track): the active students who reached it and who completed it.",
)
def cohort_funnel(warehouse: Warehouse) -> MaterializeResult:
    # step_order is the step's position in the whole track (projects in order, then steps).
    # students_reached: active students whose furthest completed step is at least the one
    # before (so everyone reaches step 1); students_completed: those who completed this step.
    with warehouse.connect() as db:
        rows = build(
            db,
            "cohort_funnel",
            """
            WITH active AS (
                SELECT person_id, track_id FROM staging.enrollments WHERE status = 'active'
            ), furthest AS (
                SELECT a.track_id, coalesce(max(c.step_order), 0) AS furthest
                FROM active a
                LEFT JOIN staging.step_completions c
                       ON c.person_id = a.person_id AND c.track_id = a.track_id
                GROUP BY a.person_id, a.track_id
            ), reach AS (
                SELECT ts.step_id, count(f.track_id) AS students_reached
                FROM staging.track_steps ts
                LEFT JOIN furthest f
                       ON f.track_id = ts.track_id AND f.furthest >= ts.step_order - 1
                GROUP BY 1
            ), done AS (
                SELECT c.step_id, count(*) AS students_completed
                FROM staging.step_completions c
                JOIN active a ON a.person_id = c.person_id AND a.track_id = c.track_id
                GROUP BY 1
            )
            SELECT ts.track, ts.project_id, ts.step_id, ts.step_order,
                   CAST(r.students_reached AS INTEGER) AS students_reached,
                   CAST(coalesce(d.students_completed, 0) AS INTEGER) AS students_completed,
                   ts.project_number, ts.project_title, ts.step_number, ts.step_title
            FROM staging.track_steps ts
            JOIN reach r ON r.step_id = ts.step_id
            LEFT JOIN done d ON d.step_id = ts.step_id
            ORDER BY ts.track, ts.step_order
            """,
        )
    return MaterializeResult(metadata={"rows": rows})


@multi_asset(
    specs=[
        AssetSpec(
            QUIZ_STATS,
            group_name="marts",
            deps=staging("quiz_results"),
            description="One row per quiz and attempt set (first, last, highest, all): the "
            "score distribution and the test's reliability (pipelines.quiz_statistics).",
        ),
        AssetSpec(
            QUIZ_ITEM_STATS,
            group_name="marts",
            deps=staging("quiz_results"),
            description="One row per question and attempt set: facility, discrimination, "
            "their intervals, timing and a flag in words (pipelines.quiz_statistics).",
        ),
        AssetSpec(
            QUIZ_OPTION_STATS,
            group_name="marts",
            deps=staging("quiz_results"),
            description="One row per answer option and attempt set: how often it was chosen "
            "and how that relates to the score (pipelines.quiz_statistics).",
        ),
    ],
    # Only the quizzes with new attempts are recomputed.
)
def quiz_statistics(warehouse: Warehouse, settings: AnalyticsSettings):
    with warehouse.connect() as db:
        full = quiz_attempts_copied_whole(db)
        [quiz_ids] = db.execute("SELECT list(DISTINCT quiz_id) FROM raw.quiz_changes").fetchone()
        quiz_marts = [key.path[-1] for key in (QUIZ_STATS, QUIZ_ITEM_STATS, QUIZ_OPTION_STATS)]
        built = set(quiz_marts) <= tables_in(db, "marts")
        scope = None if full or not built else sorted(quiz_ids or [])
        counts = refresh_quiz_statistics(
            db,
            scope,
            QuizStatisticsSettings(
                min_attempts=settings.min_attempts,
                rapid_guess_seconds=settings.rapid_guess_seconds,
            ),
        )
        mark_updated(db, *quiz_marts)
        totals = {
            key: db.execute(f"SELECT count(*) FROM {'.'.join(key.path)}").fetchone()[0]
            for key in (QUIZ_STATS, QUIZ_ITEM_STATS, QUIZ_OPTION_STATS)
        }
    refreshed = "all" if scope is None else len(scope)
    for key, total in totals.items():
        yield MaterializeResult(
            asset_key=key,
            metadata={"rows": total, "quizzes_refreshed": refreshed, "written": str(counts)},
        )


@asset(
    key=WORKSPACE_ACTIVITY,
    group_name="marts",
    deps=staging("workspace_buckets"),
    description="Minutes with workspace activity (5-minute buckets) and workspace sessions "
    "per student and day.",
)
def workspace_activity(warehouse: Warehouse) -> MaterializeResult:
    # The hub updates a server's last_activity about every 5 minutes while its user works:
    # a 5-minute bucket with activity counts as 5 active minutes (across all the student's
    # servers at once, not per server). A session is one server start (server, started).
    with warehouse.connect() as db:
        rows = build(
            db,
            "workspace_activity",
            """
            SELECT username AS student, CAST(bucket AS DATE) AS day,
                   CAST(count(DISTINCT bucket) * 5 AS INTEGER) AS active_minutes,
                   CAST(count(DISTINCT server_name || '@' || CAST(started AS VARCHAR))
                        AS INTEGER) AS sessions
            FROM staging.workspace_buckets
            GROUP BY 1, 2
            ORDER BY 1, 2
            """,
        )
    return MaterializeResult(metadata={"rows": rows})


@asset(
    key=REVENUE,
    group_name="marts",
    deps=staging("payments"),
    description="One row per track, month and currency: money in and out, in the "
    "currency's main unit.",
)
def revenue(warehouse: Warehouse) -> MaterializeResult:
    # A payment counts in the month it was paid; a refund in the month it was refunded
    # (a payment refunded later still counts as paid in its own month). Pending and failed
    # payments count in the month they were created.
    with warehouse.connect() as db:
        rows = build(
            db,
            "revenue",
            """
            WITH events AS (
                SELECT track, currency, paid_at AS moved_at, 'paid' AS kind, amount_cents AS cents
                FROM staging.payments WHERE paid_at IS NOT NULL
                UNION ALL
                SELECT track, currency, refunded_at, 'refund', refunded_cents
                FROM staging.payments WHERE refunded_at IS NOT NULL
                UNION ALL
                SELECT track, currency, created_at, status, amount_cents
                FROM staging.payments WHERE status IN ('pending', 'failed')
            )
            SELECT track, CAST(date_trunc('month', moved_at) AS DATE) AS month,
                   CAST(count(*) FILTER (WHERE kind = 'paid') AS INTEGER) AS payments,
                   coalesce(sum(cents) FILTER (WHERE kind = 'paid'), 0) / 100.0 AS amount,
                   CAST(count(*) FILTER (WHERE kind = 'refund') AS INTEGER) AS refunds,
                   coalesce(sum(cents) FILTER (WHERE kind = 'refund'), 0) / 100.0
                       AS refunded_amount,
                   (coalesce(sum(cents) FILTER (WHERE kind = 'paid'), 0)
                    - coalesce(sum(cents) FILTER (WHERE kind = 'refund'), 0)) / 100.0
                       AS net_amount,
                   CAST(count(*) FILTER (WHERE kind = 'pending') AS INTEGER) AS pending,
                   CAST(count(*) FILTER (WHERE kind = 'failed') AS INTEGER) AS failed,
                   currency
            FROM events
            GROUP BY track, month, currency
            ORDER BY track, month
            """,
        )
    return MaterializeResult(metadata={"rows": rows})


AT_RISK_DEPS = [
    *staging("enrollments", "progress", "quiz_results"),
    AssetKey(["raw", "hub_activity"]),
    AssetKey(["raw", "quizzes"]),
]


@multi_asset(
    specs=[
        AssetSpec(
            AT_RISK,
            group_name="marts",
            deps=AT_RISK_DEPS,
            description="One row per active enrollment with a warning sign whose "
            "risk_score (0..1, the signs weighted) is at least min_risk_score; reasons names "
            "the signs in words. Students quiet (no workspace activity, step or quiz) for "
            "dropped_after_days are left out: they are gone already.",
        ),
        AssetSpec(
            AT_RISK_HISTORY,
            group_name="marts",
            deps=AT_RISK_DEPS,
            description="One row per at-risk enrollment now (the same as "
            "marts.at_risk_students) and 7 days earlier, counting only what had happened by then.",
        ),
    ],
)
def at_risk_students(
    context: AssetExecutionContext, warehouse: Warehouse, settings: AnalyticsSettings
):
    # Four signs, each with a severity in 0..1 and a weight; risk_score is the weighted sum
    # (0..1). A sign fires at its threshold (severity 0.5) and saturates at twice it.
    #   inactive   (0.30): days since the last workspace activity (or since enrolling)
    #   no progress(0.25): days since the last completed step (or since enrolling), unless
    #                      the whole track is done
    #   overdue    (0.25): required deliverables past their expected date + grace, nothing
    #                      submitted (severity: 0.5 for one, 1 for two or more)
    #   quiz       (0.20): mean of the last two scores dropped by score_drop against the
    #                      earlier ones (3+ attempts), or the last three average below low_score
    # Listed: risk_score >= min_risk_score (chosen from marts.at_risk_backtest, README), and
    # not quiet (no workspace activity, step or quiz) for dropped_after_days: gone already.
    # Both marts come from one step and one `now`, so the history's current rows are exactly
    # marts.at_risk_students (two steps could straddle midnight and count other days).
    now = settings.now()
    week_ago = now - HISTORY_LOOKBACK
    params = {
        "now": now,
        "until": None,  # no cutoff: everything in the warehouse counts
        "inactive": settings.inactive_days,
        "no_progress": settings.no_progress_days,
        "grace": settings.overdue_grace_days,
        "drop": settings.score_drop,
        "low": settings.low_score,
        "min_risk": settings.min_risk_score,
        "dropped_after": settings.dropped_after_days,
    }
    with warehouse.connect() as db:
        rows = build(db, "at_risk_students", CURRENT_AT_RISK_SQL, params)
        previous = last_week_ago(db)
        # The week-ago rows are recomputed on a full refresh and when the ones kept are more
        # than WEEK_AGO_REUSE older than "a week ago": a sensor run every few seconds would
        # otherwise pay a second at-risk pass for a figure that moves by the hour.
        recompute = (
            is_full_refresh(context)
            or previous is None
            or not timedelta(0) <= week_ago - previous <= WEEK_AGO_REUSE
        )
        if recompute:
            db.execute(
                f"CREATE OR REPLACE TEMP TABLE week_ago AS SELECT "
                f"CAST($then AS TIMESTAMPTZ) AS as_of, student, track, trainer, risk_score "
                f"FROM ({at_risk_sql(now='then', until='then')})",
                {k: v for k, v in params.items() if k not in ("now", "until")} | {"then": week_ago},
            )
            db.execute(
                "CREATE OR REPLACE TABLE staging.at_risk_week_ago AS "
                "SELECT CAST($then AS TIMESTAMPTZ) AS as_of",
                {"then": week_ago},
            )
        else:
            db.execute(
                "CREATE OR REPLACE TEMP TABLE week_ago AS SELECT * FROM marts.at_risk_history "
                "WHERE as_of = $then",
                {"then": previous},
            )
        history = build(
            db,
            "at_risk_history",
            """
            SELECT CAST($now AS TIMESTAMPTZ) AS as_of, student, track, trainer, risk_score
            FROM marts.at_risk_students
            UNION ALL
            SELECT * FROM week_ago
            ORDER BY as_of DESC, risk_score DESC, student
            """,
            {"now": now},
        )
        # The instant these marts describe; the publish writes it into marts._refresh, so
        # the dashboards compare the same weeks even when nobody is at risk at one of them.
        db.execute(
            "CREATE OR REPLACE TABLE staging.as_of AS SELECT CAST($now AS TIMESTAMPTZ) AS as_of",
            {"now": now},
        )
    yield MaterializeResult(asset_key=AT_RISK, metadata={"rows": rows, "as_of": str(now)})
    yield MaterializeResult(
        asset_key=AT_RISK_HISTORY,
        metadata={"rows": history, "as_of": f"{now}, {week_ago}"},
    )


# Who can be at risk: the enrollments active now (enrolled by the cutoff, if any).
ACTIVE_ENROLLMENTS = """
    SELECT person_id, student, trainer, track, track_id, enrolled_at
    FROM staging.enrollments
    WHERE status = 'active' AND ($until IS NULL OR enrolled_at <= $until)
"""


def at_risk_sql(
    now: str = "now",
    until: str = "until",
    population: str = ACTIVE_ENROLLMENTS,
    due: str = "staging.deliverables_due",
) -> str:
    """AT_RISK_SQL with its instant ($now) and cutoff ($until) read from other parameters.

    The cutoff makes it point-in-time: only activity, completions, submissions, quiz
    attempts and enrollments at or before $until count (NULL: all of them). Enrollment
    statuses and the curriculum are today's: the warehouse keeps no history of them, so a
    backtest (pipelines.assets.backtest) passes its own `population` (the enrollments active
    at the cutoff) and `due` (their required deliverables, whatever their status today).
    """
    sql = AT_RISK_SQL.replace("/*population*/", population).replace("staging.deliverables_due", due)
    return sql.replace("$now", f"${now}").replace("$until", f"${until}")


AT_RISK_SQL = """
WITH active AS (/*population*/), activity AS (
    SELECT username, max(last_activity) AS last_activity FROM raw.hub_activity
    WHERE $until IS NULL OR last_activity <= $until
    GROUP BY 1
), steps AS (
    SELECT track_id, count(*) AS steps_total FROM staging.track_steps GROUP BY 1
), done AS (
    SELECT person_id, track_id, count(*) AS steps_done, max(completed_at) AS last_step_at
    FROM staging.step_completions
    WHERE $until IS NULL OR completed_at <= $until
    GROUP BY 1, 2
), overdue AS (
    -- submitted_at is the first submission: after the cutoff, nothing was submitted by then.
    SELECT person_id, track_id, count(*) AS overdue,
           max(date_diff('day', due_at, $now)) AS oldest_days
    FROM staging.deliverables_due
    WHERE (submitted_at IS NULL OR submitted_at > $until) AND due_at + to_days($grace) < $now
    GROUP BY 1, 2
), scored AS (
    SELECT a.person_id, z.track_id, a.score / nullif(a.max_score, 0) AS fraction,
           a.finished_at,
           row_number() OVER (PARTITION BY a.person_id, z.track_id
                              ORDER BY a.finished_at DESC, a.attempt_id DESC) AS recency
    FROM staging.quiz_attempts a JOIN raw.quizzes z ON z.id = a.quiz_id
    WHERE $until IS NULL OR a.finished_at <= $until
), quiz AS (
    SELECT person_id, track_id, count(*) AS attempts,
           avg(fraction) FILTER (WHERE recency <= 2) AS last_two,
           avg(fraction) FILTER (WHERE recency > 2) AS earlier,
           avg(fraction) FILTER (WHERE recency <= 3) AS last_three,
           max(finished_at) AS last_attempt_at
    FROM scored GROUP BY 1, 2
), signs AS (
    SELECT a.student, a.track, a.trainer,
           date_diff('day', coalesce(act.last_activity, a.enrolled_at), $now) AS days_inactive,
           act.last_activity IS NULL AS never_active,
           CASE WHEN coalesce(d.steps_done, 0) >= coalesce(s.steps_total, 0) THEN NULL
                ELSE date_diff('day', coalesce(d.last_step_at, a.enrolled_at), $now)
           END AS days_no_progress,
           d.last_step_at IS NULL AS never_progressed,
           coalesce(o.overdue, 0) AS overdue_deliverables, o.oldest_days,
           q.attempts, q.last_two, q.earlier, q.last_three,
           act.last_activity AS last_workspace_activity_at, d.last_step_at,
           date_diff('day', greatest(act.last_activity, d.last_step_at, q.last_attempt_at,
                                     a.enrolled_at), $now) AS days_quiet
    FROM active a
    LEFT JOIN activity act ON act.username = a.student
    LEFT JOIN steps s ON s.track_id = a.track_id
    LEFT JOIN done d ON d.person_id = a.person_id AND d.track_id = a.track_id
    LEFT JOIN overdue o ON o.person_id = a.person_id AND o.track_id = a.track_id
    LEFT JOIN quiz q ON q.person_id = a.person_id AND q.track_id = a.track_id
), severity AS (
    SELECT *,
        CASE WHEN days_inactive >= $inactive
             THEN least(1.0, days_inactive / (2.0 * $inactive)) ELSE 0 END AS s_inactive,
        CASE WHEN days_no_progress >= $no_progress
             THEN least(1.0, days_no_progress / (2.0 * $no_progress)) ELSE 0 END AS s_progress,
        CASE WHEN overdue_deliverables >= 2 THEN 1.0
             WHEN overdue_deliverables = 1 THEN 0.5 ELSE 0 END AS s_overdue,
        coalesce(attempts >= 3 AND earlier - last_two >= $drop, false) AS falling,
        coalesce(attempts >= 3 AND last_three < $low, false) AS low
    FROM signs
)
SELECT student, track, trainer,
       round(0.30 * s_inactive + 0.25 * s_progress + 0.25 * s_overdue
             + 0.20 * CASE WHEN falling OR low THEN 1 ELSE 0 END, 3) AS risk_score,
       concat_ws('; ',
           CASE WHEN s_inactive > 0 THEN
               CASE WHEN never_active
                    THEN 'no workspace activity since enrolling ' || days_inactive || ' days ago'
                    ELSE 'no workspace activity for ' || days_inactive || ' days' END END,
           CASE WHEN s_progress > 0 THEN
               CASE WHEN never_progressed
                    THEN 'no step completed since enrolling ' || days_no_progress || ' days ago'
                    ELSE 'no step completed for ' || days_no_progress || ' days' END END,
           CASE WHEN s_overdue > 0 THEN
               overdue_deliverables || ' required deliverable'
               || CASE WHEN overdue_deliverables > 1 THEN 's' ELSE '' END
               || ' overdue (oldest by ' || oldest_days || ' days)' END,
           CASE WHEN falling THEN
               'quiz scores falling: ' || CAST(round(100 * earlier) AS INTEGER)
               || '% before, ' || CAST(round(100 * last_two) AS INTEGER)
               || '% in the last two' END,
           CASE WHEN low AND NOT falling THEN
               'low quiz scores: ' || CAST(round(100 * last_three) AS INTEGER)
               || '% over the last three' END
       ) AS reasons,
       CAST(days_inactive AS INTEGER) AS days_inactive,
       last_workspace_activity_at, last_step_at,
       CAST(overdue_deliverables AS INTEGER) AS overdue_deliverables,
       last_three AS recent_quiz_score
FROM severity
WHERE (s_inactive > 0 OR s_progress > 0 OR s_overdue > 0 OR falling OR low)
  AND days_quiet < $dropped_after
  AND round(0.30 * s_inactive + 0.25 * s_progress + 0.25 * s_overdue
            + 0.20 * CASE WHEN falling OR low THEN 1 ELSE 0 END, 3) >= $min_risk
ORDER BY risk_score DESC, student
"""

# For now itself there is no cutoff: written as TRUE rather than a NULL parameter, DuckDB
# drops the filters from the scans of the 7M activity samples and the 1M attempts.
CURRENT_AT_RISK_SQL = at_risk_sql().replace("$until IS NULL", "TRUE")
