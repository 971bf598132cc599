"""Attempts as the API shows them: summaries, details (keys only as attempt_access allows),
lists and a quiz's results; reading and presenting, apart from the state machine.
"""

import statistics
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from lms_api.access import students_of_trainer, visible_records
from lms_api.people.models import Person
from lms_api.principal import ADMIN_ROLES, Principal, Role
from lms_api.quizzes.attempt_access import REVEAL_NOTES, answers_revealed
from lms_api.quizzes.attempts import FINAL, Clock, answers_of, with_student_and_quiz
from lms_api.quizzes.content import QuestionType, RevealPolicy
from lms_api.quizzes.enums import AttemptStatus
from lms_api.quizzes.models import Quiz, QuizAttempt, StudentAnswer
from lms_api.quizzes.schemas import (
    AnswerKey,
    AttemptDetail,
    AttemptOption,
    AttemptQuestion,
    AttemptSummary,
    KeyOption,
    QuestionResult,
    QuestionStats,
    QuizResults,
)
from lms_api.quizzes.snapshot import content_of
from lms_api.timestamps import as_utc


def summary(attempt: QuizAttempt) -> AttemptSummary:
    score = attempt.score
    return AttemptSummary(
        id=attempt.id,
        quiz_id=attempt.quiz_id,
        quiz_title=attempt.quiz.title,
        username=attempt.person.username,
        number=attempt.number,
        status=AttemptStatus(attempt.status),
        started_at=attempt.started_at,
        deadline_at=attempt.deadline_at,
        submitted_at=attempt.submitted_at,
        score=score,
        max_score=attempt.max_score,
        score_fraction=round(score / attempt.max_score, 6)
        if score is not None and attempt.max_score
        else None,
        passed=attempt.passed,
    )


async def detail(
    session: AsyncSession,
    caller: Principal,
    attempt: QuizAttempt,
    clock: Clock,
    *,
    new: bool = False,
    answers: Mapping[int, Any] | None = None,
) -> AttemptDetail:
    """`new`: just started, so no answers to read; `answers`: as just graded (by question
    id), so not read again."""
    revealed = await answers_revealed(session, caller, attempt)
    graded = attempt.status in FINAL
    questions = (await content_of(session, attempt.quiz)).by_id
    if answers is None:
        answers = {} if new else await answers_of(session, attempt.id)
    shown = []
    for position, question_id in enumerate(attempt.question_order, start=1):
        question, answer = questions[question_id], answers.get(question_id)
        by_id = question.options_by_id
        order = attempt.option_order.get(str(question_id), list(by_id))
        result = None
        # Per-question correctness is part of the key: over several attempts it would give
        # the key away, so it is shown only when the key is (unanswered: wrong, score 0).
        if graded and revealed:
            result = QuestionResult(
                correct=bool(answer and answer.is_correct),
                score=answer.score if answer and answer.score is not None else 0.0,
            )
        key = None
        if revealed:
            key = AnswerKey(
                correct_option_ids=[i for i in order if by_id[i].is_correct],
                explanation=question.explanation,
                options=[
                    KeyOption(
                        option_id=i, is_correct=by_id[i].is_correct, rationale=by_id[i].rationale
                    )
                    for i in order
                ],
            )
        shown.append(
            AttemptQuestion(
                id=question.id,
                position=position,
                text=question.text,
                type=QuestionType(question.type),
                points=question.points,
                options=[AttemptOption(id=i, text=by_id[i].text) for i in order],
                selected_option_ids=list(answer.selected_option_ids) if answer else [],
                answered_at=answer.answered_at if answer else None,
                result=result,
                key=key,
            )
        )
    seconds_left = None
    if attempt.status == AttemptStatus.IN_PROGRESS and attempt.deadline_at is not None:
        seconds_left = max(0.0, (as_utc(attempt.deadline_at) - clock.now).total_seconds())
    return AttemptDetail(
        **summary(attempt).model_dump(),
        seconds_left=seconds_left,
        answers_revealed=revealed,
        reveal_note=REVEAL_NOTES[RevealPolicy(attempt.quiz.reveal_policy)],
        questions=shown,
    )


# --- lists and results ---------------------------------------------------------------------
def list_attempts(
    caller: Principal,
    *,
    quiz_id: int | None = None,
    username: str | None = None,
    status: AttemptStatus | None = None,
) -> Select[tuple[QuizAttempt]]:
    """Attempts the caller may see: own for students, their students' for trainers, all for
    admins; newest first."""
    statement = with_student_and_quiz(select(QuizAttempt)).join(
        Person, QuizAttempt.person_id == Person.id
    )
    statement = visible_records(statement, caller, QuizAttempt.person_id)
    if quiz_id is not None:
        statement = statement.where(QuizAttempt.quiz_id == quiz_id)
    if username is not None:
        statement = statement.where(Person.username == username)
    if status is not None:
        statement = statement.where(QuizAttempt.status == status.value)
    return statement.order_by(QuizAttempt.id.desc())


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 6) if whole else None


async def quiz_results(session: AsyncSession, caller: Principal, quiz: Quiz) -> QuizResults:
    """Finished attempts of the quiz in the caller's scope, and how each question fared."""
    scope = select(QuizAttempt).where(QuizAttempt.quiz_id == quiz.id)  # quiz: with questions
    if caller.role == Role.TRAINER:
        scope = scope.where(QuizAttempt.person_id.in_(students_of_trainer(caller.name)))
    attempts = list(await session.scalars(scope))
    done = [a for a in attempts if a.status in FINAL]
    fractions = [a.score / a.max_score for a in done if a.score is not None and a.max_score]
    students = {a.person_id for a in done}
    passed = {a.person_id for a in done if a.passed}
    by_question: dict[int, list[StudentAnswer]] = {}
    if done:
        for answer in await session.scalars(
            select(StudentAnswer).where(StudentAnswer.attempt_id.in_([a.id for a in done]))
        ):
            by_question.setdefault(answer.question_id, []).append(answer)
    stats = []
    for question in quiz.questions:
        given = by_question.get(question.id, [])
        stats.append(
            QuestionStats(
                question_id=question.id,
                order=question.order,
                text=question.text,
                answered=sum(1 for a in given if a.selected_option_ids),
                correct_rate=_ratio(sum(1 for a in given if a.is_correct), len(done)),
                mean_score=_ratio(sum(a.score or 0.0 for a in given), len(done) * question.points),
            )
        )
    return QuizResults(
        quiz_id=quiz.id,
        title=quiz.title,
        scope="all students" if caller.role in ADMIN_ROLES else "your students",
        students=len(students),
        attempts=len(done),
        in_progress=len(attempts) - len(done),
        mean_score=round(statistics.fmean(fractions), 6) if fractions else None,
        median_score=round(statistics.median(fractions), 6) if fractions else None,
        pass_rate=_ratio(len(passed), len(students)),
        questions=stats,
    )
