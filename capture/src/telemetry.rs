//! tare's own spans: a Chrome trace file (`--trace-chrome`), OTLP export (`--otlp-endpoint`), or no subscriber at all.
//!
//! With neither flag nothing is installed: every `tracing` span in tare is then a disabled
//! callsite (one relaxed atomic load), which is what "telemetry off costs nothing" means.
//! Only spans whose target starts with `tare` reach the layers, so the HTTP client's own
//! instrumentation can never feed back into the export.
//!
//! OTLP: batch export over HTTP/protobuf with the service name `tare`. Headers come only
//! from `OTEL_EXPORTER_OTLP_HEADERS` (or `OTEL_EXPORTER_OTLP_TRACES_HEADERS`), which the
//! exporter reads itself: tare never takes them from argv or files, never prints them, and
//! never writes them anywhere. A failing endpoint gives one warning on stderr and is
//! otherwise ignored; the final flush waits at most [`EXPORT_TIMEOUT`] (plus a margin).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry::{KeyValue, Value};
use opentelemetry_otlp::{Protocol, RetryPolicy, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracerProvider, SpanData, SpanExporter};
use opentelemetry_sdk::Resource;
use tracing::Subscriber;
use tracing_chrome::{ChromeLayerBuilder, EventOrSpan, FlushGuard};
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// How long one OTLP export may take (connect, send, answer, retries included).
pub const EXPORT_TIMEOUT: Duration = Duration::from_secs(2);
/// The service name of tare's spans.
pub const SERVICE_NAME: &str = "tare";
/// Span name of a capture phase (see `phases.rs`); exported under the phase's own name.
const PHASE_SPAN: &str = "phase";
const PHASE_TARGET: &str = "tare::phase";

/// What the global flags ask for.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--trace-chrome FILE`.
    pub trace_chrome: Option<PathBuf>,
    /// `--otlp-endpoint URL`.
    pub otlp_endpoint: Option<String>,
}

impl Options {
    /// Whether any telemetry was asked for.
    pub fn any(&self) -> bool {
        self.trace_chrome.is_some() || self.otlp_endpoint.is_some()
    }
}

/// Bad telemetry flags: reported before anything runs (exit status 2).
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("--trace-chrome {path}: cannot create the file: {source}")]
    ChromeFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("--otlp-endpoint {0}")]
    Endpoint(String),
    #[error("cannot install the telemetry subscriber: {0}")]
    Install(String),
}

// ---------------------------------------------------------------------------
// Pure part
// ---------------------------------------------------------------------------

/// The traces URL for `--otlp-endpoint`: `http(s)://host[:port]` gets the OTLP/HTTP
/// path `/v1/traces`; a URL that already has a path is used as it is.
pub fn traces_url(endpoint: &str) -> Result<String, String> {
    let e = endpoint.trim();
    let rest = e
        .strip_prefix("http://")
        .or_else(|| e.strip_prefix("https://"))
        .ok_or_else(|| {
            format!(
                "{}: use an http:// or https:// URL, e.g. http://localhost:4318",
                redact_url(e)
            )
        })?;
    if !cfg!(feature = "https") && e.starts_with("https://") {
        return Err(format!(
            "{}: this tare was built without TLS (a static build, without the `https` \
             feature): give an http:// endpoint, such as a local collector, or use a default build",
            redact_url(e)
        ));
    }
    let (authority, path) = match rest.find(['/', '?', '#']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let host = authority.rsplit('@').next().unwrap_or("");
    if host.is_empty() || host.starts_with(':') || e.chars().any(char::is_whitespace) {
        return Err(format!("{}: no host in the URL", redact_url(e)));
    }
    if path.is_empty() || path == "/" {
        Ok(format!("{}/v1/traces", e.trim_end_matches('/')))
    } else {
        Ok(e.to_string())
    }
}

/// A URL for messages: any `user:password@` is replaced by `***@`.
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = match url.find("://") {
        Some(i) => (&url[..i + 3], &url[i + 3..]),
        None => ("", url),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => format!("{scheme}***@{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

/// The values of an `OTEL_EXPORTER_OTLP_HEADERS`-style list (`k1=v1,k2=v2`), raw and
/// percent-decoded: what must never be printed.
pub fn header_values(list: &str) -> Vec<String> {
    let mut out = Vec::new();
    for pair in list.split(',') {
        if let Some((_, v)) = pair.split_once('=') {
            let v = v.trim();
            if !v.is_empty() {
                out.push(v.to_string());
                let decoded = percent_decode(v);
                if decoded != v {
                    out.push(decoded);
                }
            }
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `text` with every secret replaced by `***`.
pub fn redact(text: &str, secrets: &[String]) -> String {
    let mut t = text.to_string();
    for s in secrets.iter().filter(|s| !s.is_empty()) {
        t = t.replace(s.as_str(), "***");
    }
    t
}

/// The name a span is shown under: a capture phase by its phase name, any other span by
/// its own.
pub fn display_name<'a>(span_name: &'a str, phase_name: Option<&'a str>) -> &'a str {
    match phase_name {
        Some(n) if span_name == PHASE_SPAN => n,
        _ => span_name,
    }
}

fn is_tare(target: &str) -> bool {
    target == "tare" || target.starts_with("tare::")
}

// ---------------------------------------------------------------------------
// Layers
// ---------------------------------------------------------------------------

/// The `name` field of a phase span, kept in the span's extensions for the Chrome layer.
struct PhaseName(String);

/// Stores [`PhaseName`] when a phase span is created.
struct PhaseNames;

impl<S> Layer<S> for PhaseNames
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        if attrs.metadata().target() != PHASE_TARGET {
            return;
        }
        struct Visit(Option<String>);
        impl tracing::field::Visit for Visit {
            fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
                if field.name() == "name" {
                    self.0 = Some(value.to_string());
                }
            }
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "name" {
                    self.0 = Some(format!("{value:?}"));
                }
            }
        }
        let mut v = Visit(None);
        attrs.record(&mut v);
        if let (Some(name), Some(span)) = (v.0, ctx.span(id)) {
            span.extensions_mut().insert(PhaseName(name));
        }
    }
}

fn chrome_name<S>(e: &EventOrSpan<'_, '_, S>) -> String
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
{
    match e {
        EventOrSpan::Span(s) => {
            let ext = s.extensions();
            let phase = ext.get::<PhaseName>().map(|p| p.0.as_str());
            display_name(s.name(), phase).to_string()
        }
        EventOrSpan::Event(ev) => ev.metadata().name().to_string(),
    }
}

/// The OTLP exporter, plus: phase spans renamed to their phase, and the first failure
/// reported once on stderr (headers and URL credentials redacted).
#[derive(Debug)]
struct TareExporter<E> {
    inner: E,
    endpoint: String,
    warned: Arc<AtomicBool>,
}

fn warn_once(warned: &AtomicBool, endpoint: &str, problem: &str) {
    if !warned.swap(true, Ordering::SeqCst) {
        let secrets = [
            "OTEL_EXPORTER_OTLP_HEADERS",
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
        ]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .flat_map(|l| header_values(&l))
        .collect::<Vec<_>>();
        crate::cli::out::error(&format!(
            "tare: warning: cannot export tare's spans to {endpoint}: {}; carrying on without them (further export errors are not shown)",
            redact(problem, &secrets)
        ));
    }
}

fn rename_phase(span: &mut SpanData) {
    if span.name != PHASE_SPAN || !is_tare(span.instrumentation_scope.name()) {
        return;
    }
    let phase = span
        .attributes
        .iter()
        .find_map(|kv| match (kv.key.as_str(), &kv.value) {
            ("name", Value::String(s)) => Some(s.as_str().to_string()),
            _ => None,
        });
    if let Some(p) = phase {
        span.name = p.into();
    }
}

impl<E: SpanExporter> SpanExporter for TareExporter<E> {
    async fn export(&self, mut batch: Vec<SpanData>) -> OTelSdkResult {
        batch.iter_mut().for_each(rename_phase);
        let result = self.inner.export(batch).await;
        if let Err(e) = &result {
            warn_once(&self.warned, &self.endpoint, &e.to_string());
        }
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

// ---------------------------------------------------------------------------
// Setup
// ---------------------------------------------------------------------------

/// The installed telemetry; [`Telemetry::finish`] flushes it (also done on drop).
#[must_use = "dropping it flushes and stops the telemetry"]
pub struct Telemetry {
    /// The Chrome trace's writer and what renames its file into place once it is closed.
    chrome: Option<(FlushGuard, crate::outfile::Streamed)>,
    otlp: Option<Otlp>,
}

struct Otlp {
    provider: SdkTracerProvider,
    endpoint: String,
    warned: Arc<AtomicBool>,
}

impl Telemetry {
    /// No telemetry.
    pub fn off() -> Self {
        Telemetry {
            chrome: None,
            otlp: None,
        }
    }

    /// Whether a subscriber was installed.
    pub fn is_on(&self) -> bool {
        self.chrome.is_some() || self.otlp.is_some()
    }

    /// Writes out the Chrome trace and sends the last OTLP batch (waiting at most a little
    /// over [`EXPORT_TIMEOUT`]). Call it after the root span has closed.
    pub fn finish(mut self) {
        self.flush();
    }

    fn flush(&mut self) {
        // Dropping the guard ends the writer thread, which closes the JSON array.
        if let Some((guard, file)) = self.chrome.take() {
            drop(guard);
            if let Err(e) = file.finish() {
                crate::cli::out::note(&format!("tare: warning: --trace-chrome: {e:#}"));
            }
        }
        if let Some(o) = self.otlp.take() {
            let limit = EXPORT_TIMEOUT + Duration::from_millis(500);
            if let Err(e) = o.provider.shutdown_with_timeout(limit) {
                let problem = match e {
                    opentelemetry_sdk::error::OTelSdkError::Timeout(_) => {
                        format!("the last export did not finish within {limit:?}")
                    }
                    other => other.to_string(),
                };
                warn_once(&o.warned, &o.endpoint, &problem);
            }
        }
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Installs the global subscriber the flags ask for; with none, installs nothing.
pub fn init(opts: &Options) -> Result<Telemetry, TelemetryError> {
    if !opts.any() {
        return Ok(Telemetry::off());
    }
    let traces_url = match &opts.otlp_endpoint {
        Some(e) => Some(traces_url(e).map_err(TelemetryError::Endpoint)?),
        None => None,
    };
    let (chrome_layer, chrome_guard) = match &opts.trace_chrome {
        Some(path) => {
            let (layer, guard) = chrome_layer(path)?;
            (Some(layer), Some(guard))
        }
        None => (None, None),
    };
    let otlp = traces_url.map(|url| otlp_provider(&url));
    let otel_layer = otlp.as_ref().map(|o| {
        tracing_opentelemetry::layer()
            .with_tracer(o.provider.tracer(SERVICE_NAME))
            .with_filter(filter_fn(|m| is_tare(m.target())))
    });
    let subscriber = tracing_subscriber::registry()
        .with(PhaseNames)
        .with(chrome_layer.map(|l| l.with_filter(filter_fn(|m| is_tare(m.target())))))
        .with(otel_layer);
    tracing::subscriber::set_global_default(subscriber)
        .map_err(|e| TelemetryError::Install(e.to_string()))?;
    Ok(Telemetry {
        chrome: chrome_guard,
        otlp,
    })
}

fn chrome_layer<S>(
    path: &Path,
) -> Result<
    (
        tracing_chrome::ChromeLayer<S>,
        (FlushGuard, crate::outfile::Streamed),
    ),
    TelemetryError,
>
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
{
    // Written beside its target under a temporary name, renamed over it at the end: never
    // through a link planted at the target.
    let (file, streamed) =
        crate::outfile::streamed(path).map_err(|source| TelemetryError::ChromeFile {
            path: path.to_path_buf(),
            source,
        })?;
    let (layer, guard) = ChromeLayerBuilder::new()
        .writer(std::io::BufWriter::new(file))
        .include_args(true)
        .include_locations(false)
        .name_fn(Box::new(chrome_name::<S>))
        .build();
    Ok((layer, (guard, streamed)))
}

fn otlp_provider(url: &str) -> Otlp {
    let endpoint = redact_url(url);
    let warned = Arc::new(AtomicBool::new(false));
    let resource = Resource::builder()
        .with_service_name(SERVICE_NAME)
        .with_attribute(KeyValue::new("service.version", crate::hostinfo::VERSION))
        .build();
    let mut builder = SdkTracerProvider::builder().with_resource(resource);
    // Headers: the exporter reads OTEL_EXPORTER_OTLP_HEADERS itself; nothing is added here.
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(url)
        .with_timeout(EXPORT_TIMEOUT)
        .with_retry_policy(
            RetryPolicy::recommended()
                .with_max_retries(1)
                .with_max_delay(Duration::from_millis(200)),
        )
        .build();
    match exporter {
        Ok(inner) => {
            let exporter = TareExporter {
                inner,
                endpoint: endpoint.clone(),
                warned: warned.clone(),
            };
            // The batch thread's own export timeout needs an SDK feature; the HTTP
            // client's timeout (EXPORT_TIMEOUT) bounds every export instead.
            builder = builder.with_span_processor(BatchSpanProcessor::builder(exporter).build());
        }
        Err(e) => warn_once(&warned, &endpoint, &e.to_string()),
    }
    Otlp {
        provider: builder.build(),
        endpoint,
        warned,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traces_urls() {
        assert_eq!(
            traces_url("http://localhost:4318").unwrap(),
            "http://localhost:4318/v1/traces"
        );
        if cfg!(feature = "https") {
            assert_eq!(
                traces_url("https://otel.example/").unwrap(),
                "https://otel.example/v1/traces"
            );
        } else {
            let e = traces_url("https://u:s3cret@otel.example/").unwrap_err();
            assert!(
                e.contains("built without TLS") && !e.contains("s3cret"),
                "{e}"
            );
        }
        assert_eq!(
            traces_url("http://127.0.0.1:9/custom/path").unwrap(),
            "http://127.0.0.1:9/custom/path"
        );
        for bad in [
            "localhost:4318",
            "ftp://x",
            "http://",
            "http://:4318",
            "http://a b",
        ] {
            assert!(traces_url(bad).is_err(), "{bad}");
        }
        let e = traces_url("grpc://user:s3cret@h").unwrap_err();
        assert!(!e.contains("s3cret"), "{e}");
    }

    #[test]
    fn redaction() {
        assert_eq!(
            redact_url("https://user:pw@host:1/v1/traces"),
            "https://***@host:1/v1/traces"
        );
        assert_eq!(redact_url("http://host/a@b"), "http://host/a@b");
        let secrets = header_values("authorization=Bearer%20tok123,x-team = blue ,bad");
        assert_eq!(secrets, ["Bearer%20tok123", "Bearer tok123", "blue"]);
        assert_eq!(
            redact("sent Bearer tok123 to blue", &secrets),
            "sent *** to ***"
        );
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("%41%zz"), "A%zz");
    }

    #[test]
    fn names_and_targets() {
        assert_eq!(display_name("phase", Some("preflight")), "preflight");
        assert_eq!(display_name("capture", Some("x")), "capture");
        assert_eq!(display_name("phase", None), "phase");
        assert!(is_tare("tare") && is_tare("tare::phase"));
        assert!(!is_tare("tarex") && !is_tare("hyper::client"));
        assert!(!Options::default().any());
    }
}
