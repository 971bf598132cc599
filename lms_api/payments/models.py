"""A payment for one track's enrollment, as the payment provider (Stripe) reports it.

Amounts are integers in the smallest unit of `currency` (cents), as Stripe counts them.
`status` moves pending -> succeeded | failed, failed -> succeeded (a retried card), and
succeeded | pending -> refunded; refunded is final. Each change also sets the matching
timestamp, so revenue can be reported by the month money moved, and writes a
`PaymentEvent`, the payment's status history.
"""

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms_api.curriculum.models import Track
from lms_api.database import Base
from lms_api.payments.enums import PaymentKind, PaymentStatus
from lms_api.people.models import Person
from lms_api.timestamps import CreatedAt, utcnow


class Payment(CreatedAt, Base):
    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("person_id", "request_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"), index=True)
    # RESTRICT: money that moved stays on record, whatever happens to the curriculum.
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="RESTRICT"), index=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="eur", server_default="eur")
    status: Mapped[str] = mapped_column(String(16), default=PaymentStatus.PENDING, index=True)
    provider: Mapped[str] = mapped_column(String(16), default="stripe", server_default="stripe")
    kind: Mapped[str] = mapped_column(
        String(16), default=PaymentKind.CHECKOUT, server_default=PaymentKind.CHECKOUT.value
    )
    # The caller's Idempotency-Key (or one the API made): a retried request finds this row.
    request_key: Mapped[str | None] = mapped_column(String(255))
    checkout_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    checkout_url: Mapped[str | None] = mapped_column(Text)
    payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    refunded_cents: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    refunded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    person: Mapped[Person] = relationship()
    track: Mapped[Track] = relationship()
    # Read-only: events are written one by one as the status moves (`service._move`).
    events: Mapped[list["PaymentEvent"]] = relationship(
        order_by="PaymentEvent.id", viewonly=True, lazy="raise"
    )


class PaymentEvent(CreatedAt, Base):
    """One change of a payment's status, and the Stripe event (if any) that caused it."""

    __tablename__ = "payment_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(
        ForeignKey("payments.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    stripe_event_id: Mapped[str | None] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(String(500), default="")


class PaymentCustomer(CreatedAt, Base):
    """The one Stripe customer of a person, made at their first payment and reused after."""

    __tablename__ = "payment_customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="RESTRICT"), unique=True
    )
    provider: Mapped[str] = mapped_column(String(16), default="stripe", server_default="stripe")
    customer_id: Mapped[str] = mapped_column(String(255), unique=True)


class WebhookEvent(CreatedAt, Base):
    """A Stripe event already handled: its id is the key, so a redelivery changes nothing."""

    __tablename__ = "payment_webhook_events"

    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    payment_id: Mapped[int | None] = mapped_column(
        ForeignKey("payments.id", ondelete="SET NULL"), index=True
    )
    outcome: Mapped[str] = mapped_column(String(500))
