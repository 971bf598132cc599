"""The pipeline turns the LMS database into `marts.enrollments`, published atomically."""

import duckdb
import pytest
from dagster import materialize
from sqlalchemy import create_engine, text

from lms_api.database import sync_url
from lms_api.demo import seed_demo
from lms_api.migrate import upgrade
from pipelines.definitions import defs
from pipelines.resources import LmsDatabase, Warehouse


@pytest.fixture
def lms(database_url) -> str:
    upgrade(database_url)
    seed_demo(database_url)
    return database_url


def run_pipeline(lms_url: str, warehouse_path: str):
    return materialize(
        [*defs.assets, *defs.asset_checks],
        resources={"lms": LmsDatabase(url=lms_url), "warehouse": Warehouse(path=warehouse_path)},
    )


def read_mart(path) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as db:
        return db.execute(
            "SELECT student, track, track_name, status, source FROM marts.enrollments"
            " ORDER BY student, track"
        ).fetchall()


def test_mart_has_one_row_per_student_and_track(lms, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    result = run_pipeline(lms, str(warehouse))
    assert result.success
    assert read_mart(warehouse) == [
        ("ada", "DP", "Data Professional", "active", "grant"),
        ("linus", "FSD", "Full-Stack Development", "active", "grant"),
    ]
    checks = result.get_asset_check_evaluations()
    assert [c.check_name for c in checks] == ["enrollments_keys_unique"]
    assert all(c.passed for c in checks)


def test_rerun_reflects_new_lms_data(lms, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    assert run_pipeline(lms, str(warehouse)).success
    engine = create_engine(sync_url(lms))
    with engine.begin() as db:
        db.execute(
            text("INSERT INTO people (username, created_at) VALUES ('ada2', CURRENT_TIMESTAMP)")
        )
        db.execute(
            text(
                """
                INSERT INTO enrollments
                    (person_id, track_id, status, source, created_at, updated_at)
                SELECT p.id, t.id, 'cancelled', 'payment', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP
                FROM people p, tracks t WHERE p.username = 'ada2' AND t.code = 'FSD'
                """
            )
        )
    engine.dispose()
    assert run_pipeline(lms, str(warehouse)).success
    assert ("ada2", "FSD", "Full-Stack Development", "cancelled", "payment") in read_mart(warehouse)


def test_a_reader_keeps_working_while_the_pipeline_publishes(lms, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    assert run_pipeline(lms, str(warehouse)).success
    with duckdb.connect(str(warehouse), read_only=True) as reader:
        before = reader.execute("SELECT count(*) FROM marts.enrollments").fetchone()[0]
        # The pipeline writes a separate build file, then renames a copy into place.
        assert run_pipeline(lms, str(warehouse)).success
        assert reader.execute("SELECT count(*) FROM marts.enrollments").fetchone()[0] == before
    assert len(read_mart(warehouse)) == before
