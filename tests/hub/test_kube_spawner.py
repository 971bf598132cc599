"""Kubernetes mode without a cluster: KubeSpawner's own code builds each workspace's pod and
home claim, and every manifest is checked against the Kubernetes API schemas
(`kubernetes-validate`), for the images, limits and lock-down the track rule decides."""

from types import SimpleNamespace

import kubernetes_validate
import pytest
from kubernetes_asyncio.client import ApiClient
from traitlets.config import Config

from hub.kube_spawner import KubeTrackSpawner
from hub.lms_client import WorkspaceRule
from tests.hub.test_spawners import FakeUser
from tests.hub_config import load_hub_config

KUBERNETES = "1.33.0"  # the oldest minor the manifests must hold for (supported upstream)
IMAGES = {
    "jupyterlab": "registry.school.example/apranova/workspace-jupyterlab:1",
    "superset": "registry.school.example/apranova/workspace-superset:1",
    "code-server": "registry.school.example/apranova/workspace-code-server:1",
}
RULES = {
    "ada": WorkspaceRule(
        kinds=["jupyterlab", "superset"], tracks={"DP": ["jupyterlab", "superset"]}
    ),
    "linus": WorkspaceRule(
        kinds=["jupyterlab", "code-server"], tracks={"FSD": ["jupyterlab", "code-server"]}
    ),
}


@pytest.fixture(autouse=True)
def no_cluster(monkeypatch):
    """KubeSpawner reads a cluster's credentials when made; none here, and nothing is sent."""
    monkeypatch.setattr("kubespawner.spawner.load_config", lambda **_: None)


def kube_spawner(username: str, server: str = "", options: dict | None = None) -> KubeTrackSpawner:
    user = FakeUser(username)
    user.id = 7
    hub = SimpleNamespace(
        public_host="",
        url="http://hub:8081/hub/",
        base_url="/hub/",
        api_url="http://hub:8081/hub/api",
    )
    saved = SimpleNamespace(name=server, user_options=dict(options or {}), state={}, server=None)
    spawner = KubeTrackSpawner(
        _mock=True, user=user, hub=hub, orm_spawner=saved, workspace_images=IMAGES
    )
    spawner.user_options = options or {}
    spawner.api_token = "not-a-real-token"
    user.spawners[server] = spawner

    async def rule():
        return RULES[username]

    spawner.workspace_rule = rule
    return spawner


def plain(manifest) -> dict:
    return ApiClient().sanitize_for_serialization(manifest)


async def built(username: str, server: str = "", kind: str = "") -> tuple[dict, dict]:
    spawner = kube_spawner(username, server, {"kind": kind} if kind else None)
    spawner.prepare_pod(await spawner.checked_kind())
    return plain(await spawner.get_pod_manifest()), plain(spawner.get_pvc_manifest())


@pytest.mark.parametrize(
    ("username", "server", "kind", "track", "memory"),
    [
        ("ada", "", "", "DP", 2 * 1024**3),  # the first kind the rule gives
        ("ada", "superset", "", "DP", 2 * 1024**3),  # a server named like a kind is that kind
        ("linus", "", "code-server", "FSD", 2 * 1024**3),
    ],
)
async def test_every_pod_and_claim_is_a_valid_kubernetes_object(
    username, server, kind, track, memory
):
    pod, pvc = await built(username, server, kind)
    for manifest in (pod, pvc):
        kubernetes_validate.validate(manifest, KUBERNETES, strict=True)
    wanted = kind or server or "jupyterlab"
    [container] = pod["spec"]["containers"]
    assert container["image"] == IMAGES[wanted]
    assert pod["metadata"]["labels"]["apranova.org/kind"] == wanted
    assert pod["metadata"]["labels"]["apranova.org/track"] == track
    assert container["resources"]["limits"]["cpu"] == 1.0
    assert container["resources"]["limits"]["memory"] == memory
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["APRANOVA_TRACK"] == track and env["APRANOVA_WORKSPACE_KIND"] == wanted
    assert env["APRANOVA_DATASETS"] == f"/opt/apranova/datasets/{track}"


async def test_a_pod_is_locked_down_and_mounts_only_its_owners_home():
    pod, pvc = await built("ada")
    spec = pod["spec"]
    [container] = spec["containers"]
    assert spec["automountServiceAccountToken"] is False  # nothing to ask the Kubernetes API
    assert spec["securityContext"]["fsGroup"] == 100
    context = container["securityContext"]
    assert context["runAsUser"] == 1000 and context["runAsNonRoot"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"]["drop"] == ["ALL"]
    assert not context.get("privileged")
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes == {
        "home": {"name": "home", "persistentVolumeClaim": {"claimName": "apranova-home-ada"}}
    }
    assert [(m["name"], m["mountPath"]) for m in container["volumeMounts"]] == [
        ("home", "/home/jovyan")
    ]
    assert pvc["metadata"]["name"] == "apranova-home-ada"
    assert pvc["spec"]["resources"]["requests"]["storage"] == "10Gi"
    assert not any(port.get("hostPort") for port in container.get("ports", []))


async def test_kubernetes_refuses_what_docker_refuses():
    spawner = kube_spawner("ada", options={"kind": "code-server"})  # not in ada's tracks
    with pytest.raises(Exception) as refused:
        await spawner.checked_kind()
    assert getattr(refused.value, "status_code", None) == 403


async def test_the_hub_config_reaches_the_pod_spawner(tmp_path):
    """jupyterhub_config.py's sections (shared with Docker mode) configure KubeTrackSpawner."""
    c = load_hub_config(
        {
            "PATH": "/usr/bin:/bin",
            "APRANOVA_STATE_DIR": str(tmp_path),
            "APRANOVA_COOKIE_SECRET": "ab" * 32,
            "APRANOVA_MODE": "kubernetes",
            "APRANOVA_DOCKER_IMAGE_SUPERSET": "registry.example/superset:2",
            "APRANOVA_WORKSPACE_RESOURCES": '{"DP/superset": {"cpu": 2, "memory": "3G"}}',
        }
    )
    spawner = KubeTrackSpawner(_mock=True, config=Config(c))
    assert spawner.workspace_images["superset"] == "registry.example/superset:2"
    assert spawner.workspace_resources["DP/superset"] == {"cpu": 2.0, "memory": "3G"}
    assert "APRANOVA_LMS_API_URL" in spawner.environment
    assert spawner.starts_at_once >= 1 and spawner.servers_per_user == 2
