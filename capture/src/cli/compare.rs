//! `tare compare`: statistical comparison of two bench results (directory, bundle or summary.json), with a regression exit status.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::BufRead as _;
use std::path::Path;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use report_model::analysis::compare::{self, Data, Input, Options};
use report_model::bundle::{self, Keep, Limits};
use report_model::render::compare_md::{self, interval_pct, pct, value};
use report_model::render::format;
use report_model::schema::compare::{
    ChangeVerdict, CompareReport, InputKind, Outcome, Presence, Side,
};
use report_model::schema::experiment::Experiment;
use report_model::schema::host::Host;
use report_model::schema::manifest::ContainerKind;
use report_model::schema::sample::Sample;
use report_model::schema::summary::Summary;
use report_model::schema::{compatible, parse_json, parse_ndjson, parse_toml, Versioned};

use super::out::{self, esc, failln};
use super::report::input;
use super::EXIT_BAD_INPUT;

/// Exit status when a metric regressed.
pub const EXIT_REGRESSION: i32 = 1;

const AFTER_HELP: &str = "\
Inputs: a results directory (`tare bench --out DIR`: experiment.toml, host.json,
samples.jsonl), its DIR.bundle.tar.gz, or a summary.json alone. A summary.json has no
samples: medians are shown, nothing is judged, and the exit status is 0.

Metrics, per cell and arm: wall_ms, wall_ratio (wall-clock over the bare arm's in the
same block: arms other than bare; steady when the whole machine slows down for a while),
cpu_ms (the workload's user + system CPU) and cpu_ratio (the same, over the bare arm's
in the block), peak_rss_bytes (the workload's largest process, as GNU time reports it),
rss_sum_bytes (the sum of its processes' peaks), memory_peak_bytes (the cgroup's charged
memory, not RSS), tare_peak_rss_bytes and tare_cpu_ms (tare's own, capture arms),
artifact_bytes (skipped when both sides wrote nothing), and phases.<name> for each
capture phase (phases.monitor_attach, ...). A figure measured on one side only (an
older baseline) is skipped and named in a note.

Verdicts: `regression` when the whole 95% confidence interval of the unpaired
Hodges-Lehmann shift (cand - base) lies above +threshold x base median; `improvement`
when it lies below -threshold x base median; `insufficient_samples` below 4 valid
samples per side; otherwise `no_detectable_change`. The Mann-Whitney p-value is shown,
not used. Cells and arms found on one side only are listed; different host classes are
flagged (a cross-host comparison is not a benchmark claim), and their absolute times are
shown but not judged unless --cross-host-times: ratios and sizes still gate.

Exit status:
  0    no regression (or nothing could be judged: a side is a summary.json)
  1    at least one metric regressed beyond its threshold
  2    bad input: unreadable or malformed files, results that do not match, bad options";

/// Compare two bench results: per cell, arm and metric, the shift of CAND over BASE with its 95% CI.
///
/// Examples:
///   tare compare baselines/smoke results/smoke
///   tare compare old.bundle.tar.gz new.bundle.tar.gz --markdown > comment.md
///   tare compare base/ cand/ --threshold 10 --metric-threshold phases=25
///   tare compare base/ cand/ --metric-threshold wall_ms=3 --json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment, after_help = AFTER_HELP)]
pub struct Args {
    /// The base: a results directory, a .bundle.tar.gz, or a summary.json.
    pub base: PathBuf,
    /// The candidate: a results directory, a .bundle.tar.gz, or a summary.json.
    pub cand: PathBuf,
    /// Threshold, percent of the base median: smaller shifts are never a regression.
    #[arg(long, value_name = "PCT", default_value_t = compare::DEFAULT_THRESHOLD_PCT,
          value_parser = parse_pct)]
    pub threshold: f64,
    /// A threshold for one metric (wall_ms, wall_ratio, cpu_ms, cpu_ratio, peak_rss_bytes,
    /// rss_sum_bytes, memory_peak_bytes, tare_peak_rss_bytes, tare_cpu_ms, artifact_bytes,
    /// phases.<name>, or `phases` for every phase); repeatable.
    #[arg(long = "metric-threshold", value_name = "METRIC=PCT",
          value_parser = parse_metric_threshold)]
    pub metric_threshold: Vec<(String, f64)>,
    /// Judge absolute times (wall_ms, cpu_ms, tare_cpu_ms, phases.*) even when the host
    /// classes differ; by default they are then shown but not judged, and only ratios and
    /// sizes gate.
    #[arg(long)]
    pub cross_host_times: bool,
    /// Print the report as JSON (schema tare.compare.v1).
    #[arg(long, conflicts_with = "markdown")]
    pub json: bool,
    /// Print the report as GitHub-flavoured markdown, for an issue comment.
    #[arg(long)]
    pub markdown: bool,
}

fn parse_pct(s: &str) -> Result<f64, String> {
    let t = s.trim().trim_end_matches('%');
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!(
            "`{s}` is not a percentage: give a number of at least 0, e.g. 5 or 12.5"
        )),
    }
}

fn parse_metric_threshold(s: &str) -> Result<(String, f64), String> {
    let Some((metric, p)) = s.split_once('=') else {
        return Err(format!("`{s}` is not METRIC=PCT, e.g. wall_ms=10"));
    };
    let metric = metric.trim();
    if !compare::is_known_metric(metric) {
        return Err(format!(
            "unknown metric `{metric}`; the metrics are {}, phases (every phase) and \
             phases.<name> (e.g. phases.monitor_attach)",
            compare::METRICS.join(", ")
        ));
    }
    Ok((metric.to_string(), parse_pct(p)?))
}

pub fn run(args: Args) -> Result<i32> {
    match compare_paths(&args) {
        Ok(report) => {
            if args.json {
                out::json(&report_model::schema::to_canonical_json(
                    "compare.json",
                    &report,
                )?)?;
            } else if args.markdown {
                out::text(&compare_md::compare_md(&report))?;
            } else {
                out::text(&terminal(&report))?;
            }
            Ok(match report.outcome {
                Outcome::Regression => EXIT_REGRESSION,
                Outcome::NoRegression | Outcome::NotCompared => 0,
            })
        }
        Err(e) => {
            failln!("tare: error: {e:#}");
            Ok(EXIT_BAD_INPUT)
        }
    }
}

fn compare_paths(args: &Args) -> Result<CompareReport> {
    let base = load(&args.base)?;
    let cand = load(&args.cand)?;
    let opts = Options {
        threshold_pct: args.threshold,
        metric_thresholds: args
            .metric_threshold
            .iter()
            .cloned()
            .collect::<BTreeMap<_, _>>(),
        cross_host_times: args.cross_host_times,
        ..Options::default()
    };
    Ok(compare::compare(&base, &cand, &opts)?)
}

/// Reads one side: a results directory, a bundle, or a summary.json.
pub fn load(path: &Path) -> Result<Input> {
    let source = path.display().to_string();
    let meta = std::fs::metadata(path).with_context(|| {
        format!(
            "cannot read {source}: give a results directory, a .bundle.tar.gz or a summary.json"
        )
    })?;
    if meta.is_dir() {
        return load_dir(path, source);
    }
    let file = std::fs::File::open(path).with_context(|| format!("cannot read {source}"))?;
    let mut file = std::io::BufReader::new(file);
    let magic = file
        .fill_buf()
        .with_context(|| format!("cannot read {source}"))?;
    if magic.starts_with(&[0x1f, 0x8b]) {
        return load_bundle(file, source);
    }
    // A summary.json is small: it is read whole, within the limit of a JSON member.
    let text = input::read_text(path, Limits::default().max_document_bytes, "a summary.json")
        .map_err(|e| {
            anyhow::anyhow!(
                "{e} ({source} is not gzip, so it was taken for a summary.json; compare takes \
                 a results directory, a .bundle.tar.gz or a summary.json)"
            )
        })?;
    let summary = parse_summary(&source, &text)?;
    Ok(Input {
        source,
        kind: InputKind::SummaryJson,
        data: Data::Summary(summary),
    })
}

fn load_dir(dir: &Path, source: String) -> Result<Input> {
    if dir.join("samples.jsonl").is_file() {
        // Read whole, each within the limit of the bundle member it becomes.
        let read = |name: &str| -> Result<(String, String)> {
            let p = dir.join(name);
            let limit = match name {
                "samples.jsonl" => Limits::default().max_member_bytes,
                _ => Limits::default().max_document_bytes,
            };
            let text = input::read_text(&p, limit, name).map_err(|e| {
                anyhow::anyhow!(
                    "{e} ({source} has samples.jsonl, so it should be a complete `tare bench` \
                     results directory)"
                )
            })?;
            Ok((p.display().to_string(), text))
        };
        let (e_name, e_text) = read("experiment.toml")?;
        let (h_name, h_text) = read("host.json")?;
        let (s_name, s_text) = read("samples.jsonl")?;
        return samples_input(
            source,
            InputKind::ResultsDir,
            [(&e_name, &e_text), (&h_name, &h_text), (&s_name, &s_text)],
        );
    }
    let summary_path = dir.join("summary.json");
    if summary_path.is_file() {
        let name = summary_path.display().to_string();
        let limit = Limits::default().max_document_bytes;
        let text = input::read_text(&summary_path, limit, "a summary.json")
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        return Ok(Input {
            source,
            kind: InputKind::SummaryJson,
            data: Data::Summary(parse_summary(&name, &text)?),
        });
    }
    bail!(
        "{source} is a directory without samples.jsonl or summary.json: give a results \
         directory written by `tare bench --out DIR`, its .bundle.tar.gz, or a summary.json"
    )
}

/// Reads a bundle as a stream, within the limits: only the members compared are kept.
fn load_bundle(reader: impl std::io::Read, source: String) -> Result<Input> {
    let keep = Keep {
        members: &[
            "experiment.toml",
            "host.json",
            "samples.jsonl",
            "summary.json",
        ],
        ..Keep::default()
    };
    let opened = bundle::open(&source, reader, &keep, &Limits::default())?;
    let (manifest, members) = (opened.manifest, opened.members);
    if manifest.kind != ContainerKind::Bundle {
        bail!(
            "{source} is a capture archive (one `tare capture` run), not a bench bundle: \
             compare takes the DIR.bundle.tar.gz that `tare bench --out DIR` writes"
        );
    }
    let has = |p: &str| members.iter().any(|m| m.path == p);
    if has("samples.jsonl") {
        let text = |p: &str| -> Result<(String, String)> {
            Ok((
                format!("{source}:{p}"),
                bundle::member_text(&source, &members, p)?.to_string(),
            ))
        };
        let (e_name, e_text) = text("experiment.toml")?;
        let (h_name, h_text) = text("host.json")?;
        let (s_name, s_text) = text("samples.jsonl")?;
        return samples_input(
            source,
            InputKind::Bundle,
            [(&e_name, &e_text), (&h_name, &h_text), (&s_name, &s_text)],
        );
    }
    if has("summary.json") {
        let name = format!("{source}:summary.json");
        let text = bundle::member_text(&source, &members, "summary.json")?;
        return Ok(Input {
            source,
            kind: InputKind::SummaryJson,
            data: Data::Summary(parse_summary(&name, text)?),
        });
    }
    bail!("{source}: the bundle has neither samples.jsonl nor summary.json")
}

/// Parses experiment.toml, host.json and samples.jsonl (each as (name, text)).
fn samples_input(source: String, kind: InputKind, files: [(&String, &String); 3]) -> Result<Input> {
    let [(e_name, e_text), (h_name, h_text), (s_name, s_text)] = files;
    let experiment: Experiment = parse_toml(e_name, e_text)?;
    let host: Host = parse_json(h_name, h_text)?;
    let samples: Vec<Sample> = parse_ndjson(s_name, s_text)?;
    for (i, s) in samples.iter().enumerate() {
        if !compatible(&s.schema, Sample::SCHEMA) {
            bail!(
                "{s_name}: line {}: schema `{}` is not readable by this tare (it reads {})",
                i + 1,
                s.schema,
                Sample::SCHEMA
            );
        }
    }
    if samples.iter().all(|s| s.warmup) {
        bail!("{s_name} has no counted samples (only warm-ups or nothing): the run measured nothing to compare");
    }
    Ok(Input {
        source,
        kind,
        data: Data::Samples {
            experiment,
            host,
            samples,
        },
    })
}

/// Parses a summary.json, saying plainly when the file is some other tare file.
fn parse_summary(name: &str, text: &str) -> Result<Summary> {
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
        if let Some(schema) = value.get("schema").and_then(|s| s.as_str()) {
            if schema.starts_with("tare.") && !compatible(schema, Summary::SCHEMA) {
                let family = schema.rsplit_once(".v").map_or(schema, |(f, _)| f);
                if family != "tare.summary" {
                    bail!(
                        "{name} is a {schema} file, not a summary: give a results directory, \
                         a .bundle.tar.gz or a summary.json"
                    );
                }
            }
        }
    }
    Ok(parse_json(name, text)?)
}

fn side_line(label: &str, s: &Side) -> String {
    let mut extra = vec![
        compare_md::kind(s.kind).to_string(),
        format!("experiment {}", esc(&s.experiment)),
        format!("tier {}", compare_md::tier(s.tier)),
        esc(&s.host_class).into_owned(),
    ];
    if let Some(v) = &s.tare_version {
        extra.push(format!("tare {}", esc(v)));
    }
    if let Some(c) = &s.git_commit {
        extra.push(format!("commit {}", esc(c)));
    }
    format!("  {label}  {}  ({})\n", esc(&s.source), extra.join("; "))
}

fn banner(report: &CompareReport) -> Option<String> {
    report.host_mismatch.as_ref().map(|h| {
        format!(
            "!! HOST CLASSES DIFFER in {} (base {}, cand {}). A cross-host comparison is not \
             a benchmark claim. !!\n",
            report_model::analysis::compare::host_parts_text(&h.parts),
            esc(&h.base),
            esc(&h.cand)
        )
    })
}

/// The default output: a plain-text table, flagged metrics and notes last (where CI logs end).
pub fn terminal(r: &CompareReport) -> String {
    let mut out = String::new();
    out.push_str("tare compare\n");
    out.push_str(&side_line("base", &r.base));
    out.push_str(&side_line("cand", &r.cand));
    out.push('\n');
    if let Some(b) = banner(r) {
        out.push_str(&b);
        out.push('\n');
    }
    let header = [
        "cell",
        "arm",
        "metric",
        "n",
        "base med",
        "cand med",
        "shift",
        "rel",
        "rel 95% CI",
        "p",
        "thr",
        "verdict",
    ];
    let mut rows: Vec<[String; 12]> = Vec::new();
    for c in r.cells.iter().filter(|c| c.presence == Presence::Both) {
        for a in c.arms.iter().filter(|a| a.presence == Presence::Both) {
            for m in &a.metrics {
                let med = |v: Option<f64>| v.map_or("—".into(), |v| value(m.unit, v));
                let verdict = match m.verdict {
                    ChangeVerdict::Regression => "REGRESSION".to_string(),
                    ChangeVerdict::Improvement => "IMPROVEMENT".to_string(),
                    v => compare_md::verdict(v).to_string(),
                };
                rows.push([
                    esc(&c.id).into_owned(),
                    a.arm.as_str().to_string(),
                    esc(&m.metric).into_owned(),
                    format!("{}/{}", m.n_base, m.n_cand),
                    med(m.base_median),
                    med(m.cand_median),
                    m.shift
                        .map_or("—".into(), |v| compare_md::signed_value(m.unit, v)),
                    if m.shift.is_some() {
                        pct(m.shift_pct)
                    } else {
                        pct(m.median_change_pct)
                    },
                    interval_pct(m.ci_low_pct, m.ci_high_pct),
                    m.p_value.map_or("—".into(), format::p_value),
                    format!("{}%", compare::fmt_pct(m.threshold_pct)),
                    verdict,
                ]);
            }
        }
    }
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    // Text columns left-aligned, numbers right-aligned.
    let left = [
        true, true, true, false, false, false, false, false, false, false, false, true,
    ];
    let line = |cells: &[String]| -> String {
        let mut s = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let pad = widths[i].saturating_sub(cell.chars().count());
            if i > 0 {
                s.push_str("  ");
            }
            if left[i] {
                s.push_str(cell);
                if i + 1 < cells.len() {
                    s.push_str(&" ".repeat(pad));
                }
            } else {
                s.push_str(&" ".repeat(pad));
                s.push_str(cell);
            }
        }
        s.push('\n');
        s
    };
    if !rows.is_empty() {
        out.push_str(&line(&header.map(String::from)));
        for row in &rows {
            out.push_str(&line(row));
        }
        out.push('\n');
    }
    for (c, a, m) in r.cells.iter().flat_map(|c| {
        c.arms
            .iter()
            .flat_map(move |a| a.metrics.iter().map(move |m| (c, a, m)))
    }) {
        if m.verdict == ChangeVerdict::Regression {
            let _ = writeln!(
                out,
                "regression: {}: {} -> {}, shift {} (95% CI {}), {} ({}), p {}, threshold {}%",
                esc(&compare::metric_path(&c.id, a.arm, &m.metric)),
                m.base_median.map_or("—".into(), |v| value(m.unit, v)),
                m.cand_median.map_or("—".into(), |v| value(m.unit, v)),
                m.shift
                    .map_or("—".into(), |v| compare_md::signed_value(m.unit, v)),
                compare_md::interval(m.unit, m.ci_low, m.ci_high),
                pct(m.shift_pct),
                interval_pct(m.ci_low_pct, m.ci_high_pct),
                m.p_value.map_or("—".into(), format::p_value),
                compare::fmt_pct(m.threshold_pct),
            );
        }
    }
    for n in &r.notes {
        let _ = writeln!(out, "note: {}", esc(n));
    }
    let _ = writeln!(out, "rule: {}", compare_md::rule(r));
    if let Some(b) = banner(r) {
        out.push_str(&b);
    }
    let status = match r.outcome {
        Outcome::Regression => "REGRESSION",
        Outcome::NoRegression => "ok",
        Outcome::NotCompared => "not compared",
    };
    let _ = writeln!(out, "{status}: {}", esc(&r.headline));
    out
}
