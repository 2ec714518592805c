// Shared helpers for the browser tests: start `tare view`, launch Debian's Chromium headless, read bundles.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { readTarGz } from './tar.js';

export { readTarGz };

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const tare = process.env.TARE_BIN || join(root, 'target', 'release', 'tare');
export const artifacts = join(root, 'tests', 'browser', 'artifacts');
export const fixtures = join(root, 'fixtures', 'bundles');
mkdirSync(artifacts, { recursive: true });

/**
 * Starts `tare view [bundle]` on a free loopback port; resolves to { url, origin, stop }.
 * With VIEW_DIR set (development only), serves that directory the way `tare view` serves
 * dist/ instead, so a rebuilt viewer can be tried without rebuilding tare.
 */
export function startView(bundle) {
  if (process.env.VIEW_DIR) return startDirServer(process.env.VIEW_DIR, bundle);
  const args = ['view', '--port', '0'];
  if (bundle) args.push(bundle);
  const child = spawn(tare, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`tare view printed no URL: ${out}`)), 15000);
    child.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('http://127.0.0.1:'));
      if (line) {
        clearTimeout(timer);
        const url = line.trim();
        resolve({ url, origin: new URL(url).origin, stop: () => child.kill('SIGINT') });
      }
    });
    child.on('exit', (code) => reject(new Error(`tare view exited ${code}: ${out}`)));
  });
}

function startDirServer(dir, bundle) {
  const types = { html: 'text/html', css: 'text/css', js: 'text/javascript', wasm: 'application/wasm' };
  const body = bundle ? readFileSync(bundle) : null;
  const server = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    try {
      if (path === '/bundle.tar.gz' && body) {
        res.writeHead(200, { 'content-type': 'application/gzip' });
        return res.end(body);
      }
      const file = path === '/' ? 'index.html' : path.slice(1);
      if (file.includes('/') || file.includes('..')) throw new Error('no');
      const data = readFileSync(join(dir, file));
      res.writeHead(200, { 'content-type': types[file.split('.').pop()] || 'application/octet-stream' });
      res.end(data);
    } catch {
      res.writeHead(404);
      res.end('not found\n');
    }
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const origin = `http://127.0.0.1:${server.address().port}`;
      const url = bundle ? `${origin}/?bundle=./bundle.tar.gz` : `${origin}/`;
      resolve({ url, origin, stop: () => server.close() });
    });
  });
}

/** Launches headless Chromium (a fresh temporary profile) with the flags this closed network needs. */
export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}

/** The fixture bundle's members, summary, samples and archives, parsed in node for comparison. */
export function loadBundle(path) {
  const members = readTarGz(readFileSync(path));
  const summary = JSON.parse(members.get('summary.json').toString('utf8'));
  const samples = (members.get('samples.jsonl')?.toString('utf8') || '')
    .split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  const archives = [...members.keys()].filter((p) => p.startsWith('archives/') && p.endsWith('.tar.gz')).sort();
  const kernelEvents = (archive) => readTarGz(members.get(archive)).get('kernel.ndjson').toString('utf8')
    .split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  return { members, summary, samples, archives, kernelEvents };
}

/**
 * `v` with `d` decimals as Rust's `{:.d}` writes it: like toFixed, but an exact tie rounds to
 * even (Rust: 1.25 -> "1.2"; JavaScript's toFixed: "1.3").
 */
export function fixed(v, d) {
  const scaled = v * 10 ** d;
  if (Number.isInteger(scaled * 2) && !Number.isInteger(scaled)) {
    const down = Math.floor(scaled);
    const even = down % 2 === 0 ? down : down + 1;
    return (even / 10 ** d).toFixed(d);
  }
  return v.toFixed(d);
}
/** Formats like report-model's `format::ms` (two decimals). */
export const ms = (v) => fixed(v, 2);
/** Like `format::signed_ms`. */
export const signedMs = (v) => (v >= 0 ? '+' : '') + fixed(v, 2);
/** Like `format::mib`. */
export const mib = (b) => `${fixed(b / 1048576, 1)} MiB`;

/** Opens a page that fails the test on any uncaught page error; returns { page, errors }. */
export async function newPage(browser, opts = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...opts });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  return { page, context, errors };
}
