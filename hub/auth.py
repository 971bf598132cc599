"""Authenticators: local hashed passwords by default, OAuthenticator for production."""

import asyncio
from pathlib import Path

from jupyterhub.auth import Authenticator
from oauthenticator.generic import GenericOAuthenticator
from oauthenticator.github import GitHubOAuthenticator
from oauthenticator.google import GoogleOAuthenticator
from traitlets import Unicode, default

from hub.passwords import PasswordStore

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


class SchoolPagesMixin:
    """The hub pages every login method gets: enrolling in a track and paying for it."""

    def get_handlers(self, app):
        from hub.payment_pages import payment_handlers

        return [*super().get_handlers(app), *payment_handlers()]


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
        return str(Path(".apranova") / "accounts.sqlite")

    @property
    def store(self) -> PasswordStore:
        return PasswordStore(self.accounts_path)

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
        # scrypt is deliberately slow: keep it off the hub's event loop.
        if await asyncio.to_thread(self.store.verify, username, password):
            return username
        self.log.warning("Failed login for %r", username)
        return None

    def check_allowed(self, username, authentication=None):
        """Accounts in the store may log in (the store is the allow list)."""
        return self.store.exists(username) or super().check_allowed(username, authentication)


class GitHubLogin(SchoolPagesMixin, GitHubOAuthenticator):
    """GitHub login (configured as `c.GitHubOAuthenticator`), plus the school's pages."""


class GoogleLogin(SchoolPagesMixin, GoogleOAuthenticator):
    """Google login (configured as `c.GoogleOAuthenticator`), plus the school's pages."""


class GenericLogin(SchoolPagesMixin, GenericOAuthenticator):
    """OpenID Connect login (configured as `c.GenericOAuthenticator`), plus the school's pages."""


def oauthenticator_class(kind: str) -> str:
    """The OAuthenticator class for a provider name in settings."""
    return {
        "github": "hub.auth.GitHubLogin",
        "google": "hub.auth.GoogleLogin",
        "generic": "hub.auth.GenericLogin",
    }[kind]
