// Every view of the viewer against the smoke fixture: the numbers on the page equal summary.json's.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { artifacts, fixtures, launch, loadBundle, mib, ms, newPage, signedMs, startView } from './lib.js';

const bundlePath = join(fixtures, 'smoke.bundle.tar.gz');
const fx = loadBundle(bundlePath);
const { summary } = fx;
const cellIds = summary.cells.map((c) => c.id);
const armLabel = { bare: 'bare', a: 'A (capture)', b: 'B (OTel)', c: 'C (capture + OTel)' };

let server;
let browser;
let page;
let errors;

/** Opens the view at `hash` of the preloaded bundle and waits for `selector` in it. */
async function view(hash, selector) {
  await page.goto(`${server.url}${hash}`);
  await page.waitForSelector(selector, { timeout: 15000 });
}

/** Text of every cell of the row matching `selector`, and their data-v values. */
async function row(selector) {
  return page.$eval(selector, (tr) => [...tr.children].map((td) => ({ text: td.textContent.trim(), v: td.dataset.v })));
}

/** Waits until every chart image on the page has loaded; returns how many. */
async function chartsLoaded() {
  await page.waitForFunction(() => [...document.querySelectorAll('img.chart-img')].every((i) => i.complete && i.naturalWidth > 0));
  return page.$$eval('img.chart-img', (imgs) => imgs.map((i) => i.getAttribute('src').slice(0, 26)));
}

before(async () => {
  server = await startView(bundlePath);
  browser = await launch();
  ({ page, errors } = await newPage(browser));
});

after(async () => {
  await browser?.close();
  server?.stop();
});

describe('views of the smoke bundle', () => {
  it('overview: headline, host class, health gate, fidelity, not shown', async () => {
    await view('#/overview', '#health');
    assert.equal(await page.textContent('#headline'), summary.headline);
    assert.equal(await page.textContent('#host-class'), summary.host_class);
    assert.equal(await page.textContent('#experiment'), summary.experiment);
    for (const cell of summary.cells) {
      for (const [arm, a] of Object.entries(cell.arms)) {
        const r = await row(`#health tr[data-cell="${cell.id}"][data-arm="${arm}"]`);
        assert.equal(r[0].text, cell.id);
        assert.equal(r[1].text, armLabel[arm]);
        assert.equal(Number(r[2].v), a.valid);
        assert.equal(Number(r[3].v), a.discarded);
        assert.equal(r[5].text, a.wall_claim ? 'made' : 'not made');
        assert.equal(r[6].text, a.rss_claim ? 'made' : 'not made');
      }
      const f = await row(`#fidelity tr[data-cell="${cell.id}"]`);
      assert.equal(Number(f[1].v), cell.fidelity.kernel_target);
      assert.equal(Number(f[3].v), cell.fidelity.span_target);
      assert.equal(Number(f[4].v), cell.fidelity.span_retained);
      assert.equal(f[5].text, cell.fidelity.pattern);
      assert.equal(f[7].text, cell.fidelity.verdict);
    }
    const notShown = await page.$$eval('#not-shown li', (lis) => lis.map((l) => l.textContent));
    assert.deepEqual(notShown, summary.not_shown);
    if (summary.boundary) assert.match(await page.textContent('#boundary'), new RegExp(summary.boundary.gate));
  });

  it('deltas: chart plus every estimate, CI, p, n and verdict in the table', async () => {
    await view('#/deltas', '#deltas tbody tr');
    assert.equal((await chartsLoaded()).length, 1);
    for (const cell of summary.cells) {
      for (const d of cell.deltas) {
        const r = await row(`#deltas tr[data-cell="${cell.id}"][data-delta="${d.name}"][data-metric="${d.metric}"]`);
        assert.equal(Number(r[3].v), d.estimate, `${cell.id} ${d.name} estimate`);
        assert.equal(r[3].text, signedMs(d.estimate));
        assert.equal(r[4].text, `${signedMs(d.ci_low)} to ${signedMs(d.ci_high)}`);
        assert.equal(Number(r[5].v), d.p_value);
        assert.equal(Number(r[6].v), d.n);
        assert.equal(r[8].text, d.verdict.replaceAll('_', ' '));
      }
      for (const [arm, a] of Object.entries(cell.arms)) {
        const r = await row(`#arm-medians tr[data-cell="${cell.id}"][data-arm="${arm}"]`);
        assert.equal(r[3].text, ms(a.wall_ms.median), `${cell.id} ${arm} median`);
        assert.equal(Number(r[3].v), a.wall_ms.median);
      }
    }
  });

  it('deltas?cell= narrows the chart and the table to one cell', async () => {
    const cell = cellIds[1];
    await view(`#/deltas?cell=${cell}`, `#deltas tr[data-cell="${cell}"]`);
    await page.waitForFunction((c) => [...document.querySelectorAll('#deltas tbody tr')].every((t) => t.dataset.cell === c), cell);
    await chartsLoaded();
    const cells = await page.$$eval('#deltas tbody tr', (trs) => [...new Set(trs.map((t) => t.dataset.cell))]);
    assert.deepEqual(cells, [cell]);
    assert.equal(await page.$eval('#cell-picker', (s) => s.value), cell);
    // Choosing "all cells" from the picker brings every cell back and updates the hash.
    await page.selectOption('#cell-picker', '');
    await page.waitForFunction(() => !location.hash.includes('cell='));
    const all = await page.$$eval('#deltas tbody tr', (trs) => [...new Set(trs.map((t) => t.dataset.cell))]);
    assert.deepEqual(all, cellIds);
  });

  it('wall-clock: per cell, each arm median/p95/p99/min/max', async () => {
    for (const cell of summary.cells) {
      await view(`#/wall?cell=${cell.id}`, `#wall tr[data-cell="${cell.id}"]`);
      assert.equal((await chartsLoaded()).length, 1);
      for (const [arm, a] of Object.entries(cell.arms)) {
        const r = await row(`#wall tr[data-cell="${cell.id}"][data-arm="${arm}"]`);
        const w = a.wall_ms;
        assert.deepEqual(r.slice(3, 8).map((c) => c.text), [w.median, w.p95, w.p99, w.min, w.max].map(ms), `${cell.id} ${arm}`);
        assert.equal(Number(r[3].v), w.median);
        assert.equal(Number(r[1].v), a.valid);
      }
    }
  });

  it('phases: every recorded phase median per capture arm, plus the residual', async () => {
    await view('#/phases', '#phases tbody tr');
    await chartsLoaded();
    for (const cell of summary.cells) {
      for (const [arm, a] of Object.entries(cell.arms)) {
        for (const [phase, d] of Object.entries(a.phases_ms || {})) {
          const r = await row(`#phases tr[data-cell="${cell.id}"][data-arm="${arm}"][data-phase="${phase}"]`);
          assert.equal(r[3].text, ms(d.median), `${cell.id} ${arm} ${phase}`);
        }
        if (a.phases_ms) {
          assert.ok(await page.$(`#phases tr[data-cell="${cell.id}"][data-arm="${arm}"][data-phase="residual"]`));
          // The chart writes each stack's sum beside it; the table has it too.
          const sum = Object.values(a.phases_ms).reduce((t, d) => t + d.median, 0);
          const r = await row(`#phases tr[data-cell="${cell.id}"][data-arm="${arm}"][data-phase="sum"]`);
          assert.equal(r[3].text, ms(sum));
        }
      }
    }
  });

  it('retention: retained ranges, evicted ranges and the pattern per cell', async () => {
    await view('#/retention', '#retention tbody tr');
    await chartsLoaded();
    for (const cell of summary.cells.filter((c) => c.fidelity.span_target > 0)) {
      const f = cell.fidelity;
      const r = await row(`#retention tr[data-cell="${cell.id}"]`);
      const ranges = f.retained_ranges.map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}..${hi}`)).join(', ');
      assert.equal(r[3].text, ranges);
      assert.equal(r[5].text, f.pattern);
      assert.equal(Number(r[2].v), f.span_retained);
    }
    // The study's finding in this fixture: 128 of 500 kept, the oldest.
    const lossy = summary.cells.find((c) => c.id === 'k100-s500');
    if (lossy) {
      const r = await row('#retention tr[data-cell="k100-s500"]');
      assert.equal(r[3].text, '0..127');
      assert.equal(r[4].text, '128..499');
      assert.equal(r[5].text, 'oldest_kept');
    }
  });

  it('sweep matrix: each cell at its levels, coloured by fidelity or overhead', async () => {
    await view('#/matrix', '#matrix .mx-cell');
    for (const cell of summary.cells) {
      const el = `#matrix .mx-cell[data-cell="${cell.id}"]`;
      assert.equal(await page.textContent(`${el} .mx-fid`), cell.fidelity.verdict);
      const tone = { clean: 'good', lossy: 'bad', inconclusive: 'warn' }[cell.fidelity.verdict];
      assert.ok((await page.getAttribute(el, 'class')).includes(tone));
      const c = cell.deltas.find((d) => d.name === 'c_vs_bare' && d.metric === 'wall_ms');
      assert.ok((await page.textContent(`${el} .mx-over`)).includes(signedMs(c.estimate)));
    }
    await page.click('#by-overhead');
    await page.waitForFunction(() => location.hash.includes('by=overhead'));
    assert.equal(await page.getAttribute('#by-overhead', 'aria-pressed'), 'true');
  });

  it('RSS: medians and maxima per arm', async () => {
    await view('#/rss', '#rss tbody tr');
    await chartsLoaded();
    for (const cell of summary.cells) {
      for (const [arm, a] of Object.entries(cell.arms)) {
        if (!a.rss_bytes) continue;
        const r = await row(`#rss tr[data-cell="${cell.id}"][data-arm="${arm}"]`);
        assert.equal(r[3].text, mib(a.rss_bytes.median));
        assert.equal(Number(r[3].v), a.rss_bytes.median);
        assert.equal(r[5].text, mib(a.rss_bytes.max));
      }
    }
  });

  it('kernel events: archive, kind, path and pid filters, 100 a page, state in the hash', async () => {
    const archive = fx.archives.find((p) => p.includes('k100-s500') && p.endsWith('-c.tar.gz')) || fx.archives[0];
    const events = fx.kernelEvents(archive);
    await view(`#/events?archive=${encodeURIComponent(archive)}`, '#ev-count');
    const count = async () => page.$eval('#ev-count', (p) => ({ n: Number(p.dataset.n), total: Number(p.dataset.total) }));
    await page.waitForFunction((n) => document.querySelector('#ev-count')?.dataset.total === String(n), events.length);
    assert.deepEqual(await count(), { n: events.length, total: events.length });

    await page.selectOption('#ev-kind', 'open');
    const opens = events.filter((e) => e.kind === 'open');
    await page.waitForFunction((n) => document.querySelector('#ev-count').dataset.n === String(n), opens.length);
    assert.match(page.url(), /kind=open/);
    const shown = await page.$$eval('#events tbody tr td.kind', (tds) => tds.map((t) => t.textContent));
    assert.equal(shown.length, Math.min(100, opens.length));
    assert.ok(shown.every((k) => k === 'open'));

    for (const kind of ['write', 'exec', 'exit', 'fork']) {
      await page.selectOption('#ev-kind', kind);
      const n = events.filter((e) => e.kind === kind).length;
      await page.waitForFunction((n) => document.querySelector('#ev-count').dataset.n === String(n), n);
    }

    await page.selectOption('#ev-kind', 'open');
    await page.fill('#ev-path', 'worker-1');
    const byPath = opens.filter((e) => e.path.includes('worker-1'));
    await page.waitForFunction((n) => document.querySelector('#ev-count').dataset.n === String(n), byPath.length);

    const pid = events.find((e) => e.comm.startsWith('tare-worker'))?.pid ?? events[0].pid;
    await page.fill('#ev-path', '');
    await page.fill('#ev-pid', String(pid));
    const byPid = opens.filter((e) => e.pid === pid);
    await page.waitForFunction((n) => document.querySelector('#ev-count').dataset.n === String(n), byPid.length);

    // The filter state survives a reload.
    await page.reload();
    await page.waitForFunction((n) => document.querySelector('#ev-count')?.dataset.n === String(n), byPid.length);
    assert.equal(await page.inputValue('#ev-pid'), String(pid));
    assert.equal(await page.$eval('#ev-kind', (s) => s.value), 'open');

    // Paging: all kinds, page 2 starts at the 101st event.
    await page.fill('#ev-pid', '');
    await page.selectOption('#ev-kind', '');
    await page.waitForFunction((n) => document.querySelector('#ev-count').dataset.n === String(n), events.length);
    if (events.length > 100) {
      await page.click('#ev-next');
      await page.waitForFunction(() => location.hash.includes('page=2'));
      const first = await page.$eval('#events tbody tr', (tr) => Number(tr.dataset.seq));
      assert.equal(first, events[100].seq);
      assert.equal(await page.textContent('#ev-page'), `page 2 of ${Math.ceil(events.length / 100)}`);
      await page.goBack();
      await page.waitForFunction(() => !location.hash.includes('page=2'));
      assert.equal(await page.$eval('#events tbody tr', (tr) => Number(tr.dataset.seq)), events[0].seq);
    }
  });

  it('compare: a second bundle gives per cell/arm median differences', async () => {
    const other = loadBundle(join(fixtures, 'smoke-b.bundle.tar.gz')).summary;
    await view('#/compare', '#open-second');
    await page.setInputFiles('#open-second', join(fixtures, 'smoke-b.bundle.tar.gz'));
    await page.waitForSelector('#compare');
    for (const cell of summary.cells) {
      const b = other.cells.find((c) => c.id === cell.id);
      for (const [arm, a] of Object.entries(cell.arms)) {
        const r = await row(`#compare tr[data-cell="${cell.id}"][data-arm="${arm}"]`);
        assert.equal(r[2].text, ms(a.wall_ms.median));
        assert.equal(r[3].text, ms(b.arms[arm].wall_ms.median));
        assert.equal(Number(r[4].v), b.arms[arm].wall_ms.median - a.wall_ms.median);
      }
    }
  });

  it('no uncaught errors on any view', () => {
    assert.deepEqual(errors, []);
  });
});

describe('themes, keyboard and phone width', () => {
  const views = ['overview', 'deltas', 'wall', 'phases', 'retention', 'matrix', 'rss', 'events', 'compare'];

  it('screenshots of every view in light and dark, at 1280 px and 390 px', async () => {
    for (const [scheme, width] of [['light', 1280], ['dark', 1280], ['light', 390], ['dark', 390]]) {
      const { page: p, context } = await newPage(browser, { colorScheme: scheme, viewport: { width, height: 900 } });
      for (const v of views) {
        await p.goto(`${server.url}#/${v}`);
        await p.waitForSelector('#source', { timeout: 15000 });
        await p.waitForFunction(() => [...document.querySelectorAll('img.chart-img')].every((i) => i.complete && i.naturalWidth > 0));
        // At phone width nothing but the tables' own scroll boxes may be wider than the screen.
        const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 1, `${v} at ${width}px overflows by ${overflow}px`);
        await p.screenshot({ path: join(artifacts, `${v}-${scheme}-${width}.png`), fullPage: true });
      }
      await context.close();
    }
  });

  it('the theme toggle overrides the system theme and is remembered', async () => {
    const { page: p, context } = await newPage(browser, { colorScheme: 'light' });
    await p.goto(`${server.url}#/deltas`);
    await p.waitForSelector('#source');
    const bg = () => p.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const light = await bg();
    await p.click('#theme-toggle'); // auto -> light
    await p.click('#theme-toggle'); // light -> dark
    assert.equal(await p.getAttribute('html', 'data-theme'), 'dark');
    assert.notEqual(await bg(), light);
    await p.screenshot({ path: join(artifacts, 'toggle-dark.png'), fullPage: true });
    await p.reload();
    await p.waitForSelector('#source');
    assert.equal(await p.getAttribute('html', 'data-theme'), 'dark');
    await context.close();
  });

  it('keyboard: the nav links and controls are reachable with Tab and work with Enter', async () => {
    const { page: p, context } = await newPage(browser);
    await p.goto(`${server.url}#/overview`);
    await p.waitForSelector('#source');
    const seen = [];
    for (let i = 0; i < 12; i += 1) {
      await p.keyboard.press('Tab');
      seen.push(await p.evaluate(() => document.activeElement?.id || document.activeElement?.tagName));
      if (seen.at(-1) === 'nav-deltas') break;
    }
    assert.ok(seen.includes('open-file') && seen.includes('theme-toggle'), seen.join(' '));
    assert.equal(seen.at(-1), 'nav-deltas');
    const outline = await p.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.notEqual(outline, 'none');
    await p.keyboard.press('Enter');
    await p.waitForFunction(() => location.hash.startsWith('#/deltas'));
    await p.waitForSelector('#deltas');
    await context.close();
  });

  it('hash routing: a link reopens its view after reload; back and forward work', async () => {
    const { page: p, context } = await newPage(browser);
    await p.goto(`${server.url}#/retention`);
    await p.waitForSelector('#retention');
    await p.reload();
    await p.waitForSelector('#retention');
    await p.click('#nav-wall');
    await p.waitForSelector('#wall');
    await p.selectOption('#cell-picker', cellIds[1]);
    await p.waitForFunction((c) => location.hash === `#/wall?cell=${c}`, cellIds[1]);
    await p.click('#nav-rss');
    await p.waitForSelector('#rss');
    await p.goBack();
    await p.waitForSelector('#wall');
    assert.equal(await p.$eval('#cell-picker', (s) => s.value), cellIds[1]);
    await p.goBack();
    await p.waitForFunction(() => location.hash === '#/wall');
    assert.equal(await p.$eval('#cell-picker', (s) => s.value), cellIds[0]);
    await p.goForward();
    await p.waitForFunction((c) => location.hash === `#/wall?cell=${c}`, cellIds[1]);
    assert.equal(await p.$eval('#cell-picker', (s) => s.value), cellIds[1]);
    await context.close();
  });
});
