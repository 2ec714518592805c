//! `tare workload`: the built-in deterministic workload (file pressure, OTel span events).

use std::path::PathBuf;

use anyhow::Result;

use super::out::{self, errln, failln, outln};
use super::EXIT_BAD_INPUT;
use crate::workload::{self, Options};

const AFTER_HELP: &str = "\
Files: event-rate-sweep/worker-<w>-<i>.txt under --dir (default: a fresh temp dir); file i
goes to worker i % W; each is written with P bytes, then read back and compared. Without
--keep, everything tare made is removed afterwards.

Span events: one root span `tare.workload` with N events `tare.sweep.span_event`, attribute
`tare.sweep.index` = 0..N-1, through the OpenTelemetry Rust SDK (opentelemetry_sdk 0.33).
Its span-event limit is --span-event-limit, else OTEL_SPAN_EVENT_COUNT_LIMIT (read by the
SDK), else 128. Past the limit the Rust SDK keeps the first events and drops later ones
(retained 0..L-1, `oldest_kept`); the JS and Python SDKs keep the newest instead.

The other span limits, on the same root span and trace:
  --span-attributes N  attributes `tare.sweep.attr.<i>` = i (i = 0..N-1), set after the root's
                       own tare.sweep.* attributes, which count toward the same limit
                       (--span-attribute-limit, else OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT, else 128);
  --span-links N       links, each with attribute `tare.sweep.index` = i
                       (--span-link-limit, else OTEL_SPAN_LINK_COUNT_LIMIT, else 128);
  --spans N            N child spans `tare.sweep.span` with `tare.sweep.index` = i, ended back to
                       back through the SDK's batch span processor (queue 2048, or
                       OTEL_BSP_MAX_QUEUE_SIZE): past the queue it loses whole spans.
The Rust SDK keeps the first attributes and links and drops the span being ended when the
queue is full; it counts dropped attributes and links (OTLP droppedAttributesCount,
droppedLinksCount) but keeps its dropped-span count private, so that loss is counted from the
indexes.
Without --span-events, --trace-out and these, no OTel SDK is created at all.

Exit status:
  0    the workload ran
  2    bad input: bad arguments, an unusable --dir or --trace-out
  125  the workload failed (an I/O error, a file read back differently, the SDK failed)";

/// Run the built-in deterministic workload: file pressure for kernel capture, span events for OTel.
///
/// Examples:
///   tare workload --kernel-events 1000 --concurrency 4
///   tare workload --kernel-events 100 --payload-bytes 65536 --dir /tmp/w --keep
///   tare workload --span-events 500 --trace-out trace.json --json
///   tare workload --span-events 500 --span-event-limit 1000 --trace-out trace.json
///   OTEL_SPAN_EVENT_COUNT_LIMIT=64 tare workload --span-events 100 --trace-out t.json
///   tare workload --span-attributes 500 --span-links 500 --spans 5000 --trace-out t.json
///   tare capture -- tare workload --kernel-events 500 --concurrency 4
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment, after_help = AFTER_HELP)]
pub struct Args {
    /// Worker files to write and read back (the study's levels: 0, 1, 25, 100, 500, 1000).
    #[arg(long, value_name = "N", default_value_t = 0,
          value_parser = clap::value_parser!(u64).range(0..=100_000_000))]
    pub kernel_events: u64,

    /// Worker threads; file i goes to worker i % W.
    #[arg(long, value_name = "W", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub concurrency: u32,

    /// Bytes per file (study: small 128, medium 4096, large 65536).
    #[arg(long, value_name = "P", default_value_t = 128,
          value_parser = clap::value_parser!(u64).range(0..=(1 << 30)))]
    pub payload_bytes: u64,

    /// Directory for the files [default: a fresh directory under the system temp dir].
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Keep the files (and the temp dir) instead of removing them afterwards.
    #[arg(long)]
    pub keep: bool,

    /// Span events on one root span, through the OTel Rust SDK (study: 0, 1, 25, 100, 500, 1000).
    #[arg(long, value_name = "N",
          value_parser = clap::value_parser!(u64).range(0..=1_000_000_000))]
    pub span_events: Option<u64>,

    /// The SDK's max events per span [default: OTEL_SPAN_EVENT_COUNT_LIMIT, else 128].
    #[arg(long, value_name = "L")]
    pub span_event_limit: Option<u32>,

    /// Bytes of a `tare.sweep.payload` string attribute on every span event.
    #[arg(long, value_name = "BYTES", default_value_t = 0,
          value_parser = clap::value_parser!(u64).range(0..=(1 << 26)))]
    pub span_payload_bytes: u64,

    /// Attributes `tare.sweep.attr.<i>` on the root span (the SDK's attribute-count limit).
    #[arg(long, value_name = "N", default_value_t = 0,
          value_parser = clap::value_parser!(u64).range(0..=10_000_000))]
    pub span_attributes: u64,

    /// The SDK's max attributes per span [default: OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT, else 128].
    #[arg(long, value_name = "L")]
    pub span_attribute_limit: Option<u32>,

    /// Links on the root span, each with `tare.sweep.index` = i (the SDK's link limit).
    #[arg(long, value_name = "N", default_value_t = 0,
          value_parser = clap::value_parser!(u64).range(0..=10_000_000))]
    pub span_links: u64,

    /// The SDK's max links per span [default: OTEL_SPAN_LINK_COUNT_LIMIT, else 128].
    #[arg(long, value_name = "L")]
    pub span_link_limit: Option<u32>,

    /// A burst of N child spans ended through the SDK's batch span processor (queue 2048).
    #[arg(long, value_name = "N", default_value_t = 0,
          value_parser = clap::value_parser!(u64).range(0..=10_000_000))]
    pub spans: u64,

    /// Write the finished spans as OTLP JSON (the OTel collector file exporter's shape).
    #[arg(long, value_name = "FILE")]
    pub trace_out: Option<PathBuf>,

    /// Sleep MS milliseconds before the work: a planted, fixed slowdown, e.g. to check that a
    /// regression gate (`tare compare`) catches it.
    #[arg(long, value_name = "MS", default_value_t = 0.0)]
    pub delay_ms: f64,

    /// Print the result as one JSON line (schema tare.workload.v1).
    #[arg(long)]
    pub json: bool,
}

impl Args {
    /// The library options, or why the combination is unusable.
    pub fn options(&self) -> Result<Options, String> {
        let otel = self.span_events.is_some()
            || self.trace_out.is_some()
            || self.span_attributes > 0
            || self.span_links > 0
            || self.spans > 0;
        if self.span_attribute_limit.is_some() && self.span_attributes == 0 {
            return Err("--span-attribute-limit needs --span-attributes".into());
        }
        if self.span_link_limit.is_some() && self.span_links == 0 {
            return Err("--span-link-limit needs --span-links".into());
        }
        if !otel && self.span_event_limit.is_some() {
            return Err("--span-event-limit needs --span-events or --trace-out".into());
        }
        if !otel && self.span_payload_bytes > 0 {
            return Err("--span-payload-bytes needs --span-events".into());
        }
        let usize_of = |v: u64, name: &str| {
            usize::try_from(v).map_err(|_| format!("{name} {v} is too large for this machine"))
        };
        if !(self.delay_ms.is_finite() && (0.0..=3_600_000.0).contains(&self.delay_ms)) {
            return Err(format!(
                "--delay-ms {} is not a number of milliseconds between 0 and 3600000",
                self.delay_ms
            ));
        }
        Ok(Options {
            delay: std::time::Duration::from_secs_f64(self.delay_ms / 1000.0),
            kernel_events: self.kernel_events,
            concurrency: self.concurrency,
            payload_bytes: usize_of(self.payload_bytes, "--payload-bytes")?,
            dir: self.dir.clone(),
            keep: self.keep,
            span_events: self.span_events,
            span_event_limit: self.span_event_limit,
            span_payload_bytes: usize_of(self.span_payload_bytes, "--span-payload-bytes")?,
            trace_out: self.trace_out.clone(),
            span_attributes: self.span_attributes,
            span_attribute_limit: self.span_attribute_limit,
            span_links: self.span_links,
            span_link_limit: self.span_link_limit,
            spans: self.spans,
        })
    }
}

pub fn run(args: Args) -> Result<i32> {
    let opts = match args.options() {
        Ok(o) => o,
        Err(e) => {
            failln!("tare: workload: {e}");
            return Ok(EXIT_BAD_INPUT);
        }
    };
    match workload::run(&opts) {
        Ok(report) => {
            for note in &report.notes {
                errln!("tare: workload: note: {note}");
            }
            if args.json {
                out::json(&(serde_json::to_string(&report)? + "\n"))?;
            } else {
                outln!("{}", report.human_line())?;
            }
            Ok(0)
        }
        Err(e) if e.is_bad_input() => {
            failln!("tare: workload: {e}");
            Ok(EXIT_BAD_INPUT)
        }
        Err(e) => Err(anyhow::Error::new(e).context("workload failed")),
    }
}
