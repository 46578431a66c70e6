"""The registry of the browser pages' texts: the map's (``MAP_TEXTS``) and the observer
page's (``OBSERVE_TEXTS``), so that a page follows its reader's language like the messages.

A text is a stable id and its English. In the catalogues it is an entry with ``msgctxt``
``page.<id>`` and the English as ``msgid``; ``render.page_texts(language)`` gives one language's
texts, which ``GET /texts/{language}`` serves to the pages. Adding a text: add it here, run
``python -m truceline.i18n update`` and translate it in every .po (docs/i18n.md).
Placeholders are ``{name}``, filled in by the page.
"""

from __future__ import annotations

PAGE_CONTEXT_PREFIX = "page."

# id -> English text (the msgid), the map's.
MAP_TEXTS: dict[str, str] = {
    "map.title": "Truceline: the deconfliction map",
    "map.login": "Log in",
    "map.token": "Party token",
}

# id -> English text (the msgid), the observer page's.
OBSERVE_TEXTS: dict[str, str] = {
    "observe.title": "Truceline: report an observation",
}

PAGE_TEXTS: dict[str, str] = {**MAP_TEXTS, **OBSERVE_TEXTS}

