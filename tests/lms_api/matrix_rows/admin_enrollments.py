"""Matrix rows of the admin's enrollment pages (lms_api/portal/admin_enrollments.py)."""

from tests.lms_api.portal_matrix import ADMIN_PAGE, ADMIN_POST, Page

HUB_GRACE = "hub user grace"

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
    Page(
        "GET",
        "/portal/admin/enrollments/{enrollment_id}",
        ADMIN_PAGE,
        path="/portal/admin/enrollments/{enrollment}",
    ),
    Page(
        "GET",
        "/portal/admin/enrollments/{enrollment_id}/revoke",
        ADMIN_PAGE,
        path="/portal/admin/enrollments/{enrollment}/revoke",
    ),
    Page(
        "POST",
        "/portal/admin/enrollments/{enrollment_id}/revoke",
        ADMIN_POST,
        path="/portal/admin/enrollments/{enrollment}/revoke",
        form={"reason": "Left the school"},
    ),
]


def set_up(api, auth, page, ids) -> None:
    """The hub makes a user on their first sign-in: a grant needs grace to be one."""
    if page.needs == HUB_GRACE:
        auth("grace")
