"""Class sessions through the API: status codes, the one error body naming each field, the
shapes a trainer, a student and the hub read, and what the hub's reports do to attendance.
The rules themselves, at any moment of a clock the test chooses, are in
test_class_sessions_service.py; who may call which route is in test_permissions.py.
"""

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, update

from lms_api.class_sessions.models import ClassSession
from lms_api.database import sync_url
from lms_api.main import create_app
from tests.lms_api.conftest import app_settings, assert_error, rows

URL = "/api/v1/class-sessions"


def soon(minutes: float) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=minutes)


def body(starts_in: float = 60, hours: float = 2, **fields) -> dict:
    starts = soon(starts_in)
    return {
        "title": "Joins, live",
        "track": "DP",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=hours)).isoformat(),
        "workspace_kind": "jupyterlab",
        **fields,
    }


def schedule(api, auth, caller: str = "trainer", **fields) -> dict:
    made = api.post(URL, json=body(**fields), headers=auth(caller))
    assert made.status_code == 201, made.text
    return made.json()


def grant_grace(api, auth) -> None:
    granted = api.post(
        "/api/v1/enrollments",
        json={"username": "grace", "track": "DP", "reason": "Scholarship"},
        headers=auth("office"),
    )
    assert granted.status_code == 201, granted.text


def move(database_url: str, session_id: int, starts: datetime, ends: datetime) -> None:
    """Put a session elsewhere in time behind the API's back (the clock is the server's),
    written as the app writes timestamps (SQLite compares them as text)."""
    engine = create_engine(sync_url(database_url))
    try:
        with engine.begin() as connection:
            connection.execute(
                update(ClassSession)
                .where(ClassSession.id == session_id)
                .values(starts_at=starts, ends_at=ends)
            )
    finally:
        engine.dispose()


def test_a_trainer_schedules_changes_and_cancels_a_session(api, auth, database_url):
    made = schedule(api, auth)
    assert set(made) == {
        "id",
        "title",
        "track_code",
        "track_name",
        "workspace_kind",
        "starts_at",
        "ends_at",
        "status",
        "audience",
        "expected_students",
        "created_by",
        "created_at",
        "cancelled_at",
    }
    assert (made["status"], made["audience"], made["expected_students"]) == (
        "scheduled",
        "trainer",
        ["ada"],
    )
    assert (made["track_code"], made["created_by"], made["cancelled_at"]) == ("DP", "trainer", None)
    one = f"{URL}/{made['id']}"
    assert api.get(one, headers=auth("trainer")).json() == made

    later = soon(90)
    changed = api.patch(
        one,
        json={
            "title": "Joins, part 2",
            "starts_at": later.isoformat(),
            "workspace_kind": "superset",
        },
        headers=auth("trainer"),
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["title"], changed.json()["workspace_kind"]) == (
        "Joins, part 2",
        "superset",
    )
    assert datetime.fromisoformat(changed.json()["starts_at"]) == later

    first = api.post(f"{one}/cancel", headers=auth("trainer"))
    again = api.post(f"{one}/cancel", headers=auth("trainer"))  # a double click
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert first.json()["status"] == "cancelled" and first.json()["cancelled_at"]
    topics = rows(
        database_url,
        "SELECT topic FROM outbox_events WHERE topic LIKE 'class_session.%' ORDER BY id",
    )
    assert [t for (t,) in topics] == [
        "class_session.scheduled",
        "class_session.changed",
        "class_session.cancelled",
    ]
    assert_error(
        api.patch(one, json={"title": "Back on"}, headers=auth("trainer")),
        409,
        "session_cancelled",
    )
    assert_error(api.get(f"{one}/attendance", headers=auth("trainer")), 409, "session_cancelled")


def test_a_session_that_ended_is_a_record(api, auth, database_url):
    made = schedule(api, auth)
    move(database_url, made["id"], soon(-180), soon(-60))
    one = f"{URL}/{made['id']}"
    assert api.get(one, headers=auth("ada")).json()["status"] == "ended"
    for response in (
        api.patch(one, json={"title": "Afterwards"}, headers=auth("trainer")),
        api.post(f"{one}/cancel", headers=auth("office")),
    ):
        assert_error(response, 409, "session_ended", "ended")
    move(database_url, made["id"], soon(-60), soon(60))
    assert api.get(one, headers=auth("ada")).json()["status"] == "in_progress"


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"ends_at": "2026-01-05T09:00:00"}, "ends_at", "with its zone"),
        ({"starts_at": 1767600000}, "starts_at", "with its zone"),
        ({"hours": -1}, "ends_at", "after the start"),
        ({"hours": 13}, "ends_at", "at most 12 hours"),
        ({"starts_in": -300}, "ends_at", "in the future"),
        ({"starts_in": 60 * 24 * 400}, "starts_at", "a year ahead"),
        ({"workspace_kind": "code-server"}, "workspace_kind", "jupyterlab, superset"),
        ({"workspace_kind": "vscode"}, "workspace_kind", "jupyterlab"),
        ({"track": "ZZ"}, "track", "no track 'ZZ'"),
        ({"students": ["linus"]}, "students", "not one of your students active in DP: linus"),
        ({"students": ["ada", "ada"]}, "students", "named twice"),
        ({"title": " "}, "title", "at least 1"),
        ({"title": "a\x00b"}, "title", "control characters"),
    ],
)
def test_invalid_input_is_a_422_naming_the_field(api, auth, fields, field, words):
    response = api.post(URL, json=body(**fields), headers=auth("trainer"))
    assert_error(response, 422, "invalid_input", words, field=field)
    assert api.get(URL, headers=auth("office")).json()["count"] == 0


def test_a_change_is_checked_as_a_schedule(api, auth):
    made = schedule(api, auth)
    one = f"{URL}/{made['id']}"
    refused = api.patch(one, json={"ends_at": made["starts_at"]}, headers=auth("trainer"))
    assert_error(refused, 422, "invalid_input", "after the start", field="ends_at")
    assert_error(api.patch(one, json={"title": None}, headers=auth("trainer")), 422, field="title")
    assert_error(api.patch(one, json={"track": "FSD"}, headers=auth("trainer")), 422, field="track")
    assert_error(api.patch(one, json={"title": "x"}, headers=auth("coach")), 404, "not_found")
    assert_error(api.patch(one, json={"title": "x"}, headers=auth("ada")), 403, "forbidden")
    assert api.get(one, headers=auth("trainer")).json() == made


def test_students_read_the_sessions_they_are_expected_at(api, auth):
    grant_grace(api, auth)
    whole_track = schedule(api, auth, caller="office")
    fsd = schedule(api, auth, caller="office", track="FSD", workspace_kind="code-server")
    assert whole_track["expected_students"] == ["ada", "grace"]
    mine = api.get(URL, headers=auth("ada")).json()
    assert [s["id"] for s in mine["results"]] == [whole_track["id"]]
    assert mine["results"][0]["expected_students"] == ["ada"]  # not her classmates
    trainers = api.get(URL, headers=auth("trainer")).json()["results"]
    assert [(s["id"], s["expected_students"]) for s in trainers] == [
        (whole_track["id"], ["ada"]),
        (fsd["id"], ["linus"]),
    ]
    assert_error(api.get(f"{URL}/{fsd['id']}", headers=auth("ada")), 404, "not_found")
    assert api.get(URL, headers=auth("coach")).json()["count"] == 0


def test_list_filters_by_window_and_track_and_pages(api, auth):
    early = schedule(api, auth, caller="office", starts_in=60, hours=1)
    late = schedule(api, auth, caller="office", starts_in=300, hours=1)
    fsd = schedule(
        api,
        auth,
        caller="office",
        starts_in=120,
        hours=1,
        track="FSD",
        workspace_kind="code-server",
    )

    def ids(**params) -> list[int]:
        found = api.get(URL, params=params, headers=auth("office"))
        assert found.status_code == 200, found.text
        return [s["id"] for s in found.json()["results"]]

    assert ids() == [early["id"], fsd["id"], late["id"]]  # by start
    assert ids(track="DP") == [early["id"], late["id"]]
    assert ids(**{"from": soon(200).isoformat()}) == [late["id"]]  # ending from then on
    assert ids(to=soon(100).isoformat()) == [early["id"]]  # starting before then
    assert ids(**{"from": soon(130).isoformat(), "to": soon(200).isoformat()}) == [fsd["id"]]
    page = api.get(URL, params={"limit": 2}, headers=auth("office")).json()
    assert page["count"] == 3 and "offset=2" in page["next"]
    assert_error(
        api.get(URL, params={"from": "tomorrow"}, headers=auth("office")), 422, field="from"
    )


def test_the_hub_warms_up_reports_activity_and_the_trainer_reads_attendance(
    api, auth, database_url
):
    grant_grace(api, auth)
    starting = schedule(api, auth, caller="office", starts_in=5)
    later = schedule(api, auth, caller="office", starts_in=30)
    warm = api.get(f"{URL}/warm-up", params={"lead_minutes": 10}, headers=auth("hub"))
    assert warm.status_code == 200, warm.text
    answer = warm.json()
    assert answer["lead_minutes"] == 10 and answer["now"]
    assert answer["in_timed_attempts"] == []  # nobody is taking a timed quiz
    assert answer["sessions"] == [
        {
            "id": starting["id"],
            "title": "Joins, live",
            "track_code": "DP",
            "workspace_kind": "jupyterlab",
            "starts_at": starting["starts_at"],
            "ends_at": starting["ends_at"],
            "expected_students": ["ada", "grace"],
        }
    ]
    wider = api.get(f"{URL}/warm-up", params={"lead_minutes": 60}, headers=auth("hub")).json()
    assert [s["id"] for s in wider["sessions"]] == [starting["id"], later["id"]]

    # the class started 30 minutes ago: ada's workspace was in use at the start, grace's only now
    move(database_url, starting["id"], soon(-30), soon(90))
    start = soon(-30)
    report = {
        "activity": [
            {"user": "ada", "at": (start + timedelta(minutes=2)).isoformat()},
            {"user": "grace", "at": soon(0).isoformat()},
            {"user": "stranger", "at": soon(0).isoformat()},
        ]
    }
    for _ in range(2):  # a report sent twice counts once
        sent = api.post(f"{URL}/workspace-activity", json=report, headers=auth("hub"))
        assert sent.status_code == 200, sent.text
        assert sent.json() == {
            "received": 3,
            "recorded": 2,
            "unknown_users": 1,
            "outside_sessions": 0,
        }
    read = api.get(f"{URL}/{starting['id']}/attendance", headers=auth("office"))
    assert read.status_code == 200, read.text
    attendance = read.json()
    assert attendance["late_after_minutes"] == 10
    assert attendance["summary"] == {"present": 1, "late": 1, "absent": 0, "upcoming": 0}
    assert [(s["username"], s["status"], s["source"]) for s in attendance["students"]] == [
        ("ada", "present", "workspace"),
        ("grace", "late", "workspace"),
    ]
    mine = api.get(f"{URL}/{starting['id']}/attendance", headers=auth("trainer")).json()
    assert [s["username"] for s in mine["students"]] == ["ada"]  # only their own student
    upcoming = api.get(f"{URL}/{later['id']}/attendance", headers=auth("office")).json()
    assert {s["status"] for s in upcoming["students"]} == {"upcoming"}


def test_the_late_threshold_is_a_setting(hub, api, auth, database_url, upload_dir):
    made = schedule(api, auth, caller="office", starts_in=5)
    move(database_url, made["id"], soon(-30), soon(90))
    report = {"activity": [{"user": "ada", "at": soon(-5).isoformat()}]}  # 25 min after start
    assert api.post(f"{URL}/workspace-activity", json=report, headers=auth("hub")).is_success
    path = f"{URL}/{made['id']}/attendance"
    assert api.get(path, headers=auth("office")).json()["students"][0]["status"] == "late"
    settings = app_settings(hub, database_url, upload_dir, session_late_after_minutes=30)
    with TestClient(create_app(settings)) as patient:
        answer = patient.get(path, headers=auth("office")).json()
    assert answer["late_after_minutes"] == 30
    assert answer["students"][0]["status"] == "present"


def test_the_hub_routes_refuse_bad_input(api, auth):
    too_many = {"activity": [{"user": "ada", "at": soon(0).isoformat()}] * 5001}
    assert_error(
        api.post(f"{URL}/workspace-activity", json=too_many, headers=auth("hub")),
        422,
        field="activity",
    )
    naive = {"activity": [{"user": "ada", "at": "2026-01-05T09:00:00"}]}
    assert_error(
        api.post(f"{URL}/workspace-activity", json=naive, headers=auth("hub")), 422, field="at"
    )
    for lead in (-1, 1441, "soon"):
        response = api.get(f"{URL}/warm-up", params={"lead_minutes": lead}, headers=auth("hub"))
        assert_error(response, 422, field="lead_minutes")
    assert_error(api.get(f"{URL}/warm-up", headers=auth("hub")), 422, field="lead_minutes")
    assert_error(api.get(f"{URL}/warm-up?lead_minutes=10", headers=auth("ada")), 403)
