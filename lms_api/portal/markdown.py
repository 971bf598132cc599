"""Safe Markdown for curriculum texts (step and deliverable descriptions) on portal pages.

The texts are written by admins through the API, but a page must never run what a text
carries: raw HTML is escaped as text, and a link or image only keeps an http(s), mailto or
relative address (`javascript:`, `data:`, `vbscript:`... stay plain text). Headings are moved
down two levels so that a `# Title` in a text never competes with the page's own h1.
"""

import re
from urllib.parse import unquote

from markdown_it import MarkdownIt
from markupsafe import Markup

_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):", re.IGNORECASE)
_SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
_INVISIBLE = re.compile(r"[\x00-\x20\x7f]+")
HEADING_SHIFT = 2


def _safe_link(url: str) -> bool:
    """Only http(s), mailto and scheme-less (relative) addresses. Checked as written and
    percent-decoded, without the control characters and spaces browsers skip in a scheme
    (`java\\tscript:`), so that no spelling of `javascript:` gets through."""
    for candidate in (url, unquote(url)):
        match = _SCHEME.match(_INVISIBLE.sub("", candidate))
        if match is not None and match.group(1).lower() not in _SAFE_SCHEMES:
            return False
    return True


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.validateLink = _safe_link  # type: ignore[method-assign]

    def shift_heading(renderer, tokens, idx, options, env):
        token = tokens[idx]
        level = min(int(token.tag[1]) + HEADING_SHIFT, 6)
        token.tag = f"h{level}"
        return renderer.renderToken(tokens, idx, options, env)

    def link_open(renderer, tokens, idx, options, env):
        tokens[idx].attrSet("rel", "noopener noreferrer nofollow")
        return renderer.renderToken(tokens, idx, options, env)

    md.add_render_rule("heading_open", shift_heading)
    md.add_render_rule("heading_close", shift_heading)
    md.add_render_rule("link_open", link_open)
    return md


_MD = _parser()


def to_html(text: str | None) -> Markup:
    """`text` (CommonMark, with tables) as HTML that is safe to put in a page as is."""
    return Markup(_MD.render(text or ""))
