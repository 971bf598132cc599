"""A full pipeline run on the tiny school (tests/pipelines/school.py) gives the marts worked
out by hand, on SQLite and PostgreSQL. The read-only tests share one run per backend
(`built`); a test that changes the school first runs its own. "Now" is 2026-06-30 12:00 UTC
(AS_OF)."""

from datetime import UTC, date, datetime

import duckdb
import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from lms_api.curriculum.models import Deliverable
from lms_api.database import sync_url
from lms_api.quizzes.models import Quiz
from lms_api.submissions.models import Submission
from pipelines.assets.marts import ALL_MARTS
from pipelines.checks import COLUMNS_CHECK
from pipelines.marts_contract import differences
from tests.pipelines.school import at

pytestmark = pytest.mark.slow


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
    checked = {e.asset_key for e in evaluations if e.check_name == COLUMNS_CHECK}
    assert checked == set(ALL_MARTS)
    with duckdb.connect(str(pipeline.path), read_only=True) as db:
        assert differences(db) == []  # _refresh and _sources too, which no asset builds
    [(run_id, as_of)] = pipeline.rows("SELECT run_id, as_of FROM marts._refresh")
    assert run_id == result.run_id
    # The instant the marts describe: the pipeline's "now" (APRANOVA_ANALYTICS_AS_OF here).
    assert as_of == datetime(2026, 6, 30, 12, tzinfo=UTC)


def test_only_the_marts_are_published(built):
    pipeline, _ = built
    schemas = {s for (s,) in pipeline.rows("SELECT DISTINCT schema_name FROM duckdb_tables()")}
    assert schemas == {"marts"}


def utc(month: int, day: int, hour: int = 0) -> datetime:
    """The detail marts and at_risk_history keep UTC instants (TIMESTAMPTZ)."""
    return datetime(2026, month, day, hour, tzinfo=UTC)


def test_quiz_catalog_lists_every_quiz_with_its_questions_and_options(pipeline, school):
    # A draft with no track and no questions yet is listed too.
    engine = create_engine(sync_url(school.url))
    with Session(engine) as session, session.begin():
        session.add(Quiz(title="Draft", created_by="tr", status="DRAFT", sources=[]))
    engine.dispose()
    pipeline.run()
    assert pipeline.rows(
        "SELECT track, title, status, project_id, published_at, n_questions, max_mark"
        " FROM marts.quizzes ORDER BY quiz_id"
    ) == [
        ("DT", "Q1", "published", None, utc(5, 1), 3, 3.0),
        (None, "Draft", "draft", None, None, 0, 0.0),
    ]
    q1, q2, q3 = school.questions
    assert pipeline.rows(
        "SELECT quiz_id, question_id, question_order, prompt, type, max_mark"
        " FROM marts.quiz_questions ORDER BY question_order"
    ) == [
        (school.quiz_id, q1, 1, "Question 1?", "SINGLE", 1.0),
        (school.quiz_id, q2, 2, "Question 2?", "SINGLE", 1.0),
        (school.quiz_id, q3, 3, "Question 3?", "SINGLE", 1.0),
    ]
    options = pipeline.rows(
        "SELECT quiz_id, question_id, option_id, option_order, label, is_correct"
        " FROM marts.quiz_options ORDER BY question_id, option_order"
    )
    assert len(options) == 12
    assert options[:4] == [
        (school.quiz_id, q1, school.options[q1][j - 1], j, f"option {j}", j == 1)
        for j in (1, 2, 3, 4)
    ]


def test_quiz_attempts_one_row_per_graded_attempt(built):
    pipeline, _ = built
    assert pipeline.rows(
        "SELECT student, track, trainer, quiz_title, attempt_number, points, max_points, score,"
        " submitted_at FROM marts.quiz_attempts ORDER BY submitted_at"
    ) == [
        ("amy", "DT", "tr", "Q1", 1, 1.0, 3.0, pytest.approx(1 / 3), utc(6, 10, 10)),
        ("ben", "DT", "tr", "Q1", 1, 2.0, 3.0, pytest.approx(2 / 3), utc(6, 11, 10)),
        ("amy", "DT", "tr", "Q1", 2, 3.0, 3.0, 1.0, utc(6, 12, 10)),
        ("cat", "DT", "tr", "Q1", 1, 0.0, 3.0, 0.0, utc(6, 21, 10)),  # nothing answered
    ]


def test_step_completions_place_each_step_in_its_track(built):
    pipeline, _ = built
    # dan's completion stays although he cancelled: it happened.
    assert pipeline.rows(
        "SELECT student, track, trainer, project_number, project_title, step_number, step_title,"
        " step_order, completed_at FROM marts.step_completions ORDER BY student, step_order"
    ) == [
        ("amy", "DT", "tr", 1, "P1", 1, "P1 step 1", 1, utc(6, 2)),
        ("amy", "DT", "tr", 1, "P1", 2, "P1 step 2", 2, utc(6, 5)),
        ("amy", "DT", "tr", 1, "P1", 3, "P1 step 3", 3, utc(6, 25)),
        ("amy", "DT", "tr", 2, "P2", 1, "P2 step 1", 4, utc(6, 28)),
        ("ben", "DT", "tr", 1, "P1", 1, "P1 step 1", 1, utc(5, 3)),
        ("dan", "DT", "tr", 1, "P1", 1, "P1 step 1", 1, utc(5, 16)),
    ]


def test_submissions_carry_the_deliverable_and_its_review_status(pipeline, school):
    # ben also hands in the optional D3 of P2; it comes back for changes.
    engine = create_engine(sync_url(school.url))
    with Session(engine) as session, session.begin():
        d3 = session.scalars(select(Deliverable.id).where(Deliverable.title == "D3")).one()
        session.add(
            Submission(
                person_id=school.people["ben"],
                deliverable_id=d3,
                status="changes_requested",
                current_version=1,
                created_at=at("06-27 09:00"),
                updated_at=at("06-28 15:00"),
            )
        )
    engine.dispose()
    pipeline.run()
    assert pipeline.rows(
        "SELECT student, track, trainer, project_number, project_title, deliverable, required,"
        " status, submitted_at, updated_at FROM marts.submissions ORDER BY submitted_at"
    ) == [
        ("amy", "DT", "tr", 1, "P1", "D1", True, "submitted", utc(6, 26), utc(6, 26)),
        (
            "ben",
            "DT",
            "tr",
            2,
            "P2",
            "D3",
            False,
            "changes_requested",
            utc(6, 27, 9),
            utc(6, 28, 15),
        ),
    ]


def test_at_risk_history_holds_now_and_a_week_ago(built):
    pipeline, _ = built
    history = pipeline.rows(
        "SELECT as_of, student, track, trainer, risk_score FROM marts.at_risk_history"
        " ORDER BY as_of DESC, student"
    )
    # Now (06-30 12:00): exactly marts.at_risk_students.
    # A week ago (06-23 12:00), counting only what had happened by then:
    # amy: no activity yet (hers is on 06-29): 22 days since enrolling -> 0.30; two steps done,
    #      the last on 06-05 (06-25 and 06-28 had not happened): 18 / 28 x 0.25; D1 was due
    #      06-22, not yet past its grace -> 0.30 + 0.161.
    # ben: last active 06-10 09:00, 13 days: 13 / 14 x 0.30; no step for 51 days -> 0.25;
    #      D1 overdue -> 0.125. cat: enrolled three days before, no sign.
    assert history == [
        (utc(6, 30, 12), "ben", "DT", "tr", 0.675),
        (utc(6, 30, 12), "cat", "DT", "tr", 0.214),
        (utc(6, 23, 12), "amy", "DT", "tr", 0.461),
        (utc(6, 23, 12), "ben", "DT", "tr", 0.654),
    ]
    current = pipeline.rows(
        "SELECT student, track, trainer, risk_score FROM marts.at_risk_students ORDER BY student"
    )
    assert [row[1:] for row in history if row[0] == utc(6, 30, 12)] == current


def test_at_risk_history_ignores_submissions_and_attempts_after_the_week_ago(pipeline, school):
    # Now is 07-02 12:00, a week ago 06-25 12:00. amy takes two more attempts: 1/3 on 06-20,
    # 0/3 on 06-26 (after a week ago); she submitted D1 on 06-26 (after a week ago too).
    school.add_attempt("amy", 3, [0, 1, 1], "06-20 10:00")
    school.add_attempt("amy", 4, [1, 1, 1], "06-26 10:00")
    pipeline.settings["as_of"] = "2026-07-02T12:00:00+00:00"
    pipeline.run()
    # A week ago, amy: no activity yet (24 days) -> 0.30; a step on 06-25 00:00 -> no sign;
    #   D1 due 06-22 + 3 days of grace had passed with nothing submitted yet -> 0.125; scores
    #   1/3, 1, 1/3: the last two (67%) are above the earlier (33%), last three 56% -> none.
    # ben: 15 days inactive -> 0.30, 53 days without a step -> 0.25, D1 overdue -> 0.125.
    # Now, amy: active 06-29, a step 06-28, D1 submitted; scores falling (67% -> 17%) -> 0.20.
    # ben: the same signs, saturated -> 0.675. cat: 12 days inactive since enrolling: 12 / 14
    #   x 0.30; D1 due only 07-11.
    assert pipeline.rows(
        "SELECT as_of, student, risk_score FROM marts.at_risk_history ORDER BY as_of, student"
    ) == [
        (utc(6, 25, 12), "amy", 0.425),
        (utc(6, 25, 12), "ben", 0.675),
        (utc(7, 2, 12), "amy", 0.2),
        (utc(7, 2, 12), "ben", 0.675),
        (utc(7, 2, 12), "cat", 0.257),
    ]
