"""Input types every route shares: strings without control characters, integers their column holds.

PostgreSQL refuses a NUL character in text and an integer past its column's range with a
database error; a client must get a 422 that names the field instead. Every string field and
string parameter uses `Line` / `Text` (or a pattern of its own that refuses control
characters), every integer one of the bounds below; tests/lms_api/test_input_limits.py walks
the OpenAPI document so that a new route cannot forget them.
"""

from typing import Annotated

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import StringConstraints

INT32_MAX = 2_147_483_647  # INTEGER columns: ids, numbers, orders, amounts
INT64_MAX = 9_223_372_036_854_775_807  # BIGINT, and PostgreSQL's OFFSET

# One line (names, codes, usernames, URLs, every path and query parameter): no C0 control
# character (U+0000-U+001F) and no DEL.
LINE_PATTERN = r"^[^\x00-\x1f\x7f]*$"
# Free text (descriptions, notes, feedback, question text): tab, newline and carriage
# return are allowed, every other C0 control character and DEL are not.
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"

# The message a client reads when a string breaks one of the patterns above.
PATTERN_MESSAGES = {
    LINE_PATTERN: "must not contain control characters (U+0000 to U+001F, U+007F)",
    TEXT_PATTERN: "must not contain control characters other than tab and newline "
    "(U+0000 to U+001F, U+007F)",
}

Line = Annotated[str, StringConstraints(pattern=LINE_PATTERN)]
Text = Annotated[str, StringConstraints(pattern=TEXT_PATTERN)]


def has_control_characters(value: str) -> bool:
    """True when `value` breaks `LINE_PATTERN` (the check of every path and query value)."""
    return any(ord(c) < 0x20 or ord(c) == 0x7F for c in value)


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
