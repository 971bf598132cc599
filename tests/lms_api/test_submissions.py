"""Submissions: links and uploads, versions, reviews, history, outbox, and who sees what."""

import hashlib
import json
import os
import threading
import time

import nbformat
import pytest
from fastapi.testclient import TestClient

from lms_api.cli import sweep_uploads
from lms_api.main import create_app
from lms_api.submissions.files import FileStore, sweep_unreferenced
from tests.lms_api.conftest import app_settings, assert_error, rows

V1 = "/api/v1"


# --- helpers -------------------------------------------------------------------------------
def notebook_bytes(source: str = "print('hello')") -> bytes:
    notebook = nbformat.v4.new_notebook()
    notebook.cells.append(nbformat.v4.new_code_cell(source))
    return nbformat.writes(notebook).encode()


def deliverables(api, auth, track: str = "DP", project: int = 1) -> dict[str, int]:
    """{kind: deliverable id} of a demo project, as an admin reads it."""
    detail = api.get(f"{V1}/tracks/{track}", headers=auth("admin")).json()
    project_id = next(p["id"] for p in detail["projects"] if p["number"] == project)
    found = api.get(f"{V1}/projects/{project_id}", headers=auth("admin")).json()
    return {d["kind"]: d["id"] for d in found["deliverables"]}


def add_deliverable(api, auth, kind: str, track: str = "DP") -> int:
    detail = api.get(f"{V1}/tracks/{track}", headers=auth("admin")).json()
    project_id = detail["projects"][0]["id"]
    created = api.post(
        f"{V1}/projects/{project_id}/deliverables",
        json={"title": f"A {kind}", "kind": kind},
        headers=auth("admin"),
    )
    assert created.status_code == 201, created.text
    return created.json()["id"]


def submit_link(api, auth, username: str, deliverable_id: int, url: str, **extra):
    body = {"deliverable_id": deliverable_id, "url": url, **extra}
    return api.post(f"{V1}/submissions", json=body, headers=auth(username))


def upload(api, auth, username, deliverable_id, filename, data, content_type="application/json"):
    return api.post(
        f"{V1}/submissions/upload",
        data={"deliverable_id": str(deliverable_id), "note": "please look"},
        files={"file": (filename, data, content_type)},
        headers=auth(username),
    )


def review(api, auth, username, submission_id, version, decision, feedback=""):
    body = {"version": version, "decision": decision, "feedback": feedback}
    return api.post(f"{V1}/submissions/{submission_id}/reviews", json=body, headers=auth(username))


def counts(database_url: str) -> tuple[int, ...]:
    """(submissions, versions, events, submission outbox events) straight from the database."""
    queries = [f"SELECT COUNT(*) FROM {t}" for t in ("submissions", "submission_versions")]
    queries += [
        "SELECT COUNT(*) FROM submission_events",
        "SELECT COUNT(*) FROM outbox_events WHERE topic LIKE 'submission.%'",
    ]
    return tuple(rows(database_url, q)[0][0] for q in queries)


def outbox(database_url: str, topic: str) -> list[dict]:
    found = rows(
        database_url, "SELECT payload FROM outbox_events WHERE topic = :t ORDER BY id", t=topic
    )
    return [p if isinstance(p, dict) else json.loads(p) for (p,) in found]


# --- links ---------------------------------------------------------------------------------
def test_submit_a_link_then_resubmit_keeps_every_version(api, auth, database_url):
    url_id = deliverables(api, auth)["url"]
    first = submit_link(api, auth, "ada", url_id, "https://example.org/report-v1", note="v1")
    assert first.status_code == 201, first.text
    body = first.json()
    assert first.headers["location"].endswith(f"/api/v1/submissions/{body['id']}")
    assert (body["username"], body["deliverable_id"], body["track_code"]) == ("ada", url_id, "DP")
    assert (body["status"], body["current_version"]) == ("submitted", 1)
    assert [(v["number"], v["url"], v["note"]) for v in body["versions"]] == [
        (1, "https://example.org/report-v1", "v1")
    ]
    assert [(h["from_status"], h["to_status"], h["actor"]) for h in body["history"]] == [
        (None, "submitted", "ada")
    ]

    same = submit_link(api, auth, "ada", url_id, "https://example.org/report-v1")
    assert assert_error(same, 409, "duplicate_submission")["details"]["version"] == 1

    second = submit_link(api, auth, "ada", url_id, "https://example.org/report-v2")
    assert second.status_code == 200, second.text
    assert second.json()["id"] == body["id"]
    assert [v["url"] for v in second.json()["versions"]] == [
        "https://example.org/report-v1",
        "https://example.org/report-v2",
    ]
    assert second.json()["current_version"] == 2
    assert [e["version"] for e in outbox(database_url, "submission.submitted")] == [1, 2]


def test_link_rules_per_deliverable_kind(api, auth, database_url):
    kinds = deliverables(api, auth)
    pr_id = add_deliverable(api, auth, "github_pr")
    before = counts(database_url)

    not_http = submit_link(api, auth, "ada", kinds["url"], "ftp://example.org/x")
    assert "http(s)" in assert_error(not_http, 422, "invalid_input")["message"]
    assert_error(
        submit_link(api, auth, "ada", kinds["url"], "https://exa mple.org"), 422, "invalid_input"
    )
    not_a_pr = submit_link(api, auth, "ada", pr_id, "https://github.com/ada/warehouse")
    assert "pull request" in assert_error(not_a_pr, 422, "invalid_input")["message"]
    for_a_file = submit_link(api, auth, "ada", kinds["notebook"], "https://example.org/nb")
    assert (
        "/api/v1/submissions/upload"
        in assert_error(for_a_file, 422, "wrong_submission_kind")["message"]
    )
    too_long = submit_link(api, auth, "ada", kinds["url"], "https://example.org/" + "x" * 2000)
    assert_error(too_long, 422, "invalid_input")
    unknown_field = submit_link(api, auth, "ada", kinds["url"], "https://e.org", grade="A+")
    assert_error(unknown_field, 422, "invalid_input")
    assert_error(submit_link(api, auth, "ada", 999_999, "https://e.org"), 404, "not_found")
    assert_error(submit_link(api, auth, "ada", -1, "https://e.org"), 422, "invalid_input")
    assert counts(database_url) == before  # nothing written by any refused submission

    pr = submit_link(api, auth, "ada", pr_id, "https://github.com/ada/warehouse/pull/7")
    assert pr.status_code == 201, pr.text


def test_only_students_active_in_the_track_may_submit(api, auth, database_url):
    url_id = deliverables(api, auth)["url"]  # a DP deliverable
    for username in ("linus", "grace", "trainer"):  # FSD student, not enrolled, staff
        refused = submit_link(api, auth, username, url_id, "https://example.org/x")
        assert assert_error(refused, 403, "not_enrolled")["details"] == {"track": "DP"}
    assert counts(database_url)[:2] == (0, 0)


# --- uploads -------------------------------------------------------------------------------
def test_upload_a_notebook_stored_outside_the_database(api, auth, database_url, upload_dir):
    notebook_id = deliverables(api, auth)["notebook"]
    data = notebook_bytes()
    created = upload(api, auth, "ada", notebook_id, "../../etc/analysis.ipynb", data)
    assert created.status_code == 201, created.text
    version = created.json()["versions"][0]
    digest = hashlib.sha256(data).hexdigest()
    assert (version["filename"], version["size_bytes"], version["sha256"]) == (
        "analysis.ipynb",
        len(data),
        digest,
    )
    assert version["content_type"] == "application/x-ipynb+json"
    assert version["note"] == "please look"
    assert (upload_dir / digest[:2] / digest).read_bytes() == data
    stored = rows(database_url, "SELECT url, sha256 FROM submission_versions")
    assert stored == [(None, digest)]  # the database holds the digest, not the bytes

    path = version["download_url"].removeprefix("http://testserver")
    for username in ("ada", "trainer", "office", "admin"):
        got = api.get(path, headers=auth(username))
        assert got.status_code == 200, (username, got.text)
        assert got.content == data
        assert got.headers["content-type"].startswith("application/x-ipynb+json")
        assert got.headers["x-content-type-options"] == "nosniff"
        assert 'filename="analysis.ipynb"' in got.headers["content-disposition"]
    for username in ("linus", "coach"):
        assert_error(api.get(path, headers=auth(username)), 404, "not_found")

    changed = notebook_bytes("1 + 1")
    resubmitted = upload(api, auth, "ada", notebook_id, "analysis.ipynb", changed)
    assert resubmitted.status_code == 200, resubmitted.text
    assert [v["number"] for v in resubmitted.json()["versions"]] == [1, 2]
    again = upload(api, auth, "ada", notebook_id, "analysis.ipynb", changed)
    assert_error(again, 409, "duplicate_submission")


@pytest.mark.parametrize(
    ("kind", "filename", "data", "status", "code"),
    [
        ("notebook", "a.ipynb", b'{"cells": [', 422, "invalid_notebook"),
        ("notebook", "a.ipynb", b'{"cells": []}', 422, "invalid_notebook"),
        ("notebook", "a.ipynb", b"\xff\xfe\x00binary", 422, "invalid_notebook"),
        ("notebook", "a.py", b"print(1)", 415, "unsupported_file_type"),
        ("notebook", "a.ipynb", b"", 422, "empty_file"),
        ("file", "slides.pdf", b"just text, not a PDF", 415, "unsupported_file_type"),
        ("file", "tool.exe", b"MZ\x90\x00", 415, "unsupported_file_type"),
        ("file", "data.csv", b"a,b\x00\x01", 415, "unsupported_file_type"),
        ("file", "data.json", b"{not json", 415, "unsupported_file_type"),
        ("file", "", b"a,b\n1,2\n", 422, "invalid_input"),
    ],
)
def test_bad_uploads_are_refused_and_leave_nothing(
    api, auth, database_url, upload_dir, kind, filename, data, status, code
):
    deliverable_id = (
        deliverables(api, auth)["notebook"]
        if kind == "notebook"
        else add_deliverable(api, auth, "file")
    )
    refused = upload(api, auth, "ada", deliverable_id, filename, data)
    assert_error(refused, status, code)
    assert counts(database_url) == (0, 0, 0, 0)
    assert not upload_dir.exists() or not any(upload_dir.rglob("*"))


def test_accepted_file_types_are_served_with_their_checked_type(api, auth):
    file_id = add_deliverable(api, auth, "file")
    pdf = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
    created = upload(api, auth, "ada", file_id, "Slides.PDF", pdf, "text/html")
    assert created.status_code == 201, created.text
    version = created.json()["versions"][0]
    assert version["content_type"] == "application/pdf"  # from the content, not the client
    served = api.get(version["download_url"].removeprefix("http://testserver"), headers=auth("ada"))
    assert served.content == pdf and served.headers["content-type"] == "application/pdf"


def test_links_and_files_go_to_their_own_route(api, auth):
    url_id = deliverables(api, auth)["url"]
    wrong = upload(api, auth, "ada", url_id, "a.ipynb", notebook_bytes())
    assert (
        "POST /api/v1/submissions" in assert_error(wrong, 422, "wrong_submission_kind")["message"]
    )
    missing_file = api.post(
        f"{V1}/submissions/upload", data={"deliverable_id": str(url_id)}, headers=auth("ada")
    )
    assert "file" in assert_error(missing_file, 422, "invalid_input")["message"]


def test_oversized_uploads_get_413_and_leave_nothing(hub, database_url, auth, tmp_path, seeded):
    seeded.restore(database_url)
    uploads = tmp_path / "small-uploads"
    settings = app_settings(hub, database_url, uploads, max_upload_bytes=2048)
    with TestClient(create_app(settings)) as api:
        notebook_id = deliverables(api, auth)["notebook"]
        big = notebook_bytes("x = '" + "y" * 4096 + "'")
        refused = upload(api, auth, "ada", notebook_id, "big.ipynb", big)
        error = assert_error(refused, 413, "file_too_large")
        assert error["details"] == {"max_bytes": 2048}
        # Past the app-wide body limit the request is cut off while it streams in.
        huge = upload(api, auth, "ada", notebook_id, "huge.ipynb", b"x" * (2 * 1024 * 1024))
        assert "at most" in assert_error(huge, 413, "too_large")["message"]
        streamed = api.post(  # no Content-Length: cut off while it streams in
            f"{V1}/submissions/upload",
            content=(b"x" * 65536 for _ in range(64)),
            headers={**auth("ada"), "Content-Type": "multipart/form-data; boundary=b"},
        )
        assert_error(streamed, 413, "too_large")
        small = upload(api, auth, "ada", notebook_id, "small.ipynb", notebook_bytes())
        assert small.status_code == 201, small.text
    assert counts(database_url)[:2] == (1, 1)
    assert len([p for p in uploads.rglob("*") if p.is_file()]) == 1


# --- reviews -------------------------------------------------------------------------------
def test_review_cycle_with_feedback_and_history(api, auth, database_url):
    url_id = deliverables(api, auth)["url"]
    sid = submit_link(api, auth, "ada", url_id, "https://example.org/v1").json()["id"]

    no_feedback = review(api, auth, "trainer", sid, 1, "request_changes")
    assert "feedback" in assert_error(no_feedback, 422, "invalid_input")["message"]
    asked = review(api, auth, "trainer", sid, 1, "request_changes", "Add the data sources.")
    assert asked.status_code == 200, asked.text
    assert asked.json()["status"] == "changes_requested"
    assert_error(review(api, auth, "trainer", sid, 1, "approve"), 409, "already_reviewed")

    resubmitted = submit_link(api, auth, "ada", url_id, "https://example.org/v2")
    assert resubmitted.json()["status"] == "submitted"
    stale = review(api, auth, "trainer", sid, 1, "approve")
    assert assert_error(stale, 409, "stale_version")["details"]["current_version"] == 2
    approved = review(api, auth, "office", sid, 2, "approve", "Good work.")
    assert approved.json()["status"] == "approved"
    late = submit_link(api, auth, "ada", url_id, "https://example.org/v3")
    assert_error(late, 409, "already_approved")

    history = api.get(f"{V1}/submissions/{sid}", headers=auth("ada")).json()["history"]
    assert [
        (h["version"], h["from_status"], h["to_status"], h["actor"], h["feedback"]) for h in history
    ] == [
        (1, None, "submitted", "ada", ""),
        (1, "submitted", "changes_requested", "trainer", "Add the data sources."),
        (2, "changes_requested", "submitted", "ada", ""),
        (2, "submitted", "approved", "office", "Good work."),
    ]
    reviewed = outbox(database_url, "submission.reviewed")
    assert [(e["version"], e["decision"], e["reviewer"]) for e in reviewed] == [
        (1, "request_changes", "trainer"),
        (2, "approve", "office"),
    ]


def test_who_may_review(api, auth):
    url_id = deliverables(api, auth)["url"]
    sid = submit_link(api, auth, "ada", url_id, "https://example.org/v1").json()["id"]
    assert_error(review(api, auth, "ada", sid, 1, "approve"), 403, "forbidden")
    assert_error(review(api, auth, "linus", sid, 1, "approve"), 403, "forbidden")
    assert_error(review(api, auth, "coach", sid, 1, "approve"), 404, "not_found")
    assert_error(review(api, auth, "trainer", 999_999, 1, "approve"), 404, "not_found")
    assert review(api, auth, "admin", sid, 1, "approve").status_code == 200


@pytest.mark.dialects
def test_concurrent_reviews_one_wins(api, auth, database_url):
    url_id = deliverables(api, auth)["url"]
    sid = submit_link(api, auth, "ada", url_id, "https://example.org/v1").json()["id"]
    for username in ("trainer", "office"):
        auth(username)  # tokens first, so the threads only race the reviews
    results: list[int] = []

    def one(username: str, decision: str) -> None:
        response = review(api, auth, username, sid, 1, decision, "feedback")
        results.append(response.status_code)

    threads = [
        threading.Thread(target=one, args=("trainer", "approve")),
        threading.Thread(target=one, args=("office", "request_changes")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200, 409]
    reviews = rows(
        database_url, "SELECT COUNT(*) FROM submission_events WHERE actor IN ('trainer', 'office')"
    )
    assert reviews == [(1,)]


@pytest.mark.dialects
def test_concurrent_resubmissions_get_distinct_versions(api, auth, database_url):
    url_id = deliverables(api, auth)["url"]
    results: list[int] = []

    def one(n: int) -> None:
        results.append(submit_link(api, auth, "ada", url_id, f"https://e.org/{n}").status_code)

    auth("ada")
    threads = [threading.Thread(target=one, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 500 not in results and set(results) <= {200, 201, 409}
    versions = rows(database_url, "SELECT number FROM submission_versions ORDER BY number")
    accepted = [s for s in results if s in (200, 201)]
    assert [n for (n,) in versions] == list(range(1, len(accepted) + 1))
    assert rows(database_url, "SELECT current_version FROM submissions") == [(len(accepted),)]


# --- reading -------------------------------------------------------------------------------
def test_lists_show_what_each_role_may_see_with_filters(api, auth):
    dp = deliverables(api, auth)
    fsd = deliverables(api, auth, "FSD")
    ada = submit_link(api, auth, "ada", dp["url"], "https://example.org/ada").json()["id"]
    linus = submit_link(api, auth, "linus", fsd["url"], "https://example.org/linus").json()["id"]
    review(api, auth, "trainer", linus, 1, "approve")

    def ids(caller: str, **params) -> list[int]:
        page = api.get(f"{V1}/submissions", params=params, headers=auth(caller))
        assert page.status_code == 200, page.text
        return [s["id"] for s in page.json()["results"]]

    assert ids("ada") == [ada]
    assert ids("linus") == [linus]
    assert ids("grace") == []
    assert ids("coach") == []
    assert ids("trainer") == ids("office") == ids("admin") == [ada, linus]
    assert ids("trainer", status="approved") == [linus]
    assert ids("office", track="DP") == [ada]
    assert ids("office", username="linus") == [linus]
    assert ids("office", deliverable_id=dp["url"]) == [ada]
    assert ids("ada", username="linus") == []  # a filter never widens what one may see
    page = api.get(f"{V1}/submissions", params={"limit": 1}, headers=auth("admin")).json()
    assert (page["count"], len(page["results"]), page["previous"]) == (2, 1, None)
    assert "offset=1" in page["next"]
    bad = api.get(f"{V1}/submissions", params={"status": "lost"}, headers=auth("admin"))
    assert_error(bad, 422, "invalid_input")

    for username in ("linus", "grace", "coach"):
        assert_error(api.get(f"{V1}/submissions/{ada}", headers=auth(username)), 404, "not_found")


def test_deleting_curriculum_never_deletes_submitted_work(api, auth, database_url):
    url_id = deliverables(api, auth)["url"]
    submit_link(api, auth, "ada", url_id, "https://example.org/x")
    project_id = rows(database_url, "SELECT project_id FROM deliverables WHERE id = :i", i=url_id)[
        0
    ][0]
    deleted = api.delete(f"{V1}/deliverables/{url_id}", headers=auth("office"))
    assert assert_error(deleted, 409, "has_submissions")["details"] == {"submissions": 1}
    deleted = api.delete(f"{V1}/projects/{project_id}", headers=auth("office"))
    assert_error(deleted, 409, "has_submissions")
    assert counts(database_url)[:2] == (1, 1)


def test_the_upload_sweep_deletes_only_old_unreferenced_files(api, auth, database_url, upload_dir):
    notebook_id = deliverables(api, auth)["notebook"]
    kept = notebook_bytes("kept")
    assert upload(api, auth, "ada", notebook_id, "a.ipynb", kept).status_code == 201
    store = FileStore(upload_dir)
    kept_path = store.path_of(hashlib.sha256(kept).hexdigest())
    old_orphan = store.path_of(store.save(b"a failed request's file"))
    young_orphan = store.path_of(store.save(b"a request still in flight"))
    crashed = old_orphan.parent / ".upload-abc123"
    crashed.write_bytes(b"half")
    a_week_ago = time.time() - 7 * 86_400
    for path in (kept_path, old_orphan, crashed):
        os.utime(path, (a_week_ago, a_week_ago))

    deleted = sweep_uploads(database_url, upload_dir, grace_seconds=86_400)

    assert sorted(deleted) == sorted([old_orphan, crashed])
    assert not old_orphan.exists() and not crashed.exists()
    assert kept_path.read_bytes() == kept and young_orphan.exists()
    # the submitted file is still served
    listed = api.get(f"{V1}/submissions", headers=auth("ada")).json()["results"]
    detail = api.get(f"{V1}/submissions/{listed[0]['id']}", headers=auth("ada")).json()
    path = detail["versions"][0]["download_url"].removeprefix("http://testserver")
    assert api.get(path, headers=auth("ada")).content == kept


def test_saving_known_bytes_again_makes_the_file_young_for_the_sweep(upload_dir):
    store = FileStore(upload_dir)
    path = store.path_of(store.save(b"same bytes"))
    os.utime(path, (0, 0))
    store.save(b"same bytes")  # a new upload of the same content, its row not yet committed
    assert sweep_unreferenced(upload_dir, set(), grace_seconds=3600) == []
    assert path.exists()
