"""jupyterhub_config.py turns settings into hub config (loaded fresh in a subprocess)."""

import pytest

from hub.auth import oauthenticator_class
from tests.hub_config import load_hub_config


def load_config(tmp_path, **env: str) -> dict:
    c = load_hub_config(
        {
            "PATH": "/usr/bin:/bin",
            "APRANOVA_STATE_DIR": str(tmp_path),
            "APRANOVA_COOKIE_SECRET": "ab" * 32,
            **{f"APRANOVA_{k.upper()}": v for k, v in env.items()},
        }
    )
    return {
        "authenticator": c["JupyterHub"]["authenticator_class"],
        "spawner": c["JupyterHub"]["spawner_class"],
        "client_id": c.get("OAuthenticator", {}).get("client_id"),
        "orgs": c.get("GitHubOAuthenticator", {}).get("allowed_organizations", []),
        "github_scope": c.get("GitHubOAuthenticator", {}).get("scope"),
        "admins": c.get("Authenticator", {}).get("admin_users", []),
        "groups": c["JupyterHub"].get("load_groups"),
        "refresh_age": c.get("Authenticator", {}).get("auth_refresh_age"),
        "services": [service["name"] for service in c["JupyterHub"]["services"]],
        "cleanup": c["JupyterHub"]["cleanup_servers"],
        "lms_env": next(
            (
                x.get("environment", {})
                for x in c["JupyterHub"]["services"]
                if x["name"] == "lms-api"
            ),
            {},
        ),
    }


def test_local_mode_uses_local_accounts_and_their_roles(tmp_path):
    from hub.passwords import PasswordStore

    store = PasswordStore(tmp_path / "accounts.sqlite")
    store.add("boss", "pw-boss-1234", "superadmin")
    store.add("tess", "pw-tess-1234", "trainer")
    store.add("ada", "pw-ada-1234", "student")
    config = load_config(tmp_path)
    assert config["authenticator"] == "hub.auth.LocalPasswordAuthenticator"
    assert config["spawner"] == "hub.spawners.LocalTrackSpawner"
    assert config["admins"] == ["boss"]
    # roles reach the hub through the authenticator (tests/hub/test_roles.py), re-read every
    # minute; the role groups are made empty at the start
    assert config["groups"] == {"trainers": {"users": []}, "admins": {"users": []}}
    assert config["refresh_age"] == 60
    assert config["services"] == [
        "lms-api",
        "apranova-hub",
        "dashboards",
        "dagster",
        "dagster-daemon",
        "idle-culler",
    ]
    assert config["cleanup"] is True


@pytest.mark.parametrize("provider", ["github", "google", "generic"])
def test_oauth_providers_are_selected_by_settings(tmp_path, provider):
    config = load_config(
        tmp_path,
        authenticator=provider,
        oauth_client_id="client-123",
        oauth_allowed_orgs='["school"]',
        enable_dagster="false",
    )
    assert config["authenticator"] == oauthenticator_class(provider)
    assert config["client_id"] == "client-123"
    assert config["orgs"] == ["school"]
    # GitHub tells the hub about private organization memberships only with read:org
    assert config["github_scope"] == ["read:org"]
    # OAuth: the role groups exist, empty; the hub's admins add members in the control panel
    assert config["groups"] == {"trainers": {"users": []}, "admins": {"users": []}}
    assert "dagster" not in config["services"]
    module, _, name = config["authenticator"].rpartition(".")
    assert hasattr(__import__(module, fromlist=[name]), name)  # the class really exists


def test_the_lms_api_gets_the_hubs_lms_settings(tmp_path):
    env = load_config(
        tmp_path,
        gemini_api_key="key-123",
        quiz_generations_per_hour="5",
        proxy_auth_token="cd" * 32,
    )["lms_env"]
    assert env["APRANOVA_GEMINI_API_KEY"] == "key-123"
    assert "APRANOVA_COOKIE_SECRET" not in env and "APRANOVA_PROXY_AUTH_TOKEN" not in env
    assert env["APRANOVA_QUIZ_GENERATIONS_PER_HOUR"] == "5"
    assert env["APRANOVA_HUB_API_URL"].endswith("/hub/api")  # the hub's own choice wins
    assert env["APRANOVA_STATE_DIR"] == str(tmp_path)


def test_idle_culling_is_on_by_default_and_can_be_turned_off(tmp_path):
    assert "idle-culler" in load_config(tmp_path)["services"]
    assert "idle-culler" not in load_config(tmp_path, cull_idle_seconds="0")["services"]


def test_docker_mode_uses_the_docker_spawner_and_keeps_workspaces(tmp_path):
    config = load_config(tmp_path, mode="docker")
    assert config["spawner"] == "hub.spawners.DockerTrackSpawner"
    assert config["cleanup"] is False


def test_starts_beyond_the_setting_queue_instead_of_a_429(tmp_path):
    c = load_hub_config(
        {
            "PATH": "/usr/bin:/bin",
            "APRANOVA_STATE_DIR": str(tmp_path),
            "APRANOVA_COOKIE_SECRET": "ab" * 32,
            "APRANOVA_WORKSPACE_STARTS_AT_ONCE": "3",
        }
    )
    assert c["Spawner"]["starts_at_once"] == 3
    assert c["JupyterHub"]["concurrent_spawn_limit"] == 0  # the line orders them instead


def test_kubernetes_mode_spawns_pods_with_the_docker_modes_images_and_limits(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "APRANOVA_STATE_DIR": str(tmp_path),
        "APRANOVA_COOKIE_SECRET": "ab" * 32,
        "APRANOVA_MODE": "kubernetes",
        "APRANOVA_LMS_API_URL": "http://lms-api:8010",
        "APRANOVA_DOCKER_IMAGE_JUPYTERLAB": "registry.example/lab:1",
    }
    c = load_hub_config(env)
    assert c["JupyterHub"]["spawner_class"] == "hub.kube_spawner.KubeTrackSpawner"
    assert c["JupyterHub"]["cleanup_servers"] is False  # a hub restart keeps the pods
    assert c["JupyterHub"]["hub_connect_ip"] == "hub"  # Zero to JupyterHub's hub service
    assert (
        c["ContainerWorkspaceMixin"]["workspace_images"]["jupyterlab"] == "registry.example/lab:1"
    )
    assert c["Spawner"]["environment"] == {
        "APRANOVA_LMS_API_URL": "http://lms-api:8010/services/lms-api/api/v1",
        "JUPYTERHUB_ACTIVITY_INTERVAL": "300",  # as often as the hub reads the proxy's
    }
