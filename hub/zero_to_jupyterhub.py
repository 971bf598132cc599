"""Zero to JupyterHub: the chart's hub runs our `jupyterhub_config.py` from `hub.extraConfig`.

The chart's own jupyterhub_config.py configures what belongs to the cluster (the proxy in a
pod of its own, with the token the chart keeps; where the hub listens and is reached; the
namespace, labels, storage and scheduling of KubeSpawner from `singleuser.*`) and then runs
the snippets of `hub.extraConfig`. Ours calls `load_apranova_config(c)`, which loads the same
`jupyterhub_config.py` that `make up` and docker compose run, from the same settings
(`APRANOVA_MODE=kubernetes`), and lays it over the chart's (deploy/kubernetes/z2jh-values.yaml):
login, roles, services, the start line, the workspace rule, our spawner and its environment.

Two things are not simply merged:

- what only the chart can know is kept from it (`CHART_OWNED`): our file would point the hub
  at a proxy it starts itself on 127.0.0.1, the chart's proxy runs in its own pod;
- the chart puts `singleuser.*` on the `KubeSpawner` section, which outranks the `Spawner`
  section where our file configures every spawner (environment, timeouts, the start line).
  Our settings decide for our spawner: the `Spawner` section is copied onto
  `KubeTrackSpawner`, with the chart's `singleuser.extraEnv` kept under our environment.
"""

from pathlib import Path

from traitlets.config import Config, PyFileConfigLoader

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG_FILE = "jupyterhub_config.py"
SPAWNER_SECTION = "KubeTrackSpawner"

# The chart runs configurable-http-proxy in the `proxy` pod (its API is the `proxy-api` Service,
# its token in the chart's Secret) and sets where the hub binds and is reached
# (hub_bind_url / hub_connect_url, the `hub` Service). Our file's values for a proxy it starts
# itself, and the hub's loopback addresses, would break both.
CHART_OWNED = {
    "ConfigurableHTTPProxy": ("api_url", "auth_token", "should_start", "command", "pid_file"),
    "JupyterHub": ("ip", "port", "hub_ip", "hub_port", "hub_connect_ip"),
}


def apranova_config(path: Path = REPO_ROOT) -> Config:
    """Our jupyterhub_config.py, loaded as JupyterHub loads it, less what the chart owns."""
    ours = PyFileConfigLoader(CONFIG_FILE, path=str(path)).load_config()
    for section, names in CHART_OWNED.items():
        for name in names:
            ours[section].pop(name, None)
    return ours


def load_apranova_config(c: Config, path: Path = REPO_ROOT) -> None:
    """Lay our configuration over the chart's `c` (call it from `hub.extraConfig`)."""
    ours = apranova_config(path)
    chart_environment = dict(c.get("KubeSpawner", {}).get("environment") or {})
    spawner = Config({**ours.get("Spawner", {}), **ours.get(SPAWNER_SECTION, {})})
    spawner["environment"] = {**chart_environment, **spawner.get("environment", {})}
    ours[SPAWNER_SECTION] = spawner
    c.merge(ours)
