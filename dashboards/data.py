"""All data access of the dashboards: read-only DuckDB over the published marts.

One read-only connection per published file (`st.cache_resource`); every query is cached
(`st.cache_data`) under its SQL, its parameters and the file's version, so a new publish is a
new cache key and reruns of the same view never touch DuckDB. Every function takes a `Scope`:
the trainer a viewer is limited to (or the one an admin picked), the tracks and the dates.
"""

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta

import duckdb
import pandas as pd
import streamlit as st

from lms_api.state import warehouse_path

ATTEMPT_SETS = ("all", "first", "last", "highest")
NOT_FLAGGED = ("", "ok")  # marts.quiz_item_stats.flag of an item with nothing to report


def actionable(column: str = "flag") -> str:
    """SQL: the item's flag is one a trainer can act on, not "nothing to report" nor "too few
    attempts" (nothing to do but wait)."""
    return f"coalesce({column}, '') NOT IN ('', 'ok', 'too few attempts')"


def flagged(flags: pd.Series) -> pd.Series:
    """True for the items whose flag reports a problem ('too easy', 'too few attempts', ...)."""
    return ~flags.fillna("").isin(NOT_FLAGGED)


def published_version() -> tuple[int, int] | None:
    """(inode, mtime in ns) of the published warehouse: every publish renames a new file into
    place, so a new publish is a new cache key even within the same second."""
    try:
        stat = warehouse_path().stat()
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_mtime_ns


WAREHOUSE = "warehouse"  # the catalog name the published file is attached under


@st.cache_resource(max_entries=2)
def _connection(path: str, version: tuple[int, int]) -> duckdb.DuckDBPyConnection:
    """A read-only view of the file published as `version` (the key: one per publish).

    Not `duckdb.connect(path)`: DuckDB caches one database instance per path for as long as
    any connection to it is open, so a new connection to the same path would reopen the file
    the pipeline has since replaced (the dashboards kept showing the first publish). Each
    connection is its own in-memory instance that attaches the file as it is now; the one it
    replaces keeps reading its own copy until queries running on it finish.
    """
    connection = duckdb.connect(":memory:")
    connection.execute("SET GLOBAL TimeZone = 'UTC'")
    connection.execute(f"ATTACH '{_quoted(path)}' AS {WAREHOUSE} (READ_ONLY)")
    return connection


def _quoted(path: str) -> str:
    return path.replace("'", "''")


@st.cache_data(ttl=3600, max_entries=512, show_spinner=False)
def _query(sql: str, params: tuple, version: tuple[int, int]) -> pd.DataFrame:
    cursor = _connection(str(warehouse_path()), version).cursor()
    try:
        cursor.execute(f"USE {WAREHOUSE}")  # a cursor starts in the in-memory catalog
        values = {k: list(v) if isinstance(v, tuple) else v for k, v in params}
        return cursor.execute(sql, values).df()
    finally:
        cursor.close()


def query(sql: str, **params) -> pd.DataFrame:
    """Run `sql` ($name parameters) on the published marts; cached per publish."""
    version = published_version()
    if version is None:
        raise NoWarehouse
    frozen = tuple(sorted((k, _plain(v)) for k, v in params.items()))
    return _query(sql, frozen, version)


def _plain(value):
    """A parameter DuckDB and the cache both take: numpy scalars (a value picked from a
    DataFrame) become Python ones, lists become tuples."""
    if isinstance(value, list | tuple):
        return tuple(_plain(v) for v in value)
    return value.item() if hasattr(value, "item") else value


class NoWarehouse(Exception):
    """The pipeline has not published the marts yet."""


@dataclass(frozen=True)
class Refresh:
    refreshed_at: datetime
    as_of: datetime

    @property
    def day(self) -> date:
        return self.as_of.date()


def refresh() -> Refresh | None:
    """When the marts were published and the instant they describe (None: not yet)."""
    if published_version() is None:
        return None
    frame = query("SELECT * FROM marts._refresh")
    row = frame.iloc[0]
    refreshed = _utc(row["refreshed_at"])
    as_of = _utc(row["as_of"]) if "as_of" in frame and pd.notna(row["as_of"]) else refreshed
    return Refresh(refreshed_at=refreshed, as_of=as_of)


def _utc(value) -> datetime:
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.to_pydatetime()


# --- scope ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What a page shows: whose students, which tracks, which days (inclusive)."""

    start: date
    end: date
    trainer: str | None = None
    tracks: tuple[str, ...] = field(default=())

    def where(self, alias: str = "") -> tuple[str, dict]:
        """SQL condition on a mart's `track` / `trainer` columns, and its parameters."""
        prefix = f"{alias}." if alias else ""
        clauses, params = ["TRUE"], {}
        if self.tracks:
            clauses.append(f"list_contains($tracks, {prefix}track)")
            params["tracks"] = list(self.tracks)
        if self.trainer is not None:
            clauses.append(f"{prefix}trainer = $trainer")
            params["trainer"] = self.trainer
        return " AND ".join(clauses), params

    def tracks_only(self) -> "Scope":
        """The same tracks and dates for every trainer: quizzes and money are not a
        trainer's own (admins alone see revenue)."""
        return replace(self, trainer=None)

    @property
    def window(self) -> dict:
        """The date range as timestamps: [start 00:00, end + 1 day 00:00) UTC."""
        return {
            "start_day": self.start,
            "end_day": self.end,
            "start_ts": _midnight(self.start),
            "end_ts": _midnight(self.end + timedelta(days=1)),
        }


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def tracks() -> list[str]:
    return query("SELECT DISTINCT track FROM marts.enrollments ORDER BY 1")["track"].tolist()


def trainers() -> list[str]:
    frame = query(
        "SELECT DISTINCT trainer FROM marts.enrollments WHERE trainer IS NOT NULL ORDER BY 1"
    )
    return frame["trainer"].tolist()


# --- overview ---------------------------------------------------------------------------


def overview(scope: Scope, as_of: datetime) -> pd.DataFrame:
    """The headline numbers for the week ending at `as_of` and the week before.

    One row per metric: metric, this_week, last_week. Active enrollments in scope only;
    a student is active on a day with workspace activity, a completed step or a graded quiz.
    """
    where, params = scope.where("e")
    today = as_of.date()
    weeks = {
        "w0_day": today - timedelta(days=6),
        "w1_day": today - timedelta(days=13),
        "end_day": today,
        "w0_ts": _midnight(today - timedelta(days=6)),
        "w1_ts": _midnight(today - timedelta(days=13)),
        "end_ts": _midnight(today + timedelta(days=1)),
    }
    return query(
        f"""
        WITH scoped AS (
            SELECT student, track, enrolled_at FROM marts.enrollments e
            WHERE status = 'active' AND {where}
        ), people AS (
            SELECT DISTINCT student FROM scoped
        ), activity AS (
            SELECT w.student, w.day, w.active_minutes FROM marts.workspace_activity w
            JOIN people USING (student) WHERE w.day BETWEEN $w1_day AND $end_day
        ), events AS (
            SELECT student, day FROM activity
            UNION ALL
            SELECT c.student, CAST(c.completed_at AS DATE) FROM marts.step_completions c
            JOIN scoped USING (student, track)
            WHERE c.completed_at >= $w1_ts AND c.completed_at < $end_ts
            UNION ALL
            SELECT a.student, CAST(a.submitted_at AS DATE) FROM marts.quiz_attempts a
            JOIN scoped USING (student, track)
            WHERE a.submitted_at >= $w1_ts AND a.submitted_at < $end_ts
        ), totals AS (
            SELECT p.student, p.track, sum(p.steps_total) AS steps_total
            FROM marts.student_progress p JOIN scoped USING (student, track) GROUP BY 1, 2
        ), done AS (
            SELECT c.student, c.track,
                   count(*) FILTER (WHERE c.completed_at < $end_ts) AS now_done,
                   count(*) FILTER (WHERE c.completed_at < $w0_ts) AS then_done
            FROM marts.step_completions c JOIN scoped USING (student, track) GROUP BY 1, 2
        ), completion AS (
            SELECT avg(coalesce(d.now_done, 0) / nullif(t.steps_total, 0)) AS this_week,
                   avg(coalesce(d.then_done, 0) / nullif(t.steps_total, 0))
                       FILTER (WHERE s.enrolled_at < $w0_ts) AS last_week
            FROM totals t JOIN scoped s USING (student, track)
            LEFT JOIN done d USING (student, track)
        ), quiz AS (
            SELECT avg(a.score) FILTER (WHERE a.submitted_at >= $w0_ts) AS this_week,
                   avg(a.score) FILTER (WHERE a.submitted_at < $w0_ts) AS last_week
            FROM marts.quiz_attempts a JOIN scoped USING (student, track)
            WHERE a.submitted_at >= $w1_ts AND a.submitted_at < $end_ts
        ), risk AS (
            -- the history holds the instant the marts describe and one about 7 days before
            SELECT count(*) FILTER (WHERE h.as_of = $as_of) AS this_week,
                   count(*) FILTER (WHERE h.as_of = (
                       SELECT max(as_of) FROM marts.at_risk_history
                       WHERE as_of <= $as_of - INTERVAL 6 DAY)) AS last_week
            FROM marts.at_risk_history h JOIN scoped USING (student, track)
        )
        SELECT 'active_students' AS metric,
               CAST(count(DISTINCT student) FILTER (WHERE day >= $w0_day) AS DOUBLE) AS this_week,
               CAST(count(DISTINCT student) FILTER (WHERE day < $w0_day) AS DOUBLE) AS last_week
        FROM events
        UNION ALL SELECT 'avg_completion', this_week, last_week FROM completion
        UNION ALL SELECT 'avg_quiz_score', this_week, last_week FROM quiz
        UNION ALL SELECT 'at_risk', this_week, last_week FROM risk
        UNION ALL
        SELECT 'workspace_hours',
               coalesce(sum(active_minutes) FILTER (WHERE day >= $w0_day), 0) / 60.0,
               coalesce(sum(active_minutes) FILTER (WHERE day < $w0_day), 0) / 60.0
        FROM activity
        """,
        **params,
        **weeks,
        as_of=as_of,
    ).set_index("metric")


def at_risk_by_track(scope: Scope) -> pd.DataFrame:
    where, params = scope.where()
    return query(
        f"""SELECT track, count(*) AS students, avg(risk_score) AS mean_risk
        FROM marts.at_risk_students WHERE {where} GROUP BY 1 ORDER BY 1""",
        **params,
    )


# --- cohort progress --------------------------------------------------------------------


def students(scope: Scope) -> pd.DataFrame:
    """One row per enrollment in scope: progress over the track, last activity, risk."""
    where, params = scope.where("p")
    return query(
        f"""
        SELECT p.student, p.track, any_value(p.trainer) AS trainer,
               any_value(p.enrollment_status) AS status,
               CAST(sum(p.steps_done) AS INTEGER) AS steps_done,
               CAST(sum(p.steps_total) AS INTEGER) AS steps_total,
               sum(p.steps_done) / nullif(sum(p.steps_total), 0) AS pct_complete,
               max(p.last_step_at) AS last_step_at,
               max(p.last_workspace_activity_at) AS last_workspace_activity_at,
               any_value(r.risk_score) AS risk_score
        FROM marts.student_progress p
        LEFT JOIN marts.at_risk_students r USING (student, track)
        WHERE {where}
        GROUP BY p.student, p.track
        ORDER BY p.track, p.student
        """,
        **params,
    )


def busiest_track(roster: pd.DataFrame) -> str:
    """The track with most active enrollments in `roster` (`students()`), the first in
    alphabetical order of the ties: the funnel most of the viewer's students are in."""
    active = roster[roster["status"] == "active"]
    counts = (active if not active.empty else roster).groupby("track").size().sort_index()
    return counts.idxmax()


def funnel(scope: Scope, track: str) -> pd.DataFrame:
    """`marts.cohort_funnel` for the active students in scope (the same definition)."""
    where, params = scope.where("e")
    return query(
        f"""
        WITH steps AS (
            SELECT track, project_id, project_number, project_title, step_id, step_number,
                   step_title, step_order
            FROM marts.cohort_funnel WHERE track = $track
        ), cohort AS (
            SELECT student FROM marts.enrollments e
            WHERE e.status = 'active' AND e.track = $track AND {where}
        ), completed AS (
            SELECT c.student, c.step_id, c.step_order FROM marts.step_completions c
            JOIN cohort USING (student) WHERE c.track = $track
        ), furthest AS (
            SELECT cohort.student, coalesce(max(completed.step_order), 0) AS furthest
            FROM cohort LEFT JOIN completed USING (student) GROUP BY 1
        )
        SELECT s.*,
               (SELECT count(*) FROM furthest f WHERE f.furthest >= s.step_order - 1)
                   AS students_reached,
               (SELECT count(*) FROM completed c WHERE c.step_id = s.step_id)
                   AS students_completed
        FROM steps s ORDER BY s.step_order
        """,
        track=track,
        **params,
    )


def student_projects(scope: Scope, student: str, track: str) -> pd.DataFrame:
    where, params = scope.where()
    return query(
        f"""SELECT project_number, project_title, steps_done, steps_total, pct_complete,
                   last_step_at
        FROM marts.student_progress
        WHERE student = $student AND track = $track AND {where} ORDER BY project_number""",
        student=student,
        track=track,
        **params,
    )


def student_quizzes(scope: Scope, student: str, track: str) -> pd.DataFrame:
    where, params = scope.where()
    return query(
        f"""SELECT submitted_at, quiz_title, attempt_number, score, points, max_points
        FROM marts.quiz_attempts
        WHERE student = $student AND track = $track AND {where}
          AND submitted_at >= $start_ts AND submitted_at < $end_ts
        ORDER BY submitted_at""",
        student=student,
        track=track,
        **params,
        **_only(scope.window, "start_ts", "end_ts"),
    )


def student_submissions(scope: Scope, student: str, track: str) -> pd.DataFrame:
    where, params = scope.where()
    return query(
        f"""SELECT submitted_at, project_number, deliverable, required, status, updated_at,
                   submission_id
        FROM marts.submissions
        WHERE student = $student AND track = $track AND {where}
        ORDER BY submitted_at""",
        student=student,
        track=track,
        **params,
    )


def _only(values: dict, *keys: str) -> dict:
    return {k: values[k] for k in keys}


# --- workspace usage --------------------------------------------------------------------


def workspace_days(scope: Scope, students: tuple[str, ...] = ()) -> pd.DataFrame:
    """Active hours per student and day in the date range, for the students in scope."""
    where, params = scope.where("e")
    only = "AND list_contains($students, w.student)" if students else ""
    if students:
        params["students"] = list(students)
    return query(
        f"""
        SELECT w.student, w.day, w.active_minutes / 60.0 AS active_hours, w.sessions
        FROM marts.workspace_activity w
        WHERE w.day BETWEEN $start_day AND $end_day {only}
          AND w.student IN (SELECT student FROM marts.enrollments e WHERE {where})
        ORDER BY w.student, w.day
        """,
        **params,
        **_only(scope.window, "start_day", "end_day"),
    )


def workspace_totals(scope: Scope) -> pd.DataFrame:
    """Per student in scope: hours, active days and sessions in the date range, least active
    first (the students a trainer must help), with `enrolled` when they have an active
    enrollment in scope. Students with an active enrollment and no activity are rows of 0
    hours; others (a cancelled enrollment) appear only when they were active."""
    where, params = scope.where("e")
    return query(
        f"""
        WITH people AS (
            SELECT student, bool_or(status = 'active') AS enrolled
            FROM marts.enrollments e WHERE {where} GROUP BY 1
        ), used AS (
            SELECT w.student, sum(w.active_minutes) / 60.0 AS active_hours,
                   CAST(count(*) AS INTEGER) AS active_days,
                   CAST(sum(w.sessions) AS INTEGER) AS sessions, max(w.day) AS last_day
            FROM marts.workspace_activity w JOIN people USING (student)
            WHERE w.day BETWEEN $start_day AND $end_day
            GROUP BY 1
        )
        SELECT p.student, coalesce(u.active_hours, 0) AS active_hours,
               coalesce(u.active_days, 0) AS active_days, coalesce(u.sessions, 0) AS sessions,
               u.last_day, p.enrolled
        FROM people p LEFT JOIN used u USING (student)
        WHERE p.enrolled OR u.student IS NOT NULL
        ORDER BY active_hours, u.last_day NULLS FIRST, p.student
        """,
        **params,
        **_only(scope.window, "start_day", "end_day"),
    )


def workspace_grid(scope: Scope, students: tuple[str, ...]) -> pd.DataFrame:
    """Active hours of `students` on every day of the date range, 0 on a day without activity:
    a heatmap of the least active shows their empty days instead of leaving gaps."""
    return query(
        """
        WITH days AS (
            SELECT CAST(d AS DATE) AS day
            FROM generate_series(CAST($start_day AS TIMESTAMP), CAST($end_day AS TIMESTAMP),
                                 INTERVAL 1 DAY) AS t(d)
        ), people AS (SELECT unnest($students) AS student)
        SELECT p.student, d.day, coalesce(w.active_minutes, 0) / 60.0 AS active_hours,
               coalesce(w.sessions, 0) AS sessions
        FROM people p CROSS JOIN days d
        LEFT JOIN marts.workspace_activity w USING (student, day)
        ORDER BY p.student, d.day
        """,
        students=list(students),
        **_only(scope.window, "start_day", "end_day"),
    )


def workspace_per_day(scope: Scope) -> pd.DataFrame:
    """Students with activity and their hours, per day of the date range."""
    where, params = scope.where("e")
    return query(
        f"""
        SELECT w.day, CAST(count(*) AS INTEGER) AS students,
               sum(w.active_minutes) / 60.0 AS active_hours
        FROM marts.workspace_activity w
        WHERE w.day BETWEEN $start_day AND $end_day
          AND w.student IN (SELECT student FROM marts.enrollments e WHERE {where})
        GROUP BY 1 ORDER BY 1
        """,
        **params,
        **_only(scope.window, "start_day", "end_day"),
    )


# --- quiz quality -----------------------------------------------------------------------


def quizzes(scope: Scope) -> pd.DataFrame:
    """Quizzes of the tracks in scope that have statistics, the ones with most flagged
    questions (over all attempts, actionable flags only) first: a trainer opens the quiz
    that needs them."""
    clause, params = scope.tracks_only().where("q")
    return query(
        f"""SELECT q.quiz_id, q.title, q.track, q.status, q.n_questions,
                   CAST(coalesce(f.n_flagged, 0) AS INTEGER) AS n_flagged
        FROM marts.quizzes q
        LEFT JOIN (SELECT quiz_id, count(*) AS n_flagged FROM marts.quiz_item_stats
                   WHERE attempt_set = 'all' AND {actionable()} GROUP BY 1) f USING (quiz_id)
        WHERE {clause} AND q.quiz_id IN (SELECT quiz_id FROM marts.quiz_stats)
        ORDER BY n_flagged DESC, q.track, q.title, q.quiz_id""",
        **params,
    )


def flagged_questions(scope: Scope) -> pd.DataFrame:
    """Every question with an actionable flag (over all attempts) in the quizzes in scope,
    the wrong answer keys first, then attractive distractors, then by quiz."""
    clause, params = scope.tracks_only().where("z")
    return query(
        f"""SELECT i.flag, z.title AS quiz, z.track, i.question_order, q.prompt, i.n,
                   i.facility_index, i.discrimination_index / 100 AS discrimination,
                   i.quiz_id, i.question_id
        FROM marts.quiz_item_stats i
        JOIN marts.quizzes z USING (quiz_id)
        LEFT JOIN marts.quiz_questions q USING (quiz_id, question_id)
        WHERE i.attempt_set = 'all' AND {actionable("i.flag")}
          AND {clause}
        ORDER BY i.flag LIKE '%answer key%' DESC, i.flag LIKE 'attractive%' DESC,
                 z.track, z.title, i.quiz_id, i.question_order""",
        **params,
    )


def quiz_summary(quiz_id: int, attempt_set: str) -> pd.DataFrame:
    return query(
        "SELECT * FROM marts.quiz_stats WHERE quiz_id = $quiz AND attempt_set = $set",
        quiz=quiz_id,
        set=attempt_set,
    )


def item_stats(quiz_id: int, attempt_set: str) -> pd.DataFrame:
    """The questions of a quiz, each quantity in the unit the pages show (dashboards.ui): the
    mart's discrimination index and discriminative efficiency (Moodle's 100 x a correlation)
    as coefficients (`discrimination`, `discrimination_low` / `_high` its 95 % interval,
    `efficiency`), its weights (percent) as shares (0..1)."""
    return query(
        """SELECT i.question_order, q.prompt, i.flag, i.n, i.facility_index, i.ci_low,
                  i.ci_high, i.discrimination_index / 100 AS discrimination,
                  i.discrimination_ci_low / 100 AS discrimination_low,
                  i.discrimination_ci_high / 100 AS discrimination_high,
                  i.discriminative_efficiency / 100 AS efficiency,
                  i.effective_weight / 100 AS effective_weight,
                  i.intended_weight / 100 AS intended_weight, i.random_guess_score,
                  i.median_seconds, i.rapid_guess_rate, i.question_id
        FROM marts.quiz_item_stats i
        LEFT JOIN marts.quiz_questions q USING (quiz_id, question_id)
        WHERE i.quiz_id = $quiz AND i.attempt_set = $set ORDER BY i.question_order""",
        quiz=quiz_id,
        set=attempt_set,
    )


def option_stats(quiz_id: int, attempt_set: str) -> pd.DataFrame:
    return query(
        """SELECT s.question_id, s.option_order, o.label, s.is_correct, s.chosen_count,
                  s.chosen_rate, s.point_biserial, s.attractive
        FROM marts.quiz_option_stats s
        LEFT JOIN marts.quiz_options o USING (quiz_id, question_id, option_id)
        WHERE s.quiz_id = $quiz AND s.attempt_set = $set
        ORDER BY s.question_id, s.option_order""",
        quiz=quiz_id,
        set=attempt_set,
    )


def quiz_scores(scope: Scope, quiz_id: int) -> pd.DataFrame:
    """Graded attempts of the students in scope in the date range (their scores, 0..1)."""
    where, params = scope.where()
    return query(
        f"""SELECT student, attempt_number, score, submitted_at FROM marts.quiz_attempts
        WHERE quiz_id = $quiz AND {where}
          AND submitted_at >= $start_ts AND submitted_at < $end_ts
        ORDER BY submitted_at""",
        quiz=quiz_id,
        **params,
        **_only(scope.window, "start_ts", "end_ts"),
    )


# --- at risk, enrollments, revenue ------------------------------------------------------


def at_risk(scope: Scope) -> pd.DataFrame:
    where, params = scope.where()
    return query(
        f"""SELECT student, track, trainer, risk_score, reasons,
                   greatest(last_workspace_activity_at, last_step_at) AS last_activity_at,
                   days_inactive, overdue_deliverables, recent_quiz_score,
                   last_workspace_activity_at, last_step_at
        FROM marts.at_risk_students WHERE {where}
        ORDER BY risk_score DESC, student""",
        **params,
    )


def at_risk_backtest(scope: Scope) -> pd.DataFrame:
    """How often the at-risk list was right, per track in scope (the tracks of the trainer's
    students; marts.at_risk_backtest at the minimum risk score in use): the newest cutoff (a
    horizon ago) and all cutoffs pooled. Empty when the mart is not published yet."""
    where, params = scope.where()
    if not _has_mart("at_risk_backtest"):
        return pd.DataFrame()
    return query(
        f"""
        WITH used AS (
            SELECT * FROM marts.at_risk_backtest
            WHERE in_use AND track IN (SELECT track FROM marts.enrollments WHERE {where})
        )
        SELECT n.track, n.as_of, n.enrollments, n.flagged, n.positives, n.true_positives,
               n.precision, n.recall, n.base_rate, n.lift, n.horizon_days, n.quiet_days,
               n.min_risk_score, p.cutoffs,
               p.true_positives / nullif(p.flagged, 0) AS pooled_precision,
               p.true_positives / nullif(p.positives, 0) AS pooled_recall
        FROM used n
        JOIN (SELECT track, max(as_of) AS as_of, count(*) AS cutoffs,
                     sum(flagged) AS flagged, sum(positives) AS positives,
                     sum(true_positives) AS true_positives
              FROM used GROUP BY 1) p USING (track, as_of)
        ORDER BY n.track""",
        **params,
    )


def _has_mart(name: str) -> bool:
    """Whether the published file has this mart (one added after the file was published)."""
    found = query(
        "SELECT count(*) AS n FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'marts' AND table_name = $name",
        name=name,
    )
    return bool(found["n"].iloc[0])


def enrollments(scope: Scope) -> pd.DataFrame:
    where, params = scope.where()
    return query(
        f"""SELECT student, track, track_name, status, source, trainer, enrolled_at
        FROM marts.enrollments WHERE {where} ORDER BY track, student""",
        **params,
    )


def revenue(scope: Scope) -> pd.DataFrame:
    """Payments and refunds per track and month whose month overlaps the date range."""
    clause, params = scope.tracks_only().where()
    return query(
        f"""SELECT track, month, currency, payments, amount, refunds, refunded_amount,
                   net_amount, pending, failed
        FROM marts.revenue
        WHERE {clause} AND month BETWEEN date_trunc('month', $start_day) AND $end_day
        ORDER BY month, track, currency""",
        **params,
        **_only(scope.window, "start_day", "end_day"),
    )


# --- attendance -------------------------------------------------------------------------

# Absent first: the students to follow up.
STATUS_ORDER = ("absent", "late", "present", "upcoming")


def has_attendance() -> bool:
    """Whether the published file has marts.session_attendance (a pipeline older than the
    page published it)."""
    return _has_mart("session_attendance")


def sessions(scope: Scope) -> pd.DataFrame:
    """Class sessions that expect a student in scope, those starting in the dates picked and
    any running or still to come, by start; per status, how many of those students."""
    where, params = scope.where()
    counts = ",\n".join(
        f"CAST(count(*) FILTER (WHERE status = '{status}') AS INTEGER) AS {status}"
        for status in STATUS_ORDER
    )
    return query(
        f"""
        SELECT session_id, any_value(title) AS title, any_value(track) AS track,
               any_value(starts_at) AS starts_at, any_value(ends_at) AS ends_at,
               any_value(session_status) AS session_status,
               any_value(scheduled_by) AS scheduled_by,
               any_value(late_after_minutes) AS late_after_minutes,
               CAST(count(*) AS INTEGER) AS expected,
               {counts}
        FROM marts.session_attendance
        WHERE {where}
          AND ((starts_at >= $start_ts AND starts_at < $end_ts) OR session_status <> 'ended')
        GROUP BY session_id
        ORDER BY starts_at, session_id
        """,
        **params,
        **_only(scope.window, "start_ts", "end_ts"),
    )


def default_session(listed: pd.DataFrame) -> int:
    """The session a trainer most likely wants (`listed` from `sessions()`): the one running,
    else the last one that ended, else the next one."""
    for status, pick in (("in_progress", 0), ("ended", -1), ("scheduled", 0)):
        found = listed[listed["session_status"] == status]
        if not found.empty:
            return int(found["session_id"].iloc[pick])
    return int(listed["session_id"].iloc[0])


def session_roster(scope: Scope, session_id: int) -> pd.DataFrame:
    """The students in scope one session expects, absent first: when they were first seen
    and how many minutes after the start (rounded up: present is at most the threshold)."""
    where, params = scope.where()
    return query(
        f"""
        SELECT student, track, trainer, status, first_seen_at,
               CAST(ceil((epoch_ms(first_seen_at) - epoch_ms(starts_at)) / 60000.0)
                    AS INTEGER) AS minutes_after_start,
               source
        FROM marts.session_attendance
        WHERE session_id = $session AND {where}
        ORDER BY list_position($order, status), student
        """,
        session=session_id,
        order=list(STATUS_ORDER),
        **params,
    )


def attendance_rates(scope: Scope) -> pd.DataFrame:
    """Per student in scope and track: the sessions in the dates picked that have ended and
    expected them, how many they came to (on time or late), and that share; lowest first."""
    where, params = scope.where()
    return query(
        f"""
        SELECT student, track, any_value(trainer) AS trainer,
               CAST(count(*) AS INTEGER) AS sessions,
               CAST(count(*) FILTER (WHERE status = 'present') AS INTEGER) AS present,
               CAST(count(*) FILTER (WHERE status = 'late') AS INTEGER) AS late,
               CAST(count(*) FILTER (WHERE status = 'absent') AS INTEGER) AS absent,
               count(*) FILTER (WHERE status IN ('present', 'late')) / count(*)
                   AS attendance_rate
        FROM marts.session_attendance
        WHERE {where} AND session_status = 'ended'
          AND starts_at >= $start_ts AND starts_at < $end_ts
        GROUP BY student, track
        ORDER BY attendance_rate, student, track
        """,
        **params,
        **_only(scope.window, "start_ts", "end_ts"),
    )
