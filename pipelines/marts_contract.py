"""The marts contract: every table in schema `marts`, its columns in order and their DuckDB types.

The dashboards read these names and types, so they are written here once: the pipeline checks
the marts it builds against them on every run (pipelines.checks), and the dashboards' test
warehouse creates its tables from them (tests/dashboards/warehouse.py). Columns may be added,
never renamed or removed.
"""

from collections.abc import Iterable

import duckdb
from dagster import AssetSpec, MetadataValue, TableColumn, TableSchema

MARTS: dict[str, tuple[tuple[str, str], ...]] = {
    # Written by the publish (pipelines.resources), not by an asset.
    "_refresh": (
        ("refreshed_at", "TIMESTAMP"),
        ("run_id", "VARCHAR"),
        ("as_of", "TIMESTAMP WITH TIME ZONE"),
    ),
    "_sources": (
        ("table_name", "VARCHAR"),
        ("fingerprint", "VARCHAR"),
        ("read_at", "TIMESTAMP"),
        ("run_id", "VARCHAR"),
    ),
    "at_risk_backtest": (
        ("track", "VARCHAR"),
        ("as_of", "TIMESTAMP"),
        ("min_risk_score", "DOUBLE"),
        ("in_use", "BOOLEAN"),
        ("enrollments", "INTEGER"),
        ("flagged", "INTEGER"),
        ("positives", "INTEGER"),
        ("true_positives", "INTEGER"),
        ("precision", "DOUBLE"),
        ("recall", "DOUBLE"),
        ("base_rate", "DOUBLE"),
        ("lift", "DOUBLE"),
        ("flagged_share", "DOUBLE"),
        ("horizon_days", "INTEGER"),
        ("quiet_days", "INTEGER"),
        ("inactive_days", "INTEGER"),
        ("no_progress_days", "INTEGER"),
        ("overdue_grace_days", "INTEGER"),
        ("score_drop", "DOUBLE"),
        ("low_score", "DOUBLE"),
        ("dropped_after_days", "INTEGER"),
    ),
    "at_risk_history": (
        ("as_of", "TIMESTAMP WITH TIME ZONE"),
        ("student", "VARCHAR"),
        ("track", "VARCHAR"),
        ("trainer", "VARCHAR"),
        ("risk_score", "DOUBLE"),
    ),
    "at_risk_students": (
        ("student", "VARCHAR"),
        ("track", "VARCHAR"),
        ("trainer", "VARCHAR"),
        ("risk_score", "DOUBLE"),
        ("reasons", "VARCHAR"),
        ("days_inactive", "INTEGER"),
        ("last_workspace_activity_at", "TIMESTAMP"),
        ("last_step_at", "TIMESTAMP"),
        ("overdue_deliverables", "INTEGER"),
        ("recent_quiz_score", "DOUBLE"),
    ),
    "cohort_funnel": (
        ("track", "VARCHAR"),
        ("project_id", "BIGINT"),
        ("step_id", "BIGINT"),
        ("step_order", "INTEGER"),
        ("students_reached", "INTEGER"),
        ("students_completed", "INTEGER"),
        ("project_number", "INTEGER"),
        ("project_title", "VARCHAR"),
        ("step_number", "INTEGER"),
        ("step_title", "VARCHAR"),
    ),
    "enrollments": (
        ("student", "VARCHAR"),
        ("track", "VARCHAR"),
        ("track_name", "VARCHAR"),
        ("status", "VARCHAR"),
        ("source", "VARCHAR"),
        ("enrolled_at", "TIMESTAMP"),
        ("updated_at", "TIMESTAMP"),
        ("trainer", "VARCHAR"),
    ),
    "quiz_attempts": (
        ("attempt_id", "BIGINT"),
        ("student", "VARCHAR"),
        ("track", "VARCHAR"),
        ("trainer", "VARCHAR"),
        ("quiz_id", "BIGINT"),
        ("quiz_title", "VARCHAR"),
        ("attempt_number", "INTEGER"),
        ("points", "DOUBLE"),
        ("max_points", "DOUBLE"),
        ("score", "DOUBLE"),
        ("submitted_at", "TIMESTAMP WITH TIME ZONE"),
    ),
    "quiz_item_stats": (
        ("quiz_id", "BIGINT"),
        ("question_id", "BIGINT"),
        ("question_order", "INTEGER"),
        ("attempt_set", "VARCHAR"),
        ("n", "BIGINT"),
        ("facility_index", "DOUBLE"),
        ("sd", "DOUBLE"),
        ("random_guess_score", "DOUBLE"),
        ("intended_weight", "DOUBLE"),
        ("effective_weight", "DOUBLE"),
        ("discrimination_index", "DOUBLE"),
        ("discriminative_efficiency", "DOUBLE"),
        ("ci_low", "DOUBLE"),
        ("ci_high", "DOUBLE"),
        ("flag", "VARCHAR"),
        ("discrimination_ci_low", "DOUBLE"),
        ("discrimination_ci_high", "DOUBLE"),
        ("n_timed", "BIGINT"),
        ("median_seconds", "DOUBLE"),
        ("rapid_guess_rate", "DOUBLE"),
    ),
    "quiz_option_stats": (
        ("quiz_id", "BIGINT"),
        ("question_id", "BIGINT"),
        ("option_id", "BIGINT"),
        ("option_order", "INTEGER"),
        ("attempt_set", "VARCHAR"),
        ("is_correct", "BOOLEAN"),
        ("chosen_count", "BIGINT"),
        ("chosen_rate", "DOUBLE"),
        ("point_biserial", "DOUBLE"),
        ("attractive", "BOOLEAN"),
    ),
    "quiz_options": (
        ("quiz_id", "BIGINT"),
        ("question_id", "BIGINT"),
        ("option_id", "BIGINT"),
        ("option_order", "INTEGER"),
        ("label", "VARCHAR"),
        ("is_correct", "BOOLEAN"),
    ),
    "quiz_questions": (
        ("quiz_id", "BIGINT"),
        ("question_id", "BIGINT"),
        ("question_order", "INTEGER"),
        ("prompt", "VARCHAR"),
        ("type", "VARCHAR"),
        ("max_mark", "DOUBLE"),
    ),
    "quiz_stats": (
        ("quiz_id", "BIGINT"),
        ("attempt_set", "VARCHAR"),
        ("n_attempts", "BIGINT"),
        ("n_questions", "BIGINT"),
        ("max_mark", "DOUBLE"),
        ("mean", "DOUBLE"),
        ("median", "DOUBLE"),
        ("sd", "DOUBLE"),
        ("skewness", "DOUBLE"),
        ("kurtosis", "DOUBLE"),
        ("cronbach_alpha", "DOUBLE"),
        ("error_ratio", "DOUBLE"),
        ("standard_error", "DOUBLE"),
    ),
    "quizzes": (
        ("quiz_id", "BIGINT"),
        ("track", "VARCHAR"),
        ("title", "VARCHAR"),
        ("status", "VARCHAR"),
        ("project_id", "BIGINT"),
        ("published_at", "TIMESTAMP WITH TIME ZONE"),
        ("n_questions", "INTEGER"),
        ("max_mark", "DOUBLE"),
    ),
    "revenue": (
        ("track", "VARCHAR"),
        ("month", "DATE"),
        ("payments", "INTEGER"),
        ("amount", "DOUBLE"),
        ("refunds", "INTEGER"),
        ("refunded_amount", "DOUBLE"),
        ("net_amount", "DOUBLE"),
        ("pending", "INTEGER"),
        ("failed", "INTEGER"),
        ("currency", "VARCHAR"),
    ),
    "session_attendance": (
        ("session_id", "BIGINT"),
        ("title", "VARCHAR"),
        ("track", "VARCHAR"),
        ("starts_at", "TIMESTAMP WITH TIME ZONE"),
        ("ends_at", "TIMESTAMP WITH TIME ZONE"),
        ("session_status", "VARCHAR"),
        ("scheduled_by", "VARCHAR"),
        ("student", "VARCHAR"),
        ("trainer", "VARCHAR"),
        ("status", "VARCHAR"),
        ("first_seen_at", "TIMESTAMP WITH TIME ZONE"),
        ("source", "VARCHAR"),
        ("late_after_minutes", "INTEGER"),
    ),
    "step_completions": (
        ("student", "VARCHAR"),
        ("track", "VARCHAR"),
        ("trainer", "VARCHAR"),
        ("project_id", "BIGINT"),
        ("project_number", "INTEGER"),
        ("project_title", "VARCHAR"),
        ("step_id", "BIGINT"),
        ("step_number", "INTEGER"),
        ("step_title", "VARCHAR"),
        ("step_order", "INTEGER"),
        ("completed_at", "TIMESTAMP WITH TIME ZONE"),
    ),
    "student_progress": (
        ("student", "VARCHAR"),
        ("track", "VARCHAR"),
        ("project_id", "BIGINT"),
        ("steps_done", "INTEGER"),
        ("steps_total", "INTEGER"),
        ("pct_complete", "DOUBLE"),
        ("last_step_at", "TIMESTAMP"),
        ("last_workspace_activity_at", "TIMESTAMP"),
        ("project_number", "INTEGER"),
        ("project_title", "VARCHAR"),
        ("trainer", "VARCHAR"),
        ("enrollment_status", "VARCHAR"),
    ),
    "submissions": (
        ("submission_id", "BIGINT"),
        ("student", "VARCHAR"),
        ("track", "VARCHAR"),
        ("trainer", "VARCHAR"),
        ("project_id", "BIGINT"),
        ("project_number", "INTEGER"),
        ("project_title", "VARCHAR"),
        ("deliverable_id", "BIGINT"),
        ("deliverable", "VARCHAR"),
        ("required", "BOOLEAN"),
        ("status", "VARCHAR"),
        ("submitted_at", "TIMESTAMP WITH TIME ZONE"),
        ("updated_at", "TIMESTAMP WITH TIME ZONE"),
    ),
    "workspace_activity": (
        ("student", "VARCHAR"),
        ("day", "DATE"),
        ("active_minutes", "INTEGER"),
        ("sessions", "INTEGER"),
    ),
}

# What a column means, where its name does not say it all (the Dagster UI shows these).
DESCRIPTIONS: dict[str, dict[str, str]] = {
    "session_attendance": {
        "session_id": "The class session (LMS class_sessions.id); cancelled ones are left out.",
        "title": "The session's title.",
        "track": "Code of the session's track.",
        "starts_at": "Start of the session's window (UTC).",
        "ends_at": "End of the session's window (UTC).",
        "session_status": "scheduled, in_progress or ended, at the pipeline's now.",
        "scheduled_by": "Username of who scheduled the session.",
        "student": "Username of a student the session expects.",
        "trainer": "The student's assigned trainer (NULL if none).",
        "status": "present, late, absent (so far, while in_progress) or upcoming.",
        "first_seen_at": "First activity in the window (NULL if none, or upcoming).",
        "source": "Where first_seen_at comes from: workspace, lms or none.",
        "late_after_minutes": "Present when first seen at most this long after the start "
        "(APRANOVA_SESSION_LATE_AFTER_MINUTES).",
    },
}


def create_table_sql(table: str, create: str = "CREATE TABLE") -> str:
    """`CREATE TABLE marts.<table> (<column> <type>, ...)` as the contract has it; `create`
    may say CREATE OR REPLACE TABLE or CREATE TABLE IF NOT EXISTS instead."""
    columns = ", ".join(f'"{name}" {kind}' for name, kind in MARTS[table])
    return f"{create} marts.{table} ({columns})"


def columns_in(db: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    """(column, DuckDB type) of marts.<table> in the connection's database, in order
    ([]: no such table)."""
    return db.execute(
        "SELECT column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = current_database() AND schema_name = 'marts' "
        "AND table_name = ? ORDER BY column_index",
        [table],
    ).fetchall()


def differences(db: duckdb.DuckDBPyConnection, tables: Iterable[str] | None = None) -> list[str]:
    """How the connection's marts differ from the contract, in words ([]: they agree), for
    `tables` (names in MARTS; None: all of them)."""
    found = []
    for table in MARTS if tables is None else tables:
        expected, actual = dict(MARTS[table]), dict(columns_in(db, table))
        if not actual:
            found.append(f"marts.{table}: missing table")
            continue
        found += [
            f"marts.{table}: missing column {name} {kind}"
            for name, kind in expected.items()
            if name not in actual
        ]
        found += [
            f"marts.{table}: extra column {name} {kind} (not in the contract)"
            for name, kind in actual.items()
            if name not in expected
        ]
        found += [
            f"marts.{table}: column {name} is {actual[name]}, the contract says {kind}"
            for name, kind in expected.items()
            if name in actual and actual[name] != kind
        ]
        in_contract_order = [name for name in expected if name in actual]
        as_found = [name for name in actual if name in expected]
        if as_found != in_contract_order:
            found.append(
                f"marts.{table}: columns reordered: {', '.join(as_found)}; "
                f"the contract says {', '.join(in_contract_order)}"
            )
    return found


def with_column_schema(spec: AssetSpec) -> AssetSpec:
    """A mart's asset spec carrying its contract as Dagster's column schema, so the Dagster UI
    and the generated docs show the columns from here."""
    if len(spec.key.path) != 2 or spec.key.path[0] != "marts" or spec.key.path[1] not in MARTS:
        return spec
    table = spec.key.path[1]
    described = DESCRIPTIONS.get(table, {})
    columns = [
        TableColumn(name, kind, description=described.get(name)) for name, kind in MARTS[table]
    ]
    schema = MetadataValue.table_schema(TableSchema(columns=columns))
    return spec.merge_attributes(metadata={"dagster/column_schema": schema})
