"""lms core: profiles, assignments, curriculum details, enrollment history, progress, outbox

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 00:38:38.908130
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "outbox_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_events")),
    )
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_events_topic"), ["topic"], unique=False)

    op.create_table(
        "trainer_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trainer_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("assigned_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["people.id"],
            name=op.f("fk_trainer_assignments_student_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["trainer_id"],
            ["people.id"],
            name=op.f("fk_trainer_assignments_trainer_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trainer_assignments")),
        sa.UniqueConstraint("student_id", name=op.f("uq_trainer_assignments_student_id")),
    )
    with op.batch_alter_table("trainer_assignments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_trainer_assignments_trainer_id"), ["trainer_id"], unique=False
        )

    op.create_table(
        "deliverables",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_deliverables_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliverables")),
    )
    op.create_table(
        "enrollment_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrollment_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enrollment_id"],
            ["enrollments.id"],
            name=op.f("fk_enrollment_events_enrollment_id_enrollments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollment_events")),
    )
    with op.batch_alter_table("enrollment_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_enrollment_events_enrollment_id"), ["enrollment_id"], unique=False
        )

    op.create_table(
        "step_completions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("step_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_step_completions_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["step_id"],
            ["project_steps.id"],
            name=op.f("fk_step_completions_step_id_project_steps"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_step_completions")),
        sa.UniqueConstraint(
            "person_id", "step_id", name=op.f("uq_step_completions_person_id_step_id")
        ),
    )
    with op.batch_alter_table("step_completions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_step_completions_step_id"), ["step_id"], unique=False)

    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("name", sa.String(length=200), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("email", sa.String(length=320), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "assigned_students", sa.Integer(), server_default=sa.text("0"), nullable=False
            )
        )
        batch_op.add_column(
            sa.Column(
                "updated_at",
                sa.DateTime(timezone=True),
                server_default=sa.text("CURRENT_TIMESTAMP"),
                nullable=False,
            )
        )

    with op.batch_alter_table("project_steps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("description", sa.Text(), server_default="", nullable=False))

    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("type", sa.String(length=16), server_default="INTERNAL", nullable=False)
        )
        batch_op.add_column(sa.Column("tech_stack", sa.JSON(), server_default="[]", nullable=False))
        batch_op.add_column(
            sa.Column("estimated_hours", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )

    with op.batch_alter_table("tracks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("price_cents", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.add_column(
            sa.Column("currency", sa.String(length=3), server_default="eur", nullable=False)
        )
        batch_op.add_column(
            sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False)
        )


def downgrade() -> None:

    with op.batch_alter_table("tracks", schema=None) as batch_op:
        batch_op.drop_column("is_active")
        batch_op.drop_column("currency")
        batch_op.drop_column("price_cents")

    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("estimated_hours")
        batch_op.drop_column("tech_stack")
        batch_op.drop_column("type")

    with op.batch_alter_table("project_steps", schema=None) as batch_op:
        batch_op.drop_column("description")

    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("updated_at")
        batch_op.drop_column("assigned_students")
        batch_op.drop_column("is_active")
        batch_op.drop_column("email")
        batch_op.drop_column("name")

    with op.batch_alter_table("step_completions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_step_completions_step_id"))

    op.drop_table("step_completions")
    with op.batch_alter_table("enrollment_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enrollment_events_enrollment_id"))

    op.drop_table("enrollment_events")
    op.drop_table("deliverables")
    with op.batch_alter_table("trainer_assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trainer_assignments_trainer_id"))

    op.drop_table("trainer_assignments")
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_events_topic"))

    op.drop_table("outbox_events")
