"""The trainer's quiz pages: their quizzes, writing and editing a draft in a form, importing a
file, having Gemini write one, previewing it as a student sees it, publishing, archiving, and
its results.

Staff only (the API's staff refusal for students). Every change is the API's service call
(quizzes.service, transfer, generation_runs), checked with the API's schemas (QuizIn,
QuizPatch, GenerateQuizIn) and refused as the API refuses: a trainer changes only the quizzes
they wrote (`check_may_edit`), and only drafts.
"""

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from lms_api.access import visible_records
from lms_api.auth import staff_user
from lms_api.curriculum.models import Project
from lms_api.curriculum.service import tracks_query
from lms_api.database import MAX_ID, SessionDep
from lms_api.errors import InvalidInput, QuizEmpty, QuizNotDraft, TooLarge
from lms_api.people.models import Person
from lms_api.portal.quiz_authoring_form import (
    REVEAL_WORDS,
    SCORING_WORDS,
    QuizForm,
    field_name,
    read_form,
    words,
)
from lms_api.portal.quizzes import duration, when
from lms_api.portal.rendering import portal_url, render
from lms_api.portal.signin import PageUser
from lms_api.principal import ADMIN_ROLES, Principal
from lms_api.quizzes import attempt_views, attempts, generation_runs, service, transfer
from lms_api.quizzes.attempt_access import REVEAL_NOTES
from lms_api.quizzes.content import GenerateQuizIn, GenerationType, QuestionType, QuizStatus
from lms_api.quizzes.models import AttemptStatus, Quiz, QuizAttempt, QuizGeneration
from lms_api.quizzes.schemas import (
    AttemptDetail,
    AttemptOption,
    AttemptQuestion,
    QuizDocument,
    QuizIn,
    QuizPatch,
)
from lms_api.timestamps import as_utc, utcnow

router = APIRouter()

QuizId = Annotated[int, Path(ge=1, le=MAX_ID, description="Quiz id")]
BASE = "manage/quizzes"
REPEAT_WINDOW = timedelta(minutes=1)  # a second click of the same form lands on the first quiz
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


# --- helpers -------------------------------------------------------------------------------
def _see_other(request: Request, path: str = "", done: str | None = None) -> RedirectResponse:
    url = portal_url(request.app.state.settings, f"{BASE}/{path}".rstrip("/"))
    return RedirectResponse(url + (f"?done={done}" if done else ""), status_code=303)


def _done(request: Request) -> str | None:
    return DONE_WORDS.get(request.query_params.get("done") or "")


async def _quiz(session: AsyncSession, user: Principal, quiz_id: int) -> Quiz:
    await staff_user(user)  # the API's refusal for staff routes
    return await service.quiz_for(session, user, quiz_id)


async def _editable(session: AsyncSession, user: Principal, quiz_id: int) -> Quiz:
    quiz = await _quiz(session, user, quiz_id)
    service.check_may_edit(user, quiz)
    return quiz


async def _links(session: AsyncSession) -> dict[str, Any]:
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


async def _same_recent_quiz(session: AsyncSession, author: str, body: QuizIn) -> int | None:
    """A quiz this author saved within the last minute with exactly this content: the same
    form sent twice (a double click) lands on the first one instead of making a copy."""
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


# --- my quizzes ----------------------------------------------------------------------------
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
    return render(
        request,
        "authoring_list.html",
        {
            "nav": "quizzes",
            "groups": groups,
            "counts": counts,
            "admin": admin,
            "status_words": STATUS_WORDS,
            "when": when,
            "done": _done(request),
        },
        user=user,
    )


# --- writing by hand -----------------------------------------------------------------------
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
            **await _links(session),
        },
        status_code=status_code,
        user=user,
    )


@router.get("/manage/quizzes/new")
async def new_quiz(request: Request, user: PageUser, session: SessionDep) -> Response:
    """An empty draft to fill in."""
    await staff_user(user)
    return await _form_page(request, session, user, QuizForm())


async def _typed(request: Request) -> tuple[QuizForm, str]:
    data = await request.form()
    action = data.get("action")
    return read_form(data), action if isinstance(action, str) else "save"


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


@router.post("/manage/quizzes/new")
async def create_quiz(request: Request, user: PageUser, session: SessionDep) -> Response:
    """`POST /api/v1/quizzes` from the form; Add/Remove buttons re-render it unsaved."""
    await staff_user(user)
    form, action = await _typed(request)
    if form.apply(action):
        return await _form_page(request, session, user, form)
    body = _checked(form, QuizIn)
    if body is None:
        return await _form_page(request, session, user, form, status_code=422)
    repeated = await _same_recent_quiz(session, user.name, body)
    if repeated is not None:
        return _see_other(request, str(repeated), "created")
    try:
        async with session.begin_nested():  # a refusal leaves nothing behind
            quiz_id = await service.create_quiz(session, body, author=user.name, via="portal")
    except InvalidInput as exc:
        form.service_error(exc)
        return await _form_page(request, session, user, form, status_code=422)
    return _see_other(request, str(quiz_id), "created")


@router.get("/manage/quizzes/{quiz_id}/edit")
async def edit_quiz(
    request: Request, user: PageUser, session: SessionDep, quiz_id: QuizId
) -> Response:
    """The draft in the form; a published or archived quiz is refused in words (409)."""
    quiz = await _editable(session, user, quiz_id)
    service.check_draft(quiz, "changed")
    return await _form_page(request, session, user, QuizForm.from_quiz(quiz), quiz)


@router.post("/manage/quizzes/{quiz_id}/edit")
async def save_quiz(
    request: Request, user: PageUser, session: SessionDep, quiz_id: QuizId
) -> Response:
    """`PATCH /api/v1/quizzes/{id}` with every field (the questions replace the old ones)."""
    quiz = await _editable(session, user, quiz_id)
    service.check_draft(quiz, "changed")
    form, action = await _typed(request)
    if form.apply(action):
        return await _form_page(request, session, user, form, quiz)
    patch = _checked(form, QuizPatch)
    if patch is None:
        return await _form_page(request, session, user, form, quiz, 422)
    try:
        async with session.begin_nested():  # a refusal undoes the fields already set
            await service.update_quiz(session, quiz, patch, user.name)
    except InvalidInput as exc:
        form.service_error(exc)
        quiz = await _editable(session, user, quiz_id)
        return await _form_page(request, session, user, form, quiz, 422)
    return _see_other(request, str(quiz_id), "saved")


# --- importing a file ----------------------------------------------------------------------
@router.get("/manage/quizzes/import")
async def import_page(request: Request, user: PageUser) -> Response:
    """The upload form for a quiz file (JSON or YAML, as Export writes it)."""
    await staff_user(user)
    return _import_form(request, user, {})


def _import_form(
    request: Request, user: Principal, errors: dict[str, str], status_code: int = 200
) -> Response:
    return render(
        request,
        "authoring_import.html",
        {"nav": "quizzes", "errors": errors, "max_bytes": transfer.MAX_DOCUMENT_BYTES},
        status_code=status_code,
        user=user,
    )


@router.post("/manage/quizzes/import")
async def import_quiz(request: Request, user: PageUser, session: SessionDep) -> Response:
    """`POST /api/v1/quizzes/import` from an uploaded JSON or YAML file: a new draft."""
    await staff_user(user)
    upload = (await request.form()).get("file")
    name = getattr(upload, "filename", "") or ""
    if upload is None or isinstance(upload, str) or not name:
        return _import_form(request, user, {"file": "Choose a .json or .yaml file."}, 422)
    kind = name.lower().rsplit(".", 1)[-1]
    if kind not in ("json", "yaml", "yml"):
        return _import_form(
            request, user, {"file": "Choose a .json, .yaml or .yml file (a quiz export)."}, 422
        )
    raw = await upload.read(transfer.MAX_DOCUMENT_BYTES + 1)
    try:
        document = transfer.parse(raw, "application/yaml" if kind != "json" else "application/json")
    except TooLarge:
        limit = transfer.MAX_DOCUMENT_BYTES // (1024 * 1024)
        return _import_form(
            request, user, {"file": f"The file is too large: {limit} MiB at most."}, 413
        )
    except InvalidInput as exc:
        return _import_form(request, user, {"file": _file_problem(exc)}, 422)
    repeated = await _same_recent_quiz(session, user.name, document)
    if repeated is not None:
        return _see_other(request, str(repeated), "imported")
    try:
        async with session.begin_nested():
            quiz_id = await service.create_quiz(session, document, author=user.name, via="import")
    except InvalidInput as exc:
        return _import_form(request, user, {"file": exc.message}, 422)
    return _see_other(request, str(quiz_id), "imported")


def _file_problem(error: InvalidInput) -> str:
    """transfer.parse's refusal, with each field's problem in the form's words."""
    details = error.details if isinstance(error.details, list) else []
    named = [d for d in details if str(d.get("field", "")).startswith("body.")]
    if not named:
        return error.message
    lines = []
    for detail in named[:5]:
        where = str(detail["field"]).removeprefix("body.")
        lines.append(f"{where}: {detail['message']}")
    return "This is not a valid quiz file. " + "; ".join(lines) + "."


# --- Gemini --------------------------------------------------------------------------------
def _generate_page(
    request: Request,
    user: Principal,
    typed: dict[str, str],
    links: dict[str, Any],
    errors: dict[str, str] | None = None,
    problem: str = "",
    status_code: int = 200,
) -> Response:
    settings = request.app.state.settings
    return render(
        request,
        "authoring_generate.html",
        {
            "nav": "quizzes",
            "typed": typed,
            "errors": errors or {},
            "problem": problem,
            "configured": bool(settings.gemini_api_key),
            "per_hour": settings.quiz_generations_per_hour,
            **links,
        },
        status_code=status_code,
        user=user,
    )


GENERATE_DEFAULTS = {"num_questions": "10", "multiple_count": "0"}
GENERATE_FIELDS = ("title", "prompt", "num_questions", "multiple_count", "track", "project_id")


@router.get("/manage/quizzes/generate")
async def generate_page(request: Request, user: PageUser, session: SessionDep) -> Response:
    """The Gemini form (it says so when no key is configured)."""
    await staff_user(user)
    return _generate_page(request, user, dict(GENERATE_DEFAULTS), await _links(session))


async def _running_generation(session: AsyncSession, request: Request, user: Principal) -> bool:
    """A generation of this trainer still running (the same form sent twice): Gemini is asked
    once; the draft appears in their quizzes when it is done."""
    settings = request.app.state.settings
    longest = settings.gemini_timeout_seconds * max(settings.gemini_max_attempts, 1) + 30
    found = await session.scalar(
        select(QuizGeneration.id).where(
            QuizGeneration.requested_by == user.name,
            QuizGeneration.status == "running",
            QuizGeneration.created_at >= utcnow() - timedelta(seconds=longest),
        )
    )
    return found is not None


@router.post("/manage/quizzes/generate")
async def generate_quiz(request: Request, user: PageUser, session: SessionDep) -> Response:
    """`POST /api/v1/quizzes/generate` from the form: the draft's page, or the form again
    with what was typed and the problem in words."""
    await staff_user(user)
    data = await request.form()
    typed = {name: str(data.get(name) or "") for name in GENERATE_FIELDS}
    typed["web_search"] = "1" if data.get("web_search") else ""
    links = await _links(session)
    body_in = {
        "title": typed["title"],
        "prompt": typed["prompt"],
        "num_questions": typed["num_questions"] or "10",
        "multiple_count": typed["multiple_count"] or "0",
        "generation_type": GenerationType.WEB_SEARCH
        if typed["web_search"]
        else GenerationType.PROMPT,
        "track": typed["track"] or None,
        "project_id": typed["project_id"] or None,
    }
    try:
        body = GenerateQuizIn.model_validate(body_in)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for problem in exc.errors():
            name = field_name(problem["loc"]) if problem["loc"] else "multiple_count"
            name = "web_search" if name == "generation_type" else name
            errors.setdefault(name, words(problem, name))
        return _generate_page(request, user, typed, links, errors, status_code=422)
    if await _running_generation(session, request, user):
        problem = (
            "Gemini is still writing the quiz you asked for a moment ago; it appears in your "
            "quizzes when it is done. Nothing new was asked."
        )
        return _generate_page(request, user, typed, links, problem=problem, status_code=409)
    try:
        generated = await generation_runs.generate_draft(
            session, request.app.state.database.sessionmaker, request.app.state.settings, user, body
        )
    except InvalidInput as exc:
        errors = {}
        for detail in exc.details if isinstance(exc.details, list) else []:
            errors[str(detail.get("field", "")).removeprefix("body.")] = exc.message
        return _generate_page(
            request, user, typed, links, errors, "" if errors else exc.message, 422
        )
    except generation_runs.GenerationOff:
        problem = (
            "Quiz generation is not set up on this server: an administrator has to give the "
            "LMS a Gemini API key (APRANOVA_GEMINI_API_KEY) and restart it. You can still "
            "write a quiz by hand or import a file."
        )
        return _generate_page(request, user, typed, links, problem=problem, status_code=503)
    except generation_runs.GenerationQuotaExceeded as exc:
        retry = int((exc.details or {}).get("retry_after_seconds", 3600))
        problem = (
            f"You have asked Gemini for {(exc.details or {}).get('limit')} quizzes in the last "
            f"hour, the most allowed. Try again in {duration(retry)}."
        )
        return _generate_page(request, user, typed, links, problem=problem, status_code=429)
    except generation_runs.GenerationUnavailable as exc:
        problem = f"{exc.message} Nothing was saved; you can try again."
        return _generate_page(request, user, typed, links, problem=problem, status_code=502)
    return _see_other(request, str(generated.id), "generated")


# --- one quiz ------------------------------------------------------------------------------
@router.get("/manage/quizzes/{quiz_id}")
async def quiz_page(
    request: Request, user: PageUser, session: SessionDep, quiz_id: QuizId
) -> Response:
    """Its settings, questions with their keys, status and what can be done with it."""
    quiz = await _quiz(session, user, quiz_id)
    return _quiz_page(request, user, quiz)


def _quiz_page(
    request: Request, user: Principal, quiz: Quiz, problem: str = "", status_code: int = 200
) -> Response:
    may_edit = user.role in ADMIN_ROLES or quiz.created_by == user.name
    return render(
        request,
        "authoring_quiz.html",
        {
            "nav": "quizzes",
            "quiz": quiz,
            "may_edit": may_edit,
            "status_words": STATUS_WORDS,
            "reveal_words": REVEAL_WORDS,
            "scoring_words": SCORING_WORDS,
            "duration": duration,
            "when": when,
            "done": _done(request),
            "problem": problem,
        },
        status_code=status_code,
        user=user,
    )


@router.post("/manage/quizzes/{quiz_id}/publish")
async def publish_quiz(
    request: Request, user: PageUser, session: SessionDep, quiz_id: QuizId
) -> Response:
    """`POST /api/v1/quizzes/{id}/publish`; publishing it again just shows it published."""
    quiz = await _editable(session, user, quiz_id)
    if quiz.status == QuizStatus.PUBLISHED:
        return _see_other(request, str(quiz_id), "published")
    try:
        await service.publish_quiz(session, quiz, user.name)
    except (QuizNotDraft, QuizEmpty) as exc:  # archived, or no questions yet
        return _quiz_page(request, user, quiz, exc.message, exc.status)
    return _see_other(request, str(quiz_id), "published")


@router.get("/manage/quizzes/{quiz_id}/archive")
async def archive_confirm(
    request: Request, user: PageUser, session: SessionDep, quiz_id: QuizId
) -> Response:
    """Are you sure? (students can no longer start it)."""
    quiz = await _editable(session, user, quiz_id)
    return render(
        request,
        "authoring_confirm.html",
        {"nav": "quizzes", "quiz": quiz, "doing": "archive"},
        user=user,
    )


@router.post("/manage/quizzes/{quiz_id}/archive")
async def archive_quiz(
    request: Request, user: PageUser, session: SessionDep, quiz_id: QuizId
) -> Response:
    """`POST /api/v1/quizzes/{id}/archive` (archiving twice changes nothing)."""
    quiz = await _editable(session, user, quiz_id)
    await service.archive_quiz(session, quiz, user.name)
    return _see_other(request, str(quiz_id), "archived")


@router.get("/manage/quizzes/{quiz_id}/delete")
async def delete_confirm(
    request: Request, user: PageUser, session: SessionDep, quiz_id: QuizId
) -> Response:
    """Are you sure? (deleting is for good)."""
    quiz = await _editable(session, user, quiz_id)
    return render(
        request,
        "authoring_confirm.html",
        {"nav": "quizzes", "quiz": quiz, "doing": "delete"},
        user=user,
    )


@router.post("/manage/quizzes/{quiz_id}/delete")
async def delete_quiz(
    request: Request, user: PageUser, session: SessionDep, quiz_id: QuizId
) -> Response:
    """`DELETE /api/v1/quizzes/{id}`: a quiz nobody attempted (archive the others)."""
    await staff_user(user)
    quiz = await service.load_quiz(session, quiz_id)
    if quiz is None:  # deleted by the first click
        return _see_other(request, "", "deleted")
    service.check_may_edit(user, quiz)
    await service.delete_quiz(session, quiz, user.name)
    return _see_other(request, "", "deleted")


@router.get("/manage/quizzes/{quiz_id}/export")
async def export_quiz(
    user: PageUser,
    session: SessionDep,
    quiz_id: QuizId,
    format: Annotated[str, Query(pattern="^(json|yaml)$")] = "json",
) -> Response:
    """`GET /api/v1/quizzes/{id}/export` for the browser (the API wants a bearer token)."""
    quiz = await _quiz(session, user, quiz_id)
    return Response(
        transfer.render(transfer.to_document(quiz), format),
        media_type=f"{transfer.MEDIA_TYPES[format]}; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="quiz-{quiz.id}.{format}"',
            "Cache-Control": "private, no-store",
        },
    )


# --- preview and results -------------------------------------------------------------------
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
    quiz = await _quiz(session, user, quiz_id)
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
    quiz = await _quiz(session, user, quiz_id)
    clock = attempts.request_clock(request.app.state.settings.quiz_time_grace_seconds)
    if await attempts.expire_overdue(session, clock, quiz_id=quiz.id):
        quiz = await _quiz(session, user, quiz_id)  # grading reloaded its row
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
