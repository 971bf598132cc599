"""deploy/kubernetes/ checked without a cluster, Helm or the chart.

The Zero to JupyterHub values file is parsed and held to the code: the hub's environment
against HubSettings, its secrets against the Secret template, storage and security against
KubeTrackSpawner, images against the settings' defaults, the placeholders against the capacity
plan. Its `hub.extraConfig` runs for real over a stand-in for what the chart's own
jupyterhub_config.py sets from these values (written from the chart's 4.4 source, not the
chart), and the pod it yields is checked against the Kubernetes API schemas. The chart's own
values schema is not available here (not on PyPI, npm or Debian), so it is not checked.

The manifests of deploy/kubernetes/platform/ are validated strictly against the Kubernetes
1.33 schemas (`kubernetes-validate`) and against each other, docker-compose.yml and the
settings classes: selectors and labels, ports and probes, commands and environment names,
Secret and ConfigMap keys, volumes, network policies. The SQL the operator runs on the
managed PostgreSQL (docs/operators.md) runs on a real server (marker `postgres`).
"""

import ast
import importlib
import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml
from jupyterhub.spawner import Spawner
from pydantic import ValidationError
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from traitlets.config import Config

from docs.settings import sources
from hub.kube_spawner import HOME, KubeTrackSpawner
from hub.settings import DEFAULT_RESOURCES, HubSettings
from lms_api.config import Settings as LmsSettings
from lms_api.state import is_placeholder
from tests.hub.test_kube_spawner import RULES, plain
from tests.hub.test_spawners import FakeUser

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy" / "kubernetes"
VALUES_FILE = DEPLOY / "z2jh-values.yaml"
PLATFORM = DEPLOY / "platform"
SECRET_TEMPLATE = DEPLOY / "secret.example.yaml"
COMPOSE_FILE = REPO / "docker-compose.yml"
KUBERNETES = "1.33.0"  # as tests/hub/test_kube_spawner.py

SECRET = "apranova"
SETTINGS = "apranova-settings"
# The chart keeps the proxy's token in its own Secret `hub` under this key (its proxy pod and
# hub read it there); our hub's APRANOVA_PROXY_AUTH_TOKEN comes from the same place.
CHART_PROXY_TOKEN = ("hub", "hub.config.ConfigurableHTTPProxy.auth_token")
# Where the chart mounts the hub's volume (hub.db.type sqlite-pvc), and its hub's API port.
CHART_HUB_VOLUME = Path("/srv/jupyterhub")
CHART_HUB_API_URL = "http://hub:8081/hub/api"
# The capacity plan (docs/operators.md): a 64 GiB node keeps 8 GiB for the system.
PLAN_NODE_GIB, PLAN_RESERVED_GIB = 64, 8
GIB = 1024**3


# --- reading ---------------------------------------------------------------------------------
def load_values() -> dict:
    return yaml.safe_load(VALUES_FILE.read_text())


def documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def secret_template() -> dict[str, str]:
    [secret] = documents(SECRET_TEMPLATE)
    assert secret["kind"] == "Secret" and secret["metadata"]["name"] == SECRET
    return secret["stringData"]


def settings_config_map() -> dict[str, str]:
    [config_map] = documents(PLATFORM / "settings.yaml")
    assert config_map["kind"] == "ConfigMap" and config_map["metadata"]["name"] == SETTINGS
    return config_map["data"]


def made_up_secrets() -> dict[str, str]:
    """A filled-in Secret: a fresh hex value for every key (the cookie secret must be hex)."""
    return {key: secrets.token_hex(32) for key in secret_template()}


def env_entries(env) -> list[dict]:
    """Kubernetes `env` entries from a container's list or the chart's extraEnv mapping."""
    if isinstance(env, dict):
        return [
            {"name": name, **value} if isinstance(value, dict) else {"name": name, "value": value}
            for name, value in env.items()
        ]
    return list(env or [])


def resolved(env, filled: dict[str, str], chart_token: str = "") -> dict[str, str]:
    """The environment a container gets, with the Secret `filled` and the ConfigMap."""
    config_map = settings_config_map()
    out = {}
    for entry in env_entries(env):
        source = entry.get("valueFrom", {})
        if "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            if (ref["name"], ref["key"]) == CHART_PROXY_TOKEN:
                out[entry["name"]] = chart_token
            else:
                assert ref["name"] == SECRET, entry
                out[entry["name"]] = filled[ref["key"]]
        elif "configMapKeyRef" in source:
            ref = source["configMapKeyRef"]
            assert ref["name"] == SETTINGS, entry
            out[entry["name"]] = config_map[ref["key"]]
        else:
            out[entry["name"]] = entry["value"]
    return out


def hub_environment(values: dict, filled: dict[str, str], state_dir: Path) -> dict[str, str]:
    """The hub pod's APRANOVA_* environment, with a writable state folder for this machine."""
    env = resolved(values["hub"]["extraEnv"], filled, chart_token=secrets.token_hex(32))
    return {**env, "APRANOVA_STATE_DIR": str(state_dir)}


def image(spec: dict) -> str:
    return f"{spec['name']}:{spec['tag']}"


def quantity(text) -> float:
    """A Kubernetes quantity (250m, 2Gi, 2G, 1) as a number."""
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "K": 1e3, "M": 1e6, "G": 1e9}
    match = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", str(text))
    assert match, text
    return float(match[1]) * units.get(match[2], 1)


@pytest.fixture(autouse=True)
def no_cluster(monkeypatch):
    """KubeSpawner reads a cluster's credentials when made; none here, and nothing is sent."""
    monkeypatch.setattr("kubespawner.spawner.load_config", lambda **_: None)


@pytest.fixture(scope="module")
def values() -> dict:
    return load_values()


@pytest.fixture
async def our_spawner() -> KubeTrackSpawner:
    return KubeTrackSpawner(_mock=True)  # KubeSpawner wants a running event loop


# --- the chart's side, as its jupyterhub_config.py sets it from these values --------------------
def chart_config(values: dict) -> dict:
    """What the chart's jupyterhub_config.py (4.4) sets from `values` before it runs
    hub.extraConfig, for the traits that meet ours. A stand-in for the chart, written from its
    source: a key absent from our values takes the chart's default; a key set to null is
    removed by Helm, and the chart then sets nothing."""
    single, hub = values["singleuser"], values["hub"]
    storage = single["storage"]
    volume = storage["dynamic"]["volumeNameTemplate"]
    kube = {
        "namespace": "apranova",
        # The chart's labels on user pods (its app name, nameOverride unset).
        "common_labels": {"app": "jupyterhub", "app.kubernetes.io/name": "jupyterhub"},
        "uid": single.get("uid", 1000),
        "fs_gid": single.get("fsGid", 100),
        "image": image(single["image"]),
        "image_pull_policy": single["image"].get("pullPolicy"),
        "start_timeout": single.get("startTimeout", 300),
        "environment": dict(single.get("extraEnv", {})),
        "allow_privilege_escalation": single.get("allowPrivilegeEscalation", False),
        "extra_labels": {"hub.jupyter.org/network-access-hub": "true"},
        "storage_pvc_ensure": True,
        "pvc_name_template": storage["dynamic"]["pvcNameTemplate"],
        "storage_capacity": storage["capacity"],
        "storage_access_modes": storage["dynamic"]["storageAccessModes"],
        "volumes": {volume: {"name": volume, "persistentVolumeClaim": {"claimName": "{pvc_name}"}}},
        "volume_mounts": {
            volume: {
                "mountPath": storage["homeMountPath"],
                "name": volume,
                "subPath": storage["dynamic"].get("subPath"),
            }
        },
        "cpu_guarantee": single.get("cpu", {}).get("guarantee"),
        "mem_guarantee": single.get("memory", {}).get("guarantee", "1G"),
        # singleuser.cloudMetadata.blockWithIptables (default true): a privileged root init
        # container in every user pod.
        "init_containers": (
            [{"name": "block-cloud-metadata", "image": "network-tools", "privileged": True}]
            if single.get("cloudMetadata", {}).get("blockWithIptables", True)
            else []
        ),
    }
    spawner = {"consecutive_failure_limit": hub.get("consecutiveFailureLimit", 5)}
    if "cmd" not in single:
        spawner["cmd"] = ["jupyterhub-singleuser"]
    elif single["cmd"] is not None:
        spawner["cmd"] = single["cmd"]
    jupyterhub = {
        "spawner_class": "kubespawner.KubeSpawner",
        "cleanup_servers": False,
        "last_activity_interval": 60,
        "concurrent_spawn_limit": hub.get("concurrentSpawnLimit", 64),
        "allow_named_servers": hub.get("allowNamedServers", False),
        "hub_bind_url": "http://:8081",
        "hub_connect_url": "http://hub:8081",
        "db_url": "sqlite:///jupyterhub.sqlite",
        "cookie_secret": "the-chart's-own",
        "services": [],
        "load_roles": [],
        # hub.config is passed through; the chart's defaults, then ours.
        "authenticator_class": "dummy",
        "admin_access": True,
        **hub.get("config", {}).get("JupyterHub", {}),
    }
    return {
        "JupyterHub": jupyterhub,
        "ConfigurableHTTPProxy": {"api_url": "http://proxy-api:8001", "should_start": False},
        "KubeSpawner": {k: v for k, v in kube.items() if v is not None},
        "Spawner": spawner,
    }


_RUN_EXTRA_CONFIG = """
import json, sys
from traitlets.config import Config

def plain(value):
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"not JSON: {value!r}")

c = Config(json.loads(sys.argv[1]))
for name, snippet in sorted(json.loads(sys.argv[2]).items()):
    exec(compile(snippet, f"hub.extraConfig.{name}", "exec"), {"c": c})
print(json.dumps(c, default=plain))
"""


def run_extra_config(values: dict, environment: dict[str, str], cwd: Path) -> dict:
    """The chart's config, then hub.extraConfig, in a fresh process with only `environment`
    (settings are read once per process), from an empty folder (no local .env)."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _RUN_EXTRA_CONFIG,
            json.dumps(chart_config(values)),
            json.dumps(values["hub"]["extraConfig"]),
        ],
        cwd=cwd,
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO), **environment},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def spawner_from(config: dict, username: str) -> KubeTrackSpawner:
    user = FakeUser(username)
    user.id = 7
    hub = SimpleNamespace(
        public_host="", url="http://hub:8081/hub/", base_url="/hub/", api_url=CHART_HUB_API_URL
    )
    saved = SimpleNamespace(name="", user_options={}, state={}, server=None)
    spawner = KubeTrackSpawner(
        _mock=True, user=user, hub=hub, orm_spawner=saved, config=Config(config)
    )
    spawner.api_token = "not-a-real-token"
    user.spawners[""] = spawner

    async def rule():
        return RULES[username]

    spawner.workspace_rule = rule
    return spawner


# --- (a) the values file: the hub ------------------------------------------------------------
def test_the_hub_is_the_platform_image_compose_builds(values):
    compose = yaml.safe_load(COMPOSE_FILE.read_text())
    default = re.fullmatch(
        r"\$\{APRANOVA_PLATFORM_IMAGE:-([^}]+)\}", compose["x-platform"]["image"]
    )
    name = default[1].rsplit(":", 1)[0]
    assert values["hub"]["image"]["name"] == name
    # A tag the operator must set: an unset one fails to pull, it never runs a stale image.
    assert is_placeholder(values["hub"]["image"]["tag"])


def test_the_extra_config_compiles_and_its_imports_resolve(values):
    snippets = values["hub"]["extraConfig"]
    assert snippets, "hub.extraConfig loads our configuration"
    for name, snippet in snippets.items():
        tree = ast.parse(snippet, filename=f"hub.extraConfig.{name}")
        compile(tree, f"hub.extraConfig.{name}", "exec")
        imported = [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
        imported += [node for node in ast.walk(tree) if isinstance(node, ast.Import)]
        assert imported, f"{name}: imports our loader"
        for node in imported:
            if isinstance(node, ast.ImportFrom):
                module = importlib.import_module(node.module)
                for alias in node.names:
                    assert hasattr(module, alias.name), f"{node.module}.{alias.name}"
            else:
                for alias in node.names:
                    importlib.import_module(alias.name)
    assert "load_apranova_config(c)" in "".join(snippets.values())


def test_the_hub_environment_is_hub_settings_and_strings(values):
    fields = {f"APRANOVA_{name.upper()}" for name in HubSettings.model_fields}
    for entry in env_entries(values["hub"]["extraEnv"]):
        assert entry["name"] in fields, f"{entry['name']}: no such hub setting"
        if "value" in entry:
            # The chart refuses anything but strings here (e.g. an unquoted true or 120).
            assert isinstance(entry["value"], str), entry


def test_the_hub_settings_accept_the_values_in_production(values, tmp_path, no_apranova_env):
    for key, value in hub_environment(values, made_up_secrets(), tmp_path).items():
        no_apranova_env.setenv(key, value)
    settings = HubSettings(_env_file=None)  # production: refuses placeholders, so all are set
    assert settings.production and settings.mode == "kubernetes" and settings.external_services
    assert settings.enable_dashboards and settings.enable_dagster
    # The state folder (accounts, jupyterhub.sqlite) is on the chart's hub volume.
    state_dir = Path(values["hub"]["extraEnv"]["APRANOVA_STATE_DIR"])
    assert state_dir.is_relative_to(CHART_HUB_VOLUME) and state_dir != CHART_HUB_VOLUME
    assert values["hub"]["db"]["type"] == "sqlite-pvc"
    # Every secret production needs with this login and layout comes from a Secret, never
    # from the values file.
    refs = {
        entry["name"]: entry.get("valueFrom", {}).get("secretKeyRef")
        for entry in env_entries(values["hub"]["extraEnv"])
    }
    for field in settings.secret_fields:
        assert refs.get(f"APRANOVA_{field.upper()}"), f"APRANOVA_{field.upper()}: not a secret"


def test_the_hub_reads_secrets_from_the_template_or_the_charts_proxy_token(values):
    keys = set(secret_template())
    config_map = settings_config_map()
    for entry in env_entries(values["hub"]["extraEnv"]):
        source = entry.get("valueFrom", {})
        if "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            assert (ref["name"], ref["key"]) == CHART_PROXY_TOKEN or (
                ref["name"] == SECRET and ref["key"] in keys
            ), entry
        elif "configMapKeyRef" in source:
            ref = source["configMapKeyRef"]
            assert ref["name"] == SETTINGS and ref["key"] in config_map, entry
        if re.search(r"SECRET|TOKEN|PASSWORD|KEY$", entry["name"]):
            assert "secretKeyRef" in source, f"{entry['name']} must come from a Secret"
    proxy = values["hub"]["extraEnv"]["APRANOVA_PROXY_AUTH_TOKEN"]["valueFrom"]["secretKeyRef"]
    assert (proxy["name"], proxy["key"]) == CHART_PROXY_TOKEN
    assert "secretToken" not in values.get("proxy", {}), "the chart generates and keeps it"


def test_the_workspace_images_are_the_settings_defaults_and_all_prepulled(values):
    defaults = {
        kind: HubSettings.model_fields[f"docker_image_{kind.replace('-', '_')}"].default
        for kind in ("jupyterlab", "code-server", "superset")
    }
    env = values["hub"]["extraEnv"]
    for kind, default in defaults.items():
        assert env[f"APRANOVA_DOCKER_IMAGE_{kind.replace('-', '_').upper()}"] == default
    assert image(values["singleuser"]["image"]) == defaults["jupyterlab"]
    puller = values["prePuller"]
    assert puller["hook"]["enabled"] and puller["continuous"]["enabled"]
    pulled = {image(values["singleuser"]["image"])}
    pulled |= {image(spec) for spec in puller["extraImages"].values()}
    assert pulled == set(defaults.values())


def test_no_profiles_our_spawner_decides_from_the_track_rule(values):
    assert not values["singleuser"].get("profileList")
    assert "profileList" not in json.dumps(values)


async def test_storage_and_security_agree_with_kube_track_spawner(values, our_spawner):
    single = values["singleuser"]
    storage = single["storage"]
    assert storage["type"] == "dynamic"
    assert storage["dynamic"]["pvcNameTemplate"] == our_spawner.pvc_name_template
    assert storage["capacity"] == our_spawner.storage_capacity
    assert storage["homeMountPath"] == HOME
    [volume] = our_spawner.volumes
    assert storage["dynamic"]["volumeNameTemplate"] == volume["name"]
    assert (single["uid"], single["fsGid"]) == (our_spawner.uid, our_spawner.fs_gid)
    assert single["allowPrivilegeEscalation"] is our_spawner.allow_privilege_escalation is False
    assert single["image"]["pullPolicy"] == our_spawner.image_pull_policy
    # No root, privileged init container in the students' pods.
    assert single["cloudMetadata"]["blockWithIptables"] is False
    rules = single["networkPolicy"]["egressAllowRules"]
    assert single["networkPolicy"]["enabled"] and rules["cloudMetadataServer"] is False
    assert rules["privateIPs"] is False
    # The image's own command (first start, start scripts), not the chart's.
    assert "cmd" in single and single["cmd"] is None


def test_culling_is_ours_with_the_settings_timeout(values):
    assert values["cull"]["enabled"] is False, "one culler: jupyterhub_config.py's"
    default = HubSettings.model_fields["cull_idle_seconds"].default
    assert values["hub"]["extraEnv"]["APRANOVA_CULL_IDLE_SECONDS"] == str(default)
    # Failed starts do not restart the hub: JupyterHub's default, as in the other modes.
    assert values["hub"]["consecutiveFailureLimit"] == 0
    assert Spawner.class_traits()["consecutive_failure_limit"].default_value == 0


async def test_placeholders_keep_one_plan_node_of_workspaces_at_their_ceiling(values):
    scheduling = values["scheduling"]
    assert scheduling["podPriority"]["enabled"], "placeholders are preempted only with it"
    placeholder = scheduling["userPlaceholder"]
    ceiling = KubeTrackSpawner(_mock=True, mem_limit=DEFAULT_RESOURCES["default"].memory)
    assert ceiling.mem_limit == 2 * GIB
    requests = placeholder["resources"]["requests"]
    assert quantity(requests["memory"]) == ceiling.mem_limit
    assert quantity(requests["cpu"]) == values["singleuser"]["cpu"]["guarantee"]
    assert placeholder["enabled"]
    assert placeholder["replicas"] == (PLAN_NODE_GIB - PLAN_RESERVED_GIB) * GIB // ceiling.mem_limit
    # Workspaces request their memory limit (planned at the ceiling): the chart's 1G is off.
    assert values["singleuser"]["memory"]["guarantee"] is None


def test_the_hub_pod_may_call_its_own_api_through_its_service(values):
    assert values["hub"]["networkPolicy"]["enabled"]
    assert values["hub"]["labels"]["hub.jupyter.org/network-access-hub"] == "true"
    assert values["hub"]["config"]["JupyterHub"]["admin_access"] is False


# --- (b) hub.extraConfig over the chart's configuration -----------------------------------------
@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> tuple[dict, dict, Path]:
    values = load_values()
    state = tmp_path_factory.mktemp("hub-state")
    environment = hub_environment(values, made_up_secrets(), state)
    return values, run_extra_config(values, environment, tmp_path_factory.mktemp("cwd")), state


def test_our_config_keeps_the_charts_proxy_and_hub_addresses(loaded):
    _, c, state = loaded
    assert c["ConfigurableHTTPProxy"] == {"api_url": "http://proxy-api:8001", "should_start": False}
    hub = c["JupyterHub"]
    assert (hub["hub_bind_url"], hub["hub_connect_url"]) == ("http://:8081", "http://hub:8081")
    assert not {"ip", "port", "hub_ip", "hub_port", "hub_connect_ip"} & set(hub)
    # Ours from here on: the hub database in the state folder (on the chart's volume in the
    # cluster), the cookie secret from the Secret, the login, no access to students' servers.
    assert hub["db_url"] == f"sqlite:///{state / 'jupyterhub.sqlite'}"
    assert hub["cookie_secret"] != "the-chart's-own"
    assert hub["authenticator_class"] != "dummy" and hub["admin_access"] is False
    assert hub["spawner_class"] == "hub.kube_spawner.KubeTrackSpawner"
    assert hub["concurrent_spawn_limit"] == 0 and hub["allow_named_servers"] is True
    assert c["Spawner"]["consecutive_failure_limit"] == 0


def test_our_config_registers_the_platform_services_and_our_culler(loaded):
    values, c, _ = loaded
    services = {service["name"]: service for service in c["JupyterHub"]["services"]}
    env = values["hub"]["extraEnv"]
    assert services["lms-api"]["url"] == env["APRANOVA_LMS_API_URL"]
    assert services["dashboards"]["url"] == env["APRANOVA_DASHBOARDS_URL"]
    assert services["dagster"]["url"] == env["APRANOVA_DAGSTER_URL"]
    assert "apranova-hub" in services
    culler = services["idle-culler"]["command"]
    assert f"--timeout={env['APRANOVA_CULL_IDLE_SECONDS']}" in culler
    roles = {role["name"] for role in c["JupyterHub"]["load_roles"]}
    assert {"idle-culler", "lms-api", "apranova-hub", "pipelines-activity"} <= roles


async def test_the_pod_the_hub_starts_under_the_chart(loaded):
    values, c, _ = loaded
    spawner = spawner_from(c, "ada")
    # The settings decide over the chart's singleuser.* for our spawner.
    assert spawner.start_timeout == HubSettings.model_fields["workspace_start_timeout"].default
    assert spawner.cmd is None
    assert spawner.environment["APRANOVA_LMS_API_URL"] == (
        f"{values['hub']['extraEnv']['APRANOVA_LMS_API_URL']}/services/lms-api/api/v1"
    )
    assert "JUPYTERHUB_ACTIVITY_INTERVAL" in spawner.environment
    spawner.prepare_pod(await spawner.checked_kind())
    pod = plain(await spawner.get_pod_manifest())
    pvc = plain(spawner.get_pvc_manifest())
    for manifest in (pod, pvc):
        kubernetes_validate.validate(manifest, KUBERNETES, strict=True)
    spec = pod["spec"]
    [container] = spec["containers"]
    assert not spec.get("initContainers")
    assert "command" not in container and "args" not in container  # the image's own CMD
    assert container["image"] == image(values["singleuser"]["image"])  # ada's first kind
    assert spec["volumes"] == [
        {"name": "home", "persistentVolumeClaim": {"claimName": "apranova-home-ada"}}
    ]
    assert [(m["name"], m["mountPath"]) for m in container["volumeMounts"]] == [("home", HOME)]
    assert pvc["metadata"]["name"] == "apranova-home-ada"
    context = container["securityContext"]
    assert context["runAsUser"] == 1000 and context["allowPrivilegeEscalation"] is False
    assert context["capabilities"]["drop"] == ["ALL"]
    assert spec["automountServiceAccountToken"] is False
    # The workspace may reach the hub (the chart's label) and is labelled with its kind.
    labels = pod["metadata"]["labels"]
    assert labels["hub.jupyter.org/network-access-hub"] == "true"
    assert labels["apranova.org/kind"] == "jupyterlab"
    # What the platform's network policy admits to lms-api (platform/network-policies.yaml).
    assert selects(CHART_POD["singleuser-server"], labels)
    resources = container["resources"]
    assert resources["limits"]["memory"] == 2 * GIB
    assert resources["requests"]["cpu"] == values["singleuser"]["cpu"]["guarantee"]
    assert "memory" not in resources["requests"]  # Kubernetes makes it the limit
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["APRANOVA_LMS_API_URL"] == spawner.environment["APRANOVA_LMS_API_URL"]


def test_the_charts_extra_env_for_workspaces_is_kept_under_ours(tmp_path):
    values = load_values()
    values["singleuser"]["extraEnv"] = {"TZ": "Europe/Berlin", "APRANOVA_LMS_API_URL": "wrong"}
    environment = hub_environment(values, made_up_secrets(), tmp_path / "state")
    c = run_extra_config(values, environment, tmp_path)
    environment = c["KubeTrackSpawner"]["environment"]
    assert environment["TZ"] == "Europe/Berlin"
    ours = values["hub"]["extraEnv"]["APRANOVA_LMS_API_URL"]
    assert environment["APRANOVA_LMS_API_URL"] == f"{ours}/services/lms-api/api/v1"


# --- (c) the platform manifests ----------------------------------------------------------------
MANIFESTS = sorted(PLATFORM.glob("*.yaml"))
APRANOVA_LITERAL = re.compile(r"[\"'](APRANOVA_[A-Z0-9_]*[A-Z0-9])[\"']")
APRANOVA_WORD = re.compile(r"\bAPRANOVA_[A-Z0-9_]*[A-Z0-9]\b")
# Which process reads each container's environment.
READER = {
    "lms-api": "lms-api",
    "migrate": "lms-api",
    "dashboards": "dashboards",
    "dagster-webserver": "pipelines",
    "dagster-daemon": "pipelines",
    "wait-for-webserver": "none",
    "dagster-home": "none",
}
# docker-compose.yml sets APRANOVA_PRODUCTION on Dagster and the dashboards, which neither
# reads (test_every_apranova_name_is_read_by_its_process); PGSSLMODE is new: TLS to a
# managed PostgreSQL.
NOT_FROM_COMPOSE = {"PGSSLMODE"}
NOT_READ_THERE = {"APRANOVA_PRODUCTION"}
# A Zero to JupyterHub pod, by the labels the chart gives it.
CHART_POD = {
    component: {"app": "jupyterhub", "component": component}
    for component in ("hub", "proxy", "singleuser-server")
}


def manifests() -> list[tuple[str, dict]]:
    return [(path.name, doc) for path in MANIFESTS for doc in documents(path)]


def of_kind(kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for _, doc in manifests() if doc["kind"] == kind}


def deployments() -> dict[str, dict]:
    return of_kind("Deployment")


def containers(deployment: dict, init: bool = True) -> list[dict]:
    spec = deployment["spec"]["template"]["spec"]
    return [*(spec.get("initContainers", []) if init else []), *spec["containers"]]


def pod_labels(deployment: dict) -> dict[str, str]:
    return deployment["spec"]["template"]["metadata"]["labels"]


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def selected(selector: dict[str, str]) -> list[str]:
    return [name for name, d in deployments().items() if selects(selector, pod_labels(d))]


def ports(container: dict) -> dict:
    """A container's ports by name and by number."""
    found = {}
    for port in container.get("ports", []):
        found[port["name"]] = found[port["containerPort"]] = port["containerPort"]
    return found


def argument(command: list[str], flag: str) -> str:
    return command[command.index(flag) + 1]


def names_read_in(*folders: str) -> set[str]:
    return {
        name
        for folder in folders
        for path in (REPO / folder).rglob("*.py")
        for name in APRANOVA_LITERAL.findall(path.read_text())
    }


def names_read_by() -> dict[str, set[str]]:
    """The APRANOVA_* variables each process reads: its settings classes (the settings
    table's sources), and for the pipelines and dashboards the names their code reads itself
    (lms_api.state's among them)."""
    from lms_api import state

    by_reader = {"none": set()}
    for reader, variable, cls in sources():
        by_reader.setdefault(reader, set()).update(variable(f) for f in cls.model_fields)
    shared = {state.STATE_DIR_ENV, state.WAREHOUSE_PATH_ENV, state.DATABASE_URL_ENV}
    by_reader["pipelines"] |= names_read_in("pipelines") | shared
    by_reader["dashboards"] = names_read_in("dashboards") | shared
    return by_reader


def compose_services() -> dict[str, dict]:
    """docker-compose.yml as written (anchors merged), not interpolated: names and commands."""
    return yaml.safe_load(COMPOSE_FILE.read_text())["services"]


@pytest.mark.parametrize(
    ("path", "manifest"),
    [(path, doc) for path, doc in manifests()]
    + [(SECRET_TEMPLATE.name, doc) for doc in documents(SECRET_TEMPLATE)],
    ids=lambda x: x if isinstance(x, str) else f"{x['kind']}/{x['metadata']['name']}",
)
def test_every_manifest_is_a_valid_kubernetes_object(path, manifest):
    kubernetes_validate.validate(manifest, KUBERNETES, strict=True)
    assert "namespace" not in manifest["metadata"], "applied with --namespace, like the chart"


def test_the_platform_is_lms_api_dashboards_and_dagster():
    assert set(deployments()) == {"lms-api", "dashboards", "dagster-webserver", "dagster-daemon"}
    assert set(of_kind("Service")) == {"lms-api", "dashboards", "dagster-webserver"}
    assert not of_kind("Secret"), "the Secret is a template outside platform/, never applied"
    for name, deployment in deployments().items():
        assert selects(deployment["spec"]["selector"]["matchLabels"], pod_labels(deployment))
        assert pod_labels(deployment)["app.kubernetes.io/name"] == name


def test_platform_pods_run_the_hubs_image(values):
    for name, deployment in deployments().items():
        for container in containers(deployment):
            assert container["image"] == image(values["hub"]["image"]), name


def test_services_select_their_deployment_and_its_port():
    for name, service in of_kind("Service").items():
        assert selected(service["spec"]["selector"]) == [name]
        [container] = containers(deployments()[name], init=False)
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in ports(container), f"{name}: {port}"
            assert ports(container)[port["targetPort"]] == port["port"]


def test_the_hub_reaches_each_service_at_its_service_name_and_port(values):
    env = values["hub"]["extraEnv"]
    services = of_kind("Service")
    for setting, name in (
        ("APRANOVA_LMS_API_URL", "lms-api"),
        ("APRANOVA_DASHBOARDS_URL", "dashboards"),
        ("APRANOVA_DAGSTER_URL", "dagster-webserver"),
    ):
        url = urlsplit(env[setting])
        assert url.hostname == name and url.scheme == "http"
        assert url.port in [port["port"] for port in services[name]["spec"]["ports"]]


def test_every_container_has_probes_on_the_ports_it_serves():
    for name, deployment in deployments().items():
        for container in containers(deployment, init=False):
            listening = ports(container)
            upstream = (
                int(argument(container["command"], "--upstream-port"))
                if "hub.gateway" in container["command"]
                else None
            )
            for kind in ("readinessProbe", "livenessProbe"):
                probe = container[kind]
                if "httpGet" in probe or "tcpSocket" in probe:
                    port = (probe.get("httpGet") or probe["tcpSocket"])["port"]
                    assert port in listening, f"{name} {kind}: {port}"
                else:
                    command = probe["exec"]["command"]
                    urls = [urlsplit(arg) for arg in command if arg.startswith("http")]
                    if command[0] == "apranova-healthcheck":
                        # In the pod, as compose runs it: the gateway and the app behind it.
                        assert {u.hostname for u in urls} == {"127.0.0.1"}
                        assert {u.port for u in urls} == {listening["http"], upstream}
                    else:
                        assert command == ["dagster-daemon", "liveness-check"], name
    lms = containers(deployments()["lms-api"], init=False)[0]
    assert lms["readinessProbe"]["httpGet"]["path"] == "/api/v1/health"


def test_health_checks_are_the_ones_compose_runs():
    compose = compose_services()
    for name in ("dashboards", "dagster-webserver", "dagster-daemon"):
        [container] = containers(deployments()[name], init=False)
        expected = compose[name]["healthcheck"]["test"][1:]  # without "CMD"
        for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert container[kind]["exec"]["command"] == expected, f"{name} {kind}"


def test_pods_are_locked_down_with_requests_and_limits():
    for name, deployment in deployments().items():
        spec = deployment["spec"]["template"]["spec"]
        assert spec["automountServiceAccountToken"] is False, name
        assert spec["enableServiceLinks"] is False, name
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True and pod["runAsUser"] != 0, name
        assert pod["seccompProfile"]["type"] == "RuntimeDefault", name
        assert not spec.get("hostNetwork") and not spec.get("hostPID"), name
        for container in containers(deployment):
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["capabilities"] == {"drop": ["ALL"]}, name
            assert not context.get("privileged"), name
            for bound in ("requests", "limits"):
                assert set(container["resources"][bound]) == {"cpu", "memory"}, name
            for resource in ("cpu", "memory"):
                resources = container["resources"]
                requested, limit = resources["requests"][resource], resources["limits"][resource]
                assert quantity(requested) <= quantity(limit), f"{name}: {resource}"
            for volume in (v["name"] for v in container.get("volumeMounts", [])):
                assert volume in {v["name"] for v in spec["volumes"]}, f"{name}: {volume}"
        # The platform image's user, whom its folders belong to.
        assert (pod["runAsUser"], pod["runAsGroup"], pod["fsGroup"]) == (10001, 10001, 10001)
    made = (REPO / "images/platform/Dockerfile").read_text()
    assert "useradd --system --uid 10001" in made and "USER 10001:10001" in made


def test_secret_and_config_map_references_exist():
    keys, config_map = set(secret_template()), settings_config_map()
    used_keys = set()
    for name, deployment in deployments().items():
        for container in containers(deployment):
            for entry in container.get("env", []):
                source = entry.get("valueFrom", {})
                if "secretKeyRef" in source:
                    ref = source["secretKeyRef"]
                    assert ref["name"] == SECRET and ref["key"] in keys, f"{name}: {entry}"
                    used_keys.add(ref["key"])
                elif "configMapKeyRef" in source:
                    ref = source["configMapKeyRef"]
                    assert ref["name"] == SETTINGS and ref["key"] in config_map, entry
                else:
                    assert isinstance(entry["value"], str), f"{name}: {entry}"
                if re.search(r"SECRET|TOKEN|PASSWORD|KEY$|DATABASE_URL", entry["name"]):
                    assert "secretKeyRef" in source, f"{name}: {entry['name']} not from a Secret"
    hub_keys = {
        entry["valueFrom"]["secretKeyRef"]["key"]
        for entry in env_entries(load_values()["hub"]["extraEnv"])
        if entry.get("valueFrom", {}).get("secretKeyRef", {}).get("name") == SECRET
    }
    assert used_keys | hub_keys == keys, "every key of the template is used"


def test_every_apranova_name_is_read_by_its_process():
    read_by = names_read_by()
    for name, deployment in deployments().items():
        for container in containers(deployment):
            reader = READER[container["name"]]
            for entry in container.get("env", []):
                if entry["name"].startswith("APRANOVA_"):
                    assert entry["name"] in read_by[reader], (
                        f"{name}/{container['name']}: {entry['name']} is no setting of {reader}"
                    )
    # And any APRANOVA_* word anywhere in deploy/kubernetes (keys, comments) is a real one.
    everything = set().union(*read_by.values())
    for path in DEPLOY.rglob("*.yaml"):
        unknown = set(APRANOVA_WORD.findall(path.read_text())) - everything
        assert not unknown, f"{path.relative_to(REPO)}: {sorted(unknown)}"


def test_environment_names_are_composes():
    compose = compose_services()
    for name, deployment in deployments().items():
        for container in containers(deployment):
            if READER[container["name"]] == "none":
                assert not container.get("env"), container["name"]
                continue
            ours = {entry["name"] for entry in container["env"]}
            theirs = set(compose[name]["environment"])
            assert ours - theirs <= NOT_FROM_COMPOSE, f"{name}: {sorted(ours - theirs)}"
            assert theirs - ours <= NOT_READ_THERE, f"{name}: {sorted(theirs - ours)}"
            if READER[container["name"]] == "lms-api":
                assert "APRANOVA_PRODUCTION" in ours, "lms-api refuses placeholders"
    daemon, webserver = (
        containers(deployments()[n], init=False)[0] for n in ("dagster-daemon", "dagster-webserver")
    )
    # One Dagster environment, as compose's x-dagster-environment, plus the gateway's.
    assert daemon["env"] == [e for e in webserver["env"] if not e["name"].startswith("JUPYTERHUB_")]


def test_commands_are_the_ones_compose_runs():
    compose = compose_services()
    for name in ("dashboards", "dagster-webserver", "dagster-daemon"):
        [container] = containers(deployments()[name], init=False)
        assert container["command"] == compose[name]["command"], name
    # compose: `apranova-lms migrate && exec apranova-lms serve ...`; here an init container.
    script = compose["lms-api"]["command"][-1]
    migrate, serve = containers(deployments()["lms-api"])
    assert f"{' '.join(migrate['command'])} && exec {' '.join(serve['command'])}" == script
    assert migrate["env"] == serve["env"], "the migration reads the same settings"


def test_the_gateways_are_the_services_the_hub_registers(values):
    hub = values["hub"]["extraEnv"]
    for deployment, service, setting in (
        ("dashboards", "dashboards", "DASHBOARDS"),
        ("dagster-webserver", "dagster", "DAGSTER"),
    ):
        [container] = containers(deployments()[deployment], init=False)
        env = {e["name"]: e for e in container["env"]}

        def value(key: str, env=env) -> str:
            return env[key]["value"]

        listen = urlsplit(value("JUPYTERHUB_SERVICE_URL"))
        assert (listen.hostname, listen.port) == (
            "0.0.0.0",
            urlsplit(hub[f"APRANOVA_{setting}_URL"]).port,
        )
        assert listen.port == ports(container)["http"]
        assert value("JUPYTERHUB_SERVICE_NAME") == service
        assert value("JUPYTERHUB_CLIENT_ID") == f"service-{service}"
        assert value("JUPYTERHUB_SERVICE_PREFIX") == f"/services/{service}/"
        assert value("JUPYTERHUB_OAUTH_CALLBACK_URL") == f"/services/{service}/oauth_callback"
        assert value("JUPYTERHUB_API_URL") == CHART_HUB_API_URL
        # The same token the hub registers the service with, and the same public address.
        token = env["JUPYTERHUB_API_TOKEN"]["valueFrom"]["secretKeyRef"]
        assert token == hub[f"APRANOVA_{setting}_API_TOKEN"]["valueFrom"]["secretKeyRef"]
        public = env["JUPYTERHUB_PUBLIC_URL"]["valueFrom"]["configMapKeyRef"]
        assert public == hub["APRANOVA_PUBLIC_URL"]["valueFrom"]["configMapKeyRef"]
    [lms] = containers(deployments()["lms-api"], init=False)
    lms_env = {e["name"]: e for e in lms["env"]}
    assert lms_env["APRANOVA_HUB_API_URL"]["value"] == CHART_HUB_API_URL
    assert (
        lms_env["APRANOVA_LMS_API_TOKEN"]["valueFrom"] == hub["APRANOVA_LMS_API_TOKEN"]["valueFrom"]
    )
    assert (
        lms_env["APRANOVA_AUTHENTICATOR"]["valueFrom"] == hub["APRANOVA_AUTHENTICATOR"]["valueFrom"]
    )
    assert urlsplit(CHART_HUB_API_URL).port == HubSettings.model_fields["hub_api_port"].default


def test_the_settings_accept_the_platform_environment(no_apranova_env):
    filled = made_up_secrets()
    [lms] = containers(deployments()["lms-api"], init=False)
    for key, value in resolved(lms["env"], filled).items():
        no_apranova_env.setenv(key, value)
    settings = LmsSettings(_env_file=None)
    assert settings.production and str(settings.upload_dir) == "/var/lib/apranova/uploads"
    assert settings.hub_api_url == CHART_HUB_API_URL


def test_the_secret_template_holds_placeholders_production_refuses(tmp_path, no_apranova_env):
    template = secret_template()
    optional = {"gemini-api-key", "stripe-secret-key", "stripe-webhook-secret"}
    for key, value in template.items():
        assert value == ("" if key in optional else "change-me"), key
        assert is_placeholder(value)
    values = load_values()
    hub_env = hub_environment(values, template, tmp_path)
    for key, value in hub_env.items():
        no_apranova_env.setenv(key, value)
    with pytest.raises(ValidationError) as refused:
        HubSettings(_env_file=None)
    for field in ("cookie_secret", "lms_api_token", "hub_service_token", "oauth_client_secret"):
        assert f"APRANOVA_{field.upper()}" in str(refused.value)
    [lms] = containers(deployments()["lms-api"], init=False)
    for key, value in resolved(lms["env"], template).items():
        no_apranova_env.setenv(key, value)
    with pytest.raises(ValueError, match="APRANOVA_LMS_API_TOKEN"):
        LmsSettings(_env_file=None)
    # A Stripe key left at the placeholder is refused too (empty: payments off).
    no_apranova_env.setenv("APRANOVA_LMS_API_TOKEN", secrets.token_hex(32))
    no_apranova_env.setenv("APRANOVA_STRIPE_SECRET_KEY", "change-me")
    with pytest.raises(ValueError, match="APRANOVA_STRIPE_SECRET_KEY"):
        LmsSettings(_env_file=None)


def test_volumes_warehouse_written_by_dagster_read_by_dashboards_on_one_node():
    claims = of_kind("PersistentVolumeClaim")
    mounted: dict[str, dict[str, tuple[str, bool]]] = {}
    for name, deployment in deployments().items():
        spec = deployment["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in spec["volumes"]}
        for container in containers(deployment, init=False):
            for mount in container.get("volumeMounts", []):
                claim = volumes[mount["name"]].get("persistentVolumeClaim")
                if claim:
                    assert claim["claimName"] in claims, name
                    read_only = bool(mount.get("readOnly")) or bool(claim.get("readOnly"))
                    mounted.setdefault(claim["claimName"], {})[name] = (
                        mount["mountPath"],
                        read_only,
                    )
    assert mounted["apranova-warehouse"] == {
        "dagster-webserver": ("/var/lib/apranova/warehouse", False),
        "dagster-daemon": ("/var/lib/apranova/warehouse", False),
        "dashboards": ("/var/lib/apranova/warehouse", True),
    }
    assert set(mounted["apranova-dagster-storage"]) == {"dagster-webserver", "dagster-daemon"}
    assert mounted["apranova-uploads"] == {"lms-api": ("/var/lib/apranova/uploads", False)}
    for claim in claims.values():
        assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    # ReadWriteOnce: the pods sharing a claim land on one node; a single lms-api, replaced
    # (not rolled) so its claim is free for the new pod.
    sharing = {name for claim in mounted.values() if len(claim) > 1 for name in claim}
    for name in sharing:
        deployment = deployments()[name]
        assert pod_labels(deployment)["apranova.org/warehouse"] == "true"
        [term] = deployment["spec"]["template"]["spec"]["affinity"]["podAffinity"][
            "requiredDuringSchedulingIgnoredDuringExecution"
        ]
        assert term["labelSelector"]["matchLabels"] == {"apranova.org/warehouse": "true"}
        assert term["topologyKey"] == "kubernetes.io/hostname"
    lms = deployments()["lms-api"]
    assert lms["spec"]["replicas"] == 1 and lms["spec"]["strategy"]["type"] == "Recreate"
    # Each process finds its files where the volume is.
    for name, deployment in deployments().items():
        for container in containers(deployment, init=False):
            env = {e["name"]: e.get("value") for e in container.get("env", [])}
            for setting, claim in (
                ("APRANOVA_WAREHOUSE_PATH", "apranova-warehouse"),
                ("APRANOVA_UPLOAD_DIR", "apranova-uploads"),
            ):
                if setting in env:
                    path = Path(env[setting])
                    assert path == Path(mounted[claim][name][0]) or path.parent == Path(
                        mounted[claim][name][0]
                    ), f"{name}: {setting}"


def test_dagster_runs_in_the_daemon_one_at_a_time_with_the_images_instance():
    instance = yaml.safe_load((REPO / "images/platform/dagster.yaml").read_text())
    # The default run launcher (runs are subprocesses of the daemon), one run at a time.
    assert "run_launcher" not in instance
    assert instance["run_coordinator"]["config"]["max_concurrent_runs"] == 1
    base_dirs = {
        instance[key]["config"]["base_dir"] for key in ("compute_logs", "local_artifact_storage")
    }
    daemon = deployments()["dagster-daemon"]
    assert daemon["spec"]["replicas"] == 1 and daemon["spec"]["strategy"]["type"] == "Recreate"
    dockerfile = (REPO / "images/platform/Dockerfile").read_text()
    for name in ("dagster-webserver", "dagster-daemon"):
        deployment = deployments()[name]
        init = {c["name"]: c for c in deployment["spec"]["template"]["spec"]["initContainers"]}
        [container] = containers(deployment, init=False)
        env = {e["name"]: e.get("value") for e in container["env"]}
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        # DAGSTER_HOME: writable, holding the image's dagster.yaml, copied in by an init step.
        home = env["DAGSTER_HOME"]
        source, target = init["dagster-home"]["command"][1:]
        assert f"COPY images/platform/dagster.yaml {source}" in dockerfile
        assert Path(target.rstrip("/")) == Path(home) and home in mounts
        assert {m["mountPath"] for m in init["dagster-home"]["volumeMounts"]} == {home}
        # Compute logs and artifacts on the shared claim.
        storage = next(path for path, volume in mounts.items() if volume == "dagster-storage")
        assert all(Path(d).is_relative_to(storage) for d in base_dirs)
    # The webserver creates Dagster's schema first (compose: depends_on service_healthy).
    wait = {c["name"]: c for c in daemon["spec"]["template"]["spec"]["initContainers"]}
    script = wait["wait-for-webserver"]["command"][-1]
    url = urlsplit(re.search(r"http://\S+", script)[0])
    assert url.hostname == "dagster-webserver" and url.port == 8030


def test_network_policies_open_each_port_to_the_hub_its_proxy_and_who_needs_it(values):
    policies = of_kind("NetworkPolicy")
    assert set(policies) == set(deployments())
    for name, policy in policies.items():
        spec = policy["spec"]
        assert selected(spec["podSelector"]["matchLabels"]) == [name]
        assert spec["policyTypes"] == ["Ingress"]
        [container] = containers(deployments()[name], init=False)
        for rule in spec.get("ingress", []):
            for port in rule["ports"]:
                assert port["port"] in ports(container), f"{name}: {port}"
    sources_of = {
        name: [
            peer["podSelector"]["matchLabels"]
            for rule in p["spec"].get("ingress", [])
            for peer in rule["from"]
        ]
        for name, p in policies.items()
    }
    for name in ("lms-api", "dashboards", "dagster-webserver"):
        assert CHART_POD["hub"] in sources_of[name] and CHART_POD["proxy"] in sources_of[name]
    assert CHART_POD["singleuser-server"] in sources_of["lms-api"]
    assert {"app.kubernetes.io/name": "dagster-daemon"} in sources_of["dagster-webserver"]
    assert sources_of["dagster-daemon"] == []
    # The chart's side: the hub and the workspaces may open what the hub registers.
    for rules, allowed in (
        (values["hub"]["networkPolicy"]["egress"], {"lms-api", "dashboards", "dagster-webserver"}),
        (values["singleuser"]["networkPolicy"]["egress"], {"lms-api"}),
    ):
        reached = set()
        for rule in rules:
            [peer] = rule["to"]
            [target] = selected(peer["podSelector"]["matchLabels"])
            [container] = containers(deployments()[target], init=False)
            assert [p["port"] for p in rule["ports"]] == [ports(container)["http"]]
            reached.add(target)
        assert reached == allowed
    # Pods that call the hub API carry the label the chart's hub policy admits.
    for name, deployment in deployments().items():
        assert pod_labels(deployment)["hub.jupyter.org/network-access-hub"] == "true", name


# --- (d) the managed PostgreSQL, as docs/operators.md has the operator make it ----------------
def operator_sql() -> tuple[str, str]:
    """The two SQL blocks of the Kubernetes steps: as the provider's admin, then as the owner."""
    text = (REPO / "docs/operators.md").read_text()
    section = text[text.index("### Beyond one host: Kubernetes") : text.index("## Payments")]
    as_admin, as_owner = re.findall(r"```sql\n(.*?)```", section, re.DOTALL)
    return as_admin, as_owner


@pytest.mark.postgres
def test_the_documented_roles_make_a_read_only_reader_and_dagsters_own_database(postgres_url):
    """The operator's SQL on a real server, under names of its own: the reader reads every
    table the owner makes later (the migrations run after it) and writes none; Dagster has
    its database and no way into the LMS one (as compose's init script, tested in
    tests/test_compose.py)."""
    suffix = secrets.token_hex(4)
    names = {
        "apranova_reader": f"k8s_reader_{suffix}",
        "apranova": f"k8s_lms_{suffix}",
        "dagster": f"k8s_dagster_{suffix}",
    }
    password = secrets.token_hex(16)

    def ours(sql: str) -> str:
        for documented, name in names.items():  # the reader first: it contains "apranova"
            sql = re.sub(rf"\b{documented}\b", name, sql)
        return re.sub(r"'[A-Z]+-PASSWORD'", f"'{password}'", sql)

    as_admin, as_owner = (ours(sql) for sql in operator_sql())
    reader, owner, dagster = names.values()
    url = make_url(postgres_url)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")

    def engine(user: str, database: str):
        return create_engine(
            url.set(username=user, password=password, database=database),
            isolation_level="AUTOCOMMIT",  # a SET applies to the next statement's transaction
        )

    try:
        with admin.connect() as connection:
            for statement in filter(str.strip, as_admin.split(";")):
                connection.execute(text(statement))
        lms = engine(owner, owner)
        with lms.connect() as connection:
            for statement in filter(str.strip, as_owner.split(";")):
                connection.execute(text(statement))
        with lms.connect() as connection:  # a migration, after the grants
            connection.execute(text("CREATE TABLE people (id int)"))
            connection.execute(text("INSERT INTO people VALUES (1)"))
        lms.dispose()
        as_reader = engine(reader, owner)
        with as_reader.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM people")).scalar() == 1
        with as_reader.connect() as connection, pytest.raises(DBAPIError, match="read-only"):
            connection.execute(text("INSERT INTO people VALUES (2)"))
        with as_reader.connect() as connection, pytest.raises(DBAPIError, match="permission"):
            connection.execute(text("SET default_transaction_read_only = off"))
            connection.execute(text("INSERT INTO people VALUES (2)"))
        as_reader.dispose()
        own = engine(dagster, dagster)
        with own.connect() as connection:
            connection.execute(text("CREATE TABLE runs (id int)"))
        own.dispose()
        into_lms = engine(dagster, owner)
        with pytest.raises(DBAPIError, match="permission denied"):
            into_lms.connect().close()
        into_lms.dispose()
    finally:
        with admin.connect() as connection:
            for database in (owner, dagster):
                connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            for role in names.values():
                connection.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()
