"""How the pipeline reads the LMS's PostgreSQL database: one read-only session per run (a
connect costs about 40 ms, and a run reads some twenty tables), each read seeing what is
committed when it runs, and a broken session replaced instead of reused."""

import adbc_driver_postgresql.dbapi as adbc
import pytest

from pipelines.resources import LmsDatabase
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
