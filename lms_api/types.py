"""Input types every route shares: strings without control characters, integers their column holds.

PostgreSQL refuses a NUL character in text and an integer past its column's range with a
database error; a client must get a 422 that names the field instead. Every string field and
string parameter uses `Line` / `Text` (or a pattern of its own that refuses control
characters), every integer one of the bounds below; tests/lms_api/test_input_limits.py walks
the OpenAPI document so that a new route cannot forget them.

Only pydantic: the notebook client's distribution (apranova-client) ships this module.
"""

from typing import Annotated

from pydantic import StringConstraints

INT32_MAX = 2_147_483_647  # INTEGER columns: ids, numbers, orders, amounts
INT64_MAX = 9_223_372_036_854_775_807  # BIGINT, and PostgreSQL's OFFSET
MAX_ID = INT32_MAX  # primary keys are 32-bit integers: larger ids are invalid input

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
