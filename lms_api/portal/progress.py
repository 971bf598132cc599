"""The "My progress" page: steps done per track and project, and the student's quiz history.

The numbers are the API's own (`progress_of` as GET /progress/me answers it, the quiz record
as GET /quizzes answers it); the page shows every share as a whole percent with the one
`percent` filter, so pct_complete (0..100) is turned into a fraction first.
"""

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from lms_api.database import SessionDep
from lms_api.portal import catalog
from lms_api.portal.rendering import render
from lms_api.portal.signin import PageUser
from lms_api.principal import STAFF_ROLES, Principal
from lms_api.progress.service import progress_of
from lms_api.quizzes import attempts
from lms_api.quizzes import service as quiz_service
from lms_api.quizzes.enums import AttemptStatus
from lms_api.quizzes.models import Quiz, QuizAttempt
from lms_api.quizzes.presenters import my_record
from lms_api.quizzes.schemas import MyQuizRecord
from lms_api.timestamps import as_utc

router = APIRouter()

STATUS_WORDS = {
    AttemptStatus.IN_PROGRESS: "In progress",
    AttemptStatus.SUBMITTED: "Submitted",
    AttemptStatus.EXPIRED: "Time ran out (graded as it stood)",
}


@dataclass(frozen=True)
class QuizHistory:
    quiz: Quiz
    mine: MyQuizRecord
    attempts: list[QuizAttempt]


def share(pct_complete: float) -> float:
    """pct_complete (0..100) as the fraction the `percent` filter expects."""
    return pct_complete / 100


def score_share(attempt: QuizAttempt) -> float | None:
    """The attempt's score as a fraction of its maximum (as the API's `score_fraction`)."""
    if attempt.score is None or not attempt.max_score:
        return None
    return attempt.score / attempt.max_score


def status_words(attempt: QuizAttempt) -> str:
    words = STATUS_WORDS.get(AttemptStatus(attempt.status), attempt.status)
    if attempt.passed is None:
        return words
    return f"{words}, {'passed' if attempt.passed else 'not passed'}"


async def quiz_history(session: AsyncSession, request: Request, user: Principal) -> list[Any]:
    """The quizzes open to the student with their attempts, after grading overdue ones (the
    same calls as GET /quizzes makes for a student)."""
    person_id = await session.scalar(quiz_service.person_id_of(user.name))
    if person_id is not None:
        clock = attempts.request_clock(request.app.state.settings.quiz_time_grace_seconds)
        await attempts.expire_overdue(session, clock, person_id=person_id)
    quizzes = list(await session.scalars(quiz_service.list_quizzes(user)))
    by_quiz = await quiz_service.attempts_by_quiz(session, user.name, [q.id for q in quizzes])
    return [QuizHistory(q, my_record(q, by_quiz[q.id]), by_quiz[q.id]) for q in quizzes]


@router.get("/progress")
async def my_progress(request: Request, user: PageUser, session: SessionDep) -> Response:
    """The signed-in user's own progress; staff get a pointer to where they follow students."""
    staff = user.role in STAFF_ROLES
    report = await progress_of(session, user.name)
    history = [] if staff else await quiz_history(session, request, user)
    return render(
        request,
        "progress.html",
        {
            "nav": "progress",
            "staff": staff,
            "tracks": report.tracks,
            "history": history,
            "share": share,
            "score_share": score_share,
            "status_words": status_words,
            "as_utc": as_utc,
            "dashboards": request.app.state.settings.service_prefix.rsplit("/", 1)[0]
            + "/dashboards/",
        },
        user=user,
        offers_enrollment=await catalog.offers_enrollment(
            session, user, request.app.state.settings
        ),
    )
