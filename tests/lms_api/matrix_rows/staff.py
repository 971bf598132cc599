"""The trainer's start page extras: the students pages and the notebook diff."""

from tests.lms_api.portal_matrix import ADAS_REVIEW, STAFF_PAGE, Page

PAGES = [
    Page("GET", "/portal/students", STAFF_PAGE),
    # ada's page: her trainer and admins; coach (not her trainer) 404, as the API
    Page("GET", "/portal/students/{username}", ADAS_REVIEW, path="/portal/students/ada"),
    Page(
        "GET",
        "/portal/review/{submission_id}/diff",
        ADAS_REVIEW,
        path="/portal/review/{submission}/diff",
        needs="submission",
    ),
]
