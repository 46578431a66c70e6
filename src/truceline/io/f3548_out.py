"""Writing ASTM F3548-21: operations as ``OperationalIntent``, zones as ``Constraint``.

The layout is the F3548 OpenAPI's (astm-utm/Protocol ``utm.yaml``, rendered as classes in
InterUSS's ``uas_standards.astm.f3548.v21.api``; tests/io/test_io_f3548_out.py parses every
document written here with those classes and checks the schema rules that they do not).
What F3548 cannot say is refused with a FormatError naming the volume and the field, never
changed to fit:

- altitudes are W84 in metres only. Given an ``AltitudeModel`` (the one ``check`` builds from
  config), a band in another reference is converted to W84 conservatively: each limit is
  moved outward by every geoid (and terrain, and pressure) height over the volume's area plus
  the model's stated margin, so the written volume contains the true one; each conversion is
  noted (``notes``) for the caller to warn of. AGL needs the configured terrain model: without
  it the volume is refused naming the zone and the reference. Without a model, any band not
  in W84 is refused;
- an operational intent's volumes need both altitude limits; a constraint's may leave one
  out (an unlimited limit is then omitted, as the schema allows);
- the reference needs ``time_start`` and ``time_end``: a volume without an end is refused;
- ``OperationalIntentState`` has no state for an ended or cancelled operation.

Identifiers: ``reference.id`` must be a UUIDv4. An id that is one is written as it is;
any other (a UUIDv7, ``op-7``) as :func:`f3548_entity_id`, a UUIDv4-shaped digest of it, so
the same operation always gets the same F3548 id. Coordinates and altitudes are written at
full precision, so reading a written document gives back the same volumes.
"""

from __future__ import annotations

import hashlib
import math
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from truceline.domain.codec import time_to_text
from truceline.domain.operation import Operation, OperationState
from truceline.domain.zone import Zone
from truceline.errors import AltitudeReferenceError, FormatError
from truceline.geo.altitude import AltitudeBand, AltitudeModel, AltitudeReference
from truceline.geo.shapes import Circle, shape_bounds
from truceline.geo.volume import Volume4D

F3548_MEDIA_TYPE = "application/vnd.astm.f3548+json"
# OperationalIntentReference.uss_base_url is required. Offline (``check``) there is no USS
# to name: the reserved .invalid domain (RFC 2606) says so without pointing anywhere real.
OFFLINE_USS_BASE_URL = "https://truceline.invalid"
# F3548 UssAvailabilityState: Truceline does not arbitrate USS availability.
USS_AVAILABILITY = "Unknown"

# OperationState -> F3548 OperationalIntentState (there is no Planned; Ended is absence).
INTENT_STATES = {
    OperationState.PLANNED: "Accepted",
    OperationState.ACCEPTED: "Accepted",
    OperationState.ACTIVE: "Activated",
}

# utm.yaml's UUIDv4Format (as fixed on its F3548-21 branch; see ../shared/data/f3548/README.md).
UUID4 = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-4[0-9a-fA-F]{3}-[8-b][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$")


def f3548_entity_id(ident: str) -> str:
    """``ident`` if it is a UUIDv4, else a UUIDv4-shaped id derived from it (SHA-256 of
    ``truceline:<ident>``, version and variant bits set). Example:
    f3548_entity_id("op-7") == f3548_entity_id("op-7") and UUID4.match(f3548_entity_id("op-7"))."""
    if UUID4.match(ident):
        return ident.lower()
    digest = hashlib.sha256(f"truceline:{ident}".encode()).digest()[:16]
    return str(uuid.UUID(bytes=digest, version=4))


def operational_intent(
    operation: Operation,
    *,
    manager: str | None = None,
    version: int = 1,
    uss_base_url: str = OFFLINE_USS_BASE_URL,
    model: AltitudeModel | None = None,
    notes: list[AltitudeNote] | None = None,
) -> dict[str, Any]:
    """``operation`` as an F3548 ``OperationalIntent`` {reference, details}.

    ``manager``: the USS name to write (the party's ``uss_manager`` alias), else the party's
    name. Every volume is nominal (Truceline keeps no off-nominal ones apart). ``model``
    converts bands not in W84 (module docstring), each conversion appended to ``notes``.
    """
    state = INTENT_STATES.get(operation.state)
    if state is None:
        raise FormatError(
            f"is {operation.state}; an F3548 operational intent is Accepted, Activated, "
            "Nonconforming or Contingent",
            field="state",
            where=f"operation {operation.id}",
        )
    volumes = _volumes(operation.volumes, f"operation {operation.id}", True, model, notes)
    details: dict[str, Any] = {"volumes": volumes, "off_nominal_volumes": []}
    if operation.priority is not None:
        details["priority"] = operation.priority
    reference = {
        "id": f3548_entity_id(operation.id),
        "manager": manager or operation.party,
        "uss_availability": USS_AVAILABILITY,
        "version": version,
        "state": state,
        **_bounds(operation.volumes),
        "uss_base_url": uss_base_url,
        # Truceline keeps no DSS subscriptions; the schema requires the member (a UUIDv4).
        "subscription_id": f3548_entity_id(f"subscription:{operation.id}"),
    }
    return {"reference": reference, "details": details}


def constraint(
    zone: Zone,
    *,
    manager: str | None = None,
    version: int = 1,
    uss_base_url: str = OFFLINE_USS_BASE_URL,
    model: AltitudeModel | None = None,
    notes: list[AltitudeNote] | None = None,
) -> dict[str, Any]:
    """``zone`` as an F3548 ``Constraint`` {reference, details}; ``details.type`` is the
    zone's kind. ``manager``: the USS name to write, else the zone's party (or the operator).
    ``model`` and ``notes``: as for ``operational_intent``."""
    volumes = _volumes(zone.volumes, f"zone {zone.id}", False, model, notes)
    reference = {
        "id": f3548_entity_id(zone.id),
        "manager": manager or zone.party or "operator",
        "uss_availability": USS_AVAILABILITY,
        "version": version,
        **_bounds(zone.volumes),
        "uss_base_url": uss_base_url,
    }
    return {"reference": reference, "details": {"volumes": volumes, "type": str(zone.kind)}}


@dataclass(frozen=True, slots=True)
class AltitudeNote:
    """A volume written in W84 through a conversion: what it was, what was written, and the
    conversions applied (e.g. ``"EGM96"``, ``"terrain+EGM96"``, ``"ISA"``)."""

    where: str
    original: AltitudeBand
    written: AltitudeBand
    conversion: str

    @property
    def message(self) -> str:
        def limits(band: AltitudeBand) -> str:
            return f"{band.lower_m:g} to {band.upper_m:g} m"

        return (
            f"{self.original.reference_text} {limits(self.original)} written as W84 {limits(self.written)}"
            f" through {self.conversion}, widened outward by the model's range and margin so the"
            " written volume contains the true one"
        )


def volume4d(
    volume: Volume4D,
    where: str = "volume",
    *,
    both_limits: bool = True,
    model: AltitudeModel | None = None,
    notes: list[AltitudeNote] | None = None,
) -> dict[str, Any]:
    """One F3548 Volume4D. ``both_limits``: an unlimited altitude limit is an error (an
    operational intent's volume) rather than left out (a constraint's). ``model``: converts
    a band not in W84 (module docstring); without one such a band is refused."""
    band = _w84_band(volume, where, model, notes)
    volume3d: dict[str, Any] = _outline(volume)
    for name, value in (("altitude_lower", band.lower_m), ("altitude_upper", band.upper_m)):
        if math.isinf(value):
            if both_limits:
                raise FormatError(
                    "is unlimited; an F3548 operational intent needs both altitude limits",
                    field=name,
                    where=where,
                )
            continue
        volume3d[name] = {"value": value, "reference": "W84", "units": "M"}
    if band.lower_m == band.upper_m:  # utm.yaml: the upper limit "must be greater"
        raise FormatError(
            f"equals altitude_lower ({band.lower_m} m); F3548 needs a band of some height",
            field="altitude_upper",
            where=where,
        )
    if volume.time.end is None:
        raise FormatError("is open; F3548 needs an end time", field="time_end", where=where)
    return {
        "volume": volume3d,
        "time_start": _time(time_to_text(volume.time.start)),
        "time_end": _time(time_to_text(volume.time.end)),
    }


def _w84_band(
    volume: Volume4D, where: str, model: AltitudeModel | None, notes: list[AltitudeNote] | None
) -> AltitudeBand:
    band = volume.altitude
    if band.references() <= {AltitudeReference.W84}:
        return AltitudeBand(band.lower_m, band.upper_m, AltitudeReference.W84)
    if model is None:
        raise FormatError(
            f"is {band.reference_text}; F3548 altitudes are W84 only, and no altitude model is given"
            " to convert it",
            field="altitude_reference",
            where=where,
        )
    try:
        # over the whole outline: the geoid (and terrain) heights anywhere in it are allowed for
        converted = model.converted(band, AltitudeReference.W84, shape_bounds(volume.shape))
    except AltitudeReferenceError as error:
        raise FormatError(
            f"is {band.reference_text}: {error.message}", field="altitude_reference", where=where
        ) from None
    if notes is not None and converted.conversion:
        notes.append(AltitudeNote(where, band, converted.band, converted.conversion))
    return converted.band


def _volumes(
    volumes: Sequence[Volume4D],
    owner: str,
    both_limits: bool,
    model: AltitudeModel | None,
    notes: list[AltitudeNote] | None,
) -> list[dict[str, Any]]:
    return [
        volume4d(v, f"{owner}: volumes[{i}]", both_limits=both_limits, model=model, notes=notes)
        for i, v in enumerate(volumes)
    ]


def _outline(volume: Volume4D) -> dict[str, Any]:
    shape = volume.shape
    if isinstance(shape, Circle):
        lng, lat = shape.center
        return {
            "outline_circle": {
                "center": {"lng": lng, "lat": lat},
                "radius": {"value": shape.radius_m, "units": "M"},
            }
        }
    # Ours is closed (first == last); F3548 leaves the ring open.
    return {"outline_polygon": {"vertices": [{"lng": lng, "lat": lat} for lng, lat in shape.ring[:-1]]}}


def _time(text: str) -> dict[str, str]:
    return {"value": text.replace(".000000Z", "Z"), "format": "RFC3339"}


def _bounds(volumes: Sequence[Volume4D]) -> dict[str, Any]:
    """The reference's time_start / time_end: the earliest start and the latest end (every
    end is known: ``volume4d`` refused an open one)."""
    start = min(v.time.start for v in volumes)
    end = max(v.time.end for v in volumes if v.time.end is not None)
    return {"time_start": _time(time_to_text(start)), "time_end": _time(time_to_text(end))}
