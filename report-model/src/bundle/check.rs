//! Schema checks of a member's bytes as they stream by: ndjson line by line in bounded memory, JSON and TOML documents whole within a size bound.

use crate::error::ModelError;
use crate::schema::experiment::Experiment;
use crate::schema::health::Health;
use crate::schema::host::Host;
use crate::schema::kernel_event::{KernelEvent, LineReader};
use crate::schema::metrics::MetricsSample;
use crate::schema::phases::Phases;
use crate::schema::run::Run;
use crate::schema::sample::Sample;
use crate::schema::summary::Summary;
use crate::schema::{parse_json, parse_ndjson_line, parse_toml};

/// The longest line of an ndjson member: kernel events, resource samples and bench samples
/// are a few hundred bytes to a few KiB each (a path is at most 4 KiB).
pub const MAX_LINE_BYTES: usize = 4 << 20;

/// What a member holds, from its path: how its content is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    Run,
    Phases,
    Health,
    Summary,
    Host,
    Experiment,
    /// Bencher Metric Format (no schema field).
    Bmf,
    /// The workload's OTLP JSON trace.
    Trace,
    /// kernel.ndjson, either version, line by line.
    Kernel,
    /// metrics.ndjson, line by line.
    Metrics,
    /// samples.jsonl, line by line.
    Samples,
    /// A capture archive inside a bundle (`archives/*.tar.gz`), checked as a container.
    Archive,
    /// Nothing tare reads (summary.md, charts): hashed only.
    Opaque,
}

impl Content {
    /// The content of the member at `path` (named as `schema_for_member` names them).
    pub fn of(path: &str) -> Content {
        if path.starts_with("archives/") && path.ends_with(".tar.gz") {
            return Content::Archive;
        }
        match path.rsplit('/').next().unwrap_or(path) {
            "run.json" => Content::Run,
            "phases.json" => Content::Phases,
            "health.json" => Content::Health,
            "summary.json" => Content::Summary,
            "host.json" => Content::Host,
            "experiment.toml" => Content::Experiment,
            "bmf.json" => Content::Bmf,
            "trace.json" => Content::Trace,
            "kernel.ndjson" => Content::Kernel,
            "metrics.ndjson" => Content::Metrics,
            "samples.jsonl" => Content::Samples,
            _ => Content::Opaque,
        }
    }

    /// Whether the member is read whole (a JSON or TOML document) rather than by line.
    pub fn is_document(self) -> bool {
        matches!(
            self,
            Content::Run
                | Content::Phases
                | Content::Health
                | Content::Summary
                | Content::Host
                | Content::Experiment
                | Content::Bmf
                | Content::Trace
        )
    }
}

/// Checks one member's bytes against its schema as they are fed in, keeping at most one
/// line (ndjson) or one document of `max_document` bytes; the first problem is kept and the
/// rest of the member ignored.
pub struct Checker {
    /// `archive.tar.gz:run.json`, as errors name it.
    place: String,
    content: Content,
    max_document: u64,
    /// The document so far, or the line not yet ended.
    buf: Vec<u8>,
    /// Lines ended so far.
    line_no: usize,
    kernel: LineReader,
    /// Kernel events parsed, when they are kept.
    events: Option<Vec<KernelEvent>>,
    problem: Option<ModelError>,
}

impl Checker {
    /// A checker of the member `place` (`file:path`) holding `content`, `declared` bytes long;
    /// `keep_events` keeps the kernel events it parses.
    pub fn new(
        place: String,
        content: Content,
        declared: u64,
        max_document: u64,
        keep_events: bool,
    ) -> Self {
        let mut c = Checker {
            place,
            content,
            max_document,
            buf: Vec::new(),
            line_no: 0,
            kernel: LineReader::default(),
            events: (keep_events && content == Content::Kernel).then(Vec::new),
            problem: None,
        };
        if content.is_document() && declared > max_document {
            c.problem = Some(ModelError::container(
                &c.place,
                format!(
                    "{declared} bytes: over the {} MiB limit of a JSON or TOML member, which is \
                     parsed whole",
                    max_document >> 20
                ),
            ));
        }
        c
    }

    /// Feeds the next bytes of the member.
    pub fn feed(&mut self, mut chunk: &[u8]) {
        if self.problem.is_some() {
            return;
        }
        if self.content.is_document() {
            // Bounded by the declared size, checked against `max_document` in `new`.
            self.buf.extend_from_slice(chunk);
            if self.buf.len() as u64 > self.max_document {
                self.problem = Some(ModelError::container(
                    &self.place,
                    format!("over the {} MiB limit", self.max_document >> 20),
                ));
                self.buf = Vec::new();
            }
            return;
        }
        if !matches!(
            self.content,
            Content::Kernel | Content::Metrics | Content::Samples
        ) {
            return;
        }
        while let Some(at) = chunk.iter().position(|&b| b == b'\n') {
            let (head, rest) = chunk.split_at(at);
            chunk = &rest[1..];
            if self.buf.is_empty() {
                self.line(head, true);
            } else {
                let mut line = std::mem::take(&mut self.buf);
                line.extend_from_slice(head);
                self.line(&line, true);
                line.clear();
                self.buf = line;
            }
            if self.problem.is_some() {
                return;
            }
        }
        if self.buf.len() + chunk.len() > MAX_LINE_BYTES {
            self.problem = Some(ModelError::Field {
                file: self.place.clone(),
                field: format!("line {}", self.line_no + 1),
                problem: format!(
                    "longer than {} MiB (no newline): not an ndjson line tare writes",
                    MAX_LINE_BYTES >> 20
                ),
            });
            self.buf = Vec::new();
            return;
        }
        self.buf.extend_from_slice(chunk);
    }

    /// One line (without its `\n`; `ended` when it had one) of an ndjson member.
    fn line(&mut self, bytes: &[u8], ended: bool) {
        self.line_no += 1;
        // As `str::lines` reads them: `\r\n` ends a line too.
        let bytes = match bytes {
            [head @ .., b'\r'] if ended => head,
            b => b,
        };
        let Ok(text) = std::str::from_utf8(bytes) else {
            self.problem = Some(ModelError::Field {
                file: self.place.clone(),
                field: format!("line {}", self.line_no),
                problem: "not UTF-8".into(),
            });
            return;
        };
        if text.trim().is_empty() {
            return;
        }
        let (place, n) = (self.place.as_str(), self.line_no);
        let checked = match self.content {
            Content::Kernel => self.kernel.line(place, n, text).map(|ev| {
                if let Some(events) = &mut self.events {
                    events.push(ev);
                }
            }),
            Content::Metrics => parse_ndjson_line::<MetricsSample>(place, n, text).map(drop),
            Content::Samples => parse_ndjson_line::<Sample>(place, n, text).map(drop),
            _ => Ok(()),
        };
        if let Err(e) = checked {
            self.problem = Some(e);
        }
    }

    /// The end of the member: the last line, or the whole document, is checked. Returns
    /// the first problem, if any, and the kernel events kept.
    pub fn finish(mut self) -> (Option<ModelError>, Option<Vec<KernelEvent>>) {
        if self.problem.is_none() {
            if self.content.is_document() {
                self.problem = self.document().err();
            } else if !self.buf.is_empty() {
                let last = std::mem::take(&mut self.buf);
                self.line(&last, false);
            }
        }
        let events = if self.problem.is_some() {
            None
        } else {
            self.events
        };
        (self.problem, events)
    }

    /// Parses the whole document with the reader of its schema.
    fn document(&self) -> Result<(), ModelError> {
        let place = self.place.as_str();
        let text = std::str::from_utf8(&self.buf)
            .map_err(|_| ModelError::container(place, "not UTF-8"))?;
        match self.content {
            Content::Run => parse_json::<Run>(place, text).map(drop),
            Content::Phases => parse_json::<Phases>(place, text).map(drop),
            Content::Health => parse_json::<Health>(place, text).map(drop),
            Content::Summary => parse_json::<Summary>(place, text).map(drop),
            Content::Host => parse_json::<Host>(place, text).map(drop),
            Content::Experiment => parse_toml::<Experiment>(place, text).map(drop),
            Content::Bmf => crate::schema::bmf::parse_bmf(place, text).map(drop),
            Content::Trace => crate::schema::otlp::parse_otlp_json(place, text).map(drop),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: &str = r#"{"dt":5,"pid":1,"comm":"a","cgroup_id":1,"kind":"fork","child_pid":2}"#;

    /// Feeds `bytes` in pieces of `step` and finishes.
    fn check(content: Content, bytes: &[u8], step: usize) -> (Option<ModelError>, usize) {
        let mut c = Checker::new("a:m".into(), content, bytes.len() as u64, 1 << 20, true);
        for piece in bytes.chunks(step.max(1)) {
            c.feed(piece);
        }
        let (problem, events) = c.finish();
        (problem, events.map_or(0, |e| e.len()))
    }

    fn field_of(e: Option<ModelError>) -> (String, String) {
        match e {
            Some(ModelError::Field { field, problem, .. }) => (field, problem),
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn kernel_lines_are_read_across_any_chunking_and_name_the_bad_line() {
        let good = format!("{EVENT}\n\r\n{EVENT}\r\n{EVENT}");
        for step in [1, 2, 7, 64, 4096] {
            assert_eq!(check(Content::Kernel, good.as_bytes(), step), (None, 3));
        }
        let bad = format!("{EVENT}\n{EVENT}\n{{\"dt\":\"soon\"}}\n{EVENT}\n");
        for step in [1, 3, 4096] {
            let (problem, kept) = check(Content::Kernel, bad.as_bytes(), step);
            let (field, why) = field_of(problem);
            assert_eq!(field, "line 3: dt", "step {step}");
            assert!(why.contains("invalid type"), "{why}");
            assert_eq!(kept, 0, "no events are given back from a bad member");
        }
        let mut not_utf8 = format!("{EVENT}\n\n").into_bytes();
        not_utf8.insert(EVENT.len() + 1, 0xff);
        let (field, why) = field_of(check(Content::Kernel, &not_utf8, 1).0);
        assert_eq!((field.as_str(), why.as_str()), ("line 2", "not UTF-8"));
    }

    #[test]
    fn a_line_without_end_is_refused_past_the_bound() {
        let mut c = Checker::new(
            "a:kernel.ndjson".into(),
            Content::Kernel,
            u64::MAX,
            1,
            false,
        );
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..5 {
            c.feed(&zeros);
        }
        assert!(c.buf.is_empty(), "nothing is held past the bound");
        let (field, why) = field_of(c.finish().0);
        assert_eq!(field, "line 1");
        assert!(why.contains("longer than 4 MiB"), "{why}");
    }

    #[test]
    fn documents_are_parsed_with_their_schema_within_a_bound() {
        let problem = check(Content::Run, b"not json {{{", 3).0;
        let (field, why) = field_of(problem);
        assert_eq!(field, "(top level)");
        assert!(why.contains("not valid JSON"), "{why}");
        let (_, why) = field_of(check(Content::Experiment, b"schema = 1", 5).0);
        assert!(why.contains("expected a string"), "{why}");
        assert_eq!(
            check(Content::Bmf, br#"{"a":{"b":{"value":1}}}"#, 2).0,
            None
        );
        assert_eq!(check(Content::Opaque, b"\xff anything", 2).0, None);
        // Over the bound by its declared size: refused before a byte is held.
        let c = Checker::new(
            "a:trace.json".into(),
            Content::Trace,
            2 << 20,
            1 << 20,
            false,
        );
        match c.finish().0 {
            Some(ModelError::Container { problem, .. }) => {
                assert!(problem.contains("over the 1 MiB limit"), "{problem}")
            }
            other => panic!("{other:?}"),
        }
    }
}
