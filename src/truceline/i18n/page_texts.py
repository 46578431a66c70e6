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
    "map.login_failed": "This token was not accepted.",
    "map.logout": "Log out",
    "map.language": "Language",
    "map.logged_in_as": "Logged in as {name}",
    "map.inbox": "Hotline inbox",
    "map.inbox_empty": "No message waiting.",
    "map.from_register": "The register",
    "map.acknowledge": "Acknowledge",
    "map.reply": "Reply",
    "map.reply_placeholder": "Your reply",
    "map.send": "Send",
    "map.no_deadline": "For information",
    "map.deadline_in": "Acknowledge within {time}",
    "map.deadline_past": "Overdue by {time}",
    "map.time": "Picture at",
    "map.now": "Now",
    "map.live": "Live",
    "map.link_lost": "Live link lost; reconnecting",
    "map.layer.zones": "Zones (all kinds)",
    "map.layer.operations": "Operations",
    "map.layer.tracks": "Live tracks",
    "map.layer.conflicts": "Conflicts",
    "map.layer.incidents": "Incident reports",
    "map.layer.humanitarian": "Humanitarian sites and movements",
    "map.kind.no_fly": "no-fly zone",
    "map.kind.de_escalation": "de-escalation zone",
    "map.kind.deconfliction": "de-confliction zone",
    "map.kind.humanitarian_corridor": "humanitarian corridor",
    "map.kind.protected_site": "protected site",
    "map.state.proposed": "proposed",
    "map.state.active": "in force",
    "map.state.declared": "declared, not recognised",
    "map.state.expired": "expired",
    "map.altitude": "Altitude {lower} to {upper} m ({ref})",
    "map.window": "From {start} to {end}",
    "map.window_open": "From {start}, standing",
    "map.redacted": "another party's operation, as far as it concerns you",
    "map.track": "{callsign} ({party}), heading {heading}°",
    "map.conflict": "loss of separation in {seconds} s",
    "map.conflict_los": "separation lost",
    "map.incident": "Incident: {category} ({state})",
    "map.category.shelling": "shelling",
    "map.category.air_strike": "air strike",
    "map.category.small_arms": "small arms fire",
    "map.category.ground_incursion": "ground incursion",
    "map.category.drone": "drone activity",
    "map.category.explosion": "blast",
    "map.category.heavy_weapons_movement": "heavy weapons movement",
    "map.category.access_denied": "access denied",
    "map.category.other": "other",
    "map.incident_state.reported": "reported",
    "map.incident_state.corroborated": "corroborated",
    "map.incident_state.verified": "verified",
    "map.incident_state.disputed": "disputed",
    "map.incident_state.withdrawn": "withdrawn",
    "map.ack": "Acknowledgement by {party}: {state}",
    "map.ack_state.delivered": "delivered, not yet acknowledged",
    "map.ack_state.acknowledged": "acknowledged",
    "map.ack_state.disputed": "disputed",
}

# id -> English text (the msgid), the observer page's.
OBSERVE_TEXTS: dict[str, str] = {
    "observe.title": "Truceline: report an observation",
}

PAGE_TEXTS: dict[str, str] = {**MAP_TEXTS, **OBSERVE_TEXTS}

