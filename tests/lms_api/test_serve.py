"""`apranova-lms serve` listens on every `--host` given, in one process (the hub on the Docker
host starts it on loopback and on the workspace network's gateway)."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bench.harness.platform import free_port
from lms_api.migrate import upgrade

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVE = [sys.executable, "-m", "lms_api.cli", "serve"]
SECOND_LOOPBACK = "127.0.0.2"  # Linux answers the whole 127/8 on lo: a second address to bind


def wait_for_health(url: str, process: subprocess.Popen, timeout: float = 60) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[0]
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"no answer from {url} after {timeout} s")


def test_serve_answers_on_each_host_it_is_given_and_nowhere_else(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'lms.db'}"
    upgrade(database_url)
    port = free_port()
    process = subprocess.Popen(
        [*SERVE, "--port", str(port), "--host", "127.0.0.1", "--host", SECOND_LOOPBACK],
        cwd=REPO_ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "APRANOVA_STATE_DIR": str(tmp_path),
            "APRANOVA_DATABASE_URL": database_url,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        for host in ("127.0.0.1", SECOND_LOOPBACK):
            answer = wait_for_health(f"http://{host}:{port}/api/v1/health", process)
            assert answer.status_code == 200 and answer.json()["status"] == "ok", answer.text
        # Only the addresses asked for: not every interface.
        try:
            stray = httpx.get(f"http://127.0.0.3:{port}/api/v1/health", timeout=2)
        except httpx.ConnectError:
            stray = None
        assert stray is None, stray
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl-C, or the hub stopping its services
        output = process.communicate(timeout=30)[0]
    # uvicorn shuts down cleanly; the Ctrl-C it re-raises then ends the process quietly.
    assert process.returncode == 0 and "Finished server process" in output, output
    assert "Traceback" not in output, output
