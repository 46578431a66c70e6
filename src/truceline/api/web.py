"""The browser pages: the duty officer's map at ``/`` and the observer's page at ``/observe``.

Everything they load comes from the installed package (``truceline/web``): the pages, their
scripts, and the front-end packages copied by ``web/build.mjs`` into ``web/vendor`` (Leaflet,
topojson-client, the Natural Earth basemap of ``world-atlas``). Deconfliction cells and
observers often have no internet, so a CDN, online tiles or remote fonts would leave a blank
page; the Content-Security-Policy below makes the browser refuse any other origin, so a
forgotten remote URL fails loudly in the browser tests instead of working by luck online.
The pages and assets stay out of the OpenAPI document (they are not part of the API).
"""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Literal

from fastapi import FastAPI, Header, Query
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from truceline.api.responses import Out
from truceline.api.security import ERRORS
from truceline.domain.party import LANGUAGES
from truceline.i18n.languages import DEFAULT_LANGUAGE, is_rtl, negotiate
from truceline.i18n.render import page_texts

WEB_DIR = Path(str(files("truceline") / "web"))
ASSETS_PATH = "/web"

# 'unsafe-inline' styles: Leaflet positions its panes and markers with style attributes.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; worker-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
_PAGE_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-cache"}


_LANGUAGE_PATTERN = "^(" + "|".join(re.escape(tag) for tag in LANGUAGES) + ")$"


def _page(relative: str, media_type: str = "text/html; charset=utf-8", **headers: str) -> FileResponse:
    return FileResponse(WEB_DIR / relative, media_type=media_type, headers={**_PAGE_HEADERS, **headers})


class PageTextsOut(Out):
    """The pages' texts in one language, and the direction to lay the page out in."""

    language: str
    dir: Literal["ltr", "rtl"]
    texts: dict[str, str]


def _texts(language: str) -> PageTextsOut:
    texts = page_texts(language)  # ValidationError (422, field language) for another tag
    return PageTextsOut(language=language, dir="rtl" if is_rtl(language) else "ltr", texts=texts)


def install(app: FastAPI) -> None:
    """Serve the map at ``/``, the observer's page at ``/observe`` (with its service worker)
    and the assets under ``/web``."""
    app.mount(ASSETS_PATH, StaticFiles(directory=str(WEB_DIR)), name="web-assets")

    @app.get("/", include_in_schema=False)
    async def get_map() -> FileResponse:
        return _page("map/index.html")

    @app.get("/observe", include_in_schema=False)
    async def get_observe() -> FileResponse:
        return _page("observe/index.html")

    @app.get(
        "/texts",
        tags=["pages"],
        summary="The browser pages' texts in one of the ten languages (no token needed).",
        description="`language`: one of the ten tags; without it, the best of the request's "
        "Accept-Language, else English.",
        responses={405: ERRORS[405], 422: ERRORS[422]},
    )
    async def get_texts(
        language: Annotated[str | None, Query(description="e.g. `ar`", pattern=_LANGUAGE_PATTERN)] = None,
        accept_language: Annotated[str | None, Header()] = None,
    ) -> PageTextsOut:
        chosen = language if language is not None else negotiate(accept_language, DEFAULT_LANGUAGE)
        return await run_in_threadpool(_texts, chosen)

    # The worker script sits at the root so that its scope can be ``/observe`` (a worker's
    # scope may not be wider than its script's folder).
    @app.get("/observe-sw.js", include_in_schema=False)
    async def get_observe_worker() -> FileResponse:
        return _page("observe/sw.js", "text/javascript; charset=utf-8")
