"""Curriculum data access: reading rules, lookups and the admin writes.

Writes only flush: the request's transaction (lms_api.database) commits or rolls back, so an
error leaves nothing half-written, and every write adds its outbox event to that transaction.
"""

from collections.abc import Callable
from typing import Any, NoReturn

from sqlalchemy import Select, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from lms_api.curriculum.models import Deliverable, Project, ProjectStep, Track
from lms_api.enrollments.enums import EnrollmentStatus
from lms_api.enrollments.models import Enrollment
from lms_api.errors import Conflict, HasSubmissions, NotEnrolledInTrack, NotFound
from lms_api.outbox import record_event
from lms_api.payments.models import Payment
from lms_api.people.models import Person
from lms_api.principal import STAFF_ROLES, Principal
from lms_api.submissions.service import count_for_deliverables

CATALOG_PATH = "/api/v1/catalog"


# --- reading -----------------------------------------------------------------------------
async def catalog(session: AsyncSession) -> list[Track]:
    """Active tracks with their projects (numbers and titles are all the catalog shows)."""
    rows = await session.scalars(
        select(Track)
        .where(Track.is_active.is_(True))
        .options(selectinload(Track.projects))
        .order_by(Track.code)
    )
    return list(rows)


def tracks_query(active: bool | None = None) -> Select[tuple[Track]]:
    statement = select(Track).order_by(Track.code, Track.id)
    if active is not None:
        statement = statement.where(Track.is_active.is_(active))
    return statement


async def get_track(session: AsyncSession, code: str, *, with_projects: bool = False) -> Track:
    statement = select(Track).where(Track.code == code)
    if with_projects:  # one query: a track has a handful of projects
        statement = statement.options(joinedload(Track.projects))
    track = (await session.scalars(statement)).unique().one_or_none()
    if track is None:
        raise NotFound(f"No track with code {code!r}.", details={"code": code})
    return track


async def get_project(session: AsyncSession, project_id: int, *, full: bool = False) -> Project:
    statement = select(Project).where(Project.id == project_id).options(joinedload(Project.track))
    if full:  # one query: steps x deliverables of one project is a few dozen rows
        statement = statement.options(joinedload(Project.steps), joinedload(Project.deliverables))
    project = (await session.scalars(statement)).unique().one_or_none()
    if project is None:
        raise NotFound(f"No project with id {project_id}.", details={"id": project_id})
    return project


async def get_step(session: AsyncSession, step_id: int) -> ProjectStep:
    step = await session.get(ProjectStep, step_id)
    if step is None:
        raise NotFound(f"No step with id {step_id}.", details={"id": step_id})
    return step


async def get_deliverable(session: AsyncSession, deliverable_id: int) -> Deliverable:
    deliverable = await session.get(Deliverable, deliverable_id)
    if deliverable is None:
        raise NotFound(f"No deliverable with id {deliverable_id}.", details={"id": deliverable_id})
    return deliverable


async def enrollment_status(session: AsyncSession, username: str, track_id: int) -> str | None:
    return await session.scalar(
        select(Enrollment.status)
        .join(Person, Enrollment.person_id == Person.id)
        .where(Person.username == username, Enrollment.track_id == track_id)
    )


async def ensure_can_read(session: AsyncSession, user: Principal, track: Track) -> None:
    """Staff read every track; a student reads a track only while actively enrolled in it."""
    if user.role in STAFF_ROLES:
        return
    status = await enrollment_status(session, user.name, track.id)
    if status != EnrollmentStatus.ACTIVE:
        refuse_read(track.code, status)


def refuse_read(track_code: str, status: str | None) -> NoReturn:
    """The 403 of the read rule, for a student whose enrollment in the track is `status`
    (None: not enrolled) rather than active."""
    if status == EnrollmentStatus.PENDING_PAYMENT:
        hint = "Your enrollment is waiting for payment; it opens as soon as the payment is done."
    elif status is not None:
        hint = f"Your enrollment is {status}. Enroll again, or ask the school office to restore it."
    else:
        hint = (
            f"To enroll, pick the track in the catalog ({CATALOG_PATH}) and pay for it, "
            "or ask the school office to grant you a place."
        )
    raise NotEnrolledInTrack(
        f"Track {track_code!r} is open to its enrolled students only. {hint}",
        details={"track": track_code, "enrollment_status": status, "catalog": CATALOG_PATH},
    )


# --- writing -----------------------------------------------------------------------------
async def _flush_unique(session: AsyncSession, change: Callable[[], Any], conflict: str) -> None:
    """Apply `change` and flush in a savepoint; a unique-key race becomes the same 409."""
    try:
        async with session.begin_nested():
            change()
            await session.flush()
    except IntegrityError as exc:
        raise Conflict(conflict) from exc


async def _exists(session: AsyncSession, statement: Select[Any]) -> bool:
    return (await session.scalar(statement.limit(1))) is not None


def _apply(target: Any, changes: dict[str, Any]) -> Callable[[], None]:
    def change() -> None:
        for field, value in changes.items():
            setattr(target, field, value)

    return change


async def create_track(session: AsyncSession, data: dict[str, Any], by: str) -> Track:
    code = data["code"]
    conflict = f"A track with code {code!r} already exists."
    if await _exists(session, select(Track.id).where(Track.code == code)):
        raise Conflict(conflict, details={"code": code})
    track = Track(**data)
    await _flush_unique(session, lambda: session.add(track), conflict)
    record_event(session, "curriculum.track.created", code=code, by=by)
    return await get_track(session, code, with_projects=True)


# An empty PATCH changes nothing and records no event.
async def update_track(session: AsyncSession, code: str, changes: dict[str, Any], by: str) -> Track:
    track = await get_track(session, code, with_projects=True)
    if not changes:
        return track
    await _flush_unique(session, _apply(track, changes), f"Track {code!r} could not be updated.")
    record_event(session, "curriculum.track.updated", code=code, fields=sorted(changes), by=by)
    return track


async def delete_track(session: AsyncSession, code: str, by: str) -> None:
    track = await get_track(session, code)
    enrollments = await session.scalar(
        select(func.count()).select_from(Enrollment).where(Enrollment.track_id == track.id)
    )
    if enrollments:
        raise Conflict(
            f"Track {code!r} has {enrollments} enrollment(s) and cannot be deleted; "
            f"deactivate it instead with PATCH /api/v1/tracks/{code} "
            '{"is_active": false}.',
            details={"code": code, "enrollments": enrollments},
        )
    payments = await session.scalar(
        select(func.count()).select_from(Payment).where(Payment.track_id == track.id)
    )
    if payments:  # kept for the accounts, even a checkout that was never paid
        raise Conflict(
            f"Track {code!r} has {payments} payment(s) (pending ones included) and cannot be "
            f"deleted; deactivate it instead with PATCH /api/v1/tracks/{code} "
            '{"is_active": false}.',
            details={"code": code, "payments": payments},
        )
    # Projects, steps, deliverables (and progress on them) go with it: ON DELETE CASCADE.
    await session.execute(delete(Track).where(Track.id == track.id))
    record_event(session, "curriculum.track.deleted", code=code, by=by)


def _project_conflict(track_code: str, number: int) -> str:
    return f"Track {track_code!r} already has a project number {number}."


async def _project_number_taken(
    session: AsyncSession, track_id: int, number: int, except_id: int | None = None
) -> bool:
    statement = select(Project.id).where(Project.track_id == track_id, Project.number == number)
    if except_id is not None:
        statement = statement.where(Project.id != except_id)
    return await _exists(session, statement)


async def create_project(
    session: AsyncSession, code: str, data: dict[str, Any], by: str
) -> Project:
    track = await get_track(session, code)
    conflict = _project_conflict(code, data["number"])
    if await _project_number_taken(session, track.id, data["number"]):
        raise Conflict(conflict, details={"track": code, "number": data["number"]})
    project = Project(track_id=track.id, **data)
    await _flush_unique(session, lambda: session.add(project), conflict)
    record_event(
        session,
        "curriculum.project.created",
        id=project.id,
        track=code,
        number=project.number,
        by=by,
    )
    return await _reload_project(session, project.id)


async def _reload_project(session: AsyncSession, project_id: int) -> Project:
    session.expire_all()  # relationships changed under the identity map; read them afresh
    return await get_project(session, project_id, full=True)


async def update_project(
    session: AsyncSession, project_id: int, changes: dict[str, Any], by: str
) -> Project:
    project = await get_project(session, project_id)
    if not changes:
        return await _reload_project(session, project_id)
    code = project.track.code
    number = changes.get("number")
    conflict = _project_conflict(code, number or project.number)
    if number is not None and await _project_number_taken(
        session, project.track_id, number, except_id=project.id
    ):
        raise Conflict(conflict, details={"track": code, "number": number})
    await _flush_unique(session, _apply(project, changes), conflict)
    record_event(
        session,
        "curriculum.project.updated",
        id=project_id,
        track=code,
        fields=sorted(changes),
        by=by,
    )
    return await _reload_project(session, project_id)


async def _refuse_if_submitted(
    session: AsyncSession, deliverable_ids: list[int], what: str
) -> None:
    """Students' submitted work is never deleted with the curriculum: 409 instead."""
    count = await count_for_deliverables(session, deliverable_ids)
    if count:
        raise HasSubmissions(
            f"{what} has {count} student submission(s); it cannot be deleted. "
            "Edit it instead, or deactivate the track.",
            details={"submissions": count},
        )


async def delete_project(session: AsyncSession, project_id: int, by: str) -> None:
    project = await get_project(session, project_id)
    code, number = project.track.code, project.number
    deliverable_ids = list(
        await session.scalars(select(Deliverable.id).where(Deliverable.project_id == project_id))
    )
    await _refuse_if_submitted(session, deliverable_ids, f"Project {project_id}")
    # Steps, deliverables and progress on the steps go with it: ON DELETE CASCADE.
    await session.execute(delete(Project).where(Project.id == project_id))
    record_event(
        session, "curriculum.project.deleted", id=project_id, track=code, number=number, by=by
    )


def _step_conflict(project_id: int, order: int) -> str:
    return f"Project {project_id} already has a step with order {order}."


async def _step_order_taken(
    session: AsyncSession, project_id: int, order: int, except_id: int | None = None
) -> bool:
    statement = select(ProjectStep.id).where(
        ProjectStep.project_id == project_id, ProjectStep.order == order
    )
    if except_id is not None:
        statement = statement.where(ProjectStep.id != except_id)
    return await _exists(session, statement)


async def create_step(
    session: AsyncSession, project_id: int, data: dict[str, Any], by: str
) -> ProjectStep:
    await get_project(session, project_id)
    conflict = _step_conflict(project_id, data["order"])
    if await _step_order_taken(session, project_id, data["order"]):
        raise Conflict(conflict, details={"project": project_id, "order": data["order"]})
    step = ProjectStep(project_id=project_id, **data)
    await _flush_unique(session, lambda: session.add(step), conflict)
    record_event(
        session, "curriculum.step.created", id=step.id, project=project_id, order=step.order, by=by
    )
    return step


async def update_step(
    session: AsyncSession, step_id: int, changes: dict[str, Any], by: str
) -> ProjectStep:
    step = await get_step(session, step_id)
    if not changes:
        return step
    order = changes.get("order")
    conflict = _step_conflict(step.project_id, order or step.order)
    if order is not None and await _step_order_taken(
        session, step.project_id, order, except_id=step.id
    ):
        raise Conflict(conflict, details={"project": step.project_id, "order": order})
    await _flush_unique(session, _apply(step, changes), conflict)
    record_event(
        session,
        "curriculum.step.updated",
        id=step_id,
        project=step.project_id,
        fields=sorted(changes),
        by=by,
    )
    return step


async def delete_step(session: AsyncSession, step_id: int, by: str) -> None:
    step = await get_step(session, step_id)
    project_id = step.project_id
    await session.execute(delete(ProjectStep).where(ProjectStep.id == step_id))
    record_event(session, "curriculum.step.deleted", id=step_id, project=project_id, by=by)


async def create_deliverable(
    session: AsyncSession, project_id: int, data: dict[str, Any], by: str
) -> Deliverable:
    await get_project(session, project_id)
    deliverable = Deliverable(project_id=project_id, **data)
    session.add(deliverable)
    await session.flush()
    record_event(
        session, "curriculum.deliverable.created", id=deliverable.id, project=project_id, by=by
    )
    return deliverable


async def update_deliverable(
    session: AsyncSession, deliverable_id: int, changes: dict[str, Any], by: str
) -> Deliverable:
    deliverable = await get_deliverable(session, deliverable_id)
    if not changes:
        return deliverable
    _apply(deliverable, changes)()
    await session.flush()
    record_event(
        session,
        "curriculum.deliverable.updated",
        id=deliverable_id,
        project=deliverable.project_id,
        fields=sorted(changes),
        by=by,
    )
    return deliverable


async def delete_deliverable(session: AsyncSession, deliverable_id: int, by: str) -> None:
    deliverable = await get_deliverable(session, deliverable_id)
    project_id = deliverable.project_id
    await _refuse_if_submitted(session, [deliverable_id], f"Deliverable {deliverable_id}")
    await session.execute(delete(Deliverable).where(Deliverable.id == deliverable_id))
    record_event(
        session, "curriculum.deliverable.deleted", id=deliverable_id, project=project_id, by=by
    )
