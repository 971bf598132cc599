"""The admin's payments: the list with filters, one payment with its status history, and a
full refund after a confirmation page.

Admins only (`GET /payments` shows others' payments to admins only, and the refund route is
`AdminUser`). The list is the API's `list_payments` statement, the refund the same
`request_refund` as `POST /api/v1/payments/{id}/refund`: Stripe is asked with an idempotency
key made from the payment, so a second click gets Stripe's first refund back, never a second
one. The payment turns refunded (and an enrollment it opened ends) when Stripe's
charge.refunded webhook arrives.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lms_api.auth import admin_user
from lms_api.curriculum import service as curriculum
from lms_api.database import MAX_ID, SessionDep
from lms_api.enrollments import service as enrollments
from lms_api.enrollments.enums import EnrollmentSource, EnrollmentStatus
from lms_api.payments import service
from lms_api.payments.enums import PaymentStatus
from lms_api.payments.gateway import PaymentsNotConfigured, StripeFailed
from lms_api.payments.models import Payment
from lms_api.payments.router import payments_gateway
from lms_api.portal.admin_people import done_redirect
from lms_api.portal.catalog import format_price
from lms_api.portal.deliverables import _number, when
from lms_api.portal.rendering import render
from lms_api.portal.signin import PageUser
from lms_api.principal import Principal
from lms_api.types import Line

router = APIRouter()

PaymentId = Annotated[int, Path(ge=1, le=MAX_ID, description="Payment id")]
PAGE_SIZE = 50
STATUS_WORDS: dict[str, tuple[str, str]] = {
    PaymentStatus.PENDING: ("Pending", "secondary"),
    PaymentStatus.SUCCEEDED: ("Paid", "success"),
    PaymentStatus.FAILED: ("Failed", "danger"),
    PaymentStatus.REFUNDED: ("Refunded", "info"),
}
DONE_WORDS = {
    "refund-requested": "Refund requested. Stripe confirms it with a webhook: then the payment "
    "shows as refunded.",
}


class Filters(BaseModel):
    """The list's filters, with the bounds of `GET /api/v1/payments`' query parameters."""

    model_config = ConfigDict(str_strip_whitespace=True)

    username: Annotated[Line, Field(max_length=255)] = ""
    track: Annotated[Line, Field(max_length=16)] = ""
    status: PaymentStatus | None = None


FILTER_WORDS = {
    "username": "A username: at most 255 characters, no control characters.",
    "track": "Choose a track from the list.",
    "status": "Choose a status from the list.",
}


def _filters(request: Request) -> tuple[dict[str, str], Filters, dict[str, str]]:
    """What was typed, the filters to apply (the valid ones), and a problem per field."""
    typed = {name: request.query_params.get(name, "") for name in ("username", "track", "status")}
    values: dict[str, Any] = {k: v for k, v in typed.items() if v.strip()}
    try:
        return typed, Filters.model_validate(values), {}
    except ValidationError as exc:
        bad = {str(p["loc"][0]) for p in exc.errors()}
        errors = {name: FILTER_WORDS[name] for name in bad}
        kept = {k: v for k, v in values.items() if k not in bad}
        return typed, Filters.model_validate(kept), errors


def amount(payment: Payment) -> str:
    return format_price(payment.amount_cents, payment.currency)


def _context(**extra: Any) -> dict[str, Any]:
    return {
        "nav": "payments",
        "status_words": STATUS_WORDS,
        "amount": amount,
        "price": format_price,
        "when": when,
        **extra,
    }


@router.get("/admin/payments")
async def payments(request: Request, user: PageUser, session: SessionDep) -> Response:
    """Every payment by id, filtered by username, track and status, 50 a page."""
    await admin_user(user)
    typed, filters, errors = _filters(request)
    statement = service.list_payments(
        user,
        username=filters.username or None,
        track=filters.track or None,
        status=filters.status,
    )
    count = await session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    offset = _number(request.query_params.get("offset"))
    rows = list(await session.scalars(statement.limit(PAGE_SIZE).offset(offset)))
    query = {k: v for k, v in typed.items() if v and k not in errors}
    tracks = list(await session.scalars(curriculum.tracks_query()))
    return render(
        request,
        "admin_payments.html",
        _context(
            rows=rows,
            count=count,
            offset=offset,
            page_size=PAGE_SIZE,
            typed=typed,
            errors=errors,
            query=query,
            tracks=tracks,
            statuses=list(PaymentStatus),
        ),
        status_code=422 if errors else 200,
        user=user,
    )


# --- one payment ---------------------------------------------------------------------------
async def _payment(session: AsyncSession, user: Principal, payment_id: int) -> Payment:
    await admin_user(user)
    return await service.visible_payment(session, user, payment_id)


async def _what_happens(session: AsyncSession, payment: Payment) -> str:
    """What the refund's webhook will do to the enrollment (`revoke_for_refund`), in words."""
    enrollment = await enrollments.enrollment_in(session, payment.person_id, payment.track_id)
    who, code = payment.person.username, payment.track.code
    if enrollment is None:
        return f"{who} has no enrollment in {code}; nothing else changes."
    if enrollment.status != EnrollmentStatus.ACTIVE:
        return f"{who}'s enrollment in {code} is {enrollment.status} already; it stays so."
    if enrollment.source != EnrollmentSource.PAYMENT:
        return f"{who}'s enrollment in {code} was granted by an admin, so it stays active."
    return (
        f"{who}'s enrollment in {code} ends (it becomes refunded): {who} loses access to the "
        "track and its workspaces."
    )


async def _page(
    request: Request,
    session: AsyncSession,
    user: Principal,
    payment: Payment,
    template: str = "admin_payments_payment.html",
    problem: str = "",
    status_code: int = 200,
) -> Response:
    done = DONE_WORDS.get(request.query_params.get("done") or "")
    return render(
        request,
        template,
        _context(
            payment=payment,
            refundable=service.refundable(payment),
            happens=await _what_happens(session, payment),
            problem=problem,
            done=done,
        ),
        status_code=status_code,
        user=user,
    )


@router.get("/admin/payments/{payment_id}")
async def payment_page(
    request: Request, user: PageUser, session: SessionDep, payment_id: PaymentId
) -> Response:
    """A payment: who paid for what, Stripe's ids, and its status history."""
    payment = await _payment(session, user, payment_id)
    return await _page(request, session, user, payment)


def _not_refundable(payment: Payment) -> str:
    words = STATUS_WORDS[payment.status][0].lower()
    if payment.status == PaymentStatus.REFUNDED:
        return "This payment is refunded already; there is nothing more to refund."
    return f"Only a paid payment can be refunded; this one is {words}: no money to give back."


@router.get("/admin/payments/{payment_id}/refund")
async def confirm_refund(
    request: Request, user: PageUser, session: SessionDep, payment_id: PaymentId
) -> Response:
    """What a refund will do, and the button that does it (or why it cannot be done)."""
    payment = await _payment(session, user, payment_id)
    template = "admin_payments_refund.html"
    if not service.refundable(payment):
        problem = _not_refundable(payment)
        return await _page(request, session, user, payment, template, problem, 409)
    return await _page(request, session, user, payment, template)


@router.post("/admin/payments/{payment_id}/refund")
async def refund(
    request: Request, user: PageUser, session: SessionDep, payment_id: PaymentId
) -> Response:
    """`POST /api/v1/payments/{id}/refund`: 303 to the payment with "Refund requested", or
    the payment with the refusal in words (not refundable, Stripe down or not configured)."""
    payment = await _payment(session, user, payment_id)
    try:
        await service.request_refund(
            session, payments_gateway(request), actor=user.name, payment_id=payment_id
        )
    except service.PaymentRefused:
        return await _refused(request, session, user, payment_id, "", 409)
    except StripeFailed as exc:
        problem = f"{exc.reason} Nothing was refunded; try again later."
        return await _refused(request, session, user, payment.id, problem, 502)
    except PaymentsNotConfigured as exc:
        return await _refused(request, session, user, payment.id, exc.message, 503)
    return done_redirect(request, f"admin/payments/{payment_id}", "refund-requested")


async def _refused(
    request: Request,
    session: AsyncSession,
    user: Principal,
    payment_id: int,
    problem: str,
    status: int,
) -> Response:
    fresh = await service.visible_payment(session, user, payment_id)
    problem = problem or _not_refundable(fresh)
    return await _page(request, session, user, fresh, problem=problem, status_code=status)
