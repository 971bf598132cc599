"""The connection pool follows the settings, so a busy process does not open and close a
PostgreSQL connection per request (bench/README.md shows what that costs)."""

import time

from sqlalchemy import create_engine, text

from lms_api.config import Settings
from lms_api.main import create_app


def test_the_pool_size_setting_reaches_the_postgresql_engine(postgres_url):
    for size in (3, 7):
        app = create_app(Settings(database_url=postgres_url, database_pool_size=size))
        assert app.state.database.engine.pool.size() == size


def test_a_pooled_connection_the_server_ended_is_replaced_before_use(postgres_url):
    """The pre-ping skips its round trip only while the idle connection's socket is quiet: a
    server that ends the session (restart, pg_terminate_backend) makes it readable, the ping
    then runs, fails, and the pool opens a new connection; the request never sees it."""
    from fastapi.testclient import TestClient

    from lms_api.database import sync_url

    app = create_app(Settings(database_url=postgres_url, lms_api_token="x"))
    with TestClient(app) as client:
        assert client.get("/api/v1/health").json() == {"status": "ok", "database": "ok"}
        admin = create_engine(sync_url(postgres_url), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                ended = connection.execute(
                    text(
                        "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                ).all()
                # pg_terminate_backend only signals: wait until the server has ended them (its
                # FATAL reaches the socket before the backend leaves pg_stat_activity)
                pids = [pid for pid, _ in ended]
                deadline = time.monotonic() + 10
                alive = text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)")
                while connection.execute(alive, {"pids": pids}).scalar():
                    assert time.monotonic() < deadline, "the server did not end the sessions"
                    time.sleep(0.02)
        finally:
            admin.dispose()
        assert ended, "the app's pooled connection was not found"
        for _ in range(3):
            assert client.get("/api/v1/health").json() == {"status": "ok", "database": "ok"}
