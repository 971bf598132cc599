"""The rules of class sessions (lms_api.class_sessions.service), asked directly on the demo
school with a clock of the test's choosing: what a schedule may be, whom a session expects
and who sees it, its status, the hub's warm-up window, workspace activity and attendance.

The demo school: `trainer` trains ada (DP) and linus (FSD); `coach` trains nobody; DP gives
jupyterlab and superset. Tests add grace to DP (no trainer) where a second student is needed.
"""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from lms_api.class_sessions import service
from lms_api.class_sessions.enums import ActivitySource, AttendanceStatus, SessionStatus
from lms_api.class_sessions.models import ClassSession, WorkspaceActivity
from lms_api.class_sessions.schemas import ClassSessionIn, ClassSessionPatch
from lms_api.curriculum.models import Deliverable, ProjectStep, Track
from lms_api.database import Database
from lms_api.enrollments.enums import EnrollmentStatus
from lms_api.enrollments.models import Enrollment
from lms_api.errors import Forbidden, SessionCancelled, SessionEnded
from lms_api.outbox import OutboxEvent
from lms_api.people.models import Person, TrainerAssignment
from lms_api.people.service import get_or_create_person
from lms_api.principal import Principal, Role
from lms_api.progress.models import StepCompletion
from lms_api.quizzes.enums import AttemptStatus
from lms_api.quizzes.models import Quiz, QuizAnswerEvent, QuizAttempt
from lms_api.submissions.models import Submission, SubmissionVersion

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # the clock when sessions are scheduled
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
END = START + timedelta(hours=2)
LATE_AFTER = timedelta(minutes=10)
ROLES = {"trainer": Role.TRAINER, "coach": Role.TRAINER, "office": Role.ADMIN}


def who(name: str) -> Principal:
    return Principal(name=name, kind="user", role=ROLES.get(name, Role.STUDENT))


def plan(**fields) -> ClassSessionIn:
    values = {
        "title": "Joins, live",
        "track": "DP",
        "starts_at": START,
        "ends_at": END,
        "workspace_kind": "jupyterlab",
        **fields,
    }
    return ClassSessionIn.model_validate(values)


@pytest.fixture
async def db(database_url, seeded):
    """A session factory on a fresh copy of the demo school; each `async with db.tx()` is
    one transaction, as one request."""
    seeded.restore(database_url)
    database = Database(database_url)
    yield Transactions(database)
    await database.dispose()


class Transactions:
    def __init__(self, database: Database) -> None:
        self.database = database

    def tx(self):
        return _Tx(self.database)


class _Tx:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def __aenter__(self):
        self.session = self.database.sessionmaker()
        await self.session.__aenter__()
        self.transaction = self.session.begin()
        await self.transaction.__aenter__()
        return self.session

    async def __aexit__(self, *exc):
        await self.transaction.__aexit__(*exc)
        await self.session.__aexit__(*exc)


async def enroll(session, username: str, track: str = "DP") -> Person:
    person = await get_or_create_person(session, username)
    track_id = await session.scalar(select(Track.id).where(Track.code == track))
    session.add(Enrollment(person_id=person.id, track_id=track_id, status=EnrollmentStatus.ACTIVE))
    await session.flush()
    return person


async def scheduled(db, caller: str = "trainer", now: datetime = NOW, **fields) -> int:
    async with db.tx() as session:
        made = await service.schedule(session, who(caller), plan(**fields), now)
        return made.id


async def expected(db, session_id: int, caller: str | None = None) -> list[str]:
    async with db.tx() as session:
        principal = who(caller) if caller else None
        found = await service.expected_students(session, [session_id], principal)
        return found[session_id]


async def problems_of(db, caller: str = "trainer", now: datetime = NOW, **fields) -> dict:
    with pytest.raises(service.ClassSessionInvalid) as refused:
        await scheduled(db, caller, now, **fields)
    return refused.value.problems


# --- what a schedule may be ----------------------------------------------------------------
async def test_each_problem_is_named_by_its_field(db):
    assert await problems_of(db, track="ZZ") == {"track": "there is no track 'ZZ'"}
    assert await problems_of(db, workspace_kind="code-server") == {
        "workspace_kind": "DP gives these workspaces: jupyterlab, superset"
    }
    assert await problems_of(db, ends_at=START) == {"ends_at": "must be after the start"}
    too_long = START + timedelta(hours=12, seconds=1)
    assert await problems_of(db, ends_at=too_long) == {
        "ends_at": "a session lasts at most 12 hours"
    }
    assert await problems_of(db, now=END) == {"ends_at": "must be in the future"}
    far = NOW + timedelta(days=366)
    assert await problems_of(db, starts_at=far, ends_at=far + timedelta(hours=1)) == {
        "starts_at": "must be at most a year ahead"
    }
    several = await problems_of(db, workspace_kind="code-server", ends_at=START, students=["x"])
    assert set(several) == {"workspace_kind", "ends_at", "students"}
    # the limits themselves are allowed
    assert await scheduled(db, ends_at=START + timedelta(hours=12))
    ahead = NOW + timedelta(days=365)
    assert await scheduled(db, starts_at=ahead, ends_at=ahead + timedelta(hours=1))
    assert await scheduled(db, now=START + timedelta(minutes=5))  # started already: allowed


async def test_a_trainer_schedules_only_for_their_students_and_admins_for_anyone(db):
    async with db.tx() as session:
        await enroll(session, "grace")  # in DP, nobody's student
    assert await problems_of(db, students=["grace"]) == {
        "students": "not one of your students active in DP: grace"
    }
    assert await problems_of(db, students=["linus"]) == {  # trainer's, but in FSD
        "students": "not one of your students active in DP: linus"
    }
    assert await problems_of(db, caller="coach") == {
        "track": "none of your students is active in DP"
    }
    assert await problems_of(db, caller="office", students=["linus", "nobody"]) == {
        "students": "not actively enrolled in DP: linus, nobody"
    }
    listed = await scheduled(db, students=["ada"])
    mine = await scheduled(db)  # the whole track, for a trainer: their own students
    everyone = await scheduled(db, caller="office")  # the whole track
    named = await scheduled(db, caller="office", students=["grace"])
    assert await expected(db, listed) == ["ada"]
    assert await expected(db, mine) == ["ada"]
    assert await expected(db, everyone) == ["ada", "grace"]
    assert await expected(db, named) == ["grace"]
    with pytest.raises(Forbidden):
        await scheduled(db, caller="ada")


async def test_the_whole_track_of_a_trainer_follows_their_students(db):
    """Resolved at every read: a student assigned later is expected, one moved away not."""
    session_id = await scheduled(db)
    async with db.tx() as session:
        grace = await enroll(session, "grace")
        trainer = await get_or_create_person(session, "trainer")
        session.add(TrainerAssignment(trainer_id=trainer.id, student_id=grace.id))
    assert await expected(db, session_id) == ["ada", "grace"]


# --- whom a session expects, and who sees it -----------------------------------------------
async def test_who_sees_which_session_and_which_students(db):
    async with db.tx() as session:
        await enroll(session, "grace")
    trainers = await scheduled(db)  # expects ada
    whole_track = await scheduled(db, caller="office")  # expects ada and grace
    graces = await scheduled(db, caller="office", students=["grace"])
    fsd = await scheduled(db, caller="office", track="FSD", students=["linus"])

    async def visible(caller: str) -> list[int]:
        async with db.tx() as session:
            found = await session.scalars(service.list_sessions(who(caller)))
            return [s.id for s in found]

    assert await visible("office") == [trainers, whole_track, graces, fsd]
    assert await visible("trainer") == [trainers, whole_track, fsd]  # created, or expects theirs
    assert await visible("coach") == []
    assert await visible("ada") == [trainers, whole_track]
    assert await visible("grace") == [whole_track, graces]
    assert await visible("linus") == [fsd]
    # the roster shows only the students whose records the caller may see
    assert await expected(db, whole_track, "office") == ["ada", "grace"]
    assert await expected(db, whole_track, "trainer") == ["ada"]
    assert await expected(db, whole_track, "grace") == ["grace"]
    async with db.tx() as session:
        with pytest.raises(service.ClassSessionNotFound):
            await service.visible_session(session, who("coach"), trainers)
        with pytest.raises(service.ClassSessionNotFound):
            await service.visible_session(session, who("linus"), trainers)
        assert (await service.visible_session(session, who("ada"), trainers)).id == trainers


async def test_withdrawn_and_deactivated_students_are_no_longer_expected(db):
    async with db.tx() as session:
        grace = await enroll(session, "grace")
        await enroll(session, "hopper")
    whole_track = await scheduled(db, caller="office")
    assert await expected(db, whole_track) == ["ada", "grace", "hopper"]
    async with db.tx() as session:
        await session.execute(
            update(Enrollment)
            .where(Enrollment.person_id == grace.id)
            .values(status=EnrollmentStatus.CANCELLED)
        )
        await session.execute(
            update(Person).where(Person.username == "hopper").values(is_active=False)
        )
    assert await expected(db, whole_track) == ["ada"]
    async with db.tx() as session:
        _found, warm = await service.warm_up(session, START, timedelta(minutes=10))
    assert warm == {whole_track: ["ada"]}


async def test_status_comes_from_the_clock(db):
    session_id = await scheduled(db)
    async with db.tx() as session:
        found = await session.get(ClassSession, session_id)
        at = {
            START - timedelta(seconds=1): SessionStatus.SCHEDULED,
            START: SessionStatus.IN_PROGRESS,
            END - timedelta(seconds=1): SessionStatus.IN_PROGRESS,
            END: SessionStatus.ENDED,
        }
        assert {moment: service.status_of(found, moment) for moment in at} == at
        found.cancelled_at = NOW
        assert service.status_of(found, START) == SessionStatus.CANCELLED


# --- changing and cancelling ---------------------------------------------------------------
async def change(db, session_id: int, caller: str, now: datetime = NOW, **fields):
    async with db.tx() as session:
        found = await service.visible_session(session, who(caller), session_id)
        patch = ClassSessionPatch.model_validate(fields)
        return await service.change(session, who(caller), found, patch, now)


async def cancel(db, session_id: int, caller: str, now: datetime = NOW):
    async with db.tx() as session:
        found = await service.visible_session(session, who(caller), session_id)
        return await service.cancel(session, who(caller), found, now)


async def test_changes_follow_the_same_rules_and_only_its_scheduler_or_an_admin(db):
    session_id = await scheduled(db)
    changed = await change(db, session_id, "trainer", title="Joins, part 2", students=["ada"])
    assert (changed.title, changed.audience) == ("Joins, part 2", "listed")
    with pytest.raises(service.ClassSessionInvalid) as refused:
        await change(db, session_id, "trainer", ends_at=START - timedelta(minutes=1))
    assert set(refused.value.problems) == {"ends_at"}
    with pytest.raises(service.ClassSessionInvalid) as refused:
        await change(db, session_id, "trainer", workspace_kind="code-server")
    assert set(refused.value.problems) == {"workspace_kind"}
    with pytest.raises(service.ClassSessionInvalid) as refused:
        await change(db, session_id, "trainer", students=["linus"])
    assert set(refused.value.problems) == {"students"}
    # an admin's empty list is the whole track; a trainer's, their own students
    async with db.tx() as session:
        await enroll(session, "grace")
    assert (await change(db, session_id, "office", students=[])).audience == "track"
    assert await expected(db, session_id) == ["ada", "grace"]
    assert (await change(db, session_id, "trainer", students=[])).audience == "trainer"
    assert await expected(db, session_id) == ["ada"]

    admins = await scheduled(db, caller="office", students=["ada"])
    with pytest.raises(Forbidden):  # the trainer sees it (ada is theirs) but did not make it
        await change(db, admins, "trainer", title="Mine now")
    with pytest.raises(Forbidden):
        await cancel(db, admins, "trainer")
    with pytest.raises(service.ClassSessionNotFound):  # coach does not even see it
        await change(db, session_id, "coach", title="x")


async def test_an_ended_session_is_a_record_and_cancel_acts_once(db):
    session_id = await scheduled(db)
    during = START + timedelta(minutes=30)
    assert (await change(db, session_id, "trainer", during, title="Longer")).title == "Longer"
    with pytest.raises(SessionEnded):
        await change(db, session_id, "trainer", END, title="Afterwards")
    with pytest.raises(SessionEnded):
        await cancel(db, session_id, "office", END)

    other = await scheduled(db)
    first = await cancel(db, other, "trainer")
    again = await cancel(db, other, "trainer", START)  # a double click, even later
    assert first.cancelled_at == again.cancelled_at is not None
    async with db.tx() as session:
        events = await session.scalars(
            select(OutboxEvent.id).where(OutboxEvent.topic == "class_session.cancelled")
        )
        assert len(list(events)) == 1
    with pytest.raises(SessionCancelled):
        await change(db, other, "trainer", title="Back on")
    with pytest.raises(Forbidden):
        await cancel(db, other, "ada")


# --- the hub's warm-up ---------------------------------------------------------------------
async def test_warm_up_takes_sessions_starting_within_the_lead_or_in_progress(db):
    lead = timedelta(minutes=10)
    at_the_edge = await scheduled(db, starts_at=START + lead, ends_at=END)
    just_after = await scheduled(db, starts_at=START + lead + timedelta(seconds=1), ends_at=END)
    running = await scheduled(db, starts_at=START - timedelta(hours=1), ends_at=START + lead)
    ending_now = await scheduled(db, starts_at=START - timedelta(hours=1), ends_at=START)
    cancelled = await scheduled(db, starts_at=START, ends_at=END)
    await cancel(db, cancelled, "trainer")
    async with db.tx() as session:
        found, warm = await service.warm_up(session, START, lead)
    assert [s.id for s in found] == [running, at_the_edge]
    assert warm == {running: ["ada"], at_the_edge: ["ada"]}
    assert {just_after, ending_now, cancelled}.isdisjoint(warm)


async def test_students_in_a_running_timed_attempt_are_kept_from_the_culler(db):
    """Only attempts in progress with a deadline still ahead: not untimed, not finished, not
    past their deadline (expired but not yet graded)."""
    async with db.tx() as session:
        quiz = await session.scalar(select(Quiz.id).order_by(Quiz.id).limit(1))
        for number, (name, deadline, status) in enumerate(
            (
                ("ada", START + timedelta(minutes=5), AttemptStatus.IN_PROGRESS),
                ("linus", None, AttemptStatus.IN_PROGRESS),
                ("grace", START - timedelta(seconds=1), AttemptStatus.IN_PROGRESS),
                ("ada", START + timedelta(minutes=5), AttemptStatus.SUBMITTED),
                ("linus", START + timedelta(minutes=5), AttemptStatus.EXPIRED),
            ),
            start=1,
        ):
            person = await get_or_create_person(session, name)
            session.add(
                QuizAttempt(
                    quiz_id=quiz,
                    person_id=person.id,
                    number=number,
                    max_score=1.0,
                    question_order=[],
                    option_order={},
                    started_at=START - timedelta(minutes=10),
                    deadline_at=deadline,
                    status=status,
                )
            )
    async with db.tx() as session:
        assert await service.in_timed_attempts(session, START) == ["ada"]


# --- workspace activity --------------------------------------------------------------------
async def activity_rows(db) -> dict[tuple[int, str], tuple[datetime, datetime]]:
    async with db.tx() as session:
        found = await session.execute(
            select(WorkspaceActivity, Person.username).join(
                Person, Person.id == WorkspaceActivity.person_id
            )
        )
        return {
            (a.class_session_id, name): (as_utc(a.first_seen_at), as_utc(a.last_seen_at))
            for a, name in found
        }


def as_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def report(db, *entries: tuple[str, datetime]):
    async with db.tx() as session:
        return await service.record_activity(session, list(entries))


@pytest.mark.dialects  # the upsert is written per dialect
async def test_activity_keeps_the_first_and_last_moment_and_a_repeat_changes_nothing(db):
    async with db.tx() as session:
        await enroll(session, "grace")
    morning = await scheduled(db, caller="office")  # ada and grace
    overlapping = await scheduled(
        db,
        students=["ada"],
        starts_at=END - timedelta(minutes=30),
        ends_at=END + timedelta(hours=1),
    )
    cancelled = await scheduled(db, caller="office")
    await cancel(db, cancelled, "office")
    ada_in = START + timedelta(minutes=3)
    sent = (
        ("ada", ada_in),
        ("grace", END),
        ("nobody", ada_in),
        ("linus", ada_in),
        ("ada", START - timedelta(seconds=1)),
    )
    first = await report(db, *sent)
    assert first.model_dump() == {
        "received": 5,
        "recorded": 2,
        "unknown_users": 1,
        "outside_sessions": 2,  # linus is expected by none; ada before the start
    }
    expected_rows = {(morning, "ada"): (ada_in, ada_in), (morning, "grace"): (END, END)}
    assert await activity_rows(db) == expected_rows
    assert (await report(db, *sent)).recorded == 2
    assert await activity_rows(db) == expected_rows  # idempotent

    later, earlier = START + timedelta(minutes=50), START + timedelta(minutes=1)
    both = END - timedelta(minutes=10)  # inside both of ada's sessions
    assert (await report(db, ("ada", later), ("ada", earlier), ("ada", both))).recorded == 2
    assert await activity_rows(db) == {
        (morning, "ada"): (earlier, both),
        (morning, "grace"): (END, END),
        (overlapping, "ada"): (both, both),
    }
    assert (await report(db)).model_dump() == {
        "received": 0,
        "recorded": 0,
        "unknown_users": 0,
        "outside_sessions": 0,
    }


# --- attendance ----------------------------------------------------------------------------
async def attendance(db, session_id: int, now: datetime, caller: str = "office") -> dict:
    async with db.tx() as session:
        found = await service.visible_session(session, who(caller), session_id)
        rows = await service.attendance(session, who(caller), found, now, LATE_AFTER)
    return {r.username: (r.status, r.first_seen_at, r.source) for r in rows}


async def add_lms_moments(session, person: Person, kind: str, at: datetime) -> None:
    """One thing the LMS records `person` doing at `at`."""
    if kind == "step":
        step = await session.scalar(select(ProjectStep.id).order_by(ProjectStep.id).limit(1))
        session.add(StepCompletion(person_id=person.id, step_id=step, created_at=at))
    elif kind in ("attempt", "answer", "submitted", "expired"):
        quiz = await session.scalar(select(Quiz.id).order_by(Quiz.id).limit(1))
        number = 1 + len(
            list(
                await session.scalars(
                    select(QuizAttempt.id).where(QuizAttempt.person_id == person.id)
                )
            )
        )
        attempt = QuizAttempt(
            quiz_id=quiz,
            person_id=person.id,
            number=number,
            max_score=1.0,
            question_order=[],
            option_order={},
            started_at=at if kind == "attempt" else at - timedelta(days=1),
            status={"submitted": AttemptStatus.SUBMITTED, "expired": AttemptStatus.EXPIRED}.get(
                kind, AttemptStatus.IN_PROGRESS
            ),
            submitted_at=at if kind in ("submitted", "expired") else None,
        )
        session.add(attempt)
        await session.flush()
        if kind == "answer":
            session.add(
                QuizAnswerEvent(
                    attempt_id=attempt.id,
                    quiz_id=quiz,
                    person_id=person.id,
                    question_id=1,
                    kind="save",
                    option_ids=[],
                    correct=False,
                    created_at=at,
                )
            )
    elif kind == "hand-in":
        deliverable = await session.scalar(select(Deliverable.id).order_by(Deliverable.id).limit(1))
        submission = Submission(
            person_id=person.id, deliverable_id=deliverable, created_at=at - timedelta(days=2)
        )
        session.add(submission)
        await session.flush()
        session.add(
            SubmissionVersion(
                submission_id=submission.id, number=1, url="https://x.org", created_at=at
            )
        )
    await session.flush()


async def test_attendance_from_workspace_and_lms_activity(db):
    students = [
        "ada",
        "s-step",
        "s-attempt",
        "s-answer",
        "s-submitted",
        "s-hand-in",
        "s-expired",
        "s-late",
        "s-before",
    ]
    async with db.tx() as session:
        people = {name: await get_or_create_person(session, name) for name in ["ada"]}
        for name in students[1:]:
            people[name] = await enroll(session, name)
    session_id = await scheduled(db, caller="office", students=students)
    assert await attendance(db, session_id, START - timedelta(seconds=1)) == {
        name: (AttendanceStatus.UPCOMING, None, ActivitySource.NONE) for name in students
    }
    at = {name: START + timedelta(minutes=i) for i, name in enumerate(students)}
    ada_lms = START + timedelta(minutes=2)
    async with db.tx() as session:
        await report_in(session, [("ada", START + timedelta(minutes=4))])
        for kind in ("step", "attempt", "answer", "submitted", "hand-in", "expired"):
            await add_lms_moments(session, people[f"s-{kind}"], kind, at[f"s-{kind}"])
        await add_lms_moments(session, people["ada"], "step", ada_lms)
        await add_lms_moments(
            session, people["s-late"], "step", START + LATE_AFTER + timedelta(seconds=1)
        )
        await add_lms_moments(session, people["s-before"], "step", START - timedelta(seconds=1))
    found = await attendance(db, session_id, START + timedelta(hours=1))
    present, late, absent = AttendanceStatus.PRESENT, AttendanceStatus.LATE, AttendanceStatus.ABSENT
    lms, workspace, none = ActivitySource.LMS, ActivitySource.WORKSPACE, ActivitySource.NONE
    assert found == {
        "ada": (present, ada_lms, lms),  # the earlier of both sources
        "s-step": (present, at["s-step"], lms),
        "s-attempt": (present, at["s-attempt"], lms),
        "s-answer": (present, at["s-answer"], lms),
        "s-submitted": (present, at["s-submitted"], lms),
        "s-hand-in": (present, at["s-hand-in"], lms),
        "s-expired": (absent, None, none),  # the clock ended it: not the student's doing
        "s-late": (late, START + LATE_AFTER + timedelta(seconds=1), lms),
        "s-before": (absent, None, none),  # before the window
    }
    async with db.tx() as session:
        await session.execute(
            update(WorkspaceActivity).values(first_seen_at=START + timedelta(minutes=1))
        )
    assert (await attendance(db, session_id, END))["ada"] == (
        present,
        START + timedelta(minutes=1),
        workspace,
    )
    # rows written for the window as it was before its times changed: a workspace seen across
    # the start counts from the start; one seen only before it does not count
    for first, last, ada in (
        (START - timedelta(minutes=20), START + timedelta(minutes=30), (present, START, workspace)),
        (START - timedelta(minutes=20), START - timedelta(minutes=5), (present, ada_lms, lms)),
    ):
        async with db.tx() as session:
            await session.execute(
                update(WorkspaceActivity).values(first_seen_at=first, last_seen_at=last)
            )
        assert (await attendance(db, session_id, END))["ada"] == ada


async def report_in(session, entries) -> None:
    await service.record_activity(session, entries)


async def test_a_trainer_reads_the_attendance_of_their_students_only(db):
    async with db.tx() as session:
        await enroll(session, "grace")
    whole_track = await scheduled(db, caller="office")
    assert set(await attendance(db, whole_track, START, "office")) == {"ada", "grace"}
    assert set(await attendance(db, whole_track, START, "trainer")) == {"ada"}
    with pytest.raises(Forbidden):
        await attendance(db, whole_track, START, "ada")
    await cancel(db, whole_track, "office")
    with pytest.raises(SessionCancelled):
        await attendance(db, whole_track, START, "office")
