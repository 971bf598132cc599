"""The deliverable pages: what to hand in, where its review stands, every version with the
trainer's feedback, and the hand-in form. Handing in runs the same service calls, in the same
order, as `POST /api/v1/submissions` (a link) and `POST /api/v1/submissions/upload` (a file).

A form error (bad link, wrong or corrupt file, over the limit, the same as the last version)
re-renders the form with the message next to the field and nothing saved: the submission runs
in a savepoint, so a refused one leaves no row behind. A double click acts once: the form
carries the version it was rendered at, and a second post of the same work that the service
refuses as a duplicate of a version newer than that is the first click's success.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from lms_api.curriculum import service as curriculum
from lms_api.curriculum.enums import DeliverableKind
from lms_api.curriculum.models import Deliverable, Project, ProjectStep
from lms_api.database import MAX_ID, SessionDep
from lms_api.errors import Conflict, DomainError, InvalidInput, TooLarge, UnsupportedFileType
from lms_api.portal.markdown import to_html
from lms_api.portal.rendering import portal_url, render
from lms_api.portal.signin import PageUser
from lms_api.principal import STAFF_ROLES, Principal
from lms_api.progress.service import progress_of
from lms_api.submissions import router as api
from lms_api.submissions import service
from lms_api.submissions.enums import SubmissionStatus
from lms_api.submissions.files import (
    FILE_EXTENSIONS,
    human_size,
)
from lms_api.submissions.models import Submission
from lms_api.submissions.schemas import LinkSubmissionIn, SubmissionDetail
from lms_api.types import Text

router = APIRouter()

DeliverableId = Annotated[int, Path(ge=1, le=MAX_ID, description="Deliverable id")]
SubmissionId = Annotated[int, Path(ge=1, le=MAX_ID, description="Submission id")]
VersionNumber = Annotated[int, Path(ge=1, le=MAX_ID, description="Version number")]

# The words (and Bootstrap tone) of each state; the same as on the course page.
STATE_WORDS: dict[str | None, tuple[str, str]] = {
    None: ("Not handed in", "secondary"),
    SubmissionStatus.SUBMITTED: ("Submitted, waiting for review", "info"),
    SubmissionStatus.CHANGES_REQUESTED: ("Changes requested", "warning"),
    SubmissionStatus.APPROVED: ("Approved", "success"),
}
EVENT_WORDS = {
    SubmissionStatus.SUBMITTED: "Handed in",
    SubmissionStatus.CHANGES_REQUESTED: "Changes requested",
    SubmissionStatus.APPROVED: "Approved",
}


class _FileNote(BaseModel):
    """The note of an upload, under the API's rules for its `note` form field."""

    note: Text = Field(default="", max_length=2000)


@dataclass
class DeliverableState:
    """One deliverable and where the signed-in student's work on it stands."""

    deliverable: Deliverable
    status: str | None = None
    version: int = 0

    @property
    def words(self) -> str:
        return STATE_WORDS[self.status][0]

    @property
    def tone(self) -> str:
        return STATE_WORDS[self.status][1]


@dataclass
class HandIn:
    """The hand-in form as the student left it, and the error to show next to a field."""

    url: str = ""
    note: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def _number(text: object) -> int:
    """A small whole number from a query or form value; 0 for anything else."""
    if isinstance(text, str) and text.isascii() and text.isdigit() and len(text) < 10:
        return int(text)
    return 0


def when(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def accepts(deliverable: Deliverable, max_bytes: int) -> dict[str, Any]:
    """What the deliverable takes, in words, and the file input's `accept` attribute."""
    limit = human_size(max_bytes)
    if deliverable.kind == DeliverableKind.URL:
        return {"link": True, "words": "A link to your work (an http or https address)."}
    if deliverable.kind == DeliverableKind.GITHUB_PR:
        return {
            "link": True,
            "words": "A GitHub pull request link, like https://github.com/OWNER/REPO/pull/12.",
        }
    if deliverable.kind == DeliverableKind.NOTEBOOK:
        return {
            "link": False,
            "accept": ".ipynb",
            "words": f"A Jupyter notebook (.ipynb file), at most {limit}.",
        }
    return {
        "link": False,
        "accept": ",".join(FILE_EXTENSIONS),
        "words": f"A file ({', '.join(FILE_EXTENSIONS)}), at most {limit}.",
    }


async def my_states(
    session: AsyncSession, user: Principal, deliverables: Iterable[Deliverable]
) -> list[DeliverableState]:
    """The deliverables with the student's own state (staff: no state, they hand in nothing)."""
    rows = [DeliverableState(d) for d in deliverables]
    if user.role in STAFF_ROLES or not rows:
        return rows
    ids = [row.deliverable.id for row in rows]
    mine = await session.scalars(
        service.list_submissions(user, username=user.name).where(Submission.deliverable_id.in_(ids))
    )
    by_deliverable = {s.deliverable_id: s for s in mine}
    for row in rows:
        submission = by_deliverable.get(row.deliverable.id)
        if submission is not None:
            row.status, row.version = submission.status, submission.current_version
    return rows


async def _readable(
    session: AsyncSession, user: Principal, deliverable_id: int
) -> tuple[Deliverable, Project]:
    """The deliverable under its track's read rule (as `GET /api/v1/projects/{id}`)."""
    deliverable = await curriculum.get_deliverable(session, deliverable_id)
    project = await curriculum.get_project(session, deliverable.project_id, full=True)
    await curriculum.ensure_can_read(session, user, project.track)
    return deliverable, project


async def _own_submission(
    session: AsyncSession, user: Principal, deliverable_id: int
) -> Submission | None:
    found = await session.scalar(
        service.list_submissions(user, username=user.name, deliverable_id=deliverable_id)
    )
    if found is None:
        return None
    return await service.visible_submission(session, user, found.id)


STAFF_LIST_SIZE = 200


def _latest_first(statement: Select[tuple[Submission]]) -> Select[tuple[Submission]]:
    """Staff lists: the most recently changed submissions, a page's worth (the API pages)."""
    return statement.order_by(None).order_by(Submission.updated_at.desc()).limit(STAFF_LIST_SIZE)


async def _page(
    request: Request,
    session: AsyncSession,
    user: Principal,
    deliverable: Deliverable,
    project: Project,
    submission: Submission | None,
    form: HandIn | None = None,
    status_code: int = 200,
) -> Response:
    settings = request.app.state.settings
    owner = submission is None or submission.person.username == user.name
    student = user.role not in STAFF_ROLES and owner
    detail: SubmissionDetail | None = None
    if submission is not None:
        detail = await api.detail(session, request, submission)
    others = []
    if user.role in STAFF_ROLES and submission is None:
        statement = service.list_submissions(user, deliverable_id=deliverable.id)
        others = list(await session.scalars(_latest_first(statement)))
    status = submission.status if submission else None
    # Queried, not `project.steps`: loading the submission refreshed the project row.
    steps = await session.scalars(
        select(ProjectStep).where(ProjectStep.project_id == project.id).order_by(ProjectStep.order)
    )
    handed_in = _number(request.query_params.get("handed_in"))
    latest = submission.current_version if submission else 0
    return render(
        request,
        "deliverable.html",
        {
            "nav": "course",
            "deliverable": deliverable,
            "project": project,
            "track": project.track,
            "steps": list(steps),
            "description": to_html(project.description),
            "accepts": accepts(deliverable, settings.max_upload_bytes),
            "submission": submission,
            "detail": detail,
            "state_words": STATE_WORDS[status][0],
            "state_tone": STATE_WORDS[status][1],
            "student": student,
            "owner_name": submission.person.username if submission else user.name,
            "show_form": student and status != SubmissionStatus.APPROVED,
            "form": form or HandIn(),
            "seen_version": submission.current_version if submission else 0,
            "others": others,
            "event_words": EVENT_WORDS,
            "to_html": to_html,
            "when": when,
            "human_size": human_size,
            "handed_in": handed_in if student and 0 < handed_in <= latest else None,
        },
        status_code=status_code,
        user=user,
    )


# --- reading -------------------------------------------------------------------------------
@router.get("/deliverables")
async def deliverables_page(request: Request, user: PageUser, session: SessionDep) -> Response:
    """Students: every deliverable of their active tracks with its state. Staff: the
    submissions they may see (their students', or everyone's for admins), to open one."""
    if user.role in STAFF_ROLES:
        submissions = list(await session.scalars(_latest_first(service.list_submissions(user))))
        return render(
            request,
            "deliverables.html",
            {
                "tracks": [],
                "submissions": submissions,
                "state_words": STATE_WORDS,
                "list_size": STAFF_LIST_SIZE,
            },
            user=user,
        )
    report = await progress_of(session, user.name)
    project_ids = [p.id for t in report.tracks for p in t.projects]
    found = await session.scalars(
        select(Deliverable).where(Deliverable.project_id.in_(project_ids)).order_by(Deliverable.id)
    )
    states = await my_states(session, user, found)
    by_project: dict[int, list[DeliverableState]] = {}
    for row in states:
        by_project.setdefault(row.deliverable.project_id, []).append(row)
    return render(
        request,
        "deliverables.html",
        {"nav": "course", "tracks": report.tracks, "by_project": by_project, "submissions": []},
        user=user,
    )


@router.get("/deliverables/{deliverable_id}")
async def deliverable_page(
    request: Request, user: PageUser, session: SessionDep, deliverable_id: DeliverableId
) -> Response:
    deliverable, project = await _readable(session, user, deliverable_id)
    submission = await _own_submission(session, user, deliverable_id)
    return await _page(request, session, user, deliverable, project, submission)


@router.get("/submissions/{submission_id}")
async def submission_page(
    request: Request, user: PageUser, session: SessionDep, submission_id: SubmissionId
) -> Response:
    """One student's work on a deliverable: the student, their trainer and admins (404 to
    anyone else, as `GET /api/v1/submissions/{id}`); read-only but for its student."""
    submission = await api.visible(session, user, submission_id)
    deliverable, project = await _readable(session, user, submission.deliverable_id)
    return await _page(request, session, user, deliverable, project, submission)


@router.get("/submissions/{submission_id}/versions/{number}/file")
async def download(
    request: Request,
    user: PageUser,
    session: SessionDep,
    submission_id: SubmissionId,
    number: VersionNumber,
) -> Response:
    """The file of one version: the API's download, with the portal's sign-in."""
    return await api.download_submission_file(user, session, request, submission_id, number)


# --- handing in ----------------------------------------------------------------------------
FORM_ERRORS = (InvalidInput, UnsupportedFileType, TooLarge, Conflict)


@router.post("/deliverables/{deliverable_id}/submit")
async def hand_in(
    request: Request, user: PageUser, session: SessionDep, deliverable_id: DeliverableId
) -> Response:
    """Hand in a link or a file; 303 back with the version number, or the form again with
    the error next to its field (the service's status: 422, 413, 415 or 409)."""
    deliverable, project = await _readable(session, user, deliverable_id)
    form = await request.form()
    try:
        note = form.get("note")
        handin = HandIn(note=note if isinstance(note, str) else "")
        seen_version = _number(form.get("seen_version"))
        link = deliverable.kind not in service.FILE_KINDS
        target = "url" if link else "file"
        sent: dict[str, str] = {}
        try:
            async with session.begin_nested():  # a refused submission leaves nothing behind
                if link:
                    url = form.get("url")
                    handin.url = url if isinstance(url, str) else ""
                    number = await _submit_link(session, user, deliverable_id, handin, sent)
                else:
                    number = await _submit_file(
                        request, session, user, deliverable_id, handin, form.get("file"), sent
                    )
        except _FieldError as exc:
            handin.errors[exc.field] = exc.message
            status_code = 422
        except FORM_ERRORS as exc:
            again = await _double_click(session, user, deliverable_id, seen_version, sent, exc)
            if again is not None:
                return _handed_in(request, deliverable_id, again)
            handin.errors[target] = exc.message.replace("url must be", "The link must be", 1)
            status_code = exc.status
        else:
            return _handed_in(request, deliverable_id, number)
    finally:
        await form.close()
    # Read afresh: the rolled-back savepoint expired what the session had loaded.
    deliverable, project = await _readable(session, user, deliverable_id)
    submission = await _own_submission(session, user, deliverable_id)
    return await _page(
        request, session, user, deliverable, project, submission, handin, status_code
    )


class _FieldError(Exception):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field_name, message


def _field_error(error: ValidationError) -> _FieldError:
    """The first problem of a form checked with the API's own schema, in words."""
    first = error.errors()[0]
    name = str(first["loc"][0]) if first["loc"] else "url"
    kind, ctx = first["type"], first.get("ctx") or {}
    if kind == "string_too_short" and name == "url":
        message = "Enter the address of your work, starting with https://."
    elif kind == "string_too_long":
        message = f"This is too long: at most {ctx.get('max_length')} characters."
    elif kind == "string_pattern_mismatch":
        message = "Remove the control characters (such as NUL) from this text."
    else:
        message = str(first["msg"])
    return _FieldError(name if name in ("url", "note") else "url", message)


async def _submit_link(
    session: AsyncSession,
    user: Principal,
    deliverable_id: int,
    handin: HandIn,
    sent: dict[str, str],
) -> int:
    """`POST /api/v1/submissions`: the body's rules, then the same three service calls."""
    try:
        body = LinkSubmissionIn(deliverable_id=deliverable_id, url=handin.url, note=handin.note)
    except ValidationError as exc:
        raise _field_error(exc) from exc
    deliverable = await service.deliverable_for_submission(session, body.deliverable_id, user.name)
    url = service.check_link(deliverable, body.url)
    sent["url"] = url
    submission_id, _ = await service.submit(
        session, username=user.name, deliverable=deliverable, note=body.note, url=url
    )
    return await _version_of(session, submission_id)


async def _submit_file(
    request: Request,
    session: AsyncSession,
    user: Principal,
    deliverable_id: int,
    handin: HandIn,
    file: Any,
    sent: dict[str, str],
) -> int:
    """`POST /api/v1/submissions/upload`: the same checks and service calls, in its order."""
    if not isinstance(file, UploadFile) or not file.filename:
        raise _FieldError("file", "Choose the file to hand in.")
    try:
        note = _FileNote(note=handin.note).note
    except ValidationError as exc:
        raise _field_error(exc) from exc
    submission_id, _ = await service.submit_upload(
        session,
        api.file_store(request),
        username=user.name,
        deliverable_id=deliverable_id,
        file=file,
        note=note,
        max_bytes=request.app.state.settings.max_upload_bytes,
        stored=lambda sha256: sent.update(sha256=sha256),
    )
    return await _version_of(session, submission_id)


async def _version_of(session: AsyncSession, submission_id: int) -> int:
    submission = await service.load_submission(session, submission_id)
    assert submission is not None
    return submission.current_version


async def _double_click(
    session: AsyncSession,
    user: Principal,
    deliverable_id: int,
    seen_version: int,
    sent: dict[str, str],
    error: DomainError,
) -> int | None:
    """The version a first click already made of this very work, when the service refused
    this post as a duplicate (or a concurrent change) of a version newer than the form."""
    if not isinstance(error, Conflict) or not sent:
        return None
    submission = await _own_submission(session, user, deliverable_id)
    if (
        submission is None
        or submission.status != SubmissionStatus.SUBMITTED
        or submission.current_version <= seen_version
    ):
        return None
    latest = submission.versions[-1] if submission.versions else None
    if latest is None or latest.number != submission.current_version:
        return None
    same = ("url" in sent and latest.url == sent["url"]) or (
        "sha256" in sent and latest.sha256 == sent["sha256"]
    )
    return latest.number if same else None


def _handed_in(request: Request, deliverable_id: int, number: int) -> RedirectResponse:
    url = portal_url(request.app.state.settings, f"deliverables/{deliverable_id}")
    return RedirectResponse(f"{url}?handed_in={number}", status_code=303)
