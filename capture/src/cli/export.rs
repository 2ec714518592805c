//! `tare export --perfetto`: a capture archive as Chrome trace-event JSON for ui.perfetto.dev.

use std::path::PathBuf;

use anyhow::Result;
use report_model::analysis::process_tree;
use report_model::bundle::{self, Keep, Limits};
use report_model::render::perfetto::{self, CaptureParts};
use report_model::schema::manifest::ContainerKind;

use super::out::{self, esc, failln};
use super::EXIT_BAD_INPUT;

const AFTER_HELP: &str = "\
What the file holds: a track per process of the capture (named for what it ran and its
pid; its lifetime from fork to exit as one slice, failed or killed ones in the category
`process,failed`, with its exit code or signal and its counts of opens, writes, renames,
unlinks and connects); each kernel event as an instant on its thread's track, with its
fields; the OTel spans of trace.json on a track group per service, nested, with their
events; the resource samples of metrics.ndjson as counters (memory, tasks, CPU).

Times are microseconds of CLOCK_MONOTONIC, the kernel events' clock. Spans and resource
samples are placed through the clock pair run.json records as the capture starts (its
uncertainty is in the file's metadata); archives from before it get neither.

Open the file at https://ui.perfetto.dev (Open trace file): it is read in the browser.

Exit status:
  0    written
  2    bad input: unreadable, malformed or over a limit, a bundle, or an unwritable -o";

/// Export a capture archive for a trace viewer.
///
/// Examples:
///   tare export --perfetto run-20261122-231000-4242.tar.gz -o run.json
///   tare export --perfetto run.tar.gz -o - | jq '.traceEvents | length'
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment, after_help = AFTER_HELP)]
pub struct Args {
    /// Write Chrome trace-event JSON (Perfetto, chrome://tracing).
    #[arg(long, required = true)]
    pub perfetto: bool,
    /// The capture archive (`tare capture`'s .tar.gz, or one of a bundle's archives/).
    #[arg(value_name = "ARCHIVE")]
    pub archive: PathBuf,
    /// Where to write it (`-` for standard output).
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub out: PathBuf,
}

pub fn run(args: Args) -> Result<i32> {
    let name = args.archive.display().to_string();
    let json = match render(&args, &name) {
        Ok(j) => j,
        Err(e) => {
            failln!("tare: {e}");
            return Ok(EXIT_BAD_INPUT);
        }
    };
    if args.out.as_os_str() == "-" {
        // A closed stdout ends tare quietly (exit 141), as for every command.
        out::json(&(json + "\n"))?;
    } else if let Err(e) = crate::archive::write_atomically(&args.out, json.as_bytes()) {
        failln!(
            "tare: cannot write {}: {e:#}",
            esc(&args.out.display().to_string())
        );
        return Ok(EXIT_BAD_INPUT);
    }
    Ok(0)
}

fn render(args: &Args, name: &str) -> Result<String> {
    let file = std::fs::File::open(&args.archive)
        .map_err(|e| anyhow::anyhow!("cannot read {name}: {e}"))?;
    // As a stream, within the limits: only the members exported are kept, the events
    // parsed as they go by.
    let opened = bundle::open(name, file, &Keep::CAPTURE, &Limits::default())?;
    if opened.manifest.kind != ContainerKind::Archive {
        anyhow::bail!(
            "{name} is a bench bundle, not a capture archive: export one of the archives it \
             holds (`tar xzf {name} archives/` lists them)"
        );
    }
    let parts = opened.capture_members(name)?;
    let tree = process_tree::build(&parts.events);
    let trace = perfetto::chrome_trace(
        &CaptureParts {
            events: &parts.events,
            run: parts.run.as_ref(),
            trace: parts.trace.as_ref(),
            metrics: &parts.metrics,
        },
        &tree,
    );
    Ok(serde_json::to_string(&trace)?)
}
