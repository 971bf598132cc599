"""The admin's people pages: the list with the hub's roles, one person with the trainer form
(load and cap shown, the cap kept by the same service as the API), deactivation after a
confirmation (never one's own account), re-activation, and refusals to non-admins."""

from tests.lms_api.portal_admin_helpers import V1, hub_accounts, soup_of

__all__ = ["hub_accounts"]  # the autouse fixture, imported for pytest


def profile(api, auth, username: str):
    return api.get(f"{V1}/users/{username}", headers=auth("office"))


def test_list_search_and_filters(api, auth, browser):
    office = browser("office")
    listed = office.get("/portal/admin/people")
    assert listed.status_code == 200, listed.text
    soup = soup_of(listed)
    ada = soup.find(id="person-ada").find_all("td")
    assert [c.get_text(strip=True) for c in ada] == [
        "ada",
        "—",
        "Student",
        "Active",
        "trainer",
        "DP",
    ]
    assert ada[0].find("a")["href"].endswith("/portal/admin/people/ada")
    trainer = soup.find(id="person-trainer").find_all("td")
    assert trainer[2].get_text(strip=True) == "Trainer"
    assert soup.find(id="person-office").find_all("td")[2].get_text(strip=True) == "Admin"
    assert soup.find("table").find("caption")

    found = soup_of(office.get("/portal/admin/people", params={"q": "LIN"}))
    assert [r["id"] for r in found.select("tbody tr")] == ["person-linus"]
    trainers = soup_of(office.get("/portal/admin/people", params={"role": "trainer"}))
    assert "person-trainer" in {r["id"] for r in trainers.select("tbody tr")}
    assert "person-ada" not in {r["id"] for r in trainers.select("tbody tr")}
    inactive = soup_of(office.get("/portal/admin/people", params={"status": "inactive"}))
    assert inactive.find(id="people-empty")
    none = soup_of(office.get("/portal/admin/people", params={"q": "grace"}))
    assert "admin/enrollments/new?username=grace" in none.find(id="people-empty").a["href"]
    assert office.get("/portal/admin/people", params={"q": "a\x00b"}).status_code == 422
    assert office.get("/portal/admin/people", params={"page": "0"}).status_code == 422

    for name in ("ada", "trainer"):
        assert browser(name).get("/portal/admin/people").status_code == 403
        assert browser(name).get("/portal/admin/people/ada").status_code == 403


def test_pages_keep_the_filters(api, auth, browser, monkeypatch):
    monkeypatch.setattr("lms_api.portal.admin_people.PAGE_SIZE", 2)
    office = browser("office")
    for i in range(3):
        assert api.post(
            f"{V1}/enrollments",
            json={"username": f"pupil{i}", "track": "DP", "reason": "x"},
            headers=auth("office"),
        ).is_success
    first = soup_of(office.get("/portal/admin/people", params={"q": "pupil"}))
    assert [r["id"] for r in first.select("tbody tr")] == ["person-pupil0", "person-pupil1"]
    assert "Page 1 of 2" in first.find(id="pager").get_text()
    assert "unknown to the hub" in first.find(id="person-pupil0").get_text()
    link = first.find("a", rel="next")["href"]
    assert "q=pupil" in link and "page=2" in link
    second = soup_of(office.get(link))
    assert [r["id"] for r in second.select("tbody tr")] == ["person-pupil2"]
    assert second.find("a", rel="prev")


def test_person_page_shows_role_trainer_and_enrollments(browser):
    office = browser("office")
    page = office.get("/portal/admin/people/ada")
    assert page.status_code == 200, page.text
    soup = soup_of(page)
    assert soup.find(id="role").get_text(strip=True) == "Student"
    assert "trainer" in soup.find(id="current-trainer").get_text()
    options = {o["value"]: o for o in soup.find(id="trainer").find_all("option") if o["value"]}
    assert "2 of 20" in options["trainer"].get_text() and options["trainer"].has_attr("selected")
    assert "0 of 20" in options["coach"].get_text()
    assert soup.find(id="trainer").find_parent("div").find("label")["for"] == "trainer"
    row = soup.select_one("#enrollments tbody tr")
    assert "DP" in row.get_text() and "Active" in row.get_text()
    assert soup.find(id="deactivate-link")

    staff = soup_of(office.get("/portal/admin/people/trainer"))
    assert staff.find(id="role").get_text(strip=True) == "Trainer"
    assert "Trains 2 of at most 20" in staff.find(id="trainer-load").get_text()
    assert not staff.find(id="trainer-form")
    # a hub user who never used the LMS: shown, nothing saved
    grace = soup_of(office.get("/portal/admin/people/grace"))
    assert "Has not used the LMS yet" in grace.find(id="account").get_text()
    assert office.get("/portal/admin/people/nobody-at-all").status_code == 404


def test_assign_respects_the_cap_and_unassign(api, auth, browser):
    settings = api.app.state.settings
    api.app.state.settings = settings.model_copy(update={"max_students_per_trainer": 2})
    office = browser("office")
    page = soup_of(office.get("/portal/admin/people/grace"))
    options = {o["value"]: o for o in page.find(id="trainer").find_all("option") if o["value"]}
    assert "2 of 2, full" in options["trainer"].get_text() and options["trainer"].has_attr(
        "disabled"
    )
    assert "0 of 2" in options["coach"].get_text() and not options["coach"].has_attr("disabled")

    full = office.post("/portal/admin/people/grace/trainer", data={"trainer": "trainer"})
    assert full.status_code == 409, full.text
    soup = soup_of(full)
    field = soup.find(id="trainer")
    assert field["aria-invalid"] == "true" and "trainer-error" in field["aria-describedby"]
    assert "already has 2 students" in soup.find(id="trainer-error").get_text()
    assert "cap 2" in soup.find(id="trainer-error").get_text()
    assert profile(api, auth, "grace").status_code == 404  # nothing saved, not even a profile

    for bad, words in (("", "Choose a trainer"), ("ada", "not a trainer"), ("a b", "no spaces")):
        refused = office.post("/portal/admin/people/grace/trainer", data={"trainer": bad})
        assert refused.status_code == 422, refused.text
        assert words in soup_of(refused).find(id="trainer-error").get_text()

    for _ in range(2):  # a double click assigns once
        done = office.post("/portal/admin/people/grace/trainer", data={"trainer": "coach"})
        assert done.status_code == 303, done.text
    assert done.headers["location"].endswith("/portal/admin/people/grace?done=unchanged")
    assert profile(api, auth, "grace").json()["trainer"] == "coach"
    shown = soup_of(office.get("/portal/admin/people/grace?done=assigned"))
    assert shown.find(id="notice")["role"] == "status"
    assert "coach" in shown.find(id="current-trainer").get_text()
    assert "1 of 2" in shown.find("option", {"value": "coach"}).get_text()

    staff = office.post("/portal/admin/people/office/trainer", data={"trainer": "coach"})
    assert staff.status_code == 422 and "is staff" in staff.text

    for _ in range(2):
        removed = office.post("/portal/admin/people/grace/trainer/remove")
        assert removed.status_code == 303
    assert profile(api, auth, "grace").json()["trainer"] is None
    coach = next(
        t
        for t in api.get(f"{V1}/trainers", headers=auth("office")).json()["results"]
        if t["username"] == "coach"
    )
    assert coach["assigned_students"] == 0
    assert browser("trainer").post("/portal/admin/people/ada/trainer/remove").status_code == 403
    assert profile(api, auth, "ada").json()["trainer"] == "trainer"


def test_deactivate_needs_confirmation_never_oneself_and_reactivate(api, auth, browser):
    office = browser("office")
    confirm = office.get("/portal/admin/people/linus/deactivate")
    assert confirm.status_code == 200
    assert (
        soup_of(confirm)
        .find(id="deactivate-form")
        .find("button")
        .get_text()
        .startswith("Deactivate linus")
    )
    assert profile(api, auth, "linus").json()["is_active"] is True  # the GET changed nothing
    for _ in range(2):
        done = office.post("/portal/admin/people/linus/deactivate")
        assert done.status_code == 303, done.text
    assert done.headers["location"].endswith("?done=deactivated")
    assert profile(api, auth, "linus").json()["is_active"] is False
    assert api.get(f"{V1}/me", headers=auth("linus")).status_code == 403
    page = soup_of(office.get("/portal/admin/people/linus?done=deactivated"))
    assert "Deactivated" in page.find(id="account").get_text()
    assert page.find(id="reactivate-form")
    listed = soup_of(office.get("/portal/admin/people", params={"status": "inactive"}))
    assert [r["id"] for r in listed.select("tbody tr")] == ["person-linus"]

    for _ in range(2):
        back = office.post("/portal/admin/people/linus/reactivate")
        assert back.status_code == 303
    assert profile(api, auth, "linus").json()["is_active"] is True
    assert api.get(f"{V1}/me", headers=auth("linus")).status_code == 200

    own = office.post("/portal/admin/people/office/deactivate")
    assert own.status_code == 409
    assert "cannot deactivate your own account" in soup_of(own).find(id="problem").get_text()
    assert profile(api, auth, "office").json()["is_active"] is True
    assert office.post("/portal/admin/people/linus/deactivate", csrf=None).status_code == 403
    assert browser("coach").post("/portal/admin/people/linus/deactivate").status_code == 403
    assert browser("ada").get("/portal/admin/people/linus/deactivate").status_code == 403
    assert profile(api, auth, "linus").json()["is_active"] is True
