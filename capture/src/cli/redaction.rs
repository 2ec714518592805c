//! `--redact REGEX` and `--no-redact`, shared by `tare capture` and `tare bench`.

use std::path::Path;

use anyhow::Result;

use crate::cli::out::{errln, failln};
use report_model::redact::{Redactor, SETTINGS_FILE};

use crate::harness::results;

/// What is redacted before anything is written.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RedactArgs {
    /// Also redact what REGEX matches (its first group, if it has one) as
    /// `[redacted:custom]`. Repeatable. Built in: GitHub and GitLab tokens, AWS access keys,
    /// JWTs, PEM private keys, Authorization/Bearer values, --password/--token/--secret/
    /// --api-key values (after `=` or a space), *_KEY=/*_TOKEN= assignments, URL userinfo
    /// (also JSON-escaped), and trace attributes whose key ends in password, secret, token,
    /// authorization or api-key. `tare bench` keeps them in DIR/redact.json (0600, never in
    /// the bundle) so that `tare report DIR` redacts the same.
    #[arg(long = "redact", value_name = "REGEX")]
    pub patterns: Vec<String>,
    /// Keep every value as it is: secrets in the command, paths or trace are written as
    /// they are. Never share such an archive or bundle.
    #[arg(long, conflicts_with = "patterns")]
    pub no_redact: bool,
}

impl RedactArgs {
    /// The redactor these flags ask for; a bad pattern is a usage error that names it.
    pub fn redactor(&self) -> Result<Redactor> {
        if self.no_redact {
            return Ok(Redactor::off());
        }
        Ok(Redactor::new(&self.patterns)?)
    }

    /// The same flags, for a `tare capture` that `tare bench` runs.
    pub fn to_argv(&self) -> Vec<String> {
        if self.no_redact {
            return vec!["--no-redact".into()];
        }
        self.patterns
            .iter()
            .flat_map(|p| ["--redact".to_string(), p.clone()])
            .collect()
    }
}

/// The redaction a results directory's bench ran with (its redact.json), for a rebuild of its
/// bundle; the built-in forms, with a note, for a directory from a tare before redact.json.
/// A redact.json that cannot be used is bad input: `Err(exit code)`, after saying why.
pub fn remembered(dir: &Path) -> Result<Redactor, i32> {
    match results::remembered_redaction(dir) {
        Ok(Some(r)) => Ok(r),
        Ok(None) => {
            errln!(
                "tare: note: {} has no {SETTINGS_FILE} (written by an older tare): the bundle \
                 is redacted with the built-in forms only, not with the bench's --redact patterns",
                dir.display()
            );
            Redactor::new(&[]).map_err(|_| super::EXIT_BAD_INPUT)
        }
        Err(e) => {
            failln!(
                "tare: error: {e:#}; the bundle is not rebuilt (it would not be redacted as the \
                 bench was)"
            );
            Err(super::EXIT_BAD_INPUT)
        }
    }
}
