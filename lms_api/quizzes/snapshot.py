"""What a quiz asks (questions and options), as plain frozen data, kept per process once the
quiz is published.

A published quiz can no longer change its questions (quizzes.service.check_draft), and every
attempt, save and submit needs them: reading 10 questions and 40 options as ORM objects on
each step cost more CPU than all the rest of the step (bench/README.md). A draft is read
afresh every time. The cache key includes `published_at`, so a quiz id reused after a
deletion (SQLite) can never hit an old entry.
"""

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lms_api.quizzes.content import QuizStatus
from lms_api.quizzes.models import AnswerOption, Question, Quiz

MAX_CACHED_QUIZZES = 512


@dataclass(frozen=True)
class OptionData:
    id: int
    text: str
    is_correct: bool
    rationale: str


@dataclass(frozen=True)
class QuestionData:
    id: int
    order: int
    text: str
    type: str
    points: float
    explanation: str
    options: tuple[OptionData, ...]

    @cached_property
    def option_ids(self) -> list[int]:
        return [o.id for o in self.options]

    @cached_property
    def correct_ids(self) -> list[int]:
        return [o.id for o in self.options if o.is_correct]

    @cached_property
    def options_by_id(self) -> dict[int, OptionData]:
        return {o.id: o for o in self.options}


@dataclass(frozen=True)
class QuizContent:
    questions: tuple[QuestionData, ...]

    @cached_property
    def by_id(self) -> dict[int, QuestionData]:
        return {q.id: q for q in self.questions}

    @property
    def max_score(self) -> float:
        return sum(q.points for q in self.questions)


_cache: OrderedDict[tuple[int, datetime | None], QuizContent] = OrderedDict()


async def content_of(session: AsyncSession, quiz: Quiz) -> QuizContent:
    """The quiz's questions and options: from the cache once it is published."""
    if quiz.status == QuizStatus.DRAFT:
        return await _read(session, quiz.id)
    key = (quiz.id, quiz.published_at)
    found = _cache.get(key)
    if found is None:
        found = await _read(session, quiz.id)
        _cache[key] = found
        while len(_cache) > MAX_CACHED_QUIZZES:
            _cache.popitem(last=False)
    else:
        _cache.move_to_end(key)
    return found


async def _read(session: AsyncSession, quiz_id: int) -> QuizContent:
    """Two plain queries (no ORM objects): the questions, then their options, in order."""
    questions = (
        await session.execute(
            select(
                Question.id,
                Question.order,
                Question.text,
                Question.type,
                Question.points,
                Question.explanation,
            )
            .where(Question.quiz_id == quiz_id)
            .order_by(Question.order)
        )
    ).all()
    options: dict[int, list[OptionData]] = {q.id: [] for q in questions}
    if questions:
        rows = await session.execute(
            select(
                AnswerOption.question_id,
                AnswerOption.id,
                AnswerOption.text,
                AnswerOption.is_correct,
                AnswerOption.rationale,
            )
            .where(AnswerOption.question_id.in_(list(options)))
            .order_by(AnswerOption.question_id, AnswerOption.order)
        )
        for question_id, option_id, text, is_correct, rationale in rows:
            options[question_id].append(OptionData(option_id, text, bool(is_correct), rationale))
    return QuizContent(
        tuple(
            QuestionData(
                id=q.id,
                order=q.order,
                text=q.text,
                type=q.type,
                points=q.points,
                explanation=q.explanation,
                options=tuple(options[q.id]),
            )
            for q in questions
        )
    )
