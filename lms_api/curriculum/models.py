"""Curriculum: tracks, their projects and the ordered steps of each project."""

from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms_api.database import Base


class WorkspaceKind(StrEnum):
    JUPYTERLAB = "jupyterlab"
    CODE_SERVER = "code-server"
    SUPERSET = "superset"


class Track(Base):
    __tablename__ = "tracks"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    duration_weeks: Mapped[int] = mapped_column(Integer, default=12)
    workspace_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)

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

    track: Mapped[Track] = relationship(back_populates="projects")
    steps: Mapped[list["ProjectStep"]] = relationship(
        back_populates="project", order_by="ProjectStep.order", cascade="all, delete-orphan"
    )


class ProjectStep(Base):
    __tablename__ = "project_steps"
    __table_args__ = (UniqueConstraint("project_id", "order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    order: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))

    project: Mapped[Project] = relationship(back_populates="steps")
