// The duty officer's map. Basemap: Natural Earth countries (world-atlas, TopoJSON), drawn
// by Leaflet as vectors: no tile server, so it works with no internet. Everything else comes
// from the API of the server that serves the page (docs/web.md).
import { loadBasemap } from "/web/basemap.js";
import { ApiError, api, setToken, token } from "/web/map/api.js";
import { Inbox } from "/web/map/inbox.js";
import { Layers, shownVersion } from "/web/map/layers.js";
import { direction, language, t, useLanguage } from "/web/map/texts.js";

// The ten languages of the catalogues, each named in itself (an endonym reads the same to
// every reader, so these are not translated texts).
const LANGUAGES = {
  ar: "العربية", "zh-CN": "中文（简体）", en: "English", fr: "Français", de: "Deutsch",
  ja: "日本語", pt: "Português", ru: "Русский", es: "Español", uk: "Українська",
};
const LANGUAGE_KEY = "truceline.language";
const TRACKS_EVERY_MS = 1000;
const PICTURE_EVERY_MS = 15000;
const SLIDER_STEPS = 1000;

const map = L.map("map", { preferCanvas: true, worldCopyJump: true }).setView([35.0, 38.5], 6);
const layers = new Layers(map);
const layerControl = L.control.layers(null, {}, { collapsed: false }).addTo(map);
const inbox = new Inbox(document.getElementById("messages"), document.getElementById("inbox-empty"),
                        (message) => layers.highlight(message));
const slider = document.getElementById("slider");
const sliderTime = document.getElementById("slider-time");
const zoneRecords = new Map(); // "id@version" -> the version's zone record
let me = null;
let at = null; // null: live; else the moment the picture shows
let span = null; // [start_ms, end_ms] of the slider
let stream = null;
let lastEventId = 0;

await loadBasemap(map);
await chooseLanguage(sessionStorage.getItem(LANGUAGE_KEY));
fillLanguagePicker();
wireLogin();
slider.addEventListener("change", () => moveSlider());
slider.addEventListener("input", () => showSliderTime());
document.getElementById("now").addEventListener("click", () => { slider.value = SLIDER_STEPS; moveSlider(); });
if (token()) await start();
document.body.dataset.ready = "true";

// --- language ---------------------------------------------------------------------------

async function chooseLanguage(tag) {
  await useLanguage(tag || undefined);
  // Right to left: Leaflet's controls go to the other side, as the inbox does (CSS).
  const rtl = direction() === "rtl";
  map.zoomControl.setPosition(rtl ? "topright" : "topleft");
  layerControl.setPosition(rtl ? "topleft" : "topright");
  map.attributionControl.setPosition(rtl ? "bottomleft" : "bottomright");
  relabelOverlays();
  layers.redrawLive();  // the tracks' and conflict lines' labels now, not at the next poll
  document.getElementById("language").value = language();
  if (me) {
    document.getElementById("who-name").textContent = t("map.logged_in_as", { name: me.name });
    await refreshPicture();
    await inbox.refresh();
  }
  showSliderTime();
}

function fillLanguagePicker() {
  const select = document.getElementById("language");
  for (const [tag, name] of Object.entries(LANGUAGES)) {
    const option = document.createElement("option");
    option.value = tag;
    option.textContent = name;
    option.lang = tag;
    select.append(option);
  }
  select.value = language();
  select.addEventListener("change", async () => {
    sessionStorage.setItem(LANGUAGE_KEY, select.value);
    await chooseLanguage(select.value);
  });
}

function relabelOverlays() {
  for (const [name, group] of Object.entries(layers.overlays())) {
    layerControl.removeLayer(group);
    layerControl.addOverlay(group, t(`map.layer.${name}`));
  }
}

// --- logging in ---------------------------------------------------------------------------

function wireLogin() {
  const form = document.getElementById("login");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    setToken(document.getElementById("token").value.trim());
    document.getElementById("token").value = "";
    await start();
  });
  document.getElementById("logout").addEventListener("click", () => {
    setToken(null);
    sessionStorage.removeItem(LANGUAGE_KEY);
    location.reload();
  });
}

async function start() {
  try {
    me = await api("/me");
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) throw error;
    setToken(null);
    document.getElementById("login-error").hidden = false;
    return;
  }
  layers.me = me;
  document.getElementById("login").hidden = true;
  document.getElementById("login-error").hidden = true;
  document.getElementById("who").hidden = false;
  document.body.dataset.party = me.name;
  // The reader's language: one chosen in this tab, else the party's own setting.
  if (!sessionStorage.getItem(LANGUAGE_KEY) && me.language !== language()) await chooseLanguage(me.language);
  document.getElementById("who-name").textContent = t("map.logged_in_as", { name: me.name });
  setSpan(await refreshPicture());
  await inbox.refresh();
  await refreshTracks();
  layers.setAlerts(await api("/alerts"));
  openStream();
  setInterval(() => { if (at === null) refreshTracks(); }, TRACKS_EVERY_MS);
  setInterval(() => { if (at === null) refreshPicture(); }, PICTURE_EVERY_MS);
  document.body.dataset.loggedIn = "true";
}

// --- the picture: zones, operations, incidents, humanitarian; the live tracks --------------

async function refreshPicture() {
  const moment = at === null ? "" : new Date(at).toISOString();
  const q = moment ? `?at=${encodeURIComponent(moment)}` : "";
  const [zones, operations, incidents, notifications] = await Promise.all([
    api(`/zones${q}`),
    api(`/operations${q}`),
    api(`/incidents${moment ? `?until=${encodeURIComponent(moment)}` : ""}`),
    api("/notifications"),
  ]);
  const records = await Promise.all(zones.map((zone) => zoneRecord(zone)));
  layers.drawZones(zones.map((zone, i) => ({ zone, record: records[i] })));
  layers.drawOperations(operations);
  layers.drawIncidents(incidents);
  const shown = at === null ? notifications : notifications.filter((n) => inForce(n.start, n.end, at));
  layers.drawHumanitarian(shown);
  document.body.dataset.at = moment || "live";
  return operations;
}

function inForce(start, end, moment) {
  return (!start || Date.parse(start) <= moment) && (!end || moment < Date.parse(end));
}

// The geometry of the version a zone shows, read once per version. At a past moment the API
// gives each zone's versions as they stood then (docs/api.md, "The time slider"), so this is
// the version in force at that moment (else the one on the table then), not today's.
async function zoneRecord(zone) {
  const key = `${zone.id}@${shownVersion(zone)}`;
  if (!zoneRecords.has(key)) {
    const versions = await api(`/zones/${encodeURIComponent(zone.id)}/versions`);
    for (const v of versions) zoneRecords.set(`${zone.id}@${v.version}`, v.zone);
  }
  return zoneRecords.get(key);
}

async function refreshTracks() {
  layers.drawTracks(await api("/tracks"));
}

// --- the time slider -------------------------------------------------------------------------

// The slider runs from a day before the earliest volume the reader sees to the latest end of
// one (now, if none ends); past its last notch is the live picture.
function setSpan(operations) {
  const volumes = [...[...zoneRecords.values()].flatMap((r) => r.volumes), ...operations.flatMap((o) => o.volumes)];
  const starts = volumes.map((v) => Date.parse(v.time_start));
  const ends = volumes.filter((v) => v.time_end).map((v) => Date.parse(v.time_end));
  const start = Math.min(Date.now(), ...starts) - 86_400_000;
  span = [start, ends.length ? Math.max(...ends) : Date.now()];
  showSliderTime();
}

window.trucelineSpan = () => span;  // for the browser tests: where a moment sits on the slider
window.trucelineZones = () => layers.drawnZones();  // for the browser tests: what each zone shows

function sliderMoment() {
  if (!span || Number(slider.value) >= SLIDER_STEPS) return null;
  return Math.round(span[0] + (span[1] - span[0]) * Number(slider.value) / SLIDER_STEPS);
}

function showSliderTime() {
  const moment = sliderMoment();
  sliderTime.textContent = moment === null ? t("map.live")
                                           : new Date(moment).toISOString().slice(0, 16).replace("T", " ") + "Z";
  document.getElementById("time-bar").classList.toggle("past", moment !== null);
}

async function moveSlider() {
  at = sliderMoment();
  showSliderTime();
  // The live layers show now only: in the past they are hidden, not left stale.
  for (const group of [layers.tracks.group, layers.trails.group, layers.conflicts.group]) {
    if (at === null) map.addLayer(group); else map.removeLayer(group);
  }
  await refreshPicture();
}

// --- live: the stream ---------------------------------------------------------------------

// EventSource cannot send the bearer header: a one-time ticket is asked for with it (POST
// /stream/tickets) and put in the stream's URL; the token itself never goes in a URL.
async function openStream() {
  if (stream) stream.close();
  const linkState = document.getElementById("link-state");
  let ticket;
  try {
    ticket = (await api("/stream/tickets", { method: "POST" })).ticket;
  } catch (error) {
    linkState.textContent = t("map.link_lost");
    setTimeout(openStream, 3000);
    return;
  }
  const query = `?ticket=${encodeURIComponent(ticket)}&last_event_id=${lastEventId}`;
  stream = new EventSource(`/stream${query}`);
  stream.onopen = () => { linkState.textContent = ""; };
  stream.onerror = () => {
    // A ticket is good for one connection: reconnect with a new one, from the last event seen.
    stream.close();
    stream = null;
    linkState.textContent = t("map.link_lost");
    setTimeout(openStream, 2000);
  };
  const onMessage = (event) => {
    lastEventId = Math.max(lastEventId, Number(event.lastEventId) || 0);
    scheduleInbox();
  };
  for (const kind of ["message", "escalated", "acknowledged"]) stream.addEventListener(kind, onMessage);
  for (const kind of ["conflict", "incursion", "nonconformance"]) {
    for (const change of ["opened", "updated", "closed"]) {
      stream.addEventListener(`${kind}.${change}`, (event) => {
        onMessage(event);
        const data = JSON.parse(event.data);
        if (data.alert) layers.alert(data.alert);
      });
    }
  }
}

let inboxTimer = null;
function scheduleInbox() {
  // A burst of events (a replay after reconnecting) refreshes the inbox once.
  clearTimeout(inboxTimer);
  inboxTimer = setTimeout(() => inbox.refresh(), 300);
}
