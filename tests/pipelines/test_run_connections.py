"""A pipeline run's connections: one read-only session to the LMS's PostgreSQL database (a
connect costs about 40 ms, and a run reads some twenty tables), each read seeing what is
committed when it runs, a broken session replaced instead of reused; and one connection to
the warehouse's build file, under the writer lock, until the run ends."""

import adbc_driver_postgresql.dbapi as adbc
import duckdb
import pytest

from pipelines.resources import LmsDatabase, Warehouse
from tests.pipelines.school import build_school


@pytest.fixture
def connects(monkeypatch) -> list[str]:
    """Every ADBC connect the pipeline makes, counted, the real connect still made."""
    made: list[str] = []
    real = adbc.connect

    def counting(uri, *args, **kwargs):
        made.append(uri)
        return real(uri, *args, **kwargs)

    monkeypatch.setattr(adbc, "connect", counting)
    return made


@pytest.mark.slow
def test_a_run_reads_every_table_through_one_session(pipeline, connects):
    if not pipeline.lms_url.startswith("postgresql"):
        pytest.skip("ADBC is the PostgreSQL reader")
    pipeline.run()
    assert len(connects) == 1


def test_reads_in_a_run_are_read_only_fresh_and_survive_a_broken_session(postgres_url):
    school = build_school(postgres_url)
    lms = LmsDatabase(url=school.url)
    lms.setup_for_execution(None)  # as Dagster does at the start of a run
    try:
        count = "SELECT count(*) FROM quiz_attempts"
        before = lms.scalar(count)
        school.add_attempt("ben", 9, [0, 0, 0], "06-29 10:00")  # committed elsewhere
        assert lms.scalar(count) == before + 1  # seen by the next read of the same session
        with pytest.raises(adbc.Error, match="read-only"):
            lms.read("CREATE TABLE pipeline_wrote_this (x int)")
        assert lms.scalar(count) == before + 1  # a new session after the failure
    finally:
        lms.teardown_after_execution(None)
    assert lms._session is None


@pytest.mark.slow
def test_a_run_opens_the_build_file_once_and_lets_it_go_at_the_end(pipeline, monkeypatch):
    opened: list[str] = []
    real = duckdb.connect

    def counting(database=":memory:", *args, **kwargs):
        opened.append(str(database))
        return real(database, *args, **kwargs)

    monkeypatch.setattr(duckdb, "connect", counting)
    pipeline.run()
    build = str(Warehouse(path=str(pipeline.path)).build_path)
    assert opened.count(build) == 1
    # Torn down: the writer lock is free for the next run at once.
    with Warehouse(path=str(pipeline.path), lock_timeout_seconds=0).connect() as db:
        assert db.execute("SELECT count(*) FROM marts.student_progress").fetchone()[0] > 0


def test_in_a_run_each_asset_gets_a_clean_utc_cursor_and_no_other_writer_gets_in(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("TZ", "Asia/Kolkata")  # times must not depend on the machine's zone
    warehouse = Warehouse(path=str(tmp_path / "warehouse.duckdb"))
    warehouse.setup_for_execution(None)
    try:
        with warehouse.connect() as db:
            db.execute("SELECT * FROM range(100000)")  # an asset that left its result unread
        with warehouse.connect() as db:
            assert db.execute("SELECT current_setting('TimeZone')").fetchone() == ("UTC",)
        with (
            pytest.raises(TimeoutError),
            Warehouse(path=warehouse.path, lock_timeout_seconds=0).connect(),
        ):
            pass  # another run waits for this one to end
    finally:
        warehouse.teardown_after_execution(None)
    with Warehouse(path=warehouse.path, lock_timeout_seconds=0).connect() as db:
        assert db.execute("SELECT current_setting('TimeZone')").fetchone() == ("UTC",)
