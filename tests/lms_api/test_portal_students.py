"""The students pages: a trainer's assigned students (an admin's: everyone, searchable), and
one student's page with progress per project, submissions, quiz attempts and the dashboard
link; a trainer who does not train the student gets 404, as the API."""

from tests.lms_api.portal_admin_helpers import soup_of
from tests.lms_api.test_portal_review import V1, hand_in, plain_notebook


def test_lists_by_role(api, auth, browser):
    mine = browser("trainer").get("/portal/students")
    assert mine.status_code == 200, mine.text
    soup = soup_of(mine)
    assert soup.find(id="student-ada") and soup.find(id="student-linus")
    assert soup.find(id="student-search") is None  # a trainer's few need no search

    coach = soup_of(browser("coach").get("/portal/students"))
    assert coach.find(id="student-ada") is None and coach.find(id="students-empty")

    office = browser("office")
    everyone = soup_of(office.get("/portal/students"))
    assert everyone.find(id="student-ada") and everyone.find(id="student-linus")
    assert everyone.find(id="student-trainer") is None  # staff are no students
    found = soup_of(office.get("/portal/students", params={"q": "LIN"}))
    assert found.find(id="student-linus") and found.find(id="student-ada") is None
    assert found.find(id="q")["value"] == "LIN"
    none = soup_of(office.get("/portal/students", params={"q": "nobody-like-this"}))
    assert "No student matches" in none.find(id="students-empty").get_text()
    assert office.get("/portal/students", params={"q": "a\x00b"}).status_code == 422
    assert browser("ada").get("/portal/students").status_code == 403


def test_one_students_page(api, auth, browser):
    sid = hand_in(api, auth, plain_notebook())["id"]
    quiz = next(
        q
        for q in api.get(f"{V1}/quizzes", headers=auth("ada")).json()["results"]
        if q["title"] == "SQL joins and NULLs"
    )
    attempt = api.post(f"{V1}/quizzes/{quiz['id']}/attempts", headers=auth("ada")).json()
    assert api.post(f"{V1}/attempts/{attempt['id']}/submit", headers=auth("ada")).is_success

    page = browser("trainer").get("/portal/students/ada")
    assert page.status_code == 200, page.text
    soup = soup_of(page)
    assert "Trainer: trainer" in soup.find(id="student-facts").get_text()
    track = soup.find(id="track-DP")
    assert track is not None and "0 of" in track.get_text()
    assert len(track.find("tbody").find_all("tr")) >= 2  # one row per project
    row = soup.find(id=f"submission-{sid}")
    assert "Submitted, waiting for review" in row.get_text() and "waiting" in row.get_text()
    assert row.find("a")["href"].endswith(f"/portal/review/{sid}")
    tried = soup.find(id=f"attempt-{attempt['id']}")
    assert "SQL joins and NULLs" in tried.get_text() and "0%" in tried.get_text()
    assert soup.find(id="dashboard-link")["href"] == (
        "/services/dashboards/cohort_progress?student=ada"
    )

    assert browser("office").get("/portal/students/ada").status_code == 200
    assert browser("coach").get("/portal/students/ada").status_code == 404
    assert api.get(f"{V1}/progress/students/ada", headers=auth("coach")).status_code == 404
    assert browser("trainer").get("/portal/students/nobody-here").status_code == 404
    assert browser("ada").get("/portal/students/ada").status_code == 403
