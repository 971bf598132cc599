"""Every page over marts the real pipeline built (the tiny school of tests/pipelines), and
over a warehouse that does not exist yet."""

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from pipelines.resources import Warehouse
from tests.dashboards.conftest import metrics, open_page
from tests.pipelines.conftest import Pipeline
from tests.pipelines.school import build_school, write_activity

PAGES = (
    "cohort_progress",
    "quiz_quality",
    "at_risk",
    "workspace_usage",
    "attendance",
    "enrollments",
    "revenue",
)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("real-marts")
    school = build_school(f"sqlite:///{folder / 'lms.db'}")
    warehouse = folder / "warehouse" / "warehouse.duckdb"
    write_activity(Warehouse(path=str(warehouse)).landing_dir)
    Pipeline(school.url, warehouse).run()
    return warehouse


@pytest.fixture
def as_viewer(gateway, monkeypatch):
    """`as_viewer(warehouse, user, role, page)`: that page over `warehouse`, as that viewer."""

    def open_as(warehouse, user: str, role: str, page: str | None) -> AppTest:
        monkeypatch.setenv("APRANOVA_WAREHOUSE_PATH", str(warehouse))
        return open_page(gateway, user, role, page, timeout=60)

    return open_as


def marts(warehouse, sql: str):
    with duckdb.connect(str(warehouse), read_only=True) as db:
        return db.execute(sql).fetchall()


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_for_an_admin(built, as_viewer, page):
    app = as_viewer(built, "office", "admin", page)
    assert app.title and not app.error


@pytest.mark.slow
def test_the_overview_agrees_with_the_marts(built, as_viewer):
    app = as_viewer(built, "office", "admin", None)
    [(at_risk,)] = marts(built, "SELECT count(*) FROM marts.at_risk_students")
    assert metrics(app)["Students at risk"][0] == str(at_risk)
    [(week_ago,)] = marts(
        built,
        "SELECT count(*) FROM marts.at_risk_history WHERE as_of = "
        "(SELECT as_of FROM marts._refresh) - INTERVAL 7 DAY",
    )
    change = at_risk - week_ago  # no change reads as such, never "+0" (issue 17)
    expected = f"{change:+d} vs last week" if change else "no change vs last week"
    assert metrics(app)["Students at risk"][1] == expected
    assert "figures as of 2026-06-30 12:00 UTC" in app.caption[0].value


@pytest.mark.slow
def test_the_trainer_sees_the_school_of_their_students(built, as_viewer):
    app = as_viewer(built, "tr", "trainer", "cohort_progress")
    expected = marts(
        built, "SELECT student FROM marts.enrollments WHERE trainer = 'tr' ORDER BY student"
    )
    assert sorted(app.dataframe[0].value["student"]) == [s for (s,) in expected]
    quiz = as_viewer(built, "tr", "trainer", "quiz_quality")
    [(attempts,)] = marts(
        built, "SELECT n_attempts FROM marts.quiz_stats WHERE attempt_set = 'all'"
    )
    assert metrics(quiz)["Attempts"] == (str(attempts), None)


def test_an_unpublished_warehouse_is_explained(tmp_path, as_viewer):
    app = as_viewer(tmp_path / "missing.duckdb", "office", "admin", None)
    assert "has not published" in app.info[0].value
    assert not app.metric
