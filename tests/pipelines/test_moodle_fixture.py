"""Our quiz statistics against Moodle's own published test fixture (quiz 00 of
mod/quiz/report/statistics/tests: 25 attempts at 7 questions, a negative alpha).

The fixture's marks, responses and expected statistics are transcribed as data in
moodle_quiz00.json (its "source" names the files and commits). Moodle computes the question
statistics from the marks alone, whatever the question type, so the marks go straight into
the staging tables our pipeline reads. Moodle states its quiz statistics in marks out of 7 and
alpha / error ratio in percent; ours are fractions of the maximum and plain ratios.
"""

import json
from datetime import datetime
from pathlib import Path

import pytest

from lms_api.quizzes.grading import mark_answer
from pipelines.quiz_statistics import QuizStatisticsSettings, refresh_quiz_statistics
from tests.pipelines.test_quiz_statistics import one, staging_db

FIXTURE = json.loads((Path(__file__).parent / "moodle_quiz00.json").read_text())
QUIZ = 1
SLOTS = 7
MAX_SCORE = SLOTS * FIXTURE["max_mark_per_slot"]
FINISHED = datetime(2026, 1, 1)
# The two one-answer choice slots, as our SINGLE questions: option labels, the key first.
SINGLE_SLOTS = {4: ["1", "0"], 6: ["One", "Two", "Three", "Four"]}
# Moodle's tolerances (relative), from the phpunit test that reads the fixture
LOOSE = ("effectiveweight", "discriminationindex", "discriminativeefficiency", "covariance")


def question_id(slot: int) -> int:
    return 100 + slot


def option_ids(slot: int) -> dict[str, int]:
    return {label: question_id(slot) * 10 + k for k, label in enumerate(SINGLE_SLOTS[slot], 1)}


@pytest.fixture(scope="module")
def db():
    """The fixture's attempts in our staging tables, the statistics refreshed."""
    connection = staging_db([])
    for slot in range(1, SLOTS + 1):
        options = SINGLE_SLOTS.get(slot)
        connection.execute(
            "INSERT INTO staging.quiz_questions VALUES (?, ?, ?, 'SINGLE', ?, NULL, ?, ?)",
            [QUIZ, question_id(slot), slot, FIXTURE["max_mark_per_slot"],
             len(options) if options else None, 1 if options else None],
        )  # fmt: skip
        for order, (label, option) in enumerate(option_ids(slot).items() if options else [], 1):
            connection.execute(
                "INSERT INTO staging.quiz_options VALUES (?, ?, ?, ?, ?)",
                [QUIZ, question_id(slot), option, order, label == options[0]],
            )
    for attempt in FIXTURE["attempts"]:
        a = attempt["attempt"]
        connection.execute(
            "INSERT INTO staging.quiz_attempts VALUES (?, ?, ?, ?, 1, ?, ?, ?)",
            [a, QUIZ, a, f"s{a}", FINISHED, attempt["sumgrades"], MAX_SCORE],
        )
        for slot, mark in enumerate(attempt["marks"], 1):
            connection.execute(
                "INSERT INTO staging.quiz_item_marks VALUES (?, ?, ?, ?)",
                [a, QUIZ, question_id(slot), mark],
            )
        for slot in SINGLE_SLOTS:
            chosen = option_ids(slot)[attempt["responses"][str(slot)]]
            connection.execute(
                "INSERT INTO staging.quiz_choices VALUES (?, ?, ?, ?)",
                [a, QUIZ, question_id(slot), chosen],
            )
    refresh_quiz_statistics(connection, None, QuizStatisticsSettings(min_attempts=10))
    yield connection
    connection.close()


def test_the_fixture_is_moodles_quiz_00():
    assert len(FIXTURE["attempts"]) == FIXTURE["expected_quiz_stats"]["allattemptscount"] == 25
    assert all(len(a["marks"]) == SLOTS for a in FIXTURE["attempts"])
    # sumgrades is the sum of the marks, to Moodle's 5 decimals
    for attempt in FIXTURE["attempts"]:
        assert sum(attempt["marks"]) == pytest.approx(attempt["sumgrades"], abs=1e-5)


@pytest.mark.parametrize("slot", sorted(SINGLE_SLOTS))
def test_our_grader_gives_moodles_marks_on_the_one_answer_slots(slot):
    """Slots 4 (true/false) and 6 (one-answer multichoice) are SINGLE questions for us: the
    fixture's responses graded by the LMS's own grader give Moodle's marks."""
    ids = option_ids(slot)
    key = ids[SINGLE_SLOTS[slot][0]]
    for attempt in FIXTURE["attempts"]:
        chosen = [ids[attempt["responses"][str(slot)]]]
        mark = mark_answer("SINGLE", 1.0, [key], list(ids.values()), chosen, "all_or_nothing")
        assert mark.score == attempt["marks"][slot - 1], (attempt["attempt"], slot)


@pytest.mark.parametrize("expected", FIXTURE["expected_question_stats"], ids=lambda e: e["slot"])
def test_question_statistics_equal_moodles(db, expected):
    row = one(db, "quiz_item_stats", question_id=question_id(expected["slot"]), attempt_set="all")

    def close(actual, name):
        rel = 1e-5 if name in LOOSE else 1e-6
        assert actual == pytest.approx(expected[name], rel=rel), name

    assert row["n"] == 25
    close(row["facility_index"], "facility")  # max mark 1: a fraction is a mark
    close(row["sd"], "sd")
    close(row["sd"] ** 2, "markvariance")
    close(row["effective_weight"], "effectiveweight")
    close(row["discrimination_index"], "discriminationindex")
    close(row["discriminative_efficiency"], "discriminativeefficiency")


def test_quiz_statistics_equal_moodles(db):
    """Moodle's numbers in marks out of 7 and percent; its tolerance 1.5e-5 relative. The
    alpha is negative (-87 %), and Moodle still reports error ratio = sqrt(1 - alpha)."""
    expected = FIXTURE["expected_quiz_stats"]
    row = one(db, "quiz_stats", quiz_id=QUIZ, attempt_set="all")
    assert (
        one(db, "quiz_stats", quiz_id=QUIZ, attempt_set="first")["n_attempts"]
        == (expected["firstattemptscount"])
    )
    assert row["n_attempts"] == expected["allattemptscount"]
    actual = {
        "allattemptsavg": row["mean"] * MAX_SCORE,
        "median": row["median"] * MAX_SCORE,
        "standarddeviation": row["sd"] * MAX_SCORE,
        "skewness": row["skewness"],
        "kurtosis": row["kurtosis"],
        "cic": 100 * row["cronbach_alpha"],
        "errorratio": 100 * row["error_ratio"],
        "standarderror": row["standard_error"] * MAX_SCORE,
    }
    for name, value in actual.items():
        assert value == pytest.approx(expected[name], rel=1.5e-5), name
