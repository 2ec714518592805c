//! Writes a capture's `.tar.gz` through report-model, atomically: never a truncated file under the final name.

use std::convert::Infallible;
use std::io::Write;
use std::path::Path;

use anyhow::Result;
use report_model::bundle::{Member, PackStream, Spooled};
use report_model::schema::health::Health;
use report_model::schema::manifest::ContainerKind;
use report_model::schema::phases::Phases;
use report_model::schema::run::Run;
use report_model::schema::to_canonical_json;
use tracing::field::Empty;

pub use crate::outfile::{write_atomically, write_atomically_with};

/// The big members of an archive, written first.
pub struct Bulk {
    /// kernel.ndjson, spooled while the events arrived.
    pub kernel: Spooled,
    /// The workload's OTLP JSON trace, if any.
    pub trace: Option<Vec<u8>>,
    /// Resource samples, one JSON object a line, if any.
    pub metrics: Option<String>,
}

/// The small members that report on the run, written after the bulk so that their
/// figures (phases, tare's own memory and CPU) cover the bulk's writing.
pub struct Reports {
    pub run: Run,
    pub phases: Phases,
    pub health: Health,
    /// Why the archive is incomplete, if it is (the manifest's notes).
    pub notes: Vec<String>,
}

/// Writes the archive to `path` atomically and deterministically: the bulk members, then
/// what `reports` returns (called once the bulk is in), then the manifest. Returns the
/// archive's size in bytes.
pub fn write(
    path: &Path,
    run_id: &str,
    bulk: Bulk,
    reports: impl FnOnce() -> Result<Reports>,
) -> Result<u64> {
    let mut members = vec!["kernel.ndjson"];
    members.extend(bulk.trace.is_some().then_some("trace.json"));
    members.extend(bulk.metrics.is_some().then_some("metrics.ndjson"));
    members.extend(["run.json", "phases.json", "health.json", "manifest.json"]);
    let encode = tracing::info_span!(target: "tare::capture", "archive_encode", members = %members.join(","), bytes = Empty);
    let bytes = write_atomically_with(path, |out| {
        let _e = encode.enter();
        let mut pack = PackStream::new("archive", out);
        let kernel = bulk.kernel;
        tracing::info_span!(target: "tare::archive", "member", path = %kernel.path, bytes = kernel.bytes as i64, spooled = true)
            .in_scope(|| pack.spooled(kernel))?;
        if let Some(trace) = bulk.trace {
            add(&mut pack, "trace.json", || Ok::<_, Infallible>(trace))?;
        }
        if let Some(metrics) = bulk.metrics {
            add(&mut pack, "metrics.ndjson", || Ok::<_, Infallible>(metrics))?;
        }
        let r = reports()?;
        add(&mut pack, "run.json", || {
            to_canonical_json("run.json", &r.run)
        })?;
        add(&mut pack, "phases.json", || {
            to_canonical_json("phases.json", &r.phases)
        })?;
        add(&mut pack, "health.json", || {
            to_canonical_json("health.json", &r.health)
        })?;
        let mut out = tracing::info_span!(target: "tare::archive", "manifest")
            .in_scope(|| pack.finish(ContainerKind::Archive, run_id, r.notes))?;
        out.flush()?;
        encode.record("bytes", out.get_ref().metadata()?.len() as i64);
        Ok(out)
    })?;
    Ok(bytes)
}

/// One member, serialized and appended under a `member` span (path, bytes).
fn add<W, D, E>(
    pack: &mut PackStream<W>,
    path: &'static str,
    make: impl FnOnce() -> Result<D, E>,
) -> Result<()>
where
    W: Write,
    D: Into<Vec<u8>>,
    E: std::error::Error + Send + Sync + 'static,
{
    let span =
        tracing::info_span!(target: "tare::archive", "member", path = %path, bytes = tracing::field::Empty)
            .entered();
    let data: Vec<u8> = make()?.into();
    span.record("bytes", data.len() as i64);
    pack.member(&Member::new(path, data))?;
    Ok(())
}
