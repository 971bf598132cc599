"""Engine, session and declarative base shared by every domain package."""

import select
from collections.abc import AsyncIterator, Sequence
from typing import Annotated, Any

import psycopg
from fastapi import Depends, Request
from sqlalchemy import Executable, MetaData, event
from sqlalchemy.engine import make_url
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


def _quiet_and_idle(dbapi_connection: Any) -> bool:
    """Whether a pooled PostgreSQL connection is known good without asking the server: open,
    outside any transaction, and nothing arrived on its socket since its last command. A
    server that ends a session (restart, `pg_terminate_backend`, idle timeout) sends an error
    and closes the socket, which makes it readable."""
    connection = getattr(dbapi_connection, "_connection", None)
    if not isinstance(connection, psycopg.AsyncConnection) or connection.broken:
        return False
    if connection.closed or connection.pgconn.status != psycopg.pq.ConnStatus.OK:
        return False
    if connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        return False
    readable, _, _ = select.select([connection.pgconn.socket], [], [], 0)
    return not readable


def _cheap_pre_ping(engine: AsyncEngine) -> None:
    """`pool_pre_ping` without a round trip when the connection is quiet (see
    `_quiet_and_idle`); otherwise the dialect's ping (`;`), which finds a dead connection and
    has the pool replace it, as before. Saves one of the ~6 round trips of a small request."""
    dialect = engine.dialect
    ping = dialect.do_ping

    def do_ping(dbapi_connection: Any) -> bool:
        return _quiet_and_idle(dbapi_connection) or ping(dbapi_connection)

    dialect.do_ping = do_ping  # type: ignore[method-assign]


def make_engine(url: str, pool_size: int = 5) -> AsyncEngine:
    """`pool_size` applies to server databases; SQLite keeps SQLAlchemy's own pooling."""
    options: dict[str, Any] = {"pool_pre_ping": True}
    if make_url(url).get_backend_name() != "sqlite":
        options.update(pool_size=pool_size, max_overflow=10)
    engine = create_async_engine(async_url(url), **options)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    else:
        _cheap_pre_ping(engine)
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
