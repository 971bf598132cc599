"""A fake Gemini API on 127.0.0.1, so tests drive the real google-genai client over HTTP.

    fake.reply_json(good_questions(3, multiple=1))   # the next call gets this answer
    generator = QuizGenerator("test-key", "gemini-test", base_url=fake.url)
    fake.requests[0].body["generationConfig"]["responseMimeType"]

It answers `POST /{api_version}/models/{model}:generateContent` the way the real API does (the
same JSON shape, the same error bodies), from a queue of scripted replies; with the queue
empty it answers 500 "no scripted reply", so a test never passes on an answer it did not
script (or, when given, `answer(request)`: a reply made from the request itself). Every
request is recorded (path, headers, parsed body) for assertions.

Use it through the `fake_gemini` fixture: `from tests.fakes.gemini import fake_gemini`.
"""

import json
import re
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from tests.fakes.loopback import LoopbackServer

ROUTE = re.compile(r"^/(?P<version>[^/]+)/models/(?P<model>[^/:]+):generateContent$")


@dataclass(frozen=True)
class Reply:
    """One scripted answer: an HTTP status and JSON body, optionally after a delay."""

    status: int = 200
    body: Any = None  # JSON-able, or bytes sent as they are
    delay: float = 0.0


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: Any  # parsed JSON, or the raw text when it was not JSON

    @property
    def model(self) -> str | None:
        match = ROUTE.match(self.path.split("?")[0])
        return match["model"] if match else None

    @property
    def generation_config(self) -> dict[str, Any]:
        return (self.body or {}).get("generationConfig", {})

    @property
    def prompt_text(self) -> str:
        """Every text part of the request (system instruction and contents), joined."""
        body = self.body or {}
        contents = [body.get("systemInstruction") or {}, *body.get("contents", [])]
        return "\n".join(
            part.get("text", "") for content in contents for part in content.get("parts", [])
        )


# ----- replies, built the way the real API answers -------------------------------------------


def candidate_reply(
    text: str,
    *,
    finish_reason: str = "STOP",
    grounding: Mapping[str, Any] | None = None,
) -> Reply:
    """A 200 answer whose one candidate says `text`."""
    candidate: dict[str, Any] = {
        "content": {"parts": [{"text": text}], "role": "model"},
        "finishReason": finish_reason,
        "index": 0,
    }
    if grounding is not None:
        candidate["groundingMetadata"] = dict(grounding)
    return Reply(
        body={
            "candidates": [candidate],
            "usageMetadata": {
                "promptTokenCount": 120,
                "candidatesTokenCount": max(1, len(text) // 4),
                "totalTokenCount": 120 + max(1, len(text) // 4),
            },
            "modelVersion": "gemini-fake",
            "responseId": "fake-response",
        }
    )


def error_reply(status: int, message: str, status_name: str | None = None) -> Reply:
    """An error answer shaped like Google's: {"error": {"code", "message", "status"}}."""
    names = {
        400: "INVALID_ARGUMENT",
        401: "UNAUTHENTICATED",
        403: "PERMISSION_DENIED",
        404: "NOT_FOUND",
        429: "RESOURCE_EXHAUSTED",
        500: "INTERNAL",
        503: "UNAVAILABLE",
        504: "DEADLINE_EXCEEDED",
    }
    name = status_name or names.get(status, HTTPStatus(status).phrase.upper().replace(" ", "_"))
    return Reply(
        status=status, body={"error": {"code": status, "message": message, "status": name}}
    )


def grounding_metadata(sources: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Grounding metadata citing `sources` ((title, url) pairs), as Google Search returns it."""
    return {
        "webSearchQueries": ["fake search"],
        "groundingChunks": [{"web": {"uri": url, "title": title}} for title, url in sources],
        "groundingSupports": [],
        "searchEntryPoint": {"renderedContent": "<div>fake</div>"},
    }


def good_questions(n: int, multiple: int = 0, *, topic: str = "SQL joins") -> dict[str, Any]:
    """A valid Gemini-shaped payload: `n` distinct questions, the first `multiple` MULTIPLE."""
    questions = []
    for number in range(1, n + 1):
        is_multiple = number <= multiple
        questions.append(
            {
                "text": f"{topic}: question {number}?",
                "type": "MULTIPLE" if is_multiple else "SINGLE",
                "options": [
                    {"text": f"Right answer {number}", "is_correct": True, "rationale": "Yes."},
                    {
                        "text": f"Also right {number}" if is_multiple else f"Distractor {number}",
                        "is_correct": is_multiple,
                        "rationale": "Also true." if is_multiple else "A common mix-up.",
                    },
                    {"text": f"Wrong answer {number}", "is_correct": False, "rationale": "No."},
                ],
                "explanation": f"Explanation {number}.",
                "tags": ["sql", f"q{number}"],
                "learning_objective": f"Objective {number}",
            }
        )
    return {"questions": questions}


# ----- the server ----------------------------------------------------------------------------


@dataclass
class FakeGemini:
    """The server and its script; `url` is the base URL to give the client."""

    default: Reply = field(default_factory=lambda: error_reply(500, "no scripted reply"))
    requests: list[RecordedRequest] = field(default_factory=list)
    # With the queue empty, the reply to a request (e.g. a quiz of the counts it asks for)
    # instead of `default`: for runs whose prompts cannot be scripted (fuzzing).
    answer: Callable[[RecordedRequest], Reply] | None = None

    def __post_init__(self) -> None:
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = LoopbackServer(self._handle, "fake Gemini")

    # script
    def enqueue(self, *replies: Reply) -> None:
        with self._lock:
            self._queue.extend(replies)

    def reply_json(self, obj: Any, *, finish_reason: str = "STOP") -> None:
        self.enqueue(candidate_reply(json.dumps(obj), finish_reason=finish_reason))

    def reply_text(self, raw: str, *, finish_reason: str = "STOP") -> None:
        self.enqueue(candidate_reply(raw, finish_reason=finish_reason))

    def reply_truncated(self, text: str) -> None:
        """An answer cut off by the output token limit (finishReason MAX_TOKENS)."""
        self.enqueue(candidate_reply(text, finish_reason="MAX_TOKENS"))

    def reply_error(self, status: int, message: str, status_name: str | None = None) -> None:
        self.enqueue(error_reply(status, message, status_name))

    def reply_blocked(self, reason: str = "SAFETY") -> None:
        """A prompt the API refused: no candidates, only promptFeedback.blockReason."""
        self.enqueue(Reply(body={"promptFeedback": {"blockReason": reason}}))

    def reply_grounded(
        self, obj: Any, sources: Sequence[tuple[str, str]], *, fenced: bool = True
    ) -> None:
        """A Google Search grounded answer: JSON as text (fenced, as models often write it)."""
        text = json.dumps(obj, indent=2)
        if fenced:
            text = f"```json\n{text}\n```"
        self.enqueue(candidate_reply(text, grounding=grounding_metadata(sources)))

    def reply_slow(self, seconds: float, then: Reply | Any = None) -> None:
        """Wait `seconds` before answering `then` (a Reply, or a JSON payload; default error)."""
        if then is None:
            then = self.default
        elif not isinstance(then, Reply):
            then = candidate_reply(json.dumps(then))
        self.enqueue(Reply(status=then.status, body=then.body, delay=seconds))

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def pending(self) -> int:
        """Scripted replies not used yet."""
        with self._lock:
            return len(self._queue)

    # lifecycle
    def start(self) -> "FakeGemini":
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop at once: slow replies still waiting give up instead of finishing their delay."""
        self._stopping.set()
        self._server.stop()

    # serving
    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        recorded = RecordedRequest(
            method=handler.command,
            path=handler.path,
            headers={name.lower(): value for name, value in handler.headers.items()},
            body=body,
        )
        with self._lock:
            self.requests.append(recorded)
            routed = handler.command == "POST" and ROUTE.match(handler.path.split("?")[0])
            if not routed:
                reply = error_reply(404, f"no such method: {handler.command} {handler.path}")
            else:
                reply = (
                    self._queue.popleft()
                    if self._queue
                    else self.answer(recorded)
                    if self.answer
                    else self.default
                )
        if reply.delay and self._stopping.wait(reply.delay):
            return  # shutting down: drop the connection instead of answering
        data = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
        try:
            handler.send_response(reply.status)
            handler.send_header("Content-Type", "application/json; charset=UTF-8")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test): nothing to answer


@pytest.fixture
def fake_gemini() -> Iterator[FakeGemini]:
    """A started fake Gemini server for one test, stopped afterwards."""
    fake = FakeGemini().start()
    try:
        yield fake
    finally:
        fake.stop()
