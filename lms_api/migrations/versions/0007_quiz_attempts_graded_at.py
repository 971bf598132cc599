"""quiz_attempts.graded_at: when an attempt was graded, for the analytics' incremental read

An attempt that runs out of time is graded lazily, possibly days later, with `submitted_at`
set to its deadline: reading "attempts submitted since the last run" never saw it. The time
of grading is what the pipeline reads by.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("quiz_attempts", sa.Column("graded_at", sa.DateTime(timezone=True)))
    op.execute(
        "UPDATE quiz_attempts SET graded_at = submitted_at WHERE status IN ('SUBMITTED', 'EXPIRED')"
    )
    op.create_index(
        op.f("ix_quiz_attempts_graded_at"), "quiz_attempts", ["graded_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_quiz_attempts_graded_at"), table_name="quiz_attempts")
    with op.batch_alter_table("quiz_attempts") as batch:
        batch.drop_column("graded_at")
