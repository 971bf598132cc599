"""The fake Stripe API against the real stripe SDK: if these pass, the SDK's own request
encoding, response parsing and error mapping accept the fake as api.stripe.com."""

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import stripe

from tests.fakes.stripe import FakeStripe, fake_stripe, parse_params, payload_of, sign

__all__ = ["fake_stripe"]  # the fixture, imported for pytest


def sync_client(fake: FakeStripe, api_key: str | None = None) -> stripe.StripeClient:
    """The SDK's default (requests) HTTP client."""
    return stripe.StripeClient(
        api_key or fake.api_key, base_addresses={"api": fake.url}, max_network_retries=0
    )


def checkout_params(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": "eur",
                    "unit_amount": 12500,
                    "product_data": {"name": "Data Professional track"},
                },
                "quantity": 2,
            },
            {
                "price_data": {
                    "currency": "eur",
                    "unit_amount": 990,
                    "product_data": {"name": "Exam fee"},
                },
                "quantity": 1,
            },
        ],
        "client_reference_id": "enrollment-7",
        "metadata": {"track": "DP", "payment_id": "3"},
        "payment_intent_data": {
            "metadata": {"payment_id": "3"},
            "description": "DP track, two seats",
        },
        "allow_promotion_codes": False,
        "success_url": "https://lms.example/paid?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://lms.example/cancelled",
    }
    return {**params, **overrides}


class Receiver:
    """A tiny webhook endpoint on 127.0.0.1 that keeps what it is sent and answers 200."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {name.lower(): value for name, value in self.headers.items()}
                receiver.received.append((headers, body))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/stripe"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    try:
        yield running
    finally:
        running.stop()


def test_parse_params_reads_stripes_bracket_encoding():
    pairs = [
        ("metadata[track]", "DP"),
        ("metadata[0]", "kept as a key"),
        ("line_items[1][quantity]", "1"),
        ("line_items[0][price_data][currency]", "eur"),
        ("expand[]", "customer"),
        ("expand[]", "payment_intent"),
        ("flag", "true"),
    ]
    assert parse_params(pairs) == {
        "metadata": {"track": "DP", "0": "kept as a key"},
        "line_items": [{"price_data": {"currency": "eur"}}, {"quantity": "1"}],
        "expand": ["customer", "payment_intent"],
        "flag": "true",
    }


def test_customer_create_and_retrieve_sync(fake_stripe):
    client = sync_client(fake_stripe)
    customer = client.v1.customers.create(
        {"email": "ada@example.org", "name": "Ada Lovelace", "metadata": {"track": "DP"}},
        {"idempotency_key": "customer-ada"},
    )
    assert customer.id.startswith("cus_") and len(customer.id) == 18
    assert customer.object == "customer" and customer.livemode is False
    assert customer.metadata["track"] == "DP" and isinstance(customer.created, int)

    again = client.v1.customers.retrieve(customer.id)
    assert again.email == "ada@example.org" and again.name == "Ada Lovelace"

    sent = fake_stripe.calls("POST", "/v1/customers")[0]
    assert sent.params == {
        "email": "ada@example.org",
        "name": "Ada Lovelace",
        "metadata": {"track": "DP"},
    }
    assert "metadata[track]=DP" in sent.body
    assert sent.headers["authorization"] == f"Bearer {fake_stripe.api_key}"
    assert sent.headers["content-type"] == "application/x-www-form-urlencoded"
    assert sent.headers["idempotency-key"] == "customer-ada"
    assert fake_stripe.calls("GET", "/v1/customers/")[0].path == f"/v1/customers/{customer.id}"


async def test_checkout_session_async_nested_params(fake_stripe):
    http_client = stripe.HTTPXClient()
    client = stripe.StripeClient(
        fake_stripe.api_key,
        base_addresses={"api": fake_stripe.url},
        http_client=http_client,
        max_network_retries=0,
    )
    try:
        customer = await client.v1.customers.create_async({"email": "ada@example.org"})
        before = int(time.time())
        session = await client.v1.checkout.sessions.create_async(
            checkout_params(customer=customer.id), {"idempotency_key": "checkout-3"}
        )
        fetched = await client.v1.checkout.sessions.retrieve_async(session.id)
    finally:
        await http_client.close_async()

    assert session.id.startswith("cs_test_") and session.object == "checkout.session"
    assert session.url == f"{fake_stripe.url}/pay/{session.id}"
    assert session.amount_total == 2 * 12500 + 990 and session.currency == "eur"
    assert (session.status, session.payment_status) == ("open", "unpaid")
    assert session.customer == customer.id and session.client_reference_id == "enrollment-7"
    assert session.payment_intent is None and session.mode == "payment"
    assert before + 24 * 3600 <= session.expires_at <= int(time.time()) + 24 * 3600
    assert fetched.id == session.id and fetched.metadata["track"] == "DP"

    params = fake_stripe.calls("POST", "/v1/checkout/sessions")[0].params
    assert params["line_items"][0]["price_data"]["currency"] == "eur"
    assert params["line_items"][0]["price_data"]["product_data"]["name"] == (
        "Data Professional track"
    )
    assert params["line_items"][1]["quantity"] == "1"
    assert params["payment_intent_data"]["metadata"] == {"payment_id": "3"}
    assert params["allow_promotion_codes"] == "false"


def test_idempotent_replay_returns_the_same_object(fake_stripe):
    client = sync_client(fake_stripe)
    first = client.v1.checkout.sessions.create(checkout_params(), {"idempotency_key": "k-1"})
    second = client.v1.checkout.sessions.create(checkout_params(), {"idempotency_key": "k-1"})

    assert second.id == first.id and len(fake_stripe.sessions) == 1
    assert second.last_response.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.last_response.headers
    sent = fake_stripe.calls("POST", "/v1/checkout/sessions")
    assert [request.headers["idempotency-key"] for request in sent] == ["k-1", "k-1"]


def test_same_key_with_other_params_is_an_idempotency_error(fake_stripe):
    client = sync_client(fake_stripe)
    client.v1.customers.create({"email": "ada@example.org"}, {"idempotency_key": "k-2"})
    with pytest.raises(stripe.IdempotencyError) as raised:
        client.v1.customers.create({"email": "linus@example.org"}, {"idempotency_key": "k-2"})
    assert raised.value.http_status == 400
    assert "same parameters" in raised.value.user_message
    assert len(fake_stripe.customers) == 1


def test_wrong_api_key_is_an_authentication_error(fake_stripe):
    with pytest.raises(stripe.AuthenticationError) as raised:
        sync_client(fake_stripe, api_key="sk_test_wrong_key_123").v1.customers.create({})
    assert raised.value.http_status == 401
    assert raised.value.user_message.startswith("Invalid API Key provided: sk_test_")
    assert fake_stripe.customers == {}


def test_unknown_id_and_route_are_invalid_request_errors(fake_stripe):
    client = sync_client(fake_stripe)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.retrieve("pi_x")
    assert raised.value.http_status == 404 and raised.value.code == "resource_missing"
    assert raised.value.param == "id"
    assert raised.value.user_message == "No such payment_intent: 'pi_x'"

    answer = httpx.get(
        f"{fake_stripe.url}/v1/nothing", headers={"Authorization": f"Bearer {fake_stripe.api_key}"}
    )
    assert answer.status_code == 404
    assert answer.json()["error"]["type"] == "invalid_request_error"


def test_payment_intent_lifecycle_and_refunds(fake_stripe):
    client = sync_client(fake_stripe)
    intent = client.v1.payment_intents.create(
        {"amount": 4900, "currency": "EUR", "metadata": {"payment_id": "9"}},
        {"idempotency_key": "pi-9"},
    )
    assert intent.id.startswith("pi_") and intent.amount == 4900 and intent.currency == "eur"
    assert intent.status == "requires_payment_method" and intent.latest_charge is None
    assert intent.client_secret.startswith(f"{intent.id}_secret_")

    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.refunds.create({"payment_intent": intent.id})
    assert raised.value.http_status == 400

    failed = fake_stripe.fail_intent(intent.id)
    assert failed["type"] == "payment_intent.payment_failed"
    assert failed["data"]["object"]["last_payment_error"]["code"] == "card_declined"

    succeeded = fake_stripe.succeed_intent(intent.id)
    charge_id = succeeded["data"]["object"]["latest_charge"]
    assert client.v1.payment_intents.retrieve(intent.id).status == "succeeded"

    refund = client.v1.refunds.create(
        {"payment_intent": intent.id, "amount": 900}, {"idempotency_key": "refund-9"}
    )
    assert (refund.object, refund.amount, refund.status) == ("refund", 900, "succeeded")
    assert refund.charge == charge_id and refund.payment_intent == intent.id
    assert fake_stripe.charges[charge_id]["refunded"] is False

    event = fake_stripe.refund(intent.id)
    charge = event["data"]["object"]
    assert event["type"] == "charge.refunded" and charge["amount_refunded"] == 4900
    assert charge["refunded"] is True and charge["payment_intent"] == intent.id
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create({"payment_intent": intent.id})


def test_fail_next_answers_an_api_error_then_recovers(fake_stripe):
    client = sync_client(fake_stripe)
    fake_stripe.fail_next(status=500, message="boom")
    with pytest.raises(stripe.APIError) as raised:
        client.v1.customers.create({"email": "ada@example.org"}, {"idempotency_key": "retry"})
    assert raised.value.http_status == 500 and raised.value.user_message == "boom"
    customer = client.v1.customers.create(
        {"email": "ada@example.org"}, {"idempotency_key": "retry"}
    )
    assert list(fake_stripe.customers) == [customer.id]


def test_checkout_events_are_signed_like_stripe(fake_stripe):
    client = sync_client(fake_stripe)
    session = client.v1.checkout.sessions.create(checkout_params())
    completed, succeeded = fake_stripe.complete_checkout(session.id)

    assert completed["type"] == "checkout.session.completed"
    assert completed["object"] == "event" and completed["id"].startswith("evt_")
    assert completed["data"]["object"]["payment_status"] == "paid"
    intent = succeeded["data"]["object"]
    assert succeeded["type"] == "payment_intent.succeeded" and intent["status"] == "succeeded"
    assert completed["data"]["object"]["payment_intent"] == intent["id"]
    assert intent["amount"] == session.amount_total and intent["metadata"] == {"payment_id": "3"}
    assert intent["description"] == "DP track, two seats"
    assert fake_stripe.charges[intent["latest_charge"]]["metadata"] == {"payment_id": "3"}
    expanded = client.v1.checkout.sessions.retrieve(session.id, {"expand": ["payment_intent"]})
    assert expanded.status == "complete" and expanded.payment_intent.status == "succeeded"

    payload = payload_of(completed)
    header = sign(payload, fake_stripe.webhook_secret)
    event = stripe.Webhook.construct_event(payload, header, fake_stripe.webhook_secret, 300)
    assert event.type == "checkout.session.completed" and event.data.object.id == session.id

    tampered = payload.replace(b'"paid"', b'"unpaid"')
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(tampered, header, fake_stripe.webhook_secret, 300)
    old = sign(payload, fake_stripe.webhook_secret, timestamp=int(time.time()) - 3600)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, old, fake_stripe.webhook_secret, 300)

    expired = fake_stripe.expire_checkout(client.v1.checkout.sessions.create(checkout_params()).id)
    assert expired["data"]["object"]["status"] == "expired"


def test_hosted_page_pays_delivers_and_redirects(fake_stripe, receiver):
    fake_stripe.webhook_url = receiver.url
    session = sync_client(fake_stripe).v1.checkout.sessions.create(checkout_params())

    with httpx.Client(follow_redirects=False, timeout=10) as browser:
        shown = browser.get(session.url)
        assert shown.status_code == 200
        assert f'<form method="post" action="/pay/{session.id}">' in shown.text
        assert "259.90 EUR" in shown.text and "https://lms.example/cancelled" in shown.text

        paid = browser.post(session.url)
        assert paid.status_code == 303
        assert paid.headers["location"] == f"https://lms.example/paid?session={session.id}"
        assert browser.get(session.url).status_code == 410
        assert browser.get(f"{fake_stripe.url}/pay/cs_test_nope").status_code == 404

    kinds = [json.loads(body)["type"] for _, body in receiver.received]
    assert kinds == ["checkout.session.completed", "payment_intent.succeeded"]
    for headers, body in receiver.received:
        assert headers["content-type"] == "application/json"
        stripe.Webhook.construct_event(
            body, headers["stripe-signature"], fake_stripe.webhook_secret, 300
        )
    assert [status for _, status in fake_stripe.deliveries] == [200, 200]
    assert fake_stripe.sessions[session.id]["status"] == "complete"
