"""Enrollment values the API and the database share: no SQLAlchemy, so the notebook
client's schemas can use them."""

from enum import StrEnum


class EnrollmentStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    ACTIVE = "active"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


class EnrollmentSource(StrEnum):
    PAYMENT = "payment"
    GRANT = "grant"
