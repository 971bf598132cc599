"""Starting payments and applying what Stripe reports, so that money and access agree.

Starting: one payment row per (person, request key). A retried request with the same
`Idempotency-Key` finds its row and gets the same Checkout page or client secret back; two
racing first requests send Stripe the same idempotency key, get the same object, and the
unique (person, request key) lets only one row in.

Applying a webhook event, in the request's one transaction:
1. the event id goes into `payment_webhook_events` with INSERT .. ON CONFLICT DO NOTHING; a
   redelivery (even ten at once: PostgreSQL makes the others wait for the first commit) finds
   it there and changes nothing;
2. the payment it is about is locked (`FOR UPDATE`; SQLite runs one writer at a time), so two
   different events of one payment apply one after the other;
3. the change is monotonic, so order does not matter: success applies to a pending or failed
   payment, failure only to a pending one, a full refund to any, and refunded is final. A
   refund that arrives before the success leaves the payment refunded and the student
   without access, as if the events had come in order.
"""

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from lms_api.config import Settings
from lms_api.curriculum.models import Track
from lms_api.enrollments import service as enrollments
from lms_api.enrollments.enums import EnrollmentStatus
from lms_api.errors import Conflict, DomainError, ErrorCode, NotFound
from lms_api.outbox import record_event
from lms_api.payments.enums import PaymentKind, PaymentStatus
from lms_api.payments.gateway import StripeGateway
from lms_api.payments.models import Payment, PaymentCustomer, PaymentEvent, WebhookEvent
from lms_api.people.models import Person
from lms_api.people.service import get_or_create_person
from lms_api.principal import ADMIN_ROLES, Principal
from lms_api.timestamps import utcnow

# The metadata ApraNova puts on every Checkout Session and PaymentIntent; an event without
# it is about something else on the same Stripe account.
META_PAYMENT = "apranova_payment_id"
META_KEY = "apranova_request_key"

HANDLED_EVENTS = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
        "checkout.session.expired",
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "charge.refunded",
    }
)
STRIPE_ACTOR = "stripe"


class UnknownTrack(enrollments.UnknownTrack):
    noun = "open track"


class PaymentRefused(Conflict):
    """This payment cannot start (already enrolled, nothing to pay, key reused)."""


class PaymentNotFound(NotFound):
    """No such payment, or one the caller may not see."""

    def __init__(self, payment_id: int) -> None:
        super().__init__(f"No payment {payment_id}.")


class PaymentNotYetKnown(DomainError):
    """An event for an ApraNova payment this database does not hold (yet): Stripe retries."""

    status, code = 409, ErrorCode.PAYMENT_NOT_KNOWN


@dataclass(frozen=True)
class StartedPayment:
    payment: Payment
    checkout_url: str | None = None
    client_secret: str | None = None
    replayed: bool = False


@dataclass(frozen=True)
class WebhookOutcome:
    status: str  # processed | duplicate | ignored
    detail: str
    payment_id: int | None = None


# --- reading -------------------------------------------------------------------------------


def list_payments(
    caller: Principal,
    *,
    username: str | None = None,
    track: str | None = None,
    status: PaymentStatus | None = None,
) -> Select[tuple[Payment]]:
    """Payments by id: every one for admins, their own for everyone else (money is private)."""
    statement = (
        select(Payment)
        .join(Person, Payment.person_id == Person.id)
        .join(Track, Payment.track_id == Track.id)
        .options(
            selectinload(Payment.person),
            selectinload(Payment.track),
            selectinload(Payment.events),
        )
    )
    if caller.role not in ADMIN_ROLES:
        statement = statement.where(Person.username == caller.name)
    if username is not None:
        statement = statement.where(Person.username == username)
    if track is not None:
        statement = statement.where(Track.code == track)
    if status is not None:
        statement = statement.where(Payment.status == status)
    return statement.order_by(Payment.id)


async def load_payment(session: AsyncSession, payment_id: int, *, lock: bool = False):
    """A payment with its person, track and status history, fresh from the database."""
    statement = (
        select(Payment)
        .where(Payment.id == payment_id)
        .options(
            selectinload(Payment.person),
            selectinload(Payment.track),
            selectinload(Payment.events),
        )
        .execution_options(populate_existing=True)
    )
    if lock:
        statement = statement.with_for_update(of=Payment)
    return await session.scalar(statement)


async def visible_payment(session: AsyncSession, caller: Principal, payment_id: int) -> Payment:
    payment = await load_payment(session, payment_id)
    if payment is None or (
        caller.role not in ADMIN_ROLES and payment.person.username != caller.name
    ):
        raise PaymentNotFound(payment_id)
    return payment


# --- starting ------------------------------------------------------------------------------


def stripe_key(purpose: str, *parts: object) -> str:
    """An idempotency key for Stripe, the same for every retry of one request.

    Row ids alone are not enough: another database on the same Stripe account (staging, a
    restored backup) has its own person 4, and Stripe would refuse its different request.
    """
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:40]
    return f"apranova-{purpose}-{digest}"


def product_name(track: Track) -> str:
    return f"{track.name} ({track.code}) enrollment"


def checkout_return_urls(settings: Settings, payment_id: int) -> tuple[str, str]:
    """Where Checkout sends the student back: the hub page that waits for the webhook."""
    base = f"{settings.public_url}/hub/payments/return?payment={payment_id}"
    return f"{base}&session_id={{CHECKOUT_SESSION_ID}}", f"{base}&cancelled=1"


async def stripe_customer(session: AsyncSession, gateway: StripeGateway, person: Person) -> str:
    """The person's one Stripe customer, made on their first payment and reused after."""
    known = await session.scalar(
        select(PaymentCustomer.customer_id).where(PaymentCustomer.person_id == person.id)
    )
    if known:
        return known
    # The same key for every first attempt of this person: racing requests get one customer.
    customer_id = await gateway.customer(
        username=person.username,
        key=stripe_key("customer", person.id, person.username),
    )
    await enrollments.insert_if_absent(
        session,
        PaymentCustomer,
        {"person_id": person.id, "customer_id": customer_id, "created_at": utcnow()},
        ["person_id"],
    )
    stored = await session.scalar(
        select(PaymentCustomer.customer_id).where(PaymentCustomer.person_id == person.id)
    )
    assert stored is not None
    return stored


async def _replay(
    session: AsyncSession, gateway: StripeGateway, payment_id: int, track: Track, kind: PaymentKind
) -> StartedPayment:
    """The answer a first request with this key got (the same page or client secret)."""
    payment = await load_payment(session, payment_id)
    assert payment is not None
    if payment.track_id != track.id or payment.kind != kind:
        raise PaymentRefused(
            "This Idempotency-Key was already used for a different payment request; "
            "send a new key for a new request."
        )
    if kind == PaymentKind.CHECKOUT:
        return StartedPayment(payment, checkout_url=payment.checkout_url, replayed=True)
    assert payment.payment_intent_id is not None
    intent = await gateway.intent_details(payment.payment_intent_id)
    return StartedPayment(payment, client_secret=intent.get("client_secret"), replayed=True)


async def start_payment(
    session: AsyncSession,
    gateway: StripeGateway,
    settings: Settings,
    *,
    caller: Principal,
    track_code: str,
    kind: PaymentKind,
    request_key: str | None,
) -> StartedPayment:
    """Open a Checkout Session or create a PaymentIntent for the caller's enrollment."""
    track = await session.scalar(
        select(Track).where(Track.code == track_code, Track.is_active.is_(True))
    )
    if track is None:
        raise UnknownTrack(track_code)
    person = await get_or_create_person(session, caller.name)
    key = request_key or uuid.uuid4().hex
    existing = await session.scalar(
        select(Payment.id).where(Payment.person_id == person.id, Payment.request_key == key)
    )
    if existing is not None:
        return await _replay(session, gateway, existing, track, kind)
    if track.price_cents <= 0:
        raise PaymentRefused(
            f"{track.code} has no price to pay online; ask the school office to enroll you."
        )
    enrollment = await enrollments.enrollment_in(session, person.id, track.id)
    if enrollment is not None and enrollment.status == EnrollmentStatus.ACTIVE:
        raise PaymentRefused(f"You are already enrolled in {track.code}; nothing to pay.")

    customer = await stripe_customer(session, gateway, person)
    payment = Payment(
        person_id=person.id,
        track_id=track.id,
        amount_cents=track.price_cents,
        currency=track.currency,
        status=PaymentStatus.PENDING,
        kind=kind,
        request_key=key,
    )
    try:
        async with session.begin_nested():
            session.add(payment)
            await session.flush()
    except IntegrityError:
        # A concurrent request with the same key got its row in first: answer as it did.
        winner = await session.scalar(
            select(Payment.id).where(Payment.person_id == person.id, Payment.request_key == key)
        )
        assert winner is not None
        return await _replay(session, gateway, winner, track, kind)

    metadata = {
        META_PAYMENT: str(payment.id),
        META_KEY: key,
        "apranova_username": person.username,
        "apranova_track": track.code,
    }
    idempotency = stripe_key(str(kind), person.id, person.username, key)
    if kind == PaymentKind.CHECKOUT:
        success_url, cancel_url = checkout_return_urls(settings, payment.id)
        started = await gateway.checkout(
            customer=customer,
            amount_cents=payment.amount_cents,
            currency=payment.currency,
            product=product_name(track),
            metadata=metadata,
            success_url=success_url,
            cancel_url=cancel_url,
            key=idempotency,
        )
        payment.checkout_session_id = started.id
        payment.checkout_url = started.url
        payment.expires_at = started.expires_at
    else:
        started = await gateway.intent(
            customer=customer,
            amount_cents=payment.amount_cents,
            currency=payment.currency,
            product=product_name(track),
            metadata=metadata,
            key=idempotency,
        )
        payment.payment_intent_id = started.id
    session.add(
        PaymentEvent(
            payment_id=payment.id,
            from_status=None,
            to_status=PaymentStatus.PENDING,
            reason=f"{kind} started by {caller.name}",
        )
    )
    record_event(
        session,
        "payment.started",
        payment_id=payment.id,
        username=person.username,
        track=track.code,
        amount_cents=payment.amount_cents,
        kind=str(kind),
    )
    await session.flush()
    fresh = await load_payment(session, payment.id)
    assert fresh is not None
    return StartedPayment(fresh, checkout_url=started.url, client_secret=started.client_secret)


def refundable(payment: Payment) -> bool:
    """Whether `request_refund` accepts it: succeeded, with a PaymentIntent Stripe can refund."""
    return payment.status == PaymentStatus.SUCCEEDED and payment.payment_intent_id is not None


async def request_refund(
    session: AsyncSession, gateway: StripeGateway, *, actor: str, payment_id: int
) -> Payment:
    """Ask Stripe for a full refund; the payment changes when charge.refunded arrives."""
    payment = await load_payment(session, payment_id)
    if payment is None:
        raise PaymentNotFound(payment_id)
    if not refundable(payment):
        raise PaymentRefused(
            f"Only a succeeded payment can be refunded; this one is {payment.status}."
        )
    await gateway.refund(
        intent_id=payment.payment_intent_id,
        key=stripe_key("refund", payment.id, payment.payment_intent_id),
    )
    record_event(session, "payment.refund_requested", payment_id=payment.id, actor=actor)
    return payment


# --- applying webhook events ---------------------------------------------------------------


def _event_time(event: dict[str, Any]) -> datetime:
    created = event.get("created")
    return datetime.fromtimestamp(created, UTC) if isinstance(created, int) else utcnow()


async def _find_payment(
    session: AsyncSession, gateway: StripeGateway, event_type: str, obj: dict[str, Any]
) -> Payment | None:
    """The payment an event is about, locked; by Stripe id first, then by our metadata."""
    if event_type.startswith("checkout.session."):
        column, value = Payment.checkout_session_id, obj.get("id")
    elif event_type.startswith("payment_intent."):
        column, value = Payment.payment_intent_id, obj.get("id")
    else:  # charge.*
        column, value = Payment.payment_intent_id, obj.get("payment_intent")
    payment_id = None
    if isinstance(value, str):
        payment_id = await session.scalar(select(Payment.id).where(column == value))
    metadata = obj.get("metadata") or {}
    if payment_id is None and not metadata.get(META_PAYMENT) and event_type == "charge.refunded":
        intent_id = obj.get("payment_intent")
        if isinstance(intent_id, str):  # a charge may not carry the intent's metadata
            metadata = (await gateway.intent_details(intent_id)).get("metadata") or {}
    if payment_id is None and metadata.get(META_PAYMENT):
        payment_id = await session.scalar(
            select(Payment.id).where(
                Payment.id == _as_int(metadata[META_PAYMENT]),
                Payment.request_key == metadata.get(META_KEY),
            )
        )
        if payment_id is None:
            raise PaymentNotYetKnown(
                f"Payment {metadata[META_PAYMENT]} is not in the LMS database (yet); "
                "Stripe will deliver the event again."
            )
    return None if payment_id is None else await load_payment(session, payment_id, lock=True)


def _as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


async def _move(
    session: AsyncSession, payment: Payment, to: PaymentStatus, event_id: str, reason: str
) -> None:
    session.add(
        PaymentEvent(
            payment_id=payment.id,
            from_status=payment.status,
            to_status=to,
            stripe_event_id=event_id,
            reason=reason[:500],
        )
    )
    record_event(
        session,
        f"payment.{to}",
        payment_id=payment.id,
        from_status=payment.status,
        username=payment.person.username,
        track=payment.track.code,
        stripe_event_id=event_id,
    )
    payment.status = to
    await session.flush()


async def _succeeded(session: AsyncSession, payment: Payment, event_id: str, at: datetime) -> str:
    if payment.status == PaymentStatus.SUCCEEDED:
        return "payment had already succeeded"
    if payment.status == PaymentStatus.REFUNDED:
        return "payment was refunded earlier; the late success changes nothing"
    payment.paid_at = at
    payment.failure_reason = None
    await _move(session, payment, PaymentStatus.SUCCEEDED, event_id, "Stripe reported the payment")
    done = await enrollments.activate_for_payment(
        session,
        person_id=payment.person_id,
        track_id=payment.track_id,
        actor=STRIPE_ACTOR,
        reason=f"payment {payment.id} succeeded (Stripe event {event_id})",
    )
    return f"payment succeeded; {done}"


async def _failed(session: AsyncSession, payment: Payment, event_id: str, reason: str) -> str:
    if payment.status != PaymentStatus.PENDING:
        return f"payment is {payment.status}; the failure changes nothing"
    payment.failure_reason = reason[:500]
    await _move(session, payment, PaymentStatus.FAILED, event_id, reason)
    return "payment failed"


async def _refunded(
    session: AsyncSession, payment: Payment, event_id: str, charge: dict[str, Any], at: datetime
) -> str:
    refunded_cents = _as_int(charge.get("amount_refunded"))
    payment.refunded_cents = max(payment.refunded_cents, refunded_cents)
    full = bool(charge.get("refunded")) or payment.refunded_cents >= payment.amount_cents
    if not full:
        await session.flush()
        return f"partial refund ({payment.refunded_cents} of {payment.amount_cents}); access kept"
    if payment.status == PaymentStatus.REFUNDED:
        return "payment was already refunded"
    payment.refunded_at = at
    await _move(session, payment, PaymentStatus.REFUNDED, event_id, "Stripe refunded the charge")
    done = await enrollments.revoke_for_refund(
        session,
        person_id=payment.person_id,
        track_id=payment.track_id,
        actor=STRIPE_ACTOR,
        reason=f"payment {payment.id} refunded (Stripe event {event_id})",
    )
    return f"payment refunded; {done}"


def _failure_message(obj: dict[str, Any], default: str) -> str:
    error = obj.get("last_payment_error") or {}
    return str(error.get("message") or default)


async def _apply(
    session: AsyncSession, payment: Payment, event: dict[str, Any], obj: dict[str, Any]
) -> str:
    event_id, event_type, at = event["id"], event["type"], _event_time(event)
    intent_id = obj.get("payment_intent") if event_type.startswith("checkout.") else None
    if isinstance(intent_id, str) and payment.payment_intent_id is None:
        payment.payment_intent_id = intent_id  # later intent and charge events find it by id
    match event_type:
        case "checkout.session.completed":
            if obj.get("payment_status") in ("paid", "no_payment_required"):
                return await _succeeded(session, payment, event_id, at)
            await session.flush()
            return "checkout completed; the payment method settles later"
        case "checkout.session.async_payment_succeeded" | "payment_intent.succeeded":
            return await _succeeded(session, payment, event_id, at)
        case "checkout.session.async_payment_failed":
            return await _failed(session, payment, event_id, "The payment did not settle.")
        case "checkout.session.expired":
            return await _failed(
                session, payment, event_id, "The checkout page expired without a payment."
            )
        case "payment_intent.payment_failed":
            reason = _failure_message(obj, "The payment failed.")
            return await _failed(session, payment, event_id, reason)
        case "charge.refunded":
            return await _refunded(session, payment, event_id, obj, at)
    raise AssertionError(event_type)  # pragma: no cover - HANDLED_EVENTS lists the cases


async def handle_event(
    session: AsyncSession, gateway: StripeGateway, event: dict[str, Any]
) -> WebhookOutcome:
    """Apply one verified Stripe event exactly once (see the module docstring)."""
    event_id, event_type = event["id"], event["type"]
    if event_type not in HANDLED_EVENTS:
        return WebhookOutcome("ignored", f"event type {event_type} is not used by ApraNova")
    first = await enrollments.insert_if_absent(
        session,
        WebhookEvent,
        {"event_id": event_id, "type": event_type, "outcome": "", "created_at": utcnow()},
        ["event_id"],
    )
    if not first:
        return WebhookOutcome("duplicate", f"event {event_id} was handled before")
    obj = event["data"]["object"]
    payment = await _find_payment(session, gateway, event_type, obj)
    if payment is None:
        outcome = WebhookOutcome("ignored", "not about an ApraNova payment")
    else:
        detail = await _apply(session, payment, event, obj)
        outcome = WebhookOutcome("processed", detail, payment.id)
    stored = await session.get(WebhookEvent, event_id)
    assert stored is not None
    stored.outcome = f"{outcome.status}: {outcome.detail}"[:500]
    stored.payment_id = outcome.payment_id
    await session.flush()
    return outcome
