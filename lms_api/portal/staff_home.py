"""The trainer's start page (GET /portal/ for staff): what waits for their review, their
students at a glance, and the quizzes they wrote.

The queue is the review page's own (`review.queue`), the students the students page's own
(`students.student_rows`), and the quizzes the API's list filtered by author; attempts are
counted under the one record rule (a trainer counts their students' attempts, admins all).
"""

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lms_api.access import visible_records
from lms_api.auth import staff_user
from lms_api.people.models import Person
from lms_api.portal import review, students
from lms_api.portal.deliverables import when
from lms_api.portal.rendering import render
from lms_api.principal import ADMIN_ROLES, Principal
from lms_api.quizzes import service as quizzes
from lms_api.quizzes.models import QuizAttempt

QUEUE_SHOWN = 10
STUDENTS_SHOWN = 50


async def _attempt_counts(session: AsyncSession, user: Principal, quiz_ids: list[int]) -> dict:
    if not quiz_ids:
        return {}
    statement = visible_records(
        select(QuizAttempt.quiz_id, func.count(QuizAttempt.id))
        .join(Person, QuizAttempt.person_id == Person.id)
        .where(QuizAttempt.quiz_id.in_(quiz_ids))
        .group_by(QuizAttempt.quiz_id),
        user,
        QuizAttempt.person_id,
    )
    return dict((await session.execute(statement)).tuples().all())


async def staff_home(request: Request, user: Principal, session: AsyncSession) -> Response:
    """The start page of a trainer or admin (called by `course.my_course` for staff)."""
    await staff_user(user)  # the API's refusal for staff routes
    admin = user.role in ADMIN_ROLES
    waiting, waiting_count = await review.queue(session, user, QUEUE_SHOWN)
    mine: list = []
    student_count = 0
    if not admin:  # an admin's students are everyone: the students page pages through them
        statement = students.students_statement(user)
        student_count = await session.scalar(
            select(func.count()).select_from(statement.order_by(None).subquery())
        )
        people = list(await session.scalars(statement.limit(STUDENTS_SHOWN)))
        mine = await students.student_rows(session, request, user, people)
    authored = list(await session.scalars(quizzes.list_quizzes(user, created_by=user.name)))
    return render(
        request,
        "staff_home.html",
        {
            "nav": "home",
            "admin": admin,
            "waiting": waiting,
            "waiting_count": waiting_count,
            "waited": review.waited,
            "rows": mine,
            "student_count": student_count or 0,
            "quizzes": authored,
            "attempt_counts": await _attempt_counts(session, user, [q.id for q in authored]),
            **students.row_context(request),
            "when": when,
        },
        user=user,
    )
