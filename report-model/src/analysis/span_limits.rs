//! The losses beyond span events: root-span attributes, root-span links and whole spans, by their indexes.
//!
//! The workload (`tare workload --span-attributes/--span-links/--spans`, and its Python twin)
//! emits N indexed items of each kind; an SDK limit decides which reach the trace:
//! - attributes `tare.sweep.attr.<i>` on the root span `tare.workload`, against the SDK's
//!   attribute-count limit; the SDK counts what it dropped in `droppedAttributesCount`;
//! - links on the root span, each with the integer attribute `tare.sweep.index` = i, against
//!   the link limit; the SDK counts its drops in `droppedLinksCount`;
//! - child spans `tare.sweep.span` with `tare.sweep.index` = i, ended in a burst through the
//!   batch span processor, whose queue drops whole spans; OTLP has no field for that, so the
//!   workload writes the SDK's own count (where the SDK exposes one) on the root span as
//!   `tare.sweep.spans_dropped_by_sdk`.
//!
//! Which indexes survive and their pattern come from the same analysis as span events
//! ([`retention`](super::retention)).

use std::collections::BTreeSet;

use crate::analysis::retention::{classify, to_ranges, SPAN_INDEX_KEY};
use crate::schema::otlp::{attribute, Span, TracesData};
use crate::schema::sample::{LimitFidelity, SpanLimitsFidelity};

/// The workload's root span.
pub const ROOT_SPAN_NAME: &str = "tare.workload";
/// Prefix of the root span's indexed attributes: `tare.sweep.attr.<i>`.
pub const ATTR_PREFIX: &str = "tare.sweep.attr.";
/// The name of the burst's child spans.
pub const BURST_SPAN_NAME: &str = "tare.sweep.span";
/// Root-span attribute: the spans the SDK's batch processor says it dropped.
pub const SPANS_DROPPED_KEY: &str = "tare.sweep.spans_dropped_by_sdk";

/// The attribute key of index `i`.
pub fn attr_key(i: u64) -> String {
    format!("{ATTR_PREFIX}{i}")
}

/// The index of an attribute key `tare.sweep.attr.<i>` (canonical decimal only).
pub fn attr_index(key: &str) -> Option<u64> {
    let digits = key.strip_prefix(ATTR_PREFIX)?;
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    canonical.then(|| digits.parse().ok()).flatten()
}

/// The workload's root span: a span named [`ROOT_SPAN_NAME`] without a parent, else the first
/// span of that name.
pub fn root_span(trace: &TracesData) -> Option<&Span> {
    trace
        .spans()
        .find(|s| s.name == ROOT_SPAN_NAME && s.parent_span_id.is_empty())
        .or_else(|| trace.spans().find(|s| s.name == ROOT_SPAN_NAME))
}

/// The fidelity record of `indexes` kept out of 0..target, with the SDK's own drop count.
pub fn limit_fidelity(
    target: u64,
    indexes: &BTreeSet<u64>,
    dropped_by_sdk: Option<u64>,
) -> LimitFidelity {
    let retained = indexes.len() as u64;
    LimitFidelity {
        target,
        retained,
        retained_ranges: to_ranges(indexes.iter().copied()),
        pattern: classify(target, indexes),
        dropped_by_sdk,
        dropped_counted: target.saturating_sub(retained),
    }
}

/// Root-span attributes `tare.sweep.attr.<i>` against `target`; the SDK's count is the root
/// span's `droppedAttributesCount` (0 when the trace has no root span: nothing to count on).
pub fn attribute_fidelity(trace: &TracesData, target: u64) -> LimitFidelity {
    let root = root_span(trace);
    let indexes: BTreeSet<u64> = root
        .map(|r| {
            r.attributes
                .iter()
                .filter_map(|kv| attr_index(&kv.key))
                .collect()
        })
        .unwrap_or_default();
    let dropped = root.map(|r| u64::from(r.dropped_attributes_count));
    limit_fidelity(target, &indexes, dropped)
}

/// Root-span links carrying `tare.sweep.index` against `target`; the SDK's count is the root
/// span's `droppedLinksCount`.
pub fn link_fidelity(trace: &TracesData, target: u64) -> LimitFidelity {
    let root = root_span(trace);
    let indexes: BTreeSet<u64> = root
        .map(|r| {
            r.links
                .iter()
                .filter_map(|l| index_of(attribute(&l.attributes, SPAN_INDEX_KEY)))
                .collect()
        })
        .unwrap_or_default();
    let dropped = root.map(|r| u64::from(r.dropped_links_count));
    limit_fidelity(target, &indexes, dropped)
}

/// Child spans [`BURST_SPAN_NAME`] carrying `tare.sweep.index` against `target`; the SDK's
/// count is the root span's [`SPANS_DROPPED_KEY`], absent when the SDK exposes none.
pub fn burst_fidelity(trace: &TracesData, target: u64) -> LimitFidelity {
    let indexes: BTreeSet<u64> = trace
        .spans()
        .filter(|s| s.name == BURST_SPAN_NAME)
        .filter_map(|s| index_of(s.attribute(SPAN_INDEX_KEY)))
        .collect();
    let dropped = root_span(trace).and_then(|r| index_of(r.attribute(SPANS_DROPPED_KEY)));
    limit_fidelity(target, &indexes, dropped)
}

/// All three for one sample; a kind whose target is 0 is left out.
pub fn trace_limits_fidelity(
    trace: &TracesData,
    attributes: u64,
    links: u64,
    spans: u64,
) -> SpanLimitsFidelity {
    SpanLimitsFidelity {
        attributes: (attributes > 0).then(|| attribute_fidelity(trace, attributes)),
        links: (links > 0).then(|| link_fidelity(trace, links)),
        spans: (spans > 0).then(|| burst_fidelity(trace, spans)),
    }
}

/// On one span of any trace: its indexed attributes `tare.sweep.attr.<i>`, against the number
/// it must have had (the kept ones plus its `droppedAttributesCount`, at least the highest
/// index + 1); `None` when it carries none.
pub fn span_attribute_retention(span: &Span) -> Option<LimitFidelity> {
    let kept: BTreeSet<u64> = span
        .attributes
        .iter()
        .filter_map(|kv| attr_index(&kv.key))
        .collect();
    inferred(kept, u64::from(span.dropped_attributes_count))
}

/// On one span of any trace: its links carrying `tare.sweep.index`, as
/// [`span_attribute_retention`] with `droppedLinksCount`.
pub fn span_link_retention(span: &Span) -> Option<LimitFidelity> {
    let kept: BTreeSet<u64> = span
        .links
        .iter()
        .filter_map(|l| index_of(attribute(&l.attributes, SPAN_INDEX_KEY)))
        .collect();
    inferred(kept, u64::from(span.dropped_links_count))
}

fn inferred(kept: BTreeSet<u64>, dropped: u64) -> Option<LimitFidelity> {
    let last = *kept.last()?;
    let target = last
        .saturating_add(1)
        .max((kept.len() as u64).saturating_add(dropped));
    Some(limit_fidelity(target, &kept, Some(dropped)))
}

fn index_of(v: Option<&crate::schema::otlp::AnyValue>) -> Option<u64> {
    v.and_then(|v| v.as_i64())
        .and_then(|i| u64::try_from(i).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::otlp::parse_otlp_json;
    use crate::schema::sample::RetentionPattern;

    fn int_attr(key: &str, v: u64) -> String {
        format!(r#"{{"key":"{key}","value":{{"intValue":"{v}"}}}}"#)
    }

    fn trace(
        root_attrs: &[String],
        dropped_attrs: u32,
        links: &[u64],
        dropped_links: u32,
        burst: &[u64],
    ) -> TracesData {
        let links: Vec<String> = links
            .iter()
            .map(|i| format!(r#"{{"traceId":"00000000000000000000000000000001","spanId":"0000000000000002","attributes":[{}]}}"#, int_attr(SPAN_INDEX_KEY, *i)))
            .collect();
        let burst: Vec<String> = burst
            .iter()
            .map(|i| format!(r#"{{"name":"tare.sweep.span","parentSpanId":"00000000000000aa","attributes":[{}]}}"#, int_attr(SPAN_INDEX_KEY, *i)))
            .collect();
        let mut spans = vec![format!(
            r#"{{"name":"tare.workload","spanId":"00000000000000aa","attributes":[{}],"droppedAttributesCount":{dropped_attrs},"links":[{}],"droppedLinksCount":{dropped_links}}}"#,
            root_attrs.join(","),
            links.join(",")
        )];
        spans.extend(burst);
        let text = format!(
            r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{}]}}]}}]}}"#,
            spans.join(",")
        );
        parse_otlp_json("t.json", &text).expect("test trace parses")
    }

    #[test]
    fn attribute_keys() {
        assert_eq!(attr_index("tare.sweep.attr.0"), Some(0));
        assert_eq!(attr_index("tare.sweep.attr.127"), Some(127));
        for bad in [
            "tare.sweep.attr.",
            "tare.sweep.attr.01",
            "tare.sweep.attr.-1",
            "tare.sweep.attr.1x",
            "tare.sweep.attrs.1",
            "x",
        ] {
            assert_eq!(attr_index(bad), None, "{bad}");
        }
        assert_eq!(attr_key(7), "tare.sweep.attr.7");
    }

    #[test]
    fn attributes_kept_first_and_counted() {
        let mut attrs: Vec<String> = (0..122).map(|i| int_attr(&attr_key(i), i)).collect();
        attrs.push(int_attr("tare.sweep.span_events", 0));
        let t = trace(&attrs, 378, &[], 0, &[]);
        let f = attribute_fidelity(&t, 500);
        assert_eq!((f.target, f.retained, f.dropped_counted), (500, 122, 378));
        assert_eq!(f.retained_ranges, vec![[0, 121]]);
        assert_eq!(f.pattern, RetentionPattern::OldestKept);
        assert_eq!(f.dropped_by_sdk, Some(378));
        assert_eq!(f.counts_agree(), Some(true));
        assert!(!f.is_clean());
    }

    #[test]
    fn links_newest_kept_and_a_disagreeing_count() {
        let t = trace(&[], 0, &(72..200).collect::<Vec<_>>(), 70, &[]);
        let f = link_fidelity(&t, 200);
        assert_eq!(f.retained_ranges, vec![[72, 199]]);
        assert_eq!(f.pattern, RetentionPattern::NewestKept);
        assert_eq!((f.dropped_by_sdk, f.dropped_counted), (Some(70), 72));
        assert_eq!(f.counts_agree(), Some(false));
    }

    #[test]
    fn whole_spans_by_index_with_and_without_the_sdk_count() {
        let burst: Vec<u64> = (0..2048).chain(3000..3100).collect();
        let t = trace(&[], 0, &[], 0, &burst);
        let f = burst_fidelity(&t, 4000);
        assert_eq!(f.retained, 2148);
        assert_eq!(f.retained_ranges, vec![[0, 2047], [3000, 3099]]);
        assert_eq!(f.pattern, RetentionPattern::Gaps);
        assert_eq!((f.dropped_by_sdk, f.dropped_counted), (None, 1852));
        assert_eq!(f.counts_agree(), None);
        let t = trace(&[int_attr(SPANS_DROPPED_KEY, 1852)], 0, &[], 0, &burst);
        assert_eq!(burst_fidelity(&t, 4000).counts_agree(), Some(true));
        let complete = trace(&[], 0, &[], 0, &(0..10).collect::<Vec<_>>());
        assert!(burst_fidelity(&complete, 10).is_clean());
    }

    #[test]
    fn retention_on_one_span_infers_its_target() {
        let attrs: Vec<String> = (378..500).map(|i| int_attr(&attr_key(i), i)).collect();
        let t = trace(&attrs, 378, &(0..128).collect::<Vec<_>>(), 372, &[]);
        let root = root_span(&t).unwrap();
        let a = span_attribute_retention(root).unwrap();
        assert_eq!(
            (a.target, a.retained, a.pattern),
            (500, 122, RetentionPattern::NewestKept)
        );
        assert_eq!(a.counts_agree(), Some(true));
        let l = span_link_retention(root).unwrap();
        assert_eq!((l.target, l.pattern), (500, RetentionPattern::OldestKept));
        let bare = trace(&[], 5, &[], 0, &[]);
        assert_eq!(span_attribute_retention(root_span(&bare).unwrap()), None);
    }

    #[test]
    fn zero_targets_are_left_out() {
        let t = trace(&[], 0, &[], 0, &[]);
        assert!(trace_limits_fidelity(&t, 0, 0, 0).is_empty());
        let only_links = trace_limits_fidelity(&t, 0, 3, 0);
        assert!(only_links.attributes.is_none() && only_links.spans.is_none());
        assert_eq!(
            only_links.links.map(|l| l.pattern),
            Some(RetentionPattern::Gaps)
        );
    }
}
