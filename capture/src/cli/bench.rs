//! `tare bench`: run arms x cells x repetitions and write a results directory and bundle.

use crate::cli::out::{esc, failln, outln};
use crate::cli::redaction::RedactArgs;
use report_model::redact::{Redactor, Tally};
use std::path::PathBuf;

use anyhow::{bail, Result};
use report_model::schema::experiment::{Experiment, Tier};

use crate::harness::{experiment, results, runner};

/// Measure a workload under the arms bare, A (capture), B (OTel) and C (both).
///
/// Runs warm-ups, then n counterbalanced blocks of all arms per cell; checks every
/// sample's validity and fidelity; writes DIR/ (experiment.toml, host.json,
/// samples.jsonl, summary.json, summary.md, bmf.json, charts/, archives/) and
/// DIR.bundle.tar.gz. experiment.toml is kept with its secrets redacted; the
/// redaction (--redact patterns, --no-redact) is kept in DIR/redact.json (0600,
/// never in the bundle) so that `tare report DIR` redacts the same. Ctrl-C stops after the current sample and still writes a
/// (partial) summary.
///
/// Examples:
///   sudo tare bench --preset smoke --out results/smoke
///   sudo tare bench --preset study --out results/study
///   sudo tare bench my-experiment.toml --out results/mine --tier smoke
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// An experiment file (TOML); see capture/presets/*.toml for the format.
    #[arg(conflicts_with = "preset")]
    pub experiment: Option<PathBuf>,
    /// A built-in experiment: smoke, study, sweep or limits.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(experiment::preset_names()))]
    pub preset: Option<String>,
    /// The results directory to write (created; must be empty or absent).
    #[arg(long)]
    pub out: PathBuf,
    /// Run only the cells of this tier.
    #[arg(long, value_enum)]
    pub tier: Option<TierArg>,
    /// Override the experiment's n (counted blocks per cell; at least 1).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub n: Option<u32>,
    /// Override the experiment's warm-up rounds per cell.
    #[arg(long)]
    pub warmups: Option<u32>,
    #[command(flatten)]
    pub redact: RedactArgs,
    /// Largest bundle in bytes; per-sample archives beyond it are left out.
    #[arg(long, default_value_t = results::DEFAULT_BUNDLE_CAP)]
    pub bundle_cap: u64,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Tier names on the command line.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum TierArg {
    Smoke,
    Extended,
    Certification,
}

impl From<TierArg> for Tier {
    fn from(t: TierArg) -> Tier {
        match t {
            TierArg::Smoke => Tier::Smoke,
            TierArg::Extended => Tier::Extended,
            TierArg::Certification => Tier::Certification,
        }
    }
}

pub fn run(args: Args) -> Result<i32> {
    let redactor = match args.redact.redactor() {
        Ok(r) => r,
        Err(e) => {
            failln!("tare: error: {e:#}");
            return Ok(crate::cli::EXIT_BAD_INPUT);
        }
    };
    // Everything up to the first sample is the user's input: its faults exit 2.
    let exp = match experiment_of(&args) {
        Ok(exp) => exp,
        Err(e) => {
            failln!("tare: error: {e:#}");
            return Ok(crate::cli::EXIT_BAD_INPUT);
        }
    };
    let mut exp = exp;
    // experiment.toml as the results directory keeps it: redacted (the commands that run
    // are the real ones); the name is the bundle's id and the summary's title, so it too.
    let mut kept_redacted = Tally::default();
    let kept = report_model::redact::experiment(&redactor, &exp, &mut kept_redacted);
    exp.name = kept.name.clone();
    let as_run = report_model::schema::to_toml("experiment.toml", &kept)?;
    let outcome = runner::run(
        exp,
        as_run,
        &runner::Options {
            out: args.out.clone(),
            bundle_cap: args.bundle_cap,
            quiet: args.quiet,
            capture_flags: args.redact.to_argv(),
            redactor: redactor.clone(),
        },
    )?;
    outln!("{}", esc(&outcome.summary.headline))?;
    if kept_redacted.total() > 0 {
        outln!(
            "experiment.toml: {}",
            report_model::redact::describe(&redactor.report(&kept_redacted))
        )?;
    }
    outln!("{}", bundle_redaction_line(&redactor, &outcome.redacted))?;
    if let Some(b) = &outcome.summary.boundary {
        outln!(
            "boundary: cell {} failed the {} gate: {}",
            esc(&b.cell),
            b.gate,
            esc(&b.detail)
        )?;
    }
    // The first cell of each other gate that failed.
    let first = outcome.summary.boundary.as_ref();
    for b in outcome
        .summary
        .boundaries
        .iter()
        .filter(|b| Some(*b) != first)
    {
        outln!(
            "  and the {} gate first failed in cell {}: {}",
            b.gate,
            esc(&b.cell),
            esc(&b.detail)
        )?;
    }
    outln!(
        "wrote {}/ (summary.md, summary.json, bmf.json, charts/) and {}",
        esc(&args.out.display().to_string()),
        esc(&outcome.bundle.display().to_string())
    )?;
    outln!(
        "view it: tare view {}",
        esc(&outcome.bundle.display().to_string())
    )?;
    Ok(if outcome.summary.partial { 130 } else { 0 })
}

/// The experiment to run: the file or preset with the command line's overrides, checked,
/// filtered to `--tier`; and `--out` checked (absent or empty) before anything runs.
fn experiment_of(args: &Args) -> Result<Experiment> {
    let (mut exp, _original_text) = match (&args.experiment, &args.preset) {
        (Some(path), None) => experiment::load(path)?,
        (None, Some(name)) => experiment::preset(name)?,
        (None, None) => bail!("give an experiment file or --preset smoke|study|sweep|limits"),
        (Some(_), Some(_)) => bail!("give an experiment file or --preset, not both"),
    };
    if let Some(n) = args.n {
        exp.n = n;
    }
    if let Some(w) = args.warmups {
        exp.warmups = w;
    }
    experiment::validate(&exp)?;
    let exp = experiment::filter_tier(exp, args.tier.map(Tier::from))?;
    runner::check_out(&args.out)?;
    Ok(exp)
}

/// What the bundle writer's second look for secrets found (the captures redact first).
pub fn bundle_redaction_line(r: &Redactor, found: &Tally) -> String {
    if !r.enabled() {
        return "bundle: redaction off (--no-redact); do not share it".into();
    }
    if found.total() == 0 {
        return "bundle: checked again for secrets: none left".into();
    }
    format!(
        "bundle: checked again for secrets: {}",
        report_model::redact::describe(&r.report(found))
    )
}
