// Copies the built front-end files the portal uses from node_modules into static/vendor,
// so Django (and whitenoise in production) serves them: no CDN, no network at run time.
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";

const files = {
  "bootstrap/dist/css/bootstrap.min.css": "bootstrap/bootstrap.min.css",
  "bootstrap/dist/css/bootstrap.min.css.map": "bootstrap/bootstrap.min.css.map",
  "bootstrap/dist/js/bootstrap.bundle.min.js": "bootstrap/bootstrap.bundle.min.js",
  "bootstrap/dist/js/bootstrap.bundle.min.js.map": "bootstrap/bootstrap.bundle.min.js.map",
  "chart.js/dist/chart.umd.min.js": "chart.js/chart.umd.min.js",
  "chartjs-chart-geo/build/index.umd.min.js": "chartjs-chart-geo/index.umd.min.js",
  "chartjs-chart-matrix/dist/chartjs-chart-matrix.min.js": "chartjs-chart-matrix/chartjs-chart-matrix.min.js",
  "chartjs-chart-sankey/dist/chartjs-chart-sankey.min.js": "chartjs-chart-sankey/chartjs-chart-sankey.min.js",
};

const target = join("static", "vendor");
rmSync(target, { recursive: true, force: true });
for (const [from, to] of Object.entries(files)) {
  const dest = join(target, to);
  mkdirSync(dirname(dest), { recursive: true });
  cpSync(join("node_modules", from), dest);
}
console.log(`copied ${Object.keys(files).length} front-end files into ${target}`);
