"""marts.session_attendance gives the LMS's own answers: the rule is written twice (the LMS's
lms_api.class_sessions.service and pipelines.assets.attendance), so a school is built through
the LMS's service (scheduling, changing, cancelling, workspace reports) and what students do
in the LMS, the pipeline runs, and for every session the mart must hold exactly what
`service.attendance` answers at the same instant: statuses, first-seen moments and sources.

"Now" is 2026-06-30 12:00 UTC (AS_OF); late after 10 minutes. The tiny school's trainer `tr`
trains amy, ben, cat (active in DT) and dan (cancelled); eve (active in DT) is tr2's.

    session                          expects               what happens in the window
    S1 06-29 09-11, tr, listed       amy, ben              amy: workspace 09:03, a step 09:30
                                                           ben: an attempt the clock ended 09:20
    S2 06-29 14-16, office, track    amy, ben, cat, eve    amy: a hand-in at 14:10 exactly
                                                           ben: an answer saved 14:25 (attempt
                                                                started before the window)
                                                           cat: attempt 14:30, workspace 14:40
                                                           eve: workspace and a step, 14:12
    S3 07-01 09-10, tr, whole track  amy, ben, cat         (upcoming)
    S4 06-29 09-10, tr, listed       cat                   cancelled: no attendance
    S5 06-30 10-13, office, track    amy, ben, cat, eve    start moved 10:00 -> 10:10 after cat's
       (in progress)                                       workspace 10:05-10:20; eve's step at
                                                           10:08 is before it; amy: attempt 10:21
"""

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import create_engine, select, update
from sqlalchemy.orm import Session

from lms_api.class_sessions import service
from lms_api.class_sessions.schemas import ClassSessionIn, ClassSessionPatch
from lms_api.curriculum.models import Deliverable, Track
from lms_api.database import Database, sync_url
from lms_api.enrollments.models import Enrollment
from lms_api.errors import SessionCancelled
from lms_api.people.models import Person, TrainerAssignment
from lms_api.principal import Principal, Role
from lms_api.progress.models import StepCompletion
from lms_api.quizzes.models import QuizAnswerEvent, QuizAttempt
from lms_api.submissions.models import Submission, SubmissionVersion
from pipelines.checks import KEYS_CHECK, RANGES_CHECK
from pipelines.definitions import defs
from pipelines.marts_contract import DESCRIPTIONS, MARTS
from pipelines.settings import AnalyticsSettings
from tests.pipelines.school import AS_OF, School, at
from tests.pipelines.test_incremental import metadata_of, sensor_tick

pytestmark = pytest.mark.slow

NOW = datetime.fromisoformat(AS_OF)
LATE_AFTER = timedelta(minutes=10)
SCHEDULED_ON = at("06-28 08:00")
ROLES = {"tr": Role.TRAINER, "tr2": Role.TRAINER, "office": Role.ADMIN}


def who(name: str) -> Principal:
    return Principal(name=name, kind="user", role=ROLES.get(name, Role.STUDENT))


def through_the_lms(url: str, work):
    """Run `work(session)` in one transaction of the LMS's own async database layer."""

    async def run():
        database = Database(url)
        try:
            async with database.sessionmaker() as session, session.begin():
                return await work(session)
        finally:
            await database.dispose()

    return asyncio.run(run())


def schedule(url: str, caller: str, title: str, starts: str, ends: str, students=()) -> int:
    body = ClassSessionIn(
        title=title,
        track="DT",
        starts_at=at(starts),
        ends_at=at(ends),
        workspace_kind="jupyterlab",
        students=list(students),
    )

    async def work(session):
        return (await service.schedule(session, who(caller), body, SCHEDULED_ON)).id

    return through_the_lms(url, work)


def change_start(url: str, session_id: int, starts: str, now: str) -> None:
    async def work(session):
        found = await service.visible_session(session, who("office"), session_id)
        patch = ClassSessionPatch(starts_at=at(starts))
        await service.change(session, who("office"), found, patch, at(now))

    through_the_lms(url, work)


def cancel(url: str, session_id: int) -> None:
    async def work(session):
        found = await service.visible_session(session, who("tr"), session_id)
        await service.cancel(session, who("tr"), found, SCHEDULED_ON)

    through_the_lms(url, work)


def workspace_seen(url: str, *entries: tuple[str, str]) -> None:
    """What the hub reports: (user, moment) pairs."""

    async def work(session):
        await service.record_activity(session, [(user, at(when)) for user, when in entries])

    through_the_lms(url, work)


def lms_answer(url: str, session_id: int, caller: str = "office"):
    """{student: (status, first seen, source)} as the LMS answers now, or None (cancelled)."""

    async def work(session):
        found = await service.visible_session(session, who(caller), session_id)
        try:
            rows = await service.attendance(session, who(caller), found, NOW, LATE_AFTER)
        except SessionCancelled:
            return None
        return {r.username: (str(r.status), r.first_seen_at, str(r.source)) for r in rows}

    return through_the_lms(url, work)


def mart_answer(pipeline, session_id: int, trainer: str | None = None):
    rows = pipeline.rows(
        "SELECT student, status, first_seen_at, source FROM marts.session_attendance"
        " WHERE session_id = $session AND ($trainer IS NULL OR trainer = $trainer)",
        session=session_id,
        trainer=trainer,
    )
    return {student: (status, seen, source) for student, status, seen, source in rows} or None


class Writer:
    """What students do in the LMS, written as the LMS writes it (its models)."""

    def __init__(self, school: School):
        self.school = school
        self.engine = create_engine(sync_url(school.url))
        self.attempts = 10  # attempt numbers above the tiny school's

    def person(self, name: str) -> int:
        with Session(self.engine) as session:
            return session.scalars(select(Person.id).where(Person.username == name)).one()

    def add(self, *rows) -> list[int]:
        with Session(self.engine) as session, session.begin():
            session.add_all(rows)
            session.flush()
            return [row.id for row in rows]

    def step(self, name: str, index: int, when: str) -> None:
        step = self.school.steps[index]
        self.add(StepCompletion(person_id=self.person(name), step_id=step, created_at=at(when)))

    def attempt(self, name: str, started: str, status: str = "IN_PROGRESS", ended=None) -> int:
        self.attempts += 1
        [attempt_id] = self.add(
            QuizAttempt(
                quiz_id=self.school.quiz_id,
                person_id=self.person(name),
                number=self.attempts,
                status=status,
                started_at=at(started),
                submitted_at=at(ended) if ended else None,
                graded_at=at(ended) if ended else None,
                score=0.0 if ended else None,
                max_score=3.0,
                question_order=self.school.questions,
                option_order={str(q): self.school.options[q] for q in self.school.questions},
            )
        )
        return attempt_id

    def save(self, name: str, attempt_id: int, when: str) -> None:
        question = self.school.questions[0]
        self.add(
            QuizAnswerEvent(
                attempt_id=attempt_id,
                quiz_id=self.school.quiz_id,
                person_id=self.person(name),
                question_id=question,
                kind="save",
                option_ids=[self.school.options[question][0]],
                correct=True,
                created_at=at(when),
            )
        )

    def hand_in(self, name: str, deliverable: str, when: str) -> None:
        with Session(self.engine) as session:
            found = select(Deliverable.id).where(Deliverable.title == deliverable)
            deliverable_id = session.scalars(found).one()
        [submission] = self.add(
            Submission(
                person_id=self.person(name),
                deliverable_id=deliverable_id,
                status="submitted",
                current_version=1,
                created_at=at("06-20"),
                updated_at=at(when),
            )
        )
        self.add(
            SubmissionVersion(
                submission_id=submission, number=1, url="https://x.org", created_at=at(when)
            )
        )

    def close(self) -> None:
        self.engine.dispose()


def prepare(writer: Writer) -> None:
    """DT gives JupyterLab; eve joins DT as tr2's student."""
    with Session(writer.engine) as session, session.begin():
        session.execute(update(Track).values(workspace_kinds=["jupyterlab"]))
        people = {name: Person(username=name) for name in ("tr2", "eve")}
        session.add_all(people.values())
        session.flush()
        session.add(TrainerAssignment(trainer_id=people["tr2"].id, student_id=people["eve"].id))
        track = session.scalars(select(Track.id)).one()
        session.add(
            Enrollment(person_id=people["eve"].id, track_id=track, status="active", source="grant")
        )


def utc(text: str) -> datetime:
    return at(text)


EXPECTED = {
    "S1": {
        "amy": ("present", utc("06-29 09:03"), "workspace"),
        "ben": ("absent", None, "none"),  # the clock ended his attempt: not his doing
    },
    "S2": {
        "amy": ("present", utc("06-29 14:10"), "lms"),  # at the threshold itself
        "ben": ("late", utc("06-29 14:25"), "lms"),
        "cat": ("late", utc("06-29 14:30"), "lms"),  # the earlier of both sources
        "eve": ("late", utc("06-29 14:12"), "workspace"),  # a tie goes to the workspace
    },
    "S3": {name: ("upcoming", None, "none") for name in ("amy", "ben", "cat")},
    "S4": None,
    "S5": {
        "amy": ("late", utc("06-30 10:21"), "lms"),
        "ben": ("absent", None, "none"),  # so far
        "cat": ("present", utc("06-30 10:10"), "workspace"),  # seen across the new start
        "eve": ("absent", None, "none"),  # her step came before the new start
    },
}


def build_sessions(school: School, writer: Writer) -> dict[str, int]:
    url = school.url
    prepare(writer)
    sessions = {
        "S1": schedule(url, "tr", "Joins", "06-29 09:00", "06-29 11:00", ["amy", "ben"]),
        "S2": schedule(url, "office", "Window functions", "06-29 14:00", "06-29 16:00"),
        "S3": schedule(url, "tr", "Indexes", "07-01 09:00", "07-01 10:00"),
        "S4": schedule(url, "tr", "Cancelled", "06-29 09:00", "06-29 10:00", ["cat"]),
        "S5": schedule(url, "office", "Running now", "06-30 10:00", "06-30 13:00"),
    }
    cancel(url, sessions["S4"])
    # S1; cat's report counts for no session (S4, which expected her, is cancelled)
    workspace_seen(url, ("amy", "06-29 09:03"), ("cat", "06-29 09:05"))
    writer.step("amy", 4, "06-29 09:30")
    writer.attempt("ben", "06-28 09:00", status="EXPIRED", ended="06-29 09:20")
    amys = writer.attempt("amy", "06-29 09:35", status="SUBMITTED", ended="06-29 09:50")
    writer.save("amy", amys, "06-29 09:40")
    # S2
    writer.hand_in("amy", "D2", "06-29 14:10")
    bens = writer.attempt("ben", "06-29 13:00")  # still running
    writer.save("ben", bens, "06-29 14:25")
    cats = writer.attempt("cat", "06-29 14:30", status="SUBMITTED", ended="06-29 14:50")
    writer.save("cat", cats, "06-29 14:35")
    workspace_seen(url, ("cat", "06-29 14:40"), ("eve", "06-29 14:12"))
    writer.step("eve", 0, "06-29 14:12")
    # S5: cat's workspace from 10:05, then the start moves to 10:10
    workspace_seen(url, ("cat", "06-30 10:05"), ("cat", "06-30 10:20"))
    change_start(url, sessions["S5"], "06-30 10:10", now="06-30 10:25")
    writer.step("eve", 1, "06-30 10:08")
    writer.attempt("amy", "06-30 10:21")
    return sessions


def run_what_the_sensor_asks(pipeline):
    """One sensor tick and the incremental run it asks for; the run's result."""
    job = defs.resolve_job_def(sensor_tick(pipeline).job_name)
    return pipeline.run(selection=list(job.asset_layer.selected_asset_keys), mode="incremental")


def assert_mart_agrees_with_the_lms(pipeline, school, sessions) -> dict:
    found = {}
    for name, session_id in sessions.items():
        lms, mart = lms_answer(school.url, session_id), mart_answer(pipeline, session_id)
        assert mart == lms, name
        # A trainer reads their own students, in the API and in the mart alike.
        assert mart_answer(pipeline, session_id, "tr") == lms_answer(school.url, session_id, "tr")
        found[name] = mart
    return found


@pytest.mark.dialects
def test_the_mart_gives_the_lms_answers_for_every_session(pipeline, school):
    writer = Writer(school)
    try:
        sessions = build_sessions(school, writer)
        result = pipeline.run()
        assert assert_mart_agrees_with_the_lms(pipeline, school, sessions) == EXPECTED
        checks = [
            e
            for e in result.get_asset_check_evaluations()
            if e.asset_key.path == ["marts", "session_attendance"]
        ]
        assert {e.check_name for e in checks} >= {KEYS_CHECK, RANGES_CHECK}
        assert all(e.passed for e in checks)

        # Later, while S5 runs: ben saves an answer at 11:00, eve's workspace is seen at
        # 11:30. The sensor's incremental run reads only the newest saves (and those in the
        # 10 minutes before the newest it had: 14:25 and 14:35, not amy's 09:40).
        writer.save("ben", writer.attempt("ben", "06-30 10:55"), "06-30 11:00")
        workspace_seen(school.url, ("eve", "06-30 11:30"))
        result = run_what_the_sensor_asks(pipeline)
        saves = metadata_of(result, "raw", "quiz_answer_saves")
        assert (saves["mode"], saves["saves_read"], saves["saves_total"]) == ("incremental", 3, 4)
        found = assert_mart_agrees_with_the_lms(pipeline, school, sessions)
        assert found["S5"]["ben"] == ("late", utc("06-30 10:55"), "lms")
        assert found["S5"]["eve"] == ("late", utc("06-30 11:30"), "workspace")
    finally:
        writer.close()


def test_the_mart_says_when_the_session_runs_who_scheduled_it_and_the_threshold(pipeline, school):
    writer = Writer(school)
    try:
        sessions = build_sessions(school, writer)
    finally:
        writer.close()
    pipeline.settings["session_late_after_minutes"] = 30
    pipeline.run()
    rows = pipeline.rows(
        "SELECT DISTINCT session_id, title, track, starts_at, ends_at, session_status,"
        " scheduled_by, late_after_minutes FROM marts.session_attendance ORDER BY starts_at"
    )
    assert rows == [
        (sessions["S1"], "Joins", "DT", utc("06-29 09:00"), utc("06-29 11:00"), "ended", "tr", 30),
        (
            sessions["S2"],
            "Window functions",
            "DT",
            utc("06-29 14:00"),
            utc("06-29 16:00"),
            "ended",
            "office",
            30,
        ),
        (
            sessions["S5"],
            "Running now",
            "DT",
            utc("06-30 10:10"),
            utc("06-30 13:00"),
            "in_progress",
            "office",
            30,
        ),
        (
            sessions["S3"],
            "Indexes",
            "DT",
            utc("07-01 09:00"),
            utc("07-01 10:00"),
            "scheduled",
            "tr",
            30,
        ),
    ]
    # Half an hour of grace: everyone seen in S2 is present.
    assert {
        student: status
        for student, status in pipeline.rows(
            "SELECT student, status FROM marts.session_attendance WHERE session_id = $s",
            s=sessions["S2"],
        )
    } == {"amy": "present", "ben": "present", "cat": "present", "eve": "present"}
    assert pipeline.rows(
        "SELECT DISTINCT trainer FROM marts.session_attendance WHERE student = 'eve'"
    ) == [("tr2",)]


def test_the_late_threshold_is_the_variable_lms_api_reads(monkeypatch):
    monkeypatch.delenv("APRANOVA_SESSION_LATE_AFTER_MINUTES", raising=False)
    assert AnalyticsSettings.from_env().session_late_after_minutes == 10
    monkeypatch.setenv("APRANOVA_SESSION_LATE_AFTER_MINUTES", "25")
    assert AnalyticsSettings.from_env().session_late_after_minutes == 25


def test_every_column_of_the_mart_is_described():
    described = DESCRIPTIONS["session_attendance"]
    assert list(described) == [name for name, _ in MARTS["session_attendance"]]
