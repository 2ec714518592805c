#!/usr/bin/env node
// A third real OTel SDK for span-limit fidelity: the OTel JS SDK's twin of `tare workload --span-events/--span-attributes/--span-links/--spans`.
//
// One root span `tare.workload` through `@opentelemetry/sdk-trace-base` (its own span limits
// apply), written by the SDK's own OTLP JSON serializer (`JsonTraceSerializer`, what its
// OTLP/HTTP JSON exporter sends). The names are the ones report-model's analysis reads:
// - --span-events N: events `tare.sweep.span_event` with `tare.sweep.index` = i;
// - --span-attributes N: root-span attributes `tare.sweep.attr.<i>` = i, set AFTER the root's
//   own tare.sweep.* attributes (the JS SDK keeps the first attributes and drops new ones);
// - --span-links N: links with `tare.sweep.index` = i, added one by one;
// - --spans N: child spans `tare.sweep.span` with `tare.sweep.index` = i, ended back to back
//   through the SDK's BatchSpanProcessor (its defaults: queue 2048, batch 512). JavaScript runs
//   the burst without yielding, so no export finishes during it: the processor takes its first
//   batch of 512 out of the queue synchronously when the queue reaches 512, and after that the
//   queue fills. The SDK's own count of spans dropped for a full queue (what it reports to its
//   `selfObsMeterProvider` as `otel.sdk.processor.span.processed` with `error.type` =
//   `queue_full`) is written on the root span as `tare.sweep.spans_dropped_by_sdk`, before the
//   indexed attributes, so that a full attribute table cannot drop it.
// Limits: --span-event-limit / --span-attribute-limit / --span-link-limit, else the SDK's own
// reading of OTEL_SPAN_EVENT_COUNT_LIMIT / OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT /
// OTEL_SPAN_LINK_COUNT_LIMIT, else 128.
//
// The packages come from tests/browser/node_modules (scripts/setup.sh runs npm ci there).
//
// Usage:
//   node scripts/workloads/js_spans.mjs --span-attributes 500 --span-links 500 --spans 5000 --trace-out t.json --json
// Exit status: 0 ok, 2 bad arguments or an unwritable --trace-out, 3 the OTel packages are missing.

import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const EVENT_NAME = 'tare.sweep.span_event';
const INDEX_KEY = 'tare.sweep.index';
const ATTR_PREFIX = 'tare.sweep.attr.';
const BURST_SPAN_NAME = 'tare.sweep.span';
const SPANS_DROPPED_KEY = 'tare.sweep.spans_dropped_by_sdk';
const ROOT_SPAN_NAME = 'tare.workload';

const require = createRequire(new URL('../../tests/browser/package.json', import.meta.url));
let api;
let sdk;
let resources;
let transformer;
try {
  api = require('@opentelemetry/api');
  sdk = require('@opentelemetry/sdk-trace-base');
  resources = require('@opentelemetry/resources');
  transformer = require('@opentelemetry/otlp-transformer');
} catch (e) {
  console.error(`js_spans.mjs: the OpenTelemetry JS SDK is not installed (${e.message}); run scripts/setup.sh`);
  process.exit(3);
}
const SDK_VERSION = require('@opentelemetry/sdk-trace-base/package.json').version;

function parseArgs(argv) {
  const ints = ['--span-events', '--span-event-limit', '--span-attributes', '--span-attribute-limit', '--span-links', '--span-link-limit', '--spans'];
  const out = { json: false, traceOut: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') out.json = true;
    else if (a === '--trace-out') out.traceOut = argv[++i];
    else if (ints.includes(a)) {
      const v = Number(argv[++i]);
      if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${a} needs a whole number >= 0`);
      out[a.slice(2)] = v;
    } else throw new Error(`unknown argument ${a}`);
  }
  return out;
}

/** A meter provider that sums what the batch processor reports as dropped for a full queue. */
function countingMeters() {
  const counted = { queueFull: 0 };
  const noop = { add() {}, addCallback() {}, removeCallback() {} };
  const meter = {
    createCounter: () => ({
      add(n, attrs) {
        if (attrs && attrs['error.type'] === 'queue_full') counted.queueFull += n;
      },
    }),
    createUpDownCounter: () => noop,
    createObservableUpDownCounter: () => noop,
    createObservableGauge: () => noop,
    createHistogram: () => ({ record() {} }),
  };
  return { provider: { getMeter: () => meter }, counted };
}

function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`js_spans.mjs: ${e.message}`);
    return 2;
  }
  const n = (k) => args[k] ?? 0;
  const started = process.hrtime.bigint();
  const finished = [];
  const keep = { export(s, cb) { finished.push(...s); cb({ code: 0 }); }, shutdown() { return Promise.resolve(); } };
  const resource = resources.resourceFromAttributes({
    'service.name': 'tare-workload-js',
    'telemetry.sdk.language': 'nodejs',
    'telemetry.sdk.name': 'opentelemetry',
    'telemetry.sdk.version': SDK_VERSION,
  });
  const spanLimits = {};
  if (args['span-event-limit'] !== undefined) spanLimits.eventCountLimit = args['span-event-limit'];
  if (args['span-attribute-limit'] !== undefined) spanLimits.attributeCountLimit = args['span-attribute-limit'];
  if (args['span-link-limit'] !== undefined) spanLimits.linkCountLimit = args['span-link-limit'];
  const provider = new sdk.BasicTracerProvider({
    resource,
    sampler: new sdk.AlwaysOnSampler(),
    spanLimits,
    spanProcessors: [new sdk.SimpleSpanProcessor(keep)],
  });
  const tracer = provider.getTracer('tare');
  const root = tracer.startSpan(ROOT_SPAN_NAME);
  const limits = root._spanLimits || {};
  const source = (flag, env) => (args[flag] !== undefined ? 'flag' : (process.env[env] !== undefined ? 'env' : 'default'));
  // The root's own attributes first: the JS SDK keeps the first.
  root.setAttribute('tare.sweep.span_events', n('span-events'));
  root.setAttribute('tare.sweep.span_event_limit', limits.eventCountLimit ?? -1);
  root.setAttribute('tare.sweep.span_event_limit_source', source('span-event-limit', 'OTEL_SPAN_EVENT_COUNT_LIMIT'));
  if (n('span-attributes') > 0) {
    root.setAttribute('tare.sweep.span_attributes', n('span-attributes'));
    root.setAttribute('tare.sweep.span_attribute_limit', limits.attributeCountLimit ?? -1);
    root.setAttribute('tare.sweep.span_attribute_limit_source', source('span-attribute-limit', 'OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT'));
  }
  if (n('span-links') > 0) {
    root.setAttribute('tare.sweep.span_links', n('span-links'));
    root.setAttribute('tare.sweep.span_link_limit', limits.linkCountLimit ?? -1);
    root.setAttribute('tare.sweep.span_link_limit_source', source('span-link-limit', 'OTEL_SPAN_LINK_COUNT_LIMIT'));
  }
  let spansDropped = null;
  if (n('spans') > 0) {
    root.setAttribute('tare.sweep.spans', n('spans'));
    const meters = countingMeters();
    const burst = new sdk.BasicTracerProvider({
      resource,
      sampler: new sdk.AlwaysOnSampler(),
      spanProcessors: [new sdk.BatchSpanProcessor(keep, { selfObsMeterProvider: meters.provider })],
    });
    const parent = api.trace.setSpan(api.context.active(), root);
    const t = burst.getTracer('tare');
    for (let i = 0; i < n('spans'); i++) {
      t.startSpan(BURST_SPAN_NAME, { attributes: { [INDEX_KEY]: i } }, parent).end();
    }
    spansDropped = meters.counted.queueFull;
    root.setAttribute(SPANS_DROPPED_KEY, spansDropped);
    return burst.shutdown().then(() => finish());
  }
  return finish();

  function finish() {
    for (let i = 0; i < n('span-attributes'); i++) root.setAttribute(`${ATTR_PREFIX}${i}`, i);
    for (let i = 0; i < n('span-links'); i++) {
      const hex = (v, w) => v.toString(16).padStart(w, '0');
      root.addLink({
        context: { traceId: `74617265${hex(i + 1, 24)}`, spanId: hex(i + 1, 16), traceFlags: 1, isRemote: true },
        attributes: { [INDEX_KEY]: i },
      });
    }
    for (let i = 0; i < n('span-events'); i++) root.addEvent(EVENT_NAME, { [INDEX_KEY]: i });
    root.end();
    return provider.shutdown().then(() => {
      let traceBytes = null;
      if (args.traceOut) {
        const body = transformer.JsonTraceSerializer.serializeRequest(finished);
        try {
          writeFileSync(args.traceOut, body);
        } catch (e) {
          console.error(`js_spans.mjs: cannot write --trace-out ${args.traceOut}: ${e.message}`);
          return 2;
        }
        traceBytes = body.length;
      }
      const r = finished.find((s) => s.name === ROOT_SPAN_NAME);
      const result = {
        sdk: 'opentelemetry-js',
        sdk_version: SDK_VERSION,
        span_events_retained: r.events.length,
        span_events_dropped: r.droppedEventsCount,
        span_attributes_retained: Object.keys(r.attributes).filter((k) => k.startsWith(ATTR_PREFIX)).length,
        span_attributes_dropped: r.droppedAttributesCount,
        span_attribute_limit: limits.attributeCountLimit ?? null,
        span_links_retained: r.links.length,
        span_links_dropped: r.droppedLinksCount,
        span_link_limit: limits.linkCountLimit ?? null,
        spans_retained: finished.filter((s) => s.name === BURST_SPAN_NAME).length,
        spans_dropped_by_sdk: spansDropped,
        trace_out: args.traceOut,
        trace_bytes: traceBytes,
        wall_ns: Number(process.hrtime.bigint() - started),
      };
      console.log(args.json ? JSON.stringify(result) : `js_spans: ${JSON.stringify(result)}`);
      return 0;
    });
  }
}

Promise.resolve(main()).then((code) => { process.exitCode = code; });
