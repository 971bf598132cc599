"""When the pipeline runs: a sensor for LMS changes, activity collection, a nightly rebuild.

- `lms_changes` (every 20 s) compares cheap fingerprints of the LMS tables
  (pipelines.fingerprints) with the ones the published marts were built from
  (`marts._sources`) and asks for an incremental run of just the assets downstream of what
  changed: quizzes and attempts, progress, enrollments (payments, people, trainer
  assignments), curriculum, class sessions. A warehouse that `make pipeline` just built is
  not built again.
- `collect_workspace_activity` (every 5 minutes) asks the hub for running servers and
  refreshes the activity-based marts, and the attendance of class sessions.
- `nightly_full_rebuild` (02:00 UTC) copies everything again (`apranova/refresh=full`).
"""

import json
from datetime import UTC, datetime

from dagster import (
    AssetKey,
    AssetSelection,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    ScheduleDefinition,
    SensorEvaluationContext,
    SkipReason,
    define_asset_job,
    sensor,
)

from pipelines import fingerprints
from pipelines.assets.marts import SESSION_ATTENDANCE
from pipelines.assets.raw import FULL_REFRESH_TAG, HUB_ACTIVITY
from pipelines.resources import LmsDatabase, Warehouse

INCREMENTAL = {FULL_REFRESH_TAG: "incremental"}
# A change is on the dashboards within this plus one incremental run (target: 60 s).
SENSOR_INTERVAL_SECONDS = 20


def downstream_of(*tables: str) -> AssetSelection:
    return AssetSelection.assets(*(AssetKey(["raw", t]) for t in tables)).downstream()


# Which LMS tables each kind of change touches; the job refreshes them and all they feed.
# Every table here has a fingerprint (pipelines.fingerprints).
SOURCES: dict[str, tuple[str, ...]] = {
    "quizzes": (
        "quiz_attempts",
        "quizzes",
        "quiz_questions",
        "quiz_options",
        "open_quiz_attempts",
        "quiz_answer_saves",
    ),
    "progress": ("step_completions", "submissions", "submission_versions"),
    "enrollments": ("enrollments", "payments", "people", "trainer_assignments"),
    "curriculum": ("tracks", "projects", "project_steps", "deliverables"),
    "sessions": ("class_sessions", "class_session_students", "workspace_activity"),
}

# A run prints INFO and above to its console (its process's stdout: the terminal of
# `make up`); every DEBUG event (step started, output yielded, ...) is still in the run's
# log in the Dagster UI. At DEBUG, one run printed ~200 lines.
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}

refresh_all = define_asset_job(
    "refresh_all",
    selection=AssetSelection.all(),
    config=QUIET_CONSOLE,
    description="Every asset; tag apranova/refresh=full to copy all LMS rows again.",
)
refresh_jobs = {
    kind: define_asset_job(
        f"refresh_{kind}",
        selection=downstream_of(*tables),
        tags=INCREMENTAL,
        config=QUIET_CONSOLE,
        description=f"Incremental refresh after changes to: {', '.join(tables)}.",
    )
    for kind, tables in SOURCES.items()
}
collect_activity_job = define_asset_job(
    "collect_workspace_activity",
    # Attendance moves with the clock too (upcoming, then absent at the start), with no
    # change in the LMS to wake the sensor.
    selection=AssetSelection.assets(HUB_ACTIVITY).downstream()
    | AssetSelection.assets(SESSION_ATTENDANCE).downstream(),
    tags=INCREMENTAL,
    config=QUIET_CONSOLE,
    description="Ask the hub for workspace activity and refresh what depends on it, and "
    "the attendance of class sessions, whose statuses move with the clock.",
)


def changed_tables(lms: LmsDatabase, warehouse: Warehouse) -> dict[str, str]:
    """{LMS table: fingerprint now} for the tables that differ from what the published marts
    were built from (all of them before the first publish)."""
    built_from = warehouse.published_sources()
    now = fingerprints.read_all(lms)
    return {table: value for table, value in now.items() if built_from.get(table) != value}


def kinds_of(tables) -> list[str]:
    return [kind for kind, sources in SOURCES.items() if set(sources) & set(tables)]


@sensor(
    jobs=[refresh_all, *refresh_jobs.values()],
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    default_status=DefaultSensorStatus.RUNNING,
    description="Incremental refresh of what a change in the LMS feeds: quizzes and attempts, "
    "progress, enrollments, payments, people and trainer assignments, curriculum, class "
    "sessions.",
)
def lms_changes(context: SensorEvaluationContext, lms: LmsDatabase, warehouse: Warehouse):
    changed = changed_tables(lms, warehouse)
    if not changed:
        return SkipReason("The published marts are up to date with the LMS.")
    kinds = kinds_of(changed)
    # Several kinds at once: one incremental run of everything rather than runs that wait
    # for each other on the warehouse lock.
    job = refresh_jobs[kinds[0]].name if len(kinds) == 1 else refresh_all.name
    # The same change asks once while its run is under way (Dagster skips a run key it has
    # seen); the hour in the key asks again if that run failed.
    hour = datetime.now(UTC).strftime("%Y-%m-%dT%H")
    key = json.dumps({"changed": changed, "hour": hour}, sort_keys=True)
    context.update_cursor(key)
    return RunRequest(run_key=key, job_name=job, tags=INCREMENTAL)


collect_activity_schedule = ScheduleDefinition(
    name="collect_workspace_activity_every_5_minutes",
    job=collect_activity_job,
    cron_schedule="*/5 * * * *",
    default_status=DefaultScheduleStatus.RUNNING,
)
nightly_full_rebuild = ScheduleDefinition(
    name="nightly_full_rebuild",
    job=refresh_all,
    cron_schedule="0 2 * * *",
    execution_timezone="UTC",
    tags={FULL_REFRESH_TAG: "full"},
    default_status=DefaultScheduleStatus.RUNNING,
)

schedules = [collect_activity_schedule, nightly_full_rebuild]
sensors = [lms_changes]
jobs = [refresh_all, *refresh_jobs.values(), collect_activity_job]
