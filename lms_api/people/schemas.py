"""People shapes: a profile as its owner and as admins see it, updates, trainer assignment."""

import re
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from lms_api.enrollments.schemas import EnrollmentOut
from lms_api.principal import Role
from lms_api.types import Line

# `email-validator` is not installed, so a deliberately simple check: one @, no spaces,
# a dot in the domain. The hub, not the LMS, is where identity is proven.
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


def _email(value: str) -> str:
    if not EMAIL_RE.fullmatch(value):
        raise ValueError("must be a valid email address, like ada@example.org")
    return value


def _as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored timestamp is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]
PersonName = Annotated[
    Line,
    StringConstraints(strip_whitespace=True, max_length=200),
    Field(description="Display name (may be empty)", examples=["Ada Lovelace"]),
]
Email = Annotated[
    Line,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=320),
    AfterValidator(_email),
    Field(description="Contact address", examples=["ada@example.org"]),
]
Username = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=255, pattern=r"^[^\s/\x00-\x1f\x7f]+$"
    ),
    Field(description="Hub username", examples=["coach"]),
]


# --- out -----------------------------------------------------------------------------------
class MeOut(BaseModel):
    """The caller's own profile."""

    username: str = Field(examples=["ada"])
    role: Role = Field(examples=[Role.STUDENT])
    enrollments: list[EnrollmentOut]
    name: str = Field(default="", examples=["Ada Lovelace"])
    email: str = Field(default="", examples=["ada@example.org"])
    trainer: str | None = Field(
        default=None, description="Username of the assigned trainer", examples=["trainer"]
    )


class PersonOut(BaseModel):
    """A profile as admins see it."""

    model_config = ConfigDict(from_attributes=True)

    username: str = Field(examples=["ada"])
    name: str = Field(examples=["Ada Lovelace"])
    email: str = Field(examples=["ada@example.org"])
    is_active: bool = Field(examples=[True])
    trainer: str | None = Field(default=None, examples=["trainer"])
    assigned_students: int = Field(
        description="Students this person trains (0 for students)", examples=[0]
    )
    created_at: UtcDatetime = Field(examples=["2026-01-05T09:30:00Z"])
    updated_at: UtcDatetime = Field(examples=["2026-01-05T09:30:00Z"])


class PersonPage(BaseModel):
    count: int = Field(examples=[1])
    next: str | None = Field(examples=[None])
    previous: str | None = Field(examples=[None])
    results: list[PersonOut]


class TrainerOut(BaseModel):
    """A member of the hub group `trainers`, with their load."""

    username: str = Field(examples=["trainer"])
    name: str = Field(examples=["Tess Trainer"])
    is_active: bool = Field(examples=[True])
    assigned_students: int = Field(examples=[2])
    cap: int = Field(description="Most students one trainer may have", examples=[20])
    available: int = Field(description="Students this trainer can still take", examples=[18])


class TrainerPage(BaseModel):
    count: int = Field(examples=[1])
    next: str | None = Field(examples=[None])
    previous: str | None = Field(examples=[None])
    results: list[TrainerOut]


class AssignmentOut(BaseModel):
    """A student's trainer after the change."""

    student: str = Field(examples=["grace"])
    trainer: str | None = Field(examples=["coach"])
    previous_trainer: str | None = Field(
        description="The trainer before this request", examples=[None]
    )
    changed: bool = Field(description="False when nothing had to change", examples=[True])
    trainer_assigned_students: int | None = Field(
        description="The (new or removed) trainer's student count after the change",
        examples=[1],
    )
    cap: int = Field(examples=[20])


# --- in ------------------------------------------------------------------------------------
# Fields default to None meaning "keep"; an explicit null is rejected (the types are not
# nullable), so a client never blanks a field by accident.
class MeUpdate(BaseModel):
    """Change your own name or email; omitted fields stay as they are."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "Ada Lovelace", "email": "ada@example.org"}]},
    )

    name: PersonName = None  # type: ignore[assignment]
    email: Email = None  # type: ignore[assignment]


class PersonUpdate(MeUpdate):
    """Admins change a profile: name, email, and whether the account may use the LMS."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "Grace Hopper", "is_active": True}]},
    )

    is_active: bool = Field(
        default=None,  # type: ignore[arg-type]
        description="false deactivates (403 on every route), true re-activates",
    )


class TrainerChoice(BaseModel):
    """Which trainer a student gets."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"trainer": "coach"}]}
    )

    trainer: Username
