//! `tare verify`: recompute every hash of an archive or bundle and check every schema.

use std::path::PathBuf;

use anyhow::Result;
use report_model::bundle;

use super::out::{esc, failln, outln};
use super::EXIT_BAD_INPUT;

/// Check an archive or bundle: manifest, sha256 of every member, schemas, no stray members.
///
/// Examples:
///   tare verify run-20261122-231000-4242.tar.gz
///   tare verify results/smoke.bundle.tar.gz
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The .tar.gz to check.
    pub file: PathBuf,
}

pub fn run(args: Args) -> Result<i32> {
    let name = args.file.display().to_string();
    let file = match std::fs::File::open(&args.file) {
        Ok(f) => f,
        Err(e) => {
            failln!("tare: cannot read {}: {e}", esc(&name));
            return Ok(EXIT_BAD_INPUT);
        }
    };
    // As a stream, in constant memory: an archive's kernel events can be gigabytes.
    match bundle::verify_stream(&name, file) {
        Ok((manifest, count)) => {
            let total: u64 = manifest.members.iter().map(|m| m.bytes).sum();
            outln!(
                "{}: ok: {:?} `{}`, {} members ({} bytes) match the manifest",
                esc(&name),
                manifest.kind,
                esc(&manifest.id),
                count - 1,
                total
            )?;
            for note in &manifest.notes {
                outln!("  note: {}", esc(note))?;
            }
            Ok(0)
        }
        Err(e) => {
            failln!("tare: {e}");
            Ok(1)
        }
    }
}
