"""AppTest over a hand-written warehouse, as a viewer the gateway vouched for."""

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboards import access
from tests.dashboards import warehouse

APP = str(Path(__file__).resolve().parents[2] / "dashboards" / "app.py")
SECRET = "test-gateway-secret"
ROLES = {"tess": "trainer", "tom": "trainer", "office": "admin", "root": "superadmin"}


@pytest.fixture
def published(tmp_path, monkeypatch) -> Path:
    path = warehouse.write(tmp_path / "warehouse.duckdb")
    monkeypatch.setenv("APRANOVA_WAREHOUSE_PATH", str(path))
    return path


@pytest.fixture
def gateway(monkeypatch) -> Callable[[dict[str, str]], None]:
    """Make the next sessions see these request headers (as the gateway would send)."""
    monkeypatch.setenv(access.SECRET_ENV, SECRET)

    def send(headers: dict[str, str]) -> None:
        monkeypatch.setattr(access, "request_headers", lambda: headers)

    return send


@pytest.fixture
def dashboard(published, gateway) -> Callable[..., AppTest]:
    """`dashboard("tess", "cohort_progress")`: that page, run once, as that viewer."""

    def open_as(user: str, page: str | None = None) -> AppTest:
        return open_page(gateway, user, ROLES.get(user, "student"), page)

    return open_as


def open_page(gateway, user: str, role: str, page: str | None, timeout: float = 30) -> AppTest:
    """Run the app as `user` (`role`) through `gateway`, then `page`; it must not raise."""
    gateway({access.USER_HEADER: user, access.ROLE_HEADER: role, access.SECRET_HEADER: SECRET})
    app = AppTest.from_file(APP, default_timeout=timeout).run()
    if page is not None:
        app.switch_page(f"views/{page}.py").run()
    assert not app.exception, [e.message for e in app.exception]
    return app


def metrics(app: AppTest) -> dict[str, tuple[str, str | None]]:
    """{label: (value, delta)} of the page's metrics."""
    return {m.label: (m.value, m.proto.delta or None) for m in app.metric}
