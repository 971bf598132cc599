"""The whole payment path through the real hub, its proxy and lms-api, with Stripe faked.

grace (no enrollment) is refused a workspace and shown the price, pays on the (fake) Stripe
page, Stripe's signed webhook reaches lms-api through the hub's public proxy, her workspace
opens; a refund arrives and the workspace is refused again.
"""

import re
import time
from collections.abc import Iterator

import httpx
import pytest

from bench.harness.platform import Platform
from tests.e2e.test_workspace import wait_for_server
from tests.fakes.stripe import FakeStripe

pytestmark = pytest.mark.e2e

WEBHOOK = "/services/lms-api/api/v1/payments/webhook"


@pytest.fixture(scope="module")
def stripe() -> Iterator[FakeStripe]:
    fake = FakeStripe().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def paying_school(tmp_path_factory, stripe) -> Iterator[Platform]:
    """A hub (no analytics) whose lms-api has Stripe keys and talks to the fake Stripe."""
    running = Platform(tmp_path_factory.mktemp("paying-platform"), analytics=False)
    running.env.update(
        APRANOVA_STRIPE_SECRET_KEY=stripe.api_key,
        APRANOVA_STRIPE_WEBHOOK_SECRET=stripe.webhook_secret,
        APRANOVA_STRIPE_API_BASE=stripe.url,
    )
    stripe.webhook_url = running.url + WEBHOOK  # Stripe calls the public address
    try:
        running.start()
        yield running
    finally:
        running.stop()


def form_fields(page: httpx.Response, form_id_part: str) -> dict[str, str]:
    """The hidden inputs of the form whose submit button id contains `form_id_part`."""
    for form in re.findall(r"<form.*?</form>", page.text, flags=re.S):
        if form_id_part in form:
            return dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form))
    raise AssertionError(f"no form with {form_id_part!r} on {page.url}:\n{page.text[:2000]}")


def spawn_as(platform: Platform, token: str) -> httpx.Response:
    return httpx.post(
        f"{platform.hub_api}/users/grace/server",
        headers={"Authorization": f"token {token}"},
        json={},
        timeout=60,
    )


def test_not_enrolled_pay_open_workspace_refund_refused(paying_school, stripe):
    platform = paying_school
    browser = platform.browser("grace")
    token, _ = platform.new_token("grace")

    # 1. not enrolled: the spawn page and the REST API refuse, and both show the price
    refused = browser.get("/hub/spawn")
    assert refused.status_code == 403
    assert "€1,500.00" in refused.text and 'href="/hub/enroll"' in refused.text
    rest = spawn_as(platform, token)
    assert rest.status_code == 403
    assert "€1,500.00" in rest.json()["message"] and "/hub/enroll" in rest.json()["message"]

    # 2. checkout: the enroll page's Pay button sends her to Stripe's hosted page
    enroll = browser.get("/hub/enroll")
    assert enroll.status_code == 200 and 'id="pay-DP"' in enroll.text
    fields = form_fields(enroll, 'id="pay-DP"')
    assert fields["track"] == "DP"
    hosted = browser.post("/hub/enroll", data=fields)
    assert hosted.status_code == 200, hosted.text[:500]
    assert str(hosted.url).startswith(f"{stripe.url}/pay/cs_")
    (session,) = stripe.sessions.values()
    assert session["amount_total"] == 150000

    # 3. she pays; Stripe's webhook goes through the hub's proxy; Stripe sends her back
    back = browser.post(str(hosted.url))
    assert [status for _event, status in stripe.deliveries] == [200, 200], stripe.deliveries
    assert str(back.url).startswith(f"{platform.url}/hub/payments/return?payment=")
    assert 'data-status="succeeded"' in back.text, back.text[:2000]

    # 4. the workspace opens
    assert browser.get("/hub/spawn").status_code == 200
    wait_for_server(platform, "grace", ready=True)
    assert browser.get("/user/grace/lab").status_code == 200  # her own JupyterLab
    assert browser.get("/user/grace/api/status").status_code == 200
    stopped = platform.api("DELETE", "/users/grace/server")
    assert stopped.status_code in (202, 204)
    wait_for_server(platform, "grace", ready=False)

    # 5. a refund: access ends (the hub reuses a yes for at most 10 s)
    refund = stripe.deliver(stripe.refund(session["payment_intent"]))
    assert refund.status_code == 200 and refund.json()["status"] == "processed", refund.text
    deadline = time.monotonic() + 30
    while (answer := spawn_as(platform, token)).status_code != 403:
        assert answer.status_code in (201, 202), answer.text
        platform.api("DELETE", "/users/grace/server")
        wait_for_server(platform, "grace", ready=False)
        assert time.monotonic() < deadline, "the refund never closed the workspace"
        time.sleep(1)
    assert "not enrolled" in answer.json()["message"]
    payment_id = re.search(r"payment=(\d+)", str(back.url)).group(1)
    status = browser.get(f"/hub/payments/return?payment={payment_id}")
    assert 'data-status="refunded"' in status.text


def test_a_forged_webhook_through_the_proxy_changes_nothing(paying_school, stripe):
    event = stripe.event(
        "payment_intent.succeeded",
        {"id": "pi_forged", "object": "payment_intent", "metadata": {}},
    )
    forged = stripe.deliver(event, secret="whsec_not_the_school_s")
    assert forged.status_code == 400
    assert forged.json()["error"]["code"] == "invalid_signature"


def test_the_enroll_page_shows_what_lms_api_refuses_and_keeps_payments_private(
    paying_school, stripe
):
    ada = paying_school.browser("ada")  # active in DP: only FSD is on offer to her
    enroll = ada.get("/hub/enroll")
    assert 'id="pay-FSD"' in enroll.text and 'id="pay-DP"' not in enroll.text
    fields = {**form_fields(enroll, 'id="pay-FSD"'), "track": "DP"}  # a crafted form
    refused = ada.post("/hub/enroll", data=fields)
    assert refused.status_code == 409
    assert "already enrolled in DP" in refused.text
    # she starts paying for FSD; linus cannot look at that payment through the hub
    hosted = ada.post("/hub/enroll", data=form_fields(enroll, 'id="pay-FSD"'))
    session_id = str(hosted.url).rsplit("/", 1)[-1]
    payment_id = stripe.sessions[session_id]["metadata"]["apranova_payment_id"]
    mine = ada.get(f"/hub/payments/return?payment={payment_id}")
    assert mine.status_code == 200 and 'data-status="pending"' in mine.text
    assert 'http-equiv="refresh"' in mine.text  # it waits for Stripe's confirmation
    linus = paying_school.browser("linus")
    assert linus.get(f"/hub/payments/return?payment={payment_id}").status_code == 404


def test_without_stripe_the_hub_says_to_ask_the_office(platform):
    grace = platform.browser("grace")
    # the hub's menu leads to the portal (its catalog says how to join); there is no
    # "Enroll" in it when there is nothing to buy
    home = grace.get("/hub/home").text
    assert 'href="/services/lms-api/portal/"' in home and 'href="/hub/enroll"' not in home
    enroll = grace.get("/hub/enroll")
    assert enroll.status_code == 200
    assert "Online payment is not set up" in enroll.text and "<form" not in enroll.text
    refused = grace.get("/hub/spawn")
    assert refused.status_code == 403 and "Enroll and pay" not in refused.text
    assert 'id="see-catalog" href="/services/lms-api/portal/catalog"' in refused.text
    # the refusal is said once, under a short heading (hub/templates/error.html)
    assert refused.text.count("You are not enrolled in a track with a workspace") == 1
    assert "<h1>Not allowed <small" in refused.text
