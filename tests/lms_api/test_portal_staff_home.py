"""The trainer's start page (GET /portal/ for staff): their review queue with how long each
submission has waited, their students with progress and quiz results, the quizzes they wrote;
another trainer sees none of it, an admin is pointed to the students page."""

from tests.lms_api.portal_admin_helpers import soup_of
from tests.lms_api.test_portal_review import V1, hand_in, plain_notebook


def first_step(api, auth) -> int:
    track = api.get(f"{V1}/tracks/DP", headers=auth("ada")).json()
    project = api.get(f"{V1}/projects/{track['projects'][0]['id']}", headers=auth("ada")).json()
    return project["steps"][0]["id"]


def test_trainer_sees_queue_students_and_quizzes(api, auth, browser):
    sid = hand_in(api, auth, plain_notebook())["id"]
    assert api.put(f"{V1}/progress/steps/{first_step(api, auth)}", headers=auth("ada")).is_success
    progress = api.get(f"{V1}/progress/students/ada", headers=auth("trainer")).json()
    dp = next(t for t in progress["tracks"] if t["code"] == "DP")
    assert (dp["steps_done"], dp["steps_total"]) == (1, 8)

    home = browser("trainer").get("/portal/")
    assert home.status_code == 200, home.text
    soup = soup_of(home)
    assert soup.find("a", attrs={"aria-current": "page"}).get_text(strip=True) == "Home"
    row = soup.find(id=f"home-queue-{sid}")
    assert row is not None and "ada" in row.get_text()
    assert row.find("time").get_text().endswith("min")  # how long it has waited
    assert row.find("a")["href"].endswith(f"/portal/review/{sid}")
    assert soup.find(id="all-waiting").get_text() == "All 1 waiting"
    assert soup.find(id="all-waiting")["href"].endswith("/portal/review")

    ada = soup.find(id="student-ada")
    assert ada is not None and soup.find(id="student-linus") is not None
    assert "DP: 13%" in ada.get_text() and "(1 of 8 steps)" in ada.get_text()  # halves up
    assert ada.find("time") is not None  # her last activity: the step and the hand-in
    links = [a["href"] for a in ada.find_all("a")]
    assert any(h.endswith("/portal/students/ada") for h in links)
    assert "/services/dashboards/cohort_progress?student=ada" in links

    quizzes = soup.find(id="home-quizzes")
    assert quizzes is not None and "SQL joins and NULLs" in quizzes.get_text()
    assert all(
        a["href"].split("/portal/")[1].startswith("manage/quizzes/") for a in quizzes.find_all("a")
    )
    assert soup.find(id="manage-quizzes")["href"].endswith("/portal/manage/quizzes")


def test_quiz_results_reach_the_start_page(api, auth, browser):
    quiz = next(
        q
        for q in api.get(f"{V1}/quizzes", headers=auth("ada")).json()["results"]
        if q["title"] == "SQL joins and NULLs"
    )
    attempt = api.post(f"{V1}/quizzes/{quiz['id']}/attempts", headers=auth("ada")).json()
    assert api.post(f"{V1}/attempts/{attempt['id']}/submit", headers=auth("ada")).is_success

    soup = soup_of(browser("trainer").get("/portal/"))
    text = soup.find(id="student-ada").get_text(" ", strip=True)
    assert "Latest: 0%" in text and "Best: 0%" in text
    assert soup.find(id=f"home-quiz-{quiz['id']}").find_all("td")[-1].get_text() == "1"


def test_other_trainer_and_admin(api, auth, browser):
    hand_in(api, auth, plain_notebook())
    coach = browser("coach").get("/portal/")
    assert coach.status_code == 200, coach.text
    soup = soup_of(coach)
    assert soup.find(id="home-queue-empty") is not None
    assert soup.find(id="student-ada") is None and "ada" not in soup.find("main").get_text()
    assert soup.find(id="home-students-empty") is not None
    assert soup.find(id="home-quizzes-empty") is not None  # coach wrote none

    office = browser("office").get("/portal/")
    assert office.status_code == 200, office.text
    soup = soup_of(office)
    assert soup.find(id="all-waiting").get_text() == "All 1 waiting"
    assert "see every student" in soup.find(id="admin-students").get_text()
    assert soup.find(id="admin-students").find("a")["href"].endswith("/portal/students")

    # students keep their own start page
    assert browser("ada").get("/portal/").status_code == 200
    assert soup_of(browser("ada").get("/portal/")).find(id="home-queue") is None
