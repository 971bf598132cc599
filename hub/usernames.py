"""The one username rule of the platform: what a new account may be called.

A name is NFKC-normalized and lowercased first (so a full-width or styled letter becomes the
plain one), then must be 1..64 of `a-z 0-9 . _ - @`, starting with a letter or a digit.
That keeps out homoglyphs (a Cyrillic a, U+0430, is not the Latin one), HTML and anything
a path, a container name or a URL would treat specially; `@` and `.` are there for logins
that use e-mail addresses.
"""

import re
import unicodedata

USERNAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")
USERNAME_RULE = (
    "1 to 64 characters: lowercase letters a-z, digits, '.', '_', '-' and '@', "
    "starting with a letter or a digit"
)


def normalize_username(name: str) -> str:
    """NFKC, then lowercase, then trimmed: the form every check and lookup uses."""
    return unicodedata.normalize("NFKC", name).lower().strip()


def username_problem(name: str) -> str | None:
    """What is wrong with a (normalized) username, in words; None when it is allowed."""
    if USERNAME_PATTERN.fullmatch(name):
        return None
    return f"{name!r} is not a valid username: use {USERNAME_RULE}."


def is_valid_username(name: str) -> bool:
    return username_problem(name) is None
