"""A hub-authenticated reverse proxy for web apps that have no JupyterHub login of their own.

The dashboards (Streamlit) and the Dagster UI run on loopback-only ports; this gateway is the
hub service in front of each. It logs the browser in with the hub (OAuth), lets through only
the groups it is told to, and forwards HTTP and WebSocket traffic upstream with the verified
user in `X-Apranova-User` / `X-Apranova-Role` (any such header from the browser is dropped).
Each start makes a fresh secret, hands it to the upstream process as
`APRANOVA_GATEWAY_SECRET` and sends it in `X-Apranova-Gateway`: an app that checks it knows the
headers came from this gateway, not from a local process that dialled its port directly. It
also starts and stops the upstream process.

    apranova-gateway --upstream-port 8021 --allow-group trainers --allow-group admins \\
        -- streamlit run dashboards/app.py --server.port 8021 ...
"""

import argparse
import asyncio
import contextlib
import os
import secrets
import signal
import subprocess
import sys
from urllib.parse import urlparse

from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated
from jupyterhub.utils import url_path_join
from tornado import httpclient, ioloop, web, websocket
from tornado.httputil import HTTPHeaders
from tornado.log import app_log

from lms_api.principal import GATEWAY_SECRET_ENV as SECRET_ENV
from lms_api.principal import GATEWAY_SECRET_HEADER as SECRET_HEADER
from lms_api.principal import ROLE_HEADER, USER_HEADER, role_from_hub

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "content-length",
    "host",
}
# Never framed by another site (clickjacking): what the hub's own pages send. 'self' keeps the
# app's own frames working (Streamlit's components, Dagster's views).
FRAME_HEADERS = {
    "X-Frame-Options": "SAMEORIGIN",
    "Content-Security-Policy": "frame-ancestors 'self'",
}


class NoFraming(web.RequestHandler):
    """Every answer of the gateway, its own pages, redirects and errors included, refuses
    to be framed by another origin."""

    def set_default_headers(self) -> None:
        self.set_frame_headers()

    def set_frame_headers(self) -> None:
        """Added next to the app's own headers: several CSP headers are all enforced, so the
        app cannot loosen this one."""
        self.set_header("X-Frame-Options", FRAME_HEADERS["X-Frame-Options"])
        self.add_header("Content-Security-Policy", FRAME_HEADERS["Content-Security-Policy"])


class OAuthCallback(NoFraming, HubOAuthCallbackHandler):
    pass


class Redirect(NoFraming, web.RedirectHandler):
    pass


WS_HANDSHAKE = {
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-extensions",
    "sec-websocket-protocol",
    "sec-websocket-accept",
}


def role_of(model: dict) -> str:
    return str(role_from_hub(bool(model.get("admin")), tuple(model.get("groups") or ())))


class ProxyHandler(NoFraming, HubOAuthenticated, websocket.WebSocketHandler):
    """Proxies one request (or one WebSocket) to the upstream app, after the hub login."""

    def initialize(self, upstream: str, allowed_groups: set[str], secret: str = "") -> None:
        self.upstream = upstream
        self.allowed_groups = allowed_groups
        self.secret = secret
        self.upstream_ws: websocket.WebSocketClientConnection | None = None

    # --- access -------------------------------------------------------------------------
    def check_xsrf_cookie(self) -> None:
        """Writes must come from the same site; the upstream apps send no hub xsrf token."""
        if self.request.method in ("GET", "HEAD", "OPTIONS"):
            return
        site = self.request.headers.get("Sec-Fetch-Site")
        if site in ("same-origin", "none"):
            return
        origin = self.request.headers.get("Origin")
        if site is None and origin and urlparse(origin).netloc == self.request.host:
            return
        app_log.warning(
            "gateway: refusing %s %s from origin %r (site %r, host %r)",
            self.request.method,
            self.request.path,
            origin,
            site,
            self.request.host,
        )
        raise web.HTTPError(403, "cross-site request refused")

    def check_access(self) -> dict:
        model = self.current_user
        if model is None:
            raise web.HTTPError(401)
        groups = set(model.get("groups") or ())
        if not (model.get("admin") or groups & self.allowed_groups):
            allowed = ", ".join(sorted(self.allowed_groups))
            raise web.HTTPError(403, f"{model['name']} may not open this page (for: {allowed}).")
        return model

    def upstream_headers(self, model: dict) -> HTTPHeaders:
        headers = HTTPHeaders()
        for name, value in self.request.headers.get_all():
            lower = name.lower()
            if lower in HOP_BY_HOP or lower in WS_HANDSHAKE or lower.startswith("x-apranova-"):
                continue
            headers.add(name, value)
        headers["Host"] = self.request.host
        headers[USER_HEADER] = model["name"]
        headers[ROLE_HEADER] = role_of(model)
        if self.secret:
            headers[SECRET_HEADER] = self.secret
        headers["X-Forwarded-Proto"] = self.request.protocol
        return headers

    # --- HTTP ---------------------------------------------------------------------------
    @web.authenticated
    async def get(self, *args) -> None:
        model = self.check_access()
        if self.request.headers.get("Upgrade", "").lower() == "websocket":
            await self.open_upstream_ws(model)
            await websocket.WebSocketHandler.get(self, *args)
            return
        await self.proxy_http(model)

    @web.authenticated
    async def post(self, *args) -> None:
        await self.proxy_http(self.check_access())

    put = patch = delete = post

    async def proxy_http(self, model: dict) -> None:
        body = self.request.body if self.request.method in ("POST", "PUT", "PATCH") else None
        request = httpclient.HTTPRequest(
            url=self.upstream + self.request.uri,
            method=self.request.method,
            headers=self.upstream_headers(model),
            body=body,
            follow_redirects=False,
            decompress_response=False,
            request_timeout=300,
            allow_nonstandard_methods=True,
        )
        response = await httpclient.AsyncHTTPClient().fetch(request, raise_error=False)
        if response.code == 599:
            raise web.HTTPError(502, f"the app behind this page is not answering: {response.error}")
        self.set_status(response.code, response.reason)
        self._headers = HTTPHeaders()
        for name, value in response.headers.get_all():
            if name.lower() in HOP_BY_HOP:
                continue
            if name.lower() in ("set-cookie", "content-security-policy"):
                self.add_header(name, value)
            elif name.lower() != "x-frame-options":
                self.set_header(name, value)
        self.set_frame_headers()
        if response.body and response.code != 304:
            self.write(response.body)

    # --- WebSocket ----------------------------------------------------------------------
    async def open_upstream_ws(self, model: dict) -> None:
        protocols = self.request.headers.get("Sec-WebSocket-Protocol")
        subprotocols = [p.strip() for p in protocols.split(",")] if protocols else None
        url = "ws" + self.upstream[len("http") :] + self.request.uri
        request = httpclient.HTTPRequest(url, headers=self.upstream_headers(model))
        try:
            self.upstream_ws = await websocket.websocket_connect(
                request,
                subprotocols=subprotocols,
                on_message_callback=self.on_upstream_message,
                max_message_size=256 * 1024 * 1024,
            )
        except Exception as exc:
            raise web.HTTPError(502, f"the app behind this page refused the socket: {exc}") from exc

    def select_subprotocol(self, subprotocols):
        return self.upstream_ws.selected_subprotocol if self.upstream_ws else None

    def on_upstream_message(self, message) -> None:
        if message is None:  # upstream closed
            with contextlib.suppress(websocket.WebSocketClosedError):
                self.close()
            return
        with contextlib.suppress(websocket.WebSocketClosedError):
            self.write_message(message, binary=isinstance(message, bytes))

    async def on_message(self, message) -> None:
        if self.upstream_ws is not None:
            await self.upstream_ws.write_message(message, binary=isinstance(message, bytes))

    def on_close(self) -> None:
        if self.upstream_ws is not None:
            self.upstream_ws.close()
            self.upstream_ws = None


def make_app(upstream: str, allowed_groups: set[str], secret: str = "") -> web.Application:
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/")
    return web.Application(
        [
            (url_path_join(prefix, "oauth_callback"), OAuthCallback),
            (
                url_path_join(prefix, "(.*)") if prefix != "/" else r"/(.*)",
                ProxyHandler,
                {"upstream": upstream, "allowed_groups": allowed_groups, "secret": secret},
            ),
            (r"(.*)", Redirect, {"url": prefix}),
        ],
        default_handler_class=Redirect,
        default_handler_args={"url": prefix},
        cookie_secret=os.urandom(32),
        websocket_ping_interval=30,
    )


async def wait_for_port(port: int, process: subprocess.Popen) -> None:
    """Return once the upstream listens on 127.0.0.1:port; fail if it exits first."""
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"upstream exited with code {process.returncode} before listening")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.2)
            continue
        writer.close()
        return


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="apranova-gateway", description=__doc__.split("\n")[0])
    parser.add_argument("--upstream-port", type=int, required=True)
    parser.add_argument("--allow-group", action="append", default=[], dest="groups")
    parser.add_argument("--startup-timeout", type=float, default=120)
    parser.add_argument("command", nargs=argparse.REMAINDER, help="upstream command, after --")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the upstream command after --")

    service_url = urlparse(os.environ.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:8020"))
    secret = secrets.token_urlsafe(32)
    process = subprocess.Popen(command, env={**os.environ, SECRET_ENV: secret})
    failed: list[BaseException] = []

    def stop(*_ignored) -> None:
        if process.poll() is None:
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(10)
            if process.poll() is None:
                process.kill()
        ioloop.IOLoop.current().stop()

    async def run() -> None:
        try:
            async with asyncio.timeout(args.startup_timeout):
                await wait_for_port(args.upstream_port, process)
        except (TimeoutError, RuntimeError) as exc:
            print(f"gateway: upstream did not start: {exc or 'timeout'}", file=sys.stderr)
            failed.append(exc)
            stop()
            return
        app = make_app(f"http://127.0.0.1:{args.upstream_port}", set(args.groups), secret)
        app.listen(service_url.port or 80, service_url.hostname or "127.0.0.1")
        print(f"gateway on {service_url.geturl()} -> 127.0.0.1:{args.upstream_port}", flush=True)

    loop = ioloop.IOLoop.current()
    # The hub stops services with SIGINT, then SIGTERM; answer both at once (even if SIGINT
    # was inherited as ignored).
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: loop.add_callback_from_signal(stop))
    loop.add_callback(run)
    try:
        loop.start()
    except KeyboardInterrupt:
        stop()
    finally:
        if process.poll() is None:
            process.kill()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
