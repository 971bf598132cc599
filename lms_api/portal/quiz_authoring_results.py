"""What students see and did with a quiz: the preview (the student's take page, built in
memory, nothing saved) and the results (the API's statistics and each student's best score,
over the attempts the caller may see)."""

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from lms_api.database import SessionDep
from lms_api.portal.quiz_authoring_shared import BASE, QuizId, staff_quiz
from lms_api.portal.quizzes import duration, when
from lms_api.portal.rendering import portal_url, render
from lms_api.portal.signin import PageUser
from lms_api.principal import Principal
from lms_api.quizzes import attempt_views, attempts
from lms_api.quizzes.attempt_access import REVEAL_NOTES
from lms_api.quizzes.enums import AttemptStatus
from lms_api.quizzes.models import Quiz
from lms_api.quizzes.schemas import AttemptDetail, AttemptOption, AttemptQuestion
from lms_api.timestamps import as_utc, utcnow

router = APIRouter()


def preview_view(quiz: Quiz, user: Principal) -> AttemptDetail:
    """The quiz as a student's new attempt shows it (questions in order, nothing answered),
    built in memory: no attempt is created."""
    now = utcnow()
    limit = quiz.time_limit_seconds
    return AttemptDetail(
        id=0,
        quiz_id=quiz.id,
        quiz_title=quiz.title,
        username=user.name,
        number=1,
        status=AttemptStatus.IN_PROGRESS,
        started_at=now,
        deadline_at=now + timedelta(seconds=limit) if limit else None,
        submitted_at=None,
        score=None,
        max_score=sum(q.points for q in quiz.questions),
        score_fraction=None,
        passed=None,
        seconds_left=float(limit) if limit else None,
        answers_revealed=False,
        reveal_note=REVEAL_NOTES[quiz.reveal_policy],
        questions=[
            AttemptQuestion(
                id=q.id,
                position=position,
                text=q.text,
                type=q.type,
                points=q.points,
                options=[AttemptOption(id=o.id, text=o.text) for o in q.options],
                selected_option_ids=[],
                answered_at=None,
                result=None,
                key=None,
            )
            for position, q in enumerate(quiz.questions, start=1)
        ],
    )


@router.get("/manage/quizzes/{quiz_id}/preview")
async def preview_quiz(
    request: Request,
    user: PageUser,
    session: SessionDep,
    quiz_id: QuizId,
    one: Annotated[bool, Query()] = False,
    q: Annotated[int, Query(ge=1, le=1000)] = 1,
) -> Response:
    """The student's take page for this quiz, with nothing saved and no attempt made."""
    quiz = await staff_quiz(session, user, quiz_id)
    view = preview_view(quiz, user)
    total = len(view.questions)
    q = min(max(q, 1), max(total, 1))
    return render(
        request,
        "quiz_take.html",
        {
            "attempt": view,
            "shown": view.questions[q - 1 : q] if one else view.questions,
            "one": one,
            "q": q,
            "total": total,
            "answered": 0,
            "saved": False,
            "errors": {},
            "deadline": as_utc(view.deadline_at).isoformat() if view.deadline_at else "",
            "when": when,
            "duration": duration,
            "nav": "quizzes",
            "preview": quiz,
            "preview_url": portal_url(request.app.state.settings, f"{BASE}/{quiz.id}/preview"),
        },
        user=user,
    )


@router.get("/manage/quizzes/{quiz_id}/results")
async def quiz_results(
    request: Request, user: PageUser, session: SessionDep, quiz_id: QuizId
) -> Response:
    """`GET /api/v1/quizzes/{id}/results`, and each student's best score (the attempts the
    caller may see: a trainer's students, everyone for admins)."""
    quiz = await staff_quiz(session, user, quiz_id)
    clock = attempts.request_clock(request.app.state.settings.quiz_time_grace_seconds)
    if await attempts.expire_overdue(session, clock, quiz_id=quiz.id):
        quiz = await staff_quiz(session, user, quiz_id)  # grading reloaded its row
    results = await attempt_views.quiz_results(session, user, quiz)
    listed = await session.scalars(attempt_views.list_attempts(user, quiz_id=quiz.id))
    students: dict[str, dict[str, Any]] = {}
    for attempt in (attempt_views.summary(a) for a in listed):
        row = students.setdefault(
            attempt.username,
            {
                "username": attempt.username,
                "attempts": 0,
                "best": None,
                "passed": False,
                "last": None,
            },
        )
        row["attempts"] += 1
        if attempt.score_fraction is not None:
            row["best"] = max(row["best"] or 0.0, attempt.score_fraction)
        row["passed"] = row["passed"] or bool(attempt.passed)
        if attempt.submitted_at and (row["last"] is None or attempt.submitted_at > row["last"]):
            row["last"] = attempt.submitted_at
    return render(
        request,
        "authoring_results.html",
        {
            "nav": "quizzes",
            "quiz": quiz,
            "results": results,
            "students": sorted(students.values(), key=lambda r: r["username"]),
            "when": when,
        },
        user=user,
    )
