"""A payment for one track's enrollment, as the payment provider (Stripe) reports it.

Amounts are integers in the smallest unit of `currency` (cents), as Stripe counts them.
`status` moves pending -> succeeded | failed, and succeeded -> refunded; each change also
sets the matching timestamp, so revenue can be reported by the month money moved.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import DateTime, ForeignKey, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms_api.curriculum.models import Track
from lms_api.database import Base
from lms_api.people.models import Person
from lms_api.timestamps import CreatedAt, utcnow


class PaymentStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUNDED = "refunded"


class Payment(CreatedAt, Base):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"), index=True)
    # RESTRICT: money that moved stays on record, whatever happens to the curriculum.
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="RESTRICT"), index=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="eur", server_default="eur")
    status: Mapped[str] = mapped_column(String(16), default=PaymentStatus.PENDING, index=True)
    provider: Mapped[str] = mapped_column(String(16), default="stripe", server_default="stripe")
    checkout_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    refunded_cents: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    refunded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    person: Mapped[Person] = relationship()
    track: Mapped[Track] = relationship()
