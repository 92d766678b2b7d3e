// Print each built script's size, raw and gzipped, and fail the build when the page's JavaScript
// (every chunk, the lazily loaded charts included) is over the budget: 300 kB gzipped.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const BUDGET_KB = 300;
const dir = new URL("../dist/assets/", import.meta.url).pathname;
const kb = (n) => (n / 1024).toFixed(1);

let totalRaw = 0;
let totalGz = 0;
const rows = [];
for (const name of readdirSync(dir).sort()) {
  if (!name.endsWith(".js") && !name.endsWith(".css")) continue;
  const path = join(dir, name);
  const raw = statSync(path).size;
  const gz = gzipSync(readFileSync(path), { level: 9 }).length;
  rows.push({ name, raw, gz });
  if (name.endsWith(".js")) {
    totalRaw += raw;
    totalGz += gz;
  }
}
for (const r of rows) console.log(`  ${r.name.padEnd(40)} ${kb(r.raw).padStart(8)} kB   gzip ${kb(r.gz).padStart(7)} kB`);
console.log(`JS bundle: ${kb(totalRaw)} kB, ${kb(totalGz)} kB gzipped (budget ${BUDGET_KB} kB gzipped)`);
if (totalGz > BUDGET_KB * 1024) {
  console.error(`The JS bundle is over budget by ${kb(totalGz - BUDGET_KB * 1024)} kB gzipped.`);
  process.exit(1);
}
