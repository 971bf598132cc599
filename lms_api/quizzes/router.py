"""Quizzes over HTTP: authoring (by hand, import, Gemini), taking them, and their results.

Routes only (paths, dependencies, status codes, documented errors); the work is done by
service (authoring), generation_runs (Gemini), attempts, attempt_access and attempt_views
(taking), and presenters (the answers).
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from lms_api.auth import CurrentUser, StaffUser, current_principal, current_user, ensure_active
from lms_api.database import MAX_ID, SessionDep
from lms_api.errors import USER_ROUTE_ERRORS, error_doc
from lms_api.links import public_url_for
from lms_api.pagination import PageDep, paginate
from lms_api.principal import STAFF_ROLES, Principal
from lms_api.quizzes import attempt_views, attempts, generation_runs, service, transfer
from lms_api.quizzes.attempt_access import own_attempt, visible_attempt
from lms_api.quizzes.content import GenerateQuizIn, QuizStatus
from lms_api.quizzes.enums import AttemptStatus
from lms_api.quizzes.models import Quiz
from lms_api.quizzes.presenters import fresh_detail, my_record, quiz_detail, quiz_summary
from lms_api.quizzes.schemas import (
    AnswerIn,
    AnswerOut,
    AttemptDetail,
    AttemptPage,
    GeneratedQuizOut,
    QuizDetail,
    QuizDocument,
    QuizIn,
    QuizPage,
    QuizPatch,
    QuizResults,
    QuizSummary,
)
from lms_api.types import LINE_PATTERN

router = APIRouter(tags=["quizzes"])

# The import route reads its body itself, so FastAPI does not list QuizDocument among the
# components: its schema is inlined, its nested models referring to the components QuizIn made.
QUIZ_DOCUMENT_SCHEMA = QuizDocument.model_json_schema(ref_template="#/components/schemas/{model}")
QUIZ_DOCUMENT_SCHEMA.pop("$defs", None)
QuizId = Annotated[int, Path(ge=1, le=MAX_ID, description="Quiz id")]
AttemptId = Annotated[int, Path(ge=1, le=MAX_ID, description="Attempt id")]
QuestionId = Annotated[int, Path(ge=1, le=MAX_ID, description="Question id")]

QUIZ_NOT_VISIBLE = error_doc("No such quiz, or (students) not a published one")
ATTEMPT_NOT_VISIBLE = error_doc("No such attempt, or not one the caller may see")
EDIT_ERRORS = {
    **USER_ROUTE_ERRORS,
    403: error_doc("Not a trainer or admin, or (trainers) a quiz someone else wrote"),
    404: QUIZ_NOT_VISIBLE,
    409: error_doc("The quiz is no longer a draft (`quiz_not_draft`)"),
}


# --- helpers -------------------------------------------------------------------------------
def _request_clock(request: Request) -> attempts.Clock:
    return attempts.request_clock(request.app.state.settings.quiz_time_grace_seconds)


async def _quiz(
    session: AsyncSession, caller: Principal, quiz_id: int, *, questions: bool = True
) -> Quiz:
    return await service.quiz_for(session, caller, quiz_id, questions=questions)


async def _editable(session: AsyncSession, caller: Principal, quiz_id: int) -> Quiz:
    quiz = await _quiz(session, caller, quiz_id)
    service.check_may_edit(caller, quiz)
    return quiz


async def _attempt(session: AsyncSession, caller: Principal, attempt_id: int, find=None):
    return await (find or visible_attempt)(session, caller, attempt_id)


async def _attempt_detail(
    session: AsyncSession, caller: Principal, attempt_id: int, clock: attempts.Clock, new=False
) -> AttemptDetail:
    attempt = await attempts.load_attempt(session, attempt_id)  # as it is now
    assert attempt is not None
    return await attempt_views.detail(session, caller, attempt, clock, new=new)


def _located(request: Request, response: Response, name: str, **params: int) -> None:
    response.headers["Location"] = public_url_for(request, name, **params)


# --- authoring -----------------------------------------------------------------------------
@router.get("/quizzes", response_model=QuizPage, responses=USER_ROUTE_ERRORS)
async def list_quizzes(
    caller: CurrentUser,
    session: SessionDep,
    page: PageDep,
    request: Request,
    status: Annotated[QuizStatus | None, Query(description="Only this status (staff)")] = None,
    track: Annotated[
        str | None,
        Query(
            min_length=1, max_length=16, pattern=LINE_PATTERN, description="Only this track (code)"
        ),
    ] = None,
    created_by: Annotated[
        str | None,
        Query(min_length=1, max_length=255, pattern=LINE_PATTERN, description="Only this author's"),
    ] = None,
) -> dict[str, Any]:
    """Quizzes: all for staff; for students the published ones open to them, with their own
    attempts."""
    statement = service.list_quizzes(caller, status=status, track=track, created_by=created_by)
    if caller.role not in STAFF_ROLES:
        # Before the quizzes are read: grading an overdue attempt reloads its quiz's row.
        person_id = await session.scalar(service.person_id_of(caller.name))
        if person_id is not None:
            await attempts.expire_overdue(session, _request_clock(request), person_id=person_id)
    listed = await paginate(session, statement, page, request)
    quizzes: list[Quiz] = listed["results"]
    if caller.role in STAFF_ROLES:
        listed["results"] = [quiz_summary(q) for q in quizzes]
        return listed
    by_quiz = await service.attempts_by_quiz(session, caller.name, [q.id for q in quizzes])
    listed["results"] = [quiz_summary(q, my_record(q, by_quiz[q.id])) for q in quizzes]
    return listed


@router.post(
    "/quizzes",
    response_model=QuizDetail,
    status_code=201,
    responses={**USER_ROUTE_ERRORS, 403: error_doc("Not a trainer or admin")},
)
async def create_quiz(
    caller: StaffUser, session: SessionDep, request: Request, response: Response, body: QuizIn
) -> QuizDetail:
    """Write a quiz by hand (a draft; publish it when ready)."""
    quiz_id = await service.create_quiz(session, body, author=caller.name)
    _located(request, response, "read_quiz", quiz_id=quiz_id)
    return await fresh_detail(session, quiz_id)


@router.post(
    "/quizzes/import",
    response_model=QuizDetail,
    status_code=201,
    responses={
        **USER_ROUTE_ERRORS,
        403: error_doc("Not a trainer or admin"),
        413: error_doc("The file is larger than 2 MiB"),
        422: error_doc("Not valid JSON/YAML, or not a valid quiz (`details` names each field)"),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "A quiz file as GET /quizzes/{id}/export writes it",
            "content": {
                "application/json": {"schema": QUIZ_DOCUMENT_SCHEMA},
                "application/yaml": {"schema": QUIZ_DOCUMENT_SCHEMA},
            },
        }
    },
)
async def import_quiz(
    caller: StaffUser, session: SessionDep, request: Request, response: Response
) -> QuizDetail:
    """Import a quiz from a JSON or YAML file (as a new draft)."""
    document = transfer.parse(await request.body(), request.headers.get("content-type", ""))
    # A QuizDocument is a QuizIn (plus its format marker): already checked, used as it is.
    quiz_id = await service.create_quiz(session, document, author=caller.name, via="import")
    _located(request, response, "read_quiz", quiz_id=quiz_id)
    return await fresh_detail(session, quiz_id)


@router.post(
    "/quizzes/generate",
    response_model=GeneratedQuizOut,
    status_code=201,
    responses={
        **USER_ROUTE_ERRORS,
        403: error_doc("Not a trainer or admin"),
        429: error_doc("Too many generations this hour (`Retry-After` says when to retry)"),
        502: error_doc("Gemini failed or kept answering invalid quizzes (the reason is given)"),
        503: error_doc("No Gemini API key is configured (`APRANOVA_GEMINI_API_KEY`)"),
    },
)
async def generate_quiz(
    caller: StaffUser,
    session: SessionDep,
    request: Request,
    response: Response,
    body: GenerateQuizIn,
) -> GeneratedQuizOut:
    """Have Gemini write a draft quiz on a topic (trainers, admins)."""
    generated = await generation_runs.generate_draft(
        session, request.app.state.database.sessionmaker, request.app.state.settings, caller, body
    )
    _located(request, response, "read_quiz", quiz_id=generated.id)
    return generated


@router.get(
    "/quizzes/{quiz_id}",
    response_model=QuizDetail | QuizSummary,
    responses={
        **USER_ROUTE_ERRORS,
        403: error_doc("A quiz of a track the student is not active in (`not_enrolled`)"),
        404: QUIZ_NOT_VISIBLE,
    },
)
async def read_quiz(
    caller: CurrentUser, session: SessionDep, request: Request, quiz_id: QuizId
) -> QuizDetail | QuizSummary:
    """One quiz: with questions and keys for staff; for students, the quiz and their record."""
    quiz = await _quiz(session, caller, quiz_id)
    if caller.role in STAFF_ROLES:
        return quiz_detail(quiz)
    person_id = await session.scalar(service.person_id_of(caller.name))
    if person_id is not None and await attempts.expire_overdue(
        session, _request_clock(request), person_id=person_id, quiz_id=quiz.id
    ):
        quiz = await _quiz(session, caller, quiz_id)  # grading reloaded its row: read it again
    by_quiz = await service.attempts_by_quiz(session, caller.name, [quiz.id])
    return quiz_summary(quiz, my_record(quiz, by_quiz[quiz.id]))


@router.patch("/quizzes/{quiz_id}", response_model=QuizDetail, responses=EDIT_ERRORS)
async def update_quiz(
    caller: StaffUser, session: SessionDep, quiz_id: QuizId, body: QuizPatch
) -> QuizDetail:
    """Change a draft: its settings, and (`questions`) its whole question list."""
    quiz = await _editable(session, caller, quiz_id)
    await service.update_quiz(session, quiz, body, caller.name)
    return await fresh_detail(session, quiz_id)


@router.delete(
    "/quizzes/{quiz_id}",
    status_code=204,
    responses={**EDIT_ERRORS, 409: error_doc("Students have attempted it (`quiz_has_attempts`)")},
)
async def delete_quiz(caller: StaffUser, session: SessionDep, quiz_id: QuizId) -> Response:
    """Delete a quiz nobody has attempted (archive one that has attempts)."""
    quiz = await _editable(session, caller, quiz_id)
    await service.delete_quiz(session, quiz, caller.name)
    return Response(status_code=204)


@router.post(
    "/quizzes/{quiz_id}/publish",
    response_model=QuizDetail,
    responses={**EDIT_ERRORS, 409: error_doc("Not a draft, or no questions (`quiz_empty`)")},
)
async def publish_quiz(caller: StaffUser, session: SessionDep, quiz_id: QuizId) -> QuizDetail:
    """Publish a draft: students of its track can take it from now on."""
    quiz = await _editable(session, caller, quiz_id)
    await service.publish_quiz(session, quiz, caller.name)
    return await fresh_detail(session, quiz_id)


@router.post("/quizzes/{quiz_id}/archive", response_model=QuizDetail, responses=EDIT_ERRORS)
async def archive_quiz(caller: StaffUser, session: SessionDep, quiz_id: QuizId) -> QuizDetail:
    """Archive a quiz: no new attempts; past attempts stay readable."""
    quiz = await _editable(session, caller, quiz_id)
    await service.archive_quiz(session, quiz, caller.name)
    return await fresh_detail(session, quiz_id)


@router.get(
    "/quizzes/{quiz_id}/export",
    response_class=Response,
    responses={
        **USER_ROUTE_ERRORS,
        200: {
            "description": "The quiz file",
            "content": {"application/json": {}, "application/yaml": {}},
        },
        403: error_doc("Not a trainer or admin"),
        404: QUIZ_NOT_VISIBLE,
    },
)
async def export_quiz(
    caller: StaffUser,
    session: SessionDep,
    quiz_id: QuizId,
    format: Annotated[str, Query(pattern="^(json|yaml)$", description="json or yaml")] = "json",
) -> Response:
    """Export a quiz with its keys as a JSON or YAML file (POST /quizzes/import reads it)."""
    quiz = await _quiz(session, caller, quiz_id)
    text = transfer.render(transfer.to_document(quiz), format)
    return Response(
        text,
        media_type=f"{transfer.MEDIA_TYPES[format]}; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="quiz-{quiz.id}.{format}"',
            "Cache-Control": "private, no-store",
        },
    )


@router.get(
    "/quizzes/{quiz_id}/results",
    response_model=QuizResults,
    responses={
        **USER_ROUTE_ERRORS,
        403: error_doc("Not a trainer or admin"),
        404: QUIZ_NOT_VISIBLE,
    },
)
async def quiz_results(
    caller: StaffUser, session: SessionDep, request: Request, quiz_id: QuizId
) -> QuizResults:
    """Scores and per-question results: a trainer's students, or everyone for admins."""
    quiz = await _quiz(session, caller, quiz_id)
    await attempts.expire_overdue(session, _request_clock(request), quiz_id=quiz.id)
    return await attempt_views.quiz_results(session, caller, quiz)


# --- taking --------------------------------------------------------------------------------
@router.post(
    "/quizzes/{quiz_id}/attempts",
    response_model=AttemptDetail,
    status_code=201,
    responses={
        **USER_ROUTE_ERRORS,
        200: {"description": "Resumed: the attempt already in progress", "model": AttemptDetail},
        403: error_doc("Staff, or a student not active in the quiz's track (`not_enrolled`)"),
        404: QUIZ_NOT_VISIBLE,
        409: error_doc("No attempts left (`no_attempts_left`) or not published"),
    },
)
async def start_attempt(
    caller: CurrentUser, session: SessionDep, request: Request, response: Response, quiz_id: QuizId
) -> AttemptDetail:
    """Start an attempt (or resume the one in progress); the time limit starts now."""
    clock = _request_clock(request)
    quiz = await _quiz(session, caller, quiz_id, questions=False)
    attempt_id, new = await attempts.start_attempt(session, caller, quiz, clock)
    response.status_code = 201 if new else 200
    _located(request, response, "read_attempt", attempt_id=attempt_id)
    if new is None:  # resumed: as it is now
        return await _attempt_detail(session, caller, attempt_id, clock)
    return await attempt_views.detail(session, caller, new, clock, new=True)


@router.get(
    "/attempts",
    response_model=AttemptPage,
    responses=USER_ROUTE_ERRORS,
)
async def list_attempts(
    caller: CurrentUser,
    session: SessionDep,
    page: PageDep,
    request: Request,
    quiz_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only this quiz's")] = None,
    username: Annotated[
        str | None,
        Query(
            min_length=1, max_length=255, pattern=LINE_PATTERN, description="Only this student's"
        ),
    ] = None,
    status: Annotated[AttemptStatus | None, Query(description="Only this status")] = None,
) -> dict[str, Any]:
    """Attempts, newest first: own for students, their students' for trainers, all for admins."""
    where: dict[str, Any] = {} if quiz_id is None else {"quiz_id": quiz_id}
    if caller.role not in STAFF_ROLES:
        where["person_id"] = await session.scalar(service.person_id_of(caller.name))
    await attempts.expire_overdue(session, _request_clock(request), **where)
    statement = attempt_views.list_attempts(
        caller, quiz_id=quiz_id, username=username, status=status
    )
    return await paginate(session, statement, page, request, attempt_views.summary)


@router.get(
    "/attempts/{attempt_id}",
    response_model=AttemptDetail,
    responses={**USER_ROUTE_ERRORS, 404: ATTEMPT_NOT_VISIBLE},
)
async def read_attempt(
    caller: CurrentUser, session: SessionDep, request: Request, attempt_id: AttemptId
) -> AttemptDetail:
    """One attempt: questions and answers; results and keys as the quiz's rules allow."""
    clock = _request_clock(request)
    attempt = await _attempt(session, caller, attempt_id)
    attempt = await attempts.graded_if_overdue(session, attempt, clock)
    return await attempt_views.detail(session, caller, attempt, clock)


def _path_id(raw: str) -> int | None:
    """A path id as the route will accept it, or None (the route then answers 422 itself)."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > len(str(MAX_ID)):
        return None
    value = int(raw)
    return value if 1 <= value <= MAX_ID else None


def _caller_with(load):
    """`CurrentUser` for the hot paths of taking a quiz (answer, submit), reading the attempt
    with `load` in the same query as the account check: the same checks in the same order
    (deactivated: 403 before the path and body are validated, as everywhere), one round trip
    less. The dependency answers (caller, attempt or None)."""

    async def caller_and_attempt(
        request: Request,
        principal: Annotated[Principal, Depends(current_principal)],
        session: SessionDep,
    ) -> tuple[Principal, Any]:
        attempt_id = _path_id(request.path_params.get("attempt_id", ""))
        attempt, active = None, None
        if principal.kind == "user" and attempt_id is not None:
            attempt, active = await load(session, attempt_id, principal.name)
        await ensure_active(session, principal, known=active)
        return await current_user(principal), attempt

    return caller_and_attempt


def _preloaded(attempt: Any):
    """An attempt loader (attempt_access) answering the attempt the dependency read."""

    async def read(_session: AsyncSession, _attempt_id: int) -> Any:
        return attempt

    return read


Saver = Annotated[
    tuple[Principal, attempts.AttemptRef | None],
    Depends(_caller_with(attempts.load_attempt_ref_and_caller)),
]
Submitter = Annotated[
    tuple[Principal, Any], Depends(_caller_with(attempts.load_attempt_and_caller))
]


@router.put(
    "/attempts/{attempt_id}/answers/{question_id}",
    response_model=AnswerOut,
    responses={
        **USER_ROUTE_ERRORS,
        403: error_doc("Not the attempt's own student"),
        404: error_doc("No such attempt (visible to the caller), or the question is not in it"),
        409: error_doc("Already submitted (`attempt_closed`) or out of time (`attempt_expired`)"),
        422: error_doc("Options not of this question, or several for a SINGLE question"),
    },
)
async def save_answer(
    saver: Saver,
    session: SessionDep,
    request: Request,
    attempt_id: AttemptId,
    question_id: QuestionId,
    body: AnswerIn,
) -> Any:
    """Save the answer to one question (autosave: the same answer twice changes nothing)."""
    clock = _request_clock(request)
    caller, loaded = saver  # read with the account check, in this transaction
    attempt = await own_attempt(session, caller, attempt_id, _preloaded(loaded))
    try:
        answer = await attempts.save_answer(session, attempt, question_id, body.option_ids, clock)
    except attempts.AttemptExpired:
        # The grading of the expired attempt is kept: commit it, then let the error answer
        # (the request's transaction is over, so its rollback on the error undoes nothing).
        await session.commit()
        raise
    return AnswerOut(
        attempt_id=attempt.id,
        question_id=question_id,
        selected_option_ids=list(answer.selected_option_ids),
        answered_at=answer.answered_at,
        changed_count=answer.changed_count,
        deadline_at=attempt.deadline_at,
    )


@router.post(
    "/attempts/{attempt_id}/submit",
    response_model=AttemptDetail,
    responses={
        **USER_ROUTE_ERRORS,
        403: error_doc("Not the attempt's own student"),
        404: ATTEMPT_NOT_VISIBLE,
    },
)
async def submit_attempt(
    submitter: Submitter, session: SessionDep, request: Request, attempt_id: AttemptId
) -> AttemptDetail:
    """Submit and grade the attempt; submitting again answers the same result."""
    clock = _request_clock(request)
    caller, loaded = submitter  # read with the account check, in this transaction
    attempt = await own_attempt(session, caller, attempt_id, _preloaded(loaded))
    if attempt.status in attempts.FINAL:  # submitted before: the same answer again
        return await attempt_views.detail(session, caller, attempt, clock)
    graded = await attempts.grade(session, attempt, clock)
    if graded is None:  # a concurrent submit graded it: read it as it is now
        return await _attempt_detail(session, caller, attempt_id, clock)
    return await attempt_views.detail(session, caller, attempt, clock, answers=graded)
