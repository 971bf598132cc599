"""Quiz statistics against values computed independently in plain Python.

The fixtures are built directly in an in-memory DuckDB (the staging tables of the contract);
the expected values come from the `statistics` module, explicit loops, sorted lists and
fractions, never from the SQL under test.
"""

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction
from itertools import combinations

import duckdb
import pytest

from lms_api.quizzes.grading import mark_answer
from pipelines.assets.staging import answer_seconds_sql
from pipelines.marts_contract import differences
from pipelines.quiz_statistics import (
    FLAG_DISTRACTOR,
    FLAG_NEGATIVE,
    FLAG_NO_DISCRIMINATION,
    FLAG_OK,
    FLAG_SAME_MARK,
    FLAG_SAME_TOTAL,
    FLAG_TOO_EASY,
    FLAG_TOO_FEW,
    QuizStatisticsSettings,
    random_guess_score,
    refresh_quiz_statistics,
)

SETS = ("all", "first", "last", "highest")
LOW = QuizStatisticsSettings(min_attempts=3)


@dataclass
class Question:
    id: int
    order: int
    type: str
    points: float
    options: list[tuple[int, bool]]  # (option id, is_correct), in order
    scoring: str = "all_or_nothing"

    @property
    def correct(self) -> list[int]:
        return [o for o, ok in self.options if ok]


@dataclass
class Attempt:
    id: int
    person: int
    number: int
    choices: dict[int, list[int]]  # question id -> chosen option ids (absent: not answered)


@dataclass
class Quiz:
    id: int
    questions: list[Question]
    attempts: list[Attempt] = field(default_factory=list)

    def mark(self, attempt: Attempt, question: Question) -> float:
        chosen = attempt.choices.get(question.id)
        return mark_answer(
            question.type,
            question.points,
            question.correct,
            [o for o, _ in question.options],
            chosen,
            question.scoring,
        ).score

    @property
    def max_score(self) -> float:
        return sum(q.points for q in self.questions)

    def total(self, attempt: Attempt) -> float:
        return sum(self.mark(attempt, q) for q in self.questions)


def single(qid: int, order: int, n_options: int = 4, points: float = 1.0) -> Question:
    """A SINGLE question whose first option (id qid*10+1) is the correct one."""
    return Question(
        qid, order, "SINGLE", points, [(qid * 10 + k, k == 1) for k in range(1, n_options + 1)]
    )


def quiz_one() -> Quiz:
    """3 SINGLE 0/1 questions (the third miskeyed: the strong students pick option 1032)
    and one MULTIPLE partial question (2 points, options 1041 and 1042 correct, 1043 wrong);
    6 students, with retakes by students 2, 3 (a tie) and 6 (a worse one)."""
    questions = [
        single(101, 1),
        single(102, 2),
        single(103, 3),
        Question(104, 4, "MULTIPLE", 2.0, [(1041, True), (1042, True), (1043, False)], "partial"),
    ]
    c = {  # person -> choices of the first attempt
        1: {101: [1011], 102: [1021], 103: [1032], 104: [1041, 1042]},
        2: {101: [1011], 102: [1021], 103: [1032], 104: [1041]},
        3: {101: [1011], 102: [1022], 103: [1032], 104: [1042]},
        4: {101: [1011], 102: [1023], 103: [1031], 104: [1041, 1043]},
        5: {101: [1012], 102: [1021], 103: [1031], 104: [1043]},
        6: {101: [1013], 102: [1024], 103: [1031]},
    }
    attempts = [Attempt(10 + p, p, 1, choices) for p, choices in c.items()]
    attempts += [
        Attempt(22, 2, 2, {101: [1011], 102: [1021], 103: [1032], 104: [1041, 1042]}),
        Attempt(23, 3, 2, {101: [1012], 102: [1021], 103: [1034], 104: [1041]}),
        Attempt(26, 6, 2, {101: [1014], 102: [1024], 103: [1033], 104: [1043]}),
    ]
    return Quiz(1, questions, attempts)


def quiz_two() -> Quiz:
    """10 students, one attempt each: question 201 right for everyone, 202 a MULTIPLE
    all-or-nothing question (2022 and 2023 correct of four, right for 4 of 10), 203 right for
    8 of 10."""
    questions = [
        single(201, 1, n_options=3),
        Question(
            202, 2, "MULTIPLE", 1.0, [(2021, False), (2022, True), (2023, True), (2024, False)]
        ),
        single(203, 3, n_options=2),
    ]
    q202 = [[2022, 2023], [2022, 2023], [2022], [2022, 2023], [2021], [2022, 2023], [2023, 2024]]
    q202 += [[2022, 2023, 2024], [2021, 2024], [2022]]
    q203 = [[2031]] * 10
    q203[4] = q203[8] = [2032]  # two students who also got 202 wrong
    attempts = [
        Attempt(100 + i, 100 + i, 1, {201: [2011], 202: q202[i], 203: q203[i]}) for i in range(10)
    ]
    return Quiz(2, questions, attempts)


def quiz_three() -> Quiz:
    """Too few attempts (2) for any statistic."""
    questions = [single(301, 1), single(302, 2)]
    attempts = [
        Attempt(301, 1, 1, {301: [3011], 302: [3022]}),
        Attempt(302, 2, 1, {301: [3012], 302: [3021]}),
    ]
    return Quiz(3, questions, attempts)


def staging_db(quizzes: list[Quiz]) -> duckdb.DuckDBPyConnection:
    db = duckdb.connect(":memory:")
    db.execute("CREATE SCHEMA staging")
    db.execute(
        """
        CREATE TABLE staging.quiz_questions (quiz_id BIGINT, question_id BIGINT,
            question_order INTEGER, type VARCHAR, max_mark DOUBLE, multiple_scoring VARCHAR,
            n_options INTEGER, n_correct INTEGER);
        CREATE TABLE staging.quiz_options (quiz_id BIGINT, question_id BIGINT,
            option_id BIGINT, option_order INTEGER, is_correct BOOLEAN);
        CREATE TABLE staging.quiz_attempts (attempt_id BIGINT, quiz_id BIGINT, person_id BIGINT,
            student VARCHAR, number INTEGER, finished_at TIMESTAMP, score DOUBLE,
            max_score DOUBLE);
        CREATE TABLE staging.quiz_item_marks (attempt_id BIGINT, quiz_id BIGINT,
            question_id BIGINT, mark DOUBLE);
        CREATE TABLE staging.quiz_choices (attempt_id BIGINT, quiz_id BIGINT,
            question_id BIGINT, option_id BIGINT);
        """
    )
    for quiz in quizzes:
        load_quiz(db, quiz)
    return db


def load_quiz(db: duckdb.DuckDBPyConnection, quiz: Quiz) -> None:
    for q in quiz.questions:
        db.execute(
            "INSERT INTO staging.quiz_questions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [quiz.id, q.id, q.order, q.type, q.points, q.scoring, len(q.options), len(q.correct)],
        )
        for order, (option, ok) in enumerate(q.options, start=1):
            db.execute(
                "INSERT INTO staging.quiz_options VALUES (?, ?, ?, ?, ?)",
                [quiz.id, q.id, option, order, ok],
            )
    for a in quiz.attempts:
        add_attempt(db, quiz, a)


def add_attempt(db: duckdb.DuckDBPyConnection, quiz: Quiz, a: Attempt) -> None:
    finished = datetime(2026, 3, 1) + timedelta(hours=a.id)
    db.execute(
        "INSERT INTO staging.quiz_attempts VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [a.id, quiz.id, a.person, f"s{a.person}", a.number, finished, quiz.total(a),
         quiz.max_score],
    )  # fmt: skip
    for q in quiz.questions:
        db.execute(
            "INSERT INTO staging.quiz_item_marks VALUES (?, ?, ?, ?)",
            [a.id, quiz.id, q.id, quiz.mark(a, q)],
        )
        for option in a.choices.get(q.id, []):
            db.execute(
                "INSERT INTO staging.quiz_choices VALUES (?, ?, ?, ?)",
                [a.id, quiz.id, q.id, option],
            )


def rows(db, table: str, **where) -> list[dict]:
    sql = f"SELECT * FROM marts.{table}"
    if where:
        sql += " WHERE " + " AND ".join(f"{k} = ?" for k in where)
    cursor = db.execute(sql, list(where.values()))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def one(db, table: str, **where) -> dict:
    found = rows(db, table, **where)
    assert len(found) == 1, found
    return found[0]


# ---- the reference model: plain Python --------------------------------------------------


def set_members(quiz: Quiz) -> dict[str, list[Attempt]]:
    """The attempts of each set, by the definitions (lowest/highest number, best score with
    the earlier attempt winning a tie)."""
    by_person = defaultdict(list)
    for a in quiz.attempts:
        by_person[a.person].append(a)
    members = {"all": list(quiz.attempts), "first": [], "last": [], "highest": []}
    for group in by_person.values():
        members["first"].append(min(group, key=lambda a: a.number))
        members["last"].append(max(group, key=lambda a: a.number))
        best = max(quiz.total(a) for a in group)
        members["highest"].append(min((a for a in group if quiz.total(a) == best),
                                      key=lambda a: a.number))  # fmt: skip
    return members


def excel_skew(values: list[float]) -> float:
    """The adjusted Fisher-Pearson coefficient n/((n-1)(n-2)) sum(((v - mean)/s)^3), which
    is algebraically the k-statistic ratio k3 / k2^1.5."""
    n, mean, s = len(values), statistics.mean(values), statistics.stdev(values)
    return n / ((n - 1) * (n - 2)) * sum(((v - mean) / s) ** 3 for v in values)


def excel_kurt(values: list[float]) -> float:
    """n(n+1)/((n-1)(n-2)(n-3)) sum(((v - mean)/s)^4) - 3(n-1)^2/((n-2)(n-3)), which is
    algebraically k4 / k2^2."""
    n, mean, s = len(values), statistics.mean(values), statistics.stdev(values)
    fourth = sum(((v - mean) / s) ** 4 for v in values)
    return n * (n + 1) / ((n - 1) * (n - 2) * (n - 3)) * fourth - 3 * (n - 1) ** 2 / (
        (n - 2) * (n - 3)
    )


def k_statistics(values: list[float]) -> tuple[float, float]:
    """skewness k3/k2^1.5 and kurtosis k4/k2^2 from the central moments, by the brief."""
    n = len(values)
    mean = sum(values) / n
    m2, m3, m4 = (sum((v - mean) ** k for v in values) / n for k in (2, 3, 4))
    k2 = n * m2 / (n - 1)
    k3 = n**2 * m3 / ((n - 1) * (n - 2))
    k4 = n**2 * ((n + 1) * m4 - 3 * (n - 1) * m2**2) / ((n - 1) * (n - 2) * (n - 3))
    return k3 / k2**1.5, k4 / k2**2


def expected_quiz_stats(quiz: Quiz, attempts: list[Attempt]) -> dict:
    totals = [quiz.total(a) / quiz.max_score for a in attempts]
    points = [quiz.total(a) for a in attempts]
    p = len(quiz.questions)
    item_var = sum(statistics.variance([quiz.mark(a, q) for a in attempts]) for q in quiz.questions)
    alpha = p / (p - 1) * (1 - item_var / statistics.variance(points))
    sd = statistics.stdev(totals)
    return {
        "n_attempts": len(attempts),
        "mean": statistics.mean(totals),
        "median": statistics.median(totals),
        "sd": sd,
        "skewness": excel_skew(totals),
        "kurtosis": excel_kurt(totals),
        "cronbach_alpha": alpha,
        # Moodle: 100 * sqrt(1 - cic / 100), for a negative alpha too (then above 100 %)
        "error_ratio": math.sqrt(1 - alpha),
        "standard_error": math.sqrt(1 - alpha) * sd,
    }


def correlation_or_none(x: list[float], y: list[float]) -> float | None:
    if len(set(x)) < 2 or len(set(y)) < 2:
        return None
    return statistics.correlation(x, y)


def expected_item_stats(quiz: Quiz, attempts: list[Attempt]) -> dict[int, dict]:
    totals = [quiz.total(a) for a in attempts]
    cov_t, result = {}, {}
    for q in quiz.questions:
        x = [quiz.mark(a, q) for a in attempts]
        cov_t[q.id] = statistics.covariance(x, totals)
    weight_sum = sum(math.sqrt(c) for c in cov_t.values() if c >= 0)
    for q in quiz.questions:
        x = [quiz.mark(a, q) for a in attempts]
        rest = [t - v for t, v in zip(totals, x, strict=True)]
        corr = correlation_or_none(x, rest)
        cov_max = statistics.covariance(sorted(x), sorted(rest))
        facility = statistics.mean(x) / q.points
        result[q.id] = {
            "n": len(attempts),
            "facility_index": facility,
            "sd": statistics.stdev(x) / q.points,
            "intended_weight": 100 * q.points / quiz.max_score,
            "effective_weight": (
                100 * math.sqrt(cov_t[q.id]) / weight_sum if cov_t[q.id] >= 0 else None
            ),
            "discrimination_index": None if corr is None else 100 * corr,
            "discriminative_efficiency": (
                100 * statistics.covariance(x, rest) / cov_max if cov_max > 0 else None
            ),
            "ci_low": wilson(facility, len(attempts))[0],
            "ci_high": wilson(facility, len(attempts))[1],
        }
    return result


def wilson(p: float, n: int, z: float = 1.959964) -> tuple[float, float]:
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def assert_close(actual: dict, expected: dict) -> None:
    for key, value in expected.items():
        if value is None:
            assert actual[key] is None, (key, actual[key])
        else:
            assert actual[key] == pytest.approx(value, rel=1e-9, abs=1e-12), key


# ---- tests -----------------------------------------------------------------------------


@pytest.fixture
def quizzes() -> list[Quiz]:
    return [quiz_one(), quiz_two(), quiz_three()]


@pytest.fixture
def db(quizzes):
    connection = staging_db(quizzes)
    yield connection
    connection.close()


def test_full_refresh_counts_rows_per_table(db, quizzes):
    counts = refresh_quiz_statistics(db, None, LOW)
    # every quiz has attempts, so 4 sets each; items and options of every question
    n_questions = sum(len(q.questions) for q in quizzes)
    n_options = sum(len(question.options) for q in quizzes for question in q.questions)
    assert counts == {
        "quiz_stats": 3 * 4,
        "quiz_item_stats": n_questions * 4,
        "quiz_option_stats": n_options * 4,
    }
    for table, count in counts.items():
        assert db.execute(f"SELECT count(*) FROM marts.{table}").fetchone()[0] == count


def test_attempt_sets_membership(db, quizzes):
    refresh_quiz_statistics(db, None, LOW)
    quiz = quizzes[0]
    members = set_members(quiz)
    ids = {name: sorted(a.id for a in attempts) for name, attempts in members.items()}
    # by hand: retakes 22 (student 2, better), 23 (student 3, same score), 26 (student 6, worse)
    assert ids["all"] == [11, 12, 13, 14, 15, 16, 22, 23, 26]
    assert ids["first"] == [11, 12, 13, 14, 15, 16]
    assert ids["last"] == [11, 14, 15, 22, 23, 26]
    assert ids["highest"] == [11, 13, 14, 15, 16, 22]  # the tie of student 3: the earlier one
    for name in SETS:
        row = one(db, "quiz_stats", quiz_id=1, attempt_set=name)
        assert row["n_attempts"] == len(ids[name])
        expected_mean = statistics.mean(quiz.total(a) / 5 for a in members[name])
        assert row["mean"] == pytest.approx(expected_mean)


def test_quiz_stats_match_plain_python(db, quizzes):
    refresh_quiz_statistics(db, None, LOW)
    for quiz in quizzes[:2]:
        for name, attempts in set_members(quiz).items():
            row = one(db, "quiz_stats", quiz_id=quiz.id, attempt_set=name)
            assert row["n_questions"] == len(quiz.questions)
            assert row["max_mark"] == pytest.approx(quiz.max_score)
            assert_close(row, expected_quiz_stats(quiz, attempts))


def test_skewness_and_kurtosis_are_the_k_statistic_ratios(db, quizzes):
    refresh_quiz_statistics(db, None, LOW)
    quiz = quizzes[0]
    totals = [quiz.total(a) / quiz.max_score for a in quiz.attempts]
    assert totals == [4 / 5, 3 / 5, 2 / 5, 2 / 5, 2 / 5, 1 / 5, 4 / 5, 2 / 5, 0.0]
    skewness, kurtosis = k_statistics(totals)
    assert skewness == pytest.approx(excel_skew(totals))
    assert kurtosis == pytest.approx(excel_kurt(totals))
    row = one(db, "quiz_stats", quiz_id=1, attempt_set="all")
    assert row["skewness"] == pytest.approx(skewness, rel=1e-9)
    assert row["kurtosis"] == pytest.approx(kurtosis, rel=1e-9)
    try:
        from scipy import stats as scipy_stats
    except ImportError:
        return
    assert row["skewness"] == pytest.approx(scipy_stats.skew(totals, bias=False))
    assert row["kurtosis"] == pytest.approx(scipy_stats.kurtosis(totals, bias=False))


def test_cronbach_alpha_by_hand(db):
    refresh_quiz_statistics(db, None, LOW)
    # quiz 1, item marks (points) per attempt, first attempts (students 1..6) ...
    first = [[1, 1, 1, 1, 0, 0], [1, 1, 0, 0, 1, 0], [0, 0, 0, 1, 1, 1], [2, 1, 1, 0, 0, 0]]
    # ... and last attempts (attempts 11, 14, 15, 22, 23, 26)
    last = [[1, 1, 0, 1, 0, 0], [1, 0, 1, 1, 1, 0], [0, 1, 1, 0, 0, 0], [2, 0, 0, 2, 1, 0]]
    alphas = {}
    for name, items in (("first", first), ("last", last)):
        totals = [sum(column) for column in zip(*items, strict=True)]
        item_variances = sum(statistics.variance(i) for i in items)
        alphas[name] = 4 / 3 * (1 - item_variances / statistics.variance(totals))
        row = one(db, "quiz_stats", quiz_id=1, attempt_set=name)
        assert row["cronbach_alpha"] == pytest.approx(alphas[name])
    assert [sum(c) for c in zip(*first, strict=True)] == [4, 3, 2, 2, 2, 1]
    # the miskeyed item makes the first attempts' alpha negative: Moodle still reports the
    # error ratio sqrt(1 - alpha), above 100 %
    assert alphas["first"] < 0
    row = one(db, "quiz_stats", quiz_id=1, attempt_set="first")
    assert row["error_ratio"] == pytest.approx(math.sqrt(1 - alphas["first"]))
    assert row["error_ratio"] > 1
    first_sd = statistics.stdev([t / 5 for t in (4, 3, 2, 2, 2, 1)])
    assert row["standard_error"] == pytest.approx(math.sqrt(1 - alphas["first"]) * first_sd)
    assert 0 < alphas["last"] < 1
    row = one(db, "quiz_stats", quiz_id=1, attempt_set="last")
    assert row["error_ratio"] == pytest.approx(math.sqrt(1 - alphas["last"]))
    sd = statistics.stdev([4 / 5, 2 / 5, 2 / 5, 4 / 5, 2 / 5, 0])
    assert row["sd"] == pytest.approx(sd)
    assert row["standard_error"] == pytest.approx(math.sqrt(1 - alphas["last"]) * sd)


def test_negative_alpha_has_moodles_error_ratio():
    """Two questions that disagree: alpha < 0, and the error ratio is sqrt(1 - alpha) as in
    Moodle (mod/quiz/report/statistics/classes/calculator.php), not NULL."""
    quiz = Quiz(5, [single(501, 1), single(502, 2)])
    quiz.attempts = [
        Attempt(500 + i, i, 1, {501: [5011] if i % 2 else [5012], 502: [5022] if i % 2 else [5021]})
        for i in range(6)
    ]
    db = staging_db([quiz])
    refresh_quiz_statistics(db, None, LOW)
    row = one(db, "quiz_stats", quiz_id=5, attempt_set="all")
    # totals are all 1 point: variance 0 -> alpha undefined
    assert row["cronbach_alpha"] is None
    assert row["sd"] == 0
    assert row["skewness"] is None
    # now one student gets both right: totals vary, the items still mostly disagree
    add_attempt(db, quiz, Attempt(599, 99, 1, {501: [5011], 502: [5021]}))
    quiz.attempts.append(Attempt(599, 99, 1, {501: [5011], 502: [5021]}))
    refresh_quiz_statistics(db, None, LOW)
    row = one(db, "quiz_stats", quiz_id=5, attempt_set="all")
    expected = expected_quiz_stats(quiz, quiz.attempts)
    assert expected["cronbach_alpha"] < 0
    assert row["cronbach_alpha"] == pytest.approx(expected["cronbach_alpha"])
    assert row["error_ratio"] == pytest.approx(math.sqrt(1 - expected["cronbach_alpha"]))
    assert row["error_ratio"] > 1
    assert row["standard_error"] == pytest.approx(expected["standard_error"])


def test_item_stats_match_plain_python(db, quizzes):
    refresh_quiz_statistics(db, None, LOW)
    for quiz in quizzes[:2]:
        for name, attempts in set_members(quiz).items():
            expected = expected_item_stats(quiz, attempts)
            for q in quiz.questions:
                row = one(db, "quiz_item_stats", question_id=q.id, attempt_set=name)
                assert row["quiz_id"] == quiz.id
                assert row["question_order"] == q.order
                assert_close(row, expected[q.id])


def test_discriminative_efficiency_by_hand(db):
    refresh_quiz_statistics(db, None, LOW)
    # question 102 in quiz 1's first attempts: x and the rest of the test R, per student
    x = [1, 1, 0, 0, 1, 0]
    rest = [3, 2, 2, 2, 1, 1]
    n = 6
    mean_x, mean_r = sum(x) / n, sum(rest) / n
    cov = sum((a - mean_x) * (b - mean_r) for a, b in zip(x, rest, strict=True)) / (n - 1)
    # x sorted 0,0,0,1,1,1 against R sorted 1,1,2,2,2,3
    cov_max = sum(
        (a - mean_x) * (b - mean_r)
        for a, b in zip([0, 0, 0, 1, 1, 1], [1, 1, 2, 2, 2, 3], strict=True)
    ) / (n - 1)
    row = one(db, "quiz_item_stats", question_id=102, attempt_set="first")
    assert row["discriminative_efficiency"] == pytest.approx(100 * cov / cov_max)
    assert row["discrimination_index"] == pytest.approx(100 * statistics.correlation(x, rest))


def test_partial_marks_question(db, quizzes):
    refresh_quiz_statistics(db, None, LOW)
    # question 104 (2 points, partial): first attempts score 2, 1, 1, 0, 0, 0 points
    row = one(db, "quiz_item_stats", question_id=104, attempt_set="first")
    assert row["facility_index"] == pytest.approx(4 / 12)
    assert row["sd"] == pytest.approx(statistics.stdev([1, 0.5, 0.5, 0, 0, 0]))
    assert row["intended_weight"] == pytest.approx(40.0)
    assert row["random_guess_score"] == pytest.approx(2 / 7)
    low, high = wilson(1 / 3, 6)
    assert (row["ci_low"], row["ci_high"]) == (pytest.approx(low), pytest.approx(high))


def test_miskeyed_item_has_negative_discrimination(db):
    refresh_quiz_statistics(db, None, LOW)
    row = one(db, "quiz_item_stats", question_id=103, attempt_set="first")
    x = [0, 0, 0, 1, 1, 1]
    rest = [4, 3, 2, 1, 1, 0]
    assert row["discrimination_index"] == pytest.approx(100 * statistics.correlation(x, rest))
    assert row["discrimination_index"] < 0
    assert row["effective_weight"] is None  # cov(x, T) < 0
    assert FLAG_NEGATIVE in row["flag"].split("; ")
    # the option the strong students picked correlates positively with the total
    option = one(db, "quiz_option_stats", option_id=1032, attempt_set="first")
    assert option["point_biserial"] > 0.5
    assert option["is_correct"] is False


def test_everyone_right_gives_no_discrimination(db):
    refresh_quiz_statistics(db, None, LOW)
    row = one(db, "quiz_item_stats", question_id=201, attempt_set="all")
    assert row["facility_index"] == 1
    assert row["sd"] == 0
    assert row["discrimination_index"] is None
    assert row["discriminative_efficiency"] is None
    assert row["effective_weight"] == 0
    assert row["flag"] == f"{FLAG_TOO_EASY}; {FLAG_SAME_MARK}"
    low, high = wilson(1.0, 10)
    assert high == pytest.approx(1.0)
    assert row["ci_low"] == pytest.approx(low)
    assert row["ci_high"] == pytest.approx(1.0)
    # the option everyone chose and the ones nobody chose: no correlation
    for option_id, count in ((2011, 10), (2012, 0), (2013, 0)):
        option = one(db, "quiz_option_stats", option_id=option_id, attempt_set="all")
        assert option["chosen_count"] == count
        assert option["chosen_rate"] == count / 10
        assert option["point_biserial"] is None


def test_wilson_interval_for_eight_of_ten(db):
    refresh_quiz_statistics(db, None, LOW)
    row = one(db, "quiz_item_stats", question_id=203, attempt_set="all")
    assert row["n"] == 10
    assert row["facility_index"] == pytest.approx(0.8)
    assert row["ci_low"] == pytest.approx(0.4902, abs=5e-5)
    assert row["ci_high"] == pytest.approx(0.9433, abs=5e-5)


def test_min_attempts_gating(db, quizzes):
    refresh_quiz_statistics(db, None, LOW)
    stats = one(db, "quiz_stats", quiz_id=3, attempt_set="all")
    assert stats["n_attempts"] == 2
    assert stats["n_questions"] == 2
    for column in ("mean", "median", "sd", "skewness", "kurtosis", "cronbach_alpha",
                   "error_ratio", "standard_error"):  # fmt: skip
        assert stats[column] is None, column
    for item in rows(db, "quiz_item_stats", quiz_id=3):
        assert item["flag"] == FLAG_TOO_FEW
        assert item["n"] == 2
        for column in ("facility_index", "sd", "effective_weight", "discrimination_index",
                       "discriminative_efficiency", "ci_low", "ci_high"):  # fmt: skip
            assert item[column] is None, column
        assert item["random_guess_score"] == pytest.approx(0.25)
        assert item["intended_weight"] == pytest.approx(50.0)
    for option in rows(db, "quiz_option_stats", quiz_id=3, attempt_set="all"):
        assert option["chosen_count"] in (0, 1)
        assert option["point_biserial"] is None


def test_default_min_attempts_is_ten(db):
    refresh_quiz_statistics(db, None, QuizStatisticsSettings())
    assert one(db, "quiz_stats", quiz_id=1, attempt_set="all")["mean"] is None  # 9 attempts
    assert one(db, "quiz_stats", quiz_id=2, attempt_set="all")["mean"] is not None  # 10
    assert one(db, "quiz_item_stats", question_id=101, attempt_set="all")["flag"] == FLAG_TOO_FEW
    assert one(db, "quiz_item_stats", question_id=203, attempt_set="all")["flag"] != FLAG_TOO_FEW


def test_flags_follow_the_thresholds(db):
    refresh_quiz_statistics(db, None, LOW)
    # first attempts of quiz 1: 102 is fine, 101 discriminates weakly (15.8 < 20), 104 (guess
    # 2/7) has facility 1/3 <= 2/7 + 0.05
    row = one(db, "quiz_item_stats", question_id=102, attempt_set="first")
    assert row["discrimination_index"] == pytest.approx(100 * 1 / math.sqrt(17))
    assert row["flag"] == FLAG_OK
    row = one(db, "quiz_item_stats", question_id=101, attempt_set="first")
    assert row["discrimination_index"] == pytest.approx(100 / math.sqrt(40))
    assert row["flag"] == "weak discrimination"
    row = one(db, "quiz_item_stats", question_id=104, attempt_set="first")
    assert row["flag"] == "no better than guessing; weak discrimination"
    row = one(db, "quiz_item_stats", question_id=203, attempt_set="all")
    assert row["flag"] == FLAG_OK
    # the thresholds are settings
    strict = QuizStatisticsSettings(min_attempts=3, weak_discrimination=99.0, too_easy=0.6)
    refresh_quiz_statistics(db, None, strict)
    row = one(db, "quiz_item_stats", question_id=101, attempt_set="first")
    assert row["flag"] == "too easy; weak discrimination"
    # 203 (2 options, guess 0.5): facility 0.8 is not near guessing; with a 0.3 margin it is
    guessy = QuizStatisticsSettings(min_attempts=3, guess_margin=0.3)
    refresh_quiz_statistics(db, None, guessy)
    row = one(db, "quiz_item_stats", question_id=203, attempt_set="all")
    assert row["random_guess_score"] == pytest.approx(0.5)
    assert row["flag"] == "no better than guessing"
    hard = QuizStatisticsSettings(min_attempts=3, too_hard=0.45)
    refresh_quiz_statistics(db, None, hard)
    row = one(db, "quiz_item_stats", question_id=202, attempt_set="all")
    assert row["facility_index"] == pytest.approx(0.4)
    assert row["flag"] == "too hard"


def test_random_guess_scores():
    assert random_guess_score("SINGLE", "all_or_nothing", 4, 1) == pytest.approx(0.25)
    assert random_guess_score("SINGLE", None, 3, 1) == pytest.approx(1 / 3)
    # all or nothing: one of the 2^4 - 1 non-empty subsets is the correct set
    assert random_guess_score("MULTIPLE", "all_or_nothing", 4, 2) == pytest.approx(1 / 15)
    # partial, options {a, b} correct, {c} wrong, by hand over the 7 non-empty subsets:
    # a .5, b .5, c 0, ab 1, ac max(0, .5 - 1) = 0, bc 0, abc 1 - 1 = 0 -> 2/7
    assert random_guess_score("MULTIPLE", "partial", 3, 2) == pytest.approx(2 / 7)
    assert random_guess_score("MULTIPLE", "partial", 3, 3) == pytest.approx(4 / 7)
    assert random_guess_score("MULTIPLE", "partial", 0, 0) is None


@pytest.mark.parametrize("n_options", [2, 3, 4, 5, 6])
def test_random_guess_partial_enumerated_with_the_lms_grader(n_options):
    ids = list(range(n_options))
    for n_correct in range(1, n_options + 1):
        subsets = [s for k in range(1, n_options + 1) for s in combinations(ids, k)]
        marks = [
            Fraction(
                mark_answer("MULTIPLE", 1.0, ids[:n_correct], ids, list(s), "partial").score
            ).limit_denominator(1000)
            for s in subsets
        ]
        expected = float(sum(marks) / len(subsets))
        actual = random_guess_score("MULTIPLE", "partial", n_options, n_correct)
        assert actual == pytest.approx(expected), (n_options, n_correct)


def test_option_stats_point_biserial_is_the_pearson_correlation(db, quizzes):
    refresh_quiz_statistics(db, None, LOW)
    for quiz in quizzes[:2]:
        for name, attempts in set_members(quiz).items():
            totals = [quiz.total(a) / quiz.max_score for a in attempts]
            for q in quiz.questions:
                for order, (option, ok) in enumerate(q.options, start=1):
                    chose = [1.0 if option in a.choices.get(q.id, []) else 0.0 for a in attempts]
                    row = one(db, "quiz_option_stats", option_id=option, attempt_set=name)
                    assert row["quiz_id"] == quiz.id
                    assert row["question_id"] == q.id
                    assert row["option_order"] == order
                    assert row["is_correct"] is ok
                    assert row["chosen_count"] == sum(chose)
                    assert row["chosen_rate"] == pytest.approx(sum(chose) / len(attempts))
                    expected = correlation_or_none(chose, totals)
                    if expected is None:
                        assert row["point_biserial"] is None
                    else:
                        assert row["point_biserial"] == pytest.approx(expected, rel=1e-9)


def test_incremental_refresh_touches_only_the_listed_quizzes(db, quizzes):
    refresh_quiz_statistics(db, None, LOW)
    before = {t: rows(db, t, quiz_id=2) for t in ("quiz_stats", "quiz_item_stats")}
    before["quiz_option_stats"] = rows(db, "quiz_option_stats", quiz_id=2)
    # new attempts arrive for quizzes 1 and 2; only quiz 1 is refreshed
    new_one = Attempt(31, 7, 1, {101: [1011], 102: [1021], 103: [1031], 104: [1041, 1042]})
    add_attempt(db, quizzes[0], new_one)
    quizzes[0].attempts.append(new_one)
    add_attempt(db, quizzes[1], Attempt(199, 199, 1, {201: [2012], 202: [2021], 203: [2032]}))
    counts = refresh_quiz_statistics(db, [1], LOW)
    assert counts == {"quiz_stats": 4, "quiz_item_stats": 16, "quiz_option_stats": 4 * 15}
    for table, old in before.items():
        assert rows(db, table, quiz_id=2) == old, table
    assert one(db, "quiz_stats", quiz_id=1, attempt_set="all")["n_attempts"] == 10
    assert_close(
        one(db, "quiz_stats", quiz_id=1, attempt_set="first"),
        expected_quiz_stats(quizzes[0], set_members(quizzes[0])["first"]),
    )
    assert len(rows(db, "quiz_stats")) == 12  # quiz 3 kept too


def test_incremental_refresh_gives_the_rows_of_a_full_rebuild(db):
    ordered = {
        "quiz_stats": "quiz_id, attempt_set",
        "quiz_item_stats": "question_id, attempt_set",
        "quiz_option_stats": "option_id, attempt_set",
    }

    def snapshot() -> dict[str, list[tuple]]:
        return {
            t: db.execute(f"SELECT * FROM marts.{t} ORDER BY {o}").fetchall()
            for t, o in ordered.items()
        }

    def approximately(tables: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
        # floats to 1e-12: sums of doubles may differ in the last bit with the order
        return {
            t: [
                tuple(pytest.approx(v, rel=1e-12) if isinstance(v, float) else v for v in row)
                for row in table
            ]
            for t, table in tables.items()
        }

    # from nothing: the tables are created by the incremental call
    counts = refresh_quiz_statistics(db, [1, 2], LOW)
    assert counts["quiz_stats"] == 8
    refresh_quiz_statistics(db, [3], LOW)
    incremental = approximately(snapshot())
    assert len(incremental["quiz_option_stats"]) == 4 * (15 + 9 + 8)
    refresh_quiz_statistics(db, None, LOW)
    assert snapshot() == incremental
    # refreshing quizzes again, one listed twice and one that does not exist
    refresh_quiz_statistics(db, [2, 2, 3, 999], LOW)
    assert snapshot() == incremental
    assert refresh_quiz_statistics(db, [], LOW) == {
        "quiz_stats": 0,
        "quiz_item_stats": 0,
        "quiz_option_stats": 0,
    }
    assert snapshot() == incremental


def test_mart_columns_and_types(db):
    refresh_quiz_statistics(db, None, LOW)
    assert differences(db, ["quiz_stats", "quiz_item_stats", "quiz_option_stats"]) == []


def test_runs_inside_the_callers_transaction(db):
    db.execute("BEGIN TRANSACTION")
    refresh_quiz_statistics(db, None, LOW)
    assert db.execute("SELECT count(*) FROM marts.quiz_stats").fetchone()[0] == 12
    db.execute("ROLLBACK")
    exists = db.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'marts'"
    ).fetchone()[0]
    assert exists == 0


def test_a_failed_refresh_leaves_the_marts_as_they_were(db):
    refresh_quiz_statistics(db, None, LOW)
    before = rows(db, "quiz_stats")
    db.execute("ALTER TABLE staging.quiz_choices RENAME COLUMN option_id TO option")
    with pytest.raises(duckdb.Error):
        refresh_quiz_statistics(db, None, LOW)
    assert rows(db, "quiz_stats") == before
    leftovers = db.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE '_quiz_stats%'"
    ).fetchone()[0]
    assert leftovers == 0


def test_a_quiz_without_attempts_has_no_rows(db):
    refresh_quiz_statistics(db, None, LOW)
    assert len(rows(db, "quiz_stats", quiz_id=3)) == 4
    db.execute("DELETE FROM staging.quiz_item_marks WHERE quiz_id = 3")
    db.execute("DELETE FROM staging.quiz_choices WHERE quiz_id = 3")
    db.execute("DELETE FROM staging.quiz_attempts WHERE quiz_id = 3")
    counts = refresh_quiz_statistics(db, [3], LOW)
    assert counts == {"quiz_stats": 0, "quiz_item_stats": 0, "quiz_option_stats": 0}
    for table in ("quiz_stats", "quiz_item_stats", "quiz_option_stats"):
        assert rows(db, table, quiz_id=3) == []
        assert len(rows(db, table, quiz_id=1)) > 0


# ---- issue 17: Moodle's edge cases, flags that say the right thing, time on question ---------


def quiz_from_marks(quiz_id: int, marks: list[list[int]], wrong: dict | None = None) -> Quiz:
    """A quiz of SINGLE questions (4 options, the first the key) from a 0/1 mark per student
    and question; a wrong answer picks option 2 unless `wrong[(student, question index)]`
    names another option position (0-based)."""
    questions = [single(quiz_id * 10 + i, i + 1) for i in range(len(marks[0]))]
    quiz = Quiz(quiz_id, questions)
    for s, row in enumerate(marks):
        choices = {}
        for i, (q, mark) in enumerate(zip(questions, row, strict=True)):
            position = 0 if mark else (wrong or {}).get((s, i), 1)
            choices[q.id] = [q.options[position][0]]
        quiz.attempts.append(Attempt(quiz_id * 100 + s, s, 1, choices))
    return quiz


@pytest.mark.parametrize("points", [1 / 3, 0.7, 1.0])
def test_same_total_for_everyone_gives_no_effective_weight(points):
    """Every attempt gets exactly two of three questions right: cov(x, T) = 0 for each item,
    so Moodle gives no effective weight at all (its sum of sqrt(cov) is 0). Computed as
    var(x) + cov(x, R), float noise used to give 100 % to one item at 1/3 point."""
    questions = [
        Question(600 + i, i + 1, "SINGLE", points, [(6000 + 10 * i + k, k == 1) for k in (1, 2)])
        for i in range(3)
    ]
    quiz = Quiz(6, questions)
    for k in range(12):
        wrong = k % 3
        choices = {q.id: [q.options[1 if i == wrong else 0][0]] for i, q in enumerate(questions)}
        quiz.attempts.append(Attempt(k + 1, k + 1, 1, choices))
    db = staging_db([quiz])
    refresh_quiz_statistics(db, None, LOW)
    items = rows(db, "quiz_item_stats", quiz_id=6, attempt_set="all")
    assert len(items) == 3
    for item in items:
        assert item["effective_weight"] is None, item
        assert item["flag"] == FLAG_SAME_TOTAL  # not "check the answer key"
    stats = one(db, "quiz_stats", quiz_id=6, attempt_set="all")
    assert stats["sd"] == 0
    assert stats["cronbach_alpha"] is None
    assert stats["error_ratio"] is None


def test_alpha_error_ratio_and_standard_error_need_more_than_two_attempts():
    """Moodle computes the coefficient of internal consistency only for s > 2 attempts."""
    quiz = quiz_from_marks(8, [[1, 1, 0], [0, 1, 0]])
    db = staging_db([quiz])
    two = QuizStatisticsSettings(min_attempts=2)
    refresh_quiz_statistics(db, None, two)
    row = one(db, "quiz_stats", quiz_id=8, attempt_set="all")
    assert row["n_attempts"] == 2
    assert row["sd"] == pytest.approx(statistics.stdev([2 / 3, 1 / 3]))  # still given
    assert row["cronbach_alpha"] is None
    assert row["error_ratio"] is None
    assert row["standard_error"] is None
    third = Attempt(899, 99, 1, {80: [801], 81: [812], 82: [821]})
    add_attempt(db, quiz, third)
    quiz.attempts.append(third)
    refresh_quiz_statistics(db, None, two)
    row = one(db, "quiz_stats", quiz_id=8, attempt_set="all")
    items = [[quiz.mark(a, q) for a in quiz.attempts] for q in quiz.questions]
    totals = [quiz.total(a) for a in quiz.attempts]
    alpha = 3 / 2 * (1 - sum(statistics.variance(i) for i in items) / statistics.variance(totals))
    assert row["cronbach_alpha"] == pytest.approx(alpha)
    assert row["error_ratio"] == pytest.approx(math.sqrt(1 - alpha))


def fisher_interval(r: float, n: int, z: float = 1.959964) -> tuple[float, float]:
    half = z / math.sqrt(n - 3)
    return math.tanh(math.atanh(r) - half), math.tanh(math.atanh(r) + half)


def test_negative_discrimination_within_its_uncertainty_does_not_blame_the_key():
    """Ten students: questions 71 and 73 correlate slightly negatively with the rest (-13,
    -11), well within the uncertainty of 10 attempts: "does not discriminate", not "check the
    answer key" (which the miskeyed 103 of quiz one still gets, see below)."""
    marks = [[1, 1, 1, 0], [1, 1, 1, 1], [1, 1, 0, 0], [1, 0, 1, 1], [0, 1, 1, 0],
             [1, 1, 0, 1], [0, 0, 1, 1], [0, 1, 0, 0], [0, 0, 0, 1], [1, 0, 0, 0]]  # fmt: skip
    quiz = quiz_from_marks(7, marks)
    db = staging_db([quiz])
    refresh_quiz_statistics(db, None, LOW)
    for index in (1, 3):
        x = [row[index] for row in marks]
        rest = [sum(row) - row[index] for row in marks]
        r = statistics.correlation(x, rest)
        low, high = fisher_interval(r, 10)
        row = one(db, "quiz_item_stats", question_id=70 + index, attempt_set="all")
        assert row["discrimination_index"] == pytest.approx(100 * r)
        assert r < 0 < high
        assert row["discrimination_ci_low"] == pytest.approx(100 * low)
        assert row["discrimination_ci_high"] == pytest.approx(100 * high)
        assert row["flag"] == FLAG_NO_DISCRIMINATION
        assert FLAG_NEGATIVE not in row["flag"]


def test_negative_discrimination_beyond_its_uncertainty_blames_the_key(db):
    refresh_quiz_statistics(db, None, LOW)
    row = one(db, "quiz_item_stats", question_id=103, attempt_set="first")
    r = statistics.correlation([0, 0, 0, 1, 1, 1], [4, 3, 2, 1, 1, 0])
    high = fisher_interval(r, 6)[1]
    assert high < 0
    assert row["discrimination_ci_high"] == pytest.approx(100 * high)
    assert row["flag"].startswith(FLAG_NEGATIVE)  # the most serious flag first


def attractive_quiz() -> Quiz:
    """Twenty students; question 90 (the key chosen by 3, the wrong option 902 by 13) and
    question 91 (the key chosen by the weak half, the wrong option 912 by the strong half)
    plus four fair questions that rank the students (the strong ones get them right)."""
    marks, wrong = [], {}
    for s in range(20):
        strong = s >= 10
        q90 = 1 if s % 7 == 0 else 0  # 3 right
        q91 = 0 if strong else 1
        fair = [int(strong or s % k == 0) for k in (3, 5, 7, 9)]
        marks.append([q90, q91, *fair])
        if not q90 and s % 5 == 1:
            wrong[(s, 0)] = 2  # 4 students pick 903, the other 13 pick 902
    return quiz_from_marks(9, marks, wrong)


def test_a_wrong_option_chosen_more_than_the_key_is_an_attractive_distractor():
    """More beyond the uncertainty: 13 against the key's 3 (13 - 3 > 1.96 sqrt(16)), while
    903's 4 against 3 is no evidence."""
    quiz = attractive_quiz()
    db = staging_db([quiz])
    refresh_quiz_statistics(db, None, LOW)
    counts = {o["option_id"]: o for o in rows(db, "quiz_option_stats", question_id=90,
                                              attempt_set="all")}  # fmt: skip
    assert counts[901]["chosen_count"] == 3
    assert counts[902]["chosen_count"] == 13
    assert counts[903]["chosen_count"] == 4
    assert counts[902]["attractive"] is True
    assert counts[903]["attractive"] is False
    assert counts[901]["attractive"] is False  # the key
    item = one(db, "quiz_item_stats", question_id=90, attempt_set="all")
    assert FLAG_DISTRACTOR in item["flag"].split("; ")


def test_a_wrong_option_the_strong_students_choose_is_an_attractive_distractor():
    quiz = attractive_quiz()
    db = staging_db([quiz])
    refresh_quiz_statistics(db, None, LOW)
    totals = [quiz.total(a) / quiz.max_score for a in quiz.attempts]
    chose = [1.0 if 912 in a.choices[91] else 0.0 for a in quiz.attempts]
    r = statistics.correlation(chose, totals)
    assert fisher_interval(r, 20)[0] > 0
    option = one(db, "quiz_option_stats", option_id=912, attempt_set="all")
    assert option["chosen_count"] == 10  # as often as the key: not more
    assert option["point_biserial"] == pytest.approx(r)
    assert option["attractive"] is True
    assert FLAG_DISTRACTOR in one(db, "quiz_item_stats", question_id=91, attempt_set="all")["flag"]
    # the fair questions' wrong options are chosen by the weaker students: no flag
    for question in (92, 93, 94, 95):
        item = one(db, "quiz_item_stats", question_id=question, attempt_set="all")
        assert FLAG_DISTRACTOR not in item["flag"]


def add_answer_log(db, quiz: Quiz, started: datetime, gaps: dict[int, list[tuple[int, float]]]):
    """raw.quiz_attempts (started_at) and raw.quiz_answers (answered_at), as the raw layer
    copies them from the LMS, and the time on each answer staging works out from them:
    `gaps[attempt id]` lists (question id, seconds after the previous save) in the order the
    student saved them."""
    db.execute("CREATE SCHEMA IF NOT EXISTS raw")
    db.execute("CREATE TABLE raw.quiz_attempts (id BIGINT, quiz_id BIGINT, started_at TIMESTAMP)")
    db.execute(
        "CREATE TABLE raw.quiz_answers (attempt_id BIGINT, question_id BIGINT, "
        "answered_at TIMESTAMP)"
    )
    for a in quiz.attempts:
        db.execute("INSERT INTO raw.quiz_attempts VALUES (?, ?, ?)", [a.id, quiz.id, started])
        at = started
        for question, seconds in gaps[a.id]:
            at += timedelta(seconds=seconds)
            db.execute("INSERT INTO raw.quiz_answers VALUES (?, ?, ?)", [a.id, question, at])
    db.execute(f"CREATE TABLE staging.quiz_answer_seconds AS {answer_seconds_sql()}")


def test_time_on_question_and_rapid_guesses_from_the_answer_log():
    marks = [[1, 0, 1]] * 5 + [[0, 1, 1]] * 5
    quiz = quiz_from_marks(4, marks)
    db = staging_db([quiz])
    gaps = {}
    for k, a in enumerate(quiz.attempts):
        # question 40 first (2 s for the first four students: rapid), then 42 (30 + k s),
        # then 41 (10.5 s); the last student answers 42 first and skips 41
        if k == 9:
            gaps[a.id] = [(42, 12.0), (40, 7.0)]
        else:
            gaps[a.id] = [(40, 2.0 if k < 4 else 20.0 + k), (42, 30.0 + k), (41, 10.5)]
    add_answer_log(db, quiz, datetime(2026, 3, 2, 9), gaps)
    settings = QuizStatisticsSettings(min_attempts=3, rapid_guess_seconds=5.0)
    refresh_quiz_statistics(db, None, settings)
    seconds = defaultdict(list)
    for answers in gaps.values():
        for question, gap in answers:
            seconds[question].append(gap)
    assert seconds[40] == [2.0] * 4 + [24.0, 25.0, 26.0, 27.0, 28.0, 7.0]
    for question, times in seconds.items():
        item = one(db, "quiz_item_stats", question_id=question, attempt_set="all")
        assert item["n_timed"] == len(times)
        assert item["median_seconds"] == pytest.approx(statistics.median(times))
        assert item["rapid_guess_rate"] == pytest.approx(sum(t < 5 for t in times) / len(times))
    assert one(db, "quiz_item_stats", question_id=40, attempt_set="all")["rapid_guess_rate"] == 0.4
    assert one(db, "quiz_item_stats", question_id=41, attempt_set="all")["n_timed"] == 9
    # the threshold is a setting
    refresh_quiz_statistics(db, None, QuizStatisticsSettings(min_attempts=3, rapid_guess_seconds=8))
    assert one(db, "quiz_item_stats", question_id=40, attempt_set="all")["rapid_guess_rate"] == 0.5


def test_time_on_question_is_null_without_an_answer_log(db):
    refresh_quiz_statistics(db, None, LOW)
    item = one(db, "quiz_item_stats", question_id=101, attempt_set="all")
    assert item["n_timed"] == 0
    assert item["median_seconds"] is None
    assert item["rapid_guess_rate"] is None


def test_marts_of_an_older_shape_are_rebuilt_whole(db):
    """A warehouse published before the new columns: an incremental refresh cannot insert
    today's rows into yesterday's tables, so it rebuilds them (every quiz, every column)."""
    refresh_quiz_statistics(db, None, LOW)
    db.execute("ALTER TABLE marts.quiz_item_stats DROP COLUMN rapid_guess_rate")
    db.execute("ALTER TABLE marts.quiz_option_stats DROP COLUMN attractive")
    counts = refresh_quiz_statistics(db, [1], LOW)
    assert counts["quiz_stats"] == 12  # all three quizzes
    assert "rapid_guess_rate" in rows(db, "quiz_item_stats", quiz_id=2)[0]
    assert "attractive" in rows(db, "quiz_option_stats", quiz_id=3)[0]


def test_the_mart_checks_hold_on_the_marts_and_catch_the_old_departures(db):
    """pipelines.checks' range rules pass on what the refresh writes, and fail on the values
    the marts used to have (no error ratio for a negative alpha, an alpha at 2 attempts)."""
    from pipelines import checks
    from pipelines.assets import marts as m

    refresh_quiz_statistics(db, None, LOW)
    for key in (m.QUIZ_STATS, m.QUIZ_ITEM_STATS, m.QUIZ_OPTION_STATS):
        assert checks.ranges_result(db, key, checks.RANGES[key]).passed, key
    db.execute(
        "UPDATE marts.quiz_stats SET error_ratio = NULL, standard_error = NULL "
        "WHERE quiz_id = 1 AND attempt_set = 'first'"  # alpha < 0
    )
    db.execute(
        "UPDATE marts.quiz_stats SET cronbach_alpha = 0.5, error_ratio = sqrt(0.5) "
        "WHERE quiz_id = 3 AND attempt_set = 'all'"  # 2 attempts
    )
    result = checks.ranges_result(db, m.QUIZ_STATS, checks.RANGES[m.QUIZ_STATS])
    assert not result.passed
    broken = {rule: value.value for rule, value in result.metadata.items() if value.value}
    assert broken == {
        "error ratio = sqrt(1 - alpha)": 1,
        "alpha and error ratio need 3 attempts": 1,
    }
