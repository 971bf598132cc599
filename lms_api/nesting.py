"""A bound on how deeply a JSON or YAML document nests, checked before it is parsed.

Python's json and PyYAML parse nesting by recursion: 100,000 brackets raise RecursionError
(not ValueError) deep inside the parser. Every document the API parses from a client (a
`.json` or `.ipynb` deliverable, a quiz file) is first held to `MAX_DEPTH` levels, so a depth
bomb is refused as invalid input and the recursion limit is never what decides.
"""

import re
from typing import Any

import yaml

MAX_DEPTH = 64  # arrays/objects (or YAML sequences/mappings) inside one another

_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_BRACKET = re.compile(r"[\[\]{}]")


class TooDeep(ValueError):
    def __init__(self, what: str = "The document") -> None:
        super().__init__(f"{what} nests more than {MAX_DEPTH} levels deep.")


def json_depth(text: str, stop_after: int = MAX_DEPTH) -> int:
    """How deeply arrays and objects nest in `text` (brackets inside strings do not count);
    counting stops past `stop_after`. Linear, no recursion."""
    depth = deepest = 0
    for bracket in _BRACKET.finditer(_JSON_STRING.sub("", text)):
        if bracket.group() in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_after:
                    break
        else:
            depth -= 1
    return deepest


def check_json_depth(text: str, what: str = "The document") -> None:
    """Raise TooDeep (a ValueError) when `text` nests deeper than MAX_DEPTH."""
    if json_depth(text) > MAX_DEPTH:
        raise TooDeep(what)


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing documents deeper than MAX_DEPTH while composing them
    (the composer is where PyYAML recurses)."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise TooDeep()
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def load_yaml(text: str) -> Any:
    """yaml.safe_load with the depth bound (TooDeep is a ValueError)."""
    return yaml.load(text, Loader=_BoundedLoader)  # a SafeLoader: no Python objects
