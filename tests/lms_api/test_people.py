"""People: profiles made on first use, admin management, deactivation, trainers and the cap.

Every test runs on SQLite and PostgreSQL against the real test hub (roles and the `trainers`
group come from there). Documented choices: an unknown *trainer* is 422 (not in the hub group
`trainers`), an unknown *student* is 404 (the hub has no such user).
"""

import asyncio

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from lms_api.config import Settings
from lms_api.database import sync_url
from lms_api.main import create_app
from tests.lms_api.conftest import assert_error

CAP_STUDENTS = [f"capstudent{i}" for i in range(10)]


def scalar(database_url: str, sql: str, **params):
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql), params).scalar()
    finally:
        engine.dispose()


def events(database_url: str, topic: str) -> int:
    return scalar(database_url, "SELECT count(*) FROM outbox_events WHERE topic = :t", t=topic)


# --- your own profile ----------------------------------------------------------------------
@pytest.mark.dialects
def test_profile_is_created_on_first_authenticated_call(api, auth, database_url):
    assert scalar(database_url, "SELECT count(*) FROM people WHERE username = 'grace'") == 0
    assert api.get("/api/v1/tracks", headers=auth("grace")).status_code == 200
    assert scalar(database_url, "SELECT count(*) FROM people WHERE username = 'grace'") == 1
    me = api.get("/api/v1/me", headers=auth("grace")).json()
    assert me == {
        "username": "grace",
        "role": "student",
        "enrollments": [],
        "name": "",
        "email": "",
        "trainer": None,
    }
    ada = api.get("/api/v1/me", headers=auth("ada")).json()
    assert (ada["role"], ada["trainer"]) == ("student", "trainer")
    profile = api.get("/api/v1/users/grace", headers=auth("office")).json()
    assert (profile["username"], profile["is_active"], profile["trainer"]) == ("grace", True, None)


def test_patch_me_changes_name_and_email_and_validates(api, auth, database_url):
    ok = api.patch(
        "/api/v1/me",
        json={"name": "  Ada Lovelace ", "email": "ada@example.org"},
        headers=auth("ada"),
    )
    assert ok.status_code == 200, ok.text
    assert (ok.json()["name"], ok.json()["email"]) == ("Ada Lovelace", "ada@example.org")
    assert ok.json()["enrollments"][0]["track_code"] == "DP"
    me = api.get("/api/v1/me", headers=auth("ada")).json()
    assert (me["name"], me["email"], me["trainer"]) == (
        "Ada Lovelace",
        "ada@example.org",
        "trainer",
    )
    assert events(database_url, "person.updated") == 1
    # The same values again change nothing and record nothing.
    api.patch("/api/v1/me", json={"name": "Ada Lovelace"}, headers=auth("ada"))
    assert events(database_url, "person.updated") == 1

    for body, field in (
        ({"name": "x" * 201}, "name"),
        ({"email": "not-an-address"}, "email"),
        ({"email": "a@" + "b" * 320 + ".org"}, "email"),
        ({"name": None}, "name"),
        ({"role": "admin"}, "role"),
    ):
        response = api.patch("/api/v1/me", json=body, headers=auth("ada"))
        error = assert_error(response, 422, "invalid_input")
        assert field in error["message"], (body, error)
        assert any(d["field"] == f"body.{field}" for d in error["details"]), error
    assert api.get("/api/v1/me", headers=auth("ada")).json()["name"] == "Ada Lovelace"


# --- admins --------------------------------------------------------------------------------
def test_admins_list_filter_paginate_read_and_update(api, auth, database_url):
    for caller in ("grace", "coach", "office"):  # make their profiles
        api.get("/api/v1/me", headers=auth(caller))
    everyone = api.get("/api/v1/users", headers=auth("admin")).json()
    names = [p["username"] for p in everyone["results"]]
    assert names == sorted(names)
    assert {"admin", "ada", "coach", "grace", "linus", "office", "trainer"} <= set(names)
    assert everyone["count"] == len(names) and everyone["next"] is None

    first = api.get("/api/v1/users?limit=2", headers=auth("office")).json()
    assert [p["username"] for p in first["results"]] == names[:2]
    assert first["count"] == len(names) and first["previous"] is None
    second = api.get(first["next"], headers=auth("office")).json()
    assert [p["username"] for p in second["results"]] == names[2:4]
    assert second["previous"] is not None

    linus = api.get("/api/v1/users", params={"q": "LIN"}, headers=auth("office")).json()
    assert [p["username"] for p in linus["results"]] == ["linus"]
    assert linus["results"][0]["trainer"] == "trainer"
    api.patch("/api/v1/users/grace", json={"name": "Grace Hopper"}, headers=auth("office"))
    by_name = api.get("/api/v1/users", params={"q": "hopper"}, headers=auth("office")).json()
    assert [p["username"] for p in by_name["results"]] == ["grace"]
    nothing = api.get("/api/v1/users", params={"q": "%"}, headers=auth("office")).json()
    assert nothing["count"] == 0  # `%` is a character, not a wildcard
    inactive = api.get("/api/v1/users", params={"active": "false"}, headers=auth("office"))
    assert inactive.json()["count"] == 0

    trainer = api.get("/api/v1/users/trainer", headers=auth("office")).json()
    assert (trainer["assigned_students"], trainer["is_active"]) == (2, True)
    assert trainer["created_at"].endswith("Z") or "+00:00" in trainer["created_at"]
    assert_error(api.get("/api/v1/users/nobody", headers=auth("office")), 404, "not_found")
    assert_error(api.patch("/api/v1/users/nobody", json={"name": "N"}, headers=auth("office")), 404)

    updated = api.patch(
        "/api/v1/users/grace",
        json={"name": "Grace B. Hopper", "email": "grace@example.org"},
        headers=auth("admin"),
    )
    assert updated.status_code == 200, updated.text
    assert (updated.json()["name"], updated.json()["email"]) == (
        "Grace B. Hopper",
        "grace@example.org",
    )
    assert api.get("/api/v1/me", headers=auth("grace")).json()["email"] == "grace@example.org"
    bad = api.patch("/api/v1/users/grace", json={"username": "x"}, headers=auth("admin"))
    assert "username" in assert_error(bad, 422, "invalid_input")["message"]
    assert events(database_url, "person.updated") == 2


@pytest.mark.parametrize("caller", ["ada", "trainer", "coach"])
def test_only_admins_manage_users(api, auth, caller):
    for method, path, body in (
        ("GET", "/api/v1/users", None),
        ("GET", "/api/v1/users/linus", None),
        ("PATCH", "/api/v1/users/linus", {"name": "L"}),
        ("POST", "/api/v1/users/linus/deactivate", None),
        ("PUT", "/api/v1/users/grace/trainer", {"trainer": "coach"}),
        ("DELETE", "/api/v1/users/ada/trainer", None),
    ):
        response = api.request(method, path, json=body, headers=auth(caller))
        assert_error(response, 403, "forbidden")
    assert api.get("/api/v1/users/linus", headers=auth("admin")).json()["name"] == ""


def test_a_deactivated_user_is_refused_everywhere_until_reactivated(api, auth, database_url):
    assert api.get("/api/v1/me", headers=auth("grace")).status_code == 200
    done = api.post("/api/v1/users/grace/deactivate", headers=auth("office"))
    assert done.status_code == 200 and done.json()["is_active"] is False
    again = api.post("/api/v1/users/grace/deactivate", headers=auth("office"))
    assert again.status_code == 200 and again.json()["is_active"] is False
    assert events(database_url, "person.deactivated") == 1

    for method, path in (("GET", "/api/v1/me"), ("GET", "/api/v1/tracks"), ("PATCH", "/api/v1/me")):
        response = api.request(method, path, json={"name": "G"}, headers=auth("grace"))
        error = assert_error(response, 403, "account_deactivated")
        assert "account deactivated" in error["message"]
    listed = api.get("/api/v1/users?active=false", headers=auth("office")).json()
    assert [p["username"] for p in listed["results"]] == ["grace"]
    # The hub service is not a user: unaffected.
    hub = api.get("/api/v1/workspaces/allowed?user=grace", headers=auth("hub"))
    assert hub.status_code == 200

    back = api.patch("/api/v1/users/grace", json={"is_active": True}, headers=auth("office"))
    assert back.status_code == 200 and back.json()["is_active"] is True
    assert api.get("/api/v1/me", headers=auth("grace")).status_code == 200
    assert api.get("/api/v1/tracks", headers=auth("grace")).status_code == 200

    # PATCH can deactivate too; nobody can deactivate themselves (no lock-out).
    off = api.patch("/api/v1/users/linus", json={"is_active": False}, headers=auth("admin"))
    assert off.json()["is_active"] is False
    assert_error(api.get("/api/v1/me", headers=auth("linus")), 403, "account_deactivated")
    assert events(database_url, "person.deactivated") == 2
    api.get("/api/v1/me", headers=auth("office"))
    assert_error(api.post("/api/v1/users/office/deactivate", headers=auth("office")), 409)
    assert_error(api.post("/api/v1/users/nobody/deactivate", headers=auth("office")), 404)


# --- trainers and assignments --------------------------------------------------------------
def test_trainers_are_listed_for_staff_with_their_load(api, auth):
    for caller in ("trainer", "coach", "office", "admin"):
        response = api.get("/api/v1/trainers", headers=auth(caller))
        assert response.status_code == 200, response.text
        body = response.json()
        by_name = {t["username"]: t for t in body["results"]}
        assert {"trainer", "coach"} <= set(by_name)
        assert [t["username"] for t in body["results"]] == sorted(by_name)
        assert (by_name["trainer"]["assigned_students"], by_name["trainer"]["cap"]) == (2, 20)
        assert by_name["trainer"]["available"] == 18
        assert by_name["coach"]["assigned_students"] == 0
    paged = api.get("/api/v1/trainers?limit=1", headers=auth("trainer")).json()
    assert len(paged["results"]) == 1 and paged["next"]
    for student in ("ada", "grace"):
        assert_error(api.get("/api/v1/trainers", headers=auth(student)), 403, "forbidden")


def test_assignment_rules(api, auth, database_url):
    def put(student, trainer, caller="office"):
        return api.put(
            f"/api/v1/users/{student}/trainer", json={"trainer": trainer}, headers=auth(caller)
        )

    def count(username):
        return api.get(f"/api/v1/users/{username}", headers=auth("office")).json()[
            "assigned_students"
        ]

    # The trainer must be in the hub group `trainers`: a student, an admin or an unknown name
    # is 422; the student must be a hub user (404) who is not staff (422).
    for trainer in ("ada", "office", "nobody"):
        error = assert_error(put("grace", trainer), 422, "invalid_input")
        assert "not a trainer" in error["message"]
    assert "not a student" in assert_error(put("coach", "trainer"), 422)["message"]
    assert "not a student" in assert_error(put("office", "coach"), 422)["message"]
    assert_error(put("nobody", "coach"), 404, "not_found")
    extra = api.put(
        "/api/v1/users/grace/trainer", json={"trainer": "coach", "x": 1}, headers=auth("office")
    )
    assert_error(extra, 422, "invalid_input")
    assert scalar(database_url, "SELECT count(*) FROM people WHERE username = 'grace'") == 0

    # New assignment: makes the profiles it needs.
    first = put("grace", "coach")
    assert first.status_code == 200, first.text
    assert first.json() == {
        "student": "grace",
        "trainer": "coach",
        "previous_trainer": None,
        "changed": True,
        "trainer_assigned_students": 1,
        "cap": 20,
    }
    assert api.get("/api/v1/me", headers=auth("grace")).json()["trainer"] == "coach"
    same = put("grace", "coach")
    assert same.status_code == 200 and same.json()["changed"] is False
    assert count("coach") == 1

    # Reassignment moves the student: old trainer -1, new trainer +1.
    moved = put("ada", "coach", caller="admin").json()
    assert (moved["previous_trainer"], moved["trainer_assigned_students"]) == ("trainer", 2)
    assert (count("trainer"), count("coach")) == (1, 2)
    assert api.get("/api/v1/me", headers=auth("ada")).json()["trainer"] == "coach"

    gone = api.delete("/api/v1/users/ada/trainer", headers=auth("office"))
    assert gone.status_code == 200
    assert (gone.json()["trainer"], gone.json()["previous_trainer"]) == (None, "coach")
    assert (count("trainer"), count("coach")) == (1, 1)
    assert api.get("/api/v1/me", headers=auth("ada")).json()["trainer"] is None
    twice = api.delete("/api/v1/users/ada/trainer", headers=auth("office"))
    assert twice.status_code == 200 and twice.json()["changed"] is False
    assert_error(api.delete("/api/v1/users/nobody/trainer", headers=auth("office")), 404)

    assert events(database_url, "person.trainer_assigned") == 2
    assert events(database_url, "person.trainer_unassigned") == 1
    assert scalar(database_url, "SELECT count(*) FROM trainer_assignments") == 2
    trainers = {
        t["username"]: t["assigned_students"]
        for t in api.get("/api/v1/trainers", headers=auth("office")).json()["results"]
    }
    assert (trainers["trainer"], trainers["coach"]) == (1, 1)


@pytest.fixture
def capped(api, hub, database_url):
    """A second app on the same (migrated, seeded) database with a cap of 3 per trainer."""
    for name in CAP_STUDENTS:  # hub accounts for the students, as the hub admins would make
        if hub.api("GET", f"/users/{name}").status_code == 404:
            hub.api("POST", f"/users/{name}").raise_for_status()
    settings = Settings(
        database_url=database_url,
        hub_api_url=hub.hub_api,
        lms_api_token=hub.secrets["APRANOVA_LMS_API_TOKEN"],
        auth_cache_seconds=30,
        max_students_per_trainer=3,
    )
    return create_app(settings)


@pytest.mark.dialects
def test_the_cap_holds_under_concurrent_assignments(capped, auth, database_url):
    async def scenario() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=capped)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://lms") as client:
                warm = await client.get("/api/v1/me", headers=auth("office"))  # its profile
                assert warm.status_code == 200, warm.text
                return await asyncio.gather(
                    *(
                        client.put(
                            f"/api/v1/users/{student}/trainer",
                            json={"trainer": "coach"},
                            headers=auth("office"),
                        )
                        for student in CAP_STUDENTS
                    )
                )
        finally:
            await capped.state.token_validator.aclose()
            await capped.state.database.dispose()

    responses = asyncio.run(scenario())
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 3 + [409] * 7, [r.text for r in responses]
    for refused in (r for r in responses if r.status_code == 409):
        assert refused.json()["error"]["message"] == "trainer coach already has 3 students (cap 3)"
        assert refused.json()["error"]["details"]["cap"] == 3
    assigned = {r.json()["student"] for r in responses if r.status_code == 200}

    assert (
        scalar(database_url, "SELECT assigned_students FROM people WHERE username = 'coach'") == 3
    )
    coach_rows = scalar(
        database_url,
        "SELECT count(*) FROM trainer_assignments a JOIN people t ON a.trainer_id = t.id "
        "WHERE t.username = 'coach'",
    )
    assert coach_rows == 3
    assert events(database_url, "person.trainer_assigned") == 3
    # Nothing half-written: a refused student got no profile either.
    profiles = scalar(
        database_url,
        "SELECT count(*) FROM people WHERE username LIKE 'capstudent%'",
    )
    assert profiles == 3 and len(assigned) == 3


def test_the_cap_applies_to_sequential_assignments_too(capped, auth):
    with TestClient(capped) as client:
        for student in CAP_STUDENTS[:3]:
            response = client.put(
                f"/api/v1/users/{student}/trainer",
                json={"trainer": "coach"},
                headers=auth("office"),
            )
            assert response.status_code == 200, response.text
        full = client.put(
            f"/api/v1/users/{CAP_STUDENTS[3]}/trainer",
            json={"trainer": "coach"},
            headers=auth("office"),
        )
        assert_error(full, 409, "trainer_full")
        # Moving a student away frees a seat.
        assert client.delete(f"/api/v1/users/{CAP_STUDENTS[0]}/trainer", headers=auth("office"))
        again = client.put(
            f"/api/v1/users/{CAP_STUDENTS[3]}/trainer",
            json={"trainer": "coach"},
            headers=auth("office"),
        )
        assert again.status_code == 200, again.text
        trainers = client.get("/api/v1/trainers", headers=auth("office")).json()["results"]
        coach = next(t for t in trainers if t["username"] == "coach")
        assert (coach["assigned_students"], coach["cap"], coach["available"]) == (3, 3, 0)
