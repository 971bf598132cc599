"""The trainer dashboards in a real browser (Debian's Chromium), logged in through the hub, on
a platform started as `make up` leaves it: what students and admins do reaches the trainer's
open dashboards within a minute, with no restart of anything.

One platform of its own for the module: the demo school (the demo trainer's numbers are
exact) plus a synthetic school whose trainer fills every page with numbers. Its last test
grants grace an enrollment, which the shared platform's tests rely on her not having.
Screenshots of every page are kept in test-artifacts/screenshots/ for a human to look at.
"""

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance, RunsFilter
from dagster._core.scheduler.instigation import InstigatorType
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from bench.harness.platform import Platform
from lms_api.client import LmsClient
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
    "attendance": "Attendance",
    "enrollments": "Enrollments",
}
FRESH_WITHIN_SECONDS = 60


def synthetic_school(platform: Platform) -> None:
    """120 synthetic students (with quizzes, progress, payments and workspace activity) and
    their trainer, who gets a hub account (`school_trainer`), as `make seed-synthetic` makes
    them: every page has numbers, and the demo trainer's stay the demo school's."""
    platform.run(
        "-m", "lms_api.cli", "seed-synthetic", "--students", "120", "--quizzes", "3",
        "--trainers", "1",
    )  # fmt: skip
    name = platform.run("-c", FIRST_SYNTHETIC_TRAINER).strip()
    out = platform.run("-m", "hub.cli", "add-user", name, "--role", "trainer")
    platform.passwords[name] = out.strip().rsplit(" ", 1)[-1]


FIRST_SYNTHETIC_TRAINER = """
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from lms_api.config import get_settings
from lms_api.database import sync_url
from lms_api.synthetic.handover import first_synthetic_trainer
with Session(create_engine(sync_url(get_settings().database_url))) as session:
    print(first_synthetic_trainer(session))
"""


def school_trainer(platform: Platform) -> str:
    """The synthetic school's trainer (the one account of the platform named like it)."""
    return next(n for n in platform.passwords if n.startswith("trainer") and n != "trainer")


@pytest.fixture(scope="module")
def school(tmp_path_factory) -> Iterator[Platform]:
    running = Platform(tmp_path_factory.mktemp("school-platform"), prepare=synthetic_school)
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


def client(platform: Platform, username: str) -> LmsClient:
    return LmsClient(
        base_url=f"{platform.url}/services/lms-api/api/v1",
        token=platform.new_token(username)[0],
    )


def dagster(platform: Platform) -> DagsterInstance:
    return DagsterInstance.from_config(str(platform.state_dir / "dagster"))


def sensor_ticks(instance: DagsterInstance) -> list:
    states = instance.all_instigator_state(instigator_type=InstigatorType.SENSOR)
    state = next((s for s in states if s.instigator_name == "lms_changes"), None)
    if state is None:
        return []
    return instance.get_ticks(state.instigator_origin_id, state.selector_id)


def metrics(page) -> dict[str, str]:
    """{label: value} of the metrics drawn now (each read from its own metric box)."""
    shown = {}
    for box in page.locator("[data-testid=stMetric]").all():
        label = box.locator("[data-testid=stMetricLabel]").inner_text().strip()
        shown[label] = box.locator("[data-testid=stMetricValue]").inner_text().strip()
    return shown


def read(page, url: str, title: str, wait_ms: int = 60_000) -> dict[str, str]:
    """The page's metrics; {} when none were drawn within `wait_ms` (on a busy machine the
    script may start after `settled` saw no status widget yet)."""
    page.goto(url)
    settled(page, title)
    try:
        page.locator("[data-testid=stMetric]").first.wait_for(timeout=wait_ms)
    except PlaywrightTimeout:
        return {}
    return metrics(page)


def wait_for(page, url: str, title: str, done, started: float) -> tuple[dict[str, str], float]:
    """Reload the page, as a trainer would, until `done(metrics)`; the seconds it took."""
    while True:
        shown = read(page, url, title, wait_ms=10_000)
        waited = time.monotonic() - started
        try:
            finished = done(shown)
        except KeyError:  # a metric not drawn (yet): reload, as a trainer would
            finished = False
        if finished:
            return shown, waited
        assert waited < FRESH_WITHIN_SECONDS, f"still {shown} after {waited:.0f} s"
        time.sleep(2)


def test_a_fresh_platform_runs_the_pipeline_once(school):
    """`make up` publishes with the CLI; the sensor's first ticks must not build it again."""
    instance = dagster(school)
    deadline = time.monotonic() + 120
    while len(sensor_ticks(instance)) < 2:
        assert time.monotonic() < deadline, "the sensor never ticked"
        time.sleep(2)
    # The CLI's run alone; the sensor asked for none (the 5-minute activity schedule may).
    assert instance.get_runs_count(RunsFilter(tags={"dagster/sensor_name": "lms_changes"})) == 0
    assert instance.get_runs_count(RunsFilter(tags={"apranova/refresh": "full"})) == 1
    # And the terminal is not flooded with Dagster's DEBUG events.
    log = school.log_path.read_text(errors="replace")
    assert " - DEBUG - " not in log


def test_trainer_reads_every_page(chromium, school):
    SHOTS.mkdir(parents=True, exist_ok=True)
    trainer = school_trainer(school)
    context, page = logged_in(chromium, school, trainer)
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
                "SELECT count(*) FROM marts.at_risk_students WHERE trainer = ?", [trainer]
            ).fetchall()
        assert at_risk > 0
        assert shown["Students at risk"] == str(at_risk)
        assert int(shown["Active students (7 days)"]) > 0
        # Attendance: the synthetic school's weekly classes, not the empty state. The page
        # opens on the last class that ended (none runs: the next are days ahead), and its
        # counts are the mart's for this trainer's students.
        page.goto(f"{school.url}/services/dashboards/attendance")
        settled(page, "Attendance")
        page.locator("[data-testid=stMetricLabel]", has_text="Absent").wait_for(timeout=60_000)
        shown = metrics(page)
        with duckdb.connect(
            str(school.state_dir / "warehouse" / "warehouse.duckdb"), read_only=True
        ) as db:
            [(expected, present, late, absent)] = db.execute(
                "SELECT count(*), count(*) FILTER (WHERE status = 'present'), "
                "count(*) FILTER (WHERE status = 'late'), "
                "count(*) FILTER (WHERE status = 'absent') "
                "FROM marts.session_attendance WHERE trainer = ? AND session_id = ("
                "  SELECT session_id FROM marts.session_attendance"
                "  WHERE trainer = ? AND session_status = 'ended'"
                "  ORDER BY starts_at DESC, session_id DESC LIMIT 1)",
                [trainer, trainer],
            ).fetchall()
            [(came,)] = db.execute(
                "SELECT count(*) FROM marts.session_attendance WHERE trainer = ? "
                "AND session_status = 'ended' AND status IN ('present', 'late')",
                [trainer],
            ).fetchall()
        assert expected > 0 and came > 0
        assert {name: shown[name] for name in ("Expected", "Present", "Late", "Absent")} == {
            "Expected": str(expected),
            "Present": str(present),
            "Late": str(late),
            "Absent": str(absent),
        }
        assert "No class session of your students" not in page.inner_text("section")
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


def test_students_actions_reach_the_trainers_dashboard_within_a_minute(school, chromium):
    context, page = logged_in(chromium, school, "trainer")
    enrollments = f"{school.url}/services/dashboards/enrollments"
    overview = f"{school.url}/services/dashboards/"
    try:
        before = read(page, enrollments, "Enrollments")
        assert (before["Students"], before["Active enrollments"]) == ("2", "2")
        before_overview = read(page, overview, "Overview")

        # grace has logged in once (the hub knows her); an admin grants her the DP track and
        # makes her the trainer's student.
        school.browser("grace").close()
        office = client(school, "office")
        office.grant("grace", "DP", reason="end-to-end test")
        office.assign_trainer("grace", "trainer")
        started = time.monotonic()
        after, waited = wait_for(
            page, enrollments, "Enrollments", lambda m: m["Students"] == "3", started
        )
        assert after["Active enrollments"] == "3"
        print(f"enrollment and assignment on the dashboard after {waited:.0f} s")

        # ada marks a step done and hands in the demo quiz.
        ada = client(school, "ada")
        step = ada.project(ada.track("DP").projects[0].id).steps[0]
        ada.mark_step_done(step.id)
        quiz = next(q for q in ada.quizzes().results if q.track == "DP")
        attempt = ada.start_quiz(quiz.id)
        for question in attempt.questions:
            ada.answer(attempt.id, question.id, [question.options[0].id])
        ada.submit_attempt(attempt.id)
        started = time.monotonic()

        def moved(shown: dict[str, str]) -> bool:
            return all(
                shown[label] != before_overview[label]
                for label in ("Average completion", "Average quiz score")
            )

        shown, waited = wait_for(page, overview, "Overview", moved, started)
        print(f"step and quiz on the dashboard after {waited:.0f} s: {shown}")
        page.screenshot(path=str(SHOTS / "trainer-overview-fresh.png"), full_page=True)
    finally:
        context.close()
