"""The synthetic school (`apranova-lms seed-synthetic`), on SQLite and PostgreSQL: the same
seed gives the same rows, the LMS's own invariants hold, the activity Parquet keeps the
landing contract, the LMS keeps working afterwards, and a second seed is refused."""

import asyncio
import contextlib
import itertools
import json
import os
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bench.harness.databases import fresh_postgres_database
from lms_api.class_sessions import service
from lms_api.cli import main
from lms_api.database import Database, sync_url
from lms_api.demo import seed_demo
from lms_api.enrollments.models import Enrollment, EnrollmentEvent
from lms_api.migrate import upgrade
from lms_api.payments.models import Payment
from lms_api.people.models import Person, TrainerAssignment
from lms_api.principal import Principal, Role
from lms_api.progress.models import StepCompletion
from lms_api.quizzes.grading import mark_answer
from lms_api.quizzes.models import QuizAttempt, StudentAnswer
from lms_api.synthetic import (
    SyntheticDataExists,
    SyntheticSummary,
    default_activity_dir,
    seed_synthetic,
)
from lms_api.synthetic.seed import TABLES
from tests.conftest import empty_database

pytestmark = pytest.mark.dialects

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
SYNTHETIC = re.compile(r"^(student\d{6}|trainer\d{4})$")
SMALL = {"students": 60, "quizzes": 4, "seed": 11}


def seed(url: str, folder: Path, demo: bool = True, **overrides) -> SyntheticSummary:
    upgrade(url)
    if demo:
        seed_demo(url)
    options = {**SMALL, "activity_dir": folder, "now": NOW, **overrides}
    return seed_synthetic(url, **options)


def rows(url: str, sql: str) -> list[tuple]:
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as connection:
            return [tuple(r) for r in connection.execute(text(sql))]
    finally:
        engine.dispose()


def dump(url: str) -> dict[str, list[tuple]]:
    """Every table the seed writes, in id order, with JSON read as values."""

    def plain(value):
        if isinstance(value, str) and value.startswith(("[", "{")):
            return json.loads(value)
        if isinstance(value, datetime):  # SQLite hands back naive UTC
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value

    return {
        table: [tuple(plain(v) for v in row) for row in rows(url, f"SELECT * FROM {table}")]
        for table in TABLES
    }


@contextlib.contextmanager
def another_database(url: str, tmp_path: Path):
    """A second fresh database on the same backend as `url`."""
    if make_url(url).get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'other.db'}"
        return
    with fresh_postgres_database(os.environ["APRANOVA_TEST_POSTGRES_URL"]) as other:
        yield other


@pytest.fixture
def school(database_url, tmp_path) -> SyntheticSummary:
    """A school of its own, for a test that writes to it."""
    return seed(database_url, tmp_path / "landing")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_school(request, tmp_path_factory) -> Iterator[tuple[str, SyntheticSummary]]:
    """One school per backend for the tests that only read it: seeding is most of their time."""
    folder = tmp_path_factory.mktemp(f"school-{request.param}")
    with empty_database(request.param, folder) as url:
        yield url, seed(url, folder / "landing")


# --- determinism -----------------------------------------------------------------------------
def test_same_seed_gives_the_same_school(database_url, tmp_path):
    first = seed(database_url, tmp_path / "one", demo=False)
    with another_database(database_url, tmp_path) as other:
        second = seed(other, tmp_path / "two", demo=False)
        assert dump(database_url) == dump(other)
    assert first.rows == second.rows
    assert first.broken_questions == second.broken_questions
    one = pq.read_table(first.activity_files[0])
    two = pq.read_table(second.activity_files[0])
    assert one.num_rows > 0 and one.equals(two)


def test_another_seed_gives_another_school(tmp_path):
    one = seed(f"sqlite:///{tmp_path / 'a.db'}", tmp_path / "a", demo=False)
    two = seed(f"sqlite:///{tmp_path / 'b.db'}", tmp_path / "b", demo=False, seed=12)
    assert dump(f"sqlite:///{tmp_path / 'a.db'}") != dump(f"sqlite:///{tmp_path / 'b.db'}")
    assert one.rows != two.rows or one.broken_questions != two.broken_questions


# --- the LMS's invariants --------------------------------------------------------------------
def test_counts_and_curriculum(shared_school):
    database_url, school = shared_school
    for table in TABLES:
        have = rows(database_url, f"SELECT count(*) FROM {table}")[0][0]
        assert have >= school.rows[table], table
    # as few trainers as the cap of 20 students each allows (60 / 20, and one more for a
    # track whose students do not fill whole trainers)
    assert 60 + 3 <= school.rows["people"] <= 60 + 3 + 2
    assert school.rows["quiz_answers"] > 0 and school.rows["hub_activity"] > 0
    # the demo's DP and FSD are reused, DE is created with projects, steps and deliverables
    tracks = dict(rows(database_url, "SELECT code, id FROM tracks"))
    assert set(tracks) == {"DP", "FSD", "DE"}
    assert school.rows["tracks"] == 1
    de = tracks["DE"]
    assert rows(database_url, f"SELECT count(*) FROM projects WHERE track_id = {de}")[0][0] == 4
    steps = rows(
        database_url,
        f'SELECT p.number, s."order" FROM project_steps s JOIN projects p ON p.id = s.project_id '
        f'WHERE p.track_id = {de} ORDER BY p.number, s."order"',
    )
    by_project = defaultdict(list)
    for number, order in steps:
        by_project[number].append(order)
    assert all(orders == list(range(1, len(orders) + 1)) for orders in by_project.values())
    assert (
        rows(
            database_url,
            "SELECT count(*) FROM deliverables d JOIN projects p ON p.id = d.project_id "
            f"WHERE p.track_id = {de}",
        )[0][0]
        >= 4
    )
    assert set(school.broken_questions.values()) == {
        "miskeyed",
        "attractive_distractor",
        "no_discrimination",
    }


def test_attempts_and_answers_follow_the_grading_rules(shared_school):
    database_url, _ = shared_school
    questions = {
        qid: (quiz, kind, points)
        for qid, quiz, kind, points in rows(
            database_url, "SELECT id, quiz_id, type, points FROM quiz_questions"
        )
    }
    options = defaultdict(dict)
    for oid, qid, correct in rows(
        database_url, "SELECT id, question_id, is_correct FROM quiz_options"
    ):
        options[qid][oid] = bool(correct)
    quizzes = {
        qid: (scoring, pass_mark, limit, max_attempts)
        for qid, scoring, pass_mark, limit, max_attempts in rows(
            database_url,
            "SELECT id, multiple_scoring, pass_mark, time_limit_seconds, max_attempts "
            "FROM quizzes WHERE created_by LIKE 'trainer0%'",
        )
    }
    answers = defaultdict(list)
    for attempt, qid, chosen, correct, score, answered_at in rows(
        database_url,
        "SELECT attempt_id, question_id, selected_option_ids, is_correct, score, answered_at "
        "FROM quiz_answers",
    ):
        answers[attempt].append((qid, _json(chosen), bool(correct), score, _utc(answered_at)))
    attempts = rows(
        database_url,
        "SELECT id, quiz_id, person_id, number, status, started_at, deadline_at, submitted_at,"
        " score, max_score, passed, question_order, option_order, revision FROM quiz_attempts",
    )
    assert attempts and len(answers) > 0
    by_student = defaultdict(list)
    statuses = Counter()
    for (
        attempt, quiz, person, number, status, started, deadline, submitted, score, maximum,
        passed, question_order, option_order, revision,
    ) in attempts:  # fmt: skip
        scoring, pass_mark, limit, max_attempts = quizzes[quiz]
        started, submitted = _utc(started), _utc(submitted)
        statuses[status] += 1
        assert status in ("SUBMITTED", "EXPIRED")
        assert submitted > started
        if limit:
            deadline = _utc(deadline)
            assert deadline == started + timedelta(seconds=limit)
            assert submitted <= deadline
            assert (status == "EXPIRED") == (submitted == deadline)
        else:
            assert deadline is None and status == "SUBMITTED"
        mine = sorted(q for q, (z, _, _) in questions.items() if z == quiz)
        order, shown = _json(question_order), _json(option_order)
        assert sorted(order) == mine and list(shown) == [str(q) for q in order]
        for qid in order:
            assert sorted(shown[str(qid)]) == sorted(options[qid])
        total = 0.0
        for qid, chosen, correct, mark, answered_at in answers[attempt]:
            assert questions[qid][0] == quiz
            assert chosen and set(chosen) <= set(options[qid]) and chosen == sorted(chosen)
            kind, points = questions[qid][1], questions[qid][2]
            if kind == "SINGLE":
                assert len(chosen) == 1
            right = [o for o, ok in options[qid].items() if ok]
            expected = mark_answer(kind, points, right, list(options[qid]), chosen, scoring)
            assert (correct, mark) == (expected.correct, expected.score)
            assert started <= answered_at <= submitted
            total += mark
        assert score == round(total, 6) and score <= maximum
        assert maximum == sum(p for z, _, p in questions.values() if z == quiz)
        assert bool(passed) == (score / maximum >= pass_mark)
        assert revision >= len(answers[attempt])
        by_student[(quiz, person)].append((number, started, submitted))
        assert max_attempts is None or number <= max_attempts
    for runs in by_student.values():
        runs.sort()
        assert [n for n, _, _ in runs] == list(range(1, len(runs) + 1))
        for (_, _, ended), (_, began, _) in itertools.pairwise(runs):
            assert began > ended  # a later attempt starts after the earlier one ended
    assert statuses["SUBMITTED"] > 0


def test_people_enrollments_payments_and_progress_are_consistent(shared_school):
    database_url, _ = shared_school
    people = dict(rows(database_url, "SELECT id, username FROM people"))
    students = {i for i, u in people.items() if u.startswith("student")}
    trainers = {i for i, u in people.items() if SYNTHETIC.match(u) and u.startswith("trainer")}
    assert len(students) == 60 and 3 <= len(trainers) <= 5
    assignments = rows(database_url, "SELECT trainer_id, student_id FROM trainer_assignments")
    mine = [(t, s) for t, s in assignments if s in students]
    assert sorted(s for _, s in mine) == sorted(students)  # exactly one trainer each
    per_trainer = Counter(t for t, _ in assignments)
    for trainer, count in rows(database_url, "SELECT id, assigned_students FROM people"):
        assert count == per_trainer.get(trainer, 0), people[trainer]
        assert count <= 20, people[trainer]  # the LMS's cap (Settings.max_students_per_trainer)

    enrollments = {
        eid: (person, track, status, source)
        for eid, person, track, status, source in rows(
            database_url, "SELECT id, person_id, track_id, status, source FROM enrollments"
        )
    }
    assert students <= {p for p, *_ in enrollments.values()}
    assert len({(p, t) for p, t, _, _ in enrollments.values()}) == len(enrollments)
    mix = Counter(status for person, _, status, _ in enrollments.values() if person in students)
    assert mix["active"] > len(students) / 2
    last_event = {}
    for eid, to_status in rows(
        database_url, "SELECT enrollment_id, to_status FROM enrollment_events ORDER BY id"
    ):
        last_event[eid] = to_status
    for eid, (person, _, status, _) in enrollments.items():
        if person in students:
            assert last_event[eid] == status

    payments = defaultdict(list)
    for person, track, status, paid_at, refunded_at, cents, amount in rows(
        database_url,
        "SELECT person_id, track_id, status, paid_at, refunded_at, refunded_cents, amount_cents "
        "FROM payments",
    ):
        payments[(person, track)].append((status, paid_at, refunded_at, cents, amount))
    for person, track, status, source in enrollments.values():
        if person not in students:
            continue
        made = payments.get((person, track), [])
        if source == "grant":
            assert made == []
        if status == "refunded":
            assert [p[0] for p in made if p[0] != "failed"] == ["refunded"]
            refund = next(p for p in made if p[0] == "refunded")
            assert refund[1] is not None and refund[2] is not None and 0 < refund[3] <= refund[4]
        if status == "active" and source == "payment":
            assert [p[0] for p in made if p[0] != "failed"] == ["succeeded"]
        if status == "pending_payment":
            assert {p[0] for p in made} <= {"pending", "failed"}
        for paid_status, paid_at, refunded_at, _, _ in made:
            assert (paid_at is not None) == (paid_status in ("succeeded", "refunded"))
            assert (refunded_at is not None) == (paid_status == "refunded")

    # steps done only in tracks the student was active in
    learned = {
        (p, t)
        for p, t, status, _ in enrollments.values()
        if status in ("active", "cancelled", "refunded")
    }
    done = rows(
        database_url,
        "SELECT c.person_id, p.track_id FROM step_completions c "
        "JOIN project_steps s ON s.id = c.step_id JOIN projects p ON p.id = s.project_id",
    )
    assert done and all((person, track) in learned for person, track in done)
    handed_in = rows(
        database_url,
        "SELECT s.person_id, p.track_id, s.current_version, count(v.id) FROM submissions s "
        "JOIN deliverables d ON d.id = s.deliverable_id JOIN projects p ON p.id = d.project_id "
        "JOIN submission_versions v ON v.submission_id = s.id "
        "GROUP BY s.id, s.person_id, p.track_id, s.current_version",
    )
    assert handed_in
    for person, track, version, versions in handed_in:
        assert (person, track) in learned and version == versions


def test_foreign_keys_hold_and_are_back(shared_school, tmp_path):
    """PostgreSQL loads with the foreign keys dropped, then adds them back (checking every
    row): the schema ends as the migrations made it."""
    database_url, _ = shared_school
    if make_url(database_url).get_backend_name() == "sqlite":
        assert rows(database_url, "PRAGMA foreign_key_check") == []
        return
    keys = (
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
        "FROM pg_constraint WHERE contype = 'f' ORDER BY 1, 2"
    )
    with another_database(database_url, tmp_path) as fresh:
        upgrade(fresh)
        assert rows(database_url, keys) == rows(fresh, keys)
    assert any(table == "quiz_answers" for table, _, _ in rows(database_url, keys))


def test_a_larger_school_has_every_case_and_the_broken_items_show(tmp_path):
    """Expired attempts, partial marks, retakes, blanks, every enrollment, payment and review
    status; and the items broken on purpose behave as announced (item-rest correlations)."""
    url = f"sqlite:///{tmp_path / 'lms.db'}"
    summary = seed(url, tmp_path / "landing", students=1500, quizzes=3, seed=3)

    def count(sql: str) -> int:
        return rows(url, sql)[0][0]

    assert count("SELECT count(*) FROM quiz_attempts WHERE status = 'EXPIRED'") > 0
    assert count("SELECT max(number) FROM quiz_attempts") == 3
    assert count("SELECT count(*) FROM quiz_answers WHERE changed_count > 0") > 0
    partial = (
        "SELECT count(*) FROM quiz_answers a JOIN quiz_questions q ON q.id = a.question_id "
        "WHERE a.score > 0 AND a.score < q.points"
    )
    assert count(partial) > 0
    blanks = (
        "SELECT count(*) FROM quiz_attempts t WHERE (SELECT count(*) FROM quiz_answers a "
        "WHERE a.attempt_id = t.id) < (SELECT count(*) FROM quiz_questions q "
        "WHERE q.quiz_id = t.quiz_id)"
    )
    assert count(blanks) > 0
    statuses = {s for (s,) in rows(url, "SELECT DISTINCT status FROM enrollments")}
    assert statuses == {"active", "pending_payment", "cancelled", "refunded"}
    paid = {s for (s,) in rows(url, "SELECT DISTINCT status FROM payments")}
    assert paid == {"pending", "succeeded", "failed", "refunded"}
    reviewed = {s for (s,) in rows(url, "SELECT DISTINCT status FROM submissions")}
    assert reviewed == {"submitted", "changes_requested", "approved"}

    marks = defaultdict(dict)
    for attempt, question, score in rows(
        url, "SELECT attempt_id, question_id, score FROM quiz_answers"
    ):
        marks[attempt][question] = score
    totals = dict(rows(url, "SELECT id, score FROM quiz_attempts"))
    quiz_of = dict(rows(url, "SELECT id, quiz_id FROM quiz_questions"))
    attempts_of = defaultdict(list)
    for attempt, quiz in rows(url, "SELECT id, quiz_id FROM quiz_attempts"):
        attempts_of[quiz].append(attempt)

    def item_rest(question: int) -> float:
        mine = attempts_of[quiz_of[question]]
        item = [marks[a].get(question, 0.0) for a in mine]
        rest = [totals[a] - marks[a].get(question, 0.0) for a in mine]
        return statistics.correlation(item, rest)

    broken = {kind: q for q, kind in summary.broken_questions.items()}
    assert item_rest(broken["miskeyed"]) < -0.1
    assert abs(item_rest(broken["no_discrimination"])) < 0.1
    fair = [q for q in quiz_of if quiz_of[q] in attempts_of and q not in summary.broken_questions]
    assert statistics.mean(item_rest(q) for q in fair) > 0.2
    tricky = broken["attractive_distractor"]
    picked = rows(url, f"SELECT selected_option_ids FROM quiz_answers WHERE question_id = {tricky}")
    chosen = Counter(json.loads(c)[0] for (c,) in picked)
    key = rows(url, f"SELECT id FROM quiz_options WHERE question_id = {tricky} AND is_correct")
    assert chosen.most_common(1)[0][0] != key[0][0]


def test_dropout_paths_are_planted(tmp_path):
    """Faders thin out then stop, returners take a break and come back, some stop right after
    failing a quiz, steady students keep going: what the at-risk backtest must tell apart."""
    url = f"sqlite:///{tmp_path / 'lms.db'}"
    summary = seed(url, tmp_path / "landing", demo=False, students=600, quizzes=4, days=120)
    everyone = summary.learners.to_pylist()
    learners = [r for r in everyone if r["primary"]]  # the ones the workspace activity follows
    assert {r["path"] for r in everyone} == {
        "steady", "fader", "stopper", "returner", "failed_quiz"
    }  # fmt: skip
    active = defaultdict(list)  # username -> workspace activity instants
    table = pq.read_table(summary.activity_files[0]).to_pydict()
    for user, last in zip(table["username"], table["last_activity"], strict=True):
        active[user].append(last)

    def days_active(user, start, end) -> int:
        return len({t.date() for t in active.get(user, ()) if start <= t < end})

    faders = [
        r
        for r in learners
        if r["path"] == "fader" and r["stopped"] - r["fade_start"] > timedelta(days=14)
    ]
    early = sum(
        days_active(
            r["username"], r["fade_start"], r["fade_start"] + (r["stopped"] - r["fade_start"]) / 2
        )
        for r in faders
    )
    late = sum(
        days_active(
            r["username"], r["fade_start"] + (r["stopped"] - r["fade_start"]) / 2, r["stopped"]
        )
        for r in faders
    )
    assert faders and late < early / 2  # thinning out
    gone = [
        r
        for r in learners
        if r["path"] in ("fader", "stopper", "failed_quiz") and r["username"] in active
    ]
    assert all(max(active[r["username"]]) <= r["stopped"] for r in gone)
    returners = [r for r in learners if r["path"] == "returner"]
    assert returners
    assert all(days_active(r["username"], r["pause_start"], r["pause_end"]) == 0 for r in returners)
    back = [r for r in returners if days_active(r["username"], r["pause_end"], NOW) > 0]
    assert len(back) > 0.8 * len(returners)
    steady = [r for r in learners if r["path"] == "steady" and r["stopped"] == NOW]
    recent = [r for r in steady if days_active(r["username"], NOW - timedelta(days=14), NOW)]
    assert len(recent) > 0.8 * len(steady)
    # the failed quiz: their last attempt, in the week before they stopped, failed
    quitters = {
        (r["username"], r["track"]): r["stopped"] for r in learners if r["path"] == "failed_quiz"
    }
    assert len(quitters) >= 5
    last = {}
    for user, track, finished, passed in rows(
        url,
        "SELECT p.username, t.code, a.submitted_at, a.passed FROM quiz_attempts a "
        "JOIN people p ON p.id = a.person_id JOIN quizzes q ON q.id = a.quiz_id "
        "JOIN tracks t ON t.id = q.track_id ORDER BY a.submitted_at",
    ):
        if (user, track) in quitters:
            last[(user, track)] = (_utc(finished), passed)
    assert set(last) == set(quitters)
    for key, (finished, _) in last.items():
        assert quitters[key] - timedelta(days=7) < finished <= quitters[key]
    assert sum(not passed for _, passed in last.values()) >= 0.8 * len(last)


# --- class sessions --------------------------------------------------------------------------
def test_class_sessions_per_trainer_and_track_with_attendance(shared_school):
    """A weekly two-hour class per trainer and track they have active students in (60 days:
    8 past, 2 to come, one past one cancelled), for the trainer's students; workspace activity
    inside the windows of the classes held; the LMS's rule finds present, late and absent."""
    database_url, school = shared_school
    trainers = {
        person_id: name
        for person_id, name in rows(database_url, "SELECT id, username FROM people")
        if SYNTHETIC.match(name) and name.startswith("trainer")
    }
    wanted = {
        (trainer, track)
        for trainer, track in rows(
            database_url,
            "SELECT DISTINCT a.trainer_id, e.track_id FROM trainer_assignments a "
            "JOIN enrollments e ON e.person_id = a.student_id WHERE e.status = 'active'",
        )
        if trainer in trainers
    }
    kinds = {
        track: json.loads(kinds) if isinstance(kinds, str) else kinds
        for track, kinds in rows(database_url, "SELECT id, workspace_kinds FROM tracks")
    }
    sessions = defaultdict(list)
    for session_id, trainer, track, kind, audience, starts, ends, cancelled, made in rows(
        database_url,
        "SELECT id, created_by_id, track_id, workspace_kind, audience, starts_at, ends_at, "
        "cancelled_at, created_at FROM class_sessions ORDER BY starts_at",
    ):
        starts, ends, made = _utc(starts), _utc(ends), _utc(made)
        assert audience == "trainer" and kind == kinds[track][0]
        assert ends - starts == timedelta(hours=2) and made <= min(starts, NOW)
        if cancelled is not None:
            assert made < _utc(cancelled) < min(starts, NOW)
        sessions[(trainer, track)].append((session_id, starts, ends, cancelled is not None))
    assert wanted and set(sessions) == wanted
    assert school.rows["class_sessions"] == 10 * len(wanted)
    held = {}
    for listed in sessions.values():
        starts = [s for _, s, _, _ in listed]
        assert len(listed) == 10 and sum(c for *_, c in listed) == 1
        assert all(b - a == timedelta(days=7) for a, b in itertools.pairwise(starts))
        assert sum(s > NOW for s in starts) == 2 and NOW < starts[-2] < NOW + timedelta(days=7)
        assert not any(c for _, s, _, c in listed if s > NOW)
        held.update({i: (s, e) for i, s, e, c in listed if e <= NOW and not c})
    # the hub's rows: one per student and class held, inside its window
    activity = rows(
        database_url,
        "SELECT class_session_id, person_id, first_seen_at, last_seen_at FROM workspace_activity",
    )
    assert school.rows["workspace_activity"] == len(activity) > 0
    assert len({(s, p) for s, p, _, _ in activity}) == len(activity)
    for session_id, _, first, last in activity:
        starts, ends = held[session_id]
        assert starts <= _utc(first) <= _utc(last) <= ends
    # whom each class expects is the LMS's rule, and attendance is counted by it
    office = Principal(name="office", kind="user", role=Role.ADMIN)

    async def work(session):
        expected = await service.expected_students(session, sorted(held))
        found = {}
        for session_id in sorted(held):
            class_session = await service.visible_session(session, office, session_id)
            answer = await service.attendance(
                session, office, class_session, NOW, timedelta(minutes=10)
            )
            found[session_id] = {r.username: str(r.status) for r in answer}
        return expected, found

    async def run():
        database = Database(database_url)
        try:
            async with database.sessionmaker() as session, session.begin():
                return await work(session)
        finally:
            await database.dispose()

    expected, found = asyncio.run(run())
    names = dict(rows(database_url, "SELECT id, username FROM people"))
    for session_id, person_id, _, _ in activity:
        assert names[person_id] in expected[session_id]
    assert all(set(found[i]) == set(expected[i]) for i in held)
    statuses = Counter(status for answer in found.values() for status in answer.values())
    assert set(statuses) == {"present", "late", "absent"}
    # most of those who come are on time; the absent are mostly the ones who stalled or had not
    # started yet (the rule expects every student active in the track now)
    assert statuses["present"] > 2 * statuses["late"]
    assert statuses["present"] + statuses["late"] > 0.3 * sum(statuses.values())
    assert sum(statuses.values()) >= 8 * len(wanted)
    # and only students working then come: never before they started nor after they stopped
    # (or during a break)
    learners = {(r["username"], r["track"]): r for r in school.learners.to_pylist()}
    codes = dict(rows(database_url, "SELECT id, code FROM tracks"))
    track_of = dict(rows(database_url, "SELECT id, track_id FROM class_sessions"))
    for session_id, person_id, _, _ in activity:
        learner = learners[(names[person_id], codes[track_of[session_id]])]
        starts = held[session_id][0]
        assert learner["started"] <= starts < learner["stopped"]
        if learner["pause_start"] is not None:
            assert not learner["pause_start"] <= starts < learner["pause_end"]


# --- activity ------------------------------------------------------------------------------
def test_activity_parquet_keeps_the_landing_contract(shared_school):
    database_url, school = shared_school
    (path,) = school.activity_files
    assert path.name == "synthetic-11.parquet" and path.parent.name == "landing"
    table = pq.read_table(path)
    stamp = pa.timestamp("us", tz="UTC")
    assert table.schema == pa.schema(
        [
            ("username", pa.string()),
            ("server_name", pa.string()),
            ("started", stamp),
            ("last_activity", stamp),
            ("observed_at", stamp),
        ]
    )
    assert table.num_rows == school.rows["hub_activity"] > 0
    data = table.to_pydict()
    people = {u for (u,) in rows(database_url, "SELECT username FROM people")}
    assert set(data["username"]) <= {u for u in people if SYNTHETIC.match(u)}
    assert set(data["server_name"]) <= {"", "superset", "code-server"}
    for started, last, observed in zip(
        data["started"], data["last_activity"], data["observed_at"], strict=True
    ):
        assert started <= last < observed <= NOW
        assert observed - last < timedelta(minutes=1)
    # some students stopped working long before the end (at-risk signs)
    latest = defaultdict(lambda: datetime.min.replace(tzinfo=UTC))
    for user, last in zip(data["username"], data["last_activity"], strict=True):
        latest[user] = max(latest[user], last)
    assert any(NOW - last > timedelta(days=7) for last in latest.values())


def test_default_activity_dir_is_the_pipelines_landing_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("APRANOVA_WAREHOUSE_PATH", str(tmp_path / "w" / "warehouse.duckdb"))
    assert default_activity_dir() == tmp_path / "w" / "landing" / "hub_activity"
    monkeypatch.delenv("APRANOVA_WAREHOUSE_PATH")
    monkeypatch.setenv("APRANOVA_STATE_DIR", str(tmp_path / "state"))
    expected = tmp_path / "state" / "warehouse" / "landing" / "hub_activity"
    assert default_activity_dir() == expected


# --- after the seed -----------------------------------------------------------------------
def test_the_lms_keeps_inserting_after_the_seed(database_url, school):
    """Ids were allocated after the existing rows and PostgreSQL's sequences moved on."""
    engine = create_engine(sync_url(database_url))
    try:
        with Session(engine) as session, session.begin():
            track_id = session.scalar(text("SELECT id FROM tracks WHERE code = 'DE'"))
            step_id = session.scalar(text("SELECT min(id) FROM project_steps"))
            attempt = session.scalar(select(QuizAttempt).limit(1))
            person = Person(username="newcomer")
            trainer = session.scalar(select(Person).where(Person.username == "trainer0001"))
            session.add_all([person])
            session.flush()
            enrollment = Enrollment(person_id=person.id, track_id=track_id, status="active")
            session.add_all(
                [
                    TrainerAssignment(trainer_id=trainer.id, student_id=person.id),
                    enrollment,
                    Payment(person_id=person.id, track_id=track_id, amount_cents=100),
                    StepCompletion(person_id=person.id, step_id=step_id),
                    QuizAttempt(
                        quiz_id=attempt.quiz_id, person_id=person.id, number=1,
                        max_score=1.0, question_order=[], option_order={},
                    ),
                ]
            )  # fmt: skip
            session.flush()
            session.add(
                EnrollmentEvent(
                    enrollment_id=enrollment.id, to_status="active", source="grant", actor="t"
                )
            )
            new_attempt = session.scalar(
                select(QuizAttempt).where(QuizAttempt.person_id == person.id)
            )
            question = attempt.question_order[0]
            session.add(
                StudentAnswer(
                    attempt_id=new_attempt.id, question_id=question, selected_option_ids=[]
                )
            )
        with Session(engine) as session:
            newest = session.scalar(select(func.max(StudentAnswer.id)))
            assert newest == school.rows["quiz_answers"] + 1  # the demo has no answers
    finally:
        engine.dispose()


def test_a_second_seed_is_refused(shared_school, tmp_path):
    database_url, _ = shared_school
    before = rows(database_url, "SELECT count(*) FROM people")
    with pytest.raises(SyntheticDataExists, match="already holds a synthetic school"):
        seed_synthetic(
            database_url, students=5, quizzes=1, seed=1, activity_dir=tmp_path / "x", now=NOW
        )
    assert rows(database_url, "SELECT count(*) FROM people") == before
    assert not (tmp_path / "x").exists()


def test_cli_seeds_once_then_refuses(database_url, tmp_path, capsys):
    args = [
        "seed-synthetic", "--students", "30", "--quizzes", "3", "--seed", "5",
        "--database-url", database_url, "--activity-dir", str(tmp_path / "landing"),
        "--now", "2026-11-30T12:00:00",
    ]  # fmt: skip
    assert main(args) == 0  # migrates a fresh database first
    out = capsys.readouterr().out
    assert "Synthetic school seeded" in out and "quiz_answers" in out
    assert (tmp_path / "landing" / "synthetic-5.parquet").exists()
    # 30 students and their trainers: one per track, the cap (20) needs no more
    assert rows(database_url, "SELECT count(*) FROM people")[0][0] == 30 + 3
    assert main(args) == 2
    assert "already holds a synthetic school" in capsys.readouterr().err


def test_cli_hands_a_synthetic_cohort_to_the_demo_trainer(database_url, tmp_path, capsys):
    upgrade(database_url)
    seed_demo(database_url)
    args = [
        "seed-synthetic", "--students", "40", "--quizzes", "2", "--trainers", "2",
        "--database-url", database_url, "--activity-dir", str(tmp_path / "landing"),
        "--hand-over-to", "trainer",
    ]  # fmt: skip
    assert main(args) == 0
    [(moved,)] = rows(
        database_url,
        "SELECT count(*) FROM trainer_assignments a JOIN people t ON t.id = a.trainer_id "
        "WHERE t.username = 'trainer' AND a.student_id IN "
        "(SELECT id FROM people WHERE username LIKE 'student%')",
    )
    assert moved > 0
    assert f"{moved} synthetic students now have trainer as their trainer" in (
        capsys.readouterr().out
    )
    # trainer0001 has none left; trainer0002 keeps theirs.
    left = dict(
        rows(
            database_url,
            "SELECT t.username, count(a.id) FROM people t "
            "LEFT JOIN trainer_assignments a ON a.trainer_id = t.id "
            "WHERE t.username LIKE 'trainer0%' GROUP BY 1",
        )
    )
    assert left["trainer0001"] == 0 and left["trainer0002"] > 0


def test_hand_over_keeps_the_cap_and_what_get_trainers_says(api, auth, database_url, tmp_path):
    """The demo trainer (2 students) gets the synthetic students there is room for under the
    cap (20), and the API's own answer and counter agree with the assignments."""
    args = [
        "seed-synthetic", "--students", "150", "--quizzes", "1", "--seed", "4",
        "--database-url", database_url, "--activity-dir", str(tmp_path / "landing"),
        "--now", "2026-11-30T12:00:00", "--hand-over-to", "trainer",
    ]  # fmt: skip
    assert main(args) == 0

    def load() -> dict:
        listed = api.get("/api/v1/trainers", headers=auth("office")).json()["results"]
        return next(t for t in listed if t["username"] == "trainer")

    assert (load()["assigned_students"], load()["cap"], load()["available"]) == (20, 20, 0)
    [(held,)] = rows(
        database_url,
        "SELECT count(*) FROM trainer_assignments a JOIN people t ON t.id = a.trainer_id "
        "WHERE t.username = 'trainer'",
    )
    assert held == 20
    # The counter the API enforces the cap on moves from the true count.
    gone = api.delete("/api/v1/users/ada/trainer", headers=auth("office"))
    assert gone.status_code == 200, gone.text
    assert load()["assigned_students"] == 19
    # A second hand-over fills the one free place, and no more.
    from lms_api.synthetic.handover import hand_over_students

    assert hand_over_students(database_url, "trainer", cap=20) == 1
    assert (load()["assigned_students"], load()["available"]) == (20, 0)
    assert hand_over_students(database_url, "trainer", cap=20) == 0
    # No synthetic trainer is over the cap, and every counter is true.
    for name, counter, assigned in rows(
        database_url,
        "SELECT t.username, t.assigned_students, count(a.id) FROM people t "
        "LEFT JOIN trainer_assignments a ON a.trainer_id = t.id "
        "WHERE t.username LIKE 'trainer%' GROUP BY t.id, t.username, t.assigned_students",
    ):
        assert counter == assigned <= 20, name


def test_hand_over_to_an_unknown_account_changes_nothing(database_url, tmp_path, capsys):
    from lms_api.synthetic.handover import NoSuchAccount, hand_over_students

    seed(database_url, tmp_path / "landing", demo=False)
    before = rows(database_url, "SELECT * FROM trainer_assignments ORDER BY id")
    with pytest.raises(NoSuchAccount, match="no account 'nobody'"):
        hand_over_students(database_url, "nobody")
    assert rows(database_url, "SELECT * FROM trainer_assignments ORDER BY id") == before


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def _utc(value: datetime | str) -> datetime:
    if isinstance(value, str):  # SQLite, read without the ORM: SQLAlchemy's text form
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
