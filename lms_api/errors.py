"""One error body for every error: {"error": {"code", "message", "details"}}."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

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
            {"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"]}
            for err in exc.errors()
        ]
        summary = "; ".join(f"{d['field']}: {d['message']}" for d in details)
        return _response(422, "invalid_input", f"Invalid input: {summary}", details)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _DEFAULT_CODES.get(exc.status_code, "error")
        return _response(exc.status_code, code, str(exc.detail), None, exc.headers)
