"""Negotiated zones: propose, counter-propose, sign, reject, withdraw; versions and their diff.

A version is identified by the SHA-256 of the RFC 8785 bytes of its zone record
(``truceline.domain.codec.zone_to_record``). A zone becomes active only when every
required signatory (the proposer and the parties it named) has signed the same version;
a signature on an older version does not count for a newer one. While a version is in
force, a counter-proposal leaves it in force until the new version is signed by all.

A version in force binds only its signatories: a restricted party that did not sign it
meets a ``declared_zone`` conflict, never a refusal (docs/zones.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from sqlalchemy import Connection

from truceline.domain.clock import ms_text
from truceline.domain.codec import zone_from_record, zone_to_record
from truceline.domain.party import INFORMED_ROLES, SIGNING_ROLES
from truceline.domain.zone import Zone, ZoneState
from truceline.errors import ConflictError, ForbiddenError, FormatError, NotFoundError, ValidationError
from truceline.geo.difference import area_change
from truceline.io.documents import document_format, exactly_one
from truceline.io.ed269 import read_ed269
from truceline.io.features import ReadWarning
from truceline.io.geojson import read_zones
from truceline.ledger.canonical import canonical_json
from truceline.ledger.entries import EntryDraft, EntryType
from truceline.service import moment
from truceline.service.auth import OPERATOR, Principal
from truceline.service.filing import activation_drafts
from truceline.service.hotline import message_draft
from truceline.service.projection import ends_ms
from truceline.service.service import PartyRow, Service
from truceline.service.texts import template_body
from truceline.store import database
from truceline.store import zones as store
from truceline.store.zones import NegotiationRow, VersionRow

MAX_SIGNATORIES = 50


# --- results -------------------------------------------------------------------------------------
# What each command and query returns; the api turns them into its response models.


@dataclass(frozen=True, slots=True)
class Proposed:
    """A zone's first version, and who must sign it."""

    zone_id: str
    version: int
    hash: str
    required: list[str]
    warnings: list[ReadWarning]


@dataclass(frozen=True, slots=True)
class CounterProposed:
    """A new version of a zone (``hash``: SHA-256 hex of its canonical record)."""

    zone_id: str
    version: int
    hash: str
    warnings: list[ReadWarning]


@dataclass(frozen=True, slots=True)
class Signed:
    """One signature: how many of the required signatures the version has, and whether this one
    put it in force."""

    zone_id: str
    version: int
    signed: int
    required: int
    active: bool


@dataclass(frozen=True, slots=True)
class Rejected:
    zone_id: str
    version: int
    state: ZoneState = ZoneState.REJECTED


@dataclass(frozen=True, slots=True)
class Withdrawn:
    zone_id: str
    state: ZoneState = ZoneState.WITHDRAWN


class Origin(StrEnum):
    NEGOTIATED = "negotiated"
    IMPORTED = "imported"


@dataclass(frozen=True, slots=True)
class ZoneStep:
    """One step of a negotiation (``seq``: its ledger entry; ``at``: RFC 3339)."""

    seq: int
    step: str
    party: str | None
    version: int | None
    reason: str | None
    at: str


@dataclass(frozen=True, slots=True)
class ZoneView:
    """A zone as listed: its negotiation state, or an imported zone's. ``binds``: the names of
    the parties the version in force binds, or "all" for an imported zone."""

    id: str
    kind: str
    name: str
    proposer: str | None
    required: list[str]
    state: str
    current_version: int
    current_hash: str
    active_version: int | None
    signed_current: list[str]
    ends_at: str | None
    origin: Origin
    binds: list[str] | Literal["all"]
    steps: list[ZoneStep] = field(default_factory=list)  # filled by get_zone only


@dataclass(frozen=True, slots=True)
class ZoneVersion:
    """One version of a zone; ``author``/``proposed_at``/``seq`` of an imported zone's one
    version are the operator, and unknown here (the log's zone.imported entry says when)."""

    version: int
    hash: str
    author: str
    proposed_at: str | None
    seq: int | None
    signed_by: list[str]
    zone: dict[str, Any]  # the zone record (docs/formats.md)


def version_hash(zone: Zone) -> str:
    return hashlib.sha256(canonical_json(zone_to_record(zone), field="zone")).hexdigest()


@dataclass(frozen=True, slots=True)
class ZoneRead:
    """The one zone of a proposal's document, and what its reader warned of."""

    zone: Zone
    warnings: tuple[ReadWarning, ...] = ()


def read_zone(document: object, proposer: str) -> ZoneRead:
    """The one zone of a GeoJSON profile or ED-269 document, owned by ``proposer`` (a zone
    naming another party is refused: a party proposes its own zones), with the reader's
    warnings (an ED-269 daily period read as all day, a NO_RESTRICTION zone skipped)."""
    kind = document_format(document)
    warnings: tuple[ReadWarning, ...] = ()
    if kind == "geojson":
        found = read_zones(document, source="body")  # type: ignore[arg-type]
    elif kind == "ed269":
        features = read_ed269(document, party=proposer, source="body")  # type: ignore[arg-type]
        found, warnings = list(features.zones), features.warnings
    else:
        raise FormatError(
            "is neither a GeoJSON FeatureCollection nor an ED-269 document", field="document", where="body"
        )
    # A skipped zone is why there may be none: say so in the same line.
    zone = exactly_one(found, "zone", why="".join(f"; {w}" for w in warnings))
    if zone.party is None:
        zone = replace(zone, party=proposer)
    elif zone.party != proposer:
        raise ValidationError(
            f"names party {zone.party!r}, but the zone is proposed by {proposer!r}", field="properties.party"
        )
    return ZoneRead(zone, warnings)


def _negotiation(conn: Connection, zone_id: str) -> NegotiationRow:
    row = store.negotiation(conn, zone_id)
    if row is None:
        if store.stored_state(conn, zone_id) is not None:
            raise ConflictError(
                f"zone {zone_id!r} was imported by the operator: it is not negotiated", field="zone_id"
            )
        raise NotFoundError(f"no zone {zone_id!r}", field="zone_id")
    return row


def _imported(conn: Connection, zone_id: str | None = None) -> list[Zone]:
    """The zones the operator imported (stored, and never negotiated), by id; ``zone_id``:
    that one only (none when it is negotiated or unknown)."""
    if zone_id is not None:
        if store.is_negotiated(conn, zone_id):
            return []
        return [z for z in store.load_zones(conn) if z.id == zone_id]
    ids = store.negotiated_ids(conn)
    return [z for z in store.load_zones(conn) if z.id not in ids]


def _version_row(conn: Connection, zone_id: str, version: int) -> VersionRow:
    row = store.version(conn, zone_id, version)
    if row is None:
        raise NotFoundError(f"zone {zone_id!r} has no version {version}", field="version")
    return row


def _zone_notice(
    now: datetime,
    sender: str | None,
    recipients: Iterable[str],
    priority: str,
    zone_id: str,
    body: dict[str, Any],
    *,
    escalate: bool = True,
) -> EntryDraft:
    """A hotline message about zone ``zone_id``: one step of its negotiation, told.
    ``escalate=False`` for a broadcast that only informs (no deadline, no escalation)."""
    return message_draft(
        now, sender=sender, recipients=recipients, priority=priority, body=body,
        about={"kind": "zone", "id": zone_id}, escalate=escalate,
    ).draft  # fmt: skip


def _zone_params(zone_id: str, name: str) -> dict[str, str]:
    return {"zone": zone_id, "zone_name": name or zone_id}


def _ids(by_name: Mapping[str, PartyRow], names: list[str]) -> list[str]:
    return [by_name[n].id for n in names if n in by_name]


def _informed(conn: Connection) -> list[str]:
    return [r.id for r in Service.party_rows(conn) if r.role in INFORMED_ROLES]


def _with_request(payload: dict[str, Any], request: Mapping[str, Any] | None) -> dict[str, Any]:
    if request is not None:
        payload["request"] = dict(request)
    return payload


def propose(
    service: Service,
    principal: Principal,
    document: object,
    signatories: list[str],
    request: Mapping[str, Any] | None = None,
) -> Proposed:
    """Propose a zone (version 1), naming the parties whose signature it needs besides the
    proposer's."""
    read = read_zone(document, principal.name)
    zone = read.zone
    if len(signatories) > MAX_SIGNATORIES:
        raise ValidationError(f"at most {MAX_SIGNATORIES} signatories", field="signatories")

    def build(conn: Connection, now: datetime) -> tuple[list[EntryDraft], Proposed]:
        by_name = Service.parties_by_name(conn)
        for i, name in enumerate(signatories):
            if name not in by_name:
                raise ValidationError(f"no party named {name!r}", field=f"signatories[{i}]")
            if signatories.index(name) != i:
                raise ValidationError(f"{name!r} is named twice", field=f"signatories[{i}]")
            if by_name[name].role.value not in SIGNING_ROLES:
                raise ValidationError(
                    f"{name!r} is {by_name[name].role.value!r}, a role that cannot sign; signatories "
                    f"are {', '.join(SIGNING_ROLES)}",
                    field=f"signatories[{i}]",
                )
        if store.is_negotiated(conn, zone.id) or store.stored_state(conn, zone.id) is not None:
            raise ConflictError(f"zone id {zone.id!r} is already used", field="id")
        required = sorted({principal.name, *signatories})
        digest = version_hash(zone)
        payload = _with_request(
            {
                "zone_id": zone.id,
                "version": 1,
                "hash": digest,
                "zone": zone_to_record(zone),
                "party_id": principal.id,
                "required": required,
            },
            request,
        )
        told = set(_ids(by_name, required)) - {principal.id}
        drafts = [EntryDraft(EntryType.ZONE_PROPOSED, principal.id, payload)]
        if told:
            drafts.append(
                _zone_notice(
                    now,
                    principal.id,
                    told,
                    "routine",
                    zone.id,
                    template_body(
                        "zone.proposed",
                        **_zone_params(zone.id, zone.name),
                        party=principal.name,
                        version=1,
                        signatories=len(required),
                    ),
                )
            )
        return drafts, Proposed(zone.id, 1, digest, required, list(read.warnings))

    return service.commit(build)


def _check_signatory(row: NegotiationRow, principal: Principal) -> None:
    if principal.name not in row.required:
        raise ForbiddenError(
            f"{principal.name} is not a required signatory of zone {row.zone_id}", field="zone_id"
        )
    if ZoneState(row.state).final:
        raise ConflictError(f"zone {row.zone_id} is {row.state}", field="zone_id")


def counter_propose(
    service: Service,
    principal: Principal,
    zone_id: str,
    document: object,
    request: Mapping[str, Any] | None = None,
) -> CounterProposed:
    """A new version of the zone by one of its signatories."""

    def build(conn: Connection, now: datetime) -> tuple[list[EntryDraft], CounterProposed]:
        row = _negotiation(conn, zone_id)
        _check_signatory(row, principal)
        read = read_zone(document, row.proposer_name)
        zone = read.zone
        if zone.id != zone_id:
            raise ValidationError(f"is {zone.id!r}, but this is zone {zone_id!r}", field="id")
        digest = version_hash(zone)
        current = _version_row(conn, zone_id, row.current_version)
        if digest == current.hash:
            raise ConflictError(f"is identical to version {row.current_version}", field="document")
        version = row.current_version + 1
        payload = _with_request(
            {
                "zone_id": zone_id,
                "version": version,
                "hash": digest,
                "zone": zone_to_record(zone),
                "party_id": principal.id,
            },
            request,
        )
        by_name = Service.parties_by_name(conn)
        told = set(_ids(by_name, row.required)) - {principal.id}
        drafts = [EntryDraft(EntryType.ZONE_COUNTER_PROPOSED, principal.id, payload)]
        if told:
            drafts.append(
                _zone_notice(
                    now,
                    principal.id,
                    told,
                    "routine",
                    zone_id,
                    template_body(
                        "zone.counter_proposed",
                        **_zone_params(zone_id, zone.name),
                        party=principal.name,
                        version=version,
                    ),
                )
            )
        return drafts, CounterProposed(zone_id, version, digest, list(read.warnings))

    return service.commit(build)


def _check_current(conn: Connection, row: NegotiationRow, version: int, digest: str) -> VersionRow:
    if version != row.current_version:
        raise ConflictError(
            f"version {version} is not the current version ({row.current_version})", field="version"
        )
    current = _version_row(conn, row.zone_id, version)
    if digest != current.hash:
        raise ConflictError(f"does not match the hash of version {version} ({current.hash})", field="hash")
    return current


def sign(
    service: Service,
    principal: Principal,
    zone_id: str,
    version: int,
    digest: str,
    request: Mapping[str, Any] | None = None,
) -> Signed:
    """Sign the current version (named by number and hash, so a party signs what it read).
    The last required signature activates the zone in the same transaction."""

    def build(conn: Connection, now: datetime) -> tuple[list[EntryDraft], Signed]:
        row = _negotiation(conn, zone_id)
        _check_signatory(row, principal)
        current = _check_current(conn, row, version, digest)
        if row.active_version == version:
            raise ConflictError(f"version {version} is already in force", field="version")
        if row.state == ZoneState.REJECTED:
            raise ConflictError(f"version {version} was rejected; counter-propose a new one", field="version")
        signed = store.signers(conn, zone_id, version)
        if principal.id in signed:
            raise ConflictError(f"{principal.name} has already signed version {version}", field="version")
        signed.add(principal.id)
        by_name = Service.parties_by_name(conn)
        required_ids = set(_ids(by_name, row.required))
        zone = zone_from_record(current.record)
        names = _zone_params(zone_id, zone.name)
        drafts = [
            EntryDraft(
                EntryType.ZONE_SIGNED,
                principal.id,
                _with_request(
                    {"zone_id": zone_id, "version": version, "hash": digest, "party_id": principal.id},
                    request,
                ),
            )
        ]
        told = required_ids - {principal.id}
        if told:
            drafts.append(
                _zone_notice(
                    now,
                    principal.id,
                    told,
                    "routine",
                    zone_id,
                    template_body(
                        "zone.signed",
                        **names,
                        party=principal.name,
                        version=version,
                        signed=len(signed & required_ids),
                        required=len(required_ids),
                    ),
                )
            )
        activated = required_ids <= signed
        if activated:
            # Who the version binds, in the entry itself: its signatories (docs/zones.md).
            signatories = sorted(row.required)
            drafts.append(
                EntryDraft(
                    EntryType.ZONE_ACTIVATED,
                    OPERATOR,
                    {
                        "zone_id": zone_id,
                        "version": version,
                        "hash": digest,
                        "zone": current.record,
                        "signatories": signatories,
                    },
                )
            )
            start = min(v.time.start for v in zone.volumes)
            # The register activates the zone and tells everyone else (the last signer knows
            # from its answer); a broadcast asks nothing, so it neither has a deadline nor
            # escalates.
            everyone = (set(_informed(conn)) | required_ids) - {principal.id}
            if everyone:
                drafts.append(
                    _zone_notice(
                        now,
                        None,
                        everyone,
                        "high",
                        zone_id,
                        template_body(
                            "zone.activated", **names, version=version, start=max(start, now).astimezone(UTC)
                        ),
                        escalate=False,
                    )
                )
            drafts += activation_drafts(conn, service, zone, principal, now, signatories)
        return drafts, Signed(zone_id, version, len(signed & required_ids), len(required_ids), activated)

    return service.commit(build)


def reject(
    service: Service,
    principal: Principal,
    zone_id: str,
    version: int,
    digest: str,
    reason: str,
    request: Mapping[str, Any] | None = None,
) -> Rejected:
    """Reject the current version with a reason (free text, kept as written)."""
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 2000:
        raise ValidationError("must be a non-empty text of at most 2000 characters", field="reason")

    def build(conn: Connection, now: datetime) -> tuple[list[EntryDraft], Rejected]:
        row = _negotiation(conn, zone_id)
        _check_signatory(row, principal)
        current = _check_current(conn, row, version, digest)
        if row.active_version == version:
            raise ConflictError(
                f"version {version} is already in force; withdraw or counter-propose", field="version"
            )
        zone = zone_from_record(current.record)
        payload = _with_request(
            {
                "zone_id": zone_id,
                "version": version,
                "hash": digest,
                "party_id": principal.id,
                "reason": reason,
            },
            request,
        )
        drafts = [EntryDraft(EntryType.ZONE_REJECTED, principal.id, payload)]
        told = set(_ids(Service.parties_by_name(conn), row.required)) - {principal.id}
        if told:
            drafts.append(
                _zone_notice(
                    now,
                    principal.id,
                    told,
                    "high",
                    zone_id,
                    template_body(
                        "zone.rejected",
                        **_zone_params(zone_id, zone.name),
                        party=principal.name,
                        version=version,
                        reason=reason,
                    ),
                )
            )
        return drafts, Rejected(zone_id, version)

    return service.commit(build)


def withdraw(
    service: Service, principal: Principal, zone_id: str, request: Mapping[str, Any] | None = None
) -> Withdrawn:
    """Withdraw a zone (its proposer only); it stops constraining filings at once."""

    def build(conn: Connection, now: datetime) -> tuple[list[EntryDraft], Withdrawn]:
        row = _negotiation(conn, zone_id)
        if row.proposer != principal.id:
            raise ForbiddenError("only the proposer may withdraw a zone", field="zone_id")
        if ZoneState(row.state).final:
            raise ConflictError(f"zone {zone_id} is already {row.state}", field="zone_id")
        drafts = [
            EntryDraft(
                EntryType.ZONE_WITHDRAWN,
                principal.id,
                _with_request({"zone_id": zone_id, "party_id": principal.id}, request),
            )
        ]
        told = (set(_informed(conn)) | set(_ids(Service.parties_by_name(conn), row.required))) - {
            principal.id
        }
        if told:
            drafts.append(
                _zone_notice(
                    now,
                    principal.id,
                    told,
                    "high",
                    zone_id,
                    template_body("zone.withdrawn", **_zone_params(zone_id, row.name), party=principal.name),
                    escalate=False,  # informs; asks nothing
                )
            )
        return drafts, Withdrawn(zone_id)

    return service.commit(build)


# --- queries ------------------------------------------------------------------------------------
#
# Imported zones are listed beside negotiated ones, as one version the operator brought in
# (``origin``: imported), binding every party they restrict (``binds``: "all"); a negotiated
# zone binds the parties that signed its version in force (``binds``: their names).


def _zone_view(conn: Connection, row: NegotiationRow) -> ZoneView:
    signatures = store.signers(conn, row.zone_id, row.current_version)
    names = Service.parties_by_id(conn)
    current = _version_row(conn, row.zone_id, row.current_version)
    return ZoneView(
        id=row.zone_id,
        kind=row.kind,
        name=row.name,
        proposer=row.proposer_name,
        required=list(row.required),
        state=row.state,
        current_version=row.current_version,
        current_hash=current.hash,
        active_version=row.active_version,
        signed_current=sorted(names[s].name for s in signatures if s in names),
        ends_at=ms_text(row.ends_ms),
        origin=Origin.NEGOTIATED,
        # A withdrawn or expired zone keeps its last active_version, but binds nobody.
        binds=Service.signatories_in_force(conn, row.zone_id).get(row.zone_id, [])
        if row.state == ZoneState.ACTIVE
        else [],
    )


def _imported_view(zone: Zone, state: str) -> ZoneView:
    return ZoneView(
        id=zone.id,
        kind=str(zone.kind),
        name=zone.name,
        proposer=zone.party,
        required=[],
        state=state,
        current_version=1,
        current_hash=version_hash(zone),
        active_version=1 if state == ZoneState.ACTIVE else None,
        signed_current=[],
        ends_at=ms_text(ends_ms(zone_to_record(zone))),
        origin=Origin.IMPORTED,
        binds="all",
    )


def _imported_state(conn: Connection, zone_id: str) -> str:
    state = store.stored_state(conn, zone_id)
    if state is None:
        raise NotFoundError(f"no zone {zone_id!r}", field="zone_id")
    return state


def list_zones(service: Service, state: str | None = None, at: datetime | None = None) -> list[ZoneView]:
    """Every zone, negotiated or imported, by id (``state``: those in that state only).
    ``at`` (the map's time slider): the zones as the register knew them at that moment
    (``service/moment.py``), those whose version shown then (in force, else current) has a
    volume in force then, each with its versions, signatures and state of then."""
    with database.snapshot(service.engine) as conn:  # the zones and their volumes, as one
        if at is None:
            found = [_zone_view(conn, r) for r in store.negotiations(conn, state)]
        else:
            names = Service.parties_by_id(conn)
            found = [
                _zone_view_at(z, names)
                for z in moment.negotiated_at(conn, at)
                if (state is None or z.stood.state == state) and moment.in_force_at(z.shown, at)
            ]
        for zone in _imported(conn):
            # An imported zone has no history here: its windows alone say when it holds.
            if at is not None and not moment.in_force_at(zone, at):
                continue
            imported = _imported_view(zone, _imported_state(conn, zone.id))
            if state is None or imported.state == state:
                found.append(imported)
    return sorted(found, key=lambda z: z.id)


def _zone_view_at(zone: moment.ZoneAt, names: Mapping[str, PartyRow]) -> ZoneView:
    """A negotiated zone as it stood at a moment, in the fields of ``_zone_view``."""
    stood, row = zone.stood, zone.row

    def named(ids: Iterable[str]) -> list[str]:
        return sorted(names[i].name for i in ids if i in names)

    return ZoneView(
        id=row.zone_id,
        kind=row.kind,
        name=zone.shown.name,
        proposer=row.proposer_name,
        required=list(row.required),
        state=str(stood.state),
        current_version=stood.current_version,
        current_hash=zone.current.hash,
        active_version=stood.active_version,
        signed_current=named(stood.signers(stood.current_version)),
        ends_at=ms_text(ends_ms(zone.shown_version.record)),
        origin=Origin.NEGOTIATED,
        binds=named(stood.signers(stood.active_version))
        if stood.state == ZoneState.ACTIVE and stood.active_version is not None
        else [],
    )


def get_zone(service: Service, zone_id: str) -> ZoneView:
    """One zone, with its negotiation steps, oldest first (none for an imported zone)."""
    with database.snapshot(service.engine) as conn:
        for zone in _imported(conn, zone_id):
            return _imported_view(zone, _imported_state(conn, zone_id))
        view = _zone_view(conn, _negotiation(conn, zone_id))
        names = Service.parties_by_id(conn)
        steps = [
            ZoneStep(
                seq=s.seq,
                step=s.step,
                party=names[s.party_id].name if s.party_id in names else s.party_id,
                version=s.version,
                reason=s.reason,
                at=ms_text(s.time_ms),
            )
            for s in store.steps(conn, zone_id)
        ]
        return replace(view, steps=steps)


def versions(service: Service, zone_id: str) -> list[ZoneVersion]:
    with database.snapshot(service.engine) as conn:
        for zone in _imported(conn, zone_id):
            # One version, brought in by the operator (when: the log's zone.imported entry).
            return [ZoneVersion(1, version_hash(zone), OPERATOR, None, None, [], zone_to_record(zone))]
        _negotiation(conn, zone_id)
        names = Service.parties_by_id(conn)
        out = []
        for r in store.versions(conn, zone_id):
            signers = store.signers(conn, zone_id, r.version)
            out.append(
                ZoneVersion(
                    version=r.version,
                    hash=r.hash,
                    author=names[r.author].name if r.author in names else r.author,
                    proposed_at=ms_text(r.time_ms),
                    seq=r.seq,
                    signed_by=sorted(names[s].name for s in signers if s in names),
                    zone=r.record,
                )
            )
        return out


def diff(service: Service, zone_id: str, from_version: int, to_version: int) -> dict[str, Any]:
    """The area added and removed between two versions, as a GeoJSON FeatureCollection."""
    with database.snapshot(service.engine) as conn:
        imported = _imported(conn, zone_id)
        if imported:
            for version in (from_version, to_version):
                if version != 1:
                    raise NotFoundError(f"zone {zone_id!r} has no version {version}", field="version")
            a = b = imported[0]
        else:
            _negotiation(conn, zone_id)
            a = zone_from_record(_version_row(conn, zone_id, from_version).record)
            b = zone_from_record(_version_row(conn, zone_id, to_version).record)
    change = area_change([v.shape for v in a.volumes], [v.shape for v in b.volumes])
    features = []
    for what, geometry, area in (
        ("added", change.added, change.added_km2),
        ("removed", change.removed, change.removed_km2),
    ):
        if geometry is not None:
            features.append(
                {
                    "type": "Feature",
                    "id": f"{zone_id}@{from_version}-{to_version}:{what}",
                    "geometry": geometry,
                    "properties": {
                        "change": what,
                        "area_km2": round(area, 6),
                        "zone": zone_id,
                        "from": from_version,
                        "to": to_version,
                    },
                }
            )
    return {
        "type": "FeatureCollection",
        "features": features,
        "properties": {
            "zone": zone_id,
            "from": from_version,
            "to": to_version,
            "added_km2": round(change.added_km2, 6),
            "removed_km2": round(change.removed_km2, 6),
        },
    }
