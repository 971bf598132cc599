"""Incremental refresh, the sensor that triggers it, and readers during a run."""

import threading
from datetime import UTC, date, datetime

import duckdb
import pytest
from dagster import AssetKey, DagsterInstance, RunRequest, SkipReason, build_sensor_context
from sqlalchemy import create_engine, text

from lms_api.database import sync_url
from pipelines.automation import lms_changes, refresh_jobs
from pipelines.definitions import defs
from pipelines.resources import LmsDatabase, Warehouse

pytestmark = pytest.mark.slow


def metadata_of(result, *path: str) -> dict:
    [materialization] = [
        m for m in result.asset_materializations_for_node(path[0] + "__" + path[1])
    ]
    return {k: v.value for k, v in materialization.metadata.items()}


def quiz_selection():
    """What the sensor's `refresh_quizzes` job materializes."""
    return refresh_jobs["quizzes"].selection.resolve(defs.resolve_asset_graph())


@pytest.mark.dialects
def test_incremental_run_reads_only_new_attempts_and_updates_the_stats(after_first_run):
    pipeline, school = after_first_run
    school.add_attempt("ben", 2, [0, 0, 0], "06-29 10:00")  # ben improves to 3/3
    result = pipeline.run(selection=list(quiz_selection()), mode="incremental")

    raw = metadata_of(result, "raw", "quiz_attempts")
    # The newest attempt seen was cat's (06-21 10:00): it and the new one are read again.
    assert (raw["mode"], raw["attempts_read"], raw["attempts_total"]) == ("incremental", 2, 5)
    # cat's attempt came back unchanged: only ben's new one counts as a change.
    assert raw["attempts_changed"] == 1
    staged = metadata_of(result, "staging", "quiz_results")
    assert (staged["mode"], staged["changed_attempts"]) == ("incremental", 1)
    stats = dict(pipeline.rows("SELECT attempt_set, n_attempts FROM marts.quiz_stats ORDER BY 1"))
    assert stats == {"all": 5, "first": 3, "highest": 3, "last": 3}
    [(last_mean,)] = pipeline.rows("SELECT mean FROM marts.quiz_stats WHERE attempt_set = 'last'")
    assert last_mean == (1 + 1 + 0) / 3  # amy 3/3, ben now 3/3, cat 0
    # The marts the run did not rebuild are still published, as they were.
    assert pipeline.rows("SELECT count(*) FROM marts.student_progress") == [(8,)]
    assert pipeline.rows("SELECT count(*) FROM marts.revenue") == [(2,)]


def test_incremental_gives_the_same_marts_as_a_full_rebuild(after_first_run):
    pipeline, school = after_first_run
    school.add_attempt("ben", 2, [0, 1, 0], "06-29 10:00")
    school.add_attempt("cat", 2, [0, 0, 1], "06-29 11:00")
    pipeline.run(selection=list(quiz_selection()), mode="incremental")
    queries = (
        "SELECT * FROM marts.quiz_item_stats ORDER BY quiz_id, question_id, attempt_set",
        "SELECT * FROM marts.quiz_attempts ORDER BY attempt_id",
    )
    incremental = [pipeline.rows(query) for query in queries]
    pipeline.run(mode="full")
    assert incremental == [pipeline.rows(query) for query in queries]


def test_an_incremental_quiz_run_updates_marts_quiz_attempts(after_first_run):
    pipeline, school = after_first_run
    assert AssetKey(["marts", "quiz_attempts"]) in quiz_selection()
    school.add_attempt("ben", 2, [0, 0, 0], "06-29 10:00")  # ben improves to 3/3
    result = pipeline.run(selection=list(quiz_selection()), mode="incremental")
    assert metadata_of(result, "marts", "quiz_attempts")["patched"] is True  # not rebuilt
    assert pipeline.rows(
        "SELECT attempt_number, points, score, submitted_at, trainer FROM marts.quiz_attempts"
        " WHERE student = 'ben' ORDER BY attempt_number"
    ) == [
        (1, 2.0, 2 / 3, datetime(2026, 6, 11, 10, tzinfo=UTC), "tr"),
        (2, 3.0, 1.0, datetime(2026, 6, 29, 10, tzinfo=UTC), "tr"),
    ]
    assert pipeline.rows("SELECT count(*) FROM marts.quiz_attempts") == [(5,)]


def test_the_progress_refresh_rebuilds_the_progress_marts():
    selected = refresh_jobs["progress"].selection.resolve(defs.resolve_asset_graph())
    for name in ("step_completions", "submissions", "at_risk_students", "at_risk_history"):
        assert AssetKey(["marts", name]) in selected
    assert AssetKey(["marts", "quiz_attempts"]) not in selected


def sensor_tick(pipeline):
    # As the daemon does: the resources are set up for the tick and torn down after it.
    with build_sensor_context(
        resources={
            "lms": LmsDatabase(url=pipeline.lms_url),
            "warehouse": Warehouse(path=str(pipeline.path)),
        },
        instance=DagsterInstance.ephemeral(),
    ) as context:
        return lms_changes(context)


def lms(school, sql: str, **params) -> None:
    engine = create_engine(sync_url(school.url))
    try:
        with engine.begin() as db:
            db.execute(text(sql), params)
    finally:
        engine.dispose()


def run_what_the_sensor_asks(pipeline):
    """One sensor tick and the incremental run it asks for; the job's name."""
    request = sensor_tick(pipeline)
    assert isinstance(request, RunRequest), request
    assert request.tags["apranova/refresh"] == "incremental"
    job = defs.resolve_job_def(request.job_name)
    pipeline.run(selection=list(job.asset_layer.selected_asset_keys), mode="incremental")
    return request.job_name


def test_the_sensor_asks_for_a_quiz_refresh_after_a_new_submission(pipeline, school):
    first = sensor_tick(pipeline)
    # Nothing published yet: everything is new, one run of everything.
    assert isinstance(first, RunRequest) and first.job_name == "refresh_all"
    # A warehouse that a run (`make pipeline`) just published is not built a second time.
    pipeline.run()
    assert isinstance(sensor_tick(pipeline), SkipReason)

    school.add_attempt("ben", 2, [0, 0, 0], "06-29 10:00")
    request = sensor_tick(pipeline)
    assert isinstance(request, RunRequest)
    assert request.job_name == "refresh_quizzes"
    assert request.tags["apranova/refresh"] == "incremental"
    # Asked again while its run is under way: the same key, which Dagster runs once.
    assert sensor_tick(pipeline).run_key == request.run_key
    # The job refreshes the quiz path and publishes; it leaves payments alone.
    selected = quiz_selection()
    assert AssetKey(["marts", "quiz_item_stats"]) in selected
    assert AssetKey(["published_marts"]) in selected
    assert AssetKey(["marts", "revenue"]) not in selected
    pipeline.run(selection=list(selected), mode="incremental")
    assert isinstance(sensor_tick(pipeline), SkipReason)


def test_the_sensor_sees_grants_steps_and_reassignments_when_other_tables_are_empty(
    pipeline, school
):
    # A school without Stripe (no payments) and nobody has handed anything in yet.
    lms(school, "DELETE FROM payments")
    lms(school, "DELETE FROM submission_events")
    lms(school, "DELETE FROM submission_versions")
    lms(school, "DELETE FROM submissions")
    pipeline.run()
    assert isinstance(sensor_tick(pipeline), SkipReason)
    active = "SELECT student, trainer FROM marts.enrollments WHERE status = 'active'"

    # An admin grants dan's cancelled enrollment again.
    lms(
        school,
        "UPDATE enrollments SET status = 'active', source = 'grant', updated_at = :now "
        "WHERE person_id = :p",
        now=datetime.now(UTC),
        p=school.people["dan"],
    )
    assert run_what_the_sensor_asks(pipeline) == "refresh_enrollments"
    assert ("dan", "tr") in pipeline.rows(active)

    # cat completes a step.
    lms(
        school,
        "INSERT INTO step_completions (person_id, step_id, created_at) VALUES (:p, :s, :now)",
        p=school.people["cat"],
        s=school.steps[0],
        now=datetime.now(UTC),
    )
    assert run_what_the_sensor_asks(pipeline) == "refresh_progress"
    done = "SELECT sum(steps_done) FROM marts.student_progress WHERE student = 'cat'"
    assert pipeline.rows(done) == [(1,)]

    # amy moves to another trainer (one row per student, updated in place).
    lms(
        school,
        "INSERT INTO people (username, is_active, assigned_students, name, email, "
        "created_at, updated_at) VALUES ('tr2', true, 0, '', '', :t, :t)",
        t=datetime(2026, 6, 1),
    )
    lms(
        school,
        "UPDATE trainer_assignments SET trainer_id = (SELECT id FROM people WHERE username = "
        "'tr2') WHERE student_id = :p",
        p=school.people["amy"],
    )
    assert run_what_the_sensor_asks(pipeline) == "refresh_enrollments"
    assert ("amy", "tr2") in pipeline.rows(active)
    assert isinstance(sensor_tick(pipeline), SkipReason)


@pytest.mark.dialects
def test_an_attempt_graded_late_reaches_the_marts_incrementally(pipeline, school):
    # cat started an attempt on 06-25 and walked away; ben's newer attempt has a higher id.
    lazy = school.add_attempt("cat", 2, [0, 0, None], "06-25 10:00")
    lms(
        school,
        "UPDATE quiz_attempts SET status = 'IN_PROGRESS', submitted_at = NULL, "
        "score = NULL WHERE id = :a",
        a=lazy,
    )
    school.add_attempt("ben", 2, [0, 0, 0], "06-29 10:00")
    pipeline.run()
    assert pipeline.rows("SELECT count(*) FROM marts.quiz_attempts WHERE student = 'cat'") == [(1,)]
    # Days later somebody lists the attempts and the LMS expires it: submitted at its
    # deadline (06-25 10:10), graded now.
    lms(
        school,
        "UPDATE quiz_attempts SET status = 'EXPIRED', submitted_at = :deadline, score = 2, "
        "graded_at = :now WHERE id = :a",
        deadline=datetime(2026, 6, 25, 10, 10, tzinfo=UTC),
        now=datetime.now(UTC),
        a=lazy,
    )
    assert run_what_the_sensor_asks(pipeline) == "refresh_quizzes"
    assert pipeline.rows(
        "SELECT attempt_number, submitted_at FROM marts.quiz_attempts WHERE student = 'cat'"
        " ORDER BY 1"
    ) == [
        (1, datetime(2026, 6, 21, 10, tzinfo=UTC)),
        (2, datetime(2026, 6, 25, 10, 10, tzinfo=UTC)),
    ]


def test_a_dashboard_read_during_a_run_never_fails(after_first_run):
    pipeline, _ = after_first_run
    errors: list[Exception] = []
    counts: set[int] = set()
    stop = threading.Event()

    def read_like_a_dashboard():
        while not stop.is_set():
            try:
                # A new connection each time, as a dashboard rerun after a publish does.
                with duckdb.connect(str(pipeline.path), read_only=True) as db:
                    counts.add(
                        db.execute("SELECT count(*) FROM marts.student_progress").fetchone()[0]
                    )
                    db.execute("SELECT * FROM marts.quiz_item_stats").fetchall()
            except Exception as exc:
                errors.append(exc)

    reader = threading.Thread(target=read_like_a_dashboard)
    reader.start()
    try:
        for _ in range(2):
            pipeline.run()
    finally:
        stop.set()
        reader.join()
    assert errors == []
    assert counts == {8}


def test_landing_files_are_compacted_without_losing_a_sample(pipeline, monkeypatch):
    import shutil

    from pipelines.assets import raw

    landing = pipeline.path.parent / "landing" / "hub_activity"
    for copy in range(3):  # the same samples, as three polls would see them again
        shutil.copy(landing / "test.parquet", landing / f"poll-{copy}.parquet")
    monkeypatch.setattr(raw, "COMPACT_AFTER_FILES", 2)
    pipeline.run()
    [compacted] = landing.glob("*.parquet")
    assert compacted.name.startswith("compacted-")
    expected = [("amy", date(2026, 6, 29), 15, 2), ("ben", date(2026, 6, 10), 5, 1)]
    query = "SELECT student, day, active_minutes, sessions FROM marts.workspace_activity"
    assert pipeline.rows(query + " ORDER BY 1, 2") == expected
    pipeline.run()  # reading the compacted file alone gives the same mart
    assert pipeline.rows(query + " ORDER BY 1, 2") == expected


@pytest.mark.dialects
def test_attempts_imported_with_past_times_are_picked_up_incrementally(after_first_run):
    pipeline, school = after_first_run
    # Finished on 06-01, before every attempt already in the warehouse: new by its id only.
    school.add_attempt("ben", 2, [0, 0, 0], "06-01 10:00")
    result = pipeline.run(selection=list(quiz_selection()), mode="incremental")
    assert metadata_of(result, "raw", "quiz_attempts")["attempts_changed"] == 1
    assert pipeline.rows("SELECT n_attempts FROM marts.quiz_stats WHERE attempt_set = 'all'") == [
        (5,)
    ]


def test_quiz_refreshes_keep_the_week_ago_rows_for_an_hour(after_first_run):
    pipeline, school = after_first_run
    week_ago = "SELECT as_of, student, risk_score FROM marts.at_risk_history WHERE as_of < "
    week_ago += "(SELECT as_of FROM marts._refresh) ORDER BY student"
    before = pipeline.rows(week_ago)
    assert before  # the school has students at risk a week earlier
    school.add_attempt("amy", 9, [1, 1, 1], "06-20 09:00")  # before the week-ago instant
    pipeline.run(selection=list(quiz_selection()), mode="incremental")
    assert pipeline.rows(week_ago) == before  # kept: same instant, no second pass
    # Two hours later the kept rows are too old: they are computed again, for the new instant.
    pipeline.settings["as_of"] = "2026-06-30T14:00:00+00:00"
    pipeline.run(selection=list(quiz_selection()), mode="incremental")
    after = pipeline.rows(week_ago)
    assert {row[0] for row in after} == {datetime(2026, 6, 23, 14, tzinfo=UTC)}
    [(now,)] = pipeline.rows("SELECT as_of FROM marts._refresh")
    assert now == datetime(2026, 6, 30, 14, tzinfo=UTC)
