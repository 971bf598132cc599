"""Engine, session and declarative base shared by every domain package."""

import time
from collections.abc import AsyncIterator, Sequence
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Executable, MetaData, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Session, SessionTransaction
from sqlalchemy.util import greenlet_spawn

from lms_api.types import MAX_ID as MAX_ID  # where the routes have always imported it from

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _with_driver(url: str, sqlite_driver: str) -> str:
    """Same database, our driver: psycopg 3 for PostgreSQL (sync and async), given SQLite one."""
    parsed = make_url(url)
    drivers = {"sqlite": sqlite_driver, "postgresql": "postgresql+psycopg"}
    driver = drivers.get(parsed.get_backend_name())
    return parsed.set(drivername=driver).render_as_string(hide_password=False) if driver else url


def sync_url(url: str) -> str:
    """The URL for synchronous tools (Alembic, seed): plain sqlite or psycopg."""
    return _with_driver(url, "sqlite")


def async_url(url: str) -> str:
    """The URL for the API's async engine: aiosqlite or psycopg (async mode)."""
    return _with_driver(url, "sqlite+aiosqlite")


def _configure_sqlite(engine: AsyncEngine) -> None:
    """Foreign keys on, and real transactions: SQLAlchemy's documented pysqlite recipe.

    Left alone, the sqlite3 driver only opens a transaction at the first INSERT/UPDATE, so a
    SAVEPOINT that comes first runs outside any transaction and its RELEASE commits at once;
    a request that fails later would leave that part written. Here the driver stays out of
    transaction handling and every transaction starts with BEGIN IMMEDIATE: it takes the
    write lock up front (waiting up to busy_timeout) instead of failing on a read-to-write
    upgrade under concurrency. SQLite requests are therefore serialized, which suits the
    zero-setup local default; PostgreSQL is the database for real load.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # pragma: no cover - driver hook
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection) -> None:  # pragma: no cover - driver hook
        connection.exec_driver_sql("BEGIN IMMEDIATE")


# A pooled connection idle for longer than this is pinged before a request uses it.
PING_AFTER_IDLE_SECONDS = 1.0


def _ping_idle_connections(engine: AsyncEngine) -> None:
    """SQLAlchemy's `pool_pre_ping`, but only for a connection that sat in the pool for more
    than `PING_AFTER_IDLE_SECONDS`: a server restart, an idle timeout or a dropped network
    path is found before the request (the pool is invalidated and a new connection made, as
    with pre-ping), while a busy worker, whose connections come back within milliseconds, no
    longer pays a `;` round trip and two autocommit switches per request (bench/README.md,
    issue 23). A connection that broke less than a second after its last use fails that one
    request; the disconnect then invalidates the pool, so the next ones get new connections."""
    sync_engine = engine.sync_engine
    dialect = sync_engine.dialect

    @event.listens_for(sync_engine, "checkin")
    def _idle_since(_dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(sync_engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return  # a new connection, or one in use a moment ago
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            if dialect.is_disconnect(exc, dbapi_connection, None):
                raise InvalidatePoolError() from exc
            raise


def make_engine(url: str, pool_size: int = 5) -> AsyncEngine:
    """`pool_size` applies to server databases; SQLite keeps SQLAlchemy's own pooling."""
    options: dict[str, Any] = {}
    if make_url(url).get_backend_name() != "sqlite":
        options.update(pool_size=pool_size, max_overflow=10)
    engine = create_async_engine(async_url(url), **options)
    _ping_idle_connections(engine)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


class Database:
    """Holds the engine and session factory of one app instance."""

    def __init__(self, url: str, pool_size: int = 5) -> None:
        self.engine = make_engine(url, pool_size)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    async def dispose(self) -> None:
        await self.engine.dispose()


def _end(session: Session, transaction: SessionTransaction, error: BaseException | None) -> None:
    """The end of a request's transaction, as `async with session.begin()` ends it (commit,
    or roll back on an error), then the session's close: one trip into SQLAlchemy's
    greenlet for both."""
    try:
        if error is None:
            transaction.__exit__(None, None, None)
        else:
            transaction.__exit__(type(error), error, error.__traceback__)
    finally:
        session.close()


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: commit at the end, roll back on any error.

    The app's database (`create_app` puts it on app.state) is read from the request, not via
    a dependency override, which FastAPI would re-resolve and run in a thread per request.
    What `async with sessionmaker() as session, session.begin()` does, with less machinery
    per request (bench/README.md, issue 23): the transaction is begun without a greenlet
    (no I/O: the connection is taken by the first statement), and ended and the session
    closed in one greenlet, not three plus a task for the close. Should that end fail or be
    cancelled, SQLAlchemy's own close (run to completion in a task of its own) still releases
    the connection."""
    session = request.app.state.database.sessionmaker()
    transaction = session.sync_session.begin()
    transaction.__enter__()
    error: BaseException | None = None
    try:
        yield session
    except BaseException as exc:
        error = exc
        raise
    finally:
        try:
            await greenlet_spawn(_end, session.sync_session, transaction, error)
        except BaseException:
            await session.close()
            raise


# The SQL of each pre-built statement `select_rows` ran on psycopg (by statement and dialect;
# the key holds the statement, so its entry can never be taken by another one).
_COMPILED: dict[tuple[Executable, str], str] = {}


async def select_rows(
    session: AsyncSession, statement: Executable, params: dict[str, Any]
) -> Sequence[Any]:
    """The rows of a SELECT built once at import (a module constant: its SQL is kept here),
    in the request's transaction; `params` names every bound parameter.

    On PostgreSQL the statement's SQL, as SQLAlchemy renders it for psycopg, runs on the
    transaction's own psycopg connection: same SQL, parameters, transaction and driver
    (whose result types for these columns are SQLAlchemy's: ints, strings, booleans, JSON
    parsed by psycopg, aware timestamps), without SQLAlchemy's execution layer (its greenlet,
    execution context and result objects: about 0.1 ms per statement, bench/README.md, issue
    23). Rows are plain tuples. Anywhere else (SQLite), or while something listens to
    SQLAlchemy's cursor events (tests that log the statements), it goes through SQLAlchemy.
    """
    connection = await session.connection()
    sync = connection.sync_connection
    assert sync is not None
    dialect = sync.dialect
    if dialect.driver != "psycopg" or sync.dispatch.before_cursor_execute:
        return (await connection.execute(statement, params)).all()
    key = (statement, dialect.name)
    sql = _COMPILED.get(key)
    if sql is None:
        sql = _COMPILED[key] = statement.compile(dialect=dialect).string
    cursor = await sync.connection.driver_connection.execute(sql, params)
    return await cursor.fetchall()


# scope="function": the transaction commits when the route returns, before the response is
# sent. With FastAPI's default ("request") it would commit after sending, so a client could
# act on a 201 (or Stripe on a checkout URL) before the row exists, or get a 201 for a
# commit that then fails.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
