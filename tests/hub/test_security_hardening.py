"""Login throttling, the username rule, the gateway's framing headers and the workspace
guard's decisions, checked on the hub's own classes (issue 18, items 1, 8, 14, 15)."""

import asyncio
from types import SimpleNamespace

import pytest
from tornado import httpclient, web
from tornado.httpserver import HTTPServer
from tornado.httputil import HTTPHeaders, HTTPServerRequest
from tornado.testing import bind_unused_port

from hub.auth import LocalPasswordAuthenticator
from hub.cli import main as hub_cli
from hub.gateway import ProxyHandler
from hub.oauth_logins import GenericLogin
from hub.passwords import PasswordStore
from hub.workspace_guard import WorkspaceGuard


# --- item 15: throttled logins ---------------------------------------------------------------
def login_handler(client: str = "203.0.113.7", forwarded: str | None = None):
    """What authenticate() reads of the login request: configurable-http-proxy's
    X-Forwarded-For (the client's address appended), from the proxy on loopback."""
    headers = {"X-Forwarded-For": forwarded if forwarded is not None else client}
    request = SimpleNamespace(
        headers=HTTPHeaders(headers),
        remote_ip="127.0.0.1",
        connection=SimpleNamespace(context=SimpleNamespace(_orig_remote_ip="127.0.0.1")),
    )
    return SimpleNamespace(request=request)


@pytest.fixture
def authenticator(tmp_path):
    store = PasswordStore(tmp_path / "accounts.sqlite")
    for name in ("ada", "linus"):
        store.add(name, f"right-password-{name}")
    return LocalPasswordAuthenticator(accounts_path=str(store.path))


async def login(authenticator, username, password, **where):
    return await authenticator.authenticate(
        login_handler(**where), {"username": username, "password": password}
    )


async def test_five_failures_lock_the_username_even_for_the_right_password(authenticator):
    assert (await login(authenticator, "ada", "right-password-ada"))["name"] == "ada"
    for _ in range(5):
        assert await login(authenticator, "ada", "wrong-guess") is None
    with pytest.raises(web.HTTPError) as refused:
        await login(authenticator, "ada", "right-password-ada")
    assert refused.value.status_code == 429
    assert "Too many failed logins" in refused.value.log_message
    assert "Try again in 60 seconds" in refused.value.log_message
    # another account from another address is not affected
    assert await login(authenticator, "linus", "right-password-linus", client="198.51.100.2")


async def test_guesses_sent_at_once_cannot_pass_the_limit(authenticator):
    guesses = [login(authenticator, "ada", f"guess-{i}") for i in range(30)]
    outcomes = await asyncio.gather(*guesses, return_exceptions=True)
    checked = [o for o in outcomes if o is None]  # the password was really tried
    refused = [o for o in outcomes if isinstance(o, web.HTTPError) and o.status_code == 429]
    assert len(checked) == 5 and len(refused) == 25


async def test_the_lock_grows_after_each_further_failure(authenticator):
    now = [1000.0]
    authenticator.login_lockout_seconds = 10
    by_user, _ = authenticator._throttles()
    by_user.clock = authenticator._throttles()[1].clock = lambda: now[0]
    for _ in range(5):
        await login(authenticator, "ada", "wrong")
    assert by_user.wait("ada") == pytest.approx(10)
    now[0] += 11  # the lock is over: one more wrong guess doubles it
    assert await login(authenticator, "ada", "wrong") is None
    assert by_user.wait("ada") == pytest.approx(20)
    now[0] += 21
    await login(authenticator, "ada", "wrong")
    assert by_user.wait("ada") == pytest.approx(40)
    now[0] += 41
    assert (await login(authenticator, "ada", "right-password-ada"))["name"] == "ada"
    assert by_user.wait("ada") == 0  # a success clears the username's record


async def test_one_address_guessing_many_usernames_is_locked(authenticator):
    authenticator.login_client_max_failures = 8
    for i in range(8):
        assert await login(authenticator, f"guess{i}", "x") is None
    with pytest.raises(web.HTTPError) as refused:
        await login(authenticator, "linus", "right-password-linus")
    assert refused.value.status_code == 429
    # the address is the proxy's appended entry, not one the client wrote itself
    with pytest.raises(web.HTTPError):
        await login(
            authenticator,
            "linus",
            "right-password-linus",
            forwarded="198.51.100.9, 203.0.113.7",
        )


# --- item 14: the username rule ---------------------------------------------------------------
@pytest.mark.parametrize("auth_class", [LocalPasswordAuthenticator, GenericLogin])
@pytest.mark.parametrize(
    ("given", "normalized", "valid"),
    [
        ("Ada", "ada", True),
        ("\uff41\uff44\uff41", "ada", True),  # full-width letters: NFKC makes them plain
        ("ada.lovelace_1-x", "ada.lovelace_1-x", True),
        ("ada@school.example", "ada@school.example", True),
        ("\u0430d\u0430", "\u0430d\u0430", False),  # Cyrillic a: a homoglyph of "ada"
        ("<b>x</b>", "<b>x</b>", False),
        ("ada lovelace", "ada lovelace", False),
        ("..", "..", False),
        ("-ada", "-ada", False),
        ("a" * 65, "a" * 65, False),
        ("ada\n", "ada", True),  # trimmed
    ],
)
def test_usernames_are_normalized_then_restricted(tmp_path, auth_class, given, normalized, valid):
    local = auth_class is LocalPasswordAuthenticator
    authenticator = auth_class(**({"accounts_path": str(tmp_path / "a.sqlite")} if local else {}))
    assert authenticator.normalize_username(given) == normalized
    assert authenticator.validate_username(authenticator.normalize_username(given)) is valid


def test_add_user_refuses_names_outside_the_alphabet(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("APRANOVA_STATE_DIR", str(tmp_path))
    assert hub_cli(["add-user", "tr\u0430iner"]) == 1  # Cyrillic a
    assert "not a valid username" in capsys.readouterr().err
    assert hub_cli(["add-user", "<script>"]) == 1
    assert hub_cli(["add-user", "Grace"]) == 0
    store = PasswordStore(tmp_path / "accounts.sqlite")
    assert store.roles() == {"grace": "student"}


# --- item 8: the gateway is never framed by another site ------------------------------------
class FramableApp(web.RequestHandler):
    def get(self):
        self.set_header("X-Frame-Options", "ALLOWALL")
        self.set_header("Content-Security-Policy", "default-src 'self'")
        self.write("dashboard")


async def test_gateway_answers_refuse_framing_whatever_the_app_says():
    sock, port = bind_unused_port()
    upstream = HTTPServer(web.Application([(r"/.*", FramableApp)]))
    upstream.add_sockets([sock])
    try:
        request = HTTPServerRequest(
            method="GET",
            uri="/services/dashboards/",
            headers=HTTPHeaders({"Host": "127.0.0.1:8000"}),
            connection=SimpleNamespace(set_close_callback=lambda _cb: None, context=None),
        )
        handler = ProxyHandler(
            web.Application(), request, upstream=f"http://127.0.0.1:{port}", allowed_groups=set()
        )
        await handler.proxy_http({"name": "tess", "groups": ["trainers"]})
        headers = handler._headers
        assert headers.get_list("X-Frame-Options") == ["SAMEORIGIN"]
        assert "frame-ancestors 'self'" in headers.get_list("Content-Security-Policy")
        assert "default-src 'self'" in headers.get_list("Content-Security-Policy")
        # errors and redirects of the gateway itself carry them too
        handler.clear()
        assert handler._headers.get_list("X-Frame-Options") == ["SAMEORIGIN"]
    finally:
        upstream.stop()
        httpclient.AsyncHTTPClient().close()


# --- item 1: what the workspace guard stops ---------------------------------------------------
def test_guard_stops_every_server_when_nothing_is_allowed_and_only_disallowed_kinds():
    servers = {
        "": {"user_options": {"kind": "jupyterlab"}},
        "code-server": {"user_options": {"kind": "code-server"}},
        "old": {"user_options": {}},
    }
    assert WorkspaceGuard.not_allowed(servers, []) == ["", "code-server", "old"]
    assert WorkspaceGuard.not_allowed(servers, ["jupyterlab"]) == ["code-server"]
    assert WorkspaceGuard.not_allowed(servers, ["jupyterlab", "code-server"]) == []


async def test_guard_stops_nothing_when_lms_api_does_not_answer():
    from hub.lms_client import HubLmsClient

    lms = HubLmsClient("http://127.0.0.1:9", "t")
    guard = WorkspaceGuard("http://127.0.0.1:9/hub/api", "t", lms)

    async def running(_client):
        return {"ada": {"": {"ready": True, "user_options": {"kind": "jupyterlab"}}}}

    stopped = []

    async def stop(_client, username, server):
        stopped.append((username, server))

    guard.running_servers, guard.stop = running, stop
    assert await guard.round(None) == 0
    assert stopped == []
