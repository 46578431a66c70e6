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
    "observe.language": "Language",
    "observe.online": "Connected",
    "observe.offline": "No connection: reports wait on this device",
    "observe.token": "Observer token",
    "observe.login": "Log in",
    "observe.logout": "Log out",
    "observe.login_failed": "The token was not accepted: {reason}",
    "observe.logged_in": "Logged in as {name}",
    "observe.key_pinned": "Receipts must be signed by the log key {fingerprint}",
    "observe.location": "Location",
    "observe.use_device_location": "Use this device's location",
    "observe.tap_map": "Or tap the map where it happened",
    "observe.location_set": "Position {lat}, {lon}, within {metres} m",
    "observe.location_missing": "the location (use the device's or tap the map)",
    "observe.location_failed": "The device gave no position: {reason}",
    "observe.uncertainty": "Uncertainty (metres)",
    "observe.what": "What was observed",
    "observe.category": "Category",
    "observe.category.shelling": "Shelling",
    "observe.category.air_strike": "Air strike",
    "observe.category.small_arms": "Small arms fire",
    "observe.category.ground_incursion": "Ground incursion",
    "observe.category.drone": "Drone",
    "observe.category.explosion": "Explosion",
    "observe.category.heavy_weapons_movement": "Heavy weapons movement",
    "observe.category.access_denied": "Access denied",
    "observe.category.other": "Other",
    "observe.observation": "How it was observed",
    "observe.observation.seen": "Seen",
    "observe.observation.heard": "Heard",
    "observe.observation.reported": "Reported by others",
    "observe.observation.imagery": "Imagery",
    "observe.observation.sensor": "Sensor",
    "observe.time": "Time",
    "observe.time_now": "Now",
    "observe.time_range": "Between two times",
    "observe.time_from": "From",
    "observe.time_to": "To",
    "observe.counts": "Counts (a number, or the lowest and the highest)",
    "observe.count": "Number of events",
    "observe.fatalities": "Fatalities",
    "observe.injured": "Injured",
    "observe.description": "Description",
    "observe.photos": "Photos (they stay on this device: only their SHA-256 hashes are sent)",
    "observe.photos_hashed": "Photos hashed: {count}",
    "observe.file": "File the report",
    "observe.form_fault": "Please check: {field}",
    "observe.reports": "Reports on this device",
    "observe.no_reports": "No report yet",
    "observe.state.queued": "queued, waiting for a connection",
    "observe.state.sent": "sent",
    "observe.state.verified": "receipt verified",
    "observe.state.failed": "the receipt does not verify: {reason}",
    "observe.state.refused": "refused by the register: {reason}",
    "observe.entry": "log entry {index} of {size}",
    "observe.save_receipt": "Save the receipt",
    "observe.check_receipt": "Check a receipt file",
    "observe.receipt_ok": "Receipt verified: log entry {index} of {size}, signed by {fingerprint}",
    "observe.receipt_bad": "The receipt does not verify: {reason}",
    "observe.no_key": "Log in once with a connection, so that the log key is pinned",
    "observe.fault.format": "it is not a well-formed receipt",
    "observe.fault.key": "it is signed by another key than the pinned one",
    "observe.fault.signature": "the tree head's signature is wrong",
    "observe.fault.leaf": "the entry does not match its leaf hash",
    "observe.fault.path": "the inclusion proof does not lead to the signed root",
    "observe.fault.entry": "the entry is not this report's",
    "observe.fault.log_signature": "the log's signature on the entry is wrong",
}

PAGE_TEXTS: dict[str, str] = {**MAP_TEXTS, **OBSERVE_TEXTS}

