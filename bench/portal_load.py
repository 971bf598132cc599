"""Student-portal load run on loopback: N browsers take a quiz through the portal's pages.

One command (`make bench-portal`) sets everything up, measures, checks the database, prints
a table and a verdict, and cleans up. It stands on `bench.api_load` (hub, tokens, database,
uvicorn, pacing, CPU meters, percentiles) and `bench.quiz_load` (the quiz, its key, the
tally and the database check); what is new here is that the students are browsers:

1. the hub, N students with a hub token each, a fresh PostgreSQL database with the demo
   school, lms_api under uvicorn; the hub admin grants every student the DP track (so "My
   course" is the full page: track, projects, deliverables, quizzes, workspaces) and writes
   and publishes `bench.quiz_load`'s quiz (10 questions, no track, unlimited attempts, no
   time limit);
2. each student's browser is signed in by the portal's session cookie (`apranova-portal` =
   a hub token of the student, as the OAuth token the hub gives the portal), sends no
   Authorization header, reads the CSRF token from each page (`<body data-csrf>`) and keeps
   one keep-alive connection to lms_api (directly, at `/portal/...`, as `bench.quiz_load`
   does for the API);
3. each student runs, again and again, the flow of a student taking the quiz, one user
   action per step: GET `/portal/` (**my course**) -> GET `/portal/quizzes/{id}` (**intro**)
   -> Start: POST `/portal/quizzes/{id}/start` (**start**, 303) and the browser follows the
   redirect at once: GET `/portal/attempts/{id}` (**take**) -> for each of the 10 questions
   the request quiz.js sends when a choice changes: POST `/portal/attempts/{id}/answers/
   {question_id}` with JSON `{"option_ids": [...]}` and `X-CSRF-Token` (**autosave**) ->
   "Submit my answers": POST `/portal/attempts/{id}/submit` with the whole form as a browser
   sends it (csrf_token, `shown` and `answer-{id}` of every question) (**submit**, 303),
   followed at once: GET `/portal/attempts/{id}/result` (**result**). So 14 actions and 16
   requests per flow. Every answer is checked: status, redirect target, the attempt's
   questions and options on the take page, the options saved, the score the result shows;
4. phases as in `bench.quiz_load` (stagger before, flows carrying on between phases, the
   final drain submitting open attempts with confirm=1): saturated (capacity, not judged),
   then paced, one per `--think-ms` (default 2000 and 1000: an action every 2 s, then every
   1 s on average, so 200 students offer 100 then 200 actions/s, ~114 then ~229
   requests/s); latency counts from when the action was due, and a followed redirect's from
   when the POST's answer came;
5. afterwards the database is checked with `bench.quiz_load.check_database`; prints count,
   errors, p50/p95/p99/max per request kind, CPU per part, and the verdict: 200 students,
   p99 under 150 ms for every request kind in every paced phase, no errors, consistent
   database.
"""

import argparse
import asyncio
import contextlib
import json
import math
import os
import re
import sys
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import cast

import aiohttp
import uvloop

from bench import quiz_load
from bench.api_load import (
    HZ,
    Pacer,
    Server,
    Setup,
    Student,
    begin_phase,
    checked_args,
    enroll_and_read_curriculum,
    group_pids,
    install_signal_handlers,
    lms_api_server,
    load_run_parser,
    meter,
    postgres_admin_url,
    print_report,
    run_server_phases,
    serving,
    set_up,
)
from bench.quiz_load import (
    DRAIN_TRIES,
    QUESTIONS,
    QuizKey,
    QuizPhase,
    Report,
    Tally,
    check_database,
    keepalive_seconds,
    publish_quiz,
    quiz_phase,
    record,
)
from lms_api.portal.signin import CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE

PORTAL = "/portal"
STEPS = ("my course", "intro", "start", "take", "autosave", "submit", "result")
ACTIONS_PER_FLOW = 4 + QUESTIONS  # my course, intro, start(+take), autosaves, submit(+result)
ALL = "= all requests"
P99_TARGET_MS = 150.0
TARGET_STUDENTS = 200
THINK_MS = "2000,1000"  # 1000: one action a second per student (issue 23)
HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

CSRF_RE = re.compile(rb'<body data-csrf="([0-9a-f]+)"')
QUESTION_RE = re.compile(rb'data-question="(\d+)"')
INPUT_RE = re.compile(rb"<input\b[^>]*>")
ANSWER_NAME_RE = re.compile(rb'\bname="answer-(\d+)"')
VALUE_RE = re.compile(rb'\bvalue="(\d+)"')
SUBMITTED_RE = re.compile(rb'id="attempt-status"[^>]*>\s*Submitted')
SCORE_RE = re.compile(rb'id="score">.*?\(([\d.]+) of ([\d.]+) points\)', re.S)
ATTEMPT_RE = re.compile(r"/portal/attempts/(\d+)$")


def portal_path(location: str) -> str:
    """A redirect's target as a path on lms_api (the Location is the path behind the hub's
    proxy, `/services/lms-api/portal/...`; lms_api serves it without the prefix too)."""
    at = location.find(PORTAL + "/")
    return location[at:] if at >= 0 else location


@dataclass
class Hit:
    """One request of an action: its kind, when it was due and answered, status, error."""

    step: str
    start: float
    end: float
    status: int
    error: str = ""


class Browser(Student):
    """One student's browser: the portal's session cookie, the page's CSRF token, and where
    it is in its current flow."""

    def __init__(self, name: str, token: str, seed: int) -> None:
        super().__init__(name, token, seed)
        self.csrf = ""
        self.next = "my course"  # the next action
        self.attempt_id: int | None = None  # an attempt started and not yet submitted
        self.questions: list[int] = []  # as the take page shows them
        self.chosen: dict[int, list[int]] = {}  # question id -> options saved
        self.answered = 0
        self.earned = 0.0
        self.draining = False

    def open(self, base_url: str) -> None:
        """Signed in by the cookie alone (no Authorization header), as a browser is."""
        self.session = aiohttp.ClientSession(
            base_url,
            connector=aiohttp.TCPConnector(limit=1, keepalive_timeout=self.keepalive_seconds),
            headers={"Cookie": f"{SESSION_COOKIE}={self.token}", "Accept": HTML},
            cookie_jar=aiohttp.DummyCookieJar(),
            timeout=aiohttp.ClientTimeout(total=60),
            auto_decompress=False,
        )

    @property
    def in_flow(self) -> bool:
        return self.attempt_id is not None

    async def request(
        self,
        step: str,
        start: float,
        method: str,
        path: str,
        expect: int,
        **kwargs: object,
    ) -> tuple[Hit, bytes, str]:
        """One request, redirects not followed: (hit, body, Location)."""
        assert self.session is not None
        try:
            async with self.session.request(
                method, path, allow_redirects=False, **kwargs
            ) as response:
                body = await response.read()
                status, location = response.status, response.headers.get("Location", "")
        except (aiohttp.ClientError, TimeoutError) as exc:
            return (
                Hit(step, start, time.perf_counter(), 0, f"{exc.__class__.__name__}: {exc}"),
                b"",
                "",
            )
        hit = Hit(step, start, time.perf_counter(), status)
        if status != expect:
            hit.error = f"{method} {path}: {status}, expected {expect}: " + body[:200].decode(
                errors="replace"
            )
        return hit, body, location

    def read_csrf(self, hit: Hit, body: bytes) -> None:
        found = CSRF_RE.search(body)
        if found:
            self.csrf = found.group(1).decode()
        elif not hit.error:
            hit.error = f"{hit.step}: no CSRF token on the page"

    def form(self, *fields: tuple[str, object]) -> list[tuple[str, str]]:
        return [(CSRF_FIELD, self.csrf), *((k, str(v)) for k, v in fields)]

    # --- actions -----------------------------------------------------------------------------
    async def act(self, quiz: QuizKey, tally: Tally, start: float) -> list[Hit]:
        """The student's next action, due at `start`: its request(s) (a POST answered 303 is
        followed at once, as a browser does). On an error the student stays where it was and
        tries that action again next time."""
        step = self.next
        try:
            return await getattr(self, "_" + step.replace(" ", "_"))(quiz, tally, start)
        except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
            now = time.perf_counter()
            return [Hit(step, start, now, 0, f"{step}: unexpected answer ({exc!r})")]

    async def _my_course(self, quiz: QuizKey, tally: Tally, start: float) -> list[Hit]:
        hit, body, _ = await self.request("my course", start, "GET", f"{PORTAL}/", 200)
        if not hit.error:
            self.read_csrf(hit, body)
        if not hit.error and f'/portal/quizzes/{quiz.id}"'.encode() not in body:
            hit.error = f"my course: no link to quiz {quiz.id}"
        if not hit.error:
            self.next = "intro"
        return [hit]

    async def _intro(self, quiz: QuizKey, tally: Tally, start: float) -> list[Hit]:
        path = f"{PORTAL}/quizzes/{quiz.id}"
        hit, body, _ = await self.request("intro", start, "GET", path, 200)
        if not hit.error:
            self.read_csrf(hit, body)
        if not hit.error and f'/portal/quizzes/{quiz.id}/start"'.encode() not in body:
            hit.error = f"intro: no Start form for quiz {quiz.id}"
        if not hit.error:
            self.next = "start"
        return [hit]

    async def _start(self, quiz: QuizKey, tally: Tally, start: float) -> list[Hit]:
        path = f"{PORTAL}/quizzes/{quiz.id}/start"
        hit, _, location = await self.request("start", start, "POST", path, 303, data=self.form())
        if hit.error:
            return [hit]
        found = ATTEMPT_RE.search(location)
        if not found:
            hit.error = f"start: redirected to {location!r}, not an attempt"
            return [hit]
        self.attempt_id = int(found.group(1))
        self.questions, self.chosen, self.answered, self.earned = [], {}, 0, 0.0
        tally.started += 1
        self.next = "take"
        return [hit, *(await self._take(quiz, tally, hit.end))]

    async def _take(self, quiz: QuizKey, tally: Tally, start: float) -> list[Hit]:
        path = f"{PORTAL}/attempts/{self.attempt_id}"
        hit, body, _ = await self.request("take", start, "GET", path, 200)
        if hit.error:
            return [hit]
        self.read_csrf(hit, body)
        shown = [int(q) for q in QUESTION_RE.findall(body)]
        options: dict[int, list[int]] = {}
        for tag in INPUT_RE.findall(body):  # the choices: <input name="answer-Q" value="O">
            name, value = ANSWER_NAME_RE.search(tag), VALUE_RE.search(tag)
            if name and value:
                options.setdefault(int(name.group(1)), []).append(int(value.group(1)))
        if sorted(shown) != sorted(quiz.types):
            hit.error = f"take: attempt {self.attempt_id} shows questions {shown}"
        elif any(sorted(options.get(q, [])) != quiz.options[q] for q in shown):
            hit.error = f"take: attempt {self.attempt_id} shows other options"
        if not hit.error:
            self.questions = shown
            self.next = "autosave"
        return [hit]

    async def _autosave(self, quiz: QuizKey, tally: Tally, start: float) -> list[Hit]:
        question_id = self.questions[self.answered]
        chosen, earns = quiz.choose(question_id, self.rng)
        path = f"{PORTAL}/attempts/{self.attempt_id}/answers/{question_id}"
        headers = {"Accept": "application/json", CSRF_HEADER: self.csrf}
        hit, body, _ = await self.request(
            "autosave", start, "POST", path, 200, json={"option_ids": chosen}, headers=headers
        )
        if not hit.error:
            saved = json.loads(body).get("selected_option_ids")
            if saved != chosen:
                hit.error = f"autosave {path}: saved {saved}, sent {chosen}"
        if not hit.error:
            self.chosen[question_id] = chosen
            self.answered += 1
            self.earned += earns
            tally.answered += 1
            if self.answered == len(self.questions):
                self.next = "submit"
        return [hit]

    async def _submit(self, quiz: QuizKey, tally: Tally, start: float) -> list[Hit]:
        """The whole form, as "Submit my answers" posts it; `confirm=1` only in the final
        drain (questions left unanswered: what the confirm page's button sends)."""
        fields: list[tuple[str, object]] = []
        for question_id in self.questions:
            fields.append(("shown", question_id))
            fields += [(f"answer-{question_id}", o) for o in self.chosen.get(question_id, [])]
        if self.draining:
            fields.append(("confirm", 1))
        path = f"{PORTAL}/attempts/{self.attempt_id}/submit"
        hit, _, location = await self.request(
            "submit", start, "POST", path, 303, data=self.form(*fields)
        )
        if hit.error:
            return [hit]
        result = f"{PORTAL}/attempts/{self.attempt_id}/result"
        if portal_path(location) != result:
            hit.error = f"submit: redirected to {location!r}, not the result"
            return [hit]
        tally.submitted += 1  # graded: the database has it
        tally.score += self.earned
        self.next = "result"
        hits = [hit, *(await self._result(quiz, tally, hit.end))]
        self.attempt_id, self.next = None, "my course"  # the flow ends either way
        return hits

    async def _result(self, quiz: QuizKey, tally: Tally, start: float) -> list[Hit]:
        path = f"{PORTAL}/attempts/{self.attempt_id}/result"
        hit, body, _ = await self.request("result", start, "GET", path, 200)
        if hit.error:
            return [hit]
        self.read_csrf(hit, body)
        found = SCORE_RE.search(body)
        if not SUBMITTED_RE.search(body) or not found:
            hit.error = f"result of attempt {self.attempt_id}: not shown as submitted"
        elif not math.isclose(float(found.group(1)), self.earned):
            hit.error = (
                f"result of attempt {self.attempt_id}: score {found.group(1).decode()}, "
                f"expected {self.earned:g}"
            )
        return [hit]


# --- phases --------------------------------------------------------------------------------
def group_ticks(pgid: int) -> int:
    """CPU ticks so far (utime + stime) of the processes in a process group."""
    total = 0
    for pid in group_pids(pgid):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            total += int(fields[11]) + int(fields[12])
    return total


async def hub_meter(phase: QuizPhase, hub_pgid: int) -> float:
    """Cores the hub (its process group: hub, proxy) used over the measured window: it
    answers "My course"'s question about the student's servers, so it is part of the load,
    not noise (`meter` counts it as "other")."""
    measure_from, measure_to = phase.measured
    await asyncio.sleep(max(0.0, measure_from - time.perf_counter()))
    before = group_ticks(hub_pgid)
    await asyncio.sleep(max(0.0, measure_to - time.perf_counter()))
    return (group_ticks(hub_pgid) - before) / HZ / phase.duration


def note(phase: QuizPhase, tally: Tally, hits: list[Hit], measured: bool) -> None:
    """Record an action's requests in the phase (an expected 303 counts as answered)."""
    for hit in hits:
        phase.samples.append((hit.step, hit.start, hit.end, 0 if hit.error else 200))
        if measured:
            phase.groups[hit.step] = "portal"
        record(phase, tally, hit.step, hit.status, hit.error, measured)


async def run_portal_phase(
    phase: QuizPhase,
    students: list[Browser],
    warmup: float,
    duration: float,
    server: Server,
    *,
    quiz: QuizKey,
    tally: Tally,
    hub_pgid: int,
) -> None:
    """Every browser takes actions of its flow, paced as the phase says, until the measured
    window is over; the flow in progress then carries on in the next phase."""
    t0 = begin_phase(phase, len(students), warmup, duration)
    measure_from, measure_to = phase.measured

    async def student_loop(student: Browser) -> None:
        pacer = Pacer(phase, student.rng, t0)
        while (start := await pacer.next_start()) is not None:
            hits = await student.act(quiz, tally, start)
            measured = start >= measure_from
            note(phase, tally, hits, measured)
            submitted = any(h.step == "submit" and not h.error for h in hits)
            if measured and submitted and hits[-1].end < measure_to:
                phase.flows += 1

    hub, *_ = await asyncio.gather(
        hub_meter(phase, hub_pgid), meter(phase, server), *(student_loop(s) for s in students)
    )
    phase.cpu["hub"] = hub
    phase.cpu["other"] -= hub


async def stagger(students: list[Browser], quiz: QuizKey, tally: Tally) -> None:
    """Before the first phase (unmeasured): each browser at a random point of a flow."""

    async def place(student: Browser) -> None:
        for _ in range(student.rng.randrange(ACTIONS_PER_FLOW)):
            for hit in await student.act(quiz, tally, time.perf_counter()):
                if hit.error:
                    tally.error(f"(staggered start) {hit.step} -> {hit.status} {hit.error}")
                    return

    await asyncio.gather(*(place(s) for s in students))


async def drain(students: list[Browser], quiz: QuizKey, tally: Tally) -> None:
    """After the last phase (unmeasured): submit every attempt still open as it stands."""

    async def submit(student: Browser) -> None:
        student.draining = True
        for _ in range(DRAIN_TRIES):
            if not student.in_flow:
                return
            student.next = "submit"
            for hit in await student.act(quiz, tally, time.perf_counter()):
                if hit.error:
                    tally.error(f"(final drain) {hit.step} -> {hit.status} {hit.error}")

    await asyncio.gather(*(submit(s) for s in students))


# --- report --------------------------------------------------------------------------------
PORTAL_REPORT = Report(
    steps=STEPS,
    all_label=ALL,
    unit="request kind",
    title_prefix="portal, ",
    width=38,
    label_width=15,
    cpu_parts=("server", "postgres", "client", "hub"),
)
verdicts = partial(quiz_load.verdicts, report=PORTAL_REPORT)
render = partial(quiz_load.render, report=PORTAL_REPORT)


# --- main ----------------------------------------------------------------------------------
SATURATED = "portal, saturated"


def paced_title(students: int, think_ms: float) -> str:
    return f"portal, think {think_ms:g} ms (~{students * 1000 / think_ms:g} actions/s)"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = load_run_parser("python -m bench.portal_load", __doc__.splitlines()[0], THINK_MS)
    parser.add_argument(
        "--no-saturated", action="store_true", help="skip the saturated (capacity) phase"
    )
    return checked_args(parser, argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    install_signal_handlers()
    try:
        return run(args)
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted: server stopped, database dropped, hub stopped.", file=sys.stderr)
        return 130


def run(args: argparse.Namespace) -> int:
    admin_url = postgres_admin_url(args.postgres_url)
    n = args.students
    print(
        f"Portal load run: {n} browsers, {args.workers} uvicorn worker(s), "
        f"{os.cpu_count()} CPU cores shared by client, server, hub and PostgreSQL",
        flush=True,
    )
    tally = Tally()
    phases = [
        *([] if args.no_saturated else [quiz_phase(SATURATED, 0)]),
        *(quiz_phase(paced_title(n, ms), ms / 1000) for ms in sorted(args.think_ms, reverse=True)),
    ]
    with contextlib.ExitStack() as stack:
        setup: Setup = set_up(stack, admin_url, n, args.seed, Browser)
        keep_alive = keepalive_seconds(args.think_ms)
        for student in setup.students:
            student.keepalive_seconds = keep_alive - 5
        app = lms_api_server(setup, args.workers, keep_alive)
        with serving(app):
            print(f"serving lms_api: {app.describe()}", flush=True)
            print("granting every student the DP track (admin API) ...", flush=True)
            names = [s.name for s in setup.students]
            enroll_and_read_curriculum(app.url, setup.platform.admin_token, names)
            quiz = publish_quiz(app.url, setup.platform.admin_token)
            print(f"quiz {quiz.id} published: {QUESTIONS} questions, no track", flush=True)
            students = cast(list[Browser], setup.students)
            assert setup.platform.process is not None
            hub_pgid = setup.platform.process.pid  # the hub runs in a session of its own
            uvloop.run(
                run_server_phases(
                    app,
                    setup.students,
                    phases,
                    args.warmup,
                    args.duration,
                    f"{PORTAL}/",
                    partial(run_portal_phase, quiz=quiz, tally=tally, hub_pgid=hub_pgid),
                    before=partial(stagger, students, quiz, tally),
                    after=partial(drain, students, quiz, tally),
                )
            )
            install_signal_handlers()  # the event loop put its own back
        print("checking the database ...", flush=True)
        db = check_database(setup.database_url, quiz, tally)
    print("cleaned up: server stopped, database dropped, hub stopped.", flush=True)

    table, data = render(phases, n, tally, db)
    return print_report(table, data, args)


if __name__ == "__main__":
    sys.exit(main())
