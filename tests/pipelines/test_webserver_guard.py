"""The Dagster UI answers only the hub gateway (issue 18, item 2): pipelines.webserver refuses
every request and WebSocket without the gateway's per-start secret."""

import logging
import os
import subprocess
import sys
import time
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from bench.harness.platform import free_port
from pipelines.webserver import SECRET_ENV, GatewayOnly

REPO_ROOT = Path(__file__).resolve().parents[2]
SECRET = "per-start-secret"
PREFIX = "/services/dagster"
ASSETS = "{ assetNodes { assetKey { path } } }"


def inner_app(started: list[str]) -> Starlette:
    """A stand-in for the Dagster app: one page, one socket, a lifespan."""

    async def page(request):
        return PlainTextResponse("runs and schedules")

    async def socket(websocket):
        await websocket.accept()
        await websocket.send_text("live data")
        await websocket.close()

    @asynccontextmanager
    async def lifespan(app):
        started.append("startup")
        yield
        started.append("shutdown")

    return Starlette(
        routes=[Route(f"{PREFIX}/graphql", page, methods=["GET", "POST"]),
                WebSocketRoute(f"{PREFIX}/graphql", socket)],
        lifespan=lifespan,
    )  # fmt: skip


def guarded(secret: str = SECRET) -> tuple[TestClient, list[str]]:
    started: list[str] = []
    return TestClient(GatewayOnly(inner_app(started), secret, PREFIX)), started


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-Apranova-Gateway": "guessed"}, {"X-Apranova-Gateway": ""}],
    ids=["no-header", "wrong-secret", "empty-secret"],
)
def test_requests_without_the_gateways_secret_are_refused(headers):
    client, _ = guarded()
    for method in ("GET", "POST"):
        response = client.request(method, f"{PREFIX}/graphql", headers=headers, json={})
        assert response.status_code == 403
        assert "runs and schedules" not in response.text
        assert "through the hub: /services/dagster/" in response.json()["error"]
    with (
        pytest.raises(WebSocketDisconnect),
        client.websocket_connect(f"{PREFIX}/graphql", headers=headers) as ws,
    ):
        ws.receive_text()


def test_a_repeated_header_is_refused():
    client, _ = guarded()
    response = client.get(
        f"{PREFIX}/graphql",
        headers=[("X-Apranova-Gateway", SECRET), ("X-Apranova-Gateway", "guessed")],
    )
    assert response.status_code == 403


def test_the_gateways_requests_and_lifespan_pass_through():
    client, started = guarded()
    with client:
        assert started == ["startup"]
        response = client.post(f"{PREFIX}/graphql", headers={"X-Apranova-Gateway": SECRET})
        assert response.status_code == 200 and response.text == "runs and schedules"
        with client.websocket_connect(
            f"{PREFIX}/graphql", headers={"X-Apranova-Gateway": SECRET}
        ) as ws:
            assert ws.receive_text() == "live data"
    assert started == ["startup", "shutdown"]


def test_without_a_secret_in_the_environment_everything_is_refused(monkeypatch, caplog):
    monkeypatch.delenv(SECRET_ENV, raising=False)
    with caplog.at_level(logging.ERROR):
        guard = GatewayOnly.from_environment(inner_app([]), PREFIX)
    assert any(SECRET_ENV in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)
    client = TestClient(guard)
    for presented in ("", "anything"):
        response = client.get(f"{PREFIX}/graphql", headers={"X-Apranova-Gateway": presented})
        assert response.status_code == 403
    with pytest.raises(WebSocketDisconnect), client.websocket_connect(f"{PREFIX}/graphql") as ws:
        ws.receive_text()

    monkeypatch.setenv(SECRET_ENV, SECRET)
    client = TestClient(GatewayOnly.from_environment(inner_app([]), PREFIX))
    assert client.get(f"{PREFIX}/graphql", headers={"X-Apranova-Gateway": SECRET}).is_success


def test_the_health_check_gets_an_answer_but_nothing_from_dagster():
    client, _ = guarded()
    health = client.get(f"{PREFIX}/apranova-health")
    assert health.status_code == 200 and health.text == "ok\n"
    assert client.post(f"{PREFIX}/apranova-health").status_code == 403


@pytest.fixture
def webserver(tmp_path) -> str:
    """The real `python -m pipelines.webserver`, as the gateway starts it."""
    port = free_port()
    (tmp_path / "dagster").mkdir()
    (tmp_path / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {
        **os.environ,
        "APRANOVA_STATE_DIR": str(tmp_path),
        "APRANOVA_DATABASE_URL": f"sqlite:///{tmp_path / 'lms.db'}",
        "APRANOVA_WAREHOUSE_PATH": str(tmp_path / "warehouse" / "warehouse.duckdb"),
        "DAGSTER_HOME": str(tmp_path / "dagster"),
        SECRET_ENV: SECRET,
    }
    log = (tmp_path / "webserver.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "pipelines.webserver", "-m", "pipelines.definitions",
         "-h", "127.0.0.1", "-p", str(port), "--path-prefix", PREFIX,
         "--dagster-log-level", "warning"],
        cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, (tmp_path / "webserver.log").read_text()
            try:
                httpx.get(f"{url}{PREFIX}/apranova-health", timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the webserver did not start"
                time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.mark.slow
def test_the_real_webserver_answers_only_the_gateway(webserver):
    graphql = f"{webserver}{PREFIX}/graphql"
    refused = httpx.post(graphql, json={"query": ASSETS}, timeout=60)
    assert refused.status_code == 403
    assert "assetNodes" not in refused.text
    wrong = httpx.post(
        graphql, json={"query": ASSETS}, headers={"X-Apranova-Gateway": "guessed"}, timeout=60
    )
    assert wrong.status_code == 403
    assert httpx.get(f"{webserver}{PREFIX}/server_info", timeout=60).status_code == 403

    answered = httpx.post(
        graphql, json={"query": ASSETS}, headers={"X-Apranova-Gateway": SECRET}, timeout=60
    )
    assert answered.status_code == 200, answered.text[:500]
    keys = {"/".join(node["assetKey"]["path"]) for node in answered.json()["data"]["assetNodes"]}
    assert {"raw/enrollments", "marts/enrollments"} <= keys
