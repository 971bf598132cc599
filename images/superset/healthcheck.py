#!/usr/bin/env python3
"""Container HEALTHCHECK of the Superset workspace: Superset answers `GET <prefix>health`.

Superset (gunicorn) listens on 127.0.0.1:8088 behind jupyter-standaloneproxy (port 8888, the
hub's OAuth login) and serves the hub's full prefixed path (JUPYTERHUB_SERVICE_PREFIX, e.g.
/user/ana/superset/; without it, /). `/health` needs no login; healthy = 200.
"""

import os
import sys
import urllib.request

prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX") or "/"
prefix = prefix if prefix.endswith("/") else prefix + "/"
url = f"http://127.0.0.1:8088{prefix}health"
try:
    with urllib.request.urlopen(url, timeout=5) as response:
        sys.exit(0 if response.status == 200 else 1)
except OSError as exc:
    print(f"{url}: {exc}")
    sys.exit(1)
