"""The admin's enrollment pages: the list with filters, granting with a reason (errors next to
the field, nothing saved; a double click grants once), one enrollment's history, revoking
after a confirmation, and the e2e story: grace is granted a track and a trainer in the
browser, and may then start her workspace."""

from tests.lms_api.portal_admin_helpers import V1, hub_accounts, soup_of

__all__ = ["hub_accounts"]  # the autouse fixture, imported for pytest


def enrollments(api, auth, **filters) -> list[dict]:
    found = api.get(f"{V1}/enrollments", params=filters, headers=auth("office"))
    assert found.status_code == 200, found.text
    return found.json()["results"]


def allowed(api, auth, username: str) -> list[str]:
    response = api.get("/api/v1/workspaces/allowed", params={"user": username}, headers=auth("hub"))
    assert response.status_code == 200, response.text
    return response.json()["kinds"]


def test_grace_is_granted_a_track_and_a_trainer_then_may_start_her_workspace(api, auth, browser):
    assert allowed(api, auth, "grace") == []
    office = browser("office")
    form = soup_of(office.get("/portal/admin/enrollments/new", params={"username": "grace"}))
    assert form.find(id="username")["value"] == "grace"
    assert {o["value"] for o in form.find(id="track").find_all("option")} >= {"", "DP", "FSD"}
    for name in ("username", "track", "reason"):
        assert form.find("label", attrs={"for": name})

    data = {"username": "grace", "track": "DP", "reason": "Scholarship 2026"}
    first = office.post("/portal/admin/enrollments/new", data=data)
    assert first.status_code == 303, first.text
    again = office.post("/portal/admin/enrollments/new", data=data)  # a double click
    assert again.status_code == 303, again.text
    assert first.headers["location"] == again.headers["location"]
    assert first.headers["location"].endswith("?done=granted")
    [made] = enrollments(api, auth, username="grace")
    assert (made["track_code"], made["status"], made["source"]) == ("DP", "active", "grant")
    detail = api.get(f"{V1}/enrollments/{made['id']}", headers=auth("office")).json()
    assert [(h["actor"], h["reason"]) for h in detail["history"]] == [
        ("office", "Scholarship 2026")
    ]

    page = soup_of(office.get(first.headers["location"]))
    assert page.find(id="notice").get_text(strip=True) == "Granted."
    assert page.find(id="notice")["role"] == "status"
    history = [td.get_text(strip=True) for td in page.select("#history tbody tr td")]
    assert history[1:] == ["Active", "office", "Scholarship 2026"]

    assigned = office.post("/portal/admin/people/grace/trainer", data={"trainer": "coach"})
    assert assigned.status_code == 303, assigned.text
    me = api.get(f"{V1}/me", headers=auth("grace")).json()
    assert me["trainer"] == "coach"
    assert [(e["track_code"], e["status"]) for e in me["enrollments"]] == [("DP", "active")]
    assert allowed(api, auth, "grace") == ["jupyterlab", "superset"]


def test_grant_errors_are_next_to_the_field_and_save_nothing(api, auth, browser):
    office = browser("office")
    before = enrollments(api, auth)
    cases = [
        ({"username": "grace", "track": "DP", "reason": "  "}, 422, "reason", "Say why"),
        ({"username": "nobody-at-all", "track": "DP", "reason": "x"}, 422, "username", "no user"),
        ({"username": "", "track": "DP", "reason": "x"}, 422, "username", "Enter a hub username"),
        ({"username": "a b", "track": "DP", "reason": "x"}, 422, "username", "no spaces"),
        ({"username": "grace", "track": "", "reason": "x"}, 422, "track", "Choose a track"),
        ({"username": "grace", "track": "ZZ", "reason": "x"}, 422, "track", "no track 'ZZ'"),
        ({"username": "grace", "track": "DP", "reason": "a\x00b"}, 422, "reason", "NUL"),
        ({"username": "grace", "track": "DP", "reason": "x" * 501}, 422, "reason", "at most 500"),
        ({"username": "ada", "track": "DP", "reason": "again"}, 409, "track", "already active"),
    ]
    for data, status, name, words in cases:
        response = office.post("/portal/admin/enrollments/new", data=data)
        assert response.status_code == status, (data, response.text)
        soup = soup_of(response)
        field = soup.find(id=name)
        assert field["aria-invalid"] == "true", data
        assert f"{name}-error" in field["aria-describedby"]
        assert "is-invalid" in field["class"]
        assert words in soup.find(id=f"{name}-error").get_text(), (data, words)
        assert soup.find(id="reason").get_text() == data["reason"]  # what was typed is kept
    duplicate = soup_of(office.post("/portal/admin/enrollments/new", data=cases[-1][0]))
    ada = next(e for e in before if e["username"] == "ada")
    assert duplicate.find(id="track-error").a["href"].endswith(f"/admin/enrollments/{ada['id']}")
    assert enrollments(api, auth) == before
    assert api.get(f"{V1}/users/nobody-at-all", headers=auth("office")).status_code == 404
    refused = office.post(
        "/portal/admin/enrollments/new",
        data={"username": "grace", "track": "DP", "reason": "x"},
        csrf=None,
    )
    assert refused.status_code == 403
    trainer = browser("trainer")
    assert trainer.get("/portal/admin/enrollments/new").status_code == 403
    grant = {"username": "grace", "track": "DP", "reason": "x"}
    assert trainer.post("/portal/admin/enrollments/new", data=grant).status_code == 403
    assert browser("ada").post("/portal/admin/enrollments/new", data=grant).status_code == 403
    assert enrollments(api, auth) == before


def test_revoke_needs_confirmation_and_a_reason(api, auth, browser):
    office = browser("office")
    [ada] = enrollments(api, auth, username="ada")
    url = f"/portal/admin/enrollments/{ada['id']}"
    page = soup_of(office.get(url))
    assert page.find(id="revoke-link")["href"].endswith(f"{url}/revoke")
    confirm = office.get(f"{url}/revoke")
    assert confirm.status_code == 200
    assert soup_of(confirm).find(id="revoke-submit").get_text() == "Revoke the enrollment"
    assert enrollments(api, auth, username="ada")[0]["status"] == "active"

    for reason, words in (("", "Say why"), ("a\x00b", "control characters")):
        refused = office.post(f"{url}/revoke", data={"reason": reason})
        assert refused.status_code == 422
        assert words in soup_of(refused).find(id="reason-error").get_text()
    assert enrollments(api, auth, username="ada")[0]["status"] == "active"

    for _ in range(2):  # a double click revokes once
        done = office.post(f"{url}/revoke", data={"reason": "Left the school"})
        assert done.status_code == 303, done.text
        assert done.headers["location"].endswith(f"{url}?done=revoked")
    detail = api.get(f"{V1}/enrollments/{ada['id']}", headers=auth("office")).json()
    assert detail["status"] == "cancelled"
    assert [(h["to_status"], h["actor"], h["reason"]) for h in detail["history"]][-1:] == [
        ("cancelled", "office", "Left the school")
    ]
    assert allowed(api, auth, "ada") == []
    shown = soup_of(office.get(f"{url}?done=revoked"))
    assert shown.find(id="notice").get_text(strip=True) == "Revoked."
    assert "Left the school" in shown.find(id="history").get_text()
    assert not shown.find(id="revoke-link")
    assert soup_of(office.get(f"{url}/revoke")).find(id="not-revocable")
    # someone else's later revoke of a revoked enrollment: the service's 409, in words
    other = browser("admin").post(f"{url}/revoke", data={"reason": "Left the school"})
    assert other.status_code == 409
    assert "already cancelled" in soup_of(other).find(id="problem").get_text()

    assert browser("trainer").get(url).status_code == 403
    assert browser("ada").post(f"{url}/revoke", data={"reason": "x"}).status_code == 403
    assert office.get("/portal/admin/enrollments/999999").status_code == 404


def test_list_with_filters(api, auth, browser):
    office = browser("office")
    listed = office.get("/portal/admin/enrollments")
    assert listed.status_code == 200, listed.text
    soup = soup_of(listed)
    rows = {r["id"]: r.get_text(" ", strip=True) for r in soup.select("#enrollments tbody tr")}
    every = enrollments(api, auth)
    assert set(rows) == {f"enrollment-{e['id']}" for e in every}
    ada = next(e for e in every if e["username"] == "ada")
    assert "ada" in rows[f"enrollment-{ada['id']}"] and "Active" in rows[f"enrollment-{ada['id']}"]

    dp = soup_of(office.get("/portal/admin/enrollments", params={"track": "DP"}))
    assert {r["id"] for r in dp.select("#enrollments tbody tr")} == {
        f"enrollment-{e['id']}" for e in every if e["track_code"] == "DP"
    }
    assert dp.find("option", {"value": "DP", "selected": True})
    linus = soup_of(office.get("/portal/admin/enrollments", params={"username": "linus"}))
    assert [r.find("a").get_text() for r in linus.select("#enrollments tbody tr")] == ["linus"]
    cancelled = soup_of(office.get("/portal/admin/enrollments", params={"status": "cancelled"}))
    assert cancelled.find(id="enrollments-empty")
    assert office.get("/portal/admin/enrollments", params={"status": "lost"}).status_code == 422
    assert browser("coach").get("/portal/admin/enrollments").status_code == 403
    assert browser("linus").get("/portal/admin/enrollments").status_code == 403
