"""Markdown table helpers shared by the table generators: one escaping rule for every cell,
so a `|` or a line break in a docstring cannot break a table."""

from collections.abc import Iterable, Sequence


def cell(text: str) -> str:
    """One table cell: whitespace collapsed to single spaces, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def code(text: str) -> str:
    """Inline code, or an empty cell for an empty value."""
    return f"`{text}`" if text else ""


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A pipe table, one row per line, ending with a newline."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"
