"""Throw-away PostgreSQL databases for tests and benchmarks."""

import contextlib
import uuid
from collections.abc import Iterator

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


@contextlib.contextmanager
def fresh_postgres_database(admin_url: str, prefix: str = "apranova_test") -> Iterator[str]:
    """A new, empty database named `<prefix>_<random>` on the server of `admin_url`; its URL
    is yielded, and the database is dropped afterwards whatever happens."""
    admin = make_url(admin_url).set(drivername="postgresql+psycopg")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield admin.set(database=name).render_as_string(hide_password=False)
        finally:
            with engine.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


@contextlib.contextmanager
def copied_postgres_database(url: str) -> Iterator[str]:
    """A new database made from the one at `url` (`CREATE DATABASE ... TEMPLATE`, which needs
    no one else connected to it); its URL is yielded, and it is dropped afterwards."""
    source = make_url(url).set(drivername="postgresql+psycopg")
    name = f"apranova_test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(source.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": source.database},
            )
            connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{source.database}"'))
        try:
            yield make_url(url).set(database=name).render_as_string(hide_password=False)
        finally:
            with engine.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()
