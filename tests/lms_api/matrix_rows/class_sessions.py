"""Matrix rows of the class-session pages (lms_api/portal/class_sessions.py): staff only; a
trainer schedules for their own students (coach has none in DP: the form again, 422); a
session `trainer` scheduled is theirs and the admins' (coach does not see it: 404)."""

from datetime import UTC, datetime, timedelta

from tests.lms_api.portal_matrix import ADAS_REVIEW, ADAS_REVIEW_POST, STAFF_PAGE, Page, expect
from tests.lms_api.test_permissions import CLASS_SESSION

NEEDS = "a class session by trainer"  # ids.class_session: DP, expects ada
TOMORROW = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
A_SESSION_FORM = {
    "title": "Joins, live",
    "track": "DP",
    "date": TOMORROW,
    "start": "09:00",
    "end": "11:00",
    "workspace_kind": "jupyterlab",
    "students": "ada",
}
SCHEDULE_POST = expect("401", "401", "403", "403", "303", "422", "303", "303")
ONE = "/portal/sessions/{session_id}"


def _one(method: str, tail: str, expected: dict[str, str]) -> Page:
    path = f"/portal/sessions/{{class_session}}{tail}"
    return Page(method, ONE + tail, expected, path=path, needs=NEEDS)


PAGES = [
    Page("GET", "/portal/sessions", STAFF_PAGE),
    Page("GET", "/portal/sessions/new", STAFF_PAGE),
    Page("POST", "/portal/sessions/new", SCHEDULE_POST, form=A_SESSION_FORM),
    _one("GET", "", ADAS_REVIEW),
    _one("GET", "/cancel", ADAS_REVIEW),
    _one("POST", "/cancel", ADAS_REVIEW_POST),
]


def set_up(api, auth, page: Page, ids) -> None:
    if page.needs == NEEDS:
        made = api.post("/api/v1/class-sessions", json=CLASS_SESSION, headers=auth("trainer"))
        assert made.status_code == 201, made.text
        ids.class_session = made.json()["id"]
