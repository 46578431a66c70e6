// The offline basemap both pages share: Natural Earth 1:50m countries from the world-atlas
// package (TopoJSON, converted with topojson-client), drawn as a Leaflet vector layer in its
// own pane under everything else.
export async function loadBasemap(map) {
  const answer = await fetch("/web/vendor/world-atlas/countries-50m.json");
  const topology = await answer.json();
  const countries = topojson.feature(topology, topology.objects.countries);
  map.createPane("basemap").style.zIndex = 200;
  return L.geoJSON(countries, {
    pane: "basemap",
    interactive: false,
    style: { color: "#8a8a7a", weight: 0.8, fillColor: "#f2efe6", fillOpacity: 1 },
    attribution: "Natural Earth",  // a name, the same in every language
  }).addTo(map);
}
