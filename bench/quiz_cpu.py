"""CPU per quiz step, in one process: the lms_api app as uvicorn serves it (every middleware,
route, dependency and the real PostgreSQL), called through ASGI without HTTP, with a stub
token check, one request at a time, timed with the process's CPU clock.

`make bench-quiz` measures the server under load, but on this shared 2-core machine its
figures move with whatever else runs; this one only counts this process's own CPU, so one
change can be told from the next (bench/README.md, "Issue 23"). It leaves out uvicorn's HTTP
work and the cost of many requests interleaving, so its figures are lower than the load
run's. Run it from a checkout to measure that checkout's code:

    .venv/bin/python -m bench.quiz_cpu                   # 150 flows of 12 steps, 10 batches
    .venv/bin/python -m bench.quiz_cpu --trace           # the SQL of one flow, step by step
    .venv/bin/python -m bench.quiz_cpu --profile answer  # cProfile (CPU clock) of one step

Each flow is `bench.quiz_load`'s: start, 10 answers, submit, on its quiz. The figure per step
is the lowest and the median of the batches' means: the lowest is the least disturbed.
"""

import argparse
import asyncio
import contextlib
import cProfile
import gc
import json
import os
import pstats
import random
import time
from collections.abc import Iterator

import uvloop

from bench.api_load import API, DEFAULT_POSTGRES_URL, postgres_admin_url
from bench.harness.databases import fresh_postgres_database
from bench.quiz_load import STEPS, QuizKey, quiz_body
from lms_api.config import Settings
from lms_api.demo import seed_demo
from lms_api.main import create_app
from lms_api.migrate import upgrade
from lms_api.principal import Principal, Role

STUDENTS = 20


class StubTokens:
    """Every token is its user: `admin` a superadmin, anyone else a student."""

    async def principal_for(self, token: str) -> Principal:
        role = Role.SUPERADMIN if token == "admin" else Role.STUDENT
        return Principal(name=token, kind="user", role=role)

    async def aclose(self) -> None:
        pass


async def call(app, method: str, path: str, token: str, body=None) -> tuple[int, bytes]:
    raw = b"" if body is None else json.dumps(body).encode()
    headers = [(b"host", b"lms"), (b"authorization", f"Bearer {token}".encode())]
    if body is not None:
        headers += [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(raw))]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("lms", 80),
        "state": {},
    }
    request = [{"type": "http.request", "body": raw, "more_body": False}]
    answer = {"status": 0, "body": b""}

    async def receive():
        if request:
            return request.pop()
        await asyncio.Event().wait()  # the client never disconnects

    async def send(message):
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    await app(scope, receive, send)
    return answer["status"], answer["body"]


class Meter:
    """CPU seconds per step; cProfile (on the CPU clock) around one kind of step if asked."""

    def __init__(self, profile: str | None = None) -> None:
        self.times: dict[str, list[float]] = {step: [] for step in STEPS}
        self.profile = profile
        self.profiler = cProfile.Profile(time.process_time) if profile else None

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        profiling = self.profiler is not None and name == self.profile
        if profiling:
            self.profiler.enable()
        started = time.process_time()
        try:
            yield
        finally:
            self.times[name].append(time.process_time() - started)
            if profiling:
                self.profiler.disable()


async def flow(app, quiz: QuizKey, student: str, rng: random.Random, meter: Meter) -> None:
    """One flow, every answer checked (as bench.quiz_load's students do)."""
    with meter.step("start"):
        status, body = await call(app, "POST", f"{API}/quizzes/{quiz.id}/attempts", student)
    assert status == 201, (status, body)
    attempt = json.loads(body)
    earned = 0.0
    for question in attempt["questions"]:
        chosen, earns = quiz.choose(question["id"], rng)
        path = f"{API}/attempts/{attempt['id']}/answers/{question['id']}"
        with meter.step("answer"):
            status, body = await call(app, "PUT", path, student, {"option_ids": chosen})
        assert status == 200 and json.loads(body)["selected_option_ids"] == chosen, body
        earned += earns
    with meter.step("submit"):
        status, body = await call(app, "POST", f"{API}/attempts/{attempt['id']}/submit", student)
    graded = json.loads(body)
    assert status == 200 and abs(graded["score"] - earned) < 1e-9, (status, body)


def trace_statements() -> list[str]:
    """Record every statement and command psycopg sends (executemany batches as one)."""
    import psycopg
    from psycopg import _connection_base

    log: list[str] = []
    cursor, connection = psycopg.AsyncCursor, _connection_base.BaseConnection
    execute, executemany, command = cursor.execute, cursor.executemany, connection._exec_command

    async def traced_execute(self, query, params=None, **kwargs):
        log.append(" ".join(str(query).split())[:110])
        return await execute(self, query, params, **kwargs)

    async def traced_executemany(self, query, params_seq, **kwargs):
        params_seq = list(params_seq)
        log.append(f"{len(params_seq)} x " + " ".join(str(query).split())[:100])
        return await executemany(self, query, params_seq, **kwargs)

    def traced_command(self, cmd, *args, **kwargs):
        log.append(cmd.decode() if isinstance(cmd, bytes) else str(cmd))
        return command(self, cmd, *args, **kwargs)

    cursor.execute, cursor.executemany = traced_execute, traced_executemany
    connection._exec_command = traced_command
    return log


def report(meter: Meter, batches: int) -> None:
    counts = {step: len(times) for step, times in meter.times.items()}
    lowest, median = 0.0, 0.0
    for step, times in meter.times.items():
        size = len(times) // batches
        means = sorted(1000 * sum(times[i * size : (i + 1) * size]) / size for i in range(batches))
        low, mid = means[0], means[batches // 2]
        print(f"{step:7} {counts[step]:5} x  CPU ms lowest {low:6.3f}  median {mid:6.3f}")
        lowest += means[0] * counts[step]
        median += means[batches // 2] * counts[step]
    total = sum(counts.values())
    low, mid = lowest / total, median / total
    print(f"the mix  {total:4} x  CPU ms lowest {low:6.3f}  median {mid:6.3f}")


async def run(args: argparse.Namespace) -> None:
    admin = postgres_admin_url(args.postgres_url).render_as_string(hide_password=False)
    with fresh_postgres_database(admin, "apranova_bench_cpu") as url:
        upgrade(url)
        seed_demo(url)
        app = create_app(Settings(database_url=url, lms_api_token="unused"))
        app.state.token_validator = StubTokens()
        try:
            app.openapi()
            status, body = await call(app, "POST", f"{API}/quizzes", "admin", quiz_body())
            assert status == 201, body
            quiz_id = json.loads(body)["id"]
            status, body = await call(app, "POST", f"{API}/quizzes/{quiz_id}/publish", "admin")
            quiz = QuizKey.from_detail(json.loads(body))
            rng = random.Random(args.seed)
            students = [f"cpu{i}" for i in range(STUDENTS)]
            for student in students:  # warm-up: caches, prepared statements, profiles
                await flow(app, quiz, student, rng, Meter())
            gc.collect()
            gc.freeze()  # as lms_api.main.asgi_app does
            if args.trace:
                log = trace_statements()
                meter = Meter()
                await flow(app, quiz, students[0], rng, meter)
                print("\n".join(log))
                return
            meter = Meter(args.profile)
            for i in range(args.flows):
                await flow(app, quiz, students[i % STUDENTS], rng, meter)
            report(meter, args.batches)
            if meter.profiler is not None:
                stats = pstats.Stats(meter.profiler)
                stats.sort_stats("tottime").print_stats(25)
                stats.sort_stats("cumulative").print_stats(60)
        finally:
            await app.state.database.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flows", type=int, default=150, help="measured flows (150)")
    parser.add_argument("--batches", type=int, default=10, help="batches of flows (10)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the answers")
    parser.add_argument("--trace", action="store_true", help="print the SQL of one flow")
    parser.add_argument("--profile", choices=STEPS, help="cProfile this step (CPU clock)")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("APRANOVA_BENCH_POSTGRES_URL")
        or os.environ.get("APRANOVA_TEST_POSTGRES_URL")
        or DEFAULT_POSTGRES_URL,
        help="admin URL of a loopback PostgreSQL server; a fresh database is made there",
    )
    uvloop.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
