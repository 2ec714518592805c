//! `tare trace`: audit OTLP JSON trace files (dropped events, attributes and links, orphan spans, event retention).

use std::fmt::Write as _;
use std::io::Read;
use std::path::PathBuf;

use anyhow::Result;
use report_model::analysis::trace_audit::{self, SpanAudit, TraceAudit};
use report_model::bundle::Limits;
use report_model::render::format;
use report_model::schema::otlp::TracesData;

use super::out::{self, esc, failln};
use super::EXIT_BAD_INPUT;

/// Spans listed in the terminal report; the rest are counted.
const LISTED_SPANS: usize = 20;

const AFTER_HELP: &str = "\
Inputs: OTLP JSON trace files: an OTLP/HTTP JSON request body ({\"resourceSpans\": [...]}),
or the OTel collector file exporter's output (one such object a line). Ids may be hex or
base64, 64-bit integers strings or numbers, enums names or numbers, and the legacy
instrumentationLibrarySpans shape is read as scopeSpans.

Reported, per service and per span: what the SDK dropped (droppedEventsCount,
droppedAttributesCount, droppedLinksCount, and the dropped attributes of events and
links); orphans (a parentSpanId that is no span of the same trace in any of the files);
and, on spans carrying tare's indexed sweep events (tare.sweep.span_event with
tare.sweep.index), which indexes survived and the pattern (newest_kept, oldest_kept, ...);
likewise for indexed attributes (tare.sweep.attr.<i>) and links (tare.sweep.index), each
against the kept ones plus the SDK's droppedAttributesCount / droppedLinksCount.

Limits: 512 MiB a file, 2 GiB in all, 2,000,000 spans in all.

Exit status:
  0    the files were read (whatever they hold)
  2    bad input: a file is unreadable, malformed or over a limit";

/// Audit OTLP JSON trace files: what the SDK dropped, orphan spans, span-event retention.
///
/// Examples:
///   tare trace trace.json
///   tare trace collector-export.jsonl --json | jq .dropped
///   tare trace frontend.json backend.json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment, after_help = AFTER_HELP)]
pub struct Args {
    /// OTLP JSON trace files (orphans are looked for across all of them).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Print the audit as one JSON object.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> Result<i32> {
    let inputs = match read_all(&args.files, &Limits::default()) {
        Ok(inputs) => inputs,
        Err(e) => {
            failln!("tare: {e}");
            return Ok(EXIT_BAD_INPUT);
        }
    };
    let report = trace_audit::audit(&inputs);
    if args.json {
        out::json(&(serde_json::to_string(&report)? + "\n"))?;
    } else {
        out::text(&terminal(&report))?;
    }
    Ok(0)
}

/// Reads and parses every file, refusing any over `limits` (bytes a file, bytes in all) or
/// over the span limit; errors name the file (and the JSON path when the content is bad).
fn read_all(
    files: &[PathBuf],
    limits: &Limits,
) -> std::result::Result<Vec<(String, TracesData)>, String> {
    let mut out = Vec::with_capacity(files.len());
    let mut total = 0u64;
    let mut spans = 0usize;
    for path in files {
        let name = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|e| format!("cannot read {name}: {e}"))?;
        let mut bytes = Vec::new();
        file.take(limits.max_member_bytes + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("cannot read {name}: {e}"))?;
        let len = bytes.len() as u64;
        if len > limits.max_member_bytes {
            return Err(format!(
                "{name}: over the limit of {} MiB a file",
                limits.max_member_bytes >> 20
            ));
        }
        total += len;
        if total > limits.max_total_bytes {
            return Err(format!(
                "{name}: the files are over the limit of {} MiB in all",
                limits.max_total_bytes >> 20
            ));
        }
        let text = String::from_utf8(bytes).map_err(|e| {
            format!(
                "{name}: not UTF-8 text (byte {}): OTLP JSON is UTF-8",
                e.utf8_error().valid_up_to()
            )
        })?;
        let trace = trace_audit::read_trace_file(&name, &text, spans).map_err(|e| e.to_string())?;
        spans += trace.spans().count();
        out.push((name, trace));
    }
    Ok(out)
}

fn short_id(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

fn lost(s: &SpanAudit) -> String {
    let mut parts = Vec::new();
    let d = s.dropped();
    for (n, what) in [
        (d.events, "events"),
        (d.attributes, "attributes"),
        (d.links, "links"),
        (d.event_attributes, "event attributes"),
        (d.link_attributes, "link attributes"),
    ] {
        if n > 0 {
            parts.push(format!("-{n} {what}"));
        }
    }
    if s.orphan {
        parts.push(format!(
            "orphan (parent {} not found)",
            esc(&s.parent_span_id)
        ));
    }
    if let Some(r) = &s.retention {
        let ranges = format::ranges(&r.retained_ranges, usize::MAX);
        parts.push(format!(
            "kept {}/{} indexed events [{}]: {}",
            r.retained,
            r.target,
            ranges,
            serde_json::to_value(r.pattern)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        ));
    }
    for (what, f) in [
        ("indexed attributes", &s.attribute_retention),
        ("indexed links", &s.link_retention),
    ] {
        if let Some(f) = f {
            let ranges = format::ranges(&f.retained_ranges, usize::MAX);
            parts.push(format!(
                "kept {}/{} {what} [{}]: {}",
                f.retained,
                f.target,
                ranges,
                report_model::analysis::summary::pattern_name(Some(f.pattern))
            ));
        }
    }
    parts.join(", ")
}

/// The short human report: totals, a table per service, then the spans that lost something.
fn terminal(r: &TraceAudit) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} file(s), {} spans, {} orphans; dropped: {} events, {} attributes, {} links",
        r.files, r.spans, r.orphans, r.dropped.events, r.dropped.attributes, r.dropped.links
    );
    if r.dropped.event_attributes + r.dropped.link_attributes > 0 {
        let _ = writeln!(
            s,
            "  and {} event attributes, {} link attributes",
            r.dropped.event_attributes, r.dropped.link_attributes
        );
    }
    if r.services.is_empty() {
        return s;
    }
    // Service names are data: escaped before they are measured and shown.
    let services: Vec<String> = r
        .services
        .iter()
        .map(|v| esc(&v.service).into_owned())
        .collect();
    let width = services
        .iter()
        .map(|v| v.chars().count())
        .max()
        .unwrap_or(0)
        .max("service".len());
    let _ = writeln!(
        s,
        "\n{:<width$}  {:>7}  {:>7}  {:>14}  {:>18}  {:>13}",
        "service", "spans", "orphans", "dropped events", "dropped attributes", "dropped links"
    );
    for (v, name) in r.services.iter().zip(&services) {
        let _ = writeln!(
            s,
            "{:<width$}  {:>7}  {:>7}  {:>14}  {:>18}  {:>13}",
            name, v.spans, v.orphans, v.dropped.events, v.dropped.attributes, v.dropped.links
        );
    }
    let notable: Vec<&SpanAudit> = r
        .spans_detail
        .iter()
        .filter(|x| x.orphan || x.dropped().any() || x.retention.is_some())
        .collect();
    if notable.is_empty() {
        let _ = writeln!(s, "\nno span lost anything, and none is an orphan");
        return s;
    }
    let _ = writeln!(s, "\nspans that lost something or are orphans:");
    for x in notable.iter().take(LISTED_SPANS) {
        let _ = writeln!(
            s,
            "  {} {} `{}` (trace {}.., span {}): {}",
            esc(&x.service),
            esc(&x.file),
            esc(&x.name),
            esc(short_id(&x.trace_id)),
            esc(&x.span_id),
            lost(x)
        );
    }
    if notable.len() > LISTED_SPANS {
        let _ = writeln!(
            s,
            "  ... {} more (--json lists every span)",
            notable.len() - LISTED_SPANS
        );
    }
    s
}
