"""Taking a quiz: the attempt's state machine (load, start, autosave, submit, expire) and its
clock. Who may see an attempt is attempt_access's; how it is shown, attempt_views'.

Concurrency, on PostgreSQL and SQLite alike:
- Starting takes the next attempt number with `INSERT ... ON CONFLICT DO NOTHING` on the
  unique (quiz, student, number): two concurrent starts get the same attempt, and
  `max_attempts` can never be passed.
- Every save first runs a conditional UPDATE on the attempt row (`status = IN_PROGRESS`),
  which locks it, so saves of one attempt serialize, and a save can never land after the
  attempt was graded. On PostgreSQL the lock, the answer's upsert and its log row are one
  statement (data-modifying CTEs, each fed by the one before it, so the upsert runs once the
  lock is held and sees the answer as committed then); elsewhere they are three.
- Submitting claims the attempt with one conditional UPDATE (`IN_PROGRESS` -> final). Of two
  concurrent submits one grades; the other finds it graded and answers the same result.
The time limit is the server's: past `deadline_at` (plus `quiz_time_grace_seconds` for the
network) answers are refused and the attempt is graded as it stood.
"""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Select, bindparam, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from lms_api.errors import (
    AttemptClosed,
    Conflict,
    DomainError,
    ErrorCode,
    Forbidden,
    InvalidInput,
    NoAttemptsLeft,
    NotFound,
    QuizNotPublished,
)
from lms_api.outbox import record_event
from lms_api.people.models import Person
from lms_api.people.service import get_or_create_person
from lms_api.principal import STAFF_ROLES, Principal
from lms_api.quizzes.content import QuestionType, QuizStatus
from lms_api.quizzes.enums import AttemptStatus
from lms_api.quizzes.grading import Mark, mark_answer
from lms_api.quizzes.models import Quiz, QuizAnswerEvent, QuizAttempt, StudentAnswer
from lms_api.quizzes.snapshot import QuestionData, QuizContent, content_of
from lms_api.timestamps import as_utc, utcnow

FINAL = (AttemptStatus.SUBMITTED.value, AttemptStatus.EXPIRED.value)


class AttemptExpired(DomainError):
    """The time ran out: the attempt was graded as it stood (the route commits that grading
    before this error propagates)."""

    status, code = 409, ErrorCode.ATTEMPT_EXPIRED

    def __init__(self, attempt_id: int) -> None:
        super().__init__(
            f"The time limit of attempt {attempt_id} has passed; it was graded as it stood. "
            f"See GET /api/v1/attempts/{attempt_id}."
        )
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


def request_clock(grace_seconds: float) -> Clock:
    """The clock of one request: now, with the deadline grace of the settings."""
    return Clock(utcnow(), timedelta(seconds=grace_seconds))


# --- loading -------------------------------------------------------------------------------
def with_student_and_quiz(statement: Select[Any]) -> Select[Any]:
    """The attempt with its student and quiz row, in one query (questions come from the
    snapshot cache, answers only where needed)."""
    return statement.options(joinedload(QuizAttempt.person), joinedload(QuizAttempt.quiz))


async def load_attempt(session: AsyncSession, attempt_id: int) -> QuizAttempt | None:
    return await session.scalar(
        with_student_and_quiz(
            select(QuizAttempt).where(QuizAttempt.id == attempt_id)
        ).execution_options(populate_existing=True)
    )


async def load_attempt_and_caller(
    session: AsyncSession, attempt_id: int, caller: str
) -> tuple[QuizAttempt | None, bool | None]:
    """`load_attempt`, and in the same query the caller's `is_active` (None when there is no
    such attempt, or no profile of the caller)."""
    active = (
        select(Person.is_active).where(Person.username == caller).scalar_subquery().label("active")
    )
    row = (
        await session.execute(
            with_student_and_quiz(
                select(QuizAttempt, active).where(QuizAttempt.id == attempt_id)
            ).execution_options(populate_existing=True)
        )
    ).first()
    return (None, None) if row is None else (row[0], row[1])


async def answers_of(session: AsyncSession, attempt_id: int) -> dict[int, StudentAnswer]:
    """The attempt's answers by question id, read as they are now (populate_existing: a
    concurrent save may just have committed)."""
    rows = await session.scalars(
        select(StudentAnswer)
        .where(StudentAnswer.attempt_id == attempt_id)
        .execution_options(populate_existing=True)
    )
    return {a.question_id: a for a in rows}


@dataclass(frozen=True)
class QuizRef:
    """What answering needs of the quiz row (the snapshot's key, the scoring)."""

    id: int
    status: str
    published_at: datetime | None
    multiple_scoring: str


@dataclass(frozen=True)
class PersonRef:
    username: str


@dataclass(frozen=True)
class AttemptRef:
    """An attempt as a save needs it, read with plain Core (no ORM objects): the hot path of
    taking a quiz. Named like QuizAttempt's attributes, so the access rules read either."""

    id: int
    quiz_id: int
    person_id: int
    status: str
    deadline_at: datetime | None
    question_order: list[int]
    person: PersonRef
    quiz: QuizRef


_attempts, _people, _quizzes = QuizAttempt.__table__, Person.__table__, Quiz.__table__
_ATTEMPT_REF = (
    select(
        _attempts.c.id,
        _attempts.c.quiz_id,
        _attempts.c.person_id,
        _attempts.c.status,
        _attempts.c.deadline_at,
        _attempts.c.question_order,
        _people.c.username,
        _quizzes.c.status.label("quiz_status"),
        _quizzes.c.published_at,
        _quizzes.c.multiple_scoring,
    )
    .select_from(
        _attempts.join(_people, _attempts.c.person_id == _people.c.id).join(
            _quizzes, _attempts.c.quiz_id == _quizzes.c.id
        )
    )
    .where(_attempts.c.id == bindparam("attempt_id"))
)


_ATTEMPT_REF_AND_CALLER = _ATTEMPT_REF.add_columns(
    select(_people.c.is_active)
    .where(_people.c.username == bindparam("caller"))
    .scalar_subquery()
    .label("caller_active")
)


async def load_attempt_ref(session: AsyncSession, attempt_id: int) -> AttemptRef | None:
    """The attempt with its student's name and its quiz's key fields, in one Core query."""
    row = (await session.execute(_ATTEMPT_REF, {"attempt_id": attempt_id})).first()
    return None if row is None else _attempt_ref(row)


async def load_attempt_ref_and_caller(
    session: AsyncSession, attempt_id: int, caller: str
) -> tuple[AttemptRef | None, bool | None]:
    """`load_attempt_ref`, and in the same query the caller's `is_active` (None when there is
    no such attempt, or no profile of the caller)."""
    params = {"attempt_id": attempt_id, "caller": caller}
    row = (await session.execute(_ATTEMPT_REF_AND_CALLER, params)).first()
    return (None, None) if row is None else (_attempt_ref(row), row.caller_active)


def _attempt_ref(row: Any) -> AttemptRef:
    return AttemptRef(
        id=row.id,
        quiz_id=row.quiz_id,
        person_id=row.person_id,
        status=row.status,
        deadline_at=row.deadline_at,
        question_order=row.question_order,
        person=PersonRef(row.username),
        quiz=QuizRef(row.quiz_id, row.quiz_status, row.published_at, row.multiple_scoring),
    )


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
    session: AsyncSession, caller: Principal, quiz: Quiz, clock: Clock
) -> tuple[int, QuizAttempt | None]:
    """(attempt id, the new attempt as load_attempt reads it, or None when an unfinished
    attempt is resumed: never duplicated)."""
    if caller.role in STAFF_ROLES:
        raise Forbidden(
            "Only students take quizzes; trainers and admins read the questions with "
            f"GET /api/v1/quizzes/{quiz.id}."
        )
    if quiz.status != QuizStatus.PUBLISHED:
        raise QuizNotPublished(
            f"Quiz {quiz.id} is {quiz.status}; only published quizzes can be started."
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
        if not clock.past(deadline):
            return attempt_id, None
        overdue = await load_attempt(session, attempt_id)
        assert overdue is not None
        await finish(session, overdue, clock)
    if quiz.max_attempts is not None and used >= quiz.max_attempts:
        raise NoAttemptsLeft(
            f"You have used all {quiz.max_attempts} attempt(s) of this quiz.",
            details={"max_attempts": quiz.max_attempts, "used": used},
        )
    content = await content_of(session, quiz)
    question_order, option_order = _orders(quiz, content)
    number = used + 1
    deadline = (
        clock.now + timedelta(seconds=quiz.time_limit_seconds) if quiz.time_limit_seconds else None
    )
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    inserted = await session.scalar(
        insert(_attempts)
        .values(
            quiz_id=quiz.id,
            person_id=person.id,
            number=number,
            status=AttemptStatus.IN_PROGRESS.value,
            started_at=clock.now,
            deadline_at=deadline,
            max_score=content.max_score,
            question_order=question_order,
            option_order=option_order,
            revision=0,
        )
        .on_conflict_do_nothing(index_elements=["quiz_id", "person_id", "number"])
        .returning(_attempts.c.id)
    )
    if inserted is None:  # a concurrent start of the same student won: resume that one
        attempt = await session.scalar(
            select(QuizAttempt).where(
                QuizAttempt.quiz_id == quiz.id,
                QuizAttempt.person_id == person.id,
                QuizAttempt.number == number,
            )
        )
        assert attempt is not None
        if attempt.status != AttemptStatus.IN_PROGRESS:
            raise Conflict("Your attempts changed meanwhile; try again.")
        return attempt.id, None
    record_event(
        session,
        "quiz.attempt_started",
        attempt_id=inserted,
        quiz_id=quiz.id,
        username=caller.name,
        number=number,
    )
    new = await load_attempt(session, inserted)  # with its student and quiz, for the detail
    assert new is not None
    return inserted, new


# --- answering -----------------------------------------------------------------------------
def _question_of(attempt: QuizAttempt, content: QuizContent, question_id: int) -> QuestionData:
    if question_id in attempt.question_order and question_id in content.by_id:
        return content.by_id[question_id]
    raise NotFound(
        f"Question {question_id} is not part of attempt {attempt.id}.",
        details={"question_id": question_id},
    )


def _check_choice(question: QuestionData, option_ids: list[int]) -> list[int]:
    chosen = sorted(set(option_ids))
    known = question.options_by_id
    unknown = [i for i in chosen if i not in known]
    if unknown:
        raise InvalidInput(
            f"Option(s) {unknown} are not options of question {question.id}.",
            details=[{"field": "body.option_ids", "message": f"unknown options {unknown}"}],
        )
    if question.type == QuestionType.SINGLE and len(chosen) > 1:
        raise InvalidInput(
            f"Question {question.id} takes one option (SINGLE); {len(chosen)} were sent.",
            details=[{"field": "body.option_ids", "message": "one option at most"}],
        )
    return chosen


def _mark(question: QuestionData, chosen: list[int] | None, scoring: str) -> Mark:
    return mark_answer(
        question.type, question.points, question.correct_ids, question.option_ids, chosen, scoring
    )


async def _claim_for_save(session: AsyncSession, attempt: QuizAttempt | AttemptRef) -> None:
    """Lock the attempt row while it is in progress; 409 if it has been graded."""
    locked = await session.execute(
        update(QuizAttempt)
        .where(QuizAttempt.id == attempt.id, QuizAttempt.status == AttemptStatus.IN_PROGRESS.value)
        .values(revision=QuizAttempt.revision + 1)
        .execution_options(synchronize_session=False)
    )
    if locked.rowcount != 1:
        raise _closed(attempt.id)


def _closed(attempt_id: int) -> AttemptClosed:
    return AttemptClosed(
        f"Attempt {attempt_id} is already submitted; answers can no longer change."
    )


@dataclass(frozen=True)
class SavedAnswer:
    """The answer as stored after a save."""

    selected_option_ids: list[int]
    answered_at: datetime
    changed_count: int


_answers, _events = StudentAnswer.__table__, QuizAnswerEvent.__table__
_SAVE_PARAMS = (
    bindparam("attempt_id"),
    bindparam("question_id"),
    bindparam("chosen", type_=JSON),
    bindparam("now", type_=_answers.c.answered_at.type),
    bindparam("quiz_id"),
    bindparam("person_id"),
    bindparam("correct"),
    bindparam("score"),
)
# PostgreSQL: lock, upsert and log in one round trip. `saved` reads `claimed` and `logged`
# reads `saved`, so each runs after the one before: the upsert only once the attempt row is
# locked (none if it is graded: claimed is empty), and it sees the answer as committed then
# (ON CONFLICT reads the latest row version, not the statement's snapshot). An unchanged
# answer is neither updated nor logged (`saved` is then empty).
_SAVE_PG = text(
    """
WITH claimed AS (
    UPDATE quiz_attempts SET revision = revision + 1
    WHERE id = CAST(:attempt_id AS integer) AND status = 'IN_PROGRESS'
    RETURNING id
), saved AS (
    INSERT INTO quiz_answers (attempt_id, question_id, selected_option_ids, answered_at,
                              changed_count)
    SELECT id, CAST(:question_id AS integer), CAST(:chosen AS json),
           CAST(:now AS timestamptz), 0
    FROM claimed
    ON CONFLICT (attempt_id, question_id) DO UPDATE
    SET selected_option_ids = excluded.selected_option_ids,
        answered_at = excluded.answered_at,
        changed_count = quiz_answers.changed_count + 1
    WHERE quiz_answers.selected_option_ids::jsonb <> excluded.selected_option_ids::jsonb
    RETURNING answered_at, changed_count
), logged AS (
    INSERT INTO quiz_answer_events (attempt_id, quiz_id, person_id, question_id, kind,
                                    option_ids, correct, score, created_at)
    SELECT CAST(:attempt_id AS integer), CAST(:quiz_id AS integer),
           CAST(:person_id AS integer), CAST(:question_id AS integer), 'save',
           CAST(:chosen AS json), CAST(:correct AS boolean), CAST(:score AS double precision),
           CAST(:now AS timestamptz)
    FROM saved
)
SELECT (SELECT count(*) FROM claimed) AS claimed, saved.answered_at, saved.changed_count
FROM (SELECT 1) AS one LEFT JOIN saved ON true
"""
).bindparams(*_SAVE_PARAMS)
_STORED_ANSWER = select(
    _answers.c.selected_option_ids, _answers.c.answered_at, _answers.c.changed_count
).where(
    _answers.c.attempt_id == bindparam("attempt_id"),
    _answers.c.question_id == bindparam("question_id"),
)


def _upsert(dialect: str) -> Any:
    """Insert the answer, or change it if it differs (elsewhere than PostgreSQL)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(_answers).values(
        attempt_id=bindparam("attempt_id"),
        question_id=bindparam("question_id"),
        selected_option_ids=bindparam("chosen", type_=JSON),
        answered_at=bindparam("now", type_=_answers.c.answered_at.type),
        changed_count=0,
    )
    return statement.on_conflict_do_update(
        index_elements=[_answers.c.attempt_id, _answers.c.question_id],
        set_={
            "selected_option_ids": statement.excluded.selected_option_ids,
            "answered_at": statement.excluded.answered_at,
            "changed_count": _answers.c.changed_count + 1,
        },
        where=_answers.c.selected_option_ids != statement.excluded.selected_option_ids,
    ).returning(_answers.c.answered_at, _answers.c.changed_count)


def _answer_log(kind: str):
    """An answer-log row of `kind` (`save` or `graded`), its values as bound parameters."""
    return _events.insert().values(
        attempt_id=bindparam("attempt_id"),
        quiz_id=bindparam("quiz_id"),
        person_id=bindparam("person_id"),
        question_id=bindparam("question_id"),
        kind=kind,
        option_ids=bindparam("chosen", type_=JSON),
        correct=bindparam("correct"),
        score=bindparam("score"),
        created_at=bindparam("now", type_=_events.c.created_at.type),
    )


_LOG_SAVE = _answer_log("save")


async def save_answer(
    session: AsyncSession,
    attempt: QuizAttempt | AttemptRef,
    question_id: int,
    option_ids: list[int],
    clock: Clock,
) -> SavedAnswer:
    """Save (or re-save) one answer; the same answer twice changes nothing."""
    content = await content_of(session, attempt.quiz)  # type: ignore[arg-type]
    question = _question_of(attempt, content, question_id)
    chosen = _check_choice(question, option_ids)
    if clock.overdue(attempt):  # the deadline is fixed: known before the lock
        await _claim_for_save(session, attempt)
        graded = attempt
        if not isinstance(graded, QuizAttempt):
            graded = await load_attempt(session, attempt.id)
            assert graded is not None
        await finish(session, graded, clock)
        raise AttemptExpired(attempt.id)
    mark = _mark(question, chosen, attempt.quiz.multiple_scoring)
    params = {
        "attempt_id": attempt.id,
        "question_id": question_id,
        "chosen": chosen,
        "now": clock.now,
        "quiz_id": attempt.quiz_id,
        "person_id": attempt.person_id,
        "correct": mark.correct,
        "score": mark.score,
    }
    if session.get_bind().dialect.name == "postgresql":
        row = (await session.execute(_SAVE_PG, params)).one()
        if not row.claimed:
            raise _closed(attempt.id)
        saved = row if row.changed_count is not None else None
    else:
        await _claim_for_save(session, attempt)
        upsert = _upsert(session.get_bind().dialect.name)
        saved = (await session.execute(upsert, params)).first()
        if saved is not None:
            await session.execute(_LOG_SAVE, params)
    if saved is None:  # the same answer as stored: nothing changed
        stored = (await session.execute(_STORED_ANSWER, params)).one()
        return SavedAnswer(
            list(stored.selected_option_ids), stored.answered_at, stored.changed_count
        )
    return SavedAnswer(chosen, saved.answered_at, saved.changed_count)


# --- finishing -----------------------------------------------------------------------------
@dataclass
class GradedAnswer:
    """An answer as grading leaves it (what the attempt's detail shows)."""

    id: int
    question_id: int
    selected_option_ids: list[int]
    answered_at: datetime
    is_correct: bool | None = None
    score: float | None = None


_ANSWERS_NOW = select(
    _answers.c.id, _answers.c.question_id, _answers.c.selected_option_ids, _answers.c.answered_at
).where(_answers.c.attempt_id == bindparam("attempt_id"))
_MARK_ANSWER = (
    update(_answers)
    .where(_answers.c.id == bindparam("answer_id"))
    .values(is_correct=bindparam("correct"), score=bindparam("score"))
)
_LOG_GRADED = _answer_log("graded")
_SCORE = (
    update(_attempts)
    .where(_attempts.c.id == bindparam("attempt_id"))
    .values(score=bindparam("total"), passed=bindparam("passed"))
)
# PostgreSQL: the marks, the log rows (in question order) and the score in one round trip;
# the rows travel as one JSON parameter each, so the statement is the same for any quiz.
_GRADE_PG = text(
    """
WITH marks AS (
    UPDATE quiz_answers SET is_correct = m.correct, score = m.score
    FROM json_to_recordset(CAST(:marks AS json))
         AS m(answer_id integer, correct boolean, score double precision)
    WHERE quiz_answers.id = m.answer_id
), logged AS (
    INSERT INTO quiz_answer_events (attempt_id, quiz_id, person_id, question_id, kind,
                                    option_ids, correct, score, created_at)
    SELECT CAST(:attempt_id AS integer), CAST(:quiz_id AS integer),
           CAST(:person_id AS integer), e.question_id, 'graded', e.chosen, e.correct,
           e.score, CAST(:now AS timestamptz)
    FROM json_to_recordset(CAST(:logged AS json))
         AS e(n integer, question_id integer, chosen json, correct boolean,
              score double precision)
    ORDER BY e.n
)
UPDATE quiz_attempts SET score = CAST(:total AS double precision),
                         passed = CAST(:passed AS boolean)
WHERE id = CAST(:attempt_id AS integer)
"""
).bindparams(
    bindparam("marks", type_=JSON),
    bindparam("logged", type_=JSON),
    bindparam("now", type_=_events.c.created_at.type),
)


async def finish(session: AsyncSession, attempt: QuizAttempt, clock: Clock) -> bool:
    """Grade the attempt if it is still in progress: SUBMITTED, or EXPIRED when past its
    deadline. False when it was already graded (by a concurrent request, say)."""
    return await grade(session, attempt, clock) is not None


async def grade(
    session: AsyncSession, attempt: QuizAttempt, clock: Clock
) -> dict[int, GradedAnswer] | None:
    """`finish`, answering the graded answers by question id (None: graded before). The
    attempt object is left as the database now has it (status, times, score, passed), so
    its detail needs no second read."""
    expired = clock.overdue(attempt)
    status = AttemptStatus.EXPIRED if expired else AttemptStatus.SUBMITTED
    at = (
        min(clock.now, as_utc(attempt.deadline_at))
        if expired and attempt.deadline_at
        else clock.now
    )
    claimed = await session.execute(
        update(QuizAttempt)
        .where(QuizAttempt.id == attempt.id, QuizAttempt.status == AttemptStatus.IN_PROGRESS.value)
        .values(status=status.value, submitted_at=at, graded_at=clock.now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        return None
    # The claim waited for any save holding the row: read the answers as they are now.
    answers = {
        row.question_id: GradedAnswer(*row)
        for row in await session.execute(_ANSWERS_NOW, {"attempt_id": attempt.id})
    }
    questions = (await content_of(session, attempt.quiz)).by_id
    scoring = attempt.quiz.multiple_scoring
    total = 0.0
    logged, marked = [], []
    for question_id in attempt.question_order:
        question, answer = questions[question_id], answers.get(question_id)
        chosen = answer.selected_option_ids if answer else None
        mark = _mark(question, chosen, scoring)
        logged.append(
            {
                "attempt_id": attempt.id,
                "quiz_id": attempt.quiz_id,
                "person_id": attempt.person_id,
                "question_id": question_id,
                "chosen": list(chosen or []),
                "correct": mark.correct,
                "score": mark.score,
                "now": at,
            }
        )
        total += mark.score
        if answer is not None:
            answer.is_correct, answer.score = mark.correct, mark.score
            marked.append({"answer_id": answer.id, "correct": mark.correct, "score": mark.score})
    total = round(total, 6)
    passed = attempt.max_score > 0 and total / attempt.max_score >= attempt.quiz.pass_mark
    scored = {"attempt_id": attempt.id, "total": total, "passed": passed}
    if session.get_bind().dialect.name == "postgresql":
        rows = ("question_id", "chosen", "correct", "score")
        params = {
            **scored,
            "quiz_id": attempt.quiz_id,
            "person_id": attempt.person_id,
            "now": at,
            "marks": marked,
            "logged": [
                {"n": n, **{name: row[name] for name in rows}} for n, row in enumerate(logged)
            ],
        }
        await session.execute(_GRADE_PG, params)
    else:
        if marked:
            await session.execute(_MARK_ANSWER, marked)
        if logged:
            await session.execute(_LOG_GRADED, logged)
        await session.execute(_SCORE, scored)
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
    graded = {
        "status": status.value,
        "submitted_at": at,
        "graded_at": clock.now,
        "score": total,
        "passed": passed,
    }
    for name, value in graded.items():
        set_committed_value(attempt, name, value)
    return answers


async def graded_if_overdue(
    session: AsyncSession, attempt: QuizAttempt, clock: Clock
) -> QuizAttempt:
    """The attempt as a read should see it: one still in progress past its deadline is graded
    first and read again (grading changes it by UPDATE)."""
    if attempt.status != AttemptStatus.IN_PROGRESS or not clock.overdue(attempt):
        return attempt
    await finish(session, attempt, clock)
    graded = await load_attempt(session, attempt.id)
    assert graded is not None
    return graded


async def expire_overdue(session: AsyncSession, clock: Clock, **where: Any) -> int:
    """Grade every in-progress attempt past its deadline (matching `where`: quiz_id,
    person_id), so lists never show an attempt running after its time ran out."""
    statement = select(QuizAttempt.id).where(
        QuizAttempt.status == AttemptStatus.IN_PROGRESS.value,
        QuizAttempt.deadline_at.is_not(None),
        QuizAttempt.deadline_at < clock.now - clock.grace,
    )
    for name, value in where.items():
        statement = statement.where(getattr(QuizAttempt, name) == value)
    finished = 0
    for attempt_id in list(await session.scalars(statement)):
        attempt = await load_attempt(session, attempt_id)
        assert attempt is not None
        finished += await finish(session, attempt, clock)
    return finished
