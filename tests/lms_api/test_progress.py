"""Progress: idempotent step completions, the per-track report, and who may read whose."""

import json
import threading

import pytest

from tests.lms_api.conftest import assert_error, rows

ME = "/api/v1/progress/me"


def completions(database_url: str) -> list[tuple]:
    return rows(
        database_url,
        "SELECT p.username, c.step_id FROM step_completions c "
        "JOIN people p ON p.id = c.person_id ORDER BY c.id",
    )


def outbox(database_url: str, topic: str) -> list[dict]:
    found = rows(
        database_url, "SELECT payload FROM outbox_events WHERE topic = :t ORDER BY id", t=topic
    )
    return [p if isinstance(p, dict) else json.loads(p) for (p,) in found]


def step_ids(api, auth, username: str) -> dict[str, list[list[int]]]:
    """{track code: [[step ids of project 1], [of project 2], ...]} from the caller's report."""
    report = api.get(ME, headers=auth(username)).json()
    return {
        t["code"]: [[s["id"] for s in p["steps"]] for p in t["projects"]] for t in report["tracks"]
    }


def all_step_ids(api, auth) -> dict[str, list[list[int]]]:
    """Step ids of both demo tracks (ada is in DP, linus in FSD)."""
    return {**step_ids(api, auth, "ada"), **step_ids(api, auth, "linus")}


def mark(api, auth, username: str, step_id: int):
    return api.put(f"/api/v1/progress/steps/{step_id}", headers=auth(username))


def test_a_fresh_student_has_zero_everywhere(api, auth):
    report = api.get(ME, headers=auth("ada")).json()
    assert report["username"] == "ada"
    assert [t["code"] for t in report["tracks"]] == ["DP"]
    dp = report["tracks"][0]
    assert (dp["steps_done"], dp["steps_total"], dp["pct_complete"], dp["last_step_at"]) == (
        0,
        8,
        0.0,
        None,
    )
    assert [(p["number"], p["steps_total"]) for p in dp["projects"]] == [(1, 3), (2, 2), (3, 3)]
    first = dp["projects"][0]["steps"]
    assert [s["title"] for s in first] == ["Load the data", "Clean it", "Describe it"]
    assert [s["order"] for s in first] == [1, 2, 3]
    assert not any(s["done"] for p in dp["projects"] for s in p["steps"])
    assert api.get(ME, headers=auth("grace")).json() == {"username": "grace", "tracks": []}


@pytest.mark.dialects
def test_marking_is_idempotent(api, auth, database_url):
    step = step_ids(api, auth, "ada")["DP"][0][0]
    first = mark(api, auth, "ada", step)
    assert first.status_code == 201, first.text
    assert first.json()["step_id"] == step and first.json()["track_code"] == "DP"
    second = mark(api, auth, "ada", step)
    assert second.status_code == 200
    assert second.json() == first.json()
    assert first.json()["completed_at"].endswith(("Z", "+00:00"))
    assert completions(database_url) == [("ada", step)]
    events = outbox(database_url, "progress.step_completed")
    assert len(events) == 1
    assert (events[0]["username"], events[0]["step_id"], events[0]["track"]) == ("ada", step, "DP")


def test_percentages_per_project_and_track(api, auth):
    dp = step_ids(api, auth, "ada")["DP"]
    for step in (dp[0][0], dp[0][1], dp[1][0]):
        assert mark(api, auth, "ada", step).status_code == 201
    report = api.get(ME, headers=auth("ada")).json()["tracks"][0]
    projects = report["projects"]
    assert [(p["steps_done"], p["steps_total"], p["pct_complete"]) for p in projects] == [
        (2, 3, 66.7),
        (1, 2, 50.0),
        (0, 3, 0.0),
    ]
    assert (report["steps_done"], report["steps_total"], report["pct_complete"]) == (3, 8, 37.5)
    assert [s["done"] for s in projects[0]["steps"]] == [True, True, False]
    assert projects[0]["steps"][2]["completed_at"] is None
    assert projects[2]["last_step_at"] is None
    latest = projects[1]["steps"][0]["completed_at"]
    assert projects[1]["last_step_at"] == latest == report["last_step_at"]
    assert projects[0]["last_step_at"] <= latest

    for step in dp[0][2:] + dp[1][1:] + dp[2]:
        mark(api, auth, "ada", step)
    done = api.get(ME, headers=auth("ada")).json()["tracks"][0]
    assert (done["steps_done"], done["pct_complete"]) == (8, 100.0)
    assert all(p["pct_complete"] == 100.0 for p in done["projects"])


def test_empty_projects_and_tracks_show_and_steps_keep_their_order(api, auth):
    admin = auth("admin")
    made = api.post(
        "/api/v1/tracks",
        json={"code": "NEW", "name": "Brand new", "workspace_kinds": ["jupyterlab"]},
        headers=admin,
    )
    assert made.status_code == 201, made.text
    granted = api.post(
        "/api/v1/enrollments", json={"username": "ada", "track": "NEW"}, headers=admin
    )
    assert granted.status_code == 201, granted.text
    project = api.post(
        "/api/v1/tracks/DP/projects", json={"number": 9, "title": "Stretch"}, headers=admin
    )
    assert project.status_code == 201, project.text
    project_id = project.json()["id"]
    # steps added out of order are reported by their order
    for order in (3, 1, 2):
        step = api.post(
            f"/api/v1/projects/{project_id}/steps",
            json={"order": order, "title": f"Part {order}"},
            headers=admin,
        )
        assert step.status_code == 201, step.text
    empty = api.post(
        "/api/v1/tracks/DP/projects", json={"number": 8, "title": "Reading week"}, headers=admin
    )
    assert empty.status_code == 201, empty.text

    tracks = api.get(ME, headers=auth("ada")).json()["tracks"]
    assert [t["code"] for t in tracks] == ["DP", "NEW"]
    dp, new = tracks
    assert new["projects"] == [] and (new["steps_total"], new["pct_complete"]) == (0, 0.0)
    assert [p["number"] for p in dp["projects"]] == [1, 2, 3, 8, 9]
    reading_week, stretch = dp["projects"][3:]
    assert (reading_week["steps"], reading_week["steps_total"]) == ([], 0)
    assert [s["title"] for s in stretch["steps"]] == ["Part 1", "Part 2", "Part 3"]
    assert dp["steps_total"] == 8 + 3
    # the others' progress is not ada's: linus sees only FSD
    assert [t["code"] for t in api.get(ME, headers=auth("linus")).json()["tracks"]] == ["FSD"]


def test_only_an_active_enrollment_allows_marking(api, auth, database_url):
    steps = all_step_ids(api, auth)
    not_enrolled = mark(api, auth, "ada", steps["FSD"][0][0])
    assert_error(not_enrolled, 403, "not_enrolled")
    assert "not enrolled" in not_enrolled.json()["error"]["message"]
    assert_error(mark(api, auth, "grace", steps["DP"][0][0]), 403, "not_enrolled")
    assert_error(mark(api, auth, "trainer", steps["DP"][0][0]), 403, "not_enrolled")

    ada = api.get("/api/v1/enrollments", headers=auth("ada")).json()["results"][0]["id"]
    revoke = api.post(
        f"/api/v1/enrollments/{ada}/revoke", json={"reason": "x"}, headers=auth("office")
    )
    assert revoke.status_code == 200
    assert_error(mark(api, auth, "ada", steps["DP"][0][0]), 403, "not_enrolled")
    assert api.get(ME, headers=auth("ada")).json()["tracks"] == []
    assert completions(database_url) == []
    assert outbox(database_url, "progress.step_completed") == []


def test_unknown_and_bad_steps(api, auth):
    assert_error(mark(api, auth, "ada", 999999), 404, "not_found")
    assert_error(api.delete("/api/v1/progress/steps/999999", headers=auth("ada")), 404, "not_found")
    for bad in ("0", "abc", "99999999999"):
        error = assert_error(mark(api, auth, "ada", bad), 422, "invalid_input")
        assert "step_id" in error["message"]
    assert_error(mark(api, auth, "hub", 1), 403, "forbidden")
    assert_error(api.put("/api/v1/progress/steps/1"), 401, "not_authenticated")


def test_unmarking(api, auth, database_url):
    step = step_ids(api, auth, "ada")["DP"][1][1]
    url = f"/api/v1/progress/steps/{step}"
    assert_error(api.delete(url, headers=auth("ada")), 404, "not_found")
    first = mark(api, auth, "ada", step).json()
    assert mark(api, auth, "linus", step).status_code == 403
    response = api.delete(url, headers=auth("ada"))
    assert response.status_code == 204 and response.content == b""
    assert completions(database_url) == []
    assert_error(api.delete(url, headers=auth("ada")), 404, "not_found")
    assert [e["step_id"] for e in outbox(database_url, "progress.step_uncompleted")] == [step]
    again = mark(api, auth, "ada", step)
    assert again.status_code == 201
    assert again.json()["completed_at"] >= first["completed_at"]
    assert len(outbox(database_url, "progress.step_completed")) == 2


def test_trainer_and_admins_see_a_students_progress(api, auth):
    dp = step_ids(api, auth, "ada")["DP"]
    mark(api, auth, "ada", dp[0][0])
    own = api.get(ME, headers=auth("ada")).json()
    for caller in ("trainer", "office", "admin", "ada"):
        response = api.get("/api/v1/progress/students/ada", headers=auth(caller))
        assert response.status_code == 200, (caller, response.text)
        assert response.json() == own
    linus = api.get("/api/v1/progress/students/linus", headers=auth("trainer")).json()
    assert [t["code"] for t in linus["tracks"]] == ["FSD"]
    assert linus["tracks"][0]["steps_done"] == 0


@pytest.mark.parametrize(
    ("caller", "student"),
    [
        ("linus", "ada"),
        ("grace", "ada"),
        ("coach", "ada"),
        ("trainer", "nobody-here"),
        ("office", "nobody-here"),
        ("trainer", "grace"),
    ],
)
def test_everyone_else_gets_404(api, auth, caller, student):
    response = api.get(f"/api/v1/progress/students/{student}", headers=auth(caller))
    assert_error(response, 404, "not_found")


@pytest.mark.dialects
def test_concurrent_double_mark_leaves_one_row_and_no_500(api, auth, database_url):
    dp = step_ids(api, auth, "ada")["DP"]
    headers = auth("ada")
    for step in (dp[0][0], dp[1][0], dp[2][0]):
        barrier = threading.Barrier(2)
        statuses: list[int] = []

        def put(step=step, barrier=barrier, statuses=statuses) -> None:
            barrier.wait()
            statuses.append(api.put(f"/api/v1/progress/steps/{step}", headers=headers).status_code)

        threads = [threading.Thread(target=put) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert sorted(statuses) == [200, 201], statuses
    assert completions(database_url) == [("ada", dp[0][0]), ("ada", dp[1][0]), ("ada", dp[2][0])]
    assert len(outbox(database_url, "progress.step_completed")) == 3
