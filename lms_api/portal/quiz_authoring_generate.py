"""Quizzes the trainer does not type: importing a quiz file (JSON or YAML, as Export writes
it) and having Gemini write one. Each makes a new draft through the API's service calls
(transfer, generation_runs) and checks (GenerateQuizIn); a problem is the form again with what
was typed and the problem in words.
"""

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lms_api.auth import staff_user
from lms_api.database import SessionDep
from lms_api.errors import InvalidInput, TooLarge
from lms_api.portal.quiz_authoring_form import field_name, words
from lms_api.portal.quiz_authoring_shared import create_once, links, see_other
from lms_api.portal.quizzes import duration
from lms_api.portal.rendering import render
from lms_api.portal.signin import PageUser
from lms_api.principal import Principal
from lms_api.quizzes import generation_runs, transfer
from lms_api.quizzes.content import GenerateQuizIn, GenerationType
from lms_api.quizzes.models import QuizGeneration
from lms_api.timestamps import utcnow

router = APIRouter()


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
    try:
        quiz_id = await create_once(session, user.name, document, "import")
    except InvalidInput as exc:
        return _import_form(request, user, {"file": exc.message}, 422)
    return see_other(request, str(quiz_id), "imported")


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
    lists: dict[str, Any],
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
            "configured": bool(settings.gemini_api_key.get_secret_value()),
            "per_hour": settings.quiz_generations_per_hour,
            **lists,
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
    return _generate_page(request, user, dict(GENERATE_DEFAULTS), await links(session))


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
    lists = await links(session)
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
        return _generate_page(request, user, typed, lists, errors, status_code=422)
    if await _running_generation(session, request, user):
        problem = (
            "Gemini is still writing the quiz you asked for a moment ago; it appears in your "
            "quizzes when it is done. Nothing new was asked."
        )
        return _generate_page(request, user, typed, lists, problem=problem, status_code=409)
    try:
        generated = await generation_runs.generate_draft(
            session, request.app.state.database.sessionmaker, request.app.state.settings, user, body
        )
    except InvalidInput as exc:
        errors = {}
        for detail in exc.details if isinstance(exc.details, list) else []:
            errors[str(detail.get("field", "")).removeprefix("body.")] = exc.message
        return _generate_page(
            request, user, typed, lists, errors, "" if errors else exc.message, 422
        )
    except generation_runs.GenerationOff:
        problem = (
            "Quiz generation is not set up on this server: an administrator has to give the "
            "LMS a Gemini API key (APRANOVA_GEMINI_API_KEY) and restart it. You can still "
            "write a quiz by hand or import a file."
        )
        return _generate_page(request, user, typed, lists, problem=problem, status_code=503)
    except generation_runs.GenerationQuotaExceeded as exc:
        retry = int((exc.details or {}).get("retry_after_seconds", 3600))
        problem = (
            f"You have asked Gemini for {(exc.details or {}).get('limit')} quizzes in the last "
            f"hour, the most allowed. Try again in {duration(retry)}."
        )
        return _generate_page(request, user, typed, lists, problem=problem, status_code=429)
    except generation_runs.GenerationUnavailable as exc:
        problem = f"{exc.message} Nothing was saved; you can try again."
        return _generate_page(request, user, typed, lists, problem=problem, status_code=502)
    return see_other(request, str(generated.id), "generated")
