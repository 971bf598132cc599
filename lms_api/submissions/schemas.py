from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lms_api.enrollments.schemas import UtcDatetime
from lms_api.submissions.enums import ReviewDecision, SubmissionStatus
from lms_api.types import MAX_ID, Line, Text


class LinkSubmissionIn(BaseModel):
    """Submit a link: any http(s) URL for `url` deliverables, a pull request for `github_pr`."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "deliverable_id": 2,
                    "url": "https://github.com/ada/warehouse/pull/7",
                    "note": "Second try: added the indexes",
                }
            ]
        },
    )

    deliverable_id: int = Field(ge=1, le=MAX_ID, examples=[2])
    url: Line = Field(min_length=1, max_length=2000, examples=["https://example.org/write-up"])
    note: Text = Field(default="", max_length=2000, description="A word for the reviewer")


class ReviewIn(BaseModel):
    """A review of the latest version: approve it, or request changes (feedback required)."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "version": 1,
                    "decision": "request_changes",
                    "feedback": "The join in cell 4 drops customers without orders.",
                }
            ]
        },
    )

    version: int = Field(
        ge=1,
        le=MAX_ID,
        description="The version reviewed; 409 if the student has submitted a newer one since",
        examples=[1],
    )
    decision: ReviewDecision = Field(examples=[ReviewDecision.APPROVE])
    feedback: Text = Field(default="", max_length=10_000, examples=["Clear and correct."])

    @model_validator(mode="after")
    def _feedback_for_changes(self) -> Self:
        if self.decision == ReviewDecision.REQUEST_CHANGES and not self.feedback:
            raise ValueError("feedback is required when requesting changes (say what to change)")
        return self


class SubmissionVersionOut(BaseModel):
    """One (re)submission: a link, or a stored file with its download URL."""

    number: int = Field(examples=[1])
    url: str | None = Field(examples=["https://github.com/ada/warehouse/pull/7"])
    filename: str | None = Field(examples=[None])
    content_type: str | None = Field(examples=[None])
    size_bytes: int | None = Field(examples=[None])
    sha256: str | None = Field(examples=[None])
    download_url: str | None = Field(examples=[None])
    note: str = Field(examples=[""])
    submitted_at: UtcDatetime = Field(examples=["2026-01-12T10:15:00Z"])


class SubmissionEventOut(BaseModel):
    """One status change: a (re)submission or a review, with the reviewer's feedback."""

    version: int = Field(examples=[1])
    from_status: SubmissionStatus | None = Field(examples=[SubmissionStatus.SUBMITTED])
    to_status: SubmissionStatus = Field(examples=[SubmissionStatus.CHANGES_REQUESTED])
    actor: str = Field(examples=["trainer"])
    feedback: str = Field(examples=["The join in cell 4 drops customers without orders."])
    at: UtcDatetime = Field(examples=["2026-01-13T08:00:00Z"])


class SubmissionSummary(BaseModel):
    """A student's work on one deliverable and where its review stands."""

    id: int = Field(examples=[1])
    username: str = Field(examples=["ada"])
    deliverable_id: int = Field(examples=[2])
    deliverable_title: str = Field(examples=["Notebook"])
    deliverable_kind: str = Field(examples=["notebook"])
    project_id: int = Field(examples=[1])
    track_code: str = Field(examples=["DP"])
    status: SubmissionStatus = Field(examples=[SubmissionStatus.SUBMITTED])
    current_version: int = Field(examples=[1])
    created_at: UtcDatetime = Field(examples=["2026-01-12T10:15:00Z"])
    updated_at: UtcDatetime = Field(examples=["2026-01-12T10:15:00Z"])


class SubmissionDetail(SubmissionSummary):
    """A submission with every version (oldest first) and its status history."""

    versions: list[SubmissionVersionOut]
    history: list[SubmissionEventOut]


class SubmissionPage(BaseModel):
    count: int = Field(examples=[1])
    next: str | None = Field(examples=[None])
    previous: str | None = Field(examples=[None])
    results: list[SubmissionSummary]
