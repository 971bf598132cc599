""" "My course": where a student lands after login. Each active track with its projects and
steps, every deliverable's state, the quizzes open to them, one next thing to do, and the
workspaces the track gives. Staff land on their start page (`staff_home`)."""

from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from lms_api.curriculum.models import Deliverable, Project, Track
from lms_api.database import SessionDep
from lms_api.enrollments.enums import EnrollmentStatus
from lms_api.enrollments.service import enrollments_of
from lms_api.portal import catalog, class_sessions, staff_home, workspaces
from lms_api.portal.deliverables import DeliverableState, my_states
from lms_api.portal.progress import QuizHistory, quiz_history
from lms_api.portal.rendering import portal_url, render
from lms_api.portal.signin import PageUser
from lms_api.principal import STAFF_ROLES, Principal
from lms_api.progress.service import progress_of
from lms_api.submissions.enums import SubmissionStatus

router = APIRouter()


@dataclass
class NextThing:
    text: str
    url: str
    action: str


@dataclass
class CourseView:
    tracks: list[Any] = field(default_factory=list)  # progress.TrackProgress
    deliverables: dict[int, list[DeliverableState]] = field(default_factory=dict)  # by project
    quizzes: list[QuizHistory] = field(default_factory=list)
    next_thing: NextThing | None = None


async def _deliverables(
    session, user: Principal, project_ids: list[int]
) -> dict[int, list[DeliverableState]]:
    """Each project's deliverables with the student's state (the deliverable page's rule)."""
    if not project_ids:
        return {}
    found = await session.scalars(
        select(Deliverable).where(Deliverable.project_id.in_(project_ids)).order_by(Deliverable.id)
    )
    rows: dict[int, list[DeliverableState]] = {pid: [] for pid in project_ids}
    for row in await my_states(session, user, list(found)):
        rows[row.deliverable.project_id].append(row)
    return rows


def _next_thing(settings, view: CourseView) -> NextThing | None:
    """Changes requested first, then a quiz in progress, then the first step not done, then a
    required deliverable not handed in, then a quiz not tried yet."""
    rows = [row for rows in view.deliverables.values() for row in rows]
    for row in rows:
        if row.status == SubmissionStatus.CHANGES_REQUESTED:
            return NextThing(
                f"Your trainer asked for changes to “{row.deliverable.title}”.",
                portal_url(settings, f"deliverables/{row.deliverable.id}"),
                "See the feedback",
            )
    for item in view.quizzes:
        if item.mine.in_progress_attempt_id:
            return NextThing(
                f"Finish the quiz “{item.quiz.title}”.",
                portal_url(settings, f"attempts/{item.mine.in_progress_attempt_id}"),
                "Resume the quiz",
            )
    for track in view.tracks:
        for project in track.projects:
            for step in project.steps:
                if not step.done:
                    return NextThing(
                        f"{project.title}: step {step.order}, “{step.title}”.",
                        portal_url(settings, f"steps/{step.id}"),
                        "Go to the step",
                    )
    for row in rows:
        if row.deliverable.required and row.status is None:
            return NextThing(
                f"Hand in “{row.deliverable.title}”.",
                portal_url(settings, f"deliverables/{row.deliverable.id}"),
                "Hand it in",
            )
    for item in view.quizzes:
        if item.mine.attempts_used == 0:
            return NextThing(
                f"Take the quiz “{item.quiz.title}”.",
                portal_url(settings, f"quizzes/{item.quiz.id}"),
                "Open the quiz",
            )
    return None


@router.get("/")
async def my_course(request: Request, user: PageUser, session: SessionDep) -> Response:
    """The student's start page; staff get theirs (`staff_home`), the unenrolled go to the
    catalog."""
    settings = request.app.state.settings
    if user.role in STAFF_ROLES:  # their workbench: review queue, students, quizzes
        return await staff_home.staff_home(request, user, session)
    enrollments = await enrollments_of(session, user.name)
    active = [e for e in enrollments if e.status == EnrollmentStatus.ACTIVE]
    if not active:
        return RedirectResponse(portal_url(settings, "catalog"), status_code=303)
    progress = await progress_of(session, user.name)
    view = CourseView(tracks=progress.tracks)
    project_ids = [p.id for t in progress.tracks for p in t.projects]
    view.deliverables = await _deliverables(session, user, project_ids)
    view.quizzes = await quiz_history(session, request, user)
    view.next_thing = _next_thing(settings, view)
    track_rows = await session.scalars(
        select(Track).where(Track.code.in_([t.code for t in progress.tracks]))
    )
    descriptions = {t.code: t.description for t in track_rows}
    projects = await session.scalars(select(Project).where(Project.id.in_(project_ids)))
    project_types = {p.id: p.type for p in projects}
    servers = await workspaces.hub_servers(
        settings, request.app.state.token_validator.client, user.name
    )
    return render(
        request,
        "course.html",
        {
            "nav": "course",
            "view": view,
            "descriptions": descriptions,
            "project_types": project_types,
            "workspaces": workspaces.buttons(settings, user.name, active, servers),
            "class_sessions": await class_sessions.upcoming_for(session, user),
            "session_words": class_sessions.STATUS_WORDS,
            "window": class_sessions.window,
            "kind_name": class_sessions.kind_name,
            "notice": request.query_params.get("notice", "")[:200],
        },
        user=user,
        offers_enrollment=await catalog.offers_enrollment(session, user, settings),
    )
