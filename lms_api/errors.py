"""One error body for every error: {"error": {"code", "message", "details"}}."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lms_api.types import PATTERN_MESSAGES

logger = logging.getLogger("lms_api")

_DEFAULT_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
    500: "internal_error",
    502: "upstream_error",
    503: "unavailable",
}


class ErrorDetail(BaseModel):
    code: str = Field(examples=["not_found"])
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


class ApiError(Exception):
    """An error a client can act on; rendered as the standard error body."""

    def __init__(
        self,
        status_code: int,
        message: str,
        *,
        code: str | None = None,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.code = code or _DEFAULT_CODES.get(status_code, "error")
        self.details = details
        self.headers = headers


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def _response(status: int, code: str, message: str, details: Any = None, headers=None):
    return JSONResponse(error_body(code, message, details), status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else exc.headers
        return _response(exc.status_code, exc.code, exc.message, exc.details, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"field": ".".join(str(p) for p in err["loc"]), "message": validation_message(err)}
            for err in exc.errors()
        ]
        summary = "; ".join(f"{d['field']}: {d['message']}" for d in details)
        return _response(422, "invalid_input", f"Invalid input: {summary}", details)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _DEFAULT_CODES.get(exc.status_code, "error")
        return _response(exc.status_code, code, str(exc.detail), None, exc.headers)

    @app.exception_handler(IntegrityError)
    async def _integrity_error(_request: Request, exc: IntegrityError) -> JSONResponse:
        """A write the database refused for the rows it touches (a delete of a row others
        still refer to, a duplicate): a conflict with the stored state, never a 500."""
        logger.info("Refused by the database: %s", exc.orig)
        message = (
            "Other records still refer to it (for example payments, enrollments or "
            "submissions), so it cannot be deleted or changed."
            if _is_foreign_key_violation(exc)
            else "It conflicts with the stored data (a duplicate, or a rule of the database)."
        )
        return _response(409, "conflict", message)


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
                "internal_error",
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
