"""The catalog page: every open track, what it contains and costs, and how to join it.

Paying happens on the hub's enroll page (/hub/enroll), which starts the Stripe checkout with
the hub's own XSRF-protected form; this page only links there. Without online payment it
says whom to ask. `offers_enrollment` is the nav's question: is there anything to buy?
"""

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lms_api.config import Settings, get_settings
from lms_api.curriculum.models import Track
from lms_api.curriculum.service import catalog
from lms_api.database import SessionDep
from lms_api.enrollments.enums import EnrollmentStatus
from lms_api.enrollments.service import enrollments_of, is_offer
from lms_api.portal.rendering import render
from lms_api.portal.signin import PageUser
from lms_api.portal.workspaces import KIND_NAMES
from lms_api.principal import STAFF_ROLES, Principal

router = APIRouter()

CURRENCY_SIGNS = {"eur": "€", "usd": "$", "gbp": "£"}


def format_price(cents: int, currency: str) -> str:
    """150000 eur as "€1,500.00"; a currency without a sign as "1,500.00 CHF" (as the hub's
    enroll page writes prices; lms_api never imports the hub)."""
    amount = f"{cents / 100:,.2f}"
    sign = CURRENCY_SIGNS.get(currency.lower())
    return f"{sign}{amount}" if sign else f"{amount} {currency.upper()}"


def workspace_names(kinds: list[str]) -> list[str]:
    return [KIND_NAMES.get(kind, (kind, ""))[0] for kind in kinds]


async def _statuses(session: AsyncSession, username: str) -> dict[int, str]:
    """Enrollment status by track id."""
    return {e.track_id: e.status for e in await enrollments_of(session, username)}


def _active_ids(statuses: dict[int, str]) -> set[int]:
    return {tid for tid, status in statuses.items() if status == EnrollmentStatus.ACTIVE}


async def offers_enrollment(
    session: AsyncSession, principal: Principal, settings: Settings | None = None
) -> bool:
    """True when payments are on and the user is a student with at least one open, priced
    track they are not active in. Pass the app's settings (`request.app.state.settings`);
    without them the process's settings are used."""
    settings = settings or get_settings()
    if not settings.payments_enabled or principal.role in STAFF_ROLES:
        return False
    active = _active_ids(await _statuses(session, principal.name))
    tracks = await session.scalars(
        select(Track).where(Track.is_active.is_(True), Track.price_cents > 0)
    )
    return any(is_offer(track, active) for track in tracks)


@dataclass(frozen=True)
class CatalogEntry:
    track: Track
    price: str
    workspaces: list[str]
    status: str | None  # the user's enrollment status in the track, if any
    can_pay: bool

    @property
    def enrolled(self) -> bool:
        return self.status == EnrollmentStatus.ACTIVE


@router.get("/catalog")
async def catalog_page(request: Request, user: PageUser, session: SessionDep) -> Response:
    """The public catalog (GET /catalog's tracks) with the user's standing in each."""
    settings: Settings = request.app.state.settings
    staff = user.role in STAFF_ROLES
    statuses = await _statuses(session, user.name)
    active = _active_ids(statuses)
    can_pay = settings.payments_enabled and not staff
    entries = [
        CatalogEntry(
            track=track,
            price=format_price(track.price_cents, track.currency),
            workspaces=workspace_names(track.workspace_kinds),
            status=statuses.get(track.id),
            can_pay=can_pay and is_offer(track, active),
        )
        for track in await catalog(session)
    ]
    contact = settings.school_contact
    return render(
        request,
        "catalog.html",
        {
            "nav": "catalog",
            "staff": staff,
            "entries": entries,
            "enrolled_anywhere": bool(active),
            "payments_enabled": settings.payments_enabled,
            "contact": contact,
            "contact_is_email": "@" in contact,
        },
        user=user,
        offers_enrollment=any(e.can_pay for e in entries),
    )
