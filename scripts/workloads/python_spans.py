#!/usr/bin/env python3
"""A second real OTel SDK for span-event fidelity: the Python SDK's twin of `tare workload --span-events`.

One root span `tare.workload` carrying N events `tare.sweep.span_event` with the int attribute
`tare.sweep.index` = 0..N-1, through `opentelemetry-sdk` (its own span limits apply), written
as OTLP JSON in the OTel collector file exporter's shape: one `{"resourceSpans": [...]}` line,
camelCase keys, trace/span ids as hex, 64-bit integers as strings, enums as numbers. The
protobuf request comes from the official OTLP encoder (`opentelemetry-exporter-otlp-proto-common`,
the one the Python OTLP exporters send), turned into JSON by `google.protobuf.json_format`;
only the ids are re-encoded (json_format writes bytes as base64, OTLP JSON wants hex).

The span-event limit: --span-event-limit, else OTEL_SPAN_EVENT_COUNT_LIMIT (read by the SDK's
SpanLimits; it also accepts surrounding spaces and `unset` = no limit), else the SDK default 128.
Past the limit the Python SDK keeps the NEWEST events (a deque with maxlen evicts the oldest):
500 events under 128 keep indexes 372..499, as the JS SDK did in the study.

The other limits, the twins of `tare workload --span-attributes/--span-links/--spans`, on the
same root span and trace (the names are the ones report-model's analysis reads):
- --span-attributes N: attributes `tare.sweep.attr.<i>` = i on the root span, put BEFORE the
  root's own tare.sweep.* attributes: the Python SDK evicts the oldest attribute when full, so
  those survive (the Rust workload puts its own first, as the Rust SDK keeps the first). Limit:
  --span-attribute-limit, else OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT, else 128;
- --span-links N: links with attribute `tare.sweep.index` = i, added to the root span one by
  one (--span-link-limit, else OTEL_SPAN_LINK_COUNT_LIMIT, else 128);
- --spans N: N child spans `tare.sweep.span` with `tare.sweep.index` = i, ended back to back
  through the SDK's BatchSpanProcessor (its defaults: queue 2048, batch 512) whose exporter holds
  its exports until the burst has ended (as an exporter on a slow network would). The SDK's own
  count of spans it dropped for a full queue (its internal metric
  `otel.sdk.processor.span.processed` with `error.type` = `queue_full`, enabled here through
  OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED) is written on the root span as
  `tare.sweep.spans_dropped_by_sdk`.

Usage:
  python3 scripts/workloads/python_spans.py --span-events 500 --trace-out trace.json --json
  python3 scripts/workloads/python_spans.py --span-attributes 500 --span-links 500 --spans 5000 --trace-out t.json
  OTEL_SPAN_EVENT_COUNT_LIMIT=1000 python3 scripts/workloads/python_spans.py --span-events 500

Exit status: 0 ok, 2 bad arguments or an unwritable --trace-out, 3 the OTel packages are
missing (run scripts/setup.sh).
"""

import argparse
import base64
import json
import logging
import os
import sys
import threading
import time

ENV_EVENT_LIMIT = "OTEL_SPAN_EVENT_COUNT_LIMIT"
EVENT_NAME = "tare.sweep.span_event"
INDEX_KEY = "tare.sweep.index"
PAYLOAD_KEY = "tare.sweep.payload"
ROOT_SPAN_NAME = "tare.workload"
ATTR_PREFIX = "tare.sweep.attr."
BURST_SPAN_NAME = "tare.sweep.span"
SPANS_DROPPED_KEY = "tare.sweep.spans_dropped_by_sdk"
INTERNAL_METRICS_ENV = "OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED"
SCOPE_NAME = "tare"
SERVICE_NAME = "tare-workload-python"

try:
    from google.protobuf import json_format
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import SpanLimits, TracerProvider
    from opentelemetry import trace as trace_api
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        SimpleSpanProcessor,
        SpanExporter,
        SpanExportResult,
    )
    from opentelemetry.sdk.trace.sampling import ALWAYS_ON
    from opentelemetry.sdk.version import __version__ as SDK_VERSION
except ImportError as e:  # pragma: no cover - depends on the machine
    print(
        f"python_spans.py: the OpenTelemetry Python SDK is not installed ({e}); run scripts/setup.sh",
        file=sys.stderr,
    )
    sys.exit(3)


class CollectingExporter(SpanExporter):
    """Keeps finished spans in memory: what the trace holds is what the SDK let through."""

    def __init__(self):
        self.spans = []

    def export(self, spans):
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self):
        pass


class HeldExporter(SpanExporter):
    """Holds every export until open() (or a minute), then passes the spans on."""

    def __init__(self, inner):
        self.inner = inner
        self.gate = threading.Event()

    def open(self):
        self.gate.set()

    def export(self, spans):
        self.gate.wait(60)
        return self.inner.export(spans)

    def shutdown(self):
        pass


def burst(parent, spans, resource, exporter):
    """Ends `spans` child spans of `parent` through a BatchSpanProcessor; returns the SDK's own
    count of spans dropped for a full queue (None when its metric is not there)."""
    os.environ[INTERNAL_METRICS_ENV] = "true"
    reader = InMemoryMetricReader()
    meters = MeterProvider(metric_readers=[reader])
    held = HeldExporter(exporter)
    provider = TracerProvider(sampler=ALWAYS_ON, resource=resource)
    provider.add_span_processor(BatchSpanProcessor(held, meter_provider=meters))
    tracer = provider.get_tracer(SCOPE_NAME)
    context = trace_api.set_span_in_context(parent)
    for i in range(spans):
        tracer.start_span(BURST_SPAN_NAME, context=context, attributes={INDEX_KEY: i}).end()
    held.open()
    provider.shutdown()
    dropped = None
    data = reader.get_metrics_data()
    for rm in data.resource_metrics if data else []:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                if metric.name != "otel.sdk.processor.span.processed":
                    continue
                for point in metric.data.data_points:
                    if point.attributes.get("error.type") == "queue_full":
                        dropped = (dropped or 0) + point.value
    meters.shutdown()
    # The metric only counts drops; a burst that lost nothing has no queue_full point.
    return dropped if dropped is not None else 0


def hex_ids(node):
    """json_format writes bytes fields as base64; OTLP JSON writes trace and span ids as hex."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("traceId", "spanId", "parentSpanId") and isinstance(value, str):
                node[key] = base64.b64decode(value).hex()
            else:
                hex_ids(value)
    elif isinstance(node, list):
        for item in node:
            hex_ids(item)


def otlp_json(spans):
    request = encode_spans(spans)
    as_dict = json_format.MessageToDict(request, use_integers_for_enums=True)
    hex_ids(as_dict)
    return json.dumps(as_dict, separators=(",", ":")) + "\n"


def limit_source(flag):
    if flag is not None:
        return "flag"
    if ENV_EVENT_LIMIT in os.environ:
        return "env"
    return "default"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--span-events", type=int, default=0, metavar="N")
    parser.add_argument("--span-attributes", type=int, default=0, metavar="N")
    parser.add_argument("--span-attribute-limit", type=int, metavar="L")
    parser.add_argument("--span-links", type=int, default=0, metavar="N")
    parser.add_argument("--span-link-limit", type=int, metavar="L")
    parser.add_argument("--spans", type=int, default=0, metavar="N")
    parser.add_argument("--span-event-limit", type=int, metavar="L")
    parser.add_argument("--span-payload-bytes", type=int, default=0, metavar="BYTES")
    parser.add_argument("--trace-out", metavar="FILE")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON line")
    args = parser.parse_args(argv)
    for name in (
        "span_events",
        "span_event_limit",
        "span_payload_bytes",
        "span_attributes",
        "span_attribute_limit",
        "span_links",
        "span_link_limit",
        "spans",
    ):
        value = getattr(args, name)
        if value is not None and value < 0:
            parser.error(f"--{name.replace('_', '-')} must not be negative")

    # The SDK logs a warning per evicted attribute and per dropped span; the counts are the output.
    logging.getLogger("opentelemetry").setLevel(logging.ERROR)
    started = time.monotonic_ns()
    out = None
    if args.trace_out:
        try:
            out = open(args.trace_out, "w", encoding="utf-8")
        except OSError as e:
            print(f"python_spans.py: cannot write --trace-out {args.trace_out}: {e}", file=sys.stderr)
            return 2

    try:
        limits = SpanLimits(
            max_events=args.span_event_limit,
            max_span_attributes=args.span_attribute_limit,
            max_links=args.span_link_limit,
        )
    except ValueError as e:
        print(f"python_spans.py: {e}", file=sys.stderr)
        return 2
    exporter = CollectingExporter()
    resource = Resource(
        {
            "service.name": SERVICE_NAME,
            "telemetry.sdk.language": "python",
            "telemetry.sdk.name": "opentelemetry",
            "telemetry.sdk.version": SDK_VERSION,
        }
    )
    provider = TracerProvider(sampler=ALWAYS_ON, resource=resource, span_limits=limits)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer(SCOPE_NAME)

    source = limit_source(args.span_event_limit)
    effective = limits.max_events  # None = no limit ("unset")
    # The indexed attributes first: past the limit the SDK evicts the oldest.
    attributes = {f"{ATTR_PREFIX}{i}": i for i in range(args.span_attributes)}
    attributes.update(
        {
            "tare.sweep.span_events": args.span_events,
            "tare.sweep.span_event_limit": -1 if effective is None else effective,
            "tare.sweep.span_event_limit_source": source,
        }
    )
    for n, key, value, env, flag in (
        (args.span_attributes, "tare.sweep.span_attribute_limit", limits.max_span_attributes,
         "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", args.span_attribute_limit),
        (args.span_links, "tare.sweep.span_link_limit", limits.max_links,
         "OTEL_SPAN_LINK_COUNT_LIMIT", args.span_link_limit),
    ):
        if n > 0:
            attributes[key] = -1 if value is None else value
            attributes[key + "_source"] = "flag" if flag is not None else ("env" if env in os.environ else "default")
    for key, n in (
        ("tare.sweep.span_attributes", args.span_attributes),
        ("tare.sweep.span_links", args.span_links),
        ("tare.sweep.spans", args.spans),
    ):
        if n > 0:
            attributes[key] = n
    root = tracer.start_span(ROOT_SPAN_NAME, attributes=attributes)
    payload = ("tare.sweep.payload;" * (args.span_payload_bytes // 19 + 1))[: args.span_payload_bytes]
    for i in range(args.span_events):
        attrs = {INDEX_KEY: i}
        if payload:
            attrs[PAYLOAD_KEY] = payload
        root.add_event(EVENT_NAME, attrs)
    for i in range(args.span_links):
        target = trace_api.SpanContext(
            trace_id=(0x74617265 << 96) | (i + 1),
            span_id=i + 1,
            is_remote=True,
            trace_flags=trace_api.TraceFlags(trace_api.TraceFlags.SAMPLED),
        )
        root.add_link(target, {INDEX_KEY: i})
    spans_dropped = None
    if args.spans > 0:
        spans_dropped = burst(root, args.spans, resource, exporter)
        # Set last: when the attributes are full this evicts one more of the oldest, which the
        # SDK counts in droppedAttributesCount like the others.
        root.set_attribute(SPANS_DROPPED_KEY, spans_dropped)
    root.end()
    provider.shutdown()

    spans = exporter.spans
    roots = [s for s in spans if s.name == ROOT_SPAN_NAME]
    retained = [e.attributes.get(INDEX_KEY) for e in roots[0].events if e.name == EVENT_NAME] if roots else []
    dropped = roots[0].dropped_events if roots else 0
    root_attrs = roots[0].attributes if roots else {}
    kept_attrs = [k for k in root_attrs if k.startswith(ATTR_PREFIX)]
    kept_links = [l.attributes.get(INDEX_KEY) for l in roots[0].links] if roots else []
    kept_spans = [s.attributes.get(INDEX_KEY) for s in spans if s.name == BURST_SPAN_NAME]

    trace_bytes = None
    if out is not None:
        text = otlp_json(spans)
        with out:
            out.write(text)
        trace_bytes = len(text.encode("utf-8"))

    result = {
        "sdk": "opentelemetry-python",
        "sdk_version": SDK_VERSION,
        "span_events_emitted": args.span_events,
        "span_events_retained": len(retained),
        "span_events_dropped": dropped,
        "span_event_limit": effective,
        "span_event_limit_source": source,
        "span_attributes_emitted": args.span_attributes,
        "span_attributes_retained": len(kept_attrs),
        "span_attributes_dropped": roots[0].dropped_attributes if roots else 0,
        "span_attribute_limit": limits.max_span_attributes,
        "span_links_emitted": args.span_links,
        "span_links_retained": len(kept_links),
        "span_links_dropped": roots[0].dropped_links if roots else 0,
        "span_link_limit": limits.max_links,
        "spans_emitted": args.spans,
        "spans_retained": len(kept_spans),
        "spans_dropped_by_sdk": spans_dropped,
        "first_retained": retained[0] if retained else None,
        "last_retained": retained[-1] if retained else None,
        "trace_out": args.trace_out,
        "trace_bytes": trace_bytes,
        "wall_ns": time.monotonic_ns() - started,
    }
    if args.json:
        print(json.dumps(result, separators=(",", ":")))
    else:
        kept = f"{result['first_retained']}..{result['last_retained']}" if retained else "none"
        print(
            f"python_spans: {args.span_events} span events, {len(retained)} retained [{kept}], "
            f"limit {effective} ({source})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
