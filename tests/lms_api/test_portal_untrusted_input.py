"""Every form of the portal and the workbench, sent by a caller allowed to use it, with each
field replaced in turn by a hostile value (NUL, control and bidi characters, a huge string,
integers out of any column's range, nothing): a page in words comes back, never a server
error or a dropped connection.

The forms are the permission matrix's own rows (`matrix_rows/`), so a form added there is
covered here too; the caller is the first one the row lets act (a 303 in the matrix).
"""

from typing import Any

import pytest

from lms_api.portal.signin import SESSION_COOKIE, csrf_token_for
from tests.lms_api.test_permissions import _ids, matrix_apps  # noqa: F401
from tests.lms_api.test_portal_permissions import PAGES, _set_up

HOSTILE = {
    "nul": "a\x00b",
    "control": "line\x1b[31m\x07",
    "bidi": "abc\u202edcba\u2066",
    "huge": "x" * 200_000,
    "big-int": "9" * 40,
    "negative": "-2147483649",
    "empty": "",
}
FORMS = [
    page
    for page in PAGES
    if page.method == "POST" and page.form and "303" in page.expected.values()
]


def acting_caller(page) -> str:
    return next(caller for caller, outcome in page.expected.items() if outcome == "303")


@pytest.mark.parametrize("page", FORMS, ids=lambda p: p.route)
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])  # NUL and ranges differ
def test_each_field_of_each_form_survives_hostile_values(
    matrix_apps,  # noqa: F811
    auth,
    hub_tokens,
    backend,
    page,
):
    api, _url = matrix_apps(backend)
    ids = _ids(api, auth, backend)
    _set_up(api, auth, page, ids)
    path = page.path.format(**vars(ids)) if page.path else page.route
    token = hub_tokens(acting_caller(page))
    csrf = csrf_token_for(api.app.state.settings, token)
    failures: list[str] = []
    try:
        api.cookies.set(SESSION_COOKIE, token)
        for field in page.form:
            for name, value in HOSTILE.items():
                form: dict[str, Any] = {**page.form, field: value, "csrf_token": csrf}
                response = api.post(path, data=form, follow_redirects=False)
                if response.status_code >= 500 or (
                    response.status_code != 303 and "<html" not in response.text
                ):
                    failures.append(f"{field}={name}: {response.status_code}")
    finally:
        api.cookies.clear()
    assert not failures, (path, failures)
