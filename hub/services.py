"""The hub-managed services (lms-api, dashboards, Dagster) and the roles they need."""

import os
import sys
from pathlib import Path

from hub.settings import HubSettings
from lms_api.principal import ADMINS_GROUP, GROUP_OF_ROLE, TRAINERS_GROUP

REPO_ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable

# lms-api refuses tokens without it (lms_api/auth.py): every user has it (the `user` role), so
# tokens made on /hub/token with the default scopes carry it, and so do workspace tokens.
LMS_API_ACCESS = "access:services!service=lms-api"
# What a workspace's own token ($JUPYTERHUB_API_TOKEN) may do: JupyterHub's `server` role
# (activity, access to the server itself) plus using lms-api from a notebook.
SERVER_TOKEN_SCOPES = ["users:activity!user", "access:servers!server", LMS_API_ACCESS]


def shared_environment(s: HubSettings) -> dict[str, str]:
    return {
        "APRANOVA_STATE_DIR": str(s.state_dir),
        "APRANOVA_DATABASE_URL": s.database_url,
        "APRANOVA_WAREHOUSE_PATH": s.warehouse_path,
        "APRANOVA_PRODUCTION": str(s.production).lower(),
        "DAGSTER_HOME": str(s.state_dir / "dagster"),
    }


def hub_services(s: HubSettings, hub_ip: str = "127.0.0.1") -> list[dict]:
    """`hub_ip`: where the hub API listens (a Docker bridge gateway when the hub runs on the
    Docker host), for the services that call it."""
    services = external_services(s) if s.external_services else managed_services(s, hub_ip)
    if s.cull_idle_seconds > 0:
        services.append(
            {
                "name": "idle-culler",
                "command": [
                    PY,
                    "-m",
                    "hub.interruptible",  # stops on the hub's SIGINT even if SIGINT was ignored
                    "jupyterhub_idle_culler",
                    f"--timeout={s.cull_idle_seconds}",
                    f"--cull-every={s.cull_every_seconds or max(60, s.cull_idle_seconds // 10)}",
                    f"--max-age={s.cull_max_age_seconds}",
                    "--remove-named-servers=true",
                ],
                "display": False,
            }
        )
    return services


def apranova_hub_service(s: HubSettings) -> dict:
    """The hub's own service: its token asks lms-api the workspace rule at each spawn, and its
    process, `hub.workspace_guard`, stops running workspaces that rule no longer allows and
    warms up class sessions (`hub.session_warmup`)."""
    return {
        "name": "apranova-hub",
        "api_token": s.hub_service_token.get_secret_value(),
        "display": False,
        "command": [
            PY,
            "-m",
            "hub.workspace_guard",
            "--lms-api-url",
            s.lms_api_base,
            "--every",
            str(s.workspace_guard_seconds),
            "--warm-up-minutes",
            str(s.session_warm_up_minutes),
            "--warm-up-every",
            str(s.session_warm_up_every_seconds),
            "--cull-idle-seconds",
            str(s.cull_idle_seconds),
        ],
    }


# How long the hub waits at its start for the dashboards and the Dagster UI to answer
# (JupyterHub's Service.timeout, 30 s by default). Under compose they start only once the hub is
# healthy (depends_on: service_healthy), so at every `up` the hub waited 30 s for each in vain
# before its proxy answered /hub/health. JupyterHub routes to them either way; lms-api, which
# starts before the hub, keeps the default.
STARTED_AFTER_THE_HUB_WAIT_SECONDS = 1


def external_services(s: HubSettings) -> list[dict]:
    """docker compose: each service is its own container; the hub only routes to it and
    does its login (the gateways use OAuth client `service-<name>`)."""
    services: list[dict] = [
        {
            "name": "lms-api",
            "url": s.lms_api_url,
            "api_token": s.lms_api_token.get_secret_value(),
            "display": False,
            **PORTAL_OAUTH,
        },
        apranova_hub_service(s),
    ]
    if s.enable_dashboards:
        services.append(
            {
                "name": "dashboards",
                "url": s.dashboards_url,
                "api_token": s.dashboards_api_token.get_secret_value(),
                "oauth_no_confirm": True,
                "timeout": STARTED_AFTER_THE_HUB_WAIT_SECONDS,
            }
        )
    if s.enable_dagster:
        services.append(
            {
                "name": "dagster",
                "url": s.dagster_url,
                "api_token": s.dagster_api_token.get_secret_value(),
                "oauth_no_confirm": True,
                "timeout": STARTED_AFTER_THE_HUB_WAIT_SECONDS,
            }
        )
    return services


# The portal's browser sign-in (lms_api/portal/signin.py): the hub's OAuth with lms-api as the
# client, sent back to the portal's callback, without a "may lms-api see who you are" prompt.
PORTAL_PATH = "/services/lms-api/portal/"
PORTAL_OAUTH = {"oauth_no_confirm": True, "oauth_redirect_uri": f"{PORTAL_PATH}oauth_callback"}

# lms-api's own secrets: the hub passes them on to lms-api and uses none of them itself.
LMS_API_SECRETS = ("APRANOVA_STRIPE_SECRET_KEY", "APRANOVA_STRIPE_WEBHOOK_SECRET")


def lms_api_environment(s: HubSettings, hub_ip: str = "127.0.0.1") -> dict[str, str]:
    """The hub's own APRANOVA_* settings (e.g. APRANOVA_GEMINI_API_KEY, the upload limit),
    which JupyterHub would not pass to a service, but none of the hub's secrets or tokens
    except lms-api's own (Stripe); then what the hub decides for lms-api."""
    local = "127.0.0.1" if hub_ip == "0.0.0.0" else ""  # listening everywhere: use loopback
    passed = {
        k: v
        for k, v in os.environ.items()
        if k.startswith("APRANOVA_")
        and (k in LMS_API_SECRETS or ("SECRET" not in k and "TOKEN" not in k))
    }
    return {
        **passed,
        **shared_environment(s),
        "APRANOVA_PUBLIC_URL": s.hub_public_url,
        "APRANOVA_AUTHENTICATOR": s.authenticator,
        "APRANOVA_LMS_API_TOKEN": s.lms_api_token.get_secret_value(),
        "APRANOVA_HUB_API_URL": f"http://{local or hub_ip}:{s.hub_api_port}/hub/api",
    }


def lms_api_hosts(hub_ip: str) -> list[str]:
    """Where a hub-started lms-api listens: loopback (the hub, its proxy and local notebooks),
    and with the hub on the Docker host also the workspace network's gateway, where the hub
    API listens too, so that notebooks in containers reach it (`workspace_lms_api_url`)."""
    return ["127.0.0.1"] if hub_ip in ("127.0.0.1", "0.0.0.0") else ["127.0.0.1", hub_ip]


def managed_services(s: HubSettings, hub_ip: str = "127.0.0.1") -> list[dict]:
    """`make up`: the hub starts and supervises every service as a local process."""
    env = shared_environment(s)
    services: list[dict] = [
        {
            "name": "lms-api",
            "url": f"http://127.0.0.1:{s.lms_api_port}",
            "api_token": s.lms_api_token.get_secret_value(),
            "command": [
                *(PY, "-m", "lms_api.cli", "serve", "--port", str(s.lms_api_port)),
                *(f"--host={host}" for host in lms_api_hosts(hub_ip)),
            ],
            "environment": lms_api_environment(s, hub_ip),
            "display": False,
            **PORTAL_OAUTH,
        },
        # The hub's own identity when it asks lms-api about enrollments; its process is the
        # workspace guard (stops what lms-api no longer allows).
        apranova_hub_service(s),
    ]
    if s.enable_dashboards:
        services.append(
            {
                "name": "dashboards",
                "url": f"http://127.0.0.1:{s.dashboards_port}",
                "oauth_no_confirm": True,
                "command": gateway_command(
                    s.dashboards_upstream_port,
                    [TRAINERS_GROUP, ADMINS_GROUP],
                    [
                        PY,
                        "-m",
                        "streamlit",
                        "run",
                        str(REPO_ROOT / "dashboards" / "app.py"),
                        "--server.address",
                        "127.0.0.1",
                        "--server.port",
                        str(s.dashboards_upstream_port),
                        "--server.baseUrlPath",
                        "services/dashboards",
                        "--server.headless",
                        "true",
                        "--browser.gatherUsageStats",
                        "false",
                        "--client.toolbarMode",
                        "viewer",
                    ],
                ),
                "environment": env,
            }
        )
    if s.enable_dagster:
        services += [
            {
                "name": "dagster",
                "url": f"http://127.0.0.1:{s.dagster_port}",
                "oauth_no_confirm": True,
                "command": gateway_command(
                    s.dagster_upstream_port,
                    [ADMINS_GROUP],
                    # The Dagster webserver behind a guard that refuses whatever lacks the
                    # gateway's per-start secret (pipelines/webserver.py): its port has no
                    # login, and a notebook in local mode could otherwise dial it.
                    [
                        PY,
                        "-m",
                        "pipelines.webserver",
                        "-m",
                        "pipelines.definitions",
                        "-h",
                        "127.0.0.1",
                        "-p",
                        str(s.dagster_upstream_port),
                        "--path-prefix",
                        "/services/dagster",
                        # Its own INFO lines would bury the hub's in the terminal.
                        "--dagster-log-level",
                        "warning",
                    ],
                ),
                "environment": env,
            },
            {
                "name": "dagster-daemon",
                # The daemon says "checking for new runs" at INFO on every sensor tick.
                "command": [
                    PY,
                    "-m",
                    "dagster._daemon",
                    "run",
                    "-m",
                    "pipelines.definitions",
                    "--log-level",
                    "warning",
                ],
                "environment": env,
                "display": False,
            },
        ]
    return services


def gateway_command(upstream_port: int, groups: list[str], upstream: list[str]) -> list[str]:
    allow = [arg for g in groups for arg in ("--allow-group", g)]
    return [PY, "-m", "hub.gateway", "--upstream-port", str(upstream_port), *allow, "--", *upstream]


def hub_roles(s: HubSettings) -> list[dict]:
    """Scopes of the services, and which groups may open the dashboards / Dagster UI."""
    roles = [
        {
            "name": "lms-api",
            "description": "Read users' admin flag and groups to check roles on API calls, "
            "and their servers to show on the portal which workspaces run.",
            "scopes": ["read:users", "read:users:groups", "read:groups", "read:servers"],
            "services": ["lms-api"],
        },
        {
            "name": "apranova-hub",
            "description": "The hub asking lms-api about enrollments, stopping the "
            "workspaces lms-api no longer allows (hub.workspace_guard), and starting, keeping "
            "and stopping class sessions' workspaces (hub.session_warmup).",
            "scopes": [
                "read:users:name",
                LMS_API_ACCESS,
                "list:users",
                "read:users:activity",
                "users:activity",
                "servers",
                "read:tokens",  # whether a student opened a workspace warmed for her
            ],
            "services": ["apranova-hub"],
        },
    ]
    if s.cull_idle_seconds > 0:
        roles.append(
            {
                "name": "idle-culler",
                "description": "Stop workspaces idle longer than APRANOVA_CULL_IDLE_SECONDS.",
                "scopes": [
                    "list:users",
                    "read:users:activity",
                    "read:servers",
                    "delete:servers",
                ],
                "services": ["idle-culler"],
            }
        )
    if s.enable_dashboards:
        roles.append(
            {
                "name": "dashboards-viewer",
                "scopes": ["access:services!service=dashboards"],
                "groups": [TRAINERS_GROUP, ADMINS_GROUP],
            }
        )
    if s.enable_dagster:
        roles.append(
            {
                "name": "pipelines-activity",
                "description": "The analytics pipeline reading workspace activity.",
                "scopes": ["list:users", "read:users:activity", "read:servers"],
                "services": ["dagster"] if s.external_services else ["dagster", "dagster-daemon"],
            }
        )
        roles.append(
            {
                "name": "pipelines-operator",
                "scopes": ["access:services!service=dagster"],
                "groups": [ADMINS_GROUP],
            }
        )
    return roles


def role_groups() -> dict[str, dict]:
    """The groups that carry a role, made empty at hub start (OAuth logins: the hub's admins
    add members in the control panel; local accounts: hub.auth manages them)."""
    return {group: {"users": []} for group in GROUP_OF_ROLE.values()}
