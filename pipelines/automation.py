"""When the pipeline runs: a sensor for LMS changes, activity collection, a nightly rebuild.

- `lms_changes` (every 30 s) compares cheap fingerprints of the LMS (counts and newest
  timestamps) with the ones in its cursor and asks for an incremental run of just the assets
  downstream of what changed: quiz submissions, curriculum progress, payments/enrollments.
- `collect_workspace_activity` (every 5 minutes) asks the hub for running servers and
  refreshes the activity-based marts.
- `nightly_full_rebuild` (02:00 UTC) copies everything again (`apranova/refresh=full`).
"""

import json

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

from pipelines.assets.raw import FINISHED, FULL_REFRESH_TAG, HUB_ACTIVITY
from pipelines.resources import LmsDatabase

INCREMENTAL = {FULL_REFRESH_TAG: "incremental"}


def downstream_of(*tables: str) -> AssetSelection:
    return AssetSelection.assets(*(AssetKey(["raw", t]) for t in tables)).downstream()


# Which LMS tables each kind of change touches; the job refreshes them and all they feed.
SOURCES: dict[str, tuple[str, ...]] = {
    "quizzes": ("quiz_attempts", "quizzes", "quiz_questions", "quiz_options"),
    "progress": ("step_completions", "submissions"),
    "enrollments": ("enrollments", "payments", "people", "trainer_assignments"),
}
# One fingerprint query per kind of change: it differs whenever a row is added or updated.
FINGERPRINTS: dict[str, str] = {
    "quizzes": "SELECT CAST(count(*) AS TEXT) || '/' || CAST(max(submitted_at) AS TEXT) AS f "
    f"FROM quiz_attempts WHERE status IN {FINISHED}",
    "progress": "SELECT (SELECT CAST(count(*) AS TEXT) || '/' || CAST(max(created_at) AS TEXT) "
    "FROM step_completions) || '|' || (SELECT CAST(count(*) AS TEXT) || '/' || "
    "CAST(max(updated_at) AS TEXT) FROM submissions) AS f",
    "enrollments": "SELECT (SELECT CAST(count(*) AS TEXT) || '/' || CAST(max(updated_at) AS TEXT)"
    " FROM enrollments) || '|' || (SELECT CAST(count(*) AS TEXT) || '/' || "
    "CAST(max(updated_at) AS TEXT) FROM payments) AS f",
}

refresh_all = define_asset_job(
    "refresh_all",
    selection=AssetSelection.all(),
    description="Every asset; tag apranova/refresh=full to copy all LMS rows again.",
)
refresh_jobs = {
    kind: define_asset_job(
        f"refresh_{kind}",
        selection=downstream_of(*tables),
        tags=INCREMENTAL,
        description=f"Incremental refresh after changes to: {', '.join(tables)}.",
    )
    for kind, tables in SOURCES.items()
}
collect_activity_job = define_asset_job(
    "collect_workspace_activity",
    selection=AssetSelection.assets(HUB_ACTIVITY).downstream(),
    tags=INCREMENTAL,
    description="Ask the hub for workspace activity and refresh what depends on it.",
)


def changed_kinds(lms: LmsDatabase, cursor: str | None) -> tuple[list[str], str]:
    """The kinds of change whose fingerprint differs from the cursor's, and the new cursor."""
    before = json.loads(cursor) if cursor else {}
    now = {kind: str(lms.scalar(sql)) for kind, sql in FINGERPRINTS.items()}
    return [kind for kind in SOURCES if now[kind] != before.get(kind)], json.dumps(now)


@sensor(
    jobs=[refresh_all, *refresh_jobs.values()],
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.RUNNING,
    description="Incremental refresh when quiz submissions, progress or payments change.",
)
def lms_changes(context: SensorEvaluationContext, lms: LmsDatabase):
    changed, cursor = changed_kinds(lms, context.cursor)
    if not changed:
        return SkipReason("The LMS has not changed since the last run.")
    context.update_cursor(cursor)
    # Several kinds at once: one incremental run of everything rather than runs that wait
    # for each other on the warehouse lock.
    job = refresh_jobs[changed[0]].name if len(changed) == 1 else refresh_all.name
    return RunRequest(run_key=cursor, job_name=job, tags=INCREMENTAL)


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
