"""Attempt values the API and the database share: no SQLAlchemy, so the notebook client's
schemas can use them (the quiz's own enums live in `quizzes.content`)."""

from enum import StrEnum


class AttemptStatus(StrEnum):
    IN_PROGRESS = "IN_PROGRESS"
    SUBMITTED = "SUBMITTED"
    EXPIRED = "EXPIRED"  # the time limit ran out; graded as it stood
