"""The trainer dashboards in a real browser (Debian's Chromium), logged in through the hub.

Screenshots of every page are kept in test-artifacts/screenshots/ for a human to look at.
"""

import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from bench.harness.platform import Platform
from tests.conftest import require
from tests.e2e.portal_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.e2e

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PAGES = {  # url path -> title (the overview is the default page, at the root)
    "": "Overview",
    "cohort_progress": "Cohort progress",
    "quiz_quality": "Quiz quality",
    "flagged_questions": "Flagged questions",
    "at_risk": "At-risk students",
    "workspace_usage": "Workspace usage",
    "enrollments": "Enrollments",
}


def synthetic_school_for_the_demo_trainer(platform: Platform) -> None:
    """120 synthetic students (with quizzes, progress, payments and workspace activity),
    handed to the demo trainer as `make seed-synthetic` does, so every page has numbers."""
    platform.run(
        "-m", "lms_api.cli", "seed-synthetic", "--students", "120", "--quizzes", "3",
        "--trainers", "1", "--hand-over-to", "trainer",
    )  # fmt: skip


@pytest.fixture(scope="module")
def school(tmp_path_factory) -> Iterator[Platform]:
    """A platform of its own: the shared one keeps the demo school only."""
    running = Platform(
        tmp_path_factory.mktemp("school-platform"), prepare=synthetic_school_for_the_demo_trainer
    )
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def chromium() -> Iterator:
    if not shutil.which(CHROMIUM):
        require(f"Chromium at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def logged_in(chromium, school, username: str):
    context = chromium.new_context(viewport={"width": 1400, "height": 2400})
    page = context.new_page()
    page.goto(f"{school.url}/hub/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", school.passwords[username])
    page.click("input[type=submit], button[type=submit]")
    # students land on the portal, staff on the hub's home
    page.wait_for_url(lambda url: "/login" not in url and "oauth" not in url)
    return context, page


def settled(page, title: str) -> None:
    """Wait until Streamlit has drawn the page's title and finished running the script."""
    page.get_by_role("heading", name=title, level=1).wait_for(timeout=60_000)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000
    )
    page.wait_for_timeout(500)  # charts draw after the script ends
    # Streamlit scrolls inside its own container: the tall viewport is the whole page.


def test_trainer_reads_every_page(chromium, school):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page = logged_in(chromium, school, "trainer")
    try:
        for path, title in PAGES.items():
            response = page.goto(f"{school.url}/services/dashboards/{path}")
            assert response.status == 200, path
            settled(page, title)
            page.screenshot(path=str(SHOTS / f"trainer-{path or 'overview'}.png"), full_page=True)
            assert page.locator("[data-testid=stException]").count() == 0, path
            assert page.get_by_text("Page not found").count() == 0, path
            assert "Signed in through the hub as" in page.inner_text("section")
            assert "Marts last refreshed" in page.inner_text("body")
        # Navigation lists the trainer's pages, not the admins' revenue page.
        nav = page.locator("[data-testid=stSidebarNav]").inner_text()
        assert all(title in nav for title in PAGES.values())
        assert "Revenue" not in nav
        page.goto(f"{school.url}/services/dashboards/")
        settled(page, "Overview")
        # On a busy machine the script may start after `settled` saw no status widget yet.
        page.locator("[data-testid=stMetricLabel]", has_text="Students at risk").wait_for(
            timeout=60_000
        )
        # Real numbers: what the browser shows is what the marts say for this trainer.
        shown = dict(
            zip(
                page.locator("[data-testid=stMetricLabel]").all_inner_texts(),
                page.locator("[data-testid=stMetricValue]").all_inner_texts(),
                strict=True,
            )
        )
        with duckdb.connect(
            str(school.state_dir / "warehouse" / "warehouse.duckdb"), read_only=True
        ) as db:
            [(at_risk,)] = db.execute(
                "SELECT count(*) FROM marts.at_risk_students WHERE trainer = 'trainer'"
            ).fetchall()
        assert at_risk > 0
        assert shown["Students at risk"] == str(at_risk)
        assert int(shown["Active students (7 days)"]) > 0
    finally:
        context.close()


def test_admin_sees_revenue(chromium, school):
    context, page = logged_in(chromium, school, "office")
    try:
        page.goto(f"{school.url}/services/dashboards/revenue")
        settled(page, "Revenue")
        page.screenshot(path=str(SHOTS / "admin-revenue.png"), full_page=True)
        assert page.locator("[data-testid=stException]").count() == 0
    finally:
        context.close()


def test_student_is_refused(chromium, school):
    context, page = logged_in(chromium, school, "ada")
    try:
        response = page.goto(f"{school.url}/services/dashboards/")
        # The hub itself refuses: students hold no access:services!service=dashboards.
        assert response.status == 403
        assert "do not have permission to access JupyterHub service dashboards" in page.inner_text(
            "body"
        )
        assert page.locator("[data-testid=stApp]").count() == 0
        page.screenshot(path=str(SHOTS / "student-refused.png"))
    finally:
        context.close()
