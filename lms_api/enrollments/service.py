"""Questions about enrollments that several routes ask."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from lms_api.enrollments.models import Enrollment, EnrollmentStatus
from lms_api.people.models import Person


async def enrollments_of(session: AsyncSession, username: str) -> list[Enrollment]:
    rows = await session.scalars(
        select(Enrollment)
        .join(Person)
        .where(Person.username == username)
        .options(selectinload(Enrollment.track))
        .order_by(Enrollment.id)
    )
    return list(rows)


async def allowed_workspace_kinds(session: AsyncSession, username: str) -> list[str]:
    """The single workspace rule: the union of kinds of the tracks a user is active in."""
    kinds: list[str] = []
    for enrollment in await enrollments_of(session, username):
        if enrollment.status != EnrollmentStatus.ACTIVE:
            continue
        kinds.extend(k for k in enrollment.track.workspace_kinds if k not in kinds)
    return kinds
