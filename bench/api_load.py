"""API load run on loopback: N students against lms_api on PostgreSQL, next to a ceiling.

One command (`make bench-api`) sets everything up, measures, prints a table and cleans up:

1. starts the real JupyterHub (`bench.harness.platform.Platform`, without Dagster and the
   dashboards) only to issue tokens, and makes N student accounts there, each with an API
   token of its own;
2. creates a fresh PostgreSQL database, migrates it, loads the demo school and serves lms_api
   on it with uvicorn; the hub admin grants every student the DP track through the API;
3. serves the ceiling (`bench.ceiling`, a bare ASGI app) with the very same uvicorn command;
4. serves the floor (`bench.floor`, a minimal FastAPI app that answers the three reads with the
   SQL lms_api runs for them, on the same database and hub) with the very same uvicorn command,
   while lms_api is stopped (it is started again for its later phases);
5. runs the phases below, one server at a time: `--warmup` seconds unmeasured, then
   `--duration` seconds measured, each student on its own keep-alive connection;
6. prints requests/s, p50 and p99 per endpoint and per group, where the CPU went, the server's
   CPU per read for lms_api and for the floor, and whether the targets are met; then stops
   every process it started and drops the database.

Phases:
- saturated (closed loop): each student sends its next request as soon as the last answer
  came back. Gives the most requests/s the server sustains; latency then follows from
  Little's law (latency = students / throughput), whatever the server does.
- paced (open schedule), once per `--think-ms` value: each student sends one request every
  think-ms on average (uniform 0.5x..1.5x), so N students offer N * 1000 / think-ms req/s.
  Latency counts from when the request was due, so a slow answer that delays a student's next
  request is charged to the server, not hidden. Requests still unsent well after the phase
  (`BACKLOG_GRACE`) are counted as errors rather than dropped.

Workloads: `reads` = GET the track, a project, my progress (equal shares); `mixed` = those
plus 20 % writes that mark a step done, or un-mark it when this student had marked it, so
every write really inserts or deletes (with its outbox event). `ceiling` = GET / on the bare
app, with the same headers. The floor runs `reads`, saturated, right after lms_api's (so on the
same data: no step marked done yet).

Server CPU per request = the server's process group's CPU time over the measured window /
the 2xx answers that arrived in it (cores used / req/s).
"""

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import httpx
import uvloop
from sqlalchemy.engine import URL, make_url

from bench.harness.databases import fresh_postgres_database
from bench.harness.platform import REPO_ROOT, Platform, free_port, pids_with_environ
from lms_api.demo import seed_demo
from lms_api.migrate import upgrade

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", None}  # None: a local Unix socket
API = "/api/v1"
TRACK = "DP"
P99_TARGET_MS = 100.0
READ_SHARE_TARGET = 0.5
# Issue 23: a read costs at most this much server CPU, within this factor of the floor's.
READ_CPU_TARGET_MS = 1.0
FLOOR_RATIO_TARGET = 2.0
# The hub is not what is measured: a validated token stays trusted for the whole run.
AUTH_CACHE_SECONDS = 3600
HZ = os.sysconf("SC_CLK_TCK")
# CPU used by anything but the server, PostgreSQL and the client (the idle hub, ~0.05 core in
# a quiet run; also processes that start and end within a phase, such as PostgreSQL backends
# opened per request by a connection pool too small for the load), or stolen by the
# hypervisor, above which a phase is flagged as disturbed.
NOISE_CORES = 0.25
# Paced phases: requests still unsent this long after the measured window are errors.
BACKLOG_GRACE = 30.0
NOT_SENT = "not sent in time (client backlog)"
# A student's idle connection is closed by the client before uvicorn's keep-alive timeout
# (5 s) runs out: else a request sent just as the server closes it gets a connection reset.
CLIENT_KEEPALIVE_SECONDS = 4.0

READS = [
    ("GET /tracks/DP", 2),
    ("GET /projects/{id}", 3),
    ("GET /progress/me", 3),
]
WRITE_WEIGHT = 2  # of 10 in the mixed workload
MARK, UNMARK = "PUT /progress/steps/{id}", "DELETE /progress/steps/{id}"
CEILING = "GET / (bare ASGI)"


# --- servers -------------------------------------------------------------------------------
def uvicorn_command(
    target: str, port: int, workers: int, keep_alive: int | None = None
) -> list[str]:
    """The one way both servers are run (only the app differs); `keep_alive`: seconds an idle
    connection is kept (uvicorn's `--timeout-keep-alive`, default 5)."""
    extra = [] if keep_alive is None else ["--timeout-keep-alive", str(keep_alive)]
    return [
        sys.executable,
        "-m",
        "uvicorn",
        target,
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "info",  # lifecycle lines only (access log off): used to see every worker ready
        *extra,
    ]


def _stat(pid: int | str) -> tuple[str, list[str]] | None:
    """(comm, fields after comm) of /proc/<pid>/stat, or None when the process is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    head, _, rest = raw.rpartition(")")
    return head.partition("(")[2], rest.split()


def group_pids(pgid: int) -> list[int]:
    """Processes in a process group (a server started in its own session: master + workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(entry.name)
            if stat is not None and int(stat[1][2]) == pgid:
                found.append(int(entry.name))
    return found


@dataclass
class Server:
    name: str
    target: str
    env: dict[str, str]
    workers: int
    log_path: Path
    ready_path: str
    port: int = field(default_factory=free_port)
    keep_alive: int | None = None  # uvicorn's --timeout-keep-alive; None: its default (5 s)
    process: subprocess.Popen | None = None
    cwd: Path = REPO_ROOT
    # Ready when the log has this line once per worker and `ready_path` answers `ready_status`.
    ready_line: str = "Application startup complete"
    ready_status: int = 200

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def describe(self) -> str:
        return "python " + " ".join(self.command()[1:])

    def command(self) -> list[str]:
        return uvicorn_command(self.target, self.port, self.workers, self.keep_alive)

    def start(self, timeout: float = 90) -> None:
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                self.command(),
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log_path.read_text()}")
            started = self.log_path.read_text().count(self.ready_line)
            if started >= self.workers:
                with contextlib.suppress(httpx.HTTPError):
                    answer = httpx.get(self.url + self.ready_path, timeout=5)
                    if answer.status_code == self.ready_status:
                        return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready after {timeout}s:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(20)
        for pid in group_pids(self.process.pid):  # workers the master left behind, if any
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.wait(10)


@contextlib.contextmanager
def serving(server: Server) -> Iterator[Server]:
    try:
        server.start()
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def running_hub(state_dir: Path) -> Iterator[Platform]:
    platform = Platform(state_dir, analytics=False)  # no Dagster daemon ticking meanwhile
    try:
        platform.start()
        yield platform
    finally:
        platform.stop()
        stop_hub_services(platform.hub_api)


def stop_hub_services(hub_api: str) -> None:
    """Platform.stop() finds leftovers by APRANOVA_STATE_DIR; a managed service started
    without that variable (the idle culler, in a session of its own) would outlive its hub.
    This run's hub is gone: end whatever still points at its API URL (unique port)."""
    for pid in pids_with_environ(f"JUPYTERHUB_API_URL={hub_api}"):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


# --- accounts and curriculum ---------------------------------------------------------------
def make_students(platform: Platform, count: int) -> list[tuple[str, str]]:
    """N hub users, each with its own API token, made with the hub admin's token."""
    names = [f"bench-student-{i:03d}" for i in range(1, count + 1)]
    headers = {"Authorization": f"token {platform.admin_token}"}
    with httpx.Client(base_url=platform.hub_api, headers=headers, timeout=60) as hub:
        hub.post("/users", json={"usernames": names}).raise_for_status()
        tokens = []
        for name in names:
            response = hub.post(f"/users/{name}/tokens", json={"note": "api load run"})
            response.raise_for_status()
            tokens.append(response.json()["token"])
    return list(zip(names, tokens, strict=True))


def enroll_and_read_curriculum(app_url: str, admin_token: str, names: list[str]) -> dict:
    """Grant each student the track through the admin route; return its project and step ids."""
    headers = {"Authorization": f"Bearer {admin_token}"}
    with httpx.Client(base_url=app_url + API, headers=headers, timeout=60) as api:
        for name in names:
            body = {"username": name, "track": TRACK, "reason": "api load run"}
            response = api.post("/enrollments", json=body)
            if response.status_code != 201:
                raise RuntimeError(f"granting {name}: {response.status_code} {response.text}")
        track = api.get(f"/tracks/{TRACK}").raise_for_status().json()
        project_ids = [p["id"] for p in track["projects"]]
        step_ids = [
            s["id"]
            for pid in project_ids
            for s in api.get(f"/projects/{pid}").raise_for_status().json()["steps"]
        ]
    return {"project_ids": project_ids, "step_ids": step_ids}


# --- load ----------------------------------------------------------------------------------
class Student:
    """One student: a token, a keep-alive connection of its own and a seeded choice of pages."""

    # Seconds the client keeps an idle connection: less than the server does.
    keepalive_seconds = CLIENT_KEEPALIVE_SECONDS

    def __init__(self, name: str, token: str, seed: int) -> None:
        self.name = name
        self.token = token
        self.seed = seed
        self.rng = random.Random(seed)
        self.marked: set[int] = set()
        self.session: aiohttp.ClientSession | None = None

    def open(self, base_url: str) -> None:
        self.session = aiohttp.ClientSession(
            base_url,
            connector=aiohttp.TCPConnector(limit=1, keepalive_timeout=self.keepalive_seconds),
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=aiohttp.ClientTimeout(total=60),
            auto_decompress=False,
        )

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None


@dataclass
class Workload:
    kind: str  # "ceiling", "reads" or "mixed"
    project_ids: list[int] = field(default_factory=list)
    step_ids: list[int] = field(default_factory=list)

    def next_request(self, student: Student) -> tuple[str, str, str, str]:
        """(label, group, method, path) of the student's next request."""
        if self.kind == "ceiling":
            return CEILING, "ceiling", "GET", "/"
        rng = student.rng
        weights = [w for _, w in READS] + ([WRITE_WEIGHT] if self.kind == "mixed" else [])
        choice = rng.choices(range(len(weights)), weights)[0]
        if choice == len(READS):
            step = rng.choice(self.step_ids)
            if step in student.marked:
                return UNMARK, "writes", "DELETE", f"{API}/progress/steps/{step}"
            return MARK, "writes", "PUT", f"{API}/progress/steps/{step}"
        label = READS[choice][0]
        if label == "GET /tracks/DP":
            return label, "reads", "GET", f"{API}/tracks/{TRACK}"
        if label == "GET /projects/{id}":
            return label, "reads", "GET", f"{API}/projects/{rng.choice(self.project_ids)}"
        return label, "reads", "GET", f"{API}/progress/me"


async def call(
    student: Student, method: str, path: str, body: object = None
) -> tuple[int, bytes, str]:
    """(status, answer body, error text) of one request on the student's connection, with an
    optional JSON body; status 0 when no HTTP answer came, error text empty on a 2xx."""
    assert student.session is not None
    try:
        async with student.session.request(method, path, json=body) as response:
            answer = await response.read()
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        return 0, b"", f"{exc.__class__.__name__}: {exc}"
    if status // 100 != 2:
        return status, answer, answer[:200].decode(errors="replace")
    return status, answer, ""


async def send(student: Student, method: str, path: str) -> tuple[int, str]:
    """(status, error text) of one request of the load; status 0 when no HTTP answer came."""
    status, _, error = await call(student, method, path)
    if error:
        return status, error
    if "/progress/steps/" in path:
        step = int(path.rsplit("/", 1)[1])
        if method == "PUT":
            student.marked.add(step)
        else:
            student.marked.discard(step)
    return status, ""


def cpu_ticks(server_pgid: int) -> tuple[int, int, dict[int, tuple[str, int]]]:
    """CPU ticks so far: machine-wide busy, stolen by the hypervisor, and each process's
    (category, ticks) for the server's process group, PostgreSQL and this client (anything
    else is "other")."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [int(v) for v in fields[:8]]  # user nice system idle iowait irq softirq steal
    steal = values[7]
    busy = sum(values) - values[3] - values[4] - steal
    me = os.getpid()
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        stat = _stat(entry.name)
        if stat is None:
            continue
        comm, rest = stat
        pid = int(entry.name)
        if int(rest[2]) == server_pgid:
            category = "server"
        elif comm == "postgres":
            category = "postgres"
        elif pid == me:
            category = "client"
        else:
            continue
        found[pid] = (category, int(rest[11]) + int(rest[12]))  # utime + stime
    return busy, steal, found


def cpu_cores(before: tuple, after: tuple, seconds: float) -> dict[str, float]:
    """Cores used per category between two snapshots. A process that ended in between is
    missed (its share shows up as "other"); one that started counts from zero."""
    used = {"busy": (after[0] - before[0]) / HZ / seconds, "server": 0.0, "postgres": 0.0}
    used["client"] = 0.0
    used["steal"] = (after[1] - before[1]) / HZ / seconds
    for pid, (category, ticks) in after[2].items():
        start = before[2].get(pid, (category, 0))[1]
        used[category] += (ticks - start) / HZ / seconds
    used["other"] = used["busy"] - used["server"] - used["postgres"] - used["client"]
    return used


@dataclass
class Phase:
    title: str
    workload: Workload
    think: float  # mean seconds between a student's requests; 0 = saturated
    # label, start, end (perf_counter seconds; start = when due, in paced phases), status
    samples: list[tuple[str, float, float, int]] = field(default_factory=list)
    groups: dict[str, str] = field(default_factory=dict)  # label -> reads/writes/ceiling
    errors: dict[str, int] = field(default_factory=dict)
    error_examples: list[str] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)
    connections: list[int] = field(default_factory=list)  # per server process
    duration: float = 0.0
    measured: tuple[float, float] = (0.0, 0.0)  # the measured window, perf_counter seconds
    offered: float | None = None  # req/s the paced students ask for

    def error(self, label: str, example: str) -> None:
        self.errors[label] = self.errors.get(label, 0) + 1
        if len(self.error_examples) < 5:
            self.error_examples.append(example)


def connections_by_process(pids: list[int], port: int) -> list[int]:
    """Established client connections each server process holds (uvicorn workers share one
    listening socket; which worker accepts a connection is up to the kernel)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                cols = line.split()
                if int(cols[1].rsplit(":", 1)[1], 16) == port and cols[3] == "01":
                    inodes.add(cols[9])
    counts = []
    for pid in pids:
        held = 0
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    held += target.startswith("socket:[") and target[8:-1] in inodes
        counts.append(held)
    return [c for c in counts if c]


def begin_phase(phase: Phase, students: int, warmup: float, duration: float) -> float:
    """Set the phase's measured window (after `warmup` seconds from now) and offered load;
    returns its start (perf_counter seconds)."""
    phase.duration = duration
    if phase.think:
        phase.offered = students / phase.think
    t0 = time.perf_counter()
    phase.measured = (t0 + warmup, t0 + warmup + duration)
    return t0


class Pacer:
    """When one student's requests of a phase start: at once when the last answer came
    (saturated), or on an open schedule, one every think seconds on average (paced)."""

    def __init__(self, phase: Phase, rng: random.Random, t0: float) -> None:
        self.phase = phase
        self.rng = rng
        self.due = t0 + rng.uniform(0, phase.think)
        self.give_up_at = phase.measured[1] + BACKLOG_GRACE

    async def next_start(self) -> float | None:
        """The start of the student's next request, or None once the measured window is over.
        Paced, it sleeps until the request is due and returns when it was due, so a slow
        answer that delays the next request is charged to the server. Requests still unsent
        `BACKLOG_GRACE` after the window are counted as errors (`NOT_SENT`) and skipped."""
        phase = self.phase
        measure_from, measure_to = phase.measured
        while True:
            if not phase.think:
                start = time.perf_counter()
                return None if start >= measure_to else start
            delay = self.due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            start = self.due
            self.due += phase.think * self.rng.uniform(0.5, 1.5)
            if start >= measure_to:
                return None
            if time.perf_counter() <= self.give_up_at:
                return start
            if start >= measure_from:
                phase.error(NOT_SENT, f"{NOT_SENT}: due {time.perf_counter() - start:.0f}s ago")


async def meter(phase: Phase, server: Server) -> None:
    """CPU used per part, and client connections per server process, over the measured window
    of the phase (set by `begin_phase`)."""
    assert server.process is not None
    measure_from, measure_to = phase.measured
    await asyncio.sleep(max(0.0, measure_from - time.perf_counter()))
    before = cpu_ticks(server.process.pid)
    phase.connections = connections_by_process(group_pids(server.process.pid), server.port)
    await asyncio.sleep(max(0.0, measure_to - time.perf_counter()))
    phase.cpu = cpu_cores(before, cpu_ticks(server.process.pid), phase.duration)


async def run_phase(
    phase: Phase, students: list[Student], warmup: float, duration: float, server: Server
) -> None:
    t0 = begin_phase(phase, len(students), warmup, duration)
    measure_from = phase.measured[0]

    async def student_loop(student: Student) -> None:
        pacer = Pacer(phase, student.rng, t0)
        while (start := await pacer.next_start()) is not None:
            label, group, method, path = phase.workload.next_request(student)
            status, error = await send(student, method, path)
            phase.samples.append((label, start, time.perf_counter(), status))
            if start >= measure_from:
                phase.groups[label] = group
                if error:
                    phase.error(label, f"{method} {path} -> {status} {error}")

    await asyncio.gather(meter(phase, server), *(student_loop(s) for s in students))


PRIME_PATH = f"{API}/progress/me"


async def prime(students: list[Student], path: str = PRIME_PATH) -> None:
    """Each student's first request (GET `path`), a few at a time: the app asks the hub about
    the token once (per worker) here, not during a measured phase; also proves the student
    may read that page (here: that the enrollment works)."""
    limit = asyncio.Semaphore(16)

    async def one(student: Student) -> None:
        async with limit:
            for _attempt in range(5):
                status, error = await send(student, "GET", path)
                if status == 200:
                    return
                await asyncio.sleep(1)
            raise RuntimeError(f"{student.name} cannot read {path}: {status} {error}")

    await asyncio.gather(*(one(s) for s in students))


PhaseRunner = Callable[[Phase, list[Student], float, float, Server], Awaitable[None]]


async def run_server_phases(
    server: Server,
    students: list[Student],
    phases: list[Phase],
    warmup: float,
    duration: float,
    prime_path: str | None,
    runner: PhaseRunner = run_phase,
    before: Callable[[], Awaitable[None]] | None = None,
    after: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Open each student's connection, prime them (GET `prime_path`, if any), run `before`
    (if any), the phases one after the other with `runner`, then `after` (if any), and close
    the connections."""
    assert server.process is not None
    # `kill` (SIGTERM) ends the run like Ctrl-C: the phases are cancelled, then main() cleans up.
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    for student in students:
        student.open(server.url)
    try:
        if prime_path is not None:
            await prime(students, prime_path)
        if before is not None:
            await before()
        for phase in phases:
            print(f"  {phase.title}: {warmup:g}s warm-up + {duration:g}s measured", flush=True)
            await runner(phase, students, warmup, duration, server)
        if after is not None:
            await after()
    finally:
        for student in students:
            await student.close()


# --- report --------------------------------------------------------------------------------
def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def stats(phase: Phase, labels: set[str]) -> dict[str, float]:
    """req/s: 2xx answers that arrived within the measured window, per second. Latency: of the
    2xx answers to requests sent (paced: due) within the window. Errors are counted apart."""
    low, high = phase.measured
    mine = [s for s in phase.samples if s[0] in labels and s[3] // 100 == 2]
    ok = sorted(end - start for _, start, end, _ in mine if low <= start < high)
    arrived = sum(1 for _, _, end, _ in mine if low <= end < high)
    return {
        "ok": len(ok),
        "rps": arrived / phase.duration,
        "p50_ms": percentile(ok, 50) * 1000,
        "p95_ms": percentile(ok, 95) * 1000,
        "p99_ms": percentile(ok, 99) * 1000,
        "max_ms": (ok[-1] if ok else math.nan) * 1000,
        "errors": sum(n for label, n in phase.errors.items() if label in labels),
    }


def phase_rows(phase: Phase) -> list[tuple[str, dict[str, float]]]:
    """One row per endpoint, then the groups: reads (read paths), writes, all."""
    labels = sorted(set(phase.groups) | set(phase.errors))
    rows = [(label, stats(phase, {label})) for label in labels]
    if phase.workload.kind == "ceiling":
        return rows
    reads = {label for label in labels if phase.groups.get(label) == "reads"}
    rows.append(("= reads", stats(phase, reads)))
    if phase.workload.kind == "mixed":
        writes = {label for label in labels if phase.groups.get(label) == "writes"}
        rows.append(("= writes", stats(phase, writes)))
        rows.append(("= all", stats(phase, set(labels))))
    return rows


def row(phase: Phase, label: str) -> dict[str, float]:
    return dict(phase_rows(phase))[label]


def main_row(phase: Phase) -> dict[str, float]:
    """The phase's whole-workload row: the ceiling's, all reads, or all requests (mixed)."""
    kind = phase.workload.kind
    return row(phase, {"ceiling": CEILING, "reads": "= reads"}.get(kind, "= all"))


def cpu_ms_per_request(phase: Phase) -> float:
    """Server CPU per answered request (ms): cores the server used over the measured window
    / 2xx answers per second in it. nan when not measured or nothing was answered."""
    rps = main_row(phase)["rps"] if phase.samples else 0.0
    cores = phase.cpu.get("server", math.nan)
    return cores / rps * 1000 if rps else math.nan


def read_cpu(by_title: dict[str, Phase]) -> dict[str, float]:
    """Server CPU per read (ms), saturated: lms_api's, the floor's, and their ratio (nan for
    what was not measured)."""
    apranova, floor = (
        cpu_ms_per_request(by_title[t]) if t in by_title else math.nan
        for t in (APP_READS_SATURATED, FLOOR_READS_SATURATED)
    )
    ratio = apranova / floor if floor and not math.isnan(floor) else math.nan
    return {"apranova_ms": apranova, "floor_ms": floor, "ratio": ratio}


def read_cpu_verdicts(by_title: dict[str, Phase]) -> list[tuple[str, str, bool]]:
    """ApraNova's reads <= READ_CPU_TARGET_MS of server CPU each, and within
    FLOOR_RATIO_TARGET of the floor's (when the floor ran). A nan is never met."""
    cpu = read_cpu(by_title)
    found = [
        (
            f"ApraNova reads <= {READ_CPU_TARGET_MS:g} ms server CPU per request (saturated)",
            f"{cpu['apranova_ms']:.2f} ms",
            cpu["apranova_ms"] <= READ_CPU_TARGET_MS,
        )
    ]
    if FLOOR_READS_SATURATED in by_title:
        found.append(
            (
                f"ApraNova reads within {FLOOR_RATIO_TARGET:g}x of the minimal-app floor "
                "(server CPU per request)",
                f"{cpu['apranova_ms']:.2f} / {cpu['floor_ms']:.2f} ms = {cpu['ratio']:.2f}x",
                cpu["ratio"] <= FLOOR_RATIO_TARGET,
            )
        )
    return found


def verdicts(phases: list[Phase], students: int) -> list[tuple[str, str, bool]]:
    by_title = {p.title: p for p in phases}
    ceiling_rps = row(by_title[CEILING_SATURATED], CEILING)["rps"]
    reads_rps = row(by_title[APP_READS_SATURATED], "= reads")["rps"]
    share = reads_rps / ceiling_rps if ceiling_rps else 0.0
    found = [
        (
            f"read paths >= {READ_SHARE_TARGET:.0%} of the ceiling's req/s (saturated)",
            f"{reads_rps:.0f} / {ceiling_rps:.0f} = {share:.1%}",
            share >= READ_SHARE_TARGET,
        )
    ]
    found += read_cpu_verdicts(by_title)
    for phase in phases:
        if phase.workload.kind == "ceiling" or phase.title in REFERENCE_TITLES:
            continue
        all_row = row(phase, "= all" if phase.workload.kind == "mixed" else "= reads")
        how = f"~{phase.offered:.0f} req/s offered" if phase.offered else "saturated"
        found.append(
            (
                f"p99 < {P99_TARGET_MS:g} ms, {students} students, {phase.workload.kind}, {how}",
                f"{all_row['p99_ms']:.1f} ms",
                all_row["p99_ms"] < P99_TARGET_MS,
            )
        )
    errors = sum(sum(p.errors.values()) for p in phases)
    found.append(("no errors (every request answered 2xx)", f"{errors} errors", errors == 0))
    return found


def render(phases: list[Phase], students: int) -> tuple[str, dict]:
    head = f"{'phase':<36} {'endpoint':<30} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
    head += f"{'max ms':>8} {'errors':>7}"
    lines = [head, "-" * len(head)]
    data: dict = {"phases": []}
    cores = os.cpu_count() or 1
    for phase in phases:
        rows = phase_rows(phase)
        for i, (label, s) in enumerate(rows):
            title = phase.title if i == 0 else ""
            lines.append(
                f"{title:<36} {label:<30} {s['rps']:>8.1f} {s['p50_ms']:>8.1f} "
                f"{s['p99_ms']:>8.1f} {s['max_ms']:>8.1f} {s['errors']:>7d}"
            )
        cpu = phase.cpu
        per_request = cpu_ms_per_request(phase)
        lines.append(
            f"{'':<36} server CPU per request {per_request:.2f} ms; "
            f"CPU cores used: server {cpu['server']:.2f}, postgres "
            f"{cpu['postgres']:.2f}, client {cpu['client']:.2f}, other {cpu['other']:.2f}, "
            f"stolen {cpu['steal']:.2f}, idle {cores - cpu['busy'] - cpu['steal']:.2f}; "
            "connections per worker " + "/".join(str(c) for c in phase.connections)
        )
        data["phases"].append(
            {
                "title": phase.title,
                "workload": phase.workload.kind,
                "think_seconds": phase.think,
                "offered_rps": phase.offered,
                "rows": dict(rows),
                "cpu_cores": cpu,
                "server_cpu_ms_per_request": per_request,
                "connections_per_worker": phase.connections,
                "error_examples": phase.error_examples,
            }
        )
    noisy = [p.title for p in phases if max(p.cpu["other"], p.cpu["steal"]) > NOISE_CORES]
    if noisy:
        lines += [
            "",
            f"WARNING: other processes, or the hypervisor (stolen), took more than {NOISE_CORES}"
            " core during: "
            + "; ".join(noisy)
            + ". These figures are disturbed; rerun when the machine is quiet.",
        ]
    by_title = {p.title: p for p in phases}
    cpu = read_cpu(by_title)
    data["server_cpu_per_read"] = cpu
    lines += [
        "",
        "Server CPU per read (saturated, the three reads; cores used / req/s):",
        f"  ApraNova (lms_api)       {cpu['apranova_ms']:6.2f} ms",
        f"  floor (bench/floor.py)   {cpu['floor_ms']:6.2f} ms   (FastAPI + psycopg, same SQL)",
        f"  ratio ApraNova / floor   {cpu['ratio']:6.2f}x",
    ]
    found = verdicts(phases, students)
    lines += ["", "Targets:"]
    lines += [f"  {'MET    ' if met else 'NOT MET'}  {what}: {value}" for what, value, met in found]
    examples = [e for p in phases for e in p.error_examples]
    if examples:
        lines += ["", "First errors:", *(f"  {e}" for e in examples[:10])]
    data["targets"] = [{"target": w, "value": v, "met": m} for w, v, m in found]
    data["noisy_phases"] = noisy
    return "\n".join(lines), data


# --- main ----------------------------------------------------------------------------------
CEILING_SATURATED = "ceiling, saturated"
APP_READS_SATURATED = "app reads, saturated"
FLOOR_READS_SATURATED = "floor reads, saturated"
# Phases of the reference apps, not of ApraNova: no latency target of theirs.
REFERENCE_TITLES = frozenset({FLOOR_READS_SATURATED})


def paced_title(what: str, students: int, think_ms: float) -> str:
    return f"{what}, paced ~{students * 1000 / think_ms:g} req/s"


def load_run_parser(
    prog: str, description: str, think_ms: str = "5000,2000,1000"
) -> argparse.ArgumentParser:
    """The options every load run of bench/ takes (see `checked_args`)."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--students", type=int, default=200, help="concurrent students (200)")
    parser.add_argument("--duration", type=float, default=30, help="measured seconds per phase")
    parser.add_argument("--warmup", type=float, default=5, help="unmeasured seconds per phase")
    parser.add_argument(
        "--think-ms",
        default=think_ms,
        help=f"mean pause per student in the paced phases, one phase per value ({think_ms})",
    )
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers (2)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the students' choices")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("APRANOVA_BENCH_POSTGRES_URL")
        or os.environ.get("APRANOVA_TEST_POSTGRES_URL")
        or DEFAULT_POSTGRES_URL,
        help="admin URL of a loopback PostgreSQL server; a fresh database is made there",
    )
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    return parser


def checked_args(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    args = parser.parse_args(argv)
    try:
        args.think_ms = [float(v) for v in str(args.think_ms).split(",") if v.strip()]
    except ValueError:
        parser.error("--think-ms: comma-separated milliseconds, e.g. 5000,2000,1000")
    if args.students < 1 or args.duration <= 0 or args.warmup < 0 or args.workers < 1:
        parser.error("students >= 1, duration > 0, warmup >= 0 and workers >= 1, please")
    if not args.think_ms or min(args.think_ms) <= 0:
        parser.error("--think-ms: positive values, please")
    return args


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = load_run_parser("python -m bench.api_load", __doc__.splitlines()[0])
    return checked_args(parser, argv)


def postgres_admin_url(raw: str) -> URL:
    url = make_url(raw).set(drivername="postgresql+psycopg")
    if url.host not in LOOPBACK_HOSTS:
        raise SystemExit(f"PostgreSQL must be on loopback for this run, not {url.host!r}")
    return url


def interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def install_signal_handlers() -> None:
    """Ctrl-C and `kill` both unwind the run, so every `finally` cleans up (also when started
    in the background, where SIGINT arrives ignored)."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, interrupt)


def print_report(table: str, data: dict, args: argparse.Namespace) -> int:
    """Print a run's table and, with --json, write its data with the arguments (not the
    PostgreSQL URL). The run's exit status."""
    print()
    print(table)
    if args.json:
        data["args"] = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
        data["args"].pop("postgres_url", None)
        args.json.write_text(json.dumps(data, indent=2) + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    install_signal_handlers()
    try:
        return run(args)
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted: servers stopped, database dropped, hub stopped.", file=sys.stderr)
        return 130


@dataclass
class Setup:
    """What a load run stands on: its scratch folder, the token hub, the students with their
    tokens, and the fresh database (migrated, demo school loaded)."""

    tmp: Path
    platform: Platform
    students: list[Student]
    database_url: str


def set_up(
    stack: contextlib.ExitStack,
    admin_url: URL,
    count: int,
    seed: int,
    student: Callable[[str, str, int], Student] = Student,
) -> Setup:
    """Start the hub, make `count` students (instances of `student`) and a fresh database;
    everything is undone when `stack` closes."""
    tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="apranova-bench-")))
    (tmp / "hub").mkdir()
    print("starting JupyterHub (for tokens) ...", flush=True)
    platform = stack.enter_context(running_hub(tmp / "hub"))
    print(f"making {count} student accounts and tokens ...", flush=True)
    students = [
        student(name, token, seed * 100_003 + i)
        for i, (name, token) in enumerate(make_students(platform, count))
    ]
    server = admin_url.render_as_string(hide_password=False)
    database_url = stack.enter_context(fresh_postgres_database(server, "apranova_bench"))
    name = make_url(database_url).database
    print(f"database {name}: migrating, loading the demo school ...", flush=True)
    upgrade(database_url)
    seed_demo(database_url)
    return Setup(tmp, platform, students, database_url)


def clean_env() -> dict[str, str]:
    """This environment without any APRANOVA_ setting (each server gets only its own)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("APRANOVA_")}


def lms_api_server(setup: Setup, workers: int, keep_alive: int | None = None) -> Server:
    """lms_api on the run's database, trusting the run's hub (tokens cached for the run);
    `keep_alive` as for `Server`."""
    env = {
        **clean_env(),
        "APRANOVA_STATE_DIR": str(setup.tmp / "lms"),
        "APRANOVA_DATABASE_URL": setup.database_url,
        "APRANOVA_HUB_API_URL": setup.platform.hub_api,
        "APRANOVA_LMS_API_TOKEN": setup.platform.secrets["APRANOVA_LMS_API_TOKEN"],
        "APRANOVA_AUTH_CACHE_SECONDS": str(AUTH_CACHE_SECONDS),
    }
    return Server(
        "lms_api",
        "lms_api.main:asgi_app",
        env,
        workers,
        setup.tmp / "app.log",
        API + "/health",
        keep_alive=keep_alive,
    )


def floor_server(setup: Setup, workers: int) -> Server:
    """The floor (`bench.floor`) on the run's database, trusting the run's hub, with lms_api's
    settings (the same variables: database, hub, service token, token cache, pool size)."""
    env = {
        **clean_env(),
        "APRANOVA_DATABASE_URL": setup.database_url,
        "APRANOVA_HUB_API_URL": setup.platform.hub_api,
        "APRANOVA_LMS_API_TOKEN": setup.platform.secrets["APRANOVA_LMS_API_TOKEN"],
        "APRANOVA_AUTH_CACHE_SECONDS": str(AUTH_CACHE_SECONDS),
    }
    return Server(
        "floor", "bench.floor:create_app", env, workers, setup.tmp / "floor.log", API + "/health"
    )


def run(args: argparse.Namespace) -> int:
    admin_url = postgres_admin_url(args.postgres_url)
    n = args.students
    print(
        f"API load run: {n} students, {args.workers} uvicorn worker(s), "
        f"{os.cpu_count()} CPU cores shared by client, servers and PostgreSQL",
        flush=True,
    )
    with contextlib.ExitStack() as stack:
        setup = set_up(stack, admin_url, n, args.seed)
        students, platform, tmp = setup.students, setup.platform, setup.tmp
        ceiling = Server(
            "ceiling",
            "bench.ceiling:create_app",
            clean_env(),
            args.workers,
            tmp / "ceiling.log",
            "/",
        )
        app = lms_api_server(setup, args.workers)

        fastest = min(args.think_ms)
        ceiling_phases = [
            Phase(CEILING_SATURATED, Workload("ceiling"), 0),
            Phase(paced_title("ceiling", n, fastest), Workload("ceiling"), fastest / 1000),
        ]
        with serving(ceiling):
            print(f"serving the ceiling: {ceiling.describe()}", flush=True)
            uvloop.run(
                run_server_phases(
                    ceiling, students, ceiling_phases, args.warmup, args.duration, None
                )
            )
            install_signal_handlers()  # the event loop put its own back

        with serving(app):
            print(f"serving lms_api: {app.describe()}", flush=True)
            print("granting every student the DP track (admin API) ...", flush=True)
            ids = enroll_and_read_curriculum(
                app.url, platform.admin_token, [s.name for s in students]
            )
            reads, mixed = Workload("reads", **ids), Workload("mixed", **ids)
            app_reads = [Phase(APP_READS_SATURATED, reads, 0)]
            uvloop.run(
                run_server_phases(app, students, app_reads, args.warmup, args.duration, PRIME_PATH)
            )
            install_signal_handlers()

        # The floor, on the same data (nothing written yet), while lms_api is stopped.
        floor = floor_server(setup, args.workers)
        floor_phases = [Phase(FLOOR_READS_SATURATED, reads, 0)]
        with serving(floor):
            print(f"serving the floor: {floor.describe()}", flush=True)
            uvloop.run(
                run_server_phases(
                    floor, students, floor_phases, args.warmup, args.duration, PRIME_PATH
                )
            )
            install_signal_handlers()

        app_phases = [
            Phase("app mixed, saturated", mixed, 0),
            *(
                Phase(paced_title("app mixed", n, ms), mixed, ms / 1000)
                for ms in sorted(args.think_ms, reverse=True)
            ),
        ]
        with serving(app):
            print(f"serving lms_api again: {app.describe()}", flush=True)
            uvloop.run(
                run_server_phases(app, students, app_phases, args.warmup, args.duration, PRIME_PATH)
            )
            install_signal_handlers()
    print("cleaned up: servers stopped, database dropped, hub stopped.", flush=True)

    table, data = render([*ceiling_phases, *app_reads, *floor_phases, *app_phases], n)
    return print_report(table, data, args)


if __name__ == "__main__":
    sys.exit(main())
