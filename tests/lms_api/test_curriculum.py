"""Curriculum: a public catalog, reading for enrolled students and staff, writing for admins.

Every test runs on SQLite and PostgreSQL (the `api` fixture), with real hub tokens.
"""

from typing import Any

import pytest
from sqlalchemy import create_engine, select, update

from lms_api.curriculum import service
from lms_api.database import sync_url
from lms_api.enrollments.models import Enrollment
from lms_api.outbox import OutboxEvent
from lms_api.people.models import Person
from tests.lms_api.conftest import assert_error

V1 = "/api/v1"
NEW_TRACK = {
    "code": "ML",
    "name": "Machine Learning Engineering",
    "description": "Models from notebook to production.",
    "duration_weeks": 20,
    "price_cents": 190000,
    "currency": "usd",
    "workspace_kinds": ["jupyterlab", "code-server"],
}
NEW_PROJECT = {
    "number": 1,
    "title": "Training a first model",
    "description": "From a CSV to a scored model.",
    "type": "CAPSTONE",
    "tech_stack": ["python", "scikit-learn"],
    "estimated_hours": 30,
}


# --- helpers -----------------------------------------------------------------------------
def _engine(api):
    return create_engine(sync_url(api.app.state.settings.database_url))


def curriculum_events(api) -> list[tuple[str, dict[str, Any]]]:
    """Outbox rows written by curriculum changes, oldest first."""
    engine = _engine(api)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(OutboxEvent.topic, OutboxEvent.payload)
                .where(OutboxEvent.topic.like("curriculum.%"))
                .order_by(OutboxEvent.id)
            ).all()
    finally:
        engine.dispose()
    return [(topic, payload) for topic, payload in rows]


def set_enrollment_status(api, username: str, status: str) -> None:
    engine = _engine(api)
    try:
        with engine.begin() as connection:
            person_id = select(Person.id).where(Person.username == username).scalar_subquery()
            connection.execute(
                update(Enrollment).where(Enrollment.person_id == person_id).values(status=status)
            )
    finally:
        engine.dispose()


def ids_of(api, auth, code: str) -> dict[str, int]:
    """Ids of the first project of a track, of its first step and first deliverable."""
    track = api.get(f"{V1}/tracks/{code}", headers=auth("admin")).json()
    project = api.get(f"{V1}/projects/{track['projects'][0]['id']}", headers=auth("admin")).json()
    return {
        "project": project["id"],
        "step": project["steps"][0]["id"],
        "deliverable": project["deliverables"][0]["id"],
    }


# --- public catalog ----------------------------------------------------------------------
def test_public_catalog_shows_prices_and_project_titles_only(api):
    response = api.get(f"{V1}/catalog")  # no token
    assert response.status_code == 200
    catalog = response.json()
    assert [t["code"] for t in catalog] == ["DP", "FSD"]
    dp = catalog[0]
    assert dp["name"] == "Data Professional"
    assert (dp["price_cents"], dp["currency"], dp["duration_weeks"]) == (150000, "eur", 24)
    assert dp["workspace_kinds"] == ["jupyterlab", "superset"]
    assert dp["projects"] == [
        {"number": 1, "title": "Exploring a dataset with pandas"},
        {"number": 2, "title": "SQL analytics with DuckDB"},
        {"number": 3, "title": "A dashboard in Superset"},
    ]
    for word in ("steps", "deliverables", "Load the data", "Project 1 of the"):
        assert word not in response.text


def test_catalog_hides_inactive_tracks_and_list_filters_them(api, auth):
    patched = api.patch(f"{V1}/tracks/FSD", json={"is_active": False}, headers=auth("office"))
    assert patched.status_code == 200 and patched.json()["is_active"] is False
    assert [t["code"] for t in api.get(f"{V1}/catalog").json()] == ["DP"]
    active = api.get(f"{V1}/tracks?active=true", headers=auth("grace")).json()
    inactive = api.get(f"{V1}/tracks?active=false", headers=auth("grace")).json()
    everything = api.get(f"{V1}/tracks", headers=auth("grace")).json()
    assert [t["code"] for t in active["results"]] == ["DP"]
    assert [t["code"] for t in inactive["results"]] == ["FSD"]
    assert (everything["count"], inactive["count"]) == (2, 1)


# --- admins write ------------------------------------------------------------------------
def test_admins_build_a_track_and_read_it_back(api, auth):
    office, admin = auth("office"), auth("admin")
    created = api.post(f"{V1}/tracks", json=NEW_TRACK, headers=office)
    assert created.status_code == 201, created.text
    assert created.json() == {**NEW_TRACK, "is_active": True, "projects": []}

    project = api.post(f"{V1}/tracks/ML/projects", json=NEW_PROJECT, headers=admin)
    assert project.status_code == 201, project.text
    project_id = project.json()["id"]
    assert project.json() == {
        **NEW_PROJECT,
        "id": project_id,
        "track_code": "ML",
        "steps": [],
        "deliverables": [],
    }
    # Steps come back in their order, whatever order they were added in.
    for order, title in ((2, "Train"), (1, "Load the data"), (3, "Score")):
        step = api.post(
            f"{V1}/projects/{project_id}/steps",
            json={"order": order, "title": title, "description": f"{title}."},
            headers=office,
        )
        assert step.status_code == 201, step.text
        assert step.json()["order"] == order and step.json()["title"] == title
    deliverable = api.post(
        f"{V1}/projects/{project_id}/deliverables",
        json={"title": "Pull request", "kind": "github_pr"},
        headers=office,
    )
    assert deliverable.status_code == 201
    assert deliverable.json()["required"] is True
    deliverable_id = deliverable.json()["id"]

    detail = api.get(f"{V1}/projects/{project_id}", headers=admin).json()
    assert [(s["order"], s["title"]) for s in detail["steps"]] == [
        (1, "Load the data"),
        (2, "Train"),
        (3, "Score"),
    ]
    assert [(d["title"], d["kind"]) for d in detail["deliverables"]] == [
        ("Pull request", "github_pr")
    ]
    track = api.get(f"{V1}/tracks/ML", headers=office).json()
    assert [(p["id"], p["number"], p["title"]) for p in track["projects"]] == [
        (project_id, 1, "Training a first model")
    ]
    assert "ML" in [t["code"] for t in api.get(f"{V1}/catalog").json()]

    # Edits: only what is sent changes.
    step_id = detail["steps"][2]["id"]
    assert api.patch(f"{V1}/steps/{step_id}", json={"order": 4}, headers=admin).json() == {
        "id": step_id,
        "order": 4,
        "title": "Score",
        "description": "Score.",
    }
    patched = api.patch(
        f"{V1}/deliverables/{deliverable_id}", json={"required": False}, headers=admin
    ).json()
    assert (patched["title"], patched["required"]) == ("Pull request", False)
    patched = api.patch(
        f"{V1}/projects/{project_id}", json={"title": "A model", "number": 5}, headers=admin
    ).json()
    assert (patched["number"], patched["title"], patched["estimated_hours"]) == (5, "A model", 30)
    assert [s["order"] for s in patched["steps"]] == [1, 2, 4]
    assert api.patch(f"{V1}/tracks/ML", json={}, headers=admin).json()["price_cents"] == 190000
    patched = api.patch(f"{V1}/tracks/ML", json={"price_cents": 0}, headers=admin).json()
    assert (patched["price_cents"], patched["name"]) == (0, NEW_TRACK["name"])

    topics = [(topic, p["by"]) for topic, p in curriculum_events(api)]
    assert topics == [
        ("curriculum.track.created", "office"),
        ("curriculum.project.created", "admin"),
        ("curriculum.step.created", "office"),
        ("curriculum.step.created", "office"),
        ("curriculum.step.created", "office"),
        ("curriculum.deliverable.created", "office"),
        ("curriculum.step.updated", "admin"),
        ("curriculum.deliverable.updated", "admin"),
        ("curriculum.project.updated", "admin"),
        ("curriculum.track.updated", "admin"),
    ]
    assert curriculum_events(api)[0][1] == {"code": "ML", "by": "office"}
    assert curriculum_events(api)[-1][1]["fields"] == ["price_cents"]


def test_trainers_students_and_services_cannot_write(api, auth):
    ids = ids_of(api, auth, "DP")
    catalog_before = api.get(f"{V1}/catalog").json()
    project_before = api.get(f"{V1}/projects/{ids['project']}", headers=auth("admin")).json()
    writes = [
        ("post", "/tracks", NEW_TRACK),
        ("patch", "/tracks/DP", {"name": "Renamed"}),
        ("delete", "/tracks/FSD", None),
        ("post", "/tracks/DP/projects", {**NEW_PROJECT, "number": 9}),
        ("patch", f"/projects/{ids['project']}", {"title": "Renamed"}),
        ("delete", f"/projects/{ids['project']}", None),
        ("post", f"/projects/{ids['project']}/steps", {"order": 9, "title": "More"}),
        ("patch", f"/steps/{ids['step']}", {"title": "Renamed"}),
        ("delete", f"/steps/{ids['step']}", None),
        ("post", f"/projects/{ids['project']}/deliverables", {"title": "X", "kind": "file"}),
        ("patch", f"/deliverables/{ids['deliverable']}", {"required": False}),
        ("delete", f"/deliverables/{ids['deliverable']}", None),
    ]
    for caller in ("trainer", "coach", "ada", "grace", "hub"):
        for method, path, body in writes:
            kwargs = {"json": body} if body is not None else {}
            response = api.request(method, f"{V1}{path}", headers=auth(caller), **kwargs)
            assert response.status_code == 403, (caller, method, path, response.text)
            assert response.json()["error"]["code"] == "forbidden"
    for method, path, body in writes:
        kwargs = {"json": body} if body is not None else {}
        assert api.request(method, f"{V1}{path}", **kwargs).status_code == 401, (method, path)

    assert api.get(f"{V1}/catalog").json() == catalog_before
    assert api.get(f"{V1}/projects/{ids['project']}", headers=auth("admin")).json() == (
        project_before
    )
    assert curriculum_events(api) == []


# --- reading rules -----------------------------------------------------------------------
def test_enrolled_students_and_staff_read_details(api, auth):
    dp = api.get(f"{V1}/tracks/DP", headers=auth("ada"))
    assert dp.status_code == 200
    body = dp.json()
    assert (body["code"], body["price_cents"]) == ("DP", 150000)
    assert [(p["number"], p["type"]) for p in body["projects"]] == [
        (1, "INTERNAL"),
        (2, "INTERNAL"),
        (3, "CAPSTONE"),
    ]
    project = api.get(f"{V1}/projects/{body['projects'][0]['id']}", headers=auth("ada")).json()
    assert project["track_code"] == "DP"
    assert project["description"] == "Project 1 of the Data Professional track."
    assert [s["title"] for s in project["steps"]] == ["Load the data", "Clean it", "Describe it"]
    assert [(d["kind"], d["required"]) for d in project["deliverables"]] == [
        ("notebook", True),
        ("url", False),
    ]
    fsd = api.get(f"{V1}/tracks/FSD", headers=auth("linus")).json()
    for caller in ("trainer", "coach", "office", "admin"):
        for path in ("/tracks/DP", "/tracks/FSD", f"/projects/{fsd['projects'][0]['id']}"):
            assert api.get(f"{V1}{path}", headers=auth(caller)).status_code == 200, (caller, path)


def test_students_outside_a_track_get_403_with_how_to_enroll(api, auth):
    fsd_project = api.get(f"{V1}/tracks/FSD", headers=auth("admin")).json()["projects"][0]["id"]
    error = assert_error(
        api.get(f"{V1}/tracks/DP", headers=auth("grace")), 403, "not_enrolled", "DP", "enroll"
    )
    assert "/api/v1/catalog" in error["message"]
    assert error["details"] == {
        "track": "DP",
        "enrollment_status": None,
        "catalog": "/api/v1/catalog",
    }
    assert_error(api.get(f"{V1}/tracks/FSD", headers=auth("ada")), 403, "not_enrolled", "FSD")
    assert_error(
        api.get(f"{V1}/projects/{fsd_project}", headers=auth("ada")), 403, "not_enrolled", "FSD"
    )
    # An enrollment that is not active does not open the track; the message says why.
    set_enrollment_status(api, "ada", "pending_payment")
    assert_error(api.get(f"{V1}/tracks/DP", headers=auth("ada")), 403, "not_enrolled", "payment")
    set_enrollment_status(api, "ada", "cancelled")
    assert_error(api.get(f"{V1}/tracks/DP", headers=auth("ada")), 403, "not_enrolled", "cancelled")
    # Details are for users; a service token is refused, no token is 401.
    assert api.get(f"{V1}/tracks/DP", headers=auth("hub")).status_code == 403
    assert_error(api.get(f"{V1}/tracks/DP"), 401, "not_authenticated")


def test_unknown_track_project_step_and_deliverable_are_404(api, auth):
    for caller in ("ada", "admin"):
        assert_error(api.get(f"{V1}/tracks/NOPE", headers=auth(caller)), 404, "not_found", "NOPE")
        assert_error(api.get(f"{V1}/projects/999999", headers=auth(caller)), 404, "not_found")
    admin = auth("admin")
    missing = [
        ("patch", "/tracks/NOPE", {"name": "x"}),
        ("delete", "/tracks/NOPE", None),
        ("post", "/tracks/NOPE/projects", NEW_PROJECT),
        ("patch", "/projects/999999", {"title": "x"}),
        ("delete", "/projects/999999", None),
        ("post", "/projects/999999/steps", {"order": 1, "title": "x"}),
        ("post", "/projects/999999/deliverables", {"title": "x", "kind": "url"}),
        ("patch", "/steps/999999", {"title": "x"}),
        ("delete", "/steps/999999", None),
        ("patch", "/deliverables/999999", {"title": "x"}),
        ("delete", "/deliverables/999999", None),
    ]
    for method, path, body in missing:
        kwargs = {"json": body} if body is not None else {}
        response = api.request(method, f"{V1}{path}", headers=admin, **kwargs)
        assert_error(response, 404, "not_found")
    # An id beyond the database's integers is invalid input, not a server error.
    assert api.get(f"{V1}/projects/{2**40}", headers=admin).status_code == 422
    assert curriculum_events(api) == []


# --- listing -----------------------------------------------------------------------------
def test_tracks_are_paginated_in_code_order(api, auth):
    for code in ("ZZ", "A1", "B-2"):
        response = api.post(
            f"{V1}/tracks",
            json={"code": code, "name": f"Track {code}", "workspace_kinds": ["jupyterlab"]},
            headers=auth("admin"),
        )
        assert response.status_code == 201, response.text
    headers = auth("linus")
    first = api.get(f"{V1}/tracks?limit=2", headers=headers).json()
    assert first["count"] == 5
    assert [t["code"] for t in first["results"]] == ["A1", "B-2"]
    assert first["previous"] is None
    assert first["next"].endswith("/api/v1/tracks?limit=2&offset=2")
    second = api.get(first["next"], headers=headers).json()
    assert [t["code"] for t in second["results"]] == ["DP", "FSD"]
    assert second["previous"].endswith("limit=2&offset=0")
    third = api.get(second["next"], headers=headers).json()
    assert [t["code"] for t in third["results"]] == ["ZZ"]
    assert third["next"] is None and third["count"] == 5
    assert api.get(f"{V1}/tracks?offset=10", headers=headers).json()["results"] == []
    # Any authenticated caller lists (the hub too); a summary has no projects.
    listed = api.get(f"{V1}/tracks", headers=auth("hub")).json()
    assert [t["code"] for t in listed["results"]] == ["A1", "B-2", "DP", "FSD", "ZZ"]
    assert "projects" not in listed["results"][0]
    assert_error(api.get(f"{V1}/tracks"), 401, "not_authenticated")
    assert_error(api.get(f"{V1}/tracks?limit=0", headers=headers), 422, "invalid_input", "limit")
    assert_error(api.get(f"{V1}/tracks?active=maybe", headers=headers), 422, "invalid_input")


# --- validation --------------------------------------------------------------------------
def _track(**changes: Any) -> dict[str, Any]:
    return {**NEW_TRACK, **changes}


def _project(**changes: Any) -> dict[str, Any]:
    return {**NEW_PROJECT, "number": 7, **changes}


def test_invalid_input_is_422_naming_the_field_and_writes_nothing(api, auth):
    ids = ids_of(api, auth, "DP")
    without_name = {k: v for k, v in NEW_TRACK.items() if k != "name"}
    cases = [
        # (method, path, body, field)
        ("post", "/tracks", _track(code=""), "code"),
        ("post", "/tracks", _track(code="ml"), "code"),
        ("post", "/tracks", _track(code="1ML"), "code"),
        ("post", "/tracks", _track(code="M L"), "code"),
        ("post", "/tracks", _track(code="A" * 17), "code"),
        ("post", "/tracks", without_name, "name"),
        ("post", "/tracks", _track(name=""), "name"),
        ("post", "/tracks", _track(name="n" * 201), "name"),
        ("post", "/tracks", _track(description="d" * 10_001), "description"),
        ("post", "/tracks", _track(duration_weeks=0), "duration_weeks"),
        ("post", "/tracks", _track(duration_weeks=261), "duration_weeks"),
        ("post", "/tracks", _track(price_cents=-1), "price_cents"),
        ("post", "/tracks", _track(currency="EUR"), "currency"),
        ("post", "/tracks", _track(currency="eu"), "currency"),
        ("post", "/tracks", _track(currency="euro"), "currency"),
        ("post", "/tracks", _track(workspace_kinds=[]), "workspace_kinds"),
        ("post", "/tracks", _track(workspace_kinds=["vscode"]), "workspace_kinds"),
        ("post", "/tracks", _track(workspace_kinds=["superset", "superset"]), "workspace_kinds"),
        ("post", "/tracks", _track(owner="me"), "owner"),
        ("patch", "/tracks/DP", {"code": "DP2"}, "code"),
        ("patch", "/tracks/DP", {"name": None}, "name"),
        ("patch", "/tracks/DP", {"duration_weeks": 261}, "duration_weeks"),
        ("patch", "/tracks/DP", {"workspace_kinds": []}, "workspace_kinds"),
        ("patch", "/tracks/DP", {"is_active": None}, "is_active"),
        ("post", "/tracks/DP/projects", _project(number=0), "number"),
        ("post", "/tracks/DP/projects", _project(title=""), "title"),
        ("post", "/tracks/DP/projects", _project(title="t" * 201), "title"),
        ("post", "/tracks/DP/projects", _project(description="d" * 10_001), "description"),
        ("post", "/tracks/DP/projects", _project(type="SIDE"), "type"),
        ("post", "/tracks/DP/projects", _project(estimated_hours=-1), "estimated_hours"),
        ("post", "/tracks/DP/projects", _project(estimated_hours=2001), "estimated_hours"),
        ("post", "/tracks/DP/projects", _project(tech_stack=["x"] * 31), "tech_stack"),
        ("post", "/tracks/DP/projects", _project(tech_stack=["x" * 51]), "tech_stack"),
        ("post", "/tracks/DP/projects", _project(extra=1), "extra"),
        ("patch", f"/projects/{ids['project']}", {"number": 0}, "number"),
        ("patch", f"/projects/{ids['project']}", {"tech_stack": None}, "tech_stack"),
        ("post", f"/projects/{ids['project']}/steps", {"order": 0, "title": "x"}, "order"),
        ("post", f"/projects/{ids['project']}/steps", {"order": 9, "title": ""}, "title"),
        ("post", f"/projects/{ids['project']}/steps", {"title": "x"}, "order"),
        ("patch", f"/steps/{ids['step']}", {"order": -1}, "order"),
        ("patch", f"/steps/{ids['step']}", {"project_id": 1}, "project_id"),
        ("post", f"/projects/{ids['project']}/deliverables", {"title": "x"}, "kind"),
        (
            "post",
            f"/projects/{ids['project']}/deliverables",
            {"title": "x", "kind": "pdf"},
            "kind",
        ),
        ("patch", f"/deliverables/{ids['deliverable']}", {"title": ""}, "title"),
    ]
    catalog_before = api.get(f"{V1}/catalog").json()
    admin = auth("admin")
    for method, path, body, field in cases:
        response = api.request(method, f"{V1}{path}", json=body, headers=admin)
        assert response.status_code == 422, (method, path, body, response.text)
        error = response.json()["error"]
        assert error["code"] == "invalid_input"
        assert field in error["message"], (field, error["message"])
        assert any(d["field"].split(".")[1] == field for d in error["details"]), error["details"]
    assert api.get(f"{V1}/catalog").json() == catalog_before
    assert curriculum_events(api) == []


# --- conflicts and deletes ---------------------------------------------------------------
@pytest.mark.dialects
def test_duplicates_are_409_naming_the_conflict(api, auth):
    admin = auth("admin")
    dp = api.get(f"{V1}/tracks/DP", headers=admin).json()
    first, second = dp["projects"][0]["id"], dp["projects"][1]["id"]
    steps = api.get(f"{V1}/projects/{first}", headers=admin).json()["steps"]

    assert_error(
        api.post(f"{V1}/tracks", json=_track(code="DP"), headers=admin), 409, "conflict", "'DP'"
    )
    assert_error(
        api.post(f"{V1}/tracks/DP/projects", json=_project(number=2), headers=admin),
        409,
        "conflict",
        "'DP'",
        "number 2",
    )
    assert_error(
        api.patch(f"{V1}/projects/{second}", json={"number": 1}, headers=admin),
        409,
        "conflict",
        "number 1",
    )
    assert_error(
        api.post(f"{V1}/projects/{first}/steps", json={"order": 2, "title": "x"}, headers=admin),
        409,
        "conflict",
        "order 2",
    )
    assert_error(
        api.patch(f"{V1}/steps/{steps[0]['id']}", json={"order": 3}, headers=admin),
        409,
        "conflict",
        "order 3",
    )
    # The same number in another track, and keeping one's own number, are fine.
    other = api.post(f"{V1}/tracks/FSD/projects", json=_project(number=3), headers=admin)
    assert other.status_code == 201
    same = api.patch(f"{V1}/projects/{first}", json={"number": 1, "title": "T"}, headers=admin)
    assert same.status_code == 200
    assert [t for t, _ in curriculum_events(api)] == [
        "curriculum.project.created",
        "curriculum.project.updated",
    ]


@pytest.mark.dialects
def test_a_unique_key_race_is_still_a_409_and_writes_nothing(api, auth, monkeypatch):
    """Two admins at once: the pre-check passes for both, the database refuses the second."""

    async def nothing_there(_session, _statement) -> bool:
        return False

    monkeypatch.setattr(service, "_exists", nothing_there)
    admin = auth("admin")
    assert_error(api.post(f"{V1}/tracks", json=_track(code="DP"), headers=admin), 409, "conflict")
    first = api.get(f"{V1}/tracks/DP", headers=admin).json()["projects"][0]["id"]
    assert_error(
        api.post(f"{V1}/tracks/DP/projects", json=_project(number=2), headers=admin),
        409,
        "conflict",
        "number 2",
    )
    assert_error(
        api.post(f"{V1}/projects/{first}/steps", json={"order": 1, "title": "x"}, headers=admin),
        409,
        "conflict",
        "order 1",
    )
    assert [p["number"] for p in api.get(f"{V1}/tracks/DP", headers=admin).json()["projects"]] == [
        1,
        2,
        3,
    ]
    assert curriculum_events(api) == []


def test_delete_rules(api, auth):
    admin = auth("office")
    error = assert_error(
        api.delete(f"{V1}/tracks/DP", headers=admin), 409, "conflict", "enrollment", "is_active"
    )
    assert error["details"] == {"code": "DP", "enrollments": 1}
    assert api.get(f"{V1}/tracks/DP", headers=admin).status_code == 200

    assert api.post(f"{V1}/tracks", json=NEW_TRACK, headers=admin).status_code == 201
    project = api.post(f"{V1}/tracks/ML/projects", json=NEW_PROJECT, headers=admin).json()
    other = api.post(f"{V1}/tracks/ML/projects", json=_project(number=2), headers=admin).json()
    pid = project["id"]
    step = api.post(f"{V1}/projects/{pid}/steps", json={"order": 1, "title": "s"}, headers=admin)
    kept = api.post(f"{V1}/projects/{pid}/steps", json={"order": 2, "title": "k"}, headers=admin)
    deliverable = api.post(
        f"{V1}/projects/{pid}/deliverables", json={"title": "d", "kind": "file"}, headers=admin
    )
    step_id, deliverable_id = step.json()["id"], deliverable.json()["id"]

    assert api.delete(f"{V1}/steps/{step_id}", headers=admin).status_code == 204
    assert api.delete(f"{V1}/deliverables/{deliverable_id}", headers=admin).status_code == 204
    left = api.get(f"{V1}/projects/{pid}", headers=admin).json()
    assert ([s["id"] for s in left["steps"]], left["deliverables"]) == ([kept.json()["id"]], [])
    assert api.delete(f"{V1}/steps/{step_id}", headers=admin).status_code == 404

    assert api.delete(f"{V1}/projects/{other['id']}", headers=admin).status_code == 204
    assert api.get(f"{V1}/projects/{other['id']}", headers=admin).status_code == 404
    assert [p["id"] for p in api.get(f"{V1}/tracks/ML", headers=admin).json()["projects"]] == [pid]

    # A track nobody enrolled in goes, with its projects and their steps.
    assert api.delete(f"{V1}/tracks/ML", headers=admin).status_code == 204
    assert api.get(f"{V1}/tracks/ML", headers=admin).status_code == 404
    assert api.get(f"{V1}/projects/{pid}", headers=admin).status_code == 404
    assert api.patch(f"{V1}/steps/{kept.json()['id']}", json={}, headers=admin).status_code == 404
    assert "ML" not in [t["code"] for t in api.get(f"{V1}/catalog").json()]
    assert api.delete(f"{V1}/tracks/ML", headers=admin).status_code == 404

    events = curriculum_events(api)
    deleted = [(t, p) for t, p in events if t.endswith(".deleted")]
    assert deleted == [
        ("curriculum.step.deleted", {"id": step_id, "project": pid, "by": "office"}),
        ("curriculum.deliverable.deleted", {"id": deliverable_id, "project": pid, "by": "office"}),
        (
            "curriculum.project.deleted",
            {"id": other["id"], "track": "ML", "number": 2, "by": "office"},
        ),
        ("curriculum.track.deleted", {"code": "ML", "by": "office"}),
    ]


# --- documentation -----------------------------------------------------------------------
def test_the_routes_are_documented(api):
    spec = api.get("/openapi.json").json()
    paths = {
        ("get", "/api/v1/catalog"),
        ("get", "/api/v1/tracks"),
        ("post", "/api/v1/tracks"),
        ("get", "/api/v1/tracks/{code}"),
        ("delete", "/api/v1/tracks/{code}"),
        ("get", "/api/v1/projects/{project_id}"),
        ("post", "/api/v1/projects/{project_id}/steps"),
        ("patch", "/api/v1/deliverables/{deliverable_id}"),
    }
    for method, path in paths:
        operation = spec["paths"][path][method]
        assert operation["summary"] and not operation["summary"].istitle(), (method, path)
        if path != "/api/v1/catalog":
            assert {"401", "422"} <= set(operation["responses"]), (method, path)
    assert "security" not in spec["paths"]["/api/v1/catalog"]["get"]
    schemas = spec["components"]["schemas"]
    for name in ("CatalogTrack", "TrackDetail", "ProjectDetail", "TrackCreate", "StepCreate"):
        assert schemas[name].get("examples"), name
