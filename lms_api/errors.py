"""One error body for every error: {"error": {"code", "message", "details"}}."""

import logging
from enum import StrEnum
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lms_api.types import PATTERN_MESSAGES

logger = logging.getLogger("lms_api")


class ErrorCode(StrEnum):
    """Every `error.code` the API answers with."""

    # by status (the default code of each status)
    BAD_REQUEST = "bad_request"
    NOT_AUTHENTICATED = "not_authenticated"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    CONFLICT = "conflict"
    TOO_LARGE = "too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    INVALID_INPUT = "invalid_input"
    RATE_LIMITED = "rate_limited"
    INTERNAL_ERROR = "internal_error"
    UPSTREAM_ERROR = "upstream_error"
    UNAVAILABLE = "unavailable"
    ERROR = "error"  # a status without a code of its own
    # access
    INSUFFICIENT_SCOPE = "insufficient_scope"
    ACCOUNT_DEACTIVATED = "account_deactivated"
    NOT_ENROLLED = "not_enrolled"
    TRAINER_FULL = "trainer_full"
    # curriculum
    HAS_SUBMISSIONS = "has_submissions"
    # submissions
    ALREADY_APPROVED = "already_approved"
    ALREADY_REVIEWED = "already_reviewed"
    DUPLICATE_SUBMISSION = "duplicate_submission"
    STALE_VERSION = "stale_version"
    WRONG_SUBMISSION_KIND = "wrong_submission_kind"
    EMPTY_FILE = "empty_file"
    FILE_MISSING = "file_missing"
    FILE_TOO_LARGE = "file_too_large"
    INVALID_FILE = "invalid_file"
    INVALID_NOTEBOOK = "invalid_notebook"
    UNSUPPORTED_FILE_TYPE = "unsupported_file_type"
    # quizzes
    ATTEMPT_CLOSED = "attempt_closed"
    ATTEMPT_EXPIRED = "attempt_expired"
    NO_ATTEMPTS_LEFT = "no_attempts_left"
    QUIZ_EMPTY = "quiz_empty"
    QUIZ_HAS_ATTEMPTS = "quiz_has_attempts"
    QUIZ_NOT_DRAFT = "quiz_not_draft"
    QUIZ_NOT_PUBLISHED = "quiz_not_published"
    GENERATION_NOT_CONFIGURED = "generation_not_configured"
    # payments
    PAYMENTS_NOT_CONFIGURED = "payments_not_configured"
    PAYMENT_PROVIDER_ERROR = "payment_provider_error"
    PAYMENT_NOT_KNOWN = "payment_not_known"
    INVALID_SIGNATURE = "invalid_signature"
    INVALID_PAYLOAD = "invalid_payload"
    # class sessions
    SESSION_ENDED = "session_ended"
    SESSION_CANCELLED = "session_cancelled"


_DEFAULT_CODES = {
    400: ErrorCode.BAD_REQUEST,
    401: ErrorCode.NOT_AUTHENTICATED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    409: ErrorCode.CONFLICT,
    413: ErrorCode.TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    422: ErrorCode.INVALID_INPUT,
    429: ErrorCode.RATE_LIMITED,
    500: ErrorCode.INTERNAL_ERROR,
    502: ErrorCode.UPSTREAM_ERROR,
    503: ErrorCode.UNAVAILABLE,
}


def default_code(status: int) -> ErrorCode:
    return _DEFAULT_CODES.get(status, ErrorCode.ERROR)


class ErrorDetail(BaseModel):
    code: ErrorCode = Field(examples=["not_found"])
    message: str = Field(examples=["No track with code 'XX'."])
    details: Any = Field(default=None, examples=[None])


class ErrorBody(BaseModel):
    """The one error body of the API."""

    error: ErrorDetail


STANDARD_DESCRIPTIONS = {
    401: "No token, or a token the hub does not know (expired, revoked)",
    403: "Not allowed for the caller's role, or the account is deactivated",
    404: "No such resource, or not one the caller may see",
    409: "Conflicts with the current state (see the message)",
    413: "The request body is larger than the server accepts",
    422: "Invalid input; `details` names each field",
    503: "JupyterHub (or the database) cannot be asked right now",
}


def error_doc(description: str) -> dict[str, Any]:
    """OpenAPI entry for one error status: the error body with a route-specific description."""
    return {"model": ErrorBody, "description": description}


def error_responses(
    *statuses: int, described: dict[int, str] | None = None
) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: the error body under each status it may answer with."""
    texts = {**STANDARD_DESCRIPTIONS, **(described or {})}
    return {status: error_doc(texts[status]) for status in statuses}


# The errors of any route that needs a user token (a service token is refused with 403).
USER_ROUTE_ERRORS = error_responses(
    401, 403, 422, 503, described={403: "A service token (this route is for users)"}
)


class DomainError(Exception):
    """An error a client can act on, raised by services and rendered by the one handler as the
    standard error body. Subclasses name the error and fix its `status` and `code`."""

    status: ClassVar[int] = 500
    code: ClassVar[ErrorCode] = ErrorCode.INTERNAL_ERROR

    def __init__(
        self, message: str, *, details: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers = headers


# --- the errors shared by the domains (each domain adds its own, e.g. EnrollmentNotFound) ---
class NotAuthenticated(DomainError):
    """No token, or one the hub does not know."""

    status, code = 401, ErrorCode.NOT_AUTHENTICATED


class Forbidden(DomainError):
    """Not allowed for the caller's role."""

    status, code = 403, ErrorCode.FORBIDDEN


class InsufficientScope(Forbidden):
    """The token lacks a scope the API needs."""

    code = ErrorCode.INSUFFICIENT_SCOPE


class AccountDeactivated(Forbidden):
    """The caller's account is deactivated."""

    code = ErrorCode.ACCOUNT_DEACTIVATED


class NotEnrolledInTrack(Forbidden):
    """The caller is not actively enrolled in the track."""

    code = ErrorCode.NOT_ENROLLED


class NotFound(DomainError):
    """No such resource, or not one the caller may see."""

    status, code = 404, ErrorCode.NOT_FOUND


class FileMissing(NotFound):
    """A stored file is gone from the upload directory."""

    code = ErrorCode.FILE_MISSING


class Conflict(DomainError):
    """Conflicts with the current state."""

    status, code = 409, ErrorCode.CONFLICT


class TrainerFull(Conflict):
    """The trainer has as many students as allowed."""

    code = ErrorCode.TRAINER_FULL


class HasSubmissions(Conflict):
    """Submissions still refer to it."""

    code = ErrorCode.HAS_SUBMISSIONS


class AlreadyApproved(Conflict):
    """The deliverable is approved already."""

    code = ErrorCode.ALREADY_APPROVED


class AlreadyReviewed(Conflict):
    """The version is reviewed already."""

    code = ErrorCode.ALREADY_REVIEWED


class DuplicateSubmission(Conflict):
    """The same content was submitted already."""

    code = ErrorCode.DUPLICATE_SUBMISSION


class StaleVersion(Conflict):
    """A newer version exists."""

    code = ErrorCode.STALE_VERSION


class AttemptClosed(Conflict):
    """The attempt is submitted or graded."""

    code = ErrorCode.ATTEMPT_CLOSED


class NoAttemptsLeft(Conflict):
    """The student used every attempt."""

    code = ErrorCode.NO_ATTEMPTS_LEFT


class QuizEmpty(Conflict):
    """The quiz has no questions."""

    code = ErrorCode.QUIZ_EMPTY


class QuizHasAttempts(Conflict):
    """Students attempted the quiz already."""

    code = ErrorCode.QUIZ_HAS_ATTEMPTS


class QuizNotDraft(Conflict):
    """The quiz is no longer a draft."""

    code = ErrorCode.QUIZ_NOT_DRAFT


class QuizNotPublished(Conflict):
    """The quiz is not published."""

    code = ErrorCode.QUIZ_NOT_PUBLISHED


class SessionEnded(Conflict):
    """The class session has ended: it is a record now."""

    code = ErrorCode.SESSION_ENDED


class SessionCancelled(Conflict):
    """The class session was cancelled."""

    code = ErrorCode.SESSION_CANCELLED


class TooLarge(DomainError):
    """The content is larger than allowed."""

    status, code = 413, ErrorCode.TOO_LARGE


class FileTooLarge(TooLarge):
    """The uploaded file is larger than allowed."""

    code = ErrorCode.FILE_TOO_LARGE


class UnsupportedFileType(DomainError):
    """Not a kind of file the deliverable accepts."""

    status, code = 415, ErrorCode.UNSUPPORTED_FILE_TYPE


class InvalidInput(DomainError):
    """Invalid input (`details` says where)."""

    status, code = 422, ErrorCode.INVALID_INPUT


class InvalidFile(InvalidInput):
    """The upload is not a usable file."""

    code = ErrorCode.INVALID_FILE


class EmptyFile(InvalidInput):
    """The uploaded file is empty."""

    code = ErrorCode.EMPTY_FILE


class InvalidNotebook(InvalidInput):
    """The upload is not a valid notebook."""

    code = ErrorCode.INVALID_NOTEBOOK


class WrongSubmissionKind(InvalidInput):
    """The deliverable takes another kind of submission."""

    code = ErrorCode.WRONG_SUBMISSION_KIND


class Unavailable(DomainError):
    """JupyterHub or the database cannot be asked now."""

    status, code = 503, ErrorCode.UNAVAILABLE


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def _response(status: int, code: ErrorCode, message: str, details: Any = None, headers=None):
    return JSONResponse(error_body(code, message, details), status_code=status, headers=headers)


def _answer(
    request: Request,
    status: int,
    code: ErrorCode,
    message: str,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The error body, or for a page (the portal installs `app.state.page_errors`) the same
    code and message rendered as a page."""
    pages = getattr(request.app.state, "page_errors", None)
    if pages is not None and pages.applies(request):
        return pages(request, status, code, message, headers)
    return _response(status, code, message, details, headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain_error(request: Request, exc: DomainError) -> Response:
        """The one handler of domain errors. It answers after the request's session ended:
        a route that committed before raising keeps what it committed."""
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else exc.headers
        return _answer(request, exc.status, exc.code, exc.message, exc.details, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        details = [
            {"field": ".".join(str(p) for p in err["loc"]), "message": validation_message(err)}
            for err in exc.errors()
        ]
        summary = "; ".join(f"{d['field']}: {d['message']}" for d in details)
        return _answer(request, 422, ErrorCode.INVALID_INPUT, f"Invalid input: {summary}", details)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return _answer(
            request,
            exc.status_code,
            default_code(exc.status_code),
            str(exc.detail),
            None,
            exc.headers,
        )

    @app.exception_handler(IntegrityError)
    async def _integrity_error(request: Request, exc: IntegrityError) -> Response:
        """A write the database refused for the rows it touches (a delete of a row others
        still refer to, a duplicate): a conflict with the stored state, never a 500."""
        logger.info("Refused by the database: %s", exc.orig)
        message = (
            "Other records still refer to it (for example payments, enrollments or "
            "submissions), so it cannot be deleted or changed."
            if _is_foreign_key_violation(exc)
            else "It conflicts with the stored data (a duplicate, or a rule of the database)."
        )
        return _answer(request, 409, ErrorCode.CONFLICT, message)


def validation_message(err: Any) -> str:
    """pydantic's message, in words for the shared patterns (not the regular expression)."""
    if err.get("type") == "string_pattern_mismatch":
        pattern = (err.get("ctx") or {}).get("pattern")
        if pattern in PATTERN_MESSAGES:
            return PATTERN_MESSAGES[pattern]
    return err["msg"]


def _is_foreign_key_violation(exc: IntegrityError) -> bool:
    sqlstate = getattr(exc.orig, "sqlstate", None)  # psycopg
    return sqlstate == "23503" or "FOREIGN KEY" in str(exc.orig).upper()


class CatchAll:
    """Answer an exception no handler took with 500 and the error body, and keep the connection.

    Starlette's own last resort re-raises after answering, and the server then closes the
    keep-alive connection; configurable-http-proxy, reusing it, answered the next request of
    any user with a 503. Here the exception is logged (with its traceback, server side only)
    and ends with this request.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            logger.exception("Unhandled error in %s %s", scope.get("method"), scope.get("path"))
            if started:  # half a response is out: only closing the connection can end it
                raise
            response = _response(
                500,
                ErrorCode.INTERNAL_ERROR,
                "The server failed on this request; it was logged. Try again later, or tell "
                "the school's staff if it keeps failing.",
            )
            await response(scope, receive, send)


class SecurityHeaders:
    """Every response may not be framed by another site (clickjacking), the docs included."""

    HEADERS = (
        (b"x-frame-options", b"DENY"),
        (b"content-security-policy", b"frame-ancestors 'none'"),
        (b"x-content-type-options", b"nosniff"),
    )

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in self.HEADERS if n not in names]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)
