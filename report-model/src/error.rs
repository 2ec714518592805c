//! The one error type of report-model: every message names the file, the field and what was expected.

use thiserror::Error;

/// Why a file could not be read or written.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ModelError {
    /// The JSON/TOML text was not well formed, or a field had the wrong shape.
    #[error("{file}: field `{field}`: {problem}")]
    Field {
        file: String,
        field: String,
        problem: String,
    },
    /// The file names a schema this version of tare does not read.
    #[error("{file}: schema `{found}` is not readable by this tare (it reads {expected}); use a tare release that writes {found}, or re-create the file")]
    Schema {
        file: String,
        found: String,
        expected: String,
    },
    /// A bundle or archive broke a rule (limits, paths, member types, hashes).
    #[error("{file}: {problem}")]
    Container { file: String, problem: String },
}

impl ModelError {
    /// A container-level problem in `file`.
    pub fn container(file: impl Into<String>, problem: impl Into<String>) -> Self {
        ModelError::Container {
            file: file.into(),
            problem: problem.into(),
        }
    }
}
