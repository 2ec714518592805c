// Opening files: ?bundle=, the file picker, drag-and-drop; hostile and wrong files give clear errors and the page keeps working.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { artifacts, fixtures, launch, loadBundle, newPage, startView } from './lib.js';
import { readTarGz, writeTarGz } from './tar.js';

const good = join(fixtures, 'smoke.bundle.tar.gz');
const { summary } = loadBundle(good);

let plain; // `tare view` with no bundle
let preloaded; // `tare view` with the smoke bundle
let browser;

before(async () => {
  [plain, preloaded] = await Promise.all([startView(), startView(good)]);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  plain?.stop();
  preloaded?.stop();
});

/** Picks `file` with the header's file input. */
async function pick(page, file) {
  await page.setInputFiles('#open-file', file);
}

/** Drops `file` on the page the way a desktop drag does: a drop event carrying a File. */
async function drop(page, file, target = 'body') {
  const b64 = readFileSync(file).toString('base64');
  const name = file.split('/').pop();
  await page.evaluate(({ b64, name, target }) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], name));
    const el = document.querySelector(target);
    el.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    el.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, { b64, name, target });
}

async function headline(page) {
  await page.waitForSelector('#headline', { timeout: 20000 });
  return page.textContent('#headline');
}

async function errorText(page) {
  await page.waitForSelector('#error', { timeout: 30000 });
  return page.textContent('#error p');
}

describe('opening a bundle', () => {
  it('via ?bundle= (tare view with a bundle)', async () => {
    const { page, context, errors } = await newPage(browser);
    await page.goto(preloaded.url);
    assert.equal(await headline(page), summary.headline);
    assert.match(await page.textContent('.privacy'), /nothing is uploaded/);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('via the file picker', async () => {
    const { page, context, errors } = await newPage(browser);
    await page.goto(plain.url);
    await page.waitForSelector('#open-file-welcome');
    await page.setInputFiles('#open-file-welcome', good);
    assert.equal(await headline(page), summary.headline);
    assert.match(await page.textContent('#source'), /smoke\.bundle\.tar\.gz/);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('via drag-and-drop anywhere on the page', async () => {
    const { page, context, errors } = await newPage(browser);
    await page.goto(`${plain.url}#/retention`);
    await page.waitForSelector('#drop-primary');
    await drop(page, good);
    await page.waitForSelector('#retention tbody tr');
    assert.equal(await page.textContent('#retention tr[data-cell="k100-s500"] td.pattern'), 'oldest_kept');
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('a summary.json alone: the summary views work, the explorer says there are no archives', async () => {
    const { page, context } = await newPage(browser);
    await page.goto(`${plain.url}#/deltas`);
    await page.setInputFiles('#open-file', join(fixtures, 'smoke.summary.json'));
    await page.waitForSelector('#deltas tbody tr');
    await page.click('#nav-events');
    await page.waitForSelector('#no-archives');
    await page.click('#nav-overview');
    assert.equal(await headline(page), summary.headline);
    await context.close();
  });

  it('a capture archive alone: its kernel events can be explored', async () => {
    const file = join(fixtures, 'capture.archive.tar.gz');
    const { page, context } = await newPage(browser);
    await page.goto(plain.url);
    await page.setInputFiles('#open-file', file);
    await page.waitForSelector('#archive-only');
    await page.click('#nav-events');
    await page.waitForSelector('#ev-count');
    const n = readTarGz(readFileSync(file)).get('kernel.ndjson').toString().split('\n').filter(Boolean).length;
    assert.equal(await page.$eval('#ev-count', (p) => Number(p.dataset.total)), n);
    // An archive from before redaction says nothing about it.
    assert.equal(await page.$('#ev-redaction'), null);
    await context.close();
  });

  it('a redacted capture archive: the event explorer says how many values were redacted, and where', async () => {
    const file = join(fixtures, 'redacted.archive.tar.gz');
    const members = readTarGz(readFileSync(file));
    const { redaction } = JSON.parse(members.get('run.json').toString());
    const byPlace = {};
    for (const r of redaction.replaced) byPlace[r.place] = (byPlace[r.place] || 0) + r.count;
    const total = Object.values(byPlace).reduce((a, b) => a + b, 0);
    assert.ok(total >= 2, JSON.stringify(redaction));
    const places = Object.keys(byPlace).sort().map((p) => `${p} ${byPlace[p]}`).join(', ');
    const { page, context, errors } = await newPage(browser);
    await page.goto(plain.url);
    await page.setInputFiles('#open-file', file);
    await page.waitForSelector('#archive-only');
    await page.click('#nav-events');
    await page.waitForSelector('#ev-redaction');
    assert.equal(await page.textContent('#ev-redaction'), `Redaction: ${total} values redacted (${places}).`);
    // The redacted path is what the table shows; no secret reached the archive.
    await page.fill('#ev-path', '[redacted:github-token]');
    await page.waitForFunction(() => Number(document.querySelector('#ev-count').dataset.n) >= 1);
    assert.ok(!members.get('kernel.ndjson').toString().includes('ghp_Ab3d'));
    assert.deepEqual(errors, []);
    await context.close();
  });
});

describe('the resource timeline', () => {
  it('a capture archive alone: its metrics.ndjson is plotted and tabulated', async () => {
    const file = join(fixtures, 'timeline.archive.tar.gz');
    const samples = readTarGz(readFileSync(file)).get('metrics.ndjson').toString().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const { page, context, errors } = await newPage(browser);
    await page.goto(plain.url);
    await page.setInputFiles('#open-file', file);
    await page.waitForSelector('#archive-only');
    await page.click('#to-timeline');
    await page.waitForSelector('#timeline');
    assert.match(page.url(), /#\/timeline/);
    assert.equal(await page.$eval('#timeline', (t) => Number(t.dataset.samples)), samples.length);
    const rows = await page.$$eval('#timeline tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.dataset.v)));
    assert.equal(rows.length, samples.length);
    samples.forEach((s, i) => {
      assert.equal(rows[i][0], String(s.t_ns));
      assert.equal(rows[i][2], String(s.threads));
      assert.equal(rows[i][3], String(s.fds));
      assert.equal(Number(rows[i][4]), s.rss_bytes);
    });
    // The chart is report-model's SVG for these samples.
    const src = await page.$eval('figure.chart img.chart-img', (i) => i.getAttribute('src'));
    const svg = Buffer.from(src.replace(/^data:image\/svg\+xml;base64,/, ''), 'base64').toString('utf8');
    assert.match(svg, /^<svg/);
    assert.ok(svg.includes(`each of its ${samples.length} resource samples`), svg.slice(0, 600));
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('archives without metrics.ndjson say so', async () => {
    const { page, context } = await newPage(browser);
    await page.goto(plain.url);
    await page.setInputFiles('#open-file', join(fixtures, 'capture.archive.tar.gz'));
    await page.waitForSelector('#archive-only');
    await page.click('#nav-timeline');
    await page.waitForSelector('#no-metrics');
    await context.close();
  });
});

describe('bad files give a clear message and the page keeps working', () => {
  // A gzip bomb over the total limit (3 x 100 MiB of zeros, ~300 KB): made here, not committed.
  const bombTotal = join(artifacts, 'bomb-total.tar.gz');
  writeFileSync(bombTotal, writeTarGz(['a', 'b', 'c'].map((n) => ({ name: `${n}.bin`, data: Buffer.alloc(100 << 20) }))));

  const cases = [
    ['malformed.tar.gz', /damaged tar\.gz|no members|not a tar/i],
    ['bomb.tar.gz', /over the \d+ byte limit per member/],
    [bombTotal, /possible gzip bomb/],
    ['traversal.tar.gz', /refused: `\.\.` in path/],
    ['symlink.tar.gz', /links are not allowed/],
    ['wrong-schema.bundle.tar.gz', /schema `tare\.summary\.v9` is not readable/],
    ['bad-field.summary.json', /field `cells`/],
  ];

  for (const [name, pattern] of cases) {
    it(`${name.split('/').pop()}: an error, then the good bundle opens`, async () => {
      const file = name.startsWith('/') ? name : join(fixtures, name);
      const { page, context, errors } = await newPage(browser);
      await page.goto(plain.url);
      await pick(page, file);
      const text = await errorText(page);
      assert.match(text, pattern);
      assert.match(text, /was not opened/);
      await pick(page, good);
      assert.equal(await headline(page), summary.headline);
      assert.equal(await page.$('#error'), null, 'the error is cleared by a good file');
      // A bad file after a good one: the message says the good one is still shown.
      await drop(page, file);
      assert.match(await errorText(page), /Still showing smoke\.bundle\.tar\.gz/);
      assert.equal(await page.textContent('#headline'), summary.headline);
      assert.deepEqual(errors, []);
      await context.close();
    });
  }

  it('a file that is neither gzip nor JSON', async () => {
    const { page, context } = await newPage(browser);
    await page.goto(plain.url);
    const junk = join(artifacts, 'junk.txt');
    writeFileSync(junk, 'hello, not a bundle\n');
    await pick(page, junk);
    assert.match(await errorText(page), /neither a \.tar\.gz nor JSON/);
    await context.close();
  });

  it('markup in a bundle is shown as text and never runs', async () => {
    const { page, context, errors } = await newPage(browser);
    await page.goto(plain.url);
    await pick(page, join(fixtures, 'xss.bundle.tar.gz'));
    const text = await headline(page);
    assert.match(text, /<script>window\.__xss=3<\/script>/);
    for (const v of ['overview', 'deltas', 'wall', 'phases', 'retention', 'matrix', 'rss', 'timeline', 'events']) {
      await page.click(`#nav-${v}`);
      await page.waitForFunction((v) => location.hash.startsWith(`#/${v}`), v);
      await page.waitForTimeout(100);
    }
    await page.selectOption('#ev-kind', 'open');
    await page.waitForFunction(() => document.querySelector('#events tbody td.detail')?.textContent.includes('onerror'));
    assert.equal(await page.evaluate(() => window.__xss), undefined);
    assert.equal(await page.$$eval('img:not(.chart-img)', (i) => i.length), 0, 'no <img> from bundle text');
    assert.equal(await page.$$eval('script', (s) => s.filter((x) => x.textContent.includes('__xss')).length), 0);
    assert.deepEqual(errors, []);
    await context.close();
  });
});

describe('?bundle= is same origin only', () => {
  for (const url of ['http://example.invalid/x.bundle.tar.gz', '//example.invalid/x.tar.gz', 'data:application/gzip;base64,H4sI']) {
    it(`refuses ${url}`, async () => {
      const { page, context } = await newPage(browser);
      await page.goto(`${plain.url}?bundle=${encodeURIComponent(url)}`);
      assert.match(await errorText(page), /only fetches bundles from its own origin/);
      await pick(page, good);
      assert.equal(await headline(page), summary.headline);
      await context.close();
    });
  }

  it('reports a missing same-origin bundle', async () => {
    const { page, context } = await newPage(browser);
    await page.goto(`${plain.url}?bundle=./missing.tar.gz`);
    assert.match(await errorText(page), /HTTP 404/);
    await context.close();
  });
});
