"""Run docker-compose.yml for real on this machine and call lms-api from a student's workspace.

    .venv/bin/python bench/compose_check.py [--keep] [--full]

What an operator does after `cp .env.example .env`, end to end, under a compose project of its
own (`apranova-compose-check`, workspace network of the same name), then cleaned up:

1. a generated env file (fresh hex secrets, local logins, the hub published on a free port of
   127.0.0.1, the images of images/build-compose-local.sh unless the environment names others);
2. PostgreSQL and lms-api up; the demo school's tracks (`apranova-lms seed-demo`); two local
   accounts made with `apranova-hub add-user` before the hub starts (an admin, and a student
   with a name of its own, so no other run's `apranova-<user>` container or home volume is
   touched);
3. the hub up (with `--full`: the whole stack, Dagster and dashboards too) and healthy;
4. the admin logs in through the login form and makes an API token; grants the student the
   DP track (`POST /services/lms-api/api/v1/enrollments`) and starts her JupyterLab workspace
   (`POST /hub/api/users/NAME/server`), through the published proxy port;
5. inside her container, with the container's own environment as a notebook has it:
   `python -c "from lms_api.client import LmsClient; print(LmsClient().me())"`; the answer
   must name her and her DP enrollment;
6. cleanup: her server stopped, `docker-compose down -v`, her home volume removed.

The one change to docker-compose.yml (an override file): PostgreSQL, lms-api and the hub run
their health checks every 2 s instead of 30 s, so that each waits less for the one before.

Prints each step's time and the call's answer; exits non-zero when any step fails. Needs the
images (images/build-compose-local.sh, images/build-local.sh jupyterlab) and docker-compose.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parent.parent
PROJECT = "apranova-compose-check"
IN_CONTAINER = "from lms_api.client import LmsClient; print(LmsClient().me())"
# As JSON too, for the checks (the same call).
IN_CONTAINER_JSON = (
    "import json; from lms_api.client import LmsClient; "
    "print(json.dumps(LmsClient().me().model_dump(mode='json')))"
)
LOCAL_IMAGES = {
    "APRANOVA_PLATFORM_IMAGE": "apranova-local/platform:latest",
    "APRANOVA_PLATFORM_BASE_IMAGE": "apranova-local/python:3.11",
    "APRANOVA_NODE_IMAGE": "apranova-local/node:22",
    "APRANOVA_POSTGRES_IMAGE": "apranova-local/postgres:15",
    "APRANOVA_DOCKER_IMAGE_JUPYTERLAB": "apranova/workspace-jupyterlab:latest",
}
SECRETS = (
    "APRANOVA_COOKIE_SECRET",
    "APRANOVA_PROXY_AUTH_TOKEN",
    "APRANOVA_LMS_API_TOKEN",
    "APRANOVA_HUB_SERVICE_TOKEN",
    "APRANOVA_DASHBOARDS_API_TOKEN",
    "APRANOVA_DAGSTER_API_TOKEN",
    "APRANOVA_POSTGRES_PASSWORD",
    "APRANOVA_POSTGRES_READER_PASSWORD",
    "APRANOVA_DAGSTER_POSTGRES_PASSWORD",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def compose_binary() -> list[str]:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return ["docker", "compose"]


class Check:
    def __init__(self, project: str = PROJECT, full: bool = False) -> None:
        self.project = project
        self.full = full
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        tag = secrets.token_hex(3)
        self.admin = f"ccadmin{tag}"
        self.student = f"ccstudent{tag}"
        self.dir = Path(tempfile.mkdtemp(prefix="apranova-compose-check-"))
        self.env_file = self.dir / "env"
        self.times: dict[str, float] = {}
        env = {name: os.environ.get(name) or value for name, value in LOCAL_IMAGES.items()}
        env |= {name: secrets.token_hex(32) for name in SECRETS}
        env |= {
            "APRANOVA_PUBLIC_URL": self.url,
            "APRANOVA_PUBLISH_ADDRESS": "127.0.0.1",
            "APRANOVA_PUBLISH_PORT": str(self.port),
            "APRANOVA_DOCKER_GID": str(os.stat("/var/run/docker.sock").st_gid),
            "APRANOVA_DOCKER_NETWORK": project,
            "APRANOVA_AUTHENTICATOR": "local",
        }
        self.env = env
        self.env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
        self.env_file.chmod(0o600)
        # Health checks every 2 s instead of 30 s (only the cadence: the same tests), since
        # compose starts lms-api after PostgreSQL's and the hub after lms-api's first good one.
        self.override = self.dir / "faster-health-checks.yml"
        self.override.write_text(
            "services:\n"
            + "".join(
                f"  {name}:\n    healthcheck:\n      interval: 2s\n"
                for name in ("postgres", "lms-api", "hub")
            )
        )

    # --- helpers -------------------------------------------------------------------------
    def compose(self, *args: str, check: bool = True, capture: bool = True) -> str:
        cmd = [*compose_binary(), "-p", self.project, "--env-file", str(self.env_file)]
        cmd += ["-f", str(REPO_ROOT / "docker-compose.yml"), "-f", str(self.override), *args]
        # Only the env file: a variable of this shell must not override it.
        env = {k: v for k, v in os.environ.items() if not k.startswith("APRANOVA_")}
        done = subprocess.run(
            cmd, cwd=REPO_ROOT, env=env, capture_output=capture, text=True, check=False
        )
        if check and done.returncode:
            raise RuntimeError(f"{' '.join(args)}: exit {done.returncode}\n{done.stderr}")
        return done.stdout or ""

    def step(self, name: str, started: float) -> None:
        self.times[name] = time.monotonic() - started
        print(f"== {name}: {self.times[name]:.1f} s", flush=True)

    def wait_healthy(self, services: list[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            states = {}
            for service in services:
                ids = self.compose("ps", "-q", service).split()
                if not ids:
                    states[service] = "missing"
                    continue
                states[service] = subprocess.run(
                    ["docker", "inspect", "-f", "{{.State.Health.Status}}", ids[0]],
                    capture_output=True,
                    text=True,
                ).stdout.strip()
            if all(state == "healthy" for state in states.values()):
                return
            if time.monotonic() > deadline:
                logs = self.compose("logs", "--tail", "40", *services, check=False)
                raise RuntimeError(f"not healthy after {timeout:.0f} s: {states}\n{logs}")
            time.sleep(2)

    def add_user(self, name: str, role: str) -> str:
        out = self.compose(
            "run",
            "--rm",
            "--no-deps",
            "-T",
            "hub",
            "apranova-hub",
            "add-user",
            name,
            "--role",
            role,
        )
        # The password is printed once; take the last word-like token of the output.
        found = re.findall(r"password[^\n]*?:\s*(\S+)", out, re.IGNORECASE) or out.split()[-1:]
        if not found:
            raise RuntimeError(f"add-user {name}: no password in {out!r}")
        return found[-1]

    # --- the check -----------------------------------------------------------------------
    def run(self) -> dict:
        t = time.monotonic()
        self.compose("up", "-d", "postgres", "lms-api")
        self.wait_healthy(["postgres", "lms-api"], timeout=240)
        self.step("postgres and lms-api healthy", t)

        t = time.monotonic()
        print(self.compose("exec", "-T", "lms-api", "apranova-lms", "seed-demo").strip())
        admin_password = self.add_user(self.admin, "superadmin")
        self.add_user(self.student, "student")
        self.step("demo tracks and two local accounts", t)

        t = time.monotonic()
        self.compose("up", "-d", *([] if self.full else ["hub"]))
        self.wait_healthy(
            ["hub", "dagster-webserver", "dagster-daemon", "dashboards"] if self.full else ["hub"],
            timeout=420 if self.full else 240,
        )
        self.step("hub healthy" + (" (and the whole stack)" if self.full else ""), t)

        t = time.monotonic()
        with httpx.Client(base_url=self.url, follow_redirects=True, timeout=60) as browser:
            page = browser.get("/hub/login")
            xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
            browser.post(
                "/hub/login",
                data={"username": self.admin, "password": admin_password, "_xsrf": xsrf},
            )
            made = browser.post(
                f"/hub/api/users/{self.admin}/tokens",
                json={"note": "compose check", "expires_in": 3600},
                headers={"X-XSRFToken": browser.cookies.get("_xsrf", path="/hub/") or xsrf},
            )
            made.raise_for_status()
            token = made.json()["token"]
        admin = httpx.Client(
            base_url=self.url, headers={"Authorization": f"token {token}"}, timeout=60
        )
        granted = admin.post(
            "/services/lms-api/api/v1/enrollments",
            json={"username": self.student, "track": "DP", "reason": "compose check"},
        )
        if granted.status_code != 201:
            raise RuntimeError(f"grant: {granted.status_code} {granted.text}")
        started = admin.post(f"/hub/api/users/{self.student}/server", json={"kind": "jupyterlab"})
        if started.status_code not in (201, 202):
            raise RuntimeError(f"start: {started.status_code} {started.text}")
        deadline = time.monotonic() + 180
        while not (admin.get(f"/hub/api/users/{self.student}").json()["servers"].get("") or {}).get(
            "ready"
        ):
            if time.monotonic() > deadline:
                raise RuntimeError("her workspace did not become ready in 180 s")
            time.sleep(1)
        self.step("admin token, DP grant, her workspace ready", t)

        t = time.monotonic()
        container = f"apranova-{self.student}"
        said = subprocess.run(
            ["docker", "exec", container, "python", "-c", IN_CONTAINER],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        me = json.loads(
            subprocess.run(
                ["docker", "exec", container, "python", "-c", IN_CONTAINER_JSON],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        url = subprocess.run(
            ["docker", "exec", container, "printenv", "APRANOVA_LMS_API_URL"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        self.step("LmsClient().me() inside her container", t)
        print(f"$ docker exec {container} python -c {IN_CONTAINER!r}")
        print(said)
        print(f"(APRANOVA_LMS_API_URL={url})")
        tracks = [e["track_code"] for e in me["enrollments"]]
        if me["username"] != self.student or tracks != ["DP"]:
            raise RuntimeError(f"unexpected answer: {me}")
        admin.delete(f"/hub/api/users/{self.student}/server")
        admin.close()
        return {"said": said, "me": me, "lms_api_url": url, "times": self.times}

    def cleanup(self) -> None:
        t = time.monotonic()
        container = f"apranova-{self.student}"
        subprocess.run(["docker", "rm", "-f", container], capture_output=True)
        self.compose("down", "-v", "--remove-orphans", check=False)
        subprocess.run(
            ["docker", "volume", "rm", f"apranova-home-{self.student}"], capture_output=True
        )
        shutil.rmtree(self.dir, ignore_errors=True)
        self.step("cleanup (down -v, her home volume)", t)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="leave the stack running")
    parser.add_argument(
        "--full", action="store_true", help="start the whole stack, not just the hub's part"
    )
    args = parser.parse_args(argv)
    check = Check(full=args.full)
    print(f"compose project {check.project}, hub on {check.url}, student {check.student}")
    t = time.monotonic()
    try:
        check.run()
    except Exception as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        if not args.keep:
            check.cleanup()
        return 1
    if args.keep:
        print(
            f"kept: {' '.join(compose_binary())} -p {check.project} --env-file {check.env_file} ..."
        )
    else:
        check.cleanup()
    print(f"== total: {time.monotonic() - t:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
