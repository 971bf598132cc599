"""HTML fragments the hub puts inside its own pages (the spawn form, refusal messages),
rendered from Jinja templates in hub/templates/ with autoescaping, like the full pages."""

from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("hub", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_fragment(name: str, **values: Any) -> str:
    """`name` (e.g. "fragment-spawn-options.html") rendered with `values`."""
    return _environment().get_template(name).render(**values).strip()
