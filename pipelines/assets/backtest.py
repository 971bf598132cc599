"""The at-risk backtest: how often the at-risk list was right, measured on the school's past.

At each of the last `backtest_weeks` weekly cutoffs (the newest one `backtest_horizon_days`
before now, so every horizon is over), the at-risk rules run point-in-time (AT_RISK_SQL with
its `$until` cutoff: only what had happened by then counts) on the enrollments active at
that moment. What happened next is the outcome: an enrollment is a *dropout* when, within the
horizon after the cutoff, it was refunded or cancelled, or the student went quiet: no activity
at all (no workspace activity, step or quiz attempt) in the last `backtest_quiet_days` of the
horizon (stopped within it and not back by its end). marts.at_risk_backtest then
says, per track, cutoff and minimum risk score, how many were flagged, how many dropped out,
precision, recall, base rate and lift: the figures the At-risk page states and the ones the
default `min_risk_score` was chosen from (README, "At-risk students").

Statuses in the warehouse are today's, so "active at the cutoff" is rebuilt from what is
kept: enrolled (and paid, for a paid enrollment) by then, and not cancelled or refunded
before it (a cancellation or refund is the enrollment's last change: its updated_at).
"""

from datetime import datetime, timedelta

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, asset

from pipelines.assets.marts import AT_RISK_BACKTEST, AT_RISK_DEPS, at_risk_sql, build
from pipelines.assets.raw import is_full_refresh
from pipelines.resources import Warehouse, tables_in
from pipelines.settings import AnalyticsSettings

# The minimum risk scores the backtest measures (plus the one in use): one row each, so the
# trade-off between a short list and a complete one is in the mart, not in a notebook.
SCORE_GRID = (0.0, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6)
# The figures move by the week: a sensor run reuses the last backtest for this long.
REUSE = timedelta(hours=20)

ENROLLMENTS = """
CREATE OR REPLACE TEMP TABLE backtest_enrollments AS
WITH paid AS (
    SELECT student, track, min(paid_at) AS paid_at FROM staging.payments
    WHERE paid_at IS NOT NULL GROUP BY 1, 2
)
SELECT e.person_id, e.student, e.trainer, e.track, e.track_id, e.enrolled_at,
       e.duration_weeks,
       CASE WHEN e.source = 'payment' AND p.paid_at IS NOT NULL
                THEN greatest(e.enrolled_at, p.paid_at)
            WHEN e.source <> 'payment' OR e.status = 'active' THEN e.enrolled_at
       END AS active_from,
       CASE WHEN e.status IN ('cancelled', 'refunded') THEN e.updated_at END AS ended_at
FROM staging.enrollments e LEFT JOIN paid p USING (student, track)
WHERE e.status IN ('active', 'cancelled', 'refunded')
"""
# Every enrollment's required deliverables, whatever its status today (staging.deliverables_due
# keeps the active ones only), with the same expected dates.
DUE = """
CREATE OR REPLACE TEMP TABLE backtest_due AS
SELECT e.person_id, e.track_id, d.id AS deliverable_id,
       e.enrolled_at + to_days(CAST(round(e.duration_weeks * 7 * p.due_share) AS INTEGER))
           AS due_at,
       min(s.created_at) AS submitted_at
FROM backtest_enrollments e
JOIN staging.projects p ON p.track_id = e.track_id
JOIN raw.deliverables d ON d.project_id = p.project_id AND d.required
LEFT JOIN raw.submissions s ON s.person_id = e.person_id AND s.deliverable_id = d.id
GROUP BY ALL
"""
COHORT = """
CREATE OR REPLACE TEMP TABLE backtest_cohort AS
SELECT c.as_of, e.* FROM backtest_enrollments e
JOIN (SELECT unnest($cutoffs) AS as_of) c
  ON e.active_from <= c.as_of AND (e.ended_at IS NULL OR e.ended_at > c.as_of)
"""
POPULATION = """
    SELECT person_id, student, trainer, track, track_id, enrolled_at
    FROM backtest_cohort WHERE as_of = $until
"""
# Anything a student did, one instant per hour (the latest): enough to tell whether the
# student did anything in a 4-week window, at a fraction of the 5-minute samples.
EVENTS = """
CREATE OR REPLACE TEMP TABLE backtest_events AS
SELECT p.id AS person_id, a.happened_at
FROM (SELECT username, max(last_activity) AS happened_at FROM raw.hub_activity
      WHERE last_activity IS NOT NULL
      GROUP BY username, date_trunc('hour', last_activity)) a
JOIN raw.people p ON p.username = a.username
UNION ALL SELECT person_id, completed_at FROM staging.step_completions
UNION ALL SELECT person_id, finished_at FROM staging.quiz_attempts
"""
# The last thing each student did by each cutoff and the first after it (ASOF joins), and
# the verdict. Students already gone at the cutoff (quiet for dropped_after_days, the rule
# that keeps them off the list) are no prediction to make: they are left out.
OUTCOMES = """
CREATE OR REPLACE TEMP TABLE backtest_outcomes AS
WITH seen AS (
    SELECT c.*, p.happened_at AS last_seen FROM backtest_cohort c
    ASOF LEFT JOIN backtest_events p
      ON p.person_id = c.person_id AND p.happened_at <= c.as_of
)
SELECT c.as_of, c.student, c.track,
       coalesce(c.ended_at <= c.as_of + to_days($horizon), false) AS left_course,
       n.happened_at IS NULL OR n.happened_at > c.as_of + to_days($horizon) AS went_quiet
FROM seen c
ASOF LEFT JOIN backtest_events n
  ON n.person_id = c.person_id AND n.happened_at > c.as_of + to_days($horizon - $quiet)
WHERE date_diff('day', greatest(c.last_seen, c.enrolled_at), c.as_of) < $dropped_after
"""
MART = """
WITH scored AS (
    SELECT track, as_of, risk_score, left_course OR went_quiet AS dropped
    FROM staging.at_risk_backtest_students
), grid AS (
    SELECT DISTINCT unnest($grid) AS min_risk_score
), counts AS (
    SELECT track, as_of, min_risk_score,
           CAST(count(*) AS INTEGER) AS enrollments,
           CAST(count(*) FILTER (WHERE risk_score >= min_risk_score) AS INTEGER) AS flagged,
           CAST(count(*) FILTER (WHERE dropped) AS INTEGER) AS positives,
           CAST(count(*) FILTER (WHERE dropped AND risk_score >= min_risk_score) AS INTEGER)
               AS true_positives
    FROM scored CROSS JOIN grid
    GROUP BY ALL
)
SELECT track, as_of, min_risk_score, min_risk_score = $in_use AS in_use,
       enrollments, flagged, positives, true_positives,
       true_positives / nullif(flagged, 0) AS precision,
       true_positives / nullif(positives, 0) AS recall,
       positives / nullif(enrollments, 0) AS base_rate,
       (true_positives / nullif(flagged, 0)) / nullif(positives / nullif(enrollments, 0), 0)
           AS lift,
       flagged / nullif(enrollments, 0) AS flagged_share,
       CAST($horizon AS INTEGER) AS horizon_days,
       CAST($quiet AS INTEGER) AS quiet_days,
       CAST($inactive AS INTEGER) AS inactive_days,
       CAST($no_progress AS INTEGER) AS no_progress_days,
       CAST($grace AS INTEGER) AS overdue_grace_days,
       CAST($drop AS DOUBLE) AS score_drop,
       CAST($low AS DOUBLE) AS low_score,
       CAST($dropped_after AS INTEGER) AS dropped_after_days
FROM counts
ORDER BY track, as_of DESC, min_risk_score
"""


def cutoffs(now: datetime, horizon_days: int, weeks: int) -> list[datetime]:
    """The weekly cutoffs, newest first: the newest one a whole horizon before now."""
    newest = now - timedelta(days=horizon_days)
    return [newest - timedelta(weeks=k) for k in range(weeks)]


def run_backtest(db, settings: AnalyticsSettings, now: datetime) -> int:
    """Build marts.at_risk_backtest in `db` (a warehouse connection); returns its rows."""
    moments = cutoffs(now, settings.backtest_horizon_days, settings.backtest_weeks)
    rules = {
        "inactive": settings.inactive_days,
        "no_progress": settings.no_progress_days,
        "grace": settings.overdue_grace_days,
        "drop": settings.score_drop,
        "low": settings.low_score,
        "dropped_after": settings.dropped_after_days,
    }
    db.execute(ENROLLMENTS)
    db.execute(DUE)
    db.execute(COHORT, {"cutoffs": moments})
    db.execute(EVENTS)
    db.execute(
        OUTCOMES,
        {
            "horizon": settings.backtest_horizon_days,
            "quiet": min(settings.backtest_quiet_days, settings.backtest_horizon_days),
            "dropped_after": settings.dropped_after_days,
        },
    )
    db.execute(
        "CREATE OR REPLACE TEMP TABLE backtest_flags (as_of TIMESTAMP, student VARCHAR, "
        "track VARCHAR, risk_score DOUBLE)"
    )
    flags_sql = at_risk_sql(now="then", until="then", population=POPULATION, due="backtest_due")
    for moment in moments:
        # Everyone with a sign (min_risk 0); the grid then applies each minimum score.
        db.execute(
            f"INSERT INTO backtest_flags SELECT CAST($then AS TIMESTAMP), student, track, "
            f"risk_score FROM ({flags_sql})",
            {**rules, "then": moment, "min_risk": 0.0},
        )
    # Who was flagged and what happened next, kept for audits and tests (not published).
    db.execute(
        """
        CREATE OR REPLACE TABLE staging.at_risk_backtest_students AS
        SELECT o.as_of, o.student, o.track, f.risk_score, o.left_course, o.went_quiet
        FROM backtest_outcomes o
        LEFT JOIN backtest_flags f USING (as_of, student, track)
        """
    )
    grid = sorted({*SCORE_GRID, settings.min_risk_score})
    return build(
        db,
        "at_risk_backtest",
        MART,
        {
            **rules,
            "grid": grid,
            "in_use": settings.min_risk_score,
            "horizon": settings.backtest_horizon_days,
            "quiet": min(settings.backtest_quiet_days, settings.backtest_horizon_days),
        },
    )


def last_backtest(db) -> datetime | None:
    if "at_risk_backtest_run" not in tables_in(db, "staging"):
        return None
    return db.execute("SELECT max(now) FROM staging.at_risk_backtest_run").fetchone()[0]


@asset(
    key=AT_RISK_BACKTEST,
    group_name="marts",
    deps=[
        *AT_RISK_DEPS,
        AssetKey(["staging", "payments"]),
        AssetKey(["staging", "curriculum"]),
        AssetKey(["raw", "deliverables"]),
        AssetKey(["raw", "submissions"]),
        AssetKey(["raw", "people"]),
    ],
    description="One row per track, weekly cutoff and minimum risk score: the at-risk rules "
    "run as of that cutoff against who dropped out within the horizon after it (the thresholds "
    "used are columns too).",
)
def at_risk_backtest(
    context: AssetExecutionContext, warehouse: Warehouse, settings: AnalyticsSettings
) -> MaterializeResult:
    now = settings.now()
    with warehouse.connect() as db:
        previous = last_backtest(db)
        fresh = previous is not None and timedelta(0) <= now - previous <= REUSE
        if fresh and not is_full_refresh(context) and "at_risk_backtest" in tables_in(db, "marts"):
            return MaterializeResult(metadata={"reused_from": str(previous)})
        rows = run_backtest(db, settings, now)
        db.execute(
            "CREATE OR REPLACE TABLE staging.at_risk_backtest_run AS "
            "SELECT CAST($now AS TIMESTAMP) AS now",
            {"now": now},
        )
        in_use = db.execute(
            "SELECT sum(flagged), sum(positives), sum(true_positives) "
            "FROM marts.at_risk_backtest WHERE in_use"
        ).fetchone()
    flagged, positives, hits = (int(v or 0) for v in in_use)
    metadata = {"rows": rows, "flagged": flagged, "positives": positives, "true_positives": hits}
    if flagged:
        metadata["precision"] = hits / flagged
    if positives:
        metadata["recall"] = hits / positives
    return MaterializeResult(metadata=metadata)
