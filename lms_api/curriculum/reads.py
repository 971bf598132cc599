"""The hot curriculum reads (`GET /tracks/{code}`, `GET /projects/{id}`) without the ORM.

Each is one Core statement, built once at import: the track (or project with its steps and
deliverables) and, in the same row, the caller's enrollment status in its track (a
correlated sub-select), so the read rule needs no second query. Rows become the response
models directly; no ORM object is made. The rule is `service.ensure_can_read`'s: staff read
every track, a student one they are actively enrolled in (403 `not_enrolled` otherwise), and
a missing track or project is a 404 first. Nothing is cached: every request reads the
enrollment as it is now.
"""

from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from lms_api.curriculum.models import Deliverable, Project, ProjectStep, Track
from lms_api.curriculum.schemas import ProjectDetail, TrackDetail
from lms_api.curriculum.service import refuse_read
from lms_api.database import select_rows
from lms_api.enrollments.enums import EnrollmentStatus
from lms_api.enrollments.models import Enrollment
from lms_api.errors import NotFound
from lms_api.people.models import Person
from lms_api.principal import STAFF_ROLES, Principal

tracks, projects = Track.__table__, Project.__table__
steps, deliverables = ProjectStep.__table__, Deliverable.__table__
enrollments, people = Enrollment.__table__, Person.__table__

# The caller's enrollment in the outer query's track (a person has at most one per track).
_STATUS = (
    select(enrollments.c.status)
    .join(people, enrollments.c.person_id == people.c.id)
    .where(people.c.username == bindparam("username"), enrollments.c.track_id == tracks.c.id)
    .scalar_subquery()
    .label("enrollment_status")
)

# One row per project of the track (one row with NULL project columns when it has none).
TRACK = (
    select(
        _STATUS,
        tracks.c.code,
        tracks.c.name,
        tracks.c.description,
        tracks.c.duration_weeks,
        tracks.c.price_cents,
        tracks.c.currency,
        tracks.c.workspace_kinds,
        tracks.c.is_active,
        projects.c.id,
        projects.c.number,
        projects.c.title,
        projects.c.type,
        projects.c.tech_stack,
        projects.c.estimated_hours,
    )
    .select_from(tracks.outerjoin(projects, projects.c.track_id == tracks.c.id))
    .where(tracks.c.code == bindparam("code"))
    .order_by(projects.c.number)
)

# One row per step x deliverable of the project (steps by order, deliverables by id).
PROJECT = (
    select(
        _STATUS,
        tracks.c.code,
        projects.c.number,
        projects.c.title,
        projects.c.description,
        projects.c.type,
        projects.c.tech_stack,
        projects.c.estimated_hours,
        steps.c.id,
        steps.c.order,
        steps.c.title,
        steps.c.description,
        deliverables.c.id,
        deliverables.c.title,
        deliverables.c.kind,
        deliverables.c.required,
    )
    .select_from(
        projects.join(tracks, tracks.c.id == projects.c.track_id)
        .outerjoin(steps, steps.c.project_id == projects.c.id)
        .outerjoin(deliverables, deliverables.c.project_id == projects.c.id)
    )
    .where(projects.c.id == bindparam("project_id"))
    .order_by(steps.c.order, deliverables.c.id)
)


def _check_read(user: Principal, code: str, status: str | None) -> None:
    if user.role not in STAFF_ROLES and status != EnrollmentStatus.ACTIVE:
        refuse_read(code, status)


async def track_detail(session: AsyncSession, user: Principal, code: str) -> TrackDetail:
    """`GET /tracks/{code}`: the track and its projects, under the read rule."""
    rows = await select_rows(session, TRACK, {"code": code, "username": user.name})
    if not rows:
        raise NotFound(f"No track with code {code!r}.", details={"code": code})
    status, code, name, description, weeks, price, currency, kinds, active = rows[0][:9]
    _check_read(user, code, status)
    project_list: list[dict[str, Any]] = [
        {
            "id": r[9],
            "number": r[10],
            "title": r[11],
            "type": r[12],
            "tech_stack": r[13],
            "estimated_hours": r[14],
        }
        for r in rows
        if r[9] is not None
    ]
    return TrackDetail.model_validate(
        {
            "code": code,
            "name": name,
            "description": description,
            "duration_weeks": weeks,
            "price_cents": price,
            "currency": currency,
            "workspace_kinds": kinds,
            "is_active": active,
            "projects": project_list,
        }
    )


async def project_detail(session: AsyncSession, user: Principal, project_id: int) -> ProjectDetail:
    """`GET /projects/{id}`: a project with its ordered steps and deliverables, under its
    track's read rule."""
    rows = await select_rows(session, PROJECT, {"project_id": project_id, "username": user.name})
    if not rows:
        raise NotFound(f"No project with id {project_id}.", details={"id": project_id})
    status, code, number, title, description, kind, tech_stack, hours = rows[0][:8]
    _check_read(user, code, status)
    step_list: dict[int, dict[str, Any]] = {}
    deliverable_list: dict[int, dict[str, Any]] = {}
    for r in rows:  # steps x deliverables: each once, in the order of the rows
        if r[8] is not None and r[8] not in step_list:
            step_list[r[8]] = {"id": r[8], "order": r[9], "title": r[10], "description": r[11]}
        if r[12] is not None and r[12] not in deliverable_list:
            deliverable_list[r[12]] = {
                "id": r[12],
                "title": r[13],
                "kind": r[14],
                "required": r[15],
            }
    return ProjectDetail.model_validate(
        {
            "id": project_id,
            "number": number,
            "title": title,
            "type": kind,
            "tech_stack": tech_stack,
            "estimated_hours": hours,
            "track_code": code,
            "description": description,
            "steps": list(step_list.values()),
            "deliverables": sorted(deliverable_list.values(), key=lambda d: d["id"]),
        }
    )
