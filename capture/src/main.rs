//! The `tare` command line: parses arguments and hands off to one module per subcommand.

use clap::{CommandFactory, FromArgMatches};
use tare::cli::{self, Cli};
use tare::phases::PhaseClock;

fn main() {
    // A capture's time zero is process start: argument parsing counts too.
    let clock = PhaseClock::start();
    // As `Cli::parse()`, keeping the subcommand's name for the root span.
    let matches = Cli::command()
        .try_get_matches()
        .unwrap_or_else(|e| cli::usage_error(e));
    let subcommand = matches.subcommand_name().unwrap_or_default().to_string();
    let args = Cli::from_arg_matches(&matches).unwrap_or_else(|e| cli::usage_error(e));
    let telemetry = match tare::telemetry::init(&tare::telemetry::Options {
        trace_chrome: args.trace_chrome.clone(),
        otlp_endpoint: args.otlp_endpoint.clone(),
    }) {
        Ok(t) => t,
        Err(e) => {
            cli::out::error(&format!("tare: error: {e}"));
            std::process::exit(cli::EXIT_BAD_INPUT);
        }
    };
    let code = {
        // The root of tare's own trace: every other span nests under it.
        let _root = tracing::info_span!(target: "tare", "tare", command = %subcommand, version = %tare::hostinfo::VERSION).entered();
        cli::run(args, &clock)
    };
    // Flush before exit (which runs no destructors): the Chrome file, the last OTLP batch.
    telemetry.finish();
    std::process::exit(code);
}
