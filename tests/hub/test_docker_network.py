"""Where notebooks in workspace containers reach lms-api, and where a hub-started lms-api
listens (the real call from a container: tests/e2e/test_docker_workspaces.py)."""

from hub.docker_network import workspace_lms_api_url
from hub.services import managed_services
from hub.settings import HubSettings

GATEWAY = "172.30.0.1"


def lms_api_command(settings: HubSettings, hub_ip: str) -> list[str]:
    service = next(s for s in managed_services(settings, hub_ip) if s["name"] == "lms-api")
    return service["command"]


def test_with_the_hub_on_the_docker_host_lms_api_also_listens_on_the_gateway(tmp_path):
    settings = HubSettings(state_dir=tmp_path, mode="docker", hub_on_docker_host=True)
    command = lms_api_command(settings, GATEWAY)
    assert [a for a in command if a.startswith("--host")] == [
        "--host=127.0.0.1",
        f"--host={GATEWAY}",
    ]
    assert workspace_lms_api_url(settings, GATEWAY) == (
        f"http://{GATEWAY}:{settings.lms_api_port}/services/lms-api/api/v1"
    )


def test_in_local_mode_lms_api_listens_on_loopback_only(tmp_path):
    command = lms_api_command(HubSettings(state_dir=tmp_path), "127.0.0.1")
    assert [a for a in command if a.startswith("--host")] == ["--host=127.0.0.1"]


def test_under_compose_workspaces_use_lms_apis_own_url(tmp_path):
    settings = HubSettings(
        state_dir=tmp_path,
        mode="docker",
        lms_api_url="http://lms-api:8010",
        external_services=True,
        dashboards_url="http://dashboards:8501",
        dagster_url="http://dagster:3000",
    )
    assert workspace_lms_api_url(settings, "hub") == ("http://lms-api:8010/services/lms-api/api/v1")


def test_an_explicit_workspace_url_wins(tmp_path):
    settings = HubSettings(
        state_dir=tmp_path,
        mode="docker",
        hub_on_docker_host=True,
        workspace_lms_api_url="https://hub.school.example/services/lms-api/api/v1",
    )
    assert workspace_lms_api_url(settings, GATEWAY).startswith("https://hub.school.example/")
