"""The one settings object of the hub process (and the `apranova-hub` CLI)."""

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from lms_api.state import is_placeholder, lms_database_url, state_dir, warehouse_file

SECRET_FIELDS = ("cookie_secret", "proxy_auth_token", "lms_api_token", "hub_service_token")


class WorkspaceResources(BaseModel):
    """Limits of one workspace container (Docker mode)."""

    cpu: float = Field(gt=0, le=64, description="CPU cores (a CFS quota)")
    memory: str = Field(pattern=r"^[1-9][0-9]*[KMGT]?$", description="e.g. 2G, 1536M")


DEFAULT_RESOURCES = {
    "default": WorkspaceResources(cpu=1.0, memory="2G"),
    # Superset (gunicorn + its metadata) needs room to import and render
    "superset": WorkspaceResources(cpu=1.0, memory="2G"),
}


def resources_for(
    table: dict[str, WorkspaceResources], track: str, kind: str
) -> WorkspaceResources:
    """The first of 'TRACK/kind', 'TRACK', 'kind', 'default' that the table has."""
    for key in (f"{track}/{kind}", track, kind, "default"):
        if key in table:
            return table[key]
    return DEFAULT_RESOURCES["default"]


class HubSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="APRANOVA_", extra="ignore")

    mode: Literal["local", "docker", "kubernetes"] = Field(
        "local",
        description="Workspaces as local processes, Docker containers, or Kubernetes pods "
        "(KubeSpawner; the hub then runs in the cluster, e.g. with Zero to JupyterHub).",
    )
    production: bool = Field(
        False,
        description="Refuse to start with a missing or placeholder secret (lms-api too), or "
        "with unisolated local workspaces.",
    )
    state_dir: Path = Field(
        default_factory=state_dir,
        description="Local, git-ignored state folder: generated secrets, local accounts, the "
        "SQLite files, the warehouse, Dagster's home; made private at every hub start.",
    )

    bind_ip: str = Field(
        "127.0.0.1",
        description="Address the public proxy listens on (with hub_port); also the host of the "
        "default public URL.",
    )
    public_url: str = Field("", description="External URL, e.g. https://hub.school.example.")
    hub_port: int = Field(8000, description="Port of the public proxy (what users open).")
    hub_api_port: int = Field(
        8081,
        description="Port of the hub's REST API, which lms-api, the services and the workspaces "
        "call; in local mode it listens on 127.0.0.1, not on bind_ip.",
    )
    proxy_api_port: int = Field(
        8001,
        description="Port of the proxy's REST API on 127.0.0.1, where the hub sets its routes.",
    )
    lms_api_port: int = Field(
        8010,
        description="Port lms-api listens on at 127.0.0.1 when the hub starts it; the default "
        "of lms_api_url.",
    )
    dashboards_port: int = Field(
        8020,
        description="Hub-started services: port of the dashboards' hub-login gateway on "
        "127.0.0.1 (where the proxy sends /services/dashboards/).",
    )
    dashboards_upstream_port: int = Field(
        8021,
        description="Hub-started services: port of Streamlit on 127.0.0.1, behind the "
        "dashboards' gateway.",
    )
    dagster_port: int = Field(
        8030,
        description="Hub-started services: port of the Dagster UI's hub-login gateway on "
        "127.0.0.1 (where the proxy sends /services/dagster/).",
    )
    dagster_upstream_port: int = Field(
        8031,
        description="Hub-started services: port of the Dagster webserver on 127.0.0.1, behind "
        "its gateway.",
    )
    proxy_command: str = Field(
        "", description="configurable-http-proxy executable; default: the project's node_modules."
    )
    enable_dagster: bool = Field(True, description="Run the Dagster UI and daemon as hub services.")
    enable_dashboards: bool = Field(
        True, description="Offer the trainers' dashboards (Streamlit) as a hub service."
    )
    external_services: bool = Field(
        False,
        description="lms-api, the dashboards and Dagster run in containers of their own "
        "(docker compose): the hub registers them by URL and token and does not start them.",
    )
    lms_api_url: str = Field("", description="lms-api's own URL; default 127.0.0.1:lms_api_port.")
    dashboards_url: str = Field("", description="External services: the dashboards gateway URL.")
    dagster_url: str = Field("", description="External services: the Dagster UI gateway URL.")
    dashboards_api_token: SecretStr = Field(
        SecretStr(""), description="External services: the dashboards' token."
    )
    dagster_api_token: SecretStr = Field(
        SecretStr(""), description="External services: the Dagster UI's token."
    )

    database_url: str = Field("", description="LMS database URL; default SQLite in state_dir.")
    warehouse_path: str = Field("", description="Published DuckDB warehouse; default in state_dir.")

    authenticator: Literal["local", "github", "google", "generic"] = Field(
        "local",
        description="How users log in: local accounts with passwords (`apranova-hub add-user`), "
        "or OAuth with GitHub, Google or a generic OpenID Connect provider.",
    )
    oauth_client_id: str = Field(
        "", description="OAuth logins: client ID of the school's app at the provider."
    )
    oauth_client_secret: SecretStr = Field(
        SecretStr(""), description="OAuth logins: client secret of the school's app."
    )
    oauth_callback_url: str = Field(
        "",
        description="OAuth logins: where the provider sends users back, "
        "e.g. https://hub.school.example/hub/oauth_callback.",
    )
    oauth_allowed_users: list[str] = Field(
        default_factory=list,
        description="OAuth logins: usernames that may log in, as a JSON list; no one else may, "
        "except oauth_admin_users and members of oauth_allowed_orgs.",
    )
    oauth_allowed_orgs: list[str] = Field(
        default_factory=list,
        description="GitHub logins: organizations (or org:team) whose members may log in, "
        "as a JSON list; the hub then asks for the read:org scope, to see private memberships.",
    )
    oauth_admin_users: list[str] = Field(
        default_factory=list,
        description="OAuth logins: usernames that are hub admins (superadmin), as a JSON list; "
        "they may always log in.",
    )
    oidc_authorize_url: str = Field(
        "", description="Generic OIDC logins: the provider's authorization endpoint."
    )
    oidc_token_url: str = Field(
        "", description="Generic OIDC logins: the provider's token endpoint."
    )
    oidc_userdata_url: str = Field(
        "", description="Generic OIDC logins: the provider's userinfo endpoint."
    )

    cookie_secret: SecretStr = Field(
        SecretStr(""),
        description="Key that signs the hub's login cookies, in hex (openssl rand -hex 32); "
        "generated into state_dir/secrets.env by `apranova-hub init`.",
    )
    proxy_auth_token: SecretStr = Field(
        SecretStr(""),
        description="Token the hub sends to the proxy's REST API; generated like cookie_secret.",
    )
    lms_api_token: SecretStr = Field(
        SecretStr(""),
        description="lms-api's hub API token: the hub registers the lms-api service with it "
        "and hands it to the lms-api it starts; generated like cookie_secret.",
    )
    hub_service_token: SecretStr = Field(
        SecretStr(""),
        description="Token of the hub's own service, apranova-hub, with which workspace starts, "
        "the payment pages and the workspace guard call lms-api; generated like cookie_secret.",
    )

    workspace_home_root: str = Field(
        "",
        description="Local mode: folder holding student homes; default /home/apranova when the "
        "hub runs as root (each student's own account), else state_dir/homes.",
    )
    local_unisolated_workspaces: bool = Field(
        False,
        description="Local mode without root: start workspaces as the hub's own user anyway, "
        "able to read the platform's secrets. A developer's machine only; refused in production.",
    )
    local_user_prefix: str = Field(
        "apranova-",
        pattern=r"^[a-z][a-z0-9_-]{0,15}$",
        description="Local mode as root: prefix of the students' system accounts.",
    )
    workspace_start_timeout: int = Field(
        120, ge=10, description="Seconds a workspace may take to answer before its start fails."
    )
    workspace_servers_per_user: int = Field(
        2, ge=1, le=10, description="Workspaces one student may run at once (named servers)."
    )
    workspace_starts_at_once: int = Field(
        0,
        ge=0,
        le=1000,
        description="Workspaces that start at the same time, all students together; later "
        "starts wait in line in order, each student shown their place and an estimate "
        "(instead of JupyterHub's 429). 0: 2 per CPU core of the hub's host, the fastest "
        "measured (`make bench-spawn`, class start).",
    )
    workspace_resources: dict[str, WorkspaceResources] = Field(
        default_factory=lambda: dict(DEFAULT_RESOURCES),
        description="CPU and memory limits by 'TRACK/kind', 'TRACK', 'kind' or 'default' "
        "(first match wins), as JSON.",
    )
    docker_image_jupyterlab: str = Field(
        "apranova/workspace-jupyterlab:latest",
        description="Docker mode: image of JupyterLab workspaces (never pulled: build it).",
    )
    docker_image_code_server: str = Field(
        "apranova/workspace-code-server:latest",
        description="Docker mode: image of code-server workspaces (never pulled: build it).",
    )
    docker_image_superset: str = Field(
        "apranova/workspace-superset:latest",
        description="Docker mode: image of Superset workspaces (never pulled: build it).",
    )
    docker_network: str = Field(
        "apranova",
        description="Docker mode: the network workspaces are started on; compose makes it, or "
        "the hub, isolated, when it runs on the Docker host.",
    )
    docker_name_prefix: str = Field(
        "apranova", description="Workspace containers are named <prefix>-<user>[--<server>]."
    )
    docker_home_volume: str = Field(
        "apranova-home-{username}",
        description="Name of each student's home volume (kept across stops and image changes).",
    )
    hub_on_docker_host: bool = Field(
        False,
        description="Docker mode with the hub running on the Docker host (not in a container, "
        "as under compose): the hub makes the workspace network itself, with traffic between "
        "workspaces blocked, and listens for them on its gateway address only.",
    )
    hub_connect_ip: str = Field(
        "",
        description="Docker mode: the address workspaces reach the hub API at; default 'hub' "
        "(the compose service) or, with APRANOVA_HUB_ON_DOCKER_HOST, the network's gateway.",
    )
    workspace_lms_api_url: str = Field(
        "",
        description="Docker mode: the LMS API base URL as workspaces reach it (for "
        "lms_api.client); default: lms-api's own URL under compose, or, with "
        "APRANOVA_HUB_ON_DOCKER_HOST, the workspace network's gateway, where the hub then also "
        "starts lms-api.",
    )
    workspace_guard_seconds: float = Field(
        15,
        gt=0,
        le=600,
        description="How often running workspaces are compared with lms-api's rule: a "
        "deactivation, revocation or refund stops them within this time.",
    )
    session_warm_up_minutes: int = Field(
        10,
        ge=0,
        le=120,
        description="How long before a class session starts its students' workspaces are "
        "started (0: no warm-up, and sessions neither keep workspaces from the culler nor "
        "report attendance from them).",
    )
    session_warm_up_every_seconds: float = Field(
        30,
        gt=0,
        le=600,
        description="How often the hub asks lms-api for sessions to warm up, keeps their "
        "workspaces from the idle culler and reports workspace activity for attendance.",
    )
    activity_seconds: int = Field(
        300,
        ge=1,
        le=3600,
        description="How often the hub collects workspace activity (the proxy's traffic and "
        "each workspace's own report): the idle culler and sessions' attendance see activity "
        "at most this late. 300 is JupyterHub's default.",
    )
    cull_idle_seconds: int = Field(3600, description="Stop workspaces idle this long (0: never).")
    cull_every_seconds: int = Field(
        0, ge=0, description="How often the culler looks; 0: a tenth of the idle timeout, >= 60 s."
    )
    role_refresh_seconds: int = Field(
        60,
        ge=0,
        description="Local accounts: how long the hub trusts a user's role (groups, admin "
        "flag) before reading the account store again; `apranova-hub set-role` applies "
        "within this time, without a restart.",
    )
    cull_max_age_seconds: int = Field(
        0, ge=0, description="Stop workspaces older than this even when busy (0: never)."
    )

    @model_validator(mode="after")
    def _derive_and_check(self) -> "HubSettings":
        if not self.database_url:
            self.database_url = lms_database_url(self.state_dir)
        if not self.warehouse_path:
            self.warehouse_path = str(warehouse_file(self.state_dir))
        if not self.proxy_command:
            local = (
                Path(__file__).resolve().parent.parent / "node_modules/.bin/configurable-http-proxy"
            )
            self.proxy_command = str(local) if local.exists() else "configurable-http-proxy"
        if not self.workspace_starts_at_once:
            self.workspace_starts_at_once = 2 * (os.cpu_count() or 1)
        if not self.workspace_home_root:
            self.workspace_home_root = (
                "/home/apranova" if os.geteuid() == 0 else str(self.state_dir / "homes")
            )
        self.lms_api_url = (self.lms_api_url or f"http://127.0.0.1:{self.lms_api_port}").rstrip("/")
        if self.external_services:
            needed = {"dashboards_url": self.enable_dashboards, "dagster_url": self.enable_dagster}
            missing = [
                f"APRANOVA_{f.upper()}" for f, on in needed.items() if on and not getattr(self, f)
            ]
            if missing:
                raise ValueError(f"external services need their URLs: {', '.join(missing)}")
        if self.production and self.local_unisolated_workspaces:
            raise ValueError(
                "production mode refuses APRANOVA_LOCAL_UNISOLATED_WORKSPACES: run the hub as "
                "root (one system account per student) or use docker mode"
            )
        if self.production:
            bad = [f for f in self.secret_fields if is_placeholder(getattr(self, f))]
            if bad:
                names = ", ".join(f"APRANOVA_{f.upper()}" for f in bad)
                raise ValueError(f"production mode refuses missing or placeholder secrets: {names}")
        return self

    @property
    def secret_fields(self) -> tuple[str, ...]:
        """Secrets that must be real in production, given the chosen login and layout."""
        extra = []
        if self.authenticator != "local":
            extra += ["oauth_client_id", "oauth_client_secret"]
        if self.external_services and self.enable_dashboards:
            extra.append("dashboards_api_token")
        if self.external_services and self.enable_dagster:
            extra.append("dagster_api_token")
        return (*SECRET_FIELDS, *extra)

    @property
    def hub_public_url(self) -> str:
        return self.public_url or f"http://{self.bind_ip}:{self.hub_port}"

    @property
    def lms_api_base(self) -> str:
        """Where hub-side code reaches the LMS API directly (not through the proxy)."""
        return f"{self.lms_api_url}/services/lms-api/api/v1"


def secrets_file(state_dir: Path) -> Path:
    return state_dir / "secrets.env"


@lru_cache
def get_settings() -> HubSettings:
    """Settings from the environment, then the local generated secrets file."""
    state = state_dir()
    return HubSettings(_env_file=(".env", secrets_file(state)))  # type: ignore[call-arg]
