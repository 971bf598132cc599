"""The step page: what to do in one project step, whether it is done, and the button that marks
it done (or takes that back), with the same services as `PUT/DELETE /api/v1/progress/steps`."""

from contextlib import suppress
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response

from lms_api.curriculum import service as curriculum
from lms_api.database import MAX_ID, SessionDep
from lms_api.portal.deliverables import my_states, when
from lms_api.portal.markdown import to_html
from lms_api.portal.rendering import portal_url, render
from lms_api.portal.signin import PageUser
from lms_api.principal import STAFF_ROLES
from lms_api.progress import service as progress

router = APIRouter()

StepId = Annotated[int, Path(ge=1, le=MAX_ID, description="Project step id")]

NOTICES = {
    "marked": "Marked as done.",
    "undone": "Marked as not done.",
}


@router.get("/steps/{step_id}")
async def step_page(request: Request, user: PageUser, session: SessionDep, step_id: StepId):
    """A step under its track's read rule (`GET /api/v1/projects/{id}`): 404 or 403 as the API."""
    step = await curriculum.get_step(session, step_id)
    project = await curriculum.get_project(session, step.project_id, full=True)
    await curriculum.ensure_can_read(session, user, project.track)
    student = user.role not in STAFF_ROLES
    done_at = None
    if student:
        report = await progress.progress_of(session, user.name)
        found = next(
            (
                s
                for t in report.tracks
                for p in t.projects
                if p.id == project.id
                for s in p.steps
                if s.id == step.id
            ),
            None,
        )
        done_at = found.completed_at if found else None
    steps = list(project.steps)
    index = next(i for i, s in enumerate(steps) if s.id == step.id)
    return render(
        request,
        "step.html",
        {
            "nav": "course",
            "step": step,
            "project": project,
            "track": project.track,
            "description": to_html(step.description),
            "student": student,
            "done": done_at is not None,
            "done_at": when(done_at),
            "previous": steps[index - 1] if index > 0 else None,
            "next": steps[index + 1] if index + 1 < len(steps) else None,
            "deliverables": await my_states(session, user, project.deliverables),
            "notice": NOTICES.get(request.query_params.get("done", "")),
        },
        user=user,
    )


@router.post("/steps/{step_id}/done")
async def mark_done(
    request: Request, user: PageUser, session: SessionDep, step_id: StepId
) -> Response:
    """Idempotent like the API: a second click finds the step already done."""
    await progress.mark_done(session, user.name, step_id)
    return _back(request, step_id, "marked")


@router.post("/steps/{step_id}/undo")
async def undo(request: Request, user: PageUser, session: SessionDep, step_id: StepId) -> Response:
    """Take back a completion; a second click (already not done) changes nothing."""
    with suppress(progress.NotMarked):
        await progress.unmark(session, user.name, step_id)
    return _back(request, step_id, "undone")


def _back(request: Request, step_id: int, notice: str) -> RedirectResponse:
    url = portal_url(request.app.state.settings, f"steps/{step_id}") + f"?done={notice}"
    return RedirectResponse(url, status_code=303)
