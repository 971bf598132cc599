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

PAGES = [
    Page("GET", C, ADMIN_PAGE),
    Page("GET", f"{C}/tracks/new", ADMIN_PAGE),
    Page("POST", f"{C}/tracks/new", ADMIN_POST, form={**TRACK, "code": "NEW"}),
    Page("GET", f"{C}/tracks/{{code}}", ADMIN_PAGE, path=f"{C}/tracks/DP"),
    Page("POST", f"{C}/tracks/{{code}}", ADMIN_POST, path=f"{C}/tracks/DP", form=TRACK),
    Page("GET", f"{C}/tracks/{{code}}/delete", ADMIN_PAGE, path=f"{C}/tracks/DP/delete"),
    Page(
        "POST",
        f"{C}/tracks/{{code}}/delete",
        ADMIN_POST,
        path=f"{C}/tracks/OLD/delete",
        needs=OLD_TRACK,
    ),
    Page(
        "GET", f"{C}/tracks/{{code}}/projects/new", ADMIN_PAGE, path=f"{C}/tracks/DP/projects/new"
    ),
    Page(
        "POST",
        f"{C}/tracks/{{code}}/projects/new",
        ADMIN_POST,
        path=f"{C}/tracks/DP/projects/new",
        form=PROJECT,
    ),
    Page("GET", f"{C}/projects/{{project_id}}", ADMIN_PAGE, path=f"{C}/projects/{{project}}"),
    Page(
        "POST",
        f"{C}/projects/{{project_id}}",
        ADMIN_POST,
        path=f"{C}/projects/{{project}}",
        form={**PROJECT, "number": "1"},
    ),
    Page(
        "GET",
        f"{C}/projects/{{project_id}}/delete",
        ADMIN_PAGE,
        path=f"{C}/projects/{{project}}/delete",
    ),
    Page(
        "POST",
        f"{C}/projects/{{project_id}}/delete",
        ADMIN_POST,
        path=f"{C}/projects/{{project}}/delete",
        form={"track": "DP"},
    ),
    Page(
        "GET",
        f"{C}/projects/{{project_id}}/steps/new",
        ADMIN_PAGE,
        path=f"{C}/projects/{{project}}/steps/new",
    ),
    Page(
        "POST",
        f"{C}/projects/{{project_id}}/steps/new",
        ADMIN_POST,
        path=f"{C}/projects/{{project}}/steps/new",
        form={"order": "99", "title": "Extra", "description": "More."},
    ),
    Page("GET", f"{C}/steps/{{step_id}}", ADMIN_PAGE, path=f"{C}/steps/{{step}}"),
    Page(
        "POST",
        f"{C}/steps/{{step_id}}",
        ADMIN_POST,
        path=f"{C}/steps/{{step}}",
        form={"order": "1", "title": "First", "description": ""},
    ),
    Page("GET", f"{C}/steps/{{step_id}}/delete", ADMIN_PAGE, path=f"{C}/steps/{{step}}/delete"),
    Page("POST", f"{C}/steps/{{step_id}}/delete", ADMIN_POST, path=f"{C}/steps/{{step}}/delete"),
    Page(
        "GET",
        f"{C}/projects/{{project_id}}/deliverables/new",
        ADMIN_PAGE,
        path=f"{C}/projects/{{project}}/deliverables/new",
    ),
    Page(
        "POST",
        f"{C}/projects/{{project_id}}/deliverables/new",
        ADMIN_POST,
        path=f"{C}/projects/{{project}}/deliverables/new",
        form={"title": "Slides", "kind": "file", "required": "1"},
    ),
    Page(
        "GET",
        f"{C}/deliverables/{{deliverable_id}}",
        ADMIN_PAGE,
        path=f"{C}/deliverables/{{notebook}}",
    ),
    Page(
        "POST",
        f"{C}/deliverables/{{deliverable_id}}",
        ADMIN_POST,
        path=f"{C}/deliverables/{{notebook}}",
        form={"title": "Notebook", "kind": "notebook"},
    ),
    Page(
        "GET",
        f"{C}/deliverables/{{deliverable_id}}/delete",
        ADMIN_PAGE,
        path=f"{C}/deliverables/{{notebook}}/delete",
    ),
    Page(
        "POST",
        f"{C}/deliverables/{{deliverable_id}}/delete",
        ADMIN_POST,
        path=f"{C}/deliverables/{{notebook}}/delete",
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
