"""The shape of the portal's permission matrix, shared by its row files.

Each area of pages keeps its rows in `tests/lms_api/matrix_rows/<area>.py` (a `PAGES` list,
and optionally `set_up(api, auth, page, ids)` for what its cases need to exist first), so that
pages can be added in parallel; `test_portal_permissions` gathers them all and fails when a
page route has no row.
"""

from dataclasses import dataclass, field
from typing import Any

CALLERS = ("nobody", "hub", "ada", "linus", "trainer", "coach", "office", "admin")


def expect(*outcomes: str) -> dict[str, str]:
    assert len(outcomes) == len(CALLERS)
    return dict(zip(CALLERS, outcomes, strict=True))


PUBLIC_REDIRECT = expect(*["303"] * 8)
ANY_USER = expect("login", "login", "200", "200", "200", "200", "200", "200")
# DP's curriculum: staff and students active in DP (linus is in FSD)
DP_READERS = expect("login", "login", "200", "403", "200", "200", "200", "200")
# a student's work in DP: only a student active in DP does it (staff hand in nothing); a
# form sent without a session is refused (401 page: nothing saved, sign in and send again)
DP_STUDENT_ACTS = expect("401", "401", "303", "403", "403", "403", "403", "403")
# ada's own records: her, her trainer and admins; others 404 (no existence leak)
ADAS_RECORD = expect("login", "login", "200", "404", "200", "404", "200", "200")
# ada's attempt: only she takes it; those who may read it are refused, others get 404
ADAS_ATTEMPT_PAGE = expect("login", "login", "200", "404", "403", "404", "403", "403")
ADAS_ATTEMPT_ACT = expect("401", "401", "303", "404", "403", "404", "403", "403")
# the trainer's review of ada's work: her trainer and admins; students refused; coach (not her
# trainer) 404, as the API's review route
REVIEW_QUEUE = expect("login", "login", "403", "403", "200", "200", "200", "200")
ADAS_REVIEW = expect("login", "login", "403", "403", "200", "404", "200", "200")
ADAS_REVIEW_POST = expect("401", "401", "403", "403", "303", "404", "303", "303")
ADAS_AUTOSAVE = expect("401", "401", "200", "404", "403", "404", "403", "403")


@dataclass
class Page:
    method: str
    route: str  # as the router knows it
    expected: dict[str, str]
    path: str = ""  # the concrete path, a template of `Ids` fields; default: the route
    form: dict[str, str] = field(default_factory=dict)
    json: Any = None
    needs: str = ""  # "submission" | "attempt" | "result", or a row file's own word


# the staff's workbench: trainers and admins; students refused (the API's staff refusal)
STAFF_PAGE = REVIEW_QUEUE
STAFF_POST = expect("401", "401", "403", "403", "303", "303", "303", "303")
# admin pages: admins (`office` is in group admins, `admin` is the hub's admin)
ADMIN_PAGE = expect("login", "login", "403", "403", "403", "403", "200", "200")
ADMIN_POST = expect("401", "401", "403", "403", "403", "403", "303", "303")
