"""Connections of the pipeline: the LMS database (read-only) and the DuckDB warehouse.

DuckDB allows one writer. The pipeline writes into a build file and, once the marts are
done, publishes a copy with an atomic rename; readers (the dashboards) only ever open the
published file read-only, so they never block on or break during a run.
"""

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd
from dagster import ConfigurableResource
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def _sync_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif parsed.get_backend_name() == "sqlite":
        parsed = parsed.set(drivername="sqlite")
    return parsed.render_as_string(hide_password=False)


class LmsDatabase(ConfigurableResource):
    """The LMS database, read in one read-only snapshot per query."""

    url: str

    def read(self, sql: str) -> pd.DataFrame:
        engine = create_engine(_sync_url(self.url))
        try:
            with engine.connect() as connection:
                if connection.dialect.name == "postgresql":
                    connection.execute(text("SET TRANSACTION READ ONLY"))
                return pd.read_sql_query(text(sql), connection)
        finally:
            engine.dispose()


class Warehouse(ConfigurableResource):
    """The DuckDB warehouse: `path` is what readers open; builds happen beside it."""

    path: str

    @property
    def build_path(self) -> Path:
        published = Path(self.path)
        return published.with_name(published.stem + ".build" + published.suffix)

    @contextmanager
    def connect(self):
        self.build_path.parent.mkdir(parents=True, exist_ok=True)
        connection = duckdb.connect(str(self.build_path))
        try:
            for schema in ("raw", "staging", "marts"):
                connection.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            yield connection
        finally:
            connection.close()

    def publish(self) -> Path:
        """Copy the finished build over the published file in one atomic rename."""
        with self.connect() as connection:
            connection.execute("CHECKPOINT")
        published = Path(self.path)
        staging = published.with_name(f".{published.name}.{os.getpid()}.tmp")
        shutil.copyfile(self.build_path, staging)
        os.replace(staging, published)
        return published


def default_lms_url() -> str:
    state = Path(os.environ.get("APRANOVA_STATE_DIR", ".apranova")).resolve()
    return os.environ.get("APRANOVA_DATABASE_URL") or f"sqlite:///{state / 'lms.db'}"


def default_warehouse_path() -> str:
    state = Path(os.environ.get("APRANOVA_STATE_DIR", ".apranova")).resolve()
    return os.environ.get("APRANOVA_WAREHOUSE_PATH") or str(
        state / "warehouse" / "warehouse.duckdb"
    )
