"""A full pipeline run on the tiny school (tests/pipelines/school.py) gives the marts worked
out by hand, on SQLite and PostgreSQL. "Now" is 2026-06-30 12:00 UTC (AS_OF)."""

from datetime import date, datetime

import pytest


@pytest.fixture
def built(pipeline):
    result = pipeline.run()
    return pipeline, result


def test_student_progress_counts_steps_per_project(built):
    pipeline, _ = built
    rows = pipeline.rows(
        "SELECT student, project_number, steps_done, steps_total, pct_complete, last_step_at,"
        " last_workspace_activity_at, trainer, enrollment_status"
        " FROM marts.student_progress ORDER BY student, project_number"
    )
    assert rows == [
        ("amy", 1, 3, 3, 1.0, datetime(2026, 6, 25), datetime(2026, 6, 29, 10, 12), "tr", "active"),
        ("amy", 2, 1, 2, 0.5, datetime(2026, 6, 28), datetime(2026, 6, 29, 10, 12), "tr", "active"),
        (
            "ben",
            1,
            1,
            3,
            pytest.approx(1 / 3),
            datetime(2026, 5, 3),
            datetime(2026, 6, 10, 9),
            "tr",
            "active",
        ),
        ("ben", 2, 0, 2, 0.0, None, datetime(2026, 6, 10, 9), "tr", "active"),
        ("cat", 1, 0, 3, 0.0, None, None, "tr", "active"),
        ("cat", 2, 0, 2, 0.0, None, None, "tr", "active"),
        ("dan", 1, 1, 3, pytest.approx(1 / 3), datetime(2026, 5, 16), None, "tr", "cancelled"),
        ("dan", 2, 0, 2, 0.0, None, None, "tr", "cancelled"),
    ]


def test_cohort_funnel_follows_active_students_step_by_step(built):
    pipeline, _ = built
    # Active: amy (furthest step 4), ben (1), cat (0). dan is cancelled and not counted.
    assert pipeline.rows(
        "SELECT step_order, project_number, step_number, students_reached, students_completed"
        " FROM marts.cohort_funnel WHERE track = 'DT' ORDER BY step_order"
    ) == [(1, 1, 1, 3, 2), (2, 1, 2, 2, 1), (3, 1, 3, 1, 1), (4, 2, 1, 1, 1), (5, 2, 2, 1, 0)]


def test_workspace_activity_counts_five_minute_buckets_and_sessions(built):
    pipeline, _ = built
    # amy: 10:01 and 10:04 -> 10:00; 10:06 (sql) and 10:07 -> 10:05; 10:12 -> 10:10.
    assert pipeline.rows(
        "SELECT student, day, active_minutes, sessions FROM marts.workspace_activity ORDER BY 1, 2"
    ) == [("amy", date(2026, 6, 29), 15, 2), ("ben", date(2026, 6, 10), 5, 1)]


def test_revenue_counts_money_in_the_month_it_moved(built):
    pipeline, _ = built
    # May: ben and dan paid; June: amy paid, dan's payment refunded, cat's still pending.
    assert pipeline.rows(
        "SELECT track, month, payments, amount, refunds, refunded_amount, net_amount, pending,"
        " failed, currency FROM marts.revenue ORDER BY month"
    ) == [
        ("DT", date(2026, 5, 1), 2, 200.0, 0, 0.0, 200.0, 0, 0, "eur"),
        ("DT", date(2026, 6, 1), 1, 100.0, 1, 100.0, 0.0, 1, 0, "eur"),
    ]


def test_at_risk_students_says_why_in_words(built):
    pipeline, _ = built
    rows = pipeline.rows(
        "SELECT student, track, trainer, risk_score, reasons, days_inactive, overdue_deliverables"
        " FROM marts.at_risk_students ORDER BY risk_score DESC"
    )
    # ben: inactive 20 days (>= 2 x 7: severity 1), no step for 58 days (severity 1),
    #      D1 was due 05-22 (+3 days grace): 1 overdue (0.5) -> 0.30 + 0.25 + 0.125.
    # cat: never active, enrolled 10 days ago: 10 / 14 -> 0.30 x 0.714; 10 days without a step
    #      is under the 14-day threshold; D1 is due 07-11.
    # amy: active yesterday, a step two days ago, D1 submitted: not at risk. dan: cancelled.
    assert rows == [
        (
            "ben",
            "DT",
            "tr",
            0.675,
            "no workspace activity for 20 days; no step completed for 58 days; "
            "1 required deliverable overdue (oldest by 39 days)",
            20,
            1,
        ),
        ("cat", "DT", "tr", 0.214, "no workspace activity since enrolling 10 days ago", 10, 0),
    ]


def test_falling_quiz_scores_put_a_student_at_risk(pipeline, school):
    # amy: 100% then two attempts at 33% and 0% -> earlier 67% (1/3 and 3/3), last two 17%.
    school.add_attempt("amy", 3, [0, 1, 1], "06-20 10:00")
    school.add_attempt("amy", 4, [1, 1, 1], "06-22 10:00")
    pipeline.run()
    [(reasons, score)] = pipeline.rows(
        "SELECT reasons, risk_score FROM marts.at_risk_students WHERE student = 'amy'"
    )
    assert reasons == "quiz scores falling: 67% before, 17% in the last two"
    assert score == 0.2


def test_quiz_stats_per_attempt_set(built):
    pipeline, _ = built
    # Scores as fractions: amy 1/3 then 1, ben 2/3, cat 0.
    rows = {
        s: (n, mean, median)
        for s, n, mean, median in pipeline.rows(
            "SELECT attempt_set, n_attempts, mean, median FROM marts.quiz_stats"
        )
    }
    assert rows["all"] == (4, pytest.approx(0.5), pytest.approx(0.5))
    assert rows["first"] == (3, pytest.approx(1 / 3), pytest.approx(1 / 3))
    assert rows["last"] == (3, pytest.approx(5 / 9), pytest.approx(2 / 3))
    assert rows["highest"] == rows["last"]
    # Item 1 was answered right by amy (twice) and ben: facility 3/4 over all attempts.
    [(facility,)] = pipeline.rows(
        "SELECT facility_index FROM marts.quiz_item_stats"
        " WHERE attempt_set = 'all' AND question_order = 1"
    )
    assert facility == pytest.approx(0.75)


def test_every_check_passes_and_the_refresh_time_is_published(built):
    pipeline, result = built
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) >= 20
    assert [e.check_name for e in evaluations if not e.passed] == []
    [(run_id,)] = pipeline.rows("SELECT run_id FROM marts._refresh")
    assert run_id == result.run_id


def test_only_the_marts_are_published(built):
    pipeline, _ = built
    schemas = {s for (s,) in pipeline.rows("SELECT DISTINCT schema_name FROM duckdb_tables()")}
    assert schemas == {"marts"}
