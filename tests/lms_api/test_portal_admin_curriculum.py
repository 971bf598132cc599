"""The admin's curriculum editor: tracks, projects, steps and deliverables made and changed
through the pages, read back through the API; every bad input a 422 next to its field with
nothing saved; deletes behind a confirmation page, refused in words while in use."""

from bs4 import BeautifulSoup

V1 = "/api/v1"
BASE = "/portal/admin/curriculum"
TRACK = {
    "code": "ML",
    "name": "Machine Learning",
    "description": "Models from notebook to production.",
    "duration_weeks": "20",
    "price": "1900.50",
    "currency": "eur",
    "workspace_kinds": ["jupyterlab", "code-server"],
    "is_active": "1",
}


def soup_of(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def field_error(response, name: str) -> str:
    """The error shown next to a field, checked to be tied to it for screen readers."""
    page = soup_of(response)
    error = page.find(id=f"{name}-error")
    assert error is not None, f"no error next to {name}: {response.text[:2000]}"
    control = page.find(id=name) or page.find("fieldset", attrs={"aria-describedby": True})
    assert f"{name}-error" in control.get("aria-describedby", ""), control
    return error.get_text(" ", strip=True)


def followed(admin, response):
    assert response.status_code == 303, response.text[:2000]
    return admin.get(response.headers["location"])


def test_build_a_track_with_a_project_a_step_and_a_deliverable(api, auth, browser):
    admin = browser("office")
    assert admin.get(f"{BASE}/tracks/new").status_code == 200
    made = admin.post(f"{BASE}/tracks/new", TRACK)
    assert made.headers["location"].endswith(f"{BASE}/tracks/ML?done=saved")
    page = followed(admin, made)
    assert soup_of(page).find(id="notice").get_text(strip=True) == "Saved."
    track = api.get(f"{V1}/tracks/ML", headers=auth("admin")).json()
    assert track["price_cents"] == 190050 and track["currency"] == "eur"
    assert track["workspace_kinds"] == ["jupyterlab", "code-server"]
    assert track["duration_weeks"] == 20 and track["is_active"] is True

    # a second click of the same form: the same track, saved once, no error
    again = admin.post(f"{BASE}/tracks/new", TRACK)
    assert again.headers["location"].endswith(f"{BASE}/tracks/ML?done=saved")

    project_form = {
        "number": "1",
        "title": "A first model",
        "description": "From a CSV to a **model**.",
        "type": "CAPSTONE",
        "tech_stack": "python, scikit-learn",
        "estimated_hours": "30",
    }
    made = admin.post(f"{BASE}/tracks/ML/projects/new", project_form)
    assert made.status_code == 303, made.text
    project_id = int(made.headers["location"].split("/projects/")[1].split("?")[0])
    assert admin.post(f"{BASE}/tracks/ML/projects/new", project_form).status_code == 303

    step_form = {"order": "1", "title": "Load the data", "description": "Read `data.csv`.\n\n- a"}
    assert admin.post(f"{BASE}/projects/{project_id}/steps/new", step_form).status_code == 303
    assert admin.post(f"{BASE}/projects/{project_id}/steps/new", step_form).status_code == 303
    made = admin.post(
        f"{BASE}/projects/{project_id}/deliverables/new",
        {"title": "Notebook", "kind": "notebook", "required": "1"},
    )
    assert made.status_code == 303
    # the double click adds nothing; an optional link is a second deliverable
    admin.post(
        f"{BASE}/projects/{project_id}/deliverables/new",
        {"title": "Notebook", "kind": "notebook", "required": "1"},
    )
    admin.post(f"{BASE}/projects/{project_id}/deliverables/new", {"title": "Demo", "kind": "url"})

    project = api.get(f"{V1}/projects/{project_id}", headers=auth("admin")).json()
    assert project["title"] == "A first model" and project["type"] == "CAPSTONE"
    assert project["tech_stack"] == ["python", "scikit-learn"]
    assert project["estimated_hours"] == 30
    assert [(s["order"], s["title"]) for s in project["steps"]] == [(1, "Load the data")]
    assert project["steps"][0]["description"] == step_form["description"]
    assert [(d["title"], d["kind"], d["required"]) for d in project["deliverables"]] == [
        ("Notebook", "notebook", True),
        ("Demo", "url", False),
    ]

    # the pages list what was made, with links
    listing = soup_of(admin.get(BASE))
    row = listing.find(id="track-ML")
    assert "€1,900.50" in row.get_text() and "VS Code" in row.get_text()
    shown = soup_of(admin.get(f"{BASE}/projects/{project_id}"))
    assert shown.find(id=f"step-{project['steps'][0]['id']}") is not None
    assert "optional" in shown.find(id=f"deliverable-{project['deliverables'][1]['id']}").text


def test_edit_price_workspaces_and_the_others(api, auth, browser, database_url):
    admin = browser("admin")
    page = soup_of(admin.get(f"{BASE}/tracks/DP"))
    form = page.find(id="track-form")
    assert form.find(id="price")["value"] == "1500.00"
    assert page.find(id="projects").find("a") is not None
    data = {
        "name": "Data Professional",
        "description": "New words.",
        "duration_weeks": "24",
        "price": "1,250",
        "currency": "EUR",
        "workspace_kinds": ["superset"],
        "is_active": "1",
    }
    saved = admin.post(f"{BASE}/tracks/DP", data)
    assert saved.status_code == 303, saved.text
    track = api.get(f"{V1}/tracks/DP", headers=auth("admin")).json()
    assert track["price_cents"] == 125000 and track["workspace_kinds"] == ["superset"]
    assert track["description"] == "New words." and track["currency"] == "eur"

    project_id = track["projects"][0]["id"]
    project = api.get(f"{V1}/projects/{project_id}", headers=auth("admin")).json()
    step, deliverable = project["steps"][0], project["deliverables"][0]
    edited = admin.post(
        f"{BASE}/steps/{step['id']}",
        {"order": str(step["order"]), "title": "Renamed step", "description": "# New"},
    )
    assert edited.status_code == 303
    other = admin.post(
        f"{BASE}/deliverables/{deliverable['id']}",
        {"title": deliverable["title"], "kind": deliverable["kind"]},  # required unticked
    )
    assert other.status_code == 303
    fresh = api.get(f"{V1}/projects/{project_id}", headers=auth("admin")).json()
    assert fresh["steps"][0]["title"] == "Renamed step"
    assert fresh["deliverables"][0]["required"] is False
    # a step order another step has: said next to the order, nothing changed
    extra = {"order": "99", "title": "Extra", "description": ""}
    assert admin.post(f"{BASE}/projects/{project_id}/steps/new", extra).status_code == 303
    taken = admin.post(
        f"{BASE}/steps/{step['id']}", {"order": "99", "title": "X", "description": ""}
    )
    assert taken.status_code == 409
    assert "already has a step" in field_error(taken, "order")
    assert soup_of(taken).find(id="title")["value"] == "X"
    after = api.get(f"{V1}/projects/{project_id}", headers=auth("admin")).json()
    assert after["steps"][0]["title"] == "Renamed step"


BAD_TRACKS = [
    ({"price": "-5"}, "price", "at least 0.00"),
    ({"price": "12.345"}, "price", "two decimals"),
    ({"price": "lots"}, "price", "amount"),
    ({"price": "99999999"}, "price", "at most"),
    ({"code": "ml"}, "code", "capital letters"),
    ({"code": "M" * 17}, "code", "at most 16"),
    ({"code": ""}, "code", "Fill this in"),
    ({"name": "Bad\x00name"}, "name", "control characters"),
    ({"name": "N" * 201}, "name", "at most 200"),
    ({"description": "x" * 10_001}, "description", "at most 10,000"),
    ({"duration_weeks": "0"}, "duration_weeks", "at least 1"),
    ({"duration_weeks": "ten"}, "duration_weeks", "whole number"),
    ({"currency": "euro"}, "currency", "at most 3"),
    ({"currency": "eu1"}, "currency", "three-letter"),
    ({"workspace_kinds": []}, "workspace_kinds", "at least one"),
    ({"workspace_kinds": ["emacs"]}, "workspace_kinds", "listed"),
]


def test_a_bad_track_is_refused_next_to_its_field_and_nothing_saved(api, auth, browser):
    admin = browser("office")
    for change, name, words in BAD_TRACKS:
        sent = {**TRACK, **change}
        answer = admin.post(f"{BASE}/tracks/new", sent)
        assert answer.status_code == 422, (change, answer.text[:500])
        assert words in field_error(answer, name), change
        page = soup_of(answer)
        assert page.find(id="problem") is not None
        assert "\x00" not in answer.text  # shown as U+FFFD, never sent back raw
        if name in ("code", "name", "price", "currency") and "\x00" not in sent[name]:
            assert page.find(id=name)["value"] == sent[name]  # kept as typed
    listed = api.get(f"{V1}/tracks", headers=auth("admin")).json()["results"]
    assert [t["code"] for t in listed] == ["DP", "FSD"]


def test_bad_input_on_edits_is_refused_and_nothing_changes(api, auth, browser):
    admin = browser("office")
    before = api.get(f"{V1}/tracks/DP", headers=auth("admin")).json()
    answer = admin.post(
        f"{BASE}/tracks/DP",
        {"name": "", "price": "-1", "currency": "eur", "duration_weeks": "12"},
    )
    assert answer.status_code == 422
    assert "Fill this in" in field_error(answer, "name")
    assert "at least" in field_error(answer, "price")
    assert "at least one" in field_error(answer, "workspace_kinds")
    assert api.get(f"{V1}/tracks/DP", headers=auth("admin")).json() == before

    project_id = before["projects"][0]["id"]
    project = api.get(f"{V1}/projects/{project_id}", headers=auth("admin")).json()
    bad_project = admin.post(
        f"{BASE}/projects/{project_id}",
        {
            "number": "0",
            "title": "T\x07",
            "type": "OTHER",
            "tech_stack": "python, " + "x" * 51,
            "estimated_hours": "2001",
        },
    )
    assert bad_project.status_code == 422
    assert "at least 1" in field_error(bad_project, "number")
    assert "control characters" in field_error(bad_project, "title")
    assert "listed" in field_error(bad_project, "type")
    assert "Technology 2" in field_error(bad_project, "tech_stack")
    assert "at most 2,000" in field_error(bad_project, "estimated_hours")
    taken = admin.post(
        f"{BASE}/tracks/DP/projects/new",
        {
            "number": str(project["number"]),
            "title": "Twin",
            "type": "INTERNAL",
            "estimated_hours": "1",
        },
    )
    assert taken.status_code == 409 and "already has a project" in field_error(taken, "number")

    step = project["steps"][0]
    bad_step = admin.post(
        f"{BASE}/steps/{step['id']}", {"order": "x", "title": "", "description": "a\x00b"}
    )
    assert bad_step.status_code == 422
    assert "whole number" in field_error(bad_step, "order")
    assert "Fill this in" in field_error(bad_step, "title")
    assert "tabs and line breaks are fine" in field_error(bad_step, "description")
    deliverable = project["deliverables"][0]
    bad = admin.post(f"{BASE}/deliverables/{deliverable['id']}", {"title": "T", "kind": "zip"})
    assert bad.status_code == 422 and "listed" in field_error(bad, "kind")
    new_bad = admin.post(f"{BASE}/projects/{project_id}/deliverables/new", {"kind": "url"})
    assert new_bad.status_code == 422 and "Fill this in" in field_error(new_bad, "title")
    assert api.get(f"{V1}/projects/{project_id}", headers=auth("admin")).json() == project


def test_names_with_bidi_characters_are_kept_as_the_api_keeps_them(api, auth, browser):
    """The API's names refuse control characters only; a bidi override is isolated on the
    page (`<bdi>`) instead of reordering what follows it."""
    admin = browser("office")
    made = admin.post(f"{BASE}/tracks/new", {**TRACK, "name": "Evil\u202eeman"})
    assert made.status_code == 303
    assert api.get(f"{V1}/tracks/ML", headers=auth("admin")).json()["name"] == "Evil\u202eeman"
    assert soup_of(admin.get(BASE)).find(id="track-ML").find("bdi").text == "Evil\u202eeman"


def test_deletes_need_a_confirmation_and_are_refused_in_words_while_in_use(
    api, auth, browser, database_url
):
    admin = browser("office")
    confirm = admin.get(f"{BASE}/tracks/DP/delete")
    assert confirm.status_code == 200
    assert soup_of(confirm).find(id="confirm-delete") is not None
    refused = admin.post(f"{BASE}/tracks/DP/delete")
    assert refused.status_code == 409
    words = soup_of(refused).find(id="problem").get_text()
    assert "enrollment" in words and "cannot be deleted" in words and "Open for enrollment" in words
    assert api.get(f"{V1}/tracks/DP", headers=auth("admin")).status_code == 200

    # a student's work keeps its deliverable (and project)
    track = api.get(f"{V1}/tracks/DP", headers=auth("ada")).json()
    project = api.get(f"{V1}/projects/{track['projects'][0]['id']}", headers=auth("ada")).json()
    link = next(d for d in project["deliverables"] if d["kind"] == "url")
    handed = api.post(
        f"{V1}/submissions",
        json={"deliverable_id": link["id"], "url": "https://example.org/work"},
        headers=auth("ada"),
    )
    assert handed.status_code == 201, handed.text
    kept = admin.post(f"{BASE}/deliverables/{link['id']}/delete", {"project": str(project["id"])})
    assert kept.status_code == 409 and "work is kept" in soup_of(kept).find(id="problem").text
    kept = admin.post(f"{BASE}/projects/{project['id']}/delete", {"track": "DP"})
    assert kept.status_code == 409 and "submission" in soup_of(kept).find(id="problem").text

    # a step goes; the second click finds it gone and says so
    step = project["steps"][-1]
    assert admin.get(f"{BASE}/steps/{step['id']}/delete").status_code == 200
    gone = admin.post(f"{BASE}/steps/{step['id']}/delete", {"project": str(project["id"])})
    assert gone.headers["location"].endswith(f"/projects/{project['id']}?done=deleted")
    again = admin.post(f"{BASE}/steps/{step['id']}/delete", {"project": str(project["id"])})
    assert again.headers["location"].endswith(f"/projects/{project['id']}?done=gone")
    fresh = api.get(f"{V1}/projects/{project['id']}", headers=auth("admin")).json()
    assert step["id"] not in [s["id"] for s in fresh["steps"]]

    # a new, unused track is deleted with its projects
    assert admin.post(f"{BASE}/tracks/new", TRACK).status_code == 303
    deleted = admin.post(f"{BASE}/tracks/ML/delete")
    assert deleted.headers["location"].endswith(f"{BASE}?done=deleted")
    assert api.get(f"{V1}/tracks/ML", headers=auth("admin")).status_code == 404


def test_only_admins_edit_the_curriculum(api, auth, browser):
    for name in ("trainer", "ada"):
        user = browser(name)
        assert user.get(BASE).status_code == 403
        assert user.get(f"{BASE}/tracks/DP").status_code == 403
        assert user.post(f"{BASE}/tracks/new", TRACK).status_code == 403
    assert api.get(f"{V1}/tracks/ML", headers=auth("admin")).status_code == 404
    assert browser("office").post(f"{BASE}/tracks/new", TRACK, csrf=None).status_code == 403
