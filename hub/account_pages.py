"""Hub pages for local accounts: everyone changes their own password; admins make accounts.

Registered by `LocalPasswordAuthenticator.get_handlers`, so they exist only in local-account
mode (OAuth users have no password here).
"""

import asyncio

from jupyterhub import orm
from jupyterhub.handlers import BaseHandler
from tornado import web

from hub.passwords import ROLES, PasswordStore, generate_password, password_problem

# Roles an admin may give from the browser; superadmin (hub admin) stays a CLI decision.
WEB_ROLES = tuple(r for r in ROLES if r != "superadmin")
ROLE_GROUPS = {"trainer": "trainers", "admin": "admins"}


class AccountsBase(BaseHandler):
    @property
    def store(self) -> PasswordStore:
        return self.authenticator.store

    async def page(self, template: str, status: int = 200, **values) -> None:
        self.set_status(status)
        self.finish(await self.render_template(template, **values))


class ChangePasswordHandler(AccountsBase):
    """`/hub/change-password`: the signed-in user replaces their own password."""

    @web.authenticated
    async def get(self) -> None:
        await self.page("change-password.html")

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
        await self.page("change-password.html", done=True)


class AccountsHandler(AccountsBase):
    """`/hub/accounts`: hub admins create local accounts and reset passwords."""

    def require_admin(self) -> None:
        if not self.current_user.admin:
            raise web.HTTPError(403, "Only hub admins manage accounts.")

    async def show(self, status: int = 200, **values) -> None:
        accounts = await asyncio.to_thread(self.store.roles)
        await self.page("accounts.html", status, accounts=accounts, roles=WEB_ROLES, **values)

    @web.authenticated
    async def get(self) -> None:
        self.require_admin()
        await self.show()

    @web.authenticated
    async def post(self) -> None:
        self.require_admin()
        action = self.get_body_argument("action", "")
        username = self.authenticator.normalize_username(
            self.get_body_argument("username", "").strip()
        )
        if not username or not self.authenticator.validate_username(username):
            await self.show(400, error=f"{username!r} is not a valid username.")
            return
        exists = await asyncio.to_thread(self.store.exists, username)
        password = generate_password()
        if action == "create":
            role = self.get_body_argument("role", "student")
            if role not in WEB_ROLES:
                await self.show(400, error=f"Role must be one of {', '.join(WEB_ROLES)}.")
                return
            if exists:
                await self.show(409, error=f"{username} already has an account.")
                return
            await asyncio.to_thread(self.store.add, username, password, role)
            self.apply_role(username, role)
        elif action == "reset":
            if not exists:
                await self.show(404, error=f"{username} has no local account.")
                return
            await asyncio.to_thread(self.store.set_password, username, password)
        else:
            await self.show(400, error="Unknown action.")
            return
        self.log.info("%s: %s %s", self.current_user.name, action, username)
        await self.show(issued={"username": username, "password": password})

    def apply_role(self, username: str, role: str) -> None:
        """Make the hub user now, in the role's group, so the role works before a restart."""
        user = self.user_from_username(username)
        group_name = ROLE_GROUPS.get(role)
        if group_name:
            group = orm.Group.find(self.db, group_name)
            if group is None:
                group = orm.Group(name=group_name)
                self.db.add(group)
            if user.orm_user not in group.users:
                group.users.append(user.orm_user)
        self.db.commit()
