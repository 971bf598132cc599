"""The deliverable pages: handing in links and files with the submission services, errors next
to the field with nothing saved, versions with the trainer's feedback, and who sees what."""

import nbformat
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from lms_api.main import create_app
from tests.lms_api.conftest import PortalBrowser, app_settings, rows

V1 = "/api/v1"


def notebook_bytes(source: str = "print('hello')") -> bytes:
    notebook = nbformat.v4.new_notebook()
    notebook.cells.append(nbformat.v4.new_code_cell(source))
    return nbformat.writes(notebook).encode()


def deliverable_ids(api, auth) -> dict[str, int]:
    """{kind: id} of the deliverables of DP project 1, as ada reads them."""
    track = api.get(f"{V1}/tracks/DP", headers=auth("ada")).json()
    project = api.get(f"{V1}/projects/{track['projects'][0]['id']}", headers=auth("ada")).json()
    return {d["kind"]: d["id"] for d in project["deliverables"]}


def soup_of(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def saved(database_url: str) -> tuple[int, int]:
    found = rows(
        database_url,
        "SELECT (SELECT COUNT(*) FROM submissions), (SELECT COUNT(*) FROM submission_versions)",
    )
    return tuple(found[0])


def upload(ada, deliverable_id, filename, data, seen=0, **kwargs):
    return ada.post(
        f"/portal/deliverables/{deliverable_id}/submit",
        data={"seen_version": str(seen), "note": "please look"},
        files={"file": (filename, data, "application/octet-stream")},
        **kwargs,
    )


def field_error(response, field: str) -> str:
    """The error shown next to `field`, checked to be tied to its input."""
    soup = soup_of(response)
    control = soup.find(id=field)
    assert control["aria-invalid"] == "true"
    assert f"{field}-error" in control["aria-describedby"].split()
    return soup.find(id=f"{field}-error").get_text(" ", strip=True)


def test_ada_hands_in_a_notebook_and_sees_the_trainers_feedback(api, auth, browser, database_url):
    ada = browser("ada")
    notebook = deliverable_ids(api, auth)["notebook"]
    page = ada.get(f"/portal/deliverables/{notebook}")
    assert page.status_code == 200, page.text
    soup = soup_of(page)
    assert soup.h1.get_text(strip=True) == "Notebook" and len(soup.find_all("h1")) == 1
    assert soup.select_one("#deliverable-state").get_text(" ", strip=True) == "Not handed in"
    form = soup.select_one("#handin-form")
    assert form["enctype"] == "multipart/form-data"
    assert form.select_one("#file")["accept"] == ".ipynb"
    assert "20.0 MiB" in soup.select_one("#accepts").get_text()

    data = notebook_bytes()
    for _ in range(2):  # a double click (both posts from the form of version 0) acts once
        sent = upload(ada, notebook, "analysis.ipynb", data)
        assert sent.status_code == 303, sent.text
        assert sent.headers["location"].endswith(f"/portal/deliverables/{notebook}?handed_in=1")
    assert saved(database_url) == (1, 1)
    again = upload(ada, notebook, "analysis.ipynb", data, seen=1)  # the same work, on purpose
    assert again.status_code == 409
    assert "same as version 1" in field_error(again, "file")
    assert saved(database_url) == (1, 1)

    soup = soup_of(ada.get(f"/portal/deliverables/{notebook}?handed_in=1"))
    assert soup.select_one("#notice").get_text(strip=True) == "Handed in as version 1."
    assert "waiting for review" in soup.select_one("#deliverable-state").get_text()
    version = soup.select_one("#version-1")
    assert "analysis.ipynb" in version.get_text()
    link = version.select_one("#download-1")["href"]
    prefix = api.app.state.settings.service_prefix
    downloaded = ada.get(link.removeprefix(prefix))
    assert downloaded.status_code == 200 and downloaded.content == data

    sid = api.get(f"{V1}/submissions", headers=auth("ada")).json()["results"][0]["id"]
    review = {"version": 1, "decision": "request_changes", "feedback": "Explain <b>cell 1</b>."}
    asked = api.post(f"{V1}/submissions/{sid}/reviews", json=review, headers=auth("trainer"))
    assert asked.status_code == 200, asked.text
    soup = soup_of(ada.get(f"/portal/deliverables/{notebook}"))
    assert soup.select_one("#deliverable-state .badge").get_text() == "Changes requested"
    history = soup.select_one("#history").get_text(" ", strip=True)
    assert "Changes requested version 1, by trainer" in history
    assert "Explain <b>cell 1</b>." in history and soup.select_one("#history b") is None
    assert soup.select_one("#handin-form") is not None

    # Another student: 404 on ada's submission and its file; the DP track's rule on the rest.
    linus = browser("linus")
    assert linus.get(f"/portal/submissions/{sid}").status_code == 404
    assert linus.get(link.removeprefix(prefix)).status_code == 404
    assert linus.get(f"/portal/deliverables/{notebook}").status_code == 403
    assert upload(linus, notebook, "mine.ipynb", notebook_bytes("1")).status_code == 403
    # Her trainer reads it, without a form; once approved, ada has no form either.
    trainer = soup_of(browser("trainer").get(f"/portal/submissions/{sid}"))
    assert "Explain" in trainer.select_one("#history").get_text()
    assert trainer.select_one("#handin-form") is None
    listed = soup_of(browser("trainer").get("/portal/deliverables")).select_one("#submissions")
    assert listed.find("a", href=lambda h: h.endswith(f"/portal/submissions/{sid}"))
    second = upload(ada, notebook, "analysis.ipynb", notebook_bytes("print(2)"), seen=1)
    assert second.headers["location"].endswith("?handed_in=2")
    review = {"version": 2, "decision": "approve", "feedback": "Good."}
    assert api.post(
        f"{V1}/submissions/{sid}/reviews", json=review, headers=auth("trainer")
    ).is_success
    soup = soup_of(ada.get(f"/portal/deliverables/{notebook}"))
    assert soup.select_one("#deliverable-state .badge").get_text() == "Approved"
    assert soup.select_one("#handin-form") is None
    assert [li["id"] for li in soup.select("#versions > li")] == ["version-2", "version-1"]


def test_bad_files_are_explained_next_to_the_field_and_save_nothing(
    hub, database_url, auth, hub_tokens, tmp_path, seeded
):
    seeded.restore(database_url)
    uploads = tmp_path / "small-uploads"
    settings = app_settings(hub, database_url, uploads, max_upload_bytes=1000)
    with TestClient(create_app(settings)) as api:
        ada = PortalBrowser(api, hub_tokens("ada"))
        notebook = deliverable_ids(api, auth)["notebook"]
        assert (
            "1000 bytes"
            in soup_of(ada.get(f"/portal/deliverables/{notebook}"))
            .select_one("#accepts")
            .get_text()
        )
        cases = [
            ("broken.ipynb", b'{"cells": [', 422, "not a valid Jupyter notebook"),
            ("report.pdf", b"%PDF-1.4 ...", 415, "must be an .ipynb file"),
            ("big.ipynb", notebook_bytes("x = '" + "y" * 2000 + "'"), 413, "larger than"),
            ("empty.ipynb", b"", 422, "is empty"),
        ]
        for filename, data, status, words in cases:
            refused = upload(ada, notebook, filename, data)
            assert refused.status_code == status, (filename, refused.text)
            assert words in field_error(refused, "file"), filename
            assert soup_of(refused).select_one("#note").get_text() == "please look"
        no_file = ada.post(f"/portal/deliverables/{notebook}/submit", data={"note": ""})
        assert "Choose the file" in field_error(no_file, "file")
        no_csrf = upload(ada, notebook, "good.ipynb", notebook_bytes(), csrf=None)
        assert no_csrf.status_code == 403
    assert saved(database_url) == (0, 0)
    assert not [p for p in uploads.rglob("*") if p.is_file()]


def test_a_bad_link_keeps_what_was_typed(api, auth, browser, database_url):
    ada = browser("ada")
    link = deliverable_ids(api, auth)["url"]
    form = soup_of(ada.get(f"/portal/deliverables/{link}")).select_one("#handin-form")
    assert form.get("enctype") is None and form.select_one("#url")["type"] == "url"
    typed = "ftp://example.org/my report"
    refused = ada.post(f"/portal/deliverables/{link}/submit", data={"url": typed})
    assert refused.status_code == 422
    assert "http(s) address" in field_error(refused, "url")
    assert soup_of(refused).select_one("#url")["value"] == typed
    assert saved(database_url) == (0, 0)

    sent = ada.post(
        f"/portal/deliverables/{link}/submit", data={"url": " https://example.org/r ", "note": ""}
    )
    assert sent.status_code == 303 and sent.headers["location"].endswith("?handed_in=1")
    listed = soup_of(ada.get("/portal/deliverables"))
    assert "waiting for review" in listed.select_one(f"#deliverable-{link}-state").get_text()
    assert "Not handed in" in listed.select_one(f"#deliverable-{link - 1}-state").get_text()
    shown = soup_of(ada.get(f"/portal/deliverables/{link}")).select_one("#version-1 a")
    assert shown["href"] == "https://example.org/r" and "noopener" in shown["rel"]
