"""Every page over the hand-written warehouse (tests/dashboards/warehouse.py): the numbers
a trainer reads, and how the filters change them."""

from datetime import date

import pandas as pd

from dashboards import data
from tests.dashboards.conftest import metrics


def test_overview_compares_this_week_with_the_last(dashboard):
    app = dashboard("office")
    assert app.title[0].value == "Overview"
    assert metrics(app) == {
        # ada, bob and carl this week; only ada the week before (carl's 03-01 is older)
        "Active students (7 days)": ("3", "+2 vs last week"),
        # (3/4 + 1/4 + 1/2) / 3 now; (2/4 + 0/2) / 2 then (bob enrolled this week)
        "Average completion": ("50%", "+25 pts vs last week"),
        "Average quiz score": ("70%", "-10 pts vs last week"),  # (1.0 + 0.4) / 2 vs 0.8
        "Students at risk": ("1", "-1 vs last week"),
        "Workspace hours (7 days)": ("1.5", "-0.5 vs last week"),  # 90 min vs 120 min
    }


def test_overview_follows_the_trainer_and_track_filters(dashboard):
    app = dashboard("office")
    app.selectbox(key="f_trainer").select("tess").run()
    assert metrics(app)["Active students (7 days)"] == ("2", "+1 vs last week")
    assert metrics(app)["Students at risk"] == ("0", "-1 vs last week")
    app.selectbox(key="f_trainer").select("All trainers").run()
    app.multiselect(key="f_tracks").select("FSD").run()
    assert metrics(app) == {
        "Active students (7 days)": ("1", "+1 vs last week"),
        "Average completion": ("50%", "+50 pts vs last week"),
        "Average quiz score": ("\u2014", None),
        "Students at risk": ("1", "no change vs last week"),
        "Workspace hours (7 days)": ("0.0", "no change vs last week"),
    }


def test_the_refresh_line_says_when(dashboard):
    app = dashboard("tess")
    line = app.caption[0].value
    assert line.startswith("Marts last refreshed 2026-03-15 12:05 UTC (")
    assert "figures as of 2026-03-15 12:00 UTC" in line


def test_cohort_progress_table_and_drill_down(dashboard):
    app = dashboard("office", "cohort_progress")
    roster = app.dataframe[0].value.set_index(["student", "track"])
    assert roster.loc[("ada", "DP"), ["steps_done", "steps_total"]].tolist() == [3, 4]
    assert roster.loc[("carl", "FSD"), "risk_score"] == 0.3
    assert pd.isna(roster.loc[("bob", "DP"), "risk_score"])
    assert metrics(app)["Steps"] == ("3 of 4", None)  # ada, the first student
    app.selectbox(key="drill_student").select(("carl", "FSD")).run()
    assert metrics(app)["Complete"] == ("50%", None)
    assert metrics(app)["Risk"] == ("0.30", None)
    tables = [t.value for t in app.dataframe]
    projects = tables[1]
    assert projects["project_title"].tolist() == ["API"]
    # carl's only quiz (02-20) is inside the default 28 days; nothing submitted
    assert tables[2]["quiz_title"].tolist() == ["HTTP"]
    assert "Nothing submitted yet." in [c.value for c in app.caption]


def test_drill_down_finds_a_student_by_name(dashboard):
    app = dashboard("office", "cohort_progress")
    app.text_input(key="drill_search").input("AR").run()
    assert app.selectbox(key="drill_student").options == ["carl · FSD"]
    app.text_input(key="drill_search").input("nobody").run()
    assert "No student in scope matches 'nobody'." in [i.value for i in app.info]


def test_drill_down_history_follows_the_dates(dashboard):
    app = dashboard("office", "cohort_progress")
    app.date_input(key="f_dates").set_value((date(2026, 3, 10), date(2026, 3, 15))).run()
    quizzes = app.dataframe[2].value  # ada: only the attempt of 03-11 (shown as a percent)
    assert quizzes["score"].tolist() == [100]
    submissions = app.dataframe[3].value
    assert submissions["deliverable"].tolist() == ["ETL notebook"]


def test_funnel_counts_the_students_in_scope(published):
    everyone = data.Scope(start=date(2026, 2, 16), end=date(2026, 3, 15))
    frame = data.funnel(everyone, "DP")
    # Recomputed for a scope, it agrees with the mart for everyone.
    assert frame["students_reached"].tolist() == [2, 2, 1, 1]
    assert frame["students_completed"].tolist() == [2, 1, 1, 0]
    nobody = data.Scope(start=everyone.start, end=everyone.end, trainer="tom")
    assert data.funnel(nobody, "DP")["students_reached"].tolist() == [0, 0, 0, 0]


def test_quiz_quality_per_attempt_set(dashboard):
    app = dashboard("office", "quiz_quality")
    assert app.selectbox(key="quiz").value == 100
    assert metrics(app)["Attempts"] == ("3", None)
    items = app.dataframe[0].value
    assert items["prompt"].tolist() == [
        "What does SELECT do?",
        "Which join keeps every row of the left table?",
    ]
    assert items["flag"].tolist()[1] == "negative discrimination"
    assert any(c.value.startswith("1 of 2 questions flagged.") for c in app.caption)
    app.radio(key="attempt_set").set_value("first").run()
    assert metrics(app)["Attempts"] == ("2", None)
    assert app.dataframe[0].value["facility_index"].tolist() == [95, 30]  # shown as percents
    assert any(c.value.startswith("0 of 2 questions flagged.") for c in app.caption)


def test_quiz_quality_distractors_and_scores(dashboard):
    app = dashboard("tess", "quiz_quality")
    app.selectbox(key="question").select(1002).run()
    options = app.dataframe[1].value
    assert options["label"].tolist() == ["INNER", "LEFT OUTER", "CROSS"]
    assert options["chosen_count"].tolist() == [2, 1, 0]
    scores = app.dataframe[2].value  # tess's students, last 28 days
    assert scores["student"].tolist() == ["ada", "ada", "bob"]


def test_quiz_list_follows_the_track_filter(dashboard):
    app = dashboard("office", "quiz_quality")
    assert app.selectbox(key="quiz").options == ["SQL basics · DP · 1 flagged", "HTTP · FSD"]
    app.multiselect(key="f_tracks").select("FSD").run()
    assert app.selectbox(key="quiz").options == ["HTTP · FSD"]
    assert metrics(app)["Attempts"] == ("1", None)


def test_at_risk_lists_reasons_and_trainer(dashboard):
    app = dashboard("office", "at_risk")
    assert metrics(app) == {"Students at risk": ("1", None)}
    row = app.dataframe[0].value.iloc[0]
    assert (row["student"], row["track"], row["trainer"]) == ("carl", "FSD", "tom")
    assert row["reasons"] == "no workspace activity for 14 days"
    assert pd.Timestamp(row["last_activity_at"]) == pd.Timestamp("2026-03-13 10:00")
    tess = dashboard("tess", "at_risk")
    assert metrics(tess) == {"Students at risk": ("0", None)}
    assert "Nobody in scope" in tess.success[0].value


def test_workspace_usage_in_the_date_range(dashboard):
    app = dashboard("office", "workspace_usage")
    # 02-16..03-15: ada 210 min, carl 45, dan 30
    assert metrics(app) == {
        "Active hours": ("4.8", None),
        "Students with activity": ("3", None),
        "Sessions": ("6", None),
    }
    # least active first: bob (active enrollment, no activity), dan 30 min, carl 45, ada 210
    assert app.dataframe[0].value["student"].tolist() == ["bob", "dan", "carl", "ada"]
    app.date_input(key="f_dates").set_value((date(2026, 3, 9), date(2026, 3, 15))).run()
    assert metrics(app)["Active hours"] == ("2.0", None)  # ada 90 + dan 30
    app.selectbox(key="f_trainer").select("tess").run()
    assert metrics(app)["Active hours"] == ("1.5", None)


def test_revenue_by_month_and_track(dashboard):
    app = dashboard("office", "revenue")
    # February and March (the default 28 days); January is out
    assert metrics(app) == {
        "Paid (EUR)": ("1,700.00", None),
        "Refunded (EUR)": ("400.00", None),
        "Net (EUR)": ("1,300.00", None),
        "Pending payments": ("1", None),
    }
    app.multiselect(key="f_tracks").select("FSD").run()
    assert metrics(app)["Paid (EUR)"] == ("500.00", None)


def test_every_table_downloads_as_csv(dashboard):
    app = dashboard("office", "cohort_progress")
    downloads = app.get("download_button")
    assert len(downloads) == len(app.dataframe)
    labels = [d.proto.label for d in downloads]
    assert "Download student progress (CSV)" in labels
