"""Class sessions: who may schedule, see and change them, whom they expect, and attendance.

Every rule is here, used by the API and the portal alike; `now` is passed in (the routes give
`utcnow()`), so a rule that depends on the clock is tested at any moment.

Whom a session expects is never a stored list of everyone: it is read again at every read
(`expected_pairs`), by its audience (`Audience`), and only students whose enrollment in the
track is active and whose account is not deactivated count. A student who withdraws stops
being expected, in the lists, the hub's warm-up and attendance alike.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.elements import ColumnElement

from lms_api.access import students_of_trainer, visible_records
from lms_api.class_sessions.enums import (
    ActivitySource,
    AttendanceStatus,
    Audience,
    SessionStatus,
)
from lms_api.class_sessions.models import ClassSession, ClassSessionStudent, WorkspaceActivity
from lms_api.class_sessions.schemas import (
    ActivityRecorded,
    AttendanceRow,
    ClassSessionIn,
    ClassSessionPatch,
)
from lms_api.curriculum.models import Track
from lms_api.enrollments.enums import EnrollmentStatus
from lms_api.enrollments.models import Enrollment
from lms_api.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    SessionCancelled,
    SessionEnded,
)
from lms_api.outbox import record_event
from lms_api.people.models import Person, TrainerAssignment
from lms_api.people.service import get_or_create_person
from lms_api.principal import ADMIN_ROLES, STAFF_ROLES, Principal
from lms_api.progress.models import StepCompletion
from lms_api.quizzes.enums import AttemptStatus
from lms_api.quizzes.models import QuizAnswerEvent, QuizAttempt
from lms_api.submissions.models import Submission, SubmissionVersion
from lms_api.timestamps import as_utc

MAX_DURATION = timedelta(hours=12)
MAX_AHEAD = timedelta(days=365)
UPSERT_CHUNK = 1000  # rows per INSERT: well under SQLite's and PostgreSQL's parameter limits
NAMES_SHOWN = 10  # usernames named in one error message


class ClassSessionNotFound(NotFound):
    """No such session, or one the caller may not see."""

    def __init__(self, session_id: int) -> None:
        super().__init__(f"No class session {session_id}.")


class ClassSessionInvalid(InvalidInput):
    """What is wrong with a schedule, field by field (`problems`: field -> words), so that a
    form shows each next to its field and the API names each in `details`."""

    def __init__(self, problems: dict[str, str]) -> None:
        summary = "; ".join(f"{name}: {words}" for name, words in problems.items())
        super().__init__(
            f"Invalid input: {summary}",
            details=[
                {"field": f"body.{name}", "message": words} for name, words in problems.items()
            ],
        )
        self.problems = problems


# --- whom a session expects ----------------------------------------------------------------
def _counts(enrollment_person: Any) -> ColumnElement[bool]:
    """An active enrollment (joined on the session's track) of an active person."""
    return and_(
        Enrollment.status == EnrollmentStatus.ACTIVE,
        Person.is_active.is_(True),
        Person.id == enrollment_person,
    )


def expected_pairs(*where: ColumnElement[bool]) -> Any:
    """(class_session_id, person_id) of every student each session matching `where`
    (conditions on ClassSession) expects now, by its audience. A subquery."""
    on_track = Enrollment.track_id == ClassSession.track_id
    listed = (
        select(ClassSession.id.label("class_session_id"), Person.id.label("person_id"))
        .join(ClassSessionStudent, ClassSessionStudent.class_session_id == ClassSession.id)
        .join(Enrollment, and_(on_track, Enrollment.person_id == ClassSessionStudent.person_id))
        .join(Person, _counts(Enrollment.person_id))
        .where(ClassSession.audience == Audience.LISTED, *where)
    )
    whole_track = (
        select(ClassSession.id, Person.id)
        .join(Enrollment, on_track)
        .join(Person, _counts(Enrollment.person_id))
        .where(ClassSession.audience == Audience.TRACK, *where)
    )
    trainers_students = (
        select(ClassSession.id, Person.id)
        .join(TrainerAssignment, TrainerAssignment.trainer_id == ClassSession.created_by_id)
        .join(Enrollment, and_(on_track, Enrollment.person_id == TrainerAssignment.student_id))
        .join(Person, _counts(Enrollment.person_id))
        .where(ClassSession.audience == Audience.TRAINER, *where)
    )
    return union_all(listed, whole_track, trainers_students).subquery("expected")


async def expected_students(
    session: AsyncSession, session_ids: list[int], caller: Principal | None = None
) -> dict[int, list[str]]:
    """Session id -> usernames it expects, by username; with `caller`, only the students
    whose records the caller may see (the one record rule of `access`)."""
    found: dict[int, list[str]] = {session_id: [] for session_id in session_ids}
    if not session_ids:
        return found
    pairs = expected_pairs(ClassSession.id.in_(session_ids))
    statement = select(pairs.c.class_session_id, Person.username).join(
        Person, Person.id == pairs.c.person_id
    )
    if caller is not None:
        statement = visible_records(statement, caller, pairs.c.person_id)
    for session_id, username in await session.execute(statement.order_by(Person.username)):
        found[session_id].append(username)
    return found


def eligible_students(track_id: int, trainer: str | None) -> Select[tuple[Person]]:
    """Who may be named for a session of the track: students actively enrolled in it, not
    deactivated, and (for a trainer) assigned to that trainer. By username."""
    statement = (
        select(Person)
        .join(Enrollment, Enrollment.person_id == Person.id)
        .where(
            Enrollment.track_id == track_id,
            Enrollment.status == EnrollmentStatus.ACTIVE,
            Person.is_active.is_(True),
        )
    )
    if trainer is not None:
        statement = statement.where(Person.id.in_(students_of_trainer(trainer)))
    return statement.order_by(Person.username)


# --- reading -------------------------------------------------------------------------------
def status_of(class_session: ClassSession, now: datetime) -> SessionStatus:
    """Cancelled, else by the clock: scheduled before the start, in progress until the end."""
    if class_session.cancelled_at is not None:
        return SessionStatus.CANCELLED
    if now < as_utc(class_session.starts_at):
        return SessionStatus.SCHEDULED
    if now < as_utc(class_session.ends_at):
        return SessionStatus.IN_PROGRESS
    return SessionStatus.ENDED


def visible_sessions(caller: Principal) -> Select[tuple[ClassSession]]:
    """The sessions `caller` may read: admins all; a trainer those they scheduled and those
    that expect one of their students; anyone else those that expect them."""
    statement = select(ClassSession).options(
        selectinload(ClassSession.track), selectinload(ClassSession.created_by)
    )
    if caller.role in ADMIN_ROLES:
        return statement
    me = select(Person.id).where(Person.username == caller.name).scalar_subquery()
    if caller.role in STAFF_ROLES:
        theirs = expected_pairs()
        involving = select(theirs.c.class_session_id).where(
            theirs.c.person_id.in_(students_of_trainer(caller.name))
        )
        return statement.where(
            or_(ClassSession.created_by_id == me, ClassSession.id.in_(involving))
        )
    mine = expected_pairs()
    return statement.where(
        ClassSession.id.in_(select(mine.c.class_session_id).where(mine.c.person_id == me))
    )


def list_sessions(
    caller: Principal,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    track: str | None = None,
) -> Select[tuple[ClassSession]]:
    """Visible sessions overlapping [since, until) (ending at or after `since`, starting
    before `until`), of one track, by start time (for `paginate`)."""
    statement = visible_sessions(caller)
    if since is not None:
        statement = statement.where(ClassSession.ends_at >= since)
    if until is not None:
        statement = statement.where(ClassSession.starts_at < until)
    if track is not None:
        statement = statement.where(
            ClassSession.track_id.in_(select(Track.id).where(Track.code == track))
        )
    return statement.order_by(ClassSession.starts_at, ClassSession.id)


async def visible_session(
    session: AsyncSession, caller: Principal, session_id: int
) -> ClassSession:
    """The session if `caller` may read it; otherwise ClassSessionNotFound (no existence
    leak)."""
    found = await session.scalar(
        visible_sessions(caller)
        .where(ClassSession.id == session_id)
        .execution_options(populate_existing=True)
    )
    if found is None:
        raise ClassSessionNotFound(session_id)
    return found


# --- scheduling and changing ---------------------------------------------------------------
def _require_staff(caller: Principal) -> None:
    if caller.role not in STAFF_ROLES:
        raise Forbidden("Only trainers and admins may schedule class sessions.")


def _check_scheduler(caller: Principal, class_session: ClassSession) -> None:
    """Staff; and a trainer only the sessions they scheduled (admins any)."""
    _require_staff(caller)
    if caller.role not in ADMIN_ROLES and class_session.created_by.username != caller.name:
        raise Forbidden("Only the trainer who scheduled this session, or an admin, may change it.")


def check_may_change(caller: Principal, class_session: ClassSession, now: datetime) -> None:
    """Its scheduler or an admin, and never once it is cancelled or has ended."""
    _check_scheduler(caller, class_session)
    if class_session.cancelled_at is not None:
        raise SessionCancelled("This session was cancelled; schedule a new one instead.")
    if status_of(class_session, now) == SessionStatus.ENDED:
        raise SessionEnded("This session has ended; its record cannot be changed.")


def may_change(caller: Principal, class_session: ClassSession, now: datetime) -> bool:
    """Whether `check_may_change` lets `caller` change or cancel it now (for a page's button)."""
    try:
        check_may_change(caller, class_session, now)
    except (Forbidden, Conflict):
        return False
    return True


def _check_window(
    problems: dict[str, str], starts_at: datetime, ends_at: datetime, now: datetime
) -> None:
    if ends_at <= starts_at:
        problems["ends_at"] = "must be after the start"
    elif ends_at - starts_at > MAX_DURATION:
        problems["ends_at"] = "a session lasts at most 12 hours"
    elif ends_at <= now:
        problems["ends_at"] = "must be in the future"
    if starts_at - now > MAX_AHEAD:
        problems["starts_at"] = "must be at most a year ahead"


def _names(usernames: list[str]) -> str:
    shown = ", ".join(usernames[:NAMES_SHOWN])
    more = len(usernames) - NAMES_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


async def _audience(
    session: AsyncSession,
    caller: Principal,
    track: Track,
    usernames: list[str],
    problems: dict[str, str],
) -> tuple[Audience, list[int]]:
    """The audience and named person ids for `usernames` as `caller` sends them: an empty
    list is the whole track for an admin, the trainer's own students for a trainer."""
    trainer = None if caller.role in ADMIN_ROLES else caller.name
    if not usernames:
        if trainer is None:
            return Audience.TRACK, []
        mine = eligible_students(track.id, trainer).order_by(None).limit(1)
        if await session.scalar(select(func.count()).select_from(mine.subquery())) == 0:
            problems["track"] = f"none of your students is active in {track.code}"
        return Audience.TRAINER, []
    found = dict(
        (
            await session.execute(
                select(Person.username, Person.id).where(
                    Person.id.in_(
                        eligible_students(track.id, trainer)
                        .where(Person.username.in_(usernames))
                        .with_only_columns(Person.id)
                        .order_by(None)
                    )
                )
            )
        )
        .tuples()
        .all()
    )
    missing = [name for name in usernames if name not in found]
    if missing:
        whose = "one of your students active" if trainer else "actively enrolled"
        problems["students"] = f"not {whose} in {track.code}: {_names(missing)}"
    return Audience.LISTED, [found[name] for name in usernames if name in found]


async def _name_students(
    session: AsyncSession, class_session_id: int, person_ids: list[int]
) -> None:
    """Replace the named students of a session."""
    await session.execute(
        ClassSessionStudent.__table__.delete().where(
            ClassSessionStudent.class_session_id == class_session_id
        )
    )
    for person_id in person_ids:
        session.add(ClassSessionStudent(class_session_id=class_session_id, person_id=person_id))
    await session.flush()


async def schedule(
    session: AsyncSession, caller: Principal, body: ClassSessionIn, now: datetime
) -> ClassSession:
    """Schedule a session (trainers for their students, admins for anyone), or
    ClassSessionInvalid naming every field that is wrong."""
    _require_staff(caller)
    problems: dict[str, str] = {}
    track = await session.scalar(select(Track).where(Track.code == body.track))
    if track is None:
        problems["track"] = f"there is no track {body.track!r}"
    elif body.workspace_kind not in track.workspace_kinds:
        problems["workspace_kind"] = _kind_words(track)
    _check_window(problems, body.starts_at, body.ends_at, now)
    audience, person_ids = Audience.LISTED, []
    if track is not None:
        audience, person_ids = await _audience(session, caller, track, body.students, problems)
    if problems:
        raise ClassSessionInvalid(problems)
    assert track is not None
    creator = await get_or_create_person(session, caller.name)
    class_session = ClassSession(
        title=body.title,
        track_id=track.id,
        workspace_kind=body.workspace_kind.value,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        audience=audience.value,
        created_by_id=creator.id,
    )
    session.add(class_session)
    await session.flush()
    await _name_students(session, class_session.id, person_ids)
    record_event(
        session,
        "class_session.scheduled",
        class_session_id=class_session.id,
        track=track.code,
        starts_at=body.starts_at.isoformat(),
        ends_at=body.ends_at.isoformat(),
        actor=caller.name,
    )
    return await _fresh(session, class_session.id)


def _kind_words(track: Track) -> str:
    kinds = ", ".join(track.workspace_kinds) or "none"
    return f"{track.code} gives these workspaces: {kinds}"


async def change(
    session: AsyncSession,
    caller: Principal,
    class_session: ClassSession,
    patch: ClassSessionPatch,
    now: datetime,
) -> ClassSession:
    """Change a session that has not ended (its scheduler or an admin)."""
    check_may_change(caller, class_session, now)
    problems: dict[str, str] = {}
    starts_at = patch.starts_at or as_utc(class_session.starts_at)
    ends_at = patch.ends_at or as_utc(class_session.ends_at)
    if patch.starts_at or patch.ends_at:
        _check_window(problems, starts_at, ends_at, now)
    kind = patch.workspace_kind
    if kind is not None and kind not in class_session.track.workspace_kinds:
        problems["workspace_kind"] = _kind_words(class_session.track)
    audience, person_ids = Audience(class_session.audience), None
    if patch.students is not None:
        audience, person_ids = await _audience(
            session, caller, class_session.track, patch.students, problems
        )
    if problems:
        raise ClassSessionInvalid(problems)
    if patch.title is not None:
        class_session.title = patch.title
    if kind is not None:
        class_session.workspace_kind = kind.value
    if patch.starts_at or patch.ends_at:
        class_session.starts_at, class_session.ends_at = starts_at, ends_at
    if person_ids is not None:
        class_session.audience = audience.value
        await session.flush()
        await _name_students(session, class_session.id, person_ids)
    await session.flush()
    record_event(
        session,
        "class_session.changed",
        class_session_id=class_session.id,
        fields=sorted(patch.model_fields_set),
        actor=caller.name,
    )
    return await _fresh(session, class_session.id)


async def cancel(
    session: AsyncSession, caller: Principal, class_session: ClassSession, now: datetime
) -> ClassSession:
    """Cancel a session that has not ended (its scheduler or an admin). Idempotent: a second
    cancel (a double click, or two at once) changes nothing and answers the same."""
    _check_scheduler(caller, class_session)
    if class_session.cancelled_at is None:
        check_may_change(caller, class_session, now)
        cancelled = await session.execute(
            update(ClassSession)
            .where(ClassSession.id == class_session.id, ClassSession.cancelled_at.is_(None))
            .values(cancelled_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if cancelled.rowcount == 1:  # not when a concurrent cancel came first
            record_event(
                session,
                "class_session.cancelled",
                class_session_id=class_session.id,
                actor=caller.name,
            )
    return await _fresh(session, class_session.id)


async def _fresh(session: AsyncSession, session_id: int) -> ClassSession:
    found = await session.scalar(
        select(ClassSession)
        .where(ClassSession.id == session_id)
        .options(selectinload(ClassSession.track), selectinload(ClassSession.created_by))
        .execution_options(populate_existing=True)
    )
    assert found is not None
    return found


# --- the hub: warm-up and workspace activity -----------------------------------------------
async def warm_up(
    session: AsyncSession, now: datetime, lead: timedelta
) -> tuple[list[ClassSession], dict[int, list[str]]]:
    """Sessions not cancelled that start within `lead` of `now` (the start itself included)
    or are in progress, by start; and whom each expects."""
    found = list(
        await session.scalars(
            select(ClassSession)
            .where(
                ClassSession.cancelled_at.is_(None),
                ClassSession.starts_at <= now + lead,
                ClassSession.ends_at > now,
            )
            .options(selectinload(ClassSession.track))
            .order_by(ClassSession.starts_at, ClassSession.id)
        )
    )
    return found, await expected_students(session, [s.id for s in found])


async def in_timed_attempts(session: AsyncSession, now: datetime) -> list[str]:
    """Students with a timed quiz attempt still running: the hub keeps their workspaces from
    the idle culler until the attempt's deadline, whatever the sessions."""
    return list(
        await session.scalars(
            select(Person.username)
            .join(QuizAttempt, QuizAttempt.person_id == Person.id)
            .where(
                QuizAttempt.status == AttemptStatus.IN_PROGRESS,
                QuizAttempt.deadline_at.is_not(None),
                QuizAttempt.deadline_at > now,
            )
            .distinct()
            .order_by(Person.username)
        )
    )


@dataclass
class _Seen:
    first: datetime
    last: datetime

    def widen(self, at: datetime) -> None:
        self.first, self.last = min(self.first, at), max(self.last, at)


async def record_activity(
    session: AsyncSession, entries: list[tuple[str, datetime]]
) -> ActivityRecorded:
    """For each (user, moment) the hub saw: every not-cancelled session whose window
    [starts_at, ends_at] holds the moment and that expects the user gets the moment in its
    first/last seen (earliest and latest kept, so a report sent twice changes nothing)."""
    names = sorted({user for user, _ in entries})
    people = dict(
        (
            await session.execute(
                select(Person.username, Person.id).where(Person.username.in_(names))
            )
        )
        .tuples()
        .all()
    )
    known = [(people[user], at) for user, at in entries if user in people]
    seen: dict[tuple[int, int], _Seen] = {}
    matched = 0
    if known:
        earliest, latest = min(at for _, at in known), max(at for _, at in known)
        pairs = expected_pairs(
            ClassSession.cancelled_at.is_(None),
            ClassSession.starts_at <= latest,
            ClassSession.ends_at >= earliest,
        )
        windows: dict[int, list[tuple[int, datetime, datetime]]] = {}
        rows = await session.execute(
            select(pairs.c.person_id, ClassSession.id, ClassSession.starts_at, ClassSession.ends_at)
            .join(ClassSession, ClassSession.id == pairs.c.class_session_id)
            .where(pairs.c.person_id.in_(sorted({person_id for person_id, _ in known})))
        )
        for person_id, session_id, starts_at, ends_at in rows:
            windows.setdefault(person_id, []).append(
                (session_id, as_utc(starts_at), as_utc(ends_at))
            )
        for person_id, at in known:
            inside = [s for s, starts, ends in windows.get(person_id, []) if starts <= at <= ends]
            matched += bool(inside)
            for session_id in inside:
                key = (session_id, person_id)
                if key in seen:
                    seen[key].widen(at)
                else:
                    seen[key] = _Seen(at, at)
    await _upsert_activity(session, seen)
    return ActivityRecorded(
        received=len(entries),
        recorded=len(seen),
        unknown_users=len([name for name in names if name not in people]),
        outside_sessions=len(known) - matched,
    )


async def _upsert_activity(session: AsyncSession, seen: dict[tuple[int, int], _Seen]) -> None:
    """INSERT ... ON CONFLICT DO UPDATE keeping the earliest first and the latest last seen:
    concurrent reports of the same student and session both count, in any order. Rows go in
    key order, so two reports lock rows in the same order (no deadlock on PostgreSQL)."""
    if not seen:
        return
    table = WorkspaceActivity.__table__
    postgres = session.get_bind().dialect.name == "postgresql"
    insert = postgresql.insert if postgres else sqlite.insert
    earlier, later = (func.least, func.greatest) if postgres else (func.min, func.max)
    rows = [
        {"class_session_id": s, "person_id": p, "first_seen_at": v.first, "last_seen_at": v.last}
        for (s, p), v in sorted(seen.items())
    ]
    for start in range(0, len(rows), UPSERT_CHUNK):
        statement = insert(table).values(rows[start : start + UPSERT_CHUNK])
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=["class_session_id", "person_id"],
                set_={
                    "first_seen_at": earlier(
                        table.c.first_seen_at, statement.excluded.first_seen_at
                    ),
                    "last_seen_at": later(table.c.last_seen_at, statement.excluded.last_seen_at),
                },
            )
        )


# --- attendance ----------------------------------------------------------------------------
def _lms_moments(person_ids: list[int], starts_at: datetime, ends_at: datetime) -> Any:
    """(person_id, at) of what the LMS records a student doing: a step marked done, a quiz
    attempt started, an answer saved, an attempt submitted (not one the clock ended), a hand-in
    (each version). Only inside [starts_at, ends_at]."""

    def moments(person: Any, at: Any, *where: Any) -> Select[Any]:
        return select(person.label("person_id"), at.label("at")).where(
            person.in_(person_ids), at >= starts_at, at <= ends_at, *where
        )

    return union_all(
        moments(StepCompletion.person_id, StepCompletion.created_at),
        moments(QuizAttempt.person_id, QuizAttempt.started_at),
        moments(
            QuizAttempt.person_id,
            QuizAttempt.submitted_at,
            QuizAttempt.status == AttemptStatus.SUBMITTED,
        ),
        moments(
            QuizAnswerEvent.person_id, QuizAnswerEvent.created_at, QuizAnswerEvent.kind == "save"
        ),
        moments(Submission.person_id, SubmissionVersion.created_at).join_from(
            SubmissionVersion, Submission, Submission.id == SubmissionVersion.submission_id
        ),
    ).subquery("moments")


async def attendance(
    session: AsyncSession,
    caller: Principal,
    class_session: ClassSession,
    now: datetime,
    late_after: timedelta,
) -> list[AttendanceRow]:
    """Each expected student the caller may see, by username: `upcoming` before the start;
    then the first activity in the window (workspace or LMS, whichever came first) makes them
    present (at most `late_after` after the start) or late; none so far is absent."""
    _require_staff(caller)
    if class_session.cancelled_at is not None:
        raise SessionCancelled("This session was cancelled: it has no attendance.")
    pairs = expected_pairs(ClassSession.id == class_session.id)
    students = (
        await session.execute(
            visible_records(
                select(Person.id, Person.username)
                .select_from(pairs)
                .join(Person, Person.id == pairs.c.person_id),
                caller,
                pairs.c.person_id,
            ).order_by(Person.username)
        )
    ).all()
    starts_at, ends_at = as_utc(class_session.starts_at), as_utc(class_session.ends_at)
    if now < starts_at:
        return [
            AttendanceRow(
                username=username,
                status=AttendanceStatus.UPCOMING,
                first_seen_at=None,
                source=ActivitySource.NONE,
            )
            for _, username in students
        ]
    ids = [person_id for person_id, _ in students]
    workspace = await _workspace_firsts(session, class_session.id, ids, starts_at, ends_at)
    moments = _lms_moments(ids, starts_at, ends_at)
    lms = dict(
        (
            await session.execute(
                select(moments.c.person_id, func.min(moments.c.at)).group_by(moments.c.person_id)
            )
        )
        .tuples()
        .all()
    )
    return [
        _row(username, workspace.get(person_id), lms.get(person_id), starts_at + late_after)
        for person_id, username in students
    ]


async def _workspace_firsts(
    session: AsyncSession,
    session_id: int,
    person_ids: list[int],
    starts_at: datetime,
    ends_at: datetime,
) -> dict[int, datetime]:
    """Person id -> the first moment their workspace was seen in use inside the window. The
    rows were written for the window as it was then: after a change of its times, a student
    seen before and after the new start counts from the start, one seen only outside not."""
    rows = await session.execute(
        select(
            WorkspaceActivity.person_id,
            WorkspaceActivity.first_seen_at,
            WorkspaceActivity.last_seen_at,
        ).where(
            WorkspaceActivity.class_session_id == session_id,
            WorkspaceActivity.person_id.in_(person_ids),
        )
    )
    firsts = {}
    for person_id, first, last in rows:
        first, last = as_utc(first), as_utc(last)
        if last >= starts_at and first <= ends_at:
            firsts[person_id] = max(first, starts_at)
    return firsts


def _row(
    username: str, workspace: datetime | None, lms: datetime | None, late_from: datetime
) -> AttendanceRow:
    seen = [
        (as_utc(at), source)
        for at, source in ((workspace, ActivitySource.WORKSPACE), (lms, ActivitySource.LMS))
        if at is not None
    ]
    if not seen:
        return AttendanceRow(
            username=username,
            status=AttendanceStatus.ABSENT,
            first_seen_at=None,
            source=ActivitySource.NONE,
        )
    first, source = min(seen, key=lambda pair: pair[0])
    status = AttendanceStatus.PRESENT if first <= late_from else AttendanceStatus.LATE
    return AttendanceRow(username=username, status=status, first_seen_at=first, source=source)
