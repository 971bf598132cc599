"""The ceiling: the smallest useful ASGI app, served by uvicorn exactly like lms_api.

It answers every HTTP request with a short JSON body and does no other work, so what it
reaches on this machine is the most any app served this way can reach with the same client.
"""

from starlette.types import ASGIApp, Receive, Scope, Send

BODY = b'{"status":"ok"}'
HEADERS = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(BODY)).encode()),
]


async def bare_app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


def create_app() -> ASGIApp:
    """uvicorn entry point (`--factory bench.ceiling:create_app`), like lms_api's."""
    return bare_app
