//! `host.json`: the machine a result was measured on; its host class decides comparability.

use serde::{Deserialize, Serialize};

use super::Versioned;

/// `host.json` (`tare.host.v1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Host {
    pub schema: String,
    /// `linux-<arch>-<kernel release>`: results compare only within one class.
    pub host_class: String,
    pub arch: String,
    pub kernel_release: String,
    pub cpu_model: String,
    pub cores: u32,
    /// cpufreq governor of cpu0, when the kernel exposes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub governor: Option<String>,
    /// 1, 5 and 15 minute load averages when the run started.
    pub load_avg: [f64; 3],
    pub tare_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_commit: Option<String>,
}

/// The host class string for an architecture and kernel release.
pub fn host_class(arch: &str, kernel_release: &str) -> String {
    format!("linux-{arch}-{kernel_release}")
}

impl Versioned for Host {
    const SCHEMA: &'static str = "tare.host.v1";
}
