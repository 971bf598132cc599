"""Matrix rows of the admin's curriculum editor (lms_api/portal/admin_curriculum.py).

Writes are the API's `AdminUser` routes: admins only. The demo school's DP track has
enrollments, so its delete row deletes an unused track OLD instead (the refusal of DP is
in tests/lms_api/test_portal_admin_curriculum.py).
"""

from tests.lms_api.portal_matrix import ADMIN_PAGE, ADMIN_POST, Page

OLD_TRACK = "admin curriculum: an unused track OLD"
TRACK = {
    "name": "Data Professional",
    "duration_weeks": "24",
    "price": "1500",
    "currency": "eur",
    "workspace_kinds": "jupyterlab",
    "is_active": "1",
}
PROJECT = {"number": "7", "title": "Seven", "type": "INTERNAL", "estimated_hours": "3"}
C = "/portal/admin/curriculum"


def _six_pages(
    new: tuple[str, str],
    one: tuple[str, str],
    created: dict[str, str],
    updated: dict[str, str],
    deleted: Page | None = None,
) -> list[Page]:
    """The six rows every kind of record has: `new` and `one` are (route, concrete path) of
    its create form and of one record; `deleted` replaces the default delete row."""
    (new_route, new_path), (one_route, one_path) = new, one
    return [
        Page("GET", new_route, ADMIN_PAGE, path=new_path),
        Page("POST", new_route, ADMIN_POST, path=new_path, form=created),
        Page("GET", one_route, ADMIN_PAGE, path=one_path),
        Page("POST", one_route, ADMIN_POST, path=one_path, form=updated),
        Page("GET", f"{one_route}/delete", ADMIN_PAGE, path=f"{one_path}/delete"),
        deleted or Page("POST", f"{one_route}/delete", ADMIN_POST, path=f"{one_path}/delete"),
    ]


PAGES = [
    Page("GET", C, ADMIN_PAGE),
    *_six_pages(
        (f"{C}/tracks/new", f"{C}/tracks/new"),
        (f"{C}/tracks/{{code}}", f"{C}/tracks/DP"),
        {**TRACK, "code": "NEW"},
        TRACK,
        Page(
            "POST",
            f"{C}/tracks/{{code}}/delete",
            ADMIN_POST,
            path=f"{C}/tracks/OLD/delete",
            needs=OLD_TRACK,
        ),
    ),
    *_six_pages(
        (f"{C}/tracks/{{code}}/projects/new", f"{C}/tracks/DP/projects/new"),
        (f"{C}/projects/{{project_id}}", f"{C}/projects/{{project}}"),
        PROJECT,
        {**PROJECT, "number": "1"},
        Page(
            "POST",
            f"{C}/projects/{{project_id}}/delete",
            ADMIN_POST,
            path=f"{C}/projects/{{project}}/delete",
            form={"track": "DP"},
        ),
    ),
    *_six_pages(
        (f"{C}/projects/{{project_id}}/steps/new", f"{C}/projects/{{project}}/steps/new"),
        (f"{C}/steps/{{step_id}}", f"{C}/steps/{{step}}"),
        {"order": "99", "title": "Extra", "description": "More."},
        {"order": "1", "title": "First", "description": ""},
    ),
    *_six_pages(
        (
            f"{C}/projects/{{project_id}}/deliverables/new",
            f"{C}/projects/{{project}}/deliverables/new",
        ),
        (f"{C}/deliverables/{{deliverable_id}}", f"{C}/deliverables/{{notebook}}"),
        {"title": "Slides", "kind": "file", "required": "1"},
        {"title": "Notebook", "kind": "notebook"},
    ),
]


def set_up(api, auth, page, ids) -> None:
    """An unused track to delete (DP has enrollments: its delete is refused in words)."""
    if page.needs == OLD_TRACK:
        made = api.post(
            "/api/v1/tracks",
            json={"code": "OLD", "name": "Retired", "workspace_kinds": ["jupyterlab"]},
            headers=auth("admin"),
        )
        assert made.status_code == 201, made.text
