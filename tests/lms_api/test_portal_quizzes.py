"""The portal's quiz pages: the intro, starting (once), taking with autosave and without
JavaScript, the unanswered-questions check, the result as the reveal policy allows, time
limits, and who may see which attempt; the same rules as the API (checked through it)."""

import re

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import create_engine, text

from lms_api.database import sync_url
from tests.lms_api.conftest import rows

V1 = "/api/v1"
DEMO_DP_QUIZ = "SQL joins and NULLs"


@pytest.fixture
def browser(browser, api):
    """conftest's browser, sending on the `api` client's event loop: this test also calls the
    API, and the app's pooled hub connection must not be shared across event loops."""

    def signed_in(username: str):
        portal_browser = browser(username)
        portal_browser.client.portal = api.portal
        return portal_browser

    return signed_in


def soup_of(response, status: int = 200) -> BeautifulSoup:
    assert response.status_code == status, response.text
    return BeautifulSoup(response.text, "html.parser")


def words(node) -> str:
    return " ".join(node.get_text(" ", strip=True).split())


def demo_quiz(api, auth) -> dict:
    """The DP demo quiz as staff see it (with its keys), to know the right options."""
    listed = api.get(f"{V1}/quizzes", headers=auth("trainer")).json()["results"]
    quiz_id = next(q["id"] for q in listed if q["title"] == DEMO_DP_QUIZ)
    return api.get(f"{V1}/quizzes/{quiz_id}", headers=auth("trainer")).json()


def ids(quiz: dict, number: int, right: bool) -> list[int]:
    """The right (or wrong) option ids of question `number` (1-based)."""
    options = quiz["questions"][number - 1]["options"]
    return [o["id"] for o in options if o["is_correct"] == right]


def start(browser, quiz_id: int) -> int:
    started = browser.post(f"/portal/quizzes/{quiz_id}/start")
    assert started.status_code == 303, started.text
    return int(re.search(r"/portal/attempts/(\d+)$", started.headers["location"]).group(1))


def autosave(browser, attempt_id: int, question_id: int, option_ids, **headers):
    headers = {"X-CSRF-Token": browser.csrf, **headers}
    return browser.client.post(
        f"/portal/attempts/{attempt_id}/answers/{question_id}",
        json={"option_ids": option_ids},
        headers={k: v for k, v in headers.items() if v is not None},
    )


def overdue(database_url: str, attempt_id: int) -> None:
    """The attempt's deadline passed long ago (the server's clock is the one that counts)."""
    engine = create_engine(sync_url(database_url))
    try:
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE quiz_attempts SET deadline_at = :at WHERE id = :id"),
                {"at": "2020-01-01 00:00:00+00:00", "id": attempt_id},
            )
    finally:
        engine.dispose()


def checked(soup: BeautifulSoup, question_id: int) -> list[int]:
    return sorted(int(i["value"]) for i in soup.select(f"input[name=answer-{question_id}]:checked"))


def test_ada_takes_the_demo_quiz_end_to_end(api, auth, browser, database_url):
    quiz = demo_quiz(api, auth)
    questions = [q["id"] for q in quiz["questions"]]
    ada = browser("ada")

    intro = soup_of(ada.get(f"/portal/quizzes/{quiz['id']}"))
    assert words(intro.h1) == DEMO_DP_QUIZ
    facts = words(intro.select_one("#quiz-facts"))
    assert "Track DP" in facts and "Questions 5" in facts and "15 min" in facts
    assert words(intro.select_one("#attempts-left")) == "3"
    assert words(intro.select_one("#start")) == "Start the quiz"

    # A double click starts one attempt.
    attempt_id = start(ada, quiz["id"])
    assert start(ada, quiz["id"]) == attempt_id
    mine = api.get(f"{V1}/attempts", params={"quiz_id": quiz["id"]}, headers=auth("ada")).json()
    assert [a["id"] for a in mine["results"]] == [attempt_id]

    page = soup_of(ada.get(f"/portal/attempts/{attempt_id}"))
    fieldsets = page.select("fieldset[data-question]")
    assert [int(f["data-question"]) for f in fieldsets] == questions
    for fieldset in fieldsets:
        assert fieldset.legend and fieldset.select("input + label")
    assert page.select_one("#countdown")["data-seconds-left"].isdigit()
    assert page.select_one("#countdown")["data-deadline"].startswith("20")
    assert "Time left:" in words(page.select_one("#countdown"))
    # No key before submission: no explanation, and right and wrong options look the same.
    for question in quiz["questions"]:
        assert question["explanation"] not in page.text
    inputs = page.select("fieldset input[type=radio], fieldset input[type=checkbox]")
    assert len({tuple(sorted(set(i.attrs) - {"checked"})) for i in inputs}) == 1
    assert "correct" not in str(page.select_one("#quiz-form")).lower()

    # Autosave (quiz.js): one question, JSON, with the CSRF header.
    saved = autosave(ada, attempt_id, questions[0], ids(quiz, 1, True))
    assert saved.status_code == 200, saved.text
    assert saved.json()["selected_option_ids"] == ids(quiz, 1, True)
    refused = autosave(ada, attempt_id, questions[1], ids(quiz, 2, True), **{"X-CSRF-Token": None})
    assert refused.status_code == 403
    assert ada.post(f"/portal/attempts/{attempt_id}/save", csrf=None).status_code == 403
    saved_rows = rows(
        database_url, "SELECT question_id FROM quiz_answers WHERE attempt_id = :a", a=attempt_id
    )
    assert saved_rows == [(questions[0],)]
    wrong_kind = autosave(ada, attempt_id, questions[0], ids(quiz, 1, False))  # two for SINGLE
    assert wrong_kind.status_code == 422 and "one option" in wrong_kind.json()["error"]["message"]

    # Without JavaScript: the whole form.
    form = {
        "shown": [str(q) for q in questions],
        f"answer-{questions[0]}": [str(i) for i in ids(quiz, 1, True)],
        f"answer-{questions[1]}": [str(ids(quiz, 2, False)[0])],
        f"answer-{questions[2]}": [str(i) for i in ids(quiz, 3, True)],
    }
    posted = ada.post(f"/portal/attempts/{attempt_id}/save", data=form)
    assert posted.status_code == 303, posted.text
    reloaded = soup_of(ada.get(f"/portal/attempts/{attempt_id}?saved=1"))
    assert checked(reloaded, questions[0]) == ids(quiz, 1, True)
    assert checked(reloaded, questions[1]) == [ids(quiz, 2, False)[0]]
    assert checked(reloaded, questions[2]) == sorted(ids(quiz, 3, True))
    assert words(reloaded.select_one(f"#status-{questions[2]}")) == "Saved"
    assert words(reloaded.select_one("#answered-count")).startswith("3 of 5")

    one = soup_of(ada.get(f"/portal/attempts/{attempt_id}?one=1&q=2"))
    assert [int(f["data-question"]) for f in one.select("fieldset[data-question]")] == [
        questions[1]
    ]
    assert {b["value"] for b in one.select("button[name=goto]")} == {"1", "3"}

    # Submit: the unanswered questions are named first.
    confirm = soup_of(ada.post(f"/portal/attempts/{attempt_id}/submit"))
    unanswered = words(confirm.select_one("#unanswered"))
    assert "Question 4" in unanswered and "pandas" in unanswered
    assert "Question 5" in unanswered and "Question 3" not in unanswered
    assert confirm.select_one("#submit-anyway") and confirm.select_one("#back-to-quiz")
    result_url = f"/portal/attempts/{attempt_id}/result"
    done = ada.post(f"/portal/attempts/{attempt_id}/submit", data={"confirm": "1"})
    assert done.status_code == 303 and done.headers["location"].endswith(result_url)
    again = ada.post(f"/portal/attempts/{attempt_id}/submit", data={"confirm": "1"})
    assert again.status_code == 303 and again.headers["location"].endswith(result_url)
    assert ada.get(f"/portal/attempts/{attempt_id}").status_code == 303

    result = soup_of(ada.get(result_url))
    assert words(result.select_one("#score")).startswith("Score: 40%")
    graded = api.get(f"{V1}/attempts/{attempt_id}", headers=auth("ada")).json()
    assert graded["score_fraction"] == 0.4 and graded["status"] == "SUBMITTED"
    first = words(result.select_one(f"#result-{questions[0]}"))
    assert "Correct" in first and "right answer" in first and "(your answer)" in first
    assert "Incorrect" in words(result.select_one(f"#result-{questions[1]}"))
    assert quiz["questions"][0]["explanation"] in first  # revealed after submission
    assert result.find("a", string="Back to my course")

    intro = soup_of(ada.get(f"/portal/quizzes/{quiz['id']}"))
    assert words(intro.select_one("#best-score")).startswith("40%")
    assert words(intro.select_one("#attempts-left")) == "2"
    assert intro.select_one(f"#past-attempts a[href$='{result_url}']")


def test_other_students_drafts_and_hidden_keys(api, auth, browser):
    quiz = demo_quiz(api, auth)
    attempt_id = start(browser("ada"), quiz["id"])
    question_id = quiz["questions"][0]["id"]
    for name in ("linus", "grace"):
        other = browser(name)
        for path in (f"/portal/attempts/{attempt_id}", f"/portal/attempts/{attempt_id}/result"):
            assert soup_of(other.get(path), 404).h1
        assert other.post(f"/portal/attempts/{attempt_id}/submit").status_code == 404
        assert autosave(other, attempt_id, question_id, [1]).status_code == 404
        refused = soup_of(other.get(f"/portal/quizzes/{quiz['id']}"), 403)
        assert "not enrolled" in words(refused.select_one("#error-message"))
        assert other.post(f"/portal/quizzes/{quiz['id']}/start").status_code == 403

    options = [{"text": "yes", "is_correct": True}, {"text": "no", "is_correct": False}]
    body = {
        "title": "Never shows keys",
        "track": "DP",
        "reveal_policy": "never",
        "questions": [
            {"text": "Ok?", "type": "SINGLE", "options": options, "explanation": "Because."}
        ],
    }
    created = api.post(f"{V1}/quizzes", json=body, headers=auth("trainer")).json()
    ada = browser("ada")
    assert ada.get(f"/portal/quizzes/{created['id']}").status_code == 404  # still a draft

    # Published with reveal policy "never": the result has the score, and no key at all.
    api.post(f"{V1}/quizzes/{created['id']}/publish", headers=auth("trainer"))
    intro = soup_of(ada.get(f"/portal/quizzes/{created['id']}"))
    assert "never which answers were right" in intro.text
    attempt_id = start(ada, created["id"])
    question = created["questions"][0]
    right = [o["id"] for o in question["options"] if o["is_correct"]]
    assert autosave(ada, attempt_id, question["id"], right).status_code == 200
    ada.post(f"/portal/attempts/{attempt_id}/submit")
    result = soup_of(ada.get(f"/portal/attempts/{attempt_id}/result"))
    assert words(result.select_one("#score")).startswith("Score: 100%")
    questions = words(result.select_one("#result-questions"))
    assert "(your answer)" in questions
    for secret in ("right answer", "Correct", "Because."):
        assert secret not in questions


def test_time_up_and_no_attempts_left_are_refused_in_words(api, auth, browser, database_url):
    quiz = demo_quiz(api, auth)
    ada = browser("ada")
    attempt_id = start(ada, quiz["id"])
    question_id = quiz["questions"][0]["id"]
    assert autosave(ada, attempt_id, question_id, ids(quiz, 1, True)).status_code == 200
    overdue(database_url, attempt_id)

    wrong = [ids(quiz, 1, False)[0]]
    late_js = autosave(ada, attempt_id, question_id, wrong)
    assert late_js.status_code == 409 and "Time is up" in late_js.json()["error"]["message"]
    form = {"shown": [str(question_id)], f"answer-{question_id}": [str(wrong[0])]}
    late = soup_of(ada.post(f"/portal/attempts/{attempt_id}/save", data=form), 409)
    assert "Time is up" in words(late.h1)
    assert "were not saved" in words(late.select_one("#error-message"))
    assert ada.get(f"/portal/attempts/{attempt_id}").status_code == 303
    result = soup_of(ada.get(f"/portal/attempts/{attempt_id}/result"))
    assert words(result.select_one("#attempt-status")) == "Time ran out"
    assert words(result.select_one("#score")).startswith("Score: 20%")  # the saved answer

    # An overdue attempt nobody looked at is graded when the intro is shown.
    second = api.post(f"{V1}/quizzes/{quiz['id']}/attempts", headers=auth("ada")).json()
    overdue(database_url, second["id"])
    intro = soup_of(ada.get(f"/portal/quizzes/{quiz['id']}"))
    assert words(intro.select_one("#start")) == "Start the quiz"
    assert [words(b) for b in intro.select("#past-attempts .badge")] == ["Time ran out"] * 2
    third = api.post(f"{V1}/quizzes/{quiz['id']}/attempts", headers=auth("ada")).json()
    api.post(f"{V1}/attempts/{third['id']}/submit", headers=auth("ada"))
    intro = soup_of(ada.get(f"/portal/quizzes/{quiz['id']}"))
    assert "used all 3 attempts" in words(intro.select_one("#no-attempts-left"))
    assert not intro.select_one("#start")
    refused = soup_of(ada.post(f"/portal/quizzes/{quiz['id']}/start"), 409)
    assert "used all 3 attempt" in words(refused.select_one("#error-message"))
