"""Hub pages for local accounts: everyone changes their own password; admins make accounts.

Registered by `LocalPasswordAuthenticator.get_handlers`, so they exist only in local-account
mode (OAuth users have no password here). Every form posts, then redirects (303) to a page
that shows the outcome: a reload never repeats an action.
"""

import asyncio
import secrets
import time
from dataclasses import dataclass, field

from jupyterhub.handlers import BaseHandler
from tornado import web

from hub.auth import apply_auth_model, role_model
from hub.passwords import ROLES, PasswordStore, generate_password, password_problem
from hub.usernames import USERNAME_RULE

# Roles an admin may give from the browser; superadmin (hub admin) stays a CLI decision.
WEB_ROLES = tuple(r for r in ROLES if r != "superadmin")
RESULT_SECONDS = 600  # a new password waits this long for its one showing
MAX_RESULTS = 1000
MAX_SHOWN_NAME = 64  # a rejected username is echoed at most this long


@dataclass
class Outcome:
    owner: str
    expires: float
    issued: dict | None = field(default=None)  # username, password, action: shown once


class Outcomes:
    """What an accounts form did, kept in the hub's memory for the page after the redirect.

    The new password never travels in a URL or a cookie: the redirect carries a random id,
    the first GET by the same admin takes the password out, later ones find it gone. The
    form's one-time key maps to the same id, so a repeated POST (double click, resubmit
    after Back) redirects to the first outcome instead of acting again.
    """

    def __init__(self) -> None:
        self._by_id: dict[str, Outcome] = {}
        self._by_key: dict[tuple[str, str], str] = {}

    def _prune(self) -> None:
        now = time.monotonic()
        gone = {i for i, o in self._by_id.items() if o.expires < now}
        while len(self._by_id) - len(gone) >= MAX_RESULTS:  # oldest first (insertion order)
            gone.add(next(i for i in self._by_id if i not in gone))
        for outcome_id in gone:
            del self._by_id[outcome_id]
        self._by_key = {k: i for k, i in self._by_key.items() if i in self._by_id}

    def repeated(self, owner: str, key: str) -> str | None:
        """The outcome id of a form already acted on with this key, if any."""
        outcome_id = self._by_key.get((owner, key))
        return outcome_id if outcome_id in self._by_id else None

    def put(self, owner: str, key: str, issued: dict) -> str:
        self._prune()
        outcome_id = secrets.token_urlsafe(16)
        self._by_id[outcome_id] = Outcome(owner, time.monotonic() + RESULT_SECONDS, issued)
        if key:
            self._by_key[(owner, key)] = outcome_id
        return outcome_id

    def take(self, owner: str, outcome_id: str) -> dict | None:
        """The password of this outcome, once; None when shown already, expired or not theirs."""
        outcome = self._by_id.get(outcome_id)
        if outcome is None or outcome.owner != owner or outcome.expires < time.monotonic():
            return None
        issued, outcome.issued = outcome.issued, None  # the id stays: a resubmit finds it
        return issued


OUTCOMES = Outcomes()


class AccountsBase(BaseHandler):
    @property
    def store(self) -> PasswordStore:
        return self.authenticator.store

    async def page(self, template: str, status: int = 200, **values) -> None:
        self.set_status(status)
        self.set_header("Cache-Control", "no-store")  # Back must not show a password again
        self.finish(await self.render_template(template, **values))


class ChangePasswordHandler(AccountsBase):
    """`/hub/change-password`: the signed-in user replaces their own password."""

    @web.authenticated
    async def get(self) -> None:
        await self.page("change-password.html", done=self.get_query_argument("done", "") == "1")

    @web.authenticated
    async def post(self) -> None:
        name = self.current_user.name
        current = self.get_body_argument("current_password", "")
        new = self.get_body_argument("new_password", "")
        problem = password_problem(new, self.get_body_argument("confirm_password", ""))
        if problem is None and not await asyncio.to_thread(self.store.verify, name, current):
            problem = "Your current password is not right."
        if problem is None and new == current:
            problem = "Choose a password different from the current one."
        if problem:
            await self.page("change-password.html", status=400, error=problem)
            return
        await asyncio.to_thread(self.store.set_password, name, new)
        self.log.info("%s changed their password", name)
        self.redirect(f"{self.hub.base_url}change-password?done=1", status=303)


class AccountsHandler(AccountsBase):
    """`/hub/accounts`: hub admins create local accounts and reset passwords.

    GET shows the list (and, with `?shown=<id>`, a new password once); GET `?reset=<name>`
    asks to confirm a reset; POST acts, then redirects to `?shown=<id>`.
    """

    def require_admin(self) -> None:
        if not self.current_user.admin:
            raise web.HTTPError(403, "Only hub admins manage accounts.")

    async def show(self, status: int = 200, **values) -> None:
        accounts = await asyncio.to_thread(self.store.roles)
        values.setdefault("form", {"username": "", "role": "student"})
        await self.page(
            "accounts.html",
            status,
            accounts=accounts,
            roles=WEB_ROLES,
            errors=values.pop("errors", {}),
            request_key=secrets.token_urlsafe(16),
            **values,
        )

    @web.authenticated
    async def get(self) -> None:
        self.require_admin()
        confirm = self.get_query_argument("reset", "")
        if confirm:
            await self.confirm_reset(confirm)
            return
        shown = self.get_query_argument("shown", "")
        if shown:
            issued = OUTCOMES.take(self.current_user.name, shown)
            await self.show(issued=issued, already_shown=issued is None)
            return
        await self.show()

    async def confirm_reset(self, raw: str, status: int = 200, **values) -> None:
        username = self.account_name(raw)
        if not username or not await asyncio.to_thread(self.store.exists, username):
            await self.show(404, error=f"{shorten(raw)} has no local account.")
            return
        await self.show(status, confirm_reset=username, **values)

    @web.authenticated
    async def post(self) -> None:
        self.require_admin()
        admin = self.current_user.name
        key = self.get_body_argument("request_key", "")[:64]
        done = OUTCOMES.repeated(admin, key) if key else None
        if done is None:
            action = self.get_body_argument("action", "")
            if action == "create":
                issued = await self.create()
            elif action == "reset":
                issued = await self.reset()
            else:
                await self.show(400, error="Unknown action.")
                return
            if issued is None:  # the page with the problem was sent
                return
            self.log.info("%s: %s %s", admin, action, issued["username"])
            done = OUTCOMES.put(admin, key, issued)
        self.redirect(f"{self.hub.base_url}accounts?shown={done}", status=303)

    def account_name(self, raw: str) -> str | None:
        username = self.authenticator.normalize_username(raw.strip())
        if username and self.authenticator.validate_username(username):
            return username
        return None

    async def create(self) -> dict | None:
        raw = self.get_body_argument("username", "")
        role = self.get_body_argument("role", "student")
        form = {"username": raw[:MAX_SHOWN_NAME], "role": role}
        username = self.account_name(raw)
        if username is None:
            problem = f"Use {USERNAME_RULE}." if raw.strip() else "Enter a username."
            await self.show(400, form=form, errors={"username": problem})
            return None
        if role not in WEB_ROLES:
            errors = {"role": f"Role must be one of {', '.join(WEB_ROLES)}."}
            await self.show(400, form=form, errors=errors)
            return None
        if await asyncio.to_thread(self.store.exists, username):
            errors = {"username": f"{username} already has an account."}
            await self.show(409, form=form, errors=errors)
            return None
        password = generate_password()
        await asyncio.to_thread(self.store.add, username, password, role)
        self.apply_role(username, role)
        return {"username": username, "password": password, "action": "create"}

    async def reset(self) -> dict | None:
        raw = self.get_body_argument("username", "")
        username = self.account_name(raw)
        if not username or not await asyncio.to_thread(self.store.exists, username):
            await self.show(404, error=f"{shorten(raw)} has no local account.")
            return None
        if self.get_body_argument("confirm", "") != "yes":
            problem = "Confirm the reset with the button below: nothing was changed."
            await self.confirm_reset(username, 400, error=problem)
            return None
        password = generate_password()
        await asyncio.to_thread(self.store.set_password, username, password)
        return {"username": username, "password": password, "action": "reset"}

    def apply_role(self, username: str, role: str) -> None:
        """Make the hub user now, with the role's groups and admin flag, so the new account
        works at once (before a first login and without a restart)."""
        user = self.user_from_username(username)
        apply_auth_model(user.orm_user, role_model(role))


def shorten(raw: str) -> str:
    """A name as typed, quoted and cut short, for a message (never the whole of huge input)."""
    cut = raw.strip()[:MAX_SHOWN_NAME]
    return repr(cut + "…" if len(raw.strip()) > MAX_SHOWN_NAME else cut)
