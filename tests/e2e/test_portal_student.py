"""The student portal in a real browser (Debian's Chromium) through the real hub and proxy:
what a student does in a day, without writing code or typing an id. axe-core checks every
page; screenshots land in test-artifacts/screenshots/portal/ for people to look at."""

import re

import nbformat
import pytest

from lms_api.client import LmsClient
from tests.e2e.portal_browser import PHONE, check_page, chromium, log_in  # noqa: F401

pytestmark = pytest.mark.e2e
PORTAL = "/services/lms-api/portal/"


def client(platform, username: str) -> LmsClient:
    return LmsClient(
        base_url=f"{platform.url}/services/lms-api/api/v1",
        token=platform.new_token(username)[0],
    )


def take_the_quiz(page, name: str, leave_unanswered: int = 1) -> None:
    """Start the course's quiz, answer all but the last `leave_unanswered` questions (each one
    autosaved), reload in the middle (the answers and the clock come back), submit."""
    page.get_by_role("link", name=re.compile("SQL joins|HTTP and REST")).first.click()
    check_page(page, f"{name}-quiz-intro")
    page.click("#start")
    page.wait_for_url(re.compile(r"/portal/attempts/\d+$"))
    questions = page.locator("fieldset[data-question]")
    total = questions.count()
    assert total >= 2
    assert page.locator("#countdown").is_visible()  # the demo quizzes have a time limit
    for index in range(total - leave_unanswered):
        question = questions.nth(index)
        question.locator("input.form-check-input").first.check()
        status = page.locator(f"#status-{question.get_attribute('data-question')}")
        status.filter(has_text=re.compile("^Saved$")).wait_for()
        if index == 0:  # a reload in the middle: the answer is still there, the clock goes on
            page.reload()
            assert page.locator("fieldset[data-question] input.form-check-input").first.is_checked()
            questions = page.locator("fieldset[data-question]")
    check_page(page, f"{name}-quiz-taking")
    page.click("#submit-attempt")
    # the submit names what is unanswered
    last = page.get_by_text(re.compile(f"Question {total}"))
    last.first.wait_for()
    check_page(page, f"{name}-quiz-confirm")
    page.click("#submit-anyway")
    page.wait_for_url(re.compile(r"/result$"))
    assert re.search(r"\d+%", page.locator("main").inner_text())
    check_page(page, f"{name}-quiz-result")


def test_ada_does_her_day_in_the_browser(chromium, platform, tmp_path):  # noqa: F811
    context, page = log_in(chromium, platform, "ada")
    try:
        # lands on her course, right after login
        assert page.url == f"{platform.url}{PORTAL}", page.url
        page.get_by_role("heading", name="My course", level=1).wait_for()
        assert page.get_by_role("link", name="Start JupyterLab").is_visible()
        check_page(page, "ada-course")

        # the next thing to do: a step; she marks it done
        page.get_by_role("link", name="Go to the step").click()
        check_page(page, "ada-step")
        page.click("#mark-done")
        page.locator("#undo").wait_for()
        page.goto(f"{platform.url}{PORTAL}")
        assert "1 of 8 steps done" in page.locator("main").inner_text()

        # hands in a notebook from the browser
        notebook = tmp_path / "Exploration.ipynb"
        cell = nbformat.v4.new_code_cell("import pandas as pd")
        nbformat.write(nbformat.v4.new_notebook(cells=[cell]), notebook)
        page.get_by_role("link", name="Notebook").first.click()
        check_page(page, "ada-deliverable")
        page.set_input_files("#file", str(notebook))
        page.click("#handin-submit")
        page.get_by_text(re.compile("version 1", re.I)).first.wait_for()
        deliverable_url = page.url

        # her trainer reviews it in the browser: the notebook rendered, changes requested
        mine = [s for s in client(platform, "trainer").submissions(username="ada").results]
        deliverable_id = int(deliverable_url.split("/")[-1].split("?")[0])
        submission = next(s for s in mine if s.deliverable_id == deliverable_id)
        trainer_context, trainer_page = log_in(chromium, platform, "trainer")
        try:
            assert trainer_page.url == f"{platform.url}{PORTAL}", trainer_page.url
            trainer_page.locator(f"#home-queue-{submission.id} a").click()
            frame = trainer_page.frame_locator("#notebook-frame")
            frame.get_by_text("import pandas as pd").first.wait_for()
            check_page(trainer_page, "trainer-review")
            # by keyboard, as a trainer may: focus the decision, arrow to "Request changes"
            trainer_page.focus("#decision-approve")
            trainer_page.keyboard.press("ArrowDown")
            assert trainer_page.locator("#decision-changes").is_checked()
            trainer_page.fill("#feedback", "Add a chart of sales by month.")
            trainer_page.focus("#review-submit")
            trainer_page.keyboard.press("Enter")
            trainer_page.locator("#notice").wait_for()
        finally:
            trainer_context.close()
        page.goto(deliverable_url)
        assert "Add a chart of sales by month." in page.locator("main").inner_text()
        assert "Changes requested" in page.locator("main").inner_text()
        check_page(page, "ada-deliverable-feedback")

        # the quiz, with its timer, a reload in the middle, and her result
        page.goto(f"{platform.url}{PORTAL}")
        take_the_quiz(page, "ada")
        attempt_url = page.url

        page.goto(f"{platform.url}{PORTAL}progress")
        check_page(page, "ada-progress")
        page.goto(f"{platform.url}{PORTAL}deliverables")
        assert "Changes requested" in page.locator("main").inner_text()
        check_page(page, "ada-deliverables")
    finally:
        context.close()

    # linus may not open ada's pages: the ids typed into a URL give 404
    context, page = log_in(chromium, platform, "linus")
    try:
        submission_url = f"{platform.url}{PORTAL}submissions/{submission.id}"
        for url in (attempt_url, attempt_url.removesuffix("/result"), submission_url):
            response = page.goto(url)
            assert response.status == 404, (url, response.status)
        check_page(page, "linus-404")
        # a deliverable of a track he is not in: refused in words, as the API refuses it
        response = page.goto(deliverable_url)
        assert (
            response.status == 403 and "enrolled students only" in page.locator("main").inner_text()
        )
        page.get_by_role("link", name="See the tracks and how to join").wait_for()
        check_page(page, "linus-403")
    finally:
        context.close()


def test_linus_takes_his_quiz_at_phone_width(chromium, platform):  # noqa: F811
    context, page = log_in(chromium, platform, "linus", viewport=PHONE)
    try:
        page.get_by_role("heading", name="My course", level=1).wait_for()
        assert "Full-Stack Development" in page.locator("main").inner_text()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], width
        check_page(page, "linus-course-phone")
        take_the_quiz(page, "linus")
    finally:
        context.close()


def test_a_student_without_enrollment_sees_the_catalog(chromium, platform):  # noqa: F811
    context, page = log_in(chromium, platform, "grace")
    try:
        page.wait_for_url(re.compile(r"/portal/catalog$"))
        text = page.locator("main").inner_text()
        assert "Data Professional" in text and "Full-Stack Development" in text
        assert "not enrolled yet" in text
        check_page(page, "grace-catalog")
    finally:
        context.close()


def test_the_hubs_refusal_to_start_a_workspace_reads_well_on_a_phone(chromium, platform):  # noqa: F811
    context, page = log_in(chromium, platform, "grace", viewport=PHONE)
    try:
        page.goto(f"{platform.url}/hub/spawn")
        assert page.locator("h1").inner_text().startswith("Not allowed")
        assert page.locator("main, .error").first.inner_text().count("not enrolled") == 1
        check_page(page, "phone-grace-spawn-refused")
    finally:
        context.close()


def test_staff_land_on_their_start_page_with_the_same_navigation(chromium, platform):  # noqa: F811
    context, page = log_in(chromium, platform, "coach")  # a trainer with no students
    try:
        assert page.url == f"{platform.url}{PORTAL}", page.url
        page.locator("#home-queue-empty").wait_for()
        check_page(page, "coach-home")
        page.get_by_role("link", name="Workspaces").click()
        page.wait_for_url("**/hub/home")
        nav = page.locator("nav .nav-link").all_inner_texts()
        assert {"Home", "Review", "Students", "Sessions", "Quizzes", "Workspaces"} <= set(nav), nav
        assert "Course" not in nav and "Admin" not in nav
        # how many more may run at once (2 in all), not the limit of servers kept (10)
        text = " ".join(page.locator("main, .container").first.inner_text().split())
        assert "you may have additional 1 server(s)" in text, text
    finally:
        context.close()


def test_the_keyboard_reaches_the_course_and_the_api_docs_load_offline(chromium, platform):  # noqa: F811
    context, page = log_in(chromium, platform, "ada")
    try:
        page.keyboard.press("Tab")  # the first stop is the skip link
        assert page.evaluate("document.activeElement.textContent").strip() == "Skip to content"
        page.keyboard.press("Enter")
        assert page.evaluate("location.hash") == "#main"
        # Swagger UI from the platform itself: the page draws with no network beyond it
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(f"{platform.url}/services/lms-api/docs")
        page.locator(".swagger-ui .info .title").wait_for()
        assert all(url.startswith(platform.url) for url in requests), requests
    finally:
        context.close()
