"""People: the LMS profile of a hub user (identity and role stay in the hub)."""

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms_api.database import Base
from lms_api.timestamps import CreatedAt, utcnow


class Person(CreatedAt, Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    email: Mapped[str] = mapped_column(String(320), default="", server_default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # How many students this person trains: kept by one conditional UPDATE, so concurrent
    # assignments can never pass the cap (see people.service.assign_trainer).
    assigned_students: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True),
        default=utcnow,
        onupdate=utcnow,
        server_default=text("CURRENT_TIMESTAMP"),
    )


class TrainerAssignment(CreatedAt, Base):
    """A student's trainer: one per student."""

    __tablename__ = "trainer_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    trainer_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    student_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), unique=True
    )
    assigned_by: Mapped[str] = mapped_column(String(255), default="")

    trainer: Mapped[Person] = relationship(foreign_keys=[trainer_id])
    student: Mapped[Person] = relationship(foreign_keys=[student_id])
