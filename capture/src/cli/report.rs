//! `tare report`: re-render summary, charts, BMF and bundle of a results directory from its samples.

use std::path::PathBuf;

use anyhow::Result;

use crate::harness::results;

/// Re-render a results directory from samples.jsonl (with experiment.toml and host.json).
///
/// The output is byte-identical to what `tare bench` wrote from the same samples.
///
/// Examples:
///   tare report results/smoke
///   tare report results/study --bundle-cap 10485760
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The results directory written by `tare bench --out DIR`.
    pub dir: PathBuf,
    /// Largest bundle in bytes; per-sample archives beyond it are left out (and the bundle says so).
    #[arg(long, default_value_t = results::DEFAULT_BUNDLE_CAP)]
    pub bundle_cap: u64,
}

pub fn run(args: Args) -> Result<i32> {
    let inputs = results::load(&args.dir)?;
    let (summary, bundle) = results::render_all(&args.dir, &inputs, args.bundle_cap)?;
    println!("{}", summary.headline);
    println!(
        "wrote {}/summary.md, summary.json, bmf.json, charts/ and {}",
        args.dir.display(),
        bundle.display()
    );
    Ok(0)
}
