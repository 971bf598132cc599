"""Enrollments: who sees which, admins grant and revoke with history, and the workspace rule."""

import json

import pytest
from sqlalchemy import create_engine, text

from lms_api.database import sync_url
from tests.lms_api.conftest import assert_error, rows

URL = "/api/v1/enrollments"


def outbox(database_url: str, topic: str) -> list[dict]:
    found = rows(
        database_url, "SELECT payload FROM outbox_events WHERE topic = :t ORDER BY id", t=topic
    )
    return [p if isinstance(p, dict) else json.loads(p) for (p,) in found]


def listing(api, auth, caller: str, **params) -> dict:
    response = api.get(URL, params=params, headers=auth(caller))
    assert response.status_code == 200, response.text
    return response.json()


def pairs(page: dict) -> list[tuple[str, str]]:
    return [(e["username"], e["track_code"]) for e in page["results"]]


def enrollment_id(api, auth, username: str, track: str) -> int:
    page = listing(api, auth, "admin", username=username, track=track)
    assert page["count"] == 1
    return page["results"][0]["id"]


def allowed(api, auth, username: str) -> list[str]:
    response = api.get("/api/v1/workspaces/allowed", params={"user": username}, headers=auth("hub"))
    assert response.status_code == 200
    return response.json()["kinds"]


def grant(api, auth, username: str, track: str, caller: str = "office", **extra):
    return api.post(URL, json={"username": username, "track": track, **extra}, headers=auth(caller))


# --- reading ---------------------------------------------------------------------------------


@pytest.mark.parametrize("caller", ["admin", "office", "trainer"])
def test_admins_and_the_trainer_see_both_demo_students(api, auth, caller):
    page = listing(api, auth, caller)
    assert page["count"] == 2
    assert pairs(page) == [("ada", "DP"), ("linus", "FSD")]
    first = page["results"][0]
    assert first["status"] == "active" and first["source"] == "grant"
    assert first["workspace_kinds"] == ["jupyterlab", "superset"]
    assert first["created_at"].endswith(("Z", "+00:00"))
    assert (page["next"], page["previous"]) == (None, None)


def test_a_trainer_sees_only_their_students(api, auth):
    grant(api, auth, "grace", "DP")  # grace has no trainer
    assert listing(api, auth, "admin")["count"] == 3
    assert pairs(listing(api, auth, "trainer")) == [("ada", "DP"), ("linus", "FSD")]
    assert listing(api, auth, "coach") == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }


def test_students_see_only_their_own(api, auth):
    assert pairs(listing(api, auth, "ada")) == [("ada", "DP")]
    assert pairs(listing(api, auth, "linus")) == [("linus", "FSD")]
    assert listing(api, auth, "grace")["count"] == 0
    # Asking for someone else's by filter gives nothing, not an error.
    assert listing(api, auth, "ada", username="linus")["count"] == 0


def test_service_tokens_and_strangers_cannot_list(api, auth):
    assert_error(api.get(URL, headers=auth("hub")), 403, "forbidden")
    assert_error(api.get(URL), 401, "not_authenticated")


def test_filters_and_pagination(api, auth):
    assert grant(api, auth, "grace", "DP").status_code == 201
    assert grant(api, auth, "grace", "FSD").status_code == 201
    revoked = enrollment_id(api, auth, "grace", "FSD")
    api.post(f"{URL}/{revoked}/revoke", json={"reason": "test"}, headers=auth("office"))

    assert pairs(listing(api, auth, "admin", track="DP")) == [("ada", "DP"), ("grace", "DP")]
    assert pairs(listing(api, auth, "admin", username="grace")) == [
        ("grace", "DP"),
        ("grace", "FSD"),
    ]
    assert pairs(listing(api, auth, "admin", status="cancelled")) == [("grace", "FSD")]
    assert listing(api, auth, "admin", status="active")["count"] == 3
    assert listing(api, auth, "admin", track="NOPE")["count"] == 0
    assert pairs(listing(api, auth, "trainer", track="FSD")) == [("linus", "FSD")]

    everything = listing(api, auth, "admin")
    ids = [e["id"] for e in everything["results"]]
    assert everything["count"] == 4 and ids == sorted(ids)
    first = listing(api, auth, "admin", limit=3)
    assert [e["id"] for e in first["results"]] == ids[:3]
    assert first["previous"] is None and "offset=3" in first["next"]
    assert "limit=3" in first["next"]
    second = api.get(first["next"], headers=auth("admin")).json()
    assert [e["id"] for e in second["results"]] == ids[3:]
    assert second["next"] is None and "offset=0" in second["previous"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "paused"}, "status"),
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"offset": -1}, "offset"),
        ({"track": "X" * 17}, "track"),
    ],
)
def test_bad_list_parameters_are_422_naming_the_field(api, auth, params, field):
    response = api.get(URL, params=params, headers=auth("admin"))
    assert_error(response, 422, "invalid_input", field=field)


def test_detail_shows_history_to_those_who_may_see_it(api, auth):
    ada = enrollment_id(api, auth, "ada", "DP")
    for caller in ("ada", "trainer", "office", "admin"):
        response = api.get(f"{URL}/{ada}", headers=auth(caller))
        assert response.status_code == 200, (caller, response.text)
        body = response.json()
        assert (body["id"], body["username"], body["track_code"]) == (ada, "ada", "DP")
        assert body["history"] == []  # the demo seed writes no history


@pytest.mark.parametrize("caller", ["linus", "grace", "coach"])
def test_others_get_404_not_403(api, auth, caller):
    ada = enrollment_id(api, auth, "ada", "DP")
    hidden = api.get(f"{URL}/{ada}", headers=auth(caller))
    missing = api.get(f"{URL}/999999", headers=auth(caller))
    assert_error(hidden, 404, "not_found")
    assert_error(missing, 404, "not_found")
    # Indistinguishable from an enrollment that does not exist, apart from the id.
    assert hidden.json()["error"]["message"].replace(str(ada), "N") == missing.json()["error"][
        "message"
    ].replace("999999", "N")


def test_bad_ids_are_422(api, auth):
    for bad in ("0", "abc", "99999999999"):
        assert_error(
            api.get(f"{URL}/{bad}", headers=auth("admin")),
            422,
            "invalid_input",
            field="enrollment_id",
        )


# --- granting and revoking -------------------------------------------------------------------


def test_grant_then_revoke_keeps_history_outbox_and_workspace_rule(api, auth, database_url):
    assert allowed(api, auth, "grace") == []
    granted = grant(api, auth, "grace", "DP", reason="Scholarship")
    assert granted.status_code == 201, granted.text
    body = granted.json()
    assert (body["username"], body["track_code"]) == ("grace", "DP")
    assert (body["status"], body["source"]) == ("active", "grant")
    assert len(body["history"]) == 1
    event = body["history"][0]
    assert {k: event[k] for k in ("from_status", "to_status", "source", "actor", "reason")} == {
        "from_status": None,
        "to_status": "active",
        "source": "grant",
        "actor": "office",
        "reason": "Scholarship",
    }
    assert event["at"]
    assert allowed(api, auth, "grace") == ["jupyterlab", "superset"]
    assert outbox(database_url, "enrollment.granted") == [
        {
            "enrollment_id": body["id"],
            "username": "grace",
            "track": "DP",
            "from_status": None,
            "actor": "office",
            "reason": "Scholarship",
        }
    ]

    revoked = api.post(
        f"{URL}/{body['id']}/revoke", json={"reason": "Left the school"}, headers=auth("admin")
    )
    assert revoked.status_code == 200, revoked.text
    after = revoked.json()
    assert after["status"] == "cancelled" and after["source"] == "grant"
    assert [
        (h["from_status"], h["to_status"], h["actor"], h["reason"]) for h in after["history"]
    ] == [
        (None, "active", "office", "Scholarship"),
        ("active", "cancelled", "admin", "Left the school"),
    ]
    assert allowed(api, auth, "grace") == []
    assert [e["reason"] for e in outbox(database_url, "enrollment.revoked")] == ["Left the school"]
    # Reading it again gives the same history.
    again = api.get(f"{URL}/{body['id']}", headers=auth("grace")).json()
    assert again["history"] == after["history"]

    regranted = grant(api, auth, "grace", "DP", reason="Came back")
    assert regranted.status_code == 201
    assert regranted.json()["id"] == body["id"]  # the same enrollment, re-activated
    assert [h["to_status"] for h in regranted.json()["history"]] == [
        "active",
        "cancelled",
        "active",
    ]
    assert regranted.json()["history"][-1]["from_status"] == "cancelled"
    assert allowed(api, auth, "grace") == ["jupyterlab", "superset"]
    assert len(outbox(database_url, "enrollment.granted")) == 2


def test_revoking_a_demo_student_closes_the_workspaces_of_that_track(api, auth):
    assert grant(api, auth, "linus", "DP").status_code == 201
    assert allowed(api, auth, "linus") == ["jupyterlab", "code-server", "superset"]
    fsd = enrollment_id(api, auth, "linus", "FSD")
    response = api.post(f"{URL}/{fsd}/revoke", json={"reason": "Unpaid"}, headers=auth("office"))
    assert response.status_code == 200
    assert allowed(api, auth, "linus") == ["jupyterlab", "superset"]
    ada = enrollment_id(api, auth, "ada", "DP")
    api.post(f"{URL}/{ada}/revoke", json={"reason": "Unpaid"}, headers=auth("office"))
    assert allowed(api, auth, "ada") == []
    me = api.get("/api/v1/me", headers=auth("ada")).json()
    assert [(e["track_code"], e["status"]) for e in me["enrollments"]] == [("DP", "cancelled")]


def test_grant_to_a_new_user_creates_the_profile(api, auth, database_url):
    assert rows(database_url, "SELECT id FROM people WHERE username = 'newcomer'") == []
    response = grant(api, auth, "newcomer", "FSD")
    assert response.status_code == 201
    assert response.json()["history"][0]["reason"] == ""
    assert len(rows(database_url, "SELECT id FROM people WHERE username = 'newcomer'")) == 1
    assert allowed(api, auth, "newcomer") == ["jupyterlab", "code-server"]


def test_conflicts_are_409_and_write_nothing(api, auth, database_url):
    already = grant(api, auth, "ada", "DP")
    assert_error(already, 409, "conflict")
    assert "already active" in already.json()["error"]["message"]
    ada = enrollment_id(api, auth, "ada", "DP")
    assert (
        api.post(f"{URL}/{ada}/revoke", json={"reason": "x"}, headers=auth("office")).status_code
        == 200
    )
    again = api.post(f"{URL}/{ada}/revoke", json={"reason": "x"}, headers=auth("office"))
    assert_error(again, 409, "conflict")
    assert "cancelled" in again.json()["error"]["message"]
    assert len(api.get(f"{URL}/{ada}", headers=auth("admin")).json()["history"]) == 1
    assert outbox(database_url, "enrollment.granted") == []
    assert len(outbox(database_url, "enrollment.revoked")) == 1


def test_refunded_enrollments_cannot_be_revoked(api, auth, database_url):
    ada = enrollment_id(api, auth, "ada", "DP")
    engine = create_engine(sync_url(database_url))
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE enrollments SET status = 'refunded' WHERE id = :i"), {"i": ada}
        )
    engine.dispose()
    response = api.post(f"{URL}/{ada}/revoke", json={"reason": "x"}, headers=auth("office"))
    assert_error(response, 409, "conflict")


def test_unknown_track_is_404_naming_the_field_and_creates_nobody(api, auth, database_url):
    response = grant(api, auth, "stranger", "NOPE")
    error = assert_error(response, 404, "not_found")
    assert error["details"] == {"field": "track", "value": "NOPE"}
    assert rows(database_url, "SELECT id FROM people WHERE username = 'stranger'") == []
    assert rows(database_url, "SELECT id FROM outbox_events") == []


def test_unknown_enrollment_revoke_is_404(api, auth):
    response = api.post(f"{URL}/999999/revoke", json={"reason": "x"}, headers=auth("office"))
    assert_error(response, 404, "not_found")


@pytest.mark.parametrize("caller", ["trainer", "coach", "ada", "hub"])
def test_only_admins_grant_and_revoke(api, auth, caller, database_url):
    assert_error(grant(api, auth, "grace", "DP", caller=caller), 403, "forbidden")
    ada = enrollment_id(api, auth, "ada", "DP")
    refused = api.post(f"{URL}/{ada}/revoke", json={"reason": "x"}, headers=auth(caller))
    assert_error(refused, 403, "forbidden")
    assert allowed(api, auth, "ada") == ["jupyterlab", "superset"]
    assert rows(database_url, "SELECT id FROM enrollment_events") == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"track": "DP"}, "username"),
        ({"username": "grace"}, "track"),
        ({"username": "", "track": "DP"}, "username"),
        ({"username": "has space", "track": "DP"}, "username"),
        ({"username": "x" * 256, "track": "DP"}, "username"),
        ({"username": "grace", "track": "X" * 17}, "track"),
        ({"username": "grace", "track": "DP", "reason": "r" * 501}, "reason"),
        ({"username": "grace", "track": "DP", "status": "active"}, "status"),
        ({"username": 7, "track": "DP"}, "username"),
    ],
)
def test_invalid_grants_are_422_naming_the_field(api, auth, body, field):
    response = api.post(URL, json=body, headers=auth("office"))
    assert_error(response, 422, "invalid_input", field=field)


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "reason"), ({"reason": "   "}, "reason"), ({"reason": "x", "extra": 1}, "extra")],
)
def test_invalid_revokes_are_422_naming_the_field(api, auth, body, field):
    ada = enrollment_id(api, auth, "ada", "DP")
    response = api.post(f"{URL}/{ada}/revoke", json=body, headers=auth("office"))
    assert_error(response, 422, "invalid_input", field=field)
    assert allowed(api, auth, "ada") == ["jupyterlab", "superset"]
