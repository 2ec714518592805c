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
//! Past the limit, `opentelemetry_sdk` 0.33 keeps the FIRST `limit` events and drops every
//! later one, counting them in `SpanEvents::dropped_count` (OTLP `droppedEventsCount`): the
//! retained indexes are `0..limit`, pattern `oldest_kept`. The OTel JS and Python SDKs do the
//! opposite (they evict the oldest and keep the newest). `tests/workload_spans.rs` asserts
//! both against the real SDKs.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};

use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::resource::TelemetryResourceDetector;
use opentelemetry_sdk::trace::{Config, Sampler, SdkTracerProvider, SpanData, SpanExporter};
use opentelemetry_sdk::Resource;
use report_model::analysis::retention::{SPAN_EVENT_NAME, SPAN_INDEX_KEY};
use report_model::schema::sample::LimitSource;

use super::WorkloadError;

/// The environment variable the OTel SDKs read for the span-event limit.
pub const ENV_EVENT_LIMIT: &str = "OTEL_SPAN_EVENT_COUNT_LIMIT";
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
                "{ENV_EVENT_LIMIT} is set but is not an unsigned 32-bit integer as the SDK parses it (no spaces); the SDK ignores it and uses its default {default}"
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
}

/// A running tracer provider with its root span open.
pub struct Tracing {
    provider: SdkTracerProvider,
    exporter: CollectingExporter,
    resource: Resource,
    root: opentelemetry_sdk::trace::Span,
    /// The limit in force.
    pub limit: EffectiveLimit,
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
    /// Every finished span, for the trace file.
    pub spans: Vec<SpanData>,
    pub resource: Resource,
}

impl Tracing {
    /// Builds the SDK's tracer provider and opens the root span.
    pub fn start(plan: &SpanPlan) -> Result<Tracing, WorkloadError> {
        let limit = effective_limit(plan.limit_flag)?;
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
    }

    /// Ends the root span, shuts the provider down and returns what was exported.
    pub fn finish(mut self, emitted: u64) -> Result<SpanOutcome, WorkloadError> {
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
        Ok(SpanOutcome {
            emitted,
            retained_indexes,
            dropped,
            limit: self.limit,
            spans,
            resource: self.resource,
        })
    }
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
