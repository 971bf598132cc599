"""The admin's curriculum editor: tracks (price, workspaces), projects, steps, deliverables.

Admins only, as every curriculum write of the API (`AdminUser`). Each form is checked with the
API's schema (`admin_curriculum_forms`) and saved by the same service call as the API route,
so the rules (unique codes and numbers, no delete of a track with enrollments or payments, no
delete of work students handed in) are the API's, shown here in words. A repeated click of a
create finds its own result (the same values stored) and answers as the first click did; a
repeated delete finds nothing left and says so. The four kinds of record share the page code
below; what differs between them is the table in `admin_curriculum_kinds`.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from lms_api.auth import admin_user
from lms_api.curriculum import service
from lms_api.database import SessionDep
from lms_api.errors import Conflict, NotFound
from lms_api.portal import admin_curriculum_forms as forms
from lms_api.portal.admin_curriculum_kinds import KINDS, Kind
from lms_api.portal.catalog import format_price, workspace_names
from lms_api.portal.rendering import portal_url, render
from lms_api.portal.signin import PageUser
from lms_api.principal import Principal

router = APIRouter()

BASE = "admin/curriculum"
Handler = Callable[[Request, Principal, AsyncSession, Kind, Any], Awaitable[Response]]


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


def _form_page(
    request: Request,
    user: Principal,
    kind: Kind,
    parent: Any,
    record: Any,
    form: forms.Form,
    status: int = 200,
) -> Response:
    context = kind.context(parent, record)
    return _page(request, user, kind.template, status, form=form, **context)


def _delete_page(
    request: Request, user: Principal, kind: Kind, loaded: tuple[Any, Any], **problem: Any
) -> Response:
    context = {"problem": "", **kind.deletion(*loaded), **problem}
    status = 409 if context["problem"] else 200
    return _page(request, user, "admin_curriculum_delete.html", status, **context)


@router.get("/admin/curriculum")
async def tracks(request: Request, user: PageUser, session: SessionDep) -> Response:
    """Every track (active or not), by code, with its price and workspaces."""
    await admin_user(user)
    rows = list(await session.scalars(service.tracks_query()))
    return _page(request, user, "admin_curriculum.html", tracks=rows, names=workspace_names)


async def new_record(
    request: Request, user: Principal, session: AsyncSession, kind: Kind, parent_key: Any
) -> Response:
    """The empty form (a step or project numbered after the last one)."""
    await admin_user(user)
    parent = await kind.load_parent(session, parent_key)
    return _form_page(request, user, kind, parent, None, kind.blank(parent))


async def create_record(
    request: Request, user: Principal, session: AsyncSession, kind: Kind, parent_key: Any
) -> Response:
    """The API's create from the form. A second click of the same form finds the record the
    first made (the same values stored) and adds nothing; a taken code, number or order is
    said next to its field."""
    await admin_user(user)
    parent = await kind.load_parent(session, parent_key)
    form, body = kind.read(await request.form(), None)
    model = form.validated(kind.create_schema, body)
    if model is None or form.errors:
        return _form_page(request, user, kind, parent, None, form, 422)
    data = model.model_dump(mode="json")
    same = await kind.same(session, parent, data)
    if same is not None and not forms.changed(same, data):
        return _saved(request, kind.saved_path(parent, same))
    try:
        record = await kind.create(session, parent, data, user.name)
    except Conflict as exc:
        form.errors[kind.conflict_field] = exc.message
        return _form_page(request, user, kind, parent, None, form, 409)
    return _saved(request, kind.saved_path(parent, record))


async def _load_as_admin(
    user: Principal, session: AsyncSession, kind: Kind, key: Any
) -> tuple[Any, Any]:
    """The API's admin check first (a refusal says nothing of what exists), then the record."""
    await admin_user(user)
    return await kind.load(session, key)


async def show_record(
    request: Request, user: Principal, session: AsyncSession, kind: Kind, key: Any
) -> Response:
    """A record's settings, and the records under it in order."""
    parent, record = await _load_as_admin(user, session, kind, key)
    return _form_page(request, user, kind, parent, record, kind.filled(record))


async def update_record(
    request: Request, user: Principal, session: AsyncSession, kind: Kind, key: Any
) -> Response:
    """The API's PATCH with the fields that changed: an unchanged form records nothing."""
    parent, record = await _load_as_admin(user, session, kind, key)
    form, body = kind.read(await request.form(), record)
    model = form.validated(kind.update_schema, body)
    if model is None or form.errors:
        return _form_page(request, user, kind, parent, record, form, 422)
    try:
        await kind.update(session, record, forms.changed(record, model.changes()), user.name)
    except Conflict as exc:
        form.errors[kind.conflict_field] = exc.message
        parent, record = await kind.load(session, key)  # as stored, not as typed
        return _form_page(request, user, kind, parent, record, form, 409)
    return _saved(request, kind.saved_path(parent, record))


async def confirm_delete(
    request: Request, user: Principal, session: AsyncSession, kind: Kind, key: Any
) -> Response:
    """What the delete takes with it, before the POST that does it."""
    return _delete_page(request, user, kind, await _load_as_admin(user, session, kind, key))


async def delete_record(
    request: Request, user: Principal, session: AsyncSession, kind: Kind, key: Any
) -> Response:
    """The API's DELETE; refused in words while in use (enrollments, payments, handed-in
    work). A second click finds nothing and says it was deleted already."""
    await admin_user(user)
    data = await request.form()
    try:
        loaded = await kind.load(session, key)
    except NotFound:
        return _saved(request, await kind.gone_path(session, data), "gone")
    try:
        await kind.delete(session, loaded[1], user.name)
    except kind.refusal as exc:
        return _delete_page(request, user, kind, loaded, problem=kind.refused(loaded[1], exc))
    return _saved(request, kind.deleted_path(loaded[0]), "deleted")


def _endpoint(handler: Handler, kind: Kind, key_type: Any) -> Callable[..., Awaitable[Response]]:
    """`handler` for one kind, as FastAPI wants it: the path key a typed parameter."""
    if key_type is None:  # a new track hangs on nothing

        async def unkeyed(request: Request, user: PageUser, session: SessionDep) -> Response:
            return await handler(request, user, session, kind, None)

        return unkeyed

    async def keyed(
        request: Request, user: PageUser, session: SessionDep, key: key_type
    ) -> Response:
        return await handler(request, user, session, kind, key)

    return keyed


def _add_routes(kind: Kind) -> None:
    """The six pages of a kind, named as before the table (`create_track`, `step_page`, ...)."""
    routes = [
        ("GET", kind.new_path, new_record, kind.parent_key, f"new_{kind.name}"),
        ("POST", kind.new_path, create_record, kind.parent_key, f"create_{kind.name}"),
        ("GET", kind.one_path, show_record, kind.key, f"{kind.name}_page"),
        ("POST", kind.one_path, update_record, kind.key, f"update_{kind.name}"),
        ("GET", f"{kind.one_path}/delete", confirm_delete, kind.key, f"confirm_delete_{kind.name}"),
        ("POST", f"{kind.one_path}/delete", delete_record, kind.key, f"delete_{kind.name}"),
    ]
    for method, path, handler, key, name in routes:
        endpoint = _endpoint(handler, kind, key)
        router.add_api_route(path, endpoint, methods=[method], name=name)


for _kind in KINDS:
    _add_routes(_kind)
