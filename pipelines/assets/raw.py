"""Raw layer: LMS tables copied into the warehouse with fixed types, plus hub activity.

Most tables are small and copied whole on every run. Quiz attempts and their answers are the
big ones (millions of rows) and only ever grow once an attempt is graded, so a normal run
reads just the attempts graded since the newest one already here (minus an overlap, for
transactions that committed late) or with a higher id than any here (rows imported with past
times), and replaces those of them that changed, with their answers. A run
tagged `apranova/refresh=full` (the nightly schedule) copies everything again, which also
catches what an incremental run cannot see: deleted rows. Attempts that ran out of time are
graded lazily, long after their deadline (their `submitted_at`): the read goes by
`graded_at`, so they arrive with the next run like any other.

Attendance of class sessions (pipelines.assets.attendance) also needs what the LMS records
students doing outside those tables: attempts still running (few at any time: copied whole)
and answers saved (the append-only `quiz_answer_events`, the biggest table: read by id, the
new rows only, except on the nightly full copy).
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pyarrow as pa
from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, MaterializeResult, asset

from pipelines import fingerprints
from pipelines.resources import HubApi, LmsDatabase, Warehouse, tables_in

FULL_REFRESH_TAG = "apranova/refresh"
FINISHED = fingerprints.FINISHED
# Re-read attempts finished this long before the newest one seen (late commits, clock skew).
INCREMENTAL_OVERLAP = timedelta(minutes=10)


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # DuckDB type of the raw column
    source: str = ""  # SQL expression in the LMS when it differs ({p}: the table alias)


def _columns(spec: str) -> tuple[Column, ...]:
    """'id BIGINT, step_order INTEGER={p}"order"' -> Columns (source after '=')."""
    columns = []
    for item in spec.split(","):
        declaration, _, source = item.strip().partition("=")
        name, type_ = declaration.split(" ", 1)
        columns.append(Column(name, type_.strip(), source.strip()))
    return tuple(columns)


TIMESTAMPS = "created_at TIMESTAMP"
RAW_TABLES: dict[str, tuple[Column, ...]] = {
    "people": _columns(f"id BIGINT, username VARCHAR, is_active BOOLEAN, {TIMESTAMPS}"),
    "trainer_assignments": _columns(
        f"id BIGINT, trainer_id BIGINT, student_id BIGINT, {TIMESTAMPS}"
    ),
    "tracks": _columns(
        "id BIGINT, code VARCHAR, name VARCHAR, duration_weeks INTEGER, price_cents BIGINT,"
        " currency VARCHAR"
    ),
    "projects": _columns(
        "id BIGINT, track_id BIGINT, number INTEGER, title VARCHAR, type VARCHAR,"
        " estimated_hours INTEGER"
    ),
    "project_steps": _columns(
        'id BIGINT, project_id BIGINT, step_order INTEGER={p}"order", title VARCHAR'
    ),
    "deliverables": _columns(
        "id BIGINT, project_id BIGINT, title VARCHAR, kind VARCHAR, required BOOLEAN"
    ),
    "enrollments": _columns(
        "id BIGINT, person_id BIGINT, track_id BIGINT, status VARCHAR, source VARCHAR,"
        f" {TIMESTAMPS}, updated_at TIMESTAMP"
    ),
    "step_completions": _columns(f"id BIGINT, person_id BIGINT, step_id BIGINT, {TIMESTAMPS}"),
    "submissions": _columns(
        "id BIGINT, person_id BIGINT, deliverable_id BIGINT, status VARCHAR,"
        f" {TIMESTAMPS}, updated_at TIMESTAMP"
    ),
    "payments": _columns(
        "id BIGINT, person_id BIGINT, track_id BIGINT, amount_cents BIGINT, currency VARCHAR,"
        " status VARCHAR, refunded_cents BIGINT, paid_at TIMESTAMP, refunded_at TIMESTAMP,"
        f" {TIMESTAMPS}, updated_at TIMESTAMP"
    ),
    "quizzes": _columns(
        "id BIGINT, title VARCHAR, track_id BIGINT, project_id BIGINT, created_by VARCHAR,"
        " status VARCHAR, pass_mark DOUBLE, multiple_scoring VARCHAR, published_at TIMESTAMP"
    ),
    "quiz_questions": _columns(
        'id BIGINT, quiz_id BIGINT, question_order INTEGER={p}"order", type VARCHAR, points DOUBLE,'
        ' text VARCHAR={p}"text"'
    ),
    "quiz_options": _columns(
        'id BIGINT, question_id BIGINT, option_order INTEGER={p}"order", is_correct BOOLEAN,'
        ' text VARCHAR={p}"text"'
    ),
    # Class sessions and what attendance reads besides the tables above.
    "class_sessions": _columns(
        "id BIGINT, title VARCHAR, track_id BIGINT, audience VARCHAR, starts_at TIMESTAMP,"
        " ends_at TIMESTAMP, workspace_kind VARCHAR, created_by_id BIGINT,"
        f" cancelled_at TIMESTAMP, {TIMESTAMPS}, updated_at TIMESTAMP"
    ),
    "class_session_students": _columns("class_session_id BIGINT, person_id BIGINT"),
    "workspace_activity": _columns(
        "id BIGINT, class_session_id BIGINT, person_id BIGINT, first_seen_at TIMESTAMP,"
        " last_seen_at TIMESTAMP"
    ),
    "submission_versions": _columns(f"id BIGINT, submission_id BIGINT, {TIMESTAMPS}"),
}
OPEN_ATTEMPT_COLUMNS = _columns("id BIGINT, person_id BIGINT, started_at TIMESTAMP")
ANSWER_SAVE_COLUMNS = _columns(f"id BIGINT, person_id BIGINT, {TIMESTAMPS}")
ATTEMPT_COLUMNS = _columns(
    "id BIGINT, quiz_id BIGINT, person_id BIGINT, number INTEGER, status VARCHAR,"
    " started_at TIMESTAMP, submitted_at TIMESTAMP, score DOUBLE, max_score DOUBLE,"
    " passed BOOLEAN,"
    " graded_at TIMESTAMP=CASE WHEN {p}graded_at IS NULL THEN {p}submitted_at ELSE {p}graded_at END"
)
ANSWER_COLUMNS = _columns(
    "id BIGINT, attempt_id BIGINT, question_id BIGINT,"
    " selected_option_ids VARCHAR=CAST({p}selected_option_ids AS TEXT), answered_at TIMESTAMP,"
    " is_correct BOOLEAN, score DOUBLE"
)
QUIZ_ATTEMPTS = AssetKey(["raw", "quiz_attempts"])
QUIZ_ANSWER_SAVES = AssetKey(["raw", "quiz_answer_saves"])
HUB_ACTIVITY = AssetKey(["raw", "hub_activity"])
COMPACT_AFTER_FILES = 100


def select_sql(table: str, columns: tuple[Column, ...], where: str = "", alias: str = "") -> str:
    prefix = f"{alias}." if alias else ""
    listed = ", ".join(
        f"{(c.source or '{p}' + c.name).replace('{p}', prefix)} AS {c.name}" for c in columns
    )
    return f"SELECT {listed} FROM {table} {alias} {where}".strip()


def typed(columns: tuple[Column, ...], relation: str) -> str:
    """SELECT with every raw column cast to its declared type (SQLite hands back text)."""
    return (
        "SELECT "
        + ", ".join(f"CAST({c.name} AS {c.type}) AS {c.name}" for c in columns)
        + (f" FROM {relation}")
    )


def is_full_refresh(context: AssetExecutionContext) -> bool:
    return context.run.tags.get(FULL_REFRESH_TAG) == "full"


def quiz_attempts_copied_whole(db) -> bool:
    """Whether the last raw/quiz_attempts run copied every attempt (raw.quiz_changes says so):
    then whatever is built from the changes must be rebuilt whole. No rows means nothing
    changed, not a full copy (bool_or is then NULL)."""
    return db.execute(
        "SELECT coalesce(bool_or(full_refresh), false) FROM raw.quiz_changes"
    ).fetchone()[0]


def _has_columns(db, schema: str, table: str, columns: tuple[Column, ...]) -> bool:
    """Whether the warehouse table has every column (one built by an older version may not:
    then it is copied again whole)."""
    have = {
        name
        for (name,) in db.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database()"
            " AND schema_name = ? AND table_name = ?",
            [schema, table],
        ).fetchall()
    }
    return {c.name for c in columns} <= have


def raw_table(
    table: str,
    columns: tuple[Column, ...],
    source: str = "",
    where: str = "",
    description: str = "",
) -> AssetsDefinition:
    """raw.<table>: the LMS table `source` (default: the same name), or the rows `where`
    picks from it, copied whole."""
    source = source or table

    @asset(
        name=table,
        key_prefix="raw",
        group_name="raw",
        description=f"{description or f'LMS `{table}`'}, copied whole with fixed types.",
    )
    def _raw(
        context: AssetExecutionContext, lms: LmsDatabase, warehouse: Warehouse
    ) -> MaterializeResult:
        # Before the copy: a change that lands during it makes the sensor run again.
        fingerprint = fingerprints.read(lms, table)
        incoming = lms.read(select_sql(source, columns, where))
        with warehouse.connect() as db:
            db.register("incoming", incoming)
            db.execute(f"CREATE OR REPLACE TABLE raw.{table} AS {typed(columns, 'incoming')}")
            fingerprints.record(db, table, fingerprint, context.run.run_id)
        return MaterializeResult(metadata={"rows": incoming.num_rows})

    return _raw


@asset(
    key=QUIZ_ATTEMPTS,
    group_name="raw",
    description="Graded quiz attempts (SUBMITTED / EXPIRED) and their answers "
    "(raw.quiz_answers), read incrementally by finish time.",
)
def quiz_attempts(
    context: AssetExecutionContext, lms: LmsDatabase, warehouse: Warehouse
) -> MaterializeResult:
    with warehouse.connect() as db:
        have = {"quiz_attempts", "quiz_answers"} <= tables_in(db, "raw") and _has_columns(
            db, "raw", "quiz_attempts", ATTEMPT_COLUMNS
        )
        newest, newest_id = (
            db.execute("SELECT max(graded_at), max(id) FROM raw.quiz_attempts").fetchone()
            if have
            else (None, None)
        )
    full = is_full_refresh(context) or not have or newest is None
    fingerprint = fingerprints.read(lms, "quiz_attempts")
    finished = f"WHERE t.status IN {FINISHED}"
    if not full:
        since = (newest - INCREMENTAL_OVERLAP).strftime("%Y-%m-%d %H:%M:%S.%f")
        if lms.backend == "postgresql":
            since += "+00"  # timestamptz: say UTC, whatever the session's time zone
        # Graded since (an attempt that ran out of time is graded lazily, maybe days after
        # its deadline, which is its submitted_at; rows written without graded_at count by
        # submitted_at), or new rows whatever their times say (a bulk import of past
        # attempts, e.g. `apranova-lms seed-synthetic`, gets ids above every one seen).
        finished += (
            f" AND (t.graded_at >= '{since}' OR t.submitted_at >= '{since}'"
            f" OR t.id > {int(newest_id)})"
        )
    # Attempts first, answers second: an attempt finishing in between brings answers
    # without its attempt row, which staging ignores and the next run completes.
    attempts = lms.read(select_sql("quiz_attempts", ATTEMPT_COLUMNS, finished, alias="t"))
    answers = lms.read(
        select_sql(
            "quiz_answers",
            ANSWER_COLUMNS,
            f"JOIN quiz_attempts t ON t.id = a.attempt_id {finished}",
            alias="a",
        )
    )
    with warehouse.connect() as db:
        db.register("incoming_attempts", attempts)
        db.register("incoming_answers", answers)
        if full:
            db.execute(
                "CREATE OR REPLACE TABLE raw.quiz_attempts AS "
                + typed(ATTEMPT_COLUMNS, "incoming_attempts")
            )
            db.execute(
                "CREATE OR REPLACE TABLE raw.quiz_answers AS "
                + typed(ANSWER_COLUMNS, "incoming_answers")
            )
            changes = "raw.quiz_attempts"
        else:
            db.execute(
                "CREATE OR REPLACE TEMP TABLE arrived AS "
                + typed(ATTEMPT_COLUMNS, "incoming_attempts")
            )
            # The overlap re-reads attempts already here: unchanged ones are not changes (they
            # would make every quiz with a recent attempt look new and be recomputed).
            db.execute(
                """
                CREATE OR REPLACE TEMP TABLE changed AS
                SELECT i.* FROM arrived i LEFT JOIN raw.quiz_attempts r ON r.id = i.id
                WHERE r.id IS NULL OR r.status IS DISTINCT FROM i.status
                   OR r.score IS DISTINCT FROM i.score
                   OR r.submitted_at IS DISTINCT FROM i.submitted_at
                """
            )
            db.execute("BEGIN")
            db.execute("DELETE FROM raw.quiz_answers WHERE attempt_id IN (SELECT id FROM changed)")
            db.execute("DELETE FROM raw.quiz_attempts WHERE id IN (SELECT id FROM changed)")
            db.execute("INSERT INTO raw.quiz_attempts SELECT * FROM changed")
            db.execute(
                "INSERT INTO raw.quiz_answers "
                + typed(ANSWER_COLUMNS, "incoming_answers")
                + " WHERE attempt_id IN (SELECT id FROM changed)"
            )
            db.execute("COMMIT")
            changes = "changed"
        total = db.execute("SELECT count(*) FROM raw.quiz_attempts").fetchone()[0]
        # What changed, for staging and the marts to refresh only those quizzes and students.
        db.execute(
            "CREATE OR REPLACE TABLE raw.quiz_changes AS "
            "SELECT id AS attempt_id, quiz_id, person_id, ? AS full_refresh FROM " + changes,
            [full],
        )
        changed = db.execute("SELECT count(*) FROM raw.quiz_changes").fetchone()[0]
        fingerprints.record(db, "quiz_attempts", fingerprint, context.run.run_id)
    return MaterializeResult(
        metadata={
            "mode": "full" if full else "incremental",
            "attempts_read": attempts.num_rows,
            "attempts_changed": changed,
            "answers_read": answers.num_rows,
            "attempts_total": total,
        }
    )


@asset(
    key=HUB_ACTIVITY,
    group_name="raw",
    description="Hub activity samples: this run asks the hub for its running servers and "
    "appends them to the landing Parquet files, then reads every sample collected so far.",
)
def hub_activity(
    context: AssetExecutionContext, hub: HubApi, warehouse: Warehouse
) -> MaterializeResult:
    landing = warehouse.landing_dir
    landing.mkdir(parents=True, exist_ok=True)
    collected, hub_error = 0, ""
    if hub.url:
        try:
            samples = hub.server_activity()
        except httpx.HTTPError as exc:
            # A hub restart must not stop the marts: keep what was collected, say so.
            hub_error = f"{type(exc).__name__}: {exc}"
            context.log.warning(f"Could not read activity from the hub: {hub_error}")
            samples = []
        collected = len(samples)
        if samples:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
            table = pa.Table.from_pylist(samples, schema=ACTIVITY_SCHEMA)
            _write_parquet_atomically(table, landing / f"hub-{stamp}.parquet")
    else:
        context.log.info("No hub API configured: reading the activity collected so far.")
    files = sorted(landing.glob("*.parquet"))
    with warehouse.connect() as db:
        if files:
            paths = ", ".join(f"'{p}'" for p in files)
            db.execute(
                f"""
                CREATE OR REPLACE TABLE raw.hub_activity AS
                SELECT DISTINCT CAST(username AS VARCHAR) AS username,
                       CAST(coalesce(server_name, '') AS VARCHAR) AS server_name,
                       CAST(started AS TIMESTAMP) AS started,
                       CAST(last_activity AS TIMESTAMP) AS last_activity
                FROM read_parquet([{paths}], union_by_name = true)
                """
            )
        else:
            db.execute(
                "CREATE OR REPLACE TABLE raw.hub_activity (username VARCHAR, server_name VARCHAR,"
                " started TIMESTAMP, last_activity TIMESTAMP)"
            )
        rows = db.execute("SELECT count(*) FROM raw.hub_activity").fetchone()[0]
        if len(files) > COMPACT_AFTER_FILES:
            # One file per poll would pile up (288 a day): fold them into one, then remove
            # exactly the files that were read (a poll landing meanwhile stays).
            compacted = landing / f"compacted-{datetime.now(UTC):%Y%m%dT%H%M%S%f}.parquet"
            partial = compacted.with_name(compacted.name + ".partial")
            db.execute(
                "COPY (SELECT username, server_name, CAST(started AS TIMESTAMPTZ) AS started,"
                " CAST(last_activity AS TIMESTAMPTZ) AS last_activity,"
                " CAST(NULL AS TIMESTAMPTZ) AS observed_at FROM raw.hub_activity)"
                f" TO '{partial}' (FORMAT parquet)"
            )
            partial.rename(compacted)
            for path in files:
                path.unlink(missing_ok=True)
    return MaterializeResult(
        metadata={
            "collected_now": collected,
            "hub_error": hub_error or "none",
            "landing_files": len(files),
            "samples": rows,
        }
    )


@asset(
    key=QUIZ_ANSWER_SAVES,
    group_name="raw",
    description="Answers saved during quiz attempts (LMS `quiz_answer_events` of kind "
    "`save`: who, when), for attendance; the log only grows, so a run reads the rows after "
    "the ones it has.",
)
def quiz_answer_saves(
    context: AssetExecutionContext, lms: LmsDatabase, warehouse: Warehouse
) -> MaterializeResult:
    # The log is append-only and the biggest table of the LMS: a normal run reads the ids
    # above the newest one it has, less those written in the INCREMENTAL_OVERLAP before it
    # (a transaction that took an id early and committed late). The nightly full copy also
    # drops rows deleted with their attempt.
    with warehouse.connect() as db:
        have = "quiz_answer_saves" in tables_in(db, "raw")
        after = db.execute(SAVES_READ_AFTER).fetchone()[0] if have else None
    full = is_full_refresh(context) or not have
    fingerprint = fingerprints.read(lms, "quiz_answer_saves")
    where = f"WHERE kind = '{fingerprints.SAVE}'"
    if not full and after is not None:
        where += f" AND id > {int(after)}"
    incoming = lms.read(select_sql("quiz_answer_events", ANSWER_SAVE_COLUMNS, where))
    with warehouse.connect() as db:
        db.register("incoming", incoming)
        typed_rows = typed(ANSWER_SAVE_COLUMNS, "incoming")
        if full:
            db.execute(f"CREATE OR REPLACE TABLE raw.quiz_answer_saves AS {typed_rows}")
        else:
            db.execute("BEGIN")
            db.execute("DELETE FROM raw.quiz_answer_saves WHERE id IN (SELECT id FROM incoming)")
            db.execute(f"INSERT INTO raw.quiz_answer_saves {typed_rows}")
            db.execute("COMMIT")
        total = db.execute("SELECT count(*) FROM raw.quiz_answer_saves").fetchone()[0]
        fingerprints.record(db, "quiz_answer_saves", fingerprint, context.run.run_id)
    return MaterializeResult(
        metadata={
            "mode": "full" if full else "incremental",
            "saves_read": incoming.num_rows,
            "saves_total": total,
        }
    )


# The id after which an incremental run reads again: the newest one written before the
# overlap (NULL: every row is inside it, or none is here; then every id is read).
SAVES_READ_AFTER = f"""
    SELECT max(id) FROM raw.quiz_answer_saves
    WHERE created_at < (SELECT max(created_at) FROM raw.quiz_answer_saves)
                       - INTERVAL {int(INCREMENTAL_OVERLAP.total_seconds())} SECOND
"""


ACTIVITY_SCHEMA = pa.schema(
    [
        ("username", pa.string()),
        ("server_name", pa.string()),
        ("started", pa.timestamp("us", tz="UTC")),
        ("last_activity", pa.timestamp("us", tz="UTC")),
        ("observed_at", pa.timestamp("us", tz="UTC")),
    ]
)


def _write_parquet_atomically(table: pa.Table, path) -> None:
    import pyarrow.parquet as pq

    partial = path.with_name(path.name + ".partial")
    pq.write_table(table, partial)
    partial.rename(path)


raw_assets = [raw_table(table, columns) for table, columns in RAW_TABLES.items()]
# Graded attempts are raw.quiz_attempts; the ones still running are few at any time.
open_quiz_attempts = raw_table(
    "open_quiz_attempts",
    OPEN_ATTEMPT_COLUMNS,
    source="quiz_attempts",
    where=f"WHERE status = '{fingerprints.IN_PROGRESS}'",
    description="Quiz attempts still in progress (their start counts for attendance; "
    "graded ones are raw.quiz_attempts)",
)
raw_assets += [open_quiz_attempts, quiz_attempts, quiz_answer_saves, hub_activity]
