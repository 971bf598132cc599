"""The one place lms_api talks to Stripe, through the official SDK.

Every call that creates something carries an idempotency key made from what it is for (the
person, the caller's request key), so a retried request, a retried network call inside the
SDK, or two racing requests get the same Stripe object back instead of a second charge.
Webhooks are verified with the SDK's own signature check (HMAC-SHA256 over
`timestamp.payload`, with a timestamp tolerance against replays).
"""

import json
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

import stripe
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lms_api.config import Settings
from lms_api.errors import DomainError, ErrorCode
from lms_api.nesting import TooDeep, check_json_depth
from lms_api.types import INT32_MAX, Line, Text

# Network retries inside the SDK are safe: every POST below has an idempotency key.
SDK_RETRIES = 1

T = TypeVar("T")


class PaymentsNotConfigured(DomainError):
    """No Stripe keys: payment routes answer 503 and say which settings are missing."""

    status, code = 503, ErrorCode.PAYMENTS_NOT_CONFIGURED

    def __init__(self, missing: list[str]) -> None:
        names = " and ".join(f"APRANOVA_{name.upper()}" for name in missing)
        super().__init__(
            f"Online payments are not configured: set {names} (README, Payments). "
            "Admins can still enroll students with POST /api/v1/enrollments."
        )


class StripeFailed(DomainError):
    """Stripe refused a call or could not be reached; `reason` is safe to show."""

    status, code = 502, ErrorCode.PAYMENT_PROVIDER_ERROR

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BadWebhook(DomainError):
    """A webhook that must not be trusted: bad or missing signature, stale, or not an event."""

    status, code = 400, ErrorCode.INVALID_PAYLOAD

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidSignature(BadWebhook):
    """The Stripe-Signature header is missing or does not verify."""

    code = ErrorCode.INVALID_SIGNATURE


@dataclass(frozen=True)
class Started:
    """What Stripe made for one payment: a Checkout Session or a PaymentIntent."""

    id: str
    url: str | None = None  # Checkout: the hosted page
    client_secret: str | None = None  # PaymentIntent: what the client confirms with
    expires_at: datetime | None = None


def _timestamp(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value else None


async def _stripe(call: Awaitable[T]) -> T:
    """Await one SDK call; any Stripe error becomes a StripeFailed with a reason to show."""
    try:
        return await call
    except stripe.StripeError as exc:
        raise _failure(exc) from exc


def _failure(exc: stripe.StripeError) -> StripeFailed:
    if isinstance(exc, stripe.APIConnectionError):
        return StripeFailed("Stripe could not be reached; nothing was charged. Try again.")
    if isinstance(exc, stripe.AuthenticationError):
        return StripeFailed("Stripe refused the API key; an admin must check the configuration.")
    message = exc.user_message or str(exc) or exc.__class__.__name__
    return StripeFailed(f"Stripe refused the request: {message}")


class StripeGateway:
    def __init__(self, settings: Settings) -> None:
        missing = [
            name
            for name in ("stripe_secret_key", "stripe_webhook_secret")
            if not getattr(settings, name)
        ]
        if missing:
            raise PaymentsNotConfigured(missing)
        self.webhook_secret = settings.stripe_webhook_secret.get_secret_value()
        self.tolerance = settings.stripe_webhook_tolerance_seconds
        self.http = stripe.HTTPXClient(timeout=settings.stripe_timeout_seconds)
        self.client = stripe.StripeClient(
            settings.stripe_secret_key.get_secret_value(),
            base_addresses={"api": settings.stripe_api_base} if settings.stripe_api_base else None,
            http_client=self.http,
            max_network_retries=SDK_RETRIES,
        )

    async def aclose(self) -> None:
        await self.http.close_async()

    async def customer(self, *, username: str, key: str) -> str:
        """A new Stripe customer for a person (the caller stores and reuses it)."""
        customer = await _stripe(
            self.client.v1.customers.create_async(
                {"name": username, "metadata": {"apranova_username": username}},
                {"idempotency_key": key},
            )
        )
        return customer.id

    async def checkout(
        self,
        *,
        customer: str,
        amount_cents: int,
        currency: str,
        product: str,
        metadata: dict[str, str],
        success_url: str,
        cancel_url: str,
        key: str,
    ) -> Started:
        """A hosted Checkout Session for one track; the PaymentIntent inherits the metadata."""
        params: Any = {
            "mode": "payment",
            "customer": customer,
            "client_reference_id": metadata["apranova_payment_id"],
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": currency,
                        "unit_amount": amount_cents,
                        "product_data": {"name": product},
                    },
                }
            ],
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata, "description": product},
            "success_url": success_url,
            "cancel_url": cancel_url,
        }
        made = await _stripe(
            self.client.v1.checkout.sessions.create_async(params, {"idempotency_key": key})
        )
        return Started(id=made.id, url=made.url, expires_at=_timestamp(made.expires_at))

    async def intent(
        self,
        *,
        customer: str,
        amount_cents: int,
        currency: str,
        product: str,
        metadata: dict[str, str],
        key: str,
    ) -> Started:
        """A PaymentIntent an API client confirms itself (Stripe.js, a mobile SDK)."""
        params: Any = {
            "amount": amount_cents,
            "currency": currency,
            "customer": customer,
            "description": product,
            "metadata": metadata,
            "automatic_payment_methods": {"enabled": True},
        }
        made = await _stripe(
            self.client.v1.payment_intents.create_async(params, {"idempotency_key": key})
        )
        return Started(id=made.id, client_secret=made.client_secret)

    async def intent_details(self, intent_id: str) -> dict[str, Any]:
        """A PaymentIntent as Stripe has it now (its client secret, its metadata)."""
        intent = await _stripe(self.client.v1.payment_intents.retrieve_async(intent_id))
        return intent.to_dict()

    async def refund(self, *, intent_id: str, key: str) -> str:
        """Ask Stripe to refund a payment in full; the charge.refunded webhook follows."""
        refund = await _stripe(
            self.client.v1.refunds.create_async(
                {"payment_intent": intent_id}, {"idempotency_key": key}
            )
        )
        return refund.id

    def verified_event(self, payload: bytes, signature: str | None) -> dict[str, Any]:
        """The event in a webhook body, once its Stripe-Signature is proven right and fresh."""
        if not signature:
            raise InvalidSignature("The Stripe-Signature header is missing.")
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadWebhook("The body is not UTF-8 text.") from exc
        try:
            stripe.WebhookSignature.verify_header(
                text, signature, self.webhook_secret, self.tolerance
            )
        except stripe.SignatureVerificationError as exc:
            raise InvalidSignature(
                f"The Stripe-Signature does not verify: {exc.user_message or exc}",
            ) from exc
        try:
            check_json_depth(text, "The event")
            event = json.loads(text)
        except TooDeep as exc:
            raise BadWebhook(str(exc)) from exc
        except ValueError as exc:
            raise BadWebhook("The body is not JSON.") from exc
        try:
            _EventShape.model_validate(event)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "body"
            raise BadWebhook(
                f"The body is not a Stripe event ApraNova can apply: {where}: {first['msg']}.",
            ) from exc
        return event


# The fields of an event that lms_api.payments.service reads, with the types and bounds the
# database holds. A correctly signed event of another shape (metadata that is not a map, an
# amount past the column, a NUL in an id) is refused with 400 before anything is written.
StripeId = Annotated[Line, Field(min_length=1, max_length=255)]


class _PaymentError(BaseModel):
    model_config = ConfigDict(extra="allow")

    message: Text | None = None


class _EventObject(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: StripeId | None = None
    payment_intent: StripeId | None = None
    metadata: (
        dict[Annotated[Line, Field(max_length=40)], Annotated[Text, Field(max_length=500)]] | None
    ) = None
    payment_status: Annotated[Line, Field(max_length=100)] | None = None
    amount_refunded: Annotated[int, Field(ge=0, le=INT32_MAX)] | None = None
    refunded: bool | None = None
    last_payment_error: _PaymentError | None = None


class _EventData(BaseModel):
    model_config = ConfigDict(extra="allow")

    object: _EventObject


class _EventShape(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: StripeId
    object: Literal["event"]
    type: Annotated[Line, Field(min_length=1, max_length=100)]
    created: Annotated[int, Field(ge=0, le=253_402_300_799)] | None = None  # up to year 9999
    data: _EventData
