"""A student logs in through the form, launches JupyterLab and uses it through the proxy."""

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.kernel import run_cell

pytestmark = pytest.mark.e2e


def wait_for_server(platform, username: str, ready: bool, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        model = platform.api("GET", f"/users/{username}").json()
        server = (model.get("servers") or {}).get("")
        if ready and server and server.get("ready"):
            return server
        if not ready and not server:
            return {}
        time.sleep(0.5)
    raise AssertionError(f"{username}'s server ready={ready} not reached:\n{platform.log_tail()}")


def workspace_environment(username: str) -> dict[str, str]:
    """The environment of a running local workspace: what its notebooks see."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            raw = (entry / "environ").read_bytes()
        except OSError:
            continue
        if b"jupyterhub.singleuser" not in cmdline:
            continue
        env = dict(item.split("=", 1) for item in raw.decode().split("\0") if "=" in item)
        if env.get("JUPYTERHUB_USER") == username:
            return env
    raise AssertionError(f"no running workspace process for {username}")


def run_in_workspace_environment(platform, username: str, code: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=workspace_environment(username),
        cwd=platform.state_dir,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_student_launches_jupyterlab_through_the_hub(platform):
    browser = platform.browser("ada")
    # The spawn page launches directly: in local mode JupyterLab is ada's only kind.
    browser.get("/hub/spawn")
    server = wait_for_server(platform, "ada", ready=True)
    assert server["url"] == "/user/ada/"

    lab = browser.get("/user/ada/lab")  # the workspace's own OAuth with the hub
    assert lab.status_code == 200
    assert str(lab.url).endswith("/user/ada/lab")
    status = browser.get("/user/ada/api/status")
    assert status.status_code == 200
    assert "last_activity" in status.json()

    contents = browser.get("/user/ada/api/contents")
    assert contents.status_code == 200 and contents.json()["type"] == "directory"

    # The notebook's own token and environment reach the LMS (as `lms_api.client` in a cell).
    me = run_in_workspace_environment(
        platform,
        "ada",
        "from lms_api.client import LmsClient; print(LmsClient().me().model_dump_json())",
    )
    assert me["username"] == "ada" and me["enrollments"][0]["track_code"] == "DP"

    # Another student cannot use ada's workspace.
    linus = platform.browser("linus")
    assert linus.get("/user/ada/api/status").status_code in (403, 404)

    stopped = platform.api("DELETE", "/users/ada/server")
    assert stopped.status_code in (202, 204)
    wait_for_server(platform, "ada", ready=False)


def test_wrong_password_does_not_log_in(platform):
    browser = platform.browser("ada", password="not-her-password")
    page = browser.get("/hub/home")
    assert "/hub/login" in str(page.url)
    assert browser.get("/hub/api/user").status_code == 403


def test_student_without_enrollment_is_refused_with_a_way_forward(platform):
    browser = platform.browser("grace")
    page = browser.get("/hub/spawn")
    assert page.status_code == 403
    assert "not enrolled" in page.text
    assert "enroll" in page.text.lower()
    assert not (platform.api("GET", "/users/grace").json().get("servers") or {})


def test_rest_api_enforces_the_same_rule(platform):
    token, _ = platform.new_token("grace")
    hub = platform.hub_api

    refused = httpx.post(f"{hub}/users/grace/server", headers={"Authorization": f"token {token}"})
    assert refused.status_code == 403
    assert "not enrolled" in refused.json()["message"]

    ada_token, _ = platform.new_token("ada")
    wrong_kind = httpx.post(
        f"{hub}/users/ada/server",
        headers={"Authorization": f"token {ada_token}"},
        json={"kind": "superset"},
    )
    assert wrong_kind.status_code == 403
    assert "superset" in wrong_kind.json()["message"]
    assert not (platform.api("GET", "/users/ada").json().get("servers") or {})


def test_the_first_start_brings_a_welcome_notebook_that_runs(platform):
    token = platform.new_token("ada")[0]
    headers = {"Authorization": f"token {token}"}
    started = httpx.post(f"{platform.hub_api}/users/ada/server", headers=headers, timeout=120)
    assert started.status_code in (201, 202), started.text
    wait_for_server(platform, "ada", ready=True)
    try:
        listing = httpx.get(f"{platform.url}/user/ada/api/contents", headers=headers, timeout=30)
        assert "Welcome.ipynb" in [item["name"] for item in listing.json()["content"]]
        notebook = httpx.get(
            f"{platform.url}/user/ada/api/contents/Welcome.ipynb", headers=headers, timeout=30
        ).json()["content"]
        code = "\n".join(c["source"] for c in notebook["cells"] if c["cell_type"] == "code")
        # Every cell, run in ada's own kernel against the real LMS, as she would.
        out = run_cell(platform.url, "ada", token, code)
        assert "Hello" in out and "DP Data Professional" in out
        assert "deliverable " in out and "quiz " in out
    finally:
        platform.api("DELETE", "/users/ada/server")
        wait_for_server(platform, "ada", ready=False)
