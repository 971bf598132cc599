"""The OpenAPI document is complete enough for API clients to rely on."""

from lms_api.config import Settings
from lms_api.main import create_app

PUBLIC = {("get", "/api/v1/health"), ("get", "/api/v1/catalog")}


def operations():
    spec = create_app(Settings(database_url="sqlite:///:memory:")).openapi()
    for path, ops in spec["paths"].items():
        for method, operation in ops.items():
            yield method, path, operation


def test_every_route_has_a_written_summary():
    for method, path, operation in operations():
        summary = operation.get("summary", "")
        generated = operation["operationId"].split("_api_v1")[0].replace("_", " ").title()
        assert summary and summary != generated, f"{method.upper()} {path}: add a docstring"


def test_every_route_but_the_public_ones_documents_its_errors():
    for method, path, operation in operations():
        codes = {c for c in operation["responses"] if c.startswith("4")}
        if (method, path) in PUBLIC:
            continue
        assert codes - {"422"}, f"{method.upper()} {path} documents no 401/403/404/409 errors"
