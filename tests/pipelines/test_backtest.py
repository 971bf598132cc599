"""The at-risk backtest (marts.at_risk_backtest) on a seeded synthetic school, through the real
pipeline: it finds the dropout paths the school planted (lms_api/synthetic/school.py) and the
default list is short and right far more often than chance.

One school and one pipeline run for the module; every test only reads.
"""

from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from lms_api.migrate import upgrade
from lms_api.synthetic import seed_synthetic
from pipelines.assets.backtest import cutoffs
from pipelines.resources import Warehouse
from pipelines.settings import AnalyticsSettings
from tests.pipelines.conftest import Pipeline

pytestmark = pytest.mark.slow

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
DEFAULTS = AnalyticsSettings()


@pytest.fixture(scope="module")
def backtest(tmp_path_factory):
    folder = tmp_path_factory.mktemp("backtest")
    url = f"sqlite:///{folder / 'lms.db'}"
    warehouse = folder / "warehouse" / "warehouse.duckdb"
    upgrade(url)
    # 120 days of history: the four weekly cutoffs (4 to 7 weeks ago) fall in a school that
    # has been running for a while, not in its first weeks.
    summary = seed_synthetic(
        url,
        students=800,
        quizzes=3,
        seed=5,
        days=120,
        now=NOW,
        activity_dir=Warehouse(path=str(warehouse)).landing_dir,
    )
    # The shipped default (the tiny school's fixture lowers it to see every sign).
    pipeline = Pipeline(
        url, warehouse, as_of=NOW.isoformat(), min_risk_score=DEFAULTS.min_risk_score
    )
    pipeline.run()
    with duckdb.connect(str(Warehouse(path=str(warehouse)).build_path), read_only=True) as db:
        db.execute("SET TimeZone = 'UTC'")
        db.register("planted", summary.learners)
        # Each backtested enrollment and cutoff with the path the school planted for it.
        cursor = db.execute(
            """
            SELECT s.as_of, s.student, s.track, s.risk_score, s.left_course, s.went_quiet,
                   p.path, p.stopped, p.fade_start, p.pause_start, p.pause_end
            FROM staging.at_risk_backtest_students s
            JOIN planted p ON p.username = s.student AND p.track = s.track
            """
        )
        names = [d[0] for d in cursor.description]
        verdicts = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return pipeline, verdicts


def pooled(pipeline, where: str = "in_use") -> dict:
    [row] = pipeline.rows(
        "SELECT sum(enrollments), sum(flagged), sum(positives), sum(true_positives)"
        f" FROM marts.at_risk_backtest WHERE {where}"
    )
    n, flagged, positives, hits = row
    return {
        "share": flagged / n,
        "precision": hits / flagged,
        "recall": hits / positives,
        "base_rate": positives / n,
    }


def test_the_backtest_covers_every_track_and_weekly_cutoff(backtest):
    pipeline, _ = backtest
    expected = cutoffs(NOW.replace(tzinfo=None), 28, 4)
    rows = pipeline.rows(
        "SELECT track, as_of, min_risk_score, in_use, horizon_days, inactive_days"
        " FROM marts.at_risk_backtest WHERE in_use ORDER BY track, as_of DESC"
    )
    assert {r[0] for r in rows} == {"DP", "FSD", "DE"}
    for track in ("DP", "FSD", "DE"):
        assert [r[1] for r in rows if r[0] == track] == expected
    assert {(r[2], r[4], r[5]) for r in rows} == {(DEFAULTS.min_risk_score, 28, 7)}


def test_faders_are_caught_before_they_stop(backtest):
    """Students the school made fade out, halfway through their fade at the cutoff and gone
    within the horizon: the default list named most of them."""
    _, verdicts = backtest

    def halfway(v):
        fade, stop = v["fade_start"].replace(tzinfo=None), v["stopped"].replace(tzinfo=None)
        return fade + (stop - fade) / 2 <= v["as_of"]

    fading = [
        v
        for v in verdicts
        if v["path"] == "fader"
        and halfway(v)
        and v["stopped"].replace(tzinfo=None) <= v["as_of"] + timedelta(days=28)
    ]
    assert len(fading) >= 30
    # the outcome the backtest computed agrees with what was planted
    assert sum(v["went_quiet"] or v["left_course"] for v in fading) / len(fading) > 0.9
    caught = [v for v in fading if (v["risk_score"] or 0) >= DEFAULTS.min_risk_score]
    assert len(caught) / len(fading) >= 0.55


def test_steady_students_are_rarely_flagged_and_returners_are_the_false_alarms(backtest):
    _, verdicts = backtest
    everyone = verdicts

    def flagged(v):
        return (v["risk_score"] or 0) >= DEFAULTS.min_risk_score

    steady = [v for v in everyone if v["path"] == "steady" and not v["left_course"]]
    assert len(steady) > 200
    assert sum(flagged(v) for v in steady) / len(steady) < 0.1
    # a returner in the middle of the break at the cutoff looks gone, and comes back
    on_break = [
        v
        for v in everyone
        if v["path"] == "returner"
        and v["pause_start"].replace(tzinfo=None) + timedelta(days=7) <= v["as_of"]
        and v["pause_end"].replace(tzinfo=None) > v["as_of"]
    ]
    assert on_break and all(not v["went_quiet"] for v in on_break)
    assert sum(flagged(v) for v in on_break) / len(on_break) > 0.3


def test_the_default_list_is_short_and_right_well_above_chance(backtest):
    pipeline, _ = backtest
    default = pooled(pipeline)
    anyone = pooled(pipeline, "min_risk_score = 0")  # every student with any sign
    assert default["share"] < 0.2 < anyone["share"]
    assert default["precision"] >= 0.5
    assert default["precision"] / default["base_rate"] >= 2.5
    assert default["recall"] >= 0.25
    assert default["precision"] > anyone["precision"]


def test_per_track_figures_are_consistent(backtest):
    pipeline, _ = backtest
    for precision, recall, base_rate, lift, flagged, positives, hits, n in pipeline.rows(
        "SELECT precision, recall, base_rate, lift, flagged, positives, true_positives,"
        " enrollments FROM marts.at_risk_backtest"
    ):
        assert hits <= min(flagged, positives) and max(flagged, positives) <= n
        if flagged:
            assert precision == pytest.approx(hits / flagged)
        else:
            assert precision is None and lift is None
        if positives:
            assert recall == pytest.approx(hits / positives)
            assert lift is None or lift == pytest.approx(precision / base_rate)
