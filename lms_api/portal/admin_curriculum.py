"""The admin's curriculum editor: tracks (price, workspaces), projects, steps, deliverables.

Admins only, as every curriculum write of the API (`AdminUser`). Each form is checked with the
API's schema (`admin_curriculum_forms`) and saved by the same service call as the API route,
so the rules (unique codes and numbers, no delete of a track with enrollments or payments, no
delete of work students handed in) are the API's, shown here in words. A repeated click of a
create finds its own result (the same values stored) and answers as the first click did; a
repeated delete finds nothing left and says so.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from lms_api.auth import admin_user
from lms_api.curriculum import service
from lms_api.curriculum.models import Deliverable, Project, ProjectStep, Track
from lms_api.curriculum.router import IdPath, TrackCodePath
from lms_api.curriculum.schemas import (
    DeliverableCreate,
    DeliverableUpdate,
    ProjectCreate,
    ProjectUpdate,
    StepCreate,
    StepUpdate,
    TrackCreate,
    TrackUpdate,
)
from lms_api.database import SessionDep
from lms_api.errors import Conflict, HasSubmissions, NotFound
from lms_api.portal import admin_curriculum_forms as forms
from lms_api.portal.catalog import format_price, workspace_names
from lms_api.portal.deliverables import _number
from lms_api.portal.rendering import portal_url, render
from lms_api.portal.signin import PageUser
from lms_api.principal import Principal
from lms_api.types import has_control_characters

router = APIRouter()

BASE = "admin/curriculum"


def _page(
    request: Request, user: Principal, template: str, status_code: int = 200, **context: Any
) -> Response:
    done = forms.DONE_WORDS.get(request.query_params.get("done") or "")
    return render(
        request,
        template,
        {"nav": "curriculum", "done": done, "price": format_price, **forms.CHOICES, **context},
        status_code=status_code,
        user=user,
    )


def _saved(request: Request, path: str, done: str = "saved") -> RedirectResponse:
    url = portal_url(request.app.state.settings, f"{BASE}/{path}".rstrip("/"))
    return RedirectResponse(f"{url}?done={done}", status_code=303)


def _body(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")


def _delete_page(
    request: Request, user: Principal, status: int = 200, problem: str = "", **context: Any
) -> Response:
    return _page(request, user, "admin_curriculum_delete.html", status, problem=problem, **context)


# --- tracks --------------------------------------------------------------------------------
@router.get("/admin/curriculum")
async def tracks(request: Request, user: PageUser, session: SessionDep) -> Response:
    """Every track (active or not), by code, with its price and workspaces."""
    await admin_user(user)
    rows = list(await session.scalars(service.tracks_query()))
    return _page(request, user, "admin_curriculum.html", tracks=rows, names=workspace_names)


def _track_page(
    request: Request, user: Principal, track: Track | None, form: forms.Form, status: int = 200
) -> Response:
    return _page(request, user, "admin_curriculum_track.html", status, track=track, form=form)


@router.get("/admin/curriculum/tracks/new")
async def new_track(request: Request, user: PageUser) -> Response:
    await admin_user(user)
    return _track_page(request, user, None, forms.track_form())


@router.post("/admin/curriculum/tracks/new")
async def create_track(request: Request, user: PageUser, session: SessionDep) -> Response:
    """`POST /api/v1/tracks` from the form."""
    await admin_user(user)
    form, body = forms.read_track(await request.form(), with_code=True)
    model = form.validated(TrackCreate, body)
    if model is None or form.errors:
        return _track_page(request, user, None, form, 422)
    data = _body(model)
    try:
        track = await service.create_track(session, data, user.name)
    except Conflict as exc:
        existing = await service.get_track(session, data["code"])
        if not forms.changed(existing, data):  # the same form sent twice: saved once
            return _saved(request, f"tracks/{existing.code}")
        form.errors["code"] = exc.message
        return _track_page(request, user, None, form, 409)
    return _saved(request, f"tracks/{track.code}")


@router.get("/admin/curriculum/tracks/{code}")
async def track_page(
    request: Request, user: PageUser, session: SessionDep, code: TrackCodePath
) -> Response:
    """A track's settings and its projects in order."""
    await admin_user(user)
    track = await service.get_track(session, code, with_projects=True)
    return _track_page(request, user, track, forms.track_form(track))


@router.post("/admin/curriculum/tracks/{code}")
async def update_track(
    request: Request, user: PageUser, session: SessionDep, code: TrackCodePath
) -> Response:
    """`PATCH /api/v1/tracks/{code}` with the fields that changed."""
    await admin_user(user)
    track = await service.get_track(session, code, with_projects=True)
    form, body = forms.read_track(await request.form(), with_code=False)
    form.values["code"] = track.code
    model = form.validated(TrackUpdate, body)
    if model is None or form.errors:
        return _track_page(request, user, track, form, 422)
    await service.update_track(session, code, forms.changed(track, model.changes()), user.name)
    return _saved(request, f"tracks/{code}")


@router.get("/admin/curriculum/tracks/{code}/delete")
async def confirm_delete_track(
    request: Request, user: PageUser, session: SessionDep, code: TrackCodePath
) -> Response:
    await admin_user(user)
    track = await service.get_track(session, code, with_projects=True)
    return _delete_page(request, user, **forms.track_deletion(track))


@router.post("/admin/curriculum/tracks/{code}/delete")
async def delete_track(
    request: Request, user: PageUser, session: SessionDep, code: TrackCodePath
) -> Response:
    """`DELETE /api/v1/tracks/{code}`: refused in words while enrollments or payments exist."""
    await admin_user(user)
    try:
        await service.delete_track(session, code, user.name)
    except NotFound:
        return _saved(request, "", "gone")  # a second click: deleted by the first
    except Conflict as exc:
        track = await service.get_track(session, code, with_projects=True)
        problem = forms.track_in_use(code, exc.details or {})
        return _delete_page(request, user, 409, problem, **forms.track_deletion(track))
    return _saved(request, "", "deleted")


# --- projects ------------------------------------------------------------------------------
def _project_page(
    request: Request,
    user: Principal,
    track: Track,
    project: Project | None,
    form: forms.Form,
    status: int = 200,
) -> Response:
    return _page(
        request,
        user,
        "admin_curriculum_project.html",
        status,
        track=track,
        project=project,
        form=form,
    )


@router.get("/admin/curriculum/tracks/{code}/projects/new")
async def new_project(
    request: Request, user: PageUser, session: SessionDep, code: TrackCodePath
) -> Response:
    await admin_user(user)
    track = await service.get_track(session, code, with_projects=True)
    number = max((p.number for p in track.projects), default=0) + 1
    return _project_page(request, user, track, None, forms.project_form(number=number))


@router.post("/admin/curriculum/tracks/{code}/projects/new")
async def create_project(
    request: Request, user: PageUser, session: SessionDep, code: TrackCodePath
) -> Response:
    """`POST /api/v1/tracks/{code}/projects` from the form."""
    await admin_user(user)
    track = await service.get_track(session, code, with_projects=True)
    form, body = forms.read_project(await request.form())
    model = form.validated(ProjectCreate, body)
    if model is None:
        return _project_page(request, user, track, None, form, 422)
    data = _body(model)
    try:
        project = await service.create_project(session, code, data, user.name)
    except Conflict as exc:
        same = next((p for p in track.projects if p.number == data["number"]), None)
        if same is not None and not forms.changed(same, data):
            return _saved(request, f"projects/{same.id}")
        form.errors["number"] = exc.message
        return _project_page(request, user, track, None, form, 409)
    return _saved(request, f"projects/{project.id}")


@router.get("/admin/curriculum/projects/{project_id}")
async def project_page(
    request: Request, user: PageUser, session: SessionDep, project_id: IdPath
) -> Response:
    """A project's settings, its steps in order and its deliverables."""
    await admin_user(user)
    project = await service.get_project(session, project_id, full=True)
    return _project_page(request, user, project.track, project, forms.project_form(project))


@router.post("/admin/curriculum/projects/{project_id}")
async def update_project(
    request: Request, user: PageUser, session: SessionDep, project_id: IdPath
) -> Response:
    """`PATCH /api/v1/projects/{id}` with the fields that changed."""
    await admin_user(user)
    project = await service.get_project(session, project_id, full=True)
    form, body = forms.read_project(await request.form())
    model = form.validated(ProjectUpdate, body)
    if model is None:
        return _project_page(request, user, project.track, project, form, 422)
    try:
        await service.update_project(
            session, project_id, forms.changed(project, model.changes()), user.name
        )
    except Conflict as exc:
        form.errors["number"] = exc.message
        fresh = await service.get_project(session, project_id, full=True)
        return _project_page(request, user, fresh.track, fresh, form, 409)
    return _saved(request, f"projects/{project_id}")


@router.get("/admin/curriculum/projects/{project_id}/delete")
async def confirm_delete_project(
    request: Request, user: PageUser, session: SessionDep, project_id: IdPath
) -> Response:
    await admin_user(user)
    project = await service.get_project(session, project_id, full=True)
    return _delete_page(request, user, **forms.project_deletion(project))


@router.post("/admin/curriculum/projects/{project_id}/delete")
async def delete_project(
    request: Request, user: PageUser, session: SessionDep, project_id: IdPath
) -> Response:
    """`DELETE /api/v1/projects/{id}`: refused in words when students handed work in."""
    await admin_user(user)
    back = str((await request.form()).get("track") or "")
    try:
        project = await service.get_project(session, project_id, full=True)
    except NotFound:
        track = await _track_or_none(session, back)
        return _saved(request, f"tracks/{track.code}" if track else "", "gone")
    try:
        await service.delete_project(session, project_id, user.name)
    except HasSubmissions as exc:
        return _delete_page(
            request,
            user,
            409,
            forms.work_kept(exc.details or {}),
            **forms.project_deletion(project),
        )
    return _saved(request, f"tracks/{project.track.code}", "deleted")


async def _track_or_none(session: AsyncSession, code: str) -> Track | None:
    if not code or len(code) > 16 or has_control_characters(code):
        return None
    try:
        return await service.get_track(session, code)
    except NotFound:
        return None


# --- steps and deliverables ----------------------------------------------------------------
@dataclass(frozen=True)
class ItemKind:
    """What differs between a project's steps and its deliverables: the rest is one code."""

    noun: str
    path: str
    template: str
    read: Callable[[FormData], tuple[forms.Form, dict[str, Any]]]
    blank: Callable[[Project], forms.Form]
    filled: Callable[[Any], forms.Form]
    create_schema: type[BaseModel]
    update_schema: type[StepUpdate] | type[DeliverableUpdate]
    get: Callable[[AsyncSession, int], Awaitable[Any]]
    create: Callable[..., Awaitable[Any]]
    update: Callable[..., Awaitable[Any]]
    delete: Callable[..., Awaitable[None]]
    same: Callable[[Project, dict[str, Any]], Any]  # what a repeated create would find


def _same_step(project: Project, data: dict[str, Any]) -> ProjectStep | None:
    return next((s for s in project.steps if s.order == data["order"]), None)


def _latest_deliverable(project: Project, _data: dict[str, Any]) -> Deliverable | None:
    return max(project.deliverables, key=lambda d: d.id, default=None)


STEP = ItemKind(
    "step",
    "steps",
    "admin_curriculum_step.html",
    forms.read_step,
    lambda p: forms.step_form(order=max((s.order for s in p.steps), default=0) + 1),
    forms.step_form,
    StepCreate,
    StepUpdate,
    service.get_step,
    service.create_step,
    service.update_step,
    service.delete_step,
    _same_step,
)
DELIVERABLE = ItemKind(
    "deliverable",
    "deliverables",
    "admin_curriculum_deliverable.html",
    forms.read_deliverable,
    lambda _p: forms.deliverable_form(),
    forms.deliverable_form,
    DeliverableCreate,
    DeliverableUpdate,
    service.get_deliverable,
    service.create_deliverable,
    service.update_deliverable,
    service.delete_deliverable,
    _latest_deliverable,
)


def _item_page(
    request: Request,
    user: Principal,
    kind: ItemKind,
    project: Project,
    item: Any,
    form: forms.Form,
    status: int = 200,
) -> Response:
    context = {"project": project, "track": project.track, "item": item, "form": form}
    return _page(request, user, kind.template, status, **context)


async def _new_item(
    request: Request, user: Principal, session: AsyncSession, kind: ItemKind, project_id: int
) -> Response:
    await admin_user(user)
    project = await service.get_project(session, project_id, full=True)
    return _item_page(request, user, kind, project, None, kind.blank(project))


async def _create_item(
    request: Request, user: Principal, session: AsyncSession, kind: ItemKind, project_id: int
) -> Response:
    """The API's create from the form; a second click of the same form (its step, or the
    project's latest deliverable, holds exactly what was sent) adds nothing."""
    await admin_user(user)
    project = await service.get_project(session, project_id, full=True)
    form, body = kind.read(await request.form())
    model = form.validated(kind.create_schema, body)
    if model is None:
        return _item_page(request, user, kind, project, None, form, 422)
    data = _body(model)
    same = kind.same(project, data)
    if same is not None and not forms.changed(same, data):
        return _saved(request, f"projects/{project_id}")
    try:
        await kind.create(session, project_id, data, user.name)
    except Conflict as exc:  # a step order another step has
        form.errors["order"] = exc.message
        return _item_page(request, user, kind, project, None, form, 409)
    return _saved(request, f"projects/{project_id}")


async def _item_and_project(
    session: AsyncSession, kind: ItemKind, item_id: int
) -> tuple[Any, Project]:
    item = await kind.get(session, item_id)
    return item, await service.get_project(session, item.project_id, full=True)


async def _show_item(
    request: Request, user: Principal, session: AsyncSession, kind: ItemKind, item_id: int
) -> Response:
    await admin_user(user)
    item, project = await _item_and_project(session, kind, item_id)
    return _item_page(request, user, kind, project, item, kind.filled(item))


async def _update_item(
    request: Request, user: Principal, session: AsyncSession, kind: ItemKind, item_id: int
) -> Response:
    """The API's PATCH with the fields that changed."""
    await admin_user(user)
    item, project = await _item_and_project(session, kind, item_id)
    form, body = kind.read(await request.form())
    model = form.validated(kind.update_schema, body)
    if model is None:
        return _item_page(request, user, kind, project, item, form, 422)
    changes = forms.changed(item, model.changes())
    try:
        await kind.update(session, item_id, changes, user.name)
    except Conflict as exc:  # a step order another step has
        form.errors["order"] = exc.message
        return _item_page(request, user, kind, project, item, form, 409)
    return _saved(request, f"projects/{project.id}")


async def _confirm_item(
    request: Request, user: Principal, session: AsyncSession, kind: ItemKind, item_id: int
) -> Response:
    await admin_user(user)
    item, project = await _item_and_project(session, kind, item_id)
    return _delete_page(request, user, **forms.item_deletion(kind.noun, item, project))


async def _delete_item(
    request: Request, user: Principal, session: AsyncSession, kind: ItemKind, item_id: int
) -> Response:
    """The API's DELETE; refused in words when students handed work in."""
    await admin_user(user)
    back = _number((await request.form()).get("project"))
    try:
        item, project = await _item_and_project(session, kind, item_id)
    except NotFound:  # a second click: deleted by the first
        return _saved(request, f"projects/{back}" if back else "", "gone")
    try:
        await kind.delete(session, item_id, user.name)
    except HasSubmissions as exc:
        context = forms.item_deletion(kind.noun, item, project)
        return _delete_page(request, user, 409, forms.work_kept(exc.details or {}), **context)
    return _saved(request, f"projects/{project.id}", "deleted")


@router.get("/admin/curriculum/projects/{project_id}/steps/new")
async def new_step(
    request: Request, user: PageUser, session: SessionDep, project_id: IdPath
) -> Response:
    return await _new_item(request, user, session, STEP, project_id)


@router.post("/admin/curriculum/projects/{project_id}/steps/new")
async def create_step(
    request: Request, user: PageUser, session: SessionDep, project_id: IdPath
) -> Response:
    """`POST /api/v1/projects/{id}/steps` from the form."""
    return await _create_item(request, user, session, STEP, project_id)


@router.get("/admin/curriculum/steps/{step_id}")
async def step_page(
    request: Request, user: PageUser, session: SessionDep, step_id: IdPath
) -> Response:
    """A step: order, title and its Markdown text."""
    return await _show_item(request, user, session, STEP, step_id)


@router.post("/admin/curriculum/steps/{step_id}")
async def update_step(
    request: Request, user: PageUser, session: SessionDep, step_id: IdPath
) -> Response:
    """`PATCH /api/v1/steps/{id}`."""
    return await _update_item(request, user, session, STEP, step_id)


@router.get("/admin/curriculum/steps/{step_id}/delete")
async def confirm_delete_step(
    request: Request, user: PageUser, session: SessionDep, step_id: IdPath
) -> Response:
    return await _confirm_item(request, user, session, STEP, step_id)


@router.post("/admin/curriculum/steps/{step_id}/delete")
async def delete_step(
    request: Request, user: PageUser, session: SessionDep, step_id: IdPath
) -> Response:
    """`DELETE /api/v1/steps/{id}`."""
    return await _delete_item(request, user, session, STEP, step_id)


@router.get("/admin/curriculum/projects/{project_id}/deliverables/new")
async def new_deliverable(
    request: Request, user: PageUser, session: SessionDep, project_id: IdPath
) -> Response:
    return await _new_item(request, user, session, DELIVERABLE, project_id)


@router.post("/admin/curriculum/projects/{project_id}/deliverables/new")
async def create_deliverable(
    request: Request, user: PageUser, session: SessionDep, project_id: IdPath
) -> Response:
    """`POST /api/v1/projects/{id}/deliverables` from the form."""
    return await _create_item(request, user, session, DELIVERABLE, project_id)


@router.get("/admin/curriculum/deliverables/{deliverable_id}")
async def deliverable_page(
    request: Request, user: PageUser, session: SessionDep, deliverable_id: IdPath
) -> Response:
    """A deliverable: title, what students hand in, required or not."""
    return await _show_item(request, user, session, DELIVERABLE, deliverable_id)


@router.post("/admin/curriculum/deliverables/{deliverable_id}")
async def update_deliverable(
    request: Request, user: PageUser, session: SessionDep, deliverable_id: IdPath
) -> Response:
    """`PATCH /api/v1/deliverables/{id}`."""
    return await _update_item(request, user, session, DELIVERABLE, deliverable_id)


@router.get("/admin/curriculum/deliverables/{deliverable_id}/delete")
async def confirm_delete_deliverable(
    request: Request, user: PageUser, session: SessionDep, deliverable_id: IdPath
) -> Response:
    return await _confirm_item(request, user, session, DELIVERABLE, deliverable_id)


@router.post("/admin/curriculum/deliverables/{deliverable_id}/delete")
async def delete_deliverable(
    request: Request, user: PageUser, session: SessionDep, deliverable_id: IdPath
) -> Response:
    """`DELETE /api/v1/deliverables/{id}`: refused in words when students handed work in."""
    return await _delete_item(request, user, session, DELIVERABLE, deliverable_id)
