// A tiny tar.gz reader and writer (ustar, regular files and links only): enough for tare's bundles and hostile fixtures.
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';

/** Reads a tar.gz into a Map of member path -> Buffer (regular files only). */
export function readTarGz(buf) {
  const tar = gunzipSync(buf);
  const out = new Map();
  let off = 0;
  let longName = null;
  while (off + 512 <= tar.length) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const str = (a, n) => h.subarray(a, a + n).toString('utf8').replace(/\0.*$/s, '');
    let name = str(0, 100);
    const prefix = str(345, 155);
    if (prefix) name = `${prefix}/${name}`;
    const size = parseInt(str(124, 12).trim() || '0', 8);
    const type = String.fromCharCode(h[156] || 48);
    const data = tar.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === 'L') { longName = data.toString('utf8').replace(/\0.*$/s, ''); continue; }
    if (longName) { name = longName; longName = null; }
    if (type === '0') out.set(name.replace(/^\.\//, ''), Buffer.from(data));
  }
  return out;
}

function header(name, size, type = '0', link = '') {
  const h = Buffer.alloc(512);
  const put = (s, at, len) => Buffer.from(s, 'utf8').copy(h, at, 0, len);
  const oct = (n, len) => n.toString(8).padStart(len - 1, '0') + '\0';
  put(name, 0, 100);
  put(oct(0o644, 8), 100, 8);
  put(oct(0, 8), 108, 8);
  put(oct(0, 8), 116, 8);
  put(oct(size, 12), 124, 12);
  put(oct(0, 12), 136, 12);
  put('        ', 148, 8);
  put(type, 156, 1);
  put(link, 157, 100);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  const sum = h.reduce((a, b) => a + b, 0);
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  return h;
}

/**
 * Writes entries [{ name, data, type?, link?, size? }] as a tar (no sorting, no checks: it
 * is meant to build hostile input too). `size` overrides the declared size.
 */
export function writeTar(entries) {
  const parts = [];
  for (const e of entries) {
    const data = e.data ? Buffer.from(e.data) : Buffer.alloc(0);
    parts.push(header(e.name, e.size ?? data.length, e.type || '0', e.link || ''));
    parts.push(data);
    const pad = (512 - (data.length % 512)) % 512;
    if (pad) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** writeTar, gzipped (level 9, mtime 0). */
export function writeTarGz(entries) {
  return gzipSync(writeTar(entries), { level: 9 });
}

const schemaFor = {
  'run.json': 'tare.run.v1', 'phases.json': 'tare.phases.v1', 'health.json': 'tare.health.v1',
  'kernel.ndjson': 'tare.kernel_event.v1', 'summary.json': 'tare.summary.v1',
  'samples.jsonl': 'tare.sample.v1', 'host.json': 'tare.host.v1', 'experiment.toml': 'tare.experiment.v1',
};

/**
 * Packs members (Map path -> Buffer, without manifest.json) with a fresh manifest, the way
 * report-model does: members sorted, sha256 and size of each, schema by file name.
 * `schemas` overrides a member's recorded schema.
 */
export function pack(kind, id, members, { schemas = {}, notes = [] } = {}) {
  const paths = [...members.keys()].filter((p) => p !== 'manifest.json').sort();
  const manifest = {
    schema: 'tare.manifest.v1',
    kind,
    id,
    members: paths.map((p) => {
      const data = members.get(p);
      const m = { path: p, sha256: createHash('sha256').update(data).digest('hex'), bytes: data.length };
      const schema = schemas[p] ?? schemaFor[p.split('/').pop()];
      if (schema) m.schema = schema;
      return m;
    }),
  };
  if (notes.length) manifest.notes = notes;
  const all = [...paths.map((p) => ({ name: p, data: members.get(p) })),
    { name: 'manifest.json', data: Buffer.from(JSON.stringify(manifest, null, 2) + '\n') }];
  all.sort((a, b) => (a.name < b.name ? -1 : 1));
  return writeTarGz(all);
}
