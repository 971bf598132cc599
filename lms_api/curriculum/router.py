"""Curriculum routes: a public catalog, reading for the enrolled and staff, writing for admins."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from lms_api.auth import AdminUser, CurrentPrincipal, CurrentUser
from lms_api.curriculum import reads, service
from lms_api.curriculum.models import Project, Track
from lms_api.curriculum.schemas import (
    CatalogTrack,
    DeliverableCreate,
    DeliverableOut,
    DeliverableUpdate,
    ProjectCreate,
    ProjectDetail,
    ProjectUpdate,
    StepCreate,
    StepOut,
    StepUpdate,
    TrackCreate,
    TrackDetail,
    TrackPage,
    TrackSummary,
    TrackUpdate,
)
from lms_api.database import MAX_ID, SessionDep
from lms_api.errors import error_responses
from lms_api.pagination import PageDep, paginate
from lms_api.types import LINE_PATTERN

router = APIRouter(tags=["curriculum"])

_DESCRIPTIONS = {
    401: "No token, or the hub does not know it",
    403: "The caller may not do this (see the message)",
    404: "No such track, project, step or deliverable",
    409: "Conflicts with existing data (see the message)",
    422: "Invalid input; `details` names each field",
    503: "The hub could not be asked about the token",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` for the error statuses of a route (all use the error body)."""
    return error_responses(*statuses, described=_DESCRIPTIONS)


READ_ERRORS = errors(401, 403, 404, 422, 503)
WRITE_ERRORS = errors(401, 403, 404, 409, 422, 503)  # writes that can hit a unique key
NO_CONFLICT_ERRORS = READ_ERRORS

TrackCodePath = Annotated[str, Path(max_length=16, pattern=LINE_PATTERN, examples=["DP"])]
IdPath = Annotated[int, Path(ge=1, le=MAX_ID, examples=[1])]


def track_detail(track: Track) -> TrackDetail:
    return TrackDetail.model_validate(track)


def project_detail(project: Project) -> ProjectDetail:
    return ProjectDetail(
        id=project.id,
        track_code=project.track.code,
        number=project.number,
        title=project.title,
        description=project.description,
        type=project.type,
        tech_stack=project.tech_stack,
        estimated_hours=project.estimated_hours,
        steps=[StepOut.model_validate(s) for s in project.steps],
        deliverables=[DeliverableOut.model_validate(d) for d in project.deliverables],
    )


# --- public ------------------------------------------------------------------------------
@router.get("/catalog", response_model=list[CatalogTrack], responses=errors(503))
async def read_catalog(session: SessionDep) -> list[CatalogTrack]:
    """Public catalog: active tracks, prices and project titles (no token needed)."""
    return [CatalogTrack.model_validate(t) for t in await service.catalog(session)]


# --- reading -----------------------------------------------------------------------------
@router.get("/tracks", response_model=TrackPage, responses=errors(401, 422, 503))
async def list_tracks(
    _caller: CurrentPrincipal,
    session: SessionDep,
    page: PageDep,
    request: Request,
    active: Annotated[bool | None, Query(description="Only active (or inactive) tracks")] = None,
) -> Any:
    """The school's tracks, ordered by code, one page at a time."""
    return await paginate(
        session, service.tracks_query(active), page, request, TrackSummary.model_validate
    )


@router.get("/tracks/{code}", response_model=TrackDetail, responses=READ_ERRORS)
async def read_track(code: TrackCodePath, user: CurrentUser, session: SessionDep) -> TrackDetail:
    """A track and its projects: staff, or students actively enrolled in it."""
    return await reads.track_detail(session, user, code)


@router.get("/projects/{project_id}", response_model=ProjectDetail, responses=READ_ERRORS)
async def read_project(project_id: IdPath, user: CurrentUser, session: SessionDep) -> ProjectDetail:
    """A project with its ordered steps and deliverables, under its track's read rule."""
    return await reads.project_detail(session, user, project_id)


# --- tracks (admins) ---------------------------------------------------------------------
@router.post(
    "/tracks",
    status_code=201,
    response_model=TrackDetail,
    responses=errors(401, 403, 409, 422, 503),
)
async def create_track(body: TrackCreate, user: AdminUser, session: SessionDep) -> TrackDetail:
    """Create a track (admins)."""
    track = await service.create_track(session, body.model_dump(mode="json"), user.name)
    return track_detail(track)


@router.patch("/tracks/{code}", response_model=TrackDetail, responses=WRITE_ERRORS)
async def update_track(
    code: TrackCodePath, body: TrackUpdate, user: AdminUser, session: SessionDep
) -> TrackDetail:
    """Change a track's details, price, workspaces or `is_active` (admins)."""
    track = await service.update_track(session, code, body.changes(), user.name)
    return track_detail(track)


@router.delete(
    "/tracks/{code}",
    status_code=204,
    response_class=Response,
    responses=errors(401, 403, 404, 409, 422, 503),
)
async def delete_track(code: TrackCodePath, user: AdminUser, session: SessionDep) -> None:
    """Delete a track with no enrollments, and its projects (admins); else deactivate it."""
    await service.delete_track(session, code, user.name)


# --- projects (admins) -------------------------------------------------------------------
@router.post(
    "/tracks/{code}/projects",
    status_code=201,
    response_model=ProjectDetail,
    responses=WRITE_ERRORS,
)
async def create_project(
    code: TrackCodePath, body: ProjectCreate, user: AdminUser, session: SessionDep
) -> ProjectDetail:
    """Add a project to a track (admins)."""
    project = await service.create_project(session, code, body.model_dump(mode="json"), user.name)
    return project_detail(project)


@router.patch("/projects/{project_id}", response_model=ProjectDetail, responses=WRITE_ERRORS)
async def update_project(
    project_id: IdPath, body: ProjectUpdate, user: AdminUser, session: SessionDep
) -> ProjectDetail:
    """Change a project (admins)."""
    project = await service.update_project(session, project_id, body.changes(), user.name)
    return project_detail(project)


@router.delete(
    "/projects/{project_id}", status_code=204, response_class=Response, responses=NO_CONFLICT_ERRORS
)
async def delete_project(project_id: IdPath, user: AdminUser, session: SessionDep) -> None:
    """Delete a project with its steps and deliverables (admins)."""
    await service.delete_project(session, project_id, user.name)


# --- steps (admins) ----------------------------------------------------------------------
@router.post(
    "/projects/{project_id}/steps", status_code=201, response_model=StepOut, responses=WRITE_ERRORS
)
async def create_step(
    project_id: IdPath, body: StepCreate, user: AdminUser, session: SessionDep
) -> StepOut:
    """Add a step to a project (admins)."""
    step = await service.create_step(session, project_id, body.model_dump(mode="json"), user.name)
    return StepOut.model_validate(step)


@router.patch("/steps/{step_id}", response_model=StepOut, responses=WRITE_ERRORS)
async def update_step(
    step_id: IdPath, body: StepUpdate, user: AdminUser, session: SessionDep
) -> StepOut:
    """Change a step's order, title or description (admins)."""
    step = await service.update_step(session, step_id, body.changes(), user.name)
    return StepOut.model_validate(step)


@router.delete(
    "/steps/{step_id}", status_code=204, response_class=Response, responses=NO_CONFLICT_ERRORS
)
async def delete_step(step_id: IdPath, user: AdminUser, session: SessionDep) -> None:
    """Delete a step (admins)."""
    await service.delete_step(session, step_id, user.name)


# --- deliverables (admins) ---------------------------------------------------------------
@router.post(
    "/projects/{project_id}/deliverables",
    status_code=201,
    response_model=DeliverableOut,
    responses=NO_CONFLICT_ERRORS,
)
async def create_deliverable(
    project_id: IdPath, body: DeliverableCreate, user: AdminUser, session: SessionDep
) -> DeliverableOut:
    """Add a deliverable to a project (admins)."""
    deliverable = await service.create_deliverable(
        session, project_id, body.model_dump(mode="json"), user.name
    )
    return DeliverableOut.model_validate(deliverable)


@router.patch(
    "/deliverables/{deliverable_id}", response_model=DeliverableOut, responses=NO_CONFLICT_ERRORS
)
async def update_deliverable(
    deliverable_id: IdPath, body: DeliverableUpdate, user: AdminUser, session: SessionDep
) -> DeliverableOut:
    """Change a deliverable (admins)."""
    deliverable = await service.update_deliverable(
        session, deliverable_id, body.changes(), user.name
    )
    return DeliverableOut.model_validate(deliverable)


@router.delete(
    "/deliverables/{deliverable_id}",
    status_code=204,
    response_class=Response,
    responses=NO_CONFLICT_ERRORS,
)
async def delete_deliverable(deliverable_id: IdPath, user: AdminUser, session: SessionDep) -> None:
    """Delete a deliverable (admins)."""
    await service.delete_deliverable(session, deliverable_id, user.name)
