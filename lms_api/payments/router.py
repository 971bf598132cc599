"""Payments: students pay for a track with Stripe; Stripe's webhook makes it count."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from lms_api.auth import AdminUser, CurrentUser
from lms_api.database import MAX_ID, SessionDep
from lms_api.errors import USER_ROUTE_ERRORS, error_doc, error_responses
from lms_api.pagination import PageDep, paginate
from lms_api.payments import service
from lms_api.payments.enums import PaymentKind, PaymentStatus
from lms_api.payments.gateway import StripeFailed, StripeGateway
from lms_api.payments.models import Payment
from lms_api.payments.schemas import (
    CheckoutOut,
    IntentOut,
    PaymentDetail,
    PaymentEventOut,
    PaymentIn,
    PaymentPage,
    PaymentSummary,
    WebhookOut,
)
from lms_api.types import LINE_PATTERN

router = APIRouter(tags=["payments"])

PaymentId = Annotated[int, Path(ge=1, le=MAX_ID, description="Payment id")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=8,
        max_length=200,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="Send the same key when retrying: you get the same payment back, "
        "never a second one",
    ),
]

NOT_CONFIGURED = {503: error_doc("Stripe is not configured (the message says what to set)")}
START_ERRORS = {
    **USER_ROUTE_ERRORS,
    404: error_doc("No open track with that code"),
    409: error_doc("Already enrolled, nothing to pay, or the Idempotency-Key was used before"),
    502: error_doc("Stripe refused the request or could not be reached; nothing was stored"),
    **NOT_CONFIGURED,
}


def payments_gateway(request: Request) -> StripeGateway:
    """The app's Stripe gateway, or 503 with the settings to set."""
    state = request.app.state
    gateway = getattr(state, "stripe_gateway", None)
    if gateway is None:
        gateway = state.stripe_gateway = StripeGateway(state.settings)
    return gateway


GatewayDep = Annotated[StripeGateway, Depends(payments_gateway)]


def summary(payment: Payment) -> PaymentSummary:
    return PaymentSummary(
        id=payment.id,
        username=payment.person.username,
        track_code=payment.track.code,
        amount_cents=payment.amount_cents,
        currency=payment.currency,
        status=payment.status,
        kind=payment.kind,
        refunded_cents=payment.refunded_cents,
        failure_reason=payment.failure_reason,
        checkout_session_id=payment.checkout_session_id,
        payment_intent_id=payment.payment_intent_id,
        expires_at=payment.expires_at,
        created_at=payment.created_at,
        paid_at=payment.paid_at,
        refunded_at=payment.refunded_at,
        updated_at=payment.updated_at,
    )


def detail(payment: Payment) -> PaymentDetail:
    history = [
        PaymentEventOut(
            from_status=event.from_status,
            to_status=event.to_status,
            stripe_event_id=event.stripe_event_id,
            reason=event.reason,
            at=event.created_at,
        )
        for event in payment.events
    ]
    return PaymentDetail(**summary(payment).model_dump(), history=history)


async def _start(
    session: AsyncSession,
    gateway: StripeGateway,
    request: Request,
    caller: Any,
    body: PaymentIn,
    kind: PaymentKind,
    key: str | None,
) -> service.StartedPayment:
    return await service.start_payment(
        session,
        gateway,
        request.app.state.settings,
        caller=caller,
        track_code=body.track,
        kind=kind,
        request_key=key,
    )


@router.post(
    "/payments/checkout", response_model=CheckoutOut, status_code=201, responses=START_ERRORS
)
async def start_checkout(
    caller: CurrentUser,
    session: SessionDep,
    gateway: GatewayDep,
    request: Request,
    body: PaymentIn,
    idempotency_key: IdempotencyKey = None,
) -> CheckoutOut:
    """Start paying for a track: returns the Stripe-hosted Checkout page to open."""
    started = await _start(
        session, gateway, request, caller, body, PaymentKind.CHECKOUT, idempotency_key
    )
    assert started.checkout_url is not None
    return CheckoutOut(payment=summary(started.payment), checkout_url=started.checkout_url)


@router.post("/payments/intents", response_model=IntentOut, status_code=201, responses=START_ERRORS)
async def create_intent(
    caller: CurrentUser,
    session: SessionDep,
    gateway: GatewayDep,
    request: Request,
    body: PaymentIn,
    idempotency_key: IdempotencyKey = None,
) -> IntentOut:
    """Create a PaymentIntent for a track: returns the client secret to confirm it with."""
    started = await _start(
        session, gateway, request, caller, body, PaymentKind.INTENT, idempotency_key
    )
    if not started.client_secret:
        raise StripeFailed("Stripe returned no client secret.")
    return IntentOut(payment=summary(started.payment), client_secret=started.client_secret)


@router.post(
    "/payments/webhook",
    response_model=WebhookOut,
    responses={
        400: error_doc("Missing or wrong Stripe-Signature, a stale timestamp, or not an event"),
        422: error_doc("A header that is not text"),
        409: error_doc("The event is about a payment not stored yet; Stripe delivers it again"),
        502: error_doc("Stripe could not be asked about the event; Stripe delivers it again"),
        **NOT_CONFIGURED,
    },
)
async def stripe_webhook(
    session: SessionDep,
    gateway: GatewayDep,
    request: Request,
    stripe_signature: Annotated[
        str | None, Header(alias="Stripe-Signature", max_length=4096, pattern=LINE_PATTERN)
    ] = None,
) -> WebhookOut:
    """Stripe's events (public; only correctly signed, fresh events are applied, each once)."""
    event = gateway.verified_event(await request.body(), stripe_signature)
    outcome = await service.handle_event(session, gateway, event)
    return WebhookOut(
        received=True,
        status=outcome.status,
        detail=outcome.detail,
        payment_id=outcome.payment_id,
    )


@router.get("/payments", response_model=PaymentPage, responses=USER_ROUTE_ERRORS)
async def list_payments(
    caller: CurrentUser,
    session: SessionDep,
    page: PageDep,
    request: Request,
    username: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=255,
            pattern=LINE_PATTERN,
            description="Only this user's (admins)",
        ),
    ] = None,
    track: Annotated[
        str | None,
        Query(
            min_length=1, max_length=16, pattern=LINE_PATTERN, description="Only this track (code)"
        ),
    ] = None,
    status: Annotated[PaymentStatus | None, Query(description="Only this status")] = None,
) -> dict[str, Any]:
    """Payments by id, with their status history: all for admins, own for everyone else."""
    statement = service.list_payments(caller, username=username, track=track, status=status)
    return await paginate(session, statement, page, request, detail)


@router.get(
    "/payments/{payment_id}",
    response_model=PaymentDetail,
    responses={**USER_ROUTE_ERRORS, 404: error_doc("No such payment, or not the caller's")},
)
async def read_payment(
    caller: CurrentUser, session: SessionDep, payment_id: PaymentId
) -> PaymentDetail:
    """One payment with its status history (own payments; admins any)."""
    payment = await service.visible_payment(session, caller, payment_id)
    return detail(payment)


@router.post(
    "/payments/{payment_id}/refund",
    response_model=PaymentDetail,
    status_code=202,
    responses={
        **error_responses(401, 403, 422, described={403: "The caller is not an admin"}),
        404: error_doc("No such payment"),
        409: error_doc("The payment has not succeeded (or is refunded already)"),
        502: error_doc("Stripe refused the refund or could not be reached"),
        **NOT_CONFIGURED,
    },
)
async def refund_payment(
    caller: AdminUser, session: SessionDep, gateway: GatewayDep, payment_id: PaymentId
) -> PaymentDetail:
    """Refund a payment in full (admins); access ends when Stripe confirms the refund."""
    payment = await service.request_refund(
        session, gateway, actor=caller.name, payment_id=payment_id
    )
    return detail(payment)
