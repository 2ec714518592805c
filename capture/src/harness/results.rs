//! The results directory: writes every file of a bench from its samples, and the bundle.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use report_model::analysis::summary::summarize;
use report_model::bundle::{self, Member};
use report_model::redact::{self, Redactor, Tally};
use report_model::render;
use report_model::schema::experiment::Experiment;
use report_model::schema::host::Host;
use report_model::schema::manifest::ContainerKind;
use report_model::schema::sample::Sample;
use report_model::schema::summary::Summary;
use report_model::schema::{parse_json, parse_ndjson, parse_toml, to_canonical_json, to_ndjson};

use crate::archive::write_atomically;

/// Default size cap of the bundle: fits an issue attachment.
pub const DEFAULT_BUNDLE_CAP: u64 = 20 << 20;

/// Everything a results directory is rendered from.
pub struct Inputs {
    pub experiment: Experiment,
    /// experiment.toml exactly as run.
    pub experiment_text: String,
    pub host: Host,
    pub samples: Vec<Sample>,
}

/// Whether any cell and arm has fewer counted samples than the experiment asked for.
pub fn is_partial(inputs: &Inputs) -> bool {
    let e = &inputs.experiment;
    e.cells.iter().any(|cell| {
        e.arms.iter().any(|arm| {
            let got = inputs
                .samples
                .iter()
                .filter(|s| s.cell == cell.id && s.arm == *arm && !s.warmup)
                .count();
            got < e.n as usize
        })
    })
}

/// Reads experiment.toml, host.json and samples.jsonl from a results directory.
pub fn load(dir: &Path) -> Result<Inputs> {
    let read = |name: &str| -> Result<String> {
        let p = dir.join(name);
        std::fs::read_to_string(&p).with_context(|| {
            format!(
                "cannot read {} (is {} a tare bench results directory?)",
                p.display(),
                dir.display()
            )
        })
    };
    let experiment_text = read("experiment.toml")?;
    let experiment = parse_toml(
        &dir.join("experiment.toml").display().to_string(),
        &experiment_text,
    )?;
    let host = parse_json(
        &dir.join("host.json").display().to_string(),
        &read("host.json")?,
    )?;
    let samples = parse_ndjson(
        &dir.join("samples.jsonl").display().to_string(),
        &read("samples.jsonl")?,
    )?;
    Ok(Inputs {
        experiment,
        experiment_text,
        host,
        samples,
    })
}

/// Writes experiment.toml, host.json and samples.jsonl (the inputs; rewritten as the run goes).
pub fn write_inputs(dir: &Path, inputs: &Inputs) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    write_atomically(
        &dir.join("experiment.toml"),
        inputs.experiment_text.as_bytes(),
    )?;
    write_atomically(
        &dir.join("host.json"),
        to_canonical_json("host.json", &inputs.host)?.as_bytes(),
    )?;
    write_atomically(
        &dir.join("samples.jsonl"),
        to_ndjson("samples.jsonl", &inputs.samples)?.as_bytes(),
    )?;
    Ok(())
}

/// The rendered files, as (relative path, bytes), in a fixed order.
pub fn rendered(inputs: &Inputs) -> Result<(Summary, Vec<Member>)> {
    let summary = summarize(
        &inputs.experiment,
        &inputs.host.host_class,
        &inputs.samples,
        is_partial(inputs),
    );
    let mut files = vec![
        Member::new("summary.json", to_canonical_json("summary.json", &summary)?),
        Member::new("summary.md", render::markdown::summary_md(&summary)),
        Member::new(
            "bmf.json",
            to_canonical_json("bmf.json", &render::bmf::to_bmf(&summary))?,
        ),
    ];
    for (name, svg) in render::charts::all(&summary, &inputs.samples) {
        files.push(Member::new(format!("charts/{name}"), svg));
    }
    Ok((summary, files))
}

/// Renders summary.json, summary.md, bmf.json and charts/ into `dir`, then the bundle
/// `<dir>.bundle.tar.gz`. Returns the summary and the bundle path.
/// Returns the summary, the bundle's path, and what the bundle writer redacted.
pub fn render_all(
    dir: &Path,
    inputs: &Inputs,
    bundle_cap: u64,
    redactor: &Redactor,
) -> Result<(Summary, PathBuf, Tally)> {
    let (summary, files) = rendered(inputs)?;
    std::fs::create_dir_all(dir.join("charts"))?;
    for f in &files {
        write_atomically(&dir.join(&f.path), &f.data)?;
    }
    let bundle_path = bundle_path(dir);
    let (bytes, redacted) = bundle_bytes(dir, inputs, &files, bundle_cap, redactor)?;
    write_atomically(&bundle_path, &bytes)?;
    Ok((summary, bundle_path, redacted))
}

/// The bundle of a results directory, built in memory (nothing is written), redacted as its
/// bench was (redact.json; the built-in forms without one).
pub fn bundle_of_dir(dir: &Path, bundle_cap: u64) -> Result<Vec<u8>> {
    let inputs = load(dir)?;
    let (_, files) = rendered(&inputs)?;
    let redactor = match remembered_redaction(dir)? {
        Some(r) => r,
        None => Redactor::new(&[])?,
    };
    Ok(bundle_bytes(dir, &inputs, &files, bundle_cap, &redactor)?.0)
}

/// Keeps the redaction a bench runs with in `dir/redact.json` (readable by its owner only,
/// never put in the bundle), so that every later rebuild of the bundle redacts the same.
pub fn remember_redaction(dir: &Path, redactor: &Redactor) -> Result<()> {
    let json = to_canonical_json(redact::SETTINGS_FILE, &redactor.settings())?;
    // Owner only, from its first byte on: the patterns may name secrets.
    crate::outfile::write_private(&dir.join(redact::SETTINGS_FILE), json.as_bytes())
}

/// The redaction `dir`'s bench ran with (its redact.json); `None` if it has none (written by
/// a tare before redact.json).
pub fn remembered_redaction(dir: &Path) -> Result<Option<Redactor>> {
    let path = dir.join(redact::SETTINGS_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(e).with_context(|| {
                format!(
                    "cannot read {} (the redaction of this bench)",
                    path.display()
                )
            })
        }
    };
    let settings: redact::Settings = parse_json(&path.display().to_string(), &text)?;
    let r = Redactor::from_settings(&settings).with_context(|| {
        format!(
            "{} holds a pattern that does not compile; fix it there",
            path.display()
        )
    })?;
    Ok(Some(r))
}

/// `results/smoke` -> `results/smoke.bundle.tar.gz`.
pub fn bundle_path(dir: &Path) -> PathBuf {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "results".into());
    dir.with_file_name(format!("{name}.bundle.tar.gz"))
}

/// The bundle: inputs, rendered files, and as many per-sample archives as fit under the cap
/// (one per cell and arm first, then the rest in order); the manifest says what was left out.
/// Every member is checked for secrets again (see [`redact::members`]) and the manifest
/// says what was found.
fn bundle_bytes(
    dir: &Path,
    inputs: &Inputs,
    files: &[Member],
    cap: u64,
    redactor: &Redactor,
) -> Result<(Vec<u8>, Tally)> {
    let mut members = vec![
        Member::new("experiment.toml", inputs.experiment_text.clone()),
        Member::new("host.json", to_canonical_json("host.json", &inputs.host)?),
        Member::new(
            "samples.jsonl",
            to_ndjson("samples.jsonl", &inputs.samples)?,
        ),
    ];
    members.extend(files.iter().cloned());
    let mut used: u64 = members.iter().map(|m| m.data.len() as u64).sum();
    let archives: Vec<&str> = archive_order(&inputs.samples);
    let mut left_out = 0usize;
    for rel in &archives {
        let Ok(data) = std::fs::read(dir.join(rel)) else {
            left_out += 1;
            continue;
        };
        if used + data.len() as u64 > cap {
            left_out += 1;
            continue;
        }
        used += data.len() as u64;
        members.push(Member::new(*rel, data));
    }
    let mut notes = Vec::new();
    if left_out > 0 {
        notes.push(format!(
            "{} of {} per-sample archives included (size cap {} bytes); the rest are in the results directory",
            archives.len() - left_out,
            archives.len(),
            cap
        ));
    }
    let mut redacted = Tally::default();
    notes.extend(redact::members(redactor, &mut members, &mut redacted));
    if redacted.total() > 0 {
        notes.push(format!(
            "the bundle writer found secrets the captures had left: {}",
            redact::describe(&redactor.report(&redacted))
        ));
    }
    let bytes = bundle::pack(
        "bundle",
        ContainerKind::Bundle,
        &inputs.experiment.name,
        members,
        notes,
    )?;
    Ok((bytes, redacted))
}

/// Archives in bundle priority: the first of each cell and arm, then the others.
fn archive_order(samples: &[Sample]) -> Vec<&str> {
    let mut first = Vec::new();
    let mut rest = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for s in samples {
        if let Some(a) = s.archive.as_deref() {
            if seen.insert((s.cell.as_str(), s.arm)) {
                first.push(a);
            } else {
                rest.push(a);
            }
        }
    }
    first.extend(rest);
    first
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_redaction_is_remembered_owner_only_and_read_back() {
        let dir = std::env::temp_dir().join(format!("tare-results-redact-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        assert!(remembered_redaction(&dir).unwrap().is_none(), "none yet");

        remember_redaction(&dir, &Redactor::new(&[r"corp-\d+".into()]).unwrap()).unwrap();
        let path = dir.join(redact::SETTINGS_FILE);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let r = remembered_redaction(&dir).unwrap().expect("remembered");
        let mut t = Tally::default();
        assert_eq!(r.text("p", "corp-7", &mut t), "[redacted:custom]");

        remember_redaction(&dir, &Redactor::off()).unwrap();
        assert!(!remembered_redaction(&dir).unwrap().unwrap().enabled());

        std::fs::write(&path, "not json").unwrap();
        let e = remembered_redaction(&dir).unwrap_err();
        assert!(format!("{e:#}").contains("redact.json"), "{e:#}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
