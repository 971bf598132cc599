"""Request and response bodies of the quiz routes.

Staff get `QuizDetail` (questions with their keys). Students never get a model that has
`is_correct`, `rationale` or `explanation` until their attempt is submitted and the quiz's
reveal policy allows it: then, and only then, `AttemptQuestion.key` is filled.
"""

from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lms_api.enrollments.schemas import UtcDatetime
from lms_api.quizzes.content import (
    MAX_OPTIONS,
    MAX_QUESTIONS,
    GenerationType,
    MultipleScoring,
    QuestionIn,
    QuestionType,
    QuizStatus,
    RevealPolicy,
    Source,
    check_distinct_questions,
)
from lms_api.quizzes.enums import AttemptStatus
from lms_api.types import MAX_ID, Line, Text

TrackCode = Annotated[Line, Field(min_length=1, max_length=16, examples=["DP"])]
TimeLimit = Annotated[
    int, Field(ge=10, le=7 * 24 * 3600, description="Seconds to finish an attempt", examples=[900])
]
MaxAttempts = Annotated[int, Field(ge=1, le=100, examples=[3])]
PassMark = Annotated[
    float,
    Field(
        ge=0,
        le=1,
        description="Fraction 0..1 of the maximum score needed to pass (0.6 = 60%)",
        examples=[0.6],
    ),
]


class QuizSettings(BaseModel):
    """How a quiz is taken and marked; every field may be changed while it is a draft."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    description: Text = Field(default="", max_length=5000, examples=["Joins, keys and NULLs."])
    track: TrackCode | None = Field(
        default=None, description="Only students active in this track may take it"
    )
    project_id: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="The project it belongs to (sets the track)"
    )
    time_limit_seconds: TimeLimit | None = None
    max_attempts: MaxAttempts | None = Field(default=None, description="null: unlimited")
    pass_mark: PassMark = 0.5
    shuffle_questions: bool = False
    shuffle_options: bool = False
    reveal_policy: RevealPolicy = RevealPolicy.AFTER_SUBMISSION
    multiple_scoring: MultipleScoring = MultipleScoring.ALL_OR_NOTHING


class QuizIn(QuizSettings):
    """A quiz written by hand (a draft; publish it when ready)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "title": "SQL joins",
                    "track": "DP",
                    "time_limit_seconds": 900,
                    "max_attempts": 2,
                    "questions": [
                        {
                            "text": "Which join keeps every customer, with or without orders?",
                            "type": "SINGLE",
                            "options": [
                                {"text": "INNER JOIN", "is_correct": False},
                                {"text": "customers LEFT JOIN orders", "is_correct": True},
                            ],
                            "explanation": "A LEFT JOIN keeps every row of its left side.",
                        }
                    ],
                }
            ]
        }
    )

    title: Line = Field(min_length=1, max_length=200, examples=["SQL joins"])
    questions: list[QuestionIn] = Field(default_factory=list, max_length=MAX_QUESTIONS)

    @model_validator(mode="after")
    def _distinct(self) -> Self:
        check_distinct_questions(self.questions)
        return self


class QuizPatch(BaseModel):
    """Change a draft: only the fields sent; `questions` replaces the whole list."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"title": "SQL joins (v2)", "max_attempts": 3}]},
    )

    title: Line | None = Field(default=None, min_length=1, max_length=200)
    description: Text | None = Field(default=None, max_length=5000)
    track: TrackCode | None = None
    project_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    time_limit_seconds: TimeLimit | None = None
    max_attempts: MaxAttempts | None = None
    pass_mark: PassMark | None = None
    shuffle_questions: bool | None = None
    shuffle_options: bool | None = None
    reveal_policy: RevealPolicy | None = None
    multiple_scoring: MultipleScoring | None = None
    questions: list[QuestionIn] | None = Field(default=None, max_length=MAX_QUESTIONS)

    @model_validator(mode="after")
    def _distinct(self) -> Self:
        if self.questions is not None:
            check_distinct_questions(self.questions)
        return self


class QuizDocument(QuizIn):
    """A quiz as a file (JSON or YAML), for export and import between schools and backups."""

    format: str = Field(default="apranova-quiz", pattern="^apranova-quiz$")
    version: int = Field(default=1, ge=1, le=1)


class OptionOut(BaseModel):
    id: int = Field(examples=[11])
    text: str = Field(examples=["customers LEFT JOIN orders"])
    is_correct: bool = Field(examples=[True])
    rationale: str = Field(examples=["It keeps customers without orders."])


class QuestionOut(BaseModel):
    """A question as its authors see it, with the key."""

    id: int = Field(examples=[5])
    order: int = Field(examples=[1])
    text: str = Field(examples=["Which join keeps every customer?"])
    type: QuestionType = Field(examples=[QuestionType.SINGLE])
    points: float = Field(examples=[1.0])
    explanation: str = Field(examples=["A LEFT JOIN keeps every row of its left side."])
    tags: list[str] = Field(examples=[["sql"]])
    learning_objective: str = Field(examples=[""])
    options: list[OptionOut]


class MyQuizRecord(BaseModel):
    """A student's own standing on a quiz."""

    attempts_used: int = Field(examples=[1])
    attempts_left: int | None = Field(description="null: unlimited", examples=[1])
    in_progress_attempt_id: int | None = Field(examples=[None])
    best_score: float | None = Field(
        description="Best score as a fraction 0..1 of the maximum (0.8 = 80%); null: none graded",
        examples=[0.8],
    )
    passed: bool = Field(examples=[True])


class QuizSummary(BaseModel):
    """A quiz without its questions (what students see before they start)."""

    id: int = Field(examples=[1])
    title: str = Field(examples=["SQL joins"])
    description: str = Field(examples=["Joins, keys and NULLs."])
    track: str | None = Field(examples=["DP"])
    project_id: int | None = Field(examples=[None])
    status: QuizStatus = Field(examples=[QuizStatus.PUBLISHED])
    generation_type: GenerationType = Field(examples=[GenerationType.MANUAL])
    created_by: str = Field(examples=["trainer"])
    question_count: int = Field(examples=[10])
    max_score: float = Field(description="Points of all questions together", examples=[10.0])
    time_limit_seconds: int | None = Field(examples=[900])
    max_attempts: int | None = Field(examples=[2])
    pass_mark: float = Field(
        description="Fraction 0..1 of the maximum score needed to pass (0.5 = 50%)", examples=[0.5]
    )
    shuffle_questions: bool = Field(examples=[False])
    shuffle_options: bool = Field(examples=[False])
    reveal_policy: RevealPolicy = Field(examples=[RevealPolicy.AFTER_SUBMISSION])
    multiple_scoring: MultipleScoring = Field(examples=[MultipleScoring.ALL_OR_NOTHING])
    created_at: UtcDatetime = Field(examples=["2026-01-12T10:15:00Z"])
    updated_at: UtcDatetime = Field(examples=["2026-01-12T10:15:00Z"])
    published_at: UtcDatetime | None = Field(examples=[None])
    mine: MyQuizRecord | None = Field(
        default=None, description="The caller's own attempts (students only)", examples=[None]
    )


class QuizDetail(QuizSummary):
    """A quiz with its questions and keys (trainers and admins)."""

    prompt: str = Field(examples=[""])
    model: str = Field(description="The Gemini model that wrote it, if any", examples=[""])
    sources: list[Source] = Field(description="Web pages a WEB_SEARCH quiz was grounded on")
    questions: list[QuestionOut]


class QuizPage(BaseModel):
    count: int = Field(examples=[1])
    next: str | None = Field(examples=[None])
    previous: str | None = Field(examples=[None])
    results: list[QuizSummary]


class AnswerIn(BaseModel):
    """The options chosen (an empty list clears the answer); saved as often as you like."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"option_ids": [11]}]}
    )

    option_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(max_length=MAX_OPTIONS)


class AnswerOut(BaseModel):
    """The answer as saved."""

    attempt_id: int = Field(examples=[3])
    question_id: int = Field(examples=[5])
    selected_option_ids: list[int] = Field(examples=[[11]])
    answered_at: UtcDatetime = Field(examples=["2026-01-12T10:16:00Z"])
    changed_count: int = Field(description="Changes after the first answer", examples=[0])
    deadline_at: UtcDatetime | None = Field(examples=[None])


class AttemptOption(BaseModel):
    id: int = Field(examples=[11])
    text: str = Field(examples=["customers LEFT JOIN orders"])


class KeyOption(BaseModel):
    option_id: int = Field(examples=[11])
    is_correct: bool = Field(examples=[True])
    rationale: str = Field(examples=["It keeps customers without orders."])


class AnswerKey(BaseModel):
    """The correct options and why: only after submission, when the reveal policy allows."""

    correct_option_ids: list[int] = Field(examples=[[11]])
    explanation: str = Field(examples=["A LEFT JOIN keeps every row of its left side."])
    options: list[KeyOption]


class QuestionResult(BaseModel):
    correct: bool = Field(description="Exactly the correct options were chosen", examples=[True])
    score: float = Field(
        description="Points earned on this question (0..its points), not a fraction",
        examples=[1.0],
    )


class AttemptQuestion(BaseModel):
    """A question as this attempt shows it (its order, its option order), with the answer."""

    id: int = Field(examples=[5])
    position: int = Field(examples=[1])
    text: str = Field(examples=["Which join keeps every customer?"])
    type: QuestionType = Field(examples=[QuestionType.SINGLE])
    points: float = Field(examples=[1.0])
    options: list[AttemptOption]
    selected_option_ids: list[int] = Field(examples=[[11]])
    answered_at: UtcDatetime | None = Field(examples=[None])
    result: QuestionResult | None = Field(description="After submission", examples=[None])
    key: AnswerKey | None = Field(description="When answers are revealed", examples=[None])


class AttemptSummary(BaseModel):
    id: int = Field(examples=[3])
    quiz_id: int = Field(examples=[1])
    quiz_title: str = Field(examples=["SQL joins"])
    username: str = Field(examples=["ada"])
    number: int = Field(description="1 for the student's first attempt", examples=[1])
    status: AttemptStatus = Field(examples=[AttemptStatus.SUBMITTED])
    started_at: UtcDatetime = Field(examples=["2026-01-12T10:15:00Z"])
    deadline_at: UtcDatetime | None = Field(examples=[None])
    submitted_at: UtcDatetime | None = Field(examples=["2026-01-12T10:25:00Z"])
    score: float | None = Field(
        description="Points earned (0..max_score), not a fraction; null until graded",
        examples=[8.0],
    )
    max_score: float = Field(description="Points of the whole quiz", examples=[10.0])
    score_fraction: float | None = Field(
        description="score / max_score as a fraction 0..1 (0.8 = 80%); null until graded",
        examples=[0.8],
    )
    passed: bool | None = Field(examples=[True])


class AttemptDetail(AttemptSummary):
    """An attempt with its questions; results and keys appear as the rules allow."""

    seconds_left: float | None = Field(
        description="While in progress with a limit", examples=[540.0]
    )
    answers_revealed: bool = Field(examples=[False])
    reveal_note: str = Field(examples=["Correct answers are shown after your last attempt."])
    questions: list[AttemptQuestion]


class AttemptPage(BaseModel):
    count: int = Field(examples=[1])
    next: str | None = Field(examples=[None])
    previous: str | None = Field(examples=[None])
    results: list[AttemptSummary]


class QuestionStats(BaseModel):
    question_id: int = Field(examples=[5])
    order: int = Field(examples=[1])
    text: str = Field(examples=["Which join keeps every customer?"])
    answered: int = Field(description="Graded answers that chose something", examples=[12])
    correct_rate: float | None = Field(
        description="Fraction 0..1 of finished attempts that got it fully correct (0.75 = 75%)",
        examples=[0.75],
    )
    mean_score: float | None = Field(
        description="Mean score as a fraction 0..1 of its points (0.8 = 80%)", examples=[0.8]
    )


class QuizResults(BaseModel):
    """Finished attempts of a quiz: a trainer's students, or everyone for admins."""

    quiz_id: int = Field(examples=[1])
    title: str = Field(examples=["SQL joins"])
    scope: str = Field(examples=["your students"])
    students: int = Field(description="Students with a finished attempt", examples=[14])
    attempts: int = Field(description="Finished attempts", examples=[20])
    in_progress: int = Field(examples=[2])
    mean_score: float | None = Field(
        description="Mean score as a fraction 0..1 of the maximum (0.71 = 71%)", examples=[0.71]
    )
    median_score: float | None = Field(
        description="Median score as a fraction 0..1 of the maximum (0.7 = 70%)", examples=[0.7]
    )
    pass_rate: float | None = Field(
        description="Fraction 0..1 of the students who passed (0.8 = 80%)", examples=[0.8]
    )
    questions: list[QuestionStats]


class GenerationInfo(BaseModel):
    model: str = Field(examples=["gemini-2.5-flash"])
    calls: int = Field(
        description="Gemini calls it took (invalid answers are retried)", examples=[1]
    )


class GeneratedQuizOut(QuizDetail):
    """A draft written by Gemini: check it, edit it, then publish it."""

    generation: GenerationInfo
