"""The portal's catalog: the open tracks with prices, and how to join each (pay on the hub's
enroll page when Stripe is set up, otherwise ask the school); `offers_enrollment` for the nav."""

from contextlib import contextmanager

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from lms_api.main import create_app
from lms_api.portal.catalog import format_price, offers_enrollment
from lms_api.principal import Principal, Role
from tests.lms_api.conftest import PortalBrowser, app_settings

DUMMY_STRIPE = {"stripe_secret_key": "sk_test_dummy", "stripe_webhook_secret": "whsec_dummy"}


@contextmanager
def portal_app(hub, database_url, upload_dir, **overrides):
    """A second app on the test's (already seeded) database, with other settings."""
    settings = app_settings(hub, database_url, upload_dir, **overrides)
    with TestClient(create_app(settings)) as client:
        yield client


def signed_in(client: TestClient, hub_tokens, username: str) -> PortalBrowser:
    """A portal browser on `client`'s event loop: pages and API calls then share the app's
    pooled connections (a browser on a loop of its own breaks them once that loop closes)."""
    browser = PortalBrowser(client.app, hub_tokens(username))
    browser.client.portal = client.portal
    return browser


def catalog(browser) -> BeautifulSoup:
    response = browser.get("/portal/catalog")
    assert response.status_code == 200, response.text
    return BeautifulSoup(response.text, "html.parser")


def text(node) -> str:
    return node.get_text(" ", strip=True)


def test_the_catalog_lists_the_tracks_and_says_whom_to_ask_without_payments(api, hub_tokens):
    soup = catalog(signed_in(api, hub_tokens, "grace"))
    assert (
        text(soup.select_one("#catalog-intro")) == "You are not enrolled yet; pick a track below."
    )
    assert [s["id"] for s in soup.select("section[id^=catalog-]")] == ["catalog-DP", "catalog-FSD"]
    dp = soup.select_one("#catalog-DP")
    assert text(dp.h2).startswith("Data Professional (DP)")
    assert text(dp.select_one(".price")) == "€1,500.00"
    assert text(soup.select_one("#catalog-FSD .price")) == "€1,800.00"
    assert "JupyterLab" in text(dp.select_one(".workspaces"))
    projects = [text(li) for li in dp.select(".projects li")]
    assert projects == [
        "Exploring a dataset with pandas",
        "SQL analytics with DuckDB",
        "A dashboard in Superset",
    ]
    assert text(dp.select_one("#ask-DP")) == (
        "Ask the school office to enroll you in Data Professional."
    )
    assert not soup.select(".enroll-pay") and "Enroll and pay" not in soup.get_text()
    assert not soup.select('nav a[href$="/portal/catalog"]')  # nothing to buy: no nav link

    ada = catalog(signed_in(api, hub_tokens, "ada"))
    assert "You are enrolled" in text(ada.select_one("#catalog-DP .enroll-action"))
    assert ada.select_one("#ask-FSD") is not None and ada.select_one("#catalog-intro") is None


def test_an_email_contact_becomes_a_mailto_link(api, hub, database_url, upload_dir, hub_tokens):
    with portal_app(hub, database_url, upload_dir, school_contact="office@school.test") as client:
        soup = catalog(signed_in(client, hub_tokens, "grace"))
    link = soup.select_one("#ask-FSD a")
    assert link["href"].startswith("mailto:office@school.test?subject=")
    assert text(link) == "office@school.test"


def test_with_payments_on_students_get_a_link_to_the_hubs_enroll_page(
    api, hub, database_url, upload_dir, hub_tokens
):
    with portal_app(hub, database_url, upload_dir, **DUMMY_STRIPE) as client:
        grace = catalog(signed_in(client, hub_tokens, "grace"))
        ada = catalog(signed_in(client, hub_tokens, "ada"))
    pay = grace.select_one("#catalog-DP a.enroll-pay")
    assert text(pay).startswith("Enroll and pay")
    assert pay["href"].split("#")[0] == "/hub/enroll"
    assert grace.select_one("#catalog-FSD a.enroll-pay") is not None
    assert not grace.select(".ask-school")
    assert grace.select_one('nav a[href$="/portal/catalog"]')["aria-current"] == "page"

    assert "You are enrolled" in text(ada.select_one("#catalog-DP .enroll-action"))
    assert ada.select_one("#catalog-DP a.enroll-pay") is None
    assert ada.select_one("#catalog-FSD a.enroll-pay") is not None


def test_offers_enrollment(api, auth, hub, database_url, upload_dir):
    def student(name):
        return Principal(name=name, role=Role.STUDENT, kind="user")

    def offers(client, principal):
        """Asked on the client's own event loop (where its database connections live)."""
        app = client.app

        async def ask():
            async with app.state.database.sessionmaker() as session:
                return await offers_enrollment(session, principal, app.state.settings)

        return client.portal.call(ask)

    assert offers(api, student("grace")) is False  # payments off
    with portal_app(hub, database_url, upload_dir, **DUMMY_STRIPE) as paying:
        assert offers(paying, student("grace")) is True
        assert offers(paying, student("ada")) is True  # FSD is still to buy
        assert offers(paying, Principal(name="trainer", role=Role.TRAINER, kind="user")) is False
        granted = api.post(
            "/api/v1/enrollments",
            json={"username": "ada", "track": "FSD", "reason": "scholarship"},
            headers=auth("office"),
        )
        assert granted.status_code == 201, granted.text
        assert offers(paying, student("ada")) is False  # active in every priced track


def test_format_price():
    assert format_price(150000, "eur") == "€1,500.00"
    assert format_price(995, "CHF") == "9.95 CHF"
