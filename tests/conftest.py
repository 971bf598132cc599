"""Shared fixtures: databases (SQLite and a fresh PostgreSQL database) and the running hub."""

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.databases import fresh_postgres_database
from tests.platform import Platform

REPO_ROOT = Path(__file__).resolve().parent.parent


def require(what: str) -> None:
    """Skip locally when a service is missing; fail in CI, where it must be there."""
    if os.environ.get("APRANOVA_REQUIRE_SERVICES") == "1":
        pytest.fail(f"required service missing: {what}")
    pytest.skip(f"{what} (set APRANOVA_TEST_POSTGRES_URL / install it to run this)")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A new, empty PostgreSQL database for one test, dropped afterwards."""
    admin_url = os.environ.get("APRANOVA_TEST_POSTGRES_URL")
    if not admin_url:
        require("PostgreSQL")
    with contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(fresh_postgres_database(admin_url))
        except Exception as exc:  # pragma: no cover - depends on the machine
            require(f"PostgreSQL at {make_url(admin_url).render_as_string()}: {exc}")
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """Each LMS test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'lms.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture(scope="session")
def platform(tmp_path_factory) -> Iterator[Platform]:
    """The real hub + proxy + lms-api + dashboards + Dagster UI, with demo data."""
    running = Platform(tmp_path_factory.mktemp("platform"))
    try:
        running.start()  # a failed start still goes through stop() below
        yield running
    finally:
        running.stop()
