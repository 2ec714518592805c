//! Span-event retention: which of the N indexed sweep events a trace kept, as ranges and a pattern.
//!
//! The workload emits N events named [`SPAN_EVENT_NAME`] with an integer attribute
//! [`SPAN_INDEX_KEY`] = 0..N-1 on one span. An SDK's span limits decide which survive: the
//! OTel JS and Python SDKs evict the oldest (they keep the newest, `newest_kept`), the Rust
//! SDK drops new events once full (it keeps the oldest, `oldest_kept`). These functions are
//! pure: they read a parsed trace and say what it shows.

use std::collections::BTreeSet;

use crate::schema::otlp::TracesData;
use crate::schema::sample::{LimitSource, RetentionPattern, SpanFidelity};

/// The name of the workload's sweep events.
pub const SPAN_EVENT_NAME: &str = "tare.sweep.span_event";
/// The integer attribute carrying each sweep event's index.
pub const SPAN_INDEX_KEY: &str = "tare.sweep.index";

/// What a trace holds of the indexed events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetainedEvents {
    /// Distinct non-negative indexes found.
    pub indexes: BTreeSet<u64>,
    /// Events with the name, counted once each (duplicates included).
    pub events: u64,
    /// Events with the name whose index attribute was missing, negative or not a whole number.
    pub unindexed: u64,
    /// Sum of `droppedEventsCount` over the spans that carry at least one such event, or over
    /// every span when none does (a limit of 0 keeps nothing but still counts its drops).
    pub dropped_by_sdk: u64,
}

impl RetainedEvents {
    /// Events found more than once (same index), e.g. two processes writing one file.
    pub fn duplicates(&self) -> u64 {
        self.events - self.unindexed - self.indexes.len() as u64
    }
}

/// Collects the indexes of events named `event_name` carrying the attribute `index_key`,
/// over every span of the trace.
pub fn retained_events(trace: &TracesData, event_name: &str, index_key: &str) -> RetainedEvents {
    let mut out = RetainedEvents::default();
    let mut dropped_on_carriers = 0u64;
    let mut dropped_everywhere = 0u64;
    for span in trace.spans() {
        let dropped = u64::from(span.dropped_events_count);
        dropped_everywhere += dropped;
        let mut carries = false;
        for event in span.events.iter().filter(|e| e.name == event_name) {
            carries = true;
            out.events += 1;
            match event
                .attribute(index_key)
                .and_then(|v| v.as_i64())
                .and_then(|i| u64::try_from(i).ok())
            {
                Some(i) => {
                    out.indexes.insert(i);
                }
                None => out.unindexed += 1,
            }
        }
        if carries {
            dropped_on_carriers += dropped;
        }
    }
    out.dropped_by_sdk = if out.events > 0 {
        dropped_on_carriers
    } else {
        dropped_everywhere
    };
    out
}

/// The workload's sweep indexes ([`SPAN_EVENT_NAME`], [`SPAN_INDEX_KEY`]) of a trace.
pub fn sweep_indexes(trace: &TracesData) -> BTreeSet<u64> {
    retained_events(trace, SPAN_EVENT_NAME, SPAN_INDEX_KEY).indexes
}

/// Compresses indexes to sorted inclusive ranges: {0,1,2,5,7,8} -> [[0,2],[5,5],[7,8]].
/// Duplicates and order in the input do not matter.
pub fn to_ranges<I: IntoIterator<Item = u64>>(indexes: I) -> Vec<[u64; 2]> {
    let sorted: BTreeSet<u64> = indexes.into_iter().collect();
    let mut ranges: Vec<[u64; 2]> = Vec::new();
    for i in sorted {
        match ranges.last_mut() {
            Some(last) if last[1].checked_add(1) == Some(i) => last[1] = i,
            _ => ranges.push([i, i]),
        }
    }
    ranges
}

/// Classifies the retained indexes against `target` (indexes 0..target were emitted):
/// - `none`: target 0 and nothing found;
/// - `complete`: exactly 0..target;
/// - `newest_kept`: a non-empty proper suffix target-k..target (FIFO eviction of the oldest);
/// - `oldest_kept`: a non-empty proper prefix 0..k (new events dropped once full);
/// - `gaps`: anything else, including an index >= target, events under target 0, and
///   nothing kept under a non-zero target (a limit of 0: the whole range is one gap).
pub fn classify(target: u64, indexes: &BTreeSet<u64>) -> RetentionPattern {
    let (Some(&first), Some(&last)) = (indexes.first(), indexes.last()) else {
        return if target == 0 {
            RetentionPattern::None
        } else {
            RetentionPattern::Gaps
        };
    };
    // BTreeSet is distinct, so it is contiguous iff its span equals its size.
    let contiguous = last - first + 1 == indexes.len() as u64;
    if last >= target || !contiguous {
        return RetentionPattern::Gaps;
    }
    match (first == 0, last == target - 1) {
        (true, true) => RetentionPattern::Complete,
        (false, true) => RetentionPattern::NewestKept,
        (true, false) => RetentionPattern::OldestKept,
        (false, false) => RetentionPattern::Gaps,
    }
}

/// The fidelity record of one sample: target vs retained, ranges, pattern, and the effective
/// limit and its source as the workload reported them.
pub fn span_fidelity(
    target: u64,
    indexes: &BTreeSet<u64>,
    effective_limit: Option<u64>,
    limit_source: Option<LimitSource>,
) -> SpanFidelity {
    SpanFidelity {
        target,
        retained: indexes.len() as u64,
        retained_ranges: to_ranges(indexes.iter().copied()),
        pattern: classify(target, indexes),
        effective_limit,
        limit_source,
    }
}

/// Root-span attribute naming the effective span-event limit (written by `tare workload`).
pub const LIMIT_KEY: &str = "tare.sweep.span_event_limit";
/// Root-span attribute naming where that limit came from: `default`, `env` or `flag`.
pub const LIMIT_SOURCE_KEY: &str = "tare.sweep.span_event_limit_source";

/// The span-event limit a trace declares about itself, if any span carries it.
pub fn declared_limit(trace: &TracesData) -> (Option<u64>, Option<LimitSource>) {
    for span in trace.spans() {
        let limit = span
            .attribute(LIMIT_KEY)
            .and_then(|v| v.as_i64())
            .and_then(|v| u64::try_from(v).ok());
        if limit.is_some() {
            let source = match span.attribute(LIMIT_SOURCE_KEY).and_then(|v| v.as_str()) {
                Some("default") => Some(LimitSource::Default),
                Some("env") => Some(LimitSource::Env),
                Some("flag") => Some(LimitSource::Flag),
                _ => None,
            };
            return (limit, source);
        }
    }
    (None, None)
}

/// [`span_fidelity`] of the workload's sweep events in a parsed trace, with the limit and
/// source the trace declares ([`declared_limit`]; none when no span carries them).
pub fn trace_span_fidelity(trace: &TracesData, target: u64) -> SpanFidelity {
    let (limit, source) = declared_limit(trace);
    span_fidelity(target, &sweep_indexes(trace), limit, source)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::otlp::parse_otlp_json;

    fn set(r: impl IntoIterator<Item = u64>) -> BTreeSet<u64> {
        r.into_iter().collect()
    }

    #[test]
    fn ranges() {
        assert_eq!(to_ranges([]), Vec::<[u64; 2]>::new());
        assert_eq!(to_ranges([4]), vec![[4, 4]]);
        assert_eq!(
            to_ranges([8, 0, 1, 2, 5, 7, 2]),
            vec![[0, 2], [5, 5], [7, 8]]
        );
        assert_eq!(to_ranges(372..500), vec![[372, 499]]);
        assert_eq!(
            to_ranges([u64::MAX - 1, u64::MAX, 0]),
            vec![[0, 0], [u64::MAX - 1, u64::MAX]]
        );
    }

    #[test]
    fn pattern_none() {
        assert_eq!(classify(0, &set([])), RetentionPattern::None);
    }

    #[test]
    fn pattern_complete() {
        assert_eq!(classify(1, &set([0])), RetentionPattern::Complete);
        assert_eq!(classify(100, &set(0..100)), RetentionPattern::Complete);
    }

    #[test]
    fn pattern_newest_kept_is_the_js_study_finding() {
        // The study: 500 and 1000 events, the JS SDK kept 128, the newest.
        assert_eq!(classify(500, &set(372..500)), RetentionPattern::NewestKept);
        assert_eq!(
            classify(1000, &set(872..1000)),
            RetentionPattern::NewestKept
        );
        assert_eq!(classify(2, &set([1])), RetentionPattern::NewestKept);
    }

    #[test]
    fn pattern_oldest_kept() {
        assert_eq!(classify(500, &set(0..128)), RetentionPattern::OldestKept);
        assert_eq!(classify(2, &set([0])), RetentionPattern::OldestKept);
    }

    #[test]
    fn pattern_gaps() {
        // A hole in the middle.
        assert_eq!(
            classify(10, &set([0, 1, 2, 5, 6, 7, 8, 9])),
            RetentionPattern::Gaps
        );
        // Contiguous but touching neither end.
        assert_eq!(classify(10, &set(3..6)), RetentionPattern::Gaps);
        // An index the workload never emitted.
        assert_eq!(classify(10, &set(0..11)), RetentionPattern::Gaps);
        assert_eq!(classify(10, &set([10])), RetentionPattern::Gaps);
        // Events where none were expected.
        assert_eq!(classify(0, &set([0])), RetentionPattern::Gaps);
        // Nothing kept of a non-zero target (limit 0).
        assert_eq!(classify(5, &set([])), RetentionPattern::Gaps);
    }

    #[test]
    fn fidelity_record() {
        let f = span_fidelity(500, &set(0..128), Some(128), Some(LimitSource::Default));
        assert_eq!(
            f,
            SpanFidelity {
                target: 500,
                retained: 128,
                retained_ranges: vec![[0, 127]],
                pattern: RetentionPattern::OldestKept,
                effective_limit: Some(128),
                limit_source: Some(LimitSource::Default),
            }
        );
        let none = span_fidelity(0, &set([]), None, None);
        assert_eq!(none.retained, 0);
        assert!(none.retained_ranges.is_empty());
        assert_eq!(none.pattern, RetentionPattern::None);
    }

    fn trace_with(events: &[&str], dropped: u32) -> TracesData {
        let events = events.join(",");
        let text = format!(
            r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[
                {{"name":"other","droppedEventsCount":9,"events":[{{"name":"unrelated"}}]}},
                {{"name":"tare.workload","droppedEventsCount":{dropped},"events":[{events}]}}]}}]}}]}}"#
        );
        parse_otlp_json("t.json", &text).expect("test trace parses")
    }

    fn ev(index: &str) -> String {
        format!(
            r#"{{"name":"tare.sweep.span_event","attributes":[{{"key":"tare.sweep.index","value":{index}}}]}}"#
        )
    }

    #[test]
    fn collects_indexes_from_a_trace() {
        let evs = [
            ev(r#"{"intValue":"3"}"#),
            ev(r#"{"intValue":4}"#),
            ev(r#"{"doubleValue":5.0}"#),
            ev(r#"{"intValue":"4"}"#),
            ev(r#"{"intValue":"-1"}"#),
            ev(r#"{"stringValue":"6"}"#),
            r#"{"name":"tare.sweep.span_event"}"#.to_string(),
            r#"{"name":"something.else","attributes":[{"key":"tare.sweep.index","value":{"intValue":"9"}}]}"#.to_string(),
        ];
        let refs: Vec<&str> = evs.iter().map(String::as_str).collect();
        let t = trace_with(&refs, 7);
        let r = retained_events(&t, SPAN_EVENT_NAME, SPAN_INDEX_KEY);
        assert_eq!(r.indexes, set([3, 4, 5]));
        assert_eq!(r.events, 7);
        assert_eq!(r.unindexed, 3);
        assert_eq!(r.duplicates(), 1);
        // Only the carrier span's drops count, not the unrelated span's 9.
        assert_eq!(r.dropped_by_sdk, 7);
        let f = trace_span_fidelity(&t, 6);
        // This trace declares no limit.
        assert_eq!((f.effective_limit, f.limit_source), (None, None));
        assert_eq!(f.retained, 3);
        assert_eq!(f.retained_ranges, vec![[3, 5]]);
        assert_eq!(f.pattern, RetentionPattern::NewestKept);
    }

    #[test]
    fn nothing_kept_still_counts_drops() {
        let t = trace_with(&[], 5);
        let r = retained_events(&t, SPAN_EVENT_NAME, SPAN_INDEX_KEY);
        assert!(r.indexes.is_empty());
        assert_eq!(r.dropped_by_sdk, 14);
        assert_eq!(classify(5, &r.indexes), RetentionPattern::Gaps);
    }

    #[test]
    fn declared_limit_comes_from_the_root_span() {
        let text = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"tare.workload","attributes":[
            {"key":"tare.sweep.span_event_limit","value":{"intValue":"128"}},
            {"key":"tare.sweep.span_event_limit_source","value":{"stringValue":"env"}}]}]}]}]}"#;
        let trace = parse_otlp_json("t.json", text).unwrap();
        assert_eq!(declared_limit(&trace), (Some(128), Some(LimitSource::Env)));
        // The fidelity of a sample carries what the trace declares.
        let f = trace_span_fidelity(&trace, 0);
        assert_eq!(
            (f.effective_limit, f.limit_source),
            (Some(128), Some(LimitSource::Env))
        );
        let bare = parse_otlp_json("t.json", r#"{"resourceSpans":[]}"#).unwrap();
        assert_eq!(declared_limit(&bare), (None, None));
    }
}
