"""The workspace rule, asked by the hub: what a user may launch, and what they could buy.

A deactivated person may launch nothing (and is offered nothing to buy). The hub asks at every
spawn, and its workspace guard asks for all running users at once (`POST
/workspaces/allowed/check`) to stop the workspaces a deactivation, revocation or refund no
longer allows.
"""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms_api.auth import TrustedService
from lms_api.curriculum.models import Track
from lms_api.database import SessionDep
from lms_api.enrollments.enums import EnrollmentStatus
from lms_api.enrollments.models import Enrollment
from lms_api.enrollments.service import allowed_workspace_kinds, enrollments_of, is_offer
from lms_api.errors import error_responses
from lms_api.people.models import Person
from lms_api.types import LINE_PATTERN, Line

router = APIRouter(tags=["workspaces"])


class Offer(BaseModel):
    """A track the user could pay for online, to show on the hub's spawn-refused page."""

    track_code: str = Field(examples=["DP"])
    track_name: str = Field(examples=["Data Professional"])
    price_cents: int = Field(examples=[150000])
    currency: str = Field(examples=["eur"])
    workspace_kinds: list[str] = Field(examples=[["jupyterlab", "superset"]])


class ActiveTrack(BaseModel):
    """A track the user is active in and the workspace kinds it gives."""

    track_code: str = Field(examples=["DP"])
    workspace_kinds: list[str] = Field(examples=[["jupyterlab", "superset"]])


class AllowedWorkspaces(BaseModel):
    """The workspace kinds a user may launch now (from their active enrollments)."""

    user: str = Field(examples=["ada"])
    kinds: list[str] = Field(
        description="Empty when the user has no active enrollment", examples=[["jupyterlab"]]
    )
    tracks: list[ActiveTrack] = Field(
        default_factory=list,
        description="The active tracks behind `kinds` (the hub picks datasets and limits by track)",
    )
    offers: list[Offer] = Field(
        default_factory=list,
        description="Open, priced tracks with a workspace the user is not active in",
    )
    payments_enabled: bool = Field(
        False,
        description="Whether Stripe is configured, so the offers can be paid online",
        examples=[True],
    )
    account_active: bool = Field(
        True,
        description="False when an admin deactivated the person: then `kinds`, `tracks` and "
        "`offers` are empty",
        examples=[True],
    )


class RunningUsers(BaseModel):
    """Users whose workspaces run, as the hub's workspace guard sends them."""

    users: list[Annotated[Line, Field(min_length=1, max_length=255)]] = Field(
        max_length=5000, examples=[["ada", "linus"]]
    )


class AllowedKinds(BaseModel):
    """For each user sent: the workspace kinds they may run now (empty: none)."""

    kinds: dict[str, list[str]] = Field(examples=[{"ada": ["jupyterlab"], "grace": []}])


HUB_ONLY_ERRORS = error_responses(
    401, 403, 422, 503, described={403: "Only the hub's service token (or an admin) may ask"}
)


@router.get(
    "/workspaces/allowed",
    response_model=AllowedWorkspaces,
    responses=HUB_ONLY_ERRORS,
)
async def read_allowed_workspaces(
    _caller: TrustedService,
    session: SessionDep,
    request: Request,
    user: Annotated[
        str, Query(min_length=1, max_length=255, pattern=LINE_PATTERN, description="Hub username")
    ],
) -> AllowedWorkspaces:
    """Workspace kinds a user may launch, and what they could pay for (hub service only)."""
    active_person = await session.scalar(select(Person.is_active).where(Person.username == user))
    if active_person is False:
        return AllowedWorkspaces(
            user=user,
            kinds=[],
            account_active=False,
            payments_enabled=request.app.state.settings.payments_enabled,
        )
    enrollments = await enrollments_of(session, user)
    active = {e.track_id for e in enrollments if e.status == EnrollmentStatus.ACTIVE}
    tracks = await session.scalars(
        select(Track).where(Track.is_active.is_(True), Track.price_cents > 0).order_by(Track.code)
    )
    offers = [
        Offer(
            track_code=t.code,
            track_name=t.name,
            price_cents=t.price_cents,
            currency=t.currency,
            workspace_kinds=t.workspace_kinds,
        )
        for t in tracks
        if is_offer(t, active)
    ]
    return AllowedWorkspaces(
        user=user,
        kinds=allowed_workspace_kinds(enrollments),
        tracks=[
            ActiveTrack(track_code=e.track.code, workspace_kinds=e.track.workspace_kinds)
            for e in enrollments
            if e.status == EnrollmentStatus.ACTIVE and e.track.workspace_kinds
        ],
        offers=offers,
        payments_enabled=request.app.state.settings.payments_enabled,
    )


@router.post(
    "/workspaces/allowed/check",
    response_model=AllowedKinds,
    responses=HUB_ONLY_ERRORS,
)
async def check_running_workspaces(
    _caller: TrustedService, session: SessionDep, body: RunningUsers
) -> AllowedKinds:
    """The kinds each of many users may run, in one query (hub service only): what the hub's
    workspace guard compares with the workspaces that run."""
    names = sorted(set(body.users))
    kinds: dict[str, list[str]] = {name: [] for name in names}
    if names:
        rows = await session.scalars(
            select(Enrollment)
            .join(Person)
            .where(Person.username.in_(names), Person.is_active.is_(True))
            .options(selectinload(Enrollment.track), selectinload(Enrollment.person))
            .order_by(Enrollment.id)
        )
        by_user: dict[str, list[Enrollment]] = {}
        for enrollment in rows:
            by_user.setdefault(enrollment.person.username, []).append(enrollment)
        for name, enrollments in by_user.items():
            kinds[name] = allowed_workspace_kinds(enrollments)
    return AllowedKinds(kinds=kinds)
