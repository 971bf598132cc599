"""Scoring one answer: the rules the README documents, in one pure function.

- SINGLE: all or nothing: the question's points for the one correct option, else 0.
- MULTIPLE, `all_or_nothing`: the points only for exactly the set of correct options.
- MULTIPLE, `partial`: points x max(0, R/C - W/N), where R of the C correct options and W of
  the N wrong options were picked ("right minus wrong"; with no wrong options, no penalty).
  Picking every option therefore scores 0, and a blank answer scores 0.
A question left unanswered is wrong and scores 0.
"""

from collections.abc import Collection
from dataclasses import dataclass

from lms_api.quizzes.content import MultipleScoring, QuestionType


@dataclass(frozen=True)
class Mark:
    correct: bool  # exactly the correct set was chosen
    score: float


def mark_answer(
    question_type: str,
    points: float,
    correct_ids: Collection[int],
    all_ids: Collection[int],
    chosen: Collection[int] | None,
    scoring: str = MultipleScoring.ALL_OR_NOTHING,
) -> Mark:
    """The mark of `chosen` (None: not answered) for a question with these options."""
    right, chosen_set = set(correct_ids), set(chosen or ())
    exact = bool(chosen_set) and chosen_set == right
    if question_type == QuestionType.SINGLE or scoring != MultipleScoring.PARTIAL:
        return Mark(correct=exact, score=points if exact else 0.0)
    wrong = set(all_ids) - right
    fraction = len(chosen_set & right) / len(right)
    if wrong:
        fraction -= len(chosen_set & wrong) / len(wrong)
    return Mark(correct=exact, score=round(points * max(0.0, fraction), 6))
