"""Issue 18, item 3: in local mode (the `make up` default, hub as root) a student's notebook
can read neither the platform's state, nor another student's home, nor another process's
environment. Checked from a real notebook kernel of a workspace started through the hub."""

import json
import os
import pwd
from pathlib import Path

import pytest

from hub.local_accounts import system_username
from tests.e2e.kernel import run_cell
from tests.e2e.test_security_hardening import enrolled_student, spawn
from tests.e2e.test_workspace import wait_for_server

pytestmark = pytest.mark.e2e

PROBE = """
import json, os, pathlib
report = {"uid": os.getuid(), "home": os.path.expanduser("~"), "opened": [], "refused": []}
for target in TARGETS:
    try:
        if os.path.isdir(target):
            os.listdir(target)
        else:
            open(target, "rb").read(1)
        report["opened"].append(target)
    except PermissionError:
        report["refused"].append(target)
report["environ"], report["cmdline"] = {}, {}
for proc in pathlib.Path("/proc").iterdir():
    if proc.name.isdigit():
        for part in ("environ", "cmdline"):
            try:
                report[part][proc.name] = (proc / part).read_bytes().decode(errors="replace")
            except OSError:
                pass
mine = pathlib.Path("~/notes.txt").expanduser()
mine.write_text("mine")
report["wrote_home"] = mine.read_text() == "mine"
print(json.dumps(report))
"""


def enrolled_and_running(platform, username: str) -> str:
    """A new student with a DP enrollment and a running workspace; returns their token."""
    token = enrolled_student(platform, username, platform.new_token("admin")[0])
    started = spawn(platform, username, token)
    assert started.status_code in (201, 202), started.text
    wait_for_server(platform, username, ready=True)
    return token


@pytest.mark.skipif(
    os.geteuid() != 0,
    reason="isolation needs the hub to run as root (CI does); as a user, workspaces are refused",
)
def test_a_notebook_cannot_read_the_platform_or_other_students(platform):
    token = enrolled_and_running(platform, "ivy")
    enrolled_and_running(platform, "oscar")
    state = platform.state_dir
    oscar_home = platform.home_root / "oscar"
    targets = [
        state / "secrets.env",
        state / "accounts.sqlite",
        state / "jupyterhub.sqlite",
        state / "lms.db",
        state / "warehouse" / "warehouse.duckdb",
        state,
        oscar_home,
    ]
    assert all(t.exists() for t in targets), [t for t in targets if not t.exists()]
    code = f"TARGETS = {json.dumps([str(t) for t in targets])}\n{PROBE}"
    try:
        report = json.loads(run_cell(platform.url, "ivy", token, code))
        # nothing of the platform's state, nor oscar's home
        assert report["opened"] == []
        assert sorted(report["refused"]) == sorted(str(t) for t in targets)
        # the notebook is ivy's own account, at home in her private folder
        account = pwd.getpwnam(system_username("ivy", platform.account_prefix))
        assert report["uid"] == account.pw_uid != 0
        assert report["home"] == str(platform.home_root / "ivy") == account.pw_dir
        assert report["wrote_home"]
        assert Path(account.pw_dir).stat().st_mode & 0o777 == 0o700
        # no other process's environment (the hub's, the gateways', oscar's notebook), and
        # no secret in any command line
        readable = report["environ"]
        assert readable, "the notebook should at least read its own environment"
        for pid in readable:
            owner = Path(f"/proc/{pid}").stat().st_uid if Path(f"/proc/{pid}").exists() else None
            assert owner in (account.pw_uid, None), (pid, owner)
        everything = "\n".join([*readable.values(), *report["cmdline"].values()])
        assert "APRANOVA_GATEWAY_SECRET" not in everything
        for name, value in platform.secrets.items():
            assert value not in everything, f"{name} is visible to a notebook"
    finally:
        for username in ("ivy", "oscar"):
            platform.api("DELETE", f"/users/{username}/server")
        for username in ("ivy", "oscar"):
            wait_for_server(platform, username, ready=False)
