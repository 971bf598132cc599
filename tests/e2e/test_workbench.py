"""The trainer's and the admin's day in a real browser (Debian's Chromium) through the real hub:
reviewing a notebook with a resubmission and its diff, generating a quiz with (the fake)
Gemini that a student then takes, and an admin enrolling a student who then starts her
workspace. No curl, no token, no id typed anywhere. axe-core checks every page; screenshots
land in test-artifacts/screenshots/portal/."""

import re
from collections.abc import Iterator

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from bench.harness.platform import Platform
from tests.e2e.portal_browser import check_page, chromium, log_in, scroll_to  # noqa: F401
from tests.fakes.gemini import FakeGemini, good_questions

pytestmark = pytest.mark.e2e
PORTAL = "/services/lms-api/portal/"


@pytest.fixture(scope="module")
def gemini() -> Iterator[FakeGemini]:
    fake = FakeGemini().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def school(tmp_path_factory, gemini) -> Iterator[Platform]:
    """A hub (no analytics) whose lms-api writes quizzes with the fake Gemini."""
    running = Platform(tmp_path_factory.mktemp("workbench-platform"), analytics=False)
    running.env.update(APRANOVA_GEMINI_API_KEY="test-key", APRANOVA_GEMINI_BASE_URL=gemini.url)
    try:
        running.start()
        yield running
    finally:
        running.stop()


def write_notebook(path, *cells) -> str:
    nbformat.write(new_notebook(cells=list(cells)), path)
    return str(path)


def hand_in(page, school: Platform, notebook: str) -> None:
    """As the student: from her course to the notebook deliverable, upload, see the version."""
    page.goto(f"{school.url}{PORTAL}deliverables")
    page.get_by_role("link", name="Notebook").first.click()
    page.set_input_files("#file", notebook)
    page.click("#handin-submit")
    page.locator("#notice").wait_for()


def test_a_review_with_changes_a_resubmission_and_its_diff(chromium, school, tmp_path):  # noqa: F811
    hostile = new_code_cell(
        "display(evil)",
        outputs=[
            new_output(
                "display_data",
                data={
                    "text/html": "<script>window.parent.ran = 'html'</script>",
                    "text/plain": "evil",
                },
            ),
            new_output("display_data", data={"application/javascript": "window.ran = 'js'"}),
        ],
    )
    first = write_notebook(
        tmp_path / "Sales.ipynb",
        new_markdown_cell("# Sales by region\n<img src=x onerror=\"window.parent.ran='img'\">"),
        new_code_cell("sales = load('sales.csv')\nsales.groupby('region').sum()"),
        hostile,
    )
    ada_context, ada = log_in(chromium, school, "ada")
    trainer_context, trainer = log_in(chromium, school, "trainer")
    try:
        hand_in(ada, school, first)

        # the trainer lands on the start page; ada's notebook waits at the top of the queue
        assert trainer.url == f"{school.url}{PORTAL}", trainer.url
        trainer.reload()
        trainer.get_by_role("heading", name=re.compile("Waiting for your review")).wait_for()
        check_page(trainer, "trainer-home")
        trainer.locator("#home-queue tbody tr").first.get_by_role("link").click()
        frame = trainer.frame_locator("#notebook-frame")
        frame.get_by_text("Sales by region").wait_for()
        # nothing of the student's ran: not in the frame, not in the trainer's page
        assert trainer.evaluate("window.ran") is None
        notebook_frame = next(f for f in trainer.frames if f.url.endswith("/notebook"))
        assert notebook_frame.evaluate("window.ran") is None
        check_page(trainer, "trainer-review-first")
        scroll_to(trainer, "#review-form")
        trainer.check("#decision-changes")
        trainer.fill("#feedback", "Add **a chart** of sales by month.")
        trainer.click("#review-submit")
        trainer.locator("#notice").wait_for()

        # ada reads the feedback on her deliverable page and hands in again
        ada.goto(f"{school.url}{PORTAL}deliverables")
        assert "Changes requested" in ada.locator("main").inner_text()
        ada.get_by_role("link", name="Notebook").first.click()
        assert "a chart of sales by month" in ada.locator("main").inner_text()
        check_page(ada, "ada-feedback")
        second = write_notebook(
            tmp_path / "Sales-v2.ipynb",
            new_markdown_cell("# Sales by region"),
            new_code_cell("sales = load('sales.csv')\nsales.groupby('month').sum().plot()"),
            new_code_cell("chart.save('by-month.png')"),
        )
        ada.set_input_files("#file", second)
        ada.click("#handin-submit")
        ada.locator("#notice").wait_for()

        # the trainer sees what changed, then approves
        trainer.goto(f"{school.url}{PORTAL}")
        trainer.locator("#home-queue tbody tr").first.get_by_role("link").click()
        trainer.click("#diff-link")
        trainer.locator("#diff-cells").wait_for()
        diff = trainer.locator("main").inner_text()
        assert "groupby('month')" in diff and "groupby('region')" in diff
        assert "chart.save" in diff
        check_page(trainer, "trainer-diff")
        trainer.go_back()
        scroll_to(trainer, "#review-form")
        trainer.check("#decision-approve")
        trainer.click("#review-submit")
        trainer.locator("#notice").wait_for()
        assert "Approved" in trainer.locator("#notice").inner_text()

        ada.goto(f"{school.url}{PORTAL}deliverables")
        assert "Approved" in ada.locator("main").inner_text()
    finally:
        ada_context.close()
        trainer_context.close()


def test_a_generated_quiz_is_edited_published_and_taken(chromium, school, gemini):  # noqa: F811
    gemini.reply_grounded(
        good_questions(3, multiple=1, topic="Window functions"),
        [("DuckDB: window functions", "https://duckdb.org/docs/sql/functions/window_functions")],
    )
    context, trainer = log_in(chromium, school, "trainer")
    try:
        trainer.get_by_role("link", name="Quizzes", exact=True).click()
        check_page(trainer, "trainer-quizzes")
        trainer.get_by_role("link", name=re.compile("Generate")).first.click()
        trainer.fill("#title", "Window functions")
        trainer.fill("#prompt", "Window functions in DuckDB SQL, for beginners")
        trainer.fill("#num_questions", "3")
        trainer.fill("#multiple_count", "1")
        trainer.check("#web_search")
        trainer.select_option("#track", "DP")
        check_page(trainer, "trainer-generate")
        trainer.click("#generate-submit")
        trainer.locator("#sources").wait_for()
        assert "DuckDB: window functions" in trainer.locator("#sources").inner_text()
        check_page(trainer, "trainer-generated-draft")

        # edit the first question's wording
        trainer.click("#edit")
        trainer.fill("#q-0-text", "Which clause turns an aggregate into a window function?")
        trainer.click("#save")
        trainer.get_by_text("Which clause turns an aggregate into a window function?").wait_for()

        # the preview is the student's page, saving nothing
        trainer.click("#preview")
        trainer.get_by_text("Preview: answers are not saved").wait_for()
        assert "Which clause turns an aggregate" in trainer.locator("main").inner_text()
        check_page(trainer, "trainer-quiz-preview")
        trainer.go_back()
        trainer.click("#publish")
        trainer.locator("#notice").wait_for()
        assert "Published" in trainer.locator("#quiz-status").inner_text()
    finally:
        context.close()

    context, ada = log_in(chromium, school, "ada")
    try:
        ada.get_by_role("link", name="Window functions").first.click()
        ada.click("#start")
        ada.wait_for_url(re.compile(r"/portal/attempts/\d+$"))
        assert "Which clause turns an aggregate" in ada.locator("main").inner_text()
        for question in ada.locator("fieldset[data-question]").all():
            question.locator("input.form-check-input").first.check()
            number = question.get_attribute("data-question")
            ada.locator(f"#status-{number}").filter(has_text=re.compile("^Saved$")).wait_for()
        ada.click("#submit-attempt")
        ada.wait_for_url(re.compile(r"/result$"))
        assert re.search(r"\d+%", ada.locator("main").inner_text())
    finally:
        context.close()


def test_the_admin_enrolls_grace_who_then_starts_her_workspace(chromium, school):  # noqa: F811
    # grace signs in once: no enrollment, so the catalog
    context, grace = log_in(chromium, school, "grace")
    grace.wait_for_url(re.compile(r"/portal/catalog$"))
    context.close()

    context, admin = log_in(chromium, school, "office")
    try:
        admin.get_by_role("button", name="Admin").click()
        admin.get_by_role("link", name="People").click()
        admin.fill("#q", "grace")
        admin.keyboard.press("Enter")
        admin.get_by_role("link", name="grace", exact=True).click()
        check_page(admin, "admin-person-grace")
        admin.click("#grant-link")
        admin.select_option("#track", "DP")
        admin.fill("#reason", "Scholarship of the spring cohort")
        check_page(admin, "admin-grant")
        admin.click("#grant-submit")
        admin.locator("#notice").wait_for()
        assert "Scholarship of the spring cohort" in admin.locator("main").inner_text()
        check_page(admin, "admin-enrollment")

        admin.goto(f"{school.url}{PORTAL}admin/people/grace")
        assert "0 of" in admin.locator("#trainer").inner_text()  # coach's load and cap
        admin.select_option("#trainer", "coach")
        admin.click("#trainer-submit")
        admin.locator("#notice").wait_for()
        assert "coach" in admin.locator("#current-trainer").inner_text()
        check_page(admin, "admin-person-assigned")
    finally:
        context.close()

    context, grace = log_in(chromium, school, "grace")
    try:
        grace.get_by_role("heading", name="My course", level=1).wait_for()
        grace.get_by_role("link", name="Start JupyterLab").click()
        # a spawn done before the hub's pending page keeps the spawn link's ?kind= on the way in
        grace.wait_for_url(re.compile(r"/user/grace/[^/]+/lab(\?[^/]*)?$"), timeout=120_000)
        grace.wait_for_function("document.title.includes('JupyterLab')", timeout=60_000)
    finally:
        context.close()
        school.stop_all_servers()


STAFF_PAGES = [
    "",
    "review",
    "students",
    "students/ada",
    "sessions",
    "sessions/new",
    "manage/quizzes",
    "manage/quizzes/new",
    "manage/quizzes/import",
    "manage/quizzes/generate",
    "admin/people",
    "admin/people/ada",
    "admin/enrollments",
    "admin/enrollments/new",
    "admin/payments",
    "admin/curriculum",
    "admin/curriculum/tracks/DP",
]


LINKED_PAGES = [
    "manage/quizzes/",
    "admin/curriculum/projects/",
    "admin/curriculum/steps/",
    "admin/curriculum/deliverables/",
    "admin/enrollments/",
]

# what sticks out past the window's right edge, innermost first, for the assertion message
WIDEST = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > innerWidth)
  .reverse().slice(0, 3).map(e => e.tagName + '#' + e.id + '.' + e.className)"""


def test_every_workbench_page_passes_axe_at_phone_width(chromium, school):  # noqa: F811
    from tests.e2e.portal_browser import PHONE

    context, page = log_in(chromium, school, "admin", viewport=PHONE)
    try:
        paths = list(STAFF_PAGES)
        for path in paths:  # grows: each page adds the first page of a kind it links to
            response = page.goto(f"{school.url}{PORTAL}{path}")
            assert response.status == 200, (path, response.status)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], (path, width, page.evaluate(WIDEST))
            check_page(page, "phone-" + (path.replace("/", "-") or "home"))
            hrefs = page.eval_on_selector_all("main a[href]", "links => links.map(a => a.pathname)")
            for kind in LINKED_PAGES:
                pattern = re.compile(f"{PORTAL}{kind}\\d+$")
                found = [h.removeprefix(PORTAL) for h in hrefs if pattern.match(h)]
                if found and not any(re.match(f"{kind}\\d+$", known) for known in paths):
                    paths.append(found[0])
        assert len(paths) >= len(STAFF_PAGES) + len(LINKED_PAGES), paths
    finally:
        context.close()


def test_a_trainer_schedules_a_session_sees_who_is_expected_and_cancels_it(chromium, school):  # noqa: F811
    """By keyboard and mouse, as a trainer on a phone and a desktop: a wrong end time is
    shown next to its field with what she typed kept, the fixed form lands on the session's
    page with its attendance, and a cancel asks first."""
    from datetime import UTC, datetime, timedelta

    from tests.e2e.portal_browser import PHONE

    day = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    for viewport, name in ((PHONE, "phone-"), (None, "")):
        context, page = (
            log_in(chromium, school, "trainer", viewport=viewport)
            if viewport
            else log_in(chromium, school, "trainer")
        )
        page.goto(f"{school.url}{PORTAL}sessions")
        page.get_by_role("link", name="Schedule a session").first.click()
        page.fill("#title", f"Joins, live {name or 'desktop'}")
        page.select_option("#track", "DP")
        page.fill("#date", day)
        page.fill("#start", "09:00")
        page.fill("#end", "08:30")
        page.select_option("#workspace_kind", "jupyterlab")
        page.click("#schedule-submit")
        error = page.locator("#end-error")
        error.wait_for()
        assert page.get_attribute("#end", "aria-invalid") == "true"
        assert page.input_value("#title") == f"Joins, live {name or 'desktop'}"
        check_page(page, f"{name}session-form-error")
        page.fill("#end", "11:00")
        page.click("#schedule-submit")
        page.locator("#attendance-ada").wait_for()
        assert "Upcoming" in page.locator("#attendance-ada").inner_text()
        check_page(page, f"{name}session-page")
        page.click("#cancel-link")
        check_page(page, f"{name}session-cancel")
        page.click("#cancel-submit")
        page.locator("#attendance-cancelled").wait_for()
        page.goto(f"{school.url}{PORTAL}sessions")
        check_page(page, f"{name}sessions-list")
        context.close()
