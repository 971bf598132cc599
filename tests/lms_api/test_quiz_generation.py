"""QuizGenerator through the real google-genai client, against the fake Gemini server."""

import json
import socket
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from lms_api.config import Settings
from lms_api.quizzes.content import GenerateQuizIn, QuestionIn, QuestionType
from lms_api.quizzes.generation import (
    GenerationFailed,
    GenerationNotConfigured,
    QuizGenerator,
)
from tests.fakes.gemini import FakeGemini, candidate_reply, fake_gemini, good_questions

__all__ = ["fake_gemini"]  # the fixture, imported for pytest

MakeGenerator = Callable[..., QuizGenerator]


@pytest.fixture
async def make_generator(fake_gemini: FakeGemini) -> AsyncIterator[MakeGenerator]:
    """QuizGenerators aimed at the fake (no delay between retries), closed after the test."""
    made: list[QuizGenerator] = []

    def make(**overrides: Any) -> QuizGenerator:
        options: dict[str, Any] = {
            "base_url": fake_gemini.url,
            "timeout_seconds": 10.0,
            "max_attempts": 3,
            "retry_delay_seconds": 0.0,
        }
        options.update(overrides)
        api_key = options.pop("api_key", "test-key")
        model = options.pop("model", "gemini-test")
        generator = QuizGenerator(api_key, model, **options)
        made.append(generator)
        return generator

    yield make
    for generator in made:
        await generator.aclose()


def ask(num_questions: int = 3, multiple_count: int = 0, **fields: Any) -> GenerateQuizIn:
    return GenerateQuizIn(
        title=fields.pop("title", "SQL joins"),
        prompt=fields.pop("prompt", "Joins in DuckDB SQL for beginner data analysts"),
        num_questions=num_questions,
        multiple_count=multiple_count,
        **fields,
    )


def expected(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [QuestionIn.model_validate(q).model_dump() for q in payload["questions"]]


# ----- a good answer -------------------------------------------------------------------------


async def test_good_answer_is_kept_exactly_and_the_request_is_a_real_structured_call(
    fake_gemini: FakeGemini, make_generator: MakeGenerator
) -> None:
    payload = good_questions(3)
    fake_gemini.reply_json(payload)

    quiz = await make_generator().generate(ask(3, title="Joins 101", track="DP"))

    assert [q.model_dump() for q in quiz.questions] == expected(payload)
    assert [q.type for q in quiz.questions] == [QuestionType.SINGLE] * 3
    assert [[o.is_correct for o in q.options] for q in quiz.questions] == [[True, False, False]] * 3
    assert (quiz.attempts, quiz.model, quiz.sources) == (1, "gemini-test", [])

    [sent] = fake_gemini.requests
    assert sent.method == "POST"
    assert sent.path.endswith("/models/gemini-test:generateContent")
    assert sent.model == "gemini-test"
    assert sent.headers["x-goog-api-key"] == "test-key"
    config = sent.generation_config
    assert config["responseMimeType"] == "application/json"
    schema = config["responseSchema"]
    assert schema["type"] == "OBJECT" and "questions" in schema["properties"]
    question = schema["properties"]["questions"]["items"]
    assert set(question["required"]) >= {"text", "type", "options", "explanation"}
    assert question["properties"]["type"]["enum"] == ["SINGLE", "MULTIPLE"]
    assert "tools" not in sent.body
    prompt = sent.prompt_text
    assert "Joins 101" in prompt and "Joins in DuckDB SQL" in prompt and "DP track" in prompt
    assert "Exactly 3 questions: 3 SINGLE and 0 MULTIPLE" in prompt
    assert "distractor" in prompt


async def test_mixed_single_and_multiple(
    fake_gemini: FakeGemini, make_generator: MakeGenerator
) -> None:
    payload = good_questions(5, multiple=2)
    fake_gemini.reply_json(payload)

    quiz = await make_generator().generate(ask(5, 2))

    assert [q.type for q in quiz.questions] == ["MULTIPLE"] * 2 + ["SINGLE"] * 3
    assert [[o.is_correct for o in q.options] for q in quiz.questions][:3] == [
        [True, True, False],
        [True, True, False],
        [True, False, False],
    ]
    assert [q.model_dump() for q in quiz.questions] == expected(payload)
    assert "5 questions: 3 SINGLE and 2 MULTIPLE" in fake_gemini.requests[0].prompt_text


async def test_from_settings(fake_gemini: FakeGemini) -> None:
    settings = Settings(
        _env_file=None,
        gemini_api_key="settings-key",
        gemini_model="gemini-from-settings",
        gemini_base_url=fake_gemini.url,
        gemini_timeout_seconds=5,
        gemini_max_attempts=2,
    )
    generator = QuizGenerator.from_settings(settings)
    assert (generator.timeout_seconds, generator.max_attempts) == (5, 2)
    fake_gemini.reply_json(good_questions(1))
    try:
        quiz = await generator.generate(ask(1))
    finally:
        await generator.aclose()
    assert quiz.model == "gemini-from-settings"
    assert fake_gemini.requests[0].model == "gemini-from-settings"
    assert fake_gemini.requests[0].headers["x-goog-api-key"] == "settings-key"


# ----- bad answers are retried ---------------------------------------------------------------


async def test_malformed_json_then_good(
    fake_gemini: FakeGemini, make_generator: MakeGenerator
) -> None:
    fake_gemini.reply_text('{"questions": [{"text": "Which join')
    fake_gemini.reply_json(good_questions(2))

    quiz = await make_generator().generate(ask(2))

    assert quiz.attempts == 2 and len(quiz.questions) == 2
    assert len(fake_gemini.requests) == 2
    assert "not valid JSON" not in fake_gemini.requests[0].prompt_text
    assert "previous answer was refused: it was not valid JSON" in (
        fake_gemini.requests[1].prompt_text
    )


async def test_truncated_then_good(fake_gemini: FakeGemini, make_generator: MakeGenerator) -> None:
    # Even a complete-looking JSON is refused when the model says it hit the token limit.
    fake_gemini.reply_truncated(json.dumps(good_questions(2)))
    fake_gemini.reply_json(good_questions(2))

    quiz = await make_generator().generate(ask(2))

    assert quiz.attempts == 2
    assert "MAX_TOKENS" in fake_gemini.requests[1].prompt_text


def _two_correct_in_single(p: dict) -> None:
    p["questions"][0]["options"][1]["is_correct"] = True


def _seven_options(p: dict) -> None:
    p["questions"][0]["options"] = [
        {"text": f"Option {i}", "is_correct": i == 0, "rationale": ""} for i in range(7)
    ]


def _repeated_option(p: dict) -> None:
    options = p["questions"][0]["options"]
    options[2]["text"] = "  " + options[0]["text"].upper()


def _repeated_question(p: dict) -> None:
    p["questions"][1]["text"] = p["questions"][0]["text"].lower()


def _one_question_missing(p: dict) -> None:
    p["questions"].pop()


def _multiple_without_correct(p: dict) -> None:
    p["questions"][0]["type"] = "MULTIPLE"
    for option in p["questions"][0]["options"]:
        option["is_correct"] = False


def _unknown_type(p: dict) -> None:
    p["questions"][0]["type"] = "TRUE_FALSE"


def _no_options(p: dict) -> None:
    del p["questions"][0]["options"]


@pytest.mark.parametrize(
    ("spoil", "multiple", "told"),
    [
        (_two_correct_in_single, 0, "exactly one correct option, not 2"),
        (_seven_options, 0, "at most 6"),
        (_repeated_option, 0, "options repeat"),
        (_repeated_question, 0, "repeats an earlier question"),
        (_one_question_missing, 0, "had 2 questions (0 MULTIPLE) instead of 3"),
        (lambda p: None, 1, "had 3 questions (0 MULTIPLE) instead of 3 (1 MULTIPLE)"),
        (_multiple_without_correct, 0, "at least one correct option"),
        (_unknown_type, 0, "did not match the schema"),
        (_no_options, 0, "did not match the schema"),
    ],
    ids=[
        "single-two-correct",
        "seven-options",
        "repeated-option",
        "repeated-question",
        "too-few-questions",
        "wrong-multiple-count",
        "multiple-none-correct",
        "unknown-type",
        "no-options",
    ],
)
async def test_invalid_content_is_refused_and_retried_with_the_reason(
    fake_gemini: FakeGemini,
    make_generator: MakeGenerator,
    spoil: Callable[[dict], None],
    multiple: int,
    told: str,
) -> None:
    bad = good_questions(3)
    spoil(bad)
    good = good_questions(3, multiple=multiple, topic="Retry")
    fake_gemini.reply_json(bad)
    fake_gemini.reply_json(good)

    quiz = await make_generator().generate(ask(3, multiple))

    assert quiz.attempts == 2
    assert [q.model_dump() for q in quiz.questions] == expected(good)
    assert told in fake_gemini.requests[1].prompt_text


@pytest.mark.parametrize("finish", ["SAFETY", "RECITATION"])
async def test_a_stopped_answer_is_retried(
    fake_gemini: FakeGemini, make_generator: MakeGenerator, finish: str
) -> None:
    fake_gemini.reply_json(good_questions(1), finish_reason=finish)
    fake_gemini.reply_json(good_questions(1))

    quiz = await make_generator().generate(ask(1))

    assert quiz.attempts == 2
    assert f"stopped early ({finish})" in fake_gemini.requests[1].prompt_text


async def test_blocked_and_empty_answers_are_retried(
    fake_gemini: FakeGemini, make_generator: MakeGenerator
) -> None:
    fake_gemini.reply_blocked("PROHIBITED_CONTENT")
    fake_gemini.reply_text("   ")
    fake_gemini.reply_json(good_questions(1))

    quiz = await make_generator().generate(ask(1))

    assert quiz.attempts == 3
    assert "blocked: PROHIBITED_CONTENT" in fake_gemini.requests[1].prompt_text
    assert "it was empty" in fake_gemini.requests[2].prompt_text


async def test_always_invalid_fails_after_exactly_max_attempts(
    fake_gemini: FakeGemini, make_generator: MakeGenerator
) -> None:
    for _ in range(4):
        fake_gemini.reply_text("Sure! Here is your quiz: questions 1. ...")
    fake_gemini.reply_json(good_questions(2))  # never reached

    with pytest.raises(GenerationFailed) as failed:
        await make_generator(max_attempts=4).generate(ask(2))

    assert failed.value.attempts == 4
    assert len(fake_gemini.requests) == 4 and fake_gemini.pending == 1
    assert failed.value.reason.startswith("Gemini's answer was not valid JSON")
    assert failed.value.reason.endswith("(4 tries)")


# ----- upstream failures ---------------------------------------------------------------------


async def test_slow_answer_times_out(
    fake_gemini: FakeGemini, make_generator: MakeGenerator
) -> None:
    fake_gemini.reply_slow(30, then=good_questions(1))
    fake_gemini.reply_json(good_questions(1))

    started = time.monotonic()
    with pytest.raises(GenerationFailed) as failed:
        await make_generator(timeout_seconds=1).generate(ask(1))

    assert time.monotonic() - started < 15  # far from the 30 s the fake would take
    assert "timed out after 1 s" in failed.value.reason
    # Not retried: the trainer has already waited the whole timeout once.
    assert failed.value.attempts == 1 and len(fake_gemini.requests) == 1


@pytest.mark.parametrize("status", [500, 503, 429])
async def test_server_errors_and_rate_limits_are_retried(
    fake_gemini: FakeGemini, make_generator: MakeGenerator, status: int
) -> None:
    fake_gemini.reply_error(status, "try again later")
    fake_gemini.reply_json(good_questions(2))

    quiz = await make_generator().generate(ask(2))

    assert quiz.attempts == 2 and len(fake_gemini.requests) == 2


async def test_persistent_server_error_fails_with_status_and_message(
    fake_gemini: FakeGemini, make_generator: MakeGenerator
) -> None:
    for _ in range(3):
        fake_gemini.reply_error(500, "An internal error has occurred.")

    with pytest.raises(GenerationFailed) as failed:
        await make_generator().generate(ask(2))

    assert failed.value.reason == "Gemini answered 500: An internal error has occurred. (3 tries)"
    assert failed.value.attempts == 3 and len(fake_gemini.requests) == 3


async def test_the_sdk_does_not_retry_on_its_own(
    fake_gemini: FakeGemini, make_generator: MakeGenerator
) -> None:
    fake_gemini.reply_error(503, "The model is overloaded.")
    fake_gemini.reply_json(good_questions(1))

    with pytest.raises(GenerationFailed) as failed:
        await make_generator(max_attempts=1).generate(ask(1))

    assert failed.value.reason == "Gemini answered 503: The model is overloaded."
    assert len(fake_gemini.requests) == 1 and fake_gemini.pending == 1


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (400, "API key not valid. Please pass a valid API key."),
        (401, "Request had invalid authentication credentials."),
        (403, "Permission denied: Consumer has been suspended."),
    ],
)
async def test_client_errors_are_not_retried(
    fake_gemini: FakeGemini, make_generator: MakeGenerator, status: int, message: str
) -> None:
    fake_gemini.reply_error(status, message)
    fake_gemini.reply_json(good_questions(1))

    with pytest.raises(GenerationFailed) as failed:
        await make_generator().generate(ask(1))

    assert failed.value.attempts == 1 and len(fake_gemini.requests) == 1
    assert failed.value.reason == f"Gemini answered {status}: {message}"


async def test_unreachable_server_is_an_upstream_failure() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    generator = QuizGenerator(
        "test-key",
        "gemini-test",
        base_url=f"http://127.0.0.1:{port}",
        max_attempts=2,
        retry_delay_seconds=0,
    )
    try:
        with pytest.raises(GenerationFailed) as failed:
            await generator.generate(ask(1))
    finally:
        await generator.aclose()
    assert failed.value.reason.startswith("could not reach Gemini")
    assert failed.value.attempts == 2


@pytest.mark.parametrize("api_key", ["", "   "])
async def test_no_api_key_is_not_configured_and_sends_nothing(
    fake_gemini: FakeGemini,
    make_generator: MakeGenerator,
    monkeypatch: pytest.MonkeyPatch,
    api_key: str,
) -> None:
    # The SDK would fall back to these; the app's own setting is the only source.
    monkeypatch.setenv("GOOGLE_API_KEY", "from-the-environment")
    monkeypatch.setenv("GEMINI_API_KEY", "from-the-environment")
    fake_gemini.reply_json(good_questions(1))

    with pytest.raises(GenerationNotConfigured, match="APRANOVA_GEMINI_API_KEY"):
        await make_generator(api_key=api_key).generate(ask(1))

    assert fake_gemini.requests == []


# ----- WEB_SEARCH ----------------------------------------------------------------------------


async def test_web_search_sends_google_search_and_keeps_deduplicated_sources(
    fake_gemini: FakeGemini, make_generator: MakeGenerator
) -> None:
    payload = good_questions(2, multiple=1)
    fake_gemini.reply_grounded(
        payload,
        sources=[
            ("duckdb.org", "https://duckdb.org/docs/sql/query_syntax/from"),
            (
                "postgresql.org",
                "https://www.postgresql.org/docs/current/queries-table-expressions.html",
            ),
            ("duckdb.org (again)", "https://duckdb.org/docs/sql/query_syntax/from"),
        ],
    )

    quiz = await make_generator().generate(ask(2, 1, generation_type="WEB_SEARCH"))

    assert [q.model_dump() for q in quiz.questions] == expected(payload)
    assert [(s.title, s.url) for s in quiz.sources] == [
        ("duckdb.org", "https://duckdb.org/docs/sql/query_syntax/from"),
        (
            "postgresql.org",
            "https://www.postgresql.org/docs/current/queries-table-expressions.html",
        ),
    ]
    [sent] = fake_gemini.requests
    assert sent.body["tools"] == [{"googleSearch": {}}]
    # Gemini 2.x refuses a response schema together with google_search: JSON is asked in text.
    assert "responseSchema" not in sent.generation_config
    assert "responseMimeType" not in sent.generation_config
    assert (
        '"questions": [{"text"' in sent.prompt_text and "only one JSON object" in sent.prompt_text
    )


async def test_web_search_answer_with_prose_around_the_json(
    fake_gemini: FakeGemini, make_generator: MakeGenerator
) -> None:
    payload = good_questions(1)
    fake_gemini.enqueue(
        candidate_reply(f"Here is the quiz you asked for:\n{json.dumps(payload)}\nGood luck!")
    )

    quiz = await make_generator().generate(ask(1, generation_type="WEB_SEARCH"))

    assert [q.model_dump() for q in quiz.questions] == expected(payload)
    assert quiz.sources == []  # the model answered without searching


async def test_prompt_quiz_ignores_grounding_metadata(
    fake_gemini: FakeGemini, make_generator: MakeGenerator
) -> None:
    fake_gemini.reply_grounded(good_questions(1), sources=[("x", "https://x.example")])

    quiz = await make_generator().generate(ask(1))

    assert quiz.sources == [] and quiz.attempts == 1


def test_good_questions_helper_is_valid_for_every_mix() -> None:
    for n in (1, 4, 30):
        for multiple in (0, n // 2, n):
            payload = good_questions(n, multiple)
            questions = [QuestionIn.model_validate(q) for q in payload["questions"]]
            assert sum(q.type == QuestionType.MULTIPLE for q in questions) == multiple
