"""No exception escapes as a dropped connection, and no page of the API can be framed
(issue 18, items 5 and 8). Neither needs the hub: the routes here answer before any token."""

import logging
import socket
import threading
import time

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from lms_api.config import Settings
from lms_api.main import create_app
from tests.lms_api.conftest import assert_error

V1 = "/api/v1"


class Served:
    """`app` under a real uvicorn server on a free loopback port, in a thread."""

    def __init__(self, app) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        config = uvicorn.Config(app, log_config=None, lifespan="on", timeout_keep_alive=30)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True
        )

    def __enter__(self) -> "Served":
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *_exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)
        self.socket.close()


def failing_app(tmp_path):
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'lms.db'}"))

    @app.get(f"{V1}/boom")
    async def boom() -> dict:
        raise RuntimeError("a bug with a secret in its message: sk_live_do_not_show")

    return app


def client_port(response: httpx.Response) -> int:
    """The local port of the connection a response came on (same port = same connection)."""
    return response.extensions["network_stream"].get_extra_info("client_addr")[1]


def test_an_unhandled_exception_is_a_500_with_the_error_body_and_the_connection_stays(
    tmp_path, caplog
):
    """Behind configurable-http-proxy a dropped keep-alive connection made the proxy answer
    the next request, of any user, with a 503; so the connection must stay usable."""
    with (
        caplog.at_level(logging.ERROR, logger="lms_api"),
        Served(failing_app(tmp_path)) as served,
        httpx.Client(base_url=served.url, timeout=10) as client,
    ):
        warm = client.get(f"{V1}/health")
        assert warm.status_code == 200
        failed = client.get(f"{V1}/boom")
        after = client.get(f"{V1}/health")
        again = client.get(f"{V1}/boom")
        ports = {client_port(r) for r in (warm, failed, after, again)}
    error = assert_error(failed, 500, "internal_error")
    assert "sk_live" not in failed.text and "Traceback" not in failed.text
    assert error["details"] is None
    assert failed.headers.get("connection", "").lower() != "close"
    assert after.status_code == 200, after.text
    assert again.status_code == 500
    # One keep-alive connection carried all four: the server closed nothing.
    assert len(ports) == 1, ports
    # The traceback is in the server's log, not in the answer.
    assert "RuntimeError: a bug with a secret" in caplog.text
    assert "Traceback" in caplog.text


def test_an_exception_in_a_real_route_is_the_same_500(tmp_path, monkeypatch):
    """A failing service function behind a real route (the public catalog)."""
    import lms_api.curriculum.service as curriculum_service

    async def broken(*_args, **_kwargs):
        raise KeyError("missing")

    monkeypatch.setattr(curriculum_service, "catalog", broken)
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'lms.db'}"))
    with TestClient(app, raise_server_exceptions=False) as client:
        assert_error(client.get(f"{V1}/catalog"), 500, "internal_error")


@pytest.mark.parametrize(
    "path",
    [
        "/docs",
        "/services/lms-api/docs",
        "/openapi.json",
        f"{V1}/health",
        f"{V1}/me",  # 401: no token
        f"{V1}/no-such-route",  # 404
        "/services/lms-api/api/v1/health",
    ],
)
def test_every_response_refuses_to_be_framed(tmp_path, path):
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'lms.db'}"))
    with TestClient(app) as client:
        response = client.get(path)
    assert response.status_code in (200, 401, 404), response.text
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["content-security-policy"] == "frame-ancestors 'none'"


def test_a_500_and_a_413_are_not_framable_either(tmp_path):
    app = failing_app(tmp_path)
    with TestClient(app, raise_server_exceptions=False) as client:
        failed = client.get(f"{V1}/boom")
        too_big = client.post(f"{V1}/submissions", content=b"x" * (23 * 1024 * 1024))
    for response in (failed, too_big):
        assert response.status_code in (500, 413)
        assert response.headers["x-frame-options"] == "DENY"


def test_the_docs_page_loads_swagger_ui_from_this_service(tmp_path):
    """No CDN: the page's script and stylesheet are served here, under the service prefix."""
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'lms.db'}"))
    with TestClient(app) as client:
        page = client.get("/services/lms-api/docs")
        assert page.status_code == 200
        assert "cdn" not in page.text.lower() and "https://" not in page.text.split("<body>")[1]
        for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
            url = f"/services/lms-api/docs-assets/{asset}"
            assert url in page.text
            assert client.get(url).status_code == 200
