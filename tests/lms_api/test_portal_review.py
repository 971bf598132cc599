"""The trainer's workbench: the review queue, a submission's review page with its notebook in
a sandboxed iframe (rendered without the student's scripts), and reviewing with the same
service as the API: feedback required for changes, 409 on a newer version, 404 to others."""

import re

import nbformat
from bs4 import BeautifulSoup
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

V1 = "/api/v1"


def notebook_bytes(*cells) -> bytes:
    return nbformat.writes(new_notebook(cells=list(cells))).encode()


def plain_notebook(marker: str = "first") -> bytes:
    return notebook_bytes(
        new_markdown_cell(f"# Sales study {marker}\nSome *careful* analysis."),
        new_code_cell("total = sum(range(10))\nprint(total)"),
    )


def hostile_notebook() -> bytes:
    return notebook_bytes(
        new_markdown_cell("Hi\n<script>alert('md')</script>\n<img src=x onerror=alert('img')>"),
        new_code_cell(
            "display(evil)",
            outputs=[
                new_output(
                    "display_data",
                    data={"text/html": "<script>alert('html')</script>", "text/plain": "obj"},
                ),
                new_output("display_data", data={"application/javascript": "alert('js')"}),
                new_output("stream", name="stdout", text="y" * 30_000),
            ],
        ),
    )


def notebook_deliverable(api, auth) -> int:
    track = api.get(f"{V1}/tracks/DP", headers=auth("ada")).json()
    project = api.get(f"{V1}/projects/{track['projects'][0]['id']}", headers=auth("ada")).json()
    return next(d["id"] for d in project["deliverables"] if d["kind"] == "notebook")


def hand_in(api, auth, data: bytes) -> dict:
    made = api.post(
        f"{V1}/submissions/upload",
        data={"deliverable_id": str(notebook_deliverable(api, auth))},
        files={"file": ("work.ipynb", data, "application/json")},
        headers=auth("ada"),
    )
    assert made.status_code in (200, 201), made.text
    return made.json()


def soup_of(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def test_queue_review_page_and_safe_notebook(api, auth, browser):
    submission = hand_in(api, auth, plain_notebook())
    sid = submission["id"]
    trainer = browser("trainer")

    queue = trainer.get("/portal/review")
    assert queue.status_code == 200, queue.text
    row = soup_of(queue).find(id=f"queue-{sid}")
    assert row is not None and "ada" in row.get_text() and "min" in row.get_text()
    assert row.find("a")["href"].endswith(f"/portal/review/{sid}")
    assert "Nothing waits" in browser("coach").get("/portal/review").text
    assert browser("office").get("/portal/review").status_code == 200

    page = trainer.get(f"/portal/review/{sid}")
    assert page.status_code == 200, page.text
    frame = soup_of(page).find("iframe")
    assert frame.has_attr("sandbox") and not frame["sandbox"] and frame["title"]
    assert re.search(r"<iframe sandbox=\"\"", page.text)
    assert frame["src"].endswith(f"/portal/review/{sid}/versions/1/notebook")
    assert soup_of(page).find("input", {"name": "version"})["value"] == "1"

    shown = trainer.get(f"/portal/review/{sid}/versions/1/notebook")
    assert shown.status_code == 200, shown.text
    text = soup_of(shown).get_text()
    assert "Sales study first" in text and "careful" in text
    assert "total = sum(range(10))" in text
    heading = soup_of(shown).find(re.compile(r"^h[1-6]$"), string=re.compile("Sales study first"))
    assert heading is not None  # the markdown is rendered, not shown as escaped tags
    csp = shown.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "sandbox" in csp and "frame-ancestors 'self'" in csp
    assert "script-src" not in csp
    assert shown.headers["x-frame-options"] == "SAMEORIGIN"
    assert shown.headers["x-content-type-options"] == "nosniff"
    assert shown.headers["cache-control"] == "no-store"
    assert not re.search(r"<(script|link)\b", shown.text, re.IGNORECASE)
    assert trainer.get(f"/portal/review/{sid}/versions/2/notebook").status_code == 404

    # Another trainer's student: 404, as the API; a student: the API's 403 for staff routes.
    coach = browser("coach")
    assert coach.get(f"/portal/review/{sid}").status_code == 404
    assert coach.get(f"/portal/review/{sid}/versions/1/notebook").status_code == 404
    assert api.get(f"{V1}/submissions/{sid}", headers=auth("coach")).status_code == 404
    ada = browser("ada")
    assert ada.get("/portal/review").status_code == 403
    assert ada.get(f"/portal/review/{sid}").status_code == 403
    assert ada.get(f"/portal/review/{sid}/versions/1/notebook").status_code == 403


def test_the_students_payload_never_reaches_the_page(api, auth, browser):
    sid = hand_in(api, auth, hostile_notebook())["id"]
    shown = browser("trainer").get(f"/portal/review/{sid}/versions/1/notebook")
    assert shown.status_code == 200, shown.text
    html = shown.text
    assert "<script" not in html.lower()
    assert "onerror" not in re.sub(r"&lt;.*?&gt;", "", html, flags=re.DOTALL)
    assert not BeautifulSoup(html, "html.parser").find_all(
        lambda tag: tag.name == "img" or any(a.startswith("on") for a in tag.attrs)
    )
    assert "alert('html')" not in html and "alert('js')" not in html
    assert "HTML/JavaScript output not shown" in html
    assert "Output truncated: 20,000 of 30,000 characters shown" in html
    assert "y" * 30_000 not in html
    assert "https://" not in " ".join(re.findall(r"<(?:script|link|img)[^>]*>", html))


def test_request_changes_needs_feedback_then_reaches_ada(api, auth, browser):
    sid = hand_in(api, auth, plain_notebook())["id"]
    trainer = browser("trainer")
    missing = trainer.post(
        f"/portal/review/{sid}", data={"version": "1", "decision": "request_changes"}
    )
    assert missing.status_code == 422, missing.text
    soup = soup_of(missing)
    field = soup.find(id="feedback")
    assert field["aria-invalid"] == "true" and "feedback-error" in field["aria-describedby"]
    assert "required" in soup.find(id="feedback-error").get_text()
    assert soup.find(id="decision-changes").has_attr("checked")

    refused = trainer.post(
        f"/portal/review/{sid}",
        data={"version": "1", "decision": "request_changes", "feedback": "x"},
        csrf=None,
    )
    assert refused.status_code == 403
    feedback = "Explain the **join** in cell 2."
    done = trainer.post(
        f"/portal/review/{sid}",
        data={"version": "1", "decision": "request_changes", "feedback": feedback},
    )
    assert done.status_code == 303, done.text
    assert done.headers["location"].endswith("/portal/review?done=request_changes")
    assert "Changes requested" in trainer.get(done.headers["location"]).text
    again = trainer.post(
        f"/portal/review/{sid}",
        data={"version": "1", "decision": "request_changes", "feedback": feedback},
    )
    assert again.status_code == 303  # a double click acts once
    read = api.get(f"{V1}/submissions/{sid}", headers=auth("ada")).json()
    assert read["status"] == "changes_requested"
    assert len([e for e in read["history"] if e["to_status"] == "changes_requested"]) == 1
    mine = browser("ada").get(f"/portal/submissions/{sid}")
    assert "<strong>join</strong>" in mine.text

    other = trainer.post(f"/portal/review/{sid}", data={"version": "1", "decision": "approve"})
    assert other.status_code == 409 and "already reviewed" in other.text


def test_a_newer_version_stops_a_stale_review(api, auth, browser):
    sid = hand_in(api, auth, plain_notebook())["id"]
    trainer = browser("trainer")
    opened = trainer.get(f"/portal/review/{sid}")
    assert soup_of(opened).find("input", {"name": "version"})["value"] == "1"
    hand_in(api, auth, plain_notebook("second"))
    stale = trainer.post(
        f"/portal/review/{sid}",
        data={"version": "1", "decision": "approve", "feedback": "Looks good"},
    )
    assert stale.status_code == 409, stale.text
    soup = soup_of(stale)
    assert (
        "The student has handed in a new version since you opened this page; "
        "read version 2 first." in soup.find(id="problem").get_text()
    )
    assert soup.find(id="feedback").get_text() == "Looks good"
    assert soup.find("input", {"name": "version"})["value"] == "2"
    assert api.get(f"{V1}/submissions/{sid}", headers=auth("ada")).json()["status"] == "submitted"


def test_a_huge_output_is_truncated_with_a_note(api, auth, browser):
    big = notebook_bytes(
        new_code_cell("print(x)", outputs=[new_output("stream", name="stdout", text="z" * 100_000)])
    )
    sid = hand_in(api, auth, big)["id"]
    shown = browser("trainer").get(f"/portal/review/{sid}/versions/1/notebook")
    assert shown.status_code == 200, shown.text
    text = soup_of(shown).get_text()
    assert (
        "Output truncated: 20,000 of 100,000 characters shown; download the file for all of it"
        in text
    )
    assert "z" * 20_001 not in text


def three_cells(changed: str, removed: str) -> bytes:
    return notebook_bytes(
        new_markdown_cell("# Sales study"),
        new_code_cell(changed, outputs=[new_output("stream", name="stdout", text="45\n")]),
        new_code_cell(removed),
    )


def test_diff_between_two_notebook_versions(api, auth, browser):
    sid = hand_in(api, auth, three_cells("total = sum(range(10))\nprint(total)", "old_step()"))[
        "id"
    ]
    trainer = browser("trainer")
    one = trainer.get(f"/portal/review/{sid}/diff")
    assert one.status_code == 200, one.text
    assert "only one notebook version" in soup_of(one).find(id="diff-none").get_text()
    assert soup_of(trainer.get(f"/portal/review/{sid}")).find(id="diff-link") is None

    hand_in(
        api,
        auth,
        notebook_bytes(
            new_markdown_cell("# Sales study"),
            new_code_cell(
                "total = sum(range(20))\nprint(total)",
                outputs=[new_output("stream", name="stdout", text="190\n")],
            ),
            new_markdown_cell("<script>alert('diff')</script> and <b>bold</b>"),
        ),
    )
    review = soup_of(trainer.get(f"/portal/review/{sid}"))
    assert review.find(id="diff-link")["href"].endswith(f"/portal/review/{sid}/diff")
    assert review.find(id="compare-from").find("option", selected=True)["value"] == "1"
    assert review.find(id="compare-to").find("option", selected=True)["value"] == "2"
    assert review.find(id="download-1") and review.find(id="download-2")

    page = trainer.get(f"/portal/review/{sid}/diff")
    assert page.status_code == 200, page.text
    soup = soup_of(page)
    kinds = [li["data-kind"] for li in soup.find_all("li", class_="diff-cell")]
    assert kinds == ["unchanged", "changed", "removed", "added"], kinds
    changed, removed, added = soup.find_all("li", class_="diff-cell")[1:]
    lines = [span.get_text() for span in changed.find_all("span", class_="d-block")]
    assert "- total = sum(range(10))" in lines and "+ total = sum(range(20))" in lines
    assert "  print(total)" in lines
    assert "- 45" in lines and "+ 190" in lines  # the text output, diffed
    assert "old_step()" in removed.get_text()
    assert "<script>alert('diff')</script>" in added.get_text()  # shown as text...
    assert not soup.find_all("script", string=lambda s: s and "alert" in s)  # ...never run
    assert "<script>alert" not in page.text and soup.find("b") is None
    assert "1 changed, 1 added, 1 removed, 1 unchanged" in soup.find(id="diff-summary").get_text()

    same = trainer.get(f"/portal/review/{sid}/diff", params={"from": 2, "to": 2})
    assert "compared with itself" in soup_of(same).find(id="diff-none").get_text()
    back = soup_of(trainer.get(f"/portal/review/{sid}/diff", params={"from": 2, "to": 1}))
    assert [li["data-kind"] for li in back.find_all("li", class_="diff-cell")] == [
        "unchanged",
        "changed",
        "removed",
        "added",
    ]
    assert trainer.get(f"/portal/review/{sid}/diff", params={"to": 3}).status_code == 404
    assert trainer.get(f"/portal/review/{sid}/diff", params={"from": "x"}).status_code == 422
    assert browser("coach").get(f"/portal/review/{sid}/diff").status_code == 404
    assert browser("ada").get(f"/portal/review/{sid}/diff").status_code == 403
