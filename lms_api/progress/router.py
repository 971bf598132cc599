"""Progress: students mark steps done and see how far they are; trainers and admins look on."""

from typing import Annotated

from fastapi import APIRouter, Path, Response

from lms_api.auth import CurrentUser
from lms_api.database import MAX_ID, SessionDep
from lms_api.errors import USER_ROUTE_ERRORS as AUTH_ERRORS
from lms_api.errors import error_doc
from lms_api.progress import service
from lms_api.progress.schemas import ProgressOut, StepCompletionOut
from lms_api.types import LINE_PATTERN

router = APIRouter(tags=["progress"])

StepId = Annotated[int, Path(ge=1, le=MAX_ID, description="Project step id")]
StudentName = Annotated[
    str,
    Path(
        min_length=1, max_length=255, pattern=LINE_PATTERN, description="The student's hub username"
    ),
]


@router.put(
    "/progress/steps/{step_id}",
    response_model=StepCompletionOut,
    responses={
        **AUTH_ERRORS,
        201: {"description": "Marked done now", "model": StepCompletionOut},
        403: error_doc("Not actively enrolled in the step's track (code `not_enrolled`)"),
        404: error_doc("No such step"),
    },
)
async def mark_step_done(
    caller: CurrentUser, session: SessionDep, step_id: StepId, response: Response
) -> StepCompletionOut:
    """Mark a step done (idempotent: 201 the first time, then 200 with the same timestamp)."""
    step, completion, created = await service.mark_done(session, caller.name, step_id)
    response.status_code = 201 if created else 200
    return StepCompletionOut(
        step_id=step.id,
        project_id=step.project_id,
        track_code=step.project.track.code,
        completed_at=completion.created_at,
    )


@router.delete(
    "/progress/steps/{step_id}",
    status_code=204,
    response_class=Response,
    responses={**AUTH_ERRORS, 404: error_doc("No such step, or the step is not marked done")},
)
async def unmark_step(caller: CurrentUser, session: SessionDep, step_id: StepId) -> Response:
    """Take back a step marked done by mistake."""
    await service.unmark(session, caller.name, step_id)
    return Response(status_code=204)


@router.get("/progress/me", response_model=ProgressOut, responses=AUTH_ERRORS)
async def read_my_progress(caller: CurrentUser, session: SessionDep) -> ProgressOut:
    """The caller's progress in each track they are active in, project by project."""
    return await service.progress_of(session, caller.name)


@router.get(
    "/progress/students/{username}",
    response_model=ProgressOut,
    responses={
        **AUTH_ERRORS,
        404: error_doc("No such student, or not one the caller trains (admins see everyone)"),
    },
)
async def read_student_progress(
    caller: CurrentUser, session: SessionDep, username: StudentName
) -> ProgressOut:
    """A student's progress, for their assigned trainer and for admins."""
    await service.visible_student(session, caller, username)
    return await service.progress_of(session, username)
