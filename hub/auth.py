"""Authenticators: local hashed passwords by default, OAuthenticator for production.

Every one of them normalizes and checks usernames with the platform's rule
(`hub.usernames`): logins, OAuth answers and accounts made in the admin panel alike.
"""

import asyncio
from pathlib import Path

from jupyterhub import orm
from jupyterhub.auth import Authenticator
from jupyterhub.utils import maybe_future
from sqlalchemy.orm import object_session
from tornado import web
from traitlets import Float, Integer, List, Unicode, default

from hub import usernames
from hub.lms_client import LmsRefused, LmsUnavailable
from hub.login_throttle import LoginThrottle, in_words
from hub.passwords import PasswordStore
from lms_api.principal import GROUP_OF_ROLE
from lms_api.state import state_dir

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


class SchoolPagesMixin:
    """What every login method gets: the username rule, the pages for enrolling in a track
    and paying for it, and the admins' view of the workspace start line."""

    def get_handlers(self, app):
        from hub.payment_pages import payment_handlers
        from hub.start_queue_page import StartQueueHandler

        return [
            *super().get_handlers(app),
            *payment_handlers(),
            ("/start-queue", StartQueueHandler),
        ]

    def normalize_username(self, username):
        """NFKC and lowercase (then any username_map), so look-alike forms are one name."""
        return super().normalize_username(usernames.normalize_username(username))

    async def delete_user(self, user):
        """Close the user's LMS profile before the hub forgets them, so a user made again
        under the same name does not inherit the old enrollments and records. If lms-api
        cannot do it, the deletion is refused (try again), never half done."""
        from hub.payment_pages import lms_client  # its handlers import the hub's app

        try:
            await lms_client().close_person(user.name)
        except LmsRefused as exc:
            if exc.status != 404:  # 404: no LMS profile, nothing to close
                raise web.HTTPError(
                    502, f"The course service refused to close {user.name}'s records: {exc.message}"
                ) from exc
        except LmsUnavailable as exc:
            raise web.HTTPError(
                503,
                f"The course service is not answering, so {user.name} was not deleted (their "
                "LMS records must be closed first). Please try again in a minute.",
            ) from exc
        self.log.info("Closed the LMS profile of deleted user %s", user.name)
        await maybe_future(super().delete_user(user))

    def validate_username(self, username):
        """Only the platform's alphabet (hub.usernames): no homoglyphs, no HTML."""
        if not usernames.is_valid_username(username):
            self.log.warning("Refused username %r: not %s", username, usernames.USERNAME_RULE)
            return False
        return super().validate_username(username)


class LocalPasswordAuthenticator(SchoolPagesMixin, Authenticator):
    """Username + password checked against scrypt hashes in the local account store.

    Accounts are created by the demo seed or by an admin (`apranova-hub add-user`); there
    is no shared password and no self sign-up.
    """

    accounts_path = Unicode(
        help="SQLite file holding the local accounts (username, password hash, role). "
        "Its accounts are the allow list."
    ).tag(config=True, allow_config=True)

    @default("accounts_path")
    def _default_accounts_path(self) -> str:
        return str(state_dir() / "accounts.sqlite")

    login_max_failures = Integer(
        5, help="Failed logins (per username, and per client address) before a lock."
    ).tag(config=True)

    login_client_max_failures = Integer(
        20,
        help="Failed logins from one client address before it is locked (higher than per "
        "username: people behind one school NAT share an address).",
    ).tag(config=True)

    login_window_seconds = Float(300, help="The window in which failed logins are counted.").tag(
        config=True
    )

    login_lockout_seconds = Float(
        60, help="First lock; each further failure after a lock doubles it."
    ).tag(config=True)

    login_max_lockout_seconds = Float(3600, help="Longest lock.").tag(config=True)

    trusted_proxy_ips = List(
        Unicode(),
        ["127.0.0.1", "::1"],
        help="Proxies in front of the hub whose X-Forwarded-For entry is skipped to find the "
        "client address (the client's own X-Real-Ip / X-Forwarded-For entries are not trusted).",
    ).tag(config=True)

    @property
    def store(self) -> PasswordStore:
        return PasswordStore(self.accounts_path)

    def _throttles(self) -> tuple[LoginThrottle, LoginThrottle]:
        if not hasattr(self, "_user_throttle"):
            self._user_throttle = LoginThrottle(
                self.login_max_failures,
                self.login_window_seconds,
                self.login_lockout_seconds,
                self.login_max_lockout_seconds,
            )
            self._client_throttle = LoginThrottle(
                self.login_client_max_failures,
                self.login_window_seconds,
                self.login_lockout_seconds,
                self.login_max_lockout_seconds,
            )
        return self._user_throttle, self._client_throttle

    def client_address(self, handler) -> str:
        """The address the nearest untrusted hop connected from: the right-most entry of
        X-Forwarded-For that is not one of our proxies (configurable-http-proxy appends the
        real peer), never a header the client wrote on its own."""
        if handler is None:
            return ""
        forwarded = handler.request.headers.get("X-Forwarded-For", "")
        for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
            if hop not in self.trusted_proxy_ips:
                return hop
        context = getattr(handler.request.connection, "context", None)
        return str(getattr(context, "_orig_remote_ip", "") or handler.request.remote_ip or "")

    def _refuse_if_locked(self, username: str, client: str) -> None:
        by_user, by_client = self._throttles()
        wait = max(by_user.wait(username), by_client.wait(f"client:{client}") if client else 0)
        if wait > 0:
            self.log.warning("Login of %r from %s refused: throttled", username, client)
            message = (
                f"Too many failed logins. Try again in {in_words(wait)}; if you forgot your "
                "password, ask the school office to reset it."
            )
            error = web.HTTPError(429, message)
            error.jupyterhub_message = message
            raise error

    def get_handlers(self, app):
        from hub.account_pages import AccountsHandler, ChangePasswordHandler

        return [
            *super().get_handlers(app),
            ("/change-password", ChangePasswordHandler),
            ("/accounts", AccountsHandler),
        ]

    async def authenticate(self, handler, data):
        username = self.normalize_username((data or {}).get("username", ""))
        password = (data or {}).get("password", "")
        if not username or not password:
            return None
        client = self.client_address(handler)
        self._refuse_if_locked(username, client)  # before the password: even a right one
        by_user, by_client = self._throttles()
        # Counted as a failure until it succeeds: guesses sent all at once cannot slip in
        # while the slow checks of the first ones run.
        by_user.failed(username)
        # scrypt is deliberately slow: keep it off the hub's event loop.
        if await asyncio.to_thread(self.store.verify, username, password):
            by_user.succeeded(username)
            model = await asyncio.to_thread(self.auth_model, username)
            find_user = getattr(handler, "find_user", None)  # the hub's login handler
            known = find_user(username) if find_user is not None else None
            if known is not None and model is not None:  # a new user gets them in add_user
                apply_auth_model(known.orm_user, model)
            return {"name": username, "admin": bool(model and model["admin"])}
        if client:
            by_client.failed(f"client:{client}")
        self.log.warning("Failed login for %r from %s", username, client)
        return None

    def check_allowed(self, username, authentication=None):
        """Accounts in the store may log in (the store is the allow list)."""
        return self.store.exists(username) or super().check_allowed(username, authentication)

    # --- roles: the account store is the truth, applied without a restart -----------------
    # A user's groups and admin flag are set from their stored role at every login, when the
    # hub starts or makes the user (`add_user`) and in `refresh_user`, which the hub runs when
    # the user's auth info is older than `auth_refresh_age`, on their next request (a token
    # check by lms-api too): `apranova-hub set-role` (a promotion or a demotion) applies
    # within that time.
    def auth_model(self, username: str) -> dict | None:
        """{name, admin, groups} of a local account, or None when there is none."""
        role = self.store.role_of(username)
        return None if role is None else {"name": username, **role_model(role)}

    async def refresh_user(self, user, handler=None):
        model = await asyncio.to_thread(self.auth_model, user.name)
        if model is not None:  # (a hub-only user, without a local account: left as it is)
            apply_auth_model(user.orm_user, model)
        return True

    async def add_user(self, user):
        """At hub start (every user in its database) and when a user is made: groups and
        admin flag from the account store, so a role works before the first login."""
        await maybe_future(super().add_user(user))
        model = await asyncio.to_thread(self.auth_model, user.name)
        if model is not None:
            apply_auth_model(getattr(user, "orm_user", user), model)


def role_model(role: str) -> dict:
    """{admin, groups} of `role` in the hub: superadmin is the admin flag, trainer and admin
    are groups."""
    group = GROUP_OF_ROLE.get(role)
    return {"admin": role == "superadmin", "groups": [group] if group else []}


def apply_auth_model(orm_user, model: dict) -> None:
    """Set an `orm.User`'s admin flag and exactly the role groups of `model` (groups made on
    first use; other groups are left alone). Changes nothing when nothing differs."""
    db = object_session(orm_user)
    # The hub's session keeps loaded rows across requests: read the membership afresh, or a
    # row the session has not seen would be inserted twice.
    db.refresh(orm_user, attribute_names=["groups"])
    wanted = set(model["groups"])
    current = {group.name for group in orm_user.groups}
    role_groups = set(GROUP_OF_ROLE.values())
    if orm_user.admin == bool(model["admin"]) and current & role_groups == wanted:
        return
    orm_user.admin = bool(model["admin"])
    for group in list(orm_user.groups):
        if group.name in role_groups and group.name not in wanted:
            orm_user.groups.remove(group)
    for name in wanted - {group.name for group in orm_user.groups}:
        group = orm.Group.find(db, name)
        if group is None:
            group = orm.Group(name=name)
            db.add(group)
        orm_user.groups.append(group)
    db.commit()


def oauthenticator_class(kind: str) -> str:
    """The OAuthenticator class for a provider name in settings (in `hub.oauth_logins`, so a
    hub with local accounts never imports oauthenticator)."""
    return {
        "github": "hub.oauth_logins.GitHubLogin",
        "google": "hub.oauth_logins.GoogleLogin",
        "generic": "hub.oauth_logins.GenericLogin",
    }[kind]
