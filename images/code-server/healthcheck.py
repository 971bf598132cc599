#!/usr/bin/env python3
"""Container HEALTHCHECK of the code-server workspace: VS Code answers `/healthz` on loopback.

The hub-facing proxy in front of it needs a login, so the check asks code-server itself.
"""

import os
import sys
import urllib.request

url = f"http://127.0.0.1:{os.environ.get('CODE_SERVER_PORT', '13337')}/healthz"
try:
    with urllib.request.urlopen(url, timeout=5) as response:
        sys.exit(0 if response.status == 200 else 1)
except OSError as exc:
    print(f"{url}: {exc}")
    sys.exit(1)
