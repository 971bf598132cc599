"""The curriculum editor's forms and words: what the admin typed, checked with the API's own
schemas, and what a delete will do (or why the API refused it).

Each form keeps the typed text (to show it again), turns it into the body of the matching API
route (`TrackCreate`, `ProjectUpdate`, ...) and, when pydantic refuses it, puts the problem in
words next to the field it concerns. No rule is repeated here: the bounds and patterns are
the schemas', read from the error pydantic reports.
"""

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from lms_api.curriculum.enums import DeliverableKind, ProjectType, WorkspaceKind
from lms_api.curriculum.models import Deliverable, Project, ProjectStep, Track
from lms_api.portal.workspaces import KIND_NAMES
from lms_api.types import LINE_PATTERN, TEXT_PATTERN

M = TypeVar("M", bound=BaseModel)
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
AMOUNT = re.compile(r"^-?\d{1,12}(\.\d{1,12})?$")

# API field name -> form field name, where they differ
FORM_FIELD = {"price_cents": "price"}
PATTERN_WORDS = {
    LINE_PATTERN: "Remove the control characters (such as NUL or a line break).",
    TEXT_PATTERN: "Remove the control characters (such as NUL); tabs and line breaks are fine.",
    r"^[A-Z][A-Z0-9_-]*$": "Use capital letters, digits, - and _, starting with a letter "
    "(such as DP).",
    r"^[a-z]{3}$": "Use the three-letter currency code, such as eur.",
}


def shown(text: str) -> str:
    """Typed text to show again in a field: control characters as U+FFFD, not raw bytes."""
    return CONTROL.sub("\ufffd", text)


def _words(problem: dict[str, Any]) -> str:
    """One pydantic error as a sentence an admin can act on."""
    kind, ctx = problem["type"], problem.get("ctx") or {}
    name = str(problem["loc"][0]) if problem["loc"] else ""
    if kind == "missing" or (kind == "string_too_short" and ctx.get("min_length") == 1):
        return "Fill this in."
    if kind == "string_too_long":
        return f"This is too long: at most {ctx['max_length']:,} characters."
    if kind == "string_pattern_mismatch":
        return PATTERN_WORDS.get(ctx.get("pattern"), "Remove the characters that are not allowed.")
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "Write a whole number, such as 3."
    if name == "price_cents" and kind in ("greater_than_equal", "less_than_equal"):
        bound = Decimal(ctx.get("ge", ctx.get("le", 0))) / 100
        return f"The price must be {'at least' if 'ge' in ctx else 'at most'} {bound:,.2f}."
    if kind == "greater_than_equal":
        return f"Use a number of at least {ctx['ge']:,}."
    if kind == "less_than_equal":
        return f"Use a number of at most {ctx['le']:,}."
    if kind in ("enum", "literal_error"):
        return "Choose one of the listed options."
    if kind == "too_short" and name == "workspace_kinds":
        return "Choose at least one workspace."
    if kind == "too_long":
        return f"Too many: at most {ctx.get('max_length')}."
    if kind == "value_error":
        return str(ctx.get("error") or problem["msg"])
    return str(problem["msg"])


def field_errors(error: ValidationError) -> dict[str, str]:
    """The schema's refusals by form field; the first problem of each field."""
    errors: dict[str, str] = {}
    for problem in error.errors():
        name = str(problem["loc"][0]) if problem["loc"] else "form"
        words = _words(problem)
        if name == "tech_stack" and len(problem["loc"]) > 1:
            words = f"Technology {int(problem['loc'][1]) + 1}: {words}"
        errors.setdefault(FORM_FIELD.get(name, name), words)
    return errors


def _text(data: FormData, name: str) -> str:
    value = data.get(name)
    return value if isinstance(value, str) else ""


def _whole(text: str) -> str | int:
    """A typed number as pydantic should see it: digits as int, anything else as typed."""
    text = text.strip()
    return int(text) if re.fullmatch(r"-?\d{1,30}", text) else text


@dataclass
class Form:
    """Typed values by field name, and a problem in words per field."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    problem: str = ""

    def value(self, name: str) -> Any:
        value = self.values.get(name, "")
        return shown(value) if isinstance(value, str) else value

    def validated(self, schema: type[M], body: dict[str, Any]) -> M | None:
        """`schema(**body)`, or None with the errors set (and nothing saved)."""
        try:
            return schema.model_validate(body)
        except ValidationError as exc:
            for name, words in field_errors(exc).items():
                self.errors.setdefault(name, words)
            return None


# --- tracks --------------------------------------------------------------------------------
def track_form(track: Track | None = None) -> Form:
    if track is None:
        return Form(
            {
                "code": "",
                "name": "",
                "description": "",
                "duration_weeks": "12",
                "price": "0.00",
                "currency": "eur",
                "workspace_kinds": [WorkspaceKind.JUPYTERLAB.value],
                "is_active": True,
            }
        )
    return Form(
        {
            "code": track.code,
            "name": track.name,
            "description": track.description,
            "duration_weeks": str(track.duration_weeks),
            "price": f"{Decimal(track.price_cents) / 100:.2f}",
            "currency": track.currency,
            "workspace_kinds": list(track.workspace_kinds),
            "is_active": track.is_active,
        }
    )


def _cents(form: Form, text: str) -> int | None:
    """A typed price ("1500", "1500.50") in cents; None with an error when it is not one."""
    text = text.strip().replace(",", "")
    if not AMOUNT.fullmatch(text):
        form.errors["price"] = "Write the price as an amount, such as 1500 or 1500.00."
        return None
    try:
        amount = Decimal(text) * 100
    except InvalidOperation:  # pragma: no cover - AMOUNT admits only decimals
        form.errors["price"] = "Write the price as an amount, such as 1500 or 1500.00."
        return None
    if amount != amount.to_integral_value():
        form.errors["price"] = "Use at most two decimals (cents)."
        return None
    return int(amount)


def read_track(data: FormData, track: Track | None = None) -> tuple[Form, dict[str, Any]]:
    """The typed track form, and the body of `TrackCreate` (a new track) or `TrackUpdate`
    (`track`'s, whose code cannot change) it makes."""
    with_code = track is None
    kinds = [k for k in data.getlist("workspace_kinds") if isinstance(k, str)]
    form = Form(
        {
            "code": _text(data, "code").strip() if track is None else track.code,
            "name": _text(data, "name").strip(),
            "description": _text(data, "description"),
            "duration_weeks": _text(data, "duration_weeks"),
            "price": _text(data, "price"),
            "currency": _text(data, "currency").strip(),
            "workspace_kinds": kinds,
            "is_active": bool(_text(data, "is_active")),
        }
    )
    v = form.values
    body: dict[str, Any] = {
        "name": v["name"],
        "description": v["description"],
        "duration_weeks": _whole(v["duration_weeks"]),
        "currency": v["currency"].lower(),
        "workspace_kinds": kinds,
        "is_active": v["is_active"],
    }
    if with_code:
        body["code"] = v["code"]
    cents = _cents(form, v["price"])
    if cents is not None:
        body["price_cents"] = cents
    return form, body


def changed(current: Any, body: dict[str, Any]) -> dict[str, Any]:
    """Only the fields whose value differs: an unchanged form records no change."""
    return {name: value for name, value in body.items() if getattr(current, name) != value}


# --- projects, steps, deliverables ---------------------------------------------------------
def project_form(project: Project | None = None, number: int = 1) -> Form:
    if project is None:
        return Form(
            {
                "number": str(number),
                "title": "",
                "description": "",
                "type": ProjectType.INTERNAL.value,
                "tech_stack": "",
                "estimated_hours": "0",
            }
        )
    return Form(
        {
            "number": str(project.number),
            "title": project.title,
            "description": project.description,
            "type": project.type,
            "tech_stack": ", ".join(project.tech_stack),
            "estimated_hours": str(project.estimated_hours),
        }
    )


def read_project(data: FormData) -> tuple[Form, dict[str, Any]]:
    form = Form(
        {
            "number": _text(data, "number"),
            "title": _text(data, "title").strip(),
            "description": _text(data, "description"),
            "type": _text(data, "type"),
            "tech_stack": _text(data, "tech_stack"),
            "estimated_hours": _text(data, "estimated_hours"),
        }
    )
    v = form.values
    stack = [item.strip() for item in v["tech_stack"].split(",") if item.strip()]
    body = {
        "number": _whole(v["number"]),
        "title": v["title"],
        "description": v["description"],
        "type": v["type"],
        "tech_stack": stack,
        "estimated_hours": _whole(v["estimated_hours"]),
    }
    return form, body


def step_form(step: ProjectStep | None = None, order: int = 1) -> Form:
    if step is None:
        return Form({"order": str(order), "title": "", "description": ""})
    return Form({"order": str(step.order), "title": step.title, "description": step.description})


def read_step(data: FormData) -> tuple[Form, dict[str, Any]]:
    form = Form(
        {
            "order": _text(data, "order"),
            "title": _text(data, "title").strip(),
            "description": _text(data, "description"),
        }
    )
    v = form.values
    return form, {"order": _whole(v["order"]), "title": v["title"], "description": v["description"]}


def deliverable_form(deliverable: Deliverable | None = None) -> Form:
    if deliverable is None:
        return Form({"title": "", "kind": DeliverableKind.NOTEBOOK.value, "required": True})
    return Form(
        {"title": deliverable.title, "kind": deliverable.kind, "required": deliverable.required}
    )


def read_deliverable(data: FormData) -> tuple[Form, dict[str, Any]]:
    form = Form(
        {
            "title": _text(data, "title").strip(),
            "kind": _text(data, "kind"),
            "required": bool(_text(data, "required")),
        }
    )
    return form, dict(form.values)


# --- the editor's words --------------------------------------------------------------------
DONE_WORDS = {
    "saved": "Saved.",
    "deleted": "Deleted.",
    "gone": "Nothing to delete: it was deleted already.",
}
KIND_WORDS = {
    DeliverableKind.NOTEBOOK: "A Jupyter notebook (.ipynb)",
    DeliverableKind.FILE: "A file",
    DeliverableKind.URL: "A link (http or https)",
    DeliverableKind.GITHUB_PR: "A GitHub pull request",
}
CHOICES = {
    "workspace_kinds": [(k.value, KIND_NAMES[k.value][0]) for k in WorkspaceKind],
    "project_types": [(t.value, t.value.capitalize()) for t in ProjectType],
    "deliverable_kinds": [(k.value, KIND_WORDS[k]) for k in DeliverableKind],
    "kind_words": KIND_WORDS,
}


def _deletion(what: str, effects: list[str], page: str, **hidden: str) -> dict[str, Any]:
    """The confirmation page's values: what goes, what else goes with it, where `page` is the
    record's own page (and its delete the POST below it); `hidden` tells a second click where
    to go back to once the record is gone."""
    return {
        "what": what,
        "effects": effects,
        "action": f"{page}/delete",
        "back": page,
        "hidden": hidden,
    }


def track_deletion(track: Track) -> dict[str, Any]:
    """The confirmation page of deleting a track (`delete_track`'s cascade and refusals)."""
    effects = [
        f"Its {len(track.projects)} project(s), their steps and deliverables, and students' "
        "progress on them are deleted too.",
        "A track with enrollments or payments cannot be deleted; deactivate it instead "
        "(untick “Open for enrollment” in its settings).",
    ]
    return _deletion(f"track {track.code} ({track.name})", effects, f"tracks/{track.code}")


def track_in_use(code: str, details: dict[str, Any]) -> str:
    """`delete_track`'s refusal (its details), in the page's words rather than the API's."""
    held = (
        f"{details['enrollments']} enrollment(s)"
        if "enrollments" in details
        else f"{details.get('payments', 'some')} payment(s), pending ones included"
    )
    return (
        f"Track {code} has {held}, so it cannot be deleted. To close it, untick “Open for "
        "enrollment” in its settings instead."
    )


def project_deletion(project: Project) -> dict[str, Any]:
    effects = [
        f"Its {len(project.steps)} step(s), {len(project.deliverables)} deliverable(s) and "
        "students' progress on its steps are deleted too.",
        "A project with work students handed in cannot be deleted; edit it instead.",
    ]
    what = f"project {project.number} of {project.track.code}: {project.title}"
    return _deletion(what, effects, f"projects/{project.id}", track=project.track.code)


def item_deletion(noun: str, item: ProjectStep | Deliverable, project: Project) -> dict[str, Any]:
    path = "steps" if noun == "step" else "deliverables"
    effects = (
        ["Students' completion of this step is deleted too."]
        if noun == "step"
        else ["A deliverable students handed work in for cannot be deleted; edit it instead."]
    )
    what = f"{noun} “{item.title}” of project {project.number}: {project.title}"
    return _deletion(what, effects, f"{path}/{item.id}", project=str(project.id))


def work_kept(details: dict[str, Any]) -> str:
    """`HasSubmissions`' refusal, in words."""
    count = details.get("submissions", "some")
    return (
        f"Students handed in {count} submission(s) for it, so it cannot be deleted: their work "
        "is kept. Edit it instead, or deactivate the track."
    )
