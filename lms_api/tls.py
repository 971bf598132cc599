"""One TLS context for the HTTP clients of a process.

Each new httpx client loads the CA bundle into a new context unless it is given one: about
25 ms of CPU, paid by every app the tests make and by every hub call that opens a client.
A client-side context is safe to share; it is made on first use, as httpx would make it
(`SSL_CERT_FILE` / `SSL_CERT_DIR`, else certifi's bundle).
"""

import functools
import ssl

import httpx


@functools.cache
def client_tls() -> ssl.SSLContext:
    return httpx.create_ssl_context()
