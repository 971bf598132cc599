"""Submissions: students hand in deliverables (links or files); trainers review them."""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse
from sqlalchemy.ext.asyncio import AsyncSession

from lms_api.auth import CurrentUser, StaffUser
from lms_api.database import MAX_ID, SessionDep
from lms_api.errors import USER_ROUTE_ERRORS, FileMissing, NotFound, error_doc
from lms_api.links import public_url_for
from lms_api.pagination import PageDep, paginate
from lms_api.principal import Principal
from lms_api.submissions import service
from lms_api.submissions.enums import SubmissionStatus
from lms_api.submissions.files import (
    FileStore,
    visible_name,
)
from lms_api.submissions.models import Submission
from lms_api.submissions.schemas import (
    LinkSubmissionIn,
    ReviewIn,
    SubmissionDetail,
    SubmissionEventOut,
    SubmissionPage,
    SubmissionSummary,
    SubmissionVersionOut,
)
from lms_api.types import LINE_PATTERN, TEXT_PATTERN

router = APIRouter(tags=["submissions"])

SubmissionId = Annotated[int, Path(ge=1, le=MAX_ID, description="Submission id")]
VersionNumber = Annotated[int, Path(ge=1, le=MAX_ID, description="Version number")]

SUBMIT_ERRORS = {
    **USER_ROUTE_ERRORS,
    403: error_doc("Not actively enrolled in the deliverable's track (code `not_enrolled`)"),
    404: error_doc("No such deliverable"),
    409: error_doc(
        "Already approved (`already_approved`), the same as the latest version "
        "(`duplicate_submission`), or changed meanwhile (`conflict`)"
    ),
    422: error_doc(
        "Invalid input, or the wrong way to submit for the deliverable's kind "
        "(`wrong_submission_kind`)"
    ),
}
NOT_VISIBLE = error_doc("No such submission, or not one the caller may see")


def file_store(request: Request) -> FileStore:
    return FileStore(request.app.state.settings.upload_dir)


async def visible(
    session: AsyncSession,
    caller: Principal,
    submission_id: int,
    find: Callable[..., Awaitable[Submission]] = service.visible_submission,
) -> Submission:
    """The submission as `find` allows it to the caller, or 404 (no existence leak)."""
    return await find(session, caller, submission_id)


def summary(submission: Submission) -> SubmissionSummary:
    deliverable = submission.deliverable
    return SubmissionSummary(
        id=submission.id,
        username=submission.person.username,
        deliverable_id=deliverable.id,
        deliverable_title=deliverable.title,
        deliverable_kind=deliverable.kind,
        project_id=deliverable.project_id,
        track_code=deliverable.project.track.code,
        status=submission.status,
        current_version=submission.current_version,
        created_at=submission.created_at,
        updated_at=submission.updated_at,
    )


async def detail(
    session: AsyncSession, request: Request, submission: Submission
) -> SubmissionDetail:
    versions = [
        SubmissionVersionOut(
            number=v.number,
            url=v.url,
            filename=v.filename,
            content_type=v.content_type,
            size_bytes=v.size_bytes,
            sha256=v.sha256,
            download_url=public_url_for(
                request, "download_submission_file", submission_id=submission.id, number=v.number
            )
            if v.sha256
            else None,
            note=v.note,
            submitted_at=v.created_at,
        )
        for v in submission.versions
    ]
    history = [
        SubmissionEventOut(
            version=e.version,
            from_status=e.from_status,
            to_status=e.to_status,
            actor=e.actor,
            feedback=e.feedback,
            at=e.created_at,
        )
        for e in await service.history_of(session, submission.id)
    ]
    return SubmissionDetail(**summary(submission).model_dump(), versions=versions, history=history)


async def _answer(
    session: AsyncSession, request: Request, response: Response, submission_id: int, new: bool
) -> SubmissionDetail:
    submission = await service.load_submission(session, submission_id)
    assert submission is not None
    response.status_code = 201 if new else 200
    response.headers["Location"] = public_url_for(
        request, "read_submission", submission_id=submission_id
    )
    return await detail(session, request, submission)


@router.post(
    "/submissions",
    response_model=SubmissionDetail,
    status_code=201,
    responses={
        **SUBMIT_ERRORS,
        200: {"description": "A new version of an existing submission", "model": SubmissionDetail},
    },
)
async def submit_link(
    caller: CurrentUser,
    session: SessionDep,
    request: Request,
    response: Response,
    body: LinkSubmissionIn,
) -> SubmissionDetail:
    """Submit (or resubmit) a link for a `url` or `github_pr` deliverable."""
    deliverable = await service.deliverable_for_submission(
        session, body.deliverable_id, caller.name
    )
    url = service.check_link(deliverable, body.url)
    submission_id, new = await service.submit(
        session, username=caller.name, deliverable=deliverable, note=body.note, url=url
    )
    return await _answer(session, request, response, submission_id, new)


@router.post(
    "/submissions/upload",
    response_model=SubmissionDetail,
    status_code=201,
    responses={
        **SUBMIT_ERRORS,
        200: {"description": "A new version of an existing submission", "model": SubmissionDetail},
        413: error_doc("The file is larger than the upload limit (`details.max_bytes`)"),
        415: error_doc("A file type the deliverable does not accept, or content not matching it"),
    },
)
async def submit_file(
    caller: CurrentUser,
    session: SessionDep,
    request: Request,
    response: Response,
    deliverable_id: Annotated[
        int, Form(ge=1, le=MAX_ID, description="Deliverable id", examples=[1])
    ],
    file: Annotated[
        UploadFile,
        File(description="A .ipynb notebook, or a file (see `file`)", examples=["analysis.ipynb"]),
    ],
    note: Annotated[
        str,
        Form(
            max_length=2000,
            pattern=TEXT_PATTERN,
            description="A word for the reviewer",
            examples=["First try"],
        ),
    ] = "",
) -> SubmissionDetail:
    """Upload (or re-upload) a notebook or file for a `notebook` or `file` deliverable."""
    submission_id, new = await service.submit_upload(
        session,
        file_store(request),
        username=caller.name,
        deliverable_id=deliverable_id,
        file=file,
        note=note,
        max_bytes=request.app.state.settings.max_upload_bytes,
    )
    return await _answer(session, request, response, submission_id, new)


@router.get("/submissions", response_model=SubmissionPage, responses=USER_ROUTE_ERRORS)
async def list_submissions(
    caller: CurrentUser,
    session: SessionDep,
    page: PageDep,
    request: Request,
    username: Annotated[
        str | None,
        Query(
            min_length=1, max_length=255, pattern=LINE_PATTERN, description="Only this student's"
        ),
    ] = None,
    track: Annotated[
        str | None,
        Query(
            min_length=1, max_length=16, pattern=LINE_PATTERN, description="Only this track (code)"
        ),
    ] = None,
    project_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Only this project's")
    ] = None,
    deliverable_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Only this deliverable's")
    ] = None,
    status: Annotated[SubmissionStatus | None, Query(description="Only this status")] = None,
) -> dict[str, Any]:
    """Submissions by id: own for students, their students' for trainers, all for admins."""
    statement = service.list_submissions(
        caller,
        username=username,
        track=track,
        project_id=project_id,
        deliverable_id=deliverable_id,
        status=status,
    )
    return await paginate(session, statement, page, request, summary)


@router.get(
    "/submissions/{submission_id}",
    response_model=SubmissionDetail,
    responses={**USER_ROUTE_ERRORS, 404: NOT_VISIBLE},
)
async def read_submission(
    caller: CurrentUser, session: SessionDep, request: Request, submission_id: SubmissionId
) -> SubmissionDetail:
    """One submission with its versions and status history."""
    submission = await visible(session, caller, submission_id)
    return await detail(session, request, submission)


@router.get(
    "/submissions/{submission_id}/versions/{number}/file",
    response_class=FileResponse,
    responses={
        **USER_ROUTE_ERRORS,
        200: {"description": "The uploaded file, as an attachment"},
        404: error_doc("No such submission or version, not visible, or a link (no file)"),
    },
)
async def download_submission_file(
    caller: CurrentUser,
    session: SessionDep,
    request: Request,
    submission_id: SubmissionId,
    number: VersionNumber,
) -> FileResponse:
    """Download the file of one version (the student, their trainer, admins)."""
    submission = await visible(session, caller, submission_id)
    version = next((v for v in submission.versions if v.number == number), None)
    if version is None or not version.sha256:
        raise NotFound(f"Submission {submission_id} has no file in version {number}.")
    path = file_store(request).path_of(version.sha256)
    if not path.is_file():
        raise FileMissing(
            f"The file of version {number} is missing from the upload storage; "
            "ask an admin to check APRANOVA_UPLOAD_DIR."
        )
    return FileResponse(
        path,
        media_type=version.content_type or "application/octet-stream",
        # Names stored before bidirectional characters were removed are cleaned as served.
        filename=visible_name(version.filename or "") or f"submission-{submission_id}-v{number}",
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"},
    )


@router.post(
    "/submissions/{submission_id}/reviews",
    response_model=SubmissionDetail,
    responses={
        **USER_ROUTE_ERRORS,
        403: error_doc("Not a trainer or admin, or the submission's own student"),
        404: NOT_VISIBLE,
        409: error_doc(
            "The version is not the latest (`stale_version`) or is already reviewed "
            "(`already_reviewed`)"
        ),
    },
)
async def review_submission(
    caller: StaffUser,
    session: SessionDep,
    request: Request,
    submission_id: SubmissionId,
    body: ReviewIn,
) -> SubmissionDetail:
    """Approve the latest version, or request changes with feedback (the student's trainer)."""
    submission = await visible(session, caller, submission_id, service.reviewable_submission)
    await service.review(
        session,
        submission,
        reviewer=caller.name,
        version=body.version,
        decision=body.decision,
        feedback=body.feedback,
    )
    fresh = await service.load_submission(session, submission_id)
    assert fresh is not None
    return await detail(session, request, fresh)
