//! `tare report`: re-render a results directory from its samples, or plot a capture archive's resource timeline.

use std::path::{Path, PathBuf};

use anyhow::Result;
use report_model::analysis::timeline;
use report_model::bundle::{self, Keep, Limits};
use report_model::render::charts::timeline_svg;
use report_model::schema::manifest::ContainerKind;
use report_model::schema::metrics::MetricsSample;

use super::out::{esc, failln, outln};
use super::EXIT_BAD_INPUT;
use crate::archive::write_atomically;
use crate::harness::results;

pub(crate) mod input;

/// Re-render a results directory from samples.jsonl (with experiment.toml and host.json), or
/// plot the resource timeline (metrics.ndjson) of one capture archive.
///
/// A directory: summary.md, summary.json, bmf.json, charts/ and the bundle are written again,
/// byte-identical to what `tare bench` wrote from the same samples.
///
/// A capture archive (`tare capture`'s .tar.gz): its hashes and schemas are checked, its
/// timeline is drawn to ARCHIVE-without-.tar.gz.timeline.svg (or --out) and its peaks printed.
///
/// Examples:
///   tare report results/smoke
///   tare report results/study --bundle-cap 10485760
///   tare report run-20261122-231000-4242.tar.gz
///   tare report run.tar.gz --out /tmp/timeline.svg
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The results directory written by `tare bench --out DIR`, or a capture archive.
    #[arg(value_name = "DIR|ARCHIVE")]
    pub input: PathBuf,
    /// Largest bundle in bytes; per-sample archives beyond it are left out (and the bundle says so).
    #[arg(long, default_value_t = results::DEFAULT_BUNDLE_CAP)]
    pub bundle_cap: u64,
    /// Where to write a capture archive's timeline SVG.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<i32> {
    if args.input.is_file() {
        return archive_timeline(&args.input, args.out.as_deref());
    }
    if args.out.is_some() {
        failln!("tare: report: --out is for a capture archive; a results directory is re-rendered in place");
        return Ok(EXIT_BAD_INPUT);
    }
    // Bad input, said as such: a missing path, or a directory that is not a result.
    let inputs = match input::results_dir(&args.input)
        .and_then(|()| results::load(&args.input).map_err(|e| format!("{e:#}")))
    {
        Ok(inputs) => inputs,
        Err(why) => {
            failln!(
                "tare: report: {why}\n(tare report takes a results directory or a capture archive)"
            );
            return Ok(EXIT_BAD_INPUT);
        }
    };
    let redactor = match super::redaction::remembered(&args.input) {
        Ok(r) => r,
        Err(code) => return Ok(code),
    };
    let (summary, bundle, redacted) =
        results::render_all(&args.input, &inputs, args.bundle_cap, &redactor)?;
    outln!("{}", esc(&summary.headline))?;
    outln!(
        "{}",
        super::bench::bundle_redaction_line(&redactor, &redacted)
    )?;
    outln!(
        "wrote {}/summary.md, summary.json, bmf.json, charts/ and {}",
        esc(&args.input.display().to_string()),
        esc(&bundle.display().to_string())
    )?;
    Ok(0)
}

/// `run.tar.gz` -> `run.timeline.svg`, beside it.
fn default_svg_path(archive: &Path) -> PathBuf {
    let name = archive
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name
        .strip_suffix(".tar.gz")
        .or_else(|| name.strip_suffix(".tgz"))
        .unwrap_or(&name);
    archive.with_file_name(format!("{stem}.timeline.svg"))
}

/// The resource samples of a capture archive, or why there are none (a message for stderr).
fn read_metrics(path: &Path) -> Result<(String, Vec<MetricsSample>), String> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read {name}: {e}"))?;
    // As a stream, within the limits: only metrics.ndjson is kept.
    let keep = Keep {
        members: &["metrics.ndjson"],
        ..Keep::default()
    };
    let opened = bundle::open(&name, file, &keep, &Limits::default()).map_err(|e| e.to_string())?;
    let (manifest, members) = (opened.manifest, opened.members);
    if manifest.kind != ContainerKind::Archive {
        return Err(format!(
            "{name} is a {}, not a capture archive; give `tare report` the results directory \
             it came from, or open it with `tare view`",
            format!("{:?}", manifest.kind).to_lowercase()
        ));
    }
    let samples = bundle::member_ndjson(&name, &members, "metrics.ndjson")
        .map_err(|e| e.to_string())?
        .ok_or_else(|| {
            format!(
                "{name} has no metrics.ndjson: it was written before tare sampled resources; \
                 capture again to get a timeline"
            )
        })?;
    Ok((manifest.id, samples))
}

fn archive_timeline(path: &Path, out: Option<&Path>) -> Result<i32> {
    let (run_id, samples) = match read_metrics(path) {
        Ok(v) => v,
        Err(e) => {
            failln!("tare: report: {e}");
            return Ok(EXIT_BAD_INPUT);
        }
    };
    let svg_path = out.map_or_else(|| default_svg_path(path), Path::to_path_buf);
    write_atomically(&svg_path, timeline_svg(&run_id, &samples).as_bytes())?;
    let id = esc(&run_id);
    match timeline::peaks(&samples) {
        Some(p) => outln!("{id}: {}", p.line())?,
        None => outln!("{id}: no resource samples (the child ended before the first)")?,
    }
    outln!("wrote {}", esc(&svg_path.display().to_string()))?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_svg_goes_beside_the_archive() {
        assert_eq!(
            default_svg_path(Path::new("/r/run-1.tar.gz")),
            Path::new("/r/run-1.timeline.svg")
        );
        assert_eq!(
            default_svg_path(Path::new("a.tgz")),
            Path::new("a.timeline.svg")
        );
        assert_eq!(
            default_svg_path(Path::new("odd")),
            Path::new("odd.timeline.svg")
        );
    }
}
