"""Attendance of class sessions: the rule of lms_api.class_sessions.service, over the raw copies.

The LMS answers attendance for one session at a time, on request; the dashboards need every
session at once, from the marts. So the rule is written a second time here, in SQL, and
tests/pipelines/test_attendance.py checks on a school built through the LMS's own service
that both give the same answer for every session and student:

- whom a session expects (`expected_pairs`): by its audience, the listed students, the whole
  track, or the students of the trainer who scheduled it; only active enrollments in the
  session's track of accounts not deactivated; cancelled sessions expect nobody here (they
  have no attendance);
- when each was first seen in [starts_at, ends_at] (`attendance`): their workspace in use
  (`workspace_activity`, written for the window as it was then: a row that overlaps the
  window counts from the later of its first moment and the start) or what the LMS records
  them doing (a step done, an attempt started, one they submitted, an answer saved, a
  hand-in), the earliest; the workspace on a tie;
- the status: upcoming before the start; present when first seen at most
  `session_late_after_minutes` after it, late when later, absent when not seen (so far).
"""

from dagster import AssetKey, MaterializeResult, asset

from pipelines.assets.marts import SESSION_ATTENDANCE, build, staging
from pipelines.assets.raw import QUIZ_ANSWER_SAVES, QUIZ_ATTEMPTS
from pipelines.assets.staging import raw, replace
from pipelines.resources import Warehouse
from pipelines.settings import AnalyticsSettings


@asset(
    key_prefix="staging",
    group_name="staging",
    deps=[
        *raw(
            "class_sessions",
            "class_session_students",
            "workspace_activity",
            "enrollments",
            "people",
            "trainer_assignments",
            "step_completions",
            "open_quiz_attempts",
            "submissions",
            "submission_versions",
        ),
        QUIZ_ATTEMPTS,
        QUIZ_ANSWER_SAVES,
    ],
    description="Whom each class session not cancelled expects (staging.session_students) "
    "and when each was first seen in its window, in the workspace and in the LMS "
    "(staging.session_first_seen).",
)
def class_sessions(warehouse: Warehouse) -> MaterializeResult:
    with warehouse.connect() as db:
        expected = replace(db, "session_students", EXPECTED_SQL)
        seen = replace(db, "session_first_seen", FIRST_SEEN_SQL)
    return MaterializeResult(metadata={"expected": expected, "seen": seen})


# Active enrollments of active accounts, by audience (service.expected_pairs).
EXPECTED_SQL = """
    WITH sessions AS (
        SELECT id, track_id, audience, created_by_id FROM raw.class_sessions
        WHERE cancelled_at IS NULL
    ), counted AS (
        SELECT e.person_id, e.track_id FROM raw.enrollments e
        JOIN raw.people p ON p.id = e.person_id
        WHERE e.status = 'active' AND p.is_active
    )
    SELECT s.id AS class_session_id, c.person_id
    FROM sessions s
    JOIN raw.class_session_students l ON l.class_session_id = s.id
    JOIN counted c ON c.person_id = l.person_id AND c.track_id = s.track_id
    WHERE s.audience = 'listed'
    UNION ALL
    SELECT s.id, c.person_id
    FROM sessions s JOIN counted c ON c.track_id = s.track_id
    WHERE s.audience = 'track'
    UNION ALL
    SELECT s.id, c.person_id
    FROM sessions s
    JOIN raw.trainer_assignments ta ON ta.trainer_id = s.created_by_id
    JOIN counted c ON c.person_id = ta.student_id AND c.track_id = s.track_id
    WHERE s.audience = 'trainer'
"""

# Every expected student with the first moment in the window from each source (NULL: none).
# Graded attempts are in raw.quiz_attempts, running ones in raw.open_quiz_attempts (one read
# between the two may list an attempt in both: its start is the same moment).
FIRST_SEEN_SQL = """
    WITH windows AS (
        SELECT x.class_session_id, x.person_id, s.starts_at, s.ends_at
        FROM staging.session_students x JOIN raw.class_sessions s ON s.id = x.class_session_id
    ), attempts AS (
        SELECT person_id, started_at, status, submitted_at FROM raw.quiz_attempts
        UNION ALL
        SELECT person_id, started_at, 'IN_PROGRESS', NULL FROM raw.open_quiz_attempts
    ), moments AS (
        SELECT person_id, created_at AS at FROM raw.step_completions
        UNION ALL SELECT person_id, started_at FROM attempts
        UNION ALL SELECT person_id, submitted_at FROM attempts WHERE status = 'SUBMITTED'
        UNION ALL SELECT person_id, created_at FROM raw.quiz_answer_saves
        UNION ALL
        SELECT sub.person_id, v.created_at FROM raw.submission_versions v
        JOIN raw.submissions sub ON sub.id = v.submission_id
    ), lms AS (
        SELECT w.class_session_id, w.person_id, min(m.at) AS at
        FROM windows w
        JOIN moments m ON m.person_id = w.person_id AND m.at BETWEEN w.starts_at AND w.ends_at
        GROUP BY 1, 2
    )
    SELECT w.class_session_id, w.person_id,
           CASE WHEN a.last_seen_at >= w.starts_at AND a.first_seen_at <= w.ends_at
                THEN greatest(a.first_seen_at, w.starts_at) END AS workspace_at,
           l.at AS lms_at
    FROM windows w
    LEFT JOIN raw.workspace_activity a
           ON a.class_session_id = w.class_session_id AND a.person_id = w.person_id
    LEFT JOIN lms l ON l.class_session_id = w.class_session_id AND l.person_id = w.person_id
"""


@asset(
    key=SESSION_ATTENDANCE,
    group_name="marts",
    deps=[*staging("class_sessions", "enrollments"), AssetKey(["raw", "tracks"])],
    description="One row per class session not cancelled and student it expects: present, "
    "late, absent (so far, while it runs) or upcoming, when and where (workspace or LMS) the "
    "student was first seen in its window; the rule of the LMS's attendance, with its "
    "late threshold (APRANOVA_SESSION_LATE_AFTER_MINUTES).",
)
def session_attendance(warehouse: Warehouse, settings: AnalyticsSettings) -> MaterializeResult:
    params = {"now": settings.now(), "late": settings.session_late_after_minutes}
    with warehouse.connect() as db:
        rows = build(db, "session_attendance", ATTENDANCE_SQL, params)
        by_status = dict(
            db.execute(
                "SELECT status, count(*) FROM marts.session_attendance GROUP BY 1"
            ).fetchall()
        )
    return MaterializeResult(metadata={"rows": rows, **by_status})


ATTENDANCE_SQL = """
    WITH seen AS (
        SELECT f.*, least(f.workspace_at, f.lms_at) AS first_at, $now < s.starts_at AS upcoming
        FROM staging.session_first_seen f JOIN raw.class_sessions s ON s.id = f.class_session_id
    )
    SELECT s.id AS session_id, s.title, t.code AS track,
           CAST(s.starts_at AS TIMESTAMPTZ) AS starts_at,
           CAST(s.ends_at AS TIMESTAMPTZ) AS ends_at,
           CASE WHEN seen.upcoming THEN 'scheduled'
                WHEN $now < s.ends_at THEN 'in_progress' ELSE 'ended' END AS session_status,
           creator.username AS scheduled_by, st.student, st.trainer,
           CASE WHEN seen.upcoming THEN 'upcoming'
                WHEN seen.first_at IS NULL THEN 'absent'
                WHEN seen.first_at <= s.starts_at + to_minutes(CAST($late AS BIGINT))
                    THEN 'present'
                ELSE 'late' END AS status,
           CAST(CASE WHEN NOT seen.upcoming THEN seen.first_at END AS TIMESTAMPTZ)
               AS first_seen_at,
           -- the workspace on a tie, as the LMS has it
           CASE WHEN seen.upcoming OR seen.first_at IS NULL THEN 'none'
                WHEN seen.workspace_at = seen.first_at THEN 'workspace'
                ELSE 'lms' END AS source,
           CAST($late AS INTEGER) AS late_after_minutes
    FROM seen
    JOIN raw.class_sessions s ON s.id = seen.class_session_id
    JOIN staging.students st ON st.person_id = seen.person_id
    LEFT JOIN raw.tracks t ON t.id = s.track_id
    LEFT JOIN raw.people creator ON creator.id = s.created_by_id
    ORDER BY s.starts_at, s.id, st.student
"""
