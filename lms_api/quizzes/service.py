"""Authoring quizzes (by hand, by import, from Gemini) and who may see or change which.

Trainers and admins see every quiz (a school shares its question bank); a trainer changes
only the quizzes they wrote, admins any. Students see published quizzes open to them: those
with no track, and those of a track they are actively enrolled in.
"""

from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from lms_api.curriculum.models import Project, Track
from lms_api.enrollments.enums import EnrollmentStatus
from lms_api.enrollments.models import Enrollment
from lms_api.errors import (
    Forbidden,
    InvalidInput,
    NotEnrolledInTrack,
    NotFound,
    QuizEmpty,
    QuizHasAttempts,
    QuizNotDraft,
)
from lms_api.outbox import record_event
from lms_api.people.models import Person
from lms_api.principal import ADMIN_ROLES, STAFF_ROLES, Principal
from lms_api.quizzes.content import GenerationType, QuestionIn, QuizStatus, RevealPolicy, Source
from lms_api.quizzes.models import AnswerOption, Question, Quiz, QuizAttempt
from lms_api.quizzes.schemas import QuizIn, QuizPatch
from lms_api.timestamps import utcnow

SETTING_FIELDS = (
    "description",
    "time_limit_seconds",
    "max_attempts",
    "pass_mark",
    "shuffle_questions",
    "shuffle_options",
    "reveal_policy",
    "multiple_scoring",
)


class QuizNotFound(NotFound):
    """No such quiz, or one the caller may not see."""

    def __init__(self, quiz_id: int) -> None:
        super().__init__(f"No quiz {quiz_id}.")


# --- reading -------------------------------------------------------------------------------
def _with_questions(statement: Select[Any]) -> Select[Any]:
    return statement.options(
        selectinload(Quiz.track),
        selectinload(Quiz.questions).selectinload(Question.options),
    )


async def load_quiz(session: AsyncSession, quiz_id: int, *, questions: bool = True) -> Quiz | None:
    """The quiz with its track; with its questions and options as ORM objects unless
    `questions=False` (taking a quiz reads them from quizzes.snapshot instead)."""
    statement = select(Quiz).where(Quiz.id == quiz_id)
    statement = (
        _with_questions(statement) if questions else statement.options(joinedload(Quiz.track))
    )
    return await session.scalar(statement.execution_options(populate_existing=True))


def active_track_ids(username: str) -> Select[tuple[int]]:
    return (
        select(Enrollment.track_id)
        .join(Person, Enrollment.person_id == Person.id)
        .where(Person.username == username, Enrollment.status == EnrollmentStatus.ACTIVE.value)
    )


def open_to_student(username: str) -> Any:
    """SQL condition: a published quiz this student may take."""
    return and_(
        Quiz.status == QuizStatus.PUBLISHED.value,
        or_(Quiz.track_id.is_(None), Quiz.track_id.in_(active_track_ids(username))),
    )


async def quiz_for(
    session: AsyncSession, caller: Principal, quiz_id: int, *, questions: bool = True
) -> Quiz:
    """The quiz as the caller may see it: any for staff; for students a published one, and
    403 `not_enrolled` when it belongs to a track they are not active in."""
    quiz = await load_quiz(session, quiz_id, questions=questions)
    if quiz is None:
        raise QuizNotFound(quiz_id)
    if caller.role in STAFF_ROLES:
        return quiz
    if quiz.status != QuizStatus.PUBLISHED:
        raise QuizNotFound(quiz_id)
    if quiz.track_id is not None:
        enrolled = await session.scalar(
            active_track_ids(caller.name).where(Enrollment.track_id == quiz.track_id)
        )
        if enrolled is None:
            code = quiz.track.code if quiz.track else "?"
            raise NotEnrolledInTrack(
                f"This quiz belongs to track {code!r}, which you are not (actively) enrolled "
                "in; see GET /api/v1/catalog to enroll.",
                details={"track": code},
            )
    return quiz


def list_quizzes(
    caller: Principal,
    *,
    status: QuizStatus | None = None,
    track: str | None = None,
    created_by: str | None = None,
) -> Select[tuple[Quiz]]:
    """Quizzes the caller may see, filtered, oldest first (for `paginate`)."""
    statement = _with_questions(select(Quiz)).outerjoin(Track, Quiz.track_id == Track.id)
    if caller.role not in STAFF_ROLES:
        statement = statement.where(open_to_student(caller.name))
    if status is not None:
        statement = statement.where(Quiz.status == status.value)
    if track is not None:
        statement = statement.where(Track.code == track)
    if created_by is not None:
        statement = statement.where(Quiz.created_by == created_by)
    return statement.order_by(Quiz.id)


async def attempts_by_quiz(
    session: AsyncSession, username: str, quiz_ids: list[int]
) -> dict[int, list[QuizAttempt]]:
    """A student's attempts at these quizzes, by quiz id, oldest first."""
    found: dict[int, list[QuizAttempt]] = {quiz_id: [] for quiz_id in quiz_ids}
    if not quiz_ids:
        return found
    rows = await session.scalars(
        select(QuizAttempt)
        .join(Person, QuizAttempt.person_id == Person.id)
        .where(Person.username == username, QuizAttempt.quiz_id.in_(quiz_ids))
        .order_by(QuizAttempt.number)
    )
    for attempt in rows:
        found[attempt.quiz_id].append(attempt)
    return found


def person_id_of(username: str) -> Select[tuple[int]]:
    return select(Person.id).where(Person.username == username)


# --- writing -------------------------------------------------------------------------------
def check_may_edit(caller: Principal, quiz: Quiz) -> None:
    if caller.role not in ADMIN_ROLES and quiz.created_by != caller.name:
        raise Forbidden(
            f"Quiz {quiz.id} was written by {quiz.created_by!r}; only they or an admin may "
            "change it."
        )


def check_draft(quiz: Quiz, doing: str) -> None:
    if quiz.status != QuizStatus.DRAFT:
        raise QuizNotDraft(
            f"Quiz {quiz.id} is {quiz.status}, so it cannot be {doing}: students' attempts are "
            "graded against it. Export it and import a copy to make a new version.",
            details={"status": quiz.status},
        )


def _check_settings(quiz: Quiz) -> None:
    if quiz.reveal_policy == RevealPolicy.AFTER_LAST_ATTEMPT and quiz.max_attempts is None:
        raise InvalidInput(
            "reveal_policy 'after_last_attempt' needs max_attempts (with unlimited attempts "
            "there is no last one).",
            details=[{"field": "body.reveal_policy", "message": "needs max_attempts"}],
        )


async def check_link(
    session: AsyncSession, track_code: str | None, project_id: int | None
) -> tuple[int | None, int | None]:
    """(track id, project id) for a quiz's links; a project sets (and must agree with) the
    track. Unknown ones are a 422 naming the field."""
    track_id = None
    if track_code is not None:
        track_id = await session.scalar(select(Track.id).where(Track.code == track_code))
        if track_id is None:
            raise InvalidInput(
                f"There is no track with code {track_code!r}.",
                details=[{"field": "body.track", "message": "unknown track"}],
            )
    if project_id is not None:
        project = await session.get(Project, project_id)
        if project is None:
            raise InvalidInput(
                f"There is no project with id {project_id}.",
                details=[{"field": "body.project_id", "message": "unknown project"}],
            )
        if track_id is not None and project.track_id != track_id:
            raise InvalidInput(
                f"Project {project_id} is not in track {track_code!r}.",
                details=[{"field": "body.project_id", "message": "not in that track"}],
            )
        track_id = project.track_id
    return track_id, project_id


async def _link(
    session: AsyncSession, quiz: Quiz, track_code: str | None, project_id: int | None
) -> None:
    quiz.track_id, quiz.project_id = await check_link(session, track_code, project_id)


def build_questions(items: list[QuestionIn]) -> list[Question]:
    """Rows for checked questions, numbered in the order given."""
    return [
        Question(
            order=number,
            text=item.text,
            type=item.type.value,
            explanation=item.explanation,
            tags=list(item.tags),
            learning_objective=item.learning_objective,
            points=item.points,
            options=[
                AnswerOption(
                    order=position,
                    text=option.text,
                    is_correct=option.is_correct,
                    rationale=option.rationale,
                )
                for position, option in enumerate(item.options, start=1)
            ],
        )
        for number, item in enumerate(items, start=1)
    ]


async def create_quiz(
    session: AsyncSession,
    body: QuizIn,
    *,
    author: str,
    generation_type: GenerationType = GenerationType.MANUAL,
    prompt: str = "",
    model: str = "",
    sources: list[Source] | None = None,
    via: str = "api",
) -> int:
    """A new draft with its questions; returns its id."""
    quiz = Quiz(
        title=body.title,
        created_by=author,
        generation_type=generation_type.value,
        prompt=prompt,
        model=model,
        sources=[s.model_dump() for s in sources or []],
        status=QuizStatus.DRAFT.value,
        **{name: getattr(body, name) for name in SETTING_FIELDS},
    )
    await _link(session, quiz, body.track, body.project_id)
    _check_settings(quiz)
    quiz.questions = build_questions(body.questions)
    session.add(quiz)
    await session.flush()
    record_event(
        session,
        "quiz.created",
        quiz_id=quiz.id,
        author=author,
        generation_type=generation_type.value,
        questions=len(body.questions),
        via=via,
    )
    return quiz.id


async def update_quiz(session: AsyncSession, quiz: Quiz, patch: QuizPatch, actor: str) -> None:
    check_draft(quiz, "changed")
    sent = patch.model_fields_set
    for name in ("title", *SETTING_FIELDS):
        if name in sent:
            value = getattr(patch, name)
            if value is None and name not in ("time_limit_seconds", "max_attempts"):
                raise InvalidInput(
                    f"{name} cannot be null.",
                    details=[{"field": f"body.{name}", "message": "cannot be null"}],
                )
            setattr(quiz, name, value.value if hasattr(value, "value") else value)
    if "track" in sent or "project_id" in sent:
        track = patch.track if "track" in sent else (quiz.track.code if quiz.track else None)
        project_id = patch.project_id if "project_id" in sent else quiz.project_id
        if "track" in sent and "project_id" not in sent and patch.track is None:
            project_id = None  # unlinking the track unlinks the project too
        await _link(session, quiz, track, project_id)
    _check_settings(quiz)
    if patch.questions is not None:
        quiz.questions.clear()
        await session.flush()  # old rows go before the new ones take their order numbers
        quiz.questions.extend(build_questions(patch.questions))
    quiz.updated_at = utcnow()
    await session.flush()
    record_event(session, "quiz.updated", quiz_id=quiz.id, actor=actor, fields=sorted(sent))


async def publish_quiz(session: AsyncSession, quiz: Quiz, actor: str) -> None:
    check_draft(quiz, "published again")
    if not quiz.questions:
        raise QuizEmpty(f"Quiz {quiz.id} has no questions yet; add some before publishing.")
    quiz.status = QuizStatus.PUBLISHED.value
    quiz.published_at = quiz.updated_at = utcnow()
    await session.flush()
    record_event(session, "quiz.published", quiz_id=quiz.id, actor=actor)


async def archive_quiz(session: AsyncSession, quiz: Quiz, actor: str) -> None:
    """No new attempts; existing ones stay readable. Archiving twice changes nothing."""
    if quiz.status == QuizStatus.ARCHIVED:
        return
    quiz.status = QuizStatus.ARCHIVED.value
    quiz.updated_at = utcnow()
    await session.flush()
    record_event(session, "quiz.archived", quiz_id=quiz.id, actor=actor)


async def delete_quiz(session: AsyncSession, quiz: Quiz, actor: str) -> None:
    taken = await session.scalar(
        select(func.count(QuizAttempt.id)).where(QuizAttempt.quiz_id == quiz.id)
    )
    if taken:
        raise QuizHasAttempts(
            f"Quiz {quiz.id} has {taken} attempt(s); archive it instead of deleting it.",
            details={"attempts": taken},
        )
    await session.delete(quiz)
    await session.flush()
    record_event(session, "quiz.deleted", quiz_id=quiz.id, actor=actor)
