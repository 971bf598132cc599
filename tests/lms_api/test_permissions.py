"""The permission matrix: every route of the API x every kind of caller, enforced server-side.

Callers, as the hub knows them: nobody (no token), the hub's service token, `ada` (the
student who owns the records asked about), `linus` (another student), `trainer` (ada's
trainer), `coach` (a trainer not assigned to ada), `office` (admin) and `admin` (superadmin).
Each route case is set up once on a fresh copy of the demo school and asked by every caller
in turn; the copy is made again only after a caller's request succeeded in writing, so a
change one request makes cannot leak into another. Permissions do not depend on the SQL
dialect: the matrix runs on the default backend (PostgreSQL in CI). A route added without a
row here fails `test_the_matrix_covers_every_route`.
"""

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import nbformat
import pytest
from fastapi.testclient import TestClient

from lms_api.config import Settings
from lms_api.main import create_app
from tests.conftest import default_backend, postgres_admin_url
from tests.fakes.stripe import FakeStripe
from tests.lms_api.conftest import app_settings, stripe_settings

CALLERS = ("nobody", "hub", "ada", "linus", "trainer", "coach", "office", "admin")


def expect(*statuses: int) -> dict[str, int]:
    """Statuses in the order of CALLERS."""
    assert len(statuses) == len(CALLERS)
    return dict(zip(CALLERS, statuses, strict=True))


# The usual shapes of the matrix.
PUBLIC = expect(200, 200, 200, 200, 200, 200, 200, 200)
ANY_USER = expect(401, 403, 200, 200, 200, 200, 200, 200)
STAFF = expect(401, 403, 403, 403, 200, 200, 200, 200)
ADMINS = expect(401, 403, 403, 403, 403, 403, 200, 200)
ADMINS_CREATE = expect(401, 403, 403, 403, 403, 403, 201, 201)
ADMINS_DELETE = expect(401, 403, 403, 403, 403, 403, 204, 204)
# Ada's own records: her, her trainer and admins; others get 404 (no existence leak).
ADAS_RECORD = expect(401, 403, 200, 404, 200, 404, 200, 200)
# The DP curriculum: staff, and students actively enrolled in DP (linus is in FSD).
DP_READERS = expect(401, 403, 200, 403, 200, 200, 200, 200)
# Student work in DP: only a student active in DP may do it.
DP_STUDENT_CREATE = expect(401, 403, 201, 403, 403, 403, 403, 403)
STAFF_CREATE = expect(401, 403, 403, 403, 201, 201, 201, 201)
# A quiz `trainer` wrote: its author and admins change it; `coach`, another trainer, may not.
AUTHOR = expect(401, 403, 403, 403, 200, 403, 200, 200)
# Ada's own attempt: only she answers it; those who may read it get 403, others 404.
ADAS_ATTEMPT = expect(401, 403, 200, 404, 403, 404, 403, 403)
# A class session `trainer` scheduled for their students (ada in DP): students may not change
# it (403); coach, who does not see it, gets 404; its trainer and admins change it.
TRAINERS_SESSION = expect(401, 403, 403, 403, 200, 404, 200, 200)
# The hub's service token, and admins.
HUB_ONLY = expect(401, 200, 403, 403, 403, 403, 200, 200)


@dataclass
class Case:
    method: str
    route: str  # the path template as FastAPI knows it, without /api/v1
    expected: dict[str, int]
    path: Callable[["Ids"], str] | None = None  # the concrete path; default: the route
    json: Any = None
    upload: tuple[str, bytes] | None = None  # (form field deliverable_id from ids, file)
    params: dict[str, str] = field(default_factory=dict)


@dataclass
class Ids:
    """Ids of the demo school in a fresh copy (identical in every copy)."""

    enrollment: int  # ada's DP enrollment
    project: int  # DP project 1
    step: int  # its first step
    notebook: int  # its notebook deliverable
    link: int  # its url deliverable
    submission: int = 0  # ada's notebook submission, when the case needs one
    quiz: int = 0  # a published DP quiz by `trainer`, when the case needs one
    draft: int = 0  # a draft quiz by `trainer`
    attempt: int = 0  # ada's attempt at `quiz`, in progress
    question: int = 0  # its first question
    payment: int = 0  # ada's pending FSD payment, when the case needs one
    class_session: int = 0  # a DP session `trainer` scheduled (expects ada), when needed


QUIZ = {
    "title": "Joins",
    "track": "DP",
    "questions": [
        {
            "text": "Which join keeps every customer?",
            "type": "SINGLE",
            "options": [
                {"text": "LEFT JOIN", "is_correct": True},
                {"text": "INNER JOIN", "is_correct": False},
            ],
        }
    ],
}


# A class session tomorrow: the matrix runs long after import, but not for a day.
TOMORROW = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
CLASS_SESSION = {
    "title": "Joins, live",
    "track": "DP",
    "starts_at": TOMORROW.isoformat(),
    "ends_at": (TOMORROW + timedelta(hours=2)).isoformat(),
    "workspace_kind": "jupyterlab",
}


def notebook() -> bytes:
    return nbformat.writes(nbformat.v4.new_notebook()).encode()


CASES = [
    # health and catalog: public
    Case("GET", "/health", PUBLIC),
    Case("GET", "/catalog", PUBLIC),
    # your own profile
    Case("GET", "/me", ANY_USER),
    Case("PATCH", "/me", ANY_USER, json={"name": "A. Person"}),
    # admins: profiles and trainer assignment
    Case("GET", "/users", ADMINS),
    Case("GET", "/users/{username}", ADMINS, path=lambda i: "/users/ada"),
    Case("PATCH", "/users/{username}", ADMINS, path=lambda i: "/users/ada", json={"name": "Ada"}),
    Case("POST", "/users/{username}/deactivate", ADMINS, path=lambda i: "/users/ada/deactivate"),
    Case("GET", "/trainers", STAFF),
    Case(
        "PUT",
        "/users/{student}/trainer",
        ADMINS,
        path=lambda i: "/users/ada/trainer",
        json={"trainer": "coach"},
    ),
    Case("DELETE", "/users/{student}/trainer", ADMINS, path=lambda i: "/users/ada/trainer"),
    # curriculum: reading
    Case("GET", "/tracks", expect(401, 200, 200, 200, 200, 200, 200, 200)),
    Case("GET", "/tracks/{code}", DP_READERS, path=lambda i: "/tracks/DP"),
    Case("GET", "/projects/{project_id}", DP_READERS, path=lambda i: f"/projects/{i.project}"),
    # curriculum: writing (admins)
    Case(
        "POST",
        "/tracks",
        ADMINS_CREATE,
        json={"code": "DE", "name": "Data Engineering", "workspace_kinds": ["jupyterlab"]},
    ),
    Case("PATCH", "/tracks/{code}", ADMINS, path=lambda i: "/tracks/DP", json={"name": "DP 2"}),
    # a track nobody is enrolled in (made in the set-up); DP itself would be 409
    Case("DELETE", "/tracks/{code}", ADMINS_DELETE, path=lambda i: "/tracks/OLD"),
    Case(
        "POST",
        "/tracks/{code}/projects",
        ADMINS_CREATE,
        path=lambda i: "/tracks/DP/projects",
        json={"number": 9, "title": "Extra"},
    ),
    Case(
        "PATCH",
        "/projects/{project_id}",
        ADMINS,
        path=lambda i: f"/projects/{i.project}",
        json={"title": "Renamed"},
    ),
    Case(
        "DELETE",
        "/projects/{project_id}",
        ADMINS_DELETE,
        path=lambda i: f"/projects/{i.project}",
    ),
    Case(
        "POST",
        "/projects/{project_id}/steps",
        ADMINS_CREATE,
        path=lambda i: f"/projects/{i.project}/steps",
        json={"order": 9, "title": "Extra step"},
    ),
    Case(
        "PATCH",
        "/steps/{step_id}",
        ADMINS,
        path=lambda i: f"/steps/{i.step}",
        json={"title": "Renamed"},
    ),
    Case("DELETE", "/steps/{step_id}", ADMINS_DELETE, path=lambda i: f"/steps/{i.step}"),
    Case(
        "POST",
        "/projects/{project_id}/deliverables",
        ADMINS_CREATE,
        path=lambda i: f"/projects/{i.project}/deliverables",
        json={"title": "Slides", "kind": "file"},
    ),
    Case(
        "PATCH",
        "/deliverables/{deliverable_id}",
        ADMINS,
        path=lambda i: f"/deliverables/{i.link}",
        json={"required": True},
    ),
    Case(
        "DELETE",
        "/deliverables/{deliverable_id}",
        ADMINS_DELETE,
        path=lambda i: f"/deliverables/{i.link}",
    ),
    # enrollments
    Case("GET", "/enrollments", ANY_USER),
    Case(
        "GET",
        "/enrollments/{enrollment_id}",
        ADAS_RECORD,
        path=lambda i: f"/enrollments/{i.enrollment}",
    ),
    Case(
        "POST",
        "/enrollments",
        ADMINS_CREATE,
        json={"username": "grace", "track": "DP", "reason": "Scholarship"},
    ),
    Case(
        "POST",
        "/enrollments/{enrollment_id}/revoke",
        ADMINS,
        path=lambda i: f"/enrollments/{i.enrollment}/revoke",
        json={"reason": "Left"},
    ),
    # progress: each caller marks their own; reading a student's is ADAS_RECORD
    Case(
        "PUT",
        "/progress/steps/{step_id}",
        DP_STUDENT_CREATE,
        path=lambda i: f"/progress/steps/{i.step}",
    ),
    Case(
        "DELETE",
        "/progress/steps/{step_id}",
        # ada marked it in the set-up; nobody else has it marked: 404 "not marked"
        expect(401, 403, 204, 404, 404, 404, 404, 404),
        path=lambda i: f"/progress/steps/{i.step}",
    ),
    Case("GET", "/progress/me", ANY_USER),
    Case(
        "GET",
        "/progress/students/{username}",
        ADAS_RECORD,
        path=lambda i: "/progress/students/ada",
    ),
    # submissions
    Case(
        "POST",
        "/submissions",
        DP_STUDENT_CREATE,
        json={"deliverable_id": 0, "url": "https://example.org/report"},  # id set below
    ),
    Case("POST", "/submissions/upload", DP_STUDENT_CREATE, upload=("notebook", notebook())),
    Case("GET", "/submissions", ANY_USER),
    Case(
        "GET",
        "/submissions/{submission_id}",
        ADAS_RECORD,
        path=lambda i: f"/submissions/{i.submission}",
    ),
    Case(
        "GET",
        "/submissions/{submission_id}/versions/{number}/file",
        ADAS_RECORD,
        path=lambda i: f"/submissions/{i.submission}/versions/1/file",
    ),
    Case(
        "POST",
        "/submissions/{submission_id}/reviews",
        # students may never review (403 whoever owns it); a trainer not hers gets 404
        expect(401, 403, 403, 403, 200, 404, 200, 200),
        path=lambda i: f"/submissions/{i.submission}/reviews",
        json={"version": 1, "decision": "approve", "feedback": "Good."},
    ),
    # quizzes: staff write (a trainer only their own), students of the track take them
    Case("GET", "/quizzes", ANY_USER),
    Case("POST", "/quizzes", STAFF_CREATE, json=QUIZ),
    Case("POST", "/quizzes/import", STAFF_CREATE, json={"format": "apranova-quiz", **QUIZ}),
    # no Gemini key in the matrix app: staff get past the role check to the 503
    Case(
        "POST",
        "/quizzes/generate",
        expect(401, 403, 403, 403, 503, 503, 503, 503),
        json={"title": "Joins", "prompt": "SQL joins", "num_questions": 3},
    ),
    Case("GET", "/quizzes/{quiz_id}", DP_READERS, path=lambda i: f"/quizzes/{i.quiz}"),
    Case(
        "PATCH",
        "/quizzes/{quiz_id}",
        AUTHOR,
        path=lambda i: f"/quizzes/{i.draft}",
        json={"title": "Renamed"},
    ),
    Case(
        "DELETE",
        "/quizzes/{quiz_id}",
        expect(401, 403, 403, 403, 204, 403, 204, 204),
        path=lambda i: f"/quizzes/{i.draft}",
    ),
    Case(
        "POST", "/quizzes/{quiz_id}/publish", AUTHOR, path=lambda i: f"/quizzes/{i.draft}/publish"
    ),
    Case("POST", "/quizzes/{quiz_id}/archive", AUTHOR, path=lambda i: f"/quizzes/{i.quiz}/archive"),
    Case("GET", "/quizzes/{quiz_id}/export", STAFF, path=lambda i: f"/quizzes/{i.quiz}/export"),
    Case("GET", "/quizzes/{quiz_id}/results", STAFF, path=lambda i: f"/quizzes/{i.quiz}/results"),
    Case(
        "POST",
        "/quizzes/{quiz_id}/attempts",
        DP_STUDENT_CREATE,
        path=lambda i: f"/quizzes/{i.quiz}/attempts",
    ),
    Case("GET", "/attempts", ANY_USER),
    Case("GET", "/attempts/{attempt_id}", ADAS_RECORD, path=lambda i: f"/attempts/{i.attempt}"),
    Case(
        "PUT",
        "/attempts/{attempt_id}/answers/{question_id}",
        ADAS_ATTEMPT,
        path=lambda i: f"/attempts/{i.attempt}/answers/{i.question}",
        json={"option_ids": []},
    ),
    Case(
        "POST",
        "/attempts/{attempt_id}/submit",
        ADAS_ATTEMPT,
        path=lambda i: f"/attempts/{i.attempt}/submit",
    ),
    # payments: users pay for themselves (ada is in DP already, linus in FSD); the webhook is
    # public but answers only signed events; money is private, so trainers see only their own
    Case(
        "POST",
        "/payments/checkout",
        expect(401, 403, 201, 409, 201, 201, 201, 201),
        json={"track": "FSD"},
    ),
    Case(
        "POST",
        "/payments/intents",
        expect(401, 403, 201, 409, 201, 201, 201, 201),
        json={"track": "FSD"},
    ),
    Case("POST", "/payments/webhook", expect(400, 400, 400, 400, 400, 400, 400, 400), json={}),
    Case("GET", "/payments", ANY_USER),
    Case(
        "GET",
        "/payments/{payment_id}",
        expect(401, 403, 200, 404, 404, 404, 200, 200),
        path=lambda i: f"/payments/{i.payment}",
    ),
    Case(
        "POST",
        "/payments/{payment_id}/refund",
        expect(401, 403, 403, 403, 403, 403, 409, 409),  # pending: nothing to refund yet
        path=lambda i: f"/payments/{i.payment}/refund",
    ),
    # the workspace rule: the hub's service token and admins
    Case(
        "GET",
        "/workspaces/allowed",
        expect(401, 200, 403, 403, 403, 403, 200, 200),
        params={"user": "ada"},
    ),
    Case(
        "POST",
        "/workspaces/allowed/check",
        expect(401, 200, 403, 403, 403, 403, 200, 200),
        json={"users": ["ada", "linus"]},
    ),
    # class sessions: staff schedule them (a trainer for their own students: coach has none in
    # DP, 422); everyone reads those they may see; the hub asks what to warm up and reports
    Case(
        "POST",
        "/class-sessions",
        expect(401, 403, 403, 403, 201, 422, 201, 201),
        json=CLASS_SESSION,
    ),
    Case("GET", "/class-sessions", ANY_USER),
    Case(
        "GET",
        "/class-sessions/{session_id}",
        ADAS_RECORD,
        path=lambda i: f"/class-sessions/{i.class_session}",
    ),
    Case(
        "PATCH",
        "/class-sessions/{session_id}",
        TRAINERS_SESSION,
        path=lambda i: f"/class-sessions/{i.class_session}",
        json={"title": "Joins, live (part 2)"},
    ),
    Case(
        "POST",
        "/class-sessions/{session_id}/cancel",
        TRAINERS_SESSION,
        path=lambda i: f"/class-sessions/{i.class_session}/cancel",
    ),
    Case(
        "GET",
        "/class-sessions/{session_id}/attendance",
        TRAINERS_SESSION,
        path=lambda i: f"/class-sessions/{i.class_session}/attendance",
    ),
    Case("GET", "/class-sessions/warm-up", HUB_ONLY, params={"lead_minutes": "10"}),
    Case(
        "POST",
        "/class-sessions/workspace-activity",
        HUB_ONLY,
        json={"activity": [{"user": "ada", "at": TOMORROW.isoformat()}]},
    ),
    # the hub deleted a user: its profile is closed (hub service and admins)
    Case(
        "POST",
        "/users/{username}/close",
        expect(401, 200, 403, 403, 403, 403, 200, 200),
        path=lambda i: "/users/ada/close",
    ),
]


def api_routes() -> set[tuple[str, str]]:
    """(method, path without /api/v1) of every route the app serves, from its OpenAPI."""
    spec = create_app(Settings(database_url="sqlite://")).openapi()
    return {
        (method.upper(), path.removeprefix("/api/v1"))
        for path, operations in spec["paths"].items()
        for method in operations
    }


def test_the_matrix_covers_every_route():
    covered = {(case.method, case.route) for case in CASES}
    assert len(covered) == len(CASES), "a route is listed twice"
    assert covered == api_routes()


_IDS: dict[str, Ids] = {}


@dataclass
class Prepared:
    """The route case the app's database is set up for, and whether a request wrote since."""

    key: tuple[str, ...]
    ids: "Ids"
    wrote: bool = False


_PREPARED: dict[str, Prepared] = {}  # backend -> what its database holds now


def prepared(matrix_apps, auth, backend: str, key: tuple[str, ...], set_up) -> tuple[Any, "Ids"]:
    """The app with its database set up for the route case `key`: reused as it is when the
    last request was the same case's and wrote nothing, else a fresh copy of the demo school
    with `set_up(api, ids)` run on it."""
    last = _PREPARED.get(backend)
    if last is not None and last.key == key and not last.wrote:
        api, _url = matrix_apps(backend, restore=False)
        return api, last.ids
    api, _url = matrix_apps(backend, restore=last is not None)
    ids = _ids(api, auth, backend)
    _PREPARED[backend] = Prepared(key, ids, wrote=True)  # until the set-up is through
    set_up(api, ids)
    _PREPARED[backend].wrote = False
    return api, ids


def wrote(backend: str, method: str, response) -> None:
    """Remember that a request may have changed the database (a write that succeeded)."""
    if method != "GET" and response.status_code < 400:
        _PREPARED[backend].wrote = True


def _ids(api, auth, backend: str) -> Ids:
    """The demo ids, read once per backend: every copy of the school has the same ones."""
    if backend not in _IDS:
        _IDS[backend] = _read_ids(api, auth)
    known = _IDS[backend]
    return Ids(known.enrollment, known.project, known.step, known.notebook, known.link)


def _read_ids(api, auth) -> Ids:
    me = api.get("/api/v1/enrollments", params={"username": "ada"}, headers=auth("admin"))
    enrollment = me.json()["results"][0]["id"]
    track = api.get("/api/v1/tracks/DP", headers=auth("admin")).json()
    project_id = next(p["id"] for p in track["projects"] if p["number"] == 1)
    project = api.get(f"/api/v1/projects/{project_id}", headers=auth("admin")).json()
    kinds = {d["kind"]: d["id"] for d in project["deliverables"]}
    return Ids(
        enrollment=enrollment,
        project=project_id,
        step=project["steps"][0]["id"],
        notebook=kinds["notebook"],
        link=kinds["url"],
    )


def _set_up(api, auth, case: Case, ids: Ids) -> None:
    """What a case needs to exist first: ada's submission, ada's marked step."""
    if case.route.startswith("/submissions/{submission_id}"):
        made = api.post(
            "/api/v1/submissions/upload",
            data={"deliverable_id": str(ids.notebook)},
            files={"file": ("work.ipynb", notebook(), "application/json")},
            headers=auth("ada"),
        )
        assert made.status_code == 201, made.text
        ids.submission = made.json()["id"]
    if case.method == "DELETE" and case.route == "/tracks/{code}":
        made = api.post(
            "/api/v1/tracks",
            json={"code": "OLD", "name": "Retired", "workspace_kinds": ["jupyterlab"]},
            headers=auth("admin"),
        )
        assert made.status_code == 201, made.text
    if case.route.startswith(("/quizzes/{quiz_id}", "/attempts/{attempt_id}")):
        for key, publish in (("quiz", True), ("draft", False)):
            made = api.post("/api/v1/quizzes", json=QUIZ, headers=auth("trainer"))
            assert made.status_code == 201, made.text
            setattr(ids, key, made.json()["id"])
            if publish:
                published = api.post(f"/api/v1/quizzes/{ids.quiz}/publish", headers=auth("trainer"))
                assert published.status_code == 200, published.text
    if case.route.startswith("/attempts/{attempt_id}"):
        started = api.post(f"/api/v1/quizzes/{ids.quiz}/attempts", headers=auth("ada"))
        assert started.status_code == 201, started.text
        ids.attempt = started.json()["id"]
        ids.question = started.json()["questions"][0]["id"]
    if case.route.startswith("/payments/{payment_id}"):
        made = api.post("/api/v1/payments/intents", json={"track": "FSD"}, headers=auth("ada"))
        assert made.status_code == 201, made.text
        ids.payment = made.json()["payment"]["id"]
    if case.route.startswith("/class-sessions/{session_id}"):
        made = api.post("/api/v1/class-sessions", json=CLASS_SESSION, headers=auth("trainer"))
        assert made.status_code == 201, made.text
        ids.class_session = made.json()["id"]
    if case.method == "DELETE" and case.route == "/progress/steps/{step_id}":
        marked = api.put(f"/api/v1/progress/steps/{ids.step}", headers=auth("ada"))
        assert marked.status_code == 201, marked.text


@pytest.fixture(scope="module")
def matrix_apps(hub, seeded, tmp_path_factory):
    """One app per backend for the whole matrix, its database reset to the demo school for
    each case (building an app per case would cost more than all the requests). `get(backend,
    restore=False)` skips the reset when the caller knows the last case wrote nothing."""
    apps: dict[str, tuple[TestClient, str]] = {}
    with contextlib.ExitStack() as stack:
        stripe = FakeStripe().start()
        stack.callback(stripe.stop)

        def get(backend: str, restore: bool = True) -> tuple[TestClient, str]:
            if backend not in apps:
                folder = tmp_path_factory.mktemp(f"matrix-{backend}")
                url = f"sqlite:///{folder / 'lms.db'}"
                if backend == "postgresql":
                    url = leased_postgres_database(stack, seeded)
                seeded.restore(url)
                settings = app_settings(
                    hub,
                    url,
                    folder / "uploads",
                    auth_cache_seconds=300,
                    **stripe_settings(stripe),
                )
                apps[backend] = (stack.enter_context(TestClient(create_app(settings))), url)
            client, url = apps[backend]
            if restore:
                client.portal.call(client.app.state.database.engine.dispose)  # drop pooled links
                seeded.restore(url)
            return client, url

        yield get


def leased_postgres_database(stack: contextlib.ExitStack, seeded) -> str:
    """A database `seeded.restore` resets in milliseconds, for the module."""
    return stack.enter_context(seeded.lease(postgres_admin_url()))


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method} {c.route}")
def test_permission_matrix(matrix_apps, auth, case: Case, caller: str):
    backend = default_backend()
    api, ids = prepared(
        matrix_apps,
        auth,
        backend,
        ("api", case.method, case.route),
        lambda api, ids: _set_up(api, auth, case, ids),
    )
    path = "/api/v1" + (case.path(ids) if case.path else case.route)
    headers = {} if caller == "nobody" else auth(caller)
    kwargs: dict[str, Any] = {"headers": headers, "params": case.params}
    if case.json is not None:
        body = dict(case.json)
        if case.route == "/submissions":
            body["deliverable_id"] = ids.link
        kwargs["json"] = body
    if case.upload is not None:
        kind, data = case.upload
        kwargs["data"] = {"deliverable_id": str(getattr(ids, kind))}
        kwargs["files"] = {"file": ("work.ipynb", data, "application/json")}
    response = api.request(case.method, path, **kwargs)
    wrote(backend, case.method, response)

    expected = case.expected[caller]
    assert response.status_code == expected, (
        f"{case.method} {path} as {caller}: expected {expected}, got {response.status_code}: "
        f"{response.text[:300]}"
    )
    if expected >= 400:
        error = response.json()["error"]
        assert error["message"] and error["code"], response.text
