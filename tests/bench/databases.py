"""What the load runs' end-to-end tests check of their database: the one the run named (others
may share the PostgreSQL server) is gone when the run ends."""

import re

from sqlalchemy import create_engine, text

from lms_api.database import sync_url

NAMED = re.compile(r"^database (apranova_bench_\w+):", re.MULTILINE)


def assert_run_dropped_its_database(stdout: str, admin_url: str) -> None:
    mine = NAMED.search(stdout)
    assert mine, stdout
    engine = create_engine(sync_url(admin_url))
    try:
        with engine.connect() as connection:
            names = connection.execute(text("SELECT datname FROM pg_database")).scalars().all()
    finally:
        engine.dispose()
    assert mine.group(1) not in names
