"""JupyterHub configuration: a thin list of settings; all logic lives in the `hub` package."""

from hub.auth import TEMPLATES_DIR, oauthenticator_class
from hub.docker_network import hub_addresses, workspace_lms_api_url
from hub.local_accounts import protect_platform_files
from hub.passwords import PasswordStore
from hub.services import (
    LMS_API_ACCESS,
    PORTAL_PATH,
    SERVER_TOKEN_SCOPES,
    hub_roles,
    hub_services,
    role_groups,
)
from hub.settings import get_settings

s = get_settings()
accounts = PasswordStore(s.state_dir / "accounts.sqlite")
account_roles = accounts.roles() if s.authenticator == "local" else {}

# --- network and state ---------------------------------------------------------------
# Secrets, password hashes and databases: root's (or the hub user's) alone, never a notebook's.
protect_platform_files(s.state_dir)
c.JupyterHub.ip = s.bind_ip
c.JupyterHub.port = s.hub_port
c.JupyterHub.hub_ip, c.JupyterHub.hub_connect_ip = hub_addresses(s)
c.JupyterHub.hub_port = s.hub_api_port
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{s.proxy_api_port}"
c.ConfigurableHTTPProxy.auth_token = s.proxy_auth_token.get_secret_value()
c.ConfigurableHTTPProxy.should_start = True
c.ConfigurableHTTPProxy.command = [s.proxy_command]
c.ConfigurableHTTPProxy.pid_file = str(s.state_dir / "proxy.pid")
c.JupyterHub.cookie_secret = bytes.fromhex(s.cookie_secret.get_secret_value())
c.JupyterHub.db_url = f"sqlite:///{s.state_dir / 'jupyterhub.sqlite'}"
c.JupyterHub.pid_file = str(s.state_dir / "jupyterhub.pid")
# Students land on their course (the portal sends staff on to the hub's home).
c.JupyterHub.default_url = PORTAL_PATH
# Local mode: Ctrl-C stops every workspace too. Docker mode: a hub restart keeps them running.
c.JupyterHub.cleanup_servers = s.mode == "local"

# --- pages -----------------------------------------------------------------------------
c.JupyterHub.template_paths = [str(TEMPLATES_DIR)]
c.JupyterHub.template_vars = {
    "local_accounts": s.authenticator == "local",
    "portal_url": PORTAL_PATH,
    "running_servers_per_user": s.workspace_servers_per_user,
    "workspace_starts_at_once": s.workspace_starts_at_once,  # the start line's page
}

# --- login -----------------------------------------------------------------------------
if s.authenticator == "local":
    c.JupyterHub.authenticator_class = "hub.auth.LocalPasswordAuthenticator"
    c.LocalPasswordAuthenticator.accounts_path = str(accounts.path)
    c.Authenticator.admin_users = {u for u, r in account_roles.items() if r == "superadmin"}
    # Every local account is a hub user from the hub's start (not only after a first login),
    # so an admin can grant a track or assign a trainer to someone who has not signed in yet.
    c.Authenticator.allowed_users = set(account_roles)
    # Groups and the admin flag follow the account store's roles (hub.auth), re-read every
    # role_refresh_seconds: a promotion or demotion needs no restart.
    c.Authenticator.auth_refresh_age = s.role_refresh_seconds
else:
    c.JupyterHub.authenticator_class = oauthenticator_class(s.authenticator)
    c.OAuthenticator.client_id = s.oauth_client_id
    c.OAuthenticator.client_secret = s.oauth_client_secret.get_secret_value()
    c.OAuthenticator.oauth_callback_url = s.oauth_callback_url
    c.OAuthenticator.allowed_users = set(s.oauth_allowed_users)
    c.OAuthenticator.admin_users = set(s.oauth_admin_users)
    c.GitHubOAuthenticator.allowed_organizations = set(s.oauth_allowed_orgs)
    # Without read:org, GitHub shows only public memberships: private members were refused.
    c.GitHubOAuthenticator.scope = ["read:org"] if s.oauth_allowed_orgs else []
    c.GenericOAuthenticator.authorize_url = s.oidc_authorize_url
    c.GenericOAuthenticator.token_url = s.oidc_token_url
    c.GenericOAuthenticator.userdata_url = s.oidc_userdata_url
c.JupyterHub.load_groups = role_groups()
c.JupyterHub.load_roles = hub_roles(s)
# lms-api requires this scope on every token: users (and so their default tokens) have it.
c.JupyterHub.extra_user_scopes = {LMS_API_ACCESS}

# --- workspaces ------------------------------------------------------------------------
c.Spawner.lms_api_url = s.lms_api_base
c.Spawner.lms_api_token = s.hub_service_token.get_secret_value()
c.Spawner.environment = {"APRANOVA_LMS_API_URL": s.lms_api_base}  # for lms_api.client
# How late the hub learns of activity (proxy traffic; each workspace's own report): the idle
# culler and sessions' attendance see it at most this late.
c.JupyterHub.last_activity_interval = s.activity_seconds
c.Spawner.server_token_scopes = SERVER_TOKEN_SCOPES  # the notebook's token may use lms-api
c.Spawner.start_timeout = s.workspace_start_timeout
c.Spawner.http_timeout = s.workspace_start_timeout
c.JupyterHub.allow_named_servers = True  # e.g. a JupyterLab and a Superset at once
c.Spawner.servers_per_user = s.workspace_servers_per_user  # running at once, default included
c.JupyterHub.named_server_limit_per_user = 10  # kept, running or stopped (the culler removes)
# A class start: starts beyond this wait in line with their place shown (hub.start_queue),
# so JupyterHub's own limit, which answers 429 "try again later", is off.
c.Spawner.starts_at_once = s.workspace_starts_at_once
c.JupyterHub.concurrent_spawn_limit = 0
# The spawn page with its progress (a place in line included) at once, not after 10 s of a
# browser that seems to hang.
c.JupyterHub.slow_spawn_timeout = 0
if s.mode == "local":
    c.JupyterHub.spawner_class = "hub.spawners.LocalTrackSpawner"
    c.LocalTrackSpawner.home_dir_template = f"{s.workspace_home_root}/{{username}}"
    c.LocalTrackSpawner.system_user_prefix = s.local_user_prefix
    c.LocalTrackSpawner.allow_unisolated = s.local_unisolated_workspaces
else:
    # Containers or pods: the same images, limits and notebook client address.
    c.ContainerWorkspaceMixin.workspace_images = {
        "jupyterlab": s.docker_image_jupyterlab,
        "code-server": s.docker_image_code_server,
        "superset": s.docker_image_superset,
    }
    c.ContainerWorkspaceMixin.workspace_resources = {
        key: limits.model_dump() for key, limits in s.workspace_resources.items()
    }
    c.Spawner.environment = {
        "APRANOVA_LMS_API_URL": workspace_lms_api_url(s, c.JupyterHub.hub_connect_ip)
    }
c.Spawner.environment["JUPYTERHUB_ACTIVITY_INTERVAL"] = str(s.activity_seconds)
if s.mode == "kubernetes":
    c.JupyterHub.spawner_class = "hub.kube_spawner.KubeTrackSpawner"
elif s.mode == "docker":
    c.JupyterHub.spawner_class = "hub.spawners.DockerTrackSpawner"
    c.DockerTrackSpawner.network_name = s.docker_network
    c.DockerTrackSpawner.use_internal_ip = True
    c.DockerTrackSpawner.prefix = s.docker_name_prefix
    c.DockerTrackSpawner.volumes = {s.docker_home_volume: "/home/jovyan"}

# --- services --------------------------------------------------------------------------
c.JupyterHub.services = hub_services(s, c.JupyterHub.hub_ip)
