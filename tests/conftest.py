"""Shared fixtures: databases (SQLite and a fresh PostgreSQL database) and the running hub."""

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bench.harness.databases import fresh_postgres_database
from bench.harness.platform import Platform

REPO_ROOT = Path(__file__).resolve().parent.parent


def require(what: str) -> None:
    """Skip locally when a service is missing; fail in CI, where it must be there."""
    if os.environ.get("APRANOVA_REQUIRE_SERVICES") == "1":
        pytest.fail(f"required service missing: {what}")
    pytest.skip(f"{what} (set APRANOVA_TEST_POSTGRES_URL / install it to run this)")


def postgres_admin_url() -> str:
    """The PostgreSQL server the tests make their databases on (`require`d when unset)."""
    admin_url = os.environ.get("APRANOVA_TEST_POSTGRES_URL")
    if not admin_url:
        require("PostgreSQL")
    return admin_url


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(config, items) -> None:
    """Under pytest-xdist (`--dist loadgroup`), the tests on the session's whole platform
    (the `platform` fixture) run one after another on one worker: a worker starts its own
    session fixtures, and one platform for all of them is cheaper than one per worker. A
    module whose tests start a hub of their own (own ports, state folder, account prefix and
    Docker names: nothing shared) is a group of its own, so it can run beside the session's
    platform on the other worker instead of after it. A test that names its group keeps it."""
    for item in items:
        if item.get_closest_marker("xdist_group") is not None:
            continue
        if "platform" in item.fixturenames:
            item.add_marker(pytest.mark.xdist_group("e2e"))
        elif item.get_closest_marker("e2e") is not None:
            item.add_marker(pytest.mark.xdist_group(f"e2e-{item.module.__name__}"))


@pytest.fixture
def no_apranova_env(monkeypatch):
    """Settings objects see only what a test sets, not the developer's or CI's APRANOVA_*."""
    for key in list(os.environ):
        if key.startswith(("APRANOVA_", "JUPYTERHUB_", "DAGSTER_")):
            monkeypatch.delenv(key)
    return monkeypatch


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A new, empty PostgreSQL database for one test, dropped afterwards."""
    admin_url = postgres_admin_url()
    with contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(fresh_postgres_database(admin_url))
        except Exception as exc:  # pragma: no cover - depends on the machine
            require(f"PostgreSQL at {make_url(admin_url).render_as_string()}: {exc}")
        yield url


def default_backend() -> str:
    """PostgreSQL, production's database, whenever one is configured (always in CI); SQLite,
    the zero-setup local default, otherwise."""
    if os.environ.get("APRANOVA_TEST_POSTGRES_URL") or (
        os.environ.get("APRANOVA_REQUIRE_SERVICES") == "1"
    ):
        return "postgresql"
    return "sqlite"


def pytest_generate_tests(metafunc) -> None:
    """A test that uses `database_url` runs on the default backend; one marked `dialects`
    (locking, upserts, concurrency, constraints, migrations, bulk reads) on both."""
    if "database_url" not in metafunc.fixturenames:
        return
    both = metafunc.definition.get_closest_marker("dialects") is not None
    backends = ["sqlite", "postgresql"] if both else [default_backend()]
    metafunc.parametrize("database_url", backends, indirect=True)


@pytest.fixture
def database_url(request, tmp_path) -> str:
    """An empty LMS database of the backend the test is parametrized with."""
    return empty_database_url(request, tmp_path)


def empty_database_url(request, tmp_path: Path) -> str:
    """The root `database_url`, for the directories' fixtures that override it."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'lms.db'}"
    return request.getfixturevalue("postgres_url")


@contextlib.contextmanager
def empty_database(backend: str, folder: Path) -> Iterator[str]:
    """An empty database of `backend` for a fixture wider than one test (a module's shared
    school), dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'lms.db'}"
        return
    with fresh_postgres_database(postgres_admin_url()) as url:
        yield url


@pytest.fixture(scope="session")
def platform(tmp_path_factory) -> Iterator[Platform]:
    """The real hub + proxy + lms-api + dashboards + Dagster UI, with demo data."""
    running = Platform(tmp_path_factory.mktemp("platform"))
    try:
        running.start()  # a failed start still goes through stop() below
        yield running
    finally:
        running.stop()
