//! Finished spans as OTLP JSON, through the official `opentelemetry-proto` types and serde.
//!
//! The shape is the OTel collector file exporter's: one object `{"resourceSpans": [...]}` a
//! line, camelCase keys, trace and span ids as lowercase hex, 64-bit integers (times,
//! `intValue`) as decimal strings, enums as numbers. `opentelemetry-proto` converts the SDK's
//! `SpanData` (events, `droppedEventsCount`, ...) and its `with-serde` feature writes the JSON
//! Protobuf encoding, so no field is hand-made here. Resource attributes are sorted by key
//! (the SDK keeps them in a hash map), so equal runs write equal resources.

use std::io::Write;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::trace::SpanData;
use opentelemetry_sdk::Resource;

/// The OTLP request (== `TracesData` in JSON) for these spans of one resource.
pub fn to_request(spans: Vec<SpanData>, resource: &Resource) -> ExportTraceServiceRequest {
    let resource = ResourceAttributesWithSchema::from(resource);
    let mut resource_spans = group_spans_by_resource_and_scope(spans, &resource);
    for rs in &mut resource_spans {
        if let Some(r) = rs.resource.as_mut() {
            r.attributes.sort_by(|a, b| a.key.cmp(&b.key));
        }
    }
    ExportTraceServiceRequest { resource_spans }
}

/// Writes the spans as one OTLP JSON line to `out`; returns the bytes written.
pub fn write<W: Write>(
    out: &mut W,
    spans: Vec<SpanData>,
    resource: &Resource,
) -> std::io::Result<u64> {
    let request = to_request(spans, resource);
    let mut text = serde_json::to_vec(&request).map_err(std::io::Error::other)?;
    text.push(b'\n');
    out.write_all(&text)?;
    Ok(text.len() as u64)
}
