// The observer's page: file incident reports from a phone, offline first.
//
// A report is made on the device (its instance_id too, once), kept in IndexedDB and uploaded
// when there is a link: at once, on the browser's "online" event, and every RETRY_MS while any
// waits; where the browser has Background Sync (Chromium), also by the service worker when the
// link returns, even with this tab closed (sw.js). Page and worker run the same routine
// (upload.js: the same bytes, Idempotency-Key and instance_id each time, so a resend is
// harmless). The receipt that comes back is kept and checked here (receipt.js) against the log
// key pinned at login, also for the reports the worker sent while the page was closed.
import { loadBasemap } from "/web/basemap.js";
import { Fault, b64decode, fingerprint, hex, verifyReceipt } from "/web/observe/receipt.js";
// Classic scripts (the worker loads them with importScripts): they name themselves on `self`.
import "/web/observe/store.js";
import "/web/observe/upload.js";

const store = self.trucelineStore;
const { uploadQueued, problemOf } = self.trucelineUpload;
const RETRY_MS = 15_000;
const SYNC_TAG = "truceline-upload"; // sw.js listens for it
// The ten languages of the catalogues, each named in itself (a name a reader looks for in
// their own script, so it is not translated).
const LANGUAGES = {
  ar: "العربية", de: "Deutsch", en: "English", es: "Español", fr: "Français",
  ja: "日本語", pt: "Português", ru: "Русский", uk: "Українська", "zh-CN": "中文（简体）",
};

const $ = (id) => document.getElementById(id);
let texts = {};
let language = "en";
let login = null; // {token, party_id, name, public_key, fingerprint}
let place = null; // {lon, lat, uncertainty_m} of the report being filled in
let marker = null;
let photos = []; // [{sha256, media_type, size}] of the files chosen (the files stay here)

/** A text of the catalogue with its {placeholders} filled in. */
function t(id, values = {}) {
  const text = texts[id] ?? id;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

// --- language --------------------------------------------------------------------------------

async function loadTexts(chosen) {
  const query = chosen ? `?language=${encodeURIComponent(chosen)}` : "";
  let answer = null;
  try {
    const response = await fetch(`/texts${query}`);
    if (response.ok) answer = await response.json();
  } catch {
    // offline: the texts last read stay usable
  }
  if (answer !== null) {
    await store.putSetting("texts", answer);
  } else {
    answer = await store.getSetting("texts");
  }
  if (!answer) return;
  texts = answer.texts;
  language = answer.language;
  document.documentElement.lang = answer.language;
  document.documentElement.dir = answer.dir;
  // Mirrored for a right-to-left reader: the zoom buttons on the side the text starts from.
  if (map !== null) map.zoomControl.setPosition(answer.dir === "rtl" ? "topright" : "topleft");
  for (const element of document.querySelectorAll("[data-text]")) element.textContent = t(element.dataset.text);
  $("language").value = language;
  renderLink();
  renderSession();
  renderPlace();
  renderPhotos();
  await renderReports();
}

function fillLanguages() {
  for (const [tag, name] of Object.entries(LANGUAGES)) {
    const option = document.createElement("option");
    option.value = tag;
    option.textContent = name;
    option.lang = tag;
    $("language").append(option);
  }
  $("language").addEventListener("change", async () => {
    await store.putSetting("language", $("language").value);
    await loadTexts($("language").value);
  });
}

// --- the link --------------------------------------------------------------------------------

function renderLink() {
  const online = navigator.onLine;
  $("link").textContent = online ? t("observe.online") : t("observe.offline");
  $("link").classList.toggle("offline", !online);
}

// --- login -----------------------------------------------------------------------------------

async function logIn(token) {
  const headers = { Authorization: `Bearer ${token}` };
  let me;
  let key;
  try {
    const answer = await fetch("/me", { headers });
    if (!answer.ok) throw new Error((await problemOf(answer)).detail);
    me = await answer.json();
    // The log key, pinned now, while the link is trusted: a receipt that comes later must be
    // signed by this key, not merely by the key it names itself (which anyone could make).
    const pinned = await fetch("/incidents/receipt-key", { headers });
    if (!pinned.ok) throw new Error((await problemOf(pinned)).detail);
    key = await pinned.json();
    b64decode(key.public_key, 32, "public_key");
  } catch (error) {
    $("login-error").textContent = t("observe.login_failed", { reason: error.message });
    return;
  }
  const computed = await fingerprint(b64decode(key.public_key, 32, "public_key"));
  login = { token, party_id: me.id, name: me.name, public_key: key.public_key, fingerprint: computed };
  await store.putSetting("login", login);
  $("token").value = "";
  $("login-error").textContent = "";
  renderSession();
  flush();
}

function renderSession() {
  const inside = login !== null;
  $("login").hidden = inside;
  $("session").hidden = !inside;
  $("report").hidden = !inside;
  $("reports").hidden = !inside;
  if (inside) {
    $("who").textContent = t("observe.logged_in", { name: login.name });
    $("key").textContent = t("observe.key_pinned", { fingerprint: login.fingerprint });
    setTimeout(() => map && map.invalidateSize(), 0);
  }
}

// --- the location ----------------------------------------------------------------------------

let map = null;

function setupMap() {
  map = L.map("map", { worldCopyJump: true }).setView([35.0, 38.5], 6);
  loadBasemap(map).catch(() => {}); // offline and never cached: the map stays blank, taps still work
  map.on("click", (event) => {
    const { lat, lng } = event.latlng.wrap();
    setPlace(lng, lat, Number($("uncertainty").value) || 0);
  });
}

function setPlace(lon, lat, uncertainty) {
  place = { lon: Number(lon.toFixed(6)), lat: Number(lat.toFixed(6)), uncertainty_m: uncertainty };
  $("uncertainty").value = String(Math.round(uncertainty));
  if (marker === null) marker = L.circleMarker([lat, lon], { radius: 7, color: "#a40000" }).addTo(map);
  marker.setLatLng([lat, lon]);
  renderPlace();
}

function renderPlace() {
  $("location-status").textContent = place === null ? "" : t("observe.location_set", {
    lat: place.lat.toFixed(5), lon: place.lon.toFixed(5), metres: Math.round(place.uncertainty_m),
  });
}

function locate() {
  if (!("geolocation" in navigator)) {
    $("location-status").textContent = t("observe.location_failed", { reason: "navigator.geolocation" });
    return;
  }
  navigator.geolocation.getCurrentPosition(
    (position) => {
      const { longitude, latitude, accuracy } = position.coords;
      setPlace(longitude, latitude, Math.min(Math.max(accuracy, 0), 100_000));
      map.setView([latitude, longitude], 11);
    },
    (error) => { $("location-status").textContent = t("observe.location_failed", { reason: error.message }); },
    { enableHighAccuracy: true, timeout: 30_000, maximumAge: 60_000 },
  );
}

// --- photos: hashed here, never sent ---------------------------------------------------------

async function hashPhotos() {
  const chosen = Array.from($("photos").files);
  photos = [];
  for (const file of chosen) {
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", await file.arrayBuffer()));
    photos.push({ sha256: hex(digest), media_type: file.type || "application/octet-stream", size: file.size });
  }
  renderPhotos();
}

function renderPhotos() {
  const list = $("photo-hashes");
  list.replaceChildren();
  if (photos.length > 0) {
    const head = document.createElement("li");
    head.textContent = t("observe.photos_hashed", { count: photos.length });
    list.append(head);
  }
  for (const photo of photos) {
    const item = document.createElement("li");
    item.textContent = `${photo.sha256} (${photo.media_type}, ${photo.size} B)`;
    item.className = "photo-hash";
    list.append(item);
  }
}

// --- the report ------------------------------------------------------------------------------

function quantity(name) {
  const row = document.querySelector(`.quantity[data-name="${name}"]`);
  const read = (input) => (input.value.trim() === "" ? null : Number(input.value));
  const low = read(row.querySelector(".low"));
  const high = read(row.querySelector(".high"));
  for (const value of [low, high]) {
    if (value !== null && !(Number.isInteger(value) && value >= 0)) throw new FormFault(t("observe." + name));
  }
  if (low === null && high === null) return null;
  if (low === null || high === null || low === high) return low ?? high;
  if (high < low) throw new FormFault(t("observe." + name));
  return [low, high];
}

class FormFault extends Error {}

function moment(id) {
  const value = $(id).value;
  const when = value ? new Date(value) : null; // datetime-local: the device's local time
  if (when === null || Number.isNaN(when.getTime())) throw new FormFault(t(id === "time-from" ? "observe.time_from" : "observe.time_to"));
  return when.toISOString();
}

/** The GeoJSON Feature of the form (docs/incidents.md "A report"); FormFault names a fault. */
function featureOfForm(instanceId) {
  if (place === null) throw new FormFault(t("observe.location_missing"));
  const uncertainty = Number($("uncertainty").value);
  if (!(uncertainty >= 0 && uncertainty <= 100_000)) throw new FormFault(t("observe.uncertainty"));
  const range = document.querySelector('input[name="when"]:checked').value === "range";
  const start = range ? moment("time-from") : new Date().toISOString();
  const end = range ? moment("time-to") : start;
  if (end < start) throw new FormFault(t("observe.time_to"));
  const properties = {
    instance_id: instanceId,
    observed_start: start,
    observed_end: end,
    uncertainty_m: uncertainty,
    category: $("category").value,
    observation: $("observation").value,
    count: quantity("count"),
    fatalities: quantity("fatalities"),
    injured: quantity("injured"),
  };
  const description = $("description").value;
  if (description.trim() !== "") {
    properties.description = description;
    properties.language = language; // the page's language: what the observer wrote in
  }
  if (photos.length > 0) properties.evidence = photos.map((p) => ({ ...p }));
  return { type: "Feature", geometry: { type: "Point", coordinates: [place.lon, place.lat] }, properties };
}

async function fileReport(event) {
  event.preventDefault();
  // Made once, here: every later upload of this report carries the same identity.
  const instanceId = `uuid:${crypto.randomUUID()}`;
  let feature;
  try {
    feature = featureOfForm(instanceId);
  } catch (error) {
    if (!(error instanceof FormFault)) throw error;
    $("form-error").textContent = t("observe.form_fault", { field: error.message });
    return;
  }
  $("form-error").textContent = "";
  await store.putReport({
    instance_id: instanceId,
    created_ms: Date.now(),
    body: JSON.stringify(feature), // the exact bytes sent each time
    category: feature.properties.category,
    observed_start: feature.properties.observed_start,
    state: "queued",
    incident_id: null,
    receipt: null,
    fault: null,
  });
  $("report").reset();
  $("range").hidden = true;
  photos = [];
  renderPhotos();
  place = null;
  if (marker !== null) {
    marker.remove();
    marker = null;
  }
  renderPlace();
  await renderReports();
  requestSync(); // not awaited: `ready` waits for a worker, which may never come
  flush();
}

// --- upload, exactly once ----------------------------------------------------------------------

let flushing = null;
let again = false;

/** Upload every queued report; one run at a time (a second call runs once more after it). */
function flush() {
  if (flushing !== null) {
    again = true;
    return flushing;
  }
  flushing = (async () => {
    do {
      again = false;
      await uploadOnce();
    } while (again);
  })().finally(() => { flushing = null; });
  return flushing;
}

async function uploadOnce() {
  if (login === null) return;
  const { outcome, detail } = await uploadQueued(renderReports);
  if (outcome === "unauthorized") $("login-error").textContent = t("observe.login_failed", { reason: detail });
  await checkReceipts();
}

/** Check the receipt of every report sent and not yet checked (by the page or by the worker). */
async function checkReceipts() {
  for (const report of await store.allReports()) {
    if (report.state !== "sent") continue;
    let change;
    try {
      await verifyReceipt(report.receipt, login.public_key, report.instance_id);
      change = { state: "verified", fault: null };
    } catch (error) {
      if (!(error instanceof Fault)) throw error;
      change = { state: "failed", fault: { code: error.code, detail: error.detail } };
    }
    await store.advance(report.instance_id, ["sent"], change);
    await renderReports();
  }
}

/** Ask the browser to have the worker upload the queue when the link returns (Background Sync).
 * Without it (Firefox, Safari) or when refused, the page's own tries remain. */
async function requestSync() {
  if (!("serviceWorker" in navigator)) return;
  const registration = await navigator.serviceWorker.ready;
  if (!("sync" in registration)) return;
  await registration.sync.register(SYNC_TAG).catch(() => {});
}

// --- the list of reports ---------------------------------------------------------------------

function faultText(fault) {
  return `${t("observe.fault." + fault.code)} (${fault.detail})`;
}

async function renderReports() {
  const reports = await store.allReports();
  $("no-reports").hidden = reports.length > 0;
  const list = $("report-list");
  list.replaceChildren();
  for (const report of reports) {
    const item = document.createElement("li");
    item.dataset.state = report.state;
    item.dataset.instanceId = report.instance_id;
    const title = document.createElement("div");
    title.textContent = `${t("observe.category." + report.category)} · ${new Date(report.observed_start).toLocaleString(language)}`;
    const state = document.createElement("div");
    state.className = "state";
    const receipt = report.receipt;
    const where = receipt ? " · " + t("observe.entry", { index: receipt.leaf_index, size: receipt.tree_size }) : "";
    if (report.state === "failed") {
      state.textContent = t("observe.state.failed", { reason: faultText(report.fault) });
    } else if (report.state === "refused") {
      state.textContent = t("observe.state.refused", { reason: report.fault });
    } else {
      state.textContent = t("observe.state." + report.state) + where;
    }
    const id = document.createElement("div");
    id.className = "small";
    id.textContent = report.instance_id;
    item.append(title, state, id);
    if (receipt) {
      // The receipt as a file the observer can keep and show anyone (verify-receipt checks it).
      const save = document.createElement("a");
      save.textContent = t("observe.save_receipt");
      save.download = `receipt-${report.instance_id.slice(5)}.json`;
      save.href = URL.createObjectURL(new Blob([JSON.stringify(receipt, null, 2)], { type: "application/json" }));
      item.append(save);
    }
    list.append(item);
  }
}

// --- a receipt file, checked here ------------------------------------------------------------

async function checkReceiptFile() {
  const file = $("receipt-file").files[0];
  const result = $("check-result");
  result.dataset.outcome = "";
  if (!file) return;
  if (login === null) {
    result.textContent = t("observe.no_key");
    return;
  }
  try {
    let receipt;
    try {
      receipt = JSON.parse(await file.text());
    } catch {
      throw new Fault("format", "not JSON");
    }
    const checked = await verifyReceipt(receipt, login.public_key);
    result.textContent = t("observe.receipt_ok", {
      index: checked.leafIndex, size: checked.treeSize, fingerprint: checked.fingerprint,
    });
    result.dataset.outcome = "verified";
  } catch (error) {
    if (!(error instanceof Fault)) throw error;
    result.textContent = t("observe.receipt_bad", { reason: faultText(error) });
    result.dataset.outcome = "failed";
  }
}

// --- start -----------------------------------------------------------------------------------

async function start() {
  if ("serviceWorker" in navigator) {
    // Scope /observe: the worker caches this page and what it loads (sw.js).
    navigator.serviceWorker.register("/observe-sw.js", { scope: "/observe" }).catch(() => {});
  }
  fillLanguages();
  setupMap();
  login = (await store.getSetting("login")) ?? null;
  await loadTexts((await store.getSetting("language")) ?? null);
  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    logIn($("token").value.trim());
  });
  $("logout").addEventListener("click", async () => {
    await store.deleteSetting("login");
    login = null;
    renderSession();
  });
  $("locate").addEventListener("click", locate);
  $("uncertainty").addEventListener("change", () => {
    if (place !== null) setPlace(place.lon, place.lat, Number($("uncertainty").value) || 0);
  });
  for (const radio of document.querySelectorAll('input[name="when"]')) {
    radio.addEventListener("change", () => { $("range").hidden = radio.value !== "range" || !radio.checked; });
  }
  $("photos").addEventListener("change", hashPhotos);
  $("report").addEventListener("submit", fileReport);
  $("receipt-file").addEventListener("change", checkReceiptFile);
  window.addEventListener("online", () => { renderLink(); flush(); });
  if ("serviceWorker" in navigator) {
    // The worker sent reports (sync): show them and check their receipts.
    navigator.serviceWorker.addEventListener("message", (event) => {
      if (event.data?.type === "reports") flush();
    });
  }
  window.addEventListener("offline", renderLink);
  setInterval(() => { if (navigator.onLine) flush(); }, RETRY_MS);
  renderSession();
  await flush();
  // A sync lapses after a few failed tries: still-queued reports get a new one.
  if ((await store.allReports()).some((report) => report.state === "queued")) requestSync();
  document.body.dataset.ready = "true";
}

start();
