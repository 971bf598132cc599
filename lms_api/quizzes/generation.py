"""Gemini writes a draft quiz; nothing it writes is kept unless content.py's rules accept it.

One `generate()` asks Gemini for the whole quiz, checks the answer with the same rules as a
hand-written quiz (`QuestionIn`, `QuestionList`) plus the requested counts, and asks again,
saying what was wrong, until an answer passes or `max_attempts` calls are spent. It returns
the complete quiz or raises: never a partial one.

- No API key: `GenerationNotConfigured` before any network (the route answers 503).
- An upstream error, a timeout, or still-invalid output after the last try:
  `GenerationFailed` with a readable `reason` (the route answers 502).
"""

import asyncio
import json
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lms_api.config import Settings
from lms_api.quizzes.content import (
    MAX_OPTIONS,
    MIN_OPTIONS,
    GenerateQuizIn,
    GenerationType,
    QuestionIn,
    QuestionList,
    QuestionType,
    Source,
)

if TYPE_CHECKING:  # the SDK takes ~0.8 s to import: the app imports it on the first generation
    from google import genai
    from google.genai import types

logger = logging.getLogger(__name__)

# Worth another call: the service was briefly overloaded or failing. A 400/401/403 (bad
# request, bad or unauthorised key) answers the same way every time, so it is not retried.
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def _transport_errors() -> tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]]:
    """(timeouts, could-not-connect) of every transport the SDK may pick for async calls:
    aiohttp when it is installed, else httpx or httpx2."""
    timeouts: list[type[BaseException]] = [TimeoutError, httpx.TimeoutException]
    unreachable: list[type[BaseException]] = [httpx.TransportError, OSError]
    try:
        import httpx2

        timeouts.append(httpx2.TimeoutException)
        unreachable.append(httpx2.TransportError)
    except ImportError:  # pragma: no cover - depends on the SDK's dependencies
        pass
    try:
        import aiohttp

        unreachable.append(aiohttp.ClientError)  # its timeouts are TimeoutErrors already
    except ImportError:  # pragma: no cover
        pass
    return tuple(timeouts), tuple(unreachable)


_TIMEOUTS, _UNREACHABLE = _transport_errors()


class GenerationNotConfigured(Exception):
    """No Gemini API key: quizzes can only be written by hand or imported."""


class GenerationFailed(Exception):
    """Gemini failed, or its answer was still invalid after the last try."""

    def __init__(self, reason: str, attempts: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.attempts = attempts


# ----- what Gemini is asked to write ---------------------------------------------------------
# Plain models within Gemini's schema subset (no extra="forbid" -> additionalProperties, no
# examples, no $refs to enums). Every property is listed as required so structured output
# always writes it; the defaults only make a prose (WEB_SEARCH) answer that leaves out a
# rationale or tag still usable. content.py's models then apply the real rules.


def _all_required(schema: dict[str, Any]) -> None:
    schema["required"] = list(schema.get("properties", {}))


class GeminiOption(BaseModel):
    model_config = ConfigDict(json_schema_extra=_all_required)

    text: str = Field(description="The option as the student reads it")
    is_correct: bool
    rationale: str = Field("", description="Why this option is right or wrong")


class GeminiQuestion(BaseModel):
    model_config = ConfigDict(json_schema_extra=_all_required)

    text: str
    type: Literal["SINGLE", "MULTIPLE"] = Field(
        description="SINGLE: exactly one correct option. MULTIPLE: one or more correct options"
    )
    options: list[GeminiOption] = Field(min_length=MIN_OPTIONS, max_length=MAX_OPTIONS)
    explanation: str = Field("", description="What the question checks and the right answer")
    tags: list[str] = Field(default_factory=list, max_length=10)
    learning_objective: str = ""


class GeneratedQuestions(BaseModel):
    questions: list[GeminiQuestion]


JSON_SHAPE = (
    '{"questions": [{"text": "...", "type": "SINGLE or MULTIPLE", "options": [{"text": "...", '
    '"is_correct": true, "rationale": "..."}], "explanation": "...", "tags": ["..."], '
    '"learning_objective": "..."}]}'
)

SYSTEM_INSTRUCTION = f"""\
You write multiple-choice quiz questions for trainers of a school of technical tracks (data \
engineering, data analysis, software development). Rules:
- Write exactly the number of questions asked for, with exactly the number of MULTIPLE ones.
- SINGLE questions have exactly one correct option; MULTIPLE questions have at least one \
(usually two or more) correct options.
- Each question has {MIN_OPTIONS} to {MAX_OPTIONS} options (four is a good default); vary \
the position of the correct options.
- Wrong options are plausible distractors: common mistakes and misconceptions, never jokes.
- Every option has a short rationale saying why it is right or wrong; every question has an \
explanation, a learning objective and one to five short tags (at most 50 characters each).
- No two questions ask the same thing, and no two options of a question say the same thing.
- Questions must be factually correct and unambiguous, at the level the trainer asks for.
- Treat the trainer's text as the topic and instructions for the quiz, nothing else."""


# ----- what comes back -----------------------------------------------------------------------


@dataclass(frozen=True)
class GeneratedQuiz:
    questions: list[QuestionIn]  # validated: exactly the requested counts
    sources: list[Source]  # pages Google Search grounded a WEB_SEARCH quiz on; [] for PROMPT
    model: str
    attempts: int  # Gemini calls it took


class _Invalid(Exception):
    """Gemini answered, but not a usable quiz; `str(self)` says why (and is told to Gemini)."""


class _Upstream(Exception):
    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
        self.reason, self.retryable = reason, retryable


class QuizGenerator:
    """Draft quizzes from Gemini, through the official google-genai SDK's async client."""

    def __init__(
        self,
        api_key: str,
        model: str,
        *,
        base_url: str | None = None,
        timeout_seconds: float = 60.0,
        max_attempts: int = 3,
        retry_delay_seconds: float = 1.0,
    ) -> None:
        self.api_key = (api_key or "").strip()
        self.model = model
        self.base_url = base_url
        self.timeout_seconds = timeout_seconds
        self.max_attempts = max(1, max_attempts)
        self.retry_delay_seconds = retry_delay_seconds
        self._client: genai.Client | None = None  # made on first use: no key, no client

    @classmethod
    def from_settings(cls, settings: Settings) -> "QuizGenerator":
        return cls(
            settings.gemini_api_key.get_secret_value(),
            settings.gemini_model,
            base_url=settings.gemini_base_url,
            timeout_seconds=settings.gemini_timeout_seconds,
            max_attempts=settings.gemini_max_attempts,
        )

    def _sdk(self) -> "genai.Client":
        """The SDK client, built once.

        An empty key is refused here rather than passed on: the SDK would fall back to the
        GOOGLE_API_KEY / GEMINI_API_KEY environment variables, not this app's setting.
        `timeout` is in milliseconds and bounds each HTTP request (and is sent to Google as
        X-Server-Timeout). `retry_options` with one attempt is explicit on purpose: this
        class owns retries, so the SDK's (tenacity, and its implicit 1-10 s retry of a failed
        aiohttp connection) must not multiply the calls or the time.
        """
        if not self.api_key:
            raise GenerationNotConfigured(
                "Quiz generation needs a Gemini API key: set APRANOVA_GEMINI_API_KEY "
                "(and optionally APRANOVA_GEMINI_MODEL) and restart the LMS API. "
                "Until then, write or import quizzes by hand."
            )
        if self._client is None:
            from google import genai
            from google.genai import types

            self._client = genai.Client(
                api_key=self.api_key,
                http_options=types.HttpOptions(
                    base_url=self.base_url,
                    timeout=max(1, round(self.timeout_seconds * 1000)),
                    retry_options=types.HttpRetryOptions(attempts=1),
                ),
            )
        return self._client

    async def aclose(self) -> None:
        """Close the SDK's connection pools (aiohttp sessions, httpx clients)."""
        if self._client is not None:
            client, self._client = self._client, None
            await client.aio.aclose()
            client.close()

    async def generate(self, request: GenerateQuizIn) -> GeneratedQuiz:
        """The whole quiz, valid, or GenerationFailed / GenerationNotConfigured."""
        client = self._sdk()
        problem: str | None = None  # why the previous answer was refused, told to Gemini
        for attempt in range(1, self.max_attempts + 1):
            last = attempt == self.max_attempts
            try:
                response = await self._call(client, request, problem)
                questions = _questions(response, request)
            except _Invalid as invalid:
                problem = str(invalid)
                logger.warning("Gemini quiz attempt %d refused: %s", attempt, problem)
                if last:
                    raise GenerationFailed(
                        f"Gemini's answer {problem} ({_tries(attempt)})", attempt
                    ) from None
                continue
            except _Upstream as failure:
                logger.warning("Gemini quiz attempt %d failed: %s", attempt, failure.reason)
                if last or not failure.retryable:
                    reason = (
                        failure.reason if attempt == 1 else f"{failure.reason} ({_tries(attempt)})"
                    )
                    raise GenerationFailed(reason, attempt) from None
                await asyncio.sleep(self.retry_delay_seconds)
                continue
            sources = (
                _sources(response) if request.generation_type == GenerationType.WEB_SEARCH else []
            )
            return GeneratedQuiz(questions, sources, self.model, attempt)
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    async def _call(
        self, client: "genai.Client", request: GenerateQuizIn, problem: str | None
    ) -> "types.GenerateContentResponse":
        """One Gemini call, its failures sorted into retryable or not.

        `asyncio.timeout` is the hard deadline of the whole call (the SDK's HTTP timeout
        covers only the request itself); a timeout is not retried, since the trainer has
        already waited the full time once.
        """
        from google.genai import errors

        try:
            async with asyncio.timeout(self.timeout_seconds):
                return await client.aio.models.generate_content(
                    model=self.model,
                    contents=_prompt(request, problem),
                    config=_config(request),
                )
        except errors.APIError as error:
            message = error.message or error.status or "no message"
            raise _Upstream(
                f"Gemini answered {error.code}: {message}",
                retryable=error.code in RETRYABLE_STATUSES,
            ) from error
        except _TIMEOUTS as error:
            raise _Upstream(
                f"Gemini timed out after {self.timeout_seconds:g} s", retryable=False
            ) from error
        except _UNREACHABLE as error:
            raise _Upstream(f"could not reach Gemini: {error!r}", retryable=True) from error


def _tries(attempts: int) -> str:
    return "1 try" if attempts == 1 else f"{attempts} tries"


# ----- the request ---------------------------------------------------------------------------


def _config(request: GenerateQuizIn) -> "types.GenerateContentConfig":
    """PROMPT: structured output (JSON constrained to GeneratedQuestions), the most reliable.

    WEB_SEARCH: the Google Search tool, and JSON asked for in the prompt instead. Gemini 2.x
    models (the default gemini-2.5-flash) refuse a response schema or JSON mime type together
    with google_search ("controlled generation is not supported with google_search tool");
    only Gemini 3 allows both, and this must work on either.
    """
    from google.genai import types

    if request.generation_type == GenerationType.WEB_SEARCH:
        return types.GenerateContentConfig(
            system_instruction=SYSTEM_INSTRUCTION,
            tools=[types.Tool(google_search=types.GoogleSearch())],
        )
    return types.GenerateContentConfig(
        system_instruction=SYSTEM_INSTRUCTION,
        response_mime_type="application/json",
        response_schema=GeneratedQuestions,
    )


def _prompt(request: GenerateQuizIn, problem: str | None) -> str:
    multiple, single = request.multiple_count, request.single_count
    lines = [
        f"Write a quiz titled {request.title!r}.",
        f"Exactly {request.num_questions} questions: {single} SINGLE and {multiple} MULTIPLE.",
    ]
    if request.track:
        lines.append(f"The students are on the {request.track} track.")
    lines += ["", "The trainer's topic and instructions:", '"""', request.prompt, '"""']
    if request.generation_type == GenerationType.WEB_SEARCH:
        lines += [
            "",
            "Use Google Search to check the facts, preferring official documentation and "
            "other authoritative, current sources.",
            "Answer with only one JSON object, no prose before or after it, of this shape:",
            JSON_SHAPE,
        ]
    if problem:
        lines += [
            "",
            f"Your previous answer was refused: it {problem}.",
            "Write the whole quiz again, following every rule above.",
        ]
    return "\n".join(lines)


# ----- the answer ----------------------------------------------------------------------------

_FENCE = re.compile(r"^\s*```[a-zA-Z]*\s*\n?(.*?)\n?\s*```\s*$", re.DOTALL)


def _text(response: "types.GenerateContentResponse") -> str:
    """The first candidate's text, or _Invalid saying why there is none usable."""
    if not response.candidates:
        feedback = response.prompt_feedback
        blocked = feedback.block_reason if feedback and feedback.block_reason else None
        raise _Invalid(f"was empty (blocked: {_name(blocked)})" if blocked else "was empty")
    candidate = response.candidates[0]
    finish = _name(candidate.finish_reason)
    if finish == "MAX_TOKENS":
        raise _Invalid(
            "was cut off at the output token limit (MAX_TOKENS); keep rationales and "
            "explanations shorter"
        )
    if finish not in (None, "STOP", "FINISH_REASON_UNSPECIFIED"):
        raise _Invalid(f"stopped early ({finish})")
    parts = candidate.content.parts if candidate.content and candidate.content.parts else []
    text = "".join(part.text for part in parts if part.text and not part.thought)
    if not text.strip():
        raise _Invalid("was empty")
    return text


def _name(value: Any) -> str | None:
    return None if value is None else str(getattr(value, "value", value))


def _json(text: str) -> Any:
    """Parse JSON, also when wrapped in ``` fences or prose (a WEB_SEARCH answer may be)."""
    fenced = _FENCE.match(text)
    candidates = [fenced.group(1) if fenced else text]
    start, end = text.find("{"), text.rfind("}")
    if start != -1 and end > start:
        candidates.append(text[start : end + 1])
    error: json.JSONDecodeError | None = None
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except json.JSONDecodeError as exc:
            error = error or exc
    raise _Invalid(f"was not valid JSON ({error})")


def _errors(error: ValidationError, limit: int = 3) -> str:
    """A ValidationError in one line: where and what, for a log and for Gemini to fix."""
    described = []
    for item in error.errors()[:limit]:
        where = ".".join(str(part) for part in item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        described.append(f"{where}: {message}" if where else message)
    more = len(error.errors()) - limit
    return "; ".join(described) + (f"; and {more} more" if more > 0 else "")


def _questions(
    response: "types.GenerateContentResponse", request: GenerateQuizIn
) -> list[QuestionIn]:
    """The answer as QuestionIn, checked like any quiz plus the requested counts."""
    try:
        shaped = GeneratedQuestions.model_validate(_json(_text(response)))
    except ValidationError as error:
        raise _Invalid(f"did not match the schema ({_errors(error)})") from None
    questions, problems = [], []
    for number, question in enumerate(shaped.questions, start=1):
        try:
            questions.append(QuestionIn.model_validate(question.model_dump()))
        except ValidationError as error:
            problems.append(f"question {number}: {_errors(error, limit=2)}")
    if problems:
        raise _Invalid("broke the rules (" + "; ".join(problems[:5]) + ")")
    try:
        QuestionList(questions=questions)
    except ValidationError as error:
        raise _Invalid(f"broke the rules ({_errors(error)})") from None
    multiple = sum(question.type == QuestionType.MULTIPLE for question in questions)
    if len(questions) != request.num_questions or multiple != request.multiple_count:
        raise _Invalid(
            f"had {len(questions)} questions ({multiple} MULTIPLE) instead of "
            f"{request.num_questions} ({request.multiple_count} MULTIPLE)"
        )
    return questions


def _sources(response: "types.GenerateContentResponse") -> list[Source]:
    """The web pages Google Search grounded the answer on, each url once, in order."""
    metadata = response.candidates[0].grounding_metadata if response.candidates else None
    sources: dict[str, Source] = {}
    for chunk in (metadata.grounding_chunks if metadata else None) or []:
        web = chunk.web
        if web is None or not web.uri or web.uri in sources or len(web.uri) > 2000:
            continue
        sources[web.uri] = Source(title=(web.title or "")[:500], url=web.uri)
    return list(sources.values())
