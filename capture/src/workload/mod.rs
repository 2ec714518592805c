//! The built-in deterministic workload (`tare workload`): file pressure and OTel span events.
//!
//! Two independent parts, either or both per run (DESIGN.md section 5):
//! - [`kernel`]: N worker files written then read back over W threads, for kernel capture;
//! - [`spans`]: one root span with N indexed events through the real OTel Rust SDK, whose
//!   span limits apply, optionally written as an OTLP JSON trace ([`otlp_json`]).
//!
//! When neither span events nor a trace file are asked for, no OTel SDK object is created at
//! all, so the `bare` and capture-only arms carry no tracing cost.

pub mod kernel;
pub mod otlp_json;
pub mod spans;

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use report_model::analysis::retention;
use report_model::render::format;
use report_model::schema::sample::{
    LimitFidelity, LimitSource, RetentionPattern, SpanLimitsFidelity,
};
use serde::{Deserialize, Serialize};

/// Schema of the `--json` result line.
pub const REPORT_SCHEMA: &str = "tare.workload.v1";

/// Why the workload failed.
#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    /// The workload directory cannot be created or used.
    #[error("cannot use directory {}: {source}; choose a writable --dir", path.display())]
    Dir { path: PathBuf, source: io::Error },
    /// The trace file cannot be created or written.
    #[error("cannot write --trace-out {}: {source}; choose a writable path", path.display())]
    TraceOut { path: PathBuf, source: io::Error },
    /// A file operation of the workload itself failed.
    #[error("{op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    /// A file read back differs from what was written.
    #[error("{}: read back {read} bytes that differ from the {written} written; the file system or another process changed it", path.display())]
    Mismatch {
        path: PathBuf,
        written: u64,
        read: u64,
    },
    /// Anything else (threads, the OTel SDK).
    #[error("{0}")]
    Failed(String),
}

impl WorkloadError {
    /// Whether the user can fix it by changing an argument (exit status 2, not 125).
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            WorkloadError::Dir { .. } | WorkloadError::TraceOut { .. }
        )
    }
}

/// Everything `tare workload` can be asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Worker files (0 = no file pressure).
    pub kernel_events: u64,
    pub concurrency: u32,
    pub payload_bytes: usize,
    /// Where the files go; `None` = a fresh directory under the system temp dir.
    pub dir: Option<PathBuf>,
    /// Leave the files (and a fresh temp dir) in place.
    pub keep: bool,
    /// Span events on the root span; `None` and no `trace_out` = no OTel SDK at all.
    pub span_events: Option<u64>,
    pub span_event_limit: Option<u32>,
    pub span_payload_bytes: usize,
    pub trace_out: Option<PathBuf>,
    /// Indexed attributes on the root span (`--span-attributes`).
    pub span_attributes: u64,
    pub span_attribute_limit: Option<u32>,
    /// Indexed links on the root span (`--span-links`).
    pub span_links: u64,
    pub span_link_limit: Option<u32>,
    /// Child spans ended in a burst through the batch span processor (`--spans`).
    pub spans: u64,
    /// Sleep this long before the work: a planted, fixed slowdown (regression-gate checks).
    pub delay: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            kernel_events: 0,
            concurrency: 1,
            payload_bytes: 128,
            dir: None,
            keep: false,
            span_events: None,
            span_event_limit: None,
            span_payload_bytes: 0,
            trace_out: None,
            span_attributes: 0,
            span_attribute_limit: None,
            span_links: 0,
            span_link_limit: None,
            spans: 0,
            delay: Duration::ZERO,
        }
    }
}

impl Options {
    /// Whether the OTel SDK is initialised.
    pub fn uses_otel(&self) -> bool {
        self.span_events.is_some()
            || self.trace_out.is_some()
            || self.span_attributes > 0
            || self.span_links > 0
            || self.spans > 0
    }
}

/// The one-line result (`--json`), schema `tare.workload.v1`. Span fields are `null` when
/// no OTel SDK was initialised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub schema: String,
    pub files_written: u64,
    pub bytes_written: u64,
    pub bytes_read: u64,
    pub concurrency: u32,
    pub payload_bytes: u64,
    pub files_per_worker: Vec<u64>,
    /// The workload directory, when its files were kept.
    pub dir: Option<String>,
    /// Whether an OTel SDK tracer provider was created.
    pub otel_sdk: bool,
    pub span_events_emitted: Option<u64>,
    pub span_events_retained: Option<u64>,
    /// Events the SDK dropped past its limit (`droppedEventsCount` of the root span).
    pub span_events_dropped: Option<u64>,
    pub span_event_limit: Option<u64>,
    pub span_event_limit_source: Option<LimitSource>,
    /// Retained `tare.sweep.index` values as inclusive ranges.
    pub retained_ranges: Option<Vec<[u64; 2]>>,
    pub retention_pattern: Option<RetentionPattern>,
    pub trace_out: Option<String>,
    pub trace_bytes: Option<u64>,
    /// Root-span attributes, links and burst spans kept (each absent when not asked for), with
    /// the SDK's own drop counts where it exposes them.
    #[serde(default, skip_serializing_if = "SpanLimitsFidelity::is_empty")]
    pub span_limits: SpanLimitsFidelity,
    /// The attribute-count limit in force, when `--span-attributes` was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span_attribute_limit: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span_attribute_limit_source: Option<LimitSource>,
    /// The link limit in force, when `--span-links` was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span_link_limit: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span_link_limit_source: Option<LimitSource>,
    /// Wall-clock time of the whole workload, nanoseconds.
    pub wall_ns: u64,
    pub notes: Vec<String>,
}

impl Report {
    /// A one-line human summary.
    pub fn human_line(&self) -> String {
        let mut parts = Vec::new();
        if self.files_written > 0 {
            let workers = self.files_per_worker.iter().filter(|&&n| n > 0).count();
            parts.push(format!(
                "{} files x {} bytes written and read back by {} worker{}",
                self.files_written,
                self.payload_bytes,
                workers,
                if workers == 1 { "" } else { "s" }
            ));
        } else {
            parts.push("no files".into());
        }
        match (
            self.span_events_emitted,
            self.span_events_retained,
            self.span_event_limit,
            self.span_event_limit_source,
        ) {
            (Some(emitted), Some(retained), Some(limit), Some(source)) => {
                let ranges = format::ranges(
                    self.retained_ranges.as_deref().unwrap_or_default(),
                    usize::MAX,
                );
                let pattern = self
                    .retention_pattern
                    .map(pattern_name)
                    .unwrap_or("unknown");
                parts.push(format!(
                    "{emitted} span events, {retained} retained [{ranges}] ({pattern}), limit {limit} ({})",
                    spans::limit_source_name(source)
                ));
            }
            _ => parts.push("no OTel SDK".into()),
        }
        for (what, f) in [
            ("root-span attributes", &self.span_limits.attributes),
            ("links", &self.span_limits.links),
            ("burst spans", &self.span_limits.spans),
        ] {
            if let Some(f) = f {
                parts.push(limit_line(what, f));
            }
        }
        if let (Some(path), Some(bytes)) = (&self.trace_out, self.trace_bytes) {
            parts.push(format!("trace {path} ({bytes} bytes)"));
        }
        if let Some(dir) = &self.dir {
            parts.push(format!("files kept in {dir}"));
        }
        let ms = self.wall_ns as f64 / 1e6;
        format!("tare workload: {}; {ms:.1} ms", parts.join("; "))
    }
}

/// `500 links, 128 retained [0..127] (oldest_kept), SDK dropped 372, tare counted 372`.
fn limit_line(what: &str, f: &LimitFidelity) -> String {
    let ranges = format::ranges(&f.retained_ranges, usize::MAX);
    let sdk = f
        .dropped_by_sdk
        .map_or("SDK count not exposed".to_string(), |d| {
            format!("SDK dropped {d}")
        });
    format!(
        "{} {what}, {} retained [{ranges}] ({}), {sdk}, tare counted {}",
        f.target,
        f.retained,
        pattern_name(f.pattern),
        f.dropped_counted
    )
}

/// `complete`, `newest_kept`, ... as in JSON.
pub fn pattern_name(p: RetentionPattern) -> &'static str {
    match p {
        RetentionPattern::Complete => "complete",
        RetentionPattern::NewestKept => "newest_kept",
        RetentionPattern::OldestKept => "oldest_kept",
        RetentionPattern::Gaps => "gaps",
        RetentionPattern::None => "none",
    }
}

/// Where the files go, and what to remove afterwards.
struct WorkDir {
    root: PathBuf,
    /// tare made `root` (a fresh temp dir).
    fresh: bool,
    /// tare made `root/event-rate-sweep`.
    made_sweep: bool,
}

fn prepare_dir(dir: Option<&Path>) -> Result<WorkDir, WorkloadError> {
    match dir {
        Some(root) => {
            fs::create_dir_all(root).map_err(|source| WorkloadError::Dir {
                path: root.to_path_buf(),
                source,
            })?;
            let made_sweep = !root.join(kernel::SWEEP_DIR).exists();
            Ok(WorkDir {
                root: root.to_path_buf(),
                fresh: false,
                made_sweep,
            })
        }
        None => {
            let base = std::env::temp_dir();
            let pid = std::process::id();
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
            let mut last = None;
            for attempt in 0..100u32 {
                let root = base.join(format!("tare-workload-{pid}-{nanos:09}-{attempt}"));
                match fs::create_dir(&root) {
                    Ok(()) => {
                        return Ok(WorkDir {
                            root,
                            fresh: true,
                            made_sweep: true,
                        })
                    }
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
                    Err(source) => return Err(WorkloadError::Dir { path: root, source }),
                }
            }
            Err(WorkloadError::Dir {
                path: base,
                source: last.unwrap_or_else(|| io::Error::other("no free name")),
            })
        }
    }
}

impl WorkDir {
    /// Removes what tare made: the fresh temp dir, or the files it wrote (and the sweep
    /// directory when tare made it and it is empty). Best effort.
    fn clean(&self, paths: &[PathBuf]) {
        if self.fresh {
            let _ = fs::remove_dir_all(&self.root);
            return;
        }
        for p in paths {
            let _ = fs::remove_file(p);
        }
        if self.made_sweep {
            let _ = fs::remove_dir(self.root.join(kernel::SWEEP_DIR));
        }
    }
}

/// Runs the workload. Files are removed afterwards (also on error) unless `keep`.
pub fn run(opts: &Options) -> Result<Report, WorkloadError> {
    let started = Instant::now();
    let mut notes = Vec::new();

    // Fail fast on an unwritable trace path, before any work.
    let trace_file = match &opts.trace_out {
        Some(path) => Some(crate::outfile::create_nofollow(path).map_err(|source| {
            WorkloadError::TraceOut {
                path: path.clone(),
                source,
            }
        })?),
        None => None,
    };
    if !opts.delay.is_zero() {
        std::thread::sleep(opts.delay);
    }
    let result = run_parts(opts, trace_file, &mut notes);
    if result.is_err() {
        if let Some(path) = &opts.trace_out {
            let _ = fs::remove_file(path);
        }
    }
    let (kernel, spans, trace_bytes, kept_dir) = result?;

    let mut report = Report {
        schema: REPORT_SCHEMA.into(),
        files_written: kernel.files_written,
        bytes_written: kernel.bytes_written,
        bytes_read: kernel.bytes_read,
        concurrency: opts.concurrency.max(1),
        payload_bytes: opts.payload_bytes as u64,
        files_per_worker: kernel.files_per_worker,
        dir: kept_dir.map(|d| d.display().to_string()),
        otel_sdk: spans.is_some(),
        span_events_emitted: None,
        span_events_retained: None,
        span_events_dropped: None,
        span_event_limit: None,
        span_event_limit_source: None,
        retained_ranges: None,
        retention_pattern: None,
        trace_out: opts.trace_out.as_ref().map(|p| p.display().to_string()),
        trace_bytes,
        span_limits: SpanLimitsFidelity::default(),
        span_attribute_limit: None,
        span_attribute_limit_source: None,
        span_link_limit: None,
        span_link_limit_source: None,
        wall_ns: 0,
        notes: Vec::new(),
    };
    if let Some(s) = spans {
        let indexes = s.retained_indexes.iter().copied().collect();
        let fidelity = retention::span_fidelity(
            s.emitted,
            &indexes,
            Some(u64::from(s.limit.limit)),
            Some(s.limit.source),
        );
        let expected = s.emitted.min(u64::from(s.limit.limit));
        if fidelity.retained != expected {
            notes.push(format!(
                "the SDK retained {} of {} events under a limit of {}; expected {expected}",
                fidelity.retained, s.emitted, s.limit.limit
            ));
        }
        report.span_events_emitted = Some(s.emitted);
        report.span_events_retained = Some(fidelity.retained);
        report.span_events_dropped = Some(s.dropped);
        report.span_event_limit = fidelity.effective_limit;
        report.span_event_limit_source = fidelity.limit_source;
        report.retained_ranges = Some(fidelity.retained_ranges);
        report.retention_pattern = Some(fidelity.pattern);
        if opts.span_attributes > 0 {
            report.span_attribute_limit = Some(u64::from(s.attribute_limit.limit));
            report.span_attribute_limit_source = Some(s.attribute_limit.source);
        }
        if opts.span_links > 0 {
            report.span_link_limit = Some(u64::from(s.link_limit.limit));
            report.span_link_limit_source = Some(s.link_limit.source);
        }
        report.span_limits = s.limits;
    }
    report.notes = notes;
    report.wall_ns = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
    Ok(report)
}

type Parts = (
    kernel::KernelOutcome,
    Option<spans::SpanOutcome>,
    Option<u64>,
    Option<PathBuf>,
);

fn run_parts(
    opts: &Options,
    trace_file: Option<File>,
    notes: &mut Vec<String>,
) -> Result<Parts, WorkloadError> {
    let span_plan = opts.uses_otel().then(|| spans::SpanPlan {
        events: opts.span_events.unwrap_or(0),
        limit_flag: opts.span_event_limit,
        payload_bytes: opts.span_payload_bytes,
        root_attributes: vec![
            (
                "tare.sweep.span_events".into(),
                i64::try_from(opts.span_events.unwrap_or(0)).unwrap_or(i64::MAX),
            ),
            (
                "tare.sweep.kernel_events".into(),
                i64::try_from(opts.kernel_events).unwrap_or(i64::MAX),
            ),
            (
                "tare.sweep.concurrency".into(),
                i64::from(opts.concurrency.max(1)),
            ),
            (
                "tare.sweep.payload_bytes".into(),
                i64::try_from(opts.payload_bytes).unwrap_or(i64::MAX),
            ),
        ]
        .into_iter()
        .chain(
            [
                ("tare.sweep.span_attributes", opts.span_attributes),
                ("tare.sweep.span_links", opts.span_links),
                ("tare.sweep.spans", opts.spans),
            ]
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(k, n)| (k.to_string(), i64::try_from(n).unwrap_or(i64::MAX))),
        )
        .collect(),
        attributes: opts.span_attributes,
        attribute_limit_flag: opts.span_attribute_limit,
        links: opts.span_links,
        link_limit_flag: opts.span_link_limit,
        spans: opts.spans,
    });
    // The root span (if any) covers the whole workload.
    let mut tracing = match &span_plan {
        Some(plan) => {
            let t = spans::Tracing::start(plan)?;
            if let Some(n) = &t.limit.note {
                notes.push(n.clone());
            }
            Some(t)
        }
        None => None,
    };

    let mut kept_dir = None;
    let kernel = if opts.kernel_events > 0 {
        let dir = prepare_dir(opts.dir.as_deref())?;
        let plan = kernel::KernelPlan {
            files: opts.kernel_events,
            concurrency: opts.concurrency.max(1),
            payload_bytes: opts.payload_bytes,
        };
        let result = kernel::run(&dir.root, &plan);
        if opts.keep {
            kept_dir = Some(dir.root.clone());
        } else {
            let paths: Vec<PathBuf> = (0..plan.files)
                .map(|i| dir.root.join(kernel::relative_path(i, plan.concurrency)))
                .collect();
            dir.clean(&paths);
        }
        result?
    } else {
        kernel::KernelOutcome {
            files_per_worker: vec![0; opts.concurrency.max(1) as usize],
            ..kernel::KernelOutcome::default()
        }
    };

    let spans = match (tracing.take(), &span_plan) {
        (Some(mut t), Some(plan)) => {
            t.emit(plan);
            t.burst(plan)?;
            Some(t.finish(plan)?)
        }
        _ => None,
    };

    let mut trace_bytes = None;
    let mut span_outcome = spans;
    if let (Some(file), Some(path)) = (trace_file, &opts.trace_out) {
        let s = span_outcome
            .as_mut()
            .ok_or_else(|| WorkloadError::Failed("internal: a trace file without spans".into()))?;
        let to_trace = |source| WorkloadError::TraceOut {
            path: path.clone(),
            source,
        };
        let mut out = BufWriter::new(file);
        let spans = std::mem::take(&mut s.spans);
        let n = otlp_json::write(&mut out, spans, &s.resource).map_err(to_trace)?;
        out.flush().map_err(to_trace)?;
        trace_bytes = Some(n);
    }
    Ok((kernel, span_outcome, trace_bytes, kept_dir))
}
