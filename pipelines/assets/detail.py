"""Detail marts: one row per quiz, question, option, graded attempt, completed step and
submission, each with the student's track and trainer, for the dashboards to filter by date
range, trainer and track themselves (they read only marts).

Each is a CREATE OR REPLACE from staging (one scan and a few small joins), except that a
quiz refresh patches the changed attempts into marts.quiz_attempts, as staging does. Times
are UTC TIMESTAMPTZ: the warehouse session's zone is UTC, so casting its naive UTC timestamps
keeps the instant.
"""

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    MaterializeResult,
    asset,
    multi_asset,
)

from pipelines.assets.marts import (
    QUIZ_ATTEMPTS,
    QUIZ_OPTIONS,
    QUIZ_QUESTIONS,
    QUIZZES,
    STEP_COMPLETIONS,
    SUBMISSIONS,
    build,
    staging,
)
from pipelines.assets.raw import is_full_refresh, quiz_attempts_copied_whole
from pipelines.resources import Warehouse, mark_updated, tables_in

QUIZ_CATALOG_DEPS = [*staging("quiz_results"), AssetKey(["raw", "quizzes"])]


@multi_asset(
    specs=[
        AssetSpec(
            QUIZZES,
            group_name="marts",
            deps=[*QUIZ_CATALOG_DEPS, AssetKey(["raw", "tracks"])],
            description="One row per quiz, whatever its status (track NULL if none; max_mark "
            "the sum of its questions' points).",
        ),
        AssetSpec(
            QUIZ_QUESTIONS,
            group_name="marts",
            deps=QUIZ_CATALOG_DEPS,
            description="One row per question, with its text.",
        ),
        AssetSpec(
            QUIZ_OPTIONS,
            group_name="marts",
            deps=QUIZ_CATALOG_DEPS,
            description="One row per answer option, with its text.",
        ),
    ],
)
def quiz_catalog(warehouse: Warehouse):
    """The quizzes as authored, so that statistics can be shown with their text."""
    with warehouse.connect() as db:
        counts = {
            QUIZZES: build(
                db,
                "quizzes",
                """
                SELECT z.id AS quiz_id, t.code AS track, z.title, lower(z.status) AS status,
                       z.project_id, CAST(z.published_at AS TIMESTAMPTZ) AS published_at,
                       CAST(count(q.question_id) AS INTEGER) AS n_questions,
                       coalesce(sum(q.max_mark), 0.0) AS max_mark
                FROM raw.quizzes z
                LEFT JOIN raw.tracks t ON t.id = z.track_id
                LEFT JOIN staging.quiz_questions q ON q.quiz_id = z.id
                GROUP BY ALL
                ORDER BY quiz_id
                """,
            ),
            QUIZ_QUESTIONS: build(
                db,
                "quiz_questions",
                """
                SELECT quiz_id, question_id, question_order, prompt, type, max_mark
                FROM staging.quiz_questions ORDER BY quiz_id, question_order
                """,
            ),
            QUIZ_OPTIONS: build(
                db,
                "quiz_options",
                """
                SELECT quiz_id, question_id, option_id, option_order, label, is_correct
                FROM staging.quiz_options ORDER BY quiz_id, question_id, option_order
                """,
            ),
        }
    for key, rows in counts.items():
        yield MaterializeResult(asset_key=key, metadata={"rows": rows})


@asset(
    key=QUIZ_ATTEMPTS,
    group_name="marts",
    deps=[*staging("quiz_results", "enrollments"), AssetKey(["raw", "quizzes"])],
    description="One row per graded attempt (score = points / max_points).",
)
def quiz_attempts(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    # A quiz refresh (the sensor's job, every few seconds of new attempts) patches in the
    # changed attempts only: a million-row rebuild would be most of its time. Anything else
    # (a full copy, a run that also rebuilt the students and their trainers) rebuilds it.
    with warehouse.connect() as db:
        patch = not needs_rebuild(context, db)
        if patch:
            db.execute(
                "DELETE FROM marts.quiz_attempts WHERE attempt_id IN "
                "(SELECT attempt_id FROM raw.quiz_changes)"
            )
            db.execute(
                f"INSERT INTO marts.quiz_attempts {QUIZ_ATTEMPTS_SQL} "
                "WHERE a.attempt_id IN (SELECT attempt_id FROM raw.quiz_changes)"
            )
            mark_updated(db, "quiz_attempts")
            rows = db.execute("SELECT count(*) FROM marts.quiz_attempts").fetchone()[0]
        else:
            rows = build(db, "quiz_attempts", f"{QUIZ_ATTEMPTS_SQL} ORDER BY submitted_at")
    return MaterializeResult(metadata={"rows": rows, "patched": patch})


QUIZ_ATTEMPTS_SQL = """
    SELECT a.attempt_id, a.student, t.code AS track, s.trainer, a.quiz_id,
           z.title AS quiz_title, a.number AS attempt_number,
           a.score AS points, a.max_score AS max_points,
           a.score / nullif(a.max_score, 0) AS score,
           CAST(a.finished_at AS TIMESTAMPTZ) AS submitted_at
    FROM staging.quiz_attempts a
    LEFT JOIN staging.students s ON s.person_id = a.person_id
    LEFT JOIN raw.quizzes z ON z.id = a.quiz_id
    LEFT JOIN raw.tracks t ON t.id = z.track_id
"""


def needs_rebuild(context: AssetExecutionContext, db) -> bool:
    """Whether marts.quiz_attempts must be rebuilt rather than patched with raw.quiz_changes."""
    if is_full_refresh(context) or "quiz_attempts" not in tables_in(db, "marts"):
        return True
    if quiz_attempts_copied_whole(db):
        return True
    selected = context.run.asset_selection
    # Trainers or quiz titles may have changed: every row could be different.
    return selected is None or bool(REBUILT_WITH & set(selected))


REBUILT_WITH = {AssetKey(["staging", "enrollments"]), AssetKey(["raw", "quizzes"])}


@asset(
    key=STEP_COMPLETIONS,
    group_name="marts",
    deps=staging("progress", "curriculum", "enrollments"),
    description="One row per step a student completed.",
)
def step_completions(warehouse: Warehouse) -> MaterializeResult:
    with warehouse.connect() as db:
        rows = build(
            db,
            "step_completions",
            """
            SELECT s.student, ts.track, s.trainer, ts.project_id, ts.project_number,
                   ts.project_title, c.step_id, ts.step_number, ts.step_title, ts.step_order,
                   CAST(c.completed_at AS TIMESTAMPTZ) AS completed_at
            FROM staging.step_completions c
            JOIN staging.students s ON s.person_id = c.person_id
            JOIN staging.track_steps ts ON ts.step_id = c.step_id
            ORDER BY completed_at, student, step_order
            """,
        )
    return MaterializeResult(metadata={"rows": rows})


@asset(
    key=SUBMISSIONS,
    group_name="marts",
    deps=[
        *staging("curriculum", "enrollments"),
        AssetKey(["raw", "submissions"]),
        AssetKey(["raw", "deliverables"]),
    ],
    description="One row per submission, with its review status.",
)
def submissions(warehouse: Warehouse) -> MaterializeResult:
    with warehouse.connect() as db:
        rows = build(
            db,
            "submissions",
            """
            SELECT sub.id AS submission_id, s.student, t.code AS track, s.trainer,
                   p.project_id, p.project_number, p.title AS project_title,
                   sub.deliverable_id, d.title AS deliverable, d.required,
                   lower(sub.status) AS status,
                   CAST(sub.created_at AS TIMESTAMPTZ) AS submitted_at,
                   CAST(sub.updated_at AS TIMESTAMPTZ) AS updated_at
            FROM raw.submissions sub
            JOIN staging.students s ON s.person_id = sub.person_id
            LEFT JOIN raw.deliverables d ON d.id = sub.deliverable_id
            LEFT JOIN staging.projects p ON p.project_id = d.project_id
            LEFT JOIN raw.tracks t ON t.id = p.track_id
            ORDER BY submitted_at, submission_id
            """,
        )
        by_status = dict(
            db.execute("SELECT status, count(*) FROM marts.submissions GROUP BY 1").fetchall()
        )
    return MaterializeResult(metadata={"rows": rows, **by_status})
