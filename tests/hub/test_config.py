"""jupyterhub_config.py turns settings into hub config (loaded fresh in a subprocess)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hub.auth import oauthenticator_class

REPO_ROOT = Path(__file__).resolve().parents[2]
LOAD = """
import json
from traitlets.config.loader import PyFileConfigLoader
c = PyFileConfigLoader("jupyterhub_config.py", path=".").load_config()
print(json.dumps({
    "authenticator": c.JupyterHub.authenticator_class,
    "spawner": c.JupyterHub.spawner_class,
    "client_id": c.OAuthenticator.get("client_id"),
    "orgs": sorted(c.GitHubOAuthenticator.get("allowed_organizations", [])),
    "admins": sorted(c.Authenticator.get("admin_users", [])),
    "groups": c.JupyterHub.load_groups,
    "services": [s["name"] for s in c.JupyterHub.services],
    "cleanup": c.JupyterHub.cleanup_servers,
}))
"""


def load_config(tmp_path, **env: str) -> dict:
    environment = {
        "PATH": "/usr/bin:/bin",
        "APRANOVA_STATE_DIR": str(tmp_path),
        "APRANOVA_COOKIE_SECRET": "ab" * 32,
        **{f"APRANOVA_{k.upper()}": v for k, v in env.items()},
    }
    out = subprocess.run(
        [sys.executable, "-c", LOAD],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


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
    assert config["groups"]["trainers"]["users"] == ["tess"]
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
    assert "dagster" not in config["services"]
    module, _, name = config["authenticator"].rpartition(".")
    assert hasattr(__import__(module, fromlist=[name]), name)  # the class really exists


def test_idle_culling_is_on_by_default_and_can_be_turned_off(tmp_path):
    assert "idle-culler" in load_config(tmp_path)["services"]
    assert "idle-culler" not in load_config(tmp_path, cull_idle_seconds="0")["services"]


def test_docker_mode_uses_the_docker_spawner_and_keeps_workspaces(tmp_path):
    config = load_config(tmp_path, mode="docker")
    assert config["spawner"] == "hub.spawners.DockerTrackSpawner"
    assert config["cleanup"] is False
