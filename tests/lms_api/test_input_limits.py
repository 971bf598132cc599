"""Bad input gets a 422 that names the field, on every route: no control characters in strings,
no integer past its column (issue 18, item 4).

The OpenAPI walk proves every string and integer a client can send carries the constraint, so
a new route cannot forget it; the behaviour tests show PostgreSQL (which refuses NUL in text
and integers past their column with a database error) never sees such input.
"""

import re

import pytest
from fastapi.testclient import TestClient

from lms_api.config import Settings
from lms_api.main import create_app
from lms_api.types import INT32_MAX, INT64_MAX, LINE_PATTERN, TEXT_PATTERN
from tests.lms_api.conftest import assert_error

V1 = "/api/v1"
CONTROLS = [chr(c) for c in range(0x20)] + ["\x7f"]
FREE_TEXT_ALLOWED = {"\t", "\n", "\r"}
# Parameters that may exceed 2^31-1: PostgreSQL's OFFSET is a BIGINT.
BIGINT_PARAMETERS = {"offset"}


def spec() -> dict:
    return create_app(Settings(database_url="sqlite:///:memory:")).openapi()


def _leaves(document: dict, schema: dict, where: str, seen: frozenset = frozenset()):
    """Every string and integer schema reachable from `schema`, with where it sits."""
    components = document["components"]["schemas"]
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        assert name in components, f"{where}: $ref to a missing component {name}"
        if name not in seen:
            yield from _leaves(document, components[name], where, seen | {name})
        return
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            yield from _leaves(document, option, where, seen)
    kind = schema.get("type")
    if kind == "object":
        for name, sub in schema.get("properties", {}).items():
            yield from _leaves(document, sub, f"{where}.{name}", seen)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            yield from _leaves(document, extra, f"{where}.*", seen)
    elif kind == "array":
        yield from _leaves(document, schema.get("items", {}), f"{where}[]", seen)
    elif kind in ("string", "integer"):
        yield where, schema


def inputs(document: dict):
    """(where, parameter name or None, schema) of every string/integer a client sends."""
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            route = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                where = f"{route} {parameter['in']}.{parameter['name']}"
                for leaf, schema in _leaves(document, parameter["schema"], where):
                    yield leaf, parameter["name"], schema
            for media, content in operation.get("requestBody", {}).get("content", {}).items():
                for leaf, schema in _leaves(document, content["schema"], f"{route} {media}"):
                    yield leaf, None, schema


def json_schema_search(pattern: str, text: str) -> bool:
    """A JSON Schema (ECMA-262) pattern search: there `$` ends the text, where Python's `$`
    also matches before a final newline."""
    return re.search(re.sub(r"\$$", r"\\Z", pattern), text) is not None


def refuses_controls(pattern: str, allowed: set[str]) -> bool:
    """The pattern matches no string with a control character (other than `allowed`), wherever
    it sits: alone, first, last, in the middle of letters, digits or an example."""
    for control in CONTROLS:
        if control in allowed:
            continue
        for probe in (control, f"A{control}", f"{control}a", f"ab{control}cd", f"DP{control}"):
            if json_schema_search(pattern, probe):
                return False
    return True


def test_the_shared_patterns_refuse_control_characters():
    assert refuses_controls(LINE_PATTERN, set())
    assert refuses_controls(TEXT_PATTERN, FREE_TEXT_ALLOWED)
    assert json_schema_search(TEXT_PATTERN, "line one\r\n\tline two")
    assert json_schema_search(LINE_PATTERN, "Ada Lovelace")
    assert not json_schema_search(LINE_PATTERN, "Ada\n")


def test_every_string_a_client_sends_refuses_control_characters():
    document = spec()
    missing = []
    checked = 0
    for where, _name, schema in inputs(document):
        if schema["type"] != "string" or "enum" in schema or "const" in schema:
            continue
        if schema.get("format") == "binary" or "contentMediaType" in schema:
            continue  # an uploaded file's bytes; its name is cleaned (test_untrusted_input)
        checked += 1
        pattern = schema.get("pattern")
        if pattern is None or not refuses_controls(pattern, FREE_TEXT_ALLOWED):
            missing.append(f"{where}: {pattern!r}")
    assert checked > 60, checked  # the walk reached the bodies, parameters and nested models
    assert not missing, "strings without a control-character pattern:\n" + "\n".join(missing)


def test_every_integer_a_client_sends_fits_its_column():
    document = spec()
    wrong = []
    checked = 0
    for where, name, schema in inputs(document):
        if schema["type"] != "integer" or "enum" in schema:
            continue
        checked += 1
        ceiling = INT64_MAX if name in BIGINT_PARAMETERS else INT32_MAX
        if "maximum" not in schema or schema["maximum"] > ceiling or "minimum" not in schema:
            wrong.append(f"{where}: {schema.get('minimum')}..{schema.get('maximum')}")
    assert checked > 40, checked
    assert not wrong, f"integers not bounded to their column (max {INT32_MAX}):\n" + "\n".join(
        wrong
    )


def test_a_parameter_declared_without_the_pattern_is_still_refused():
    """The app-wide check covers path and query values a route forgot to constrain."""
    app = create_app(Settings(database_url="sqlite:///:memory:"))

    @app.get(f"{V1}/echo/{{word}}")
    async def echo(word: str, q: str = "") -> dict:
        return {"word": word, "q": q}

    client = TestClient(app)
    assert client.get(f"{V1}/echo/ok?q=fine%09still").status_code == 422  # tab: one line
    assert client.get(f"{V1}/echo/ok?q=fine").json() == {"word": "ok", "q": "fine"}
    assert_error(client.get(f"{V1}/echo/a%00b"), 422, "invalid_input", "control", field="word")
    assert_error(client.get(f"{V1}/echo/ok?q=%1b[31m"), 422, "invalid_input", field="q")


# --- behaviour, on SQLite and PostgreSQL ---------------------------------------------------
@pytest.mark.dialects
def test_nul_in_a_profile_name_is_a_422_naming_it(api, auth):
    response = api.patch(f"{V1}/me", json={"name": "Ada\x00Lovelace"}, headers=auth("ada"))
    assert_error(response, 422, "invalid_input", "control characters", field="name")
    email = api.patch(f"{V1}/me", json={"email": "ada\x00@example.org"}, headers=auth("ada"))
    assert_error(email, 422, "invalid_input", field="email")
    kept = api.patch(f"{V1}/me", json={"name": "Ada L."}, headers=auth("ada"))
    assert kept.status_code == 200 and kept.json()["name"] == "Ada L."


@pytest.mark.dialects
def test_nul_in_a_submission_note_is_a_422_and_nothing_is_stored(api, auth):
    project = api.get(f"{V1}/tracks/DP", headers=auth("ada")).json()["projects"][0]
    detail = api.get(f"{V1}/projects/{project['id']}", headers=auth("ada")).json()
    link = next(d for d in detail["deliverables"] if d["kind"] in ("url", "github_pr"))
    body = {"deliverable_id": link["id"], "url": "https://example.org/x", "note": "see\x00this"}
    response = api.post(f"{V1}/submissions", json=body, headers=auth("ada"))
    assert_error(response, 422, "invalid_input", field="note")
    mine = api.get(f"{V1}/submissions?deliverable_id={link['id']}", headers=auth("ada"))
    assert mine.json()["count"] == 0
    free_text = {**body, "note": "line one\r\nline two\twith a tab"}
    assert api.post(f"{V1}/submissions", json=free_text, headers=auth("ada")).status_code == 201


@pytest.mark.dialects
def test_nul_in_query_and_path_parameters_is_a_422(api, auth):
    listed = api.get(f"{V1}/enrollments?username=ada%00", headers=auth("admin"))
    assert_error(listed, 422, "invalid_input", "control characters", field="username")
    track = api.get(f"{V1}/tracks/DP%00", headers=auth("admin"))
    assert_error(track, 422, "invalid_input", field="code")
    user = api.get(f"{V1}/users/ada%00x", headers=auth("admin"))
    assert_error(user, 422, "invalid_input", field="username")
    filtered = api.get(f"{V1}/submissions?track=DP%00", headers=auth("trainer"))
    assert_error(filtered, 422, "invalid_input", field="track")


@pytest.mark.parametrize(
    "route", ["/tracks", "/enrollments", "/submissions", "/quizzes", "/payments", "/users"]
)
@pytest.mark.dialects
def test_offsets_past_bigint_are_422_and_the_largest_is_an_empty_page(api, auth, route):
    too_far = api.get(f"{V1}{route}?offset={2**63}", headers=auth("admin"))
    assert_error(too_far, 422, "invalid_input", field="offset")
    last = api.get(f"{V1}{route}?offset={2**63 - 1}", headers=auth("admin"))
    assert last.status_code == 200, last.text
    assert last.json()["results"] == []


@pytest.mark.dialects
def test_numbers_and_orders_past_their_integer_column_are_422(api, auth):
    admin = auth("admin")
    made = api.post(
        f"{V1}/tracks/DP/projects", json={"number": 2**31, "title": "Too far"}, headers=admin
    )
    assert_error(made, 422, "invalid_input", field="number")
    project_id = api.get(f"{V1}/tracks/DP", headers=admin).json()["projects"][0]["id"]
    step = api.post(
        f"{V1}/projects/{project_id}/steps", json={"order": 2**31, "title": "x"}, headers=admin
    )
    assert_error(step, 422, "invalid_input", field="order")
    price = api.patch(f"{V1}/tracks/DP", json={"price_cents": 2**31}, headers=admin)
    assert_error(price, 422, "invalid_input", field="price_cents")
    ok = api.post(
        f"{V1}/tracks/DP/projects", json={"number": INT32_MAX, "title": "Last"}, headers=admin
    )
    assert ok.status_code == 201, ok.text
