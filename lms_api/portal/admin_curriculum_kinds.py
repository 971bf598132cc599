"""The curriculum editor's four kinds of record (track, project, step, deliverable) as a table.

Each kind is edited through the same six pages (new, create, show, update, confirm, delete);
only what this table holds differs: where a record hangs, how it is loaded, which API schema and
service call it goes through, and which words its pages use. `admin_curriculum` turns each row
into routes, so a rule of the editor (repeat detection, 422/409 in words, PRG) is written once.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

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
from lms_api.errors import Conflict, HasSubmissions, NotFound
from lms_api.portal import admin_curriculum_forms as forms
from lms_api.portal.deliverables import _number
from lms_api.types import has_control_characters

Loaded = tuple[Any, Any]  # (the record's parent or None, the record)


@dataclass(frozen=True)
class Kind:
    """What differs between the editor's kinds of record; the page code is shared."""

    name: str
    template: str
    new_path: str  # the create form's route, keyed by the parent (if any)
    one_path: str  # the record's route, keyed by its own key
    parent_key: Any  # annotation of the parent's path parameter, None for a track
    key: Any  # annotation of the record's path parameter
    load_parent: Callable[[AsyncSession, Any], Awaitable[Any]]
    load: Callable[[AsyncSession, Any], Awaitable[Loaded]]
    context: Callable[[Any, Any], dict[str, Any]]  # (parent, record) -> template values
    blank: Callable[[Any], forms.Form]  # the empty form, given the parent
    filled: Callable[[Any], forms.Form]  # the form showing a record
    read: Callable[[FormData, Any], tuple[forms.Form, dict[str, Any]]]  # (data, record or None)
    create_schema: type[BaseModel]
    update_schema: Any  # a schema with `changes()`
    same: Callable[[AsyncSession, Any, dict[str, Any]], Awaitable[Any]]  # a repeated create's
    create: Callable[[AsyncSession, Any, dict[str, Any], str], Awaitable[Any]]
    update: Callable[[AsyncSession, Any, dict[str, Any], str], Awaitable[Any]]
    delete: Callable[[AsyncSession, Any, str], Awaitable[None]]
    conflict_field: str  # the field a service Conflict is shown next to
    saved_path: Callable[[Any, Any], str]  # (parent, record) -> the page after a save
    deleted_path: Callable[[Any], str]  # parent -> the page after a delete
    gone_path: Callable[[AsyncSession, FormData], Awaitable[str]]  # where a second delete goes
    deletion: Callable[[Any, Any], dict[str, Any]]  # the confirmation page's words
    refusal: type[Conflict]  # what the service raises when the record is in use
    refused: Callable[[Any, Conflict], str]  # that refusal, in words


def _key(annotation: Any, name: str) -> Any:
    """A path parameter read under the route's own name (`{step_id}`, ...)."""
    return Annotated[annotation, Path(alias=name)]


async def _full_track(session: AsyncSession, code: str) -> Track:
    return await service.get_track(session, code, with_projects=True)


async def _full_project(session: AsyncSession, project_id: int) -> Project:
    return await service.get_project(session, project_id, full=True)


async def _track_or_none(session: AsyncSession, code: str) -> Track | None:
    if not code or len(code) > 16 or has_control_characters(code):
        return None
    try:
        return await service.get_track(session, code)
    except NotFound:
        return None


def _text(data: FormData, name: str) -> str:
    return str(data.get(name) or "")


# --- tracks --------------------------------------------------------------------------------
async def _load_track(session: AsyncSession, code: str) -> Loaded:
    return None, await _full_track(session, code)


async def _nowhere(_session: AsyncSession, _data: Any) -> Any:
    return None


async def _same_track(session: AsyncSession, _parent: None, data: dict[str, Any]) -> Any:
    return await _track_or_none(session, data["code"])


async def _list_page(_session: AsyncSession, _data: FormData) -> str:
    return ""


TRACK = Kind(
    name="track",
    template="admin_curriculum_track.html",
    new_path="/admin/curriculum/tracks/new",
    one_path="/admin/curriculum/tracks/{code}",
    parent_key=None,
    key=_key(TrackCodePath, "code"),
    load_parent=_nowhere,
    load=_load_track,
    context=lambda _parent, track: {"track": track},
    blank=lambda _parent: forms.track_form(),
    filled=forms.track_form,
    read=forms.read_track,
    create_schema=TrackCreate,
    update_schema=TrackUpdate,
    same=_same_track,
    create=lambda session, _parent, data, by: service.create_track(session, data, by),
    update=lambda session, track, changes, by: service.update_track(
        session, track.code, changes, by
    ),
    delete=lambda session, track, by: service.delete_track(session, track.code, by),
    conflict_field="code",
    saved_path=lambda _parent, track: f"tracks/{track.code}",
    deleted_path=lambda _parent: "",
    gone_path=_list_page,
    deletion=lambda _parent, track: forms.track_deletion(track),
    refusal=Conflict,
    refused=lambda track, exc: forms.track_in_use(track.code, exc.details or {}),
)


# --- projects ------------------------------------------------------------------------------
async def _load_project(session: AsyncSession, project_id: int) -> Loaded:
    project = await _full_project(session, project_id)
    return project.track, project


async def _same_project(_session: AsyncSession, track: Track, data: dict[str, Any]) -> Any:
    return next((p for p in track.projects if p.number == data["number"]), None)


async def _back_to_track(session: AsyncSession, data: FormData) -> str:
    track = await _track_or_none(session, _text(data, "track"))
    return f"tracks/{track.code}" if track else ""


def _next_project(track: Track) -> forms.Form:
    return forms.project_form(number=max((p.number for p in track.projects), default=0) + 1)


PROJECT = Kind(
    name="project",
    template="admin_curriculum_project.html",
    new_path="/admin/curriculum/tracks/{code}/projects/new",
    one_path="/admin/curriculum/projects/{project_id}",
    parent_key=_key(TrackCodePath, "code"),
    key=_key(IdPath, "project_id"),
    load_parent=_full_track,
    load=_load_project,
    context=lambda track, project: {"track": track, "project": project},
    blank=_next_project,
    filled=forms.project_form,
    read=lambda data, _project: forms.read_project(data),
    create_schema=ProjectCreate,
    update_schema=ProjectUpdate,
    same=_same_project,
    create=lambda session, track, data, by: service.create_project(session, track.code, data, by),
    update=lambda session, project, changes, by: service.update_project(
        session, project.id, changes, by
    ),
    delete=lambda session, project, by: service.delete_project(session, project.id, by),
    conflict_field="number",
    saved_path=lambda _track, project: f"projects/{project.id}",
    deleted_path=lambda track: f"tracks/{track.code}",
    gone_path=_back_to_track,
    deletion=lambda _track, project: forms.project_deletion(project),
    refusal=HasSubmissions,
    refused=lambda _project, exc: forms.work_kept(exc.details or {}),
)


# --- steps and deliverables: records of a project ------------------------------------------
@dataclass(frozen=True)
class ItemService:
    """A project record's service calls and forms: all that differs between steps and
    deliverables."""

    get: Callable[[AsyncSession, int], Awaitable[Any]]
    create: Callable[[AsyncSession, int, dict[str, Any], str], Awaitable[Any]]
    update: Callable[[AsyncSession, int, dict[str, Any], str], Awaitable[Any]]
    delete: Callable[[AsyncSession, int, str], Awaitable[None]]
    read: Callable[[FormData], tuple[forms.Form, dict[str, Any]]]
    blank: Callable[[Project], forms.Form]
    filled: Callable[[Any], forms.Form]
    create_schema: type[BaseModel]
    update_schema: Any
    same: Callable[[Project, dict[str, Any]], Any]  # what a repeated create would find


def _project_item(name: str, path: str, calls: ItemService) -> Kind:
    """A kind whose records hang on a project: saved or deleted, back to the project page."""

    async def load(session: AsyncSession, item_id: int) -> Loaded:
        item = await calls.get(session, item_id)
        return await _full_project(session, item.project_id), item

    async def same(_session: AsyncSession, project: Project, data: dict[str, Any]) -> Any:
        return calls.same(project, data)

    async def back_to_project(_session: AsyncSession, data: FormData) -> str:
        back = _number(data.get("project"))
        return f"projects/{back}" if back else ""

    return Kind(
        name=name,
        template=f"admin_curriculum_{name}.html",
        new_path=f"/admin/curriculum/projects/{{project_id}}/{path}/new",
        one_path=f"/admin/curriculum/{path}/{{{name}_id}}",
        parent_key=_key(IdPath, "project_id"),
        key=_key(IdPath, f"{name}_id"),
        load_parent=_full_project,
        load=load,
        context=lambda project, item: {"project": project, "track": project.track, "item": item},
        blank=calls.blank,
        filled=calls.filled,
        read=lambda data, _item: calls.read(data),
        create_schema=calls.create_schema,
        update_schema=calls.update_schema,
        same=same,
        create=lambda session, project, data, by: calls.create(session, project.id, data, by),
        update=lambda session, item, changes, by: calls.update(session, item.id, changes, by),
        delete=lambda session, item, by: calls.delete(session, item.id, by),
        conflict_field="order",  # a step order another step has
        saved_path=lambda project, _item: f"projects/{project.id}",
        deleted_path=lambda project: f"projects/{project.id}",
        gone_path=back_to_project,
        deletion=lambda project, item: forms.item_deletion(name, item, project),
        refusal=HasSubmissions,
        refused=lambda _item, exc: forms.work_kept(exc.details or {}),
    )


def _same_step(project: Project, data: dict[str, Any]) -> ProjectStep | None:
    return next((s for s in project.steps if s.order == data["order"]), None)


def _latest_deliverable(project: Project, _data: dict[str, Any]) -> Deliverable | None:
    """A deliverable has no unique key: a repeat is the latest one holding the same values."""
    return max(project.deliverables, key=lambda d: d.id, default=None)


STEP = _project_item(
    "step",
    "steps",
    ItemService(
        get=service.get_step,
        create=service.create_step,
        update=service.update_step,
        delete=service.delete_step,
        read=forms.read_step,
        blank=lambda p: forms.step_form(order=max((s.order for s in p.steps), default=0) + 1),
        filled=forms.step_form,
        create_schema=StepCreate,
        update_schema=StepUpdate,
        same=_same_step,
    ),
)
DELIVERABLE = _project_item(
    "deliverable",
    "deliverables",
    ItemService(
        get=service.get_deliverable,
        create=service.create_deliverable,
        update=service.update_deliverable,
        delete=service.delete_deliverable,
        read=forms.read_deliverable,
        blank=lambda _p: forms.deliverable_form(),
        filled=forms.deliverable_form,
        create_schema=DeliverableCreate,
        update_schema=DeliverableUpdate,
        same=_latest_deliverable,
    ),
)
KINDS = (TRACK, PROJECT, STEP, DELIVERABLE)
