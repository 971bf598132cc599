"""Where the hub listens for its workspaces in Docker mode, and the network they share.

Under compose the hub is a container on the `apranova` network and workspaces reach it by
its service name. A hub running on the Docker host itself (e.g. `APRANOVA_MODE=docker make
up`, the tests) makes the workspace network here: a bridge with traffic between containers
turned off, so one student's container cannot open another's server, while the host (the hub
and its proxy) still reaches every workspace. The hub API then listens on that bridge's
gateway only: reachable from the workspaces and the host, from nowhere else.
"""

import logging

import docker

from hub.settings import HubSettings

log = logging.getLogger(__name__)

NO_TRAFFIC_BETWEEN_CONTAINERS = {"com.docker.network.bridge.enable_icc": "false"}


def ensure_workspace_network(name: str) -> str:
    """The network's gateway address, creating the network (isolated) if it is missing."""
    client = docker.from_env()
    try:
        network = client.networks.get(name)
    except docker.errors.NotFound:
        network = client.networks.create(
            name,
            driver="bridge",
            options=NO_TRAFFIC_BETWEEN_CONTAINERS,
            labels={"org.apranova.role": "workspaces"},
        )
        network.reload()
    options = network.attrs.get("Options") or {}
    if options.get("com.docker.network.bridge.enable_icc") != "false":
        log.warning("network %s lets workspaces reach each other (made outside the hub)", name)
    gateways = [c["Gateway"] for c in network.attrs["IPAM"]["Config"] if c.get("Gateway")]
    if not gateways:
        raise RuntimeError(f"Docker network {name} has no gateway address")
    return gateways[0]


def hub_addresses(s: HubSettings) -> tuple[str, str]:
    """(address the hub API binds, address workspaces connect to)."""
    if s.mode == "local":
        return "127.0.0.1", ""
    if s.hub_on_docker_host:
        gateway = ensure_workspace_network(s.docker_network)
        return gateway, s.hub_connect_ip or gateway
    return "0.0.0.0", s.hub_connect_ip or "hub"


def workspace_lms_api_url(s: HubSettings, connect_ip: str) -> str:
    """The LMS API base URL for the notebook client in a workspace container: the setting when
    given; under compose lms-api's own URL (a container on the same network); with the hub on
    the Docker host the gateway, where the hub also starts lms-api (`lms_api_hosts`)."""
    if s.workspace_lms_api_url:
        return s.workspace_lms_api_url
    if s.hub_on_docker_host:
        return f"http://{connect_ip}:{s.lms_api_port}/services/lms-api/api/v1"
    return s.lms_api_base
