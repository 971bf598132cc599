"""Spawn benchmark in Docker mode: N students press Start at once; time to a ready workspace.

    make bench-spawn                              # 1, 10 and 30 students, JupyterLab
    python -m bench.spawn --rounds 1,10,30 --json out.json

A real hub with its proxy in Docker mode (`bench/harness/docker_workspaces.py`: its own network,
container names and home volumes, removed afterwards), demo data plus synthetic DP students.
Images must exist (`images/build-local.sh`); one spawn and stop first warms them. Each
student asks with their own token (`POST /users/<name>/server`) and follows the spawn's
progress stream, as the spawn page does, until the hub says ready (it has reached the
server through its own HTTP check) or failed. Between rounds every server is stopped.

Per round: p50 / p95 / max seconds from the request to ready, and failures. After the
largest round, with every workspace idle for `--idle-seconds`: memory per workspace
container (cgroup usage minus inactive page cache, as `docker stats`).
Target (issue 5): p50 < 5 s for one student; zero failures for 30 at once.

Class start (`--class-start N`): N students click Start spread over `--within` seconds, once
per value of `--starts-at-once` (the hub's start line, `APRANOVA_WORKSPACE_STARTS_AT_ONCE`,
restarting the hub between values): time from each click to a ready workspace (p50 / p95 /
max), failures, and the host's CPU seconds per start (all processes, from /proc/stat).
With `--warm-up`, one more run with the last line size: an admin schedules a class session
for the N students starting in five minutes, the hub starts their workspaces ahead
(`hub.session_warmup`), and once all run the students click within `--within` seconds; a
click is the running JupyterLab answering through the proxy (`/user/<name>/api/status` with
the student's token). Reported: the time to warm the class and its CPU, and
click-to-workspace p50 / p95 / max.
"""

import argparse
import json
import os
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bench import api_load
from bench.api_load import percentile
from bench.harness.docker_workspaces import (
    docker_client,
    docker_platform,
    idle_memory_bytes,
    missing_images,
    stop,
    wait_ready,
)
from bench.harness.platform import Platform

TRACK = api_load.TRACK
LMS_SERVICE = "/services/lms-api"


def make_students(platform: Platform, count: int) -> dict[str, str]:
    """`count` hub users with their own tokens, enrolled in DP (an admin grant), as the API
    load run makes them."""
    students = dict(api_load.make_students(platform, count))
    api_load.enroll_and_read_curriculum(
        platform.url + LMS_SERVICE, platform.admin_token, list(students)
    )
    return students


def spawn_and_wait(platform: Platform, name: str, token: str, timeout: float) -> dict:
    """One student: request, then the progress stream until ready or failed."""
    headers = {"Authorization": f"token {token}"}
    started = time.monotonic()
    with httpx.Client(base_url=platform.hub_api, headers=headers, timeout=timeout) as hub:
        answer = hub.post(f"/users/{name}/server")
        if answer.status_code not in (201, 202):
            return {"ok": False, "seconds": None, "error": f"{answer.status_code} {answer.text}"}
        last: dict = {}
        if answer.status_code == 202:
            with hub.stream("GET", f"/users/{name}/server/progress") as events:
                for line in events.iter_lines():
                    if line.startswith("data:"):
                        last = json.loads(line[5:])
                        if last.get("ready") or last.get("failed"):
                            break
        else:
            last = {"ready": True}
    seconds = time.monotonic() - started
    if not last.get("ready"):
        return {"ok": False, "seconds": None, "error": last.get("message", "no ready event")}
    return {"ok": True, "seconds": seconds, "error": ""}


def run_round(platform: Platform, tokens: dict[str, str], timeout: float) -> list[dict]:
    barrier = threading.Barrier(len(tokens))

    def one(item: tuple[str, str]) -> dict:
        barrier.wait()  # everyone presses Start at the same moment
        return {"user": item[0], **spawn_and_wait(platform, *item, timeout)}

    with ThreadPoolExecutor(len(tokens)) as pool:
        return list(pool.map(one, tokens.items()))


def run_class_start(
    platform: Platform, tokens: dict[str, str], within: float, timeout: float
) -> tuple[list[dict], float]:
    """Students click one after another, evenly over `within` seconds; the results, and the
    CPU seconds the whole host spent meanwhile."""
    cpu_before = host_cpu_seconds()
    results = clicks_spread(
        tokens, within, lambda name, token: spawn_and_wait(platform, name, token, timeout)
    )
    return results, host_cpu_seconds() - cpu_before


def clicks_spread(tokens: dict[str, str], within: float, click) -> list[dict]:
    """Each student's `click(name, token)`, one after another evenly over `within` seconds."""
    step = within / max(len(tokens) - 1, 1)
    began = time.monotonic()

    def one(numbered: tuple[int, tuple[str, str]]) -> dict:
        number, (name, token) = numbered
        time.sleep(max(0.0, began + number * step - time.monotonic()))
        return {"user": name, **click(name, token)}

    with ThreadPoolExecutor(len(tokens)) as pool:
        return list(pool.map(one, enumerate(tokens.items())))


def open_running(platform: Platform, name: str, token: str, timeout: float) -> dict:
    """One click on a workspace that runs: its own API answers through the proxy, with the
    student's token (the hub's pages take only the login cookie, the workspace takes both)."""
    started = time.monotonic()
    try:
        answer = httpx.get(
            f"{platform.url}/user/{name}/api/status",
            headers={"Authorization": f"token {token}"},
            timeout=timeout,
        )
    except httpx.HTTPError as exc:
        return {"ok": False, "seconds": None, "error": repr(exc)}
    seconds = time.monotonic() - started
    if answer.status_code != 200 or "started" not in answer.json():
        return {"ok": False, "seconds": None, "error": f"{answer.status_code} {answer.text[:100]}"}
    return {"ok": True, "seconds": seconds, "error": ""}


def run_warm_class_start(
    platform: Platform, tokens: dict[str, str], within: float, timeout: float
) -> dict:
    """A session scheduled for the class five minutes ahead: the hub warms every workspace,
    then the students click over `within` seconds."""
    lms = httpx.Client(
        base_url=f"{platform.url}{LMS_SERVICE}/api/v1",
        headers={"Authorization": f"Bearer {platform.admin_token}"},
        timeout=30,
    )
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5)
    cpu_before, scheduled = host_cpu_seconds(), time.monotonic()
    made = lms.post(
        "/class-sessions",
        json={
            "title": "Class start",
            "track": TRACK,
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=1)).isoformat(),
            "workspace_kind": "jupyterlab",
            "students": list(tokens),
        },
    )
    made.raise_for_status()
    for name in tokens:
        wait_ready(platform, name, timeout=timeout + (time.monotonic() - scheduled))
    warm_s, warm_cpu = time.monotonic() - scheduled, host_cpu_seconds() - cpu_before
    results = clicks_spread(
        tokens, within, lambda name, token: open_running(platform, name, token, timeout)
    )
    # Stopped before the session is cancelled: the hub would otherwise stop the ones whose
    # use it has not seen yet at the same time (JupyterHub answers a second stop with a 500).
    stop_all(platform, list(tokens))
    lms.post(f"/class-sessions/{made.json()['id']}/cancel").raise_for_status()
    lms.close()
    return {
        "warm_up": True,
        **summary(results),
        "warm_s": round(warm_s, 1),
        "cpu_s_per_start": round(warm_cpu / len(tokens), 2),
    }


def host_cpu_seconds() -> float:
    """Busy CPU time of the whole machine so far (every process: hub, proxy, containers)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def engine_with_jupyterlab():
    """The Docker engine, refusing to run without it or the jupyterlab image."""
    client = docker_client()
    if client is None:
        raise SystemExit("no Docker engine answers (start dockerd)")
    if missing := missing_images(client, ("jupyterlab",)):
        raise SystemExit(f"missing images {missing}: run images/build-local.sh jupyterlab")
    return client


def warm_the_image(platform: Platform, name: str, token: str, timeout: float) -> None:
    """One start and stop first, so no measured start pays for a cold image."""
    warm = run_round(platform, {name: token}, timeout)
    assert warm[0]["ok"], warm
    stop_all(platform, [name])


def stop_all(platform: Platform, names: list[str]) -> None:
    with ThreadPoolExecutor(min(10, len(names))) as pool:
        list(pool.map(lambda name: stop(platform, name), names))


def summary(results: list[dict]) -> dict:
    times = sorted(r["seconds"] for r in results if r["ok"])
    return {
        "students": len(results),
        "ready": len(times),
        "failures": len(results) - len(times),
        "p50_s": round(percentile(times, 50), 2) if times else None,
        "p95_s": round(percentile(times, 95), 2) if times else None,
        "max_s": round(times[-1], 2) if times else None,
        "errors": sorted({r["error"] for r in results if not r["ok"]})[:5],
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", default="1,10,30", help="students at once, per round")
    parser.add_argument("--idle-seconds", type=float, default=20)
    parser.add_argument("--timeout", type=float, default=180, help="per spawn, seconds")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--class-start", type=int, default=0, help="N students click Start within --within s"
    )
    parser.add_argument("--within", type=float, default=10, help="class start: click spread, s")
    parser.add_argument(
        "--starts-at-once",
        default="4",
        help="class start: the hub's start line sizes to compare, e.g. 60,8,4",
    )
    parser.add_argument(
        "--warm-up",
        action="store_true",
        help="class start: one more run, with the class's workspaces warmed by a session",
    )
    args = parser.parse_args(argv)
    if args.class_start:
        return class_start(args)
    rounds = [int(n) for n in args.rounds.split(",")]

    client = engine_with_jupyterlab()

    result: dict = {"rounds": [], "kind": "jupyterlab"}
    state = Path(tempfile.mkdtemp(prefix="apranova-bench-spawn-"))
    settings = {"APRANOVA_CULL_IDLE_SECONDS": "0"}  # nothing stops a server mid-round
    with docker_platform(state, client, label="b", extra_env=settings) as (platform, run):
        tokens = make_students(platform, max(rounds))
        names = list(tokens)
        print(f"hub ready; {len(names)} students in {TRACK}; warming the image", flush=True)
        warm_the_image(platform, names[0], tokens[names[0]], args.timeout)
        for size in rounds:
            picked = {name: tokens[name] for name in names[:size]}
            results = run_round(platform, picked, args.timeout)
            line = summary(results)
            if size == max(rounds):
                time.sleep(args.idle_seconds)
                ready = [r["user"] for r in results if r["ok"]]
                for name in ready:
                    wait_ready(platform, name, timeout=10)
                memory = sorted(
                    idle_memory_bytes(c) for name in ready for c in run.containers(name)
                )
                line["idle_memory_mib_median"] = (
                    round(memory[len(memory) // 2] / 2**20, 1) if memory else None
                )
                line["idle_memory_mib_max"] = round(memory[-1] / 2**20, 1) if memory else None
            result["rounds"].append(line)
            print(json.dumps(line), flush=True)
            stop_all(platform, [r["user"] for r in results if r["ok"]])
    print(f"\n{'students':>8} {'ready':>6} {'fail':>5} {'p50 s':>7} {'p95 s':>7} {'max s':>7}")
    for line in result["rounds"]:
        print(
            f"{line['students']:>8} {line['ready']:>6} {line['failures']:>5} "
            f"{line['p50_s']!s:>7} {line['p95_s']!s:>7} {line['max_s']!s:>7}"
        )
    last = result["rounds"][-1]
    if "idle_memory_mib_median" in last:
        print(
            f"idle workspace memory: median {last['idle_memory_mib_median']} MiB, "
            f"max {last['idle_memory_mib_max']} MiB ({last['ready']} containers)"
        )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return result


def class_start(args) -> dict:
    """Each start line size in turn, the same N students clicking within `within` seconds."""
    sizes = [int(n) for n in args.starts_at_once.split(",")]
    client = engine_with_jupyterlab()
    result: dict = {"class_start": args.class_start, "within_s": args.within, "runs": []}
    state = Path(tempfile.mkdtemp(prefix="apranova-bench-class-start-"))
    settings = {"APRANOVA_CULL_IDLE_SECONDS": "0", "APRANOVA_WORKSPACE_STARTS_AT_ONCE": "1"}
    with docker_platform(state, client, label="b", extra_env=settings) as (platform, _run):
        tokens = make_students(platform, args.class_start)
        names = list(tokens)
        warm_the_image(platform, names[0], tokens[names[0]], args.timeout)
        for size in sizes:
            platform.env["APRANOVA_WORKSPACE_STARTS_AT_ONCE"] = str(size)
            platform.restart_hub()
            results, cpu = run_class_start(platform, tokens, args.within, args.timeout)
            line = {"starts_at_once": size, **summary(results)}
            line["cpu_s_per_start"] = round(cpu / max(line["ready"], 1), 2)
            result["runs"].append(line)
            print(json.dumps(line), flush=True)
            stop_all(platform, [r["user"] for r in results if r["ok"]])
        if args.warm_up:
            platform.env["APRANOVA_SESSION_WARM_UP_EVERY_SECONDS"] = "2"
            platform.restart_hub()
            line = {
                "starts_at_once": sizes[-1],
                **run_warm_class_start(platform, tokens, args.within, args.timeout),
            }
            result["runs"].append(line)
            print(json.dumps(line), flush=True)
    print(
        f"\n{args.class_start} students clicking Start within {args.within:g} s "
        f"({os.cpu_count()} CPU cores), time from click to a ready workspace:"
    )
    header = ("at once", "ready", "fail", "p50 s", "p95 s", "max s", "CPU s/start")
    print(" ".join(f"{h:>{w}}" for h, w in zip(header, (8, 6, 5, 7, 7, 7, 12), strict=True)))
    for line in result["runs"]:
        print(
            f"{line['starts_at_once']:>8} {line['ready']:>6} {line['failures']:>5} "
            f"{line['p50_s']!s:>7} {line['p95_s']!s:>7} {line['max_s']!s:>7} "
            f"{line['cpu_s_per_start']:>12}"
            + ("  warmed by a session" if line.get("warm_up") else "")
        )
    for line in result["runs"]:
        if line.get("warm_up"):
            print(
                f"warm-up: all {line['students']} workspaces ran {line['warm_s']} s after the "
                f"session was scheduled; a click then opens a running workspace "
                f"(p95 {line['p95_s']} s; target: under 3 s)"
            )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
