"""The settings table: every environment variable the hub, lms-api and the pipelines read
through their settings classes, with its default and the field's own description."""

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined, to_jsonable_python

from docs.md import code, table
from docs.sandbox import throwaway

REPO = Path(__file__).resolve().parent.parent
# Names of fields whose value is a credential (as well as SecretStr fields): no default shown.
SECRET = re.compile(r"(secret|token|password|key)$")


def sources() -> list[tuple[str, Callable[[str], str], type]]:
    """(reader, the environment variable of a field's name, settings class) per process."""
    from hub.settings import HubSettings
    from lms_api.config import Settings
    from pipelines.settings import AnalyticsSettings, variable

    def prefixed(prefix: str) -> Callable[[str], str]:
        return lambda name: prefix + name.upper()

    return [
        ("hub", prefixed(HubSettings.model_config["env_prefix"]), HubSettings),
        ("lms-api", prefixed(Settings.model_config["env_prefix"]), Settings),
        ("pipelines", variable, AnalyticsSettings),
    ]


def shown(value: Any, cwd: Path) -> str:
    """A default as an operator would write it: paths relative to the working directory or
    the repository (never this machine's), booleans as in `.env`, collections as JSON."""
    if isinstance(value, Path):
        for base in (cwd, REPO):
            if value.is_relative_to(base):
                return value.relative_to(base).as_posix() or "."
        return value.as_posix()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(to_jsonable_python(value), sort_keys=True)


def is_secret(name: str, field: FieldInfo) -> bool:
    annotation = field.annotation
    return bool(SECRET.search(name)) or SecretStr in (annotation, *get_args(annotation))


def default(name: str, field: FieldInfo, cwd: Path) -> str:
    if is_secret(name, field):
        return "(secret)"
    if field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
    elif field.default is PydanticUndefined:
        return "(required)"
    else:
        value = field.default
    return code(shown(value, cwd))


def meaning(field: FieldInfo) -> str:
    """The description, and the allowed values of a `Literal` field."""
    text = field.description or ""
    if get_origin(field.annotation) is Literal:
        choices = ", ".join(f"`{choice}`" for choice in get_args(field.annotation))
        text = f"{text} One of {choices}.".strip()
    return text


def render() -> str:
    rows = []
    with throwaway() as cwd:
        for reader, variable_of, cls in sources():
            for name, field in cls.model_fields.items():
                variable = variable_of(name)
                rows.append((variable, reader, default(name, field, cwd), meaning(field)))
    rows.sort()
    return table(
        ("variable", "read by", "default", "meaning"),
        [(code(variable), reader, value, text) for variable, reader, value, text in rows],
    )
