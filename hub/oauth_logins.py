"""Login with an OAuth provider: oauthenticator's classes plus the school's pages.

Its own module because importing oauthenticator costs about a second (it validates with
jsonschema's format checkers), which a hub with local accounts should not pay.
"""

from oauthenticator.generic import GenericOAuthenticator
from oauthenticator.github import GitHubOAuthenticator
from oauthenticator.google import GoogleOAuthenticator

from hub.auth import SchoolPagesMixin


class GitHubLogin(SchoolPagesMixin, GitHubOAuthenticator):
    """GitHub login (configured as `c.GitHubOAuthenticator`), plus the school's pages."""


class GoogleLogin(SchoolPagesMixin, GoogleOAuthenticator):
    """Google login (configured as `c.GoogleOAuthenticator`), plus the school's pages."""


class GenericLogin(SchoolPagesMixin, GenericOAuthenticator):
    """OpenID Connect login (configured as `c.GenericOAuthenticator`), plus the school's pages."""
