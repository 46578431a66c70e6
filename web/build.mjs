// Copies the front-end packages the pages need from node_modules into the Python package
// (src/truceline/web/vendor), with their licences, so a `pip install` user has them and the
// pages load nothing from the internet. No bundler: the pages are plain ES modules and these
// files are used as the packages ship them.
//
//   node build.mjs          copy (after `npm ci`)
//   node build.mjs --check  exit 1 if the committed copies differ from node_modules (CI)
import { readFileSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const modules = join(here, "node_modules");
const vendor = join(here, "..", "src", "truceline", "web", "vendor");

// [package, file in the package, name under vendor/]
const FILES = [
  ["leaflet", "dist/leaflet.js", "leaflet/leaflet.js"],
  ["leaflet", "dist/leaflet.css", "leaflet/leaflet.css"],
  ["leaflet", "LICENSE", "leaflet/LICENSE"],
  ["leaflet", "dist/images/marker-icon.png", "leaflet/images/marker-icon.png"],
  ["leaflet", "dist/images/marker-icon-2x.png", "leaflet/images/marker-icon-2x.png"],
  ["leaflet", "dist/images/marker-shadow.png", "leaflet/images/marker-shadow.png"],
  ["leaflet", "dist/images/layers.png", "leaflet/images/layers.png"],
  ["leaflet", "dist/images/layers-2x.png", "leaflet/images/layers-2x.png"],
  ["topojson-client", "dist/topojson-client.min.js", "topojson-client/topojson-client.min.js"],
  ["topojson-client", "LICENSE", "topojson-client/LICENSE"],
  // Natural Earth 1:50m countries (public domain) as TopoJSON, from the world-atlas package.
  ["world-atlas", "countries-50m.json", "world-atlas/countries-50m.json"],
  ["world-atlas", "LICENSE", "world-atlas/LICENSE"],
];

const check = process.argv.includes("--check");
const versions = {};
let stale = 0;
for (const [pkg, file, target] of FILES) {
  const source = join(modules, pkg, file);
  if (!existsSync(source)) {
    console.error(`missing ${source}: run \`npm ci\` in web/ first`);
    process.exit(2);
  }
  versions[pkg] = JSON.parse(readFileSync(join(modules, pkg, "package.json"), "utf8")).version;
  const bytes = readFileSync(source);
  const out = join(vendor, target);
  if (check) {
    if (!existsSync(out) || !readFileSync(out).equals(bytes)) {
      console.error(`vendor/${target} differs from ${pkg}/${file}: run \`node web/build.mjs\``);
      stale += 1;
    }
  } else {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, bytes);
  }
}
const manifest = JSON.stringify(versions, null, 2) + "\n";
const manifestPath = join(vendor, "versions.json");
if (check) {
  if (!existsSync(manifestPath) || readFileSync(manifestPath, "utf8") !== manifest) {
    console.error("vendor/versions.json differs from node_modules: run `node web/build.mjs`");
    stale += 1;
  }
  process.exit(stale ? 1 : 0);
}
writeFileSync(manifestPath, manifest);
console.log(`vendor: ${FILES.length} files from ${Object.keys(versions).join(", ")}`);
