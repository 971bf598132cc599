"""A student's notebook as a standalone HTML page a trainer may read without risk.

A notebook is the student's own content: its markdown may carry raw HTML and its outputs may
carry HTML or JavaScript. The page served here is safe in depth: rich HTML/JavaScript outputs
are dropped (a note says so), nbconvert sanitizes what is left, nothing is loaded from another
site (no MathJax or require.js from a CDN), and the route serves it with a CSP that forbids
scripts and sandboxes the document, inside an `<iframe sandbox="">` on the review page.
"""

import json
import re
from typing import Any

import bleach

from lms_api.portal.markdown import to_html

HIDDEN_TYPES = frozenset({"text/html", "application/javascript", "text/javascript"})
HIDDEN_NOTE = "[HTML/JavaScript output not shown]"
MAX_TEXT = 20_000  # characters of one output (or cell source) shown
MAX_LINES = 500  # lines of one output shown
MAX_IMAGE = 2_000_000  # characters of one image's base64 data shown
TRUNCATED_NOTE = (
    "\n[{what} truncated: {shown:,} of {total:,} characters shown; download the file for all of it]"
)
IMAGE_NOTE = (
    "[Image not shown: its {size:,} characters of data are over the limit of {limit:,}; "
    "download the file for all of it]"
)
# The page needs no script at all (the template's own load Mermaid from a CDN), nor any
# stylesheet from elsewhere: both are cut out of the template's output.
_SCRIPT_OR_LINK = re.compile(
    r"<script\b[^>]*>.*?</script\s*>|<link\b[^>]*>", re.IGNORECASE | re.DOTALL
)


class NotANotebook(ValueError):
    """The bytes are not a notebook nbformat can read."""


def _hidden(mime: str) -> bool:
    return mime.lower() in HIDDEN_TYPES or "javascript" in mime.lower()


def _short(text: Any, what: str = "Output") -> Any:
    """Text (a string or nbformat's list of lines) cut at MAX_TEXT characters or MAX_LINES
    lines, with a visible note saying how much is shown (a huge output would freeze the page)."""
    whole = "".join(text) if isinstance(text, list) else text
    if not isinstance(whole, str):
        return text
    shown = whole[:MAX_TEXT]
    if shown.count("\n") >= MAX_LINES:
        shown = "".join(shown.splitlines(keepends=True)[:MAX_LINES])
    if len(shown) == len(whole):
        return text
    return shown + TRUNCATED_NOTE.format(what=what, shown=len(shown), total=len(whole))


def _joined(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _clean_output(output: dict[str, Any]) -> dict[str, Any]:
    if output.get("output_type") == "stream":
        output["text"] = _short(output.get("text", ""))
    elif output.get("output_type") == "error":
        output["traceback"] = [_short(line) for line in output.get("traceback", [])][:200]
    data = output.get("data")
    if isinstance(data, dict):
        hidden = [mime for mime in data if _hidden(mime)]
        for mime in hidden:
            del data[mime]
        for mime, value in data.items():
            if mime.startswith("text/") or mime.endswith("json"):
                data[mime] = _short(value if isinstance(value, str | list) else json.dumps(value))
        for mime, value in list(data.items()):
            if mime.startswith("image/") and len(_joined(value)) > MAX_IMAGE:
                del data[mime]
                note = IMAGE_NOTE.format(size=len(_joined(value)), limit=MAX_IMAGE)
                data["text/plain"] = f"{_joined(data.get('text/plain', ''))}\n{note}".strip()
        if hidden and not any(m.startswith(("text/plain", "image/")) for m in data):
            data["text/plain"] = HIDDEN_NOTE
        elif hidden:
            data["text/plain"] = f"{''.join(data.get('text/plain', ''))}\n{HIDDEN_NOTE}"
    return output


def _clean(notebook: Any) -> Any:
    for cell in notebook.cells:
        cell.source = _short(cell.get("source", ""), "Cell")
        cell.pop("attachments", None)  # attachment: URLs would be data loaded by the page
        if cell.cell_type == "code":
            cell.outputs = [_clean_output(o) for o in cell.get("outputs", [])]
    notebook.metadata.pop("widgets", None)
    return notebook


# nbconvert's own sanitizer (bleach's default tags) escapes headings and paragraphs: markdown is
# rendered by the portal's safe Markdown instead (raw HTML shown as text, links checked), and
# what the template cleans keeps the tags of such text and of highlighted code, no more.
_TAGS = frozenset(
    {"a", "abbr", "b", "blockquote", "br", "code", "del", "div", "em", "h1", "h2", "h3", "h4"}
    | {"h5", "h6", "hr", "i", "li", "ol", "p", "pre", "s", "span", "strong", "sub", "sup"}
    | {"table", "tbody", "td", "th", "thead", "tr", "ul"}
)
_ATTRIBUTES = {"*": ["class"], "a": ["href", "title", "rel"], "th": ["align"], "td": ["align"]}


def _clean_html(element: Any) -> str:
    text = element.decode() if isinstance(element, bytes) else str(element)
    return bleach.clean(text, tags=_TAGS, attributes=_ATTRIBUTES, strip=False)


def _markdown(source: str) -> str:
    return str(to_html(source))


def _exporter() -> "HTMLExporter":  # noqa: F821 - imported on the first notebook shown
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="lab", filters={"markdown2html": _markdown, "clean_html": _clean_html}
    )
    exporter.sanitize_html = True
    exporter.mathjax_url = ""
    exporter.require_js_url = ""
    exporter.widget_renderer_url = ""
    exporter.exclude_anchor_links = True
    return exporter


def notebook_page(raw: bytes) -> str:
    """The notebook stored as `raw` as one safe, self-contained HTML document."""
    import nbformat  # here, not at start: it imports jsonschema's format checkers (~1 s)

    try:
        notebook = nbformat.reads(raw.decode("utf-8"), as_version=4)
    except (ValueError, KeyError, AttributeError, TypeError, nbformat.ValidationError) as exc:
        raise NotANotebook(str(exc)) from exc
    body, _ = _exporter().from_notebook_node(_clean(notebook))
    return _SCRIPT_OR_LINK.sub("", body)
