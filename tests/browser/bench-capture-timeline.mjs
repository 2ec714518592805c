// Benchmark (not a test): a capture archive of about a million kernel events in the processes
// view: time from navigation to the timeline drawn, then to each zoom redraw.
//
//   node tests/browser/bench-capture-timeline.mjs [ARCHIVE] [--runs N]
//
// Without ARCHIVE it makes tests/browser/artifacts/million.tar.gz first (as root): `tare
// capture -- dd if=/dev/zero of=/dev/null bs=1 count=1000000`, a million one-byte writes, each
// a kernel event. The page is served by `tare view ARCHIVE` (TARE_BIN overrides the binary) and
// opened at `#/processes` in a fresh browser context each run.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { artifacts, launch, newPage, startView, tare } from './lib.js';

const args = process.argv.slice(2);
const runsAt = args.indexOf('--runs');
const runs = runsAt >= 0 ? Number(args.splice(runsAt, 2)[1]) : 3;
const archive = args[0] || join(artifacts, 'million.tar.gz');

if (!existsSync(archive)) {
  if (args[0]) throw new Error(`no archive at ${archive}`);
  console.error(`making ${archive} with tare capture (needs root)…`);
  const r = spawnSync(tare, ['capture', '--quiet', '--out', archive, '--', 'dd', 'if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=1000000'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('tare capture failed; pass an archive path instead');
}

const server = await startView(archive);
const browser = await launch();
const rows = [];
try {
  for (let i = 0; i < runs; i += 1) {
    const { page, context, errors } = await newPage(browser);
    await page.goto(`${server.url}#/processes`);
    await page.waitForSelector('#capture-timeline', { timeout: 300000 });
    const opened = await page.evaluate(() => performance.now());
    const shapes = await page.$$eval('#capture-timeline rect', (r) => r.length);
    const events = await page.$eval('#cap-events', (d) => Number(d.dataset.v));
    const zooms = [];
    for (const button of ['#tl-in', '#tl-in', '#tl-right', '#tl-out']) {
      const before = await page.$eval('#tl-window', (w) => w.dataset.from + '-' + w.dataset.to);
      const t0 = await page.evaluate(() => performance.now());
      await page.click(button);
      await page.waitForFunction((b) => { const w = document.querySelector('#tl-window'); return w && (w.dataset.from + '-' + w.dataset.to) !== b; }, before, { timeout: 60000 });
      zooms.push(await page.evaluate((t) => performance.now() - t, t0));
    }
    rows.push({ opened, zooms, shapes, events });
    if (errors.length) console.error('page errors:', errors);
    await context.close();
  }
} finally {
  await browser.close();
  server.stop();
}
const mb = (statSync(archive).size / 1e6).toFixed(1);
console.log(`archive ${archive} (${mb} MB, ${rows[0].events} kernel events, ${rows[0].shapes} shapes drawn)`);
for (const r of rows) {
  console.log(`timeline drawn ${r.opened.toFixed(0)} ms after navigation; zoom/pan redraws ${r.zooms.map((z) => z.toFixed(0)).join(', ')} ms`);
}
