"""The registry of automatic hotline messages: a stable id, typed parameters, English source.

A template's English text is the gettext ``msgid``; its id (plus the variant, for a
template whose wording depends on a choice) is the ``msgctxt``, so two templates with the
same English never share a translation. Placeholders are ``str.format`` fields named after
the parameters; every parameter appears in every message of its template.

Adding a template: append it to ``TEMPLATES``, run ``python -m truceline.i18n.catalogues
update`` and translate the new, empty entries in each .po (see docs/i18n.md).
"""

from __future__ import annotations

import math
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from truceline.errors import ValidationError


class Kind(StrEnum):
    TEXT = "text"  # ids, names, free text: inserted exactly as written, never translated
    INTEGER = "integer"  # a count or a version number, >= 0; may drive the plural form
    MEASURE = "measure"  # a number with a unit (Measure, or a bare number if one unit)
    DATETIME = "datetime"  # a timezone-aware datetime, shown in UTC
    CHOICE = "choice"  # one of a closed set of values; selects the wording (variant)


# Our unit names -> CLDR unit ids (babel.units.format_unit).
UNITS: dict[str, str] = {
    "m": "length-meter",
    "km": "length-kilometer",
    "NM": "length-nautical-mile",
    "km2": "area-square-kilometer",
    "s": "duration-second",
}


@dataclass(frozen=True, slots=True)
class Measure:
    """A number with one of our unit names (``m``, ``km``, ``NM``, ``km2``, ``s``)."""

    value: float
    unit: str

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValidationError(
                f"unknown unit {self.unit!r}; expected one of {', '.join(UNITS)}", field="unit"
            )
        if isinstance(self.value, bool) or not isinstance(self.value, int | float):
            raise ValidationError(f"must be a number, not {type(self.value).__name__}", field="value")
        if not math.isfinite(self.value):
            raise ValidationError(f"must be finite, not {self.value!r}", field="value")


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter: its name (the placeholder), kind, and what translators should know."""

    name: str
    kind: Kind
    note: str
    units: tuple[str, ...] = ()  # MEASURE: accepted units (a bare number means units[0])
    max_decimals: int = 0  # MEASURE: fraction digits shown at most
    choices: tuple[str, ...] = ()  # CHOICE: accepted values


@dataclass(frozen=True, slots=True)
class Message:
    """One gettext entry: context, English singular, and English plural if counted."""

    context: str
    singular: str
    plural: str | None = None


@dataclass(frozen=True, slots=True)
class Template:
    """A message template. ``plural`` names the INTEGER parameter that picks the plural
    form; ``variants`` maps each value of the CHOICE parameter ``choice`` to its wording."""

    id: str
    params: tuple[Param, ...]
    text: str | Mapping[str, str]
    text_plural: str | Mapping[str, str] | None = None
    plural: str | None = None
    choice: str | None = None
    comment: str = ""

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def messages(self) -> tuple[Message, ...]:
        """The gettext entries of this template, one per variant."""
        if self.choice is None:
            assert isinstance(self.text, str)
            assert self.text_plural is None or isinstance(self.text_plural, str)
            return (Message(self.id, self.text, self.text_plural),)
        assert isinstance(self.text, Mapping)
        plurals = self.text_plural if isinstance(self.text_plural, Mapping) else {}
        return tuple(
            Message(variant_context(self.id, self.choice, value), self.text[value], plurals.get(value))
            for value in self.param(self.choice).choices
        )

    def message_for(self, params: Mapping[str, object]) -> Message:
        """The entry that ``params`` (already validated) select."""
        if self.choice is None:
            return self.messages()[0]
        wanted = variant_context(self.id, self.choice, str(params[self.choice]))
        return next(m for m in self.messages() if m.context == wanted)


def variant_context(template_id: str, choice: str, value: str) -> str:
    return f"{template_id}|{choice}={value}"


def placeholders(text: str) -> list[str]:
    """The ``str.format`` field names in ``text``, in order (repeats kept).

    Raises ValidationError if a field has a conversion or a format spec, or is positional:
    translations may move placeholders, never format them.
    """
    names = []
    for _, name, spec, conversion in string.Formatter().parse(text):
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ValidationError(
                f"placeholder {{{name}{'!' + conversion if conversion else ''}"
                f"{':' + spec if spec else ''}}} must be a bare parameter name",
                field="placeholder",
            )
        names.append(name)
    return names


def _text(name: str, note: str) -> Param:
    return Param(name, Kind.TEXT, note)


def _int(name: str, note: str) -> Param:
    return Param(name, Kind.INTEGER, note)


def _time(name: str, note: str) -> Param:
    return Param(name, Kind.DATETIME, note)


def _measure(name: str, note: str, units: tuple[str, ...], max_decimals: int) -> Param:
    return Param(name, Kind.MEASURE, note, units=units, max_decimals=max_decimals)


_ZONE = (_text("zone", "zone id"), _text("zone_name", "zone name, as its proposer wrote it"))
_PARTY = _text("party", "party name")
_VERSION = _int("version", "zone version number (1, 2, ...)")

TEMPLATES: dict[str, Template] = {
    t.id: t
    for t in (
        Template(
            "conflict.operation",
            (
                _text("operation", "operation id"),
                _text("party", "name of the party filing the operation"),
                _text("other_operation", "id of the operation it conflicts with"),
                _text("other_party", "name of the other operation's party"),
                _time("start", "start of the overlap in time (date and time, UTC)"),
                _time("end", "end of the overlap in time (date and time, UTC)"),
                _measure("lower_m", "lower edge of the shared altitude band, e.g. '1,200 m'", ("m",), 0),
                _measure("upper_m", "upper edge of the shared altitude band", ("m",), 0),
                _measure("area_km2", "horizontal area of the overlap, e.g. '12.5 km²'", ("km2",), 2),
            ),
            "Strategic conflict: operation {operation} ({party}) overlaps operation {other_operation} "
            "({other_party}) from {start} to {end}, between {lower_m} and {upper_m}, over an area "
            "of {area_km2}.",
            comment="Two planned operations share airspace (or ground) at the same time.",
        ),
        Template(
            "conflict.zone",
            (
                _text("operation", "operation id"),
                _PARTY,
                *_ZONE,
                Param("entry", Kind.CHOICE, "the zone's entry rule", choices=("forbidden", "notice")),
            ),
            {
                "forbidden": "Operation {operation} ({party}) enters zone {zone_name} ({zone}), "
                "where entry is forbidden.",
                "notice": "Operation {operation} ({party}) enters zone {zone_name} ({zone}), "
                "where entry requires prior notice.",
            },
            choice="entry",
            comment="A planned or live operation enters a zone that restricts it.",
        ),
        Template(
            "conflict.declared_zone",
            (
                _text("operation", "operation id"),
                _PARTY,
                *_ZONE,
                _text("declared_by", "name of the party that proposed (declared) the zone"),
            ),
            "Operation {operation} ({party}) enters zone {zone_name} ({zone}), declared by "
            "{declared_by}. The operation's party has not signed this zone, which therefore does "
            "not bind it: the operation is accepted and both sides are informed.",
            comment="An operation enters a zone its party has not signed: declared, not recognised.",
        ),
        Template(
            "operation.refused",
            (_text("operation", "operation id"), _PARTY, _int("conflicts", "number of conflicts")),
            "Operation {operation} ({party}) has been refused: {conflicts} conflict must be "
            "resolved before it can be filed.",
            "Operation {operation} ({party}) has been refused: {conflicts} conflicts must be "
            "resolved before it can be filed.",
            plural="conflicts",
            comment="A filing refused because it conflicts with zones that forbid it.",
        ),
        Template(
            "zone.proposed",
            (
                *_ZONE,
                _text("party", "name of the proposing party"),
                _VERSION,
                _int("signatories", "number of parties whose signature the zone needs"),
            ),
            "Zone {zone_name} ({zone}), version {version}, has been proposed by {party}; it needs "
            "the signature of {signatories} party.",
            "Zone {zone_name} ({zone}), version {version}, has been proposed by {party}; it needs "
            "the signatures of {signatories} parties.",
            plural="signatories",
        ),
        Template(
            "zone.counter_proposed",
            (*_ZONE, _text("party", "name of the party counter-proposing"), _VERSION),
            "{party} has counter-proposed version {version} of zone {zone_name} ({zone}).",
            comment="A new version with a changed border, altitudes or times.",
        ),
        Template(
            "zone.signed",
            (
                *_ZONE,
                _text("party", "name of the party that signed"),
                _VERSION,
                _int("signed", "signatures collected so far for this version"),
                _int("required", "signatures this version needs in all"),
            ),
            "{party} has signed version {version} of zone {zone_name} ({zone}): {signed} of "
            "{required} required signature.",
            "{party} has signed version {version} of zone {zone_name} ({zone}): {signed} of "
            "{required} required signatures.",
            plural="required",
        ),
        Template(
            "zone.rejected",
            (
                *_ZONE,
                _text("party", "name of the rejecting party"),
                _VERSION,
                _text("reason", "free text in the writer's own language: keep it as it is, in quotes"),
            ),
            "{party} has rejected version {version} of zone {zone_name} ({zone}). Reason given "
            "(original text): “{reason}”",
        ),
        Template(
            "zone.activated",
            (*_ZONE, _VERSION, _time("start", "when the zone takes effect (UTC)")),
            "Zone {zone_name} ({zone}) is active from {start}: every required signatory has signed "
            "version {version}.",
        ),
        Template(
            "zone.withdrawn",
            (*_ZONE, _text("party", "name of the withdrawing party")),
            "{party} has withdrawn zone {zone_name} ({zone}); it no longer applies.",
        ),
        Template(
            "zone.expired",
            (*_ZONE, _time("end", "when the zone's time window ended (UTC)")),
            "Zone {zone_name} ({zone}) expired at {end} and no longer applies.",
        ),
        Template(
            "message.escalated",
            (
                _text("message", "hotline message id"),
                _text("party", "name of the party that did not acknowledge"),
                _time("deadline", "the message's acknowledgement deadline, the first one missed (UTC)"),
                _int("overdue_min", "whole minutes past that deadline"),
            ),
            "Message {message} to {party} was not acknowledged by its deadline ({deadline}) and has "
            "been escalated: {overdue_min} minute overdue.",
            "Message {message} to {party} was not acknowledged by its deadline ({deadline}) and has "
            "been escalated: {overdue_min} minutes overdue.",
            plural="overdue_min",
        ),
        Template(
            "message.unacknowledged",
            (
                _text("message", "hotline message id"),
                _text("party", "name of the party that never acknowledged"),
                _time("deadline", "the message's acknowledgement deadline, the first one missed (UTC)"),
                _int("overdue_min", "whole minutes past that deadline"),
            ),
            "Message {message} to {party} was never acknowledged: {overdue_min} minute after its "
            "deadline ({deadline}) and after every escalation. It will not be escalated again.",
            "Message {message} to {party} was never acknowledged: {overdue_min} minutes after its "
            "deadline ({deadline}) and after every escalation. It will not be escalated again.",
            plural="overdue_min",
            comment="Sent once, after the last escalation of a message has lapsed too.",
        ),
        Template(
            "message.reminder",
            (
                _text("message", "hotline message id"),
                _time("deadline", "the acknowledgement deadline (UTC)"),
            ),
            "Reminder: message {message} awaits your acknowledgement by {deadline}.",
        ),
        Template(
            "humanitarian.site",
            (
                _text("site", "site id"),
                _text("site_name", "site name, as notified"),
                _text("organisation", "name of the humanitarian organisation"),
            ),
            "Humanitarian site {site_name} ({site}) notified by {organisation}. Your "
            "acknowledgement is required.",
        ),
        Template(
            "humanitarian.convoy",
            (
                _text("convoy", "convoy id"),
                _text("organisation", "name of the humanitarian organisation"),
                _time("start", "start of the movement (UTC)"),
                _time("end", "end of the movement (UTC)"),
            ),
            "Humanitarian convoy {convoy} notified by {organisation}, moving between {start} and "
            "{end}. Your acknowledgement is required.",
        ),
        Template(
            "conflict.humanitarian",
            (
                _text("operation", "operation id"),
                _text("party", "name of the party filing the operation"),
                _text("notification", "id of the humanitarian notification (a site or a movement)"),
                _text("notification_name", "name of the site or movement, as notified"),
                _text("organisation", "name of the humanitarian organisation"),
                _time("start", "start of the overlap in time (date and time, UTC)"),
                _time("end", "end of the overlap in time (date and time, UTC)"),
            ),
            "Humanitarian conflict: operation {operation} ({party}) meets {notification_name} "
            "({notification}), notified by {organisation}, from {start} to {end}.",
            comment="An operation meets a notified humanitarian site or convoy route; both sides are told.",
        ),
        Template(
            "notification.disputed",
            (
                _text("notification", "id of the humanitarian notification"),
                _text("notification_name", "name of the site or movement, as notified"),
                _text("party", "name of the party disputing it"),
                _text("reason", "the party's reason, free text in its own language (not translated)"),
            ),
            "{party} disputes notification {notification_name} ({notification}): {reason}",
            comment="A party says a notification is wrong (e.g. its coordinates); it is not a refusal.",
        ),
        Template(
            "incident.reported",
            (
                _text("incident", "incident id"),
                _text("kind", "kind of incident, as the observer's system names it"),
                *_ZONE,
                _text("reporter", "name of the observer or party reporting"),
                _time("observed_at", "when the incident was observed (UTC)"),
            ),
            "Incident {incident} ({kind}) reported by {reporter} in zone {zone_name} ({zone}), "
            "observed at {observed_at}.",
        ),
        Template(
            "alert.tactical",
            (
                _text("track", "track id"),
                _text("party", "party of the first track"),
                _text("other_track", "id of the other track"),
                _text("other_party", "party of the other track"),
                _measure("time_to_los_s", "time until loss of separation, e.g. '45 s'", ("s",), 0),
                _measure("distance", "distance at closest approach, in NM or km", ("NM", "km"), 1),
            ),
            "Tactical alert: track {track} ({party}) and track {other_track} ({other_party}) will "
            "lose separation in {time_to_los_s}; closest approach {distance}.",
            comment="Two live tracks of different parties are predicted to come too close.",
        ),
        Template(
            "alert.incursion",
            (
                _text("track", "track id"),
                _PARTY,
                *_ZONE,
                _text("zone_party", "name of the party that proposed the zone (or 'operator')"),
                _measure("entry_s", "time until the track enters the zone, e.g. '40 s'; 0 s: inside now",
                         ("s",), 0),
                Param("binding", Kind.CHOICE, "whether the zone binds the track's party",
                      choices=("binding", "declared")),
            ),
            {
                "binding": "Zone alert: track {track} ({party}) is inside zone {zone_name} ({zone}) of "
                "{zone_party}, or will be in {entry_s} (0 s: inside now). The zone binds this party.",
                "declared": "Zone alert: track {track} ({party}) is inside zone {zone_name} ({zone}) "
                "declared by {zone_party}, or will be in {entry_s} (0 s: inside now). This party has "
                "not signed the zone, which therefore does not bind it.",
            },
            choice="binding",
            comment="A live track is inside, or about to enter, a zone that restricts its party.",
        ),
        Template(
            "alert.humanitarian",
            (
                _text("track", "track id"),
                _PARTY,
                _text("notification", "id of the humanitarian notification"),
                _text("name", "name of the site or movement, as the organisation wrote it"),
                _text("organisation", "name of the humanitarian organisation that notified it"),
                _measure("entry_s", "time until it enters the protected area, e.g. '40 s'; 0 s: inside",
                         ("s",), 0),
                Param("subject_kind", Kind.CHOICE, "whether a fixed site or a movement (a convoy) is "
                      "concerned", choices=("site", "movement")),
            ),
            {
                "site": "Humanitarian proximity: track {track} ({party}) is within the protected area of the "
                "humanitarian site {name} ({notification}) notified by {organisation}, or will be in "
                "{entry_s} (0 s: inside now).",
                "movement": "Humanitarian proximity: track {track} ({party}) is within the corridor of the "
                "humanitarian movement {name} ({notification}) notified by {organisation}, or will be in "
                "{entry_s} (0 s: inside now).",
            },
            choice="subject_kind",
            comment="A live track is inside, or about to enter, a notified humanitarian site or movement.",
        ),
        Template(
            "alert.non_conforming",
            (
                _text("track", "track id"),
                _PARTY,
                _text("operation", "id of the operation the party filed"),
                _measure("horizontal_m", "distance outside the operation's area, e.g. '850 m'", ("m",), 0),
                _measure("vertical_m", "distance outside the operation's altitude band", ("m",), 0),
            ),
            "Non-conformance: track {track} ({party}) is outside its filed operation {operation}: "
            "{horizontal_m} outside its area and {vertical_m} outside its altitude band.",
            comment="A live track of a party is outside every volume the party filed for it.",
        ),
        Template(
            "alert.closed",
            (
                _text("subject", "what the alert was about: track ids, and a zone or operation id"),
                _time("last_seen", "when the situation was last seen (UTC)"),
                Param("kind", Kind.CHOICE, "what kind of alert ended",
                      choices=("conflict", "incursion", "nonconformance", "proximity")),
            ),
            {
                "conflict": "The tactical alert {subject} has ended: the tracks were last in conflict "
                "at {last_seen}.",
                "incursion": "The zone alert {subject} has ended: the track was last inside or "
                "heading into the zone at {last_seen}.",
                "nonconformance": "The non-conformance alert {subject} has ended: the track was last "
                "outside its operation at {last_seen}.",
                "proximity": "The humanitarian proximity alert {subject} has ended: the track was last "
                "near the site or movement at {last_seen}.",
            },
            choice="kind",
            comment="Follows an alert message in its thread when the situation it reported ends.",
        ),
    )
}


def get_template(template_id: str) -> Template:
    """The template with this id (ValidationError on ``template`` for an unknown id)."""
    try:
        return TEMPLATES[template_id]
    except KeyError:
        raise ValidationError(f"unknown message template {template_id!r}", field="template") from None


def check_registry(templates: Mapping[str, Template] = TEMPLATES) -> None:
    """Raise ValidationError unless every template is consistent: the plural and choice
    parameters exist with the right kinds, and every message uses exactly the template's
    parameters (less the choice) as placeholders."""
    for t in templates.values():
        names = [p.name for p in t.params]
        if len(set(names)) != len(names):
            raise ValidationError(f"{t.id}: a parameter is listed twice", field="params")
        if t.plural is not None and t.param(t.plural).kind is not Kind.INTEGER:
            raise ValidationError(f"{t.id}: plural parameter must be an integer", field="plural")
        if t.choice is not None and t.param(t.choice).kind is not Kind.CHOICE:
            raise ValidationError(f"{t.id}: choice parameter must be a choice", field="choice")
        for p in t.params:
            if p.kind is Kind.MEASURE and not (p.units and all(u in UNITS for u in p.units)):
                raise ValidationError(f"{t.id}: {p.name} needs known units", field="units")
        expected = {p.name for p in t.params} - {t.choice}
        for m in t.messages():
            if (m.plural is None) != (t.plural is None):
                raise ValidationError(f"{m.context}: plural text iff plural parameter", field="plural")
            for text in (m.singular, m.plural):
                if text is not None and set(placeholders(text)) != expected:
                    raise ValidationError(
                        f"{m.context}: placeholders {sorted(set(placeholders(text)))} "
                        f"differ from parameters {sorted(expected)}",
                        field="placeholder",
                    )


def validate_params(template: Template, params: Mapping[str, object]) -> None:
    """Raise ValidationError (field = the parameter) for a missing, extra or ill-typed one."""
    expected = {p.name for p in template.params}
    for name in params:
        if name not in expected:
            raise ValidationError(
                f"unexpected parameter for template {template.id!r}; it takes {', '.join(sorted(expected))}",
                field=name,
            )
    for p in template.params:
        if p.name not in params:
            raise ValidationError(f"missing parameter for template {template.id!r}", field=p.name)
        _check_value(p, params[p.name])


def _check_value(p: Param, value: object) -> None:
    def fail(message: str) -> ValidationError:
        return ValidationError(message, field=p.name)

    if p.kind is Kind.TEXT:
        if not isinstance(value, str) or not value.strip():
            raise fail(f"must be a non-empty text, not {value!r}")
    elif p.kind is Kind.INTEGER:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise fail(f"must be an integer >= 0, not {value!r}")
    elif p.kind is Kind.MEASURE:
        if isinstance(value, Measure):
            if value.unit not in p.units:
                raise fail(f"unit {value.unit!r} not accepted; expected one of {', '.join(p.units)}")
        elif len(p.units) == 1 and isinstance(value, int | float) and not isinstance(value, bool):
            if not math.isfinite(value):
                raise fail(f"must be finite, not {value!r}")
        else:
            units = " or ".join(p.units)
            raise fail(f"must be a Measure in {units}" + (" or a number" if len(p.units) == 1 else ""))
    elif p.kind is Kind.DATETIME:
        if not isinstance(value, datetime) or value.utcoffset() is None:
            raise fail(f"must be a timezone-aware datetime, not {value!r}")
    elif p.kind is Kind.CHOICE and value not in p.choices:
        raise fail(f"{value!r} is not one of: {', '.join(p.choices)}")
