"""Scoring rules, worked by hand (README "Quizzes": scoring)."""

import pytest
from pydantic import ValidationError

from lms_api.quizzes.content import QuestionIn, QuestionList
from lms_api.quizzes.grading import mark_answer

# A MULTIPLE question with options 1..5, of which 1, 2 and 3 are correct (C = 3, N = 2 wrong).
RIGHT, ALL = [1, 2, 3], [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    ("chosen", "score", "correct"),
    [
        ([1, 2, 3], 2.0, True),  # 3/3 - 0/2
        ([1, 2], 2.0 * 2 / 3, False),  # 2/3 - 0/2
        ([1, 2, 4], 2.0 * (2 / 3 - 1 / 2), False),  # 2/3 - 1/2 = 1/6
        ([1, 4, 5], 0.0, False),  # 1/3 - 2/2 < 0 -> 0
        ([1, 2, 3, 4, 5], 2.0 * (1 - 1), False),  # everything: 1 - 1 = 0
        ([], 0.0, False),
        (None, 0.0, False),
    ],
)
def test_partial_credit_is_right_minus_wrong(chosen, score, correct):
    mark = mark_answer("MULTIPLE", 2.0, RIGHT, ALL, chosen, "partial")
    assert mark.score == pytest.approx(score)
    assert mark.correct is correct


@pytest.mark.parametrize(
    ("chosen", "score"), [([1, 2, 3], 2.0), ([3, 2, 1], 2.0), ([1, 2], 0.0), ([1, 2, 3, 4], 0.0)]
)
def test_all_or_nothing_needs_exactly_the_correct_set(chosen, score):
    assert mark_answer("MULTIPLE", 2.0, RIGHT, ALL, chosen, "all_or_nothing").score == score


def test_single_is_all_or_nothing_even_with_partial_scoring():
    assert mark_answer("SINGLE", 1.0, [2], [1, 2, 3], [2], "partial").score == 1.0
    assert mark_answer("SINGLE", 1.0, [2], [1, 2, 3], [1], "partial").score == 0.0


def test_partial_without_wrong_options_has_no_penalty():
    assert mark_answer("MULTIPLE", 3.0, [1, 2, 3], [1, 2, 3], [1], "partial").score == 1.0


def _question(**overrides):
    values = {
        "text": "Which?",
        "type": "SINGLE",
        "options": [{"text": "a", "is_correct": True}, {"text": "b", "is_correct": False}],
    }
    return QuestionIn.model_validate({**values, **overrides})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {
                "options": [
                    {"text": "a", "is_correct": True},
                    {"text": "b", "is_correct": True},
                ]
            },
            "exactly one correct option, not 2",
        ),
        ({"type": "MULTIPLE", "options": [{"text": "a", "is_correct": False}] * 2}, "at least"),
        ({"options": [{"text": "a", "is_correct": True}]}, "at least 2"),
        ({"options": [{"text": str(i), "is_correct": i == 0} for i in range(7)]}, "at most 6"),
        (
            {
                "options": [
                    {"text": "Yes", "is_correct": True},
                    {"text": " yes", "is_correct": False},
                ]
            },
            "options repeat",
        ),
        ({"text": "  "}, "at least 1 character"),
    ],
)
def test_question_rules(overrides, message):
    with pytest.raises(ValidationError, match=message):
        _question(**overrides)


def test_repeated_questions_are_refused():
    with pytest.raises(ValidationError, match="question 2 repeats"):
        QuestionList(questions=[_question(text="Why?"), _question(text="why? ")])
