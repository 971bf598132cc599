"""One way to fail (issue 21): services raise domain errors carrying their status and code, one
handler renders them, routers do not translate them, and the codes are an enum in OpenAPI."""

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

import lms_api
from lms_api.config import Settings
from lms_api.database import SessionDep
from lms_api.enrollments.service import EnrollmentNotFound, UnknownTrack
from lms_api.errors import DomainError, ErrorCode, NotAuthenticated
from lms_api.main import create_app
from lms_api.quizzes.generation_runs import GenerationQuotaExceeded

V1 = "/api/v1"
PACKAGE = Path(lms_api.__file__).parent
SKIPPED = ("lms_api.migrations",)  # alembic's env.py runs migrations when imported


def all_domain_errors() -> list[type[DomainError]]:
    for module in pkgutil.walk_packages([str(PACKAGE)], "lms_api."):
        if not module.name.startswith(SKIPPED) and module.name != "lms_api.__main__":
            importlib.import_module(module.name)
    found, todo = [], [DomainError]
    while todo:
        for subclass in todo.pop().__subclasses__():
            found.append(subclass)
            todo.append(subclass)
    return found


def test_every_domain_error_has_an_error_status_and_a_published_code():
    errors = all_domain_errors()
    assert len(errors) > 30, errors  # the import above found the domains' errors
    for error in errors:
        assert 400 <= error.status <= 599, error
        assert isinstance(error.code, ErrorCode), error


@pytest.fixture
def client(tmp_path):
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'lms.db'}"))

    @app.get(f"{V1}/raise/{{which}}")
    async def raising(which: str) -> dict:
        raise {
            "enrollment": EnrollmentNotFound(7),
            "track": UnknownTrack("XX"),
            "quota": GenerationQuotaExceeded(3, 3, 120),
            "token": NotAuthenticated("No token."),
        }[which]

    @app.post(f"{V1}/rows")
    async def make_table(session: SessionDep) -> dict:
        await session.execute(text("CREATE TABLE IF NOT EXISTS convention_rows (n INTEGER)"))
        return {}

    @app.post(f"{V1}/rows/{{n}}")
    async def add_then_fail(session: SessionDep, n: int, commit: bool) -> dict:
        await session.execute(text("INSERT INTO convention_rows VALUES (:n)"), {"n": n})
        if commit:
            await session.commit()
        raise EnrollmentNotFound(n)

    @app.get(f"{V1}/rows")
    async def rows(session: SessionDep) -> list[int]:
        return list(await session.scalars(text("SELECT n FROM convention_rows ORDER BY n")))

    with TestClient(app) as client:
        yield client


def test_the_one_handler_renders_a_domain_error_as_the_error_body(client):
    response = client.get(f"{V1}/raise/enrollment")
    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "No enrollment 7.", "details": None}
    }
    response = client.get(f"{V1}/raise/track")
    assert response.status_code == 404
    assert response.json()["error"]["details"] == {"field": "track", "value": "XX"}
    response = client.get(f"{V1}/raise/quota")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert response.headers["Retry-After"] == "120"
    response = client.get(f"{V1}/raise/token")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_route_that_commits_before_raising_keeps_what_it_committed(client):
    assert client.post(f"{V1}/rows").status_code == 200
    assert client.post(f"{V1}/rows/1", params={"commit": True}).status_code == 404
    assert client.post(f"{V1}/rows/2", params={"commit": False}).status_code == 404
    assert client.get(f"{V1}/rows").json() == [1]


def test_the_codes_are_an_enum_in_the_openapi_document():
    document = create_app(Settings(database_url="sqlite:///:memory:")).openapi()
    schemas = document["components"]["schemas"]
    assert schemas["ErrorDetail"]["properties"]["code"]["$ref"] == "#/components/schemas/ErrorCode"
    assert set(schemas["ErrorCode"]["enum"]) == {code.value for code in ErrorCode}


# --- routers do not translate errors ---------------------------------------------------------
def _raised_name(node: ast.Raise) -> str | None:
    exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
    if isinstance(exc, ast.Attribute):
        return exc.attr
    return exc.id if isinstance(exc, ast.Name) else None


def _names(node: ast.expr | None) -> list[str]:
    parts = node.elts if isinstance(node, ast.Tuple) else [node] if node else []
    return [p.attr if isinstance(p, ast.Attribute) else getattr(p, "id", "") for p in parts]


def translations(source: str, error_names: set[str]) -> list[str]:
    """`except X: raise SomeDomainError(...)` and domain errors caught and not re-raised."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ExceptHandler):
            continue
        raises = [n for n in ast.walk(node) if isinstance(n, ast.Raise)]
        for raised in raises:
            if raised.exc is not None and _raised_name(raised) in error_names:
                found.append(f"line {raised.lineno}: except ...: raise {_raised_name(raised)}")
        caught = set(_names(node.type)) & error_names
        if caught and not any(r.exc is None for r in raises):
            found.append(f"line {node.lineno}: catches {sorted(caught)} and does not re-raise")
    return found


def test_routers_do_not_translate_errors_nor_build_error_bodies():
    error_names = {error.__name__ for error in all_domain_errors()} | {"ApiError", "DomainError"}
    routers = sorted(PACKAGE.glob("*/router.py"))
    assert len(routers) >= 8
    problems = {}
    for router in routers:
        source = router.read_text()
        found = translations(source, error_names)
        if "error_body" in source:
            found.append("builds an error body by hand (raise a domain error instead)")
        if found:
            problems[str(router.relative_to(PACKAGE))] = found
    assert not problems, problems


def test_the_static_check_finds_a_translation():
    names = {"NotFound", "QuizNotFound"}
    translating = "try:\n    f()\nexcept QuizNotFound as exc:\n    raise NotFound('x') from exc\n"
    swallowing = "try:\n    f()\nexcept service.QuizNotFound:\n    return None\n"
    re_raising = "try:\n    f()\nexcept QuizNotFound:\n    commit()\n    raise\n"
    assert translations(translating, names)
    assert translations(swallowing, names) == [
        "line 3: catches ['QuizNotFound'] and does not re-raise"
    ]
    assert translations(re_raising, names) == []
