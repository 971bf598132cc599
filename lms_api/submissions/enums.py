"""Submission values the API and the database share: no SQLAlchemy, so the notebook
client's schemas can use them."""

from enum import StrEnum


class SubmissionStatus(StrEnum):
    SUBMITTED = "submitted"  # waiting for review (also after a resubmission)
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"


class ReviewDecision(StrEnum):
    APPROVE = "approve"
    REQUEST_CHANGES = "request_changes"
