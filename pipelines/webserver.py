"""The Dagster UI that answers only the hub gateway.

The Dagster webserver has no login of its own: anything that can dial its loopback port, any
local process and a student's notebook in local mode included, could read every run and
launch jobs through its GraphQL. `hub.gateway` logs the browser in with the hub and sends its
per-start secret (`APRANOVA_GATEWAY_SECRET`, handed to this process) in `X-Apranova-Gateway`;
this runs the real Dagster webserver app, as `dagster-webserver` builds it, behind a small
ASGI guard that answers every HTTP request without that secret with 403 and denies every such
WebSocket handshake. Same options as the `dagster-webserver` command line it replaces:

    python -m pipelines.webserver -m pipelines.definitions -h 127.0.0.1 -p 8031 \\
        --path-prefix /services/dagster --dagster-log-level warning

The guard answers one path itself, `<prefix>/apranova-health` ("ok", nothing from Dagster),
for the container's health check, which cannot know the secret.
"""

import argparse
import asyncio
import contextlib
import hmac
import json
import logging
import os
from collections.abc import AsyncIterator

import uvicorn
from dagster._cli.utils import get_possibly_temporary_instance_for_cli
from dagster._cli.workspace.cli_target import workspace_opts_to_load_target
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._utils.interrupts import setup_interrupt_handlers
from dagster._utils.log import configure_loggers
from dagster_shared.cli import WorkspaceOpts
from dagster_webserver.app import create_app_from_workspace_process_context
from dagster_webserver.cli import (
    DEFAULT_DB_STATEMENT_TIMEOUT,
    DEFAULT_POOL_MAX_OVERFLOW,
    DEFAULT_POOL_RECYCLE,
    WEBSERVER_LOGGER_NAME,
)
from dagster_webserver.version import __version__

from lms_api.principal import GATEWAY_SECRET_ENV, GATEWAY_SECRET_HEADER

SECRET_HEADER = GATEWAY_SECRET_HEADER.lower().encode()  # ASGI header names: lower-case bytes
SECRET_ENV = GATEWAY_SECRET_ENV
HEALTH_PATH = "/apranova-health"
log = logging.getLogger(WEBSERVER_LOGGER_NAME)


class GatewayOnly:
    """Pure ASGI: lets through (and lifespan) only requests carrying the gateway's secret."""

    def __init__(self, app, secret: str, path_prefix: str = "") -> None:
        self.app = app
        self.secret = secret.encode()
        self.health_path = path_prefix + HEALTH_PATH
        self.message = (
            f"Open the Dagster UI through the hub: {path_prefix}/ "
            "(this request did not come through the hub's login)."
        )

    @classmethod
    def from_environment(cls, app, path_prefix: str = "") -> "GatewayOnly":
        """The secret the gateway handed this process; without one, everything is refused."""
        secret = os.environ.get(SECRET_ENV, "")
        if not secret:
            log.error(
                "%s is not set: every request will be refused (403). Start the Dagster UI "
                "through hub.gateway, which sets it.",
                SECRET_ENV,
            )
        return cls(app, secret, path_prefix)

    def allows(self, scope) -> bool:
        presented = [value for name, value in scope["headers"] if name.lower() == SECRET_HEADER]
        return (
            bool(self.secret)
            and len(presented) == 1
            and hmac.compare_digest(presented[0], self.secret)
        )

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket") or self.allows(scope):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            log.warning("refused a WebSocket to %s without the gateway's secret", scope["path"])
            await send({"type": "websocket.close", "code": 1008})  # before accept: HTTP 403
            return
        if scope["path"] == self.health_path and scope["method"] in ("GET", "HEAD"):
            await respond(send, 200, b"ok\n", b"text/plain")
            return
        log.warning("refused %s %s without the gateway's secret", scope["method"], scope["path"])
        body = json.dumps({"error": self.message}).encode()
        await respond(send, 403, body, b"application/json")


async def respond(send, status: int, body: bytes, content_type: bytes) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@contextlib.asynccontextmanager
async def lifespan(_app) -> AsyncIterator[None]:
    # As dagster-webserver's: Ctrl-C cancels the lifespan task, which is not an error.
    with contextlib.suppress(asyncio.CancelledError):
        yield


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.webserver", description=__doc__.split("\n")[0], add_help=False
    )
    parser.add_argument("--help", action="help", help="show this help and exit")
    parser.add_argument("-m", "--module-name", action="append", required=True)
    parser.add_argument("-h", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=3000)
    parser.add_argument("--path-prefix", default="")
    parser.add_argument(
        "--dagster-log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        type=str.lower,
    )
    args = parser.parse_args(argv)

    configure_loggers(log_level=args.dagster_log_level.upper())
    # SIGTERM (how the gateway stops it) as Ctrl-C, as dagster-webserver does: uvicorn raises
    # it again once stopped, and the code server is then shut down on the way out.
    setup_interrupt_handlers()
    target = workspace_opts_to_load_target(WorkspaceOpts(module_name=tuple(args.module_name)))
    with get_possibly_temporary_instance_for_cli("dagster-webserver", logger=log) as instance:
        instance.optimize_for_webserver(
            DEFAULT_DB_STATEMENT_TIMEOUT, DEFAULT_POOL_RECYCLE, DEFAULT_POOL_MAX_OVERFLOW
        )
        with WorkspaceProcessContext(
            instance, version=__version__, read_only=False, workspace_load_target=target
        ) as context:
            app = create_app_from_workspace_process_context(
                context, args.path_prefix, lifespan=lifespan
            )
            uvicorn.run(
                GatewayOnly.from_environment(app, args.path_prefix),
                host=args.host,
                port=args.port,
                log_level="warning",
                access_log=False,
            )


if __name__ == "__main__":
    main()
