"""The admin's people pages: the list of profiles, one person (role, trainer, enrollments),
trainer assignment with the cap, deactivation (after a confirmation) and re-activation.

Admins only (the API's refusal for admin routes). Roles come from the hub, as for the API;
every change runs the people service the API's routes run (`PUT/DELETE /users/{u}/trainer`,
`POST /users/{u}/deactivate`, `PATCH /users/{u}` with `is_active`), so the cap, the refusal
to deactivate oneself and the outbox events are the same.
"""

import asyncio
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lms_api.auth import admin_user
from lms_api.curriculum.models import Track
from lms_api.database import MAX_ID, SessionDep
from lms_api.enrollments.enums import EnrollmentStatus
from lms_api.enrollments.models import Enrollment
from lms_api.enrollments.service import enrollments_of
from lms_api.errors import Conflict, InvalidInput, NotFound, TrainerFull
from lms_api.people import service as people
from lms_api.people.models import Person
from lms_api.people.router import UsernamePath, hub_directory
from lms_api.people.schemas import TrainerChoice
from lms_api.portal.deliverables import when
from lms_api.portal.rendering import portal_url, render
from lms_api.portal.signin import PageUser
from lms_api.principal import STAFF_ROLES, HubUnavailable, Principal, Role
from lms_api.types import LINE_PATTERN

router = APIRouter()

PAGE_SIZE = 50
HUB_QUESTIONS_AT_ONCE = 8
ROLE_WORDS = {
    Role.STUDENT: "Student",
    Role.TRAINER: "Trainer",
    Role.ADMIN: "Admin",
    Role.SUPERADMIN: "Hub admin",
}
STATUS_WORDS = {
    EnrollmentStatus.ACTIVE: ("Active", "success"),
    EnrollmentStatus.PENDING_PAYMENT: ("Waiting for payment", "warning"),
    EnrollmentStatus.CANCELLED: ("Revoked", "secondary"),
    EnrollmentStatus.REFUNDED: ("Refunded", "secondary"),
}
DONE_WORDS = {
    "assigned": "Trainer assigned.",
    "unchanged": "That trainer was already assigned; nothing changed.",
    "unassigned": "Trainer removed.",
    "deactivated": "Account deactivated: they can no longer use the LMS.",
    "reactivated": "Account re-activated.",
}

PageNumber = Annotated[int, Query(ge=1, le=MAX_ID, description="Page, from 1")]
Search = Annotated[str, Query(max_length=200, pattern=LINE_PATTERN)]
ActiveFilter = Annotated[str, Query(pattern=r"^(active|inactive)?$")]
RoleFilter = Annotated[str, Query(pattern=r"^(trainer)?$")]


def pager(request: Request, page: int, count: int, path: str, **filters: str) -> dict[str, Any]:
    """Page `page` of `count` rows: the offset, and links to the pages either side that keep
    the filters (shared with the enrollments list)."""
    last = max(1, -(-count // PAGE_SIZE))
    kept = {name: value for name, value in filters.items() if value}

    def link(number: int) -> str:
        url = portal_url(request.app.state.settings, path)
        return f"{url}?{urlencode({**kept, 'page': number})}"

    return {
        "page": page,
        "last": last,
        "count": count,
        "offset": (page - 1) * PAGE_SIZE,
        "previous": link(page - 1) if page > 1 else None,
        "next": link(page + 1) if page < last else None,
    }


def done_redirect(request: Request, path: str, done: str) -> RedirectResponse:
    """303 to the portal page `path` that says what was done (post/redirect/get; shared with
    the enrollments and payments pages)."""
    url = portal_url(request.app.state.settings, path)
    return RedirectResponse(f"{url}?{urlencode({'done': done})}", status_code=303)


async def _roles(directory: people.HubDirectory, usernames: list[str]) -> dict[str, Role | None]:
    """The hub's role of each user (None: not a hub user); raises HubUnavailable."""
    limit = asyncio.Semaphore(HUB_QUESTIONS_AT_ONCE)

    async def one(name: str) -> Role | None:
        async with limit:
            return await directory.role_of(name)

    found = await asyncio.gather(*(one(name) for name in usernames))
    return dict(zip(usernames, found, strict=True))


async def _active_tracks(session: AsyncSession, person_ids: list[int]) -> dict[int, list[str]]:
    """person id -> codes of the tracks they are active in."""
    if not person_ids:
        return {}
    rows = await session.execute(
        select(Enrollment.person_id, Track.code)
        .join(Track, Enrollment.track_id == Track.id)
        .where(Enrollment.person_id.in_(person_ids), Enrollment.status == EnrollmentStatus.ACTIVE)
        .order_by(Track.code)
    )
    tracks: dict[int, list[str]] = {}
    for person_id, code in rows.all():
        tracks.setdefault(person_id, []).append(code)
    return tracks


# --- the list ------------------------------------------------------------------------------
@router.get("/admin/people")
async def people_list(
    request: Request,
    user: PageUser,
    session: SessionDep,
    q: Search = "",
    status: ActiveFilter = "",
    role: RoleFilter = "",
    page: PageNumber = 1,
) -> Response:
    """Profiles by username, `GET /api/v1/users`'s filters, with role, trainer and tracks."""
    await admin_user(user)
    directory = hub_directory(request)
    statement = people.people_statement(
        q.strip() or None, {"active": True, "inactive": False}.get(status)
    )
    if role == "trainer":
        statement = statement.where(Person.username.in_(await people.trainer_usernames(directory)))
    count = await session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    paging = pager(request, page, count, "admin/people", q=q, status=status, role=role)
    listed = list(await session.scalars(statement.limit(PAGE_SIZE).offset(paging["offset"])))
    ids = [p.id for p in listed]
    try:
        roles: dict[str, Role | None] | None = await _roles(directory, [p.username for p in listed])
    except HubUnavailable:
        roles = None  # the list still helps; each role shows as unknown
    return render(
        request,
        "admin_people.html",
        {
            "nav": "people",
            "people": listed,
            "roles": roles,
            "role_words": ROLE_WORDS,
            "trainers": await people.trainer_usernames_of(session, ids),
            "tracks": await _active_tracks(session, ids),
            "q": q,
            "status": status,
            "role": role,
            "paging": paging,
        },
        user=user,
    )


# --- one person ----------------------------------------------------------------------------
@dataclass
class TrainerForm:
    """The trainer the admin chose, and the problem with it."""

    trainer: str = ""
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class TrainerOption:
    username: str
    name: str
    load: int
    cap: int

    @property
    def full(self) -> bool:
        return self.load >= self.cap


async def _hub_role(directory: people.HubDirectory, username: str) -> Role | None:
    try:
        return await directory.role_of(username)
    except HubUnavailable as exc:
        raise people.HubUnreachable(exc) from exc


async def _person(session: AsyncSession, username: str, role: Role | None) -> Person:
    """The profile, fresh; a hub user who never used the LMS gets an unsaved blank one (a
    grant or an assignment makes it, as the API does), anyone else is 404."""
    person = await session.scalar(
        select(Person).where(Person.username == username).execution_options(populate_existing=True)
    )
    if person is not None:
        return person
    if role is None:
        raise NotFound(f"No user named {username!r}: neither the hub nor the LMS knows them.")
    return Person(username=username, name="", email="", is_active=True, assigned_students=0)


async def _trainer_options(request: Request, session: AsyncSession) -> list[TrainerOption]:
    """The hub group `trainers`, each with their load and the cap (`GET /api/v1/trainers`)."""
    names = await people.trainer_usernames(hub_directory(request))
    known = await people.people_by_username(session, names)
    cap = request.app.state.settings.max_students_per_trainer
    return [
        TrainerOption(
            name,
            known[name].name if name in known else "",
            known[name].assigned_students if name in known else 0,
            cap,
        )
        for name in names
        if name not in known or known[name].is_active
    ]


async def _person_page(
    request: Request,
    session: AsyncSession,
    user: Principal,
    username: str,
    form: TrainerForm | None = None,
    status_code: int = 200,
) -> Response:
    role = await _hub_role(hub_directory(request), username)
    person = await _person(session, username, role)
    saved = person.id is not None
    trainer = await people.trainer_username_of(session, person.id) if saved else None
    is_student = role not in STAFF_ROLES and role is not None
    return render(
        request,
        "admin_people_person.html",
        {
            "nav": "people",
            "person": person,
            "saved": saved,
            "role": role,
            "role_words": ROLE_WORDS,
            "is_student": is_student,
            "trainer": trainer,
            "options": await _trainer_options(request, session) if is_student else [],
            "cap": request.app.state.settings.max_students_per_trainer,
            "enrollments": await enrollments_of(session, username) if saved else [],
            "status_words": STATUS_WORDS,
            "form": form or TrainerForm(trainer=trainer or ""),
            "done": DONE_WORDS.get(request.query_params.get("done") or ""),
            "when": when,
        },
        status_code=status_code,
        user=user,
    )


@router.get("/admin/people/{username}")
async def person_page(
    request: Request, user: PageUser, session: SessionDep, username: UsernamePath
) -> Response:
    """One person: profile, the hub's role, trainer (with the form), enrollments, status."""
    await admin_user(user)
    return await _person_page(request, session, user, username)


def _to_person(request: Request, username: str, done: str) -> RedirectResponse:
    return done_redirect(request, f"admin/people/{username}", done)


def _trainer_words(error: ValidationError) -> str:
    if any(problem["type"] == "string_too_short" for problem in error.errors()):
        return "Choose a trainer."
    return "Choose a trainer from the list (a hub username: no spaces or control characters)."


@router.post("/admin/people/{username}/trainer")
async def post_trainer(
    request: Request, user: PageUser, session: SessionDep, username: UsernamePath
) -> Response:
    """`PUT /api/v1/users/{u}/trainer` from a form: the hub's checks, then the cap."""
    await admin_user(user)
    typed = TrainerForm(trainer=str((await request.form()).get("trainer") or ""))
    try:
        body = TrainerChoice(trainer=typed.trainer)
    except ValidationError as exc:
        typed.errors["trainer"] = _trainer_words(exc)
        return await _person_page(request, session, user, username, typed, 422)
    cap = request.app.state.settings.max_students_per_trainer
    try:
        await people.check_assignable(hub_directory(request), username, body.trainer)
        async with session.begin_nested():  # a refusal leaves no profile or count behind
            result = await people.assign_trainer(
                session, username, body.trainer, cap=cap, actor=user.name
            )
    except TrainerFull as exc:
        typed.errors["trainer"] = (
            f"{body.trainer} already has {exc.details['assigned_students']} students, the most "
            f"one trainer may have (cap {cap}). Choose another trainer."
        )
        return await _person_page(request, session, user, username, typed, exc.status)
    except (InvalidInput, Conflict) as exc:
        typed.errors["trainer"] = exc.message
        return await _person_page(request, session, user, username, typed, exc.status)
    return _to_person(request, username, "assigned" if result.changed else "unchanged")


@router.post("/admin/people/{username}/trainer/remove")
async def post_remove_trainer(
    request: Request, user: PageUser, session: SessionDep, username: UsernamePath
) -> Response:
    """`DELETE /api/v1/users/{u}/trainer` from a form (a second click changes nothing)."""
    await admin_user(user)
    await people.unassign_trainer(session, username, actor=user.name)
    return _to_person(request, username, "unassigned")


@router.get("/admin/people/{username}/deactivate")
async def deactivate_page(
    request: Request, user: PageUser, session: SessionDep, username: UsernamePath
) -> Response:
    """The confirmation step before a deactivation."""
    await admin_user(user)
    person = await people.person_or_404(session, username)
    return _confirm_page(request, user, person)


def _confirm_page(
    request: Request, user: Principal, person: Person, problem: str = "", status_code: int = 200
) -> Response:
    return render(
        request,
        "admin_people_deactivate.html",
        {"nav": "people", "person": person, "problem": problem},
        status_code=status_code,
        user=user,
    )


@router.post("/admin/people/{username}/deactivate")
async def post_deactivate(
    request: Request, user: PageUser, session: SessionDep, username: UsernamePath
) -> Response:
    """`POST /api/v1/users/{u}/deactivate` from the confirmation (idempotent)."""
    await admin_user(user)
    person = await people.person_or_404(session, username)
    try:
        await people.deactivate_person(session, person, actor=user.name)
    except Conflict as exc:  # one's own account
        return _confirm_page(request, user, person, exc.message, exc.status)
    return _to_person(request, username, "deactivated")


@router.post("/admin/people/{username}/reactivate")
async def post_reactivate(
    request: Request, user: PageUser, session: SessionDep, username: UsernamePath
) -> Response:
    """`PATCH /api/v1/users/{u}` with `is_active: true` from a form (idempotent)."""
    await admin_user(user)
    person = await people.person_or_404(session, username)
    await people.update_person(session, person, {"is_active": True}, actor=user.name)
    return _to_person(request, username, "reactivated")
