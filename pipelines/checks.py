"""Data quality: asset checks on every mart (columns as in pipelines.marts_contract, keys,
valid ranges, counts against the source). Freshness is a policy on the published marts
(pipelines.assets.publish)."""

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    asset_check,
    multi_asset_check,
)

from pipelines.assets import marts as m
from pipelines.assets.raw import FINISHED, QUIZ_ATTEMPTS
from pipelines.marts_contract import differences
from pipelines.resources import LmsDatabase, Warehouse

KEYS: dict[AssetKey, tuple[str, ...]] = {
    m.ENROLLMENTS: ("student", "track"),
    m.STUDENT_PROGRESS: ("student", "track", "project_id"),
    m.COHORT_FUNNEL: ("track", "step_id"),
    m.QUIZ_STATS: ("quiz_id", "attempt_set"),
    m.QUIZ_ITEM_STATS: ("quiz_id", "question_id", "attempt_set"),
    m.QUIZ_OPTION_STATS: ("quiz_id", "question_id", "option_id", "attempt_set"),
    m.AT_RISK: ("student", "track"),
    m.AT_RISK_HISTORY: ("as_of", "student", "track"),
    m.AT_RISK_BACKTEST: ("track", "as_of", "min_risk_score"),
    m.WORKSPACE_ACTIVITY: ("student", "day"),
    m.REVENUE: ("track", "month", "currency"),
    m.QUIZZES: ("quiz_id",),
    m.QUIZ_QUESTIONS: ("quiz_id", "question_id"),
    m.QUIZ_OPTIONS: ("quiz_id", "question_id", "option_id"),
    m.QUIZ_ATTEMPTS: ("attempt_id",),
    m.STEP_COMPLETIONS: ("student", "step_id"),
    m.SUBMISSIONS: ("submission_id",),
    m.SESSION_ATTENDANCE: ("session_id", "student"),
}

# What must hold for every row (a NULL statistic is allowed: it means "too few data").
RANGES: dict[AssetKey, dict[str, str]] = {
    m.STUDENT_PROGRESS: {
        "pct_complete in 0..1": "pct_complete BETWEEN 0 AND 1",
        "steps_done <= steps_total": "steps_done <= steps_total",
    },
    m.COHORT_FUNNEL: {
        "completed <= reached": "students_completed <= students_reached",
    },
    m.QUIZ_STATS: {
        "mean in 0..1": "mean BETWEEN 0 AND 1",
        "median in 0..1": "median BETWEEN 0 AND 1",
        "sd >= 0": "sd >= 0",
        "alpha <= 1": "cronbach_alpha <= 1 + 1e-9",
        # Moodle's error ratio: sqrt(1 - alpha), above 1 when alpha < 0
        "error ratio = sqrt(1 - alpha)": "(error_ratio IS NULL) = (cronbach_alpha IS NULL) AND "
        "abs(error_ratio - sqrt(greatest(0, 1 - cronbach_alpha))) < 1e-9",
        "alpha and error ratio need 3 attempts": "n_attempts > 2 OR (cronbach_alpha IS NULL "
        "AND error_ratio IS NULL AND standard_error IS NULL)",
        "standard error >= 0": "standard_error >= 0",
    },
    m.QUIZ_ITEM_STATS: {
        "facility in 0..1": "facility_index BETWEEN 0 AND 1",
        "facility inside its interval": "facility_index BETWEEN ci_low - 1e-9 AND ci_high + 1e-9",
        "interval in 0..1": "ci_low >= 0 AND ci_high <= 1",
        "discrimination in -100..100": "discrimination_index BETWEEN -100 - 1e-9 AND 100 + 1e-9",
        "random guess in 0..1": "random_guess_score BETWEEN 0 AND 1",
        "weights in 0..100": "intended_weight BETWEEN 0 AND 100 "
        "AND effective_weight BETWEEN 0 AND 100 + 1e-9",
        "discrimination inside its interval": "discrimination_index BETWEEN "
        "discrimination_ci_low - 1e-9 AND discrimination_ci_high + 1e-9",
        "timed answers <= n": "n_timed BETWEEN 0 AND n",
        "median seconds >= 0": "median_seconds >= 0",
        "rapid guesses in 0..1": "rapid_guess_rate BETWEEN 0 AND 1",
    },
    m.QUIZ_OPTION_STATS: {
        "chosen rate in 0..1": "chosen_rate BETWEEN 0 AND 1",
        "point-biserial in -1..1": "point_biserial BETWEEN -1 - 1e-9 AND 1 + 1e-9",
        "the key is no distractor": "NOT (is_correct AND attractive)",
    },
    m.AT_RISK: {
        "risk in (0, 1]": "risk_score > 0 AND risk_score <= 1",
        "has reasons": "length(reasons) > 0",
    },
    m.WORKSPACE_ACTIVITY: {
        "minutes in a day": "active_minutes BETWEEN 5 AND 1440",
        "sessions >= 1": "sessions >= 1",
    },
    m.REVENUE: {
        "amounts >= 0": "amount >= 0 AND refunded_amount >= 0",
    },
    m.AT_RISK_HISTORY: {
        "risk in (0, 1]": "risk_score > 0 AND risk_score <= 1",
    },
    m.AT_RISK_BACKTEST: {
        "precision in 0..1": "precision BETWEEN 0 AND 1",
        "recall in 0..1": "recall BETWEEN 0 AND 1",
        "base rate in 0..1": "base_rate BETWEEN 0 AND 1",
        "flagged share in 0..1": "flagged_share BETWEEN 0 AND 1",
        "lift >= 0": "lift >= 0",
        "hits <= flagged, positives <= enrollments": "true_positives <= flagged "
        "AND true_positives <= positives AND flagged <= enrollments AND positives <= enrollments",
    },
    m.QUIZZES: {
        "n_questions >= 0": "n_questions >= 0",
        "max_mark >= 0": "max_mark >= 0",
    },
    m.QUIZ_QUESTIONS: {
        "max_mark >= 0": "max_mark >= 0",
    },
    m.QUIZ_ATTEMPTS: {
        "score in 0..1": "score BETWEEN 0 AND 1 + 1e-9",
        "points in 0..max_points": "points BETWEEN 0 AND max_points + 1e-9",
        "has a student": "student IS NOT NULL",
    },
    m.STEP_COMPLETIONS: {
        "step_order >= 1": "step_order >= 1",
    },
    m.SUBMISSIONS: {
        "has a student and deliverable": "student IS NOT NULL AND deliverable IS NOT NULL",
        "updated at or after submitted": "updated_at >= submitted_at",
    },
    m.SESSION_ATTENDANCE: {
        "status is present, late, absent or upcoming": "status IN "
        "('present', 'late', 'absent', 'upcoming')",
        "source is workspace, lms or none": "source IN ('workspace', 'lms', 'none')",
        "seen exactly when present or late": "(first_seen_at IS NOT NULL) = "
        "(status IN ('present', 'late')) AND (source <> 'none') = (first_seen_at IS NOT NULL)",
        "first seen inside the window": "first_seen_at BETWEEN starts_at AND ends_at",
        "present up to the threshold, late after it": "status NOT IN ('present', 'late') OR "
        "(status = 'present') = (first_seen_at <= starts_at + to_minutes(late_after_minutes))",
        "upcoming only before the start": "(status = 'upcoming') = (session_status = 'scheduled')",
    },
}


def table_of(key: AssetKey) -> str:
    return ".".join(key.path)


COLUMNS_CHECK = "columns"
KEYS_CHECK = "keys_not_null_and_unique"
RANGES_CHECK = "values_in_valid_ranges"


def columns_result(db, key: AssetKey) -> AssetCheckResult:
    found = differences(db, [key.path[-1]])
    return AssetCheckResult(
        asset_key=key,
        check_name=COLUMNS_CHECK,
        passed=not found,
        severity=AssetCheckSeverity.ERROR,
        metadata={"differences": found},
    )


def keys_result(db, key: AssetKey, columns: tuple[str, ...]) -> AssetCheckResult:
    table, listed = table_of(key), ", ".join(columns)
    null = " OR ".join(f"{c} IS NULL" for c in columns)
    nulls, duplicates = db.execute(
        f"SELECT (SELECT count(*) FROM {table} WHERE {null}), "
        f"(SELECT count(*) FROM (SELECT {listed} FROM {table} "
        "GROUP BY ALL HAVING count(*) > 1))"
    ).fetchone()
    return AssetCheckResult(
        asset_key=key,
        check_name=KEYS_CHECK,
        passed=nulls == 0 and duplicates == 0,
        metadata={"null_keys": nulls, "duplicate_keys": duplicates},
    )


def ranges_result(db, key: AssetKey, rules: dict[str, str]) -> AssetCheckResult:
    table = table_of(key)
    broken = {
        rule: db.execute(
            f"SELECT count(*) FROM {table} WHERE NOT coalesce({condition}, true)"
        ).fetchone()[0]
        for rule, condition in rules.items()
    }
    return AssetCheckResult(
        asset_key=key, check_name=RANGES_CHECK, passed=not any(broken.values()), metadata=broken
    )


@multi_asset_check(
    specs=[
        *(
            AssetCheckSpec(
                COLUMNS_CHECK,
                asset=key,
                description="Column names and types, in order, as in pipelines.marts_contract.",
            )
            for key in m.ALL_MARTS
        ),
        *(
            AssetCheckSpec(
                KEYS_CHECK, asset=key, description=f"({', '.join(cols)}) is present and unique."
            )
            for key, cols in KEYS.items()
        ),
        *(
            AssetCheckSpec(RANGES_CHECK, asset=key, description="; ".join(rules))
            for key, rules in RANGES.items()
        ),
    ],
    can_subset=True,
)
def mart_contracts(context: AssetCheckExecutionContext, warehouse: Warehouse):
    """Columns, keys and value ranges of every mart, in one step: a run checks the marts it
    built (a step per check would cost a sensor run more than the checks themselves). The
    columns come first: a query on a missing column fails the step after they are reported."""
    selected = context.selected_asset_check_keys
    with warehouse.connect() as db:
        for check in sorted(
            selected,
            key=lambda c: (c.name != COLUMNS_CHECK, c.asset_key.to_user_string(), c.name),
        ):
            if check.name == COLUMNS_CHECK:
                yield columns_result(db, check.asset_key)
            elif check.name == KEYS_CHECK:
                yield keys_result(db, check.asset_key, KEYS[check.asset_key])
            else:
                yield ranges_result(db, check.asset_key, RANGES[check.asset_key])


@asset_check(
    asset=QUIZ_ATTEMPTS,
    description="The warehouse holds as many graded attempts as the LMS (a warning: attempts "
    "graded after the read are caught by the next run).",
)
def quiz_attempts_match_lms(lms: LmsDatabase, warehouse: Warehouse) -> AssetCheckResult:
    with warehouse.connect() as db:
        here = db.execute("SELECT count(*) FROM raw.quiz_attempts").fetchone()[0]
    source = lms.scalar(f"SELECT count(*) AS n FROM quiz_attempts WHERE status IN {FINISHED}")
    return AssetCheckResult(
        passed=here == source,
        severity=AssetCheckSeverity.WARN,
        metadata={"warehouse": here, "lms": source},
    )


@asset_check(
    asset=m.QUIZ_STATS,
    description="Attempt counts add up: 'all' counts every graded attempt, 'first', 'last' and "
    "'highest' one per student and quiz; each item has as many marks as its quiz attempts.",
)
def quiz_stats_counts_consistent(warehouse: Warehouse) -> AssetCheckResult:
    with warehouse.connect() as db:
        all_, staged, per_student, pairs, item_mismatch = db.execute(
            """
            SELECT (SELECT coalesce(sum(n_attempts), 0) FROM marts.quiz_stats
                    WHERE attempt_set = 'all'),
                   (SELECT count(*) FROM staging.quiz_attempts),
                   (SELECT coalesce(sum(n_attempts), 0) FROM marts.quiz_stats
                    WHERE attempt_set = 'first'),
                   (SELECT count(*) FROM (SELECT DISTINCT quiz_id, person_id
                                          FROM staging.quiz_attempts)),
                   (SELECT count(*) FROM marts.quiz_item_stats i
                    JOIN marts.quiz_stats s USING (quiz_id, attempt_set)
                    WHERE i.n <> s.n_attempts)
            """
        ).fetchone()
    return AssetCheckResult(
        passed=all_ == staged and per_student == pairs and item_mismatch == 0,
        metadata={
            "all_attempts": all_,
            "staged_attempts": staged,
            "first_attempts": per_student,
            "student_quiz_pairs": pairs,
            "items_with_other_n": item_mismatch,
        },
    )


@asset_check(
    asset=m.AT_RISK_HISTORY,
    description="At most two instants, the newest holding exactly the rows of "
    "marts.at_risk_students (nobody at risk now: only the earlier instant has rows).",
)
def at_risk_history_now_matches(warehouse: Warehouse) -> AssetCheckResult:
    newest = "SELECT student, track, trainer, risk_score FROM marts.at_risk_history " + (
        "WHERE as_of = (SELECT as_of FROM staging.as_of)"
    )
    current = "SELECT student, track, trainer, risk_score FROM marts.at_risk_students"
    with warehouse.connect() as db:
        instants, at_risk_now, differing = db.execute(
            f"""
            SELECT (SELECT count(DISTINCT as_of) FROM marts.at_risk_history),
                   (SELECT count(*) FROM marts.at_risk_students),
                   (SELECT count(*) FROM (({newest} EXCEPT ALL {current})
                                          UNION ALL ({current} EXCEPT ALL {newest})))
            """
        ).fetchone()
    passed = instants <= 2 and differing == 0
    return AssetCheckResult(
        passed=passed,
        metadata={
            "instants": instants,
            "at_risk_now": at_risk_now,
            "newest_rows_differing": differing,
        },
    )


def rows_match_check(
    key: AssetKey, name: str, description: str, expected_sql: str
) -> AssetChecksDefinition:
    """The mart has exactly as many rows as `expected_sql` counts in its source."""

    @asset_check(asset=key, name=name, description=description)
    def _check(warehouse: Warehouse) -> AssetCheckResult:
        with warehouse.connect() as db:
            rows, expected = db.execute(
                f"SELECT (SELECT count(*) FROM {table_of(key)}), ({expected_sql})"
            ).fetchone()
        return AssetCheckResult(
            passed=rows == expected, metadata={"rows": rows, "expected": expected}
        )

    return _check


ROWS_MATCH = [
    rows_match_check(
        m.STUDENT_PROGRESS,
        "student_progress_rows_match",
        "One row per enrollment and project of its track.",
        "SELECT count(*) FROM staging.enrollments e JOIN staging.projects p "
        "ON p.track_id = e.track_id",
    ),
    rows_match_check(
        m.ENROLLMENTS,
        "enrollments_rows_match",
        "One row per LMS enrollment.",
        "SELECT count(*) FROM raw.enrollments",
    ),
    rows_match_check(
        m.QUIZ_ATTEMPTS,
        "quiz_attempts_rows_match",
        "One row per graded attempt in staging (rebuilt or patched from it).",
        "SELECT count(*) FROM staging.quiz_attempts",
    ),
    rows_match_check(
        m.SUBMISSIONS,
        "submissions_rows_match",
        "One row per LMS submission.",
        "SELECT count(*) FROM raw.submissions",
    ),
]


asset_checks = [
    mart_contracts,
    quiz_attempts_match_lms,
    quiz_stats_counts_consistent,
    at_risk_history_now_matches,
    *ROWS_MATCH,
]
