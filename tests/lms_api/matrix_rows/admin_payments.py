"""Matrix rows of the admin's payments pages (lms_api/portal/admin_payments.py)."""

from tests.lms_api.portal_matrix import ADMIN_PAGE, Page, expect

ADAS_PAYMENT = "admin payments: ada's pending FSD payment"
# a pending payment has nothing to refund: admins are told so (409), as by the API's route
NOTHING_TO_REFUND = expect("login", "login", "403", "403", "403", "403", "409", "409")
NOTHING_TO_REFUND_POST = expect("401", "401", "403", "403", "403", "403", "409", "409")

ONE = "/portal/admin/payments/{payment_id}"


def _one(method: str, tail: str, expected: dict[str, str]) -> Page:
    """A route of ada's payment's page (`tail` after the id)."""
    path = f"/portal/admin/payments/{{payment}}{tail}"
    return Page(method, ONE + tail, expected, path=path, needs=ADAS_PAYMENT)


PAGES = [
    Page("GET", "/portal/admin/payments", ADMIN_PAGE),
    _one("GET", "", ADMIN_PAGE),
    _one("GET", "/refund", NOTHING_TO_REFUND),
    _one("POST", "/refund", NOTHING_TO_REFUND_POST),
]


def set_up(api, auth, page, ids) -> None:
    """ada starts paying for FSD (as tests/lms_api/test_permissions.py does for the API)."""
    if page.needs == ADAS_PAYMENT:
        made = api.post("/api/v1/payments/intents", json={"track": "FSD"}, headers=auth("ada"))
        assert made.status_code == 201, made.text
        ids.payment = made.json()["payment"]["id"]
