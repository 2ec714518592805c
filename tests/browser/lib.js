// Shared helpers for the browser tests: start `tare view`, launch Debian's Chromium headless.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const tare = process.env.TARE_BIN || join(root, 'target', 'release', 'tare');
export const artifacts = join(root, 'tests', 'browser', 'artifacts');
mkdirSync(artifacts, { recursive: true });

/** Starts `tare view [bundle]` on a free loopback port; resolves to { url, stop }. */
export function startView(bundle) {
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
        resolve({ url: line.trim(), stop: () => child.kill('SIGINT') });
      }
    });
    child.on('exit', (code) => reject(new Error(`tare view exited ${code}: ${out}`)));
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
