"""What a client or a signed-but-odd Stripe event sends is refused with the error body and
changes nothing (issue 18: items 6, 9, 11, 12 and 13), on SQLite and PostgreSQL."""

import copy
import json
import urllib.parse

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from lms_api.main import create_app
from lms_api.nesting import MAX_DEPTH
from tests.fakes.stripe import fake_stripe, payload_of, sign
from tests.lms_api.conftest import app_settings, assert_error, rows, stripe_settings
from tests.lms_api.test_submissions import add_deliverable

__all__ = ["fake_stripe"]  # the fixture, imported for pytest

V1 = "/api/v1"
BOMB = "[" * 100_000 + "]" * 100_000  # 200 KB: json.loads raises RecursionError on it


def deliverable(api, auth, kind: str) -> int:
    """A deliverable of `kind` in DP's first project (made by an admin when the demo has none)."""
    track = api.get(f"{V1}/tracks/DP", headers=auth("admin")).json()
    project = api.get(f"{V1}/projects/{track['projects'][0]['id']}", headers=auth("admin")).json()
    found = [d["id"] for d in project["deliverables"] if d["kind"] == kind]
    return found[0] if found else add_deliverable(api, auth, kind)


def upload(api, auth, deliverable_id: int, name: str, data: bytes, user="ada"):
    return api.post(
        f"{V1}/submissions/upload",
        data={"deliverable_id": str(deliverable_id)},
        files={"file": (name, data, "application/octet-stream")},
        headers=auth(user),
    )


def submission_count(database_url: str) -> int:
    return rows(database_url, "SELECT count(*) FROM submissions")[0][0]


# --- item 6: nesting depth -----------------------------------------------------------------
def test_a_json_depth_bomb_deliverable_is_refused_and_nothing_is_stored(
    api, auth, database_url, upload_dir
):
    file_id = deliverable(api, auth, "file")
    bomb = upload(api, auth, file_id, "data.json", BOMB.encode())
    assert_error(bomb, 415, "unsupported_file_type", f"more than {MAX_DEPTH} levels")
    notebook_id = deliverable(api, auth, "notebook")
    wrapped = '{"cells": ' + BOMB + ', "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
    notebook = upload(api, auth, notebook_id, "work.ipynb", wrapped.encode())
    assert_error(notebook, 422, "invalid_notebook")
    assert submission_count(database_url) == 0
    assert not upload_dir.exists() or not any(upload_dir.rglob("*/*"))
    # Just inside the bound is still a JSON file.
    deep = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert upload(api, auth, file_id, "deep.json", deep.encode()).status_code == 201


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", BOMB),
        ("application/yaml", BOMB),  # YAML flow style: the same brackets
        ("application/yaml", "title: x\nq:\n" + "".join("  " * i + "- \n" for i in range(1, 400))),
    ],
)
def test_a_depth_bomb_quiz_import_is_a_422_and_no_quiz_is_made(
    api, auth, database_url, content_type, body
):
    before = rows(database_url, "SELECT count(*) FROM quizzes")[0][0]
    response = api.post(
        f"{V1}/quizzes/import",
        content=body.encode(),
        headers={**auth("trainer"), "Content-Type": content_type},
    )
    assert_error(response, 422, "invalid_input", f"more than {MAX_DEPTH} levels")
    assert rows(database_url, "SELECT count(*) FROM quizzes")[0][0] == before


# --- item 9: deletes blocked by a foreign key -----------------------------------------------
@pytest.fixture
def pay(hub, database_url, upload_dir, seeded, fake_stripe):
    seeded.restore(database_url)
    settings = app_settings(hub, database_url, upload_dir, **stripe_settings(fake_stripe))
    with TestClient(create_app(settings)) as client:
        client.fake = fake_stripe
        yield client


def pending_checkout(pay, auth, track="DP") -> dict:
    started = pay.post(f"{V1}/payments/checkout", json={"track": track}, headers=auth("grace"))
    assert started.status_code == 201, started.text
    return started.json()["payment"]


def new_priced_track(pay, auth, code="ZZ") -> str:
    """A track with nothing in it but what the test adds."""
    track = {"code": code, "name": "Zeta", "price_cents": 1000, "workspace_kinds": ["jupyterlab"]}
    made = pay.post(f"{V1}/tracks", json=track, headers=auth("admin"))
    assert made.status_code == 201, made.text
    return code


@pytest.mark.dialects
def test_deleting_a_track_with_only_a_pending_payment_is_a_409(pay, auth, database_url):
    code = new_priced_track(pay, auth)
    pending_checkout(pay, auth, code)
    response = pay.delete(f"{V1}/tracks/{code}", headers=auth("admin"))
    assert_error(response, 409, "conflict", "payment")
    assert rows(database_url, "SELECT count(*) FROM tracks WHERE code = :c", c=code) == [(1,)]


@pytest.mark.dialects
def test_any_delete_the_database_refuses_for_a_reference_is_a_409(pay, auth, database_url):
    """The class: a route whose own checks miss a reference still answers 409, not 500."""
    code = new_priced_track(pay, auth)
    pending_checkout(pay, auth, code)
    from lms_api.database import SessionDep

    @pay.app.delete(f"{V1}/test-only/tracks/{{code}}")
    async def raw_delete(code: str, session: SessionDep) -> dict:
        await session.execute(text("DELETE FROM tracks WHERE code = :c"), {"c": code})
        await session.flush()
        return {}

    response = pay.delete(f"{V1}/test-only/tracks/{code}")
    assert_error(response, 409, "conflict", "refer")
    assert rows(database_url, "SELECT count(*) FROM tracks WHERE code = :c", c=code) == [(1,)]


# --- item 11: signed but malformed Stripe events --------------------------------------------
def signed(pay, body: bytes):
    headers = {
        "Content-Type": "application/json",
        "Stripe-Signature": sign(body, pay.fake.webhook_secret),
    }
    return pay.post(f"{V1}/payments/webhook", content=body, headers=headers)


def stored_state(database_url):
    return (
        rows(database_url, "SELECT id, status, refunded_cents FROM payments ORDER BY id"),
        rows(database_url, "SELECT count(*) FROM payment_webhook_events"),
        rows(database_url, "SELECT count(*) FROM enrollments"),
    )


def test_signed_events_of_the_wrong_shape_are_400_and_change_nothing(pay, auth, database_url):
    payment = pending_checkout(pay, auth)
    completed = pay.fake.complete_checkout(payment["checkout_session_id"])[0]
    before = stored_state(database_url)

    unknown_session = copy.deepcopy(completed)
    unknown_session["id"] = "evt_malformed_metadata"
    unknown_session["data"]["object"]["id"] = "cs_not_stored_anywhere"
    unknown_session["data"]["object"]["metadata"] = "apranova_payment_id=1"
    huge_refund = pay.fake.event(
        "charge.refunded",
        {"id": "ch_x", "object": "charge", "payment_intent": "pi_x", "amount_refunded": 2**40},
    )
    far_future = {**copy.deepcopy(completed), "id": "evt_far_future", "created": 10**20}
    nul_id = {**copy.deepcopy(completed), "id": "evt_\x00"}
    nested = copy.deepcopy(completed)
    nested["id"] = "evt_deep"
    nested["data"]["object"]["extra"] = None
    deep_body = payload_of(nested).replace(b'"extra":null', b'"extra":' + BOMB.encode())
    for body in (
        payload_of(unknown_session),
        payload_of(huge_refund),
        payload_of(far_future),
        json.dumps(nul_id, separators=(",", ":")).encode(),
        deep_body,
    ):
        assert_error(signed(pay, body), 400, "invalid_payload")
    assert stored_state(database_url) == before
    # The well-formed event still applies afterwards.
    assert signed(pay, payload_of(completed)).status_code == 200
    assert rows(database_url, "SELECT status FROM payments WHERE id = :i", i=payment["id"]) == [
        ("succeeded",)
    ]


# --- item 12: file names that hide their extension ------------------------------------------
@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("report\u202efdp.txt", "reportfdp.txt"),  # shows as "reporttxt.pdf"
        ("\u2067notes\u2069\u200f.txt", "notes.txt"),
        ("a\u200eb\u200dc\u2066d\u2028.txt", "abcd.txt"),
    ],
)
@pytest.mark.dialects
def test_bidi_and_control_characters_leave_stored_and_served_file_names(api, auth, sent, stored):
    file_id = deliverable(api, auth, "file")
    made = upload(api, auth, file_id, sent, f"text for {stored}".encode())
    assert made.status_code == 201, made.text
    version = made.json()["versions"][-1]
    assert version["filename"] == stored
    served = api.get(version["download_url"], headers=auth("trainer"))
    assert served.status_code == 200
    disposition = served.headers["content-disposition"]
    assert urllib.parse.unquote(disposition.split("filename")[-1]).endswith(f'{stored}"') or (
        stored in urllib.parse.unquote(disposition)
    ), disposition
    for hidden in ("\u202e", "\u2066", "\u2067", "\u2069", "\u200e", "\u200f", "\u200d"):
        assert hidden not in urllib.parse.unquote(disposition)


# --- item 13: links never come from the Host header -----------------------------------------
def test_links_are_made_from_the_public_url_not_the_host_header(api, auth):
    public = api.app.state.settings.public_url + api.app.state.settings.service_prefix
    evil = {**auth("admin"), "Host": "evil.example"}
    first = api.get(f"{V1}/tracks?limit=1", headers=evil).json()
    assert first["next"] == f"{public}{V1}/tracks?limit=1&offset=1"
    second = api.get(first["next"], headers=evil).json()
    assert second["previous"] == f"{public}{V1}/tracks?limit=1&offset=0"
    filtered = api.get(f"{V1}/enrollments?limit=1&status=active", headers=evil).json()
    assert filtered["next"].startswith(f"{public}{V1}/enrollments?status=active&limit=1")
    trainers = api.get(f"{V1}/trainers?limit=1", headers=evil).json()
    assert trainers["next"].startswith(public)
    file_id = deliverable(api, auth, "file")
    made = api.post(
        f"{V1}/submissions/upload",
        data={"deliverable_id": str(file_id)},
        files={"file": ("a.txt", b"hello", "text/plain")},
        headers={**auth("ada"), "Host": "evil.example"},
    )
    assert made.headers["location"].startswith(f"{public}{V1}/submissions/")
    assert made.json()["versions"][0]["download_url"].startswith(public)
    assert "evil.example" not in made.text + str(first) + str(trainers)
