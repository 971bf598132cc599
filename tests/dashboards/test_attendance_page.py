"""The Attendance page over the hand-written warehouse (tests/dashboards/warehouse.py): the
sessions a viewer may see, one session's counts and students, and attendance per student."""

from datetime import date

import duckdb
import pandas as pd

from tests.dashboards.conftest import metrics

PORTAL = "/services/lms-api/portal"
SESSIONS = {
    101: "2026-03-10 09:00 · SQL joins · DP · ended",
    103: "2026-03-12 14:00 · HTTP · FSD · ended",
    102: "2026-03-13 09:00 · Window functions · DP · ended",
    104: "2026-03-15 11:30 · Modelling · DP · in progress",
    105: "2026-03-17 09:00 · Review · DP · upcoming",
}


def options(app) -> list[str]:
    return app.selectbox(key="attendance_session").options


def roster(app) -> list[tuple]:
    frame = app.dataframe[0].value
    return [
        (
            row.student,
            row.status,
            None if pd.isna(row.first_seen_at) else pd.Timestamp(row.first_seen_at),
            None if pd.isna(row.minutes_after_start) else int(row.minutes_after_start),
            row.source,
        )
        for row in frame.itertuples()
    ]


def at(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def test_it_opens_on_the_session_running_with_its_counts_and_students(dashboard):
    app = dashboard("office", "attendance")
    assert app.title[0].value == "Attendance"
    # The dates (02-16..03-15) leave the kick-off of 02-01 out; upcoming sessions stay in.
    assert options(app) == list(SESSIONS.values())
    assert app.selectbox(key="attendance_session").value == 104
    assert metrics(app) == {
        "Expected": ("2", None),
        "Present": ("1", None),
        "Late": ("0", None),
        "Absent": ("1", None),
    }
    assert "In progress: absent means not seen so far." in [c.value for c in app.caption]
    assert roster(app) == [  # absent first
        ("bob", "absent", None, None, "none"),
        ("ada", "present", at("2026-03-15 11:31"), 1, "workspace"),
    ]
    links = [m.value for m in app.markdown if "in the workbench" in m.value]
    assert links == [f"[Open this session in the workbench]({PORTAL}/sessions/104)"]
    assert any("at most 10 minutes after the start" in c.value for c in app.caption)


def test_an_ended_and_an_upcoming_session(dashboard):
    app = dashboard("office", "attendance")
    app.selectbox(key="attendance_session").select(101).run()
    assert metrics(app) == {
        "Expected": ("2", None),
        "Present": ("1", None),
        "Late": ("1", None),
        "Absent": ("0", None),
    }
    assert roster(app) == [
        ("bob", "late", at("2026-03-10 09:25"), 25, "lms"),
        ("ada", "present", at("2026-03-10 09:02"), 2, "workspace"),
    ]
    app.selectbox(key="attendance_session").select(105).run()
    assert metrics(app) == {"Expected": ("2", None)}
    assert "Starts 2026-03-17 09:00 UTC: attendance counts from then." in [
        c.value for c in app.caption
    ]
    assert [row[1] for row in roster(app)] == ["upcoming", "upcoming"]


def test_attendance_per_student_over_the_sessions_that_ended_in_the_dates(dashboard):
    app = dashboard("office", "attendance")
    rates = app.dataframe[1].value
    # ada: 03-10 present, 03-13 absent; bob: late, then present; carl: late. The running
    # session (03-15) does not count yet, the kick-off (02-01) is before the dates.
    assert rates[["student", "sessions", "present", "late", "absent"]].values.tolist() == [
        ["ada", 2, 1, 0, 1],
        ["bob", 2, 1, 1, 0],
        ["carl", 1, 0, 1, 0],
    ]
    assert rates["attendance_rate"].tolist() == [50, 100, 100]  # shown as percents


def test_a_trainer_sees_the_sessions_and_students_of_their_own_students(dashboard):
    tess = dashboard("tess", "attendance")
    assert options(tess) == [SESSIONS[i] for i in (101, 102, 104, 105)]
    tess.selectbox(key="attendance_session").select(102).run()  # office's, for the track
    assert [row[0] for row in roster(tess)] == ["ada", "bob"]
    assert tess.dataframe[1].value["student"].tolist() == ["ada", "bob"]
    tom = dashboard("tom", "attendance")
    assert options(tom) == [SESSIONS[103]]
    assert roster(tom) == [("carl", "late", at("2026-03-12 14:30"), 30, "workspace")]
    assert tom.dataframe[1].value["student"].tolist() == ["carl"]


def test_the_trainer_track_and_date_filters_choose_the_sessions(dashboard):
    app = dashboard("office", "attendance")
    app.selectbox(key="f_trainer").select("tom").run()
    assert options(app) == [SESSIONS[103]]
    app.selectbox(key="f_trainer").select("All trainers").run()
    app.date_input(key="f_dates").set_value((date(2026, 2, 1), date(2026, 2, 2))).run()
    assert options(app) == [
        "2026-02-01 09:00 · Kick-off · DP · ended",
        SESSIONS[104],
        SESSIONS[105],
    ]


def test_no_session_in_scope_is_said(dashboard):
    app = dashboard("tom", "attendance")
    app.multiselect(key="f_tracks").select("DP").run()  # none of tom's students is in DP
    assert "No class session of your students" in app.info[0].value
    assert not app.dataframe and not app.metric


def test_a_school_without_sessions_is_said(dashboard, published):
    with duckdb.connect(str(published)) as db:
        db.execute("DELETE FROM marts.session_attendance")
    app = dashboard("office", "attendance")
    assert "No class session of your students" in app.info[0].value
    assert not app.dataframe


def test_marts_published_before_attendance_are_explained(dashboard, published):
    with duckdb.connect(str(published)) as db:
        db.execute("DROP TABLE marts.session_attendance")
    app = dashboard("office", "attendance")
    assert "appears with the pipeline's next run" in app.info[0].value
