"""Quiz statistics: how a quiz and each of its questions and options behave, for trainers.

`refresh_quiz_statistics(db, quiz_ids, settings)` reads the staging tables of finished, graded
attempts (staging.quiz_questions, quiz_options, quiz_attempts, quiz_item_marks, quiz_choices;
and raw.quiz_answers / raw.quiz_attempts for the answer times) and (re)builds three marts,
all in DuckDB SQL, set-based (no Python loop over attempts):

- `marts.quiz_stats(quiz_id, attempt_set, n_attempts, n_questions, max_mark, mean, median, sd,
  skewness, kurtosis, cronbach_alpha, error_ratio, standard_error)`: one row per quiz and
  attempt set. The distribution of the attempt totals T = score / max_score (a fraction 0..1)
  and the reliability of the quiz as a measuring instrument.
- `marts.quiz_item_stats(quiz_id, question_id, question_order, attempt_set, n, facility_index,
  sd, random_guess_score, intended_weight, effective_weight, discrimination_index,
  discriminative_efficiency, ci_low, ci_high, flag, discrimination_ci_low,
  discrimination_ci_high, n_timed, median_seconds, rapid_guess_rate)`: one row per question
  and attempt set; the time on question comes from the LMS answer log (see _build_times).
- `marts.quiz_option_stats(quiz_id, question_id, option_id, option_order, attempt_set,
  is_correct, chosen_count, chosen_rate, point_biserial, attractive)`: distractor analysis,
  one row per option and attempt set (options nobody chose included, with chosen_count 0).

Moodle (question/classes/statistics/questions/calculator.php and
mod/quiz/report/statistics/classes/calculator.php) is the reference, checked on its published
fixture (tests/pipelines/test_moodle_fixture.py): alpha, error ratio and standard error need
more than 2 attempts; the error ratio is sqrt(1 - alpha) for a negative alpha too; with every
total the same, no item has an effective weight.

Attempt sets (`attempt_set`), per student and quiz, among finished attempts:
'first' = the lowest attempt `number`; 'last' = the highest `number`; 'highest' = the best
score fraction (ties: the earlier attempt); 'all' = every attempt. A quiz gets rows for every
set that has attempts; a quiz without finished attempts gets no rows.

Conventions (the same everywhere):
- Variances and covariances are sample ones (divided by n - 1), and nothing is computed from
  fewer than 2 attempts (the skewness needs 3, the kurtosis 4: NULL below). Below
  `settings.min_attempts` attempts in a set, every statistic that depends on the data is NULL,
  and an item is flagged 'too few attempts'. The statistics that depend only on the quiz's
  definition (random_guess_score, intended_weight, n_questions, max_mark) and the counts
  (n_attempts, n, chosen_count, chosen_rate) are always given.
- Item statistics are computed in points: x = the item mark, T = the attempt total (the sum of
  its item marks, so that T = x + R exactly), R = T - x (the rest of the test). Quiz totals and
  the point-biserial use the fraction T = score / max_score (NULL when max_score is 0: such an
  attempt is left out of the fraction statistics).
- A variance is exactly 0 when every value in the set is the same (checked with min = max, so
  rounding noise cannot turn a constant into a tiny variance and a meaningless correlation).
- Sums of doubles use fsum / favg (compensated, Kahan-Babuska summation): more accurate, and
  practically independent of the order in which parallel threads add them, so an incremental
  refresh gives the numbers of a full rebuild.
- Scaling: the 10 million item marks are read twice (once for the attempt totals, once grouped
  by (question, x, R) with one count per attempt set); everything after that works on those
  small groups. Sorting-based statistics (the discriminative efficiency) use the groups'
  cumulative counts, never a per-row sort.

`quiz_ids=None` rebuilds the three tables entirely; a list of quiz ids deletes and recomputes
the rows of those quizzes only (creating the tables if missing). Either way the work runs in one
transaction (unless the caller already opened one), so readers never see half a refresh.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import comb

import duckdb

from pipelines.marts_contract import MARTS, columns_in, create_table_sql

# The attempt sets and, for each, the boolean column of the working attempts table that says
# whether an attempt belongs to it.
ATTEMPT_SETS: dict[str, str] = {
    "all": "TRUE",
    "first": "in_first",
    "last": "in_last",
    "highest": "in_highest",
}
# The set names as a one-column table, to cross join per-set columns into per-set rows.
SETS_VALUES = "(VALUES " + ", ".join(f"('{name}')" for name in ATTEMPT_SETS) + ") sets(attempt_set)"

FLAG_TOO_FEW = "too few attempts"
FLAG_TOO_EASY = "too easy"
FLAG_TOO_HARD = "too hard"
FLAG_GUESSING = "no better than guessing"
FLAG_NEGATIVE = "negative discrimination: check the answer key"
FLAG_NO_DISCRIMINATION = "does not discriminate"
FLAG_WEAK = "weak discrimination"
FLAG_SAME_MARK = "does not discriminate: every attempt got the same mark"
FLAG_SAME_TOTAL = "does not discriminate: every attempt has the same total"
FLAG_DISTRACTOR = "attractive distractor: a wrong option beats the key or draws strong students"
FLAG_OK = "ok"
# Relative tolerance under which a variance or covariance is float noise, not data: marks are
# rounded to 1e-6 by the LMS, so a real (co)variance is far above 1e-12 of the scale.
NOISE = 1e-12

# The marts written here (their columns: pipelines.marts_contract), each in its row order.
MART_ORDER = {
    "quiz_stats": "quiz_id, attempt_set",
    "quiz_item_stats": "quiz_id, question_order, question_id, attempt_set",
    "quiz_option_stats": "quiz_id, question_id, option_order, option_id, attempt_set",
}

TEMP_TABLES = (
    "_quiz_stats_scope",
    "_quiz_stats_guess",
    "_quiz_stats_questions",
    "_quiz_stats_attempts",
    "_quiz_stats_sets",
    "_quiz_stats_joint",
    "_quiz_stats_item_moments",
    "_quiz_stats_times",
    "_quiz_stats_out_quiz_stats",
    "_quiz_stats_out_quiz_item_stats",
    "_quiz_stats_out_quiz_option_stats",
)


@dataclass(frozen=True)
class QuizStatisticsSettings:
    """The thresholds of the quiz statistics; the defaults are the usual item-analysis ones.

    min_attempts: below this many attempts in a set a statistic is NULL and an item is flagged
        'too few attempts' (at least 2 attempts are always needed, whatever this says).
    too_easy: an item whose facility index is above this is flagged 'too easy' (0.9: more than
        nine students in ten get it right, so it tells them little apart).
    too_hard: facility below this is flagged 'too hard' (0.2).
    weak_discrimination: a discrimination index (percent) from `negative_discrimination` up to
        below this is flagged 'weak discrimination' (20: the item barely agrees with the rest).
    negative_discrimination: a discrimination index below this (0) is flagged 'negative
        discrimination: check the answer key': the stronger students do worse on the item,
        which usually means a wrong key or an ambiguous question.
    guess_margin: facility at most random_guess_score + this (0.05) is flagged 'no better than
        guessing': students do about as well as by picking options at random.
    z: the normal quantile of the confidence intervals (1.959964: 95%): the facility index's
        (Wilson) and the discrimination index's and point-biserial's (Fisher z).
    rapid_guess_seconds: an answer given less than this many seconds after the previous one
        (or the start of the attempt) counts as a rapid guess (5: too fast to read a question
        and its options; Wise & Kong's normative thresholds are a few seconds).
    """

    min_attempts: int = 10
    too_easy: float = 0.9
    too_hard: float = 0.2
    weak_discrimination: float = 20.0
    negative_discrimination: float = 0.0
    guess_margin: float = 0.05
    z: float = 1.959964
    rapid_guess_seconds: float = 5.0

    def __post_init__(self) -> None:
        if self.min_attempts < 0:
            raise ValueError("min_attempts must be >= 0")
        if not 0 <= self.too_hard <= self.too_easy <= 1:
            raise ValueError("need 0 <= too_hard <= too_easy <= 1")
        if self.negative_discrimination > self.weak_discrimination:
            raise ValueError("need negative_discrimination <= weak_discrimination")
        if self.z <= 0:
            raise ValueError("z must be positive")
        if self.rapid_guess_seconds < 0:
            raise ValueError("rapid_guess_seconds must be >= 0")

    @property
    def gate(self) -> int:
        """The number of attempts a statistic needs: min_attempts, and never fewer than 2."""
        return max(self.min_attempts, 2)


def random_guess_score(
    question_type: str, multiple_scoring: str | None, n_options: int | None, n_correct: int | None
) -> float | None:
    """The expected mark (fraction of the maximum) of a uniformly random answer.

    The model is a student who answers without reading, uniformly at random among the answers
    the LMS accepts:
    - SINGLE: one of the n options (exactly one is correct): 1/n.
    - MULTIPLE: one of the 2^n - 1 non-empty subsets of the options.
      all_or_nothing: only the correct set earns the mark: 1/(2^n - 1).
      partial: the mark of a subset with `right` of the C correct and `wrong` of the W wrong
      options is max(0, right/C - wrong/W) (no penalty when W = 0), as the LMS grades it; the
      expectation is the sum over subsets, counted per (right, wrong) with the binomial
      coefficients comb(C, right) * comb(W, wrong), divided by 2^n - 1. Exact (fractions).
    None when the question's options make no sense (no option, no correct option).
    """
    if not n_options or n_options < 1 or not n_correct or n_correct < 1 or n_correct > n_options:
        return None
    if question_type == "SINGLE":
        return 1 / n_options
    subsets = 2**n_options - 1
    if multiple_scoring != "partial":
        return 1 / subsets
    n_wrong = n_options - n_correct
    expected = Fraction(0)
    for right in range(n_correct + 1):
        for wrong in range(n_wrong + 1):
            mark = Fraction(right, n_correct) - (Fraction(wrong, n_wrong) if n_wrong else 0)
            if mark > 0:
                expected += comb(n_correct, right) * comb(n_wrong, wrong) * mark
    return float(expected / subsets)


def refresh_quiz_statistics(
    db: duckdb.DuckDBPyConnection,
    quiz_ids: Sequence[int] | None,
    settings: QuizStatisticsSettings | None = None,
) -> dict[str, int]:
    """(Re)build marts.quiz_stats, marts.quiz_item_stats and marts.quiz_option_stats.

    quiz_ids=None rebuilds the tables entirely (CREATE OR REPLACE). A sequence of quiz ids
    refreshes only those quizzes: the tables are created if missing, the quizzes' rows deleted
    and recomputed. Returns the number of rows written per table (keys: the table names
    without the schema).
    """
    settings = settings or QuizStatisticsSettings()
    own_transaction = _begin(db)
    try:
        db.execute("CREATE SCHEMA IF NOT EXISTS marts")
        if quiz_ids is None or not _marts_current(db):
            # (marts of an older shape, without today's columns, are rebuilt whole)
            scope = _Scope(None)
        else:
            db.execute("CREATE OR REPLACE TEMP TABLE _quiz_stats_scope (quiz_id BIGINT)")
            db.execute(
                "INSERT INTO _quiz_stats_scope SELECT DISTINCT unnest(?::BIGINT[])",
                [[int(q) for q in quiz_ids]],
            )
            scope = _Scope("_quiz_stats_scope")
        _build_questions(db, scope)
        _build_attempts(db, scope)
        _build_sets(db)
        _build_item_moments(db, scope)
        _build_quiz_stats(db, settings)
        _build_option_stats(db, scope, settings)
        _build_times(db, scope, settings)
        _build_item_stats(db, settings)
        counts = _publish(db, scope)
        _drop_temp_tables(db)
        if own_transaction:
            db.execute("COMMIT")
    except BaseException:
        # Leave the marts and the connection as they were: our transaction rolled back, or
        # (in the caller's) the working tables dropped if the transaction can still run.
        with contextlib.suppress(duckdb.Error):
            if own_transaction:
                db.execute("ROLLBACK")
            else:
                _drop_temp_tables(db)
        raise
    return counts


class _Scope:
    """The quizzes a refresh computes: all of them, or those in a temp table of ids."""

    def __init__(self, table: str | None) -> None:
        self.table = table

    def where(self, column: str) -> str:
        """A SQL condition on `column` (a quiz id column): TRUE for a full rebuild."""
        if self.table is None:
            return "TRUE"
        return f"{column} IN (SELECT quiz_id FROM {self.table})"


def _marts_current(db: duckdb.DuckDBPyConnection) -> bool:
    """Whether every existing quiz mart has today's columns: rows can only be replaced in a
    table of the same shape (a warehouse from before a column was added needs a rebuild)."""
    for table in MART_ORDER:
        found = [name for name, _ in columns_in(db, table)]
        if found and found != [name for name, _ in MARTS[table]]:
            return False
    return True


def _begin(db: duckdb.DuckDBPyConnection) -> bool:
    """Open a transaction unless the caller has one; True when we opened it.

    DuckDB has no "in transaction" query, and a BEGIN inside a transaction aborts it. In
    autocommit mode every statement runs in a transaction of its own, so two statements see
    different transaction ids; inside an open transaction they see the same one.
    """
    first = db.execute("SELECT txid_current()").fetchone()[0]
    second = db.execute("SELECT txid_current()").fetchone()[0]
    if first == second:
        return False
    db.execute("BEGIN TRANSACTION")
    return True


def _drop_temp_tables(db: duckdb.DuckDBPyConnection) -> None:
    for table in TEMP_TABLES:
        db.execute(f"DROP TABLE IF EXISTS temp.{table}")


def _set_cases(template: str) -> str:
    """`template` (with {set} and {member}) once per attempt set, comma separated."""
    return ",\n".join(
        template.format(set=name, member=member) for name, member in ATTEMPT_SETS.items()
    )


def _pick_set(column: str) -> str:
    """A CASE choosing, per row of a cross join with the set names, the `column`_<set> value."""
    whens = " ".join(f"WHEN '{name}' THEN {column}_{name}" for name in ATTEMPT_SETS)
    return f"CASE sets.attempt_set {whens} END"


def _build_questions(db: duckdb.DuckDBPyConnection, scope: _Scope) -> None:
    """The questions in scope with the statistics that depend only on the quiz's definition."""
    kinds = db.execute(
        f"""
        SELECT DISTINCT type, multiple_scoring, n_options, n_correct
        FROM staging.quiz_questions WHERE {scope.where("quiz_id")}
        """
    ).fetchall()
    db.execute(
        """
        CREATE OR REPLACE TEMP TABLE _quiz_stats_guess (
            type VARCHAR, multiple_scoring VARCHAR, n_options INTEGER, n_correct INTEGER,
            random_guess_score DOUBLE)
        """
    )
    if kinds:
        # One tiny Python computation per kind of question (a handful of rows), see
        # random_guess_score for the model.
        db.executemany(
            "INSERT INTO _quiz_stats_guess VALUES (?, ?, ?, ?, ?)",
            [(*kind, random_guess_score(*kind)) for kind in kinds],
        )
    db.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _quiz_stats_questions AS
        SELECT q.quiz_id, q.question_id, q.question_order, q.max_mark,
               g.random_guess_score,
               -- intended weight: the share (percent) of the quiz's marks the author gave the
               -- question, 100 * max_mark / sum of the quiz's max_marks.
               100 * q.max_mark / NULLIF(fsum(q.max_mark) OVER (PARTITION BY q.quiz_id), 0)
                   AS intended_weight
        FROM staging.quiz_questions q
        LEFT JOIN _quiz_stats_guess g
               ON g.type IS NOT DISTINCT FROM q.type
              AND g.multiple_scoring IS NOT DISTINCT FROM q.multiple_scoring
              AND g.n_options IS NOT DISTINCT FROM q.n_options
              AND g.n_correct IS NOT DISTINCT FROM q.n_correct
        WHERE {scope.where("q.quiz_id")}
        """
    )


def _build_attempts(db: duckdb.DuckDBPyConnection, scope: _Scope) -> None:
    """One row per finished attempt: its totals and the attempt sets it belongs to."""
    # T in points: the sum of the item marks, so that T = x + R exactly per item (rounded to
    # 1e-9 points, as R below: the LMS rounds marks to 1e-6, so this only drops the float
    # noise of the sum, which would split equal totals in two). The pipeline's staging keeps
    # it per attempt (staging.quiz_attempts.t_points, computed once per new attempt), which
    # saves a pass over every item mark; without that column it is summed here.
    kept = db.execute(
        "SELECT count(*) FROM duckdb_columns() WHERE database_name = current_database() "
        "AND schema_name = 'staging' AND table_name = 'quiz_attempts' "
        "AND column_name = 't_points'"
    ).fetchone()[0]
    totals = (
        f"SELECT attempt_id, t_points FROM staging.quiz_attempts WHERE {scope.where('quiz_id')}"
        if kept
        else "SELECT attempt_id, round(fsum(coalesce(mark, 0)), 9) AS t_points "
        f"FROM staging.quiz_item_marks WHERE {scope.where('quiz_id')} GROUP BY attempt_id"
    )
    db.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _quiz_stats_attempts AS
        WITH totals AS ({totals}),
        ranked AS (
            SELECT a.attempt_id, a.quiz_id,
                   -- T as a fraction of the maximum (the contract of quiz_stats).
                   a.score / NULLIF(a.max_score, 0) AS t_frac,
                   coalesce(t.t_points, 0) AS t_points,
                   -- rank by attempt number: the first is rank 1, the last rank = count
                   row_number() OVER (PARTITION BY a.quiz_id, a.person_id
                                      ORDER BY a.number, a.attempt_id) AS number_rank,
                   count(*) OVER (PARTITION BY a.quiz_id, a.person_id) AS n_taken,
                   -- the best score; ties: the earlier attempt
                   row_number() OVER (PARTITION BY a.quiz_id, a.person_id
                                      ORDER BY a.score / NULLIF(a.max_score, 0) DESC NULLS LAST,
                                               a.score DESC NULLS LAST, a.number, a.attempt_id)
                       AS highest_rank
            FROM staging.quiz_attempts a
            LEFT JOIN totals t ON t.attempt_id = a.attempt_id
            WHERE {scope.where("a.quiz_id")}
        )
        SELECT attempt_id, quiz_id, t_frac, t_points,
               number_rank = 1 AS in_first,
               number_rank = n_taken AS in_last,
               highest_rank = 1 AS in_highest
        FROM ranked
        """
    )


def _build_sets(db: duckdb.DuckDBPyConnection) -> None:
    """Per quiz and attempt set: the number of attempts and the moments of their totals.

    Each statistic is aggregated once per set with FILTER over the attempts (one scan per
    pass, no copy of the attempts per set), then the per-set columns are turned into rows.
    """
    first_pass = _set_cases(
        "count(*) FILTER (WHERE {member}) AS n_attempts_{set}, "
        "count(t_frac) FILTER (WHERE {member}) AS n_{set}, "
        "favg(t_frac) FILTER (WHERE {member}) AS mean_{set}, "
        "median(t_frac) FILTER (WHERE {member}) AS median_{set}, "
        "coalesce(min(t_frac) FILTER (WHERE {member}) = max(t_frac) FILTER (WHERE {member}), "
        "TRUE) AS t_constant_{set}, "
        "favg(t_points) FILTER (WHERE {member}) AS mean_points_{set}, "
        "min(t_points) FILTER (WHERE {member}) = max(t_points) FILTER (WHERE {member}) "
        "AS points_constant_{set}"
    )
    # Central moments m_k = mean((T - mean)^k) (divided by n), and the sample variance of the
    # totals in points: a second pass about the set's means, so that they are accurate rather
    # than differences of large power sums.
    second_pass = _set_cases(
        "favg(power(a.t_frac - q.mean_{set}, 2)) FILTER (WHERE {member}) AS m2_{set}, "
        "favg(power(a.t_frac - q.mean_{set}, 3)) FILTER (WHERE {member}) AS m3_{set}, "
        "favg(power(a.t_frac - q.mean_{set}, 4)) FILTER (WHERE {member}) AS m4_{set}, "
        "fsum(power(a.t_points - q.mean_points_{set}, 2)) FILTER (WHERE {member})"
        " / NULLIF(any_value(q.n_attempts_{set}) - 1, 0) AS var_points_{set}"
    )
    columns = (
        "n_attempts",
        "n",
        "mean",
        "median",
        "t_constant",
        "var_points",
        "points_constant",
        "m2",
        "m3",
        "m4",
    )
    picks = ", ".join(f"{_pick_set(column)} AS {column}" for column in columns)
    db.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _quiz_stats_sets AS
        WITH by_quiz AS (
            SELECT quiz_id, {first_pass}
            FROM _quiz_stats_attempts
            GROUP BY quiz_id
        ),
        central AS (
            SELECT q.*, {second_pass}
            FROM _quiz_stats_attempts a
            JOIN by_quiz q ON q.quiz_id = a.quiz_id
            GROUP BY ALL
        ),
        per_set AS (
            SELECT quiz_id, sets.attempt_set, {picks}
            FROM central CROSS JOIN {SETS_VALUES}
        )
        SELECT * FROM per_set WHERE n_attempts > 0
        """
    )


def _build_item_moments(db: duckdb.DuckDBPyConnection, scope: _Scope) -> None:
    """Per question and attempt set: n, means, (co)variances of x and R, and covmax(x, R)."""
    counts = _set_cases("count(*) FILTER (WHERE {member}) AS c_{set}")
    db.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _quiz_stats_joint AS
        -- The joint distribution of (x, R) per question: one pass over the item marks, grouped
        -- by the few distinct (x, R) pairs, with one count per attempt set. Every later item
        -- statistic is a weighted sum over these groups.
        WITH grouped AS (
            SELECT a.quiz_id, m.question_id, coalesce(m.mark, 0) AS x,
                   round(a.t_points - coalesce(m.mark, 0), 9) AS r,
                   {counts}
            FROM staging.quiz_item_marks m
            JOIN _quiz_stats_attempts a ON a.attempt_id = m.attempt_id
            WHERE {scope.where("m.quiz_id")}
            GROUP BY ALL
        ),
        per_set AS (
            SELECT quiz_id, question_id, sets.attempt_set, x, r, {_pick_set("c")} AS c
            FROM grouped CROSS JOIN {SETS_VALUES}
        )
        SELECT * FROM per_set WHERE c > 0
        """
    )
    db.execute(
        """
        CREATE OR REPLACE TEMP TABLE _quiz_stats_item_moments AS
        WITH means AS (
            SELECT quiz_id, question_id, attempt_set,
                   CAST(sum(c) AS BIGINT) AS n,
                   fsum(c * x) / sum(c) AS mean_x,
                   fsum(c * r) / sum(c) AS mean_r,
                   min(x) = max(x) AS x_constant,
                   min(r) = max(r) AS r_constant
            FROM _quiz_stats_joint
            GROUP BY ALL
        ),
        centred AS (
            -- Sums of squares and cross products about the means (two-pass, stable):
            -- var = SS / (n - 1), cov = SP / (n - 1).
            SELECT j.quiz_id, j.question_id, j.attempt_set,
                   fsum(j.c * power(j.x - m.mean_x, 2)) AS ss_x,
                   fsum(j.c * power(j.r - m.mean_r, 2)) AS ss_r,
                   fsum(j.c * (j.x - m.mean_x) * (j.r - m.mean_r)) AS sp_xr
            FROM _quiz_stats_joint j
            JOIN means m USING (quiz_id, question_id, attempt_set)
            GROUP BY ALL
        ),
        x_ranks AS (
            -- The x values in ascending order occupy the rank ranges (lo, hi] of the sorted
            -- list of the set's n marks (cumulative counts).
            SELECT quiz_id, question_id, attempt_set, x,
                   sum(sum(c)) OVER w - sum(c) AS lo, sum(sum(c)) OVER w AS hi
            FROM _quiz_stats_joint
            GROUP BY quiz_id, question_id, attempt_set, x
            WINDOW w AS (PARTITION BY quiz_id, question_id, attempt_set ORDER BY x
                         ROWS UNBOUNDED PRECEDING)
        ),
        r_ranks AS (
            SELECT quiz_id, question_id, attempt_set, r,
                   sum(sum(c)) OVER w - sum(c) AS lo, sum(sum(c)) OVER w AS hi
            FROM _quiz_stats_joint
            GROUP BY quiz_id, question_id, attempt_set, r
            WINDOW w AS (PARTITION BY quiz_id, question_id, attempt_set ORDER BY r
                         ROWS UNBOUNDED PRECEDING)
        ),
        sorted_pairs AS (
            -- covmax(x, R): the covariance of x sorted ascending paired with R sorted
            -- ascending, the largest covariance any pairing of these values can have
            -- (rearrangement inequality). Rank i pairs the i-th smallest x with the i-th
            -- smallest R, so a value x and a value r are paired as many times as their rank
            -- ranges overlap; the sum of the products about the means over those pairs is
            -- its SP. At most (#x values + #R values) overlapping pairs per question.
            SELECT xr.quiz_id, xr.question_id, xr.attempt_set,
                   fsum((least(xr.hi, rr.hi) - greatest(xr.lo, rr.lo))
                       * (xr.x - m.mean_x) * (rr.r - m.mean_r)) AS sp_sorted
            FROM x_ranks xr
            JOIN r_ranks rr
              ON rr.quiz_id = xr.quiz_id AND rr.question_id = xr.question_id
             AND rr.attempt_set = xr.attempt_set AND xr.lo < rr.hi AND rr.lo < xr.hi
            JOIN means m
              ON m.quiz_id = xr.quiz_id AND m.question_id = xr.question_id
             AND m.attempt_set = xr.attempt_set
            GROUP BY ALL
        )
        SELECT m.quiz_id, m.question_id, m.attempt_set, m.n, m.mean_x,
               CASE WHEN m.x_constant THEN 0 ELSE c.ss_x / NULLIF(m.n - 1, 0) END AS var_x,
               CASE WHEN m.r_constant THEN 0 ELSE c.ss_r / NULLIF(m.n - 1, 0) END AS var_r,
               CASE WHEN m.x_constant OR m.r_constant THEN 0
                    ELSE c.sp_xr / NULLIF(m.n - 1, 0) END AS cov_xr,
               CASE WHEN m.x_constant OR m.r_constant THEN 0
                    ELSE s.sp_sorted / NULLIF(m.n - 1, 0) END AS cov_max
        FROM means m
        JOIN centred c USING (quiz_id, question_id, attempt_set)
        JOIN sorted_pairs s USING (quiz_id, question_id, attempt_set)
        """
    )


def _build_quiz_stats(db: duckdb.DuckDBPyConnection, settings: QuizStatisticsSettings) -> None:
    """One row per quiz and attempt set: the distribution of the totals and the reliability."""
    db.execute(
        """
        CREATE OR REPLACE TEMP TABLE _quiz_stats_out_quiz_stats AS
        WITH quizzes AS (
            SELECT quiz_id, count(*) AS n_questions, fsum(max_mark) AS max_mark
            FROM _quiz_stats_questions GROUP BY quiz_id
        ),
        items AS (
            SELECT quiz_id, attempt_set, fsum(var_x) AS sum_item_var
            FROM _quiz_stats_item_moments GROUP BY ALL
        ),
        k AS (
            -- k-statistics, the unbiased estimators of the cumulants (n = attempts with a
            -- fraction): k2 = n m2 / (n-1) (the sample variance),
            -- k3 = n^2 m3 / ((n-1)(n-2)), k4 = n^2 ((n+1) m4 - 3 (n-1) m2^2) / ((n-1)(n-2)(n-3)).
            SELECT s.*,
                   CASE WHEN s.t_constant THEN 0 ELSE s.n * s.m2 / NULLIF(s.n - 1, 0) END AS k2,
                   s.n * s.n * s.m3 / NULLIF((s.n - 1) * (s.n - 2), 0) AS k3,
                   s.n * s.n * ((s.n + 1) * s.m4 - 3 * (s.n - 1) * s.m2 * s.m2)
                       / NULLIF((s.n - 1) * (s.n - 2) * (s.n - 3), 0) AS k4
            FROM _quiz_stats_sets s
        ),
        alpha AS (
            SELECT k.*, coalesce(q.n_questions, 0) AS n_questions, q.max_mark,
                   -- Cronbach's alpha (KR-20 when the items are 0/1), in points:
                   -- p/(p-1) * (1 - sum of the item variances / variance of the totals), the
                   -- share of the total's variance that the items have in common: the
                   -- reliability of the quiz. NULL with one question or constant totals.
                   CASE WHEN q.n_questions >= 2 AND NOT k.points_constant
                        THEN q.n_questions / (q.n_questions - 1)
                             * (1 - i.sum_item_var / NULLIF(k.var_points, 0))
                   END AS cronbach_alpha
            FROM k
            LEFT JOIN quizzes q USING (quiz_id)
            LEFT JOIN items i USING (quiz_id, attempt_set)
        ),
        gated AS (
            -- alpha and what follows from it need more than 2 attempts (Moodle's rule: the
            -- sample variance of 2 totals says nothing about the items' consistency).
            SELECT a.*, a.n_attempts >= $gate AND a.n >= 2 AS enough,
                   a.n_attempts >= $gate AND a.n_attempts > 2 AS enough_alpha
            FROM alpha a
        )
        SELECT quiz_id, attempt_set, n_attempts, n_questions, max_mark,
               CASE WHEN enough THEN mean END AS mean,
               CASE WHEN enough THEN median END AS median,
               -- sd: the sample standard deviation of the fraction totals, sqrt(k2)
               CASE WHEN enough THEN sqrt(k2) END AS sd,
               -- skewness = k3 / k2^1.5 (> 0: a tail of high scores, most did poorly)
               CASE WHEN enough AND k2 > 0 THEN k3 / power(k2, 1.5) END AS skewness,
               -- kurtosis = k4 / k2^2, excess (0 for a normal distribution)
               CASE WHEN enough AND k2 > 0 THEN k4 / (k2 * k2) END AS kurtosis,
               CASE WHEN enough_alpha THEN cronbach_alpha END AS cronbach_alpha,
               -- error ratio = sqrt(1 - alpha): the share of the sd that is measurement
               -- error. As Moodle, also for a negative alpha (the items disagree): then it is
               -- above 1 (alpha = -1 gives 1.41), which says the total measures nothing
               -- consistent. alpha <= 1 always (Cauchy-Schwarz); greatest() drops the float
               -- noise of an alpha of exactly 1.
               -- (greatest() skips a NULL: test the alpha itself)
               CASE WHEN enough_alpha AND cronbach_alpha IS NOT NULL
                    THEN sqrt(greatest(0.0, 1 - cronbach_alpha)) END AS error_ratio,
               -- standard error of measurement = error ratio * sd (as a fraction): how far a
               -- student's score is expected to be from their "true" score.
               CASE WHEN enough_alpha AND cronbach_alpha IS NOT NULL
                    THEN sqrt(greatest(0.0, 1 - cronbach_alpha)) * sqrt(k2)
               END AS standard_error
        FROM gated
        """,
        {"gate": settings.gate},
    )


def _fisher(r: str, n: str, sign: str) -> str:
    """SQL for one end of the Fisher-z confidence interval of a correlation `r` from `n` pairs:
    tanh(atanh(r) -/+ z / sqrt(n - 3)), NULL when n <= 3 (the variance 1/(n-3) needs n > 3).
    r is kept inside (-1, 1) so that a perfect correlation keeps a finite interval end."""
    clamped = f"least(greatest({r}, -1 + 1e-12), 1 - 1e-12)"
    return (
        f"CASE WHEN {n} > 3 AND {r} IS NOT NULL "
        f"THEN tanh(atanh({clamped}) {sign} $z / sqrt({n} - 3)) END"
    )


def _build_times(
    db: duckdb.DuckDBPyConnection, scope: _Scope, settings: QuizStatisticsSettings
) -> None:
    """Per question and attempt set: the time on question from the answer log.

    The LMS keeps, per answer, when it was (last) saved (raw.quiz_answers.answered_at) and,
    per attempt, when it started (raw.quiz_attempts.started_at). The time on a question is
    the gap between its answer's save and the save before it in the same attempt (the start
    for the first): the time the student spent on it, whatever order they answered in. A
    re-saved answer counts from its last save, so a changed answer may look quick; a question
    left blank has no time. Staging works out each answer's time once, for the attempts that
    changed (staging.quiz_answer_seconds); here are only medians and counts. Without that
    table (a warehouse built before it) the columns are NULL.
    """
    have = "quiz_answer_seconds" in {
        name
        for (name,) in db.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = 'staging'"
        ).fetchall()
    }
    sums = _set_cases(
        "count(seconds) FILTER (WHERE {member}) AS nt_{set}, "
        "median(seconds) FILTER (WHERE {member}) AS med_{set}, "
        "count(*) FILTER (WHERE {member} AND seconds < $rapid) AS fast_{set}"
    )
    source = (
        f"""
        SELECT a.*, q.question_id IS NOT NULL AS in_quiz, t.question_id, t.seconds
        FROM staging.quiz_answer_seconds t
        JOIN _quiz_stats_attempts a ON a.attempt_id = t.attempt_id
        LEFT JOIN _quiz_stats_questions q
               ON q.quiz_id = a.quiz_id AND q.question_id = t.question_id
        WHERE {scope.where("t.quiz_id")}
        """
        if have
        else "SELECT *, FALSE AS in_quiz, NULL::BIGINT AS question_id, NULL::DOUBLE AS seconds"
        " FROM _quiz_stats_attempts WHERE FALSE"
    )
    db.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _quiz_stats_times AS
        WITH gaps AS ({source}),
        grouped AS (
            SELECT quiz_id, question_id, {sums}
            FROM gaps WHERE in_quiz
            GROUP BY ALL
        ),
        per_set AS (
            SELECT quiz_id, question_id, sets.attempt_set,
                   {_pick_set("nt")} AS n_timed, {_pick_set("med")} AS median_seconds,
                   {_pick_set("fast")} AS n_fast
            FROM grouped CROSS JOIN {SETS_VALUES}
        )
        SELECT quiz_id, question_id, attempt_set, n_timed, median_seconds,
               n_fast / NULLIF(n_timed, 0) AS rapid_guess_rate
        FROM per_set
        """,
        {"rapid": settings.rapid_guess_seconds},
    )


def _build_item_stats(db: duckdb.DuckDBPyConnection, settings: QuizStatisticsSettings) -> None:
    """One row per question and attempt set (every question of a quiz with attempts)."""
    db.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _quiz_stats_out_quiz_item_stats AS
        WITH base AS (
            SELECT q.quiz_id, q.question_id, q.question_order, s.attempt_set, q.max_mark,
                   q.random_guess_score, q.intended_weight,
                   coalesce(m.n, 0) AS n,
                   coalesce(m.n, 0) >= $gate AS enough,
                   s.points_constant AS same_total,
                   m.mean_x, m.var_x, m.var_r, m.cov_xr, m.cov_max,
                   -- cov(x, T) = cov(x, x + R) = var(x) + cov(x, R). When every attempt has
                   -- the same total it is 0 for every item; computed as a sum it is float
                   -- noise of either sign, so it is 0 when the totals are constant or when it
                   -- is within NOISE of its scale (var(x), or sqrt(var(x) var(T)) by
                   -- Cauchy-Schwarz).
                   CASE WHEN s.points_constant THEN 0.0
                        WHEN abs(m.var_x + m.cov_xr) <= $noise * greatest(
                             m.var_x, sqrt(m.var_x * greatest(s.var_points, 0))) THEN 0.0
                        ELSE m.var_x + m.cov_xr END AS cov_xt
            FROM _quiz_stats_questions q
            JOIN _quiz_stats_sets s ON s.quiz_id = q.quiz_id
            LEFT JOIN _quiz_stats_item_moments m
                   ON m.quiz_id = q.quiz_id AND m.question_id = q.question_id
                  AND m.attempt_set = s.attempt_set
        ),
        stats AS (
            SELECT *,
                   -- facility index: the mean mark as a fraction of the maximum, the share of
                   -- the question's marks the students earned (1 = everyone right).
                   CASE WHEN enough THEN mean_x / NULLIF(max_mark, 0) END AS facility_index,
                   -- sd: the sample standard deviation of the mark, as a fraction of the max.
                   CASE WHEN enough THEN sqrt(var_x) / NULLIF(max_mark, 0) END AS sd,
                   -- effective weight: the share (percent) of the spread of the totals the
                   -- question actually accounts for, sqrt(cov(x, T)) over the sum of the
                   -- quiz's sqrt(cov(x_j, T)); NULL when cov(x, T) < 0 (as Moodle does): such a
                   -- question works against the total and has no meaningful share. NULL for
                   -- every item when that sum is 0 (every attempt has the same total).
                   CASE WHEN enough AND cov_xt >= 0
                        THEN 100 * sqrt(cov_xt) / NULLIF(
                            fsum(CASE WHEN cov_xt >= 0 THEN sqrt(cov_xt) END)
                                OVER (PARTITION BY quiz_id, attempt_set), 0)
                   END AS effective_weight,
                   -- discrimination index: 100 * the correlation of the mark with the rest of
                   -- the test, cov(x, R) / sqrt(var(x) var(R)). R excludes the item itself,
                   -- so the item cannot correlate with itself. Do the students who do well on
                   -- the other questions do well on this one?
                   CASE WHEN enough AND var_x > 0 AND var_r > 0
                        THEN 100 * cov_xr / sqrt(var_x * var_r) END AS discrimination_index,
                   -- discriminative efficiency: 100 * cov(x, R) / covmax(x, R), the
                   -- discrimination relative to the best this item's marks could reach given
                   -- their distribution (a very easy or very hard item cannot correlate fully).
                   CASE WHEN enough AND cov_max > 0
                        THEN 100 * cov_xr / cov_max END AS discriminative_efficiency
            FROM base
        ),
        wilson AS (
            -- Wilson score interval for the facility index with n trials:
            -- (p + z^2/2n -/+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n). Exact-coverage-ish
            -- for 0/1 marks even near 0 or 1; for partial marks it is the approximate
            -- interval of the mean fraction (p(1-p) bounds the variance of a 0..1 mark).
            -- (greatest/least skip NULLs: keep a NULL facility NULL)
            SELECT *,
                   CASE WHEN facility_index IS NOT NULL
                        THEN greatest(0.0, least(1.0, facility_index)) END AS p,
                   CAST($z AS DOUBLE) * $z AS z2,
                   -- the discrimination index's 95% interval (Fisher z of the item-rest
                   -- correlation, n attempts), in the index's units
                   100 * {_fisher("discrimination_index / 100", "n", "-")}
                       AS discrimination_ci_low,
                   100 * {_fisher("discrimination_index / 100", "n", "+")}
                       AS discrimination_ci_high
            FROM stats
        ),
        distractors AS (
            SELECT quiz_id, question_id, attempt_set, bool_or(attractive) AS attractive
            FROM _quiz_stats_out_quiz_option_stats GROUP BY ALL
        )
        SELECT w.quiz_id, w.question_id, w.question_order, w.attempt_set, w.n, w.facility_index,
               w.sd, w.random_guess_score, w.intended_weight, w.effective_weight,
               w.discrimination_index, w.discriminative_efficiency,
               (p + z2 / (2 * w.n) - $z * sqrt(p * (1 - p) / w.n + z2 / (4 * w.n * w.n)))
                   / (1 + z2 / w.n) AS ci_low,
               (p + z2 / (2 * w.n) + $z * sqrt(p * (1 - p) / w.n + z2 / (4 * w.n * w.n)))
                   / (1 + z2 / w.n) AS ci_high,
               -- Flags, a wrong key first. The discrimination ones: with every total
               -- the same, R = T - x says nothing (its correlation is -1 by construction);
               -- "check the answer key" only when the index is negative beyond its
               -- uncertainty (the interval's upper end below the threshold), otherwise a
               -- negative index "does not discriminate" and a low one is weak.
               CASE WHEN NOT w.enough THEN $too_few
                    ELSE coalesce(nullif(concat_ws('; ',
                        CASE WHEN w.var_x = 0 OR w.same_total THEN NULL
                             WHEN w.discrimination_ci_high < $negative THEN $negative_flag END,
                        CASE WHEN d.attractive THEN $distractor END,
                        CASE WHEN w.facility_index > $too_easy THEN $easy END,
                        CASE WHEN w.facility_index < $too_hard THEN $hard END,
                        CASE WHEN w.facility_index <= w.random_guess_score + $guess_margin
                             THEN $guessing END,
                        CASE WHEN w.var_x = 0 THEN $same_mark
                             WHEN w.same_total THEN $same_total END,
                        CASE WHEN w.var_x = 0 OR w.same_total
                               OR w.discrimination_ci_high < $negative THEN NULL
                             WHEN w.discrimination_index < $negative THEN $no_discrimination
                             WHEN w.discrimination_index < $weak THEN $weak_flag END
                    ), ''), $ok)
               END AS flag,
               w.discrimination_ci_low, w.discrimination_ci_high,
               coalesce(t.n_timed, 0) AS n_timed,
               CASE WHEN w.enough THEN t.median_seconds END AS median_seconds,
               CASE WHEN w.enough THEN t.rapid_guess_rate END AS rapid_guess_rate
        FROM wilson w
        LEFT JOIN distractors d USING (quiz_id, question_id, attempt_set)
        LEFT JOIN _quiz_stats_times t USING (quiz_id, question_id, attempt_set)
        """,
        {
            "gate": settings.gate,
            "z": settings.z,
            "noise": NOISE,
            "too_easy": settings.too_easy,
            "too_hard": settings.too_hard,
            "guess_margin": settings.guess_margin,
            "negative": settings.negative_discrimination,
            "weak": settings.weak_discrimination,
            "too_few": FLAG_TOO_FEW,
            "easy": FLAG_TOO_EASY,
            "hard": FLAG_TOO_HARD,
            "guessing": FLAG_GUESSING,
            "same_mark": FLAG_SAME_MARK,
            "same_total": FLAG_SAME_TOTAL,
            "negative_flag": FLAG_NEGATIVE,
            "no_discrimination": FLAG_NO_DISCRIMINATION,
            "weak_flag": FLAG_WEAK,
            "distractor": FLAG_DISTRACTOR,
            "ok": FLAG_OK,
        },
    )


def _build_option_stats(
    db: duckdb.DuckDBPyConnection, scope: _Scope, settings: QuizStatisticsSettings
) -> None:
    """One row per option and attempt set: how often it was chosen, by whom (point-biserial)."""
    sums = _set_cases(
        "count(*) FILTER (WHERE {member}) AS k_{set}, "
        "count(a.t_frac) FILTER (WHERE {member}) AS kt_{set}, "
        "fsum(a.t_frac) FILTER (WHERE {member}) AS st_{set}"
    )
    db.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _quiz_stats_out_quiz_option_stats AS
        WITH chosen AS (
            -- Per option: how many attempts of each set chose it (k), and the sum of their
            -- fraction totals (st, over the kt of them that have a fraction).
            SELECT a.quiz_id, c.question_id, c.option_id, {sums}
            FROM staging.quiz_choices c
            JOIN _quiz_stats_attempts a ON a.attempt_id = c.attempt_id
            WHERE {scope.where("c.quiz_id")}
            GROUP BY ALL
        ),
        per_set AS (
            SELECT quiz_id, question_id, option_id, sets.attempt_set,
                   {_pick_set("k")} AS k, {_pick_set("kt")} AS kt, {_pick_set("st")} AS st
            FROM chosen CROSS JOIN {SETS_VALUES}
        ),
        options AS (
            SELECT o.quiz_id, o.question_id, o.option_id, o.option_order, s.attempt_set,
                   o.is_correct, s.n, s.n_attempts >= $gate AS enough,
                   coalesce(p.k, 0) AS chosen_count,
                   coalesce(p.k, 0) / s.n_attempts AS chosen_rate,
                   -- point-biserial: the Pearson correlation of the 0/1 indicator "chose this
                   -- option" with T, from the sums alone: with q = kt/n the share of choosers,
                   -- M1 their mean T, M the mean and s the population sd of T over the set,
                   -- r = (M1 - M) / s * sqrt(q / (1 - q)) (the n-1 factors of Pearson's r
                   -- cancel). A good distractor has r < 0 (weaker students pick it), the
                   -- correct option r > 0. NULL when nobody or everybody chose it or T is
                   -- constant.
                   CASE WHEN s.n_attempts >= $gate AND NOT s.t_constant AND s.m2 > 0
                         AND p.kt > 0 AND p.kt < s.n
                        THEN (p.st / p.kt - s.mean) / sqrt(s.m2) * sqrt(p.kt / (s.n - p.kt))
                   END AS point_biserial
            FROM staging.quiz_options o
            JOIN _quiz_stats_sets s ON s.quiz_id = o.quiz_id
            LEFT JOIN per_set p
                   ON p.quiz_id = o.quiz_id AND p.question_id = o.question_id
                  AND p.option_id = o.option_id AND p.attempt_set = s.attempt_set
            WHERE {scope.where("o.quiz_id")}
        )
        SELECT quiz_id, question_id, option_id, option_order, attempt_set, is_correct,
               chosen_count, chosen_rate, point_biserial,
               -- attractive distractor: a wrong option chosen more often than the key (the
               -- most chosen correct option), or one whose choosers score higher than the
               -- others (a positive point-biserial), each beyond its uncertainty: d choices
               -- against k for the key is more only when d - k > z sqrt(d + k) (the sign
               -- test of the d + k students who chose one of the two), and the
               -- point-biserial's Fisher interval must lie above 0. It draws the students
               -- who should know, or more students than the right answer does.
               CASE WHEN NOT enough THEN NULL
                    WHEN is_correct THEN FALSE
                    ELSE chosen_count - key_count > $z * sqrt(chosen_count + key_count)
                         OR coalesce({_fisher("point_biserial", "n", "-")} > 0, FALSE)
               END AS attractive
        FROM (
            SELECT *,
                   coalesce(max(chosen_count) FILTER (WHERE is_correct)
                       OVER (PARTITION BY quiz_id, question_id, attempt_set), 0) AS key_count
            FROM options
        )
        """,
        {"gate": settings.gate, "z": settings.z},
    )


def _publish(db: duckdb.DuckDBPyConnection, scope: _Scope) -> dict[str, int]:
    """Write the computed rows into the marts: replace them all, or those of the scope."""
    counts = {}
    for table, order in MART_ORDER.items():
        names = ", ".join(name for name, _ in MARTS[table])
        if scope.table is None:
            db.execute(create_table_sql(table, "CREATE OR REPLACE TABLE"))
        else:
            db.execute(create_table_sql(table, "CREATE TABLE IF NOT EXISTS"))
            db.execute(f"DELETE FROM marts.{table} WHERE {scope.where('quiz_id')}")
        db.execute(
            f"INSERT INTO marts.{table} ({names}) SELECT {names} FROM _quiz_stats_out_{table}"
            f" ORDER BY {order}"
        )
        counts[table] = db.execute(f"SELECT count(*) FROM _quiz_stats_out_{table}").fetchone()[0]
    return counts
