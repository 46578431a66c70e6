// The observer page's service worker (scope /observe): the page must open with no link at all,
// in the field, so the page and everything it loads are cached when the worker installs, and
// served from the cache first (the network refreshes the cache in the background).
// The API (reports, login, texts) is never answered from here: the page keeps its own state
// in IndexedDB and decides itself what to do offline (observe.js, store.js).
//
// Background Sync (Chromium; Firefox and Safari have none): the page registers SYNC_TAG when
// it queues a report, and the browser fires `sync` here when the link is back, with the tab
// open or closed. The worker then uploads the queue with the page's own routine (upload.js)
// and the token the page keeps in IndexedDB. Receipts are checked by the page when it next
// shows them (observe.js); an open page is told at once.
//
// A classic worker (importScripts, not `import`): Firefox before 147 refuses a module worker,
// and without this worker the page does not open offline.
importScripts("/web/observe/store.js", "/web/observe/upload.js");

const CACHE = "truceline-observe-v2";
const SYNC_TAG = "truceline-upload";
const SHELL = [
  "/observe",
  "/web/observe/observe.css",
  "/web/observe/observe.js",
  "/web/observe/receipt.js",
  "/web/observe/store.js",
  "/web/observe/upload.js",
  "/web/basemap.js",
  "/web/vendor/leaflet/leaflet.css",
  "/web/vendor/leaflet/leaflet.js",
  "/web/vendor/topojson-client/topojson-client.min.js",
  "/web/vendor/world-atlas/countries-50m.json",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (name !== CACHE) await caches.delete(name);
    await self.clients.claim(); // control the page that registered us, without a reload
  })());
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  const cacheable = event.request.method === "GET" && url.origin === self.location.origin &&
    (url.pathname === "/observe" || url.pathname.startsWith("/web/"));
  if (!cacheable) return; // the network, as if there were no worker
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    const cached = await cache.match(event.request, { ignoreSearch: true });
    const fresh = fetch(event.request).then((answer) => {
      if (answer.ok) cache.put(event.request, answer.clone());
      return answer;
    });
    if (cached) {
      event.waitUntil(fresh.catch(() => {})); // refresh for next time; offline it simply fails
      return cached;
    }
    return fresh;
  })());
});

self.addEventListener("sync", (event) => {
  if (event.tag !== SYNC_TAG) return;
  event.waitUntil((async () => {
    const { outcome } = await self.trucelineUpload.uploadQueued(tellPages);
    // A rejection makes the browser fire the sync again later (with a back-off); without a
    // login, or with a refused token, only a new login in the page helps.
    if (outcome === "offline" || outcome === "later") throw new Error(`reports still queued: ${outcome}`);
  })());
});

/** Tell the open observer pages that reports changed state (they redraw, check receipts). */
async function tellPages() {
  for (const client of await self.clients.matchAll({ type: "window" })) client.postMessage({ type: "reports" });
}
