"""The trainer's quiz pages: their quizzes, a draft written in a form without JavaScript (the
API's schema errors next to each field, nothing saved), editing, a preview that is the
student's page with nothing saved, publishing (twice acts once), archiving after a
confirmation, results, importing files and generating with (a fake) Gemini."""

import json

import pytest
import yaml
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from lms_api.main import create_app
from tests.fakes.gemini import FakeGemini, fake_gemini, good_questions
from tests.lms_api.conftest import PortalBrowser, app_settings, rows
from tests.lms_api.test_permissions import QUIZ as BARE_QUIZ

__all__ = ["fake_gemini"]  # the fixture, imported for pytest

V1 = "/api/v1"
BASE = "/portal/manage/quizzes"
ASKED = BARE_QUIZ["questions"][0]
QUIZ = {  # the matrix's quiz, with a rationale and an explanation to show
    **BARE_QUIZ,
    "questions": [
        {
            **ASKED,
            "options": [
                {**ASKED["options"][0], "rationale": "Keeps the left side."},
                ASKED["options"][1],
            ],
            "explanation": "A LEFT JOIN keeps every row of its left side.",
        }
    ],
}


def soup_of(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def made_quiz(api, auth, who: str = "trainer", **changes) -> dict:
    made = api.post(f"{V1}/quizzes", json={**QUIZ, **changes}, headers=auth(who))
    assert made.status_code == 201, made.text
    return made.json()


def quiz_count(api, auth) -> int:
    return api.get(f"{V1}/quizzes", headers=auth("trainer")).json()["count"]


def a_form(**changes) -> dict[str, str]:
    """A complete form: one SINGLE question with two options, the first right."""
    form = {
        "title": "Keys and NULLs",
        "description": "",
        "track": "DP",
        "project_id": "",
        "time_limit": "15",
        "max_attempts": "2",
        "pass_mark": "60",
        "reveal_policy": "after_submission",
        "multiple_scoring": "all_or_nothing",
        "questions": "1",
        "q-0-text": "What does NULL = NULL give?",
        "q-0-type": "SINGLE",
        "q-0-points": "2",
        "q-0-explanation": "Comparisons with NULL are unknown.",
        "q-0-tags": "sql, nulls",
        "q-0-objective": "",
        "q-0-options": "2",
        "q-0-o-0-text": "NULL (unknown)",
        "q-0-o-0-correct": "1",
        "q-0-o-0-rationale": "Three-valued logic.",
        "q-0-o-1-text": "TRUE",
        "q-0-o-1-rationale": "",
        "action": "save",
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def test_a_trainer_sees_their_own_quizzes(api, auth, browser):
    mine = made_quiz(api, auth, "trainer", title="Trainer's joins")
    theirs = made_quiz(api, auth, "coach", title="Coach's joins")
    page = browser("trainer").get(BASE)
    assert page.status_code == 200, page.text
    soup = soup_of(page)
    assert soup.find(id=f"quiz-{mine['id']}") is not None
    assert soup.find(id=f"quiz-{theirs['id']}") is None
    assert soup.find(id="group-draft").find(id=f"quiz-{mine['id']}") is not None
    for button in ("new-quiz", "import-quiz", "generate-quiz"):
        assert soup.find(id=button) is not None
    everyone = soup_of(browser("office").get(BASE))
    assert everyone.find(id=f"quiz-{mine['id']}") and everyone.find(id=f"quiz-{theirs['id']}")
    assert browser("ada").get(BASE).status_code == 403


def test_a_form_with_mistakes_saves_nothing_and_says_where(api, auth, browser):
    before = quiz_count(api, auth)
    trainer = browser("trainer")
    sent = a_form(
        title="  ",
        questions="2",
        **{
            "q-0-o-0-correct": None,  # no right option
            "q-1-text": "A second question",
            "q-1-type": "SINGLE",
            "q-1-options": "2",
            "q-1-o-0-text": "Bad\x00option",
            "q-1-o-0-correct": "1",
            "q-1-o-1-text": "Fine option",
        },
    )
    refused = trainer.post(f"{BASE}/new", data=sent)
    assert refused.status_code == 422, refused.text
    soup = soup_of(refused)
    title = soup.find(id="title")
    assert "is-invalid" in title["class"] and "title-error" in title["aria-describedby"]
    assert "empty" in soup.find(id="title-error").get_text()
    assert "exactly one correct option" in soup.find(id="q-0-error").get_text()
    assert soup.find(id="q-0")["aria-describedby"] == "q-0-error"
    option = soup.find(id="q-1-o-0-text")
    assert option["aria-invalid"] == "true"
    assert "control characters" in soup.find(id="q-1-o-0-text-error").get_text()
    # what was typed is kept
    assert soup.find(id="q-0-text").get_text() == "What does NULL = NULL give?"
    assert soup.find(id="q-1-o-1-text")["value"] == "Fine option"
    assert soup.find(id="time_limit")["value"] == "15"
    assert quiz_count(api, auth) == before

    # numbers the form words differently: minutes and percent
    bad_numbers = trainer.post(f"{BASE}/new", data=a_form(time_limit="soon", pass_mark="120"))
    assert bad_numbers.status_code == 422
    soup = soup_of(bad_numbers)
    assert "minutes" in soup.find(id="time_limit-error").get_text()
    assert "0 to 100" in soup.find(id="pass_mark-error").get_text()
    unknown = trainer.post(f"{BASE}/new", data=a_form(track="XX"))
    assert unknown.status_code == 422
    assert "XX" in soup_of(unknown).find(id="track-error").get_text()
    assert quiz_count(api, auth) == before


def test_add_and_remove_buttons_change_the_form_only(api, auth, browser):
    before = quiz_count(api, auth)
    trainer = browser("trainer")
    added = trainer.post(f"{BASE}/new", data=a_form(action="add-question"))
    assert added.status_code == 200, added.text
    soup = soup_of(added)
    assert len(soup.select("fieldset.quiz-block")) == 2
    assert soup.find(id="q-0-text").get_text() == "What does NULL = NULL give?"
    assert soup.find(id="q-1-text").get_text() == "" and soup.find(id="q-1-o-3-text")
    more = trainer.post(f"{BASE}/new", data=a_form(action="add-option-0"))
    assert soup_of(more).find(id="q-0-o-2-text") is not None
    fewer = trainer.post(f"{BASE}/new", data=a_form(action="remove-option-0-1"))
    soup = soup_of(fewer)
    assert soup.find(id="q-0-o-0-text")["value"] == "NULL (unknown)"
    assert soup.find(id="q-0-o-1-text")["value"] == ""  # padded back to two rows
    gone = trainer.post(f"{BASE}/new", data=a_form(action="remove-question-0"))
    assert soup_of(gone).find(id="q-0-text").get_text() == ""
    assert quiz_count(api, auth) == before


def test_create_a_quiz_then_edit_it(api, auth, browser):
    trainer = browser("trainer")
    blank = trainer.get(f"{BASE}/new")
    assert blank.status_code == 200 and soup_of(blank).find(id="q-0-text") is not None
    # a blank trailing question and a blank option are ignored
    sent = a_form(
        questions="2",
        **{"q-0-options": "3", "q-0-o-2-text": "", "q-1-text": "", "q-1-options": "2"},
    )
    made = trainer.post(f"{BASE}/new", data=sent)
    assert made.status_code == 303, made.text
    quiz_id = int(made.headers["location"].split("/")[-1].split("?")[0])
    assert made.headers["location"].endswith("?done=created")
    quiz = api.get(f"{V1}/quizzes/{quiz_id}", headers=auth("trainer")).json()
    assert quiz["title"] == "Keys and NULLs" and quiz["created_by"] == "trainer"
    assert quiz["time_limit_seconds"] == 900 and quiz["max_attempts"] == 2
    assert quiz["pass_mark"] == 0.6 and quiz["track"] == "DP"
    (question,) = quiz["questions"]
    assert question["points"] == 2 and question["tags"] == ["sql", "nulls"]
    assert [o["is_correct"] for o in question["options"]] == [True, False]
    # the same form sent twice (a double click) makes one quiz
    count = quiz_count(api, auth)
    again = trainer.post(f"{BASE}/new", data=sent)
    assert again.status_code == 303 and again.headers["location"] == made.headers["location"]
    assert quiz_count(api, auth) == count

    page = trainer.get(f"{BASE}/{quiz_id}?done=created")
    soup = soup_of(page)
    assert "saved" in soup.find(id="notice").get_text()
    assert soup.find(id=f"question-{question['id']}") is not None
    assert soup.find(id="quality")["href"] == f"/services/dashboards/quiz_quality?quiz={quiz_id}"
    assert soup.find(id="edit") is not None and soup.find(id="publish") is not None

    form = soup_of(trainer.get(f"{BASE}/{quiz_id}/edit"))
    assert form.find(id="title")["value"] == "Keys and NULLs"
    assert form.find(id="pass_mark")["value"] == "60"
    assert form.find(id="q-0-o-0-correct").has_attr("checked")
    assert form.find(id="q-0-tags")["value"] == "sql, nulls"
    edited = trainer.post(
        f"{BASE}/{quiz_id}/edit",
        data=a_form(
            title="Keys, NULLs and joins",
            **{"q-0-o-0-correct": None, "q-0-o-1-correct": "1", "q-0-o-1-text": "UNKNOWN"},
        ),
    )
    assert edited.status_code == 303, edited.text
    quiz = api.get(f"{V1}/quizzes/{quiz_id}", headers=auth("trainer")).json()
    assert quiz["title"] == "Keys, NULLs and joins"
    assert [o["text"] for o in quiz["questions"][0]["options"] if o["is_correct"]] == ["UNKNOWN"]

    # the service's own check (answers after the last attempt need a limit): nothing changes
    refused = trainer.post(
        f"{BASE}/{quiz_id}/edit",
        data=a_form(title="Changed", max_attempts="", reveal_policy="after_last_attempt"),
    )
    assert refused.status_code == 422, refused.text
    assert "max_attempts" in soup_of(refused).find(id="reveal_policy-error").get_text()
    quiz = api.get(f"{V1}/quizzes/{quiz_id}", headers=auth("trainer")).json()
    assert quiz["title"] == "Keys, NULLs and joins" and quiz["max_attempts"] == 2

    # another trainer may read it but not change it, as the API
    coach = browser("coach")
    assert coach.get(f"{BASE}/{quiz_id}").status_code == 200
    assert soup_of(coach.get(f"{BASE}/{quiz_id}")).find(id="edit") is None
    assert coach.get(f"{BASE}/{quiz_id}/edit").status_code == 403
    assert coach.post(f"{BASE}/{quiz_id}/edit", data=a_form(title="Mine")).status_code == 403
    assert coach.post(f"{BASE}/{quiz_id}/publish").status_code == 403
    assert api.patch(f"{V1}/quizzes/{quiz_id}", json={}, headers=auth("coach")).status_code == 403
    assert browser("office").get(f"{BASE}/{quiz_id}/edit").status_code == 200


def test_preview_is_the_students_page_and_saves_nothing(api, auth, browser, database_url):
    quiz = made_quiz(api, auth, time_limit_seconds=600)
    page = browser("trainer").get(f"{BASE}/{quiz['id']}/preview")
    assert page.status_code == 200, page.text
    soup = soup_of(page)
    assert "answers are not saved" in soup.find(id="preview-banner").get_text()
    question = quiz["questions"][0]
    block = soup.find(id=f"question-{question['id']}")
    assert block.name == "fieldset" and not block.has_attr("data-save-url")
    assert question["text"] in block.find("legend").get_text()
    assert [label.get_text() for label in block.find_all("label")] == ["LEFT JOIN", "INNER JOIN"]
    assert "Keeps the left side" not in page.text and "every row of its left side" not in page.text
    assert soup.find(id="countdown") is not None
    assert soup.find("input", {"name": "csrf_token"}) is None
    one = soup_of(browser("trainer").get(f"{BASE}/{quiz['id']}/preview?one=1&q=1"))
    assert len(one.select("fieldset.quiz-question")) == 1
    assert rows(database_url, "SELECT count(*) FROM quiz_attempts") == [(0,)]


def test_publish_twice_acts_once_and_archive_asks_first(api, auth, browser, database_url):
    quiz = made_quiz(api, auth)
    trainer = browser("trainer")
    for _ in range(2):
        published = trainer.post(f"{BASE}/{quiz['id']}/publish")
        assert published.status_code == 303, published.text
        assert published.headers["location"].endswith(f"/{quiz['id']}?done=published")
    assert api.get(f"{V1}/quizzes/{quiz['id']}", headers=auth("trainer")).json()["status"] == (
        "published"
    )
    events = "SELECT count(*) FROM outbox_events WHERE topic = 'quiz.published'"
    assert rows(database_url, events) == [(1,)]
    soup = soup_of(trainer.get(f"{BASE}/{quiz['id']}"))
    assert soup.find(id="edit") is None and soup.find(id="archive") is not None
    assert trainer.get(f"{BASE}/{quiz['id']}/edit").status_code == 409

    confirm = trainer.get(f"{BASE}/{quiz['id']}/archive")
    assert confirm.status_code == 200
    form = soup_of(confirm).find("form")
    assert form["action"].endswith(f"/{quiz['id']}/archive") and form.find(id="confirm")
    assert api.get(f"{V1}/quizzes/{quiz['id']}", headers=auth("trainer")).json()["status"] == (
        "published"
    )
    archived = trainer.post(f"{BASE}/{quiz['id']}/archive")
    assert archived.status_code == 303
    assert api.get(f"{V1}/quizzes/{quiz['id']}", headers=auth("trainer")).json()["status"] == (
        "archived"
    )

    empty = made_quiz(api, auth, title="Empty", questions=[])
    refused = trainer.post(f"{BASE}/{empty['id']}/publish")
    assert refused.status_code == 409
    assert "no questions" in soup_of(refused).find(id="problem").get_text()
    assert trainer.get(f"{BASE}/{empty['id']}/delete").status_code == 200
    deleted = trainer.post(f"{BASE}/{empty['id']}/delete")
    assert deleted.status_code == 303 and deleted.headers["location"].endswith("?done=deleted")
    assert api.get(f"{V1}/quizzes/{empty['id']}", headers=auth("trainer")).status_code == 404


def test_results_show_each_students_best_score(api, auth, browser):
    quiz = made_quiz(api, auth)
    assert api.post(f"{V1}/quizzes/{quiz['id']}/publish", headers=auth("trainer")).is_success
    started = api.post(f"{V1}/quizzes/{quiz['id']}/attempts", headers=auth("ada")).json()
    right = next(o["id"] for o in quiz["questions"][0]["options"] if o["is_correct"])
    question = started["questions"][0]["id"]
    api.put(
        f"{V1}/attempts/{started['id']}/answers/{question}",
        json={"option_ids": [right]},
        headers=auth("ada"),
    )
    assert api.post(f"{V1}/attempts/{started['id']}/submit", headers=auth("ada")).is_success
    page = browser("trainer").get(f"{BASE}/{quiz['id']}/results")
    assert page.status_code == 200, page.text
    row = soup_of(page).find(id="student-ada")
    cells = [td.get_text() for td in row.find_all("td")]
    assert cells[:4] == ["ada", "1", "100%", "Yes"]
    assert "UTC" in cells[4]
    # coach has no students: no rows (the API's scope)
    assert (
        soup_of(browser("coach").get(f"{BASE}/{quiz['id']}/results")).find(id="student-ada") is None
    )
    assert browser("ada").get(f"{BASE}/{quiz['id']}/results").status_code == 403


def test_import_json_and_yaml_and_refuse_bad_files(api, auth, browser):
    trainer = browser("trainer")
    before = quiz_count(api, auth)

    def upload(name: str, content: bytes):
        return trainer.client.post(
            f"{BASE}/import",
            data={"csrf_token": trainer.csrf},
            files={"file": (name, content, "application/octet-stream")},
        )

    for name, content in (
        ("quiz.txt", b"{}"),
        ("quiz.json", b"{not json"),
        ("quiz.json", json.dumps({"title": "", "questions": []}).encode()),
        ("quiz.yaml", b"- just\n- a list\n"),
        ("quiz.json", b" " * (2 * 1024 * 1024 + 1)),
    ):
        refused = upload(name, content)
        assert refused.status_code in (413, 422), (name, refused.text)
        soup = soup_of(refused)
        assert soup.find(id="file")["aria-invalid"] == "true"
        assert soup.find(id="file-error").get_text().strip()
    assert quiz_count(api, auth) == before

    made = upload("joins.json", json.dumps(QUIZ).encode())
    assert made.status_code == 303, made.text
    assert made.headers["location"].endswith("?done=imported")
    quiz_id = int(made.headers["location"].split("/")[-1].split("?")[0])
    assert api.get(f"{V1}/quizzes/{quiz_id}", headers=auth("trainer")).json()["title"] == "Joins"
    as_yaml = yaml.safe_dump({**QUIZ, "title": "Joins in YAML"}).encode()
    made = upload("joins.yaml", as_yaml)
    assert made.status_code == 303, made.text
    assert quiz_count(api, auth) == before + 2
    exported = trainer.get(f"{BASE}/{quiz_id}/export?format=yaml")
    assert exported.status_code == 200 and "attachment" in exported.headers["content-disposition"]
    assert yaml.safe_load(exported.text)["title"] == "Joins"


@pytest.fixture
def generating(hub, database_url, upload_dir, seeded, hub_tokens, fake_gemini: FakeGemini):
    """A signed-in browser on an app whose Gemini is the fake (or none: `key=""`)."""
    seeded.restore(database_url)
    clients = []

    def make(username: str = "trainer", key: str = "test-key") -> PortalBrowser:
        settings = app_settings(
            hub,
            database_url,
            upload_dir,
            gemini_api_key=key,
            gemini_base_url=fake_gemini.url,
            gemini_model="gemini-test",
            gemini_timeout_seconds=5,
        )
        client = TestClient(create_app(settings))
        client.__enter__()
        clients.append(client)
        return PortalBrowser(client, hub_tokens(username))

    yield make
    for client in clients:
        client.__exit__(None, None, None)


ASK = {
    "title": "SQL joins",
    "prompt": "Joins for beginners",
    "num_questions": "4",
    "multiple_count": "1",
    "track": "DP",
    "project_id": "",
    "web_search": "1",
}


def test_generate_a_draft_with_its_sources(generating, auth, fake_gemini):
    fake_gemini.reply_grounded(
        good_questions(4, multiple=1), sources=[("DuckDB joins", "https://duckdb.org/docs/joins")]
    )
    trainer = generating()
    form = soup_of(trainer.get(f"{BASE}/generate"))
    assert form.find(id="generate-progress") is not None
    assert form.find("script", src=lambda s: s and s.endswith("quiz_editor.js")) is not None
    made = trainer.post(f"{BASE}/generate", data=ASK)
    assert made.status_code == 303, made.text
    assert made.headers["location"].endswith("?done=generated")
    location = made.headers["location"]
    page = trainer.get(location[location.index("/portal/") :])
    assert page.status_code == 200, page.text
    soup = soup_of(page)
    link = soup.find(id="sources").find("a")
    assert link["href"] == "https://duckdb.org/docs/joins" and link.get_text() == "DuckDB joins"
    assert set(link["rel"]) == {"noopener", "noreferrer"}
    assert soup.find(id="model").get_text() == "gemini-test"
    assert len(soup.select("article[id^=question-]")) == 4
    assert fake_gemini.requests[0].body["tools"] == [{"googleSearch": {}}]

    mixed_up = trainer.post(f"{BASE}/generate", data={**ASK, "multiple_count": "9"})
    assert mixed_up.status_code == 422
    assert soup_of(mixed_up).find(id="multiple_count")["aria-invalid"] == "true"
    assert len(fake_gemini.requests) == 1

    fake_gemini.reply_error(403, "API key not valid")
    failed = trainer.post(f"{BASE}/generate", data=ASK)
    assert failed.status_code == 502, failed.text
    soup = soup_of(failed)
    assert "Gemini could not write the quiz" in soup.find(id="problem").get_text()
    assert soup.find(id="title")["value"] == "SQL joins"


def test_generate_without_a_key_explains(generating, fake_gemini):
    trainer = generating(key="")
    assert soup_of(trainer.get(f"{BASE}/generate")).find(id="not-configured") is not None
    refused = trainer.post(f"{BASE}/generate", data=ASK)
    assert refused.status_code == 503, refused.text
    soup = soup_of(refused)
    assert "APRANOVA_GEMINI_API_KEY" in soup.find(id="problem").get_text()
    assert soup.find(id="prompt").get_text() == "Joins for beginners"
    assert soup.find(id="web_search").has_attr("checked")
    assert fake_gemini.requests == []
