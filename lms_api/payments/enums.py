"""Payment values the API and the database share: no SQLAlchemy, so the notebook client's
schemas can use them."""

from enum import StrEnum


class PaymentStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUNDED = "refunded"


class PaymentKind(StrEnum):
    CHECKOUT = "checkout"  # a Stripe-hosted Checkout Session (the hub's "Pay" button)
    INTENT = "intent"  # a PaymentIntent an API client confirms itself (Stripe.js, mobile)
