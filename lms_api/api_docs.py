"""The API docs page (Swagger UI) served with its own scripts and stylesheet, never from a
CDN: FastAPI's default page loads them from jsDelivr and is blank on a closed network.

The files come from the npm package `swagger-ui-dist`, installed beside the hub's proxy
(`make install`; /opt/apranova/proxy/node_modules in the platform image).
"""

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from lms_api.errors import Unavailable

ASSETS = "/docs-assets"


def install_api_docs(app: FastAPI, assets_dir: Path) -> None:
    if assets_dir.is_dir():
        app.mount(ASSETS, StaticFiles(directory=assets_dir), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def api_docs(request: Request) -> HTMLResponse:
        """Public: the interactive API reference."""
        if not (assets_dir / "swagger-ui-bundle.js").is_file():
            raise Unavailable(
                f"The API docs page needs swagger-ui-dist in {assets_dir} (make install); "
                "the OpenAPI document is at /openapi.json."
            )
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} · docs",
            swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS}/favicon-32x32.png",
        )
