"""What the hub tells a student who has no workspace yet: prices, and where to pay."""

from hub.lms_client import WorkspaceRule
from hub.payment_pages import format_price
from hub.spawners import NoWorkspaceTrack

DP = {
    "track_code": "DP",
    "track_name": "Data <Professional>",
    "price_cents": 150000,
    "currency": "eur",
    "workspace_kinds": ["jupyterlab"],
}


def test_prices_read_as_people_write_them():
    assert format_price(150000, "eur") == "€1,500.00"
    assert format_price(50, "usd") == "$0.50"
    assert format_price(199900, "chf") == "1,999.00 CHF"


def test_the_refusal_names_each_price_and_the_enroll_page():
    refusal = NoWorkspaceTrack(WorkspaceRule([], [DP], True), "Ask the office.", "/hub/enroll")
    assert refusal.status_code == 403
    assert "DP Data <Professional>: €1,500.00" in refusal.jupyterhub_message
    assert "/hub/enroll" in refusal.jupyterhub_message
    html = refusal.jupyterhub_html_message
    assert "Data &lt;Professional&gt;" in html and "<Professional>" not in html
    assert 'href="/hub/enroll"' in html and "Ask the office." in html


def test_without_stripe_the_refusal_offers_no_payment():
    refusal = NoWorkspaceTrack(WorkspaceRule([], [DP], False), "Ask the office.", "/hub/enroll")
    assert "€" not in refusal.jupyterhub_message and "Enroll and pay" not in (
        refusal.jupyterhub_html_message
    )
    assert refusal.jupyterhub_message.endswith("Ask the office.")
