"""A published warehouse written by hand, in the marts' contract (README "Marts"): the
newer marts keep TIMESTAMPTZ, the older ones naive UTC TIMESTAMPs, as the pipeline writes them.

Small enough that every number the pages show can be worked out on paper. The week of the
overview ends at AS_OF (Sunday 2026-03-15): this week is 03-09..03-15, the week before
03-02..03-08.

    enrollment     trainer  status     steps done / track       workspace        quizzes
    ada · DP       tess     active     11 (02-20) 12 (03-05)    03-03 120 min    100#1 0.8 (03-04)
                                       21 (03-12)     = 3/4     03-10 60, 03-14 30
                                                                                 100#2 1.0 (03-11)
    bob · DP       tess     active     11 (03-11)     = 1/4     -                100#1 0.4 (03-12)
                   (enrolled 03-10, so not in last week's completion)
    carl · FSD     tom      active     31 (03-13)     = 1/2     03-01 45 min     200#1 0.75 (02-20)
    dan · FSD      tom      cancelled  -                        03-12 30 min     -

At risk now: carl; a week ago: ada and carl.
Backtest (minimum risk score 0.35 in use): DP flagged 4 of 10 on 02-15, 2 of them dropped out
of 3 who did; 2 of 8 on 02-08, both right (pooled: 4 of 6 right, 4 of 5 caught). FSD: nobody
flagged on 02-15, 1 of 5 dropped out.
"""

from datetime import UTC, datetime
from pathlib import Path

import duckdb

AS_OF = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
REFRESHED_AT = datetime(2026, 3, 15, 12, 5)

SQL = """
CREATE SCHEMA marts;
CREATE TABLE marts._refresh AS SELECT TIMESTAMP '2026-03-15 12:05:00' AS refreshed_at,
    'test-run' AS run_id, TIMESTAMPTZ '2026-03-15 12:00:00+00' AS as_of;

CREATE TABLE marts.enrollments (student VARCHAR, track VARCHAR, track_name VARCHAR,
    status VARCHAR, source VARCHAR, enrolled_at TIMESTAMP, updated_at TIMESTAMP,
    trainer VARCHAR);
INSERT INTO marts.enrollments VALUES
    ('ada', 'DP', 'Data', 'active', 'admin', '2026-02-01 09:00', '2026-02-01 09:00', 'tess'),
    ('bob', 'DP', 'Data', 'active', 'payment', '2026-03-10 09:00', '2026-03-10 09:00', 'tess'),
    ('carl', 'FSD', 'Web', 'active', 'admin', '2026-02-01 09:00', '2026-02-01 09:00', 'tom'),
    ('dan', 'FSD', 'Web', 'cancelled', 'admin', '2026-02-01 09:00', '2026-02-20 09:00', 'tom');

CREATE TABLE marts.student_progress (student VARCHAR, track VARCHAR, project_id BIGINT,
    steps_done INTEGER, steps_total INTEGER, pct_complete DOUBLE, last_step_at TIMESTAMP,
    last_workspace_activity_at TIMESTAMP, project_number INTEGER, project_title VARCHAR,
    trainer VARCHAR, enrollment_status VARCHAR);
INSERT INTO marts.student_progress VALUES
    ('ada', 'DP', 1, 2, 2, 1.0, '2026-03-05 10:00', '2026-03-14 16:00', 1, 'Ingest',
     'tess', 'active'),
    ('ada', 'DP', 2, 1, 2, 0.5, '2026-03-12 10:00', '2026-03-14 16:00', 2, 'Model',
     'tess', 'active'),
    ('bob', 'DP', 1, 1, 2, 0.5, '2026-03-11 10:00', NULL, 1, 'Ingest',
     'tess', 'active'),
    ('bob', 'DP', 2, 0, 2, 0.0, NULL, NULL, 2, 'Model',
     'tess', 'active'),
    ('carl', 'FSD', 3, 1, 2, 0.5, '2026-03-13 10:00', '2026-03-01 11:00', 1, 'API',
     'tom', 'active'),
    ('dan', 'FSD', 3, 0, 2, 0.0, NULL, '2026-03-12 11:00', 1, 'API',
     'tom', 'cancelled');

CREATE TABLE marts.step_completions (student VARCHAR, track VARCHAR, trainer VARCHAR,
    project_id BIGINT, project_number INTEGER, project_title VARCHAR, step_id BIGINT,
    step_number INTEGER, step_title VARCHAR, step_order INTEGER, completed_at TIMESTAMPTZ);
INSERT INTO marts.step_completions VALUES
    ('ada', 'DP', 'tess', 1, 1, 'Ingest', 11, 1, 'Load CSV', 1, '2026-02-20 10:00'),
    ('ada', 'DP', 'tess', 1, 1, 'Ingest', 12, 2, 'Clean', 2, '2026-03-05 10:00'),
    ('ada', 'DP', 'tess', 2, 2, 'Model', 21, 1, 'Star schema', 3, '2026-03-12 10:00'),
    ('bob', 'DP', 'tess', 1, 1, 'Ingest', 11, 1, 'Load CSV', 1, '2026-03-11 10:00'),
    ('carl', 'FSD', 'tom', 3, 1, 'API', 31, 1, 'Routes', 1, '2026-03-13 10:00');

CREATE TABLE marts.cohort_funnel (track VARCHAR, project_id BIGINT, step_id BIGINT,
    step_order INTEGER, students_reached INTEGER, students_completed INTEGER,
    project_number INTEGER, project_title VARCHAR, step_number INTEGER, step_title VARCHAR);
INSERT INTO marts.cohort_funnel VALUES
    ('DP', 1, 11, 1, 2, 2, 1, 'Ingest', 1, 'Load CSV'),
    ('DP', 1, 12, 2, 2, 1, 1, 'Ingest', 2, 'Clean'),
    ('DP', 2, 21, 3, 1, 1, 2, 'Model', 1, 'Star schema'),
    ('DP', 2, 22, 4, 1, 0, 2, 'Model', 2, 'Marts'),
    ('FSD', 3, 31, 1, 1, 1, 1, 'API', 1, 'Routes'),
    ('FSD', 3, 32, 2, 1, 0, 1, 'API', 2, 'Auth');

CREATE TABLE marts.workspace_activity (student VARCHAR, day DATE, active_minutes INTEGER,
    sessions INTEGER);
INSERT INTO marts.workspace_activity VALUES
    ('ada', '2026-03-03', 120, 2), ('ada', '2026-03-10', 60, 1), ('ada', '2026-03-14', 30, 1),
    ('carl', '2026-03-01', 45, 1), ('dan', '2026-03-12', 30, 1);

CREATE TABLE marts.quizzes (quiz_id BIGINT, track VARCHAR, title VARCHAR, status VARCHAR,
    project_id BIGINT, published_at TIMESTAMPTZ, n_questions INTEGER, max_mark DOUBLE);
INSERT INTO marts.quizzes VALUES
    (100, 'DP', 'SQL basics', 'published', 1, '2026-02-15 09:00', 2, 5),
    (200, 'FSD', 'HTTP', 'published', 3, '2026-02-15 09:00', 1, 4),
    (300, 'DP', 'Draft quiz', 'draft', NULL, NULL, 0, 0);

CREATE TABLE marts.quiz_questions (quiz_id BIGINT, question_id BIGINT, question_order INTEGER,
    prompt VARCHAR, type VARCHAR, max_mark DOUBLE);
INSERT INTO marts.quiz_questions VALUES
    (100, 1001, 1, 'What does SELECT do?', 'SINGLE', 2),
    (100, 1002, 2, 'Which join keeps every row of the left table?', 'SINGLE', 3),
    (200, 2001, 1, 'What does 404 mean?', 'SINGLE', 4);

CREATE TABLE marts.quiz_options (quiz_id BIGINT, question_id BIGINT, option_id BIGINT,
    option_order INTEGER, label VARCHAR, is_correct BOOLEAN);
INSERT INTO marts.quiz_options VALUES
    (100, 1001, 10011, 1, 'Reads rows', true), (100, 1001, 10012, 2, 'Deletes rows', false),
    (100, 1002, 10021, 1, 'INNER', false), (100, 1002, 10022, 2, 'LEFT OUTER', true),
    (100, 1002, 10023, 3, 'CROSS', false),
    (200, 2001, 20011, 1, 'Not found', true), (200, 2001, 20012, 2, 'OK', false);

CREATE TABLE marts.quiz_attempts (attempt_id BIGINT, student VARCHAR, track VARCHAR,
    trainer VARCHAR, quiz_id BIGINT, quiz_title VARCHAR, attempt_number INTEGER, points DOUBLE,
    max_points DOUBLE, score DOUBLE, submitted_at TIMESTAMPTZ);
INSERT INTO marts.quiz_attempts VALUES
    (1, 'ada', 'DP', 'tess', 100, 'SQL basics', 1, 4, 5, 0.8, '2026-03-04 10:00'),
    (2, 'ada', 'DP', 'tess', 100, 'SQL basics', 2, 5, 5, 1.0, '2026-03-11 10:00'),
    (3, 'bob', 'DP', 'tess', 100, 'SQL basics', 1, 2, 5, 0.4, '2026-03-12 10:00'),
    (4, 'carl', 'FSD', 'tom', 200, 'HTTP', 1, 3, 4, 0.75, '2026-02-20 10:00');

CREATE TABLE marts.quiz_stats (quiz_id BIGINT, attempt_set VARCHAR, n_attempts INTEGER,
    n_questions INTEGER, max_mark DOUBLE, mean DOUBLE, median DOUBLE, sd DOUBLE,
    skewness DOUBLE, kurtosis DOUBLE, cronbach_alpha DOUBLE, error_ratio DOUBLE,
    standard_error DOUBLE);
INSERT INTO marts.quiz_stats VALUES  -- fractions of max_mark, as the pipeline writes them
    (100, 'all', 3, 2, 5, 0.7333, 0.8, 0.3055, NULL, NULL, -0.5, 1.2247, 0.3742),
    (100, 'first', 2, 2, 5, 0.6, 0.6, 0.2828, NULL, NULL, NULL, NULL, NULL),
    (100, 'last', 2, 2, 5, 0.7, 0.7, 0.4243, NULL, NULL, NULL, NULL, NULL),
    (100, 'highest', 2, 2, 5, 0.7, 0.7, 0.4243, NULL, NULL, NULL, NULL, NULL),
    (200, 'all', 1, 1, 4, 0.75, 0.75, NULL, NULL, NULL, NULL, NULL, NULL);

CREATE TABLE marts.quiz_item_stats (quiz_id BIGINT, question_id BIGINT,
    question_order INTEGER, attempt_set VARCHAR, n INTEGER, facility_index DOUBLE, sd DOUBLE,
    random_guess_score DOUBLE, intended_weight DOUBLE, effective_weight DOUBLE,
    discrimination_index DOUBLE, discriminative_efficiency DOUBLE, ci_low DOUBLE,
    ci_high DOUBLE, flag VARCHAR, discrimination_ci_low DOUBLE, discrimination_ci_high DOUBLE,
    n_timed BIGINT, median_seconds DOUBLE, rapid_guess_rate DOUBLE);
INSERT INTO marts.quiz_item_stats VALUES
    (100, 1001, 1, 'all', 3, 0.9, 0.2, 0.5, 40, 45, 45, 60, 0.5, 0.98, 'ok',
     -20, 85, 3, 24.5, 0),
    (100, 1002, 2, 'all', 3, 0.2, 0.4, 0.33, 60, 55, -10, -12, 0.04, 0.6,
     'negative discrimination', -70, 60, 3, 8, 0.3333),
    (100, 1001, 1, 'first', 2, 0.95, 0.1, 0.5, 40, 42, 50, 62, 0.4, 0.99, 'ok',
     NULL, NULL, 2, 30, 0),
    (100, 1002, 2, 'first', 2, 0.3, 0.5, 0.33, 60, 58, 35, 40, 0.05, 0.8, NULL,
     NULL, NULL, 2, 9, 0.5),
    (200, 2001, 1, 'all', 1, 0.75, NULL, 0.5, 100, NULL, NULL, NULL, 0.2, 0.97,
     'too few attempts', NULL, NULL, 1, NULL, NULL);

CREATE TABLE marts.quiz_option_stats (quiz_id BIGINT, question_id BIGINT, option_id BIGINT,
    option_order INTEGER, attempt_set VARCHAR, is_correct BOOLEAN, chosen_count INTEGER,
    chosen_rate DOUBLE, point_biserial DOUBLE, attractive BOOLEAN);
INSERT INTO marts.quiz_option_stats VALUES
    (100, 1001, 10011, 1, 'all', true, 3, 1.0, NULL, false),
    (100, 1001, 10012, 2, 'all', false, 0, 0.0, NULL, false),
    (100, 1002, 10021, 1, 'all', false, 2, 0.667, 0.3, true),
    (100, 1002, 10022, 2, 'all', true, 1, 0.333, -0.2, false),
    (100, 1002, 10023, 3, 'all', false, 0, 0.0, NULL, false);

CREATE TABLE marts.submissions (submission_id BIGINT, student VARCHAR, track VARCHAR,
    trainer VARCHAR, project_id BIGINT, project_number INTEGER, project_title VARCHAR,
    deliverable_id BIGINT, deliverable VARCHAR, required BOOLEAN, status VARCHAR,
    submitted_at TIMESTAMPTZ, updated_at TIMESTAMPTZ);
INSERT INTO marts.submissions VALUES
    (7, 'ada', 'DP', 'tess', 1, 1, 'Ingest', 70, 'ETL notebook', true, 'approved',
     '2026-03-06 10:00', '2026-03-07 10:00');

CREATE TABLE marts.at_risk_students (student VARCHAR, track VARCHAR, trainer VARCHAR,
    risk_score DOUBLE, reasons VARCHAR, days_inactive INTEGER,
    last_workspace_activity_at TIMESTAMP, last_step_at TIMESTAMP,
    overdue_deliverables INTEGER, recent_quiz_score DOUBLE);
INSERT INTO marts.at_risk_students VALUES
    ('carl', 'FSD', 'tom', 0.3, 'no workspace activity for 14 days', 14,
     '2026-03-01 11:00', '2026-03-13 10:00', 0, 0.75);

CREATE TABLE marts.at_risk_history (as_of TIMESTAMPTZ, student VARCHAR, track VARCHAR,
    trainer VARCHAR, risk_score DOUBLE);
INSERT INTO marts.at_risk_history VALUES
    ('2026-03-15 12:00+00', 'carl', 'FSD', 'tom', 0.3),
    ('2026-03-08 12:00+00', 'ada', 'DP', 'tess', 0.5),
    ('2026-03-08 12:00+00', 'carl', 'FSD', 'tom', 0.55);

CREATE TABLE marts.at_risk_backtest (track VARCHAR, as_of TIMESTAMP, min_risk_score DOUBLE,
    in_use BOOLEAN, enrollments INTEGER, flagged INTEGER, positives INTEGER,
    true_positives INTEGER, precision DOUBLE, recall DOUBLE, base_rate DOUBLE, lift DOUBLE,
    flagged_share DOUBLE, horizon_days INTEGER, quiet_days INTEGER, inactive_days INTEGER,
    no_progress_days INTEGER, overdue_grace_days INTEGER, score_drop DOUBLE,
    low_score DOUBLE, dropped_after_days INTEGER);
INSERT INTO marts.at_risk_backtest VALUES
    ('DP', '2026-02-15 12:00', 0.35, true, 10, 4, 3, 2, 0.5, 2 / 3, 0.3, 5 / 3, 0.4,
     28, 14, 7, 14, 3, 0.15, 0.5, 30),
    ('DP', '2026-02-08 12:00', 0.35, true, 8, 2, 2, 2, 1.0, 1.0, 0.25, 4.0, 0.25,
     28, 14, 7, 14, 3, 0.15, 0.5, 30),
    ('DP', '2026-02-15 12:00', 0.0, false, 10, 8, 3, 3, 0.375, 1.0, 0.3, 1.25, 0.8,
     28, 14, 7, 14, 3, 0.15, 0.5, 30),
    ('FSD', '2026-02-15 12:00', 0.35, true, 5, 0, 1, 0, NULL, 0.0, 0.2, NULL, 0.0,
     28, 14, 7, 14, 3, 0.15, 0.5, 30);

CREATE TABLE marts.revenue (track VARCHAR, month DATE, payments INTEGER, amount DOUBLE,
    refunds INTEGER, refunded_amount DOUBLE, net_amount DOUBLE, pending INTEGER,
    failed INTEGER, currency VARCHAR);
INSERT INTO marts.revenue VALUES
    ('DP', '2026-01-01', 1, 400, 0, 0, 400, 0, 0, 'eur'),
    ('DP', '2026-02-01', 2, 800, 0, 0, 800, 0, 1, 'eur'),
    ('DP', '2026-03-01', 1, 400, 1, 400, 0, 1, 0, 'eur'),
    ('FSD', '2026-03-01', 1, 500, 0, 0, 500, 0, 0, 'eur');
"""


def write(path: Path) -> Path:
    """Write the warehouse to `path` (a published file: marts only)."""
    with duckdb.connect(str(path)) as db:
        db.execute("SET TimeZone = 'UTC'")
        db.execute(SQL)
    return path
