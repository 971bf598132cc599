"""Authenticators: local hashed passwords by default, OAuthenticator for production."""

import asyncio
from pathlib import Path

from jupyterhub.auth import Authenticator
from traitlets import Unicode, default

from hub.passwords import PasswordStore

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


class LocalPasswordAuthenticator(Authenticator):
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


def oauthenticator_class(kind: str) -> str:
    """The OAuthenticator class for a provider name in settings."""
    return {
        "github": "oauthenticator.github.GitHubOAuthenticator",
        "google": "oauthenticator.google.GoogleOAuthenticator",
        "generic": "oauthenticator.generic.GenericOAuthenticator",
    }[kind]
