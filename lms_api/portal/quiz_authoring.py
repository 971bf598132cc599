"""The trainer's quiz pages: their quizzes, one quiz with its questions and keys, publishing,
archiving and deleting it (each after a confirmation page), and its export. Writing a draft
(quiz_authoring_edit), importing or generating one (quiz_authoring_generate) and the preview
and results (quiz_authoring_results) are their own modules, included here.

Staff only (the API's staff refusal for students). Every change is the API's service call,
refused as the API refuses: a trainer changes only the quizzes they wrote (`check_may_edit`).
"""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import func, select

from lms_api.access import visible_records
from lms_api.auth import staff_user
from lms_api.database import SessionDep
from lms_api.errors import QuizEmpty, QuizNotDraft
from lms_api.people.models import Person
from lms_api.portal import quiz_authoring_edit, quiz_authoring_generate, quiz_authoring_results
from lms_api.portal.quiz_authoring_form import REVEAL_WORDS, SCORING_WORDS
from lms_api.portal.quiz_authoring_shared import QuizId, editable, see_other, staff_quiz
from lms_api.portal.quizzes import duration, when
from lms_api.portal.rendering import render
from lms_api.portal.signin import PageUser
from lms_api.principal import ADMIN_ROLES, Principal
from lms_api.quizzes import service, transfer
from lms_api.quizzes.content import QuizStatus
from lms_api.quizzes.models import Quiz, QuizAttempt

router = APIRouter()
# Their routes first: the fixed paths (/new, /import, /generate) must win over
# /manage/quizzes/{quiz_id}.
for module in (quiz_authoring_edit, quiz_authoring_generate, quiz_authoring_results):
    router.include_router(module.router)

STATUS_WORDS = {
    QuizStatus.DRAFT: ("Draft", "secondary"),
    QuizStatus.PUBLISHED: ("Published", "success"),
    QuizStatus.ARCHIVED: ("Archived", "dark"),
}
DONE_WORDS = {
    "created": "The draft is saved.",
    "saved": "Your changes are saved.",
    "imported": "The file is imported as a new draft.",
    "generated": "Gemini wrote this draft: check every question before you publish it.",
    "published": "The quiz is published: students of its track can take it now.",
    "archived": "The quiz is archived: no new attempts; past attempts stay readable.",
    "deleted": "The draft is deleted.",
}


def _page(
    request: Request, user: Principal, template: str, status_code: int = 200, **context: Any
) -> Response:
    """A page about quizzes and their status, saying what was just done (`?done=`)."""
    done = DONE_WORDS.get(request.query_params.get("done") or "")
    context |= {"nav": "quizzes", "status_words": STATUS_WORDS, "when": when, "done": done}
    return render(request, template, context, status_code=status_code, user=user)


@router.get("/manage/quizzes")
async def quiz_list(request: Request, user: PageUser, session: SessionDep) -> Response:
    """A trainer's own quizzes (admins: every quiz), by status, with their attempts."""
    await staff_user(user)
    admin = user.role in ADMIN_ROLES
    statement = service.list_quizzes(user, created_by=None if admin else user.name)
    quizzes = list((await session.scalars(statement)).unique())
    counted = visible_records(
        select(QuizAttempt.quiz_id, func.count(QuizAttempt.id))
        .join(Person, QuizAttempt.person_id == Person.id)
        .where(QuizAttempt.quiz_id.in_([q.id for q in quizzes]))
        .group_by(QuizAttempt.quiz_id),
        user,
        QuizAttempt.person_id,
    )
    counts = dict((await session.execute(counted)).tuples().all()) if quizzes else {}
    groups = [(status, [q for q in quizzes if q.status == status]) for status in QuizStatus]
    return _page(request, user, "authoring_list.html", groups=groups, counts=counts, admin=admin)


@router.get("/manage/quizzes/{quiz_id}")
async def quiz_page(
    request: Request, user: PageUser, session: SessionDep, quiz_id: QuizId
) -> Response:
    """Its settings, questions with their keys, status and what can be done with it."""
    quiz = await staff_quiz(session, user, quiz_id)
    return _quiz_page(request, user, quiz)


def _quiz_page(
    request: Request, user: Principal, quiz: Quiz, problem: str = "", status_code: int = 200
) -> Response:
    return _page(
        request,
        user,
        "authoring_quiz.html",
        status_code,
        quiz=quiz,
        may_edit=user.role in ADMIN_ROLES or quiz.created_by == user.name,
        reveal_words=REVEAL_WORDS,
        scoring_words=SCORING_WORDS,
        duration=duration,
        problem=problem,
    )


@router.post("/manage/quizzes/{quiz_id}/publish")
async def publish_quiz(
    request: Request, user: PageUser, session: SessionDep, quiz_id: QuizId
) -> Response:
    """`POST /api/v1/quizzes/{id}/publish`; publishing it again just shows it published."""
    quiz = await editable(session, user, quiz_id)
    if quiz.status == QuizStatus.PUBLISHED:
        return see_other(request, str(quiz_id), "published")
    try:
        await service.publish_quiz(session, quiz, user.name)
    except (QuizNotDraft, QuizEmpty) as exc:  # archived, or no questions yet
        return _quiz_page(request, user, quiz, exc.message, exc.status)
    return see_other(request, str(quiz_id), "published")


def _confirm(doing: str) -> Callable[..., Awaitable[Response]]:
    """The GET page asking "are you sure?" before the POST that does `doing`."""

    async def confirm(
        request: Request, user: PageUser, session: SessionDep, quiz_id: QuizId
    ) -> Response:
        quiz = await editable(session, user, quiz_id)
        context = {"nav": "quizzes", "quiz": quiz, "doing": doing}
        return render(request, "authoring_confirm.html", context, user=user)

    return confirm


# the confirmation step before the POST that archives (no new attempts) or deletes (for good)
for doing in ("archive", "delete"):
    router.add_api_route(
        f"/manage/quizzes/{{quiz_id}}/{doing}", _confirm(doing), name=f"{doing}_confirm"
    )


@router.post("/manage/quizzes/{quiz_id}/archive")
async def archive_quiz(
    request: Request, user: PageUser, session: SessionDep, quiz_id: QuizId
) -> Response:
    """`POST /api/v1/quizzes/{id}/archive` (archiving twice changes nothing)."""
    quiz = await editable(session, user, quiz_id)
    await service.archive_quiz(session, quiz, user.name)
    return see_other(request, str(quiz_id), "archived")


@router.post("/manage/quizzes/{quiz_id}/delete")
async def delete_quiz(
    request: Request, user: PageUser, session: SessionDep, quiz_id: QuizId
) -> Response:
    """`DELETE /api/v1/quizzes/{id}`: a quiz nobody attempted (archive the others)."""
    await staff_user(user)
    quiz = await service.load_quiz(session, quiz_id)
    if quiz is None:  # deleted by the first click
        return see_other(request, "", "deleted")
    service.check_may_edit(user, quiz)
    await service.delete_quiz(session, quiz, user.name)
    return see_other(request, "", "deleted")


@router.get("/manage/quizzes/{quiz_id}/export")
async def export_quiz(
    user: PageUser,
    session: SessionDep,
    quiz_id: QuizId,
    format: Annotated[str, Query(pattern="^(json|yaml)$")] = "json",
) -> Response:
    """`GET /api/v1/quizzes/{id}/export` for the browser (the API wants a bearer token)."""
    quiz = await staff_quiz(session, user, quiz_id)
    return Response(
        transfer.render(transfer.to_document(quiz), format),
        media_type=f"{transfer.MEDIA_TYPES[format]}; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="quiz-{quiz.id}.{format}"',
            "Cache-Control": "private, no-store",
        },
    )
