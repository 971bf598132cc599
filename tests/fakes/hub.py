"""A fake JupyterHub REST API on 127.0.0.1 for the LMS API's own tests: token checks without
starting the hub, its proxy, Dagster and the dashboards (about 35 s, and one set per worker).

It answers the questions lms_api asks the hub, with the hub's JSON shapes and statuses:
`GET /user` (who owns this token, with its scopes), `GET /users/{name}` and
`GET /groups/{name}` (asked with the lms-api service token), plus the few admin calls tests
make to set up callers (`POST /users/{name}`, `POST/DELETE /users/{name}/tokens`). The demo
school's accounts and groups are those `bench.harness.platform.Platform` makes on the real hub.

`tests/e2e/test_hub_contract.py` asks the real hub and this fake the same questions and
requires the same answers, so the fake cannot drift from what JupyterHub does.
"""

import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import unquote, urlsplit

from hub.demo import DEMO_ACCOUNTS
from lms_api.principal import ADMINS_GROUP, GROUP_OF_ROLE, TRAINERS_GROUP
from tests.fakes.loopback import LoopbackServer

PREFIX = "/hub/api"
LMS_ACCESS = "access:services!service=lms-api"
# What a token made with the default ("inherit") scopes lists on `GET /user` and that
# lms_api reads: the owner's own scopes, access to every service among them.
USER_SCOPES = ("access:services", "read:users:name!user", "access:servers!user")
# Scopes of a user's own (the `self` role), as a token may request them with `!user=NAME`.
OWN_SCOPES = ("read:users:activity!user", "users:activity!user", "access:servers!user")
SERVICE_SCOPES = {
    "lms-api": ("read:users", "read:users:groups", "read:groups", "read:servers"),
    "apranova-hub": ("read:users:name", LMS_ACCESS, "list:users", "read:servers"),
}
# The accounts bench.harness.platform.Platform adds to the demo ones.
EXTRA_ACCOUNTS = {"grace": "student", "office": "admin", "coach": "trainer"}


@dataclass
class User:
    name: str
    admin: bool = False
    groups: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Token:
    id: str
    owner: str  # a user name or a service name
    kind: str  # "user" or "service"
    scopes: tuple[str, ...]


class FakeHub:
    """The hub's REST API for token checks; state in memory, safe across threads."""

    def __init__(self, accounts: dict[str, str] | None = None) -> None:
        self._lock = threading.Lock()
        self.users: dict[str, User] = {}
        self.tokens: dict[str, Token] = {}
        for name, role in (accounts or {**DEMO_ACCOUNTS, **EXTRA_ACCOUNTS}).items():
            self.add_user(name, role)
        self.secrets = {
            "APRANOVA_LMS_API_TOKEN": self._service_token("lms-api"),
            "APRANOVA_HUB_SERVICE_TOKEN": self._service_token("apranova-hub"),
        }
        self.admin_token = self.new_token("admin")[0]
        self._server = LoopbackServer(self._handle, "fake hub")

    # --- what tests use, as on bench.harness.platform.Platform -----------------------------------
    def start(self) -> "FakeHub":
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def hub_api(self) -> str:
        return f"{self._server.url}{PREFIX}"

    def add_user(self, name: str, role: str = "student") -> None:
        with self._lock:
            user = self.users.setdefault(name, User(name))
            user.admin = role == "superadmin"
            user.groups = [GROUP_OF_ROLE[role]] if role in GROUP_OF_ROLE else []

    def new_token(self, username: str, scopes: list[str] | None = None) -> tuple[str, str]:
        """A token of `username` (made on first use, as Platform.new_token does)."""
        with self._lock:
            self.users.setdefault(username, User(username))
        return self._issue(username, "user", USER_SCOPES if scopes is None else tuple(scopes))

    def revoke(self, username: str, token_id: str) -> None:
        with self._lock:
            for value, token in list(self.tokens.items()):
                if token.id == token_id and token.owner == username:
                    del self.tokens[value]

    def api(self, method: str, path: str, **kwargs) -> Any:
        """The hub's REST API as its admin (Platform.api's signature)."""
        import httpx

        headers = {"Authorization": f"token {self.admin_token}"}
        return httpx.request(method, f"{self.hub_api}{path}", headers=headers, timeout=10, **kwargs)

    # --- the REST API --------------------------------------------------------------------
    def _service_token(self, name: str) -> str:
        return self._issue(name, "service", SERVICE_SCOPES[name])[0]

    def _issue(self, owner: str, kind: str, scopes: tuple[str, ...]) -> tuple[str, str]:
        value, token_id = secrets.token_hex(16), f"a{secrets.token_hex(4)}"
        with self._lock:
            self.tokens[value] = Token(token_id, owner, kind, scopes)
        return value, token_id

    def _caller(self, request: BaseHTTPRequestHandler) -> Token | None:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() not in ("token", "bearer"):
            return None
        with self._lock:
            return self.tokens.get(value.strip())

    def _user_model(self, user: User) -> dict[str, Any]:
        return {
            "kind": "user",
            "name": user.name,
            "admin": user.admin,
            "groups": sorted(user.groups),
            "servers": {},
        }

    @staticmethod
    def _held(user: User) -> set[str]:
        """The scopes a token of `user` may ask for: the hub's user role (its own activity and
        servers, lms-api), and the dashboards for trainers and admins (hub.services roles)."""
        held = {LMS_ACCESS, *(f"{s}={user.name}" for s in OWN_SCOPES)}
        if user.admin or {TRAINERS_GROUP, ADMINS_GROUP} & set(user.groups):
            held.add("access:services!service=dashboards")
        return held

    def _may_read_users(self, caller: Token) -> bool:
        if caller.kind == "service":
            return "read:users" in caller.scopes
        return self.users[caller.owner].admin

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        path = unquote(urlsplit(request.path).path)
        if not path.startswith(PREFIX + "/"):
            return _send(request, 404, {"status": 404, "message": "Not Found"})
        parts = path[len(PREFIX) + 1 :].rstrip("/").split("/")
        caller = self._caller(request)
        if caller is None:
            return _send(
                request, 403, {"status": 403, "message": "Missing or invalid credentials."}
            )
        method = request.command
        if method == "GET" and parts == ["user"]:
            return _send(request, 200, self._whoami(caller))
        if parts[0] == "groups" and len(parts) == 2 and method == "GET":
            return self._group(request, caller, parts[1])
        if parts[0] == "users" and len(parts) >= 2:
            return self._users(request, caller, method, parts[1], parts[2:])
        return _send(request, 404, {"status": 404, "message": "Not Found"})

    def _whoami(self, caller: Token) -> dict[str, Any]:
        if caller.kind == "service":
            return {"kind": "service", "name": caller.owner, "scopes": list(caller.scopes)}
        model = self._user_model(self.users[caller.owner])
        return {**model, "scopes": list(caller.scopes)}

    def _group(self, request: BaseHTTPRequestHandler, caller: Token, name: str) -> None:
        if not self._may_read_users(caller):
            return _send(request, 404, {"status": 404, "message": f"No access to group {name}"})
        with self._lock:
            members = sorted(u.name for u in self.users.values() if name in u.groups)
        if not members and name not in GROUP_OF_ROLE.values():
            return _send(request, 404, {"status": 404, "message": f"No such group: {name}"})
        _send(request, 200, {"kind": "group", "name": name, "users": members})

    def _users(
        self, request: BaseHTTPRequestHandler, caller: Token, method: str, name: str, rest: list
    ) -> None:
        if not self._may_read_users(caller):
            return _send(request, 404, {"status": 404, "message": f"No access to user {name}"})
        with self._lock:
            user = self.users.get(name)
        if method == "POST" and not rest:
            if user is not None:
                return _send(request, 409, {"status": 409, "message": f"User {name} exists"})
            self.add_user(name)
            return _send(request, 201, self._user_model(self.users[name]))
        if user is None:
            return _send(request, 404, {"status": 404, "message": f"No such user: {name}"})
        if method == "GET" and not rest:
            return _send(request, 200, self._user_model(user))
        if method == "POST" and rest == ["tokens"]:
            body = _json_body(request)
            missing = [s for s in body.get("scopes") or [] if s not in self._held(user)]
            if missing:
                message = f"Not assigning requested scopes {','.join(missing)} not held by User"
                return _send(request, 400, {"status": 400, "message": f"{message} {name}"})
            token, token_id = self.new_token(name, body.get("scopes"))
            return _send(request, 201, {"token": token, "id": token_id, "note": body.get("note")})
        if method == "DELETE" and len(rest) == 2 and rest[0] == "tokens":
            self.revoke(name, rest[1])
            return _send(request, 204, None)
        return _send(request, 404, {"status": 404, "message": "Not Found"})


def _json_body(request: BaseHTTPRequestHandler) -> dict[str, Any]:
    length = int(request.headers.get("Content-Length") or 0)
    return json.loads(request.rfile.read(length) or b"{}") if length else {}


def _send(request: BaseHTTPRequestHandler, status: int, body: Any) -> None:
    data = b"" if body is None else json.dumps(body).encode()
    request.send_response(status)
    if body is not None:
        request.send_header("Content-Type", "application/json")
    request.send_header("Content-Length", str(len(data)))
    request.end_headers()
    request.wfile.write(data)
