// The duty officer's map. Basemap: Natural Earth countries (world-atlas, TopoJSON), drawn
// by Leaflet as vectors: no tile server, so it works with no internet.
import { loadBasemap } from "/web/basemap.js";

const map = L.map("map", { preferCanvas: true, worldCopyJump: true }).setView([35.0, 38.5], 6);
await loadBasemap(map);
document.body.dataset.ready = "true";
