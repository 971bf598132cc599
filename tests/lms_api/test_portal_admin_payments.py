"""The admin's payments pages against the fake Stripe: the list and its filters, a payment's
status history, and a refund behind a confirmation page that asks Stripe once however often
it is sent; refusals (nothing to refund, Stripe down) in words; admins only."""

import pytest
from fastapi.testclient import TestClient

from lms_api.main import create_app
from tests.fakes.stripe import fake_stripe
from tests.lms_api.conftest import PortalBrowser, app_settings, rows, stripe_settings
from tests.lms_api.portal_admin_helpers import soup_of
from tests.lms_api.test_payments import checkout, paid_checkout, webhook

__all__ = ["fake_stripe"]  # the fixture, imported for pytest

BASE = "/portal/admin/payments"


@pytest.fixture
def pay(hub, database_url, upload_dir, seeded, fake_stripe):
    seeded.restore(database_url)
    settings = app_settings(hub, database_url, upload_dir, **stripe_settings(fake_stripe))
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def page_as(pay, hub_tokens):
    return lambda username: PortalBrowser(pay, hub_tokens(username))


def listed(response) -> list[int]:
    assert response.status_code == 200, response.text[:1000]
    table = soup_of(response).find(id="payments")
    if table is None:
        return []
    return [int(tr["id"].removeprefix("payment-")) for tr in table.find("tbody").find_all("tr")]


def test_the_list_and_its_filters(pay, auth, fake_stripe, page_as):
    paid, _ = paid_checkout(pay, auth, fake_stripe)  # grace, DP
    pending = checkout(pay, auth, "linus", "DP").json()["payment"]
    office = page_as("office")

    page = office.get(BASE)
    assert listed(page) == [paid["id"], pending["id"]]
    row = soup_of(page).find(id=f"payment-{paid['id']}")
    assert "grace" in row.text and "DP" in row.text and "€1,500.00" in row.text
    assert row.find(class_="badge").text == "Paid"
    assert row.find("a")["href"].endswith(f"{BASE}/{paid['id']}")
    assert soup_of(page).find(id=f"payment-{pending['id']}").find(class_="badge").text == "Pending"

    assert listed(office.get(BASE, params={"status": "succeeded"})) == [paid["id"]]
    assert listed(office.get(BASE, params={"username": "linus"})) == [pending["id"]]
    assert listed(office.get(BASE, params={"track": "FSD"})) == []
    assert listed(office.get(BASE, params={"track": "DP", "status": "pending"})) == [pending["id"]]
    chosen = soup_of(office.get(BASE, params={"status": "pending"})).find(id="status")
    assert chosen.find("option", selected=True)["value"] == "pending"

    bad = office.get(BASE, params={"status": "lost", "username": "u" * 256})
    assert bad.status_code == 422
    page = soup_of(bad)
    assert "Choose a status" in page.find(id="status-error").text
    assert "status-error" in page.find(id="status")["aria-describedby"]
    assert "255 characters" in page.find(id="username-error").text


def test_a_payment_shows_who_what_stripe_ids_and_its_history(pay, auth, fake_stripe, page_as):
    paid, events = paid_checkout(pay, auth, fake_stripe)
    page = page_as("admin").get(f"{BASE}/{paid['id']}")
    assert page.status_code == 200, page.text
    soup = soup_of(page)
    facts = soup.find(id="payment-facts").get_text(" ")
    assert "grace" in facts and "DP" in facts and "€1,500.00" in facts
    assert soup.find(id="checkout-session").text == paid["checkout_session_id"]
    assert soup.find(id="payment-intent").text.startswith("pi_")
    assert soup.find(id="payment-status").text == "Paid"
    history = [tr.get_text(" ", strip=True) for tr in soup.find(id="history").find_all("tr")[1:]]
    assert "Pending" in history[0] and "started by grace" in history[0]
    assert "Pending → Paid" in history[1] and "UTC" in history[1]
    assert any(event["id"] in history[1] for event in events)
    assert soup.find(id="refund") is not None

    pending = checkout(pay, auth, "linus", "DP").json()["payment"]
    page = soup_of(page_as("office").get(f"{BASE}/{pending['id']}"))
    assert page.find(id="refund") is None  # nothing to refund yet
    assert page_as("office").get(f"{BASE}/999999").status_code == 404


def test_a_refund_is_confirmed_first_and_asks_stripe_once(
    pay, auth, fake_stripe, page_as, database_url
):
    paid, _ = paid_checkout(pay, auth, fake_stripe)
    office = page_as("office")
    confirm = office.get(f"{BASE}/{paid['id']}/refund")
    assert confirm.status_code == 200
    effects = soup_of(confirm).find(id="effects").get_text(" ")
    assert "€1,500.00" in effects and "grace" in effects
    assert "enrollment in DP ends" in effects
    assert soup_of(confirm).find(id="confirm-refund").text.strip() == "Yes, refund €1,500.00"
    assert not fake_stripe.calls("POST", "/v1/refunds")  # looking changes nothing

    first = office.post(f"{BASE}/{paid['id']}/refund")
    second = office.post(f"{BASE}/{paid['id']}/refund")  # the double click
    for answer in (first, second):
        assert answer.status_code == 303, answer.text[:1000]
        assert answer.headers["location"].endswith(f"{BASE}/{paid['id']}?done=refund-requested")
    assert len(fake_stripe.refunds) == 1  # Stripe replayed the first refund for the second
    shown = soup_of(office.get(first.headers["location"]))
    assert "Refund requested" in shown.find(id="notice").text

    # Stripe's webhook makes it count: refunded, access ended, nothing more to refund
    intent = fake_stripe.intents[
        fake_stripe.calls("POST", "/v1/refunds")[0].params["payment_intent"]
    ]
    event = fake_stripe.event("charge.refunded", fake_stripe.charges[intent["latest_charge"]])
    assert webhook(pay, fake_stripe, event).json()["status"] == "processed"
    shown = soup_of(office.get(f"{BASE}/{paid['id']}"))
    assert shown.find(id="payment-status").text == "Refunded" and shown.find(id="refund") is None
    late = office.post(f"{BASE}/{paid['id']}/refund")
    assert late.status_code == 409 and "refunded already" in soup_of(late).find(id="problem").text
    assert len(fake_stripe.refunds) == 1
    enrollment = rows(
        database_url,
        "SELECT e.status FROM enrollments e JOIN people p ON p.id = e.person_id "
        "WHERE p.username = 'grace'",
    )
    assert enrollment == [("refunded",)]


def test_refusals_are_said_in_words(pay, auth, fake_stripe, page_as):
    pending = checkout(pay, auth, "linus", "DP").json()["payment"]
    office = page_as("office")
    confirm = office.get(f"{BASE}/{pending['id']}/refund")
    assert confirm.status_code == 409
    assert "Only a paid payment can be refunded" in soup_of(confirm).find(id="problem").text
    assert soup_of(confirm).find(id="confirm-refund") is None
    refused = office.post(f"{BASE}/{pending['id']}/refund")
    assert refused.status_code == 409
    assert "this one is pending" in soup_of(refused).find(id="problem").text

    paid, _ = paid_checkout(pay, auth, fake_stripe)
    fake_stripe.fail_next(500, times=5)  # Stripe down (the SDK retries once)
    down = office.post(f"{BASE}/{paid['id']}/refund")
    assert down.status_code == 502
    assert "Nothing was refunded" in soup_of(down).find(id="problem").text
    assert not fake_stripe.refunds
    assert soup_of(down).find(id="payment-status").text == "Paid"


def test_only_admins_see_payments(pay, auth, fake_stripe, page_as):
    paid, _ = paid_checkout(pay, auth, fake_stripe)
    for name in ("trainer", "grace", "ada"):
        user = page_as(name)
        assert user.get(BASE).status_code == 403
        assert user.get(f"{BASE}/{paid['id']}").status_code == 403
        assert user.get(f"{BASE}/{paid['id']}/refund").status_code == 403
        assert user.post(f"{BASE}/{paid['id']}/refund").status_code == 403
    assert page_as("office").post(f"{BASE}/{paid['id']}/refund", csrf=None).status_code == 403
    assert not fake_stripe.refunds
