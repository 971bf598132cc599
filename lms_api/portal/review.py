"""The trainer's workbench: the review queue, and reviewing one submission in the browser.

Staff only (a student gets the API's 403 for staff routes). What a trainer sees is the
service's visibility rule (their assigned students'; admins everyone's), and a review runs
the same service call as `POST /api/v1/submissions/{id}/reviews`, so a review can never land
on a version the trainer has not seen (409, with the version to read first).

A student's notebook is shown in a sandboxed iframe from its own route, rendered without
scripts, HTML outputs or anything from another site (`notebook_html`); two notebook versions
are compared cell by cell on an ordinary page where every line is escaped text
(`notebook_diff`). The start page (`staff_home`) shows the head of the same queue.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from lms_api.auth import staff_user
from lms_api.curriculum.enums import DeliverableKind
from lms_api.database import MAX_ID, SessionDep
from lms_api.errors import Conflict, FileMissing, NotFound, StaleVersion
from lms_api.portal.deliverables import EVENT_WORDS, STATE_WORDS, _number, when
from lms_api.portal.markdown import to_html
from lms_api.portal.notebook_diff import diff_notebooks
from lms_api.portal.notebook_html import NotANotebook, notebook_page
from lms_api.portal.rendering import portal_url, render
from lms_api.portal.signin import PageUser
from lms_api.principal import Principal
from lms_api.submissions import router as api
from lms_api.submissions import service
from lms_api.submissions.enums import ReviewDecision, SubmissionStatus
from lms_api.submissions.files import human_size
from lms_api.submissions.models import Submission, SubmissionVersion
from lms_api.submissions.schemas import ReviewIn

router = APIRouter()

SubmissionId = Annotated[int, Path(ge=1, le=MAX_ID, description="Submission id")]
VersionNumber = Annotated[int, Path(ge=1, le=MAX_ID, description="Version number")]
QUEUE_SIZE = 200
DONE_WORDS: dict[str, str] = {
    ReviewDecision.APPROVE: "Approved",
    ReviewDecision.REQUEST_CHANGES: "Changes requested",
}
NOTEBOOK_HEADERS = {
    # Our own CSP (the SecurityHeaders middleware only adds absent headers): no script at
    # all, a sandboxed document, and framed by the portal's own review page only.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox; "
        "frame-ancestors 'self'"
    ),
    "X-Frame-Options": "SAMEORIGIN",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def waited(since: datetime, now: datetime | None = None) -> str:
    """How long something has waited, in words: "5 min", "3 h", "2 days"."""
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    minutes = int(((now or datetime.now(UTC)) - since).total_seconds() // 60)
    if minutes < 60:
        return f"{max(minutes, 0)} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} days"


@dataclass
class ReviewForm:
    """What the trainer typed, and the problem with each field."""

    version: int = 0
    decision: str = ""
    feedback: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    problem: str = ""


# --- the queue -----------------------------------------------------------------------------
def with_handed_in(statement: Select[Any]) -> Select[Any]:
    """Each submission of `statement` with when its current version was handed in (the
    queue and a student's page show the same moment)."""
    return statement.add_columns(SubmissionVersion.created_at).join(
        SubmissionVersion,
        and_(
            SubmissionVersion.submission_id == Submission.id,
            SubmissionVersion.number == Submission.current_version,
        ),
    )


def waiting(user: Principal) -> Select[Any]:
    """Submissions waiting for the caller's review (the service's visibility rule), each with
    when its current version was handed in, the longest waiting first."""
    return (
        with_handed_in(service.list_submissions(user, status=SubmissionStatus.SUBMITTED))
        .order_by(None)
        .order_by(SubmissionVersion.created_at, Submission.id)
    )


async def queue(
    session: AsyncSession, user: Principal, size: int
) -> tuple[list[tuple[Submission, datetime]], int]:
    """The first `size` waiting submissions with when each was handed in, and how many wait."""
    statement = waiting(user)
    count = await session.scalar(
        select(func.count()).select_from(statement.order_by(None).subquery())
    )
    rows = await session.execute(statement.limit(size))
    return [(submission, handed_in) for submission, handed_in in rows], count or 0


@router.get("/review")
async def review_queue(request: Request, user: PageUser, session: SessionDep) -> Response:
    """Submissions waiting for the caller's review, the longest waiting first."""
    await staff_user(user)  # the API's refusal for staff routes
    rows, _ = await queue(session, user, QUEUE_SIZE)
    done = request.query_params.get("done")
    return render(
        request,
        "review_queue.html",
        {
            "nav": "review",
            "rows": rows,
            "waited": waited,
            "when": when,
            "queue_size": QUEUE_SIZE,
            "done": DONE_WORDS.get(done or ""),
        },
        user=user,
    )


# --- one submission ------------------------------------------------------------------------
async def _reviewable(session: AsyncSession, user: Principal, submission_id: int) -> Submission:
    await staff_user(user)  # the API's refusal for staff routes
    return await api.visible(session, user, submission_id, service.reviewable_submission)


def _is_notebook(submission: Submission, version: SubmissionVersion) -> bool:
    return bool(version.sha256) and (
        submission.deliverable.kind == DeliverableKind.NOTEBOOK
        or (version.filename or "").lower().endswith(".ipynb")
    )


async def _page(
    request: Request,
    session: AsyncSession,
    user: Principal,
    submission: Submission,
    form: ReviewForm | None = None,
    status_code: int = 200,
) -> Response:
    detail = await api.detail(session, request, submission)
    current = next((v for v in submission.versions if v.number == submission.current_version), None)
    form = form or ReviewForm()
    form.version = submission.current_version
    deliverable = submission.deliverable
    return render(
        request,
        "review_submission.html",
        {
            "nav": "review",
            "submission": submission,
            "deliverable": deliverable,
            "project": deliverable.project,
            "track": deliverable.project.track,
            "detail": detail,
            "current": current,
            "notebook": current is not None and _is_notebook(submission, current),
            "notebook_numbers": _notebook_numbers(submission),
            "reviewable": submission.status == SubmissionStatus.SUBMITTED and current,
            "state_words": STATE_WORDS[submission.status][0],
            "state_tone": STATE_WORDS[submission.status][1],
            "event_words": EVENT_WORDS,
            "to_html": to_html,
            "when": when,
            "human_size": human_size,
            "form": form,
        },
        status_code=status_code,
        user=user,
    )


@router.get("/review/{submission_id}")
async def review_page(
    request: Request, user: PageUser, session: SessionDep, submission_id: SubmissionId
) -> Response:
    """One submission to review: its versions, its history, the current version, the form."""
    submission = await _reviewable(session, user, submission_id)
    return await _page(request, session, user, submission)


def _form_errors(error: ValidationError) -> dict[str, str]:
    """The API's body rules (`ReviewIn`), in words next to the field they concern."""
    errors: dict[str, str] = {}
    for problem in error.errors():
        name = str(problem["loc"][0]) if problem["loc"] else ""
        if problem["type"] == "value_error":
            errors.setdefault(
                "feedback", "Say what to change: feedback is required when requesting changes."
            )
        elif name == "decision":
            errors.setdefault("decision", "Choose a decision: approve, or request changes.")
        elif name == "feedback" and problem["type"] == "string_too_long":
            errors.setdefault("feedback", "This is too long: at most 10,000 characters.")
        elif name == "feedback":
            errors.setdefault("feedback", "Remove the control characters (such as NUL).")
        else:
            errors.setdefault("decision", "Reload the page and review the latest version.")
    return errors


async def _already_done(
    session: AsyncSession, user: Principal, submission_id: int, body: ReviewIn
) -> bool:
    """A second click of the same review: the latest event is this very review."""
    history = await service.history_of(session, submission_id)
    if not history:
        return False
    last = history[-1]
    wanted = (
        SubmissionStatus.APPROVED
        if body.decision == ReviewDecision.APPROVE
        else SubmissionStatus.CHANGES_REQUESTED
    )
    return last.actor == user.name and last.version == body.version and last.to_status == wanted


@router.post("/review/{submission_id}")
async def post_review(
    request: Request, user: PageUser, session: SessionDep, submission_id: SubmissionId
) -> Response:
    """`POST /api/v1/submissions/{id}/reviews` from a form: 303 to the queue, or the page
    again with the problem (422 next to a field; 409 for a newer version or a done review)."""
    submission = await _reviewable(session, user, submission_id)
    data = await request.form()
    typed = ReviewForm(
        version=_number(data.get("version")),
        decision=str(data.get("decision") or ""),
        feedback=str(data.get("feedback") or ""),
    )
    try:
        body = ReviewIn(version=typed.version, decision=typed.decision, feedback=typed.feedback)
    except ValidationError as exc:
        typed.errors = _form_errors(exc)
        if 0 < typed.version != submission.current_version:
            typed.problem = _stale_words(submission.current_version)
        return await _page(request, session, user, submission, typed, 422)
    try:
        await service.review(
            session,
            submission,
            reviewer=user.name,
            version=body.version,
            decision=body.decision,
            feedback=body.feedback,
        )
    except StaleVersion:
        fresh = await service.load_submission(session, submission_id)
        assert fresh is not None
        typed.problem = _stale_words(fresh.current_version)
        return await _page(request, session, user, fresh, typed, 409)
    except Conflict as exc:
        if await _already_done(session, user, submission_id, body):
            return _reviewed(request, body.decision)
        fresh = await service.load_submission(session, submission_id)
        assert fresh is not None
        typed.problem = exc.message
        return await _page(request, session, user, fresh, typed, exc.status)
    return _reviewed(request, body.decision)


def _stale_words(current_version: int) -> str:
    return (
        "The student has handed in a new version since you opened this page; "
        f"read version {current_version} first."
    )


def _reviewed(request: Request, decision: ReviewDecision) -> RedirectResponse:
    url = portal_url(request.app.state.settings, "review")
    return RedirectResponse(f"{url}?done={decision.value}", status_code=303)


# --- the notebook, for the sandboxed iframe, and two versions compared --------------------
def _notebook_numbers(submission: Submission) -> list[int]:
    """The numbers of the versions that hold a notebook, oldest first."""
    return sorted(v.number for v in submission.versions if _is_notebook(submission, v))


async def _notebook_bytes(request: Request, submission: Submission, number: int) -> bytes:
    version = next((v for v in submission.versions if v.number == number), None)
    if version is None or not _is_notebook(submission, version):
        raise NotFound(f"Submission {submission.id} has no notebook in version {number}.")
    assert version.sha256 is not None
    path = api.file_store(request).path_of(version.sha256)
    if not path.is_file():
        raise FileMissing(
            f"The file of version {number} is missing from the upload storage; "
            "ask an admin to check APRANOVA_UPLOAD_DIR."
        )
    return await run_in_threadpool(path.read_bytes)


def _not_a_notebook(submission: Submission, number: int) -> NotFound:
    return NotFound(f"Version {number} of submission {submission.id} is not a notebook.")


@router.get("/review/{submission_id}/versions/{number}/notebook")
async def notebook(
    request: Request,
    user: PageUser,
    session: SessionDep,
    submission_id: SubmissionId,
    number: VersionNumber,
) -> Response:
    """A notebook version as a standalone page with no script, for `<iframe sandbox="">`."""
    submission = await _reviewable(session, user, submission_id)
    raw = await _notebook_bytes(request, submission, number)
    try:
        page = await run_in_threadpool(notebook_page, raw)
    except NotANotebook as exc:
        raise _not_a_notebook(submission, number) from exc
    return HTMLResponse(page, headers=NOTEBOOK_HEADERS)


FromVersion = Annotated[
    int | None, Query(alias="from", ge=1, le=MAX_ID, description="The older version")
]
ToVersion = Annotated[int | None, Query(ge=1, le=MAX_ID, description="The newer version")]


@router.get("/review/{submission_id}/diff")
async def notebook_diff(
    request: Request,
    user: PageUser,
    session: SessionDep,
    submission_id: SubmissionId,
    from_version: FromVersion = None,
    to: ToVersion = None,
) -> Response:
    """Two notebook versions compared cell by cell (by default the previous and the latest),
    as an ordinary page: every line of the student's is escaped text."""
    submission = await _reviewable(session, user, submission_id)
    numbers = _notebook_numbers(submission)
    if not numbers:
        raise NotFound(f"Submission {submission_id} has no notebook to compare.")
    to = to or numbers[-1]
    if from_version is None:
        from_version = next((n for n in reversed(numbers) if n < to), to)
    for number in (from_version, to):
        if number not in numbers:
            raise NotFound(f"Submission {submission_id} has no notebook in version {number}.")
    compared = None
    if from_version != to:
        old = await _notebook_bytes(request, submission, from_version)
        new = await _notebook_bytes(request, submission, to)
        try:
            compared = await run_in_threadpool(diff_notebooks, old, new)
        except NotANotebook as exc:
            raise NotFound(
                f"Version {from_version} or {to} of submission {submission_id} is not a notebook."
            ) from exc
    deliverable = submission.deliverable
    return render(
        request,
        "review_diff.html",
        {
            "nav": "review",
            "submission": submission,
            "deliverable": deliverable,
            "numbers": numbers,
            "from_version": from_version,
            "to_version": to,
            "diff": compared,
        },
        user=user,
    )
