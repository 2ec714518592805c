//! Reads the host description (host.json) from uname, /proc and /sys.

use report_model::schema::host::{host_class, Host};
use report_model::schema::Versioned;

/// The tare version, with the git commit it was built from when known.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Describes this machine now.
pub fn current() -> Host {
    let uts = nix::sys::utsname::uname().ok();
    let field = |f: fn(&nix::sys::utsname::UtsName) -> &std::ffi::OsStr| {
        uts.as_ref()
            .map(|u| f(u).to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let arch = field(|u| u.machine());
    let kernel_release = field(|u| u.release());
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let cpu_model = parse_cpu_model(&cpuinfo).unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get() as u32)
        .unwrap_or(1);
    Host {
        schema: Host::SCHEMA.into(),
        host_class: host_class(&arch, &kernel_release, cores, &cpu_model),
        arch,
        kernel_release,
        cpu_model,
        cores,
        governor: std::fs::read_to_string("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")
            .ok()
            .map(|s| s.trim().to_string()),
        load_avg: parse_loadavg(&load),
        tare_version: VERSION.into(),
        git_commit: option_env!("TARE_GIT_COMMIT").map(str::to_string),
    }
}

/// `model name` from /proc/cpuinfo.
pub fn parse_cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
}

/// The three load averages from /proc/loadavg.
pub fn parse_loadavg(text: &str) -> [f64; 3] {
    let mut out = [0.0; 3];
    for (slot, v) in out.iter_mut().zip(text.split_whitespace()) {
        *slot = v.parse().unwrap_or(0.0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_files() {
        assert_eq!(
            parse_cpu_model("processor\t: 0\nmodel name\t: AMD EPYC 7B13\nflags: x\n").as_deref(),
            Some("AMD EPYC 7B13")
        );
        assert_eq!(
            parse_loadavg("0.52 0.40 0.31 1/234 5678\n"),
            [0.52, 0.40, 0.31]
        );
        let h = current();
        assert!(h.host_class.starts_with("linux-"), "{}", h.host_class);
        assert!(h.cores >= 1);
    }
}
