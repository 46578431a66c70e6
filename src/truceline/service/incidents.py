"""Incident reports: file (exactly once), edit (a new report deprecating the old),
corroborate (suggested by the register), verify, dispute, withdraw; queries, per-zone
statistics and the export rows.

Exactly once from offline devices: the client's ``instance_id`` names the report. The
same id with the same content (the same record, by its SHA-256) is a resend: nothing is
written, and the answer is the first one's (status 200: same id, same receipt, same
attribution; state and grade as they are now). The same id with other content is a 409.

Attribution is computed when the report is filed, against the zones in force then whose
time window meets the observed range, and kept in the entry: a report is ``inside`` a zone
when its whole uncertainty area is, ``possibly_inside`` when the area crosses the border.
Corroboration is suggested (an ``incident.corroborated`` entry by the register) for each
earlier current report by another reporter whose area comes within the configured
distance and whose observed range within the configured window.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from truceline.config import IncidentSettings
from truceline.domain.clock import from_ms, ms_text, to_ms
from truceline.domain.ids import uuid7
from truceline.domain.incident import (
    DEFAULT_BEARING_UNCERTAINTY_DEG,
    Category,
    IncidentReport,
    Relation,
    State,
    grade_of,
)
from truceline.domain.party import DISPUTING_ROLES, VERIFYING_ROLES
from truceline.errors import ConflictError, ForbiddenError, NotFoundError, TrucelineError, ValidationError
from truceline.geo.uncertainty import gap_m, placement
from truceline.io.incidents import read_incident
from truceline.ledger.canonical import canonical_json
from truceline.ledger.entries import EntryDraft, EntryType
from truceline.ledger.receipts import issue_receipt
from truceline.service.auth import OPERATOR, Principal, require_role
from truceline.service.service import Service
from truceline.store import database
from truceline.store import incidents as store
from truceline.store import zones as zone_store
from truceline.store.incidents import Filter, IncidentRow  # Filter: what list_incidents selects

MAX_BATCH = 100
MAX_REASON_CHARS = 2000
MAX_STAT_PERIODS = 3660


@dataclass(frozen=True, slots=True)
class Filed:
    """A report's answer: ``created`` False for a resend (HTTP 200, nothing written)."""

    created: bool
    answer: dict[str, Any]


def content_hash(record: Mapping[str, Any]) -> str:
    """SHA-256 hex of the record's RFC 8785 bytes: what tells a resend from a change."""
    return hashlib.sha256(canonical_json(dict(record), field="report")).hexdigest()


def _with_request(payload: dict[str, Any], request: Mapping[str, Any] | None) -> dict[str, Any]:
    if request is not None:
        payload["request"] = dict(request)
    return payload


# --- filing ---------------------------------------------------------------------------------


def _attribution(conn: Connection, report: IncidentReport) -> list[dict[str, str]]:
    """The zones in force whose time meets the observed range and whose area the report's
    uncertainty area meets, each with its relation, by zone id."""
    area = report.area
    found = []
    for zone in zone_store.load_zones(conn, state="active"):
        relation = Relation.OUTSIDE
        for volume in zone.volumes:
            window = volume.time
            if window.start > report.observed_end or (
                window.end is not None and window.end <= report.observed_start
            ):
                continue
            where = placement(area, volume.shape)
            if where.within:
                relation = Relation.INSIDE
                break
            if where.meets:
                relation = Relation.POSSIBLY_INSIDE
        if relation != Relation.OUTSIDE:
            found.append({"zone_id": zone.id, "relation": str(relation)})
    return found


def _corroborating(
    conn: Connection, report: IncidentReport, reporter: str, settings: IncidentSettings, replaces: str | None
) -> list[dict[str, Any]]:
    """The earlier current reports by other reporters near enough in place and time."""
    window_ms = round(settings.corroboration_window_s * 1000)
    start, end = to_ms(report.observed_start), to_ms(report.observed_end)
    found = []
    for row in store.observed_between(conn, start - window_ms, end + window_ms):
        if row.reporter == reporter or row.id == replaces:
            continue
        gap_s = max(0, row.observed_start_ms - end, start - row.observed_end_ms) / 1000
        distance = gap_m(report.area, IncidentReport.from_record(row.record).area)
        if gap_s <= settings.corroboration_window_s and distance <= settings.corroboration_distance_m:
            found.append({"other_id": row.id, "gap_m": round(distance, 1), "gap_s": gap_s})
    return found


def _replaced(conn: Connection, report: IncidentReport, principal: Principal) -> IncidentRow | None:
    if report.deprecated_id is None:
        return None
    old = store.by_instance(conn, report.deprecated_id)
    if old is None:
        raise ValidationError(
            f"names no filed report ({report.deprecated_id})", field="properties.deprecated_id"
        )
    if old.reporter != principal.id:
        raise ForbiddenError("names another reporter's report: nobody edits another's report",
                             field="properties.deprecated_id")  # fmt: skip
    if old.superseded_by is not None:
        raise ConflictError(
            f"was already replaced by incident {old.superseded_by}", field="properties.deprecated_id"
        )
    if old.state == State.WITHDRAWN:
        raise ConflictError("names a withdrawn report", field="properties.deprecated_id")
    return old


def _file(
    service: Service,
    principal: Principal,
    report: IncidentReport,
    settings: IncidentSettings,
    request: Mapping[str, Any] | None,
) -> Filed:
    record = report.to_record()
    digest = content_hash(record)
    area = report.area

    def build(conn: Connection, now: datetime) -> tuple[list[EntryDraft], tuple[bool, str]]:
        existing = store.by_instance(conn, report.instance_id)
        if existing is not None:
            if existing.content_hash == digest and existing.reporter == principal.id:
                return [], (False, existing.id)  # a resend: nothing is written
            raise ConflictError(
                f"{report.instance_id} was filed with other content (incident {existing.id}); an edit is a "
                "new report whose deprecated_id names it",
                field="properties.instance_id",
            )
        old = _replaced(conn, report, principal)
        incident_id = uuid7(to_ms(now))
        payload = _with_request(
            {
                "incident_id": incident_id,
                "party_id": principal.id,
                "report": record,
                "content_hash": digest,
                "centre": list(area.centre),
                "uncertainty_m": round(area.radius_m, 3),
                "zones": _attribution(conn, report),
                "supersedes": None if old is None else old.id,
            },
            request,
        )
        drafts = [EntryDraft(EntryType.INCIDENT_REPORTED, principal.id, payload)]
        for match in _corroborating(conn, report, principal.id, settings, None if old is None else old.id):
            drafts.append(
                EntryDraft(EntryType.INCIDENT_CORROBORATED, OPERATOR, {"incident_id": incident_id, **match})
            )
        return drafts, (True, incident_id)

    created, incident_id = service.commit(build)
    with database.snapshot(service.engine) as conn:
        return Filed(created, _answer(conn, service, _row(conn, incident_id)))


def report(
    service: Service,
    principal: Principal,
    feature: object,
    settings: IncidentSettings,
    request: Mapping[str, Any] | None = None,
) -> Filed:
    """File one report (a GeoJSON Feature). Raises ValidationError naming the field,
    ConflictError (409) for an instance id filed with other content."""
    parsed = read_incident(feature, default_bearing_uncertainty_deg=DEFAULT_BEARING_UNCERTAINTY_DEG)
    return _file(service, principal, parsed, settings, request)


def report_batch(
    service: Service,
    principal: Principal,
    features: Sequence[object],
    settings: IncidentSettings,
    request: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """File each Feature of ``features`` on its own, in order; one answer per item:
    ``{index, status, incident}`` (201 filed, 200 a resend) or ``{index, status, problem}``
    (the 4xx it would get alone: ``type`` slug, ``detail``, ``field``)."""
    if not features:
        raise ValidationError("is empty: a batch needs at least one report", field="features")
    if len(features) > MAX_BATCH:
        raise ValidationError(f"at most {MAX_BATCH} reports a batch, got {len(features)}", field="features")
    answers: list[dict[str, Any]] = []
    for i, feature in enumerate(features):
        try:
            filed = report(service, principal, feature, settings, request)
        except TrucelineError as error:
            answers.append({"index": i, "status": _status(error), "problem": _problem(error, i)})
            continue
        answers.append({"index": i, "status": 201 if filed.created else 200, "incident": filed.answer})
    return answers


def _status(error: TrucelineError) -> int:
    if isinstance(error, ConflictError):
        return 409
    if isinstance(error, ForbiddenError):
        return 403
    if isinstance(error, NotFoundError):
        return 404
    return 422


def _problem(error: TrucelineError, index: int) -> dict[str, Any]:
    field = f"features[{index}].{error.field}" if error.field else f"features[{index}]"
    return {"type": error.type_slug, "detail": error.message, "field": field}


# --- steps ----------------------------------------------------------------------------------


def _check_reason(reason: str | None, required: bool) -> None:
    if reason is None:
        if required:
            raise ValidationError("is required", field="reason")
        return
    if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON_CHARS:
        raise ValidationError(
            f"must be a non-empty text of at most {MAX_REASON_CHARS} characters", field="reason"
        )


def _step(
    service: Service,
    principal: Principal,
    incident_id: str,
    entry_type: EntryType,
    reason: str | None,
    request: Mapping[str, Any] | None,
) -> dict[str, Any]:
    required = entry_type == EntryType.INCIDENT_DISPUTED
    _check_reason(reason, required)

    def build(conn: Connection, now: datetime) -> tuple[list[EntryDraft], None]:
        row = _row(conn, incident_id)
        if row.state == State.WITHDRAWN:
            raise ConflictError(f"incident {incident_id} is withdrawn", field="incident_id")
        if row.superseded_by is not None:
            raise ConflictError(
                f"incident {incident_id} was replaced by {row.superseded_by}", field="incident_id"
            )
        own = row.reporter == principal.id
        if entry_type == EntryType.INCIDENT_WITHDRAWN and not own:
            raise ForbiddenError("only its reporter may withdraw a report", field="incident_id")
        if entry_type == EntryType.INCIDENT_VERIFIED:
            require_role(principal, VERIFYING_ROLES)
            if own:
                raise ForbiddenError(
                    "a report is verified by someone other than its reporter", field="incident_id"
                )
            if row.verified:
                raise ConflictError(f"incident {incident_id} is already verified", field="incident_id")
        if entry_type == EntryType.INCIDENT_DISPUTED:
            require_role(principal, DISPUTING_ROLES)
            if own:
                raise ForbiddenError(
                    "a reporter withdraws its own report; it does not dispute it", field="incident_id"
                )
            if any(
                s.step == "disputed" and s.party_id == principal.id for s in store.steps_of(conn, incident_id)
            ):
                raise ConflictError(f"{principal.name} has already disputed incident {incident_id}",
                                    field="incident_id")  # fmt: skip
        payload: dict[str, Any] = {"incident_id": incident_id, "party_id": principal.id}
        if reason is not None:
            payload["reason"] = reason
        return [EntryDraft(entry_type, principal.id, _with_request(payload, request))], None

    service.commit(build)
    with database.snapshot(service.engine) as conn:
        return _detail(conn, service, _row(conn, incident_id))


def dispute(service: Service, principal: Principal, incident_id: str, reason: str,
            request: Mapping[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    """A party disputes another's report, with a reason (kept as written)."""
    return _step(service, principal, incident_id, EntryType.INCIDENT_DISPUTED, reason, request)


def verify(service: Service, principal: Principal, incident_id: str, reason: str | None = None,
           request: Mapping[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    """An observer or guarantor other than the reporter verifies a report."""
    return _step(service, principal, incident_id, EntryType.INCIDENT_VERIFIED, reason, request)


def withdraw(service: Service, principal: Principal, incident_id: str, reason: str | None = None,
             request: Mapping[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    """The reporter withdraws its own report (final)."""
    return _step(service, principal, incident_id, EntryType.INCIDENT_WITHDRAWN, reason, request)


# --- queries --------------------------------------------------------------------------------


def _row(conn: Connection, incident_id: str) -> IncidentRow:
    row = store.by_id(conn, incident_id)
    if row is None:
        raise NotFoundError(f"no incident {incident_id!r}", field="incident_id")
    return row


def _names(conn: Connection) -> dict[str, str]:
    return {r.id: r.name for r in Service.party_rows(conn)}


def _views(conn: Connection, rows: Sequence[IncidentRow]) -> list[dict[str, Any]]:
    """The list view of each row (without its receipt and steps)."""
    ids = [r.id for r in rows]
    zones, links, names = store.zones_of(conn, ids), store.links_of(conn, ids), _names(conn)
    out = []
    for r in rows:
        corroborations = [
            {"incident_id": k.other_id, "gap_m": k.gap_m, "gap_s": k.gap_s} for k in links[r.id]
        ]
        out.append(
            {
                "id": r.id,
                "instance_id": r.instance_id,
                "reporter": names.get(r.reporter, r.reporter),
                "state": r.state,
                "grade": str(grade_of(r.state, bool(corroborations), r.verified)),
                "category": r.category,
                "observation": r.observation,
                "observed_start": ms_text(r.observed_start_ms),
                "observed_end": ms_text(r.observed_end_ms),
                "observed_span_s": (r.observed_end_ms - r.observed_start_ms) / 1000,
                "longitude": r.lon,
                "latitude": r.lat,
                "uncertainty_m": r.uncertainty_m,
                "zones": [{"zone_id": z.zone_id, "relation": z.relation} for z in zones[r.id]],
                "corroborations": corroborations,
                "deprecated_id": r.deprecated_id,
                "superseded_by": r.superseded_by,
                "leaf_index": r.seq,
                "reported_at": ms_text(r.time_ms),
                "reported_at_ms": r.time_ms,
                "report": r.record,
            }
        )
    return out


def _answer(conn: Connection, service: Service, row: IncidentRow) -> dict[str, Any]:
    view = _views(conn, [row])[0]
    return {**view, "receipt": issue_receipt(conn, service.ledger, row.seq).to_json()}


def _detail(conn: Connection, service: Service, row: IncidentRow) -> dict[str, Any]:
    names = _names(conn)
    steps = [
        {
            "seq": s.seq,
            "step": s.step,
            "party": None if s.party_id is None else names.get(s.party_id, s.party_id),
            "reason": s.reason,
            "at": ms_text(s.time_ms),
        }
        for s in store.steps_of(conn, row.id)
    ]
    return {**_answer(conn, service, row), "steps": steps}


def get_incident(service: Service, incident_id: str) -> dict[str, Any]:
    """One report with its receipt and every step (who, when, why)."""
    service.refresh()
    with database.snapshot(service.engine) as conn:
        return _detail(conn, service, _row(conn, incident_id))


def list_incidents(service: Service, where: Filter, limit: int | None = None) -> list[dict[str, Any]]:
    """The reports ``where`` selects, oldest observation first."""
    if where.category is not None and where.category not in set(Category):
        raise ValidationError(f"{where.category!r} is not a category", field="category")
    service.refresh()
    with database.snapshot(service.engine) as conn:
        return _views(conn, store.find(conn, where, limit))


# --- statistics -----------------------------------------------------------------------------


def _period_start(moment: datetime, by: str) -> datetime:
    day = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    return day - timedelta(days=day.weekday()) if by == "week" else day


def _counts() -> dict[str, Any]:
    return {"total": 0, "by_category": {}, "by_state": {}}


def _count(into: dict[str, Any], row: IncidentRow) -> None:
    into["by_state"][row.state] = into["by_state"].get(row.state, 0) + 1
    if row.state != State.WITHDRAWN:  # a withdrawn report counts as nothing but its state
        into["total"] += 1
        into["by_category"][row.category] = into["by_category"].get(row.category, 0) + 1


def zone_stats(service: Service, zone_id: str, start: datetime, end: datetime, by: str) -> dict[str, Any]:
    """Counts of the current reports attributed to zone ``zone_id`` whose observation
    starts in [start, end), per period (``by``: day | week, UTC, weeks from Monday), by
    category and by state, inside and possibly inside; with, over the whole span, the access
    denials per party they are attributed to and the disputes per disputing party.
    Withdrawn reports appear under ``by_state`` only."""
    if by not in ("day", "week"):
        raise ValidationError(f"must be day or week, got {by!r}", field="by")
    if not start < end:
        raise ValidationError("must be after from: the span holds no time to count", field="to")
    first = _period_start(start, by)
    step = timedelta(days=7 if by == "week" else 1)
    periods = -(-(end - first) // step)
    if periods > MAX_STAT_PERIODS:
        raise ValidationError(f"spans {periods} periods; at most {MAX_STAT_PERIODS}", field="to")
    service.refresh()
    with database.snapshot(service.engine) as conn:
        if zone_store.stored_state(conn, zone_id) is None and not zone_store.is_negotiated(conn, zone_id):
            raise NotFoundError(f"no zone {zone_id!r}", field="zone_id")
        relations = store.relations_in_zone(conn, zone_id)
        rows = [
            r
            for r in store.find(conn, Filter(zone_id=zone_id, current_only=True))
            if to_ms(start) <= r.observed_start_ms < to_ms(end)
        ]
        disputes = store.step_counts_by_party(conn, "disputed", [r.id for r in rows])
        names = _names(conn)
    buckets = [
        {"start": ms_text(to_ms(first + k * step)), "inside": _counts(), "possibly_inside": _counts()}
        for k in range(periods)
    ]
    totals = {"inside": _counts(), "possibly_inside": _counts()}
    denials: dict[str, int] = {}
    for r in rows:
        k = (from_ms(r.observed_start_ms) - first) // step
        relation = relations[r.id]
        _count(buckets[k][relation], r)
        _count(totals[relation], r)
        if r.category == Category.ACCESS_DENIED and r.state != State.WITHDRAWN:
            actor = r.record.get("attributed_to") or "unattributed"
            denials[actor] = denials.get(actor, 0) + 1
    return {
        "zone_id": zone_id,
        "from": ms_text(to_ms(start)),
        "to": ms_text(to_ms(end)),
        "by": by,
        "periods": buckets,
        "totals": totals,
        "access_denied_by_party": dict(sorted(denials.items())),
        "disputed_by_party": dict(sorted((names.get(p, p), n) for p, n in disputes.items())),
    }
