"""A published warehouse written by hand: its tables are made from the marts' contract
(pipelines.marts_contract), its rows are typed here.

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
Class sessions (late after 10 minutes):
    02-01 09:00 Kick-off (DP, tess), before the dates: ada present
    03-10 09:00 SQL joins (DP, tess): ada present 09:02 workspace, bob late 09:25 lms
    03-12 14:00 HTTP (FSD, tom): carl late 14:30 workspace
    03-13 09:00 Window functions (DP, office): ada absent, bob present 09:05 lms
    03-15 11:30 Modelling (DP, tess), in progress at AS_OF: ada present 11:31, bob absent
    03-17 09:00 Review (DP, tess), upcoming: ada, bob
Backtest (minimum risk score 0.35 in use): DP flagged 4 of 10 on 02-15, 2 of them dropped out
of 3 who did; 2 of 8 on 02-08, both right (pooled: 4 of 6 right, 4 of 5 caught). FSD: nobody
flagged on 02-15, 1 of 5 dropped out.
"""

from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.marts_contract import MARTS, create_table_sql

AS_OF = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
REFRESHED_AT = datetime(2026, 3, 15, 12, 5)

# The rows; the tables come from the contract, so a column added or removed there breaks them.
ROWS = """
INSERT INTO marts._refresh VALUES
    ('2026-03-15 12:05:00', 'test-run', '2026-03-15 12:00:00+00');

INSERT INTO marts.enrollments VALUES
    ('ada', 'DP', 'Data', 'active', 'admin', '2026-02-01 09:00', '2026-02-01 09:00', 'tess'),
    ('bob', 'DP', 'Data', 'active', 'payment', '2026-03-10 09:00', '2026-03-10 09:00', 'tess'),
    ('carl', 'FSD', 'Web', 'active', 'admin', '2026-02-01 09:00', '2026-02-01 09:00', 'tom'),
    ('dan', 'FSD', 'Web', 'cancelled', 'admin', '2026-02-01 09:00', '2026-02-20 09:00', 'tom');

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

INSERT INTO marts.step_completions VALUES
    ('ada', 'DP', 'tess', 1, 1, 'Ingest', 11, 1, 'Load CSV', 1, '2026-02-20 10:00'),
    ('ada', 'DP', 'tess', 1, 1, 'Ingest', 12, 2, 'Clean', 2, '2026-03-05 10:00'),
    ('ada', 'DP', 'tess', 2, 2, 'Model', 21, 1, 'Star schema', 3, '2026-03-12 10:00'),
    ('bob', 'DP', 'tess', 1, 1, 'Ingest', 11, 1, 'Load CSV', 1, '2026-03-11 10:00'),
    ('carl', 'FSD', 'tom', 3, 1, 'API', 31, 1, 'Routes', 1, '2026-03-13 10:00');

INSERT INTO marts.cohort_funnel VALUES
    ('DP', 1, 11, 1, 2, 2, 1, 'Ingest', 1, 'Load CSV'),
    ('DP', 1, 12, 2, 2, 1, 1, 'Ingest', 2, 'Clean'),
    ('DP', 2, 21, 3, 1, 1, 2, 'Model', 1, 'Star schema'),
    ('DP', 2, 22, 4, 1, 0, 2, 'Model', 2, 'Marts'),
    ('FSD', 3, 31, 1, 1, 1, 1, 'API', 1, 'Routes'),
    ('FSD', 3, 32, 2, 1, 0, 1, 'API', 2, 'Auth');

INSERT INTO marts.workspace_activity VALUES
    ('ada', '2026-03-03', 120, 2), ('ada', '2026-03-10', 60, 1), ('ada', '2026-03-14', 30, 1),
    ('carl', '2026-03-01', 45, 1), ('dan', '2026-03-12', 30, 1);

INSERT INTO marts.quizzes VALUES
    (100, 'DP', 'SQL basics', 'published', 1, '2026-02-15 09:00', 2, 5),
    (200, 'FSD', 'HTTP', 'published', 3, '2026-02-15 09:00', 1, 4),
    (300, 'DP', 'Draft quiz', 'draft', NULL, NULL, 0, 0);

INSERT INTO marts.quiz_questions VALUES
    (100, 1001, 1, 'What does SELECT do?', 'SINGLE', 2),
    (100, 1002, 2, 'Which join keeps every row of the left table?', 'SINGLE', 3),
    (200, 2001, 1, 'What does 404 mean?', 'SINGLE', 4);

INSERT INTO marts.quiz_options VALUES
    (100, 1001, 10011, 1, 'Reads rows', true), (100, 1001, 10012, 2, 'Deletes rows', false),
    (100, 1002, 10021, 1, 'INNER', false), (100, 1002, 10022, 2, 'LEFT OUTER', true),
    (100, 1002, 10023, 3, 'CROSS', false),
    (200, 2001, 20011, 1, 'Not found', true), (200, 2001, 20012, 2, 'OK', false);

INSERT INTO marts.quiz_attempts VALUES
    (1, 'ada', 'DP', 'tess', 100, 'SQL basics', 1, 4, 5, 0.8, '2026-03-04 10:00'),
    (2, 'ada', 'DP', 'tess', 100, 'SQL basics', 2, 5, 5, 1.0, '2026-03-11 10:00'),
    (3, 'bob', 'DP', 'tess', 100, 'SQL basics', 1, 2, 5, 0.4, '2026-03-12 10:00'),
    (4, 'carl', 'FSD', 'tom', 200, 'HTTP', 1, 3, 4, 0.75, '2026-02-20 10:00');

INSERT INTO marts.quiz_stats VALUES  -- fractions of max_mark, as the pipeline writes them
    (100, 'all', 3, 2, 5, 0.7333, 0.8, 0.3055, NULL, NULL, -0.5, 1.2247, 0.3742),
    (100, 'first', 2, 2, 5, 0.6, 0.6, 0.2828, NULL, NULL, NULL, NULL, NULL),
    (100, 'last', 2, 2, 5, 0.7, 0.7, 0.4243, NULL, NULL, NULL, NULL, NULL),
    (100, 'highest', 2, 2, 5, 0.7, 0.7, 0.4243, NULL, NULL, NULL, NULL, NULL),
    (200, 'all', 1, 1, 4, 0.75, 0.75, NULL, NULL, NULL, NULL, NULL, NULL);

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

INSERT INTO marts.quiz_option_stats VALUES
    (100, 1001, 10011, 1, 'all', true, 3, 1.0, NULL, false),
    (100, 1001, 10012, 2, 'all', false, 0, 0.0, NULL, false),
    (100, 1002, 10021, 1, 'all', false, 2, 0.667, 0.3, true),
    (100, 1002, 10022, 2, 'all', true, 1, 0.333, -0.2, false),
    (100, 1002, 10023, 3, 'all', false, 0, 0.0, NULL, false);

INSERT INTO marts.submissions VALUES
    (7, 'ada', 'DP', 'tess', 1, 1, 'Ingest', 70, 'ETL notebook', true, 'approved',
     '2026-03-06 10:00', '2026-03-07 10:00');

INSERT INTO marts.at_risk_students VALUES
    ('carl', 'FSD', 'tom', 0.3, 'no workspace activity for 14 days', 14,
     '2026-03-01 11:00', '2026-03-13 10:00', 0, 0.75);

INSERT INTO marts.at_risk_history VALUES
    ('2026-03-15 12:00+00', 'carl', 'FSD', 'tom', 0.3),
    ('2026-03-08 12:00+00', 'ada', 'DP', 'tess', 0.5),
    ('2026-03-08 12:00+00', 'carl', 'FSD', 'tom', 0.55);

INSERT INTO marts.at_risk_backtest VALUES
    ('DP', '2026-02-15 12:00', 0.35, true, 10, 4, 3, 2, 0.5, 2 / 3, 0.3, 5 / 3, 0.4,
     28, 14, 7, 14, 3, 0.15, 0.5, 30),
    ('DP', '2026-02-08 12:00', 0.35, true, 8, 2, 2, 2, 1.0, 1.0, 0.25, 4.0, 0.25,
     28, 14, 7, 14, 3, 0.15, 0.5, 30),
    ('DP', '2026-02-15 12:00', 0.0, false, 10, 8, 3, 3, 0.375, 1.0, 0.3, 1.25, 0.8,
     28, 14, 7, 14, 3, 0.15, 0.5, 30),
    ('FSD', '2026-02-15 12:00', 0.35, true, 5, 0, 1, 0, NULL, 0.0, 0.2, NULL, 0.0,
     28, 14, 7, 14, 3, 0.15, 0.5, 30);

INSERT INTO marts.session_attendance VALUES
    (100, 'Kick-off', 'DP', '2026-02-01 09:00+00', '2026-02-01 10:00+00', 'ended', 'tess',
     'ada', 'tess', 'present', '2026-02-01 09:01+00', 'workspace', 10),
    (101, 'SQL joins', 'DP', '2026-03-10 09:00+00', '2026-03-10 11:00+00', 'ended', 'tess',
     'ada', 'tess', 'present', '2026-03-10 09:02+00', 'workspace', 10),
    (101, 'SQL joins', 'DP', '2026-03-10 09:00+00', '2026-03-10 11:00+00', 'ended', 'tess',
     'bob', 'tess', 'late', '2026-03-10 09:25+00', 'lms', 10),
    (103, 'HTTP', 'FSD', '2026-03-12 14:00+00', '2026-03-12 16:00+00', 'ended', 'tom',
     'carl', 'tom', 'late', '2026-03-12 14:30+00', 'workspace', 10),
    (102, 'Window functions', 'DP', '2026-03-13 09:00+00', '2026-03-13 11:00+00', 'ended',
     'office', 'ada', 'tess', 'absent', NULL, 'none', 10),
    (102, 'Window functions', 'DP', '2026-03-13 09:00+00', '2026-03-13 11:00+00', 'ended',
     'office', 'bob', 'tess', 'present', '2026-03-13 09:05+00', 'lms', 10),
    (104, 'Modelling', 'DP', '2026-03-15 11:30+00', '2026-03-15 13:00+00', 'in_progress',
     'tess', 'ada', 'tess', 'present', '2026-03-15 11:31+00', 'workspace', 10),
    (104, 'Modelling', 'DP', '2026-03-15 11:30+00', '2026-03-15 13:00+00', 'in_progress',
     'tess', 'bob', 'tess', 'absent', NULL, 'none', 10),
    (105, 'Review', 'DP', '2026-03-17 09:00+00', '2026-03-17 10:00+00', 'scheduled', 'tess',
     'ada', 'tess', 'upcoming', NULL, 'none', 10),
    (105, 'Review', 'DP', '2026-03-17 09:00+00', '2026-03-17 10:00+00', 'scheduled', 'tess',
     'bob', 'tess', 'upcoming', NULL, 'none', 10);

INSERT INTO marts.revenue VALUES
    ('DP', '2026-01-01', 1, 400, 0, 0, 400, 0, 0, 'eur'),
    ('DP', '2026-02-01', 2, 800, 0, 0, 800, 0, 1, 'eur'),
    ('DP', '2026-03-01', 1, 400, 1, 400, 0, 1, 0, 'eur'),
    ('FSD', '2026-03-01', 1, 500, 0, 0, 500, 0, 0, 'eur');
"""


def write(path: Path) -> Path:
    """Write the warehouse to `path` (a published file: marts only): every table of the
    contract, then the rows above."""
    with duckdb.connect(str(path)) as db:
        db.execute("SET TimeZone = 'UTC'")
        db.execute("CREATE SCHEMA marts")
        for table in MARTS:
            db.execute(create_table_sql(table))
        db.execute(ROWS)
    return path
