"""The quiz form of the trainer's pages: what was typed, read back from the posted fields, and
the API's schema errors (QuizIn / QuizPatch) in words next to the field they concern.

Questions are edited without JavaScript: the form posts every block, and "Add question",
"Add option" and "Remove" re-render it with one block more or less, saving nothing. Blocks left
blank (an empty question, an empty option) are dropped before the schema checks them.
"""

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from lms_api.errors import InvalidInput
from lms_api.quizzes.content import (
    MAX_OPTIONS,
    MAX_QUESTIONS,
    MIN_OPTIONS,
    MultipleScoring,
    QuestionType,
    RevealPolicy,
)
from lms_api.quizzes.models import Quiz
from lms_api.quizzes.presenters import quiz_detail
from lms_api.types import LINE_PATTERN

# form field -> the schema's name (the rest are the same)
SCHEMA_NAMES = {"time_limit": "time_limit_seconds", "objective": "learning_objective"}
FORM_NAMES = {v: k for k, v in SCHEMA_NAMES.items()} | {"is_correct": "correct"}
REVEAL_WORDS = {
    RevealPolicy.AFTER_SUBMISSION: "After each submitted attempt",
    RevealPolicy.AFTER_LAST_ATTEMPT: "After the student's last attempt (needs an attempt limit)",
    RevealPolicy.NEVER: "Never (score and per-question correctness only)",
}
SCORING_WORDS = {
    MultipleScoring.ALL_OR_NOTHING: "All or nothing",
    MultipleScoring.PARTIAL: "Partial credit",
}
REPEATED_QUESTION = re.compile(r"question (\d+) repeats")


@dataclass
class OptionRow:
    text: str = ""
    correct: bool = False
    rationale: str = ""

    def blank(self) -> bool:
        return not (self.text.strip() or self.rationale.strip() or self.correct)


@dataclass
class QuestionBlock:
    text: str = ""
    type: str = QuestionType.SINGLE.value
    points: str = "1"
    explanation: str = ""
    tags: str = ""
    objective: str = ""
    options: list[OptionRow] = field(default_factory=list)

    def blank(self) -> bool:
        typed = (self.text, self.explanation, self.tags, self.objective)
        return not any(t.strip() for t in typed) and all(o.blank() for o in self.options)

    def padded(self) -> "QuestionBlock":
        """At least the minimum number of option rows to type into."""
        while len(self.options) < MIN_OPTIONS:
            self.options.append(OptionRow())
        return self


def new_question() -> QuestionBlock:
    return QuestionBlock(options=[OptionRow() for _ in range(4)])


@dataclass
class QuizForm:
    """What the trainer typed (as typed, strings), and the problem with each field."""

    title: str = ""
    description: str = ""
    track: str = ""
    project_id: str = ""
    time_limit: str = ""  # minutes
    max_attempts: str = ""
    pass_mark: str = "50"  # percent
    shuffle_questions: bool = False
    shuffle_options: bool = False
    reveal_policy: str = RevealPolicy.AFTER_SUBMISSION.value
    multiple_scoring: str = MultipleScoring.ALL_OR_NOTHING.value
    questions: list[QuestionBlock] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    problem: str = ""

    @classmethod
    def from_quiz(cls, quiz: Quiz) -> "QuizForm":
        """The stored quiz as the form shows it, read from the API's own view of it."""
        detail = quiz_detail(quiz)
        return cls(
            title=detail.title,
            description=detail.description,
            track=detail.track or "",
            project_id=str(detail.project_id or ""),
            time_limit=_number_words(detail.time_limit_seconds / 60)
            if detail.time_limit_seconds
            else "",
            max_attempts=str(detail.max_attempts or ""),
            pass_mark=_number_words(detail.pass_mark * 100),
            shuffle_questions=detail.shuffle_questions,
            shuffle_options=detail.shuffle_options,
            reveal_policy=detail.reveal_policy,
            multiple_scoring=detail.multiple_scoring,
            questions=[
                QuestionBlock(
                    q.text,
                    q.type,
                    _number_words(q.points),
                    q.explanation,
                    ", ".join(q.tags),
                    q.learning_objective,
                    [OptionRow(o.text, o.is_correct, o.rationale) for o in q.options],
                )
                for q in detail.questions
            ],
        )

    # --- the buttons that change the form without saving ----------------------------------
    def apply(self, action: str) -> bool:
        """Add or remove a block for `action`; False for "save" (or anything else)."""
        parts = action.split("-")
        numbers = [int(p) for p in parts if p.isdigit()]
        questions = self.questions
        if action == "add-question" and len(questions) < MAX_QUESTIONS:
            questions.append(new_question())
        elif action.startswith("remove-question-") and len(numbers) == 1:
            if numbers[0] < len(questions):
                del questions[numbers[0]]
        elif action.startswith("add-option-") and len(numbers) == 1:
            if numbers[0] < len(questions) and len(questions[numbers[0]].options) < MAX_OPTIONS:
                questions[numbers[0]].options.append(OptionRow())
        elif action.startswith("remove-option-") and len(numbers) == 2:
            i, j = numbers
            if i < len(questions) and j < len(questions[i].options):
                del questions[i].options[j]
        else:
            return False
        return True

    def compact(self) -> None:
        """Drop blank questions and options, so the schema's indexes are the form's."""
        self.questions = [q for q in self.questions if not q.blank()]
        for question in self.questions:
            question.options = [o for o in question.options if not o.blank()]

    def for_display(self) -> "QuizForm":
        """At least one question block, and each with room for its options."""
        if not self.questions:
            self.questions.append(new_question())
        for question in self.questions:
            question.padded()
        return self

    # --- to the API's body -----------------------------------------------------------------
    def body(self) -> dict[str, Any]:
        """The API's request body; numbers the form words differently are converted here
        (a problem with them lands in `errors`)."""
        return {
            "title": self.title,
            "description": self.description,
            "track": self.track or None,
            "project_id": self.project_id or None,
            "time_limit_seconds": self._minutes(),
            "max_attempts": self.max_attempts or None,
            "pass_mark": self._percent(),
            "shuffle_questions": self.shuffle_questions,
            "shuffle_options": self.shuffle_options,
            "reveal_policy": self.reveal_policy,
            "multiple_scoring": self.multiple_scoring,
            "questions": [
                {
                    "text": q.text,
                    "type": q.type,
                    "points": q.points or "1",
                    "explanation": q.explanation,
                    "tags": [t.strip() for t in q.tags.split(",") if t.strip()],
                    "learning_objective": q.objective,
                    "options": [
                        {"text": o.text, "is_correct": o.correct, "rationale": o.rationale}
                        for o in q.options
                    ],
                }
                for q in self.questions
            ],
        }

    def _minutes(self) -> int | None:
        if not self.time_limit.strip():
            return None
        try:
            return round(float(self.time_limit) * 60)
        except (ValueError, OverflowError):
            self.errors["time_limit"] = "Enter the time limit in minutes (such as 15), or nothing."
            return None

    def _percent(self) -> float:
        try:
            value = float(self.pass_mark)
        except ValueError:
            value = float("nan")
        if not 0 <= value <= 100:  # NaN too
            self.errors["pass_mark"] = "Enter a pass mark from 0 to 100 (percent)."
            return 0.5
        return value / 100

    def schema_errors(self, error: ValidationError) -> None:
        """The schema's errors in words, under the form's field names."""
        for problem in error.errors():
            name = field_name(problem["loc"], problem.get("msg", ""))
            self.errors.setdefault(name, words(problem, name))

    def service_error(self, error: InvalidInput) -> None:
        """A refusal of the service (an unknown track, settings that do not agree)."""
        details = error.details if isinstance(error.details, list) else []
        for detail in details:
            name = str(detail.get("field", "")).removeprefix("body.")
            if name:
                self.errors.setdefault(FORM_NAMES.get(name, name), error.message)
        if not self.errors:
            self.problem = error.message


def _number_words(value: float) -> str:
    return f"{value:g}"


def read_form(data: FormData) -> QuizForm:
    """The posted fields as a QuizForm (counts bounded by the schema's maxima)."""

    def text(name: str) -> str:
        value = data.get(name)
        return value if isinstance(value, str) else ""

    def count(name: str, most: int) -> int:
        raw = text(name)
        return min(int(raw), most) if raw.isdigit() else 0

    questions = []
    for i in range(count("questions", MAX_QUESTIONS)):
        prefix = f"q-{i}"
        questions.append(
            QuestionBlock(
                text=text(f"{prefix}-text"),
                type=text(f"{prefix}-type") or QuestionType.SINGLE.value,
                points=text(f"{prefix}-points"),
                explanation=text(f"{prefix}-explanation"),
                tags=text(f"{prefix}-tags"),
                objective=text(f"{prefix}-objective"),
                options=[
                    OptionRow(
                        text=text(f"{prefix}-o-{j}-text"),
                        correct=bool(text(f"{prefix}-o-{j}-correct")),
                        rationale=text(f"{prefix}-o-{j}-rationale"),
                    )
                    for j in range(count(f"{prefix}-options", MAX_OPTIONS))
                ],
            )
        )
    return QuizForm(
        title=text("title"),
        description=text("description"),
        track=text("track"),
        project_id=text("project_id"),
        time_limit=text("time_limit"),
        max_attempts=text("max_attempts"),
        pass_mark=text("pass_mark"),
        shuffle_questions=bool(text("shuffle_questions")),
        shuffle_options=bool(text("shuffle_options")),
        reveal_policy=text("reveal_policy"),
        multiple_scoring=text("multiple_scoring"),
        questions=questions,
    )


def field_name(loc: tuple, message: str = "") -> str:
    """A pydantic location (`questions.2.options.0.text`) as the form's field name
    (`q-2-o-0-text`); the quiz-wide repeat check names its question in the message."""
    parts = list(loc)
    if not parts:
        found = REPEATED_QUESTION.search(message)
        return f"q-{int(found[1]) - 1}" if found else "form"
    head = str(parts[0])
    if head != "questions":
        return FORM_NAMES.get(head, head)
    if len(parts) < 2:
        return "questions"
    name = f"q-{parts[1]}"
    if len(parts) == 2:
        return name
    inner = str(parts[2])
    if inner == "options" and len(parts) >= 5:
        return f"{name}-o-{parts[3]}-{FORM_NAMES.get(str(parts[4]), str(parts[4]))}"
    if inner == "options" and len(parts) == 4:
        return f"{name}-o-{parts[3]}-text"
    return f"{name}-{FORM_NAMES.get(inner, inner)}"


def words(problem: dict[str, Any], name: str) -> str:
    """One schema error in words a trainer can act on."""
    kind = problem["type"]
    ctx = problem.get("ctx") or {}
    if kind == "string_pattern_mismatch":
        if ctx.get("pattern") == LINE_PATTERN:
            return "Use one line without control characters (such as NUL or a line break)."
        return "Remove the control characters (such as NUL)."
    if kind == "string_too_short":
        return "This cannot be empty."
    if kind == "string_too_long":
        return f"Too long: at most {ctx.get('max_length')} characters."
    if kind == "too_short" and name.endswith("-options"):
        return f"Give at least {MIN_OPTIONS} options."
    if kind == "too_long":
        return f"Too many: at most {ctx.get('max_length')}."
    if kind in ("int_parsing", "int_from_float"):
        return "Enter a whole number."
    if kind == "float_parsing":
        return "Enter a number."
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        return _range_words(name, kind, ctx)
    if kind == "enum":
        return "Choose one of the listed values."
    if kind == "value_error":
        text = str(problem.get("msg", "")).removeprefix("Value error, ")
        return text[:1].upper() + text[1:] + "."
    return str(problem.get("msg", "This value is not valid."))


def _range_words(name: str, kind: str, ctx: dict[str, Any]) -> str:
    if name == "time_limit":
        return "A time limit is from 10 seconds to 7 days (10080 minutes); or leave it empty."
    if name == "max_attempts":
        return "Allow from 1 to 100 attempts, or leave it empty for unlimited."
    if name == "project_id":
        return "Choose a project from the list."
    if name == "num_questions":
        return "Ask for 1 to 30 questions."
    if name == "multiple_count":
        return "From 0 to 30, and no more than the number of questions."
    if name.endswith("-points"):
        return "Points are more than 0 and at most 100."
    limit = next(iter(ctx.values()), "")
    above = kind.startswith("greater")
    return f"Enter a number {'of at least' if above else 'of at most'} {limit}."
