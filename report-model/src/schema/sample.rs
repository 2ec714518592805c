//! `samples.jsonl`: one line per sample of `tare bench`, warm-ups included and flagged.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::experiment::Arm;
use super::usage::{RssMethod, SampleUsage};
use super::Versioned;

/// One measured (or warm-up) run of one arm in one cell (`tare.sample.v1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub schema: String,
    pub cell: String,
    pub arm: Arm,
    /// Order of this sample in the whole run, from 0.
    pub seq: u32,
    /// Counterbalanced pair number within the cell, shared by the two arms of a pair.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pair: Option<u32>,
    pub warmup: bool,
    pub valid: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discard_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    pub wall_ns: u64,
    /// Peak RSS of the workload as GNU time reports it: its largest process's (the same
    /// method in every arm).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_rss_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rss_method: Option<RssMethod>,
    /// tare's own peak RSS while capturing (capture arms only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tare_peak_rss_bytes: Option<u64>,
    /// CPU, charged memory, the tree's summed RSS and tare's own cost.
    #[serde(flatten)]
    pub usage: SampleUsage,
    /// Bytes of what the arm wrote (archive and/or trace).
    #[serde(default)]
    pub artifact_bytes: u64,
    /// Capture phases, nanoseconds (capture arms only).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub phases_ns: BTreeMap<String, u64>,
    /// Kernel events delivered (capture arms only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel_events: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel_fidelity: Option<KernelFidelity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span_fidelity: Option<SpanFidelity>,
    /// Attributes, links and whole spans against the SDK's other limits (absent when the cell
    /// asked for none of them).
    #[serde(default, skip_serializing_if = "SpanLimitsFidelity::is_empty")]
    pub span_limits: SpanLimitsFidelity,
    /// The per-sample archive, relative to the results directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive: Option<String>,
}

/// Kernel target vs what the archive shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KernelFidelity {
    /// Worker files the workload was asked to write.
    pub target: u64,
    /// Distinct `event-rate-sweep/worker-*` files seen in kernel.ndjson.
    pub unique_worker_files: u64,
}

/// Span-event target vs what the trace retained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpanFidelity {
    pub target: u64,
    pub retained: u64,
    /// Retained `tare.sweep.index` values as inclusive ranges.
    pub retained_ranges: Vec<[u64; 2]>,
    pub pattern: RetentionPattern,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_limit: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_source: Option<LimitSource>,
}

/// One loss beyond span events in one trace: N indexed items (root-span attributes, root-span
/// links, or whole child spans) against what the trace kept, and against what the SDK itself
/// reported dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitFidelity {
    /// Items the workload emitted, indexed 0..target.
    pub target: u64,
    /// Distinct indexes the trace kept.
    pub retained: u64,
    /// The kept indexes as inclusive ranges.
    pub retained_ranges: Vec<[u64; 2]>,
    pub pattern: RetentionPattern,
    /// What the SDK says it dropped: the root span's OTLP `droppedAttributesCount` or
    /// `droppedLinksCount`; for whole spans, the SDK's own count as the workload wrote it on the
    /// root span. Absent when the SDK does not expose one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dropped_by_sdk: Option<u64>,
    /// What tare counted from the indexes: target - retained.
    pub dropped_counted: u64,
}

impl LimitFidelity {
    /// Whether the SDK's own count equals tare's; `None` when the SDK reports none.
    pub fn counts_agree(&self) -> Option<bool> {
        self.dropped_by_sdk.map(|d| d == self.dropped_counted)
    }

    /// Everything emitted was kept (or nothing was asked), and the SDK's count, if any, agrees.
    pub fn is_clean(&self) -> bool {
        matches!(
            self.pattern,
            RetentionPattern::Complete | RetentionPattern::None
        ) && self.counts_agree() != Some(false)
    }
}

/// The losses beyond span events, per kind; a kind the cell did not ask for is absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpanLimitsFidelity {
    /// Root-span attributes `tare.sweep.attr.<i>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<LimitFidelity>,
    /// Root-span links carrying `tare.sweep.index`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<LimitFidelity>,
    /// Child spans `tare.sweep.span` carrying `tare.sweep.index`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spans: Option<LimitFidelity>,
}

impl SpanLimitsFidelity {
    pub fn is_empty(&self) -> bool {
        self.attributes.is_none() && self.links.is_none() && self.spans.is_none()
    }
}

/// Which span events survived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetentionPattern {
    /// Every index 0..target.
    Complete,
    /// A suffix: FIFO eviction of the oldest.
    NewestKept,
    /// A prefix: newer events dropped.
    OldestKept,
    /// Anything else.
    Gaps,
    /// Nothing expected, nothing found.
    None,
}

/// Where the effective span-event limit came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitSource {
    Default,
    Env,
    Flag,
}

impl Versioned for Sample {
    const SCHEMA: &'static str = "tare.sample.v1";
}
