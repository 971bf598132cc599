"""Writing a quiz by hand: the new-draft and edit-draft forms.

Both post the whole form; "Add"/"Remove" buttons re-render it unsaved, the API's schema
(QuizIn for a new draft, QuizPatch for an edit) checks it, and a refusal is the form again
(422) with the problem next to its field and nothing saved. Only drafts are edited, and only
by their author or an admin (`check_may_edit`).
"""

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from lms_api.auth import staff_user
from lms_api.database import SessionDep
from lms_api.errors import InvalidInput
from lms_api.portal.quiz_authoring_form import REVEAL_WORDS, SCORING_WORDS, QuizForm, read_form
from lms_api.portal.quiz_authoring_shared import QuizId, create_once, editable, links, see_other
from lms_api.portal.rendering import render
from lms_api.portal.signin import PageUser
from lms_api.principal import Principal
from lms_api.quizzes import service
from lms_api.quizzes.content import QuestionType
from lms_api.quizzes.models import Quiz
from lms_api.quizzes.schemas import QuizIn, QuizPatch

router = APIRouter()


async def _form_page(
    request: Request,
    session: AsyncSession,
    user: Principal,
    form: QuizForm,
    quiz: Quiz | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "authoring_form.html",
        {
            "nav": "quizzes",
            "form": form.for_display(),
            "errors": form.errors,
            "quiz": quiz,
            "question_types": list(QuestionType),
            "reveal_words": REVEAL_WORDS,
            "scoring_words": SCORING_WORDS,
            **await links(session),
        },
        status_code=status_code,
        user=user,
    )


async def _draft(session: AsyncSession, user: Principal, quiz_id: int) -> Quiz:
    """The caller's draft; a published or archived quiz is refused in words (409)."""
    quiz = await editable(session, user, quiz_id)
    service.check_draft(quiz, "changed")
    return quiz


def _checked(form: QuizForm, schema: type[QuizIn] | type[QuizPatch]) -> Any:
    """The form as the API's body, or None with the errors in the form."""
    form.compact()
    body = form.body()
    try:
        checked = schema.model_validate(body)
    except ValidationError as exc:
        form.schema_errors(exc)
        return None
    return None if form.errors else checked


async def _submitted(
    request: Request,
    session: AsyncSession,
    user: Principal,
    schema: type[QuizIn] | type[QuizPatch],
    save: Callable[[Any], Awaitable[int]],
    done: str,
    quiz: Quiz | None = None,
) -> Response:
    """The posted form: re-rendered for an Add/Remove button, 422 with the schema's or the
    service's problems, or saved by `save` (the quiz's id) and redirected to it."""
    quiz_id = quiz.id if quiz else None
    data = await request.form()
    form, action = read_form(data), data.get("action")
    if form.apply(action if isinstance(action, str) else "save"):
        return await _form_page(request, session, user, form, quiz)
    body = _checked(form, schema)
    if body is None:
        return await _form_page(request, session, user, form, quiz, 422)
    try:
        saved = await save(body)
    except InvalidInput as exc:
        form.service_error(exc)
        if quiz_id is not None:
            quiz = await editable(session, user, quiz_id)  # the undone change expired its row
        return await _form_page(request, session, user, form, quiz, 422)
    return see_other(request, str(saved), done)


@router.get("/manage/quizzes/new")
async def new_quiz(request: Request, user: PageUser, session: SessionDep) -> Response:
    """An empty draft to fill in."""
    await staff_user(user)
    return await _form_page(request, session, user, QuizForm())


@router.post("/manage/quizzes/new")
async def create_quiz(request: Request, user: PageUser, session: SessionDep) -> Response:
    """`POST /api/v1/quizzes` from the form."""
    await staff_user(user)

    async def save(body: QuizIn) -> int:
        return await create_once(session, user.name, body, "portal")

    return await _submitted(request, session, user, QuizIn, save, "created")


@router.get("/manage/quizzes/{quiz_id}/edit")
async def edit_quiz(
    request: Request, user: PageUser, session: SessionDep, quiz_id: QuizId
) -> Response:
    """The draft in the form."""
    quiz = await _draft(session, user, quiz_id)
    return await _form_page(request, session, user, QuizForm.from_quiz(quiz), quiz)


@router.post("/manage/quizzes/{quiz_id}/edit")
async def save_quiz(
    request: Request, user: PageUser, session: SessionDep, quiz_id: QuizId
) -> Response:
    """`PATCH /api/v1/quizzes/{id}` with every field (the questions replace the old ones)."""
    quiz = await _draft(session, user, quiz_id)

    async def save(patch: QuizPatch) -> int:
        async with session.begin_nested():  # a refusal undoes the fields already set
            await service.update_quiz(session, quiz, patch, user.name)
        return quiz_id

    return await _submitted(request, session, user, QuizPatch, save, "saved", quiz)
