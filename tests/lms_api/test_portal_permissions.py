"""The permission matrix of the portal's pages: every page route x every kind of caller.

The pages call the API's domain services, so they answer as the API does: another student's
records are 404, a track one is not in is 403, staff read what the API lets them read. A
page without a session sends the browser to sign in ("login"); the hub's own service token is
no browser session either. Each route case is set up once on the demo school as seeded and
asked by every caller (copied again after a request that wrote), on the default backend. A
page route added without a row here fails `test_the_matrix_covers_every_page`.
"""

import importlib
import pkgutil
from typing import Any

import pytest
from fastapi.routing import APIRoute

from lms_api.portal.router import router as portal_router
from lms_api.portal.signin import SESSION_COOKIE, csrf_token_for
from tests.conftest import default_backend
from tests.lms_api import matrix_rows
from tests.lms_api.portal_matrix import (
    ADAS_ATTEMPT_ACT,
    ADAS_ATTEMPT_PAGE,
    ADAS_AUTOSAVE,
    ADAS_RECORD,
    ADAS_REVIEW,
    ADAS_REVIEW_POST,
    ANY_USER,
    CALLERS,
    DP_READERS,
    DP_STUDENT_ACTS,
    PUBLIC_REDIRECT,
    REVIEW_QUEUE,
    Page,
    expect,
)
from tests.lms_api.test_permissions import (  # noqa: F401
    QUIZ,
    _ids,
    matrix_apps,
    notebook,
    prepared,
    wrote,
)

PAGES = [
    Page("GET", "/portal/login", PUBLIC_REDIRECT),
    # a callback that did not start here: signing in again (never back to this URL)
    Page(
        "GET",
        "/portal/oauth_callback",
        expect(*["login"] * 8),
        path="/portal/oauth_callback?code=c&state=s",
    ),
    Page("GET", "/portal/logout", PUBLIC_REDIRECT),
    # the landing page: the student's course, the staff's start page (review queue, students)
    Page("GET", "/portal/", expect("login", "login", "200", "200", "200", "200", "200", "200")),
    Page("GET", "/portal/catalog", ANY_USER),
    Page("GET", "/portal/progress", ANY_USER),
    Page("GET", "/portal/deliverables", ANY_USER),
    Page("GET", "/portal/steps/{step_id}", DP_READERS, path="/portal/steps/{step}"),
    Page("POST", "/portal/steps/{step_id}/done", DP_STUDENT_ACTS, path="/portal/steps/{step}/done"),
    # taking back one's own completion: with none to take back nothing changes, no error
    Page(
        "POST",
        "/portal/steps/{step_id}/undo",
        expect("401", "401", "303", "303", "303", "303", "303", "303"),
        path="/portal/steps/{step}/undo",
    ),
    Page(
        "GET",
        "/portal/deliverables/{deliverable_id}",
        DP_READERS,
        path="/portal/deliverables/{link}",
    ),
    Page(
        "POST",
        "/portal/deliverables/{deliverable_id}/submit",
        DP_STUDENT_ACTS,
        path="/portal/deliverables/{link}/submit",
        form={"url": "https://example.org/my-work"},
    ),
    Page(
        "GET",
        "/portal/submissions/{submission_id}",
        ADAS_RECORD,
        path="/portal/submissions/{submission}",
        needs="submission",
    ),
    Page(
        "GET",
        "/portal/submissions/{submission_id}/versions/{number}/file",
        ADAS_RECORD,
        path="/portal/submissions/{submission}/versions/1/file",
        needs="submission",
    ),
    Page(
        "GET", "/portal/quizzes/{quiz_id}", DP_READERS, path="/portal/quizzes/{quiz}", needs="quiz"
    ),
    Page(
        "POST",
        "/portal/quizzes/{quiz_id}/start",
        DP_STUDENT_ACTS,
        path="/portal/quizzes/{quiz}/start",
        needs="quiz",
    ),
    Page(
        "GET",
        "/portal/attempts/{attempt_id}",
        ADAS_ATTEMPT_PAGE,
        path="/portal/attempts/{attempt}",
        needs="attempt",
    ),
    Page(
        "POST",
        "/portal/attempts/{attempt_id}/save",
        ADAS_ATTEMPT_ACT,
        path="/portal/attempts/{attempt}/save",
        needs="attempt",
    ),
    Page(
        "POST",
        "/portal/attempts/{attempt_id}/answers/{question_id}",
        ADAS_AUTOSAVE,
        path="/portal/attempts/{attempt}/answers/{question}",
        json={"option_ids": []},
        needs="attempt",
    ),
    Page(
        "POST",
        "/portal/attempts/{attempt_id}/submit",
        ADAS_ATTEMPT_ACT,
        path="/portal/attempts/{attempt}/submit",
        form={"confirm": "1"},
        needs="attempt",
    ),
    Page("GET", "/portal/review", REVIEW_QUEUE),
    Page(
        "GET",
        "/portal/review/{submission_id}",
        ADAS_REVIEW,
        path="/portal/review/{submission}",
        needs="submission",
    ),
    Page(
        "POST",
        "/portal/review/{submission_id}",
        ADAS_REVIEW_POST,
        path="/portal/review/{submission}",
        form={"decision": "approve", "version": "1", "feedback": ""},
        needs="submission",
    ),
    Page(
        "GET",
        "/portal/review/{submission_id}/versions/{number}/notebook",
        ADAS_REVIEW,
        path="/portal/review/{submission}/versions/1/notebook",
        needs="submission",
    ),
    Page(
        "GET",
        "/portal/attempts/{attempt_id}/result",
        ADAS_RECORD,
        path="/portal/attempts/{attempt}/result",
        needs="result",
    ),
]


ROW_FILES = [
    importlib.import_module(f"{matrix_rows.__name__}.{info.name}")
    for info in pkgutil.iter_modules(matrix_rows.__path__)
]
PAGES += [page for rows in ROW_FILES for page in rows.PAGES]
ROW_SET_UPS = [rows.set_up for rows in ROW_FILES if hasattr(rows, "set_up")]


def page_routes() -> set[tuple[str, str]]:
    """(method, path) of every page route, read from the portal's routers (FastAPI keeps
    included routers as they are, so the module routers are walked too)."""
    found: set[tuple[str, str]] = set()

    def walk(routes, prefix: str) -> None:
        for route in routes:
            if isinstance(route, APIRoute):
                found.update((method, prefix + route.path) for method in route.methods)
            elif hasattr(route, "original_router"):
                walk(route.original_router.routes, prefix + route.include_context.prefix)

    walk(portal_router.routes, "")
    return found


def test_the_matrix_covers_every_page():
    covered = {(page.method, page.route) for page in PAGES}
    assert len(covered) == len(PAGES), "a page is listed twice"
    assert covered == page_routes()


def _set_up(api, auth, page: Page, ids) -> None:
    if page.needs == "submission":
        made = api.post(
            "/api/v1/submissions/upload",
            data={"deliverable_id": str(ids.notebook)},
            files={"file": ("work.ipynb", notebook(), "application/json")},
            headers=auth("ada"),
        )
        assert made.status_code == 201, made.text
        ids.submission = made.json()["id"]
    if page.needs in ("quiz", "attempt", "result"):
        made = api.post("/api/v1/quizzes", json=QUIZ, headers=auth("trainer"))
        assert made.status_code == 201, made.text
        ids.quiz = made.json()["id"]
        assert api.post(f"/api/v1/quizzes/{ids.quiz}/publish", headers=auth("trainer")).is_success
    if page.needs in ("attempt", "result"):
        started = api.post(f"/api/v1/quizzes/{ids.quiz}/attempts", headers=auth("ada"))
        assert started.status_code == 201, started.text
        ids.attempt = started.json()["id"]
        ids.question = started.json()["questions"][0]["id"]
    if page.needs == "result":
        submitted = api.post(f"/api/v1/attempts/{ids.attempt}/submit", headers=auth("ada"))
        assert submitted.status_code == 200, submitted.text
    for set_up in ROW_SET_UPS:
        set_up(api, auth, page, ids)


def outcome(response) -> str:
    if response.status_code == 303 and "/portal/login" in response.headers.get("location", ""):
        return "login"
    return str(response.status_code)


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("page", PAGES, ids=lambda p: f"{p.method} {p.route}")
def test_page_permission_matrix(matrix_apps, auth, hub_tokens, hub, page, caller):  # noqa: F811
    backend = default_backend()
    api, ids = prepared(
        matrix_apps,
        auth,
        backend,
        ("portal", page.method, page.route),
        lambda api, ids: _set_up(api, auth, page, ids),
    )
    path = page.path.format(**vars(ids)) if page.path else page.route
    token = {
        "nobody": None,
        "hub": hub.secrets["APRANOVA_HUB_SERVICE_TOKEN"],
    }.get(caller, hub_tokens(caller) if caller not in ("nobody", "hub") else None)
    cookies = {SESSION_COOKIE: token} if token else {}
    headers = {"X-CSRF-Token": csrf_token_for(api.app.state.settings, token)} if token else {}
    kwargs: dict[str, Any] = {"headers": headers, "follow_redirects": False}
    if page.json is not None:
        kwargs["json"] = page.json
    elif page.method == "POST":
        kwargs["data"] = page.form
    api.cookies.clear()
    for name, value in cookies.items():
        api.cookies.set(name, value)
    try:
        response = api.request(page.method, path, **kwargs)
    finally:
        api.cookies.clear()
    wrote(backend, page.method, response)
    expected = page.expected[caller]
    assert outcome(response) == expected, (
        f"{page.method} {path} as {caller}: expected {expected}, got {outcome(response)} "
        f"{response.headers.get('location', '')}: {response.text[:300]}"
    )
    if expected in ("403", "404"):
        assert "<html" in response.text or page.json is not None, response.text[:200]
