"""Portal pages: a quiz's intro, taking an attempt (autosave, one page or one question at a
time, the server's countdown), the unanswered-questions check on submit, and the result.

Each route makes the same calls, in the same order and with the same request clock, as the
API's quiz routes (lms_api/quizzes/router.py): quiz_for, start_attempt, save_answer, finish,
visible/own_attempt and attempt_views.detail. Keys show only as detail() gives them (the
reveal policy of attempt_access), so a page can never show more than the API.
"""

import json
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from lms_api.database import MAX_ID, SessionDep
from lms_api.errors import (
    AttemptClosed,
    DomainError,
    InvalidInput,
    NoAttemptsLeft,
    NotEnrolledInTrack,
    QuizNotPublished,
    error_body,
)
from lms_api.portal.rendering import portal_url, render
from lms_api.portal.signin import PageUser
from lms_api.principal import STAFF_ROLES, Principal
from lms_api.quizzes import attempt_views, attempts, service
from lms_api.quizzes.attempt_access import REVEAL_NOTES, own_attempt, visible_attempt
from lms_api.quizzes.content import RevealPolicy
from lms_api.quizzes.enums import AttemptStatus
from lms_api.quizzes.models import QuizAttempt
from lms_api.quizzes.presenters import my_record, quiz_summary
from lms_api.quizzes.schemas import AnswerIn, AttemptDetail
from lms_api.timestamps import as_utc

router = APIRouter()

QuizId = Annotated[int, Path(ge=1, le=MAX_ID)]
AttemptId = Annotated[int, Path(ge=1, le=MAX_ID)]
QuestionId = Annotated[int, Path(ge=1, le=MAX_ID)]
Position = Annotated[int, Query(ge=1, le=1000)]
STATUS_WORDS = {
    AttemptStatus.IN_PROGRESS: ("In progress", "info"),
    AttemptStatus.SUBMITTED: ("Submitted", "success"),
    AttemptStatus.EXPIRED: ("Time ran out", "warning"),
}
SUBMITTED_BEFORE = "This attempt is already submitted; answers can no longer change."
TIME_UP = "Time is up: the attempt was graded as it stood; this answer was not saved."


# --- helpers -------------------------------------------------------------------------------
def _clock(request: Request) -> attempts.Clock:
    """The API's request clock (now, plus the settings' deadline grace)."""
    return attempts.request_clock(request.app.state.settings.quiz_time_grace_seconds)


def when(moment: datetime | None) -> str:
    return "—" if moment is None else as_utc(moment).strftime("%d %b %Y, %H:%M UTC")


def duration(seconds: float | None) -> str:
    """Seconds as words: "14 min 5 s"; whole minutes for limits."""
    if seconds is None:
        return "no time limit"
    seconds = int(seconds)
    minutes, rest = divmod(seconds, 60)
    if not minutes:
        return f"{rest} s"
    return f"{minutes} min" + (f" {rest} s" if rest else "")


def _see_other(request: Request, path: str, **query: Any) -> RedirectResponse:
    url = portal_url(request.app.state.settings, path)
    query = {k: v for k, v in query.items() if v is not None}
    return RedirectResponse(url + ("?" + urlencode(query) if query else ""), status_code=303)


def _refused(
    request: Request, user: Principal, error: DomainError, quiz_id: int | None = None
) -> Response:
    """A quiz refusal in words, with the way on (the catalog, the quiz, the course)."""
    message = error.message
    if isinstance(error, NotEnrolledInTrack):
        track = (error.details or {}).get("track", "?")
        message = (
            f"This quiz belongs to the {track} track, which you are not enrolled in (or your "
            "enrollment is not active). Enroll in the track to take it."
        )
    return render(
        request,
        "quiz_refused.html",
        {"message": message, "code": error.code, "quiz_id": quiz_id, "nav": "course"},
        status_code=error.status,
        user=user,
    )


async def _detail(
    session: AsyncSession, user: Principal, attempt_id: int, clock: attempts.Clock
) -> tuple[QuizAttempt, AttemptDetail]:
    """The attempt as it is now (reloaded after a change) and the API's view of it."""
    attempt = await attempts.load_attempt(session, attempt_id)
    assert attempt is not None
    return attempt, await attempt_views.detail(session, user, attempt, clock)


# --- the quiz's intro ----------------------------------------------------------------------
@router.get("/quizzes/{quiz_id}")
async def quiz_intro(
    user: PageUser, session: SessionDep, request: Request, quiz_id: QuizId
) -> Response:
    """The quiz, the student's record and past attempts, and Start (or Resume)."""
    try:
        quiz = await service.quiz_for(session, user, quiz_id)
    except NotEnrolledInTrack as exc:
        return _refused(request, user, exc, quiz_id)
    staff = user.role in STAFF_ROLES
    mine, past = None, []
    if not staff:
        person_id = await session.scalar(service.person_id_of(user.name))
        finished = 0
        if person_id is not None:
            finished = await attempts.expire_overdue(
                session, _clock(request), person_id=person_id, quiz_id=quiz.id
            )
        if finished:
            # Grading reloaded the quiz row without its track and questions, and changed the
            # attempts by UPDATE: read the quiz again (the attempts below, too).
            quiz = await service.quiz_for(session, user, quiz_id)
        past = (await service.attempts_by_quiz(session, user.name, [quiz.id]))[quiz.id]
        if finished:
            for attempt in past:
                await session.refresh(attempt)
        mine = my_record(quiz, past)
    return render(
        request,
        "quiz_intro.html",
        {
            "quiz": quiz_summary(quiz, mine),
            "mine": mine,
            "past": list(reversed(past)),
            "staff": staff,
            "reveal_note": REVEAL_NOTES[RevealPolicy(quiz.reveal_policy)],
            "status_words": STATUS_WORDS,
            "when": when,
            "duration": duration,
            "nav": "course",
        },
        user=user,
    )


@router.post("/quizzes/{quiz_id}/start")
async def start_quiz(
    user: PageUser, session: SessionDep, request: Request, quiz_id: QuizId
) -> Response:
    """Start an attempt, or go to the one in progress (a double click starts one)."""
    clock = _clock(request)
    try:
        quiz = await service.quiz_for(session, user, quiz_id, questions=False)
        attempt_id, _new = await attempts.start_attempt(session, user, quiz, clock)
    except (NoAttemptsLeft, QuizNotPublished, NotEnrolledInTrack) as exc:
        return _refused(request, user, exc, quiz_id)
    return _see_other(request, f"attempts/{attempt_id}")


# --- taking --------------------------------------------------------------------------------
@router.get("/attempts/{attempt_id}")
async def take_attempt(
    user: PageUser,
    session: SessionDep,
    request: Request,
    attempt_id: AttemptId,
    one: Annotated[bool, Query()] = False,
    q: Position = 1,
    saved: Annotated[bool, Query()] = False,
) -> Response:
    """The questions with the saved answers; a finished (or overdue) attempt goes to its
    result, as the API's read grades an overdue one."""
    clock = _clock(request)
    attempt = await attempts.graded_if_overdue(
        session, await own_attempt(session, user, attempt_id), clock
    )
    if attempt.status in attempts.FINAL:
        return _see_other(request, f"attempts/{attempt_id}/result")
    view = await attempt_views.detail(session, user, attempt, clock)
    return _take_page(request, user, view, one=one, q=q, saved=saved)


def _take_page(
    request: Request,
    user: Principal,
    view: AttemptDetail,
    *,
    one: bool,
    q: int,
    saved: bool = False,
    errors: dict[int, str] | None = None,
    status_code: int = 200,
) -> Response:
    total = len(view.questions)
    q = min(max(q, 1), max(total, 1))
    shown = view.questions[q - 1 : q] if one else view.questions
    return render(
        request,
        "quiz_take.html",
        {
            "attempt": view,
            "shown": shown,
            "one": one,
            "q": q,
            "total": total,
            "answered": sum(1 for question in view.questions if question.selected_option_ids),
            "saved": saved,
            "errors": errors or {},
            "deadline": as_utc(view.deadline_at).isoformat() if view.deadline_at else "",
            "when": when,
            "duration": duration,
            "nav": "course",
        },
        status_code=status_code,
        user=user,
    )


def _form_choices(form: Any) -> dict[int, list[int]]:
    """The choices of the questions shown on the posted page (`shown`: their ids), so a
    checkbox question left empty clears its answer and one not shown is not touched."""
    choices: dict[int, list[int]] = {}
    for raw in form.getlist("shown"):
        if not str(raw).isdigit():
            raise InvalidInput("The form is damaged (question ids); reload the page.")
        question_id = int(raw)
        values = form.getlist(f"answer-{question_id}")
        if not all(str(v).isdigit() and int(v) <= MAX_ID for v in values):
            raise InvalidInput("The form is damaged (option ids); reload the page.")
        choices[question_id] = [int(v) for v in values]
    return choices


async def _save_all(
    session: AsyncSession,
    attempt: QuizAttempt,
    choices: dict[int, list[int]],
    clock: attempts.Clock,
) -> dict[int, str]:
    """Save each posted answer with the API's save; per-question refusals are returned (an
    expired or closed attempt raises). An empty choice never saved before stays unsaved, and
    a choice stored as posted is left as it is."""
    stored = await attempts.answers_of(session, attempt.id)
    errors: dict[int, str] = {}
    for question_id, option_ids in choices.items():
        if not option_ids and question_id not in stored:
            continue
        saved = stored.get(question_id)
        if saved is not None and sorted(saved.selected_option_ids) == sorted(option_ids):
            continue  # autosave stored it already: re-saving would lock the row for nothing
        try:
            await attempts.save_answer(session, attempt, question_id, option_ids, clock)
        except InvalidInput as exc:  # raised before anything was written
            errors[question_id] = exc.message
    return errors


def _time_up(request: Request, user: Principal, attempt: QuizAttempt) -> Response:
    """The deadline passed: the answer was refused and the attempt graded as it stood."""
    return render(
        request,
        "quiz_time_up.html",
        {"attempt_id": attempt.id, "deadline": when(attempt.deadline_at), "nav": "course"},
        status_code=409,
        user=user,
    )


@router.post("/attempts/{attempt_id}/save")
async def save_answers(
    user: PageUser, session: SessionDep, request: Request, attempt_id: AttemptId
) -> Response:
    """Without JavaScript: save every answer of the posted page, then show the page again
    (Previous/Next in one-question mode save too, then move)."""
    clock = _clock(request)
    form = await request.form()
    one = form.get("one") == "1"
    goto = str(form.get("goto") or form.get("q") or "1")
    q = int(goto) if goto.isdigit() else 1
    attempt = await own_attempt(session, user, attempt_id)
    if attempt.status == AttemptStatus.EXPIRED:
        return _time_up(request, user, attempt)
    if attempt.status in attempts.FINAL:
        return _see_other(request, f"attempts/{attempt_id}/result")
    try:
        errors = await _save_all(session, attempt, _form_choices(form), clock)
    except attempts.AttemptExpired:
        return _time_up(request, user, attempt)
    except AttemptClosed:  # a concurrent submit graded it
        return _see_other(request, f"attempts/{attempt_id}/result")
    if errors:
        _, view = await _detail(session, user, attempt_id, clock)
        return _take_page(request, user, view, one=one, q=q, errors=errors, status_code=422)
    return _see_other(
        request, f"attempts/{attempt_id}", one=1 if one else None, q=q if one else None, saved=1
    )


async def _posted_option_ids(request: Request) -> list[int]:
    """`option_ids` from a JSON body ({"option_ids": [..]}) or form fields, checked as the
    API's AnswerIn."""
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError as exc:
            raise InvalidInput("The answer is not valid JSON.") from exc
    else:
        body = {"option_ids": (await request.form()).getlist("option_ids")}
    try:
        return AnswerIn.model_validate(body).option_ids
    except ValidationError as exc:
        raise InvalidInput("The answer is not a list of option ids.") from exc


@router.post("/attempts/{attempt_id}/answers/{question_id}")
async def autosave_answer(
    user: PageUser,
    session: SessionDep,
    request: Request,
    attempt_id: AttemptId,
    question_id: QuestionId,
) -> Response:
    """quiz.js's autosave of one question (JSON in and out): the API's PUT, as a form post.
    Refusals answer the API's error body, which quiz.js shows as "Not saved: <reason>"."""
    clock = _clock(request)
    try:
        option_ids = await _posted_option_ids(request)
        attempt = await own_attempt(session, user, attempt_id, attempts.load_attempt_ref)
        answer = await attempts.save_answer(session, attempt, question_id, option_ids, clock)
    except attempts.AttemptExpired as exc:  # graded as it stood: kept (committed on return)
        return JSONResponse(error_body(exc.code, TIME_UP), status_code=exc.status)
    except AttemptClosed as exc:
        expired = attempt.status == AttemptStatus.EXPIRED  # as loaded, before the save
        message = TIME_UP if expired else SUBMITTED_BEFORE
        return JSONResponse(error_body(exc.code, message), status_code=exc.status)
    except DomainError as exc:  # raised before anything was written
        return JSONResponse(error_body(exc.code, exc.message), status_code=exc.status)
    return JSONResponse(
        {
            "attempt_id": attempt.id,
            "question_id": question_id,
            "selected_option_ids": list(answer.selected_option_ids),
            "answered_at": as_utc(answer.answered_at).isoformat(),
            "deadline_at": as_utc(attempt.deadline_at).isoformat() if attempt.deadline_at else None,
        },
        headers={"Cache-Control": "no-store"},
    )


@router.post("/attempts/{attempt_id}/submit")
async def submit_attempt(
    user: PageUser, session: SessionDep, request: Request, attempt_id: AttemptId
) -> Response:
    """Save what the page posted, name the unanswered questions unless `confirm=1`, then
    grade with the API's finish. Submitting again just shows the result."""
    clock = _clock(request)
    form = await request.form()
    attempt = await own_attempt(session, user, attempt_id)
    if attempt.status in attempts.FINAL:  # submitted before: the same result again
        return _see_other(request, f"attempts/{attempt_id}/result")
    try:
        errors = await _save_all(session, attempt, _form_choices(form), clock)
    except (attempts.AttemptExpired, AttemptClosed):  # graded already: see the result
        return _see_other(request, f"attempts/{attempt_id}/result")
    if errors:
        _, view = await _detail(session, user, attempt_id, clock)
        return _take_page(request, user, view, one=False, q=1, errors=errors, status_code=422)
    if form.get("confirm") != "1" and not clock.overdue(attempt):
        view = await attempt_views.detail(session, user, attempt, clock)
        unanswered = [question for question in view.questions if not question.selected_option_ids]
        if unanswered:
            return render(
                request,
                "quiz_confirm.html",
                {"attempt": view, "unanswered": unanswered, "nav": "course"},
                user=user,
            )
    await attempts.finish(session, attempt, clock)  # or a concurrent submit graded it
    return _see_other(request, f"attempts/{attempt_id}/result")


# --- the result ----------------------------------------------------------------------------
@router.get("/attempts/{attempt_id}/result")
async def attempt_result(
    user: PageUser, session: SessionDep, request: Request, attempt_id: AttemptId
) -> Response:
    """Score, and per question what detail() reveals under the quiz's reveal policy."""
    clock = _clock(request)
    attempt = await attempts.graded_if_overdue(
        session, await visible_attempt(session, user, attempt_id), clock
    )
    view = await attempt_views.detail(session, user, attempt, clock)
    if view.status == AttemptStatus.IN_PROGRESS and attempt.person.username == user.name:
        return _see_other(request, f"attempts/{attempt_id}")
    return render(
        request,
        "quiz_result.html",
        {
            "attempt": view,
            "status_words": STATUS_WORDS,
            "when": when,
            "nav": "course",
        },
        user=user,
    )
