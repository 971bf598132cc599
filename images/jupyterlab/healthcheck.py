#!/usr/bin/env python3
"""Container HEALTHCHECK of the workspace: the single-user server answers `GET <prefix>api`.

Under the hub, DockerSpawner passes JUPYTERHUB_SERVICE_URL (e.g. http://0.0.0.0:8888/user/ana/);
without it, the server's default http://127.0.0.1:8888/. `/api` needs no login.
"""

import os
import sys
import urllib.request
from urllib.parse import urlsplit

service = urlsplit(os.environ.get("JUPYTERHUB_SERVICE_URL") or "http://127.0.0.1:8888/")
prefix = service.path if service.path.endswith("/") else service.path + "/"
url = f"http://127.0.0.1:{service.port or 8888}{prefix}api"
try:
    with urllib.request.urlopen(url, timeout=5) as response:
        sys.exit(0 if response.status == 200 else 1)
except OSError as exc:
    print(f"{url}: {exc}")
    sys.exit(1)
