"""Running the real Dagster assets on temporary LMS databases and warehouses."""

import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dagster import materialize
from sqlalchemy.engine import make_url

from bench.harness.databases import fresh_postgres_database
from pipelines.definitions import defs, resources
from pipelines.resources import Warehouse
from tests.conftest import empty_database, empty_database_url, postgres_admin_url
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

    def rows(self, sql: str, **params) -> list[tuple]:
        """Read the published file, read-only, as a dashboard does ($name parameters)."""
        with duckdb.connect(str(self.path), read_only=True) as db:
            return db.execute(sql, params or None).fetchall()


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


class FirstRuns:
    """The tiny school right after its first full run, made once per backend and session; a
    test that starts there gets a copy of the LMS database and of the warehouse folder (under
    a second, where the run takes 6 to 15 s)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._made: dict[str, tuple[School, Path]] = {}
        self._databases = contextlib.ExitStack()

    def first_run(self, backend: str) -> tuple[School, Path]:
        if backend not in self._made:
            folder = self.folder / backend
            folder.mkdir()
            school = build_school(self._databases.enter_context(empty_database(backend, folder)))
            warehouse = folder / "warehouse" / "warehouse.duckdb"
            write_activity(Warehouse(path=str(warehouse)).landing_dir)
            Pipeline(school.url, warehouse).run()
            self._made[backend] = (school, warehouse)
        return self._made[backend]

    @contextlib.contextmanager
    def database(self, backend: str, folder: Path) -> Iterator[str]:
        """A copy of the LMS database after the first run."""
        school, _ = self.first_run(backend)
        if backend == "sqlite":
            shutil.copyfile(make_url(school.url).database, folder / "lms.db")
            yield f"sqlite:///{folder / 'lms.db'}"
            return
        template = make_url(school.url).database
        with fresh_postgres_database(postgres_admin_url(), template=template) as url:
            yield url

    def warehouse(self, backend: str, folder: Path) -> Path:
        """A copy of the warehouse folder after the first run; the path of its file."""
        _, warehouse = self.first_run(backend)
        shutil.copytree(warehouse.parent, folder / "warehouse")
        return folder / "warehouse" / warehouse.name

    def close(self) -> None:
        self._databases.close()


@pytest.fixture(scope="session")
def first_runs(tmp_path_factory) -> Iterator[FirstRuns]:
    runs = FirstRuns(tmp_path_factory.mktemp("first-runs"))
    yield runs
    runs.close()


@pytest.fixture
def database_url(request, tmp_path) -> Iterator[str]:
    """As the root fixture; but a test that starts after the first run (`after_first_run`)
    gets a copy of that run's database instead of an empty one."""
    if "after_first_run" in request.fixturenames:
        with request.getfixturevalue("first_runs").database(request.param, tmp_path) as url:
            yield url
        return
    yield empty_database_url(request, tmp_path)


@pytest.fixture
def after_first_run(database_url, tmp_path, first_runs) -> tuple[Pipeline, School]:
    """(pipeline, school) as they are after `pipeline.run()` on a new school, on the backend
    of the test's `database_url`."""
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    school, _ = first_runs.first_run(backend)
    warehouse = first_runs.warehouse(backend, tmp_path)
    return Pipeline(database_url, warehouse), replace(school, url=database_url)
