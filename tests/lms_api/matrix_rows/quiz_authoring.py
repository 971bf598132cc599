"""The trainer's quiz pages (authoring): staff only; changing a quiz is its author's or an
admin's (coach, another trainer, gets the API's 403)."""

from tests.lms_api.portal_matrix import STAFF_PAGE, STAFF_POST, Page, expect
from tests.lms_api.test_permissions import QUIZ

NEEDS = "authored draft"  # a draft quiz written by `trainer` (ids.draft)
# the author (trainer) and admins; another trainer (coach) is refused, as the API
AUTHOR_PAGE = expect("login", "login", "403", "403", "200", "403", "200", "200")
AUTHOR_POST = expect("401", "401", "403", "403", "303", "403", "303", "303")
# a form a staff member sent incomplete (no file): the form again, 422, nothing saved
STAFF_FORM_REFUSED = expect("401", "401", "403", "403", "422", "422", "422", "422")
# the matrix's app has no Gemini key: staff get the page explaining it (503)
STAFF_NO_GEMINI = expect("401", "401", "403", "403", "503", "503", "503", "503")
A_QUIZ_FORM = {
    "title": "Matrix quiz",
    "pass_mark": "50",
    "reveal_policy": "after_submission",
    "multiple_scoring": "all_or_nothing",
    "questions": "1",
    "q-0-text": "Which join keeps every row of the left table?",
    "q-0-type": "SINGLE",
    "q-0-options": "2",
    "q-0-o-0-text": "LEFT JOIN",
    "q-0-o-0-correct": "1",
    "q-0-o-1-text": "INNER JOIN",
    "action": "save",
}
ASK = {"title": "Matrix quiz", "prompt": "Joins", "num_questions": "3", "multiple_count": "0"}
QUIZ_PATH = "/portal/manage/quizzes/{draft}"


def row(method: str, suffix: str, expected: dict[str, str], **kwargs) -> Page:
    route = "/portal/manage/quizzes/{quiz_id}" + suffix
    return Page(method, route, expected, path=QUIZ_PATH + suffix, needs=NEEDS, **kwargs)


PAGES = [
    Page("GET", "/portal/manage/quizzes", STAFF_PAGE),
    Page("GET", "/portal/manage/quizzes/new", STAFF_PAGE),
    Page("POST", "/portal/manage/quizzes/new", STAFF_POST, form=A_QUIZ_FORM),
    Page("GET", "/portal/manage/quizzes/import", STAFF_PAGE),
    Page("POST", "/portal/manage/quizzes/import", STAFF_FORM_REFUSED),
    Page("GET", "/portal/manage/quizzes/generate", STAFF_PAGE),
    Page("POST", "/portal/manage/quizzes/generate", STAFF_NO_GEMINI, form=ASK),
    row("GET", "", STAFF_PAGE),
    row("GET", "/edit", AUTHOR_PAGE),
    row("POST", "/edit", AUTHOR_POST, form=A_QUIZ_FORM),
    row("GET", "/preview", STAFF_PAGE),
    row("GET", "/results", STAFF_PAGE),
    row("GET", "/export", STAFF_PAGE),
    row("POST", "/publish", AUTHOR_POST),
    row("GET", "/archive", AUTHOR_PAGE),
    row("POST", "/archive", AUTHOR_POST),
    row("GET", "/delete", AUTHOR_PAGE),
    row("POST", "/delete", AUTHOR_POST),
]


def set_up(api, auth, page: Page, ids) -> None:
    if page.needs == NEEDS:
        made = api.post("/api/v1/quizzes", json=QUIZ, headers=auth("trainer"))
        assert made.status_code == 201, made.text
        ids.draft = made.json()["id"]
