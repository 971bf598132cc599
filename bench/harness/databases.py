"""Throw-away PostgreSQL databases for tests and benchmarks."""

import contextlib
import uuid
from collections.abc import Iterator

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


@contextlib.contextmanager
def fresh_postgres_database(
    admin_url: str, prefix: str = "apranova_test", template: str | None = None
) -> Iterator[str]:
    """A new database named `<prefix>_<random>` on the server of `admin_url`: empty, or a copy
    of the database named `template` (`CREATE DATABASE ... TEMPLATE`, which needs no one else
    connected to it, so its sessions are ended first). Its URL is yielded, and the database is
    dropped afterwards whatever happens."""
    admin = make_url(admin_url).set(drivername="postgresql+psycopg")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            if template is None:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            else:
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :template AND pid <> pg_backend_pid()"
                    ),
                    {"template": template},
                )
                connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        try:
            yield admin.set(database=name).render_as_string(hide_password=False)
        finally:
            with engine.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()
