"""``/docs``: Swagger UI served from the installed package, not from a CDN.

Deconfliction cells often run without internet, so FastAPI's default page (its script,
style and favicon on cdn.jsdelivr.net and fastapi.tiangolo.com) would load blank there. The
assets come from the ``swagger-ui-bundle`` package, mounted under ``/docs/assets``; the page
and the assets stay out of the OpenAPI document (they are not part of the API).
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

DOCS_PATH = "/docs"
ASSETS_PATH = f"{DOCS_PATH}/assets"


def install(app: FastAPI, title: str) -> None:
    """Serve the Swagger UI page at ``/docs`` over ``app.openapi_url``, every asset local.
    The app must be made with ``docs_url=None`` (else FastAPI's CDN page holds the path)."""
    app.mount(ASSETS_PATH, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @app.get(DOCS_PATH, include_in_schema=False)
    async def get_docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{title} - API",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png",
        )
