//! `--redact REGEX` and `--no-redact`, shared by `tare capture` and `tare bench`.

use anyhow::Result;
use report_model::redact::Redactor;

/// What is redacted before anything is written.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RedactArgs {
    /// Also redact what REGEX matches (its first group, if it has one) as
    /// `[redacted:custom]`. Repeatable. Built in: GitHub and GitLab tokens, AWS access keys,
    /// JWTs, Authorization/Bearer values, --password=/--token=/--secret= and *_KEY=/*_TOKEN=
    /// assignments, URL userinfo.
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
