"""Load jupyterhub_config.py as the hub would, in a fresh process with only the given env.

A subprocess, because settings are read once per process; the whole config comes back as
plain data (sets as sorted lists, bytes as hex) for the test to pick from.
"""

import json
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

_LOADER = """
import json, sys
from traitlets.config.loader import PyFileConfigLoader

def plain(value):
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"not JSON: {value!r}")

config = PyFileConfigLoader("jupyterhub_config.py", path=sys.argv[1]).load_config()
print(json.dumps(config, default=plain))
"""


def load_hub_config(env: dict[str, str], cwd: Path = REPO_ROOT) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _LOADER, str(REPO_ROOT)],
        cwd=cwd,
        env={"PYTHONPATH": str(REPO_ROOT), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])
