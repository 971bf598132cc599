"""Quiz-flow load run on loopback: N students take a quiz again and again on PostgreSQL.

One command (`make bench-quiz`) sets everything up, measures, checks the database, prints a
table and a verdict, and cleans up. It stands on `bench.api_load` (hub, tokens, database,
uvicorn, pacing, CPU meters, percentiles); what is new here is the flow:

1. the hub, N students with a token each, a fresh PostgreSQL database with the demo school,
   and lms_api under uvicorn, all as `bench.api_load` makes them;
2. the hub admin writes a quiz through the API and publishes it: 10 questions (SINGLE and
   MULTIPLE alternately, 4 options each, questions and options shuffled per attempt), no
   track (open to every student), unlimited attempts, no time limit;
3. every student runs flows, one after the other, on a keep-alive connection of its own
   (kept open longer than any pause, so it stays with one uvicorn worker):
   start an attempt (`POST /quizzes/{id}/attempts`), answer the 10 questions, right or wrong
   at random (`PUT /attempts/{id}/answers/{question_id}`), submit (`POST
   /attempts/{id}/submit`), and checks each answer (the attempt's questions, the options
   saved, the score against the one its answers earn);
4. before the first phase each student is put at a random point of a flow (unmeasured), and
   its flow goes on from one phase to the next, so the three steps come in their steady mix
   (1 start : 10 answers : 1 submit) all along, not as N starts at once; then phases, each
   `--warmup` seconds unmeasured and `--duration` measured:
   - saturated (closed loop): each step as soon as the last one was answered: the most flows
     per second the server sustains; latency then follows from Little's law;
   - paced (open schedule), once per `--think-ms` (10000, 5000, 2000, 1000): a step every think-ms
     on average (uniform 0.5x..1.5x), so N students offer N * 1000 / think-ms requests/s
     (200 students: 20, 40, 100, 200 req/s; a flow then takes 12 x think-ms); latency counts from
     when the step was due, so a slow answer that delays the next step is charged to the
     server;
5. after the last phase every attempt still in progress is submitted as it stands
   (unmeasured), then the database is checked: submitted attempts == flows the students
   completed, none left open, each with 10 graded rows in quiz_answer_events, and the
   answers, answer events and scores the students saw;
6. prints count, errors, p50/p95/p99/max per step, flows/s, the CPU each part used, the
   database check and whether the target (issue 4) is met: 200 students, p99 under 150 ms
   for every step in every paced phase, no errors anywhere (warm-ups and the final drain
   included), and a consistent database; and (issue 23) the server's CPU per step, its cores
   used x seconds / steps answered, printed for every phase and judged on the saturated one:
   at most 2 ms averaged over the flow's steady mix;
7. with `--peer PATH` (`make bench-quiz PEER=PATH`, a checkout of the seed's Django backend,
   shanmukh-007/ApranovaPro1, kept outside this repository) the same phases run, with the
   same client, student names and seeds, against that backend (`bench.peer_django`: its own
   virtualenv, database, ORM seed of the same quiz, gunicorn with 2 workers), after
   ApraNova's, one side at a time so each has the machine to itself (the hub is stopped
   before the peer starts); both tables, the side-by-side steps/s, their ratio, the worst p99
   and the server CPU per step are printed, and ApraNova's saturated steps/s must be at least
   3x the peer's. Without `--peer` it runs ApraNova alone and says so.
"""

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import sys
import time
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import NamedTuple, cast

import httpx
import uvloop
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from bench.api_load import (
    API,
    NOISE_CORES,
    NOT_SENT,
    Pacer,
    Phase,
    Server,
    Setup,
    Student,
    Workload,
    begin_phase,
    call,
    checked_args,
    install_signal_handlers,
    lms_api_server,
    load_run_parser,
    meter,
    postgres_admin_url,
    print_report,
    run_server_phases,
    serving,
    set_up,
    stats,
)
from bench.harness.databases import fresh_postgres_database
from bench.peer_django import (
    PEER_API,
    PEER_THREADS,
    PEER_WORKERS,
    PeerError,
    PeerStudent,
    PeerTally,
    check_peer_database,
    ensure_venv,
    find_backend,
    migrate,
    peer_env,
    peer_server,
    scratch,
    seed,
)
from lms_api.database import sync_url

QUESTIONS = 10
OPTIONS = 4
STEPS = ("start", "answer", "submit")
ALL = "= all steps"
P99_TARGET_MS = 150.0
TARGET_STUDENTS = 200
CPU_TARGET_MS = 2.0  # ApraNova's server CPU per step, averaged over the flow (saturated phase)
PEER_RATIO_TARGET = 3.0  # ApraNova's saturated steps/s against the Django peer's, same run
PEER_HOW = "make bench-quiz PEER=/path/to/ApranovaPro1 (or --peer PATH)"
NO_PEER = (
    "Django peer comparison not run (ApraNova alone); to run it: "
    + PEER_HOW
    + ", see bench/README.md."
)
RIGHT_SHARE = 0.5  # chance that a student answers a question right
DRAIN_TRIES = 3  # a submit failing this many times in a row ends the student's final drain
# Paced phases: a step every 10, 5 and 2 s on average (200 students: 20, 40 and 100 req/s).
THINK_MS = "10000,5000,2000,1000"  # 1000: 200 students x one step a second (issue 23)
# Idle connections are kept open longer than a student ever thinks (1.5 x think-ms at most),
# by the server and a little less long by the client: a new connection may reach the other
# worker, which would then ask the hub about the token, inside a measured phase. (In the
# platform students reach lms_api through the hub's proxy, which keeps its connections.)
MIN_KEEPALIVE_SECONDS = 60


def keepalive_seconds(think_ms: list[float]) -> int:
    return max(MIN_KEEPALIVE_SECONDS, math.ceil(1.5 * max(think_ms) / 1000) + 10)


# --- the quiz ------------------------------------------------------------------------------
def quiz_body() -> dict:
    """10 questions, SINGLE and MULTIPLE alternately, 4 options each (MULTIPLE: 2 right)."""
    questions = []
    for number in range(1, QUESTIONS + 1):
        kind = "SINGLE" if number % 2 else "MULTIPLE"
        right = 1 if kind == "SINGLE" else 2
        options = [
            {"text": f"Option {letter} of question {number}", "is_correct": i < right}
            for i, letter in enumerate("ABCD"[:OPTIONS])
        ]
        questions.append({"text": f"Load-run question {number}?", "type": kind, "options": options})
    return {
        "title": "Load-run quiz",
        "track": None,
        "max_attempts": None,
        "time_limit_seconds": None,
        "shuffle_questions": True,
        "shuffle_options": True,
        "questions": questions,
    }


@dataclass
class QuizKey:
    """The quiz the students take and its key (read by the admin, who wrote it)."""

    id: int
    types: dict[int, str]  # question id -> SINGLE / MULTIPLE
    right: dict[int, list[int]]  # question id -> its correct option ids, ascending
    options: dict[int, list[int]]  # question id -> all its option ids, ascending
    points: dict[int, float]

    @classmethod
    def from_detail(cls, detail: dict) -> "QuizKey":
        questions = detail["questions"]
        return cls(
            id=detail["id"],
            types={q["id"]: q["type"] for q in questions},
            right={
                q["id"]: sorted(o["id"] for o in q["options"] if o["is_correct"]) for q in questions
            },
            options={q["id"]: sorted(o["id"] for o in q["options"]) for q in questions},
            points={q["id"]: float(q["points"]) for q in questions},
        )

    def choose(self, question_id: int, rng: random.Random) -> tuple[list[int], float]:
        """(options to send, the score they earn): the right ones with `RIGHT_SHARE`, else a
        wrong choice (SINGLE: one wrong option; MULTIPLE: any other non-empty set)."""
        right, every = self.right[question_id], self.options[question_id]
        if rng.random() < RIGHT_SHARE:
            return list(right), self.points[question_id]
        if self.types[question_id] == "SINGLE":
            return [rng.choice([o for o in every if o not in right])], 0.0
        while True:  # all or nothing (the quiz's scoring): any other set scores 0
            chosen = sorted(rng.sample(every, rng.randint(1, len(every))))
            if chosen != right:
                return chosen, 0.0


def publish_quiz(app_url: str, admin_token: str) -> QuizKey:
    """The admin writes the quiz through the API and publishes it."""
    headers = {"Authorization": f"Bearer {admin_token}"}
    with httpx.Client(base_url=app_url + API, headers=headers, timeout=60) as api:
        created = api.post("/quizzes", json=quiz_body())
        if created.status_code != 201:
            raise RuntimeError(f"writing the quiz: {created.status_code} {created.text}")
        quiz_id = created.json()["id"]
        published = api.post(f"/quizzes/{quiz_id}/publish")
        if published.status_code != 200:
            raise RuntimeError(f"publishing the quiz: {published.status_code} {published.text}")
    return QuizKey.from_detail(published.json())


# --- students ------------------------------------------------------------------------------
@dataclass
class Tally:
    """Everything the students did in the whole run (warm-ups and the final drain too)."""

    started: int = 0  # attempts started (201)
    answered: int = 0  # answers saved (200, as sent)
    submitted: int = 0  # flows completed: attempts submitted (200, graded as expected)
    score: float = 0.0  # the scores of the submitted attempts, as the answers earned them
    errors: int = 0  # any step answered non-2xx, not at all, or not as expected
    error_examples: list[str] = field(default_factory=list)

    def error(self, example: str) -> None:
        self.errors += 1
        if len(self.error_examples) < 10:
            self.error_examples.append(example)


class QuizStudent(Student):
    """A student who takes the quiz in a loop; knows where it is in its current flow."""

    def __init__(self, name: str, token: str, seed: int) -> None:
        super().__init__(name, token, seed)
        self.attempt_id: int | None = None  # None: the next step starts a new attempt
        self.questions: list[int] = []  # the attempt's question ids, in the order it shows
        self.answered = 0  # questions of the attempt answered (or skipped) so far
        self.earned = 0.0  # what those answers score
        self.start_failed = False  # the last start failed (a retry may resume it: 200)

    @property
    def in_flow(self) -> bool:
        return self.attempt_id is not None

    def skip_to_submit(self) -> None:
        """Leave the questions not answered yet: the next step submits the attempt."""
        self.answered = len(self.questions)

    def _end_flow(self) -> None:
        self.attempt_id, self.questions, self.answered, self.earned = None, [], 0, 0.0

    async def step(self, quiz: QuizKey, tally: Tally) -> tuple[str, int, str]:
        """Send the next step of this student's flow; (step, status, error text). On an error
        the student stays where it was and tries that step again next time."""
        step = "start" if self.attempt_id is None else "answer"
        if self.attempt_id is not None and self.answered >= len(self.questions):
            step = "submit"
        try:
            return await self._step(quiz, tally)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:  # an unexpected body
            return step, 0, f"{step}: unexpected answer ({exc.__class__.__name__}: {exc})"

    async def _step(self, quiz: QuizKey, tally: Tally) -> tuple[str, int, str]:
        if self.attempt_id is None:
            status, body, error = await call(self, "POST", f"{API}/quizzes/{quiz.id}/attempts")
            error = error or self._started(quiz, status, body, tally)
            self.start_failed = bool(error)
            return "start", status, error
        if self.answered < len(self.questions):
            question_id = self.questions[self.answered]
            chosen, earns = quiz.choose(question_id, self.rng)
            path = f"{API}/attempts/{self.attempt_id}/answers/{question_id}"
            status, body, error = await call(self, "PUT", path, {"option_ids": chosen})
            if not error:
                saved = json.loads(body).get("selected_option_ids")
                if saved != chosen:
                    error = f"PUT {path}: saved {saved}, sent {chosen}"
            if not error:
                self.answered += 1
                self.earned += earns
                tally.answered += 1
            return "answer", status, error
        path = f"{API}/attempts/{self.attempt_id}/submit"
        status, body, error = await call(self, "POST", path)
        if not error:
            graded = json.loads(body)
            if graded.get("status") != "SUBMITTED" or not math.isclose(
                graded.get("score") or 0.0, self.earned
            ):
                error = (
                    f"POST {path}: {graded.get('status')} with score {graded.get('score')}, "
                    f"expected SUBMITTED with {self.earned:g}"
                )
            tally.submitted += 1  # graded either way: the database has it
            tally.score += graded.get("score") or 0.0
            self._end_flow()
        return "submit", status, error

    def _started(self, quiz: QuizKey, status: int, body: bytes, tally: Tally) -> str:
        attempt = json.loads(body)
        asked = [q["id"] for q in attempt.get("questions", [])]
        self.attempt_id, self.questions, self.answered, self.earned = attempt["id"], asked, 0, 0.0
        if status == 201:
            tally.started += 1
        elif not self.start_failed:  # 200 = resumed, but no attempt of ours was open
            return f"start of quiz {quiz.id}: resumed attempt {attempt['id']} (200), not a new one"
        if sorted(asked) != sorted(quiz.types) or attempt.get("status") != "IN_PROGRESS":
            self._end_flow()
            return f"start of quiz {quiz.id}: attempt {attempt.get('id')} is not as expected"
        for shown in attempt["questions"]:
            if sorted(o["id"] for o in shown["options"]) != quiz.options[shown["id"]]:
                self._end_flow()
                return f"attempt {attempt['id']}: question {shown['id']} has other options"
        return ""


# --- phases --------------------------------------------------------------------------------
def record(phase: Phase, tally: Tally, step: str, status: int, error: str, measured: bool) -> None:
    if error:
        example = f"{step} -> {status} {error}"
        tally.error(example)
        if measured:
            phase.error(step, example)


async def run_quiz_phase(
    phase: "QuizPhase",
    students: list[QuizStudent],
    warmup: float,
    duration: float,
    server: Server,
    *,
    quiz: QuizKey,
    tally: Tally,
) -> None:
    """Every student takes steps of its flow, paced as the phase says, until the measured
    window is over; the flow in progress then carries on in the next phase."""
    t0 = begin_phase(phase, len(students), warmup, duration)
    measure_from, measure_to = phase.measured

    async def student_loop(student: QuizStudent) -> None:
        pacer = Pacer(phase, student.rng, t0)
        while (start := await pacer.next_start()) is not None:
            step, status, error = await student.step(quiz, tally)
            end = time.perf_counter()
            # a 2xx answer that was not as expected counts as an error, not as a latency
            phase.samples.append((step, start, end, 0 if error else status))
            measured = start >= measure_from
            if measured:
                phase.groups[step] = "quiz"
                if step == "submit" and not error and end < measure_to:
                    phase.flows += 1
            record(phase, tally, step, status, error, measured)

    await asyncio.gather(meter(phase, server), *(student_loop(s) for s in students))


async def stagger(students: list[QuizStudent], quiz: QuizKey, tally: Tally) -> None:
    """Before the first phase (unmeasured): put each student at a random point of a flow
    (no attempt yet, or an attempt with 0 to 10 questions answered), so the steps come in
    their steady mix from the first second instead of 200 starts at once."""

    async def place(student: QuizStudent) -> None:
        for _ in range(student.rng.randrange(QUESTIONS + 2)):  # steps already taken
            step, status, error = await student.step(quiz, tally)
            if error:
                tally.error(f"(staggered start) {step} -> {status} {error}")
                return

    await asyncio.gather(*(place(s) for s in students))


async def drain(students: list[QuizStudent], quiz: QuizKey, tally: Tally) -> None:
    """After the last phase (unmeasured): submit every attempt still in progress as it
    stands, so that the database holds no open attempt; errors still count."""

    async def submit(student: QuizStudent) -> None:
        for _ in range(DRAIN_TRIES):
            if not student.in_flow:
                return
            student.skip_to_submit()
            step, status, error = await student.step(quiz, tally)
            if error:
                tally.error(f"(final drain) {step} -> {status} {error}")

    await asyncio.gather(*(submit(s) for s in students))


@dataclass
class QuizPhase(Phase):
    flows: int = 0  # flows completed in the measured window (submitted within it, as expected)


def quiz_phase(title: str, think: float) -> QuizPhase:
    return QuizPhase(title, Workload("quiz"), think)


# --- database check ------------------------------------------------------------------------
BY_STATUS = "SELECT status, count(*) FROM quiz_attempts WHERE quiz_id = :quiz GROUP BY status"
GRADED = """
    SELECT count(*) FILTER (WHERE graded = :n), coalesce(sum(graded), 0) FROM (
        SELECT a.id, count(e.id) AS graded FROM quiz_attempts a
        LEFT JOIN quiz_answer_events e ON e.attempt_id = a.id AND e.kind = 'graded'
        WHERE a.quiz_id = :quiz AND a.status = 'SUBMITTED' GROUP BY a.id
    ) AS per_attempt"""
ANSWERS = """
    SELECT count(*) FROM quiz_answers s JOIN quiz_attempts a ON a.id = s.attempt_id
    WHERE a.quiz_id = :quiz AND a.status = 'SUBMITTED'"""
SAVES = "SELECT count(*) FROM quiz_answer_events WHERE quiz_id = :quiz AND kind = 'save'"
SCORE = """
    SELECT coalesce(sum(score), 0) FROM quiz_attempts
    WHERE quiz_id = :quiz AND status = 'SUBMITTED'"""


def check_database(database_url: str, quiz: QuizKey, tally: Tally) -> list[tuple[str, bool]]:
    """(what was found, whether it agrees with what the students saw), read from the database
    after the run."""
    engine = create_engine(sync_url(database_url))
    params = {"quiz": quiz.id, "n": QUESTIONS}
    try:
        with engine.connect() as db:
            by_status = {status: count for status, count in db.execute(text(BY_STATUS), params)}
            graded_right, graded_rows = db.execute(text(GRADED), params).one()
            answer_rows = db.execute(text(ANSWERS), params).scalar_one()
            saves = db.execute(text(SAVES), params).scalar_one()
            score = db.execute(text(SCORE), params).scalar_one()
    finally:
        engine.dispose()
    submitted = by_status.get("SUBMITTED", 0)
    others = {k: v for k, v in by_status.items() if k != "SUBMITTED"}
    return [
        (
            f"submitted attempts {submitted} == flows completed {tally.submitted}; "
            f"other attempts: {others or 'none'}",
            submitted == tally.submitted and not others,
        ),
        (
            f"submitted attempts with {QUESTIONS} graded rows (quiz_answer_events "
            f"kind='graded'): {graded_right} of {submitted} ({graded_rows} rows)",
            graded_right == submitted and graded_rows == QUESTIONS * submitted,
        ),
        (
            f"answers of submitted attempts {answer_rows} and 'save' events {saves} == "
            f"answers saved {tally.answered}",
            answer_rows == saves == tally.answered,
        ),
        (
            f"total score {score:g} == what the answers earned {tally.score:g}",
            math.isclose(score, tally.score),
        ),
    ]


# --- report --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Report:
    """What a flow's report calls its rows, and which of them the target judges: the quiz
    run's steps here, the portal run's request kinds in `bench.portal_load`."""

    steps: tuple[str, ...] = STEPS
    all_label: str = ALL
    unit: str = "step"
    title_prefix: str = "quiz flow, "
    width: int = 34
    label_width: int = 14
    cpu_parts: tuple[str, ...] = ("server", "postgres", "client")
    # Server CPU per request (ms, saturated phase) at most this, judged; None: not a target.
    cpu_target_ms: float | None = None
    # Whether the run compares with the Django peer (`--peer`), or says it did not.
    compares_peer: bool = False


QUIZ_REPORT = Report(cpu_target_ms=CPU_TARGET_MS, compares_peer=True)


@dataclass
class PeerRun:
    """The Django peer's side of a run: its phases (the same as ApraNova's, in the same
    order), what its students did, its database check and how it was served."""

    phases: list["QuizPhase"]
    tally: PeerTally
    db: list[tuple[str, bool]]
    served: str


def phase_rows(
    phase: QuizPhase, report: Report = QUIZ_REPORT
) -> list[tuple[str, dict[str, float]]]:
    labels = [s for s in report.steps if s in phase.groups or s in phase.errors]
    rows = [(label, stats(phase, {label})) for label in labels]
    everything = set(labels) | set(phase.errors)
    rows.append((report.all_label, stats(phase, everything)))
    if NOT_SENT in phase.errors:
        rows.insert(len(labels), (NOT_SENT, stats(phase, {NOT_SENT})))
    return rows


def answered_per_second(phase: QuizPhase, report: Report = QUIZ_REPORT) -> float:
    """Steps (requests) answered as expected within the measured window, per second."""
    return dict(phase_rows(phase, report))[report.all_label]["rps"]


def server_cpu_ms(phase: QuizPhase, report: Report = QUIZ_REPORT) -> float:
    """Server CPU per step answered in the measured window, in ms: the server's cores used
    x seconds / steps (nan when none was answered or the CPU was not metered)."""
    answered = answered_per_second(phase, report)
    cores = phase.cpu.get("server", math.nan)
    return 1000 * cores / answered if answered else math.nan


def saturated_phase(phases: list[QuizPhase]) -> QuizPhase | None:
    return next((p for p in phases if not p.think), None)


def worst_p99(phase: QuizPhase, report: Report = QUIZ_REPORT) -> tuple[str, float]:
    """The row with the highest p99 of the phase (nan when one has no answer at all)."""
    found = {label: s["p99_ms"] for label, s in phase_rows(phase, report) if label in report.steps}
    missing = [label for label in report.steps if label not in found or math.isnan(found[label])]
    if missing:
        return missing[0], math.nan
    return max(found.items(), key=lambda item: item[1])


class Target(NamedTuple):
    what: str
    value: str
    met: bool
    brief: str  # what the verdict line says when it is not met


def peer_ratio(phases: list[QuizPhase], peer: list[QuizPhase]) -> tuple[float, float, float]:
    """(ApraNova's saturated steps/s, the peer's, their ratio; nan when either is missing)."""
    ours, theirs = saturated_phase(phases), saturated_phase(peer)
    mine = answered_per_second(ours) if ours else math.nan
    other = answered_per_second(theirs) if theirs else math.nan
    return mine, other, (mine / other if other else math.nan)


def verdicts(
    phases: list[QuizPhase],
    students: int,
    tally: Tally,
    db: list[tuple[str, bool]],
    report: Report = QUIZ_REPORT,
    peer: list[QuizPhase] | None = None,
) -> tuple[list[Target], bool | None]:
    """Each target line, and the verdict: True when the target is met, False when not, None
    when the run had fewer students than the target names (then it is not judged). With the
    peer's phases (`--peer`) the saturated throughput is judged against the peer's too."""
    found = []
    for phase in phases:
        if not phase.think:
            continue
        step, p99 = worst_p99(phase, report)
        pace = phase.title.removeprefix(report.title_prefix)
        found.append(
            Target(
                f"p99 < {P99_TARGET_MS:g} ms for every {report.unit} at {pace}",
                f"worst {step} {p99:.1f} ms",
                p99 < P99_TARGET_MS,  # False for nan
                f"p99 of {step} {p99:.0f} ms at {pace}",
            )
        )
    saturated = saturated_phase(phases)
    metered = saturated is not None and "server" in saturated.cpu
    if report.cpu_target_ms is not None and metered:
        ms = server_cpu_ms(saturated, report)
        found.append(
            Target(
                f"server CPU <= {report.cpu_target_ms:g} ms per {report.unit}, averaged over "
                "the flow (saturated phase)",
                f"{ms:.2f} ms",
                ms <= report.cpu_target_ms,  # False for nan
                f"server CPU {ms:.2f} ms per {report.unit}",
            )
        )
    if peer is not None:
        mine, other, ratio = peer_ratio(phases, peer)
        found.append(
            Target(
                f"saturated throughput >= {PEER_RATIO_TARGET:g}x the Django peer's (same run)",
                f"{mine:.1f} / {other:.1f} {report.unit}s/s = {ratio:.2f}x",
                ratio >= PEER_RATIO_TARGET,  # False for nan
                f"{ratio:.2f}x the peer's throughput",
            )
        )
    errors = tally.errors + sum(p.errors.get(NOT_SENT, 0) for p in phases)
    found.append(
        Target(
            f"no errors (every {report.unit} answered as expected, warm-ups and drain included)",
            f"{errors} errors",
            errors == 0,
            f"{errors} errors",
        )
    )
    consistent = all(ok for _, ok in db)
    found.append(
        Target("database consistent with the flows", "see above", consistent, "database differs")
    )
    if students < TARGET_STUDENTS:
        return found, None
    return found, all(t.met for t in found)


def verdict_line(
    met: bool | None,
    students: int,
    found: list[Target],
    report: Report = QUIZ_REPORT,
    peer: bool = False,
) -> str:
    target = (
        f"{TARGET_STUDENTS} concurrent students, p99 < {P99_TARGET_MS:g} ms per {report.unit}, "
        "0 errors"
    )
    if report.cpu_target_ms is not None:
        target += f", server CPU <= {report.cpu_target_ms:g} ms per {report.unit}"
    if peer:
        target += f", >= {PEER_RATIO_TARGET:g}x the Django peer saturated"
    elif report.compares_peer:
        target += "; the peer comparison was not run"
    failed = "; ".join(t.brief for t in found if not t.met)
    if met:
        return f"VERDICT: target MET ({target}) with {students} students."
    if met is None:
        held = f"not met: {failed}" if failed else "every other target met"
        return f"VERDICT: not judged ({target}): {students} students only; {held}."
    return f"VERDICT: target NOT MET ({target}): {failed}."


def phase_table(
    phases: list[QuizPhase], report: Report = QUIZ_REPORT
) -> tuple[list[str], list[dict], list[str]]:
    """The table of a side's phases: (lines, each phase's data, the phases disturbed by other
    processes or the hypervisor)."""
    w, lw = report.width, report.label_width
    head = f"{'phase':<{w}} {report.unit.split()[-1]:<{lw}} {'count':>6} {'req/s':>7} "
    head += f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7} {'errors':>6}"
    lines = [head, "-" * len(head)]
    found = []
    cores = os.cpu_count() or 1
    per = report.unit.split()[0]
    for phase in phases:
        rows = phase_rows(phase, report)
        for i, (label, s) in enumerate(rows):
            title = phase.title if i == 0 else ""
            lines.append(
                f"{title:<{w}} {label:<{lw}} {s['ok']:>6d} {s['rps']:>7.1f} {s['p50_ms']:>7.1f} "
                f"{s['p95_ms']:>7.1f} {s['p99_ms']:>7.1f} {s['max_ms']:>7.1f} {s['errors']:>6d}"
            )
        cpu = phase.cpu
        flows = phase.flows / phase.duration
        parts = ", ".join(f"{part} {cpu[part]:.2f}" for part in (*report.cpu_parts, "other"))
        cpu_ms = server_cpu_ms(phase, report)
        lines.append(
            f"{'':<{w}} flows/s {flows:.2f} ({phase.flows} completed); CPU cores used: {parts}, "
            f"stolen {cpu['steal']:.2f}, idle {cores - cpu['busy'] - cpu['steal']:.2f}; "
            f"server CPU {cpu_ms:.2f} ms per {per}"
        )
        found.append(
            {
                "title": phase.title,
                "think_seconds": phase.think,
                "offered_rps": phase.offered,
                "flows": phase.flows,
                "flows_per_second": flows,
                "rows": dict(rows),
                "cpu_cores": cpu,
                "server_cpu_ms_per_" + per: cpu_ms,
                "connections_per_worker": phase.connections,
                "error_examples": phase.error_examples,
            }
        )
    noisy = [p.title for p in phases if max(p.cpu["other"], p.cpu["steal"]) > NOISE_CORES]
    return lines, found, noisy


def noise_warning(noisy: list[str]) -> list[str]:
    if not noisy:
        return []
    return [
        "",
        f"WARNING: other processes, or the hypervisor (stolen), took more than {NOISE_CORES}"
        " core during: " + "; ".join(noisy) + ". These figures are disturbed; rerun.",
    ]


def comparison(phases: list[QuizPhase], peer: PeerRun) -> tuple[list[str], list[dict]]:
    """ApraNova and the peer side by side, phase by phase: steps/s, their ratio, the worst
    p99, and the server CPU per step."""
    w = max([34, *(len(p.title) for p in phases)])
    head = (
        f"{'phase':<{w}} {'ApraNova':>9} {'peer':>9} {'ratio':>7}   {'worst p99 ms':>17}   "
        f"{'server CPU ms/step':>18}"
    )
    sub = f"{'':<{w}} {'steps/s':>9} {'steps/s':>9} {'':>7}   {'ApraNova':>8} {'peer':>8}   "
    sub += f"{'ApraNova':>8} {'peer':>9}"
    lines = [head, sub, "-" * len(head)]
    found = []
    for ours, theirs in zip(phases, peer.phases, strict=True):
        mine, other = answered_per_second(ours), answered_per_second(theirs)
        ratio = mine / other if other else math.nan
        p99_mine, p99_other = worst_p99(ours)[1], worst_p99(theirs)[1]
        cpu_mine, cpu_other = server_cpu_ms(ours), server_cpu_ms(theirs)
        lines.append(
            f"{ours.title:<{w}} {mine:>9.1f} {other:>9.1f} {ratio:>6.2f}x   {p99_mine:>8.1f} "
            f"{p99_other:>8.1f}   {cpu_mine:>8.2f} {cpu_other:>9.2f}"
        )
        found.append(
            {
                "title": ours.title,
                "apranova_steps_per_second": mine,
                "peer_steps_per_second": other,
                "ratio": ratio,
                "apranova_worst_p99_ms": p99_mine,
                "peer_worst_p99_ms": p99_other,
                "apranova_server_cpu_ms_per_step": cpu_mine,
                "peer_server_cpu_ms_per_step": cpu_other,
            }
        )
    saturated = saturated_phase(peer.phases)
    if saturated is not None:
        rows = dict(phase_rows(saturated))
        http = rows[ALL]["rps"] + rows.get("start", {"rps": 0.0})["rps"]
        per_http = 1000 * saturated.cpu["server"] / http if http else math.nan
        lines.append(
            f"(the peer's start step is 2 HTTP requests, a flow 13 of them for 12 steps: its "
            f"server CPU per HTTP request, saturated, {per_http:.2f} ms)"
        )
    return lines, found


def render(
    phases: list[QuizPhase],
    students: int,
    tally: Tally,
    db: list[tuple[str, bool]],
    report: Report = QUIZ_REPORT,
    peer: PeerRun | None = None,
) -> tuple[str, dict]:
    lines, found_phases, noisy = phase_table(phases, report)
    data: dict = {"phases": found_phases}
    if peer is not None:
        lines[:0] = ["ApraNova (lms_api):", ""]
    lines += noise_warning(noisy)
    measured_flows = sum(p.flows for p in phases)
    lines += [
        "",
        f"Flows completed in the whole run: {tally.submitted} ({measured_flows} in the measured "
        f"windows, the rest in warm-ups and the final drain); attempts started {tally.started}, "
        f"answers saved {tally.answered}.",
        "",
        "Database check (after the run):",
        *(f"  {'OK      ' if ok else 'MISMATCH'}  {what}" for what, ok in db),
    ]
    if peer is not None:
        peer_lines, peer_phases, peer_noisy = phase_table(peer.phases, report)
        t = peer.tally
        not_sent = sum(p.errors.get(NOT_SENT, 0) for p in peer.phases)
        lines += ["", f"Django peer (ApranovaPro1 backend, {peer.served}):", "", *peer_lines]
        lines += noise_warning(peer_noisy)
        lines += [
            "",
            f"Peer flows completed in the whole run: {t.submitted}; attempts started "
            f"{t.started}, answers saved {t.answered}; errors {t.errors}, steps not sent in "
            f"time {not_sent}.",
            "",
            "Peer database check (after its run):",
            *(f"  {'OK      ' if ok else 'MISMATCH'}  {what}" for what, ok in peer.db),
        ]
        if t.error_examples:
            lines += ["", "Peer's first errors:", *(f"  {e}" for e in t.error_examples[:10])]
        compared, data["comparison"] = comparison(phases, peer)
        lines += [
            "",
            "ApraNova against the Django peer (same client, students, seeds and phases; "
            "ApraNova's phases first, then the peer's):",
            *compared,
        ]
        data["peer"] = {
            "served": peer.served,
            "phases": peer_phases,
            "tally": asdict(t),
            "database": [{"check": what, "ok": ok} for what, ok in peer.db],
            "noisy_phases": peer_noisy,
        }
    elif report.compares_peer:
        lines += ["", NO_PEER]
    found, met = verdicts(
        phases, students, tally, db, report, None if peer is None else peer.phases
    )
    lines += ["", "Targets (the saturated phase measures capacity; its latency is not judged):"]
    lines += [f"  {'MET    ' if t.met else 'NOT MET'}  {t.what}: {t.value}" for t in found]
    examples = tally.error_examples + [e for p in phases for e in p.error_examples]
    if examples:
        lines += ["", "First errors:", *(f"  {e}" for e in list(dict.fromkeys(examples))[:10])]
    line = verdict_line(met, students, found, report, peer is not None)
    lines += ["", line]
    data.update(
        tally=asdict(tally),
        database=[{"check": what, "ok": ok} for what, ok in db],
        targets=[{"target": t.what, "value": t.value, "met": t.met} for t in found],
        target_met=met,
        verdict=line,
        noisy_phases=noisy,
        peer_compared=peer is not None,
    )
    return "\n".join(lines), data


# --- main ----------------------------------------------------------------------------------
SATURATED = "quiz flow, saturated"


def paced_title(students: int, think_ms: float) -> str:
    return f"quiz flow, think {think_ms:g} ms (~{students * 1000 / think_ms:g} req/s)"


def make_phases(students: int, think_ms: list[float]) -> list[QuizPhase]:
    """Saturated first, then paced from the slowest pace to the fastest."""
    return [
        quiz_phase(SATURATED, 0),
        *(
            quiz_phase(paced_title(students, ms), ms / 1000)
            for ms in sorted(think_ms, reverse=True)
        ),
    ]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = load_run_parser("python -m bench.quiz_load", __doc__.splitlines()[0], THINK_MS)
    parser.add_argument(
        "--peer",
        type=Path,
        help="a local checkout of the Django peer (shanmukh-007/ApranovaPro1, or its "
        "backend/): run the same flow against it too and compare (bench/peer_django.py)",
    )
    args = checked_args(parser, argv)
    args.peer_backend = None
    if args.peer is not None:
        try:
            args.peer_backend = find_backend(args.peer)
        except PeerError as exc:
            parser.error(str(exc))
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    install_signal_handlers()
    try:
        return run(args)
    except PeerError as exc:
        print(f"the Django peer: {exc}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted: servers stopped, databases dropped, hub stopped.", file=sys.stderr)
        return 130


def run(args: argparse.Namespace) -> int:
    admin_url = postgres_admin_url(args.postgres_url)
    n = args.students
    print(
        f"Quiz-flow load run: {n} students, {args.workers} uvicorn worker(s), "
        f"{os.cpu_count()} CPU cores shared by client, server and PostgreSQL",
        flush=True,
    )
    peer_python = None
    if args.peer_backend is not None:  # installed first: a peer that cannot run fails early
        print(f"Django peer: {args.peer_backend}", flush=True)
        peer_python = ensure_venv(args.peer_backend)
    else:
        print(NO_PEER, flush=True)
    tally = Tally()
    phases = make_phases(n, args.think_ms)
    keep_alive = keepalive_seconds(args.think_ms)
    with contextlib.ExitStack() as stack:
        setup: Setup = set_up(stack, admin_url, n, args.seed, QuizStudent)
        for student in setup.students:
            student.keepalive_seconds = keep_alive - 5
        app = lms_api_server(setup, args.workers, keep_alive)
        with serving(app):
            print(f"serving lms_api: {app.describe()}", flush=True)
            quiz = publish_quiz(app.url, setup.platform.admin_token)
            print(f"quiz {quiz.id} published: {QUESTIONS} questions, no track", flush=True)
            students = cast(list[QuizStudent], setup.students)
            uvloop.run(
                run_server_phases(
                    app,
                    setup.students,
                    phases,
                    args.warmup,
                    args.duration,
                    f"{API}/quizzes/{quiz.id}",
                    partial(run_quiz_phase, quiz=quiz, tally=tally),
                    before=partial(stagger, students, quiz, tally),
                    after=partial(drain, students, quiz, tally),
                )
            )
            install_signal_handlers()  # the event loop put its own back
        print("checking the database ...", flush=True)
        db = check_database(setup.database_url, quiz, tally)
    print("cleaned up: server stopped, database dropped, hub stopped.", flush=True)

    peer = None
    if peer_python is not None:
        peer = run_peer(args, args.peer_backend, peer_python, admin_url, keep_alive)
    table, data = render(phases, n, tally, db, peer=peer)
    return print_report(table, data, args)


def run_peer(
    args: argparse.Namespace, backend: Path, python: Path, admin_url: URL, keep_alive: int
) -> PeerRun:
    """The same phases against the Django peer (`bench.peer_django`): its own database,
    seeded through its ORM, served by gunicorn; the same students' names and seeds."""
    n = args.students
    tally = PeerTally()
    phases = make_phases(n, args.think_ms)
    names = [f"bench-student-{i:03d}" for i in range(1, n + 1)]
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(scratch())
        server_url = admin_url.render_as_string(hide_password=False)
        database_url = stack.enter_context(
            fresh_postgres_database(server_url, "apranova_bench_peer")
        )
        env = peer_env(backend, database_url, python)
        print("the Django peer: migrating its database ...", flush=True)
        migrate(python, backend, env)
        print(f"the Django peer: seeding the quiz and {n} students (its ORM) ...", flush=True)
        seeded = seed(python, backend, env, quiz_body(), names, tmp)
        quiz = QuizKey.from_detail(seeded["quiz"])
        students = [
            PeerStudent(name, token, args.seed * 100_003 + i)
            for i, (name, token) in enumerate(seeded["students"])
        ]
        for student in students:
            student.keepalive_seconds = keep_alive - 5
        server = peer_server(python, backend, env, tmp / "peer.log", keep_alive, quiz.id)
        with serving(server):
            print(f"serving the Django peer: {server.describe()}", flush=True)
            uvloop.run(
                run_server_phases(
                    server,
                    cast(list, students),
                    phases,
                    args.warmup,
                    args.duration,
                    f"{PEER_API}/quizzes/{quiz.id}/",
                    partial(run_quiz_phase, quiz=quiz, tally=tally),
                    before=partial(stagger, students, quiz, tally),
                    after=partial(drain, students, quiz, tally),
                )
            )
            install_signal_handlers()
        print("checking the peer's database ...", flush=True)
        db = check_peer_database(database_url, quiz.id, tally)
    print("cleaned up: the peer's server stopped, its database dropped.", flush=True)
    served = f"gunicorn, {PEER_WORKERS} workers x {PEER_THREADS} threads (gthread)"
    return PeerRun(phases, tally, db, served)


if __name__ == "__main__":
    sys.exit(main())
