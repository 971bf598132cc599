"""Dashboards and the Dagster UI are reachable only through the hub, for allowed groups."""

import pytest
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

pytestmark = pytest.mark.e2e


def test_trainer_opens_the_dashboards(platform):
    browser = platform.browser("trainer")
    page = browser.get("/services/dashboards/")
    assert page.status_code == 200
    assert str(page.url).endswith("/services/dashboards/")
    assert "<title>Streamlit</title>" in page.text or "streamlit" in page.text.lower()
    health = browser.get("/services/dashboards/_stcore/health")
    assert (health.status_code, health.text) == (200, "ok")


async def test_dashboard_websocket_passes_the_gateway(platform):
    browser = platform.browser("trainer")
    browser.get("/services/dashboards/")
    cookies = "; ".join(f"{c.name}={c.value}" for c in browser.cookies.jar)
    ws_url = platform.url.replace("http", "ws") + "/services/dashboards/_stcore/stream"
    request = HTTPRequest(ws_url, headers={"Cookie": cookies, "Origin": platform.url})
    connection = await websocket_connect(request, subprotocols=["streamlit"])
    assert connection.selected_subprotocol == "streamlit"
    connection.close()


def test_dashboards_refuse_students_and_anonymous(platform):
    student = platform.browser("ada")
    assert student.get("/services/dashboards/").status_code == 403
    import httpx

    anonymous = httpx.get(f"{platform.url}/services/dashboards/", follow_redirects=True)
    assert "/hub/login" in str(anonymous.url)


def test_upstream_ports_are_loopback_only_and_need_the_gateway(platform):
    # The gateway itself refuses requests without a hub login.
    import httpx

    direct = httpx.get(f"http://127.0.0.1:{platform.ports['dashboards_port']}/services/dashboards/")
    assert direct.status_code == 302 and "oauth2/authorize" in direct.headers["location"]


def test_dagster_ui_is_for_admins(platform):
    admin = platform.browser("admin")
    info = admin.get("/services/dagster/server_info")
    assert info.status_code == 200
    assert "dagster_webserver_version" in info.json()
    trainer = platform.browser("trainer")
    assert trainer.get("/services/dagster/server_info").status_code == 403
