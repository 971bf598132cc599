"""Matrix rows of the admin's enrollment pages (lms_api/portal/admin_enrollments.py)."""

from tests.lms_api.portal_matrix import ADMIN_PAGE, ADMIN_POST, Page

HUB_GRACE = "hub user grace"

ONE = "/portal/admin/enrollments/{enrollment_id}"


def _one(method: str, tail: str, expected: dict[str, str], **extra) -> Page:
    """A route of one enrollment's page (`tail` after the id)."""
    return Page(
        method,
        ONE + tail,
        expected,
        path=f"/portal/admin/enrollments/{{enrollment}}{tail}",
        **extra,
    )


PAGES = [
    Page("GET", "/portal/admin/enrollments", ADMIN_PAGE),
    Page(
        "GET",
        "/portal/admin/enrollments/new",
        ADMIN_PAGE,
        path="/portal/admin/enrollments/new?username=grace",
    ),
    Page(
        "POST",
        "/portal/admin/enrollments/new",
        ADMIN_POST,
        form={"username": "grace", "track": "DP", "reason": "Scholarship"},
        needs=HUB_GRACE,
    ),
    _one("GET", "", ADMIN_PAGE),
    _one("GET", "/revoke", ADMIN_PAGE),
    _one("POST", "/revoke", ADMIN_POST, form={"reason": "Left the school"}),
]


def set_up(api, auth, page, ids) -> None:
    """The hub makes a user on their first sign-in: a grant needs grace to be one."""
    if page.needs == HUB_GRACE:
        auth("grace")
