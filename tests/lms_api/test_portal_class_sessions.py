"""The class-session pages: a trainer schedules a session in the form (errors next to the
field, nothing saved; a double click schedules once), lists sessions, reads a session with its
attendance, cancels after a confirmation; a student sees theirs on the course page. Who may
open which page is the permission matrix's (matrix_rows/class_sessions.py)."""

from datetime import UTC, datetime, timedelta

from tests.lms_api.portal_admin_helpers import V1, hub_accounts, soup_of
from tests.lms_api.test_class_sessions import grant_grace, move, schedule, soon

__all__ = ["hub_accounts"]  # the autouse fixture, imported for pytest

NEW = "/portal/sessions/new"
TOMORROW = (datetime.now(UTC) + timedelta(days=1)).date()
FORM = {
    "title": "Joins, live",
    "track": "DP",
    "date": TOMORROW.isoformat(),
    "start": "09:00",
    "end": "11:00",
    "workspace_kind": "jupyterlab",
}


def sessions(api, auth) -> list[dict]:
    found = api.get(f"{V1}/class-sessions", headers=auth("office"))
    assert found.status_code == 200, found.text
    return found.json()["results"]


def test_a_trainer_schedules_a_session_in_the_form_and_finds_it(api, auth, browser):
    trainer = browser("trainer")
    form = soup_of(trainer.get(NEW))
    for name in ("title", "track", "date", "start", "end", "workspace_kind"):
        assert form.find("label", attrs={"for": name}), name
    assert [o["value"] for o in form.find(id="track").find_all("option")] == ["", "DP", "FSD"]
    assert "UTC" in form.find("label", attrs={"for": "start"}).get_text()
    kinds = {o["value"]: o.get_text() for o in form.find(id="workspace_kind").find_all("option")}
    assert kinds["jupyterlab"] == "JupyterLab (DP, FSD)" and kinds["superset"].endswith("(DP)")
    boxes = {b["value"]: b["id"] for b in form.select("input[name=students]")}
    assert set(boxes) == {"ada", "linus"}
    assert form.find("label", attrs={"for": boxes["ada"]}).get_text() == "ada"

    first = trainer.post(NEW, data=FORM)
    again = trainer.post(NEW, data=FORM)  # a double click
    assert first.status_code == again.status_code == 303, first.text
    assert first.headers["location"] == again.headers["location"]
    assert first.headers["location"].endswith("?done=scheduled")
    [made] = sessions(api, auth)
    assert (made["title"], made["audience"], made["expected_students"]) == (
        "Joins, live",
        "trainer",
        ["ada"],
    )
    starts = datetime.combine(TOMORROW, datetime.min.time(), UTC) + timedelta(hours=9)
    assert datetime.fromisoformat(made["starts_at"]) == starts
    assert datetime.fromisoformat(made["ends_at"]) == starts + timedelta(hours=2)

    page = soup_of(trainer.get(first.headers["location"]))
    assert page.find(id="notice").get_text(strip=True) == "Scheduled."
    facts = page.find(id="session-facts").get_text(" ", strip=True)
    assert f"{TOMORROW.isoformat()} 09:00 to 11:00 UTC" in facts and "JupyterLab" in facts
    assert page.select_one("#attendance-ada").get_text(" ", strip=True) == "ada Upcoming — —"

    listed = soup_of(trainer.get("/portal/sessions"))
    row = listed.find(id=f"upcoming-{made['id']}").get_text(" ", strip=True)
    assert row == f"Joins, live DP {TOMORROW.isoformat()} 09:00 to 11:00 UTC JupyterLab 1 Scheduled"
    assert listed.find(id="recent-empty")
    nav = listed.find("a", attrs={"aria-current": "page"})
    assert nav.get_text() == "Sessions"

    named = trainer.post(NEW, data={**FORM, "title": "Ada only", "students": ["ada"]})
    assert named.status_code == 303, named.text
    assert [s["audience"] for s in sessions(api, auth)] == ["trainer", "listed"]


def test_form_errors_are_next_to_the_field_and_save_nothing(api, auth, browser):
    trainer = browser("trainer")
    yesterday = (TOMORROW - timedelta(days=2)).isoformat()
    cases = [
        ({"title": ""}, "title", "Give the session a title"),
        ({"title": "a\x00b"}, "title", "without control characters"),
        ({"track": ""}, "track", "Choose a track"),
        ({"track": "ZZ"}, "track", "There is no track 'ZZ'."),
        ({"date": "soon"}, "date", "Enter a date"),
        ({"start": "9h"}, "start", "Enter a start time"),
        ({"end": "08:00"}, "end", "Must be after the start."),
        ({"start": "00:00", "end": "12:30"}, "end", "A session lasts at most 12 hours."),
        ({"date": yesterday}, "end", "Must be in the future."),
        ({"workspace_kind": "code-server"}, "workspace_kind", "DP gives these workspaces"),
        ({"workspace_kind": "vscode"}, "workspace_kind", "Choose a workspace"),
        ({"students": "linus"}, "students", "Not one of your students active in DP: linus."),
        ({"students": "a b"}, "students", "Choose students from the list."),
    ]
    for change, name, words in cases:
        data = {**FORM, **change}
        response = trainer.post(NEW, data=data)
        assert response.status_code == 422, (change, response.text[:300])
        soup = soup_of(response)
        assert words in soup.find(id=f"{name}-error").get_text(), (change, words)
        field = soup.find(id=name)
        assert f"{name}-error" in field["aria-describedby"], change
        if name != "students":
            assert field["aria-invalid"] == "true" and "is-invalid" in field["class"], change
        assert soup.find(id="title")["value"] == data["title"]  # what was typed is kept
    assert sessions(api, auth) == []

    coach = browser("coach")
    assert soup_of(coach.get(NEW)).find(id="no-tracks")
    refused = soup_of(coach.post(NEW, data=FORM))
    assert "None of your students is active in DP." in refused.find(id="track-error").get_text()
    assert trainer.post(NEW, data=FORM, csrf=None).status_code == 403
    assert browser("ada").post(NEW, data=FORM).status_code == 403
    assert browser("ada").get("/portal/sessions").status_code == 403
    assert sessions(api, auth) == []


def test_cancel_needs_a_confirmation_and_acts_once(api, auth, browser, database_url):
    made = schedule(api, auth)
    url = f"/portal/sessions/{made['id']}"
    trainer = browser("trainer")
    assert soup_of(trainer.get(url)).find(id="cancel-link")["href"].endswith(f"{url}/cancel")
    confirm = soup_of(trainer.get(f"{url}/cancel"))
    assert confirm.find(id="cancel-submit").get_text() == "Cancel the session"
    assert sessions(api, auth)[0]["status"] == "scheduled"
    for _ in range(2):  # a double click cancels once
        done = trainer.post(f"{url}/cancel")
        assert done.status_code == 303, done.text
        assert done.headers["location"].endswith(f"{url}?done=cancelled")
    assert sessions(api, auth)[0]["status"] == "cancelled"
    page = soup_of(trainer.get(f"{url}?done=cancelled"))
    assert page.find(id="notice").get_text(strip=True) == "Cancelled."
    assert page.find(id="attendance-cancelled") and not page.find(id="cancel-link")
    assert "Cancelled" in page.find(id="session-state").get_text()

    ended = schedule(api, auth)
    move(database_url, ended["id"], soon(-180), soon(-60))
    refused = trainer.post(f"/portal/sessions/{ended['id']}/cancel")
    assert refused.status_code == 409
    assert "has ended" in soup_of(refused).find(id="problem").get_text()

    admins = schedule(api, auth, caller="office", students=["ada"])
    theirs = f"/portal/sessions/{admins['id']}"
    assert soup_of(trainer.get(f"{theirs}/cancel")).find(id="not-cancellable")
    assert trainer.post(f"{theirs}/cancel").status_code == 403
    assert browser("coach").get(url).status_code == 404


def test_the_session_page_shows_attendance_from_the_hubs_reports(api, auth, browser, database_url):
    grant_grace(api, auth)
    made = schedule(api, auth, caller="office", starts_in=5)  # ada and grace
    started = soon(-30)
    move(database_url, made["id"], started, soon(90))
    seen = started + timedelta(minutes=2)
    report = {"activity": [{"user": "ada", "at": seen.isoformat()}]}
    assert api.post(f"{V1}/class-sessions/workspace-activity", json=report, headers=auth("hub"))
    url = f"/portal/sessions/{made['id']}"
    page = soup_of(browser("office").get(url))
    assert page.select_one("#attendance-ada").get_text(" ", strip=True) == (
        f"ada Present {seen:%Y-%m-%d %H:%M} UTC Workspace"
    )
    assert page.select_one("#attendance-grace").get_text(" ", strip=True) == "grace Absent — —"
    assert "In progress" in page.find(id="session-state").get_text()
    mine = soup_of(browser("trainer").get(url))  # ada is theirs, grace is nobody's
    assert [r["id"] for r in mine.select("#attendance tbody tr")] == ["attendance-ada"]


def test_a_student_sees_their_sessions_on_the_course_page(api, auth, browser, database_url):
    coming = schedule(api, auth, starts_in=60 * 24)
    cancelled = schedule(api, auth, starts_in=60 * 48)
    assert api.post(f"{V1}/class-sessions/{cancelled['id']}/cancel", headers=auth("trainer"))
    ended = schedule(api, auth)
    move(database_url, ended["id"], soon(-180), soon(-60))
    course = soup_of(browser("ada").get("/portal/"))
    items = [li.get_text(" ", strip=True) for li in course.select("#class-sessions li")]
    assert len(items) == 2
    assert items[0].startswith("Scheduled Joins, live") and "JupyterLab" in items[0]
    assert items[1].startswith("Cancelled Joins, live")
    assert course.find(id=f"class-session-{coming['id']}")
    assert not course.find(id=f"class-session-{ended['id']}")
    assert not soup_of(browser("linus").get("/portal/")).find(id="sessions-heading")
