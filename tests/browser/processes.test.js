// The processes view on a real capture made here (as root): a shell with forks, a failing and
// a killed child. The tree on the page is held against what the shell itself said of its
// children ($$, $!) and how they ended, and against the archive's own kernel.ndjson.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtures, launch, loadBundle, newPage, readTarGz, startView, tare } from './lib.js';

const isRoot = process.getuid?.() === 0;
let dir;
let archive;
let said; // what the shell wrote: name -> pid
let server;
let browser;

before(async () => {
  if (!isRoot) return;
  dir = mkdtempSync(join(tmpdir(), 'tare-processes-'));
  archive = join(dir, 'shell.tar.gz');
  const pids = join(dir, 'pids');
  const script = `echo root $$ > ${pids}; `
    + `sh -c 'exit 3' & echo exit3 $! >> ${pids}; wait; `
    + `sh -c 'kill -9 $$' & echo killed $! >> ${pids}; wait; `
    + `cat /etc/hostname > /dev/null & echo cat $! >> ${pids}; wait; exit 0`;
  execFileSync(tare, ['capture', '--quiet', '--out', archive, '--', 'sh', '-c', script]);
  said = Object.fromEntries(readFileSync(pids, 'utf8').trim().split('\n').map((l) => {
    const [k, v] = l.split(' ');
    return [k, Number(v)];
  }));
  server = await startView(archive);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the processes view of a capture archive', { skip: !isRoot && 'needs root to capture' }, () => {
  it('shows the tree, the exits and the counts the shell and the archive say', async () => {
    const { page, context, errors } = await newPage(browser);
    await page.goto(server.url);
    await page.waitForSelector('#archive-only');
    await page.click('#to-processes');
    await page.waitForSelector('#process-tree');
    assert.match(page.url(), /#\/processes/);
    const events = readTarGz(readFileSync(archive)).get('kernel.ndjson').toString('utf8')
      .split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
    assert.equal(await page.$eval('#cap-events', (d) => Number(d.dataset.v)), events.length);
    const rows = await page.$$eval('#process-tree tbody tr[data-pid]:not(.proc-events)', (trs) => trs.map((tr) => ({
      pid: Number(tr.dataset.pid),
      ppid: tr.dataset.ppid ? Number(tr.dataset.ppid) : null,
      depth: Number(tr.dataset.depth),
      failed: tr.classList.contains('failed'),
      exit: tr.querySelector('td.exit').textContent,
      opens: Number(tr.cells[6].dataset.v),
      filesWritten: Number(tr.cells[8].dataset.v),
    })));
    // Every pid the events name, once.
    const pids = new Set(events.map((e) => e.pid));
    assert.deepEqual(rows.map((r) => r.pid).sort(), [...pids].sort());
    assert.equal(await page.$eval('#cap-processes', (d) => Number(d.dataset.v)), pids.size);
    const byPid = Object.fromEntries(rows.map((r) => [r.pid, r]));
    assert.equal(rows[0].pid, said.root, 'the shell is the root, first');
    assert.equal(byPid[said.root].depth, 0);
    for (const [name, exit, failed] of [['exit3', 'exit 3', true], ['killed', 'signal 9', true], ['cat', 'exit 0', false]]) {
      const r = byPid[said[name]];
      assert.ok(r, `${name} (pid ${said[name]}) is in the tree`);
      assert.equal(r.ppid, said.root, `${name}'s parent is the shell`);
      assert.equal(r.depth, 1, name);
      assert.equal(r.exit, exit, name);
      assert.equal(r.failed, failed, name);
    }
    assert.equal(byPid[said.root].exit, 'exit 0');
    // The opens column is the archive's open events of that pid.
    for (const r of rows) {
      assert.equal(r.opens, events.filter((e) => e.pid === r.pid && e.kind === 'open').length, `opens of ${r.pid}`);
    }
    // Files written: distinct paths opened with O_WRONLY, O_RDWR, O_CREAT or O_TRUNC.
    for (const r of rows) {
      const written = new Set(events.filter((e) => e.pid === r.pid && e.kind === 'open' && e.result >= 0
        && ((e.flags & 3) !== 0 || (e.flags & 0o1100) !== 0)).map((e) => e.path));
      assert.equal(r.filesWritten, written.size, `files written by ${r.pid}`);
    }
    assert.ok(byPid[said.cat].filesWritten >= 1, 'its > /dev/null');
    // cat's events, expanded: its own, in order.
    await page.click(`#process-tree tr[data-pid="${said.cat}"] button.expand`);
    await page.waitForSelector(`#process-tree tr.proc-events[data-pid="${said.cat}"]`);
    assert.match(page.url(), new RegExp(`open=${said.cat}`));
    const seqs = await page.$$eval(`#process-tree tr.proc-events[data-pid="${said.cat}"] li`, (lis) => lis.map((li) => Number(li.dataset.seq)));
    const mine = events.map((e, i) => ({ ...e, seq: e.seq ?? i })).filter((e) => e.pid === said.cat).map((e) => e.seq);
    assert.deepEqual(seqs, mine.slice(0, 200));
    assert.ok(seqs.length > 0);
    // tare's phases, as phases.json has them.
    const phases = JSON.parse(readTarGz(readFileSync(archive)).get('phases.json').toString('utf8'));
    const shown = await page.$$eval('#cap-phases tr[data-phase]', (trs) => trs.map((tr) => [tr.dataset.phase, Number(tr.cells[1].dataset.v)]));
    assert.deepEqual(shown.map(([n]) => n), [...phases.phases.map((p) => p.name), 'residual']);
    phases.phases.forEach((p, i) => assert.ok(Math.abs(shown[i][1] - p.duration_ns / 1e6) < 1e-9, p.name));
    // The open files table: /etc/hostname was opened by cat.
    const files = await page.$$eval('#cap-files tbody td.path', (tds) => tds.map((td) => td.textContent));
    assert.ok(files.includes('/etc/hostname'), files.join(', '));
    assert.deepEqual(errors, []);
    await context.close();
  });
});

describe('the capture timeline', { skip: !isRoot && 'needs root to capture' }, () => {
  let traced;
  before(() => {
    if (!isRoot) return;
    traced = join(dir, 'traced.tar.gz');
    const t = join(dir, 'trace.json');
    execFileSync(tare, ['capture', '--quiet', '--trace', t, '--out', traced, '--',
      tare, 'workload', '--kernel-events', '300', '--span-events', '5', '--trace-out', t, '--delay-ms', '200']);
  });

  it('draws every process, event and span, and a span selects the kernel events inside it', async () => {
    const members = readTarGz(readFileSync(traced));
    const run = JSON.parse(members.get('run.json').toString('utf8'));
    const trace = JSON.parse(members.get('trace.json').toString('utf8'));
    // kernel.ndjson v2: each line's dt is from the previous line's time.
    let ts = 0;
    const events = members.get('kernel.ndjson').toString('utf8').split('\n').filter((l) => l.trim())
      .map((l) => JSON.parse(l)).map((e) => { ts = e.ts_ns ?? ts + e.dt; return { ...e, ts }; });
    const spans = trace.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
    const { page, context, errors } = await newPage(browser);
    const view = await startView(traced);
    try {
      await page.goto(`${view.url}#/processes`);
      await page.waitForSelector('#capture-timeline');
      const drawn = () => page.$$eval('#capture-timeline rect.tl-ev', (rs) => rs.reduce((n, r) => n + Number(r.dataset.events), 0));
      assert.equal(await drawn(), events.length, 'every event is in a bin');
      const bins = await page.$$eval('#capture-timeline rect.tl-ev', (rs) => rs.length);
      assert.ok(bins <= 400 * new Set(events.map((e) => e.pid)).size, `${bins} shapes, bounded by columns`);
      assert.equal(await page.$eval('#capture-timeline', (s) => Number(s.dataset.spans)), spans.length);
      // The root span, selected: the events between its start and end on the kernel's clock.
      const root = spans.find((s) => !s.parentSpanId);
      const offset = BigInt(run.clock.realtime_ns) - BigInt(run.clock.monotonic_ns);
      const start = Number(BigInt(root.startTimeUnixNano) - offset);
      const end = Number(BigInt(root.endTimeUnixNano) - offset);
      const inside = events.filter((e) => e.ts >= start && e.ts <= end).length;
      assert.ok(inside >= 600, `${inside}: the workload's 300 files are written and read inside its span`);
      // The span events, ticks over their span: 5 events, at most one tick a column.
      const ticks = await page.$$eval('#capture-timeline rect.tl-span-event', (rs) => rs.length);
      assert.ok(ticks >= 1 && ticks <= 5, `${ticks} ticks`);
      await page.click('#capture-timeline rect.tl-span');
      await page.waitForSelector('#tl-selected');
      assert.equal(await page.$eval('#tl-selected', (s) => Number(s.dataset.events)), inside);
      assert.match(page.url(), /span=\d+/);
      // Zooming halves the window, keeps the span, and draws only what is inside.
      const before = await page.$eval('#tl-window', (w) => [Number(w.dataset.from), Number(w.dataset.to)]);
      await page.click('#tl-in');
      await page.waitForFunction((f) => Number(document.querySelector('#tl-window').dataset.from) !== f, before[0]);
      const after = await page.$eval('#tl-window', (w) => [Number(w.dataset.from), Number(w.dataset.to)]);
      // The new window is twice a whole half-length (report-model's Window::zoom): twice its
      // length falls short of the old one by the old length mod 4, never more.
      const oldLen = before[1] - before[0];
      assert.equal((after[1] - after[0]) * 2, oldLen - (oldLen % 4), `${before} -> ${after}`);
      const visible = events.filter((e) => e.ts >= after[0] && e.ts <= after[1]).length;
      assert.equal(await drawn(), visible);
      await page.click('#tl-all');
      await page.waitForFunction(() => document.querySelector('#tl-window').dataset.from !== undefined);
      assert.deepEqual(errors, []);
    } finally {
      view.stop();
      await context.close();
    }
  });
});

describe('the processes view of a bundle', () => {
  it('shows the tree of the sample archive the picker names', async () => {
    const fixture = join(fixtures, 'smoke.bundle.tar.gz');
    const { samples, kernelEvents } = loadBundle(fixture);
    const armLabel = { bare: 'bare', a: 'A (capture)', b: 'B (OTel)', c: 'C (capture + OTel)' };
    const labelOf = (s) => `${s.cell} · ${armLabel[s.arm]} · sample ${s.seq}${s.warmup ? ', warm-up' : ''}`;
    const view = await startView(fixture);
    const b = browser || await launch();
    const { page, context, errors } = await newPage(b);
    try {
      await page.goto(`${view.url}#/processes`);
      await page.waitForSelector('#process-tree');
      await page.selectOption('#proc-archive', { index: 1 });
      await page.waitForFunction(() => document.querySelector('#proc-archive').value === '1' && document.querySelector('#process-tree'));
      const label = await page.$eval('#proc-archive', (s) => s.options[s.selectedIndex].textContent.trim());
      const sample = samples.find((s) => s.archive && labelOf(s) === label);
      assert.ok(sample, `the picker's "${label}" is a sample of the bundle`);
      const expected = [...new Set(kernelEvents(sample.archive).map((e) => e.pid))].sort((x, y) => x - y);
      await page.waitForFunction((n) => document.querySelectorAll('#process-tree tbody tr[data-pid]:not(.proc-events)').length === n, expected.length);
      const shown = await page.$$eval('#process-tree tbody tr[data-pid]:not(.proc-events)', (trs) => trs.map((tr) => Number(tr.dataset.pid)).sort((x, y) => x - y));
      assert.deepEqual(shown, expected);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
      if (!browser) await b.close();
      view.stop();
    }
  });
});
