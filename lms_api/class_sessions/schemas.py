"""Class-session shapes: what trainers send and read, and what the hub asks and reports.

Only pydantic (and the shared types): the notebook client's distribution ships this module.
"""

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    field_validator,
)

from lms_api.class_sessions.enums import (
    ActivitySource,
    AttendanceStatus,
    Audience,
    SessionStatus,
)
from lms_api.curriculum.enums import WorkspaceKind
from lms_api.enrollments.schemas import Username, UtcDatetime
from lms_api.pages import Page
from lms_api.types import Line

MAX_STUDENTS = 500  # named students of one session
MAX_ACTIVITY = 5000  # entries of one activity report (the hub sends every running user)

# An ISO 8601 date and time with its zone: what every instant a client sends must look like
# (a time without a zone would be read in some unknown zone).
INSTANT_PATTERN = r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})$"
INSTANT_WORDS = "must be a date and time with its zone, like 2026-01-05T09:00:00Z"


def _instant_text(value: Any) -> Any:
    """Only text in the documented form (or a datetime, from code): no Unix numbers."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not re.fullmatch(INSTANT_PATTERN, value):
        raise ValueError(INSTANT_WORDS)
    return value


def _in_utc(value: datetime) -> datetime:
    """Stored and compared in UTC; a moment that has no UTC equivalent (year 1 east of
    Greenwich, year 9999 west of it) is refused as invalid input, not a server error."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range") from None


Instant = Annotated[
    AwareDatetime,
    BeforeValidator(_instant_text),
    AfterValidator(_in_utc),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": INSTANT_PATTERN}),
]
Title = Annotated[Line, StringConstraints(min_length=1, max_length=200)]
TrackCode = Annotated[Line, StringConstraints(min_length=1, max_length=16)]


def _no_repeats(usernames: list[str]) -> list[str]:
    if len(set(usernames)) != len(usernames):
        raise ValueError("a student is named twice")
    return usernames


Students = Annotated[
    list[Username],
    Field(
        max_length=MAX_STUDENTS,
        description="The students expected; empty: the whole track (for a trainer, their own "
        "students active in the track). Each must be actively enrolled in the track (and, "
        "for a trainer, one of their students).",
        examples=[["ada", "grace"]],
    ),
    AfterValidator(_no_repeats),
]

_EXAMPLE_IN = {
    "title": "SQL joins, live",
    "track": "DP",
    "starts_at": "2026-01-05T09:00:00Z",
    "ends_at": "2026-01-05T11:00:00Z",
    "workspace_kind": "jupyterlab",
    "students": [],
}


class ClassSessionIn(BaseModel):
    """Schedule a session: a track, a window (at most 12 hours, ending in the future, starting
    at most a year ahead), a workspace kind the track gives, and optionally named students."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [_EXAMPLE_IN]}
    )

    title: Title = Field(examples=["SQL joins, live"])
    track: TrackCode = Field(description="Track code", examples=["DP"])
    starts_at: Instant = Field(examples=["2026-01-05T09:00:00Z"])
    ends_at: Instant = Field(examples=["2026-01-05T11:00:00Z"])
    workspace_kind: WorkspaceKind = Field(examples=[WorkspaceKind.JUPYTERLAB])
    students: Students = Field(default_factory=list)


class ClassSessionPatch(BaseModel):
    """Change a session that has not ended: leave a field out to keep it (`null` is refused).
    `students` replaces the list; `[]` makes it the whole track again."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"ends_at": "2026-01-05T11:30:00Z"}]},
    )

    title: Title | None = Field(default=None, examples=["SQL joins, live (part 2)"])
    starts_at: Instant | None = Field(default=None, examples=["2026-01-05T09:00:00Z"])
    ends_at: Instant | None = Field(default=None, examples=["2026-01-05T11:30:00Z"])
    workspace_kind: WorkspaceKind | None = Field(default=None, examples=[WorkspaceKind.SUPERSET])
    students: Students | None = None

    @field_validator("*", mode="after")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Only runs for fields the client sent (defaults are not validated).
        if value is None:
            raise ValueError("must not be null; leave the field out to keep its value")
        return value


class ClassSessionOut(BaseModel):
    """A session as its readers see it; `status` comes from the clock of the request."""

    id: int = Field(examples=[7])
    title: str = Field(examples=["SQL joins, live"])
    track_code: str = Field(examples=["DP"])
    track_name: str = Field(examples=["Data Professional"])
    workspace_kind: str = Field(examples=["jupyterlab"])
    starts_at: UtcDatetime = Field(examples=["2026-01-05T09:00:00Z"])
    ends_at: UtcDatetime = Field(examples=["2026-01-05T11:00:00Z"])
    status: SessionStatus = Field(examples=[SessionStatus.SCHEDULED])
    audience: Audience = Field(
        description="`listed`: the named students; `track`: every student active in the "
        "track; `trainer`: the scheduling trainer's students active in the track",
        examples=[Audience.TRAINER],
    )
    expected_students: list[str] = Field(
        description="Usernames expected, resolved now (a student who withdrew or was "
        "deactivated is no longer expected); only those whose records the caller may see: "
        "all for admins, their own students for a trainer, themselves for a student",
        examples=[["ada", "grace"]],
    )
    created_by: str = Field(examples=["trainer"])
    created_at: UtcDatetime = Field(examples=["2025-12-20T14:02:11Z"])
    cancelled_at: UtcDatetime | None = Field(examples=[None])


class ClassSessionPage(Page[ClassSessionOut]):
    """`GET /class-sessions`: one page of sessions, by start time."""


class AttendanceRow(BaseModel):
    """One expected student: present (first activity at most the late threshold after the
    start), late (later, before the end), absent (none in the window so far), upcoming."""

    username: str = Field(examples=["ada"])
    status: AttendanceStatus = Field(examples=[AttendanceStatus.PRESENT])
    first_seen_at: UtcDatetime | None = Field(
        description="The first activity inside the session's window, workspace or LMS",
        examples=["2026-01-05T09:03:12Z"],
    )
    source: ActivitySource = Field(examples=[ActivitySource.WORKSPACE])


class AttendanceSummary(BaseModel):
    present: int = Field(examples=[12])
    late: int = Field(examples=[2])
    absent: int = Field(examples=[1])
    upcoming: int = Field(examples=[0])


class AttendanceOut(BaseModel):
    """Attendance of one session, by username."""

    session: ClassSessionOut
    late_after_minutes: int = Field(
        description="APRANOVA_SESSION_LATE_AFTER_MINUTES: a first activity later than this "
        "after the start is late",
        examples=[10],
    )
    summary: AttendanceSummary
    students: list[AttendanceRow]


class WarmUpSession(BaseModel):
    """A session whose students' workspaces the hub should have running."""

    id: int = Field(examples=[7])
    title: str = Field(examples=["SQL joins, live"])
    track_code: str = Field(examples=["DP"])
    workspace_kind: str = Field(examples=["jupyterlab"])
    starts_at: UtcDatetime = Field(examples=["2026-01-05T09:00:00Z"])
    ends_at: UtcDatetime = Field(examples=["2026-01-05T11:00:00Z"])
    expected_students: list[str] = Field(
        description="Usernames whose enrollment is active and whose account is not deactivated",
        examples=[["ada", "grace"]],
    )


class WarmUpOut(BaseModel):
    """Sessions not cancelled that start within `lead_minutes` of `now` or are in progress."""

    now: UtcDatetime = Field(
        description="The LMS's clock for this answer", examples=["2026-01-05T08:52:00Z"]
    )
    lead_minutes: int = Field(examples=[10])
    sessions: list[WarmUpSession]
    in_timed_attempts: list[str] = Field(
        default_factory=list,
        description="Students in a timed quiz attempt that is still running: their "
        "workspaces are not culled, session or not",
        examples=[["grace"]],
    )


class ActivityEntry(BaseModel):
    """A user's workspace seen in use at a moment (JupyterHub's `last_activity`)."""

    model_config = ConfigDict(extra="forbid")

    user: Line = Field(min_length=1, max_length=255, examples=["ada"])
    at: Instant = Field(examples=["2026-01-05T09:03:12Z"])


class ActivityReport(BaseModel):
    """What the hub saw since its last report; sending the same report twice changes nothing."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"activity": [{"user": "ada", "at": "2026-01-05T09:03:12Z"}]}]
        },
    )

    activity: list[ActivityEntry] = Field(max_length=MAX_ACTIVITY)


class ActivityRecorded(BaseModel):
    """What a report changed."""

    received: int = Field(description="Entries in the report", examples=[3])
    recorded: int = Field(
        description="(student, session) pairs whose first/last seen were written or widened",
        examples=[2],
    )
    unknown_users: int = Field(
        description="Distinct usernames the LMS has no profile of (ignored)", examples=[1]
    )
    outside_sessions: int = Field(
        description="Entries of known users inside no window of a session that expects them "
        "(ignored)",
        examples=[0],
    )
