//! `tare verify`: recompute every hash of an archive or bundle and check every schema.

use std::path::PathBuf;

use anyhow::Result;
use report_model::bundle::{self, Limits};

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
    let bytes = match std::fs::read(&args.file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("tare: cannot read {name}: {e}");
            return Ok(EXIT_BAD_INPUT);
        }
    };
    let checked = bundle::read_tar_gz(&name, &bytes, &Limits::default())
        .and_then(|members| bundle::verify(&name, &members).map(|m| (m, members)));
    match checked {
        Ok((manifest, members)) => {
            let total: u64 = manifest.members.iter().map(|m| m.bytes).sum();
            println!(
                "{name}: ok: {:?} `{}`, {} members ({} bytes) match the manifest",
                manifest.kind,
                manifest.id,
                members.len() - 1,
                total
            );
            for note in &manifest.notes {
                println!("  note: {note}");
            }
            Ok(0)
        }
        Err(e) => {
            eprintln!("tare: {e}");
            Ok(1)
        }
    }
}
