"""Class-session values the API and the database share: no SQLAlchemy, so the notebook
client's schemas can use them."""

from enum import StrEnum


class SessionStatus(StrEnum):
    """Where a session stands, computed from the clock (never stored)."""

    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    ENDED = "ended"
    CANCELLED = "cancelled"


class Audience(StrEnum):
    """Whom a session expects, stored so that the rule is read again at every read.

    `listed`: the students named when it was scheduled (`class_session_students`); `track`:
    every student actively enrolled in the track (an admin scheduled it for the whole track);
    `trainer`: the students of the trainer who scheduled it, active in the track (a trainer
    scheduled it for the whole track, which for a trainer means their own students).
    """

    LISTED = "listed"
    TRACK = "track"
    TRAINER = "trainer"


class AttendanceStatus(StrEnum):
    PRESENT = "present"
    LATE = "late"
    ABSENT = "absent"
    UPCOMING = "upcoming"


class ActivitySource(StrEnum):
    """Where a student's first activity in a session's window was seen."""

    WORKSPACE = "workspace"
    LMS = "lms"
    NONE = "none"
