"""Matrix rows of the admin's payments pages (lms_api/portal/admin_payments.py)."""

from tests.lms_api.portal_matrix import ADMIN_PAGE, Page, expect

ADAS_PAYMENT = "admin payments: ada's pending FSD payment"
# a pending payment has nothing to refund: admins are told so (409), as by the API's route
NOTHING_TO_REFUND = expect("login", "login", "403", "403", "403", "403", "409", "409")
NOTHING_TO_REFUND_POST = expect("401", "401", "403", "403", "403", "403", "409", "409")

PAGES = [
    Page("GET", "/portal/admin/payments", ADMIN_PAGE),
    Page(
        "GET",
        "/portal/admin/payments/{payment_id}",
        ADMIN_PAGE,
        path="/portal/admin/payments/{payment}",
        needs=ADAS_PAYMENT,
    ),
    Page(
        "GET",
        "/portal/admin/payments/{payment_id}/refund",
        NOTHING_TO_REFUND,
        path="/portal/admin/payments/{payment}/refund",
        needs=ADAS_PAYMENT,
    ),
    Page(
        "POST",
        "/portal/admin/payments/{payment_id}/refund",
        NOTHING_TO_REFUND_POST,
        path="/portal/admin/payments/{payment}/refund",
        needs=ADAS_PAYMENT,
    ),
]


def set_up(api, auth, page, ids) -> None:
    """ada starts paying for FSD (as tests/lms_api/test_permissions.py does for the API)."""
    if page.needs == ADAS_PAYMENT:
        made = api.post("/api/v1/payments/intents", json={"track": "FSD"}, headers=auth("ada"))
        assert made.status_code == 201, made.text
        ids.payment = made.json()["payment"]["id"]
