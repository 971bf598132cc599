"""Running the real Dagster assets on temporary LMS databases and warehouses."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dagster import materialize

from pipelines.definitions import defs, resources
from pipelines.resources import Warehouse
from tests.conftest import empty_database
from tests.pipelines.school import AS_OF, School, build_school, write_activity


class Pipeline:
    def __init__(self, lms_url: str, warehouse: Path, **settings):
        self.lms_url, self.path = lms_url, warehouse
        # min_risk_score 0: the tiny school's tests read every at-risk sign, however weak.
        self.settings = {"as_of": AS_OF, "min_attempts": 2, "min_risk_score": 0.0, **settings}

    @property
    def resources(self) -> dict:
        return resources(self.lms_url, str(self.path), **self.settings)

    def run(self, selection=None, mode: str = "full"):
        result = materialize(
            [*defs.assets, *defs.asset_checks],
            resources=self.resources,
            selection=selection,
            tags={"apranova/refresh": mode},
        )
        assert result.success
        return result

    def rows(self, sql: str) -> list[tuple]:
        """Read the published file, read-only, as a dashboard does."""
        with duckdb.connect(str(self.path), read_only=True) as db:
            return db.execute(sql).fetchall()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def built(request, tmp_path_factory) -> Iterator[tuple[Pipeline, Any]]:
    """One school and one full run shared by a module's read-only tests, on each backend (the
    pipeline reads each dialect its own way: PostgreSQL COPY, SQLite)."""
    folder = tmp_path_factory.mktemp(f"built-{request.param}")
    with empty_database(request.param, folder) as url:
        school = build_school(url)
        warehouse = folder / "warehouse" / "warehouse.duckdb"
        write_activity(Warehouse(path=str(warehouse)).landing_dir)
        pipeline = Pipeline(school.url, warehouse)
        yield pipeline, pipeline.run()


@pytest.fixture
def school(database_url) -> School:
    return build_school(database_url)


@pytest.fixture
def pipeline(school, tmp_path) -> Pipeline:
    warehouse = tmp_path / "warehouse" / "warehouse.duckdb"
    write_activity(Warehouse(path=str(warehouse)).landing_dir)
    return Pipeline(school.url, warehouse)
