//! OTLP JSON traces (the OTel collector file exporter shape), read for span-event fidelity.
//!
//! Only what tare reads is typed: resource and scope spans, spans, their events, links,
//! attributes, dropped counts, kind and status. Every other field (flags, trace state, ...)
//! is ignored, so traces written by any SDK or collector version parse. The JSON Protobuf
//! encoding allows 64-bit integers as strings or numbers (`"intValue": "5"` or `5`); both are
//! read, and so are 32-bit counts written either way. Enums (`kind`, `status.code`) are read
//! as names (`"SPAN_KIND_SERVER"`) or numbers (`2`). The pre-1.0 shape,
//! `instrumentationLibrarySpans` with `instrumentationLibrary`, reads as `scopeSpans` with
//! `scope`. Ids are kept as written (hex in OTLP JSON, base64 from protobuf's own JSON);
//! [`id_hex`] normalises them.
//!
//! OTLP JSON has no `schema` field, so [`parse_otlp_json`] is its own reader; errors are
//! [`ModelError::Field`] naming the file and the JSON path of the bad field. A file may hold
//! one `{"resourceSpans": [...]}` object or several, one after another (the collector's file
//! exporter appends one per export batch); their resource spans are concatenated.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use crate::error::ModelError;

/// A whole trace file: `{"resourceSpans": [...]}` (OTLP `TracesData`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TracesData {
    pub resource_spans: Vec<ResourceSpans>,
}

/// Spans of one resource (one process, usually).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ResourceSpans {
    pub resource: Option<Resource>,
    /// Also read from the legacy `instrumentationLibrarySpans`.
    #[serde(alias = "instrumentationLibrarySpans")]
    pub scope_spans: Vec<ScopeSpans>,
    pub schema_url: String,
}

/// The resource's attributes (`service.name`, `telemetry.sdk.*`, ...).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Resource {
    pub attributes: Vec<KeyValue>,
    #[serde(deserialize_with = "de_u32")]
    pub dropped_attributes_count: u32,
}

/// Spans of one instrumentation scope (tracer).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ScopeSpans {
    /// Also read from the legacy `instrumentationLibrary`.
    #[serde(alias = "instrumentationLibrary")]
    pub scope: Option<InstrumentationScope>,
    pub spans: Vec<Span>,
    pub schema_url: String,
}

/// The tracer that made the spans.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct InstrumentationScope {
    pub name: String,
    pub version: String,
    pub attributes: Vec<KeyValue>,
}

/// One span, with the fields tare reads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Span {
    /// Hex, 32 digits (as written: see [`id_hex`]).
    pub trace_id: String,
    /// Hex, 16 digits (as written: see [`id_hex`]).
    pub span_id: String,
    /// Hex, or empty for a root span (as written: see [`id_hex`]).
    pub parent_span_id: String,
    pub name: String,
    /// `SpanKind` as a number (0 unspecified, 1 internal, 2 server, 3 client, 4 producer,
    /// 5 consumer); read from a name or a number.
    #[serde(deserialize_with = "de_span_kind", skip_serializing_if = "is_zero_i32")]
    pub kind: i32,
    #[serde(deserialize_with = "de_u64", serialize_with = "ser_u64")]
    pub start_time_unix_nano: u64,
    #[serde(deserialize_with = "de_u64", serialize_with = "ser_u64")]
    pub end_time_unix_nano: u64,
    pub attributes: Vec<KeyValue>,
    /// Attributes the SDK dropped because of its span limits.
    #[serde(deserialize_with = "de_u32")]
    pub dropped_attributes_count: u32,
    pub events: Vec<Event>,
    /// Events the SDK dropped because of its span limits.
    #[serde(deserialize_with = "de_u32")]
    pub dropped_events_count: u32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    /// Links the SDK dropped because of its span limits.
    #[serde(deserialize_with = "de_u32", skip_serializing_if = "is_zero_u32")]
    pub dropped_links_count: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
}

/// A link from a span to another span.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Link {
    pub trace_id: String,
    pub span_id: String,
    pub attributes: Vec<KeyValue>,
    #[serde(deserialize_with = "de_u32")]
    pub dropped_attributes_count: u32,
}

/// A span's status.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Status {
    pub message: String,
    /// `StatusCode` as a number (0 unset, 1 ok, 2 error); read from a name or a number.
    #[serde(deserialize_with = "de_status_code")]
    pub code: i32,
}

/// A span event.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Event {
    #[serde(deserialize_with = "de_u64", serialize_with = "ser_u64")]
    pub time_unix_nano: u64,
    pub name: String,
    pub attributes: Vec<KeyValue>,
    #[serde(deserialize_with = "de_u32")]
    pub dropped_attributes_count: u32,
}

/// An attribute.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct KeyValue {
    pub key: String,
    pub value: Option<AnyValue>,
}

/// An attribute value: at most one field is set (none for an empty value).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AnyValue {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub string_value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bool_value: Option<bool>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de_opt_i64",
        serialize_with = "ser_opt_i64"
    )]
    pub int_value: Option<i64>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de_opt_f64"
    )]
    pub double_value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub array_value: Option<ArrayValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kvlist_value: Option<KeyValueList>,
    /// Base64, as OTLP JSON writes bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_value: Option<String>,
}

/// `arrayValue`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ArrayValue {
    pub values: Vec<AnyValue>,
}

/// `kvlistValue`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct KeyValueList {
    pub values: Vec<KeyValue>,
}

impl TracesData {
    /// Every span of every resource and scope, in file order.
    pub fn spans(&self) -> impl Iterator<Item = &Span> {
        self.resource_spans
            .iter()
            .flat_map(|r| r.scope_spans.iter())
            .flat_map(|s| s.spans.iter())
    }

    /// Sum of `droppedEventsCount` over all spans.
    pub fn dropped_events(&self) -> u64 {
        self.spans()
            .map(|s| u64::from(s.dropped_events_count))
            .sum()
    }
}

/// An id (`traceId`: 16 bytes, `spanId`/`parentSpanId`: 8) as lower-case hex: from hex (OTLP
/// JSON, any case) or from base64 with or without padding, standard or URL-safe (protobuf's
/// own JSON of the `bytes` field, as `json_format` writes it). `None` when it is neither.
pub fn id_hex(raw: &str, bytes: usize) -> Option<String> {
    let raw = raw.trim();
    if raw.len() == 2 * bytes && raw.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Some(raw.to_ascii_lowercase());
    }
    let decoded = base64_decode(raw)?;
    (decoded.len() == bytes).then(|| crate::bundle::hex(&decoded))
}

/// Base64 (standard or URL-safe alphabet, padding optional) to bytes; `None` if malformed.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for b in s.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // Leftover bits must be padding zeros, and a single leftover character is not base64.
    (acc == 0 && bits < 6).then_some(out)
}

/// The value of the attribute `key`, if present, from a list of attributes.
pub fn attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a AnyValue> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
}

impl Span {
    /// The value of the span attribute `key`.
    pub fn attribute(&self, key: &str) -> Option<&AnyValue> {
        attribute(&self.attributes, key)
    }
}

impl Event {
    /// The value of the event attribute `key`.
    pub fn attribute(&self, key: &str) -> Option<&AnyValue> {
        attribute(&self.attributes, key)
    }
}

impl AnyValue {
    /// The value as a whole number: `intValue`, or a `doubleValue` with no fraction (the JS
    /// SDK writes JavaScript numbers that way when they are not safe integers).
    pub fn as_i64(&self) -> Option<i64> {
        if let Some(i) = self.int_value {
            return Some(i);
        }
        match self.double_value {
            Some(d) if d.fract() == 0.0 && d >= i64::MIN as f64 && d <= i64::MAX as f64 => {
                Some(d as i64)
            }
            _ => None,
        }
    }

    /// The value as a string, if it is a `stringValue`.
    pub fn as_str(&self) -> Option<&str> {
        self.string_value.as_deref()
    }
}

/// Reads an OTLP JSON trace file: one or more `{"resourceSpans": [...]}` objects.
///
/// `file` names the file in errors. Unknown fields are ignored; a field of the wrong shape is
/// a [`ModelError::Field`] with its JSON path (prefixed with `object N: ` when the file holds
/// more than one object).
pub fn parse_otlp_json(file: &str, text: &str) -> Result<TracesData, ModelError> {
    let mut values = Vec::new();
    for value in serde_json::Deserializer::from_str(text).into_iter::<serde_json::Value>() {
        let value = value.map_err(|e| ModelError::Field {
            file: file.into(),
            field: "(top level)".into(),
            problem: format!("not valid JSON: {e}"),
        })?;
        values.push(value);
    }
    if values.is_empty() {
        return Err(ModelError::Field {
            file: file.into(),
            field: "(top level)".into(),
            problem: "empty: expected an OTLP JSON object {\"resourceSpans\": [...]}".into(),
        });
    }
    let many = values.len() > 1;
    let mut out = TracesData::default();
    for (i, value) in values.into_iter().enumerate() {
        if !value.is_object() {
            return Err(ModelError::Field {
                file: file.into(),
                field: if many {
                    format!("object {}", i + 1)
                } else {
                    "(top level)".into()
                },
                problem: "expected an OTLP JSON object {\"resourceSpans\": [...]}".into(),
            });
        }
        let part: TracesData = serde_path_to_error::deserialize(value).map_err(|e| {
            let mut err = super::version::field_error(file, e);
            if let (true, ModelError::Field { field, .. }) = (many, &mut err) {
                *field = format!("object {}: {}", i + 1, field);
            }
            err
        })?;
        out.resource_spans.extend(part.resource_spans);
    }
    Ok(out)
}

/// Serialises as the collector's file exporter does: one compact object and a newline.
pub fn to_otlp_json(file: &str, trace: &TracesData) -> Result<String, ModelError> {
    let mut s = serde_json::to_string(trace).map_err(|e| ModelError::Field {
        file: file.into(),
        field: "(top level)".into(),
        problem: format!("cannot be written as JSON: {e}"),
    })?;
    s.push('\n');
    Ok(s)
}

struct IntVisitor;

impl Visitor<'_> for IntVisitor {
    type Value = i64;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a 64-bit integer, as a JSON number or a decimal string")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| E::custom(format!("{v} is out of range for int64")))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
        v.trim()
            .parse()
            .map_err(|_| E::custom(format!("\"{v}\" is not a 64-bit integer")))
    }
}

struct UintVisitor;

impl Visitor<'_> for UintVisitor {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an unsigned 64-bit integer, as a JSON number or a decimal string")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
        u64::try_from(v).map_err(|_| E::custom(format!("{v} is negative")))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
        Ok(v)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
        v.trim()
            .parse()
            .map_err(|_| E::custom(format!("\"{v}\" is not an unsigned 64-bit integer")))
    }

    fn visit_unit<E: de::Error>(self) -> Result<u64, E> {
        Ok(0)
    }
}

/// An enum read from its proto name or its number; an unknown name reads as 0 (unspecified),
/// as a proto3 JSON reader that ignores unknown values would.
struct EnumVisitor(&'static [&'static str]);

impl Visitor<'_> for EnumVisitor {
    type Value = i32;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an enum, as a name or a number")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i32, E> {
        i32::try_from(v).map_err(|_| E::custom(format!("{v} is out of range for an enum")))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i32, E> {
        i32::try_from(v).map_err(|_| E::custom(format!("{v} is out of range for an enum")))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<i32, E> {
        let number = self.0.iter().position(|name| *name == v).unwrap_or(0);
        Ok(i32::try_from(number).unwrap_or(0))
    }

    fn visit_unit<E: de::Error>(self) -> Result<i32, E> {
        Ok(0)
    }
}

const SPAN_KINDS: &[&str] = &[
    "SPAN_KIND_UNSPECIFIED",
    "SPAN_KIND_INTERNAL",
    "SPAN_KIND_SERVER",
    "SPAN_KIND_CLIENT",
    "SPAN_KIND_PRODUCER",
    "SPAN_KIND_CONSUMER",
];

const STATUS_CODES: &[&str] = &["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"];

fn de_span_kind<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    d.deserialize_any(EnumVisitor(SPAN_KINDS))
}

fn de_status_code<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    d.deserialize_any(EnumVisitor(STATUS_CODES))
}

/// A 32-bit count: read as a 64-bit one (number or string), then range-checked.
fn de_u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let v = de_u64(d)?;
    u32::try_from(v).map_err(|_| de::Error::custom(format!("{v} is out of range for uint32")))
}

fn is_zero_i32(v: &i32) -> bool {
    *v == 0
}

fn is_zero_u32(v: &u32) -> bool {
    *v == 0
}

struct FloatVisitor;

impl Visitor<'_> for FloatVisitor {
    type Value = f64;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number, or \"NaN\", \"Infinity\", \"-Infinity\" or a decimal string")
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
        match v {
            "NaN" => Ok(f64::NAN),
            "Infinity" => Ok(f64::INFINITY),
            "-Infinity" => Ok(f64::NEG_INFINITY),
            _ => v
                .trim()
                .parse()
                .map_err(|_| E::custom(format!("\"{v}\" is not a number"))),
        }
    }
}

// OTLP JSON writes 64-bit integers as decimal strings.
fn ser_u64<S: serde::Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

fn ser_opt_i64<S: serde::Serializer>(v: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.collect_str(v),
        None => s.serialize_none(),
    }
}

fn de_u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    d.deserialize_any(UintVisitor)
}

fn de_opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Option::<IntOrString>::deserialize(d).map(|o| o.map(|v| v.0))
}

fn de_opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Option::<FloatOrString>::deserialize(d).map(|o| o.map(|v| v.0))
}

struct IntOrString(i64);

impl<'de> Deserialize<'de> for IntOrString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(IntVisitor).map(IntOrString)
    }
}

struct FloatOrString(f64);

impl<'de> Deserialize<'de> for FloatOrString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(FloatVisitor).map(FloatOrString)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLLECTOR_SHAPE: &str = r#"{"resourceSpans":[{"resource":{"attributes":[
        {"key":"service.name","value":{"stringValue":"w"}}]},
        "scopeSpans":[{"scope":{"name":"tare"},"spans":[{
          "traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
          "parentSpanId":"","name":"tare.workload","kind":1,
          "startTimeUnixNano":"1544712660000000000","endTimeUnixNano":1544712661000000000,
          "attributes":[{"key":"n","value":{"intValue":"3"}}],
          "events":[
            {"timeUnixNano":"1544712660300000000","name":"e","attributes":[
              {"key":"i","value":{"intValue":"7"}}]},
            {"timeUnixNano":"1544712660300000001","name":"e","attributes":[
              {"key":"i","value":{"intValue":8}},
              {"key":"d","value":{"doubleValue":"NaN"}},
              {"key":"empty","value":{}},
              {"key":"arr","value":{"arrayValue":{"values":[{"boolValue":true}]}}}]}],
          "droppedEventsCount":5,"links":[],"status":{"code":0},"futureField":{"x":1}}]}]}]}"#;

    #[test]
    fn reads_the_collector_shape_and_ignores_unknown_fields() {
        let t = parse_otlp_json("trace.json", COLLECTOR_SHAPE).expect("parses");
        let spans: Vec<&Span> = t.spans().collect();
        assert_eq!(spans.len(), 1);
        let s = spans[0];
        assert_eq!(s.name, "tare.workload");
        assert_eq!(s.start_time_unix_nano, 1_544_712_660_000_000_000);
        assert_eq!(s.end_time_unix_nano, 1_544_712_661_000_000_000);
        assert_eq!(s.attribute("n").and_then(AnyValue::as_i64), Some(3));
        assert_eq!(s.events.len(), 2);
        assert_eq!(
            s.events[0].attribute("i").and_then(AnyValue::as_i64),
            Some(7)
        );
        assert_eq!(
            s.events[1].attribute("i").and_then(AnyValue::as_i64),
            Some(8)
        );
        assert!(s.events[1]
            .attribute("d")
            .and_then(|v| v.double_value)
            .is_some_and(f64::is_nan));
        assert_eq!(s.events[1].attribute("empty"), Some(&AnyValue::default()));
        assert_eq!(t.dropped_events(), 5);
        let service = t.resource_spans[0]
            .resource
            .as_ref()
            .and_then(|r| attribute(&r.attributes, "service.name"))
            .and_then(AnyValue::as_str);
        assert_eq!(service, Some("w"));
    }

    #[test]
    fn concatenated_objects_are_merged() {
        let one = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"a"}]}]}]}"#;
        let text = format!("{one}\n{one}\n");
        let t = parse_otlp_json("t.json", &text).expect("parses");
        assert_eq!(t.spans().count(), 2);
    }

    #[test]
    fn a_bad_field_is_named_with_its_path() {
        let bad = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"a",
            "events":[{"name":"e","attributes":[{"key":"i","value":{"intValue":"x"}}]}]}]}]}]}"#;
        let err = parse_otlp_json("trace.json", bad).expect_err("must fail");
        match err {
            ModelError::Field {
                file,
                field,
                problem,
            } => {
                assert_eq!(file, "trace.json");
                assert_eq!(
                    field,
                    "resourceSpans[0].scopeSpans[0].spans[0].events[0].attributes[0].value.intValue"
                );
                assert!(problem.contains("not a 64-bit integer"), "{problem}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_bad_field_in_a_later_object_names_the_object() {
        let good = r#"{"resourceSpans":[]}"#;
        let bad = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":"-1"}]}]}]}"#;
        let err = parse_otlp_json("t.json", &format!("{good}\n{bad}")).expect_err("must fail");
        let ModelError::Field { field, .. } = err else {
            panic!("expected a field error");
        };
        assert_eq!(
            field,
            "object 2: resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano"
        );
    }

    #[test]
    fn not_json_and_empty_and_not_an_object_are_clear() {
        for (text, needle) in [
            ("{\"resourceSpans\": [", "not valid JSON"),
            ("", "empty"),
            ("   \n", "empty"),
            ("[1,2]", "expected an OTLP JSON object"),
        ] {
            let err = parse_otlp_json("x.json", text).expect_err("must fail");
            assert!(err.to_string().starts_with("x.json: field `"), "{err}");
            assert!(err.to_string().contains(needle), "{text:?}: {err}");
        }
    }

    #[test]
    fn written_json_reads_back() {
        let t = parse_otlp_json("t.json", COLLECTOR_SHAPE).expect("parses");
        let text = to_otlp_json("t.json", &t).expect("writes");
        assert!(text.ends_with("}\n"));
        assert!(text.starts_with("{\"resourceSpans\":["));
        assert!(text.contains("\"startTimeUnixNano\":\"1544712660000000000\""));
        assert!(text.contains("{\"intValue\":\"7\"}"));
        let back = parse_otlp_json("t.json", &text).expect("reads back");
        // NaN != NaN, so compare the parts that are not NaN.
        assert_eq!(back.spans().count(), 1);
        assert_eq!(back.dropped_events(), 5);
        assert_eq!(
            back.spans().next().map(|s| s.events.len()),
            Some(t.spans().next().map_or(0, |s| s.events.len()))
        );
    }
}
