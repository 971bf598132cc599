"""Errors on portal pages: the same domain errors as the API, rendered as a page.

A missing or expired sign-in sends the browser to the hub's sign-in and back; anything else
is the error page with the same code and message the API would answer with.
"""

from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from lms_api.errors import ErrorCode
from lms_api.portal.rendering import is_page, portal_url, render
from lms_api.portal.signin import SESSION_COOKIE, cookie_options

HEADINGS = {
    401: "Please sign in",
    403: "Not allowed",
    404: "Not found",
    409: "That cannot be done now",
    413: "Too large",
    415: "Wrong kind of file",
    422: "Please check what you sent",
    429: "Too many requests",
    503: "Temporarily unavailable",
}


class PageErrorRenderer:
    """Installed on `app.state`; lms_api.errors asks it first for every error."""

    def applies(self, request: Request) -> bool:
        return is_page(request)

    def __call__(
        self, request: Request, status: int, code: str, message: str, headers=None
    ) -> Response:
        settings = request.app.state.settings
        if status == 401:
            if request.method in ("GET", "HEAD"):
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                login = portal_url(settings, "login") + "?" + urlencode({"next": target})
                response: Response = RedirectResponse(login, status_code=303)
            else:
                response = render(
                    request,
                    "error.html",
                    {
                        "heading": HEADINGS[401],
                        "message": "Your sign-in expired; nothing was saved. Sign in again "
                        "and send the form once more.",
                        "code": code,
                        "status": status,
                    },
                    status_code=401,
                )
            response.delete_cookie(SESSION_COOKIE, **_path(cookie_options(settings)))
            return response
        user = getattr(request.state, "page_user", None)
        if status >= 500 and code == ErrorCode.INTERNAL_ERROR:
            message = "The server failed on this page; it was logged. Try again in a moment."
        return render(
            request,
            "error.html",
            {
                "heading": HEADINGS.get(status, "Something went wrong"),
                "message": message,
                "code": code,
                "status": status,
            },
            status_code=status,
            user=user,
        )


def _path(options: dict) -> dict:
    return {"path": options["path"]}
