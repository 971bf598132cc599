"""The trainer's students: a list (a trainer's assigned students; for admins everyone who is
enrolled or has a trainer, searchable and paged) and one student's page.

Who may be seen is the API's one record rule (`access.visible_records` for lists,
`may_see_records_of` through `progress.service.visible_student` for one student: 404 to a
trainer who does not train them). The numbers are the API's own: `progress_of` (as
GET /progress/students/{username}), the submission and attempt lists as their routes build them.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from lms_api.access import visible_records
from lms_api.auth import staff_user
from lms_api.database import SessionDep
from lms_api.enrollments.models import Enrollment
from lms_api.people.models import Person, TrainerAssignment
from lms_api.people.service import people_statement, trainer_username_of
from lms_api.portal.deliverables import STATE_WORDS, when
from lms_api.portal.progress import score_share, share, status_words
from lms_api.portal.rendering import render
from lms_api.portal.review import waited, with_handed_in
from lms_api.portal.signin import PageUser
from lms_api.principal import ADMIN_ROLES, Principal
from lms_api.progress.schemas import TrackProgress
from lms_api.progress.service import progress_of, visible_student
from lms_api.quizzes import attempts
from lms_api.quizzes.attempt_views import list_attempts
from lms_api.quizzes.enums import AttemptStatus
from lms_api.quizzes.models import QuizAttempt
from lms_api.submissions import service as submissions
from lms_api.submissions.models import Submission, SubmissionVersion
from lms_api.timestamps import as_utc
from lms_api.types import LINE_PATTERN

router = APIRouter()

PAGE_SIZE = 25
FINISHED = (AttemptStatus.SUBMITTED.value, AttemptStatus.EXPIRED.value)
StudentName = Annotated[
    str,
    Path(min_length=1, max_length=255, pattern=LINE_PATTERN, description="Hub username"),
]
Search = Annotated[str, Query(max_length=200, pattern=LINE_PATTERN, description="Name contains")]
PageNumber = Annotated[int, Query(ge=1, le=100_000, description="Page of the list")]


@dataclass
class StudentRow:
    """One student as the lists show them."""

    person: Person
    tracks: list[TrackProgress] = field(default_factory=list)
    last_activity: datetime | None = None
    latest: QuizAttempt | None = None  # the latest finished attempt
    best: QuizAttempt | None = None  # the best finished attempt (by share of the maximum)


def dashboard_url(request: Request, username: str) -> str:
    """The cohort dashboard narrowed to one student (the dashboards service reads ?student=)."""
    services = request.app.state.settings.service_prefix.rsplit("/", 1)[0]
    return f"{services}/dashboards/cohort_progress?student={quote(username, safe='')}"


def _latest(*moments: datetime | None) -> datetime | None:
    present = [as_utc(m) for m in moments if m is not None]
    return max(present) if present else None


async def student_rows(
    session: AsyncSession, request: Request, user: Principal, people: list[Person]
) -> list[StudentRow]:
    """Progress, last activity and quiz results of these students (the caller may see them:
    every query below goes through the same record rule)."""
    if not people:
        return []
    ids = [p.id for p in people]
    clock = attempts.request_clock(request.app.state.settings.quiz_time_grace_seconds)
    for person_id in ids:  # an attempt past its time is graded before it is shown, as the API
        await attempts.expire_overdue(session, clock, person_id=person_id)
    handed_in = visible_records(
        select(Submission.person_id, func.max(SubmissionVersion.created_at))
        .join(SubmissionVersion, SubmissionVersion.submission_id == Submission.id)
        .join(Person, Submission.person_id == Person.id)
        .where(Submission.person_id.in_(ids))
        .group_by(Submission.person_id),
        user,
        Submission.person_id,
    )
    last_hand_in = dict((await session.execute(handed_in)).tuples().all())
    found = await session.scalars(
        list_attempts(user).where(QuizAttempt.person_id.in_(ids))  # newest first
    )
    by_person: dict[int, list[QuizAttempt]] = {}
    for attempt in found:
        by_person.setdefault(attempt.person_id, []).append(attempt)
    rows = []
    for person in people:
        report = await progress_of(session, person.username)
        mine = by_person.get(person.id, [])
        done = [a for a in mine if a.status in FINISHED]
        rows.append(
            StudentRow(
                person=person,
                tracks=report.tracks,
                last_activity=_latest(
                    *(t.last_step_at for t in report.tracks),
                    last_hand_in.get(person.id),
                    *(a.submitted_at or a.started_at for a in mine[:1]),
                ),
                latest=done[0] if done else None,
                best=max(done, key=lambda a: score_share(a) or 0.0) if done else None,
            )
        )
    return rows


def students_statement(user: Principal, q: str = "") -> Any:
    """The students the caller sees: a trainer's assigned ones; for admins everyone enrolled
    in a track or with a trainer (staff have neither). By username."""
    statement = visible_records(people_statement(q or None), user, Person.id)
    if user.role in ADMIN_ROLES:
        statement = statement.where(
            or_(
                Person.id.in_(select(Enrollment.person_id)),
                Person.id.in_(select(TrainerAssignment.student_id)),
            )
        )
    return statement


def row_context(request: Request) -> dict[str, Any]:
    """What the student-row template (`students_rows.html`) needs."""
    return {
        "share": share,
        "score_share": score_share,
        "when": when,
        "dashboard": lambda username: dashboard_url(request, username),
    }


@router.get("/students")
async def students_list(
    request: Request, user: PageUser, session: SessionDep, q: Search = "", page: PageNumber = 1
) -> Response:
    """My students (a trainer's assigned ones; every student for admins), with progress, last
    activity and quiz results, searchable and paged."""
    await staff_user(user)  # the API's refusal for staff routes
    statement = students_statement(user, q.strip())
    count = await session.scalar(
        select(func.count()).select_from(statement.order_by(None).subquery())
    )
    people = list(await session.scalars(statement.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    pages = max(1, -(-(count or 0) // PAGE_SIZE))
    return render(
        request,
        "students.html",
        {
            "nav": "students",
            "rows": await student_rows(session, request, user, people),
            "q": q.strip(),
            "page": page,
            "pages": pages,
            "count": count or 0,
            "admin": user.role in ADMIN_ROLES,
            **row_context(request),
        },
        user=user,
    )


@router.get("/students/{username}")
async def student_page(
    request: Request, user: PageUser, session: SessionDep, username: StudentName
) -> Response:
    """One student: tracks and progress per project, submissions, quiz attempts, last
    activity; 404 to a trainer who does not train them (as the API)."""
    await staff_user(user)  # the API's refusal for staff routes
    person = await visible_student(session, user, username)
    [row] = await student_rows(session, request, user, [person])
    statement = with_handed_in(submissions.list_submissions(user, username=username))
    handed_in = [(s, at) for s, at in await session.execute(statement)]
    quiz_attempts = list(await session.scalars(list_attempts(user, username=username)))
    return render(
        request,
        "students_one.html",
        {
            "nav": "students",
            "row": row,
            "person": person,
            "trainer": await trainer_username_of(session, person.id),
            "submissions": handed_in,
            "attempts": quiz_attempts,
            "state_words": STATE_WORDS,
            "waited": waited,
            "status_words": status_words,
            **row_context(request),
        },
        user=user,
    )
