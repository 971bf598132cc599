"""Submitting, resubmitting and reviewing, each safe under concurrency, plus who sees what.

A (re)submission bumps `current_version` with one conditional UPDATE, and a review changes the
status with another that also names the version reviewed: two concurrent writers can never
both win, and a review can never land on a version the trainer has not seen.
"""

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from fastapi import UploadFile
from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from lms_api.access import may_see_records_of, visible_records
from lms_api.curriculum.enums import DeliverableKind
from lms_api.curriculum.models import Deliverable, Project, Track
from lms_api.enrollments.enums import EnrollmentStatus
from lms_api.enrollments.models import Enrollment
from lms_api.enrollments.service import insert_if_absent
from lms_api.errors import (
    AlreadyApproved,
    AlreadyReviewed,
    Conflict,
    DuplicateSubmission,
    Forbidden,
    InvalidInput,
    NotEnrolledInTrack,
    NotFound,
    StaleVersion,
    WrongSubmissionKind,
)
from lms_api.outbox import record_event
from lms_api.people.models import Person
from lms_api.people.service import get_or_create_person
from lms_api.principal import ADMIN_ROLES, Principal, Role
from lms_api.submissions.enums import ReviewDecision, SubmissionStatus
from lms_api.submissions.files import (
    CheckedFile,
    FileStore,
    check_upload,
    read_limited,
    too_large,
)
from lms_api.submissions.models import Submission, SubmissionEvent, SubmissionVersion
from lms_api.timestamps import utcnow

LINK_KINDS = (DeliverableKind.URL, DeliverableKind.GITHUB_PR)
FILE_KINDS = (DeliverableKind.NOTEBOOK, DeliverableKind.FILE)
RESUBMITTABLE = (SubmissionStatus.SUBMITTED, SubmissionStatus.CHANGES_REQUESTED)
_GITHUB_PR = re.compile(
    r"^https://github\.com/[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+/pull/\d+/?$"
)


class SubmissionNotFound(NotFound):
    """No such submission, or one the caller may not see."""

    def __init__(self, submission_id: int) -> None:
        super().__init__(f"No submission {submission_id}.")


# --- what may be submitted -----------------------------------------------------------------
async def deliverable_for_submission(
    session: AsyncSession, deliverable_id: int, username: str
) -> Deliverable:
    """The deliverable, if `username` is actively enrolled in its track (else 404 / 403)."""
    deliverable = await session.scalar(
        select(Deliverable)
        .where(Deliverable.id == deliverable_id)
        .options(selectinload(Deliverable.project).selectinload(Project.track))
    )
    if deliverable is None:
        raise NotFound(
            f"No deliverable with id {deliverable_id}.",
            details={"field": "deliverable_id", "value": deliverable_id},
        )
    track = deliverable.project.track
    active = await session.scalar(
        select(Enrollment.id)
        .join(Person, Enrollment.person_id == Person.id)
        .where(
            Person.username == username,
            Enrollment.track_id == track.id,
            Enrollment.status == EnrollmentStatus.ACTIVE,
        )
    )
    if active is None:
        raise NotEnrolledInTrack(
            f"You are not (actively) enrolled in track {track.code!r}, so you cannot submit "
            "its deliverables.",
            details={"track": track.code},
        )
    return deliverable


def _wrong_kind(deliverable: Deliverable, how: str) -> WrongSubmissionKind:
    return WrongSubmissionKind(
        f"Deliverable {deliverable.id} ({deliverable.title!r}) is of kind "
        f"{deliverable.kind!r}: {how}",
        details={"deliverable_id": deliverable.id, "kind": deliverable.kind},
    )


def check_link(deliverable: Deliverable, url: str) -> str:
    """The URL if it suits the deliverable's kind; a 422 saying what is expected otherwise."""
    if deliverable.kind in FILE_KINDS:
        raise _wrong_kind(
            deliverable, "upload the file with POST /api/v1/submissions/upload instead of a link."
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or re.search(r"\s", url):
        raise InvalidInput(
            "url must be an http(s) address such as https://example.org/my-report.",
            details=[{"field": "body.url", "message": "not an http(s) URL"}],
        )
    if deliverable.kind == DeliverableKind.GITHUB_PR and not _GITHUB_PR.match(url):
        raise InvalidInput(
            "url must be a GitHub pull request, like https://github.com/OWNER/REPO/pull/12.",
            details=[{"field": "body.url", "message": "not a GitHub pull request URL"}],
        )
    return url


def check_file_kind(deliverable: Deliverable) -> None:
    if deliverable.kind in LINK_KINDS:
        what = (
            "a GitHub pull request URL"
            if deliverable.kind == DeliverableKind.GITHUB_PR
            else "a URL"
        )
        raise _wrong_kind(deliverable, f"send {what} with POST /api/v1/submissions instead.")


# --- submitting ----------------------------------------------------------------------------
async def submit(
    session: AsyncSession,
    *,
    username: str,
    deliverable: Deliverable,
    note: str,
    url: str | None = None,
    file: CheckedFile | None = None,
    sha256: str | None = None,
) -> tuple[int, bool]:
    """Add a version (the first makes the submission): (submission id, whether it was new)."""
    person = await get_or_create_person(session, username)
    await insert_if_absent(
        session,
        Submission,
        {
            "person_id": person.id,
            "deliverable_id": deliverable.id,
            "status": SubmissionStatus.SUBMITTED.value,
            "current_version": 0,
            "updated_at": utcnow(),
        },
        ["person_id", "deliverable_id"],
    )
    submission = await session.scalar(
        select(Submission)
        .where(Submission.person_id == person.id, Submission.deliverable_id == deliverable.id)
        .execution_options(populate_existing=True)
    )
    assert submission is not None
    previous, from_status = submission.current_version, submission.status
    if previous and from_status == SubmissionStatus.APPROVED:
        raise AlreadyApproved(
            f"Your submission for {deliverable.title!r} is already approved; "
            "ask your trainer if you want to hand in a new version.",
            details={"submission_id": submission.id, "version": previous},
        )
    if previous:
        latest = await session.scalar(
            select(SubmissionVersion).where(
                SubmissionVersion.submission_id == submission.id,
                SubmissionVersion.number == previous,
            )
        )
        if latest is not None and (
            (url is not None and latest.url == url)
            or (sha256 is not None and latest.sha256 == sha256)
        ):
            raise DuplicateSubmission(
                f"This is the same as version {previous} you already submitted; "
                "change something before resubmitting.",
                details={"submission_id": submission.id, "version": previous},
            )
    number = previous + 1
    bumped = await session.execute(
        update(Submission)
        .where(
            Submission.id == submission.id,
            Submission.current_version == previous,
            Submission.status.in_([s.value for s in RESUBMITTABLE]),
        )
        .values(
            current_version=number, status=SubmissionStatus.SUBMITTED.value, updated_at=utcnow()
        )
        .execution_options(synchronize_session=False)
    )
    if bumped.rowcount != 1:
        raise Conflict(
            "Your submission changed meanwhile (another upload or a review); "
            "read it again and retry.",
            details={"submission_id": submission.id},
        )
    session.add(
        SubmissionVersion(
            submission_id=submission.id,
            number=number,
            url=url,
            filename=file.filename if file else None,
            content_type=file.content_type if file else None,
            size_bytes=len(file.data) if file else None,
            sha256=sha256,
            note=note,
        )
    )
    session.add(
        SubmissionEvent(
            submission_id=submission.id,
            version=number,
            from_status=from_status if previous else None,
            to_status=SubmissionStatus.SUBMITTED,
            actor=username,
        )
    )
    record_event(
        session,
        "submission.submitted",
        submission_id=submission.id,
        username=username,
        deliverable_id=deliverable.id,
        project_id=deliverable.project_id,
        track=deliverable.project.track.code,
        version=number,
        kind="url" if url is not None else "file",
    )
    await session.flush()
    return submission.id, previous == 0


# --- reviewing -----------------------------------------------------------------------------
async def submit_upload(
    session: AsyncSession,
    store: FileStore,
    *,
    username: str,
    deliverable_id: int,
    file: UploadFile,
    note: str,
    max_bytes: int,
    stored: Callable[[str], None] | None = None,
) -> tuple[int, bool]:
    """Hand in an uploaded file, for the API and the portal alike, in one order: its size, the
    deliverable (enrolled, takes a file), the content, then the file stored before the row
    that points at it. (submission id, whether it is new). `stored` hears the file's sha256
    even when the submission is then refused (the portal tells its own double click)."""
    if (file.size or 0) > max_bytes:
        raise too_large(max_bytes)
    deliverable = await deliverable_for_submission(session, deliverable_id, username)
    check_file_kind(deliverable)
    checked = check_upload(deliverable.kind, file.filename, await read_limited(file, max_bytes))
    sha256 = store.save(checked.data)
    if stored is not None:
        stored(sha256)
    return await submit(
        session,
        username=username,
        deliverable=deliverable,
        note=note.strip(),
        file=checked,
        sha256=sha256,
    )


async def review(
    session: AsyncSession,
    submission: Submission,
    *,
    reviewer: str,
    version: int,
    decision: ReviewDecision,
    feedback: str,
) -> None:
    """Approve or request changes on `version`, which must be the latest and not yet reviewed."""
    if version != submission.current_version:
        raise StaleVersion(
            f"Version {version} is not the latest: the student submitted version "
            f"{submission.current_version}. Review that one.",
            details={"version": version, "current_version": submission.current_version},
        )
    if submission.status != SubmissionStatus.SUBMITTED:
        raise AlreadyReviewed(
            f"Version {version} was already reviewed ({submission.status}); "
            "wait for the student to resubmit.",
            details={"status": submission.status},
        )
    to_status = (
        SubmissionStatus.APPROVED
        if decision == ReviewDecision.APPROVE
        else SubmissionStatus.CHANGES_REQUESTED
    )
    changed = await session.execute(
        update(Submission)
        .where(
            Submission.id == submission.id,
            Submission.current_version == version,
            Submission.status == SubmissionStatus.SUBMITTED.value,
        )
        .values(status=to_status.value, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:
        raise Conflict(
            "The submission changed meanwhile (a new version or another review); read it again.",
            details={"submission_id": submission.id},
        )
    session.add(
        SubmissionEvent(
            submission_id=submission.id,
            version=version,
            from_status=SubmissionStatus.SUBMITTED,
            to_status=to_status,
            actor=reviewer,
            feedback=feedback,
        )
    )
    record_event(
        session,
        "submission.reviewed",
        submission_id=submission.id,
        username=submission.person.username,
        deliverable_id=submission.deliverable_id,
        version=version,
        decision=decision.value,
        status=to_status.value,
        reviewer=reviewer,
    )
    await session.flush()


# --- reading -------------------------------------------------------------------------------
def _with_context(statement: Select[Any]) -> Select[Any]:
    return statement.options(
        selectinload(Submission.person),
        selectinload(Submission.deliverable)
        .selectinload(Deliverable.project)
        .selectinload(Project.track),
    )


async def load_submission(session: AsyncSession, submission_id: int) -> Submission | None:
    return await session.scalar(
        _with_context(select(Submission).where(Submission.id == submission_id))
        .options(selectinload(Submission.versions))
        .execution_options(populate_existing=True)
    )


async def visible_submission(
    session: AsyncSession, caller: Principal, submission_id: int
) -> Submission:
    """The submission if `caller` may see it (owner, their trainer, admins); else not found."""
    submission = await load_submission(session, submission_id)
    if submission is None:
        raise SubmissionNotFound(submission_id)
    if await may_see_records_of(session, caller, submission.person.username):
        return submission
    raise SubmissionNotFound(submission_id)


async def reviewable_submission(
    session: AsyncSession, caller: Principal, submission_id: int
) -> Submission:
    """The submission if `caller` may review it: its student's trainer, or an admin."""
    submission = await visible_submission(session, caller, submission_id)
    if caller.role in ADMIN_ROLES:
        return submission
    if caller.role == Role.TRAINER and submission.person.username != caller.name:
        return submission  # visible to a trainer = one of their students
    raise Forbidden("Only the student's trainer or an admin may review a submission.")


async def history_of(session: AsyncSession, submission_id: int) -> list[SubmissionEvent]:
    rows = await session.scalars(
        select(SubmissionEvent)
        .where(SubmissionEvent.submission_id == submission_id)
        .order_by(SubmissionEvent.id)
    )
    return list(rows)


def list_submissions(
    caller: Principal,
    *,
    username: str | None = None,
    track: str | None = None,
    project_id: int | None = None,
    deliverable_id: int | None = None,
    status: SubmissionStatus | None = None,
) -> Select[tuple[Submission]]:
    """Submissions `caller` may see, filtered, oldest first (for `paginate`)."""
    statement = _with_context(
        select(Submission)
        .join(Person, Submission.person_id == Person.id)
        .join(Deliverable, Submission.deliverable_id == Deliverable.id)
        .join(Project, Deliverable.project_id == Project.id)
        .join(Track, Project.track_id == Track.id)
    )
    statement = visible_records(statement, caller, Submission.person_id)
    if username is not None:
        statement = statement.where(Person.username == username)
    if track is not None:
        statement = statement.where(Track.code == track)
    if project_id is not None:
        statement = statement.where(Project.id == project_id)
    if deliverable_id is not None:
        statement = statement.where(Submission.deliverable_id == deliverable_id)
    if status is not None:
        statement = statement.where(Submission.status == status.value)
    return statement.order_by(Submission.id)


async def count_for_deliverables(session: AsyncSession, deliverable_ids: list[int]) -> int:
    """How many submissions point at these deliverables (they block deleting them)."""
    if not deliverable_ids:
        return 0
    found = await session.scalar(
        select(func.count(Submission.id)).where(Submission.deliverable_id.in_(deliverable_ids))
    )
    return found or 0
