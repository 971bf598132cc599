"""An LMS API app (SQLite and PostgreSQL) that trusts the real test hub's tokens.

Callers, as the hub knows them: `admin` (hub admin = superadmin), `office` (group admins =
admin), `trainer` (trains ada and linus), `coach` (a trainer with no students), `ada`
(student, DP), `linus` (student, FSD), `grace` (student, no enrollment), and the hub service.
"""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from lms_api.config import Settings
from lms_api.database import sync_url
from lms_api.demo import seed_demo
from lms_api.main import create_app
from lms_api.migrate import upgrade


@pytest.fixture
def api(platform, database_url):
    upgrade(database_url)
    seed_demo(database_url)
    settings = Settings(
        database_url=database_url,
        hub_api_url=platform.hub_api,
        lms_api_token=platform.secrets["APRANOVA_LMS_API_TOKEN"],
        auth_cache_seconds=0.5,
    )
    with TestClient(create_app(settings)) as client:
        yield client


def rows(database_url: str, sql: str, **params) -> list[tuple]:
    """Read the database behind the app directly, as a check independent of the API."""
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            return [tuple(r) for r in connection.execute(text(sql), params)]
    finally:
        engine.dispose()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="session")
def auth(platform):
    """`auth("ada")` -> headers with a (cached) real hub token of that user; "hub" = service."""
    tokens: dict[str, str] = {"hub": platform.secrets["APRANOVA_HUB_SERVICE_TOKEN"]}

    def headers(username: str) -> dict[str, str]:
        if username not in tokens:
            tokens[username] = platform.new_token(username)[0]
        return bearer(tokens[username])

    return headers
