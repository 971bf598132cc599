"""Connections of the pipeline: the LMS database (read-only), the hub REST API and the warehouse.

DuckDB allows one writer. The pipeline keeps its working tables (raw, staging, marts) in a
build file next to the published one and holds a file lock while it writes. Publishing
copies the marts — and only the marts, the contract with the dashboards — into a new file
and renames it over the published one, so readers (the dashboards, opened read-only) never
block on a run and never see a half-written table.
"""

import contextlib
import fcntl
import os
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import duckdb
import httpx
import pandas as pd
import pyarrow as pa
from dagster import ConfigurableResource, InitResourceContext
from pydantic import Field, PrivateAttr
from sqlalchemy.engine import make_url

from lms_api.state import DATABASE_URL_ENV, lms_database_url, warehouse_path
from pipelines import fingerprints

SCHEMAS = ("raw", "staging", "marts")


class LmsDatabase(ConfigurableResource):
    """The LMS database, read in bulk and read-only.

    PostgreSQL is read with ADBC, which streams `COPY ... TO STDOUT (FORMAT binary)` straight
    into Arrow (no row-by-row Python, no DuckDB extension download); the session is opened
    with `default_transaction_read_only`, so the pipeline cannot write by mistake. SQLite
    (the zero-setup local default) is opened read-only through its URI.
    """

    url: str
    # One PostgreSQL session for a whole run (or step process): an ADBC connect costs about
    # 40 ms (it loads the type catalog), paid once instead of for every table read.
    _session: object = PrivateAttr(default=None)
    _in_run: bool = PrivateAttr(default=False)

    @property
    def backend(self) -> str:
        return make_url(self.url).get_backend_name()

    def setup_for_execution(self, context: InitResourceContext) -> None:
        self._in_run = True

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        self._in_run = False
        self._close_session()

    def read(self, sql: str) -> pa.Table:
        """The rows of one SELECT as an Arrow table."""
        if self.backend == "postgresql":
            if not self._in_run:  # e.g. a sensor's check: a session of its own
                with self._connect_postgres() as connection:
                    return self._fetch(connection, sql)
            if self._session is None:
                self._session = self._connect_postgres()
            try:
                return self._fetch(self._session, sql)
            except Exception:
                self._close_session()  # a broken session is not reused; the next read reconnects
                raise
        if self.backend == "sqlite":
            database = make_url(self.url).database or ""
            with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
                return pa.Table.from_pandas(pd.read_sql_query(sql, connection))
        raise ValueError(f"unsupported LMS database {self.backend!r} (PostgreSQL or SQLite)")

    def _connect_postgres(self):
        import adbc_driver_postgresql.dbapi as adbc

        # autocommit: each read sees what is committed when it runs, as with a session per read
        return adbc.connect(_libpq_uri(self.url), autocommit=True)

    @staticmethod
    def _fetch(connection, sql: str) -> pa.Table:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetch_arrow_table()

    def _close_session(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            with contextlib.suppress(Exception):
                session.close()

    def scalar(self, sql: str):
        table = self.read(sql)
        return table.column(0)[0].as_py() if table.num_rows else None


def _libpq_uri(url: str) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    uri = parsed.render_as_string(hide_password=False)
    separator = "&" if "?" in uri else "?"
    return uri + separator + "options=" + quote("-c default_transaction_read_only=on")


class HubApi(ConfigurableResource):
    """The hub REST API, for users' server activity (scopes list:users, read:users:activity,
    read:servers). Empty `url` means no hub to ask (tests, or a pipeline run without one)."""

    url: str = Field(default="", description="e.g. http://127.0.0.1:8081/hub/api")
    token: str = Field(default="", description="a hub token with the scopes above")
    timeout_seconds: float = 10.0

    def server_activity(self) -> list[dict]:
        """One sample per running server: who, which server, since when, last activity."""
        observed_at = datetime.now(UTC)
        samples: list[dict] = []
        offset, limit = 0, 200
        headers = {
            "Authorization": f"token {self.token}",
            "Accept": "application/jupyterhub-pagination+json",
        }
        with httpx.Client(base_url=self.url.rstrip("/"), timeout=self.timeout_seconds) as client:
            while True:
                response = client.get(
                    "/users", params={"offset": offset, "limit": limit}, headers=headers
                )
                response.raise_for_status()
                body = response.json()
                if isinstance(body, list):  # a hub that ignores the pagination Accept header
                    body = {"items": body}
                for user in body["items"]:
                    for name, server in (user.get("servers") or {}).items():
                        if server.get("started") and server.get("last_activity"):
                            samples.append(
                                {
                                    "username": user["name"],
                                    "server_name": name or "",
                                    "started": _parse_time(server["started"]),
                                    "last_activity": _parse_time(server["last_activity"]),
                                    "observed_at": observed_at,
                                }
                            )
                following = (body.get("_pagination") or {}).get("next")
                if not following:
                    return samples
                offset = following["offset"]


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class Warehouse(ConfigurableResource):
    """The DuckDB warehouse: `path` is what readers open; the pipeline builds beside it."""

    path: str
    lock_timeout_seconds: float = 600.0
    _in_run: bool = PrivateAttr(default=False)
    _held: contextlib.ExitStack | None = PrivateAttr(default=None)
    _connection: duckdb.DuckDBPyConnection | None = PrivateAttr(default=None)

    @property
    def build_path(self) -> Path:
        published = Path(self.path)
        return published.with_name(published.stem + ".build" + published.suffix)

    @property
    def landing_dir(self) -> Path:
        """Append-only Parquet files of hub activity samples (the hub keeps no history)."""
        return Path(self.path).parent / "landing" / "hub_activity"

    def setup_for_execution(self, context: InitResourceContext) -> None:
        self._in_run = True

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        self._in_run = False
        held, self._held, self._connection = self._held, None, None
        if held is not None:
            held.close()  # closes the connection, then lets go of the writer lock

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The build database, under the writer lock (one writer across runs and processes).

        Within a run (or a step's process) the first asset opens it and takes the lock, and
        both are kept until the run ends: every asset and check after it reuses the
        connection (opening the file and writing it back cost 20-50 ms, some forty times a
        run), and no other run's writes come between this run's assets."""
        if not self._in_run:
            with self._opened() as connection:
                yield connection
            return
        if self._held is None:
            held = contextlib.ExitStack()
            self._connection = held.enter_context(self._opened())
            self._held = held
        # A cursor each: same database and settings, and no unfinished result of one asset
        # in the way of the next.
        cursor = self._connection.cursor()
        try:
            cursor.execute("SET TimeZone = 'UTC'")  # a setting of the session, not inherited
            yield cursor
        finally:
            cursor.close()

    @contextmanager
    def _opened(self) -> Iterator[duckdb.DuckDBPyConnection]:
        self.build_path.parent.mkdir(parents=True, exist_ok=True)
        with self._writer_lock():
            connection = duckdb.connect(str(self.build_path))
            try:
                connection.execute("SET TimeZone = 'UTC'")
                for schema in SCHEMAS:
                    connection.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
                yield connection
            finally:
                connection.close()

    @contextmanager
    def _writer_lock(self) -> Iterator[None]:
        lock_path = self.build_path.with_suffix(".lock")
        with open(lock_path, "w") as handle:
            deadline = time.monotonic() + self.lock_timeout_seconds
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"another pipeline run holds {lock_path}") from None
                    time.sleep(0.2)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def publish(self, run_id: str = "") -> tuple[Path, dict[str, int]]:
        """Write the marts into a new file and rename it over the published one.

        The new file starts as a copy of the published one (small: marts only), and only the
        marts rebuilt since that was published (`mark_updated`) are replaced in it, plus any
        it lacks: a sensor run that refreshed the quiz marts does not copy the others again.
        """
        published = Path(self.path)
        fresh = published.with_name(f".{published.stem}.{os.getpid()}.publishing.duckdb")
        fresh.unlink(missing_ok=True)
        rows: dict[str, int] = {}
        with self.connect() as db:
            tables = sorted(tables_in(db, "marts"))
            if published.exists():
                shutil.copyfile(published, fresh)
            db.execute(f"ATTACH '{fresh}' AS publishing")
            try:
                db.execute("CREATE SCHEMA IF NOT EXISTS publishing.marts")
                present = tables_in(db, "marts", database="publishing")
                since = None
                if "_refresh" in present:
                    since = db.execute(
                        "SELECT max(refreshed_at) FROM publishing.marts._refresh"
                    ).fetchone()[0]
                db.execute(UPDATES_TABLE)
                changed = {
                    name
                    for name, at in db.execute("SELECT * FROM staging.mart_updates").fetchall()
                    if since is None or at >= since
                }
                for table in tables:
                    if table in present and table not in changed:
                        continue
                    db.execute(
                        f"CREATE OR REPLACE TABLE publishing.marts.{table} AS "
                        f"SELECT * FROM marts.{table}"
                    )
                    rows[table] = db.execute(f"SELECT count(*) FROM marts.{table}").fetchone()[0]
                # When and by which run the marts were refreshed, and the instant they
                # describe (the at-risk step's "now"): the dashboards show both.
                as_of = "NULL::TIMESTAMPTZ"
                if "as_of" in tables_in(db, "staging"):
                    as_of = "(SELECT max(as_of) FROM staging.as_of)"
                db.execute(
                    "CREATE OR REPLACE TABLE publishing.marts._refresh AS "
                    f"SELECT now()::TIMESTAMP AS refreshed_at, ? AS run_id, {as_of} AS as_of",
                    [run_id],
                )
                _publish_sources(db, run_id)
            finally:
                db.execute("DETACH publishing")
        os.replace(fresh, published)
        return published, rows

    def published_sources(self) -> dict[str, str]:
        """{LMS table: fingerprint} the published marts were built from ({}: none yet)."""
        path = Path(self.path)
        if not path.exists():
            return {}
        with duckdb.connect(":memory:") as db:
            # Attached to a fresh in-memory database, not `duckdb.connect(path)`: DuckDB
            # would hand back a cached instance of a file that has since been replaced.
            try:
                db.execute(f"ATTACH '{_quoted(path)}' AS published (READ_ONLY)")
            except duckdb.IOException:  # renamed away between the check and the open
                return {}
            if "_sources" not in tables_in(db, "marts", database="published"):
                return {}
            rows = db.execute("SELECT table_name, fingerprint FROM published.marts._sources")
            return dict(rows.fetchall())


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")


def _publish_sources(db: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """marts._sources: the fingerprints (pipelines.fingerprints) of the LMS tables the
    published marts were built from: this run's copies, and the earlier ones it kept."""
    if "_fingerprints" not in tables_in(db, "raw"):
        return
    db.execute(f"CREATE TABLE IF NOT EXISTS publishing.marts._sources ({fingerprints.COLUMNS})")
    db.execute(
        "INSERT OR REPLACE INTO publishing.marts._sources "
        "SELECT * FROM raw._fingerprints WHERE run_id = ?",
        [run_id],
    )


def tables_in(db: duckdb.DuckDBPyConnection, schema: str, database: str = "") -> set[str]:
    """Names of the tables in `schema` of `database` (default: the connection's own)."""
    rows = db.execute(
        "SELECT table_name FROM duckdb_tables() "
        "WHERE database_name = coalesce(nullif(?, ''), current_database()) AND schema_name = ?",
        [database, schema],
    ).fetchall()
    return {name for (name,) in rows}


UPDATES_TABLE = (
    "CREATE TABLE IF NOT EXISTS staging.mart_updates "
    "(table_name VARCHAR PRIMARY KEY, updated_at TIMESTAMP)"
)


def mark_updated(db: duckdb.DuckDBPyConnection, *tables: str) -> None:
    """Record that these marts were rebuilt now, so the next publish copies them."""
    db.execute(UPDATES_TABLE)
    for table in tables:
        db.execute(
            "INSERT OR REPLACE INTO staging.mart_updates VALUES (?, now()::TIMESTAMP)", [table]
        )


def default_lms_url() -> str:
    return os.environ.get(DATABASE_URL_ENV) or lms_database_url()


def default_warehouse_path() -> str:
    return str(warehouse_path())


def default_hub_api() -> HubApi:
    """The hub gives its managed services JUPYTERHUB_API_URL and JUPYTERHUB_API_TOKEN;
    in docker compose the APRANOVA_PIPELINES_HUB_* settings say the same."""
    return HubApi(
        url=os.environ.get("APRANOVA_PIPELINES_HUB_API_URL")
        or os.environ.get("JUPYTERHUB_API_URL", ""),
        token=os.environ.get("APRANOVA_PIPELINES_HUB_TOKEN")
        or os.environ.get("JUPYTERHUB_API_TOKEN", ""),
    )
