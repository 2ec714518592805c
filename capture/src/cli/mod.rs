//! Subcommands of `tare`, one file each, and the exit codes they share.

pub mod bench;
pub mod capture;
pub mod doctor;
pub mod report;
pub mod verify;
pub mod view;
pub mod workload;

use clap::{Parser, Subcommand};

/// Exit status when tare itself failed before or around the child (as `env`/`timeout` do).
pub const EXIT_TARE_FAILED: i32 = 125;
/// Exit status for bad input (a malformed file, a bad argument).
pub const EXIT_BAD_INPUT: i32 = 2;

const EXIT_CODES: &str = "\
Exit status:
  0    success
  1    a check failed (doctor: capture cannot run; verify: the file is bad)
  2    bad input or usage
  125  tare failed (capture: before or around the child)
  N    capture: the child's own exit status (128+signal when killed)";

/// Measure what observing a program costs, and what the observation misses.
#[derive(Debug, Parser)]
#[command(name = "tare", version, about, long_about = None, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Doctor(doctor::Args),
    Capture(capture::Args),
    Bench(bench::Args),
    Report(report::Args),
    Verify(verify::Args),
    View(view::Args),
    Workload(workload::Args),
}

/// Runs the parsed command; returns the process exit status.
pub fn run(cli: Cli, clock: &crate::phases::PhaseClock) -> i32 {
    let result = match cli.command {
        Command::Doctor(a) => doctor::run(a),
        Command::Capture(a) => capture::run(a, clock),
        Command::Bench(a) => bench::run(a),
        Command::Report(a) => report::run(a),
        Command::Verify(a) => verify::run(a),
        Command::View(a) => view::run(a),
        Command::Workload(a) => workload::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("tare: error: {e:#}");
            EXIT_TARE_FAILED
        }
    }
}
