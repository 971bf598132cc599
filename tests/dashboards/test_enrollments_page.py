"""The dashboard page renders the published mart (AppTest, no browser)."""

from pathlib import Path

import pytest
from dagster import materialize
from streamlit.testing.v1 import AppTest

from lms_api.demo import seed_demo
from lms_api.migrate import upgrade
from pipelines.definitions import defs, resources

APP = str(Path(__file__).resolve().parents[2] / "dashboards" / "app.py")


@pytest.fixture
def published_warehouse(tmp_path, monkeypatch) -> Path:
    lms = f"sqlite:///{tmp_path / 'lms.db'}"
    upgrade(lms)
    seed_demo(lms)
    path = tmp_path / "warehouse.duckdb"
    assert materialize(defs.assets, resources=resources(lms, str(path))).success
    monkeypatch.setenv("APRANOVA_WAREHOUSE_PATH", str(path))
    return path


def test_page_shows_the_mart(published_warehouse):
    app = AppTest.from_file(APP, default_timeout=30).run()
    assert not app.exception
    assert app.title[0].value == "Enrollments"
    metrics = {m.label: m.value for m in app.metric}
    assert metrics == {"Students": "2", "Active enrollments": "2", "Tracks": "2"}
    table = app.dataframe[0].value
    assert sorted(zip(table["student"], table["track"], strict=True)) == [
        ("ada", "DP"),
        ("linus", "FSD"),
    ]


def test_page_explains_an_empty_warehouse(tmp_path, monkeypatch):
    monkeypatch.setenv("APRANOVA_WAREHOUSE_PATH", str(tmp_path / "missing.duckdb"))
    app = AppTest.from_file(APP, default_timeout=30).run()
    assert not app.exception
    assert "has not published" in app.info[0].value
    assert not app.metric
