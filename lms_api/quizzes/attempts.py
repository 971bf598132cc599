"""Taking a quiz: start, autosave, submit, expire, and what a student may see of it.

Concurrency, on PostgreSQL and SQLite alike:
- Starting takes the next attempt number with `INSERT ... ON CONFLICT DO NOTHING` on the
  unique (quiz, student, number): two concurrent starts get the same attempt, and
  `max_attempts` can never be passed.
- Every save first runs a conditional UPDATE on the attempt row (`status = IN_PROGRESS`),
  which locks it, so saves of one attempt serialize, and a save can never land after the
  attempt was graded.
- Submitting claims the attempt with one conditional UPDATE (`IN_PROGRESS` -> final). Of two
  concurrent submits one grades; the other finds it graded and answers the same result.
The time limit is the server's: past `deadline_at` (plus `quiz_time_grace_seconds` for the
network) answers are refused and the attempt is graded as it stood.
"""

import random
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from lms_api.auth import ADMIN_ROLES, STAFF_ROLES, Principal, Role
from lms_api.enrollments.service import insert_if_absent
from lms_api.errors import ApiError
from lms_api.outbox import record_event
from lms_api.people.models import Person
from lms_api.people.service import (
    get_or_create_person,
    may_see_records_of,
    students_of_trainer,
    visible_records,
)
from lms_api.quizzes.content import QuestionType, QuizStatus, RevealPolicy
from lms_api.quizzes.grading import Mark, mark_answer
from lms_api.quizzes.models import (
    AttemptStatus,
    Quiz,
    QuizAnswerEvent,
    QuizAttempt,
    StudentAnswer,
)
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
from lms_api.quizzes.snapshot import QuestionData, QuizContent, content_of
from lms_api.timestamps import as_utc, utcnow

FINAL = (AttemptStatus.SUBMITTED.value, AttemptStatus.EXPIRED.value)


class AttemptNotFound(Exception):
    """No such attempt, or not one the caller may see."""


class AttemptExpired(Exception):
    """The time ran out: the attempt was graded as it stood (that change is kept)."""

    def __init__(self, attempt_id: int) -> None:
        super().__init__(attempt_id)
        self.attempt_id = attempt_id


@dataclass(frozen=True)
class Clock:
    """Now, and the slack allowed after a deadline (one per request)."""

    now: datetime
    grace: timedelta

    def overdue(self, attempt: QuizAttempt) -> bool:
        return self.past(attempt.deadline_at)

    def past(self, deadline: datetime | None) -> bool:
        return deadline is not None and self.now > as_utc(deadline) + self.grace


def clock(grace_seconds: float) -> Clock:
    return Clock(utcnow(), timedelta(seconds=grace_seconds))


# --- loading -------------------------------------------------------------------------------
def _with_quiz(statement: Select[Any]) -> Select[Any]:
    """The attempt with its student and quiz row, in one query (questions come from the
    snapshot cache, answers only where needed)."""
    return statement.options(joinedload(QuizAttempt.person), joinedload(QuizAttempt.quiz))


async def load_attempt(session: AsyncSession, attempt_id: int) -> QuizAttempt | None:
    return await session.scalar(
        _with_quiz(select(QuizAttempt).where(QuizAttempt.id == attempt_id)).execution_options(
            populate_existing=True
        )
    )


async def answers_of(session: AsyncSession, attempt_id: int) -> dict[int, StudentAnswer]:
    """The attempt's answers by question id, read as they are now (populate_existing: a
    concurrent save may just have committed)."""
    rows = await session.scalars(
        select(StudentAnswer)
        .where(StudentAnswer.attempt_id == attempt_id)
        .execution_options(populate_existing=True)
    )
    return {a.question_id: a for a in rows}


async def visible_attempt(session: AsyncSession, caller: Principal, attempt_id: int) -> QuizAttempt:
    """The attempt if the caller may read it: its student, their trainer, admins."""
    attempt = await load_attempt(session, attempt_id)
    if attempt is None or not await may_see_records_of(session, caller, attempt.person.username):
        raise AttemptNotFound
    return attempt


async def own_attempt(session: AsyncSession, caller: Principal, attempt_id: int) -> QuizAttempt:
    """The attempt if it is the caller's own (only its student answers and submits)."""
    attempt = await visible_attempt(session, caller, attempt_id)
    if attempt.person.username != caller.name:
        raise ApiError(403, "Only the student taking this attempt may answer or submit it.")
    return attempt


# --- starting ------------------------------------------------------------------------------
def _orders(quiz: Quiz, content: QuizContent) -> tuple[list[int], dict[str, list[int]]]:
    """The question and option order of a new attempt (shuffled if the quiz says so)."""
    shuffle = random.SystemRandom().shuffle
    questions = list(content.questions)
    if quiz.shuffle_questions:
        shuffle(questions)
    options: dict[str, list[int]] = {}
    for question in questions:
        ids = list(question.option_ids)
        if quiz.shuffle_options:
            shuffle(ids)
        options[str(question.id)] = ids
    return [q.id for q in questions], options


async def start_attempt(
    session: AsyncSession, caller: Principal, quiz: Quiz, now: Clock
) -> tuple[int, bool]:
    """(attempt id, whether it is new): an unfinished attempt is resumed, not duplicated."""
    if caller.role in STAFF_ROLES:
        raise ApiError(
            403,
            "Only students take quizzes; trainers and admins read the questions with "
            f"GET /api/v1/quizzes/{quiz.id}.",
        )
    if quiz.status != QuizStatus.PUBLISHED:
        raise ApiError(
            409,
            f"Quiz {quiz.id} is {quiz.status}; only published quizzes can be started.",
            code="quiz_not_published",
        )
    person = await get_or_create_person(session, caller.name)
    mine = QuizAttempt.quiz_id == quiz.id, QuizAttempt.person_id == person.id
    used = await session.scalar(select(func.max(QuizAttempt.number)).where(*mine)) or 0
    open_ones = (
        await session.execute(
            select(QuizAttempt.id, QuizAttempt.deadline_at).where(
                *mine, QuizAttempt.status == AttemptStatus.IN_PROGRESS.value
            )
        )
    ).all()
    for attempt_id, deadline in open_ones:
        if not now.past(deadline):
            return attempt_id, False
        overdue = await load_attempt(session, attempt_id)
        assert overdue is not None
        await finish(session, overdue, now)
    if quiz.max_attempts is not None and used >= quiz.max_attempts:
        raise ApiError(
            409,
            f"You have used all {quiz.max_attempts} attempt(s) of this quiz.",
            code="no_attempts_left",
            details={"max_attempts": quiz.max_attempts, "used": used},
        )
    content = await content_of(session, quiz)
    question_order, option_order = _orders(quiz, content)
    number = used + 1
    deadline = (
        now.now + timedelta(seconds=quiz.time_limit_seconds) if quiz.time_limit_seconds else None
    )
    inserted = await insert_if_absent(
        session,
        QuizAttempt,
        {
            "quiz_id": quiz.id,
            "person_id": person.id,
            "number": number,
            "status": AttemptStatus.IN_PROGRESS.value,
            "started_at": now.now,
            "deadline_at": deadline,
            "max_score": content.max_score,
            "question_order": question_order,
            "option_order": option_order,
            "revision": 0,
        },
        ["quiz_id", "person_id", "number"],
    )
    attempt = await session.scalar(
        select(QuizAttempt).where(
            QuizAttempt.quiz_id == quiz.id,
            QuizAttempt.person_id == person.id,
            QuizAttempt.number == number,
        )
    )
    assert attempt is not None
    if not inserted:  # a concurrent start of the same student won: resume that one
        if attempt.status != AttemptStatus.IN_PROGRESS:
            raise ApiError(409, "Your attempts changed meanwhile; try again.", code="conflict")
        return attempt.id, False
    record_event(
        session,
        "quiz.attempt_started",
        attempt_id=attempt.id,
        quiz_id=quiz.id,
        username=caller.name,
        number=number,
    )
    return attempt.id, True


# --- answering -----------------------------------------------------------------------------
def _question_of(attempt: QuizAttempt, content: QuizContent, question_id: int) -> QuestionData:
    if question_id in attempt.question_order and question_id in content.by_id:
        return content.by_id[question_id]
    raise ApiError(
        404,
        f"Question {question_id} is not part of attempt {attempt.id}.",
        details={"question_id": question_id},
    )


def _check_choice(question: QuestionData, option_ids: list[int]) -> list[int]:
    chosen = sorted(set(option_ids))
    known = question.options_by_id
    unknown = [i for i in chosen if i not in known]
    if unknown:
        raise ApiError(
            422,
            f"Option(s) {unknown} are not options of question {question.id}.",
            code="invalid_input",
            details=[{"field": "body.option_ids", "message": f"unknown options {unknown}"}],
        )
    if question.type == QuestionType.SINGLE and len(chosen) > 1:
        raise ApiError(
            422,
            f"Question {question.id} takes one option (SINGLE); {len(chosen)} were sent.",
            code="invalid_input",
            details=[{"field": "body.option_ids", "message": "one option at most"}],
        )
    return chosen


def _mark(question: QuestionData, chosen: list[int] | None, scoring: str) -> Mark:
    return mark_answer(
        question.type, question.points, question.correct_ids, question.option_ids, chosen, scoring
    )


def _log(
    session: AsyncSession,
    attempt: QuizAttempt,
    question_id: int,
    kind: str,
    chosen: list[int] | None,
    question: QuestionData,
    at: datetime,
) -> Mark:
    """Mark the choice and append it to the answer log (`save` or `graded`)."""
    mark = _mark(question, chosen, attempt.quiz.multiple_scoring)
    session.add(
        QuizAnswerEvent(
            attempt_id=attempt.id,
            quiz_id=attempt.quiz_id,
            person_id=attempt.person_id,
            question_id=question_id,
            kind=kind,
            option_ids=list(chosen or []),
            correct=mark.correct,
            score=mark.score,
            created_at=at,
        )
    )
    return mark


async def _claim_for_save(session: AsyncSession, attempt: QuizAttempt) -> None:
    """Lock the attempt row while it is in progress; 409 if it has been graded."""
    locked = await session.execute(
        update(QuizAttempt)
        .where(QuizAttempt.id == attempt.id, QuizAttempt.status == AttemptStatus.IN_PROGRESS.value)
        .values(revision=QuizAttempt.revision + 1)
        .execution_options(synchronize_session=False)
    )
    if locked.rowcount != 1:
        raise ApiError(
            409,
            f"Attempt {attempt.id} is already submitted; answers can no longer change.",
            code="attempt_closed",
        )


async def save_answer(
    session: AsyncSession,
    attempt: QuizAttempt,
    question_id: int,
    option_ids: list[int],
    now: Clock,
) -> StudentAnswer:
    """Save (or re-save) one answer; the same answer twice changes nothing."""
    content = await content_of(session, attempt.quiz)
    question = _question_of(attempt, content, question_id)
    chosen = _check_choice(question, option_ids)
    await _claim_for_save(session, attempt)
    if now.overdue(attempt):
        await finish(session, attempt, now)
        raise AttemptExpired(attempt.id)
    # Read again now that the row is locked; populate_existing, because the answers loaded
    # with the attempt before the lock may be stale (a concurrent save just committed).
    answer = await session.scalar(
        select(StudentAnswer)
        .where(StudentAnswer.attempt_id == attempt.id, StudentAnswer.question_id == question_id)
        .execution_options(populate_existing=True)
    )
    if answer is not None and sorted(answer.selected_option_ids) == chosen:
        return answer
    if answer is None:
        answer = StudentAnswer(
            attempt_id=attempt.id,
            question_id=question_id,
            selected_option_ids=chosen,
            answered_at=now.now,
            changed_count=0,
        )
        session.add(answer)
    else:
        answer.selected_option_ids = chosen
        answer.answered_at = now.now
        answer.changed_count += 1
    _log(session, attempt, question_id, "save", chosen, question, now.now)
    await session.flush()
    return answer


# --- finishing -----------------------------------------------------------------------------
async def finish(session: AsyncSession, attempt: QuizAttempt, now: Clock) -> bool:
    """Grade the attempt if it is still in progress: SUBMITTED, or EXPIRED when past its
    deadline. False when it was already graded (by a concurrent request, say)."""
    expired = now.overdue(attempt)
    status = AttemptStatus.EXPIRED if expired else AttemptStatus.SUBMITTED
    at = min(now.now, as_utc(attempt.deadline_at)) if expired and attempt.deadline_at else now.now
    claimed = await session.execute(
        update(QuizAttempt)
        .where(QuizAttempt.id == attempt.id, QuizAttempt.status == AttemptStatus.IN_PROGRESS.value)
        .values(status=status.value, submitted_at=at, graded_at=now.now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        return False
    # The claim waited for any save holding the row: read the answers as they are now.
    answers = await answers_of(session, attempt.id)
    questions = (await content_of(session, attempt.quiz)).by_id
    total = 0.0
    for question_id in attempt.question_order:
        question, answer = questions[question_id], answers.get(question_id)
        chosen = answer.selected_option_ids if answer else None
        mark = _log(session, attempt, question_id, "graded", chosen, question, at)
        total += mark.score
        if answer is not None:
            answer.is_correct, answer.score = mark.correct, mark.score
    total = round(total, 6)
    passed = attempt.max_score > 0 and total / attempt.max_score >= attempt.quiz.pass_mark
    await session.execute(
        update(QuizAttempt)
        .where(QuizAttempt.id == attempt.id)
        .values(score=total, passed=passed)
        .execution_options(synchronize_session=False)
    )
    record_event(
        session,
        "quiz.attempt_submitted",
        attempt_id=attempt.id,
        quiz_id=attempt.quiz_id,
        username=attempt.person.username,
        status=status.value,
        score=total,
        max_score=attempt.max_score,
        passed=passed,
    )
    await session.flush()
    return True


async def expire_overdue(session: AsyncSession, now: Clock, **where: Any) -> int:
    """Grade every in-progress attempt past its deadline (matching `where`: quiz_id,
    person_id), so lists never show an attempt running after its time ran out."""
    statement = select(QuizAttempt.id).where(
        QuizAttempt.status == AttemptStatus.IN_PROGRESS.value,
        QuizAttempt.deadline_at.is_not(None),
        QuizAttempt.deadline_at < now.now - now.grace,
    )
    for name, value in where.items():
        statement = statement.where(getattr(QuizAttempt, name) == value)
    finished = 0
    for attempt_id in list(await session.scalars(statement)):
        attempt = await load_attempt(session, attempt_id)
        assert attempt is not None
        finished += await finish(session, attempt, now)
    return finished


# --- what may be shown ---------------------------------------------------------------------
async def answers_revealed(session: AsyncSession, caller: Principal, attempt: QuizAttempt) -> bool:
    """Keys are for staff always; for the student only after submission, as the quiz says."""
    if caller.role in STAFF_ROLES:
        return True
    if attempt.status not in FINAL:
        return False
    policy = attempt.quiz.reveal_policy
    if policy == RevealPolicy.AFTER_SUBMISSION:
        return True
    if policy == RevealPolicy.AFTER_LAST_ATTEMPT and attempt.quiz.max_attempts is not None:
        rows = list(
            await session.scalars(
                select(QuizAttempt.status).where(
                    QuizAttempt.quiz_id == attempt.quiz_id,
                    QuizAttempt.person_id == attempt.person_id,
                )
            )
        )
        return len(rows) >= attempt.quiz.max_attempts and all(s in FINAL for s in rows)
    return False


REVEAL_NOTES = {
    RevealPolicy.AFTER_SUBMISSION: "Which answers were right, and the correct answers, are "
    "shown once the attempt is submitted.",
    RevealPolicy.AFTER_LAST_ATTEMPT: "Your total score is shown after each attempt; which "
    "answers were right, and the correct answers, after your last attempt.",
    RevealPolicy.NEVER: "This quiz shows only your total score and whether you passed, never "
    "which answers were right.",
}


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
    now: Clock,
    *,
    new: bool = False,
) -> AttemptDetail:
    """`new`: just started, so no answers to read."""
    revealed = await answers_revealed(session, caller, attempt)
    graded = attempt.status in FINAL
    questions = (await content_of(session, attempt.quiz)).by_id
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
        seconds_left = max(0.0, (as_utc(attempt.deadline_at) - now.now).total_seconds())
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
    statement = _with_quiz(select(QuizAttempt)).join(Person, QuizAttempt.person_id == Person.id)
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
