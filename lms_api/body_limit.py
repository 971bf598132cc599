"""Refuse request bodies over a size with 413 and the API's error body, before buffering them.

Starlette and FastAPI parse a whole multipart body (spooling files to disk) before a route
runs, so the route alone cannot stop a 10 GB upload. This middleware refuses a body over the
limit (a declared `Content-Length` before the app runs, a streamed body as soon as it passes
the limit), but first reads and drops the rest of it, up to `drain_max_bytes` in all: a
client that is still writing its body (configurable-http-proxy always is) would otherwise
be cut off by the closed connection and never see the 413 (the proxy answered its own 503).
A drained request keeps its keep-alive connection; past the drain cap the 413 closes it.
"""

import json

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lms_api.errors import ErrorCode, error_body


class BodyTooLarge(HTTPException):
    """Raised from `receive`; FastAPI re-raises HTTPExceptions met while reading a body."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(status_code=413, detail=too_large_message(max_bytes))


def too_large_message(max_bytes: int) -> str:
    return f"The request is too large: at most {max_bytes} bytes are accepted."


CLOSE = (b"connection", b"close")


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int, drain_max_bytes: int | None = None) -> None:
        """`drain_max_bytes` (default: 3 x `max_bytes`): the most of a refused body read and
        dropped so that its sender gets the 413; a larger one is answered with the connection
        closed at once (a declared length) or once the cap is read (a streamed body)."""
        self.app = app
        self.max_bytes = max_bytes
        self.drain_max_bytes = 3 * max_bytes if drain_max_bytes is None else drain_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            # Nothing is read past the cap, so a body beyond it is not worth reading at all.
            drained = int(declared) <= self.drain_max_bytes and await self._drain(receive, 0)
            await self._refuse(scope, receive, send, close=not drained)
            return
        received = 0
        refused = False  # the app was told the body is too large
        unread = False  # and part of it was left unread (over the drain cap)
        started = False

        async def limited_receive() -> Message:
            nonlocal received, refused, unread
            if refused:
                raise BodyTooLarge(self.max_bytes)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    refused = True
                    more = message.get("more_body", False)
                    unread = more and not await self._drain(receive, received)
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if unread:  # close rather than let the server read the rest
                    message = {**message, "headers": [*message.get("headers", []), CLOSE]}
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send, close=unread)

    async def _drain(self, receive: Receive, already: int) -> bool:
        """Read and drop the rest of the body, up to the drain cap in all (counting `already`).
        True when the body ended within it; False past the cap or on a disconnect."""
        total = already
        while total <= self.drain_max_bytes:
            message = await receive()
            if message["type"] != "http.request":
                return False
            total += len(message.get("body", b""))
            if not message.get("more_body", False):
                return True
        return False

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, *, close: bool) -> None:
        pages = getattr(getattr(scope.get("app"), "state", None), "page_errors", None)
        request = Request(scope)
        if pages is not None and pages.applies(request):  # a portal form: the error page
            response = pages(request, 413, ErrorCode.TOO_LARGE, too_large_message(self.max_bytes))
            if close:
                response.headers["connection"] = "close"
            await response(scope, receive, send)
            return
        body = json.dumps(
            error_body(
                "too_large",
                too_large_message(self.max_bytes),
                {"max_body_bytes": self.max_bytes},
            )
        ).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [*headers, CLOSE] if close else headers,
            }
        )
        await send({"type": "http.response.body", "body": body})
