"""The Django peer of the quiz-flow load run: the seed's public backend, served as it ships.

`python -m bench.quiz_load --peer PATH` (`make bench-quiz PEER=PATH`) runs the quiz flow of
`bench.quiz_load` against ApraNova and then, with the same client, students, seeds and phases,
against a local checkout of shanmukh-007/ApranovaPro1 (Django 5 + DRF), and prints both. The
peer's code stays where it is, outside this repository; this module:

1. finds its Django project (PATH is the checkout or its `backend/`: `manage.py`,
   `core/settings.py` and the `quizzes` app);
2. makes a virtualenv for it outside the repository, `~/.cache/apranova-bench/
   peer-venv-<hash>` (`$XDG_CACHE_HOME` if set), reused while its `requirements.txt` and the
   Python are the same: `pip install -r` of its requirements (`DROPPED` says what is left out
   and why; nothing is, on this machine) plus gunicorn and psycopg2-binary if missing;
3. creates a fresh PostgreSQL database (dropped at the end), runs its migrations, and seeds
   through its ORM (`bench/peer_seed.py`, run with its Python) the very quiz ApraNova's run
   writes (`bench.quiz_load.quiz_body()`: 10 questions, SINGLE and MULTIPLE alternately, 4
   answers each) and the N students, each with a simplejwt access token (the Bearer token the
   peer's own frontend sends; valid 60 minutes, its setting, longer than any run);
4. serves it with gunicorn, `PEER_WORKERS` workers of `PEER_THREADS` threads (the gthread
   worker of the peer's Dockerfile, which keeps connections alive like uvicorn does), on
   127.0.0.1 and a free port, in a process group of its own so `bench.api_load`'s CPU meter
   counts it as "server"; no access log (ApraNova's run has none either);
5. its settings come from environment variables only (`peer_env`): DEBUG off, a throwaway
   SECRET_KEY, ALLOWED_HOSTS 127.0.0.1, DATABASE_URL, and SECURE_SSL_REDIRECT off (with
   DEBUG off the peer redirects every http request to https, which a loopback run cannot
   follow). Nothing else is changed: its Stripe, GitHub, Slack, Google keys stay empty as
   their defaults are, no Redis or Celery is configured by its settings, its middleware,
   authentication classes (DRF token, then simplejwt) and logging are its own. (Its settings
   create the empty folders `backend/APROVOVA/...` in the checkout at import, as they always
   do.)

The flow, step for step against ApraNova's (`bench.quiz_load`), on the peer's real routes,
the ones its frontend (`frontend/lib/quiz-api.ts`) calls:

- start = `POST /api/quiz/quizzes/{id}/start/` (201, a new IN_PROGRESS attempt, no questions
  in the answer) then `GET /api/quiz/quizzes/{id}/` (the questions and answers to show): two
  HTTP requests timed as one step, since ApraNova's start returns the attempt with its
  questions in one. So a flow is 12 steps on both sides, 13 HTTP requests on the peer's;
- each of the 10 answer saves = `POST /api/quiz/attempts/{id}/answer/` with `{"question_id",
  "answer_ids"}` (the frontend's autosave), checked: 200, the question it stored, and that
  its `is_correct` is what the chosen answers earn (the answer ids are write-only in its
  serializer, so the database check below counts them);
- submit = `POST /api/quiz/attempts/{id}/submit/`, checked: 200, SUBMITTED, and its score
  (percent of the questions answered right) equal to what the answers earned.

The peer has no per-attempt shuffle, no resume of an open attempt and no answer event log;
its database check (`check_peer_database`) is: submitted attempts == flows completed and none
left open, its `StudentAnswer` rows == answers saved, the selected answers (its many-to-many
rows) == options sent, and the total score == what the answers earned.
"""

import contextlib
import hashlib
import json
import math
import os
import re
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from bench.api_load import Server, Student, call

if TYPE_CHECKING:
    from bench.quiz_load import QuizKey

PEER_API = "/api/quiz"
PEER_WORKERS = 2
PEER_THREADS = 2
SEED_SCRIPT = Path(__file__).with_name("peer_seed.py")
# Requirements left out of the peer's requirements.txt, with why (name -> reason); the
# platform marker already skips pywin32 off Windows.
DROPPED: dict[str, str] = {}
# What the run needs beyond the requirements, when they do not already name it.
EXTRAS = {"gunicorn": "gunicorn", "psycopg2-binary": "psycopg2-binary"}
# Environment variables the peer's settings read that this run sets.
RUN_SETTINGS = ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "SECURE_SSL_REDIRECT")


class PeerError(Exception):
    """The peer cannot be used (bad path, failed install, migrate or seed): a clear message."""


# --- the checkout --------------------------------------------------------------------------
def find_backend(path: str | Path) -> Path:
    """The peer's Django project folder: PATH itself or PATH/backend, the one that holds
    `manage.py`, `core/settings.py` and the `quizzes` app."""
    root = Path(path).expanduser()
    if not root.exists():
        raise PeerError(f"--peer {path}: no such file or folder")
    if not root.is_dir():
        raise PeerError(f"--peer {path}: not a folder (give the ApranovaPro1 checkout)")
    for candidate in (root, root / "backend"):
        needed = [candidate / "manage.py", candidate / "core" / "settings.py"]
        needed.append(candidate / "quizzes" / "views.py")
        if all(p.is_file() for p in needed):
            if not (candidate / "requirements.txt").is_file():
                raise PeerError(f"--peer {path}: {candidate} has no requirements.txt")
            return candidate.resolve()
    raise PeerError(
        f"--peer {path}: not a checkout of the Django peer (shanmukh-007/ApranovaPro1): "
        "neither it nor its backend/ holds manage.py, core/settings.py and quizzes/"
    )


# --- the virtualenv ------------------------------------------------------------------------
def requirement_name(line: str) -> str:
    """The normalized project name of a requirements line ('' for none)."""
    line = line.split("#", 1)[0].strip()
    if not line or line.startswith("-"):
        return ""
    found = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", line)
    return re.sub(r"[-_.]+", "-", found.group(0)).lower() if found else ""


def planned_requirements(requirements: str) -> tuple[list[str], list[tuple[str, str]]]:
    """(lines to install, [(line left out, why)]): the peer's lines without `DROPPED`, plus
    `EXTRAS` it does not name."""
    kept, dropped, names = [], [], set()
    for raw in requirements.splitlines():
        line = raw.strip()
        name = requirement_name(line)
        if not name:
            continue
        if name in DROPPED:
            dropped.append((line, DROPPED[name]))
            continue
        names.add(name)
        kept.append(line)
    kept += [spec for name, spec in EXTRAS.items() if name not in names]
    return kept, dropped


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "apranova-bench"


def venv_path(backend: Path, python: str = sys.executable) -> Path:
    """Where the peer's virtualenv lives: one per requirements text and Python version."""
    requirements = (backend / "requirements.txt").read_text()
    kept, _ = planned_requirements(requirements)
    version = ".".join(map(str, sys.version_info[:3])) if python == sys.executable else python
    digest = hashlib.sha256("\n".join([version, *kept]).encode()).hexdigest()[:12]
    return cache_dir() / f"peer-venv-{digest}"


def ensure_venv(backend: Path) -> Path:
    """The peer's virtualenv Python, made (and its requirements installed) unless a complete
    one for these requirements is there."""
    venv = venv_path(backend)
    python = venv / "bin" / "python"
    kept, dropped = planned_requirements((backend / "requirements.txt").read_text())
    for line, why in dropped:
        print(f"  peer requirement left out: {line} ({why})", flush=True)
    if (venv / ".complete").exists():
        print(f"peer virtualenv: {venv} (reused)", flush=True)
        return python
    print(f"peer virtualenv: making {venv} (pip install, a few minutes) ...", flush=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    wanted = venv / "requirements.txt"
    wanted.write_text("\n".join(kept) + "\n")
    pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    done = subprocess.run(
        [*pip, "-r", str(wanted)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-30:])
        raise PeerError(f"installing the peer's requirements failed:\n{tail}")
    (venv / ".complete").write_text("\n".join(kept) + "\n")
    return python


# --- settings, database, seed --------------------------------------------------------------
def django_database_url(url: str | URL) -> str:
    """A SQLAlchemy URL as the peer's dj-database-url reads it (postgres://...)."""
    return make_url(url).set(drivername="postgres").render_as_string(hide_password=False)


def peer_env(backend: Path, database_url: str, python: Path) -> dict[str, str]:
    """The peer's environment: this one without ApraNova's or a virtualenv's settings, its
    own Python first on PATH, and the settings of `RUN_SETTINGS`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("APRANOVA_", "DJANGO_", "PYTHON", "VIRTUAL_ENV"))
    }
    env.update(
        PATH=f"{python.parent}{os.pathsep}{env.get('PATH', '')}",
        PYTHONPATH=str(backend),
        PYTHONUNBUFFERED="1",
        DJANGO_SETTINGS_MODULE="core.settings",
        DEBUG="False",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=django_database_url(database_url),
        SECURE_SSL_REDIRECT="False",
    )
    return env


def run_peer(python: Path, backend: Path, env: dict[str, str], *args: str, what: str) -> None:
    done = subprocess.run(
        [str(python), *args], cwd=backend, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-30:])
        raise PeerError(f"{what} failed:\n{tail}")


def migrate(python: Path, backend: Path, env: dict[str, str]) -> None:
    run_peer(python, backend, env, "manage.py", "migrate", "--noinput", what="peer migrate")


def seed(
    python: Path, backend: Path, env: dict[str, str], quiz: dict, names: list[str], tmp: Path
) -> dict:
    """The quiz and students, made by `bench/peer_seed.py` through the peer's ORM."""
    spec, out = tmp / "peer-seed-spec.json", tmp / "peer-seed.json"
    spec.write_text(json.dumps({"quiz": quiz, "students": names}))
    run_peer(python, backend, env, str(SEED_SCRIPT), str(spec), str(out), what="peer seed")
    return json.loads(out.read_text())


# --- the server ----------------------------------------------------------------------------
def gunicorn_command(
    python: Path, port: int, workers: int, threads: int, keep_alive: int | None
) -> list[str]:
    return [
        str(python.parent / "gunicorn"),
        "core.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        "--keep-alive",
        str(keep_alive if keep_alive is not None else 5),
        "--timeout",
        "120",
        "--log-level",
        "info",  # lifecycle lines (no access log): used to see every worker booted
    ]


@dataclass
class PeerServer(Server):
    """The peer under gunicorn, started, stopped and metered as `bench.api_load.Server`."""

    python: Path = Path(sys.executable)
    threads: int = PEER_THREADS
    ready_line: str = "Booting worker with pid"

    def command(self) -> list[str]:
        return gunicorn_command(self.python, self.port, self.workers, self.threads, self.keep_alive)

    def describe(self) -> str:
        return " ".join(["gunicorn", *self.command()[1:]])


def peer_server(
    python: Path, backend: Path, env: dict[str, str], log: Path, keep_alive: int, quiz_id: int
) -> PeerServer:
    return PeerServer(
        "django peer",
        "core.wsgi:application",
        env,
        PEER_WORKERS,
        log,
        f"{PEER_API}/quizzes/{quiz_id}/",  # answers 401 without a token: the app is up
        keep_alive=keep_alive,
        cwd=backend,
        ready_status=401,
        python=python,
    )


# --- the students --------------------------------------------------------------------------
@dataclass
class PeerTally:
    """As `bench.quiz_load.Tally`, plus the answers (options) the saves selected."""

    started: int = 0
    answered: int = 0
    submitted: int = 0
    score: float = 0.0  # percent, as the peer scores
    selected: int = 0  # options sent with the answers saved
    errors: int = 0
    error_examples: list[str] = field(default_factory=list)

    def error(self, example: str) -> None:
        self.errors += 1
        if len(self.error_examples) < 10:
            self.error_examples.append(example)


class PeerStudent(Student):
    """A student taking the quiz on the peer's routes, in a loop (see the module doc)."""

    def __init__(self, name: str, token: str, seed: int) -> None:
        super().__init__(name, token, seed)
        self.attempt_id: int | None = None
        self.questions: list[int] = []  # as the quiz detail lists them
        self.loaded = False  # the attempt's questions were read
        self.answered = 0
        self.earned = 0.0  # questions answered right

    @property
    def in_flow(self) -> bool:
        return self.attempt_id is not None

    def skip_to_submit(self) -> None:
        self.answered = len(self.questions)

    def _end_flow(self) -> None:
        self.attempt_id, self.questions, self.loaded, self.answered = None, [], False, 0
        self.earned = 0.0

    async def step(self, quiz: "QuizKey", tally: PeerTally) -> tuple[str, int, str]:
        step = "start" if self.attempt_id is None or not self.loaded else "answer"
        if step == "answer" and self.answered >= len(self.questions):
            step = "submit"
        try:
            return await self._step(quiz, tally)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            return step, 0, f"{step}: unexpected answer ({exc.__class__.__name__}: {exc})"

    async def _step(self, quiz: "QuizKey", tally: PeerTally) -> tuple[str, int, str]:
        if self.attempt_id is None:
            path = f"{PEER_API}/quizzes/{quiz.id}/start/"
            status, body, error = await call(self, "POST", path)
            if error:
                return "start", status, error
            attempt = json.loads(body)
            if status != 201 or attempt.get("status") != "IN_PROGRESS":
                return "start", status, f"POST {path}: {status} {attempt.get('status')}"
            self.attempt_id, self.loaded = attempt["id"], False
            tally.started += 1
        if not self.loaded:  # the questions to show: the second request of the start
            path = f"{PEER_API}/quizzes/{quiz.id}/"
            status, body, error = await call(self, "GET", path)
            if error:
                return "start", status, error
            shown = json.loads(body)["questions"]
            asked = [q["id"] for q in shown]
            if sorted(asked) != sorted(quiz.types):
                return "start", status, f"GET {path}: questions {asked}"
            for q in shown:
                if sorted(a["id"] for a in q["answers"]) != quiz.options[q["id"]]:
                    return "start", status, f"GET {path}: question {q['id']} has other answers"
            self.questions, self.loaded, self.answered, self.earned = asked, True, 0, 0.0
            return "start", status, ""
        if self.answered < len(self.questions):
            question_id = self.questions[self.answered]
            chosen, earns = quiz.choose(question_id, self.rng)
            path = f"{PEER_API}/attempts/{self.attempt_id}/answer/"
            body_sent = {"question_id": question_id, "answer_ids": chosen}
            status, body, error = await call(self, "POST", path, body_sent)
            if not error:
                saved = json.loads(body)
                if saved.get("question") != question_id or saved.get("is_correct") != bool(earns):
                    error = (
                        f"POST {path}: stored question {saved.get('question')} correct "
                        f"{saved.get('is_correct')}, sent {question_id} {chosen} (right: "
                        f"{bool(earns)})"
                    )
            if not error:
                self.answered += 1
                self.earned += bool(earns)
                tally.answered += 1
                tally.selected += len(chosen)
            return "answer", status, error
        path = f"{PEER_API}/attempts/{self.attempt_id}/submit/"
        status, body, error = await call(self, "POST", path)
        if not error:
            graded = json.loads(body)
            expected = 100.0 * self.earned / len(quiz.types)
            score = graded.get("score") or 0.0
            if graded.get("status") != "SUBMITTED" or not math.isclose(score, expected):
                error = (
                    f"POST {path}: {graded.get('status')} with score {graded.get('score')}, "
                    f"expected SUBMITTED with {expected:g}"
                )
            tally.submitted += 1
            tally.score += score
            self._end_flow()
        return "submit", status, error


# --- database check ------------------------------------------------------------------------
PEER_BY_STATUS = (
    "SELECT status, count(*) FROM quizzes_quizattempt WHERE quiz_id = :quiz GROUP BY status"
)
PEER_ANSWERS = """
    SELECT count(DISTINCT s.id), count(m.id) FROM quizzes_studentanswer s
    JOIN quizzes_quizattempt a ON a.id = s.attempt_id
    LEFT JOIN quizzes_studentanswer_selected_answers m ON m.studentanswer_id = s.id
    WHERE a.quiz_id = :quiz AND a.status = 'SUBMITTED'"""
PEER_SCORE = """
    SELECT coalesce(sum(score), 0) FROM quizzes_quizattempt
    WHERE quiz_id = :quiz AND status = 'SUBMITTED'"""


def check_peer_database(database_url: str, quiz_id: int, tally: PeerTally) -> list:
    engine = create_engine(make_url(database_url).set(drivername="postgresql+psycopg"))
    try:
        with engine.connect() as db:
            by_status = dict(db.execute(text(PEER_BY_STATUS), {"quiz": quiz_id}).all())
            answers, selected = db.execute(text(PEER_ANSWERS), {"quiz": quiz_id}).one()
            score = db.execute(text(PEER_SCORE), {"quiz": quiz_id}).scalar_one()
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
            f"answers of submitted attempts {answers} == answers saved {tally.answered}; "
            f"answers selected {selected} == options sent {tally.selected}",
            answers == tally.answered and selected == tally.selected,
        ),
        (
            f"total score {score:g} == what the answers earned {tally.score:g} (percent)",
            math.isclose(score, tally.score),
        ),
    ]


@contextlib.contextmanager
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="apranova-bench-peer-") as tmp:
        yield Path(tmp)
