"""docker-compose.yml, the Dockerfiles under images/ and .env.example, checked without an engine.

`docker-compose config` renders the compose file the way compose runs it (interpolation of the
environment, YAML anchors, schema validation); the tests assert on that rendering, with the
complete environment made from .env.example. The Dockerfiles are parsed. The scripts the
images and compose rely on (health checks, the PostgreSQL init script) are run for real.
"""

import os
import re
import secrets
import shutil
import subprocess
import sys
import threading
import tomllib
import uuid
from contextlib import contextmanager
from fnmatch import fnmatch
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version
from pydantic import ValidationError
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from hub import services as hub_services_module
from hub.services import hub_roles, hub_services
from hub.settings import SECRET_FIELDS, HubSettings
from lms_api.config import Settings as LmsSettings
from tests.hub_config import load_hub_config

REPO_ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"
INIT_SCRIPT = REPO_ROOT / "images/postgres/initdb/10-apranova-roles.sh"

# Each Dockerfile and its build context.
DOCKERFILES = {
    "platform": (REPO_ROOT / "images/platform/Dockerfile", REPO_ROOT),
    "jupyterlab": (REPO_ROOT / "images/jupyterlab/Dockerfile", REPO_ROOT),
    "code-server": (REPO_ROOT / "images/code-server/Dockerfile", REPO_ROOT),
    "superset": (REPO_ROOT / "images/superset/Dockerfile", REPO_ROOT),
}
# The containers `docker compose up` runs, and the build-only service of the workspace image.
SERVICES = {"postgres", "hub", "lms-api", "dagster-webserver", "dagster-daemon", "dashboards"}
BUILD_ONLY = {"workspace-jupyterlab", "workspace-code-server", "workspace-superset"}
OURS = SERVICES - {"postgres"}
REQUIRED = {
    "APRANOVA_PUBLIC_URL",
    "APRANOVA_COOKIE_SECRET",
    "APRANOVA_PROXY_AUTH_TOKEN",
    "APRANOVA_LMS_API_TOKEN",
    "APRANOVA_HUB_SERVICE_TOKEN",
    "APRANOVA_DASHBOARDS_API_TOKEN",
    "APRANOVA_DAGSTER_API_TOKEN",
    "APRANOVA_POSTGRES_PASSWORD",
    "APRANOVA_POSTGRES_READER_PASSWORD",
    "APRANOVA_DAGSTER_POSTGRES_PASSWORD",
    "APRANOVA_DOCKER_GID",
}
DOCKER_SOCKET = "/var/run/docker.sock"


# --- helpers ---------------------------------------------------------------------------------
def compose_binary() -> str:
    found = shutil.which("docker-compose")
    if found:
        return found
    reason = "docker-compose is not on PATH (Debian: apt-get install docker-compose)"
    if os.environ.get("APRANOVA_REQUIRE_SERVICES") == "1":
        pytest.fail(f"required tool missing: {reason}")
    pytest.skip(f"{reason}; it renders docker-compose.yml for these tests")


def env_file_text(content: str) -> dict[str, str]:
    values = {}
    for line in content.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, f"not KEY=VALUE: {line!r}"
            values[key] = value
    return values


def env_file(path: Path) -> dict[str, str]:
    return env_file_text(path.read_text())


def complete_env() -> dict[str, str]:
    """.env.example with every `change-me` replaced by a real value."""
    values = env_file(ENV_EXAMPLE)
    for key, value in values.items():
        if value == "change-me":
            values[key] = "998" if key.endswith("_GID") else secrets.token_hex(32)
    return values


def run_compose(variables: dict[str, str], empty_env_file: Path) -> subprocess.CompletedProcess:
    """`docker-compose config` with exactly these variables (no .env, no APRANOVA_* of ours)."""
    base = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "LC_ALL") if k in os.environ}
    return subprocess.run(
        [compose_binary(), "--env-file", str(empty_env_file), "-f", str(COMPOSE_FILE), "config"],
        cwd=REPO_ROOT,
        env={**base, **variables},
        capture_output=True,
        text=True,
        timeout=120,
    )


def refusal(done: subprocess.CompletedProcess) -> str:
    """The reason compose gives, without the echo of the file's text (compose v1 prints it).

    v1: 'Missing mandatory value ... interpolating {<the raw mapping>} in service "x": <reason>'
    v2: 'error while interpolating ...: required variable X is missing a value: <reason>'
    """
    lines = done.stderr.strip().splitlines()
    return lines[-1].rsplit('in service "', 1)[-1] if lines else ""


def mounts(service: dict) -> list[tuple[str, str, bool]]:
    """(source, target, read_only) of each volume, short (compose v1) or long (v2) syntax."""
    found = []
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            parts = volume.split(":")
            source, target = parts[0], parts[1]
            read_only = len(parts) > 2 and "ro" in parts[2].split(",")
        else:
            source, target = volume.get("source", ""), volume["target"]
            read_only = bool(volume.get("read_only"))
        found.append((source, target, read_only))
    return found


def published_ports(service: dict) -> list[tuple[str, str, int]]:
    """(host ip, published port, container port) of each published port."""
    found = []
    for port in service.get("ports", []):
        if isinstance(port, str):
            spec = port.split("/")[0]
            host_ip, published, target = spec.rsplit(":", 2)
            found.append((host_ip, published, int(target)))
        else:
            found.append((port.get("host_ip", ""), str(port["published"]), int(port["target"])))
    return found


def networks_of(service: dict) -> set[str]:
    return set(service.get("networks") or ())  # a mapping (or a list) of network names


def compose_text_without_comments() -> str:
    lines = COMPOSE_FILE.read_text().splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith("#"))


def url_port(url: str) -> int:
    return urlsplit(url).port


def dockerfile(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    instructions, pending = [], ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line.startswith("#") or (not line and pending):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        if line:
            keyword, _, arguments = line.partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def arg_default(instructions: list[tuple[str, str]], name: str) -> str | None:
    for keyword, arguments in instructions:
        if keyword == "ARG" and arguments.partition("=")[0] == name:
            return arguments.partition("=")[2] or None
    return None


def dockerignored(path: str) -> bool:
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    parts = Path(path).parts
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(
        fnmatch(prefix, pattern.removeprefix("**/")) or fnmatch(prefix, pattern)
        for pattern in patterns
        for prefix in prefixes
    )


@pytest.fixture(scope="module")
def empty_env_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("compose") / "empty.env"
    path.write_text("")
    return path


@pytest.fixture(scope="module")
def variables() -> dict[str, str]:
    return complete_env()


@pytest.fixture(scope="module")
def rendered(variables, empty_env_file) -> dict:
    done = run_compose(variables, empty_env_file)
    assert done.returncode == 0, f"docker-compose config failed:\n{done.stderr}"
    return yaml.safe_load(done.stdout)


@pytest.fixture(scope="module")
def services(rendered) -> dict[str, dict]:
    return rendered["services"]


# --- (a) the rendered compose file -----------------------------------------------------------
def test_the_platform_services_and_the_build_only_workspace_image(services):
    assert set(services) == SERVICES | BUILD_ONLY
    for name in SERVICES:
        assert not services[name].get("profiles"), f"{name} must start with `docker compose up`"
    workspace = services["workspace-jupyterlab"]
    assert workspace["profiles"] == ["workspaces"]
    assert workspace["network_mode"] == "none" and not workspace.get("ports")


def test_only_the_hub_mounts_the_docker_socket(services):
    with_socket = {
        name
        for name, service in services.items()
        for source, _, _ in mounts(service)
        if source.endswith("docker.sock")
    }
    assert with_socket == {"hub"}
    hub_socket = [m for m in mounts(services["hub"]) if m[0].endswith("docker.sock")]
    # DockerSpawner's default DOCKER_HOST is unix:///var/run/docker.sock.
    assert hub_socket == [(DOCKER_SOCKET, DOCKER_SOCKET, False)]
    assert services["hub"]["group_add"] == ["998"]  # the socket's group, from APRANOVA_DOCKER_GID


def test_every_service_is_health_checked_or_waits_for_a_healthy_one(services):
    def checked(name: str) -> bool:
        check = services[name].get("healthcheck") or {}
        return bool(check.get("test")) and check["test"][0] != "NONE" and not check.get("disable")

    for name in SERVICES:
        depends = services[name].get("depends_on", {})
        healthy_deps = [
            dep
            for dep, how in (depends.items() if isinstance(depends, dict) else [])
            if how.get("condition") == "service_healthy" and checked(dep)
        ]
        assert checked(name) or healthy_deps, f"{name}: no healthcheck, no healthy dependency"
        for dep, how in depends.items():
            assert how.get("condition") == "service_healthy", f"{name} starts before {dep} is up"
    # What needs the database waits for it; the hub waits for the API it asks on every spawn.
    for name in ("lms-api", "dagster-webserver", "dagster-daemon"):
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["hub"]["depends_on"]["lms-api"]["condition"] == "service_healthy"


def test_health_checks_ask_the_ports_each_service_listens_on(services):
    def urls(name: str) -> list[str]:
        return [arg for arg in services[name]["healthcheck"]["test"] if arg.startswith("http")]

    assert urls("hub") == ["http://127.0.0.1:8000/hub/health"]
    assert urls("lms-api") == ["http://127.0.0.1:8010/api/v1/health"]
    # Both the gateway and the app behind it.
    assert {url_port(u) for u in urls("dashboards")} == {8020, 8021}
    assert {url_port(u) for u in urls("dagster-webserver")} == {8030, 8031}
    assert services["dagster-daemon"]["healthcheck"]["test"][1:] == [
        "dagster-daemon",
        "liveness-check",
    ]
    postgres = " ".join(services["postgres"]["healthcheck"]["test"])
    assert "pg_isready" in postgres and "-h 127.0.0.1" in postgres


def test_only_the_hub_publishes_a_port_and_on_loopback_by_default(variables, empty_env_file):
    # Only the required values: the compose file's own defaults apply.
    done = run_compose({k: v for k, v in variables.items() if k in REQUIRED}, empty_env_file)
    assert done.returncode == 0, done.stderr
    services = yaml.safe_load(done.stdout)["services"]
    for name, service in services.items():
        if name != "hub":
            assert not service.get("ports"), f"{name} must be reached through the hub only"
    assert published_ports(services["hub"]) == [("127.0.0.1", "8000", 8000)]


def test_the_published_port_follows_the_environment(variables, empty_env_file):
    custom = {**variables, "APRANOVA_PUBLISH_ADDRESS": "0.0.0.0", "APRANOVA_PUBLISH_PORT": "443"}
    done = run_compose(custom, empty_env_file)
    assert done.returncode == 0, done.stderr
    hub = yaml.safe_load(done.stdout)["services"]["hub"]
    assert published_ports(hub) == [("0.0.0.0", "443", 8000)]


def test_the_postgres_image_follows_the_environment(variables, empty_env_file):
    # Upstream by default; a local stand-in (images/build-compose-local.sh) when named.
    done = run_compose({k: v for k, v in variables.items() if k in REQUIRED}, empty_env_file)
    assert done.returncode == 0, done.stderr
    assert yaml.safe_load(done.stdout)["services"]["postgres"]["image"] == "postgres:16"
    custom = {**variables, "APRANOVA_POSTGRES_IMAGE": "apranova-local/postgres:15"}
    done = run_compose(custom, empty_env_file)
    assert done.returncode == 0, done.stderr
    postgres = yaml.safe_load(done.stdout)["services"]["postgres"]
    assert postgres["image"] == "apranova-local/postgres:15" and "build" not in postgres


def test_our_images_are_built_from_images_and_postgres_is_upstream(services):
    assert services["postgres"]["image"].startswith("postgres:16")
    assert "build" not in services["postgres"]
    for name in OURS | BUILD_ONLY:
        build = services[name].get("build")
        assert build, f"{name} must be built here, never pulled"
        context = (REPO_ROOT / build["context"]).resolve()
        path = (context / build.get("dockerfile", "Dockerfile")).resolve()
        assert path.is_relative_to(REPO_ROOT / "images"), f"{name}: {path} not under images/"
        kind = next(k for k, (file, _) in DOCKERFILES.items() if file == path)
        assert context == DOCKERFILES[kind][1], f"{name}: wrong build context {context}"
        # The base image compose passes is the Dockerfile's own default.
        default = arg_default(dockerfile(path), "BASE_IMAGE")
        assert build["args"]["BASE_IMAGE"] == default
    platform = {services[name]["image"] for name in OURS}
    assert len(platform) == 1, "hub, lms-api, Dagster and dashboards share one image"


def test_the_hub_settings_accept_the_hub_environment(services, rendered, no_apranova_env):
    hub = services["hub"]
    for key, value in hub["environment"].items():
        no_apranova_env.setenv(key, str(value))
    settings = HubSettings(_env_file=None)  # production: refuses placeholders, so real secrets
    assert settings.mode == "docker" and settings.production
    assert hub["command"] == ["jupyterhub", "-f", "/srv/apranova/jupyterhub_config.py"]
    # The proxy listens where the port is published; containers reach the hub at hub:8081
    # (jupyterhub_config.py: hub_connect_ip "hub" in docker mode).
    assert settings.bind_ip == "0.0.0.0"
    assert {target for _, _, target in published_ports(hub)} == {settings.hub_port}
    for name in ("lms-api", "dashboards", "dagster-webserver"):
        environment = services[name]["environment"]
        hub_api = environment.get("APRANOVA_HUB_API_URL") or environment["JUPYTERHUB_API_URL"]
        assert hub_api == f"http://hub:{settings.hub_api_port}/hub/api"
    # DockerSpawner starts workspaces on the network compose creates, with the image compose
    # builds.
    network = rendered["networks"]["apranova"]
    assert network["name"] == settings.docker_network and not network.get("internal")
    assert "apranova" in networks_of(hub)
    assert services["workspace-jupyterlab"]["image"] == settings.docker_image_jupyterlab


def test_the_hub_does_not_wait_at_its_start_for_services_compose_starts_after_it(
    services, no_apranova_env
):
    """dashboards and the Dagster UI depend on the hub being healthy: a hub that waited
    JupyterHub's default 30 s for each at its start answered /hub/health a minute late."""
    for key, value in services["hub"]["environment"].items():
        no_apranova_env.setenv(key, str(value))
    registered = {service["name"]: service for service in hub_services(HubSettings(_env_file=None))}
    for name, container in (("dashboards", "dashboards"), ("dagster", "dagster-webserver")):
        assert "hub" in services[container]["depends_on"]
        assert registered[name]["timeout"] <= 2
    assert "hub" not in services["lms-api"].get("depends_on", {})
    assert "timeout" not in registered["lms-api"]  # started first: the default wait is fine


def hub_config(services: dict, tmp_path: Path) -> dict:
    """jupyterhub_config.py loaded (not run) with the hub container's environment only.

    Run from an empty folder, so that no local `.env` adds settings the container lacks.
    """
    environment = {key: str(value) for key, value in services["hub"]["environment"].items()}
    c = load_hub_config(
        {"PATH": os.environ["PATH"], **environment, "APRANOVA_STATE_DIR": str(tmp_path)},
        cwd=tmp_path,
    )
    spawner, containers = c["DockerTrackSpawner"], c["ContainerWorkspaceMixin"]
    return {
        "ip": c["JupyterHub"]["ip"],
        "port": c["JupyterHub"]["port"],
        "hub_connect_ip": c["JupyterHub"]["hub_connect_ip"],
        "spawner": c["JupyterHub"]["spawner_class"],
        "network": spawner["network_name"],
        "images": containers["workspace_images"],
        "volumes": spawner["volumes"],
        "lms_api_url": c["Spawner"]["lms_api_url"],
        "workspace_env": c["Spawner"]["environment"],
        "services": c["JupyterHub"]["services"],
    }


def test_the_hub_config_spawns_workspaces_where_compose_puts_them(services, rendered, tmp_path):
    config = hub_config(services, tmp_path)
    assert config["spawner"] == "hub.spawners.DockerTrackSpawner"
    assert config["network"] == rendered["networks"]["apranova"]["name"]
    # Workspaces reach the hub by the compose service name, on that network.
    assert config["hub_connect_ip"] == "hub" and "apranova" in networks_of(services["hub"])
    assert config["images"] == {
        kind: services[f"workspace-{kind}"]["image"]
        for kind in ("jupyterlab", "code-server", "superset")
    }
    assert list(config["volumes"].values()) == ["/home/jovyan"]
    # The notebook client in a workspace calls lms-api by its service name on that network.
    assert config["workspace_env"]["APRANOVA_LMS_API_URL"] == (
        "http://lms-api:8010/services/lms-api/api/v1"
    )
    assert "apranova" in networks_of(services["lms-api"])
    assert config["ip"] == "0.0.0.0"
    assert {target for _, _, target in published_ports(services["hub"])} == {config["port"]}


def test_the_hub_config_registers_the_service_containers(services, tmp_path):
    config = hub_config(services, tmp_path)
    registered = {service["name"]: service for service in config["services"]}
    # Only small clients of the hub API run inside the hub container: the workspace guard
    # (the apranova-hub service's process) and the idle culler.
    started_by_hub = [name for name, service in registered.items() if service.get("command")]
    assert started_by_hub in (["apranova-hub"], ["apranova-hub", "idle-culler"])
    hub = services["hub"]["environment"]
    expected = {
        "lms-api": ("http://lms-api:8010", hub["APRANOVA_LMS_API_TOKEN"]),
        "dashboards": ("http://dashboards:8020", hub["APRANOVA_DASHBOARDS_API_TOKEN"]),
        "dagster": ("http://dagster-webserver:8030", hub["APRANOVA_DAGSTER_API_TOKEN"]),
    }
    for name, (url, token) in expected.items():
        assert (registered[name]["url"], registered[name]["api_token"]) == (url, token), name
    assert registered["apranova-hub"]["api_token"] == hub["APRANOVA_HUB_SERVICE_TOKEN"]
    # The hub asks lms-api about enrollments at the container, not on its own loopback.
    assert config["lms_api_url"] == "http://lms-api:8010/services/lms-api/api/v1"


def test_the_lms_api_settings_accept_its_environment(
    rendered, services, variables, no_apranova_env
):
    service = services["lms-api"]
    for key, value in service["environment"].items():
        no_apranova_env.setenv(key, str(value))
    settings = LmsSettings(_env_file=None)
    assert settings.production
    url = make_url(settings.database_url)
    assert (url.drivername, url.host, url.database) == (
        "postgresql+psycopg",
        "postgres",
        "apranova",
    )
    assert url.password == variables["APRANOVA_POSTGRES_PASSWORD"]
    command = " ".join(service["command"])
    assert "apranova-lms migrate && exec apranova-lms serve --host 0.0.0.0 --port 8010" in command
    # Uploaded submissions live on a named volume at the folder the settings point to.
    assert ("uploads", str(settings.upload_dir), False) in mounts(service)
    assert "uploads" in rendered["volumes"]
    assert settings.max_upload_bytes == 20 * 1024 * 1024
    assert settings.database_pool_size == 20


def test_the_hub_and_its_external_services_agree_on_urls_and_tokens(services):
    hub = services["hub"]["environment"]
    assert hub["APRANOVA_EXTERNAL_SERVICES"] == "true"
    lms = services["lms-api"]
    assert urlsplit(hub["APRANOVA_LMS_API_URL"]).hostname == "lms-api"
    assert f"--port {url_port(hub['APRANOVA_LMS_API_URL'])}" in " ".join(lms["command"])
    assert lms["environment"]["APRANOVA_LMS_API_TOKEN"] == hub["APRANOVA_LMS_API_TOKEN"]
    for service_name, container, setting in (
        ("dashboards", "dashboards", "DASHBOARDS"),
        ("dagster", "dagster-webserver", "DAGSTER"),
    ):
        environment = services[container]["environment"]
        hub_url = hub[f"APRANOVA_{setting}_URL"]
        assert urlsplit(hub_url).hostname == container
        # The gateway listens on that port on all interfaces of its container.
        listen = urlsplit(environment["JUPYTERHUB_SERVICE_URL"])
        assert (listen.hostname, listen.port) == ("0.0.0.0", url_port(hub_url))
        # Its hub OAuth client is the service the hub registers.
        assert environment["JUPYTERHUB_SERVICE_NAME"] == service_name
        assert environment["JUPYTERHUB_CLIENT_ID"] == f"service-{service_name}"
        assert environment["JUPYTERHUB_SERVICE_PREFIX"] == f"/services/{service_name}/"
        assert environment["JUPYTERHUB_OAUTH_CALLBACK_URL"] == (
            f"/services/{service_name}/oauth_callback"
        )
        assert environment["JUPYTERHUB_API_TOKEN"] == hub[f"APRANOVA_{setting}_API_TOKEN"]
        assert environment["JUPYTERHUB_PUBLIC_URL"] == hub["APRANOVA_PUBLIC_URL"]
    # The proxy in the hub container must reach every service it routes to.
    for container in ("lms-api", "dashboards", "dagster-webserver"):
        assert "apranova" in networks_of(services[container])
    tokens = [hub[f"APRANOVA_{f.upper()}"] for f in SECRET_FIELDS] + [
        hub["APRANOVA_DASHBOARDS_API_TOKEN"],
        hub["APRANOVA_DAGSTER_API_TOKEN"],
    ]
    assert len(set(tokens)) == len(tokens), "each secret is its own"


def test_the_containers_run_what_the_hub_runs_in_local_mode(services, no_apranova_env, tmp_path):
    """Gateway, allowed groups, ports and app command as hub/services.py starts them."""
    settings = HubSettings(_env_file=None, state_dir=tmp_path)
    managed = {service["name"]: service for service in hub_services(settings)}
    app = str(hub_services_module.REPO_ROOT / "dashboards" / "app.py")

    def portable(command: list[str]) -> list[str]:
        replaced = {hub_services_module.PY: "python", app: "dashboards/app.py"}
        return [replaced.get(arg, arg) for arg in command]

    assert services["dashboards"]["command"] == portable(managed["dashboards"]["command"])
    assert services["dagster-webserver"]["command"] == portable(managed["dagster"]["command"])
    assert services["dagster-daemon"]["command"] == portable(managed["dagster-daemon"]["command"])
    assert url_port(services["dashboards"]["environment"]["JUPYTERHUB_SERVICE_URL"]) == (
        settings.dashboards_port
    )
    assert url_port(services["dagster-webserver"]["environment"]["JUPYTERHUB_SERVICE_URL"]) == (
        settings.dagster_port
    )

    # The groups a gateway lets through are the groups the hub grants access to.
    def allowed(command: list[str]) -> set[str]:
        return {command[i + 1] for i, arg in enumerate(command) if arg == "--allow-group"}

    roles = {role["name"]: role for role in hub_roles(settings)}
    assert allowed(services["dashboards"]["command"]) == set(roles["dashboards-viewer"]["groups"])
    assert allowed(services["dagster-webserver"]["command"]) == set(
        roles["pipelines-operator"]["groups"]
    )


def test_the_warehouse_is_written_by_dagster_and_read_only_for_the_dashboards(services):
    users = {
        name: (target, read_only)
        for name, service in services.items()
        for source, target, read_only in mounts(service)
        if source == "warehouse"
    }
    assert users == {
        "dagster-webserver": ("/var/lib/apranova/warehouse", False),
        "dagster-daemon": ("/var/lib/apranova/warehouse", False),
        "dashboards": ("/var/lib/apranova/warehouse", True),
    }
    for name, (target, _) in users.items():
        path = services[name]["environment"]["APRANOVA_WAREHOUSE_PATH"]
        assert Path(path).parent == Path(target), f"{name} reads the warehouse off the volume"
    # Run storage is in PostgreSQL; compute logs and artifacts on a volume both Dagster share.
    storage = {
        name
        for name, service in services.items()
        for m in mounts(service)
        if m[0] == "dagster-storage"
    }
    assert storage == {"dagster-webserver", "dagster-daemon"}
    for name in storage:
        environment = services[name]["environment"]
        assert environment["DAGSTER_HOME"] == "/opt/apranova/dagster"
        assert environment["DAGSTER_POSTGRES_HOST"] == "postgres"
        # The pipelines read the LMS as the read-only role the init script makes.
        assert make_url(environment["APRANOVA_DATABASE_URL"]).username == "apranova_reader"


def test_the_database_is_out_of_reach_of_the_workspaces(rendered, services):
    assert rendered["networks"]["backend"].get("internal") is True
    assert networks_of(services["postgres"]) == {"backend"}
    assert networks_of(services["dagster-daemon"]) == {"backend"}
    assert "backend" not in networks_of(services["dashboards"])
    # Workspaces join the `apranova` network only; postgres publishes nothing.
    assert not services["postgres"].get("ports")


def test_restart_limits_and_no_privileges(services):
    for name in SERVICES:
        service = services[name]
        assert service["restart"] == "unless-stopped", name
        assert service.get("mem_limit") and float(service.get("cpus", 0)) > 0, name
        assert not service.get("privileged"), name
    for name in OURS:
        service = services[name]
        assert service.get("user") in (None, ""), f"{name}: the image's non-root USER applies"
        assert service["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in service["security_opt"], name


# --- (b) required values -----------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_compose_refuses_to_render_without_a_required_value(name, variables, empty_env_file):
    missing = {k: v for k, v in variables.items() if k != name}
    done = run_compose(missing, empty_env_file)
    assert done.returncode != 0
    assert f"{name} is required" in refusal(done), done.stderr


def test_an_empty_secret_counts_as_missing(variables, empty_env_file):
    done = run_compose({**variables, "APRANOVA_COOKIE_SECRET": ""}, empty_env_file)
    assert done.returncode != 0
    assert "APRANOVA_COOKIE_SECRET is required" in refusal(done), done.stderr


def test_the_required_values_are_the_ones_marked_in_the_compose_file():
    marked = set(re.findall(r"\$\{([A-Z0-9_]+):\?", compose_text_without_comments()))
    assert marked == REQUIRED


# --- .env.example ------------------------------------------------------------------------------
def test_env_example_lists_exactly_the_variables_compose_reads():
    read = set(re.findall(r"\$\{([A-Z0-9_]+)", compose_text_without_comments()))
    assert set(env_file(ENV_EXAMPLE)) == read


def test_env_example_shows_the_compose_defaults_of_the_optional_values():
    text = ENV_EXAMPLE.read_text()
    optional = env_file_text(text[text.index("# --- optional") :])
    defaults = dict(re.findall(r"\$\{([A-Z0-9_]+):-([^}]*)\}", compose_text_without_comments()))
    assert optional, "the optional section of .env.example"
    for key, value in optional.items():
        assert defaults.get(key) == value, (
            f"{key}: .env.example {value!r}, compose {defaults.get(key)!r}"
        )


def test_env_example_secrets_are_placeholders_that_production_refuses(tmp_path, no_apranova_env):
    example = env_file(ENV_EXAMPLE)
    for name in REQUIRED - {"APRANOVA_PUBLIC_URL"}:
        assert example[name] == "change-me", f"{name} must not ship a usable value"
    secrets_ = {field: example[f"APRANOVA_{field.upper()}"] for field in SECRET_FIELDS}
    with pytest.raises(ValidationError) as refused:
        HubSettings(_env_file=None, production=True, state_dir=tmp_path, **secrets_)
    for field in SECRET_FIELDS:
        assert f"APRANOVA_{field.upper()}" in str(refused.value)
    with pytest.raises(ValueError, match="APRANOVA_LMS_API_TOKEN"):
        LmsSettings(
            _env_file=None, production=True, lms_api_token=example["APRANOVA_LMS_API_TOKEN"]
        )


# --- (c) Dockerfiles ---------------------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(DOCKERFILES))
def test_dockerfile_base_user_and_healthcheck(kind):
    path, _ = DOCKERFILES[kind]
    instructions = dockerfile(path)
    first_from = next(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    assert arg_default(instructions[:first_from], "BASE_IMAGE"), "ARG BASE_IMAGE=<default> first"
    stage = final_stage(instructions)
    assert stage[0][1].split()[0] == "${BASE_IMAGE}", "the image is built FROM ${BASE_IMAGE}"
    users = [arguments for keyword, arguments in stage if keyword == "USER"]
    assert users, "a USER instruction"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0", ""), f"runs as {users[-1]}"
    checks = [arguments for keyword, arguments in stage if keyword == "HEALTHCHECK"]
    assert len(checks) == 1 and " CMD " in f" {checks[0]} " and "NONE" not in checks[0]
    assert any(keyword == "CMD" for keyword, _ in stage)


@pytest.mark.parametrize("kind", sorted(DOCKERFILES))
def test_dockerfile_copies_only_what_the_build_context_sends(kind):
    path, context = DOCKERFILES[kind]
    for keyword, arguments in dockerfile(path):
        if keyword not in ("COPY", "ADD") or "--from=" in arguments:
            continue
        sources = [a for a in arguments.split() if not a.startswith("--")][:-1]
        for source in sources:
            assert (context / source).exists(), f"{kind}: COPY {source}: not in the context"
            if context == REPO_ROOT:
                assert not dockerignored(source.rstrip("/")), f"{source} is in .dockerignore"


def test_the_build_context_leaves_out_local_state_and_secrets():
    for path in (".env", ".apranova/secrets.env", ".venv/bin/python", "node_modules/x", ".git"):
        assert dockerignored(path), path
    for path in ("hub/services.py", "images/platform/healthcheck.py", "package-lock.json"):
        assert not dockerignored(path), path


def test_workspace_and_hub_run_the_same_jupyterhub_version():
    versions = {
        kind: arg_default(dockerfile(path), "JUPYTERHUB_VERSION")
        for kind, (path, _) in DOCKERFILES.items()
    }
    assert len(set(versions.values())) == 1, versions
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    spec = next(
        d for d in pyproject["project"]["dependencies"] if re.match(r"jupyterhub\b", d)
    ).removeprefix("jupyterhub")
    assert Version(versions["platform"]) in SpecifierSet(spec)


def test_the_workspace_user_owns_the_home_the_spawner_mounts():
    stage = final_stage(dockerfile(DOCKERFILES["jupyterlab"][0]))
    assert [a for k, a in stage if k == "USER"][-1] == "1000:100"
    assert any(k == "ENV" and "HOME=/home/jovyan" in a for k, a in stage)
    assert '"/home/jovyan"' in (REPO_ROOT / "jupyterhub_config.py").read_text()
    # The first start (welcome notebook) runs as that user, then becomes jupyterhub-singleuser.
    assert [a for k, a in stage if k == "CMD"][-1] == (
        '["/opt/workspace/bin/python", "/usr/local/bin/apranova-first-start"]'
    )
    copied = [a for k, a in stage if k == "COPY"]
    assert "images/jupyterlab/first_start.py /usr/local/bin/apranova-first-start" in copied


def test_the_platform_user_owns_every_volume_its_services_mount(rendered, services):
    """Docker copies the image folder's owner to a new named volume: a volume mounted where
    the image made no folder for the non-root user would be root's, and unwritable."""
    stage = final_stage(dockerfile(DOCKERFILES["platform"][0]))
    made = " ".join(a for k, a in stage if k == "RUN" and "install -d -o apranova" in a)
    platform = {
        name: s for name, s in services.items() if s.get("image") == services["hub"]["image"]
    }
    targets = {
        target
        for service in platform.values()
        for source, target, read_only in mounts(service)
        if source in rendered["volumes"] and not read_only
    }
    assert "/var/lib/apranova/uploads" in targets
    for target in targets:
        assert target in re.split(r"[\s;]+", made), (
            f"{target}: not made for the apranova user in the image"
        )


# --- the scripts the images run ------------------------------------------------------------------
@contextmanager
def http_server(routes: dict[str, tuple[int, dict[str, str]]]):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            status, headers = routes.get(self.path, (404, {}))
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_platform_healthcheck_accepts_answers_and_login_redirects_only():
    script = REPO_ROOT / "images/platform/healthcheck.py"
    routes = {
        "/ok": (200, {}),
        # A gateway sends anonymous visitors to the hub login: healthy, and not followed.
        "/login": (302, {"Location": "http://unreachable.invalid/hub/login"}),
        "/broken": (500, {}),
    }
    with http_server(routes) as base:

        def check(*paths: str) -> int:
            urls = [base + p for p in paths]
            return subprocess.run([sys.executable, str(script), *urls], timeout=60).returncode

        assert check("/ok", "/login") == 0
        assert check("/ok", "/broken") == 1
        assert check("/missing") == 1
    assert check("/ok") == 1  # the server is gone: connection refused


def test_workspace_healthcheck_asks_the_server_under_its_hub_prefix():
    script = REPO_ROOT / "images/jupyterlab/healthcheck.py"
    with http_server({"/user/ana/api": (200, {})}) as base:
        port = urlsplit(base).port

        def check(service_url: str) -> int:
            env = {"PATH": os.environ["PATH"], "JUPYTERHUB_SERVICE_URL": service_url}
            return subprocess.run([sys.executable, str(script)], env=env, timeout=60).returncode

        assert check(f"http://0.0.0.0:{port}/user/ana/") == 0
        assert check(f"http://0.0.0.0:{port}/user/ben/") == 1


@pytest.mark.postgres
def test_postgres_init_script_makes_dagster_database_and_read_only_reader(postgres_url):
    """images/postgres/initdb as the postgres image runs it, on a fresh database."""
    psql = shutil.which("psql")
    if psql is None:
        if os.environ.get("APRANOVA_REQUIRE_SERVICES") == "1":
            pytest.fail("required tool missing: psql")
        pytest.skip("psql is not installed (Debian: postgresql-client)")
    url = make_url(postgres_url)
    suffix = uuid.uuid4().hex[:10]
    dagster_db = dagster_user = f"apranova_test_dagster_{suffix}"
    reader = f"apranova_test_reader_{suffix}"
    password = secrets.token_hex(16)
    env = {
        "PATH": os.environ["PATH"],
        "PGHOST": url.host or "",
        "PGPORT": str(url.port or 5432),
        "PGPASSWORD": url.password or "",
        "POSTGRES_USER": url.username,
        "POSTGRES_DB": url.database,
        "DAGSTER_POSTGRES_DB": dagster_db,
        "DAGSTER_POSTGRES_USER": dagster_user,
        "DAGSTER_POSTGRES_PASSWORD": password,
        "LMS_READER_USER": reader,
        "LMS_READER_PASSWORD": password,
    }
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        done = subprocess.run(["sh", str(INIT_SCRIPT)], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        # A table the LMS owner creates later (Alembic, after the init) is readable...
        with admin.connect() as connection:
            connection.execute(text("CREATE TABLE people (id int)"))
            connection.execute(text("INSERT INTO people VALUES (1)"))
        as_reader = create_engine(
            url.set(username=reader, password=password), isolation_level="AUTOCOMMIT"
        )
        try:
            with as_reader.connect() as connection:
                assert connection.execute(text("SELECT count(*) FROM people")).scalar() == 1
            # ... and only readable: read-only sessions, and no write privilege either.
            with as_reader.connect() as connection, pytest.raises(DBAPIError, match="read-only"):
                connection.execute(text("INSERT INTO people VALUES (2)"))
            with as_reader.connect() as connection, pytest.raises(DBAPIError, match="permission"):
                connection.execute(text("SET default_transaction_read_only = off"))
                connection.execute(text("INSERT INTO people VALUES (2)"))
        finally:
            as_reader.dispose()
        # Dagster owns its own database and may create its schema there, not in the LMS.
        as_dagster = create_engine(url.set(username=dagster_user, password=password))
        own = create_engine(url.set(username=dagster_user, password=password, database=dagster_db))
        try:
            with own.begin() as connection:
                connection.execute(text("CREATE TABLE runs (id int)"))
            with pytest.raises(DBAPIError, match="permission denied"):
                as_dagster.connect().close()
        finally:
            as_dagster.dispose()
            own.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{dagster_db}" WITH (FORCE)'))
            for role in (reader, dagster_user):
                exists = connection.execute(
                    text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}
                ).scalar()
                if exists:
                    connection.execute(text(f'DROP OWNED BY "{role}"'))
                    connection.execute(text(f'DROP ROLE "{role}"'))
        admin.dispose()
