"""The connection pool follows the settings, so a busy process does not open and close a
PostgreSQL connection per request (bench/README.md shows what that costs)."""

import asyncio

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from lms_api.config import Settings
from lms_api.main import create_app


def test_the_pool_size_setting_reaches_the_postgresql_engine(postgres_url):
    for size in (3, 7):
        app = create_app(Settings(database_url=postgres_url, database_pool_size=size))
        assert app.state.database.engine.pool.size() == size


def test_a_connection_idle_in_the_pool_is_pinged_and_a_dead_one_replaced(postgres_url, monkeypatch):
    """Only a connection idle for longer than PING_AFTER_IDLE_SECONDS is pinged; one the
    server ended meanwhile is replaced before the request uses it, as with pre-ping."""
    from lms_api import database

    async def scenario() -> list[int]:
        engine = database.make_engine(postgres_url, pool_size=1)
        pids = []
        try:
            for idle in (False, True):
                if idle:  # the server ends the pooled connection while it is idle
                    monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 0.0)
                    other = create_engine(database.sync_url(postgres_url), poolclass=NullPool)
                    with other.connect() as connection:
                        connection.execute(
                            text("SELECT pg_terminate_backend(:pid)"), {"pid": pids[-1]}
                        )
                    other.dispose()
                async with engine.connect() as connection:
                    pid = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar()
                    pids.append(pid)
        finally:
            await engine.dispose()
        return pids

    pids = asyncio.run(scenario())
    assert len(pids) == 2 and pids[0] != pids[1]


def test_a_busy_connection_is_not_pinged(postgres_url):
    """A connection back in the pool a moment ago is used as is: no `;` round trip."""
    from lms_api import database

    async def scenario() -> int:
        engine = database.make_engine(postgres_url, pool_size=1)
        pings = 0
        original = engine.dialect.do_ping

        def counting_ping(dbapi_connection) -> bool:
            nonlocal pings
            pings += 1
            return original(dbapi_connection)

        engine.dialect.do_ping = counting_ping
        try:
            for _ in range(5):
                async with engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))
        finally:
            await engine.dispose()
        return pings

    assert asyncio.run(scenario()) == 0
