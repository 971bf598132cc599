"""Cheap fingerprints of the LMS tables, so the sensor can tell what changed since a run read it.

A fingerprint is one row of aggregates (count, newest id, newest `updated_at`, and for tables
whose rows change without a timestamp a sum over the changing column) that moves whenever a
row is added, removed or updated. The aggregates are joined in Python, so an empty table
(NULL aggregates) has a fingerprint like any other. A rename of a curriculum title to one of
the same length is the one change they miss: the nightly rebuild copies it.

Each raw asset records the fingerprint of its table as it was just before it copied it
(`record`); publishing copies them into `marts._sources`. The sensor compares the LMS now with
what the published marts were built from, so a change is never lost to a cursor that moved
while its run failed, and a warehouse built by `make pipeline` is not built again.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # resources imports this module for COLUMNS
    from pipelines.resources import LmsDatabase

FINISHED = "('SUBMITTED', 'EXPIRED')"
IN_PROGRESS = "IN_PROGRESS"
SAVE = "save"  # quiz_answer_events.kind of a saved answer

FINGERPRINT_SQL: dict[str, str] = {
    # Graded attempts only: an in-progress one is not in the warehouse until it is graded.
    "quiz_attempts": "SELECT count(*), max(id), max(graded_at), max(submitted_at) "
    f"FROM quiz_attempts WHERE status IN {FINISHED}",
    "quizzes": "SELECT count(*), max(id), max(updated_at) FROM quizzes",
    "quiz_questions": "SELECT count(*), max(id), sum(points) FROM quiz_questions",
    "quiz_options": "SELECT count(*), max(id), sum(CASE WHEN is_correct THEN id ELSE 0 END) "
    "FROM quiz_options",
    "step_completions": "SELECT count(*), max(id) FROM step_completions",
    "submissions": "SELECT count(*), max(id), max(updated_at) FROM submissions",
    "enrollments": "SELECT count(*), max(id), max(updated_at) FROM enrollments",
    "payments": "SELECT count(*), max(id), max(updated_at) FROM payments",
    "people": "SELECT count(*), max(id), max(updated_at) FROM people",
    # One row per student; a reassignment updates trainer_id in place.
    "trainer_assignments": "SELECT count(*), max(id), sum(trainer_id), "
    "sum(CAST(trainer_id AS BIGINT) * id) "
    "FROM trainer_assignments",
    "tracks": "SELECT count(*), max(id), sum(price_cents), sum(length(name)) FROM tracks",
    "projects": "SELECT count(*), max(id), sum(length(title)) FROM projects",
    "project_steps": 'SELECT count(*), max(id), sum(length(title)), sum("order") '
    "FROM project_steps",
    "deliverables": "SELECT count(*), max(id), sum(length(title)), "
    "sum(CASE WHEN required THEN id ELSE 0 END) FROM deliverables",
    # Attendance. An attempt starts (new id) and leaves this set when it is graded.
    "open_quiz_attempts": "SELECT count(*), max(id) FROM quiz_attempts "
    f"WHERE status = '{IN_PROGRESS}'",
    # Append-only and the biggest table: its newest id alone, which the index answers.
    "quiz_answer_saves": f"SELECT max(id) FROM quiz_answer_events WHERE kind = '{SAVE}'",
    "submission_versions": "SELECT count(*), max(id) FROM submission_versions",
    # A change of times or a cancel moves updated_at.
    "class_sessions": "SELECT count(*), max(id), max(updated_at) FROM class_sessions",
    "class_session_students": "SELECT count(*), sum(class_session_id), "
    "sum(CAST(person_id AS BIGINT) * class_session_id) FROM class_session_students",
    # A report widens rows in place; its newest moment moves the latest last_seen_at (a
    # late report of only earlier moments waits for the nightly rebuild).
    "workspace_activity": "SELECT count(*), max(id), max(last_seen_at), min(first_seen_at) "
    "FROM workspace_activity",
}


def read(lms: "LmsDatabase", table: str) -> str:
    """The fingerprint of one LMS table now."""
    row = lms.read(FINGERPRINT_SQL[table]).to_pylist()[0]
    return "/".join(str(value) for value in row.values())


def read_all(lms: "LmsDatabase") -> dict[str, str]:
    return {table: read(lms, table) for table in FINGERPRINT_SQL}


RECORDED = "raw._fingerprints"


COLUMNS = "table_name VARCHAR PRIMARY KEY, fingerprint VARCHAR, read_at TIMESTAMP, run_id VARCHAR"


def record(db, table: str, fingerprint: str, run_id: str) -> None:
    """Remember, in the build database, the fingerprint of `table` that run `run_id` copied.
    Only the run's own publish makes it count: a run that fails after the copy leaves the
    published fingerprint as it was, so the sensor asks again."""
    db.execute(f"CREATE TABLE IF NOT EXISTS {RECORDED} ({COLUMNS})")
    db.execute(
        f"INSERT OR REPLACE INTO {RECORDED} VALUES (?, ?, now()::TIMESTAMP, ?)",
        [table, fingerprint, run_id],
    )
