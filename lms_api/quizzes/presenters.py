"""Quizzes as the API shows them: pure model-to-schema functions (and reading a quiz back as
stored, to answer with it), apart from the routes that call them and the rules behind them.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from lms_api.quizzes import service
from lms_api.quizzes.enums import AttemptStatus
from lms_api.quizzes.models import Quiz, QuizAttempt
from lms_api.quizzes.schemas import MyQuizRecord, OptionOut, QuestionOut, QuizDetail, QuizSummary


def quiz_summary(quiz: Quiz, mine: MyQuizRecord | None = None) -> QuizSummary:
    return QuizSummary(
        id=quiz.id,
        title=quiz.title,
        track=quiz.track.code if quiz.track else None,
        project_id=quiz.project_id,
        status=quiz.status,
        generation_type=quiz.generation_type,
        created_by=quiz.created_by,
        question_count=len(quiz.questions),
        max_score=sum(q.points for q in quiz.questions),
        **{name: getattr(quiz, name) for name in service.SETTING_FIELDS},
        created_at=quiz.created_at,
        updated_at=quiz.updated_at,
        published_at=quiz.published_at,
        mine=mine,
    )


def quiz_detail(quiz: Quiz) -> QuizDetail:
    return QuizDetail(
        **quiz_summary(quiz).model_dump(),
        prompt=quiz.prompt,
        model=quiz.model,
        sources=quiz.sources,
        questions=[
            QuestionOut(
                id=q.id,
                order=q.order,
                text=q.text,
                type=q.type,
                points=q.points,
                explanation=q.explanation,
                tags=q.tags,
                learning_objective=q.learning_objective,
                options=[
                    OptionOut(id=o.id, text=o.text, is_correct=o.is_correct, rationale=o.rationale)
                    for o in q.options
                ],
            )
            for q in quiz.questions
        ],
    )


def my_record(quiz: Quiz, attempts: list[QuizAttempt]) -> MyQuizRecord:
    fractions = [a.score / a.max_score for a in attempts if a.score is not None and a.max_score]
    in_progress = next((a.id for a in attempts if a.status == AttemptStatus.IN_PROGRESS), None)
    used = len(attempts)
    return MyQuizRecord(
        attempts_used=used,
        attempts_left=None if quiz.max_attempts is None else max(0, quiz.max_attempts - used),
        in_progress_attempt_id=in_progress,
        best_score=round(max(fractions), 6) if fractions else None,
        passed=any(a.passed for a in attempts),
    )


async def fresh_detail(session: AsyncSession, quiz_id: int) -> QuizDetail:
    """The quiz as it is stored now (just written), with its questions and keys."""
    quiz = await service.load_quiz(session, quiz_id)
    assert quiz is not None
    return quiz_detail(quiz)
