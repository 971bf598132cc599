"""Curriculum: tracks, their projects, the ordered steps and the deliverables of each project."""

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms_api.curriculum.enums import ProjectType
from lms_api.database import Base


class Track(Base):
    __tablename__ = "tracks"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    duration_weeks: Mapped[int] = mapped_column(Integer, default=12)
    workspace_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Price of enrollment in the smallest unit of `currency` (cents), as Stripe counts it.
    price_cents: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    currency: Mapped[str] = mapped_column(String(3), default="eur", server_default="eur")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    projects: Mapped[list["Project"]] = relationship(
        back_populates="track", order_by="Project.number", cascade="all, delete-orphan"
    )


class Project(Base):
    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("track_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    type: Mapped[str] = mapped_column(
        String(16), default=ProjectType.INTERNAL, server_default=ProjectType.INTERNAL.value
    )
    tech_stack: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    estimated_hours: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))

    track: Mapped[Track] = relationship(back_populates="projects")
    steps: Mapped[list["ProjectStep"]] = relationship(
        back_populates="project", order_by="ProjectStep.order", cascade="all, delete-orphan"
    )
    deliverables: Mapped[list["Deliverable"]] = relationship(
        back_populates="project", order_by="Deliverable.id", cascade="all, delete-orphan"
    )


class ProjectStep(Base):
    __tablename__ = "project_steps"
    __table_args__ = (UniqueConstraint("project_id", "order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    order: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")

    project: Mapped[Project] = relationship(back_populates="steps")


class Deliverable(Base):
    __tablename__ = "deliverables"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    required: Mapped[bool] = mapped_column(Boolean, default=True)

    project: Mapped[Project] = relationship(back_populates="deliverables")
