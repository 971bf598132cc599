from pydantic import BaseModel, ConfigDict, Field

from lms_api.enrollments.schemas import UtcDatetime
from lms_api.payments.enums import PaymentKind, PaymentStatus
from lms_api.types import Line


class PaymentIn(BaseModel):
    """Pay for one track's enrollment (for the caller themselves)."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [{"track": "DP"}]}
    )

    track: Line = Field(min_length=1, max_length=16, description="Track code", examples=["DP"])


class PaymentSummary(BaseModel):
    """One payment: who paid for which track, how much, and where it stands."""

    id: int = Field(examples=[7])
    username: str = Field(examples=["grace"])
    track_code: str = Field(examples=["DP"])
    amount_cents: int = Field(description="In the smallest unit of `currency`", examples=[150000])
    currency: str = Field(examples=["eur"])
    status: PaymentStatus = Field(examples=[PaymentStatus.PENDING])
    kind: PaymentKind = Field(examples=[PaymentKind.CHECKOUT])
    refunded_cents: int = Field(examples=[0])
    failure_reason: str | None = Field(examples=[None])
    checkout_session_id: str | None = Field(examples=["cs_test_a1b2c3"])
    payment_intent_id: str | None = Field(examples=[None])
    expires_at: UtcDatetime | None = Field(
        description="When an unpaid Checkout page stops working", examples=["2026-01-06T09:30:00Z"]
    )
    created_at: UtcDatetime = Field(examples=["2026-01-05T09:30:00Z"])
    paid_at: UtcDatetime | None = Field(examples=[None])
    refunded_at: UtcDatetime | None = Field(examples=[None])
    updated_at: UtcDatetime = Field(examples=["2026-01-05T09:30:00Z"])


class PaymentEventOut(BaseModel):
    """One status change of a payment, and the Stripe event behind it."""

    from_status: PaymentStatus | None = Field(examples=[PaymentStatus.PENDING])
    to_status: PaymentStatus = Field(examples=[PaymentStatus.SUCCEEDED])
    stripe_event_id: str | None = Field(examples=["evt_1Nx"])
    reason: str = Field(examples=["Stripe reported the payment"])
    at: UtcDatetime = Field(examples=["2026-01-05T09:31:00Z"])


class PaymentDetail(PaymentSummary):
    """A payment with its status history, oldest change first."""

    history: list[PaymentEventOut]


class PaymentPage(BaseModel):
    count: int = Field(examples=[1])
    next: str | None = Field(examples=[None])
    previous: str | None = Field(examples=[None])
    results: list[PaymentDetail]


class CheckoutOut(BaseModel):
    """A Stripe Checkout page to send the student to; the webhook confirms the payment."""

    payment: PaymentSummary
    checkout_url: str = Field(examples=["https://checkout.stripe.com/c/pay/cs_test_a1b2c3"])


class IntentOut(BaseModel):
    """A PaymentIntent for the client to confirm with Stripe.js or a mobile SDK."""

    payment: PaymentSummary
    client_secret: str = Field(examples=["pi_3Nx_secret_abc"])


class WebhookOut(BaseModel):
    """What the webhook did with the event (Stripe only looks at the status code)."""

    received: bool = Field(examples=[True])
    status: str = Field(description="processed, duplicate or ignored", examples=["processed"])
    detail: str = Field(examples=["payment succeeded; enrollment 3 activated"])
    payment_id: int | None = Field(examples=[7])
