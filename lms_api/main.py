"""The FastAPI application, served by the hub as the `lms-api` service."""

import functools
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from sqlalchemy import text
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from lms_api.api_docs import install_api_docs
from lms_api.auth import HubTokenValidator
from lms_api.body_limit import BodySizeLimit
from lms_api.class_sessions.router import router as class_sessions_router
from lms_api.config import Settings, get_settings
from lms_api.curriculum.router import router as curriculum_router
from lms_api.database import Database, SessionDep
from lms_api.enrollments.router import router as enrollments_router
from lms_api.errors import CatchAll, SecurityHeaders, Unavailable, install_error_handlers
from lms_api.payments.router import router as payments_router
from lms_api.people.router import router as people_router
from lms_api.portal.page_errors import PageErrorRenderer
from lms_api.portal.router import router as portal_router
from lms_api.portal.router import static_files as portal_static_files
from lms_api.progress.router import router as progress_router
from lms_api.quizzes.router import router as quizzes_router
from lms_api.request_checks import refuse_control_characters
from lms_api.submissions.router import router as submissions_router
from lms_api.workspaces.router import router as workspaces_router

API_PREFIX = "/api/v1"
# Room for the multipart envelope and form fields around the largest allowed upload.
MULTIPART_OVERHEAD = 1024 * 1024


class Health(BaseModel):
    status: str = Field(examples=["ok"])
    database: str = Field(examples=["ok"])


health_router = APIRouter(tags=["health"])


@health_router.get("/health", response_model=Health)
async def health(session: SessionDep) -> Health:
    """Liveness and database reachability (public)."""
    try:
        await session.execute(text("SELECT 1"))
    except Exception as exc:
        raise Unavailable(f"The LMS database is unreachable: {exc.__class__.__name__}") from exc
    return Health(status="ok", database="ok")


class ServicePrefix:
    """Serve under the hub's /services/lms-api prefix and, for local tools, without it."""

    def __init__(self, app: ASGIApp, prefix: str) -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self.prefix:
            path: str = scope["path"]
            if path == self.prefix or path.startswith(self.prefix + "/"):
                scope = {**scope, "root_path": self.prefix}
        await self.app(scope, receive, send)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    database = Database(settings.database_url, pool_size=settings.database_pool_size)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await app.state.token_validator.aclose()
        gateway = getattr(app.state, "stripe_gateway", None)  # made at the first payment call
        if gateway is not None:
            await gateway.aclose()
        await database.dispose()

    app = FastAPI(
        routes=list(shared_routes()),
        title="ApraNova LMS API",
        version="1.0",
        summary="Curriculum, enrollments and learning records; identity comes from JupyterHub.",
        lifespan=lifespan,
        dependencies=[Depends(refuse_control_characters)],
        docs_url=None,  # lms_api.api_docs serves it without a CDN
        redoc_url=None,
    )
    # Bodies past this are refused with 413 while streaming, before they reach a route.
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_upload_bytes + MULTIPART_OVERHEAD,
        drain_max_bytes=settings.upload_drain_max_bytes,
    )
    # Outside the routes' handlers, inside Starlette's last resort (which would re-raise and
    # so drop the keep-alive connection): any other exception is a 500 with the error body.
    app.add_middleware(CatchAll)
    app.add_middleware(SecurityHeaders)  # every response, the 413s and 500s too
    # The hub proxies /services/lms-api/...; the public links (lms_api.links) point there.
    app.add_middleware(ServicePrefix, prefix=settings.service_prefix)
    app.state.settings = settings
    app.state.database = database
    app.state.token_validator = HubTokenValidator(
        settings.hub_api_url, settings.lms_api_token.get_secret_value(), settings.auth_cache_seconds
    )
    install_error_handlers(app)
    app.state.page_errors = PageErrorRenderer()  # the portal's errors render as pages
    install_api_docs(app, settings.swagger_ui_dir)
    return app


API_ROUTERS = (
    health_router,
    people_router,
    curriculum_router,
    enrollments_router,
    progress_router,
    submissions_router,
    quizzes_router,
    payments_router,
    workspaces_router,
    class_sessions_router,
)


@functools.cache
def shared_routes() -> tuple[BaseRoute, ...]:
    """The API's and the portal's routes, included once per process and shared by its apps.

    FastAPI builds an included route (its dependency tree, its validators) on the first request
    that reaches its router, once per app that includes it: about 150 ms of CPU per app. A
    worker has one app, but the tests make hundreds. Nothing here depends on an app's settings:
    a handler finds those on `request.app.state`."""
    included = APIRouter(dependencies=[Depends(refuse_control_characters)])
    for router in API_ROUTERS:
        _docstrings_as_summaries(router)
        included.include_router(router, prefix=API_PREFIX)
    included.mount("/portal/static", portal_static_files, name="portal-static")
    included.include_router(portal_router)
    return tuple(included.routes)


def _docstrings_as_summaries(router: APIRouter) -> None:
    """OpenAPI summary = the route's one-line docstring (FastAPI would use the function name)."""
    for route in router.routes:
        if isinstance(route, APIRoute) and route.description and not route.summary:
            route.summary = route.description.strip().splitlines()[0]


def asgi_app() -> ASGIApp:
    """uvicorn entry point (`--factory lms_api.main:asgi_app`)."""
    settings = get_settings()
    app = create_app(settings)
    # Build every route (FastAPI does it on a router's first request) and the OpenAPI document
    # now, so the first students after a restart wait no longer than the others, and these
    # objects are frozen with the rest.
    app.openapi()
    freeze_startup_objects()
    return app


def freeze_startup_objects() -> None:
    """Keep the ~250k objects of the imports and the app out of every later full garbage
    collection: each one would otherwise pause a worker for ~0.1 s, a tail-latency spike
    under load (bench/README.md)."""
    gc.collect()
    gc.freeze()
