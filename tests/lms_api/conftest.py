"""An LMS API app (SQLite and PostgreSQL) that trusts the real test hub's tokens.

Callers, as the hub knows them: `admin` (hub admin = superadmin), `office` (group admins =
admin), `trainer` (trains ada and linus), `coach` (a trainer with no students), `ada`
(student, DP), `linus` (student, FSD), `grace` (student, no enrollment), and the hub service.
"""

import asyncio
import shutil
import uuid
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from lms_api.config import Settings
from lms_api.database import sync_url
from lms_api.demo import seed_demo
from lms_api.main import create_app
from lms_api.migrate import upgrade


def app_settings(platform, database_url: str, upload_dir, **overrides) -> Settings:
    """Settings of an LMS app on `database_url` that checks tokens with the test hub."""
    values = {
        "database_url": database_url,
        "hub_api_url": platform.hub_api,
        "lms_api_token": platform.secrets["APRANOVA_LMS_API_TOKEN"],
        "auth_cache_seconds": 0.5,
        "upload_dir": upload_dir,
    }
    return Settings(**{**values, **overrides})


class SeededTemplates:
    """The demo school migrated and seeded once per backend, then copied for each test.

    Copying a SQLite file or `CREATE DATABASE ... TEMPLATE` takes milliseconds, where running
    every migration and the seed again for each of hundreds of tests would take minutes.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.sqlite_template: Path | None = None
        self.postgres_templates: dict[str, str] = {}  # server URL -> template database name

    def restore(self, database_url: str) -> None:
        """Make `database_url` (a fresh, empty test database) a copy of the seeded school."""
        url = make_url(sync_url(database_url))
        if url.get_backend_name() == "sqlite":
            shutil.copyfile(self._sqlite_template(), str(url.database))
            return
        admin = url.set(database="postgres")
        template = self._postgres_template(admin.render_as_string(hide_password=False))
        engine = create_engine(admin, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
                connection.execute(text(f'CREATE DATABASE "{url.database}" TEMPLATE "{template}"'))
        finally:
            engine.dispose()

    def _sqlite_template(self) -> Path:
        if self.sqlite_template is None:
            path = self.folder / "seeded.db"
            upgrade(f"sqlite:///{path}")
            seed_demo(f"sqlite:///{path}")
            self.sqlite_template = path
        return self.sqlite_template

    def _postgres_template(self, admin_url: str) -> str:
        if admin_url not in self.postgres_templates:
            name = f"apranova_template_{uuid.uuid4().hex[:12]}"
            self._admin(admin_url, f'CREATE DATABASE "{name}"')
            seeded = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
            upgrade(seeded)
            seed_demo(seeded)
            self.postgres_templates[admin_url] = name
        return self.postgres_templates[admin_url]

    @staticmethod
    def _admin(admin_url: str, sql: str) -> None:
        engine = create_engine(sync_url(admin_url), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text(sql))
        finally:
            engine.dispose()

    def drop(self) -> None:
        for admin_url, name in self.postgres_templates.items():
            self._admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def seeded(tmp_path_factory):
    templates = SeededTemplates(tmp_path_factory.mktemp("seeded"))
    yield templates
    templates.drop()


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
def api(platform, database_url, upload_dir, seeded):
    seeded.restore(database_url)
    with TestClient(create_app(app_settings(platform, database_url, upload_dir))) as client:
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
def auth(platform):
    """`auth("ada")` -> headers with a (cached) real hub token of that user; "hub" = service."""
    tokens: dict[str, str] = {"hub": platform.secrets["APRANOVA_HUB_SERVICE_TOKEN"]}

    def headers(username: str) -> dict[str, str]:
        if username not in tokens:
            tokens[username] = platform.new_token(username)[0]
        return bearer(tokens[username])

    return headers


class PortalBrowser:
    """A browser signed in to the portal as one user: the session cookie holds a real hub
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
def hub_tokens(platform):
    tokens: dict[str, str] = {}

    def token(username: str) -> str:
        if username not in tokens:
            tokens[username] = platform.new_token(username)[0]
        return tokens[username]

    return token


@pytest.fixture
def browser(api, hub_tokens):
    """`browser("ada")` -> a PortalBrowser signed in as ada on the `api` app."""
    return lambda username: PortalBrowser(api, hub_tokens(username))
