"""Progress: which steps a student has marked done."""

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lms_api.database import Base
from lms_api.timestamps import CreatedAt


class StepCompletion(CreatedAt, Base):
    """`created_at` is when the step was marked done; marking again changes nothing."""

    __tablename__ = "step_completions"
    __table_args__ = (UniqueConstraint("person_id", "step_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    step_id: Mapped[int] = mapped_column(
        ForeignKey("project_steps.id", ondelete="CASCADE"), index=True
    )
