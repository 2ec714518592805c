// The span-limits table (attributes, links, whole spans) of a bundle that `tare bench` makes here: the page equals its summary.json.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { artifacts, launch, loadBundle, newPage, root, startView, tare } from './lib.js';

const out = join(artifacts, 'limits');
let bundlePath;
let summary;
let server;
let browser;

/** `1..5`-style ranges as report-model's `format::ranges` writes them (at most 8). */
function ranges(rs) {
  if (rs.length === 0) return '—';
  const parts = rs.slice(0, 8).map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}..${hi}`));
  if (rs.length > 8) parts.push(`… (+${rs.length - 8} more)`);
  return parts.join(', ');
}

before(async () => {
  rmSync(out, { recursive: true, force: true });
  const r = spawnSync(tare, ['bench', '--quiet', join(root, 'tests', 'browser', 'limits-experiment.toml'), '--out', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, `tare bench failed: ${r.stderr}`);
  bundlePath = `${out}.bundle.tar.gz`;
  ({ summary } = loadBundle(bundlePath));
  server = await startView(bundlePath);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  server?.stop();
});

describe('span limits in the viewer', () => {
  it('every cell and kind, as summary.json says', async () => {
    const { page, errors } = await newPage(browser);
    await page.goto(`${server.url}#/retention`);
    await page.waitForSelector('#span-limits tbody tr', { timeout: 15000 });
    const kinds = { attributes: 'attributes', links: 'links', spans: 'spans' };
    let rows = 0;
    for (const cell of summary.cells) {
      for (const kind of Object.keys(kinds)) {
        const f = cell.fidelity[kind];
        if (!f) continue;
        rows += 1;
        const r = await page.$eval(`#span-limits tr[data-cell="${cell.id}"][data-kind="${kind}"]`,
          (tr) => [...tr.children].map((td) => ({ text: td.textContent.trim(), v: td.dataset.v })));
        assert.equal(r[0].text, cell.id);
        assert.equal(r[1].text, kind);
        assert.equal(Number(r[2].v), f.target);
        assert.equal(Number(r[3].v), f.retained);
        assert.equal(r[4].text, ranges(f.retained_ranges));
        assert.equal(r[5].text, f.pattern);
        assert.equal(r[6].text, f.dropped_by_sdk === undefined ? 'not exposed' : `${f.dropped_by_sdk}`);
        assert.equal(Number(r[7].v), f.dropped_counted);
        const agree = f.dropped_by_sdk === undefined ? '—' : (f.dropped_by_sdk === f.dropped_counted ? 'yes' : 'no');
        assert.equal(r[8].text, agree);
      }
    }
    // Each cell lost something of its own kind: three rows, and the links row is the Rust SDK's first 128.
    assert.equal(rows, 3);
    assert.equal(summary.cells.find((c) => c.id === 'links-500').fidelity.links.retained_ranges[0][1], 127);
    assert.equal(await page.$$eval('#span-limits tbody tr', (trs) => trs.length), 3);
    assert.deepEqual(errors, []);
  });
});
