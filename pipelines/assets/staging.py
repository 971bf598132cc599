"""Staging layer: raw tables joined, named and shaped for the marts.

The quiz tables follow the shape pipelines.quiz_statistics reads: one row per graded
attempt, one mark per attempt and question (an unanswered question scores 0, as in the
LMS), one row per chosen option. They are refreshed for the changed attempts only, unless
the raw layer did a full copy.
"""

from dagster import AssetKey, MaterializeResult, asset

from pipelines.assets.raw import HUB_ACTIVITY, QUIZ_ATTEMPTS, quiz_attempts_copied_whole
from pipelines.resources import Warehouse, tables_in


def raw(*tables: str) -> list[AssetKey]:
    return [AssetKey(["raw", t]) for t in tables]


def replace(db, name: str, sql: str) -> int:
    db.execute(f"CREATE OR REPLACE TABLE staging.{name} AS {sql}")
    return db.execute(f"SELECT count(*) FROM staging.{name}").fetchone()[0]


@asset(
    key_prefix="staging",
    group_name="staging",
    deps=raw("people", "tracks", "enrollments", "trainer_assignments"),
    description="Enrollments with the student's username, trainer and the track's code; "
    "and every person with their trainer (staging.students).",
)
def enrollments(warehouse: Warehouse) -> MaterializeResult:
    with warehouse.connect() as db:
        students = replace(
            db,
            "students",
            """
            SELECT p.id AS person_id, p.username AS student, tr.username AS trainer
            FROM raw.people p
            LEFT JOIN raw.trainer_assignments ta ON ta.student_id = p.id
            LEFT JOIN raw.people tr ON tr.id = ta.trainer_id
            """,
        )
        rows = replace(
            db,
            "enrollments",
            """
            SELECT e.id AS enrollment_id, e.person_id, e.track_id,
                   s.student, s.trainer,
                   t.code AS track, t.name AS track_name, t.duration_weeks,
                   lower(e.status) AS status, lower(e.source) AS source,
                   e.created_at AS enrolled_at, e.updated_at
            FROM raw.enrollments e
            JOIN staging.students s ON s.person_id = e.person_id
            JOIN raw.tracks t ON t.id = e.track_id
            """,
        )
    return MaterializeResult(metadata={"rows": rows, "people": students})


@asset(
    key_prefix="staging",
    group_name="staging",
    deps=raw("tracks", "projects", "project_steps", "deliverables"),
    description="Every step of every track in curriculum order (staging.track_steps) and "
    "when each project is expected done, as a share of the track (staging.projects).",
)
def curriculum(warehouse: Warehouse) -> MaterializeResult:
    with warehouse.connect() as db:
        steps = replace(
            db,
            "track_steps",
            """
            SELECT t.id AS track_id, t.code AS track, pr.id AS project_id,
                   pr.number AS project_number, pr.title AS project_title,
                   s.id AS step_id, s.step_order AS step_number, s.title AS step_title,
                   CAST(row_number() OVER (PARTITION BY t.id
                                           ORDER BY pr.number, s.step_order) AS INTEGER)
                       AS step_order
            FROM raw.tracks t
            JOIN raw.projects pr ON pr.track_id = t.id
            JOIN raw.project_steps s ON s.project_id = pr.id
            """,
        )
        # A project is expected done once its share of the track's estimated hours (the
        # projects before it included) has elapsed; with no estimates, projects share evenly.
        projects = replace(
            db,
            "projects",
            """
            SELECT pr.id AS project_id, pr.track_id, pr.number AS project_number, pr.title,
                   t.duration_weeks,
                   coalesce(
                       sum(greatest(pr.estimated_hours, 0)) OVER w
                           / nullif(sum(greatest(pr.estimated_hours, 0))
                                    OVER (PARTITION BY pr.track_id), 0),
                       count(*) OVER w / count(*) OVER (PARTITION BY pr.track_id)
                   ) AS due_share
            FROM raw.projects pr JOIN raw.tracks t ON t.id = pr.track_id
            WINDOW w AS (PARTITION BY pr.track_id ORDER BY pr.number
                         ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
            """,
        )
    return MaterializeResult(metadata={"steps": steps, "projects": projects})


@asset(
    key_prefix="staging",
    group_name="staging",
    deps=[
        *raw("step_completions", "deliverables", "submissions"),
        AssetKey(["staging", "curriculum"]),
        AssetKey(["staging", "enrollments"]),
    ],
    description="Step completions placed in their track (staging.step_completions) and each "
    "enrolled student's required deliverables with expected and submitted dates "
    "(staging.deliverables_due).",
)
def progress(warehouse: Warehouse) -> MaterializeResult:
    with warehouse.connect() as db:
        completions = replace(
            db,
            "step_completions",
            """
            SELECT c.person_id, c.step_id, c.created_at AS completed_at,
                   ts.track_id, ts.project_id, ts.step_order
            FROM raw.step_completions c JOIN staging.track_steps ts ON ts.step_id = c.step_id
            """,
        )
        due = replace(
            db,
            "deliverables_due",
            """
            SELECT e.person_id, e.student, e.trainer, e.track, e.track_id, d.id AS deliverable_id,
                   d.title AS deliverable, p.project_id,
                   e.enrolled_at + to_days(CAST(round(e.duration_weeks * 7 * p.due_share)
                                                AS INTEGER)) AS due_at,
                   min(s.created_at) AS submitted_at
            FROM staging.enrollments e
            JOIN staging.projects p ON p.track_id = e.track_id
            JOIN raw.deliverables d ON d.project_id = p.project_id AND d.required
            LEFT JOIN raw.submissions s
                   ON s.person_id = e.person_id AND s.deliverable_id = d.id
            WHERE e.status = 'active'
            GROUP BY ALL
            """,
        )
    return MaterializeResult(metadata={"completions": completions, "deliverables_due": due})


@asset(
    key_prefix="staging",
    group_name="staging",
    deps=[
        *raw("quizzes", "quiz_questions", "quiz_options"),
        QUIZ_ATTEMPTS,
        AssetKey(["staging", "enrollments"]),
    ],
    description="Graded quiz attempts, a mark per attempt and question, and the options "
    "chosen (staging.quiz_attempts, quiz_item_marks, quiz_choices), refreshed for the "
    "attempts that changed; the questions and options with their text (staging.quiz_questions, "
    "quiz_options), copied whole.",
)
def quiz_results(warehouse: Warehouse) -> MaterializeResult:
    with warehouse.connect() as db:
        questions = replace(
            db,
            "quiz_questions",
            """
            SELECT q.quiz_id, q.id AS question_id, q.question_order, q.type,
                   q.points AS max_mark, z.multiple_scoring,
                   CAST(count(o.id) AS INTEGER) AS n_options,
                   CAST(count(o.id) FILTER (WHERE o.is_correct) AS INTEGER) AS n_correct,
                   q.text AS prompt
            FROM raw.quiz_questions q
            JOIN raw.quizzes z ON z.id = q.quiz_id
            LEFT JOIN raw.quiz_options o ON o.question_id = q.id
            GROUP BY ALL
            """,
        )
        replace(
            db,
            "quiz_options",
            """
            SELECT q.quiz_id, o.question_id, o.id AS option_id, o.option_order, o.is_correct,
                   o.text AS label
            FROM raw.quiz_options o JOIN raw.quiz_questions q ON q.id = o.question_id
            """,
        )
        changed = db.execute("SELECT count(*) FROM raw.quiz_changes").fetchone()[0]
        built = {
            "quiz_attempts",
            "quiz_item_marks",
            "quiz_choices",
            "quiz_answer_seconds",
        } <= tables_in(db, "staging")
        full = quiz_attempts_copied_whole(db) or not built
        scope = "" if full else "WHERE a.id IN (SELECT attempt_id FROM raw.quiz_changes)"
        # t_points: the sum of the attempt's marks (as quiz_statistics defines it), kept
        # here so that a refresh of the statistics need not sum every item mark again.
        attempts_sql = f"""
            SELECT a.id AS attempt_id, a.quiz_id, a.person_id, s.student, a.number,
                   a.submitted_at AS finished_at, a.score, a.max_score,
                   round(coalesce(t.points, 0), 9) AS t_points
            FROM raw.quiz_attempts a JOIN staging.students s ON s.person_id = a.person_id
            LEFT JOIN (SELECT ans.attempt_id, fsum(coalesce(ans.score, 0)) AS points
                       FROM raw.quiz_answers ans
                       JOIN raw.quiz_attempts a ON a.id = ans.attempt_id
                       JOIN staging.quiz_questions q
                         ON q.question_id = ans.question_id AND q.quiz_id = a.quiz_id
                       {scope}
                       GROUP BY 1) t ON t.attempt_id = a.id
            {scope}
        """
        marks_sql = f"""
            SELECT a.id AS attempt_id, a.quiz_id, q.question_id,
                   coalesce(ans.score, 0.0) AS mark
            FROM raw.quiz_attempts a
            JOIN staging.quiz_questions q ON q.quiz_id = a.quiz_id
            LEFT JOIN raw.quiz_answers ans
                   ON ans.attempt_id = a.id AND ans.question_id = q.question_id
            {scope}
        """
        choices_sql = f"""
            SELECT c.attempt_id, o.quiz_id, c.question_id, c.option_id
            FROM (SELECT ans.attempt_id, ans.question_id,
                         unnest(CAST(ans.selected_option_ids AS BIGINT[])) AS option_id
                  FROM raw.quiz_answers ans
                  JOIN raw.quiz_attempts a ON a.id = ans.attempt_id
                  {scope}) c
            JOIN staging.quiz_options o
              ON o.option_id = c.option_id AND o.question_id = c.question_id
        """
        seconds_sql = answer_seconds_sql(scope)
        tables = {
            "quiz_attempts": attempts_sql,
            "quiz_item_marks": marks_sql,
            "quiz_choices": choices_sql,
            "quiz_answer_seconds": seconds_sql,
        }
        if full:
            for table, sql in tables.items():
                replace(db, table, sql)
            attempts = db.execute("SELECT count(*) FROM staging.quiz_attempts").fetchone()[0]
        else:
            db.execute("BEGIN")
            for table, sql in tables.items():
                db.execute(
                    f"DELETE FROM staging.{table} "
                    "WHERE attempt_id IN (SELECT attempt_id FROM raw.quiz_changes)"
                )
                db.execute(f"INSERT INTO staging.{table} {sql}")
            db.execute("COMMIT")
            attempts = db.execute("SELECT count(*) FROM staging.quiz_attempts").fetchone()[0]
    return MaterializeResult(
        metadata={
            "mode": "full" if full else "incremental",
            "attempts": attempts,
            "changed_attempts": changed,
            "questions": questions,
        }
    )


def answer_seconds_sql(scope: str = "") -> str:
    """The time on each answered question: from the save before it in the same attempt (the
    attempt's start for the first). A window over every answer costs seconds at 10M answers,
    so staging works it out for the changed attempts only (`scope`, a WHERE on `a`, the
    attempt) and the quiz statistics take medians of the stored values."""
    return f"""
        SELECT ans.attempt_id, a.quiz_id, ans.question_id,
               greatest(0, epoch_ms(ans.answered_at) - epoch_ms(coalesce(
                   lag(ans.answered_at) OVER (PARTITION BY ans.attempt_id
                                              ORDER BY ans.answered_at, ans.question_id),
                   a.started_at))) / 1000.0 AS seconds
        FROM raw.quiz_answers ans
        JOIN raw.quiz_attempts a ON a.id = ans.attempt_id
        WHERE ans.answered_at IS NOT NULL {scope.replace("WHERE", "AND")}
    """


@asset(
    key_prefix="staging",
    group_name="staging",
    deps=[HUB_ACTIVITY],
    description="Hub activity as 5-minute buckets in which a workspace reported activity.",
)
def workspace_buckets(warehouse: Warehouse) -> MaterializeResult:
    with warehouse.connect() as db:
        rows = replace(
            db,
            "workspace_buckets",
            """
            SELECT DISTINCT username, server_name, started,
                   time_bucket(INTERVAL 5 MINUTE, last_activity) AS bucket
            FROM raw.hub_activity
            WHERE last_activity IS NOT NULL
            """,
        )
    return MaterializeResult(metadata={"rows": rows})


@asset(
    key_prefix="staging",
    group_name="staging",
    deps=raw("payments", "tracks", "people"),
    description="Payments with the track's code and the student's username.",
)
def payments(warehouse: Warehouse) -> MaterializeResult:
    with warehouse.connect() as db:
        rows = replace(
            db,
            "payments",
            """
            SELECT pay.id AS payment_id, p.username AS student, t.code AS track,
                   lower(pay.status) AS status, pay.amount_cents, pay.refunded_cents,
                   lower(pay.currency) AS currency, pay.created_at, pay.paid_at, pay.refunded_at
            FROM raw.payments pay
            JOIN raw.tracks t ON t.id = pay.track_id
            JOIN raw.people p ON p.id = pay.person_id
            """,
        )
    return MaterializeResult(metadata={"rows": rows})
