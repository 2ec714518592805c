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

Usage:
  python3 scripts/workloads/python_spans.py --span-events 500 --trace-out trace.json --json
  OTEL_SPAN_EVENT_COUNT_LIMIT=1000 python3 scripts/workloads/python_spans.py --span-events 500

Exit status: 0 ok, 2 bad arguments or an unwritable --trace-out, 3 the OTel packages are
missing (run scripts/setup.sh).
"""

import argparse
import base64
import json
import os
import sys
import time

ENV_EVENT_LIMIT = "OTEL_SPAN_EVENT_COUNT_LIMIT"
EVENT_NAME = "tare.sweep.span_event"
INDEX_KEY = "tare.sweep.index"
PAYLOAD_KEY = "tare.sweep.payload"
ROOT_SPAN_NAME = "tare.workload"
SCOPE_NAME = "tare"
SERVICE_NAME = "tare-workload-python"

try:
    from google.protobuf import json_format
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import SpanLimits, TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
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
    parser.add_argument("--span-events", type=int, required=True, metavar="N")
    parser.add_argument("--span-event-limit", type=int, metavar="L")
    parser.add_argument("--span-payload-bytes", type=int, default=0, metavar="BYTES")
    parser.add_argument("--trace-out", metavar="FILE")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON line")
    args = parser.parse_args(argv)
    for name in ("span_events", "span_event_limit", "span_payload_bytes"):
        value = getattr(args, name)
        if value is not None and value < 0:
            parser.error(f"--{name.replace('_', '-')} must not be negative")

    started = time.monotonic_ns()
    out = None
    if args.trace_out:
        try:
            out = open(args.trace_out, "w", encoding="utf-8")
        except OSError as e:
            print(f"python_spans.py: cannot write --trace-out {args.trace_out}: {e}", file=sys.stderr)
            return 2

    try:
        limits = SpanLimits(max_events=args.span_event_limit)
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
    root = tracer.start_span(
        ROOT_SPAN_NAME,
        attributes={
            "tare.sweep.span_events": args.span_events,
            "tare.sweep.span_event_limit": -1 if effective is None else effective,
            "tare.sweep.span_event_limit_source": source,
        },
    )
    payload = ("tare.sweep.payload;" * (args.span_payload_bytes // 19 + 1))[: args.span_payload_bytes]
    for i in range(args.span_events):
        attrs = {INDEX_KEY: i}
        if payload:
            attrs[PAYLOAD_KEY] = payload
        root.add_event(EVENT_NAME, attrs)
    root.end()
    provider.shutdown()

    spans = exporter.spans
    roots = [s for s in spans if s.name == ROOT_SPAN_NAME]
    retained = [e.attributes.get(INDEX_KEY) for e in roots[0].events if e.name == EVENT_NAME] if roots else []
    dropped = roots[0].dropped_events if roots else 0

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
