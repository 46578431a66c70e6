"""The catalogues against the registry: every template translated in all ten languages,
every plural form present, no fuzzy or empty entry, placeholders kept, the .pot current."""

from __future__ import annotations

import fnmatch
import gettext
from dataclasses import replace
from io import BytesIO

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from truceline.domain.party import LANGUAGES
from truceline.errors import ValidationError
from truceline.i18n import catalogues
from truceline.i18n.labels import LABEL_CONTEXT_PREFIX, LABELS
from truceline.i18n.languages import babel_locale
from truceline.i18n.page_texts import PAGE_CONTEXT_PREFIX, PAGE_TEXTS
from truceline.i18n.templates import TEMPLATES, Kind, Param, Template, check_registry, placeholders


def _key(message_id: object, context: str | None) -> tuple[object, str | None]:
    return (message_id if isinstance(message_id, str) else tuple(message_id), context)


def registry_keys(
    templates: dict[str, Template], labels: dict[str, str] = LABELS, pages: dict[str, str] = PAGE_TEXTS
) -> set[tuple[object, str | None]]:
    keys = set()
    for t in templates.values():
        for m in t.messages():
            keys.add(_key(m.singular if m.plural is None else (m.singular, m.plural), m.context))
    keys |= {(english, LABEL_CONTEXT_PREFIX + label_id) for label_id, english in labels.items()}
    keys |= {(english, PAGE_CONTEXT_PREFIX + text_id) for text_id, english in pages.items()}
    return keys


def catalogue_problems(
    catalogue: Catalog,
    templates: dict[str, Template],
    labels: dict[str, str] = LABELS,
    pages: dict[str, str] = PAGE_TEXTS,
) -> list[str]:
    """Everything that keeps ``catalogue`` from serving ``templates``, ``labels`` and the
    pages' texts completely."""
    problems = []
    present = {_key(m.id, m.context): m for m in catalogue if m.id}
    wanted = registry_keys(templates, labels, pages)
    problems += [f"missing {context}" for _, context in sorted(wanted - present.keys(), key=str)]
    problems += [f"not in the registry: {context}" for _, context in sorted(present.keys() - wanted, key=str)]
    for m in present.values():
        if m.fuzzy:
            problems.append(f"fuzzy {m.context}")
        forms = [m.string] if isinstance(m.string, str) else list(m.string)
        if m.pluralizable and len(forms) != catalogue.num_plurals:
            problems.append(f"{m.context}: {len(forms)} plural forms, want {catalogue.num_plurals}")
        if any(not form for form in forms):
            problems.append(f"empty translation {m.context}")
    return problems


@pytest.fixture(scope="module", params=LANGUAGES)
def language_catalogue(request) -> tuple[str, Catalog]:
    return request.param, catalogues.read_catalogue(request.param)


def test_registry_is_consistent():
    check_registry()
    assert len(TEMPLATES) >= 16


def test_registry_check_catches_a_missing_placeholder():
    bad = Template("x.bad", (Param("a", Kind.TEXT, "a"), Param("b", Kind.TEXT, "b")), "only {a}")
    with pytest.raises(ValidationError) as error:
        check_registry({"x.bad": bad})
    assert error.value.field == "placeholder"


def test_every_catalogue_serves_every_template(language_catalogue):
    language, catalogue = language_catalogue
    assert catalogue_problems(catalogue, TEMPLATES) == [], language


def test_a_label_without_translations_is_reported(language_catalogue):
    _, catalogue = language_catalogue
    problems = catalogue_problems(catalogue, TEMPLATES, {**LABELS, "sender": "sender"})
    assert problems == ["missing label.sender"]


def test_a_template_without_translations_is_reported(language_catalogue):
    _, catalogue = language_catalogue
    new = Template("zone.renamed", (Param("zone", Kind.TEXT, "zone id"),), "Zone {zone} was renamed.")
    problems = catalogue_problems(catalogue, {**TEMPLATES, new.id: new})
    assert problems == ["missing zone.renamed"]


PO_WITH_FAULTS = """\
msgid ""
msgstr ""
"Language: ru\\n"
"Plural-Forms: nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && "
"(n%100<10 || n%100>=20) ? 1 : 2);\\n"
"Content-Type: text/plain; charset=utf-8\\n"

msgctxt "zone.withdrawn"
msgid "{party} has withdrawn zone {zone_name} ({zone}); it no longer applies."
msgstr ""

#, fuzzy
msgctxt "zone.expired"
msgid "Zone {zone_name} ({zone}) expired at {end} and no longer applies."
msgstr "Зона {zone_name} ({zone}) истекла {end}."

msgctxt "operation.refused"
msgid ""
"Operation {operation} ({party}) has been refused: {conflicts} conflict must be resolved "
"before it can be filed."
msgid_plural ""
"Operation {operation} ({party}) has been refused: {conflicts} conflicts must be resolved "
"before it can be filed."
msgstr[0] "{operation} {party} {conflicts} конфликт"
msgstr[1] "{operation} {party} {conflicts} конфликта"
msgstr[2] ""
"""


def test_faults_in_a_catalogue_are_reported():
    catalogue = read_po(BytesIO(PO_WITH_FAULTS.encode()), locale="ru")
    subset = {k: TEMPLATES[k] for k in ("zone.withdrawn", "zone.expired", "operation.refused")}
    assert sorted(catalogue_problems(catalogue, subset, labels={}, pages={})) == [
        "empty translation operation.refused",
        "empty translation zone.withdrawn",
        "fuzzy zone.expired",
    ]


# Counts a message can carry: conflicts, minutes, parties. CLDR's "many" of French,
# Portuguese and Spanish (Babel 2.19) starts at a million, which no such count reaches.
COUNTS = range(0, 100_001)


def _forms_and_categories(catalogue: Catalog, language: str) -> set[tuple[int, str]]:
    """Each (form the .po header picks, CLDR category) pair met over COUNTS."""
    pick = gettext.c2py(catalogue.plural_expr)
    category = babel_locale(language).plural_form
    return {(pick(n), category(n)) for n in COUNTS}


def test_plural_forms_follow_cldr_categories(language_catalogue):
    """The header's rule and CLDR's plural rules split COUNTS the same way: each form is
    one category and each category one form, and every form is reachable. This checks the
    rule, not how a Babel version spells it, so a newer Babel passes while a wrong rule
    (French "n != 1", which puts 0 with the plurals) fails."""
    language, catalogue = language_catalogue
    pairs = _forms_and_categories(catalogue, language)
    forms = {form for form, _ in pairs}
    categories = {cat for _, cat in pairs}
    assert len(pairs) == len(forms) == len(categories), sorted(pairs)
    assert forms == set(range(catalogue.num_plurals)), sorted(pairs)


def test_a_wrong_plural_rule_is_caught():
    header_start = PO_WITH_FAULTS.index('"Plural-Forms:')
    header_end = PO_WITH_FAULTS.index('"Content-Type:')
    english_rule = '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n'
    wrong = PO_WITH_FAULTS[:header_start] + english_rule + PO_WITH_FAULTS[header_end:]
    catalogue = read_po(BytesIO(wrong.encode()), locale="ru")
    assert catalogue.num_plurals == 2
    pairs = _forms_and_categories(catalogue, "ru")
    assert len({cat for _, cat in pairs}) > len({form for form, _ in pairs})


def test_plural_counts_per_language():
    counts = {lang: catalogues.read_catalogue(lang).num_plurals for lang in LANGUAGES}
    assert counts == {
        "ar": 6,
        "zh-CN": 1,
        "en": 2,
        "fr": 2,
        "de": 2,
        "ja": 1,
        "pt": 2,
        "ru": 3,
        "es": 2,
        "uk": 3,
    }


def _single_value_forms(catalogue: Catalog) -> set[int]:
    """Plural forms chosen by exactly one n (e.g. Arabic 'one' and 'two')."""
    plural = gettext.c2py(catalogue.plural_expr)
    hits: dict[int, set[int]] = {}
    for n in range(2000):
        hits.setdefault(plural(n), set()).add(n)
    return {form for form, ns in hits.items() if len(ns) == 1}


def _entries() -> list[tuple[str, str, object, object]]:
    rows = []
    for language in LANGUAGES:
        for m in catalogues.read_catalogue(language):
            if m.id:
                rows.append((language, m.context, m.id, m.string))
    return rows


@pytest.mark.parametrize(("language", "context", "message_id", "translation"), _entries())
def test_placeholders_match_the_msgid(language, context, message_id, translation):
    """Every form carries exactly the msgid's placeholders, each once. The only exception is
    gettext's own: a plural form used for a single number (Arabic 'one', 'two') may spell
    the number out instead of showing the count."""
    ids = [message_id] if isinstance(message_id, str) else list(message_id)
    forms = [translation] if isinstance(translation, str) else list(translation)
    expected = sorted(placeholders(ids[0]))
    assert all(sorted(placeholders(i)) == expected for i in ids)
    if context.startswith(LABEL_CONTEXT_PREFIX):  # a label: no placeholder, one form
        assert expected == [] and placeholders(translation) == [], f"{language} {context}"
        return
    if context.startswith(PAGE_CONTEXT_PREFIX):  # a page's text: one form, the same placeholders
        assert sorted(placeholders(translation)) == expected, f"{language} {context}"
        return
    template = TEMPLATES[context.split("|")[0]]
    catalogue = catalogues.read_catalogue(language)
    single = _single_value_forms(catalogue) if template.plural and len(ids) == 2 else set()
    for index, form in enumerate(forms):
        got = sorted(placeholders(form))
        if index in single and template.plural not in got:
            got = sorted([*got, template.plural])
        assert got == expected, f"{language} {context} form {index}: {form!r}"


def test_pot_and_catalogues_are_current():
    """Fails when a template changed without `python -m truceline.i18n update`."""
    assert catalogues.stale_files() == []


def test_a_changed_template_makes_the_pot_stale(monkeypatch):
    """Even a translator's note counts: the .pot is compared by content, not by bytes."""
    first = next(iter(TEMPLATES))
    changed = {**TEMPLATES, first: replace(TEMPLATES[first], comment=TEMPLATES[first].comment + " Changed.")}
    monkeypatch.setattr(catalogues, "TEMPLATES", changed)
    assert catalogues.stale_files() == [catalogues.POT_PATH]


def test_a_new_label_makes_the_pot_and_every_catalogue_stale(monkeypatch):
    monkeypatch.setattr(catalogues, "LABELS", {**LABELS, "sender": "sender"})
    assert catalogues.stale_files() == [catalogues.POT_PATH, *map(catalogues.po_path, LANGUAGES)]


def test_catalogue_files_ship_in_the_wheel():
    # pyproject.toml: package-data truceline = ["i18n/locales/*/LC_MESSAGES/*", ...]
    package = catalogues.LOCALES_DIR.parent.parent
    for language in LANGUAGES:
        relative = catalogues.po_path(language).relative_to(package).as_posix()
        assert fnmatch.fnmatch(relative, "i18n/locales/*/LC_MESSAGES/*"), relative


def test_english_catalogue_is_the_source_text():
    for m in catalogues.read_catalogue("en"):
        if m.id:
            assert (m.string if isinstance(m.id, str) else tuple(m.string)) == (
                m.id if isinstance(m.id, str) else tuple(m.id)
            )


# Labels that are rightly the English word in a language.
_SAME_AS_ENGLISH = {("es", "label.no")}


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_translations_differ_from_english(language):
    """A catalogue that copies the English text has not been translated."""
    for m in catalogues.read_catalogue(language):
        if m.id and (language, m.context) not in _SAME_AS_ENGLISH:
            first = m.string if isinstance(m.string, str) else m.string[0]
            source = m.id if isinstance(m.id, str) else m.id[0]
            assert first != source, f"{language} {m.context} is the English text"
