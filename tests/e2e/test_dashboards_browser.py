"""The trainer dashboards in a real browser (Debian's Chromium), logged in through the hub.

Screenshots of every page are kept in test-artifacts/screenshots/ for a human to look at.
"""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require

pytestmark = pytest.mark.e2e

CHROMIUM = os.environ.get("APRANOVA_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PAGES = {
    "overview": "Overview",
    "cohort_progress": "Cohort progress",
    "quiz_quality": "Quiz quality",
    "at_risk": "At-risk students",
    "workspace_usage": "Workspace usage",
    "enrollments": "Enrollments",
}


@pytest.fixture(scope="module")
def chromium() -> Iterator:
    if not shutil.which(CHROMIUM):
        require(f"Chromium at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def logged_in(chromium, platform, username: str):
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(f"{platform.url}/hub/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", platform.passwords[username])
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_url("**/hub/**")
    return context, page


def settled(page, title: str) -> None:
    """Wait until Streamlit has drawn the page's title and finished running the script."""
    page.get_by_role("heading", name=title, level=1).wait_for(timeout=60_000)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000
    )
    page.wait_for_timeout(500)  # charts draw after the script ends


def test_trainer_reads_every_page(chromium, platform):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page = logged_in(chromium, platform, "trainer")
    try:
        for path, title in PAGES.items():
            response = page.goto(f"{platform.url}/services/dashboards/{path}")
            assert response.status == 200, path
            settled(page, title)
            page.screenshot(path=str(SHOTS / f"trainer-{path}.png"), full_page=True)
            assert page.locator("[data-testid=stException]").count() == 0, path
            assert "Signed in through the hub as" in page.inner_text("section")
            assert "Marts last refreshed" in page.inner_text("body")
        # Navigation lists the trainer's pages, not the admins' revenue page.
        nav = page.locator("[data-testid=stSidebarNav]").inner_text()
        assert all(title in nav for title in PAGES.values())
        assert "Revenue" not in nav
        page.goto(f"{platform.url}/services/dashboards/overview")
        settled(page, "Overview")
        metrics = page.locator("[data-testid=stMetricLabel]").all_inner_texts()
        assert "Active students (7 days)" in metrics and "Students at risk" in metrics
    finally:
        context.close()


def test_admin_sees_revenue(chromium, platform):
    context, page = logged_in(chromium, platform, "office")
    try:
        page.goto(f"{platform.url}/services/dashboards/revenue")
        settled(page, "Revenue")
        page.screenshot(path=str(SHOTS / "admin-revenue.png"), full_page=True)
        assert page.locator("[data-testid=stException]").count() == 0
    finally:
        context.close()


def test_student_is_refused(chromium, platform):
    context, page = logged_in(chromium, platform, "ada")
    try:
        response = page.goto(f"{platform.url}/services/dashboards/overview")
        assert response.status == 403
        assert "may not open this page" in page.inner_text("body")
        page.screenshot(path=str(SHOTS / "student-refused.png"))
    finally:
        context.close()
