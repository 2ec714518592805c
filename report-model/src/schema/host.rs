//! `host.json`: the machine a result was measured on; its host class decides comparability.

use serde::{Deserialize, Serialize};

use super::Versioned;

/// `host.json` (`tare.host.v1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Host {
    pub schema: String,
    /// `linux-<arch>-<kernel major.minor>-<cores>c-<cpu model>` ([`HostClass`]): results
    /// compare only within one class. Older results hold `linux-<arch>-<kernel release>`.
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

/// What a host class is made of: the parts that must match for two results to compare.
///
/// The kernel counts by major.minor only, so that two machines of one kind whose local
/// version strings differ (`6.18.44-fc-v669`, `6.18.44-fc-v1045`) are one class. The CPU
/// model and core count are part of the class, the load and governor are not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostClass {
    pub arch: String,
    /// Kernel major.minor, e.g. `6.18`.
    pub kernel: String,
    /// Online cores; `None` in an older class string that did not hold it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cores: Option<u32>,
    /// The CPU model as a lowercase slug (`amd-epyc-7b13`); `None` when not known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<String>,
}

/// One part in which two host classes differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostPartDiff {
    /// `arch`, `kernel`, `cores` or `cpu`.
    pub part: String,
    pub base: String,
    pub cand: String,
}

impl HostClass {
    /// The class of a machine from its uname, core count and `/proc/cpuinfo` model name.
    pub fn new(arch: &str, kernel_release: &str, cores: u32, cpu_model: &str) -> Self {
        HostClass {
            arch: arch.to_string(),
            kernel: major_minor(kernel_release),
            cores: Some(cores),
            cpu: Some(slug(cpu_model)).filter(|s| !s.is_empty()),
        }
    }

    /// The class of a recorded host.json (whatever its class string says).
    pub fn of(host: &Host) -> Self {
        Self::new(
            &host.arch,
            &host.kernel_release,
            host.cores,
            &host.cpu_model,
        )
    }

    /// Reads a class string, of this form or the older `linux-<arch>-<kernel release>`.
    pub fn parse(class: &str) -> Self {
        let rest = class.strip_prefix("linux-").unwrap_or(class);
        let (arch, rest) = rest.split_once('-').unwrap_or((rest, ""));
        let (kernel, rest) = rest.split_once('-').unwrap_or((rest, ""));
        let (cores, cpu) = match rest.split_once("c-") {
            Some((n, cpu)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => (
                n.parse().ok(),
                Some(cpu.to_string()).filter(|c| !c.is_empty()),
            ),
            _ => (None, None),
        };
        HostClass {
            arch: arch.to_string(),
            kernel: major_minor(kernel),
            cores,
            cpu,
        }
    }

    /// The parts in which `cand` differs from `self`, counting only parts both sides know.
    pub fn differences(&self, cand: &HostClass) -> Vec<HostPartDiff> {
        let mut out = Vec::new();
        let mut part = |name: &str, b: Option<String>, c: Option<String>| {
            if let (Some(b), Some(c)) = (b, c) {
                if b != c {
                    out.push(HostPartDiff {
                        part: name.into(),
                        base: b,
                        cand: c,
                    });
                }
            }
        };
        part("arch", Some(self.arch.clone()), Some(cand.arch.clone()));
        part(
            "kernel",
            Some(self.kernel.clone()),
            Some(cand.kernel.clone()),
        );
        part(
            "cores",
            self.cores.map(|n| n.to_string()),
            cand.cores.map(|n| n.to_string()),
        );
        part("cpu", self.cpu.clone(), cand.cpu.clone());
        out
    }
}

impl std::fmt::Display for HostClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "linux-{}-{}", self.arch, self.kernel)?;
        if let Some(n) = self.cores {
            write!(f, "-{n}c-{}", self.cpu.as_deref().unwrap_or("unknown"))?;
        }
        Ok(())
    }
}

/// The host class string of a machine (see [`HostClass`]).
pub fn host_class(arch: &str, kernel_release: &str, cores: u32, cpu_model: &str) -> String {
    HostClass::new(arch, kernel_release, cores, cpu_model).to_string()
}

/// `6.18` of `6.18.44-fc-v669`; the release as given when it has no minor number.
fn major_minor(release: &str) -> String {
    match kernel_version(release) {
        Some((major, minor)) => format!("{major}.{minor}"),
        None => release.to_string(),
    }
}

/// (major, minor) of a kernel release like `6.18.44-fc-v669`.
pub fn kernel_version(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// Lowercase letters and digits, every other run of characters one `-`.
fn slug(text: &str) -> String {
    let mut out = String::new();
    for word in text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(&word.to_ascii_lowercase());
    }
    out
}

impl Versioned for Host {
    const SCHEMA: &'static str = "tare.host.v1";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_local_versions_of_one_kernel_are_one_class() {
        let a = host_class("x86_64", "6.18.44-fc-v669", 2, "AMD EPYC 7B13");
        let b = host_class("x86_64", "6.18.44-fc-v1045", 2, "AMD EPYC 7B13");
        assert_eq!(a, "linux-x86_64-6.18-2c-amd-epyc-7b13");
        assert_eq!(a, b);
        assert_eq!(
            HostClass::parse(&a),
            HostClass::new("x86_64", "6.18.1", 2, "AMD EPYC 7B13")
        );
    }

    #[test]
    fn differences_name_each_part_and_skip_unknown_ones() {
        let base = HostClass::parse("linux-x86_64-6.18-2c-amd-epyc-7b13");
        let cand = HostClass::new(
            "aarch64",
            "6.1.0-27-arm64",
            4,
            "Intel(R) Xeon(R) CPU @ 2.20GHz",
        );
        let parts: Vec<_> = base
            .differences(&cand)
            .into_iter()
            .map(|d| d.part)
            .collect();
        assert_eq!(parts, ["arch", "kernel", "cores", "cpu"]);
        assert_eq!(cand.cpu.as_deref(), Some("intel-r-xeon-r-cpu-2-20ghz"));
        // An older class string knows no cores or CPU: only arch and kernel are judged.
        let legacy = HostClass::parse("linux-x86_64-6.18.44-fc-v669");
        assert_eq!(legacy.kernel, "6.18");
        assert_eq!((legacy.cores, legacy.cpu.as_deref()), (None, None));
        assert!(legacy.differences(&base).is_empty());
        let other = HostClass::parse("linux-x86_64-6.1.0-27-amd64");
        assert_eq!((other.kernel.as_str(), other.cores), ("6.1", None));
        assert_eq!(legacy.differences(&other)[0].part, "kernel");
    }
}
