"""Start the whole platform as `make up` does, on free loopback ports in a temp folder."""

import contextlib
import fcntl
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

from hub.local_accounts import remove_accounts

REPO_ROOT = Path(__file__).resolve().parents[2]
# Folders above the virtualenv opened for traversal (o+x) while platforms run, counted across
# processes (test workers, benchmark runs): folder -> [its own mode, running platforms].
OPENED_FOLDERS_FILE = Path(tempfile.gettempdir()) / "apranova-opened-folders.json"


@contextlib.contextmanager
def opened_folders() -> Iterator[dict[str, list[int]]]:
    """The shared count, locked for the block and written back after it."""
    with open(OPENED_FOLDERS_FILE, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        counts = json.loads(handle.read() or "{}")
        yield counts
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(counts))


PORT_SETTINGS = (
    "hub_port",
    "hub_api_port",
    "proxy_api_port",
    "lms_api_port",
    "dashboards_port",
    "dashboards_upstream_port",
    "dagster_port",
    "dagster_upstream_port",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pids_with_environ(entry: str) -> list[int]:
    """Processes (other than this one) whose environment holds `entry` (`NAME=value`)."""
    marker = entry.encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            environ = (proc / "environ").read_bytes()
        except OSError:
            continue
        if marker in environ.split(b"\0"):
            found.append(int(proc.name))
    return found


class Platform:
    """A running hub with its services; helpers log in and mint tokens like a user would."""

    def __init__(
        self,
        state_dir: Path,
        *,
        analytics: bool = True,
        prepare: Callable[["Platform"], None] | None = None,
    ) -> None:
        """`analytics=False`: no pipeline run, dashboards or Dagster (a hub for tokens only,
        e.g. in a benchmark, where the Dagster daemon's ticks would take CPU). `prepare`
        runs after the demo data is loaded and before the pipeline's first run (e.g. to add
        a synthetic school)."""
        self.state_dir = state_dir
        self.analytics = analytics
        self.prepare = prepare
        self.ports = {name: free_port() for name in PORT_SETTINGS}
        self.url = f"http://127.0.0.1:{self.ports['hub_port']}"
        self.hub_api = f"http://127.0.0.1:{self.ports['hub_api_port']}/hub/api"
        self.log_path = state_dir / "hub.log"
        self.env = {
            **os.environ,
            "APRANOVA_STATE_DIR": str(state_dir),
            "PATH": f"{REPO_ROOT / 'node_modules/.bin'}:{Path(sys.executable).parent}:"
            + os.environ.get("PATH", ""),
            **{f"APRANOVA_{name.upper()}": str(port) for name, port in self.ports.items()},
        }
        if not analytics:
            self.env.update(APRANOVA_ENABLE_DAGSTER="false", APRANOVA_ENABLE_DASHBOARDS="false")
        # Local workspaces as root run as one system account per student: this platform's
        # accounts get a prefix of their own (removed in stop()), and the homes a folder other
        # users can traverse (pytest's temporary folders are root's alone).
        self.account_prefix = f"at{secrets.token_hex(3)}-"
        self.home_root = Path(tempfile.mkdtemp(prefix="apranova-homes-"))
        self.home_root.chmod(0o755)
        self.env.update(
            # a role change (`apranova-hub set-role`) reaches the running hub within seconds
            APRANOVA_ROLE_REFRESH_SECONDS="2",
            APRANOVA_LOCAL_USER_PREFIX=self.account_prefix,
            APRANOVA_WORKSPACE_HOME_ROOT=str(self.home_root),
        )
        self._opened_folders: list[Path] = []
        self.passwords: dict[str, str] = {}
        self.secrets: dict[str, str] = {}
        self.process: subprocess.Popen | None = None
        self._admin_token: str | None = None

    # --- lifecycle ----------------------------------------------------------------------
    def run(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, *args], cwd=REPO_ROOT, env=self.env, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"{args} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def start(self) -> None:
        self._let_students_reach_the_project()
        self.run("-m", "hub.cli", "init")
        self.run("-m", "lms_api.cli", "migrate")
        self.run("-m", "lms_api.cli", "seed-demo")
        created = json.loads(self.run("-m", "hub.cli", "seed-demo", "--json"))
        self.passwords = {name: info["password"] for name, info in created.items()}
        # A student with an account but no enrollment, an admin who is not a hub admin
        # (group `admins`), and a trainer with no students.
        for username, role in (("grace", "student"), ("office", "admin"), ("coach", "trainer")):
            out = self.run("-m", "hub.cli", "add-user", username, "--role", role)
            self.passwords[username] = out.strip().rsplit(" ", 1)[-1]
        for line in (self.state_dir / "secrets.env").read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep:
                self.secrets[key] = value
        self.env["DAGSTER_HOME"] = str(self.state_dir / "dagster")
        if self.prepare is not None:
            self.prepare(self)
        if self.analytics:
            self.run("-m", "pipelines.cli")
        self._launch_hub()

    def _launch_hub(self) -> None:
        log = self.log_path.open("a")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", "jupyterhub_config.py"],
            cwd=REPO_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.wait_until_ready()

    def restart_hub(self) -> None:
        """Stop the hub as an admin would (SIGTERM: it stops its proxy and services, keeps
        workspaces where `cleanup_servers` is off) and start it again."""
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(60)
        self._launch_hub()

    def wait_until_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        checks = {
            "hub": f"{self.url}/hub/api/",
            "lms-api": f"{self.url}/services/lms-api/api/v1/health",
            "dashboards": f"http://127.0.0.1:{self.ports['dashboards_port']}/services/dashboards/",
            "dagster": f"http://127.0.0.1:{self.ports['dagster_port']}/services/dagster/",
        }
        if not self.analytics:
            del checks["dashboards"], checks["dagster"]
        pending = dict(checks)
        while pending and time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"hub exited early:\n{self.log_tail()}")
            for name, url in list(pending.items()):
                try:
                    if httpx.get(url, timeout=2).status_code in (200, 302):
                        del pending[name]
                except httpx.HTTPError:
                    pass
            time.sleep(0.5)
        if pending:
            raise RuntimeError(f"not ready after {timeout}s: {sorted(pending)}\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.stop_all_servers()
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        # Whatever the hub started (proxy, services in their own sessions, workspaces) goes
        # too: every process whose environment names this platform's state folder.
        if self.process:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        for pid in self.leftover_pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if os.geteuid() == 0:
            remove_accounts(self.account_prefix)
        shutil.rmtree(self.home_root, ignore_errors=True)
        with opened_folders() as counts:  # the last platform to stop closes them again
            for folder in self._opened_folders:
                original, users = counts.pop(str(folder), (None, 0))
                if users > 1:
                    counts[str(folder)] = [original, users - 1]
                elif original is not None:
                    with contextlib.suppress(OSError):
                        folder.chmod(original)
        self._opened_folders = []

    def _let_students_reach_the_project(self) -> None:
        """The students' accounts run the project's virtualenv: a checkout in a folder only
        root may traverse (a CI runner's temporary folder) is opened for traversal, not
        listing (o+x), for the platform's lifetime, as an operator would place it."""
        if os.geteuid() != 0:
            return
        with opened_folders() as counts:
            for folder in reversed(Path(sys.executable).absolute().parents):
                mode = folder.stat().st_mode & 0o7777
                if str(folder) in counts or not mode & 0o001:
                    original, users = counts.get(str(folder), [mode, 0])
                    counts[str(folder)] = [original, users + 1]
                    self._opened_folders.append(folder)
                    folder.chmod(original | 0o001)

    def leftover_pids(self) -> list[int]:
        return pids_with_environ(f"APRANOVA_STATE_DIR={self.state_dir}")

    def stop_all_servers(self) -> None:
        """The hub keeps workspaces running across its own restarts; tests clean up."""
        try:
            users = self.api("GET", "/users").json()
        except (httpx.HTTPError, ValueError, subprocess.CalledProcessError):
            return
        for user in users:
            for name in user.get("servers") or {}:
                path = (
                    f"/users/{user['name']}/servers/{name}"
                    if name
                    else f"/users/{user['name']}/server"
                )
                self.api("DELETE", path)

    def log_tail(self, lines: int = 80) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    # --- acting as people ---------------------------------------------------------------
    def browser(self, username: str, password: str | None = None) -> httpx.Client:
        """An HTTP client logged in through the hub's login form, cookies and all."""
        client = httpx.Client(base_url=self.url, follow_redirects=True, timeout=60)
        page = client.get("/hub/login")
        found = re.search(r'name="_xsrf" value="([^"]+)"', page.text)
        assert found, f"no login form at {page.url} ({page.status_code}): {page.text[:500]}"
        xsrf = found.group(1)
        client.post(
            "/hub/login",
            data={
                "username": username,
                "password": self.passwords[username] if password is None else password,
                "_xsrf": xsrf,
            },
        )
        return client

    @property
    def admin_token(self) -> str:
        """A token of the hub admin `admin`, made in the hub's database with JupyterHub's own
        model, as `jupyterhub token admin` does (that command loads the whole hub: 3 s)."""
        if self._admin_token is None:
            from jupyterhub import orm

            db = orm.new_session_factory(f"sqlite:///{self.state_dir / 'jupyterhub.sqlite'}")()
            try:
                admin = orm.User.find(db, "admin")
                self._admin_token = admin.new_api_token(note="tests", scopes=["inherit"])
                db.commit()
            finally:
                db.close()
        return self._admin_token

    def api(self, method: str, path: str, **kwargs) -> httpx.Response:
        headers = {"Authorization": f"token {self.admin_token}"}
        return httpx.request(method, f"{self.hub_api}{path}", headers=headers, timeout=30, **kwargs)

    def new_token(self, username: str) -> tuple[str, str]:
        """A hub API token for a user, as the user would make on the hub's token page."""
        if self.api("GET", f"/users/{username}").status_code == 404:
            self.api("POST", f"/users/{username}").raise_for_status()
        response = self.api("POST", f"/users/{username}/tokens", json={"note": "tests"})
        response.raise_for_status()
        body = response.json()
        return body["token"], body["id"]

    def revoke(self, username: str, token_id: str) -> None:
        self.api("DELETE", f"/users/{username}/tokens/{token_id}").raise_for_status()
