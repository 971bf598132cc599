"""Schema-driven fuzzing (schemathesis) of every operation in the OpenAPI document, as a student
and as an admin: no input may get a 5xx (issue 18).

Schemathesis's own engine runs its phases over the ASGI app: the documented examples, the
coverage phase (each constraint's boundaries and just past them: lengths, minimum/maximum,
patterns, missing and wrong-typed values) and random valid and invalid inputs. Bounded for
CI: a few examples per operation, deterministic (the same inputs every run, so a failure is
reproducible), about half a minute per caller on two cores, on PostgreSQL when it is
configured (it refuses what SQLite lets through) and on SQLite otherwise (its time is in
bench/README.md's suite timings, not asserted here: a slow hour must not turn it red).
`POST /quizzes/generate` is fuzzed too, against a fake Gemini that answers any prompt with
a valid quiz of the counts it asks for (the real google-genai client in between), so
whatever the inputs, lms-api's own handling is what is tested: a refused input is a 4xx, a
generation a 201.
"""

import json
import os
import re

import pytest
import schemathesis
from fastapi.testclient import TestClient
from schemathesis.engine import events, from_schema

from lms_api.main import create_app
from tests.fakes.gemini import (
    FakeGemini,
    RecordedRequest,
    Reply,
    candidate_reply,
    good_questions,
)
from tests.fakes.stripe import fake_stripe
from tests.lms_api.conftest import app_settings, stripe_settings

pytestmark = pytest.mark.slow

__all__ = ["fake_stripe"]  # the fixture, imported for pytest

MAX_EXAMPLES = 3  # per operation, in each random phase
COUNTS = re.compile(r"Exactly (\d+) questions: (\d+) SINGLE and (\d+) MULTIPLE")


def quiz_of_the_asked_counts(request: RecordedRequest) -> Reply:
    """A valid quiz of the counts the prompt asks for, whatever else it says."""
    found = COUNTS.search(request.prompt_text)
    total, multiple = (int(found[1]), int(found[3])) if found else (1, 0)
    return candidate_reply(json.dumps(good_questions(total, multiple)))


@pytest.fixture
def answering_gemini():
    fake = FakeGemini(answer=quiz_of_the_asked_counts).start()
    yield fake
    fake.stop()


@pytest.fixture
def fuzzed_app(hub, database_url, upload_dir, seeded, fake_stripe, answering_gemini):
    """The API with payments on (the fake Stripe) and a token cache that outlasts the run."""
    if database_url.startswith("sqlite") and os.environ.get("APRANOVA_TEST_POSTGRES_URL"):
        pytest.skip("fuzzed on PostgreSQL, the stricter backend (NUL, integer ranges)")
    seeded.restore(database_url)
    settings = app_settings(
        hub,
        database_url,
        upload_dir,
        auth_cache_seconds=300,
        gemini_api_key="fuzz-key",
        gemini_base_url=answering_gemini.url,
        quiz_generations_per_hour=1000,
        **stripe_settings(fake_stripe),
    )
    app = create_app(settings)
    with TestClient(app):  # runs the lifespan (closes clients and the pool at the end)
        yield app


def fuzz(app, headers: dict[str, str]) -> tuple[int, list[str], list[str]]:
    """Run schemathesis over the app: (requests sent, server errors, engine errors)."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    schema.config.update(headers=headers)
    schema.config.checks.update(included_check_names=["not_a_server_error"])
    schema.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=True)
    sent, server_errors, engine_errors = 0, [], []
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            sent += len(event.recorder.cases)
            for checks in event.recorder.checks.values():
                for check in checks:
                    if check.status.name == "FAILURE" and check.failure_info is not None:
                        sample = check.failure_info.code_sample.replace(
                            headers["Authorization"], ""
                        )
                        server_errors.append(f"{event.recorder.label}: {sample[:400]}")
        elif isinstance(event, events.NonFatalError | events.FatalError):
            engine_errors.append(str(getattr(event, "info", event))[:400])
    return sent, server_errors, engine_errors


@pytest.mark.parametrize("caller", ["ada", "admin"])
def test_no_input_gets_a_server_error(fuzzed_app, auth, caller):
    sent, server_errors, engine_errors = fuzz(fuzzed_app, auth(caller))
    assert not server_errors, f"{len(server_errors)} server errors:\n" + "\n".join(
        server_errors[:20]
    )
    assert not engine_errors, "\n".join(engine_errors[:10])
    assert sent > 500, f"only {sent} requests were generated"
