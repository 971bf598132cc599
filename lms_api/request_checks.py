"""The app-wide check of path and query values: FastAPI's side of `types.LINE_PATTERN`.

Apart from `types` so that module stays importable without FastAPI (the notebook client).
"""

from fastapi import Request
from fastapi.exceptions import RequestValidationError

from lms_api.types import LINE_PATTERN, PATTERN_MESSAGES, has_control_characters


async def refuse_control_characters(request: Request) -> None:
    """Every route's path and query values (and query names) as `Line`: an app dependency,
    so a parameter a route declares without the pattern is refused all the same."""
    errors = []
    places = (("path", request.path_params.items()), ("query", request.query_params.multi_items()))
    for where, items in places:
        for name, value in items:
            if has_control_characters(name) or has_control_characters(str(value)):
                errors.append(
                    {
                        "type": "string_pattern_mismatch",
                        "loc": (where, name.encode("unicode_escape").decode()),
                        "msg": PATTERN_MESSAGES[LINE_PATTERN],
                        "ctx": {"pattern": LINE_PATTERN},
                    }
                )
    if errors:
        raise RequestValidationError(errors)
