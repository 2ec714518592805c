//! `tare doctor`: a table of every requirement of capture, with a fix for each failure.

use anyhow::Result;

use crate::cli::out::{self, outln};

use crate::preflight::{self, Status};

/// Check that this machine can run `tare capture`.
///
/// Examples:
///   sudo tare doctor
///   sudo tare doctor --json | jq '.[] | select(.status != "pass")'
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Print the checks as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> Result<i32> {
    let mut facts = preflight::gather();
    facts.syscall_hooks = crate::monitor::probe_syscall_hooks();
    let checks = preflight::judge(&facts);
    let ok = preflight::can_capture(&checks);
    if args.json {
        out::json(&(serde_json::to_string_pretty(&checks)? + "\n"))?;
    } else {
        let width = checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
        for c in &checks {
            let mark = match c.status {
                Status::Pass => "ok  ",
                Status::Warn => "warn",
                Status::Fail => "FAIL",
            };
            outln!("{mark}  {:width$}  {}", c.name, c.detail)?;
            if let Some(fix) = &c.fix {
                outln!("      {:width$}  fix: {fix}", "")?;
            }
        }
        outln!(
            "\n{}",
            if ok {
                "capture can run on this machine"
            } else {
                "capture cannot run here: fix the FAIL rows above"
            }
        )?;
    }
    Ok(if ok { 0 } else { 1 })
}
