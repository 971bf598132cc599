"""Matrix rows of the admin's people pages (lms_api/portal/admin_people.py)."""

from tests.lms_api.portal_matrix import ADMIN_PAGE, ADMIN_POST, Page

HUB_USERS = "hub users ada and linus"

PERSON = "/portal/admin/people/{username}"


def _person(method: str, tail: str, expected: dict[str, str], who: str, **extra) -> Page:
    """A route of one person's page (`tail` after the username), asked about `who`."""
    return Page(method, PERSON + tail, expected, path=f"/portal/admin/people/{who}{tail}", **extra)


PAGES = [
    Page("GET", "/portal/admin/people", ADMIN_PAGE),
    _person("GET", "", ADMIN_PAGE, "ada"),
    _person("POST", "/trainer", ADMIN_POST, "ada", form={"trainer": "coach"}, needs=HUB_USERS),
    _person("POST", "/trainer/remove", ADMIN_POST, "ada"),
    _person("GET", "/deactivate", ADMIN_PAGE, "linus"),
    _person("POST", "/deactivate", ADMIN_POST, "linus"),
    _person("POST", "/reactivate", ADMIN_POST, "linus"),
]


def set_up(api, auth, page, ids) -> None:
    """The hub makes a user on their first sign-in: the trainer form needs ada to be one."""
    if page.needs == HUB_USERS:
        auth("ada")
        auth("linus")
