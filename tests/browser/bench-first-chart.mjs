// Benchmark (not a test): time from navigation to the first chart <img> loaded, for a ~10 MB bundle.
//
//   node tests/browser/bench-first-chart.mjs [BUNDLE] [--runs N]
//
// Without BUNDLE it uses tests/browser/artifacts/viewer-bench.bundle.tar.gz, making it first (as
// root) with `tare bench tests/browser/bench-experiment.toml` when it is missing. The page is
// served by `tare view BUNDLE` (TARE_BIN overrides the binary) and opened at `?bundle=...#/deltas`
// in a fresh browser context each run (cold cache). The bar (DESIGN section 9) is <= 1 s.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { artifacts, launch, newPage, root, startView, tare } from './lib.js';

const args = process.argv.slice(2);
const runsAt = args.indexOf('--runs');
const runs = runsAt >= 0 ? Number(args.splice(runsAt, 2)[1]) : 7;
let bundle = args[0] || join(artifacts, 'viewer-bench.bundle.tar.gz');

if (!existsSync(bundle)) {
  if (args[0]) throw new Error(`no bundle at ${bundle}`);
  const out = join(artifacts, 'viewer-bench');
  console.error(`making ${bundle} with tare bench (needs root; several minutes)…`);
  rmSync(out, { recursive: true, force: true });
  const r = spawnSync(tare, ['bench', join(root, 'tests', 'browser', 'bench-experiment.toml'), '--out', out], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('tare bench failed; pass a bundle path instead');
  bundle = `${out}.bundle.tar.gz`;
}

const server = await startView(bundle);
const browser = await launch();
const times = [];
try {
  for (let i = 0; i < runs; i += 1) {
    const { page, context, errors } = await newPage(browser);
    // Record when the first chart image finishes loading, in ms since navigation start.
    await page.addInitScript(() => {
      const watch = (img) => {
        const done = () => { if (window.__firstChart === undefined) window.__firstChart = performance.now(); };
        if (img.complete && img.naturalWidth > 0) done(); else img.addEventListener('load', done, { once: true });
      };
      new MutationObserver(() => {
        const img = document.querySelector('img.chart-img');
        if (img && !img.__watched) { img.__watched = true; watch(img); }
      }).observe(document, { childList: true, subtree: true });
    });
    await page.goto(`${server.url}#/deltas`);
    await page.waitForFunction(() => window.__firstChart !== undefined, null, { timeout: 60000 });
    times.push(await page.evaluate(() => window.__firstChart));
    if (errors.length) console.error('page errors:', errors);
    await context.close();
  }
} finally {
  await browser.close();
  server.stop();
}

const sorted = [...times].sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)];
const mb = (statSync(bundle).size / 1e6).toFixed(1);
console.log(`bundle ${bundle} (${mb} MB)`);
console.log(`first chart loaded, ms since navigation: ${times.map((t) => t.toFixed(0)).join(', ')}`);
console.log(`median ${median.toFixed(0)} ms, min ${sorted[0].toFixed(0)} ms, max ${sorted.at(-1).toFixed(0)} ms (bar: <= 1000 ms)`);
