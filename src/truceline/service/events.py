"""What the service tells its observers: one ``Commit`` per ledger transaction, one
``Escalation`` per escalated (or finally unacknowledged) delivery in it.

The metrics (api/metrics.py) and the event log lines (``EventLog`` here) watch the service
through the ``Observer`` protocol, so the service imports neither prometheus nor the api's
logging set-up. Escalations are read off the committed entries (``message.escalated``,
``message.unacknowledged``), not off ``escalation.tick``'s result: the ledger is the truth,
and an event is told only once its transaction is durable.

Observers are called by the writer, under its lock, in commit order (so tree sizes only
grow from one line to the next): they must be quick, and must not commit. One that raises
is logged and skipped; the commit it observes stands.
"""

from __future__ import annotations

import enum
import logging
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from truceline.ledger.entries import Entry, EntryType

EVENTS_LOGGER = "truceline.events"
# The structured fields of the event lines (the JSON formatter writes these when present).
EVENT_FIELDS = (
    "event",
    "entry_types",
    "entries",
    "commands",
    "tree_size",
    "root_hash",
    "message_id",
    "escalations",
    "priority",
    "recipient",
    "notified",
)
ROOT_PREFIX_CHARS = 16  # 64 bits of the root: enough to match a line to a signed tree head

_events = logging.getLogger(EVENTS_LOGGER)
_log = logging.getLogger("truceline.service")


@dataclass(frozen=True, slots=True)
class Commit:
    """One ledger transaction, as committed (durable)."""

    commands: int  # commands the group commit took in this transaction (refused ones too)
    entry_types: dict[str, int]  # entry type -> how many of the transaction's entries
    entries: int
    tree_size: int  # the log's size after it
    root_hash: bytes  # the Merkle root of that tree


class EscalationKind(enum.Enum):
    ESCALATED = "message.escalated"  # re-sent at the next priority, sender and guarantors told
    UNACKNOWLEDGED = "message.unacknowledged"  # the last escalation lapsed too: told once, no more


@dataclass(frozen=True, slots=True)
class Escalation:
    """A delivery that escalated, read from its committed entry."""

    kind: EscalationKind
    message_id: str
    recipient: str  # the party that did not acknowledge
    notified: tuple[str, ...]  # party ids told of it (sender, guarantors)
    level: int | None  # escalations so far (1, 2, ...); None for UNACKNOWLEDGED
    priority: str | None  # the priority it was re-sent at; None for UNACKNOWLEDGED


class Observer(Protocol):
    """Told of every commit and every escalation; see the module's docstring."""

    def committed(self, commit: Commit) -> None: ...

    def escalated(self, escalation: Escalation) -> None: ...


def commit_of(commands: int, entries: Sequence[Entry], tree_size: int, root_hash: bytes) -> Commit:
    return Commit(
        commands=commands,
        entry_types=dict(Counter(entry.type for entry in entries)),
        entries=len(entries),
        tree_size=tree_size,
        root_hash=root_hash,
    )


def escalations_in(entries: Iterable[Entry]) -> list[Escalation]:
    """The escalations ``entries`` record, in log order."""
    found: list[Escalation] = []
    for entry in entries:
        payload = entry.payload
        if entry.type == EntryType.MESSAGE_ESCALATED:
            kind, level, priority = EscalationKind.ESCALATED, payload["escalations"], payload["priority"]
        elif entry.type == EntryType.MESSAGE_UNACKNOWLEDGED:
            kind, level, priority = EscalationKind.UNACKNOWLEDGED, None, None
        else:
            continue
        found.append(
            Escalation(
                kind=kind,
                message_id=payload["message_id"],
                recipient=payload["recipient"],
                notified=tuple(payload.get("notified", ())),
                level=level,
                priority=priority,
            )
        )
    return found


class Observers:
    """The service's observers, and the one place that calls them."""

    def __init__(self, observers: Iterable[Observer] = ()) -> None:
        self._observers: list[Observer] = list(observers)

    def add(self, observer: Observer) -> None:
        self._observers.append(observer)

    def remove(self, observer: Observer) -> None:
        self._observers.remove(observer)

    def __iter__(self) -> Iterator[Observer]:
        return iter(list(self._observers))

    def __bool__(self) -> bool:
        return bool(self._observers)

    def committed(self, commands: int, entries: Sequence[Entry], tree_size: int, root_hash: bytes) -> None:
        """Tell every observer of a durable transaction and of the escalations in it."""
        if not self._observers or not entries:
            return
        commit = commit_of(commands, entries, tree_size, root_hash)
        escalations = escalations_in(entries)
        for observer in list(self._observers):
            try:
                observer.committed(commit)
                for escalation in escalations:
                    observer.escalated(escalation)
            except Exception:  # a metric or a log line must never undo a durable commit
                _log.exception("an observer of the service failed (%s)", type(observer).__name__)


class EventLog:
    """The event log lines (logger ``truceline.events``, level INFO): one per commit, one
    per escalation, with structured fields for the JSON formatter (api/access_log.py).
    Nothing is built when INFO is off."""

    def committed(self, commit: Commit) -> None:
        if not _events.isEnabledFor(logging.INFO):
            return
        root = commit.root_hash.hex()[:ROOT_PREFIX_CHARS]
        types = ", ".join(f"{name} x{count}" for name, count in sorted(commit.entry_types.items()))
        _events.info(
            "ledger commit: %d entries (%s), tree size %d, root %s",
            commit.entries,
            types,
            commit.tree_size,
            root,
            extra={
                "event": "ledger.commit",
                "entry_types": dict(sorted(commit.entry_types.items())),
                "entries": commit.entries,
                "commands": commit.commands,
                "tree_size": commit.tree_size,
                "root_hash": root,
            },
        )

    def escalated(self, escalation: Escalation) -> None:
        if not _events.isEnabledFor(logging.INFO):
            return
        if escalation.kind is EscalationKind.ESCALATED:
            text = (
                f"message {escalation.message_id} escalated to {escalation.priority} "
                f"(level {escalation.level})"
            )
        else:
            text = f"message {escalation.message_id} never acknowledged after its last escalation"
        _events.info(
            "%s: recipient %s, notified %s",
            text,
            escalation.recipient,
            ", ".join(escalation.notified) or "nobody",
            extra={
                "event": escalation.kind.value,
                "message_id": escalation.message_id,
                "escalations": escalation.level,  # not "level": the line's log level is that
                "priority": escalation.priority,
                "recipient": escalation.recipient,
                "notified": list(escalation.notified),
            },
        )
