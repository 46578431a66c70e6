"""The gettext catalogues: where they live, how they load, how the .pot follows the registry.

Catalogues ship as .po files only (package data ``i18n/locales/*/LC_MESSAGES/*``); each is
compiled to an in-memory .mo the first time a language is read, so there is no build step
and no compiled file to go stale.

Maintainer commands (run from the repository, they write into src/; see __main__.py):

    python -m truceline.i18n pot      # rewrite locales/truceline.pot from TEMPLATES
    python -m truceline.i18n update   # pot, then merge it into every .po
    python -m truceline.i18n check    # exit 1 if the .pot or a .po is out of date
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from babel.support import Translations

from truceline.domain.party import LANGUAGES
from truceline.i18n.labels import LABEL_CONTEXT_PREFIX, LABELS
from truceline.i18n.languages import BABEL_LOCALES, CATALOGUE_DIRS, check_language
from truceline.i18n.page_texts import PAGE_CONTEXT_PREFIX, PAGE_TEXTS
from truceline.i18n.templates import TEMPLATES, Kind, Template

DOMAIN = "truceline"
LOCALES_DIR = Path(__file__).parent / "locales"
POT_PATH = LOCALES_DIR / f"{DOMAIN}.pot"
# A fixed date keeps a regenerated .pot free of noise in review.
_POT_DATE = datetime(2025, 1, 1, tzinfo=UTC)


def po_path(language: str) -> Path:
    """The .po file of one of the ten languages."""
    return LOCALES_DIR / CATALOGUE_DIRS[check_language(language)] / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalogue(language: str) -> Catalog:
    """Parse the .po of ``language`` (one of the ten) with its Babel locale."""
    with po_path(language).open("rb") as fp:
        return read_po(fp, locale=BABEL_LOCALES[language], domain=DOMAIN)


@cache
def translations(language: str) -> Translations:
    """The compiled translations of ``language``, built once per process.

    Fuzzy entries are left out (write_mo's default), so an unreviewed translation falls
    back to English rather than reaching a reader; the tests forbid both.
    """
    buffer = BytesIO()
    write_mo(buffer, read_catalogue(language))
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def _param_notes(template: Template) -> list[str]:
    notes = []
    for p in template.params:
        if p.name == template.choice:
            continue
        kind = {Kind.MEASURE: f"number with unit ({', '.join(p.units)})"}.get(p.kind, p.kind.value)
        notes.append(f"{{{p.name}}}: {p.note} [{kind}]")
    return notes


def build_template_catalogue() -> Catalog:
    """The .pot content derived from TEMPLATES: one entry per template (variant), with
    translator notes naming each placeholder and its kind; then one per interface label
    (``truceline.i18n.labels``)."""
    catalogue = Catalog(
        domain=DOMAIN,
        project="Truceline",
        version="0.1",
        copyright_holder="Truceline contributors",
        creation_date=_POT_DATE,
        revision_date=_POT_DATE,
        fuzzy=False,
    )
    for template in TEMPLATES.values():
        notes = _param_notes(template)
        if template.plural:
            notes.append(f"Plural form chosen by {{{template.plural}}}.")
        for message in template.messages():
            catalogue.add(
                message.singular if message.plural is None else (message.singular, message.plural),
                context=message.context,
                auto_comments=[c for c in (template.comment, *notes) if c],
                flags=("python-brace-format",),
            )
    for label_id, english in LABELS.items():
        catalogue.add(
            english,
            context=LABEL_CONTEXT_PREFIX + label_id,
            auto_comments=["A column header or cell word of the command-line client's tables."],
        )
    for text_id, english in PAGE_TEXTS.items():
        catalogue.add(
            english,
            context=PAGE_CONTEXT_PREFIX + text_id,
            auto_comments=["A text of the browser pages (the map or the observer's page); {names} stay."],
            flags=("python-brace-format",) if "{" in english else (),
        )
    return catalogue


def _po_bytes(catalogue: Catalog, **options: bool) -> bytes:
    buffer = BytesIO()
    write_po(buffer, catalogue, width=100, **options)
    return buffer.getvalue()


def pot_bytes() -> bytes:
    return _po_bytes(build_template_catalogue())


def _merge(language: str, template: Catalog) -> Catalog:
    catalogue = read_catalogue(language)
    # No fuzzy guesses: a changed English text must be translated again, not approximated.
    catalogue.update(template, no_fuzzy_matching=True, update_header_comment=False)
    catalogue.obsolete.clear()
    return catalogue


def _entries(catalogue: Catalog) -> set[tuple[object, ...]]:
    """What a catalogue says, without what its generator stamps on it (the Babel version in
    the header, line wrapping): each entry's id, context, translator notes and flags.

    Staleness is judged on this, not on bytes, so a newer Babel that writes the same entries
    differently does not make a current catalogue look out of date.
    """
    return {(*key, tuple(m.auto_comments), frozenset(m.flags)) for key, m in _by_key(catalogue).items()}


def _by_key(catalogue: Catalog) -> dict[tuple[object, str | None], Message]:
    """Each entry under its (id, context); a plural id is a tuple of its two forms."""
    return {(m.id if isinstance(m.id, str) else tuple(m.id), m.context): m for m in catalogue if m.id}


def stale_files() -> list[Path]:
    """Files that ``update`` would change in content: the .pot if its entries differ from
    TEMPLATES, and any .po lacking or carrying an entry."""
    stale = []
    template = build_template_catalogue()
    if not POT_PATH.exists():
        stale.append(POT_PATH)
    else:
        with POT_PATH.open("rb") as fp:
            if _entries(read_po(fp, domain=DOMAIN)) != _entries(template):
                stale.append(POT_PATH)
    for language in LANGUAGES:
        current = read_catalogue(language)
        if _by_key(current).keys() != _by_key(_merge(language, template)).keys() or current.obsolete:
            stale.append(po_path(language))
    return stale


def update() -> None:
    """Rewrite the .pot from TEMPLATES and merge it into every .po (new entries empty)."""
    POT_PATH.write_bytes(pot_bytes())
    template = build_template_catalogue()
    for language in LANGUAGES:
        po_path(language).write_bytes(_po_bytes(_merge(language, template)))
