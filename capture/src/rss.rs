//! Peak resident memory: tare's own (VmHWM) and the workload's (cgroup v2, cgroup v1, or wait4).

use report_model::schema::run::{PeakRss, RssMethod};

use crate::cgroup::PeakMemorySource;

/// tare's own peak RSS in bytes, from /proc/self/status VmHWM.
pub fn own_peak_rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| parse_vm_hwm(&s))
        .unwrap_or(0)
}

/// VmHWM in bytes from a /proc/<pid>/status text.
pub fn parse_vm_hwm(status: &str) -> Option<u64> {
    let line = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?;
    let kb: u64 = line.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kb * 1024)
}

/// The best available workload peak: cgroup figures cover the whole tree; wait4's
/// `ru_maxrss` (kilobytes) covers the largest single descendant.
pub fn choose_peak(v2_peak: Option<u64>, v1_max_usage: Option<u64>, ru_maxrss_kb: u64) -> PeakRss {
    match (v2_peak, v1_max_usage) {
        (Some(bytes), _) => PeakRss {
            bytes,
            method: RssMethod::CgroupV2Peak,
        },
        (None, Some(bytes)) => PeakRss {
            bytes,
            method: RssMethod::CgroupV1MaxUsage,
        },
        (None, None) => PeakRss {
            bytes: ru_maxrss_kb * 1024,
            method: RssMethod::Wait4Rusage,
        },
    }
}

/// Reads the session cgroup's peak (the best method it offers), else uses `ru_maxrss`.
pub fn workload_peak(src: &PeakMemorySource, ru_maxrss_kb: u64) -> PeakRss {
    match src {
        PeakMemorySource::V2MemoryPeak(_) => choose_peak(src.read_bytes(), None, ru_maxrss_kb),
        PeakMemorySource::V1MaxUsage(_) => choose_peak(None, src.read_bytes(), ru_maxrss_kb),
        PeakMemorySource::None => choose_peak(None, None, ru_maxrss_kb),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_vm_hwm() {
        let s = "Name:\ttare\nVmPeak:\t  20000 kB\nVmHWM:\t    8840 kB\nVmRSS:\t 8000 kB\n";
        assert_eq!(parse_vm_hwm(s), Some(8840 * 1024));
        assert_eq!(parse_vm_hwm("Name: x\n"), None);
        assert!(own_peak_rss_bytes() > 0);
    }

    #[test]
    fn prefers_cgroup_v2_then_v1_then_wait4() {
        assert_eq!(
            choose_peak(Some(5), Some(6), 7).method,
            RssMethod::CgroupV2Peak
        );
        assert_eq!(
            choose_peak(None, Some(6), 7),
            PeakRss {
                bytes: 6,
                method: RssMethod::CgroupV1MaxUsage
            }
        );
        assert_eq!(
            choose_peak(None, None, 7),
            PeakRss {
                bytes: 7168,
                method: RssMethod::Wait4Rusage
            }
        );
    }
}
