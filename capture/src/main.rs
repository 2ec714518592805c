//! The `tare` command line: parses arguments and hands off to one module per subcommand.

use clap::Parser;
use tare::cli::{self, Cli};
use tare::phases::PhaseClock;

fn main() {
    // A capture's time zero is process start: argument parsing counts too.
    let clock = PhaseClock::start();
    let args = Cli::parse();
    let code = cli::run(args, &clock);
    std::process::exit(code);
}
