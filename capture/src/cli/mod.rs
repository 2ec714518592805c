//! Subcommands of `tare`, one file each, and the exit codes they share.

pub mod bench;
pub mod capture;
pub mod compare;
pub mod doctor;
pub mod export;
pub mod out;
pub mod redaction;
pub mod report;
pub mod trace;
pub mod verify;
pub mod view;
pub mod workload;

use std::path::PathBuf;

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
  141  standard output was closed before everything was written (as 128+SIGPIPE)
  N    capture: the child's own exit status (128+signal when killed)";

/// Measure what observing a program costs, and what the observation misses.
#[derive(Debug, Parser)]
#[command(name = "tare", version, about, long_about = None, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Write tare's own spans (phases, inner steps, bench cells and samples) to FILE as
    /// Chrome trace-event JSON, for Perfetto (ui.perfetto.dev) or chrome://tracing.
    #[arg(long, global = true, value_name = "FILE")]
    pub trace_chrome: Option<PathBuf>,
    /// Export tare's own spans over OTLP/HTTP (protobuf, batched, service name `tare`) to
    /// URL, e.g. http://localhost:4318 (/v1/traces is added when URL has no path). Headers
    /// come only from OTEL_EXPORTER_OTLP_HEADERS. An unreachable endpoint gives one warning
    /// and delays the exit by at most the 2 s export timeout; it never fails the command.
    #[arg(long, global = true, value_name = "URL")]
    pub otlp_endpoint: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Doctor(doctor::Args),
    Capture(capture::Args),
    Bench(bench::Args),
    Compare(compare::Args),
    Export(export::Args),
    Report(report::Args),
    Trace(trace::Args),
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
        Command::Compare(a) => compare::run(a),
        Command::Export(a) => export::run(a),
        Command::Report(a) => report::run(a),
        Command::Trace(a) => trace::run(a),
        Command::Verify(a) => verify::run(a),
        Command::View(a) => view::run(a),
        Command::Workload(a) => workload::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) if e.downcast_ref::<out::StdoutClosed>().is_some() => out::EXIT_STDOUT_CLOSED,
        Err(e) => {
            out::error(&format!("tare: error: {e:#}"));
            EXIT_TARE_FAILED
        }
    }
}

/// Ends tare on a command-line error from clap (exit 2) or on `--help`/`--version` (exit 0).
/// An error that quotes an argument holding control characters is printed escaped (and
/// without colour): an argument is data too.
pub fn usage_error(e: clap::Error) -> ! {
    let plain = e.render().to_string();
    if !e.use_stderr() || report_model::render::escape::terminal_text(&plain) == plain.as_str() {
        e.exit()
    }
    out::error(plain.trim_end());
    std::process::exit(e.exit_code())
}
