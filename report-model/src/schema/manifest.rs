//! `manifest.json`: the member list of an archive or bundle, with sha256 and size of each.

use serde::{Deserialize, Serialize};

use super::Versioned;

/// What a manifest describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContainerKind {
    /// One `tare capture` run (`<run-id>.tar.gz`).
    Archive,
    /// A `tare bench` results directory packed for sharing.
    Bundle,
}

/// `manifest.json` (`tare.manifest.v1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub schema: String,
    pub kind: ContainerKind,
    /// Run id (archive) or results name (bundle).
    pub id: String,
    /// Every other member, sorted by path.
    pub members: Vec<ManifestMember>,
    /// Why the container is incomplete (timeout, interrupt, members left out), if it is.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// One member of an archive or bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestMember {
    pub path: String,
    /// Lower-case hex sha256 of the member's bytes.
    pub sha256: String,
    pub bytes: u64,
    /// Schema of the member's content, where it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
}

impl Versioned for Manifest {
    const SCHEMA: &'static str = "tare.manifest.v1";
}
