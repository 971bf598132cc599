"""Submissions: a student's work for one deliverable, every version kept, and its reviews.

One `Submission` per student and deliverable carries the current status; each (re)submission
adds a `SubmissionVersion` (a link, or a stored file named by its SHA-256); every status
change adds a `SubmissionEvent` (the history, with the reviewer's feedback).
"""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms_api.curriculum.models import Deliverable
from lms_api.database import Base
from lms_api.people.models import Person
from lms_api.submissions.enums import SubmissionStatus
from lms_api.timestamps import CreatedAt, utcnow


class Submission(CreatedAt, Base):
    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("person_id", "deliverable_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    # RESTRICT: a deliverable with students' work cannot be deleted by accident.
    deliverable_id: Mapped[int] = mapped_column(
        ForeignKey("deliverables.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[str] = mapped_column(String(32), default=SubmissionStatus.SUBMITTED)
    # Number of the latest version; bumped by one conditional UPDATE per (re)submission.
    current_version: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    person: Mapped[Person] = relationship()
    deliverable: Mapped[Deliverable] = relationship()
    versions: Mapped[list["SubmissionVersion"]] = relationship(
        order_by="SubmissionVersion.number", viewonly=True
    )


class SubmissionVersion(CreatedAt, Base):
    """One (re)submission: either `url`, or a file stored outside the database by `sha256`."""

    __tablename__ = "submission_versions"
    __table_args__ = (UniqueConstraint("submission_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    url: Mapped[str | None] = mapped_column(String(2000))
    filename: Mapped[str | None] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(100))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="", server_default="")


class SubmissionEvent(CreatedAt, Base):
    """History: every status change of a submission, who made it, and the feedback."""

    __tablename__ = "submission_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(255))
    feedback: Mapped[str] = mapped_column(Text, default="", server_default="")
