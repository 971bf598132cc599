"""The pipeline can be run from the Dagster UI (its GraphQL API), through the hub."""

import time
from pathlib import Path

import duckdb
import pytest

from tests.e2e.test_workspace import wait_for_server

pytestmark = pytest.mark.e2e

LAUNCH = """
mutation Launch($selector: JobOrPipelineSelector!) {
  launchRun(executionParams: {selector: $selector, runConfigData: {}}) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
  }
}
"""
STATUS = "query Status($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"
ASSETS = "{ assetNodes { assetKey { path } } }"


def graphql(browser, platform, query: str, variables: dict | None = None) -> dict:
    response = browser.post(
        "/services/dagster/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Origin": platform.url},  # what a browser sends for a same-origin fetch
    )
    assert response.status_code == 200, response.text[:500]
    return response.json()["data"]


def launch_and_wait(admin, platform, job: str) -> str:
    selector = {
        "repositoryLocationName": "pipelines.definitions",
        "repositoryName": "__repository__",
        "jobName": job,
    }
    launched = graphql(admin, platform, LAUNCH, {"selector": selector})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    deadline, status = time.monotonic() + 120, None
    while time.monotonic() < deadline:
        status = graphql(admin, platform, STATUS, {"id": run_id})["runOrError"]["status"]
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            break
        time.sleep(1)
    assert status == "SUCCESS", platform.log_tail()
    return run_id


def test_the_pipeline_reads_workspace_activity_from_the_real_hub(platform):
    """The dagster service's own hub token (role pipelines-activity) lists running servers;
    the sample lands in the landing folder and in marts.workspace_activity."""
    platform.browser("ada").get("/hub/spawn")  # ada logs in and starts her workspace
    try:
        wait_for_server(platform, "ada", ready=True)
        admin = platform.browser("admin")
        assert admin.get("/services/dagster/").status_code == 200
        launch_and_wait(admin, platform, "collect_workspace_activity")
    finally:
        platform.api("DELETE", "/users/ada/server")
        wait_for_server(platform, "ada", ready=False)
    warehouse = platform.state_dir / "warehouse"
    landed = list((warehouse / "landing" / "hub_activity").glob("hub-*.parquet"))
    assert landed, "no activity sample was written"
    with duckdb.connect(str(warehouse / "warehouse.duckdb"), read_only=True) as db:
        days = db.execute(
            "SELECT day, sessions FROM marts.workspace_activity WHERE student = 'ada'"
        ).fetchall()
        files = ", ".join(f"'{p}'" for p in landed)
        sampled = db.execute(
            f"SELECT DISTINCT CAST(last_activity AT TIME ZONE 'UTC' AS DATE) "
            f"FROM read_parquet([{files}]) WHERE username = 'ada'"
        ).fetchall()
    assert sampled, "ada's running server was not sampled"
    assert {(day, 1) for (day,) in sampled} <= set(days)


def test_admin_materializes_the_marts_from_the_dagster_ui(platform):
    admin = platform.browser("admin")
    assert admin.get("/services/dagster/").status_code == 200  # opens the UI (hub OAuth)
    keys = {"/".join(n["assetKey"]["path"]) for n in graphql(admin, platform, ASSETS)["assetNodes"]}
    assert {"raw/enrollments", "staging/enrollments", "marts/enrollments"} <= keys

    published = Path(platform.state_dir / "warehouse" / "warehouse.duckdb")
    before = published.stat().st_mtime_ns
    launch_and_wait(admin, platform, "refresh_all")
    assert published.stat().st_mtime_ns > before  # a new warehouse was published


def test_cross_site_writes_are_refused(platform):
    admin = platform.browser("admin")
    assert admin.get("/services/dagster/").status_code == 200
    response = admin.post(
        "/services/dagster/graphql",
        json={"query": ASSETS},
        headers={"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403
    assert "assetNodes" not in response.text
