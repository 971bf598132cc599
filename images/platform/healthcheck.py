#!/usr/bin/env python3
"""`apranova-healthcheck [URL ...]`: exit 0 when every URL answers, 1 otherwise.

The container HEALTHCHECK of the platform image (docker-compose passes each service's URLs).
A URL "answers" with any status below 400; redirects are not followed, since a page behind
the hub login (the gateways) answers an anonymous request with a redirect to the login.
Without arguments: $APRANOVA_HEALTHCHECK_URLS (space-separated), else the hub via its proxy.
Standard library only, so it works in any image with python3.
"""

import os
import sys
import urllib.error
import urllib.request

DEFAULT_URLS = "http://127.0.0.1:8000/hub/health"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # report the 3xx itself instead of following it


def answers(url: str, timeout: float) -> tuple[bool, str]:
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=timeout) as response:
            return response.status < 400, str(response.status)
    except urllib.error.HTTPError as exc:  # also raised for unfollowed redirects
        return exc.code < 400, str(exc.code)
    except (OSError, ValueError) as exc:
        return False, f"{exc.__class__.__name__}: {exc}"


def main(argv: list[str]) -> int:
    urls = argv or os.environ.get("APRANOVA_HEALTHCHECK_URLS", DEFAULT_URLS).split()
    timeout = float(os.environ.get("APRANOVA_HEALTHCHECK_TIMEOUT", "5"))
    healthy = True
    for url in urls:
        ok, detail = answers(url, timeout)
        print(f"{'ok ' if ok else 'BAD'} {url} {detail}")
        healthy = healthy and ok
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
