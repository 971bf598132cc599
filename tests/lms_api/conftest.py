"""An LMS API app (PostgreSQL, and SQLite where the dialect matters) that checks tokens with a
fake hub (`tests.fakes.hub`, kept honest by `tests/e2e/test_hub_contract.py`); the real hub's
tokens are tested in `test_hub_tokens.py` and end to end.

Callers, as the hub knows them: `admin` (hub admin = superadmin), `office` (group admins =
admin), `trainer` (trains ada and linus), `coach` (a trainer with no students), `ada`
(student, DP), `linus` (student, FSD), `grace` (student, no enrollment), and the hub service.
"""

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from lms_api.config import Settings
from lms_api.database import sync_url
from lms_api.main import create_app
from tests.conftest import empty_database_url, postgres_admin_url
from tests.fakes.hub import FakeHub
from tests.lms_api.seeded import SeededTemplates


@pytest.fixture(scope="session")
def hub() -> Iterator[FakeHub]:
    """The hub as the LMS API sees it: tokens, roles and groups of the demo school."""
    fake = FakeHub().start()
    try:
        yield fake
    finally:
        fake.stop()


def app_settings(hub, database_url: str, upload_dir, **overrides) -> Settings:
    """Settings of an LMS app on `database_url` that checks tokens with `hub` (the fake hub,
    or a running `bench.harness.platform.Platform`)."""
    values = {
        "database_url": database_url,
        "hub_api_url": hub.hub_api,
        "lms_api_token": hub.secrets["APRANOVA_LMS_API_TOKEN"],
        "auth_cache_seconds": 0.5,
        "upload_dir": upload_dir,
    }
    return Settings(**{**values, **overrides})


@pytest.fixture(scope="session")
def seeded(tmp_path_factory):
    templates = SeededTemplates(tmp_path_factory.mktemp("seeded"))
    yield templates
    templates.drop()


@pytest.fixture
def database_url(request, tmp_path) -> Iterator[str]:
    """As the root fixture; but a test that restores the demo school (it uses `seeded`) gets
    one of the session's PostgreSQL databases, which `seeded.restore` resets in milliseconds,
    instead of a new one."""
    if request.param == "postgresql" and "seeded" in request.fixturenames:
        with request.getfixturevalue("seeded").lease(postgres_admin_url()) as url:
            yield url
        return
    yield empty_database_url(request, tmp_path)


@pytest.fixture
def upload_dir(tmp_path):
    return tmp_path / "uploads"


def stripe_settings(fake) -> dict:
    """Settings that point the real stripe SDK at a `tests.fakes.stripe.FakeStripe`."""
    return {
        "stripe_secret_key": fake.api_key,
        "stripe_webhook_secret": fake.webhook_secret,
        "stripe_api_base": fake.url,
        "public_url": "http://127.0.0.1:8000",
    }


@pytest.fixture
def api(hub, database_url, upload_dir, seeded):
    seeded.restore(database_url)
    with TestClient(create_app(app_settings(hub, database_url, upload_dir))) as client:
        yield client


def run_at_once(settings: Settings, requests) -> list[httpx.Response]:
    """Send `(method, url, kwargs)` requests all at once to a second app on the same
    database: one event loop, so they really overlap in the database. Answers in order."""

    async def scenario():
        app = create_app(settings)
        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://lms") as client:
                return await asyncio.gather(
                    *(client.request(m, url, **kw) for m, url, kw in requests)
                )
        finally:
            await app.state.token_validator.aclose()
            gateway = getattr(app.state, "stripe_gateway", None)
            if gateway is not None:
                await gateway.aclose()
            await app.state.database.dispose()

    return asyncio.run(scenario())


def rows(database_url: str, sql: str, **params) -> list[tuple]:
    """Read the database behind the app directly, as a check independent of the API."""
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            return [tuple(r) for r in connection.execute(text(sql), params)]
    finally:
        engine.dispose()


def assert_error(
    response, status: int, code: str | None = None, *words: str, field: str | None = None
) -> dict:
    """The one error body, with this status and code; `words` in the message; `field` named
    in the message and in `details`."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert error["message"], error
    if code is not None:
        assert error["code"] == code, error
    for word in words:
        assert word in error["message"], (word, error["message"])
    if field is not None:
        assert field in error["message"], error
        assert any(d["field"].endswith(field) for d in error["details"]), error
    return error


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="session")
def auth(hub):
    """`auth("ada")` -> headers with a (cached) hub token of that user; "hub" = service."""
    tokens: dict[str, str] = {"hub": hub.secrets["APRANOVA_HUB_SERVICE_TOKEN"]}

    def headers(username: str) -> dict[str, str]:
        if username not in tokens:
            tokens[username] = hub.new_token(username)[0]
        return bearer(tokens[username])

    return headers


class PortalBrowser:
    """A browser signed in to the portal as one user: the session cookie holds a hub
    token (as after the OAuth sign-in), and forms carry the session's CSRF token."""

    def __init__(self, api, token: str) -> None:
        """`api`: the running app's TestClient (its event loop is shared, so pages and API
        calls mix in one test), or an app."""
        from lms_api.portal.signin import SESSION_COOKIE, csrf_token_for

        app = getattr(api, "app", api)
        self.client = TestClient(app, follow_redirects=False)
        if isinstance(api, TestClient):
            self.client.portal = api.portal
        self.client.cookies.set(SESSION_COOKIE, token)
        self.csrf = csrf_token_for(app.state.settings, token)

    def get(self, path: str, **kwargs) -> httpx.Response:
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict | None = None, **kwargs) -> httpx.Response:
        """A form post with the CSRF token (pass `csrf=None` to leave it out)."""
        csrf = kwargs.pop("csrf", self.csrf)
        form = dict(data or {})
        if csrf is not None:
            form["csrf_token"] = csrf
        return self.client.post(path, data=form, **kwargs)


@pytest.fixture(scope="session")
def hub_tokens(hub):
    tokens: dict[str, str] = {}

    def token(username: str) -> str:
        if username not in tokens:
            tokens[username] = hub.new_token(username)[0]
        return tokens[username]

    return token


@pytest.fixture
def browser(api, hub_tokens):
    """`browser("ada")` -> a PortalBrowser signed in as ada on the `api` app."""
    return lambda username: PortalBrowser(api, hub_tokens(username))
