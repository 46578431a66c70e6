"""Rendering hotline message bodies for a reader: templates translated, free text as written.

A body is either ``Rendered(template_id, params)`` (an automatic message, shown in each
reader's language) or ``FreeText(text, language)`` (what a duty officer wrote, shown as
written and marked with its language). ``render_body`` returns ``Text(text, language,
rtl)`` so a client can set ``lang`` and ``dir`` on what it displays.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime
from babel.numbers import format_decimal
from babel.units import format_unit

from truceline.errors import ValidationError
from truceline.i18n.catalogues import translations
from truceline.i18n.labels import LABELS, label_context
from truceline.i18n.languages import babel_locale, check_language, is_rtl
from truceline.i18n.page_texts import PAGE_CONTEXT_PREFIX, PAGE_TEXTS
from truceline.i18n.templates import UNITS, Kind, Measure, Param, get_template, validate_params

# Unicode bidi isolates (UAX #9): in right-to-left text each inserted value is isolated, so
# a Latin id, a number or a quoted English reason keeps its own order and does not reorder
# the Arabic sentence around it.
_FSI, _PDI = "\u2068", "\u2069"


def format_value(param: Param, value: object, language: str) -> str:
    """One validated parameter value as ``language`` (one of the ten) writes it."""
    locale = babel_locale(language)
    if param.kind is Kind.TEXT or param.kind is Kind.CHOICE:
        return str(value)
    if param.kind is Kind.INTEGER:
        assert isinstance(value, int)
        return format_decimal(value, locale=locale)
    if param.kind is Kind.MEASURE:
        measure = value if isinstance(value, Measure) else Measure(float(value), param.units[0])  # type: ignore[arg-type]
        pattern = "#,##0" + ("." + "#" * param.max_decimals if param.max_decimals else "")
        return format_unit(measure.value, UNITS[measure.unit], length="short", format=pattern, locale=locale)
    assert isinstance(value, datetime)
    # "long" is the locale's pattern with the zone, so every reader sees that it is UTC.
    return format_datetime(value.astimezone(UTC), format="long", tzinfo=UTC, locale=locale)


def render(template_id: str, params: Mapping[str, object], language: str) -> str:
    """The message of ``template_id`` with ``params``, in ``language`` (one of the ten).

    Requires exactly the template's parameters with values of their kinds; raises
    ValidationError naming the unknown template (``template``), the language
    (``language``), or the missing, extra or ill-typed parameter (its name).
    """
    template = get_template(template_id)
    check_language(language)
    validate_params(template, params)
    message = template.message_for(params)
    catalogue = translations(language)
    if message.plural is None:
        pattern = catalogue.pgettext(message.context, message.singular)
    else:
        assert template.plural is not None
        count = params[template.plural]
        assert isinstance(count, int)
        pattern = catalogue.npgettext(message.context, message.singular, message.plural, count)
    rtl = is_rtl(language)
    values = {}
    for p in template.params:
        text = format_value(p, params[p.name], language)
        values[p.name] = f"{_FSI}{text}{_PDI}" if rtl else text
    return pattern.format(**values)


def label(label_id: str, language: str) -> str:
    """The interface label ``label_id`` (``truceline.i18n.labels``) in ``language`` (one of
    the ten); the English text where a catalogue lacks it."""
    context = label_context(label_id)
    check_language(language)
    try:
        return translations(language).pgettext(context, LABELS[label_id])
    except OSError:  # a missing catalogue file, as render_text allows: English
        return LABELS[label_id]


def page_texts(language: str) -> dict[str, str]:
    """Every text of the browser pages (``truceline.i18n.page_texts``) in ``language`` (one
    of the ten); the English text where a catalogue lacks one."""
    check_language(language)
    try:
        found = translations(language)
    except OSError:  # a missing catalogue file, as render_text allows: English
        return dict(PAGE_TEXTS)
    return {key: found.pgettext(PAGE_CONTEXT_PREFIX + key, english) for key, english in PAGE_TEXTS.items()}


@dataclass(frozen=True, slots=True)
class Rendered:
    """An automatic message: a template id and its parameters (checked on construction)."""

    template_id: str
    params: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        template = get_template(self.template_id)
        validate_params(template, self.params)
        params = dict(self.params)
        # A bare number is a measure in the parameter's only unit; storing it as a Measure
        # keeps the unit with the value in the ledger, so a JSON round trip gives an equal body.
        for p in template.params:
            if p.kind is Kind.MEASURE and not isinstance(params[p.name], Measure):
                params[p.name] = Measure(params[p.name], p.units[0])  # type: ignore[arg-type]
            elif p.kind is Kind.DATETIME:
                # Kept in UTC: a local time in a DST gap has no stable round trip otherwise.
                params[p.name] = params[p.name].astimezone(UTC)  # type: ignore[attr-defined]
        object.__setattr__(self, "params", MappingProxyType(params))


@dataclass(frozen=True, slots=True)
class FreeText:
    """Text a person wrote, in ``language`` (a BCP 47 tag CLDR knows, e.g. ``uk`` or
    ``zh-CN``; not limited to the ten). It is never translated."""

    text: str
    language: str

    def __post_init__(self) -> None:
        if not isinstance(self.text, str) or not self.text.strip():
            raise ValidationError("must be a non-empty text", field="text")
        _locale_of_tag(self.language)


MessageBody = Rendered | FreeText


@dataclass(frozen=True, slots=True)
class Text:
    """What a reader is shown: the text, its language tag, and whether it runs right to left."""

    text: str
    language: str
    rtl: bool


def _locale_of_tag(tag: str) -> Locale:
    try:
        return Locale.parse(tag, sep="-")
    except (ValueError, TypeError, UnknownLocaleError):
        raise ValidationError(f"{tag!r} is not a language tag CLDR knows", field="language") from None


def render_body(body: MessageBody, reader_language: str) -> Text:
    """``body`` as the reader of ``reader_language`` (one of the ten) sees it.

    A template is rendered in the reader's language; free text keeps its own text and
    language, whatever the reader's.
    """
    check_language(reader_language, field="reader_language")
    if isinstance(body, FreeText):
        rtl = _locale_of_tag(body.language).character_order == "right-to-left"
        return Text(body.text, body.language, rtl)
    text = render(body.template_id, body.params, reader_language)
    return Text(text, reader_language, is_rtl(reader_language))


def body_to_json(body: MessageBody) -> dict[str, Any]:
    """A JSON object for the ledger and the API: datetimes as RFC 3339 UTC (``Z``), measures
    as ``{"value", "unit"}``; ``body_from_json`` reads it back to an equal body."""
    if isinstance(body, FreeText):
        return {"kind": "free_text", "text": body.text, "language": body.language}
    template = get_template(body.template_id)
    params: dict[str, Any] = {}
    for p in template.params:
        value = body.params[p.name]
        if isinstance(value, datetime):
            params[p.name] = value.astimezone(UTC).isoformat().replace("+00:00", "Z")
        elif isinstance(value, Measure):
            params[p.name] = {"value": value.value, "unit": value.unit}
        else:
            params[p.name] = value
    return {"kind": "template", "template": body.template_id, "params": params}


def body_from_json(data: Mapping[str, Any]) -> MessageBody:
    """The body of a ``body_to_json`` object; ValidationError naming the field at fault."""
    kind = data.get("kind")
    if kind == "free_text":
        return FreeText(data.get("text"), data.get("language"))  # type: ignore[arg-type]
    if kind != "template":
        raise ValidationError(f"{kind!r} is not one of: template, free_text", field="kind")
    template = get_template(data.get("template"))  # type: ignore[arg-type]
    raw = data.get("params")
    if not isinstance(raw, Mapping):
        raise ValidationError("must be an object", field="params")
    params: dict[str, object] = {}
    for name, value in raw.items():
        try:
            p = template.param(name)
        except KeyError:
            params[name] = value  # Rendered names the unexpected parameter
            continue
        if p.kind is Kind.DATETIME and isinstance(value, str):
            try:
                params[name] = datetime.fromisoformat(value)
            except ValueError:
                raise ValidationError(f"{value!r} is not an RFC 3339 date-time", field=name) from None
        elif p.kind is Kind.MEASURE and isinstance(value, Mapping):
            if set(value) != {"value", "unit"}:
                raise ValidationError("must be an object with 'value' and 'unit'", field=name)
            try:
                params[name] = Measure(value["value"], value["unit"])
            except ValidationError as error:
                raise ValidationError(error.message, field=f"{name}.{error.field}") from None
        else:
            params[name] = value
    return Rendered(template.id, params)
