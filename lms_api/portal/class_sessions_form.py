"""The "Schedule a session" form: what the viewer may choose, what they typed, and each
problem in words next to its field.

The form takes a date and start and end times in UTC (the school has no time-zone setting,
and the label says so). What it sends is checked by the API's own body schema
(`ClassSessionIn`) and then by the class-sessions service, the rules the API applies.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from lms_api.access import students_of_trainer
from lms_api.class_sessions.schemas import MAX_STUDENTS, ClassSessionIn
from lms_api.curriculum.models import Track
from lms_api.curriculum.service import tracks_query
from lms_api.enrollments.enums import EnrollmentStatus
from lms_api.enrollments.models import Enrollment
from lms_api.people.models import Person
from lms_api.principal import ADMIN_ROLES, Principal

STUDENTS_SHOWN = 200  # checkboxes on one form; beyond that, the whole track or the API
# The service names the API's fields; the form shows them next to its own.
FORM_FIELD = {"starts_at": "start", "ends_at": "end"}
FIELD_WORDS = {
    "title": "Give the session a title of at most 200 characters, without control characters.",
    "track": "Choose a track from the list.",
    "workspace_kind": "Choose a workspace from the list.",
    "students": "Choose students from the list.",
    "start": "Enter a start time, like 09:00.",
    "end": "Enter an end time, like 11:00.",
}


@dataclass
class ScheduleForm:
    """What the viewer typed, and the problem with each field."""

    title: str = ""
    track: str = ""
    date: str = ""
    start: str = ""
    end: str = ""
    workspace_kind: str = ""
    students: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class Choices:
    """What the viewer may pick: tracks they may schedule for, the workspaces those give,
    and the students they may name, by track."""

    tracks: list[Track]
    kinds: dict[str, list[str]]  # kind -> codes of the tracks that give it
    students: dict[str, list[str]]  # track code -> usernames
    more_students: bool  # some were left out (STUDENTS_SHOWN)


async def choices(session: AsyncSession, user: Principal) -> Choices:
    """Admins: every track and its active students; a trainer: the tracks where one of their
    students is active, and those students (the service refuses anything else anyway)."""
    statement = (
        select(Track.code, Person.username)
        .join(Enrollment, Enrollment.track_id == Track.id)
        .join(Person, Person.id == Enrollment.person_id)
        .where(Enrollment.status == EnrollmentStatus.ACTIVE, Person.is_active.is_(True))
        .order_by(Track.code, Person.username)
        .limit(STUDENTS_SHOWN + 1)
    )
    admin = user.role in ADMIN_ROLES
    if not admin:
        statement = statement.where(Person.id.in_(students_of_trainer(user.name)))
    found = (await session.execute(statement)).tuples().all()
    students: dict[str, list[str]] = {}
    for code, username in found[:STUDENTS_SHOWN]:
        students.setdefault(code, []).append(username)
    tracks = list(await session.scalars(tracks_query()))
    if not admin:
        tracks = [t for t in tracks if t.code in students]
    kinds: dict[str, list[str]] = {}
    for track in tracks:
        for kind in track.workspace_kinds:
            kinds.setdefault(kind, []).append(track.code)
    return Choices(tracks, kinds, students, len(found) > STUDENTS_SHOWN)


def typed(data: FormData) -> ScheduleForm:
    def text(name: str) -> str:
        value = data.get(name)
        return value.strip() if isinstance(value, str) else ""

    return ScheduleForm(
        title=text("title"),
        track=text("track"),
        date=text("date"),
        start=text("start"),
        end=text("end"),
        workspace_kind=text("workspace_kind"),
        students=[s for s in data.getlist("students") if isinstance(s, str)][: MAX_STUDENTS + 1],
    )


def _moment(day: date | None, clock: str, name: str, errors: dict[str, str]) -> datetime | None:
    try:
        at = time.fromisoformat(clock)
    except ValueError:
        errors[name] = FIELD_WORDS[name]
        return None
    if at.tzinfo is not None:  # the form's times are UTC, as its label says
        errors[name] = FIELD_WORDS[name]
        return None
    return None if day is None else datetime.combine(day, at, tzinfo=UTC)


def checked(form: ScheduleForm) -> ClassSessionIn | None:
    """The API's body for what was typed, or None with `form.errors` filled in."""
    day = None
    try:
        day = date.fromisoformat(form.date)
    except ValueError:
        form.errors["date"] = "Enter a date, like 2026-01-05."
    starts_at = _moment(day, form.start, "start", form.errors)
    ends_at = _moment(day, form.end, "end", form.errors)
    values: dict[str, Any] = {
        "title": form.title,
        "track": form.track,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "workspace_kind": form.workspace_kind,
        "students": form.students,
    }
    try:
        body = ClassSessionIn.model_validate(values)
    except ValidationError as exc:
        for problem in exc.errors():
            name = str(problem["loc"][0]) if problem["loc"] else "title"
            name = FORM_FIELD.get(name, name)
            if name in FIELD_WORDS and name not in ("start", "end"):
                form.errors.setdefault(name, FIELD_WORDS[name])
        return None
    return None if form.errors else body


def service_words(problems: dict[str, str]) -> dict[str, str]:
    """The service's problems (API field names, words to follow the field's name) as the
    form shows them: next to its own field, as a sentence."""
    return {
        FORM_FIELD.get(name, name): words[:1].upper() + words[1:] + "."
        for name, words in problems.items()
    }
