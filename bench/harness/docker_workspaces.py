"""A hub in Docker mode for tests and the spawn benchmark: real Docker engine, real images.

Each run gets its own names (network, container prefix, home volumes), so it never touches a
developer's own workspaces and cleans up after itself. The hub runs on this host
(`APRANOVA_HUB_ON_DOCKER_HOST`): its API listens on the run's bridge gateway, its proxy on
loopback; containers publish no ports.
"""

import contextlib
import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx

from bench.harness.platform import Platform, pids_with_environ

IMAGES = {
    "jupyterlab": "apranova/workspace-jupyterlab:latest",
    "superset": "apranova/workspace-superset:latest",
}
# A name no image has: the tests check code-server's selection and configuration, and the
# hub's answer when its image is missing, without building it (images/build-local.sh
# code-server builds the real one, in about 4 minutes).
CODE_SERVER_IMAGE = "apranova/workspace-code-server:not-built-here"


def docker_client():
    """A client of the local engine, or None when no engine answers."""
    try:
        import docker

        client = docker.from_env(timeout=120)
        client.ping()
        return client
    except Exception:
        return None


def missing_images(client, kinds=tuple(IMAGES)) -> list[str]:
    import docker

    missing = []
    for image in (IMAGES[k] for k in kinds):
        try:
            client.images.get(image)
        except docker.errors.ImageNotFound:
            missing.append(image)
    return missing


class DockerRun:
    """The Docker names of one run and their cleanup."""

    def __init__(self, client, label: str = "t") -> None:
        self.client = client
        self.tag = f"apranova-{label}{uuid.uuid4().hex[:6]}"
        self.network = f"{self.tag}-net"
        self.volume_template = f"{self.tag}-home-{{username}}"
        self.gateway = ""  # the network's gateway address, once the network exists

    def volume(self, username: str) -> str:
        return self.volume_template.format(username=username)

    def env(self) -> dict[str, str]:
        return {
            "APRANOVA_MODE": "docker",
            "APRANOVA_HUB_ON_DOCKER_HOST": "true",
            "APRANOVA_DOCKER_NETWORK": self.network,
            "APRANOVA_DOCKER_NAME_PREFIX": self.tag,
            "APRANOVA_DOCKER_HOME_VOLUME": self.volume_template,
            "APRANOVA_DOCKER_IMAGE_JUPYTERLAB": IMAGES["jupyterlab"],
            "APRANOVA_DOCKER_IMAGE_SUPERSET": IMAGES["superset"],
            "APRANOVA_DOCKER_IMAGE_CODE_SERVER": CODE_SERVER_IMAGE,
        }

    def containers(self, username: str | None = None) -> list:
        found = self.client.containers.list(all=True, filters={"name": self.tag})
        if username:
            found = [c for c in found if c.labels.get("org.apranova.user") == username]
        return found

    def container(self, username: str, kind: str):
        matches = [c for c in self.containers(username) if c.labels["org.apranova.kind"] == kind]
        assert len(matches) == 1, f"{username}/{kind}: {[c.name for c in matches]}"
        return matches[0]

    def cleanup(self) -> None:
        for container in self.containers():
            with contextlib.suppress(Exception):
                container.remove(force=True)
        for volume in self.client.volumes.list(filters={"name": self.tag}):
            with contextlib.suppress(Exception):
                volume.remove(force=True)
        for network in self.client.networks.list(names=[self.network]):
            with contextlib.suppress(Exception):
                network.remove()


@contextlib.contextmanager
def docker_platform(
    state_dir: Path, client, *, label: str = "t", extra_env: dict[str, str] | None = None
) -> Iterator[tuple[Platform, DockerRun]]:
    """A started hub in Docker mode (no analytics services), and its run's names."""
    from hub.docker_network import ensure_workspace_network

    run = DockerRun(client, label)
    platform = Platform(state_dir, analytics=False)
    try:
        run.gateway = gateway = ensure_workspace_network(run.network)
        platform.hub_api = f"http://{gateway}:{platform.ports['hub_api_port']}/hub/api"
        platform.env.update(run.env(), **(extra_env or {}))
        platform.start()
        yield platform, run
    finally:
        platform.stop()
        # Managed services the hub started without the state folder in their environment
        # (the idle culler) still name this run's hub API.
        for pid in pids_with_environ(f"JUPYTERHUB_API_URL={platform.hub_api}"):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        run.cleanup()


def wait_ready(platform: Platform, username: str, server: str = "", timeout: float = 150) -> dict:
    """The server model once ready; fails with the hub's log when it fails or times out."""
    started = time.monotonic()
    while time.monotonic() < started + timeout:
        model = platform.api("GET", f"/users/{username}").json()
        found = (model.get("servers") or {}).get(server)
        if found and found.get("ready"):
            return found
        if found is None and time.monotonic() > started + 2:
            break  # the spawn failed: the hub dropped the server
        time.sleep(0.25)
    raise AssertionError(f"{username}/{server!r} not ready:\n{platform.log_tail()}")


def wait_gone(platform: Platform, username: str, server: str = "", timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        model = platform.api("GET", f"/users/{username}").json()
        if server not in (model.get("servers") or {}):
            return
        time.sleep(0.25)
    raise AssertionError(f"{username}/{server!r} still there:\n{platform.log_tail()}")


def server_path(username: str, server: str = "") -> str:
    return f"/users/{username}/servers/{server}" if server else f"/users/{username}/server"


def spawn(
    platform: Platform, token: str, username: str, server: str = "", **options
) -> httpx.Response:
    """A REST spawn as the student (their own token), as an API client would do it."""
    return httpx.post(
        f"{platform.hub_api}{server_path(username, server)}",
        headers={"Authorization": f"token {token}"},
        json=options or None,
        timeout=120,
    )


def stop(platform: Platform, username: str, server: str = "") -> None:
    response = platform.api("DELETE", server_path(username, server))
    assert response.status_code in (202, 204), response.text
    wait_gone(platform, username, server)


def idle_memory_bytes(container) -> int:
    """Memory the container uses now (cgroup usage minus page cache), as `docker stats`."""
    stats = container.stats(stream=False)
    memory = stats["memory_stats"]
    cache = memory.get("stats", {}).get("total_inactive_file") or memory.get("stats", {}).get(
        "inactive_file", 0
    )
    return int(memory["usage"] - cache)


def require_docker(require, kinds=tuple(IMAGES)):
    """The engine with these kinds' images, or skip (locally) / fail (CI) via `require`."""
    client = docker_client()
    if client is None:
        require("a Docker engine (dockerd; see ../shared/ENVIRONMENT.md and .ci/run)")
    missing = missing_images(client, kinds)
    if missing:
        require(f"workspace images {missing} (build them: images/build-local.sh)")
    return client
