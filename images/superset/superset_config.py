"""Superset configuration of the student workspace (SUPERSET_CONFIG_PATH points here).

One personal Superset per student, started by the hub as a named server (/user/<name>/superset/):
jupyter-standaloneproxy on 0.0.0.0:8888 does the hub's OAuth login and lets only the owner in,
then forwards the full prefixed path to gunicorn on 127.0.0.1:8088 (superset-entrypoint). So:

- No second login: every request that reaches Superset is the owner's. A WSGI middleware sets
  REMOTE_USER to JUPYTERHUB_USER (Superset listens on loopback only; the only way in is the
  authenticated proxy) and AUTH_REMOTE_USER logs that user in on any request, registered on
  first use with role Admin (it is the student's own Superset).
- State in ~/.superset (the student's volume): SQLite metadata superset.db (copied from the
  template the image built), secret_key (made once per home, mode 0600), course.duckdb (a
  symlink to the track's read-only DuckDB file, re-pointed at each start).
- Offline: no example data, no telemetry pixel or map tiles (the CSP allows only 'self'), no
  DuckDB extension downloads; a small in-process cache.

The image builds the template with APRANOVA_SUPERSET_DB=<template path> and no JUPYTERHUB_USER.
"""

import os
import threading
from pathlib import Path

from flask_appbuilder.const import AUTH_REMOTE_USER
from superset.security import SupersetSecurityManager

STATE_DIR = Path(os.environ.get("APRANOVA_SUPERSET_HOME") or Path.home() / ".superset")
METADATA_DB = Path(os.environ.get("APRANOVA_SUPERSET_DB") or STATE_DIR / "superset.db")
HUB_USER = os.environ.get("JUPYTERHUB_USER", "")


def _secret_key() -> str:
    """The per-home key (superset-entrypoint writes it); a throwaway one at image build."""
    try:
        key = (STATE_DIR / "secret_key").read_text().strip()
    except OSError:
        key = ""
    return key or os.environ.get("SUPERSET_SECRET_KEY") or os.urandom(32).hex()


SECRET_KEY = _secret_key()
SQLALCHEMY_DATABASE_URI = f"sqlite:///{METADATA_DB}?check_same_thread=false"
DATA_DIR = str(STATE_DIR)
UPLOAD_FOLDER = str(STATE_DIR / "uploads") + "/"

# --- login: the hub's user, through the authenticated proxy only ---------------------------


class RemoteUserMiddleware:
    """Sets REMOTE_USER (a WSGI environ key, which no client header can set) to the hub user."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if HUB_USER:
            environ["REMOTE_USER"] = HUB_USER
        else:
            environ.pop("REMOTE_USER", None)
        return self.app(environ, start_response)


class WorkspaceSecurityManager(SupersetSecurityManager):
    """AUTH_REMOTE_USER on every request (browser and REST API), not only on /login/."""

    def request_loader(self, request):
        user = super().request_loader(request)
        if user is not None:
            return user
        username = request.environ.get(self.auth_remote_user_env_var)
        if not username:
            return None
        # Only a read: Flask-Login may resolve the user in the middle of a database flush.
        user = self.find_user(username=username)
        return user if user is not None and user.is_active else None


_registered: set[str] = set()
_register_lock = threading.Lock()  # one gunicorn worker: its threads share this


def _register_hub_user() -> None:
    """Before any other request handler: the hub user exists (role Admin the first time)."""
    from flask import current_app, request

    username = request.environ.get("REMOTE_USER")
    if not username or username in _registered:
        return
    sm = current_app.appbuilder.sm
    with _register_lock:
        if username in _registered:
            return
        if sm.find_user(username=username) is None:
            sm.auth_user_remote_user(username)  # AUTH_USER_REGISTRATION_ROLE
        if sm.find_user(username=username) is not None:
            _registered.add(username)


def FLASK_APP_MUTATOR(app):
    app.before_request_funcs.setdefault(None, []).insert(0, _register_hub_user)


ADDITIONAL_MIDDLEWARE = [RemoteUserMiddleware]
CUSTOM_SECURITY_MANAGER = WorkspaceSecurityManager
AUTH_TYPE = AUTH_REMOTE_USER
AUTH_REMOTE_USER_ENV_VAR = "REMOTE_USER"
AUTH_USER_REGISTRATION = True
AUTH_USER_REGISTRATION_ROLE = "Admin"
AUTH_ROLES_SYNC_AT_LOGIN = False
# Read by the bootstrap payload whenever registration is on; no captcha is ever shown.
RECAPTCHA_PUBLIC_KEY = ""

# CSRF stays on (Flask-WTF; the REST API takes X-CSRFToken from /api/v1/security/csrf_token/).
WTF_CSRF_ENABLED = True
# Cookies are scoped to the prefix (APPLICATION_ROOT = SUPERSET_APP_ROOT); a name of their own
# so they never meet another server's "session" cookie on the hub's origin.
SESSION_COOKIE_NAME = "superset_session"
SESSION_COOKIE_SAMESITE = "Lax"
RATELIMIT_ENABLED = False

# --- offline, small ------------------------------------------------------------------------

# The frontend bundle always renders a telemetry pixel (an <img> to Scarf), and map charts load
# tiles from the internet: a CSP of 'self' only keeps the browser from calling out.
THEME_FONT_URL_ALLOWED_DOMAINS: list[str] = []
TALISMAN_ENABLED = True
TALISMAN_CONFIG = {
    "content_security_policy": {
        "base-uri": ["'self'"],
        "default-src": ["'self'"],
        "img-src": ["'self'", "blob:", "data:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "object-src": "'none'",
        "style-src": ["'self'", "'unsafe-inline'"],
        "font-src": ["'self'", "data:"],
        "script-src": ["'self'", "'strict-dynamic'"],
    },
    "content_security_policy_nonce_in": ["script-src"],
    "force_https": False,
    "session_cookie_secure": False,
}
CONTENT_SECURITY_POLICY_WARNING = False
MAPBOX_API_KEY = ""
DOCUMENTATION_URL = None
BUG_REPORT_URL = None
TROUBLESHOOTING_LINK = ""

# One gunicorn worker: an in-process cache is shared by its threads; small and bounded.
_SMALL_CACHE = {"CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": 200}
CACHE_CONFIG = {**_SMALL_CACHE, "CACHE_DEFAULT_TIMEOUT": 3600, "CACHE_KEY_PREFIX": "superset_"}
DATA_CACHE_CONFIG = {**_SMALL_CACHE, "CACHE_DEFAULT_TIMEOUT": 600, "CACHE_KEY_PREFIX": "data_"}
THUMBNAIL_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}

# SQL Lab runs queries in the web process (no Celery); results stay small.
SQLLAB_TIMEOUT = 60
SUPERSET_WEBSERVER_TIMEOUT = 120
SQL_MAX_ROW = 100000
ROW_LIMIT = 10000
PREVENT_UNSAFE_DB_CONNECTIONS = True

FEATURE_FLAGS = {
    "ALERT_REPORTS": False,
    "THUMBNAILS": False,
    "EMBEDDED_SUPERSET": False,
}
