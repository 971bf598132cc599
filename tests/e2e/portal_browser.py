"""Browser tests' helpers: Debian's Chromium under Playwright (also for the dashboards), a login
through the hub, axe-core injected from node_modules, screenshots kept for people to look at."""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("APRANOVA_CHROMIUM", "/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "test-artifacts" / "screenshots" / "portal"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 800}


@pytest.fixture(scope="module")
def chromium() -> Iterator:
    if not shutil.which(CHROMIUM):
        require(f"Chromium at {CHROMIUM} (apt-get install chromium)")
    if not AXE.exists():
        require("axe-core in node_modules (make install)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def log_in(chromium, platform, username: str, viewport=DESKTOP):
    """A new browser that signs in on the hub's login page as a person would."""
    context = chromium.new_context(viewport=viewport)
    page = context.new_page()
    page.goto(f"{platform.url}/hub/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", platform.passwords[username])
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_load_state("networkidle")
    return context, page


def axe_violations(page) -> list[dict]:
    """axe-core's serious and critical violations on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document)")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def check_page(page, name: str) -> None:
    """No serious or critical axe violation, and a screenshot to look at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    violations = axe_violations(page)
    assert not violations, (name, page.url, violations)


def scroll_to(page, selector: str) -> None:
    """Scroll `selector` into view and let two frames draw before the next click.

    Right after a scroll, headless Chromium still hit-tests the out-of-process notebook frame
    (a sandboxed iframe) at its old place, so an immediate click lands in the frame; a person
    never clicks within the same frame as the scroll."""
    page.locator(selector).scroll_into_view_if_needed()
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
