"""The LMS API's routes table, from the app's own OpenAPI document: every route the API
serves, with the first paragraph of its docstring (the OpenAPI summary is only its first
line, which may stop mid-sentence)."""

from docs.md import code, table
from docs.sandbox import throwaway

METHODS = ("get", "post", "put", "patch", "delete")


def openapi() -> dict:
    """The OpenAPI document of an app made with throw-away settings (nothing is served)."""
    from lms_api.config import Settings
    from lms_api.main import create_app

    with throwaway() as folder:
        settings = Settings(state_dir=folder, swagger_ui_dir=folder / "swagger-ui-dist")
        return create_app(settings).openapi()


def what(operation: dict) -> str:
    """The route's first docstring paragraph, else its summary."""
    paragraph = (operation.get("description") or "").strip().split("\n\n")[0]
    return paragraph or operation.get("summary", "")


def render() -> str:
    from lms_api.main import API_PREFIX

    rows = []
    for path, operations in openapi()["paths"].items():
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            area = ", ".join(operation.get("tags", []))
            short = path.removeprefix(API_PREFIX) or "/"
            rows.append((area, short, METHODS.index(method), method.upper(), what(operation)))
    rows.sort()
    return table(
        ("area", "method", "path", "what it does (its docstring)"),
        [(area, method, code(path), text) for area, path, _, method, text in rows],
    )
