"""Enrollment: a person in a track; the status decides workspace access."""

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms_api.curriculum.models import Track
from lms_api.database import Base
from lms_api.enrollments.enums import EnrollmentSource, EnrollmentStatus
from lms_api.people.models import Person
from lms_api.timestamps import CreatedAt, utcnow


class Enrollment(CreatedAt, Base):
    __tablename__ = "enrollments"
    __table_args__ = (UniqueConstraint("person_id", "track_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(32), default=EnrollmentStatus.PENDING_PAYMENT)
    source: Mapped[str] = mapped_column(String(32), default=EnrollmentSource.GRANT)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    person: Mapped[Person] = relationship()
    track: Mapped[Track] = relationship()


class EnrollmentEvent(CreatedAt, Base):
    """History of an enrollment: every status change, who made it and why."""

    __tablename__ = "enrollment_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(
        ForeignKey("enrollments.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(String(500), default="")
