"""People routes: your own profile, the admin side of profiles, trainers and assignments."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from lms_api.auth import AdminUser, CurrentUser, StaffUser, TrustedService
from lms_api.database import SessionDep
from lms_api.enrollments.schemas import EnrollmentOut
from lms_api.enrollments.service import enrollments_of
from lms_api.errors import error_responses as shared_error_responses
from lms_api.links import page_link
from lms_api.pagination import PageDep, paginate
from lms_api.people.models import Person
from lms_api.people.schemas import (
    AssignmentOut,
    MeOut,
    MeUpdate,
    PersonOut,
    PersonPage,
    PersonUpdate,
    TrainerChoice,
    TrainerOut,
    TrainerPage,
)
from lms_api.people.service import (
    AssignmentResult,
    HubDirectory,
    assign_trainer,
    check_assignable,
    close_person,
    deactivate_person,
    get_or_create_person,
    people_by_username,
    people_statement,
    person_or_404,
    trainer_username_of,
    trainer_usernames,
    trainer_usernames_of,
    unassign_trainer,
    update_person,
)
from lms_api.types import LINE_PATTERN

router = APIRouter(tags=["people"])

PEOPLE_ERRORS = {404: "No such user"}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a people route (the shared error body, people's wording for 404)."""
    return shared_error_responses(*statuses, described=PEOPLE_ERRORS)


UsernamePath = Annotated[
    str, Path(min_length=1, max_length=255, pattern=LINE_PATTERN, description="Hub username")
]


def hub_directory(request: Request) -> HubDirectory:
    settings = request.app.state.settings
    return HubDirectory(
        settings.hub_api_url,
        settings.lms_api_token.get_secret_value(),
        client=request.app.state.token_validator.client,
    )


async def _me(session: SessionDep, user: CurrentUser, person: Person) -> MeOut:
    enrollments = await enrollments_of(session, user.name)
    return MeOut(
        username=user.name,
        role=user.role,
        name=person.name,
        email=person.email,
        trainer=await trainer_username_of(session, person.id),
        enrollments=[
            EnrollmentOut(
                track_code=e.track.code,
                track_name=e.track.name,
                status=e.status,
                source=e.source,
                workspace_kinds=e.track.workspace_kinds,
            )
            for e in enrollments
        ],
    )


def _person_out(person: Person, trainer: str | None) -> PersonOut:
    return PersonOut.model_validate(person).model_copy(update={"trainer": trainer})


async def _one_person_out(session: SessionDep, person: Person) -> PersonOut:
    await session.refresh(person)  # counts may have moved by a conditional UPDATE
    return _person_out(person, await trainer_username_of(session, person.id))


def _assignment_out(result: AssignmentResult, cap: int) -> AssignmentOut:
    return AssignmentOut(
        student=result.student,
        trainer=result.trainer,
        previous_trainer=result.previous_trainer,
        changed=result.changed,
        trainer_assigned_students=result.trainer_assigned_students,
        cap=cap,
    )


# --- your own profile ----------------------------------------------------------------------
@router.get("/me", response_model=MeOut, responses=error_responses(401, 403, 503))
async def read_me(user: CurrentUser, session: SessionDep) -> MeOut:
    """Who the token belongs to: username, role (from the hub) and track enrollments."""
    person = await get_or_create_person(session, user.name)
    return await _me(session, user, person)


@router.patch("/me", response_model=MeOut, responses=error_responses(401, 403, 422, 503))
async def update_me(body: MeUpdate, user: CurrentUser, session: SessionDep) -> MeOut:
    """Change your own name or email."""
    person = await get_or_create_person(session, user.name)
    await update_person(session, person, body.model_dump(exclude_unset=True), actor=user.name)
    return await _me(session, user, person)


# --- admins: profiles ----------------------------------------------------------------------
@router.get("/users", response_model=PersonPage, responses=error_responses(401, 403, 422, 503))
async def list_users(
    _admin: AdminUser,
    session: SessionDep,
    page: PageDep,
    request: Request,
    q: Annotated[
        str | None,
        Query(
            max_length=200,
            pattern=LINE_PATTERN,
            description="Username or name contains (any case)",
        ),
    ] = None,
    active: Annotated[bool | None, Query(description="Only active (true) or deactivated")] = None,
) -> PersonPage:
    """Profiles, ordered by username; filter by `q` and `active`."""
    found = await paginate(session, people_statement(q, active), page, request)
    people: list[Person] = found["results"]
    trainers = await trainer_usernames_of(session, [p.id for p in people])
    found["results"] = [_person_out(p, trainers.get(p.id)) for p in people]
    return PersonPage(**found)


@router.get(
    "/users/{username}",
    response_model=PersonOut,
    responses=error_responses(401, 403, 404, 422, 503),
)
async def read_user(username: UsernamePath, _admin: AdminUser, session: SessionDep) -> PersonOut:
    """One profile (404 when the user has never used the LMS)."""
    return await _one_person_out(session, await person_or_404(session, username))


@router.patch(
    "/users/{username}",
    response_model=PersonOut,
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
async def update_user(
    username: UsernamePath, body: PersonUpdate, admin: AdminUser, session: SessionDep
) -> PersonOut:
    """Change a profile's name, email or active flag (not your own active flag)."""
    person = await person_or_404(session, username)
    await update_person(session, person, body.model_dump(exclude_unset=True), actor=admin.name)
    return await _one_person_out(session, person)


@router.post(
    "/users/{username}/deactivate",
    response_model=PersonOut,
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
async def deactivate_user(
    username: UsernamePath, admin: AdminUser, session: SessionDep
) -> PersonOut:
    """Deactivate an account: 403 on every route until re-activated (idempotent)."""
    person = await person_or_404(session, username)
    await deactivate_person(session, person, actor=admin.name)
    return await _one_person_out(session, person)


@router.post(
    "/users/{username}/close",
    response_model=PersonOut,
    responses=error_responses(401, 403, 404, 422, 503),
)
async def close_user(
    username: UsernamePath, caller: TrustedService, session: SessionDep
) -> PersonOut:
    """The hub deleted this user (hub service or admin): the profile is deactivated and
    renamed `NAME~closed-ID`, so a new hub user of the same name starts with no records."""
    person = await person_or_404(session, username)
    await close_person(session, person, actor=caller.name)
    return await _one_person_out(session, person)


# --- trainers ------------------------------------------------------------------------------
@router.get("/trainers", response_model=TrainerPage, responses=error_responses(401, 403, 422, 503))
async def list_trainers(
    _staff: StaffUser, session: SessionDep, page: PageDep, request: Request
) -> TrainerPage:
    """Members of the hub group `trainers`, by username, with their students and the cap."""
    usernames = await trainer_usernames(hub_directory(request))
    cap = request.app.state.settings.max_students_per_trainer
    known = await people_by_username(session, usernames)
    window = usernames[page.offset : page.offset + page.limit]
    results = []
    for name in window:
        person = known.get(name)
        count = person.assigned_students if person else 0
        results.append(
            TrainerOut(
                username=name,
                name=person.name if person else "",
                is_active=person.is_active if person else True,
                assigned_students=count,
                cap=cap,
                available=max(0, cap - count),
            )
        )
    end = page.offset + len(window)
    return TrainerPage(
        count=len(usernames),
        next=page_link(request, page.limit, end) if end < len(usernames) else None,
        previous=page_link(request, page.limit, max(0, page.offset - page.limit))
        if page.offset > 0
        else None,
        results=results,
    )


@router.put(
    "/users/{student}/trainer",
    response_model=AssignmentOut,
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
async def put_trainer(
    student: UsernamePath,
    body: TrainerChoice,
    admin: AdminUser,
    session: SessionDep,
    request: Request,
) -> AssignmentOut:
    """Assign (or move) a student to a trainer; 409 when the trainer is at the cap."""
    await check_assignable(hub_directory(request), student, body.trainer)
    cap = request.app.state.settings.max_students_per_trainer
    result = await assign_trainer(session, student, body.trainer, cap=cap, actor=admin.name)
    return _assignment_out(result, cap)


@router.delete(
    "/users/{student}/trainer",
    response_model=AssignmentOut,
    responses=error_responses(401, 403, 404, 422, 503),
)
async def delete_trainer(
    student: UsernamePath, admin: AdminUser, session: SessionDep, request: Request
) -> AssignmentOut:
    """Remove a student's trainer (no change when they have none)."""
    result = await unassign_trainer(session, student, actor=admin.name)
    return _assignment_out(result, request.app.state.settings.max_students_per_trainer)
