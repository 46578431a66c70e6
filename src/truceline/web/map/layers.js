// The map's layers, each a set of Leaflet layers kept by feature id: an update changes the
// features that changed in place (a track's marker moves, a zone's style changes) and removes
// the ones that went, instead of clearing and redrawing the whole layer.
import { language, t } from "/web/map/texts.js";

// Zone colours by kind; the state is drawn by the line (dashed: proposed; grey: expired;
// dotted red outline: declared by another party and not recognised by the reader).
const KIND_COLOURS = {
  no_fly: "#c0392b",
  de_escalation: "#8e44ad",
  deconfliction: "#2471a3",
  humanitarian_corridor: "#1e8449",
};
const HIGHLIGHT = { color: "#f1c40f", weight: 5 };

// A shape record ({type: Circle, center, radius_m} or {type: Polygon, ring}) as a Leaflet path.
function shapeLayer(shape, style) {
  if (shape.type === "Circle") {
    return L.circle([shape.center[1], shape.center[0]], { radius: shape.radius_m, ...style });
  }
  return L.polygon(shape.ring.map(([lon, lat]) => [lat, lon]), style);
}

function formatTime(text) {
  if (!text) return "";
  return new Date(text).toISOString().replace("T", " ").slice(0, 16) + "Z";
}

function bandText(volume) {
  const lower = volume.altitude_lower_m ?? "-∞";
  const upper = volume.altitude_upper_m ?? "+∞";
  return t("map.altitude", { lower, upper, ref: volume.altitude_reference });
}

function windowText(volume) {
  if (!volume.time_end) return t("map.window_open", { start: formatTime(volume.time_start) });
  return t("map.window", { start: formatTime(volume.time_start), end: formatTime(volume.time_end) });
}

function volumesTooltip(title, volumes) {
  const lines = volumes.map((v) => `${bandText(v)}<br>${windowText(v)}`);
  return `<b>${escapeHtml(title)}</b><br>${lines.join("<br>")}`;
}

// The version of a zone that a picture shows: the one in force, else the current one, as the
// API gives them (at a past moment: as they stood then).
export function shownVersion(zone) {
  return zone.active_version ?? zone.current_version;
}

export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// One layer kind: features by id, each a Leaflet layer with a signature of what it draws,
// so that an unchanged feature is left alone and a changed one is replaced alone. The
// reader's language is part of every signature: a switch of language redraws the texts.
class FeatureSet {
  constructor(map, name) {
    this.map = map;
    this.name = name;
    this.group = L.featureGroup().addTo(map);
    this.items = new Map(); // id -> {layer, signature}
  }

  // features: [{id, signature, make: () => layer, update?: (layer) => void}]
  sync(features) {
    const seen = new Set();
    for (const f of features) {
      seen.add(f.id);
      const held = this.items.get(f.id);
      const signature = `${language()}|${f.signature}`;
      if (held && held.signature === signature) {
        if (f.update) f.update(held.layer);
        continue;
      }
      if (held) this.group.removeLayer(held.layer);
      const layer = f.make();
      layer.featureId = f.id;
      this.group.addLayer(layer);
      this.items.set(f.id, { layer, signature });
    }
    for (const [id, held] of this.items) {
      if (!seen.has(id)) {
        this.group.removeLayer(held.layer);
        this.items.delete(id);
      }
    }
    document.body.dataset[this.name] = String(this.items.size);
  }

  layer(id) { return this.items.get(id)?.layer; }
}

export class Layers {
  constructor(map) {
    this.map = map;
    this.zones = new FeatureSet(map, "zones");
    this.operations = new FeatureSet(map, "operations");
    this.incidents = new FeatureSet(map, "incidents");
    this.humanitarian = new FeatureSet(map, "humanitarian");
    this.trails = new FeatureSet(map, "trails");
    this.tracks = new FeatureSet(map, "tracks");
    this.conflicts = new FeatureSet(map, "conflicts");
    this.alerts = new Map(); // id -> alert (open ones only)
    this.trackPositions = new Map(); // track id -> [lat, lon]
    this.lastTracks = []; // GET /tracks as last read
    this.highlighted = [];
    this.me = null;
  }

  overlays() {
    return {
      zones: this.zones.group,
      operations: this.operations.group,
      tracks: this.tracks.group,
      conflicts: this.conflicts.group,
      incidents: this.incidents.group,
      humanitarian: this.humanitarian.group,
    };
  }

  // zones: [{zone (GET /zones item), record (the version's zone record)}]
  drawZones(zones) {
    const drawn = zones.filter(({ zone }) => ["proposed", "active", "expired"].includes(zone.state));
    this.zones.sync(drawn.map(({ zone, record }) => {
      const state = this.zoneState(zone);
      const colour = KIND_COLOURS[zone.kind] || "#555";
      const style = {
        color: state === "expired" ? "#888" : colour,
        fillColor: colour,
        fillOpacity: state === "active" ? 0.15 : 0.05,
        weight: 2,
        dashArray: { proposed: "8 6", declared: "2 6", expired: "4 4" }[state],
      };
      const title = `${zone.name} · ${t(`map.kind.${zone.kind}`)} · ${t(`map.state.${state}`)}`;
      return {
        id: zone.id,
        // The version drawn, not the current one: moving the slider across an amendment
        // changes the geometry while the current version stays the same.
        signature: `${shownVersion(zone)}|${zone.current_hash}|${zone.state}|${state}`,
        make: () => {
          const group = L.featureGroup(record.volumes.map((v) => shapeLayer(v.shape, style)));
          group.baseStyle = style;
          group.drawn = { id: zone.id, version: shownVersion(zone), state,
                          shapes: record.volumes.map((v) => v.shape) };
          return group.bindTooltip(volumesTooltip(title, record.volumes), { sticky: true });
        },
      };
    }));
  }

  // What each zone on the map shows, read from the layers themselves (the browser tests).
  drawnZones() {
    return [...this.zones.items.values()].map(({ layer }) => layer.drawn);
  }

  // A zone as the reader sees it: in force and binding on it, or declared by another party
  // and not recognised (a negotiated zone it has not signed: DESIGN.md "Who a zone binds").
  zoneState(zone) {
    if (zone.state !== "active") return zone.state;
    if (zone.binds === "all" || !this.me) return "active";
    if (zone.binds.includes(this.me.name) || zone.proposer === this.me.name) return "active";
    return "declared";
  }

  drawOperations(operations) {
    this.operations.sync(operations.map((op) => {
      const own = this.me && op.party === this.me.name;
      const style = { color: own ? "#0b6623" : "#7f6000", weight: 1.5, fillOpacity: 0.08,
                      dashArray: op.redacted ? "3 5" : undefined };
      const title = op.redacted ? `${op.id} (${op.party}) · ${t("map.redacted")}`
                                : `${op.name || op.id} (${op.party}) · ${op.state || ""}`;
      return {
        id: op.id,
        signature: JSON.stringify([op.volumes, op.state, op.redacted]),
        make: () => {
          const group = L.featureGroup(op.volumes.map((v) => shapeLayer(v.shape, style)));
          group.baseStyle = style;
          return group.bindTooltip(volumesTooltip(title, op.volumes), { sticky: true });
        },
      };
    }));
  }

  // The live layers again with the tracks last read (after a switch of language).
  redrawLive() {
    this.drawTracks(this.lastTracks);
  }

  drawTracks(tracks) {
    this.lastTracks = tracks;
    this.trackPositions = new Map(tracks.map((tr) => [tr.id, [tr.lat, tr.lon]]));
    const label = (tr) => escapeHtml(t("map.track", {
      callsign: tr.callsign || tr.id, party: tr.party, heading: Math.round(tr.heading),
    }));
    this.tracks.sync(tracks.map((tr) => {
      const own = this.me && tr.party === this.me.name;
      return {
        id: tr.id,
        signature: `${tr.party}|${own}`,
        make: () => L.marker([tr.lat, tr.lon], { icon: arrow(tr.heading, own), keyboard: false })
          .bindTooltip(label(tr), { permanent: true, direction: "right", offset: [10, 0], className: "track-label" }),
        update: (marker) => {  // in place: the marker moves and turns
          marker.setLatLng([tr.lat, tr.lon]);
          marker.setIcon(arrow(tr.heading, own));
          marker.setTooltipContent(label(tr));
        },
      };
    }));
    this.trails.sync(tracks.map((tr) => ({
      id: tr.id,
      signature: tr.party,
      make: () => L.polyline(trailPoints(tr), { color: "#1f4e79", weight: 2, opacity: 0.6, interactive: false }),
      update: (line) => line.setLatLngs(trailPoints(tr)),
    })));
    this.drawConflicts();
  }

  // An alert from GET /alerts or the stream: kept while open, dropped when closed.
  alert(alert) {
    if (alert.state === "open") this.alerts.set(alert.id, alert); else this.alerts.delete(alert.id);
    this.drawConflicts();
  }

  setAlerts(alerts) {
    this.alerts = new Map(alerts.filter((a) => a.state === "open").map((a) => [a.id, a]));
    this.drawConflicts();
  }

  // A tactical conflict is a line between the pair (their latest positions, else those the
  // detection saw), labelled with the time to loss of separation.
  drawConflicts() {
    const features = [];
    for (const alert of this.alerts.values()) {
      if (alert.kind !== "conflict") continue;
      const data = alert.latest?.data || {};
      const seen = new Map((alert.latest?.states || []).map((s) => [s.id, [s.lat, s.lon]]));
      const ends = [data.a, data.b].map((id) => this.trackPositions.get(id) || seen.get(id));
      if (!ends[0] || !ends[1]) continue;
      const text = data.los || !(data.tlos_s > 0) ? t("map.conflict_los")
                                                  : t("map.conflict", { seconds: Math.round(data.tlos_s) });
      const label = escapeHtml(`${data.a} – ${data.b}: ${text}`);
      features.push({
        id: alert.id,
        signature: alert.id,
        make: () => {
          const line = L.polyline(ends, { color: "#c0392b", weight: 4, dashArray: "10 6" });
          line.baseStyle = { color: "#c0392b", weight: 4 };
          // Above the line, so that it does not cover the tracks' own labels.
          return line.bindTooltip(label, { permanent: true, direction: "top", offset: [0, -16] });
        },
        update: (line) => { line.setLatLngs(ends); line.setTooltipContent(label); },
      });
    }
    this.conflicts.sync(features);
  }

  drawIncidents(incidents) {
    this.incidents.sync(incidents.map((i) => ({
      id: i.id,
      signature: `${i.state}|${i.longitude}|${i.latitude}|${i.uncertainty_m}`,
      make: () => {
        const style = { color: "#d35400", weight: 2, fillOpacity: 0.2 };
        const area = L.circle([i.latitude, i.longitude], { radius: Math.max(i.uncertainty_m, 50), ...style });
        area.baseStyle = style;
        const title = t("map.incident", {
          category: t(`map.category.${i.category}`), state: t(`map.incident_state.${i.state}`),
        });
        return area.bindTooltip(`<b>${escapeHtml(title)}</b><br>${formatTime(i.observed_start)}<br>${
          escapeHtml(i.observation || "")}`, { sticky: true });
      },
    })));
  }

  // Sites (a point and its protection radius) and movements (the route and its corridor),
  // each with every party's acknowledgement state.
  drawHumanitarian(notifications) {
    this.humanitarian.sync(notifications.map((n) => ({
      id: n.id,
      signature: `${n.hash}|${JSON.stringify(n.parties.map((p) => [p.party, p.state]))}`,
      make: () => {
        const props = n.feature.properties || {};
        const geometry = n.feature.geometry;
        const style = { color: "#1e8449", weight: 2, fillOpacity: 0.15 };
        let layer;
        if (geometry.type === "Point") {
          const [lon, lat] = geometry.coordinates;
          layer = L.circle([lat, lon], { radius: props.protection_radius_m || 500, ...style });
        } else {
          const points = geometry.coordinates.map(([lon, lat]) => [lat, lon]);
          layer = L.polyline(points, { ...style, weight: 6, opacity: 0.7 });
        }
        layer.baseStyle = style;
        const states = n.parties.map((p) => escapeHtml(t("map.ack", {
          party: p.party, state: t(`map.ack_state.${p.state}`),
        })));
        return layer.bindTooltip(`<b>${escapeHtml(n.name)}</b> (${escapeHtml(n.organisation)})<br>${
          states.join("<br>")}`, { sticky: true });
      },
    })));
  }

  // A message's subject on the map: the features its `about` and parameters name.
  highlight(message) {
    for (const layer of this.highlighted) restyle(layer, layer.baseStyle || {});
    this.highlighted = [];
    const names = new Set();
    if (message?.about?.id) {
      names.add(message.about.id);
      for (const part of message.about.id.split(":")) names.add(part);
    }
    for (const value of Object.values(message?.body?.params || {})) {
      if (typeof value === "string") names.add(value);
    }
    const sets = [this.zones, this.operations, this.conflicts, this.incidents, this.humanitarian, this.tracks];
    for (const set of sets) {
      for (const name of names) {
        const layer = set.layer(name);
        if (layer) this.highlighted.push(layer);
      }
    }
    const alert = message?.about?.kind === "alert" ? this.alerts.get(message.about.id) : null;
    for (const id of alert?.subject || []) {
      for (const set of [this.tracks, this.zones, this.operations]) {
        const layer = set.layer(id);
        if (layer) this.highlighted.push(layer);
      }
    }
    for (const layer of this.highlighted) restyle(layer, HIGHLIGHT);
    document.body.dataset.highlighted = String(this.highlighted.length);
    const bounds = L.latLngBounds([]);
    for (const layer of this.highlighted) {
      if (layer.getBounds) bounds.extend(layer.getBounds()); else if (layer.getLatLng) bounds.extend(layer.getLatLng());
    }
    if (bounds.isValid()) this.map.fitBounds(bounds, { maxZoom: 8, padding: [40, 40] });
  }
}

function restyle(layer, style) {
  if (layer.setStyle) layer.setStyle(style);
}

function trailPoints(tr) {
  return tr.trail.map(([, lon, lat]) => [lat, lon]);
}

function arrow(heading, own) {
  // An arrow turned to the heading (degrees true, clockwise from north).
  const html = `<div style="transform: rotate(${Math.round(heading)}deg)">▲</div>`;
  return L.divIcon({ html, className: own ? "track-icon own" : "track-icon", iconSize: [18, 18] });
}
