"""What the trainer's quiz pages share: the quiz id in their paths, the redirect after a
change, loading a quiz as the API does (staff only; changes only by its author or an admin),
the track and project lists of their forms, and making a draft once per click."""

from datetime import timedelta
from typing import Annotated, Any

from fastapi import Path, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from lms_api.auth import staff_user
from lms_api.curriculum.models import Project
from lms_api.curriculum.service import tracks_query
from lms_api.database import MAX_ID
from lms_api.portal.rendering import portal_url
from lms_api.principal import Principal
from lms_api.quizzes import service, transfer
from lms_api.quizzes.models import Quiz
from lms_api.quizzes.schemas import QuizDocument, QuizIn
from lms_api.timestamps import utcnow

QuizId = Annotated[int, Path(ge=1, le=MAX_ID, description="Quiz id")]
BASE = "manage/quizzes"
REPEAT_WINDOW = timedelta(minutes=1)  # a second click of the same form lands on the first quiz


def see_other(request: Request, path: str = "", done: str | None = None) -> RedirectResponse:
    """Post/redirect/get to a quiz page (`path` below BASE), saying what was `done`."""
    url = portal_url(request.app.state.settings, f"{BASE}/{path}".rstrip("/"))
    return RedirectResponse(url + (f"?done={done}" if done else ""), status_code=303)


async def staff_quiz(session: AsyncSession, user: Principal, quiz_id: int) -> Quiz:
    await staff_user(user)  # the API's refusal for staff routes
    return await service.quiz_for(session, user, quiz_id)


async def editable(session: AsyncSession, user: Principal, quiz_id: int) -> Quiz:
    quiz = await staff_quiz(session, user, quiz_id)
    service.check_may_edit(user, quiz)
    return quiz


async def links(session: AsyncSession) -> dict[str, Any]:
    """The tracks and projects a quiz may belong to, for the form's lists."""
    tracks = list(await session.scalars(tracks_query()))
    projects = list(
        await session.scalars(
            select(Project)
            .options(joinedload(Project.track))
            .order_by(Project.track_id, Project.number)
        )
    )
    return {"tracks": tracks, "projects": projects}


async def create_once(session: AsyncSession, author: str, body: QuizIn, via: str) -> int:
    """`POST /api/v1/quizzes`'s service call, made once: the same form sent twice (a double
    click) lands on the first quiz instead of making a copy. A refusal leaves nothing behind."""
    repeated = await _same_recent_quiz(session, author, body)
    if repeated is not None:
        return repeated
    async with session.begin_nested():
        return await service.create_quiz(session, body, author=author, via=via)


async def _same_recent_quiz(session: AsyncSession, author: str, body: QuizIn) -> int | None:
    """A quiz this author saved within the last minute with exactly this content."""
    wanted = QuizDocument.model_validate(body.model_dump()).model_dump()
    recent = await session.scalars(
        select(Quiz.id).where(
            Quiz.created_by == author,
            Quiz.title == body.title,
            Quiz.created_at >= utcnow() - REPEAT_WINDOW,
        )
    )
    for quiz_id in list(recent):
        quiz = await service.load_quiz(session, quiz_id)
        if quiz is not None and transfer.to_document(quiz).model_dump() == wanted:
            return quiz_id
    return None
