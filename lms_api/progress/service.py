"""Step completions: marking done (idempotent), un-marking, and the progress report."""

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from itertools import groupby
from typing import Any

from sqlalchemy import and_, bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from lms_api.access import may_see_records_of
from lms_api.curriculum.models import Project, ProjectStep, Track
from lms_api.database import select_rows
from lms_api.enrollments.enums import EnrollmentStatus
from lms_api.enrollments.models import Enrollment
from lms_api.enrollments.service import insert_if_absent
from lms_api.errors import NotEnrolledInTrack, NotFound
from lms_api.outbox import record_event
from lms_api.people.models import Person
from lms_api.people.service import find_person
from lms_api.principal import Principal
from lms_api.progress.models import StepCompletion
from lms_api.progress.schemas import ProgressOut


class StepNotFound(NotFound):
    def __init__(self, step_id: int) -> None:
        super().__init__(f"No step {step_id}.")


class NotEnrolledInStepTrack(NotEnrolledInTrack):
    def __init__(self) -> None:
        super().__init__("You are not enrolled (actively) in the track of this step.")


class NotMarked(NotFound):
    def __init__(self, step_id: int) -> None:
        super().__init__(f"Step {step_id} is not marked done.")


class StudentNotFound(NotFound):
    """No such person, or one the caller may not see."""

    def __init__(self, username: str) -> None:
        super().__init__(f"No student {username!r}.")


async def find_step(session: AsyncSession, step_id: int) -> ProjectStep | None:
    return await session.scalar(
        select(ProjectStep)
        .where(ProjectStep.id == step_id)
        .options(selectinload(ProjectStep.project).selectinload(Project.track))
    )


async def _is_active_in(session: AsyncSession, person_id: int, track_id: int) -> bool:
    found = await session.scalar(
        select(Enrollment.id).where(
            Enrollment.person_id == person_id,
            Enrollment.track_id == track_id,
            Enrollment.status == EnrollmentStatus.ACTIVE,
        )
    )
    return found is not None


async def mark_done(
    session: AsyncSession, username: str, step_id: int
) -> tuple[ProjectStep, StepCompletion, bool]:
    """Mark a step done for `username`: (step, completion, whether this call created it)."""
    step = await find_step(session, step_id)
    if step is None:
        raise StepNotFound(step_id)
    person = await find_person(session, username)
    if person is None or not await _is_active_in(session, person.id, step.project.track_id):
        raise NotEnrolledInStepTrack()
    created = await insert_if_absent(
        session,
        StepCompletion,
        {"person_id": person.id, "step_id": step.id},
        ["person_id", "step_id"],
    )
    completion = await session.scalar(
        select(StepCompletion)
        .where(StepCompletion.person_id == person.id, StepCompletion.step_id == step.id)
        .execution_options(populate_existing=True)
    )
    assert completion is not None
    if created:
        at = completion.created_at
        record_event(
            session,
            "progress.step_completed",
            username=username,
            step_id=step.id,
            project_id=step.project_id,
            track=step.project.track.code,
            completed_at=(at if at.tzinfo else at.replace(tzinfo=UTC)).isoformat(),
        )
        await session.flush()
    return step, completion, created


async def unmark(session: AsyncSession, username: str, step_id: int) -> None:
    """Take back a completion; NotMarked when there was none."""
    step = await find_step(session, step_id)
    if step is None:
        raise StepNotFound(step_id)
    person = await find_person(session, username)
    if person is None:
        raise NotMarked(step_id)
    result = await session.execute(
        delete(StepCompletion)
        .where(StepCompletion.person_id == person.id, StepCompletion.step_id == step.id)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 0:
        raise NotMarked(step_id)
    record_event(
        session,
        "progress.step_uncompleted",
        username=username,
        step_id=step.id,
        project_id=step.project_id,
        track=step.project.track.code,
    )
    await session.flush()


# --- the report ----------------------------------------------------------------------------


def percent(done: int, total: int) -> float:
    """0..100 with one decimal, rounded half up (2 of 3 = 66.7)."""
    if total == 0:
        return 0.0
    value = Decimal(done * 100) / Decimal(total)
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _latest(moments: Sequence[datetime | None]) -> datetime | None:
    present = [m for m in moments if m is not None]
    return max(present) if present else None


_tracks, _projects, _steps = Track.__table__, Project.__table__, ProjectStep.__table__
_enrollments, _people, _completions = (
    Enrollment.__table__,
    Person.__table__,
    StepCompletion.__table__,
)

# One row per step of every track the person `username` is active in (a project without
# steps, or a track without projects, still gives a row), with when the step was completed.
# A Core statement built once (no ORM entity: the session hands it to the connection as is).
STRUCTURE_WITH_COMPLETIONS = (
    select(
        _tracks.c.id,
        _tracks.c.code,
        _tracks.c.name,
        _projects.c.id,
        _projects.c.number,
        _projects.c.title,
        _steps.c.id,
        _steps.c.order,
        _steps.c.title,
        _completions.c.created_at,
    )
    .select_from(_enrollments)
    .join(_people, _people.c.id == _enrollments.c.person_id)
    .join(_tracks, _tracks.c.id == _enrollments.c.track_id)
    .outerjoin(_projects, _projects.c.track_id == _tracks.c.id)
    .outerjoin(_steps, _steps.c.project_id == _projects.c.id)
    .outerjoin(
        _completions,
        and_(_completions.c.step_id == _steps.c.id, _completions.c.person_id == _people.c.id),
    )
    .where(
        _people.c.username == bindparam("username"),
        _enrollments.c.status == bindparam("status"),
    )
    .order_by(_tracks.c.code, _projects.c.number, _steps.c.order, _steps.c.id)
)


def _steps_of(rows: Any) -> list[dict[str, Any]]:
    return [
        {
            "id": step_id,
            "order": order,
            "title": title,
            "done": completed_at is not None,
            "completed_at": completed_at,
        }
        for *_, step_id, order, title, completed_at in rows
        if step_id is not None
    ]


async def progress_of(session: AsyncSession, username: str) -> ProgressOut:
    """Progress in every track `username` is active in (tracks by code, projects by number).

    One flat query, grouped here into plain values and validated once as the response
    model: this is the students' most frequent read."""
    rows = await select_rows(
        session,
        STRUCTURE_WITH_COMPLETIONS,
        {"username": username, "status": EnrollmentStatus.ACTIVE.value},
    )
    report = []
    for (_, code, name), track_rows in groupby(rows, key=lambda r: tuple(r[:3])):
        projects = []
        for (project_id, number, title), project_rows in groupby(
            track_rows, key=lambda r: tuple(r[3:6])
        ):
            if project_id is None:  # a track with no projects yet
                continue
            steps = _steps_of(project_rows)
            done = sum(s["done"] for s in steps)
            projects.append(
                {
                    "id": project_id,
                    "number": number,
                    "title": title,
                    "steps_done": done,
                    "steps_total": len(steps),
                    "pct_complete": percent(done, len(steps)),
                    "last_step_at": _latest([s["completed_at"] for s in steps]),
                    "steps": steps,
                }
            )
        done = sum(p["steps_done"] for p in projects)
        total = sum(p["steps_total"] for p in projects)
        report.append(
            {
                "code": code,
                "name": name,
                "steps_done": done,
                "steps_total": total,
                "pct_complete": percent(done, total),
                "last_step_at": _latest([p["last_step_at"] for p in projects]),
                "projects": projects,
            }
        )
    return ProgressOut.model_validate({"username": username, "tracks": report})


async def visible_student(session: AsyncSession, caller: Principal, username: str) -> Person:
    """The person whose progress `caller` asks for: themselves, a trainer's own student, or
    anyone for admins. Everything else is StudentNotFound, like a missing person."""
    person = await find_person(session, username)
    if person is None:
        raise StudentNotFound(username)
    if await may_see_records_of(session, caller, username):
        return person
    raise StudentNotFound(username)
