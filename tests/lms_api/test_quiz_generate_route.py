"""POST /quizzes/generate end to end: the route, the real google-genai client and the fake
Gemini server; drafts saved whole or not at all, on SQLite and PostgreSQL."""

import pytest
from fastapi.testclient import TestClient

from lms_api.main import create_app
from tests.fakes.gemini import FakeGemini, fake_gemini, good_questions
from tests.lms_api.conftest import app_settings, assert_error, rows

__all__ = ["fake_gemini"]  # the fixture, imported for pytest

V1 = "/api/v1"
ASK = {"title": "SQL joins", "prompt": "Joins for beginners", "num_questions": 4, "track": "DP"}


@pytest.fixture
def generating(hub, database_url, upload_dir, seeded, fake_gemini: FakeGemini):
    """An app whose Gemini is the fake; 3 generations per hour per trainer."""

    def make(**overrides):
        settings = app_settings(
            hub,
            database_url,
            upload_dir,
            gemini_api_key="test-key",
            gemini_base_url=fake_gemini.url,
            gemini_model="gemini-test",
            gemini_timeout_seconds=5,
            quiz_generations_per_hour=3,
            **overrides,
        )
        return TestClient(create_app(settings))

    seeded.restore(database_url)
    return make


def test_a_trainer_generates_a_draft_then_publishes_it(generating, auth, fake_gemini):
    fake_gemini.reply_json(good_questions(4, multiple=1))
    with generating() as api:
        made = api.post(
            f"{V1}/quizzes/generate", json={**ASK, "multiple_count": 1}, headers=auth("trainer")
        )
        assert made.status_code == 201, made.text
        quiz = made.json()
        assert quiz["status"] == "draft" and quiz["generation_type"] == "PROMPT"
        assert quiz["prompt"] == "Joins for beginners" and quiz["model"] == "gemini-test"
        assert quiz["generation"] == {"model": "gemini-test", "calls": 1}
        assert quiz["track"] == "DP" and quiz["created_by"] == "trainer"
        assert [q["type"] for q in quiz["questions"]].count("MULTIPLE") == 1
        sent = good_questions(4, multiple=1)["questions"]
        assert [q["text"] for q in quiz["questions"]] == [q["text"] for q in sent]
        assert made.headers["location"].endswith(f"/quizzes/{quiz['id']}")
        # the request went out with the key and the configured model
        (request,) = fake_gemini.requests
        assert request.headers["x-goog-api-key"] == "test-key"
        assert request.model == "gemini-test"
        # an ordinary draft from here on: edited, then published
        edited = api.patch(
            f"{V1}/quizzes/{quiz['id']}", json={"max_attempts": 2}, headers=auth("trainer")
        )
        assert edited.status_code == 200, edited.text
        published = api.post(f"{V1}/quizzes/{quiz['id']}/publish", headers=auth("trainer"))
        assert published.json()["status"] == "published"


def test_web_search_keeps_its_sources(generating, auth, fake_gemini):
    fake_gemini.reply_grounded(
        good_questions(4),
        sources=[
            ("DuckDB joins", "https://duckdb.org/docs/joins"),
            ("Again", "https://duckdb.org/docs/joins"),
        ],
    )
    with generating() as api:
        made = api.post(
            f"{V1}/quizzes/generate",
            json={**ASK, "generation_type": "WEB_SEARCH"},
            headers=auth("trainer"),
        )
        assert made.status_code == 201, made.text
        assert made.json()["generation_type"] == "WEB_SEARCH"
        assert made.json()["sources"] == [
            {"title": "DuckDB joins", "url": "https://duckdb.org/docs/joins"}
        ]
        assert fake_gemini.requests[0].body["tools"] == [{"googleSearch": {}}]


def test_invalid_output_is_retried_and_never_saved_half(
    generating, auth, fake_gemini, database_url
):
    broken = good_questions(4)
    broken["questions"][0]["options"] = broken["questions"][0]["options"][:1]  # one option
    for _ in range(3):
        fake_gemini.reply_json(broken)
    before = rows(database_url, "SELECT count(*) FROM quizzes WHERE created_by = 'trainer'")[0][0]
    with generating() as api:
        failed = api.post(f"{V1}/quizzes/generate", json=ASK, headers=auth("trainer"))
        assert_error(failed, 502, "upstream_error", "Gemini", "3 tries")
    assert len(fake_gemini.requests) == 3
    assert rows(database_url, "SELECT count(*) FROM quizzes WHERE created_by = 'trainer'") == [
        (before,)
    ]
    assert rows(database_url, "SELECT status, calls, requested_by FROM quiz_generations") == [
        ("failed", 3, "trainer")
    ]


def test_upstream_failure_is_a_502_with_the_reason(generating, auth, fake_gemini):
    fake_gemini.reply_error(403, "API key not valid")
    with generating() as api:
        failed = api.post(f"{V1}/quizzes/generate", json=ASK, headers=auth("trainer"))
        assert_error(failed, 502, "upstream_error", "403", "API key not valid")


def test_without_a_key_it_says_how_to_configure(hub, database_url, upload_dir, seeded, auth):
    seeded.restore(database_url)
    with TestClient(create_app(app_settings(hub, database_url, upload_dir))) as api:
        refused = api.post(f"{V1}/quizzes/generate", json=ASK, headers=auth("trainer"))
        assert_error(refused, 503, "generation_not_configured", "APRANOVA_GEMINI_API_KEY")
        # hand-written quizzes still work
        made = api.post(f"{V1}/quizzes", json={"title": "By hand"}, headers=auth("trainer"))
        assert made.status_code == 201


def test_each_trainer_has_a_rate_limit(generating, auth, fake_gemini, database_url):
    with generating() as api:
        for _ in range(3):
            fake_gemini.reply_json(good_questions(4))
            assert (
                api.post(f"{V1}/quizzes/generate", json=ASK, headers=auth("trainer")).status_code
                == 201
            )
        limited = api.post(f"{V1}/quizzes/generate", json=ASK, headers=auth("trainer"))
        error = assert_error(limited, 429, "rate_limited", "limit is 3")
        assert 0 < int(limited.headers["retry-after"]) <= 3601
        assert error["details"]["limit"] == 3
        assert len(fake_gemini.requests) == 3  # the refused one never reached Gemini
        # another trainer has their own allowance
        fake_gemini.reply_json(good_questions(4))
        assert (
            api.post(f"{V1}/quizzes/generate", json=ASK, headers=auth("coach")).status_code == 201
        )


def test_bad_requests_are_refused_before_gemini(generating, auth, fake_gemini):
    with generating() as api:
        too_many = api.post(
            f"{V1}/quizzes/generate", json={**ASK, "multiple_count": 9}, headers=auth("trainer")
        )
        assert_error(too_many, 422, "invalid_input", "multiple_count")
        unknown = api.post(
            f"{V1}/quizzes/generate", json={**ASK, "track": "XX"}, headers=auth("trainer")
        )
        assert_error(unknown, 422, "invalid_input", "XX")
        student = api.post(f"{V1}/quizzes/generate", json=ASK, headers=auth("ada"))
        assert_error(student, 403, "forbidden")
    assert fake_gemini.requests == []
