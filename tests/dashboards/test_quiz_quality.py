"""Quiz quality and Flagged questions: what they show, in which format, and which quiz they
open on (AppTest over the hand-written warehouse of tests/dashboards/warehouse.py)."""

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboards import access, charts, ui
from tests.dashboards.conftest import APP, SECRET, metrics

MISSING = "\u2014"


def options_frame() -> pd.DataFrame:
    """Four options as data.option_stats returns them: the key, an attractive distractor
    (chosen more), a plain one, and one nobody chose (no point-biserial, no label)."""
    return pd.DataFrame(
        {
            "question_id": [7] * 4,
            "option_order": [1, 2, 3, 4],
            "label": ["Choice A", "Choice B", "Choice C", None],
            "is_correct": [True, False, False, False],
            "chosen_count": [9, 50, 1, 0],
            "chosen_rate": [0.15, 0.83, 0.02, 0.0],
            "point_biserial": [0.4, -0.3, -0.1, None],
            "attractive": [False, True, False, False],
        }
    )


def dataset(spec: dict) -> list[dict]:
    [rows] = spec["datasets"].values()
    return rows


def test_distractor_chart_gives_every_option_its_own_row_and_bar():
    """The chart had a fixed pixel height, which Streamlit lost when it drew the layers at the
    container's width: every label on one row, no bars. Now a step per option."""
    spec = charts.distractors.__wrapped__(options_frame())
    assert set(spec["height"]) == {"step"}  # px per option, not a fixed total
    bars, text = spec["layer"]
    assert bars["mark"]["type"] == "bar"
    assert bars["encoding"]["y"]["field"] == "option"
    assert bars["encoding"]["x"]["field"] == "chosen_rate"
    rows = dataset(spec)
    assert [r["option"] for r in rows] == ["1. Choice A", "2. Choice B", "3. Choice C", "4."]
    assert bars["encoding"]["y"]["sort"] == [r["option"] for r in rows]
    # the key green, the attractive distractor red, the others grey
    assert [r["kind"] for r in rows] == [
        "correct",
        "attractive distractor",
        "distractor",
        "distractor",
    ]
    scale = bars["encoding"]["color"]["scale"]
    colours = dict(zip(scale["domain"], scale["range"], strict=True))
    assert colours == {
        "correct": charts.CORRECT,
        "distractor": charts.WRONG,
        "attractive distractor": charts.FLAGGED,
    }
    # each bar's label, in the pages' formats, never "None"
    assert [r["shown"] for r in rows] == ["15% (correct)", "83%", "2%", "0%"]
    assert text["encoding"]["text"]["field"] == "shown"


def test_item_scatter_draws_each_discrimination_with_its_interval():
    items = pd.DataFrame(
        {
            "question_order": [1, 2],
            "prompt": ["a", "b"],
            "flag": ["ok", "negative discrimination: check the answer key"],
            "facility_index": [0.8, 0.4],
            "discrimination": [0.45, -0.5],
            "discrimination_low": [0.1, -0.8],
            "discrimination_high": [0.7, -0.1],
        }
    )
    spec = charts.item_scatter.__wrapped__(items)
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert marks == ["rule", "rule", "rule", "circle", "text"]
    interval = spec["layer"][2]["encoding"]
    assert (interval["y"]["field"], interval["y2"]["field"]) == (
        "discrimination_low",
        "discrimination_high",
    )
    assert spec["layer"][3]["encoding"]["y"]["axis"]["format"] == ".2f"


@pytest.fixture
def flags_moved(published):
    """The warehouse with nothing flagged in quiz 100 (first in track order) and a flag in
    quiz 200: the selector must open on 200."""
    with duckdb.connect(str(published)) as db:
        db.execute("UPDATE marts.quiz_item_stats SET flag = 'ok' WHERE quiz_id = 100")
        db.execute("UPDATE marts.quiz_item_stats SET flag = 'too hard' WHERE quiz_id = 200")
    return published


def test_the_quiz_selector_opens_on_the_most_flagged_quiz(flags_moved, dashboard):
    app = dashboard("office", "quiz_quality")
    assert app.selectbox(key="quiz").value == 200
    assert app.selectbox(key="quiz").options == ["HTTP · FSD · 1 flagged", "SQL basics · DP"]


def test_too_few_attempts_is_not_a_flag_to_open_on(dashboard):
    """Quiz 200's only flag is "too few attempts": nothing a trainer can do but wait."""
    app = dashboard("office", "quiz_quality")
    assert app.selectbox(key="quiz").value == 100
    assert app.selectbox(key="quiz").options[1] == "HTTP · FSD"


def test_quiz_quality_formats_one_way_per_quantity_and_never_none(dashboard):
    app = dashboard("office", "quiz_quality")
    shown = metrics(app)
    assert shown["Mean"] == ("73%", None)
    assert shown["Median"] == ("80%", None)
    assert shown["Standard deviation"] == ("31%", None)
    assert shown["Cronbach's alpha"] == ("-0.50", None)
    assert shown["Error ratio"] == ("122%", None)  # sqrt(1 + 0.5): above 100 %, as Moodle
    assert shown["Standard error"] == ("37%", None)
    assert shown["Skewness"] == (MISSING, None)
    items = app.dataframe[0].value
    assert items["discrimination"].tolist() == [0.45, -0.10]
    assert items["effective_weight"].round().tolist() == [45, 55]  # shares shown as percents
    assert items["median_seconds"].tolist() == [24.5, 8]
    assert items["rapid_guess_rate"].round().tolist() == [0, 33]
    app.radio(key="attempt_set").set_value("first").run()
    shown = metrics(app)
    assert shown["Cronbach's alpha"] == (MISSING, None)  # 2 attempts: Moodle needs 3
    assert all("None" not in value for value, _ in shown.values())


def test_flagged_questions_across_all_quizzes(dashboard):
    app = dashboard("tess", "flagged_questions")
    flagged = app.dataframe[0].value
    # quiz 200's "too few attempts" is no flag to act on
    assert flagged[["flag", "quiz", "question_order"]].values.tolist() == [
        ["negative discrimination", "SQL basics", 2]
    ]
    assert flagged["link"].tolist() == ["quiz_quality?quiz=100"]
    assert any("1 questions in 1 quizzes" in c.value for c in app.caption)


def test_a_flagged_question_opens_its_quiz_and_question(flags_moved, dashboard):
    app = dashboard("tess", "flagged_questions")
    assert app.selectbox(key="flagged_open").options == ["Q1 of HTTP (FSD): too hard"]
    app.selectbox(key="flagged_open").select(0).run()  # the first row of the list
    assert not app.exception
    assert app.title[0].value == "Quiz quality"
    assert app.selectbox(key="quiz").value == 200
    assert app.selectbox(key="question").value == 2001
    # the request is used once: the viewer can pick another quiz (AppTest reruns the page it
    # was told to be on, where a browser follows the switch: say it)
    app.switch_page("views/quiz_quality.py")
    app.selectbox(key="quiz").select(100).run()
    assert app.selectbox(key="quiz").value == 100


def test_the_distractor_chart_opens_on_a_flagged_question(dashboard):
    app = dashboard("office", "quiz_quality")
    assert app.selectbox(key="question").value == 1002  # Q2, flagged; Q1 is ok
    assert app.dataframe[1].value["label"].tolist() == ["INNER", "LEFT OUTER", "CROSS"]


def test_a_coefficient_near_zero_has_no_minus_sign():
    """A skewness of -0.001 read "-0.00" on the page."""
    assert ui.coefficient(-0.001) == "0.00"
    assert ui.coefficient(-0.005001) == "-0.01"
    assert ui.coefficient(None) == MISSING


def test_a_link_with_a_quiz_id_opens_that_quiz_once(published, gateway):
    """The Flagged questions table links to quiz_quality?quiz=<id>."""
    gateway({access.USER_HEADER: "tess", access.ROLE_HEADER: "trainer",
             access.SECRET_HEADER: SECRET})  # fmt: skip
    app = AppTest.from_file(APP, default_timeout=30)
    app.query_params["quiz"] = "200"
    app.switch_page("views/quiz_quality.py").run()
    assert not app.exception
    assert app.selectbox(key="quiz").value == 200
    assert "quiz" not in app.query_params  # taken: picking another quiz is not undone
    app.selectbox(key="quiz").select(100).run()
    assert app.selectbox(key="quiz").value == 100
