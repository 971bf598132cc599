"""The At-risk page states how often its list was right (marts.at_risk_backtest of the
hand-written warehouse, tests/dashboards/warehouse.py), per track in scope, in words."""

import duckdb

from tests.dashboards.conftest import metrics

DP = (
    "**DP**: of the 4 students flagged 4 weeks ago, 50% have since dropped out (left, or no "
    "activity in the last 2 weeks), against 30% of all 10 students then active; the list "
    "caught 67% of the 3 who dropped out. Over the last 2 weekly cutoffs: 67% right, 80% "
    "caught."
)
FSD = "**FSD**: nobody was flagged 4 weeks ago; 1 of the 5 students then active dropped out since."


def texts(app) -> list[str]:
    return [m.value for m in app.markdown]


def page_text(app) -> str:
    parts = [*texts(app), *(c.value for c in app.caption), *(e.value for e in app.info)]
    return "\n".join(str(p) for p in parts)


def test_the_page_states_its_measured_precision_and_recall_per_track(dashboard):
    app = dashboard("office", "at_risk")
    assert [t for t in texts(app) if t.startswith("**")] == [DP, FSD]
    assert "risk score of at least 0.35" in page_text(app)
    assert "None" not in page_text(app) and "nan" not in page_text(app)
    assert metrics(app) == {"Students at risk": ("1", None)}


def test_a_trainer_reads_the_tracks_of_their_students(dashboard):
    tess = dashboard("tess", "at_risk")  # ada and bob, both in DP
    assert [t for t in texts(tess) if t.startswith("**")] == [DP]


def test_the_track_filter_narrows_the_backtest(dashboard):
    app = dashboard("office", "at_risk")
    app.multiselect(key="f_tracks").select("FSD").run()
    assert [t for t in texts(app) if t.startswith("**")] == [FSD]


def test_a_warehouse_without_the_backtest_says_so(dashboard, published):
    with duckdb.connect(str(published)) as db:
        db.execute("DROP TABLE marts.at_risk_backtest")
    app = dashboard("office", "at_risk")
    assert "not yet run" in app.info[0].value
    assert metrics(app) == {"Students at risk": ("1", None)}
