"""Quizzes, their questions and options, students' attempts and answers, and the answer log.

A `QuizAttempt` is claimed and finished by conditional UPDATEs on its status (see
quizzes.attempts), so concurrent saves and submits of one attempt serialize on its row.
`QuizAnswerEvent` is append-only: every save and every graded answer, with its time, for the
analytics pipelines (time on question, item statistics).
"""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms_api.curriculum.models import Project, Track
from lms_api.database import Base
from lms_api.people.models import Person
from lms_api.quizzes.content import (
    GenerationType,
    MultipleScoring,
    QuizStatus,
    RevealPolicy,
)
from lms_api.quizzes.enums import AttemptStatus
from lms_api.timestamps import CreatedAt, utcnow


class Quiz(CreatedAt, Base):
    __tablename__ = "quizzes"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    # SET NULL: retiring curriculum must not delete the quizzes (and attempts) tied to it.
    track_id: Mapped[int | None] = mapped_column(
        ForeignKey("tracks.id", ondelete="SET NULL"), index=True
    )
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"))
    created_by: Mapped[str] = mapped_column(String(255))
    generation_type: Mapped[str] = mapped_column(String(16), default=GenerationType.MANUAL)
    prompt: Mapped[str] = mapped_column(Text, default="", server_default="")
    model: Mapped[str] = mapped_column(String(100), default="", server_default="")
    sources: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default=QuizStatus.DRAFT, index=True)
    time_limit_seconds: Mapped[int | None] = mapped_column(Integer)
    max_attempts: Mapped[int | None] = mapped_column(Integer)
    pass_mark: Mapped[float] = mapped_column(Float, default=0.5)
    shuffle_questions: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    shuffle_options: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    reveal_policy: Mapped[str] = mapped_column(String(32), default=RevealPolicy.AFTER_SUBMISSION)
    multiple_scoring: Mapped[str] = mapped_column(
        String(32), default=MultipleScoring.ALL_OR_NOTHING
    )
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    track: Mapped[Track | None] = relationship()
    project: Mapped[Project | None] = relationship()
    questions: Mapped[list["Question"]] = relationship(
        back_populates="quiz", order_by="Question.order", cascade="all, delete-orphan"
    )


class Question(Base):
    __tablename__ = "quiz_questions"
    __table_args__ = (UniqueConstraint("quiz_id", "order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"))
    order: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(16))
    explanation: Mapped[str] = mapped_column(Text, default="", server_default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    learning_objective: Mapped[str] = mapped_column(String(500), default="", server_default="")
    points: Mapped[float] = mapped_column(Float, default=1.0)

    quiz: Mapped[Quiz] = relationship(back_populates="questions")
    options: Mapped[list["AnswerOption"]] = relationship(
        back_populates="question", order_by="AnswerOption.order", cascade="all, delete-orphan"
    )


class AnswerOption(Base):
    __tablename__ = "quiz_options"
    __table_args__ = (UniqueConstraint("question_id", "order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("quiz_questions.id", ondelete="CASCADE"))
    order: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(500))
    is_correct: Mapped[bool] = mapped_column(Boolean)
    rationale: Mapped[str] = mapped_column(Text, default="", server_default="")

    question: Mapped[Question] = relationship(back_populates="options")


class QuizAttempt(Base):
    __tablename__ = "quiz_attempts"
    # The attempt number is unique per student and quiz: two concurrent starts cannot both
    # take the same number, so max_attempts holds without a lock.
    __table_args__ = (UniqueConstraint("quiz_id", "person_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # RESTRICT: a quiz that students have taken is archived, never deleted.
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="RESTRICT"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=AttemptStatus.IN_PROGRESS)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    deadline_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Indexed: the analytics pipeline reads attempts finished since its last run.
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    # When it was graded: an expired attempt is graded lazily, long after its deadline (its
    # submitted_at); the analytics pipeline reads attempts graded since its last run.
    graded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    score: Mapped[float | None] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float)
    passed: Mapped[bool | None] = mapped_column(Boolean)
    # The order this student sees: question ids, and option ids per question id.
    question_order: Mapped[list[int]] = mapped_column(JSON)
    option_order: Mapped[dict[str, list[int]]] = mapped_column(JSON)
    # Bumped by every answer save: the conditional UPDATE that locks the row (see attempts).
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))

    quiz: Mapped[Quiz] = relationship()
    person: Mapped[Person] = relationship()
    answers: Mapped[list["StudentAnswer"]] = relationship(
        order_by="StudentAnswer.question_id", viewonly=True
    )


class StudentAnswer(Base):
    """The current answer to one question of one attempt; graded when the attempt ends."""

    __tablename__ = "quiz_answers"
    __table_args__ = (UniqueConstraint("attempt_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quiz_attempts.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("quiz_questions.id", ondelete="CASCADE"))
    selected_option_ids: Mapped[list[int]] = mapped_column(JSON)
    answered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    changed_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    is_correct: Mapped[bool | None] = mapped_column(Boolean)
    score: Mapped[float | None] = mapped_column(Float)


class QuizAnswerEvent(CreatedAt, Base):
    """Append-only log for analytics: kind `save` (each changed answer) or `graded` (each
    question when its attempt ends), with the options chosen and whether they were right."""

    __tablename__ = "quiz_answer_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(
        ForeignKey("quiz_attempts.id", ondelete="CASCADE"), index=True
    )
    quiz_id: Mapped[int] = mapped_column(Integer, index=True)
    person_id: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    option_ids: Mapped[list[int]] = mapped_column(JSON)
    correct: Mapped[bool] = mapped_column(Boolean)
    score: Mapped[float | None] = mapped_column(Float)


class QuizGeneration(CreatedAt, Base):
    """Every Gemini generation asked for: the per-trainer rate limit counts these."""

    __tablename__ = "quiz_generations"

    id: Mapped[int] = mapped_column(primary_key=True)
    requested_by: Mapped[str] = mapped_column(String(255), index=True)
    generation_type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="running")  # running/succeeded/failed
    quiz_id: Mapped[int | None] = mapped_column(ForeignKey("quizzes.id", ondelete="SET NULL"))
    model: Mapped[str] = mapped_column(String(100), default="")
    calls: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="", server_default="")
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
