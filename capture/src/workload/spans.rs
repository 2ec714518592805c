//! The OTel side of the workload: one root span with N indexed events, through the real Rust SDK.
//!
//! The tracer provider is `opentelemetry_sdk`'s own, with a simple (synchronous) span processor
//! and an exporter that keeps the finished [`SpanData`] in memory, so what the trace holds is
//! exactly what the SDK let through its span limits.
//!
//! The event limit, in order: `--span-event-limit` (set on the provider builder); else
//! `OTEL_SPAN_EVENT_COUNT_LIMIT`, which `opentelemetry_sdk` 0.33 reads itself when it builds
//! its default `Config` (tare only reads it again to report it, with the SDK's own parsing:
//! `u32::from_str` of the raw value, anything else ignored); else the SDK default, 128.
//!
//! The other limits (`--span-attributes`, `--span-links`, `--spans`): N attributes
//! `tare.sweep.attr.<i>` set on the root span after its own knob attributes, N links added to
//! it (each with `tare.sweep.index` = i), and a burst of N child spans `tare.sweep.span` ended
//! back to back through a second provider whose processor is the SDK's `BatchSpanProcessor`
//! (its default queue of 2048, or `OTEL_BSP_MAX_QUEUE_SIZE`), exporting into the same
//! in-memory exporter. What `opentelemetry_sdk` 0.33.1 does past each limit (read in its
//! source, asserted by `tests/workload_limits.rs`): `Span::set_attribute` and `Span::add_link`
//! push while there is room and otherwise only count the drop (`dropped_attributes_count`,
//! `links.dropped_count`): the FIRST are kept. `BatchSpanProcessor::on_end` does a `try_send`
//! into a bounded channel and drops the span being ended when it is full (the NEW span); its
//! count (`dropped_spans_count`) is a private field, reported only as an internal log at
//! shutdown (feature `internal-logs`, which tare does not enable), so the Rust workload writes
//! no `tare.sweep.spans_dropped_by_sdk` and the loss is counted from the indexes alone.
//!
//! Past the limit, `opentelemetry_sdk` 0.33 keeps the FIRST `limit` events and drops every
//! later one, counting them in `SpanEvents::dropped_count` (OTLP `droppedEventsCount`): the
//! retained indexes are `0..limit`, pattern `oldest_kept`. The OTel JS and Python SDKs do the
//! opposite (they evict the oldest and keep the newest). `tests/workload_spans.rs` asserts
//! both against the real SDKs.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};

use opentelemetry::trace::{
    Span as _, SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
    Tracer as _, TracerProvider as _,
};
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::resource::TelemetryResourceDetector;
use opentelemetry_sdk::trace::{Config, Sampler, SdkTracerProvider, SpanData, SpanExporter};
use opentelemetry_sdk::Resource;
use report_model::analysis::retention::{SPAN_EVENT_NAME, SPAN_INDEX_KEY};
use report_model::analysis::span_limits::{attr_index, attr_key, limit_fidelity, BURST_SPAN_NAME};
use report_model::schema::sample::{LimitSource, SpanLimitsFidelity};

use super::WorkloadError;

/// The environment variable the OTel SDKs read for the span-event limit.
pub const ENV_EVENT_LIMIT: &str = "OTEL_SPAN_EVENT_COUNT_LIMIT";
/// The environment variable the OTel SDKs read for the span-attribute-count limit.
pub const ENV_ATTRIBUTE_LIMIT: &str = "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT";
/// The environment variable the OTel SDKs read for the link limit.
pub const ENV_LINK_LIMIT: &str = "OTEL_SPAN_LINK_COUNT_LIMIT";
/// Root-span attribute: the attribute-count limit in force.
pub const ATTRIBUTE_LIMIT_KEY: &str = "tare.sweep.span_attribute_limit";
/// Root-span attribute: the link limit in force.
pub const LINK_LIMIT_KEY: &str = "tare.sweep.span_link_limit";
/// The root span's name.
pub const ROOT_SPAN_NAME: &str = "tare.workload";
/// The instrumentation scope (tracer) name.
pub const SCOPE_NAME: &str = "tare";
/// The resource's `service.name`.
pub const SERVICE_NAME: &str = "tare-workload";
/// Event attribute carrying the optional payload (`--span-payload-bytes`).
pub const PAYLOAD_KEY: &str = "tare.sweep.payload";

/// The span-event limit in force and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectiveLimit {
    pub limit: u32,
    pub source: LimitSource,
    /// Set when `OTEL_SPAN_EVENT_COUNT_LIMIT` was set but the SDK ignores it.
    pub note: Option<String>,
}

/// The SDK's default span-event limit (128 in `opentelemetry_sdk` 0.33).
pub fn sdk_default_limit() -> u32 {
    opentelemetry_sdk::trace::SpanLimits::default().max_events_per_span
}

/// Resolves the limit as the SDK will: the flag wins; else the environment value if it parses
/// as the SDK parses it (`u32::from_str`, no trimming); else the default.
pub fn resolve_limit(flag: Option<u32>, env: Option<&str>, default: u32) -> EffectiveLimit {
    resolve_limit_of(ENV_EVENT_LIMIT, flag, env, default)
}

/// [`resolve_limit`] for the limit read from the environment variable `env_name`.
pub fn resolve_limit_of(
    env_name: &str,
    flag: Option<u32>,
    env: Option<&str>,
    default: u32,
) -> EffectiveLimit {
    if let Some(limit) = flag {
        return EffectiveLimit {
            limit,
            source: LimitSource::Flag,
            note: None,
        };
    }
    match env.map(|v| (v, v.parse::<u32>())) {
        Some((_, Ok(limit))) => EffectiveLimit {
            limit,
            source: LimitSource::Env,
            note: None,
        },
        // The value is not echoed: environment values stay out of tare's output.
        Some((_, Err(_))) => EffectiveLimit {
            limit: default,
            source: LimitSource::Default,
            note: Some(format!(
                "{env_name} is set but is not an unsigned 32-bit integer as the SDK parses it (no spaces); the SDK ignores it and uses its default {default}"
            )),
        },
        None => EffectiveLimit {
            limit: default,
            source: LimitSource::Default,
            note: None,
        },
    }
}

/// [`resolve_limit`] from the process environment, cross-checked against the value the SDK
/// itself derives from it (`Config::default()`).
pub fn effective_limit(flag: Option<u32>) -> Result<EffectiveLimit, WorkloadError> {
    let env = std::env::var_os(ENV_EVENT_LIMIT).map(|v| v.to_string_lossy().into_owned());
    let resolved = resolve_limit(flag, env.as_deref(), sdk_default_limit());
    if flag.is_none() {
        let sdk = Config::default().span_limits.max_events_per_span;
        if sdk != resolved.limit {
            return Err(WorkloadError::Failed(format!(
                "the OTel SDK derives a span-event limit of {sdk} from the environment, tare expected {}; pass --span-event-limit to set it explicitly",
                resolved.limit
            )));
        }
    }
    Ok(resolved)
}

/// The attribute-count and link limits in force (flag, else what the SDK derives from the
/// environment, else its default), cross-checked against the SDK's own `Config::default()`.
pub fn other_limits(
    attribute_flag: Option<u32>,
    link_flag: Option<u32>,
) -> Result<(EffectiveLimit, EffectiveLimit), WorkloadError> {
    let defaults = opentelemetry_sdk::trace::SpanLimits::default();
    let sdk = Config::default().span_limits;
    let one = |name: &str, flag: Option<u32>, default: u32, derived: u32| {
        let env = std::env::var_os(name).map(|v| v.to_string_lossy().into_owned());
        let resolved = resolve_limit_of(name, flag, env.as_deref(), default);
        if flag.is_none() && derived != resolved.limit {
            return Err(WorkloadError::Failed(format!(
                "the OTel SDK derives {derived} from {name}, tare expected {}",
                resolved.limit
            )));
        }
        Ok(resolved)
    };
    Ok((
        one(
            ENV_ATTRIBUTE_LIMIT,
            attribute_flag,
            defaults.max_attributes_per_span,
            sdk.max_attributes_per_span,
        )?,
        one(
            ENV_LINK_LIMIT,
            link_flag,
            defaults.max_links_per_span,
            sdk.max_links_per_span,
        )?,
    ))
}

/// An exporter that keeps finished spans in memory (shared between clones).
#[derive(Debug, Clone, Default)]
pub struct CollectingExporter {
    spans: Arc<Mutex<Vec<SpanData>>>,
}

impl CollectingExporter {
    /// Takes every span exported so far.
    pub fn take(&self) -> Vec<SpanData> {
        match self.spans.lock() {
            Ok(mut v) => std::mem::take(&mut *v),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        }
    }
}

impl SpanExporter for CollectingExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        match self.spans.lock() {
            Ok(mut v) => v.extend(batch),
            Err(poisoned) => poisoned.into_inner().extend(batch),
        }
        Ok(())
    }
}

/// An exporter for the burst: it holds every export until [`HeldExporter::open`] (or a minute),
/// as an exporter busy on a slow network would, so the batch processor's queue fills instead
/// of the worker thread draining it as fast as the burst fills it (an in-memory exporter on
/// the other core keeps up with a 5,000-span burst, and what it loses then depends on
/// scheduling). What survives: the queue (2048) plus the one export batch (up to 512) the
/// worker took out of it before the burst ended, which depends on when the worker woke.
/// Then it passes the spans to a [`CollectingExporter`].
#[derive(Debug, Clone)]
pub struct HeldExporter {
    inner: CollectingExporter,
    gate: Arc<(Mutex<bool>, std::sync::Condvar)>,
}

impl HeldExporter {
    pub fn new(inner: CollectingExporter) -> Self {
        HeldExporter {
            inner,
            gate: Arc::new((Mutex::new(false), std::sync::Condvar::new())),
        }
    }

    /// Lets every held and later export through.
    pub fn open(&self) {
        let (lock, cvar) = &*self.gate;
        match lock.lock() {
            Ok(mut open) => *open = true,
            Err(poisoned) => *poisoned.into_inner() = true,
        }
        cvar.notify_all();
    }

    fn wait(&self) {
        let (lock, cvar) = &*self.gate;
        let Ok(guard) = lock.lock() else { return };
        let _ = cvar.wait_timeout_while(guard, std::time::Duration::from_secs(60), |open| !*open);
    }
}

impl SpanExporter for HeldExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.wait();
        self.inner.export(batch).await
    }
}

/// The resource of the workload's spans: `service.name` and the SDK's `telemetry.sdk.*`.
/// Deliberately not the environment detectors (`OTEL_RESOURCE_ATTRIBUTES`,
/// `OTEL_SERVICE_NAME`): trace files go into archives, and environment values never do.
pub fn resource() -> Resource {
    Resource::builder_empty()
        .with_detector(Box::new(TelemetryResourceDetector))
        .with_service_name(SERVICE_NAME)
        .build()
}

/// What to emit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanPlan {
    /// Events on the root span (N).
    pub events: u64,
    /// `--span-event-limit`.
    pub limit_flag: Option<u32>,
    /// Bytes of a `tare.sweep.payload` string attribute on each event (0 = none).
    pub payload_bytes: usize,
    /// Attributes for the root span (the workload's knobs).
    pub root_attributes: Vec<(String, i64)>,
    /// Indexed attributes `tare.sweep.attr.<i>` on the root span (N).
    pub attributes: u64,
    /// `--span-attribute-limit`.
    pub attribute_limit_flag: Option<u32>,
    /// Indexed links on the root span (N).
    pub links: u64,
    /// `--span-link-limit`.
    pub link_limit_flag: Option<u32>,
    /// Child spans ended in a burst through the batch span processor (N).
    pub spans: u64,
}

/// A running tracer provider with its root span open.
pub struct Tracing {
    provider: SdkTracerProvider,
    exporter: CollectingExporter,
    resource: Resource,
    root: opentelemetry_sdk::trace::Span,
    /// The limit in force.
    pub limit: EffectiveLimit,
    /// The attribute-count and link limits in force.
    pub attribute_limit: EffectiveLimit,
    pub link_limit: EffectiveLimit,
}

/// What the SDK let through.
#[derive(Debug)]
pub struct SpanOutcome {
    pub emitted: u64,
    /// Sweep indexes on the finished root span, in SDK order.
    pub retained_indexes: Vec<u64>,
    /// `dropped_count` of the root span's events.
    pub dropped: u64,
    pub limit: EffectiveLimit,
    pub attribute_limit: EffectiveLimit,
    pub link_limit: EffectiveLimit,
    /// Attributes, links and burst spans kept, from the finished spans (not from OTLP).
    pub limits: SpanLimitsFidelity,
    /// Every finished span, for the trace file.
    pub spans: Vec<SpanData>,
    pub resource: Resource,
}

impl Tracing {
    /// Builds the SDK's tracer provider and opens the root span.
    pub fn start(plan: &SpanPlan) -> Result<Tracing, WorkloadError> {
        let limit = effective_limit(plan.limit_flag)?;
        let (attribute_limit, link_limit) =
            other_limits(plan.attribute_limit_flag, plan.link_limit_flag)?;
        let exporter = CollectingExporter::default();
        let resource = resource();
        // builder() starts from Config::default(), which applies OTEL_SPAN_EVENT_COUNT_LIMIT;
        // only the flag overrides it. AlwaysOn: the workload's span must be recorded to be
        // measured, whatever OTEL_TRACES_SAMPLER says.
        let mut builder = SdkTracerProvider::builder()
            .with_sampler(Sampler::AlwaysOn)
            .with_resource(resource.clone())
            .with_simple_exporter(exporter.clone());
        if let Some(l) = plan.limit_flag {
            builder = builder.with_max_events_per_span(l);
        }
        if let Some(l) = plan.attribute_limit_flag {
            builder = builder.with_max_attributes_per_span(l);
        }
        if let Some(l) = plan.link_limit_flag {
            builder = builder.with_max_links_per_span(l);
        }
        let provider = builder.build();
        let tracer = provider.tracer(SCOPE_NAME);
        let mut attributes: Vec<KeyValue> = plan
            .root_attributes
            .iter()
            .map(|(k, v)| KeyValue::new(k.clone(), *v))
            .collect();
        attributes.push(KeyValue::new(
            "tare.sweep.span_event_limit",
            i64::from(limit.limit),
        ));
        attributes.push(KeyValue::new(
            "tare.sweep.span_event_limit_source",
            limit_source_name(limit.source),
        ));
        // Only when asked for, so traces of the other knobs stay as they were.
        for (n, key, l) in [
            (plan.attributes, ATTRIBUTE_LIMIT_KEY, &attribute_limit),
            (plan.links, LINK_LIMIT_KEY, &link_limit),
        ] {
            if n > 0 {
                attributes.push(KeyValue::new(key, i64::from(l.limit)));
                attributes.push(KeyValue::new(
                    format!("{key}_source"),
                    limit_source_name(l.source),
                ));
            }
        }
        let root = tracer
            .span_builder(ROOT_SPAN_NAME)
            .with_attributes(attributes)
            .start(&tracer);
        Ok(Tracing {
            provider,
            exporter,
            resource,
            root,
            limit,
            attribute_limit,
            link_limit,
        })
    }

    /// Adds the N indexed events to the root span.
    pub fn emit(&mut self, plan: &SpanPlan) {
        // Shared (Arc), so a clone per event costs the workload nothing but a count.
        let payload: Option<Value> = (plan.payload_bytes > 0).then(|| {
            let shared: std::sync::Arc<str> = event_payload(plan.payload_bytes).into();
            Value::String(shared.into())
        });
        for i in 0..plan.events {
            // Indexes past i64::MAX cannot be emitted; the CLI caps N far below that.
            let index = i64::try_from(i).unwrap_or(i64::MAX);
            let mut attrs = vec![KeyValue::new(SPAN_INDEX_KEY, index)];
            if let Some(p) = &payload {
                attrs.push(KeyValue::new(PAYLOAD_KEY, p.clone()));
            }
            self.root.add_event(Cow::Borrowed(SPAN_EVENT_NAME), attrs);
        }
        // After the root's own knob attributes: the Rust SDK keeps the first, so those stay.
        for i in 0..plan.attributes {
            self.root
                .set_attribute(KeyValue::new(attr_key(i), index_value(i)));
        }
        for i in 0..plan.links {
            self.root.add_link(
                link_target(i),
                vec![KeyValue::new(SPAN_INDEX_KEY, index_value(i))],
            );
        }
    }

    /// Ends N child spans of the root back to back through a second provider whose processor
    /// is the SDK's batch span processor (default configuration), whose exporter holds its
    /// exports until the burst has ended ([`HeldExporter`]); then shuts it down (which exports
    /// whatever the queue holds).
    pub fn burst(&self, plan: &SpanPlan) -> Result<(), WorkloadError> {
        if plan.spans == 0 {
            return Ok(());
        }
        let held = HeldExporter::new(self.exporter.clone());
        let provider = SdkTracerProvider::builder()
            .with_sampler(Sampler::AlwaysOn)
            .with_resource(self.resource.clone())
            .with_batch_exporter(held.clone())
            .build();
        let tracer = provider.tracer(SCOPE_NAME);
        let parent = opentelemetry::Context::new()
            .with_remote_span_context(self.root.span_context().clone());
        for i in 0..plan.spans {
            let mut span = tracer
                .span_builder(BURST_SPAN_NAME)
                .with_attributes(vec![KeyValue::new(SPAN_INDEX_KEY, index_value(i))])
                .start_with_context(&tracer, &parent);
            span.end();
        }
        held.open();
        provider.shutdown().map_err(|e| {
            WorkloadError::Failed(format!(
                "the OTel SDK's batch processor failed to shut down: {e}"
            ))
        })
    }

    /// Ends the root span, shuts the provider down and returns what was exported.
    pub fn finish(mut self, plan: &SpanPlan) -> Result<SpanOutcome, WorkloadError> {
        let emitted = plan.events;
        self.root.end();
        self.provider
            .shutdown()
            .map_err(|e| WorkloadError::Failed(format!("the OTel SDK failed to shut down: {e}")))?;
        let spans = self.exporter.take();
        let root = spans
            .iter()
            .find(|s| {
                s.name == ROOT_SPAN_NAME
                    && s.parent_span_id == opentelemetry::trace::SpanId::INVALID
            })
            .ok_or_else(|| WorkloadError::Failed("the OTel SDK exported no root span".into()))?;
        let retained_indexes = root
            .events
            .iter()
            .filter(|e| e.name == SPAN_EVENT_NAME)
            .filter_map(|e| {
                e.attributes
                    .iter()
                    .find(|kv| kv.key.as_str() == SPAN_INDEX_KEY)
                    .and_then(|kv| match kv.value {
                        Value::I64(i) => u64::try_from(i).ok(),
                        _ => None,
                    })
            })
            .collect();
        let dropped = u64::from(root.events.dropped_count);
        let limits = limits_of(&spans, root, plan);
        Ok(SpanOutcome {
            emitted,
            retained_indexes,
            dropped,
            limit: self.limit,
            attribute_limit: self.attribute_limit,
            link_limit: self.link_limit,
            limits,
            spans,
            resource: self.resource,
        })
    }
}

/// What the finished spans kept of the indexed attributes, links and burst spans, with the
/// SDK's own counts from `SpanData` (none for whole spans: the Rust SDK does not expose it).
fn limits_of(spans: &[SpanData], root: &SpanData, plan: &SpanPlan) -> SpanLimitsFidelity {
    let attributes = (plan.attributes > 0).then(|| {
        let kept = root
            .attributes
            .iter()
            .filter_map(|kv| attr_index(kv.key.as_str()))
            .collect();
        limit_fidelity(
            plan.attributes,
            &kept,
            Some(u64::from(root.dropped_attributes_count)),
        )
    });
    let links = (plan.links > 0).then(|| {
        let kept = root
            .links
            .links
            .iter()
            .filter_map(|l| index_in(&l.attributes))
            .collect();
        limit_fidelity(plan.links, &kept, Some(u64::from(root.links.dropped_count)))
    });
    let burst = (plan.spans > 0).then(|| {
        let kept = spans
            .iter()
            .filter(|s| s.name == BURST_SPAN_NAME)
            .filter_map(|s| index_in(&s.attributes))
            .collect();
        limit_fidelity(plan.spans, &kept, None)
    });
    SpanLimitsFidelity {
        attributes,
        links,
        spans: burst,
    }
}

fn index_in(attributes: &[KeyValue]) -> Option<u64> {
    attributes
        .iter()
        .find(|kv| kv.key.as_str() == SPAN_INDEX_KEY)
        .and_then(|kv| match kv.value {
            Value::I64(i) => u64::try_from(i).ok(),
            _ => None,
        })
}

/// Index `i` as an attribute value (the CLI caps N far below i64::MAX).
fn index_value(i: u64) -> i64 {
    i64::try_from(i).unwrap_or(i64::MAX)
}

/// A deterministic, valid span context for link `i`: trace id `7461726500..i+1`, span id i+1.
fn link_target(i: u64) -> SpanContext {
    let trace = (0x7461_7265_u128 << 96) | (u128::from(i) + 1);
    SpanContext::new(
        TraceId::from(trace),
        SpanId::from(i.wrapping_add(1).max(1)),
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    )
}

/// `default`, `env` or `flag`.
pub fn limit_source_name(source: LimitSource) -> &'static str {
    match source {
        LimitSource::Default => "default",
        LimitSource::Env => "env",
        LimitSource::Flag => "flag",
    }
}

/// A deterministic printable payload of `bytes` bytes.
pub fn event_payload(bytes: usize) -> String {
    "tare.sweep.payload;".chars().cycle().take(bytes).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_resolution_follows_the_sdk_order() {
        let d = 128;
        assert_eq!(
            resolve_limit(Some(50), Some("64"), d),
            EffectiveLimit {
                limit: 50,
                source: LimitSource::Flag,
                note: None
            }
        );
        assert_eq!(resolve_limit(None, Some("64"), d).limit, 64);
        assert_eq!(resolve_limit(None, Some("64"), d).source, LimitSource::Env);
        assert_eq!(resolve_limit(None, Some("0"), d).limit, 0);
        assert_eq!(resolve_limit(None, None, d).source, LimitSource::Default);
        for bad in [" 64", "64 ", "-1", "sixty", "", "4294967296"] {
            let r = resolve_limit(None, Some(bad), d);
            assert_eq!((r.limit, r.source), (d, LimitSource::Default), "{bad:?}");
            assert!(r.note.is_some_and(|n| n.contains(ENV_EVENT_LIMIT)));
        }
    }

    #[test]
    fn sdk_default_is_128() {
        assert_eq!(sdk_default_limit(), 128);
    }

    #[test]
    fn payload_is_sized() {
        assert_eq!(event_payload(0), "");
        assert_eq!(event_payload(4), "tare");
        assert_eq!(event_payload(1000).len(), 1000);
    }
}
