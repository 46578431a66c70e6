"""The ten reader languages: their Babel locales, Accept-Language negotiation, direction.

Our tags are the ones the article uses (``zh-CN``, not ``zh_Hans_CN``); Babel's locale ids
are mapped explicitly here rather than guessed, so a CLDR rename cannot move a reader to
another script silently.
"""

from __future__ import annotations

from functools import cache

from babel import Locale

from truceline.domain.party import LANGUAGES
from truceline.errors import ValidationError

DEFAULT_LANGUAGE = "en"

# Our tag -> Babel locale id (CLDR). ``pt`` is CLDR's pt (Brazil), ``es`` is es (Spain).
BABEL_LOCALES: dict[str, str] = {
    "ar": "ar",
    "zh-CN": "zh_Hans_CN",
    "en": "en",
    "fr": "fr",
    "de": "de",
    "ja": "ja",
    "pt": "pt",
    "ru": "ru",
    "es": "es",
    "uk": "uk",
}

# Our tag -> folder under i18n/locales/ (gettext's usual ll_CC spelling).
CATALOGUE_DIRS: dict[str, str] = {tag: tag.replace("-", "_") for tag in LANGUAGES}


def check_language(language: str, field: str = "language") -> str:
    """Return ``language`` if it is one of the ten; otherwise raise ValidationError on ``field``."""
    if language not in BABEL_LOCALES:
        raise ValidationError(
            f"unsupported language {language!r}; expected one of {', '.join(LANGUAGES)}", field=field
        )
    return language


@cache
def babel_locale(language: str) -> Locale:
    """The Babel Locale for one of the ten tags (ValidationError for any other)."""
    return Locale.parse(BABEL_LOCALES[check_language(language)])


def is_rtl(language: str) -> bool:
    """Whether text in ``language`` (one of the ten) is written right to left, per CLDR."""
    return babel_locale(language).character_order == "right-to-left"


def _match(tag: str) -> str | None:
    """Map one BCP 47 tag (any case, ``-`` or ``_``) to one of the ten, or None.

    Any Chinese tag maps to zh-CN: Simplified Chinese is the only Chinese we carry, and a
    reader of Traditional Chinese reads it more readily than the English fallback.
    """
    subtags = tag.strip().replace("_", "-").lower().split("-")
    primary = subtags[0]
    if primary == "zh":
        return "zh-CN"
    for language in LANGUAGES:
        if language.lower() == primary:
            return language
    return None


def _parse_accept_language(header: str) -> list[tuple[str, float]]:
    """``(tag, q)`` pairs of an Accept-Language header, best first, header order kept on ties.

    Malformed items (bad q, empty tag) are skipped rather than rejected: RFC 9110 lets a
    server ignore what it cannot use, and a browser's header is no user input to correct.
    """
    items: list[tuple[str, float, int]] = []
    for position, item in enumerate(header.split(",")):
        tag, _, params = item.partition(";")
        tag = tag.strip()
        if not tag:
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = -1.0
        if not 0.0 <= q <= 1.0:
            continue
        items.append((tag, q, position))
    items.sort(key=lambda it: (-it[1], it[2]))
    return [(tag, q) for tag, q, _ in items]


def negotiate(accept_language_header: str | None, party_language: str | None) -> str:
    """The reader's language: the best acceptable of the ten, else the party's, else English.

    Requires ``party_language`` to be None or one of the ten (ValidationError on
    ``party_language`` otherwise). Items with ``q=0`` ("not acceptable") and the wildcard
    ``*`` never choose a language; they leave the choice to the party's setting.
    """
    if party_language is not None:
        check_language(party_language, field="party_language")
    if accept_language_header:
        for tag, q in _parse_accept_language(accept_language_header):
            if q <= 0.0 or tag == "*":
                continue
            language = _match(tag)
            if language is not None:
                return language
    return party_language or DEFAULT_LANGUAGE
