"""The staff's class-session pages: upcoming and recent sessions, scheduling one, a session
with its attendance, and cancelling (after a confirmation); and the few lines a student's
course page shows of the sessions they are expected at.

Staff only, as the API's staff routes; every rule is the class-sessions service's (who may
schedule for whom, who sees which session, 404 for the others). Times are shown and typed in
UTC: the school has no time-zone setting.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lms_api.auth import staff_user
from lms_api.class_sessions import service
from lms_api.class_sessions.enums import AttendanceStatus, Audience, SessionStatus
from lms_api.class_sessions.models import ClassSession, ClassSessionStudent
from lms_api.class_sessions.schemas import ClassSessionIn
from lms_api.curriculum.models import Track
from lms_api.database import MAX_ID, SessionDep
from lms_api.errors import SessionEnded
from lms_api.people.models import Person
from lms_api.portal.admin_people import done_redirect
from lms_api.portal.class_sessions_form import ScheduleForm, checked, choices, service_words, typed
from lms_api.portal.deliverables import when
from lms_api.portal.rendering import render
from lms_api.portal.signin import PageUser
from lms_api.portal.workspaces import KIND_NAMES
from lms_api.principal import Principal
from lms_api.timestamps import as_utc, utcnow

router = APIRouter()

SessionId = Annotated[int, Path(ge=1, le=MAX_ID, description="Class session id")]
RECENT = timedelta(days=30)  # how far back "recent sessions" go
SHOWN = 50  # sessions in each list
STUDENT_SHOWN = 5  # sessions on a student's course page
REPEAT_WINDOW = timedelta(minutes=10)  # how recent "the same schedule by the same person" is
STATUS_WORDS = {
    SessionStatus.SCHEDULED: ("Scheduled", "info"),
    SessionStatus.IN_PROGRESS: ("In progress", "success"),
    SessionStatus.ENDED: ("Ended", "secondary"),
    SessionStatus.CANCELLED: ("Cancelled", "warning"),
}
ATTENDANCE_WORDS = {
    AttendanceStatus.PRESENT: ("Present", "success"),
    AttendanceStatus.LATE: ("Late", "warning"),
    AttendanceStatus.ABSENT: ("Absent", "danger"),
    AttendanceStatus.UPCOMING: ("Upcoming", "secondary"),
}
SOURCE_WORDS = {"workspace": "Workspace", "lms": "LMS (steps, quizzes, hand-ins)", "none": "—"}
DONE_WORDS = {"scheduled": "Scheduled.", "cancelled": "Cancelled."}


@dataclass
class SessionRow:
    """A session as the lists show it."""

    session: ClassSession
    status: SessionStatus
    expected: list[str]  # the students the viewer may see


def window(class_session: ClassSession) -> str:
    """`2026-01-05 09:00 to 11:00 UTC`, or both ends in full across midnight."""
    starts, ends = as_utc(class_session.starts_at), as_utc(class_session.ends_at)
    if starts.date() == ends.date():
        return f"{starts:%Y-%m-%d %H:%M} to {ends:%H:%M} UTC"
    return f"{when(starts)} to {when(ends)}"


def kind_name(kind: str) -> str:
    return KIND_NAMES.get(kind, (kind, ""))[0]


async def rows_of(
    session: AsyncSession, user: Principal, found: list[ClassSession], now: datetime
) -> list[SessionRow]:
    expected = await service.expected_students(session, [s.id for s in found], user)
    return [SessionRow(s, service.status_of(s, now), expected[s.id]) for s in found]


def _context(**extra: object) -> dict[str, object]:
    return {
        "nav": "sessions",
        "statuses": STATUS_WORDS,
        "window": window,
        "kind_name": kind_name,
        "when": when,
        **extra,
    }


# --- the list ------------------------------------------------------------------------------
@router.get("/sessions")
async def sessions_list(request: Request, user: PageUser, session: SessionDep) -> Response:
    """Upcoming and in-progress sessions by start, then those that ended in the last 30 days,
    newest first (`GET /api/v1/class-sessions`'s visibility)."""
    await staff_user(user)
    now = utcnow()
    visible = service.list_sessions(user)
    upcoming = visible.where(ClassSession.ends_at > now).limit(SHOWN)
    recent = (
        visible.where(ClassSession.ends_at <= now, ClassSession.ends_at > now - RECENT)
        .order_by(None)
        .order_by(ClassSession.starts_at.desc(), ClassSession.id.desc())
        .limit(SHOWN)
    )
    return render(
        request,
        "class_sessions.html",
        _context(
            upcoming=await rows_of(session, user, list(await session.scalars(upcoming)), now),
            recent=await rows_of(session, user, list(await session.scalars(recent)), now),
            recent_days=RECENT.days,
        ),
        user=user,
    )


# --- scheduling ----------------------------------------------------------------------------
async def _form_page(
    request: Request,
    session: AsyncSession,
    user: Principal,
    form: ScheduleForm,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "class_sessions_new.html",
        _context(form=form, choices=await choices(session, user)),
        status_code=status_code,
        user=user,
    )


@router.get("/sessions/new")
async def schedule_page(request: Request, user: PageUser, session: SessionDep) -> Response:
    """The "Schedule a session" form."""
    await staff_user(user)
    return await _form_page(request, session, user, ScheduleForm())


async def _repeat_of(
    session: AsyncSession, user: Principal, body: ClassSessionIn, now: datetime
) -> int | None:
    """A second click: the same session, scheduled by the same person just now."""
    candidates = await session.scalars(
        select(ClassSession)
        .join(Person, Person.id == ClassSession.created_by_id)
        .join(Track, Track.id == ClassSession.track_id)
        .where(
            Person.username == user.name,
            Track.code == body.track,
            ClassSession.title == body.title,
            ClassSession.starts_at == body.starts_at,
            ClassSession.ends_at == body.ends_at,
            ClassSession.workspace_kind == body.workspace_kind.value,
            ClassSession.cancelled_at.is_(None),
            ClassSession.created_at > now - REPEAT_WINDOW,
        )
    )
    for candidate in candidates:
        named = await session.scalars(
            select(Person.username)
            .join(ClassSessionStudent, ClassSessionStudent.person_id == Person.id)
            .where(ClassSessionStudent.class_session_id == candidate.id)
        )
        listed = candidate.audience == Audience.LISTED
        if listed == bool(body.students) and sorted(named) == sorted(body.students):
            return candidate.id
    return None


@router.post("/sessions/new")
async def post_schedule(request: Request, user: PageUser, session: SessionDep) -> Response:
    """`POST /api/v1/class-sessions` from the form: 303 to the session, or the form again
    with each problem next to its field (422). A double click schedules once."""
    await staff_user(user)
    form = typed(await request.form())
    body = checked(form)
    if body is None:
        return await _form_page(request, session, user, form, 422)
    now = utcnow()
    repeat = await _repeat_of(session, user, body, now)
    if repeat is not None:
        return done_redirect(request, f"sessions/{repeat}", "scheduled")
    try:
        made = await service.schedule(session, user, body, now)
    except service.ClassSessionInvalid as exc:
        form.errors.update(service_words(exc.problems))
        return await _form_page(request, session, user, form, exc.status)
    return done_redirect(request, f"sessions/{made.id}", "scheduled")


# --- one session, and cancelling it --------------------------------------------------------
@router.get("/sessions/{session_id}")
async def session_page(
    request: Request, user: PageUser, session: SessionDep, session_id: SessionId
) -> Response:
    """One session: when, where, whom it expects, and its attendance (the API's
    `GET /class-sessions/{id}/attendance`: a trainer sees their own students)."""
    await staff_user(user)
    found = await service.visible_session(session, user, session_id)
    now = utcnow()
    [row] = await rows_of(session, user, [found], now)
    settings = request.app.state.settings
    attendance = None
    if row.status != SessionStatus.CANCELLED:
        late_after = timedelta(minutes=settings.session_late_after_minutes)
        attendance = await service.attendance(session, user, found, now, late_after)
    return render(
        request,
        "class_session.html",
        _context(
            row=row,
            attendance=attendance,
            attendance_words=ATTENDANCE_WORDS,
            source_words=SOURCE_WORDS,
            late_after=settings.session_late_after_minutes,
            may_cancel=service.may_change(user, found, now),
            done=DONE_WORDS.get(request.query_params.get("done") or ""),
        ),
        user=user,
    )


async def _cancel_page(
    request: Request,
    session: AsyncSession,
    user: Principal,
    found: ClassSession,
    problem: str = "",
    status_code: int = 200,
) -> Response:
    now = utcnow()
    [row] = await rows_of(session, user, [found], now)
    return render(
        request,
        "class_session_cancel.html",
        _context(row=row, may_cancel=service.may_change(user, found, now), problem=problem),
        status_code=status_code,
        user=user,
    )


@router.get("/sessions/{session_id}/cancel")
async def cancel_page(
    request: Request, user: PageUser, session: SessionDep, session_id: SessionId
) -> Response:
    """The confirmation step before a cancel."""
    await staff_user(user)
    found = await service.visible_session(session, user, session_id)
    return await _cancel_page(request, session, user, found)


@router.post("/sessions/{session_id}/cancel")
async def post_cancel(
    request: Request, user: PageUser, session: SessionDep, session_id: SessionId
) -> Response:
    """`POST /api/v1/class-sessions/{id}/cancel` from the confirmation: 303 to the session
    (a second click too); a session that has ended is the confirmation page with why (409)."""
    await staff_user(user)
    found = await service.visible_session(session, user, session_id)
    try:
        await service.cancel(session, user, found, utcnow())
    except SessionEnded as exc:
        return await _cancel_page(request, session, user, found, exc.message, exc.status)
    return done_redirect(request, f"sessions/{found.id}", "cancelled")


# --- the student's course page -------------------------------------------------------------
async def upcoming_for(session: AsyncSession, user: Principal) -> list[SessionRow]:
    """The next sessions a student is expected at (in progress first), cancelled ones
    included so that they know."""
    now = utcnow()
    found = await session.scalars(
        service.list_sessions(user).where(ClassSession.ends_at > now).limit(STUDENT_SHOWN)
    )
    return await rows_of(session, user, list(found), now)
