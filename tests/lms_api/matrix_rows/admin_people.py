"""Matrix rows of the admin's people pages (lms_api/portal/admin_people.py)."""

from tests.lms_api.portal_matrix import ADMIN_PAGE, ADMIN_POST, Page

HUB_USERS = "hub users ada and linus"

PAGES = [
    Page("GET", "/portal/admin/people", ADMIN_PAGE),
    Page("GET", "/portal/admin/people/{username}", ADMIN_PAGE, path="/portal/admin/people/ada"),
    Page(
        "POST",
        "/portal/admin/people/{username}/trainer",
        ADMIN_POST,
        path="/portal/admin/people/ada/trainer",
        form={"trainer": "coach"},
        needs=HUB_USERS,
    ),
    Page(
        "POST",
        "/portal/admin/people/{username}/trainer/remove",
        ADMIN_POST,
        path="/portal/admin/people/ada/trainer/remove",
    ),
    Page(
        "GET",
        "/portal/admin/people/{username}/deactivate",
        ADMIN_PAGE,
        path="/portal/admin/people/linus/deactivate",
    ),
    Page(
        "POST",
        "/portal/admin/people/{username}/deactivate",
        ADMIN_POST,
        path="/portal/admin/people/linus/deactivate",
    ),
    Page(
        "POST",
        "/portal/admin/people/{username}/reactivate",
        ADMIN_POST,
        path="/portal/admin/people/linus/reactivate",
    ),
]


def set_up(api, auth, page, ids) -> None:
    """The hub makes a user on their first sign-in: the trainer form needs ada to be one."""
    if page.needs == HUB_USERS:
        auth("ada")
        auth("linus")
