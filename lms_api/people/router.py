from fastapi import APIRouter

from lms_api.auth import CurrentUser
from lms_api.database import SessionDep
from lms_api.enrollments.schemas import EnrollmentOut
from lms_api.enrollments.service import enrollments_of
from lms_api.people.schemas import MeOut
from lms_api.people.service import get_or_create_person

router = APIRouter(tags=["people"])


@router.get("/me", response_model=MeOut)
async def read_me(user: CurrentUser, session: SessionDep) -> MeOut:
    """Who the token belongs to: username, role (from the hub) and track enrollments."""
    await get_or_create_person(session, user.name)
    enrollments = await enrollments_of(session, user.name)
    return MeOut(
        username=user.name,
        role=user.role,
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
