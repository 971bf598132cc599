"""Payments: the real stripe SDK against a local fake Stripe API, on SQLite and PostgreSQL.

Webhooks are signed the way Stripe signs them (HMAC-SHA256 over `timestamp.payload`, written
in `tests.fakes.stripe` without the SDK) and checked by the app with the SDK's own check.
`grace` is the demo student with no enrollment; DP costs €1,500.00 in the demo school.
"""

import asyncio
import copy
import time

import pytest
from fastapi.testclient import TestClient

from lms_api.config import Settings
from lms_api.main import create_app
from tests.fakes.stripe import fake_stripe, payload_of, sign
from tests.lms_api.conftest import (
    app_settings,
    assert_error,
    rows,
    run_at_once,
    stripe_settings,
)

__all__ = ["fake_stripe"]  # the fixture, imported for pytest

V1 = "/api/v1"
DP_PRICE = 150000


@pytest.fixture
def pay_settings(hub, database_url, upload_dir, seeded, fake_stripe):
    seeded.restore(database_url)
    return app_settings(hub, database_url, upload_dir, **stripe_settings(fake_stripe))


@pytest.fixture
def pay(pay_settings):
    with TestClient(create_app(pay_settings)) as client:
        yield client


def webhook(pay, fake, event, **signing):
    body, headers = fake.webhook_request(event, **signing)
    return pay.post(f"{V1}/payments/webhook", content=body, headers=headers)


def checkout(pay, auth, username="grace", track="DP", key=None):
    headers = {**auth(username), **({"Idempotency-Key": key} if key else {})}
    return pay.post(f"{V1}/payments/checkout", json={"track": track}, headers=headers)


def paid_checkout(pay, auth, fake, username="grace"):
    """A checkout Stripe reports as paid, with both of its events delivered."""
    started = checkout(pay, auth, username)
    assert started.status_code == 201, started.text
    payment = started.json()["payment"]
    events = fake.complete_checkout(payment["checkout_session_id"])
    for event in events:
        assert webhook(pay, fake, event).status_code == 200
    return payment, events


def enrollment_of(database_url, username="grace", track="DP"):
    found = rows(
        database_url,
        "SELECT e.status, e.source FROM enrollments e JOIN people p ON p.id = e.person_id "
        "JOIN tracks t ON t.id = e.track_id WHERE p.username = :u AND t.code = :t",
        u=username,
        t=track,
    )
    return found[0] if found else None


def payment_row(database_url, payment_id):
    return rows(
        database_url,
        "SELECT status, refunded_cents, payment_intent_id FROM payments WHERE id = :i",
        i=payment_id,
    )[0]


def counts(database_url) -> dict[str, int]:
    tables = (
        "payments",
        "payment_events",
        "payment_webhook_events",
        "payment_customers",
        "enrollments",
        "enrollment_events",
    )
    return {t: rows(database_url, f"SELECT count(*) FROM {t}")[0][0] for t in tables}


def allowed(pay, auth, username="grace"):
    answer = pay.get(f"{V1}/workspaces/allowed", params={"user": username}, headers=auth("hub"))
    assert answer.status_code == 200, answer.text
    return answer.json()


# --- not configured ------------------------------------------------------------------------


def test_without_stripe_keys_payment_routes_say_how_to_configure_and_grants_still_work(api, auth):
    for route in ("checkout", "intents"):
        error = assert_error(
            api.post(f"{V1}/payments/{route}", json={"track": "DP"}, headers=auth("grace")),
            503,
            "payments_not_configured",
            "APRANOVA_STRIPE_SECRET_KEY",
            "APRANOVA_STRIPE_WEBHOOK_SECRET",
        )
        assert "/api/v1/enrollments" in error["message"]
    assert_error(api.post(f"{V1}/payments/webhook", content=b"{}"), 503, "payments_not_configured")
    assert api.get(f"{V1}/payments", headers=auth("grace")).json()["count"] == 0
    rule = api.get(f"{V1}/workspaces/allowed", params={"user": "grace"}, headers=auth("hub"))
    assert rule.json()["payments_enabled"] is False
    # a scholarship: an admin grants the track without any payment
    granted = api.post(
        f"{V1}/enrollments",
        json={"username": "grace", "track": "DP", "reason": "Scholarship"},
        headers=auth("office"),
    )
    assert granted.status_code == 201, granted.text
    assert granted.json()["status"] == "active"


def test_production_refuses_placeholder_stripe_secrets():
    with pytest.raises(ValueError, match="APRANOVA_STRIPE_SECRET_KEY is a placeholder"):
        Settings(production=True, lms_api_token="a-real-token", stripe_secret_key="changeme")
    with pytest.raises(ValueError, match="APRANOVA_STRIPE_WEBHOOK_SECRET is a placeholder"):
        Settings(production=True, lms_api_token="a-real-token", stripe_webhook_secret="secret")


# --- starting a payment --------------------------------------------------------------------


def test_the_hub_rule_offers_the_priced_tracks_a_student_is_not_in(pay, auth):
    rule = allowed(pay, auth, "grace")
    assert rule["kinds"] == [] and rule["payments_enabled"] is True
    offers = {o["track_code"]: o for o in rule["offers"]}
    assert set(offers) == {"DP", "FSD"}
    assert offers["DP"]["price_cents"] == DP_PRICE and offers["DP"]["currency"] == "eur"
    # ada is active in DP: only FSD is on offer to her
    assert [o["track_code"] for o in allowed(pay, auth, "ada")["offers"]] == ["FSD"]


def test_checkout_opens_a_stripe_page_at_the_track_price_for_one_customer(
    pay, auth, fake_stripe, database_url
):
    started = checkout(pay, auth)
    assert started.status_code == 201, started.text
    body = started.json()
    payment = body["payment"]
    session = fake_stripe.sessions[payment["checkout_session_id"]]
    assert body["checkout_url"] == session["url"]
    assert payment["status"] == "pending" and payment["amount_cents"] == DP_PRICE
    assert payment["username"] == "grace" and payment["kind"] == "checkout"
    assert payment["expires_at"] is not None

    sent = fake_stripe.calls("POST", "/v1/checkout/sessions")[0]
    item = sent.params["line_items"][0]
    assert item["price_data"]["unit_amount"] == str(DP_PRICE)
    assert item["price_data"]["currency"] == "eur"
    assert sent.params["metadata"]["apranova_payment_id"] == str(payment["id"])
    assert sent.params["payment_intent_data"]["metadata"]["apranova_track"] == "DP"
    assert sent.params["success_url"].startswith(
        f"http://127.0.0.1:8000/hub/payments/return?payment={payment['id']}"
    )
    assert all(r.headers.get("idempotency-key") for r in fake_stripe.calls("POST", "/v1/"))
    # nothing is enrolled by starting: only the webhook enrolls
    assert enrollment_of(database_url) is None
    assert payment_row(database_url, payment["id"])[0] == "pending"

    # a second payment (another track) reuses the one Stripe customer
    assert checkout(pay, auth, track="FSD").status_code == 201
    assert len(fake_stripe.calls("POST", "/v1/customers")) == 1
    customers = {s["customer"] for s in fake_stripe.sessions.values()}
    assert len(customers) == 1
    assert counts(database_url)["payment_customers"] == 1


def test_a_retried_checkout_with_the_same_key_is_the_same_payment(
    pay, auth, fake_stripe, database_url
):
    first = checkout(pay, auth, key="retry-key-0001")
    again = checkout(pay, auth, key="retry-key-0001")
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json()
    assert len(fake_stripe.sessions) == 1
    assert counts(database_url)["payments"] == 1
    # the same key for another request is refused, not silently answered
    assert_error(
        checkout(pay, auth, track="FSD", key="retry-key-0001"), 409, "conflict", "Idempotency-Key"
    )
    assert_error(checkout(pay, auth, key="bad key!"), 422, "invalid_input")


def test_checkout_refusals_leave_nothing_behind(pay, auth, fake_stripe, database_url):
    before = counts(database_url)
    assert_error(checkout(pay, auth, "ada", "DP"), 409, "conflict", "already enrolled")
    unknown = assert_error(checkout(pay, auth, track="NOPE"), 404, "not_found", "'NOPE'")
    assert unknown["details"] == {"field": "track", "value": "NOPE"}
    assert_error(
        pay.post(f"{V1}/payments/checkout", json={"track": "DP", "x": 1}, headers=auth("grace")),
        422,
        "invalid_input",
    )
    made = pay.post(
        f"{V1}/tracks",
        json={"code": "FREE", "name": "Open day", "workspace_kinds": ["jupyterlab"]},
        headers=auth("admin"),
    )
    assert made.status_code == 201, made.text
    assert_error(checkout(pay, auth, track="FREE"), 409, "conflict", "no price")
    # Stripe failing (past the SDK's one retry): 502, no payment, no customer stored
    fake_stripe.fail_next(status=500, times=2)
    assert_error(checkout(pay, auth), 502, "payment_provider_error", "Stripe")
    assert counts(database_url) == before
    # and the next try works
    assert checkout(pay, auth).status_code == 201


def test_an_api_client_gets_a_payment_intent_client_secret(pay, auth, fake_stripe, database_url):
    headers = {**auth("grace"), "Idempotency-Key": "intent-key-01"}
    made = pay.post(f"{V1}/payments/intents", json={"track": "DP"}, headers=headers)
    assert made.status_code == 201, made.text
    body = made.json()
    intent = fake_stripe.intents[body["payment"]["payment_intent_id"]]
    assert body["client_secret"] == intent["client_secret"]
    assert intent["amount"] == DP_PRICE and intent["metadata"]["apranova_username"] == "grace"
    again = pay.post(f"{V1}/payments/intents", json={"track": "DP"}, headers=headers)
    assert again.status_code == 201 and again.json() == body
    assert len(fake_stripe.intents) == 1
    # paying it through Stripe.js ends in the same webhook
    event = fake_stripe.succeed_intent(intent["id"])
    assert webhook(pay, fake_stripe, event).json()["status"] == "processed"
    assert enrollment_of(database_url) == ("active", "payment")


# --- the webhook: money and access agree ---------------------------------------------------


def test_a_paid_checkout_enrolls_once_and_the_hub_rule_allows_the_workspace(
    pay, auth, fake_stripe, database_url
):
    assert allowed(pay, auth)["kinds"] == []
    events_before = counts(database_url)["enrollment_events"]
    started = checkout(pay, auth).json()["payment"]
    completed, succeeded = fake_stripe.complete_checkout(started["checkout_session_id"])
    first = webhook(pay, fake_stripe, completed)
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "processed"
    assert "activated" in first.json()["detail"]
    second = webhook(pay, fake_stripe, succeeded)  # another event of the same payment
    assert second.json()["status"] == "processed"
    assert "already succeeded" in second.json()["detail"]

    assert enrollment_of(database_url) == ("active", "payment")
    assert "jupyterlab" in allowed(pay, auth)["kinds"]
    detail = pay.get(f"{V1}/payments/{started['id']}", headers=auth("grace")).json()
    assert detail["status"] == "succeeded" and detail["paid_at"]
    assert detail["payment_intent_id"] == succeeded["data"]["object"]["id"]
    assert [(h["from_status"], h["to_status"]) for h in detail["history"]] == [
        (None, "pending"),
        ("pending", "succeeded"),
    ]
    assert detail["history"][1]["stripe_event_id"] == completed["id"]
    assert counts(database_url)["enrollment_events"] == events_before + 1


def test_a_refund_revokes_the_enrollment_and_the_workspace(pay, auth, fake_stripe, database_url):
    payment, _ = paid_checkout(pay, auth, fake_stripe)
    intent = payment_row(database_url, payment["id"])[2]
    refunded = webhook(pay, fake_stripe, fake_stripe.refund(intent))
    assert refunded.json()["status"] == "processed", refunded.text
    assert payment_row(database_url, payment["id"])[:2] == ("refunded", DP_PRICE)
    assert enrollment_of(database_url) == ("refunded", "payment")
    assert allowed(pay, auth)["kinds"] == []
    history = pay.get(f"{V1}/enrollments", params={"username": "grace"}, headers=auth("office"))
    enrollment = history.json()["results"][0]
    events = pay.get(f"{V1}/enrollments/{enrollment['id']}", headers=auth("office")).json()
    assert [e["to_status"] for e in events["history"]] == ["active", "refunded"]
    assert {e["actor"] for e in events["history"]} == {"stripe"}


def test_a_partial_refund_is_recorded_and_keeps_access(pay, auth, fake_stripe, database_url):
    payment, _ = paid_checkout(pay, auth, fake_stripe)
    intent = payment_row(database_url, payment["id"])[2]
    answer = webhook(pay, fake_stripe, fake_stripe.refund(intent, amount=50000))
    assert "partial refund" in answer.json()["detail"]
    assert payment_row(database_url, payment["id"])[:2] == ("succeeded", 50000)
    assert enrollment_of(database_url) == ("active", "payment")


def test_a_refund_does_not_take_back_a_granted_enrollment(pay, auth, fake_stripe, database_url):
    payment, _ = paid_checkout(pay, auth, fake_stripe)
    # grace paid, then the office also granted her DP (e.g. a scholarship after the fact)
    pay.post(
        f"{V1}/enrollments/{_enrollment_id(pay, auth)}/revoke",
        json={"reason": "switching to a scholarship"},
        headers=auth("office"),
    )
    granted = pay.post(
        f"{V1}/enrollments",
        json={"username": "grace", "track": "DP", "reason": "Scholarship"},
        headers=auth("office"),
    )
    assert granted.status_code == 201, granted.text
    intent = payment_row(database_url, payment["id"])[2]
    answer = webhook(pay, fake_stripe, fake_stripe.refund(intent))
    assert "stays active" in answer.json()["detail"]
    assert payment_row(database_url, payment["id"])[0] == "refunded"
    assert enrollment_of(database_url) == ("active", "grant")


def _enrollment_id(pay, auth) -> int:
    listed = pay.get(f"{V1}/enrollments", params={"username": "grace"}, headers=auth("office"))
    return listed.json()["results"][0]["id"]


@pytest.mark.parametrize("charge_has_metadata", [True, False])
def test_a_refund_before_the_success_ends_refunded(
    pay, auth, fake_stripe, database_url, charge_has_metadata
):
    payment = checkout(pay, auth).json()["payment"]
    completed, succeeded = fake_stripe.complete_checkout(payment["checkout_session_id"])
    intent_id = succeeded["data"]["object"]["id"]
    refund = fake_stripe.refund(intent_id)
    if not charge_has_metadata:  # then the app asks Stripe for the intent's metadata
        refund = copy.deepcopy(refund)
        refund["data"]["object"]["metadata"] = {}
    # Stripe delivers the refund first, then the two success events
    assert webhook(pay, fake_stripe, refund).json()["status"] == "processed"
    for event in (succeeded, completed):
        answer = webhook(pay, fake_stripe, event)
        assert answer.json()["status"] == "processed"
        assert "refunded earlier" in answer.json()["detail"]
    assert payment_row(database_url, payment["id"])[0] == "refunded"
    assert enrollment_of(database_url) is None
    assert allowed(pay, auth)["kinds"] == []
    asked = fake_stripe.calls("GET", f"/v1/payment_intents/{intent_id}")
    assert len(asked) == (0 if charge_has_metadata else 1)


def test_a_declined_card_then_a_retry_that_succeeds(pay, auth, fake_stripe, database_url):
    made = pay.post(f"{V1}/payments/intents", json={"track": "DP"}, headers=auth("grace"))
    payment = made.json()["payment"]
    declined = fake_stripe.fail_intent(payment["payment_intent_id"], "Your card was declined.")
    assert webhook(pay, fake_stripe, declined).json()["detail"] == "payment failed"
    failed = pay.get(f"{V1}/payments/{payment['id']}", headers=auth("grace")).json()
    assert failed["status"] == "failed"
    assert failed["failure_reason"] == "Your card was declined."
    assert enrollment_of(database_url) is None
    succeeded = fake_stripe.succeed_intent(payment["payment_intent_id"])
    assert webhook(pay, fake_stripe, succeeded).json()["status"] == "processed"
    assert enrollment_of(database_url) == ("active", "payment")
    # a late copy of an older failure changes nothing now
    late = fake_stripe.event("payment_intent.payment_failed", declined["data"]["object"])
    assert "changes nothing" in webhook(pay, fake_stripe, late).json()["detail"]
    assert payment_row(database_url, payment["id"])[0] == "succeeded"


def test_an_expired_checkout_is_marked_failed(pay, auth, fake_stripe, database_url):
    payment = checkout(pay, auth).json()["payment"]
    expired = fake_stripe.expire_checkout(payment["checkout_session_id"])
    assert webhook(pay, fake_stripe, expired).json()["detail"] == "payment failed"
    detail = pay.get(f"{V1}/payments/{payment['id']}", headers=auth("grace")).json()
    assert detail["status"] == "failed" and "expired" in detail["failure_reason"]


def _bad_deliveries(fake, event):
    body = payload_of(event)
    now = int(time.time())
    return {
        "no signature": (body, {}),
        "wrong secret": (body, {"Stripe-Signature": sign(body, "whsec_someone_else")}),
        "tampered body": (
            body.replace(b'"paid"', b'"PAID"'),
            {"Stripe-Signature": sign(body, fake.webhook_secret)},
        ),
        "stale timestamp": (body, {"Stripe-Signature": sign(body, fake.webhook_secret, now - 400)}),
        "not JSON": (b"paid!", {"Stripe-Signature": sign(b"paid!", fake.webhook_secret)}),
        "not an event": (
            b'{"id": "x"}',
            {"Stripe-Signature": sign(b'{"id": "x"}', fake.webhook_secret)},
        ),
    }


def test_forged_stale_or_malformed_webhooks_are_400_and_change_nothing(
    pay, auth, fake_stripe, database_url
):
    payment = checkout(pay, auth).json()["payment"]
    completed, _ = fake_stripe.complete_checkout(payment["checkout_session_id"])
    before = counts(database_url)
    expected_codes = {"not JSON": "invalid_payload", "not an event": "invalid_payload"}
    for case, (body, headers) in _bad_deliveries(fake_stripe, completed).items():
        answer = pay.post(f"{V1}/payments/webhook", content=body, headers=headers)
        assert_error(answer, 400, expected_codes.get(case, "invalid_signature"))
    assert counts(database_url) == before
    assert payment_row(database_url, payment["id"])[0] == "pending"
    assert enrollment_of(database_url) is None
    # the genuine event still works afterwards
    assert webhook(pay, fake_stripe, completed).json()["status"] == "processed"


def test_an_unknown_event_type_is_200_ignored_and_not_stored(pay, auth, fake_stripe, database_url):
    before = counts(database_url)
    event = fake_stripe.event("customer.created", {"id": "cus_x", "object": "customer"})
    answer = webhook(pay, fake_stripe, event)
    assert answer.status_code == 200
    assert answer.json()["status"] == "ignored"
    assert counts(database_url) == before


def test_events_about_other_things_on_the_account_are_ignored(pay, fake_stripe, database_url):
    foreign = fake_stripe.event(
        "payment_intent.succeeded",
        {"id": "pi_other_app", "object": "payment_intent", "amount": 10, "metadata": {}},
    )
    answer = webhook(pay, fake_stripe, foreign)
    assert answer.json() == {
        "received": True,
        "status": "ignored",
        "detail": "not about an ApraNova payment",
        "payment_id": None,
    }
    assert webhook(pay, fake_stripe, foreign).json()["status"] == "duplicate"


def test_an_event_for_a_payment_not_stored_yet_is_409_so_stripe_retries(
    pay, fake_stripe, database_url
):
    before = counts(database_url)
    early = fake_stripe.event(
        "payment_intent.succeeded",
        {
            "id": "pi_early",
            "object": "payment_intent",
            "metadata": {"apranova_payment_id": "999", "apranova_request_key": "k"},
        },
    )
    assert_error(webhook(pay, fake_stripe, early), 409, "payment_not_known", "999")
    assert counts(database_url) == before  # not marked as handled: the retry gets its chance


@pytest.fixture
def concurrent(pay_settings):
    """Requests at once against a second app on the same database."""
    return lambda requests: run_at_once(pay_settings, requests)


@pytest.mark.dialects
def test_the_same_event_ten_times_at_once_enrolls_once(
    pay, auth, fake_stripe, database_url, concurrent
):
    payment = checkout(pay, auth).json()["payment"]
    completed, _ = fake_stripe.complete_checkout(payment["checkout_session_id"])
    before = counts(database_url)
    body, headers = fake_stripe.webhook_request(completed)
    answers = concurrent(
        [("POST", f"{V1}/payments/webhook", {"content": body, "headers": headers})] * 10
    )
    assert [a.status_code for a in answers] == [200] * 10, [a.text for a in answers]
    statuses = sorted(a.json()["status"] for a in answers)
    assert statuses == ["duplicate"] * 9 + ["processed"]
    after = counts(database_url)
    assert after["payments"] == before["payments"] == 1
    assert after["enrollments"] == before["enrollments"] + 1
    assert after["enrollment_events"] == before["enrollment_events"] + 1
    assert after["payment_events"] == before["payment_events"] + 1
    assert after["payment_webhook_events"] == 1
    assert enrollment_of(database_url) == ("active", "payment")


@pytest.mark.dialects
def test_both_success_events_at_once_enroll_once(pay, auth, fake_stripe, database_url, concurrent):
    payment = checkout(pay, auth).json()["payment"]
    events = fake_stripe.complete_checkout(payment["checkout_session_id"])
    requests = []
    for event in events * 3:
        body, headers = fake_stripe.webhook_request(event)
        requests.append(("POST", f"{V1}/payments/webhook", {"content": body, "headers": headers}))
    answers = concurrent(requests)
    assert [a.status_code for a in answers] == [200] * 6, [a.text for a in answers]
    assert sorted(a.json()["status"] for a in answers).count("processed") == 2
    assert counts(database_url)["payment_events"] == 2  # pending, succeeded
    assert enrollment_of(database_url) == ("active", "payment")


# --- reading and admin refunds -------------------------------------------------------------


def test_students_see_their_own_payments_and_admins_all_with_history(
    pay, auth, fake_stripe, database_url
):
    pending = checkout(pay, auth, "grace").json()["payment"]
    linus = checkout(pay, auth, "linus", "DP").json()["payment"]
    mine = pay.get(f"{V1}/payments", headers=auth("grace")).json()
    assert [p["id"] for p in mine["results"]] == [pending["id"]]
    assert mine["results"][0]["status"] == "pending"  # a payment nobody finished shows so
    assert_error(pay.get(f"{V1}/payments/{linus['id']}", headers=auth("grace")), 404, "not_found")
    # trainers see only their own: money is private
    assert pay.get(f"{V1}/payments", headers=auth("trainer")).json()["count"] == 0
    everyone = pay.get(f"{V1}/payments", headers=auth("office")).json()
    assert {p["username"] for p in everyone["results"]} == {"grace", "linus"}
    assert all(p["history"][0]["to_status"] == "pending" for p in everyone["results"])
    only = pay.get(
        f"{V1}/payments", params={"status": "pending", "username": "linus"}, headers=auth("office")
    ).json()
    assert [p["id"] for p in only["results"]] == [linus["id"]]
    detail = pay.get(f"{V1}/payments/{linus['id']}", headers=auth("office")).json()
    assert detail["history"][0]["to_status"] == "pending"
    assert "started by linus" in detail["history"][0]["reason"]


def test_an_admin_refund_asks_stripe_and_access_ends_with_its_webhook(
    pay, auth, fake_stripe, database_url
):
    payment, _ = paid_checkout(pay, auth, fake_stripe)
    assert_error(pay.post(f"{V1}/payments/{payment['id']}/refund", headers=auth("grace")), 403)
    asked = pay.post(f"{V1}/payments/{payment['id']}/refund", headers=auth("office"))
    assert asked.status_code == 202, asked.text
    assert asked.json()["status"] == "succeeded"  # Stripe has not confirmed yet
    refund_call = fake_stripe.calls("POST", "/v1/refunds")[0]
    assert refund_call.headers["idempotency-key"].startswith("apranova-refund-")
    intent = fake_stripe.intents[refund_call.params["payment_intent"]]
    charge = fake_stripe.charges[intent["latest_charge"]]
    event = fake_stripe.event("charge.refunded", charge)
    assert webhook(pay, fake_stripe, event).json()["status"] == "processed"
    assert enrollment_of(database_url) == ("refunded", "payment")
    # a refunded payment cannot be refunded again
    assert_error(
        pay.post(f"{V1}/payments/{payment['id']}/refund", headers=auth("office")), 409, "conflict"
    )


def test_the_payment_is_stored_before_its_answer_is_sent(pay_settings, auth, database_url):
    """A client (or Stripe, with the page URL) may act on the answer at once: by the time the
    first byte of a 201 leaves, the payment must be committed, not merely about to be."""
    app = create_app(pay_settings)
    body = b'{"track": "DP"}'
    headers = [
        (b"authorization", auth("grace")["Authorization"].encode()),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": f"{V1}/payments/checkout",
        "raw_path": f"{V1}/payments/checkout".encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    stored_when_answered: list[int] = []
    statuses: list[int] = []

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        if message["type"] == "http.response.start":
            statuses.append(message["status"])
            stored_when_answered.append(rows(database_url, "SELECT count(*) FROM payments")[0][0])

    async def scenario():
        try:
            await app(scope, receive, send)
        finally:
            await app.state.token_validator.aclose()
            await app.state.stripe_gateway.aclose()
            await app.state.database.dispose()

    asyncio.run(scenario())
    assert statuses == [201]
    assert stored_when_answered == [1]
