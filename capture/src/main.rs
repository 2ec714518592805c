//! The `tare` command line: parses arguments and hands off to one module per subcommand.

use clap::Parser;
use tare::cli::{self, Cli};

fn main() {
    let args = Cli::parse();
    let code = cli::run(args);
    std::process::exit(code);
}
