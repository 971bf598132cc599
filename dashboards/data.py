"""All data access of the dashboards: read-only DuckDB over the published marts."""

import os
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st


def warehouse_path() -> Path:
    state = Path(os.environ.get("APRANOVA_STATE_DIR", ".apranova"))
    default = state / "warehouse" / "warehouse.duckdb"
    return Path(os.environ.get("APRANOVA_WAREHOUSE_PATH") or default).resolve()


def published_version() -> float | None:
    """mtime of the published warehouse; a new publish is a new cache key."""
    try:
        return warehouse_path().stat().st_mtime
    except FileNotFoundError:
        return None


@st.cache_resource(max_entries=2)
def _connection(path: str, version: float) -> duckdb.DuckDBPyConnection:
    # `version` keys the cache: the pipeline publishes by renaming a new file into place.
    return duckdb.connect(path, read_only=True)


@st.cache_data(ttl=60)
def query(sql: str, version: float) -> pd.DataFrame:
    connection = _connection(str(warehouse_path()), version)
    return connection.cursor().execute(sql).df()


def enrollments() -> pd.DataFrame | None:
    """`marts.enrollments`, or None while the pipeline has not published yet."""
    version = published_version()
    if version is None:
        return None
    return query(
        "SELECT student, track, track_name, status, source, enrolled_at "
        "FROM marts.enrollments ORDER BY track, student",
        version,
    )


def viewer() -> tuple[str | None, str | None]:
    """The hub user the gateway vouched for (headers the browser cannot set)."""
    headers = st.context.headers
    return headers.get("X-Apranova-User"), headers.get("X-Apranova-Role")
