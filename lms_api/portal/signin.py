"""Browser sign-in to the portal through the hub (OAuth with JupyterHub's `HubOAuth`), the
session cookie, and CSRF protection of every form.

The session cookie holds the hub-issued OAuth token itself (HttpOnly, limited to this
service's path): each page resolves it to a `Principal` with the same validator and cache as
the API's bearer tokens, so a revoked token or a deactivated account is refused on pages too.
The CSRF token is an HMAC of the session token: it changes with each sign-in and needs no
server-side store.
"""

import hashlib
import hmac
import json
import secrets
import time
from base64 import urlsafe_b64decode, urlsafe_b64encode
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Request
from jupyterhub.services.auth import HubOAuth

from lms_api.auth import HubTokenValidator, ensure_active
from lms_api.config import Settings
from lms_api.database import SessionDep
from lms_api.errors import DomainError, Forbidden, NotAuthenticated, Unavailable
from lms_api.principal import HubUnavailable, Principal

SESSION_COOKIE = "apranova-portal"
STATE_COOKIE = "apranova-portal-state"
STATE_MAX_AGE = 600
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


class SignInRequired(DomainError):
    """No portal session (or an expired one): the browser is sent to the hub's sign-in."""

    status = 401


class FormExpired(Forbidden):
    """A form sent without this session's CSRF token (another site, or an old page)."""


def hub_oauth(settings: Settings) -> HubOAuth:
    """JupyterHub's OAuth client for this service: the authorize URL and the code exchange."""
    return HubOAuth(
        api_token=settings.lms_api_token.get_secret_value() or "unset",
        api_url=settings.hub_api_url,
        oauth_client_id=settings.portal_oauth_client_id,
        oauth_redirect_uri=f"{settings.service_prefix}/portal/oauth_callback",
        oauth_authorization_url=f"{settings.hub_prefix.rstrip('/')}/api/oauth2/authorize",
        hub_prefix=settings.hub_prefix,
        base_url=settings.service_prefix + "/",
    )


def _key(settings: Settings) -> bytes:
    return hashlib.sha256(
        b"apranova-portal:" + settings.lms_api_token.get_secret_value().encode()
    ).digest()


def _sign(settings: Settings, payload: dict) -> str:
    body = urlsafe_b64encode(json.dumps(payload).encode()).decode()
    mac = hmac.new(_key(settings), body.encode(), hashlib.sha256).hexdigest()
    return f"{body}.{mac}"


def _unsign(settings: Settings, value: str) -> dict | None:
    body, _, mac = value.rpartition(".")
    expected = hmac.new(_key(settings), body.encode(), hashlib.sha256).hexdigest()
    if not body or not hmac.compare_digest(mac, expected):
        return None
    try:
        return json.loads(urlsafe_b64decode(body.encode()))
    except ValueError:
        return None


def safe_next(settings: Settings, target: str | None) -> str:
    """Only a path inside the portal: never another site (open redirect)."""
    home = f"{settings.service_prefix}/portal/"
    if not target or not target.startswith(home) or "\\" in target or "//" in target[1:]:
        return home
    if target.split("?")[0].removeprefix(home) in ("login", "oauth_callback", "logout"):
        return home  # never back into the sign-in itself (a loop)
    return target


def cookie_options(settings: Settings) -> dict:
    return {
        "httponly": True,
        "samesite": "lax",
        "secure": settings.public_url.startswith("https://"),
        "path": settings.service_prefix + "/",
    }


def start_sign_in(settings: Settings, next_url: str) -> tuple[str, str]:
    """The hub's authorize URL to send the browser to, and the signed state cookie's value
    (state, PKCE verifier and where to go back to)."""
    oauth = hub_oauth(settings)
    verifier, challenge, method = oauth.generate_pkce_code_challenge()
    state = secrets.token_urlsafe(24)
    cookie = _sign(
        settings,
        {"state": state, "verifier": verifier, "next": next_url, "at": int(time.time())},
    )
    query = urlencode(
        {"state": state, "code_challenge": challenge, "code_challenge_method": method}
    )
    return f"{oauth.login_url}&{query}", cookie


async def finish_sign_in(
    settings: Settings, code: str, state: str, state_cookie: str | None
) -> tuple[str, str]:
    """The OAuth token for `code` and the page to go back to, after checking `state` against
    the cookie this browser got when it left (so another site cannot sign a victim in)."""
    saved = _unsign(settings, state_cookie or "")
    if (
        not saved
        or not hmac.compare_digest(str(saved.get("state", "")), state)
        or time.time() - int(saved.get("at", 0)) > STATE_MAX_AGE
    ):
        raise NotAuthenticated(
            "The sign-in took too long or came from another page. Start again from the portal."
        )
    try:
        token = await hub_oauth(settings).token_for_code(
            code, code_verifier=saved["verifier"], sync=False
        )
    except Exception as exc:
        raise NotAuthenticated(
            "The hub did not accept this sign-in. Start again from the portal."
        ) from exc
    return token, safe_next(settings, saved.get("next"))


def csrf_token_for(settings: Settings, session_token: str) -> str:
    return hmac.new(_key(settings), b"csrf:" + session_token.encode(), hashlib.sha256).hexdigest()


async def _check_csrf(request: Request, settings: Settings, session_token: str) -> None:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        sent = (await request.form()).get(CSRF_FIELD)
    if not isinstance(sent, str) or not hmac.compare_digest(
        sent, csrf_token_for(settings, session_token)
    ):
        raise FormExpired(
            "This form has expired or did not come from the portal. Reload the page and try "
            "again; nothing was saved."
        )


async def page_principal(request: Request, session: SessionDep) -> Principal:
    """The signed-in user of a page: the session cookie's token checked with the hub (cached),
    the account active, and for a form the CSRF token. Without a session: `SignInRequired`."""
    settings: Settings = request.app.state.settings
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise SignInRequired("Sign in to see this page.")
    validator: HubTokenValidator = request.app.state.token_validator
    try:
        principal = await validator.principal_for(token)
    except HubUnavailable as exc:
        raise Unavailable(f"Cannot check your sign-in with JupyterHub right now: {exc}") from exc
    if principal is None or principal.kind != "user":
        raise SignInRequired("Your sign-in has expired.")
    if request.method not in SAFE_METHODS:
        await _check_csrf(request, settings, token)
    request.state.csrf_token = csrf_token_for(settings, token)
    await ensure_active(session, principal)
    request.state.page_user = principal  # an error page keeps the signed-in user's menu
    return principal


PageUser = Annotated[Principal, Depends(page_principal)]
