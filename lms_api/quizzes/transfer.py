"""Quizzes as files: export to JSON or YAML, import from either, so a school without a Gemini
key (or moving between installations) still has full quizzes."""

import json
from typing import Any

import yaml
from pydantic import ValidationError

from lms_api.errors import InvalidInput, TooLarge
from lms_api.nesting import check_json_depth, load_yaml
from lms_api.quizzes.models import Quiz
from lms_api.quizzes.schemas import QuizDocument
from lms_api.quizzes.service import SETTING_FIELDS

MEDIA_TYPES = {"json": "application/json", "yaml": "application/yaml"}
MAX_DOCUMENT_BYTES = 2 * 1024 * 1024


def to_document(quiz: Quiz) -> QuizDocument:
    return QuizDocument(
        title=quiz.title,
        track=quiz.track.code if quiz.track else None,
        project_id=quiz.project_id,
        **{name: getattr(quiz, name) for name in SETTING_FIELDS},
        questions=[
            {
                "text": q.text,
                "type": q.type,
                "points": q.points,
                "explanation": q.explanation,
                "tags": q.tags,
                "learning_objective": q.learning_objective,
                "options": [
                    {"text": o.text, "is_correct": o.is_correct, "rationale": o.rationale}
                    for o in q.options
                ],
            }
            for q in quiz.questions
        ],
    )


def render(document: QuizDocument, fmt: str) -> str:
    data = document.model_dump(mode="json")
    if fmt == "yaml":
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def parse(raw: bytes, content_type: str) -> QuizDocument:
    """A document from a request body; JSON unless the content type says YAML. Any problem
    is a 422 that says where."""
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise TooLarge(f"A quiz file may be {MAX_DOCUMENT_BYTES} bytes at most.")
    is_yaml = "yaml" in content_type.lower()
    try:
        text = raw.decode("utf-8")
        if not is_yaml:
            check_json_depth(text)
        data: Any = load_yaml(text) if is_yaml else json.loads(text)
    except (UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
        what = "YAML" if is_yaml else "JSON"
        raise InvalidInput(
            f"The body is not valid {what}: {str(exc).splitlines()[0][:200]}",
            details=[{"field": "body", "message": f"not valid {what}"}],
        ) from exc
    if not isinstance(data, dict):
        raise InvalidInput(
            "A quiz file is an object with a title and questions.",
            details=[{"field": "body", "message": "not an object"}],
        )
    try:
        return QuizDocument.model_validate(data)
    except ValidationError as exc:
        details = [
            {"field": ".".join(["body", *map(str, err["loc"])]), "message": err["msg"]}
            for err in exc.errors()
        ]
        summary = "; ".join(f"{d['field']}: {d['message']}" for d in details[:5])
        raise InvalidInput(f"Invalid quiz file: {summary}", details=details) from exc
