//! Writes a capture's `.tar.gz` through report-model, atomically: never a truncated file under the final name.

use std::convert::Infallible;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use report_model::bundle::{self, Member, Spooled};
use report_model::schema::health::Health;
use report_model::schema::manifest::ContainerKind;
use report_model::schema::phases::Phases;
use report_model::schema::run::Run;
use report_model::schema::to_canonical_json;

/// Everything one archive holds.
pub struct ArchiveContent<'a> {
    pub run: &'a Run,
    pub phases: &'a Phases,
    pub health: &'a Health,
    /// kernel.ndjson, spooled while the events arrived.
    pub kernel: Spooled,
    /// The workload's OTLP JSON trace, if any.
    pub trace: Option<Vec<u8>>,
    /// Resource samples, one JSON object a line, if any.
    pub metrics: Option<String>,
    /// Why the archive is incomplete, if it is.
    pub notes: Vec<String>,
}

/// The archive's bytes: deterministic for the same content.
pub fn encode(content: ArchiveContent) -> Result<Vec<u8>> {
    let mut members = vec![
        member("run.json", || to_canonical_json("run.json", content.run))?,
        member("phases.json", || {
            to_canonical_json("phases.json", content.phases)
        })?,
        member("health.json", || {
            to_canonical_json("health.json", content.health)
        })?,
    ];
    if let Some(trace) = content.trace {
        members.push(member("trace.json", || Ok::<_, Infallible>(trace))?);
    }
    if let Some(metrics) = content.metrics {
        members.push(member("metrics.ndjson", || Ok::<_, Infallible>(metrics))?);
    }
    let kernel = &content.kernel;
    tracing::info_span!(target: "tare::archive", "member", path = %kernel.path, bytes = kernel.bytes as i64, spooled = true)
        .in_scope(|| ());
    let _pack =
        tracing::info_span!(target: "tare::archive", "pack", members = members.len() as i64 + 1)
            .entered();
    Ok(bundle::pack_to(
        "archive",
        Vec::new(),
        ContainerKind::Archive,
        &content.run.run_id,
        members,
        vec![content.kernel],
        content.notes,
    )?)
}

/// One member, serialized under a `member` span (path, bytes).
fn member<D, E>(path: &'static str, make: impl FnOnce() -> Result<D, E>) -> Result<Member>
where
    D: Into<Vec<u8>>,
    E: std::error::Error + Send + Sync + 'static,
{
    let span =
        tracing::info_span!(target: "tare::archive", "member", path = %path, bytes = tracing::field::Empty)
            .entered();
    let data: Vec<u8> = make()?.into();
    span.record("bytes", data.len() as i64);
    Ok(Member::new(path, data))
}

/// The directory an archive at `path` goes in (`.` for a bare file name).
pub fn dir_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// What to add to a write error: on a full disk, how to go on (and that nothing was left).
pub fn full_disk_hint(e: &std::io::Error) -> &'static str {
    if e.raw_os_error() == Some(libc::ENOSPC) {
        "; free space or choose another --out (nothing was left under the final name)"
    } else {
        ""
    }
}

/// Writes `bytes` to `path` via a temporary file in the same directory and a rename,
/// so a failure (e.g. a full disk) leaves nothing under the final name.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = dir_of(path);
    let name = path
        .file_name()
        .with_context(|| format!("{}: not a file path", path.display()))?;
    let tmp = dir.join(format!(
        ".{}.partial-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(anyhow::anyhow!(
            "cannot write {}: {e}{}",
            path.display(),
            full_disk_hint(&e)
        ));
    }
    Ok(())
}
