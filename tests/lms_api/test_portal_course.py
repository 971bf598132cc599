"""The portal's sign-in, its session and CSRF rules, and "My course" (the landing page)."""

from urllib.parse import parse_qs, urlparse

from bs4 import BeautifulSoup

from lms_api.portal.signin import STATE_COOKIE, safe_next
from tests.lms_api.conftest import bearer

PREFIX = "/services/lms-api"


def soup(response) -> BeautifulSoup:
    assert response.status_code == 200, response.text[:500]
    return BeautifulSoup(response.text, "html.parser")


def test_without_a_session_a_page_sends_the_browser_to_sign_in_and_back(api):
    page = api.get("/portal/progress?x=1", follow_redirects=False)
    assert page.status_code == 303
    login = urlparse(page.headers["location"])
    assert login.path == f"{PREFIX}/portal/login"
    assert parse_qs(login.query)["next"] == ["/portal/progress?x=1"]

    started = api.get(
        f"{PREFIX}/portal/login?next={PREFIX}/portal/progress", follow_redirects=False
    )
    assert started.status_code == 303
    hub = urlparse(started.headers["location"])
    query = parse_qs(hub.query)
    assert hub.path == "/hub/api/oauth2/authorize"
    assert query["client_id"] == ["service-lms-api"]
    assert query["redirect_uri"] == [f"{PREFIX}/portal/oauth_callback"]
    assert query["code_challenge_method"] == ["S256"] and query["state"][0]
    cookie = started.headers["set-cookie"]
    assert STATE_COOKIE in cookie and "HttpOnly" in cookie and f"Path={PREFIX}/" in cookie


def test_a_callback_without_the_browsers_state_is_refused_as_a_page(api):
    answer = api.get("/portal/oauth_callback?code=abc&state=forged", follow_redirects=False)
    assert answer.status_code == 303  # to sign in again, with the session cookie dropped
    assert "/portal/login" in answer.headers["location"]


def test_only_portal_paths_are_places_to_go_back_to(api):
    settings = api.app.state.settings
    home = f"{PREFIX}/portal/"
    assert safe_next(settings, f"{PREFIX}/portal/quizzes/3") == f"{PREFIX}/portal/quizzes/3"
    for evil in ("https://evil.example/", "//evil.example/x", f"{PREFIX}/portal/\\evil", None):
        assert safe_next(settings, evil) == home


def test_a_token_that_is_not_a_users_is_no_session(api, hub):
    api.cookies.set("apranova-portal", hub.secrets["APRANOVA_HUB_SERVICE_TOKEN"])
    try:
        page = api.get("/portal/", follow_redirects=False)
        assert page.status_code == 303 and "/portal/login" in page.headers["location"]
    finally:
        api.cookies.clear()


def test_ada_lands_on_her_course(browser):
    page = soup(browser("ada").get("/portal/"))
    assert page.h1.get_text(strip=True) == "My course"
    assert "Data Professional" in page.get_text()
    assert (
        page.select_one("#next-thing")
        .get_text(strip=True)
        .startswith("Exploring a dataset with pandas: step 1")
    )
    kinds = {card["id"] for card in page.select("[id^=workspace-]")}
    assert kinds == {"workspace-jupyterlab", "workspace-superset"}
    assert page.select_one("#workspace-jupyterlab")["data-state"] == "stopped"
    start = page.select_one("#workspace-jupyterlab a")["href"]
    assert start == "/hub/spawn/ada/jupyterlab?kind=jupyterlab"
    # the quiz open to her, with her record
    assert "SQL joins and NULLs" in page.get_text() and "0 used, 3 left" in page.get_text()
    nav = [a.get_text(strip=True) for a in page.select("nav .nav-link")]
    assert nav[:3] == ["Course", "Progress", "Workspaces"]
    assert "Enroll" not in nav  # payments are off in these settings: nothing to buy


def test_the_next_thing_follows_the_work(browser, api, auth):
    ada = browser("ada")
    progress = api.get("/api/v1/progress/me", headers=auth("ada")).json()
    for project in progress["tracks"][0]["projects"]:
        for step in project["steps"]:
            assert api.put(f"/api/v1/progress/steps/{step['id']}", headers=auth("ada")).is_success
    page = soup(ada.get("/portal/"))
    assert page.select_one("#next-thing").get_text(strip=True).startswith("Hand in")
    assert "8 of 8 steps done (100%)" in page.get_text()


def test_linus_sees_fsd_and_vs_code(browser):
    page = soup(browser("linus").get("/portal/"))
    assert (
        "Full-Stack Development" in page.get_text() and "Data Professional" not in page.get_text()
    )
    assert page.select_one("#workspace-code-server") is not None


def test_a_student_without_enrollment_goes_to_the_catalog_and_staff_to_their_start(browser):
    assert browser("grace").get("/portal/").headers["location"] == f"{PREFIX}/portal/catalog"
    start = browser("trainer").get("/portal/")
    assert start.status_code == 200
    assert BeautifulSoup(start.text, "html.parser").select_one("#home-queue, #home-queue-empty")


def test_a_form_without_the_csrf_token_is_refused_and_changes_nothing(browser, api, auth):
    step = api.get("/api/v1/progress/me", headers=auth("ada")).json()
    step_id = step["tracks"][0]["projects"][0]["steps"][0]["id"]
    refused = browser("ada").post(f"/portal/steps/{step_id}/done", csrf=None)
    assert refused.status_code == 403
    assert "expired" in refused.text and "<html" in refused.text
    forged = browser("ada").post(f"/portal/steps/{step_id}/done", csrf="0" * 64)
    assert forged.status_code == 403
    after = api.get("/api/v1/progress/me", headers=auth("ada")).json()
    assert after["tracks"][0]["steps_done"] == 0


def test_a_deactivated_account_gets_the_error_page(browser, api, auth):
    assert api.post("/api/v1/users/ada/deactivate", headers=auth("admin")).status_code == 200
    page = browser("ada").get("/portal/")
    assert page.status_code == 403 and "deactivated" in page.text
    assert BeautifulSoup(page.text, "html.parser").select_one("#error-message")


def test_an_error_page_keeps_the_menu_of_the_signed_in_user(browser):
    page = browser("linus").get("/portal/steps/1")  # a DP step: linus is in FSD
    assert page.status_code == 403
    soup = BeautifulSoup(page.text, "html.parser")
    assert soup.select_one("#error-message") and soup.select_one("#logout")
    assert "Course" in [a.get_text(strip=True) for a in soup.select("nav .nav-link")]


def test_api_routes_still_answer_json(api, auth):
    missing = api.get("/api/v1/tracks/NOPE", headers=bearer("x"))
    assert missing.headers["content-type"].startswith("application/json")
    unknown_page = api.get("/portal/no-such-page", follow_redirects=False)
    assert unknown_page.headers["content-type"].startswith("text/html")
