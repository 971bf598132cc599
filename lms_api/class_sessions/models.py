"""Class sessions: a trainer's class in a track, at a time, in one kind of workspace; who it
expects; and when each expected student's workspace was seen in use during it.

Named `ClassSession` (table `class_sessions`): `session` is the database session everywhere
in this code base.
"""

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms_api.class_sessions.enums import Audience
from lms_api.curriculum.models import Track
from lms_api.database import Base
from lms_api.people.models import Person
from lms_api.timestamps import CreatedAt, utcnow


class ClassSession(CreatedAt, Base):
    __tablename__ = "class_sessions"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    # CASCADE: a track is deleted only when nobody was ever enrolled or paid (curriculum
    # service), so its sessions expected nobody.
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"), index=True)
    workspace_kind: Mapped[str] = mapped_column(String(32))
    # Indexed: the hub's warm-up and the lists read sessions by time.
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    audience: Mapped[str] = mapped_column(String(16), default=Audience.LISTED)
    # RESTRICT: who scheduled a session stays known (profiles are closed, never deleted).
    created_by_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="RESTRICT"), index=True
    )
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    track: Mapped[Track] = relationship()
    created_by: Mapped[Person] = relationship()


class ClassSessionStudent(Base):
    """A student named for a session (audience `listed`)."""

    __tablename__ = "class_session_students"

    class_session_id: Mapped[int] = mapped_column(
        ForeignKey("class_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class WorkspaceActivity(Base):
    """What the hub reported: the first and last moment a student's workspace was seen in use
    inside a session's window. One row per student and session, widened by each report."""

    __tablename__ = "workspace_activity"
    __table_args__ = (UniqueConstraint("class_session_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    class_session_id: Mapped[int] = mapped_column(
        ForeignKey("class_sessions.id", ondelete="CASCADE")
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
