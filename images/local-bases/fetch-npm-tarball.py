"""Download one npm registry tarball and check it against the registry's sha512 integrity.

    python3 fetch-npm-tarball.py URL sha512-BASE64 DEST

Used by node.Dockerfile (the legacy builder has no heredocs, and the base has no curl).
"""

import base64
import hashlib
import sys
import urllib.request

url, integrity, dest = sys.argv[1:]
with urllib.request.urlopen(url, timeout=300) as response:
    data = response.read()
got = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
if got != integrity:
    sys.exit(f"{url}: integrity {got}, expected {integrity}")
with open(dest, "wb") as out:
    out.write(data)
