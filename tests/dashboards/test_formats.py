"""How the trainers' pages read (issue 17, defects 5 and 6, the workspace heatmap): dates on
time axes, neutral "no change", no "None", one format per quantity, the funnel's default track
and the least active students. Over the hand-written warehouse, plus rows a test adds."""

import json
from datetime import date, timedelta

import duckdb
import pandas as pd
import pytest
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.proto.Metric_pb2 import Metric

from tests.dashboards.conftest import metrics

GREEN, RED, GRAY = Metric.MetricColor.GREEN, Metric.MetricColor.RED, Metric.MetricColor.GRAY
UP, DOWN, NO_ARROW = (
    Metric.MetricDirection.UP,
    Metric.MetricDirection.DOWN,
    Metric.MetricDirection.NONE,
)
MY_PAGES = (
    "overview",
    "cohort_progress",
    "workspace_usage",
    "attendance",
    "enrollments",
    "revenue",
)


def charts(app) -> list[dict]:
    """The Vega-Lite specs of the page's charts, in page order."""
    return [json.loads(e.proto.spec) for e in app.get("vega_lite_chart")]


def chart_data(app, title: str) -> pd.DataFrame:
    """The rows the chart titled `title` draws (Streamlit ships them beside the spec)."""
    [element] = [
        e for e in app.get("vega_lite_chart") if json.loads(e.proto.spec)["title"] == title
    ]
    [dataset] = element.proto.datasets
    return convert_arrow_bytes_to_pandas_df(dataset.data.data)


def column_formats(table) -> dict[str, str | None]:
    """{column: display format} of a dataframe element's column config."""
    config = json.loads(table.proto.columns or "{}")
    return {
        name.removeprefix("col:name:"): (column.get("type_config") or {}).get("format")
        for name, column in config.items()
    }


def signs(app) -> dict[str, tuple]:
    """{label: (delta, colour, arrow)} of the page's metrics."""
    return {m.label: (m.proto.delta, m.proto.color, m.proto.direction) for m in app.metric}


def add(warehouse, sql: str) -> None:
    """More rows in the published test warehouse (before the app opens it)."""
    with duckdb.connect(str(warehouse)) as db:
        db.execute(sql)


# --- overview: the change against last week ----------------------------------------------


def test_change_colour_follows_better_when_and_no_change_is_neutral(dashboard):
    app = dashboard("office")
    shown = signs(app)
    assert shown["Active students (7 days)"] == ("+2 vs last week", GREEN, UP)  # more: better
    assert shown["Average quiz score"] == ("-10 pts vs last week", RED, DOWN)  # lower: worse
    assert shown["Students at risk"] == ("-1 vs last week", GREEN, DOWN)  # fewer: better
    app.multiselect(key="f_tracks").select("FSD").run()
    shown = signs(app)
    # carl at risk both weeks; no FSD hours either week: no arrow, no colour, no "+0"
    assert shown["Students at risk"] == ("no change vs last week", GRAY, NO_ARROW)
    assert shown["Workspace hours (7 days)"] == ("no change vs last week", GRAY, NO_ARROW)
    assert shown["Average quiz score"] == ("", GRAY, NO_ARROW)  # no quiz this week: no delta


# --- time axes ---------------------------------------------------------------------------


def test_a_single_attempt_reads_as_a_date(dashboard):
    """carl has one graded attempt: the time axis spans the dates picked and reads as days
    (a domain of one instant made Vega label milliseconds, ".880")."""
    app = dashboard("office", "cohort_progress")
    app.selectbox(key="drill_student").select(("carl", "FSD")).run()
    [score] = [c for c in charts(app) if c.get("title") == "Quiz scores"]
    x = score["encoding"]["x"]
    # the default 28 days to 03-15, midnight to midnight
    assert x["scale"]["domain"] == ["2026-02-16T00:00:00", "2026-03-16T00:00:00"]
    assert x["axis"]["format"] == "%Y-%m-%d"
    assert x["axis"]["tickCount"] == {"interval": "day", "step": 4}
    [attempt] = chart_data(app, "Quiz scores")["submitted_at"]  # one point, UTC wall time
    assert attempt.startswith("2026-02-20T10:00:00")


def test_daily_hours_and_heatmap_span_the_dates_picked(dashboard):
    app = dashboard("office", "workspace_usage")
    app.date_input(key="f_dates").set_value((date(2026, 3, 14), date(2026, 3, 14))).run()
    for chart in charts(app):  # one day: ada's 30 minutes
        x = chart["encoding"]["x"]
        assert x["scale"]["domain"] == ["2026-03-14T00:00:00", "2026-03-15T00:00:00"], chart
        assert x["axis"]["format"] == "%Y-%m-%d"


# --- missing values ----------------------------------------------------------------------


@pytest.mark.parametrize("page", MY_PAGES)
def test_missing_values_never_read_none(dashboard, page):
    app = dashboard("office", page)
    if page == "cohort_progress":  # bob: no risk score, no workspace activity
        app.selectbox(key="drill_student").select(("bob", "DP")).run()
        assert metrics(app)["Risk"] == ("\u2014", None)
    assert app.dataframe, page
    for table in app.dataframe:  # an empty cell, not Streamlit's default "None"
        assert table.proto.HasField("placeholder"), (page, table.proto.columns)
        assert table.proto.placeholder == ""
    texts = [m.value for m in app.metric] + [m.proto.delta for m in app.metric]
    for kind in ("caption", "markdown", "info", "title", "subheader"):
        texts += [e.value for e in getattr(app, kind)]
    for spec in charts(app):
        texts.append(json.dumps(spec.get("title")))
    assert not [t for t in texts if "None" in t or "nan" in t.split()], page


# --- one format per quantity -------------------------------------------------------------


def test_proportions_read_as_whole_percents_everywhere(dashboard):
    app = dashboard("office", "cohort_progress")
    roster, projects, quizzes = (app.dataframe[i] for i in range(3))
    assert column_formats(roster)["pct_complete"] == "%.0f%%"
    assert roster.value.set_index("student").loc["ada", "pct_complete"] == 75  # 3 of 4
    assert column_formats(projects)["pct_complete"] == "%.0f%%"
    assert projects.value["pct_complete"].tolist() == [100, 50]  # ada's two projects
    assert column_formats(quizzes)["score"] == "%.0f%%"
    assert quizzes.value["score"].tolist() == [80, 100]
    assert metrics(app)["Complete"] == ("75%", None)
    assert column_formats(roster)["risk_score"] == "%.2f"  # a coefficient, like the metric
    [score] = [c for c in charts(app) if c.get("title") == "Quiz scores"]
    assert score["encoding"]["y"]["axis"]["format"] == ".0%"
    assert {t.get("format") for t in score["encoding"]["tooltip"] if t["field"] == "score"} == {
        ".0%"
    }


def test_money_hours_and_days_read_the_same_in_tables_and_metrics(dashboard):
    revenue = dashboard("office", "revenue")
    assert metrics(revenue)["Paid (EUR)"] == ("1,700.00", None)
    formats = column_formats(revenue.dataframe[0])
    assert formats["amount"] == formats["net_amount"] == formats["refunded_amount"] == "%,.2f"
    assert formats["month"] == "YYYY-MM"
    usage = dashboard("office", "workspace_usage")
    assert metrics(usage)["Active hours"] == ("4.8", None)
    formats = column_formats(usage.dataframe[0])
    assert formats["active_hours"] == "%,.1f"
    assert formats["last_day"] == "YYYY-MM-DD"
    [per_day, _] = charts(usage)
    hours = [t for t in per_day["encoding"]["tooltip"] if t["field"] == "active_hours"]
    assert hours[0]["format"] == ",.1f"


# --- defaults ----------------------------------------------------------------------------


def test_funnel_opens_on_the_track_with_most_of_the_viewers_students(published, dashboard):
    # ada also follows "AI", alphabetically before DP, where tess has ada and bob
    add(
        published,
        """
        INSERT INTO marts.enrollments VALUES ('ada', 'AI', 'Machine learning', 'active',
            'admin', '2026-03-01 09:00', '2026-03-01 09:00', 'tess');
        INSERT INTO marts.student_progress VALUES ('ada', 'AI', 9, 0, 1, 0.0, NULL, NULL, 1,
            'Basics', 'tess', 'active');
        INSERT INTO marts.cohort_funnel VALUES ('AI', 9, 91, 1, 1, 0, 1, 'Basics', 1, 'Intro');
        """,
    )
    app = dashboard("tess", "cohort_progress")
    funnel = app.selectbox(key="funnel_track")
    assert funnel.options == ["AI", "DP"]
    assert funnel.value == "DP"
    tom = dashboard("tom", "cohort_progress")  # only FSD (carl, and dan who cancelled)
    assert tom.selectbox(key="funnel_track").value == "FSD"


# --- workspace usage: the least active students -------------------------------------------


def test_heatmap_shows_the_least_active_first(dashboard):
    app = dashboard("office", "workspace_usage")
    [_, heat] = charts(app)
    # active enrollments only (dan cancelled): bob never, carl 45 min, ada 210 min
    assert heat["encoding"]["y"]["scale"]["domain"] == ["bob", "carl", "ada"]
    assert "The 3 least active of 3 students with an active enrollment" in (
        " ".join(c.value for c in app.caption)
    )
    cells = chart_data(app, heat["title"])
    assert len(cells) == 3 * 28  # every day of every row, 0 hours on a day without activity
    assert cells.groupby("student")["active_hours"].sum().to_dict() == {
        "bob": 0,
        "carl": 0.75,
        "ada": 3.5,
    }
    assert metrics(app)["Students with activity"] == ("3", None)  # ada, carl, dan
    table = app.dataframe[0].value
    assert table["student"].tolist() == ["bob", "dan", "carl", "ada"]


def test_heatmap_labels_every_row_whatever_the_count(published, dashboard):
    """63 students with an active enrollment: the 40 least active, each row a fixed step
    with its name (labels never dropped for overlap), and the caption says 40 of 63."""
    rows, days = [], date(2026, 3, 15)
    for n in range(60):
        student = f"student{n:02d}"
        rows.append(
            f"INSERT INTO marts.enrollments VALUES ('{student}', 'DP', 'Data', 'active', "
            f"'admin', '2026-02-01 09:00', '2026-02-01 09:00', 'tess');"
        )
        for d in range(n % 5):
            rows.append(
                f"INSERT INTO marts.workspace_activity VALUES ('{student}', "
                f"'{days - timedelta(days=d)}', {10 + n}, 1);"
            )
    add(published, "\n".join(rows))
    app = dashboard("office", "workspace_usage")
    [_, heat] = charts(app)
    shown = heat["encoding"]["y"]["scale"]["domain"]
    assert len(shown) == 40
    assert shown[:2] == ["bob", "student00"]  # no hours at all, then by name
    hours = app.dataframe[0].value.set_index("student")["active_hours"]
    assert max(hours[shown]) <= min(hours.drop([*shown, "dan"]))  # the least active ones
    assert heat["height"] == {"step": 20}
    assert heat["encoding"]["y"]["axis"]["labelOverlap"] is False
    assert "The 40 least active of 63 students with an active enrollment" in (
        " ".join(c.value for c in app.caption)
    )
