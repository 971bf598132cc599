"""The body limit answers 413 to a client that is still writing its body (issue 18, item 10).

configurable-http-proxy writes the whole request body before it reads the answer; a server
that closes the connection on a body it refused made the proxy answer its own 503 page. So
a refused body is read and dropped up to a cap, and only a body past the cap closes."""

import json

import httpx
import pytest

from lms_api.body_limit import BodySizeLimit, BodyTooLarge
from lms_api.config import Settings
from lms_api.main import create_app
from tests.lms_api.conftest import assert_error
from tests.lms_api.test_error_handling import Served, client_port

LIMIT = 100
CAP = 1000


async def reading_app(scope, receive, send) -> None:
    """Reads the whole body, answers 200 with its length."""
    size, more = 0, True
    while more:
        message = await receive()
        size += len(message.get("body", b""))
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(size).encode()})


async def answering_app(scope, receive, send) -> None:
    """Like FastAPI: the BodyTooLarge met while reading becomes the app's own 413."""
    try:
        await reading_app(scope, receive, send)
    except BodyTooLarge:
        await send({"type": "http.response.start", "status": 413, "headers": []})
        await send({"type": "http.response.body", "body": b"app's 413"})


async def call(app, chunks: list[bytes], *, declared: int | None = None):
    """Run the middleware around `app` on a body sent in `chunks`; return the response
    (status, headers, body) and how many chunks were taken from the server."""
    headers = [] if declared is None else [(b"content-length", str(declared).encode())]
    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers}
    taken = 0
    sent = []

    async def receive():
        nonlocal taken
        if taken == len(chunks):
            raise AssertionError("read past the end of the body")
        taken += 1
        return {"type": "http.request", "body": chunks[taken - 1], "more_body": taken < len(chunks)}

    async def send(message):
        sent.append(message)

    await BodySizeLimit(app, max_bytes=LIMIT, drain_max_bytes=CAP)(scope, receive, send)
    start, body = sent[0], b"".join(m.get("body", b"") for m in sent[1:])
    return (start["status"], dict(start["headers"]), body), taken


def assert_too_large(response) -> None:
    status, headers, body = response
    assert status == 413
    assert headers[b"content-type"] == b"application/json"
    error = json.loads(body)["error"]
    assert error["code"] == "too_large" and error["details"] == {"max_body_bytes": LIMIT}


async def test_a_body_within_the_limit_reaches_the_app():
    (status, _, body), taken = await call(reading_app, [b"x" * 50, b"y" * 50], declared=100)
    assert (status, body, taken) == (200, b"100", 2)
    (status, _, body), _ = await call(reading_app, [b"x" * 60, b"y" * 40])
    assert (status, body) == (200, b"100")


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "streamed"])
async def test_a_body_over_the_limit_is_read_to_its_end_then_refused_keeping_the_connection(
    declared,
):
    chunks = [b"x" * 50] * 10  # 500 bytes: over the limit, within the drain cap
    response, taken = await call(reading_app, chunks, declared=500 if declared else None)
    assert_too_large(response)
    assert taken == len(chunks)  # the sender could write all of it
    assert b"connection" not in response[1]  # nothing left unread: keep-alive


async def test_a_declared_length_over_the_drain_cap_is_refused_at_once_and_closes():
    response, taken = await call(reading_app, [b"x" * 50] * 100, declared=5000)
    assert_too_large(response)
    assert taken == 0
    assert response[1][b"connection"] == b"close"


async def test_a_streamed_body_over_the_drain_cap_is_read_up_to_it_then_closes():
    response, taken = await call(reading_app, [b"x" * 50] * 100)
    assert_too_large(response)
    assert CAP < taken * 50 <= CAP + 50  # bounded: the rest is never read
    assert response[1][b"connection"] == b"close"


async def test_the_apps_own_413_is_sent_after_the_drain_and_closes_past_the_cap():
    (status, headers, body), taken = await call(answering_app, [b"x" * 50] * 10)
    assert (status, body, taken) == (413, b"app's 413", 10)
    assert b"connection" not in headers
    (status, headers, body), taken = await call(answering_app, [b"x" * 50] * 100)
    assert (status, body, headers[b"connection"]) == (413, b"app's 413", b"close")
    assert taken < 100


def multipart_stream(size: int):
    """A file upload of `size` bytes sent in chunks, with no Content-Length."""
    yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.ipynb"\r\n\r\n'
    for _ in range(size // 65536):
        yield b"x" * 65536


def test_under_uvicorn_a_refused_upload_gets_the_413_and_the_connection_serves_on(tmp_path):
    """The real app and server: whole bodies written before the answer is read (as the proxy
    does) get the JSON 413, and the next request goes on the same connection."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'lms.db'}", max_upload_bytes=1000)
    limit = 1000 + 1024 * 1024  # the upload limit + the multipart allowance
    mib = 1024 * 1024
    with (
        Served(create_app(settings)) as served,
        httpx.Client(base_url=served.url, timeout=30) as client,
    ):
        url = "/api/v1/submissions/upload"
        headers = {"Content-Type": "multipart/form-data; boundary=b"}
        first = client.get("/api/v1/health")
        declared = client.post(url, content=b"x" * (2 * mib), headers=headers)
        streamed = client.post(url, content=multipart_stream(2 * mib), headers=headers)
        after = client.get("/api/v1/health")
        ports = {client_port(r) for r in (first, declared, streamed, after)}
        # Past the cap (3 x the limit) the connection is closed: a new one serves on.
        beyond = client.post(url, content=b"x" * (8 * mib), headers=headers)
        last = client.get("/api/v1/health")
    assert first.status_code == after.status_code == last.status_code == 200
    for refused in (declared, streamed):
        assert "at most" in assert_error(refused, 413, "too_large")["message"]
        assert refused.headers.get("connection") != "close"
    assert assert_error(declared, 413)["details"] == {"max_body_bytes": limit}
    assert len(ports) == 1  # one connection all along
    assert_error(beyond, 413, "too_large")
    assert beyond.headers["connection"] == "close"


def test_a_portal_form_over_the_limit_gets_the_error_page(tmp_path):
    """A browser's upload over the body limit: the page in words, not the API's JSON."""
    from fastapi.testclient import TestClient

    from lms_api.config import Settings
    from lms_api.main import create_app

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'lms.db'}", max_upload_bytes=1000)
    with TestClient(create_app(settings)) as client:
        answer = client.post(
            "/services/lms-api/portal/deliverables/1/submit",
            files={"file": ("big.ipynb", b"x" * 3_000_000)},
        )
    assert answer.status_code == 413
    assert answer.headers["content-type"].startswith("text/html")
    assert "Too large" in answer.text and "at most 1049576 bytes" in answer.text
