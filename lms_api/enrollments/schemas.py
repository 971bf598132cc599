from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from lms_api.enrollments.enums import EnrollmentSource, EnrollmentStatus
from lms_api.types import Line, Text


def _as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored timestamp is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]

Username = Annotated[
    str,
    Field(
        min_length=1,
        max_length=255,
        pattern=r"^[^\s/\x00-\x1f\x7f]+$",
        description="Hub username",
        examples=["ada"],
    ),
]


class EnrollmentOut(BaseModel):
    """An enrollment as shown on a profile (`GET /me`)."""

    model_config = ConfigDict(from_attributes=True)

    track_code: str = Field(examples=["DP"])
    track_name: str = Field(examples=["Data Professional"])
    status: str = Field(examples=[EnrollmentStatus.ACTIVE])
    source: str = Field(examples=[EnrollmentSource.GRANT])
    workspace_kinds: list[str] = Field(examples=[["jupyterlab", "superset"]])


class EnrollmentSummary(BaseModel):
    """One enrollment in a list: who, which track, in what state."""

    id: int = Field(examples=[1])
    username: str = Field(examples=["ada"])
    track_code: str = Field(examples=["DP"])
    track_name: str = Field(examples=["Data Professional"])
    status: EnrollmentStatus = Field(examples=[EnrollmentStatus.ACTIVE])
    source: EnrollmentSource = Field(examples=[EnrollmentSource.GRANT])
    workspace_kinds: list[str] = Field(examples=[["jupyterlab", "superset"]])
    created_at: UtcDatetime = Field(examples=["2026-01-05T09:30:00Z"])
    updated_at: UtcDatetime = Field(examples=["2026-01-05T09:30:00Z"])


class EnrollmentEventOut(BaseModel):
    """One status change of an enrollment."""

    from_status: EnrollmentStatus | None = Field(examples=[EnrollmentStatus.ACTIVE])
    to_status: EnrollmentStatus = Field(examples=[EnrollmentStatus.CANCELLED])
    source: EnrollmentSource = Field(examples=[EnrollmentSource.GRANT])
    actor: str = Field(examples=["office"])
    reason: str = Field(examples=["Left the school"])
    at: UtcDatetime = Field(examples=["2026-02-01T12:00:00Z"])


class EnrollmentDetail(EnrollmentSummary):
    """An enrollment with its history, oldest change first."""

    history: list[EnrollmentEventOut]


class EnrollmentPage(BaseModel):
    count: int = Field(examples=[1])
    next: str | None = Field(examples=[None])
    previous: str | None = Field(examples=[None])
    results: list[EnrollmentSummary]


class GrantIn(BaseModel):
    """Grant a track to a user (no payment): creates or re-activates the enrollment."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [{"username": "grace", "track": "DP", "reason": "Scholarship"}]
        },
    )

    username: Username
    track: Line = Field(min_length=1, max_length=16, description="Track code", examples=["DP"])
    reason: Text = Field(default="", max_length=500, examples=["Scholarship"])


class RevokeIn(BaseModel):
    """Revoke an enrollment: it becomes `cancelled` and its workspaces are no longer allowed."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"reason": "Left the school"}]},
    )

    reason: Text = Field(min_length=1, max_length=500, examples=["Left the school"])
