//! Resource figures with their methods: the workload's peak RSS and charged memory, CPU from rusage, and tare's own memory (VmHWM, eBPF map memlock) and CPU.

use report_model::schema::usage::{
    CpuTime, CpuUsage, MemoryMethod, MemoryPeak, PeakRss, RssMethod,
};

use crate::cgroup::PeakMemorySource;
use crate::treewatch::TreePeaks;

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

/// The workload's peak RSS as GNU time reports it: the largest process's own high-water
/// mark from the tree watch (leaving out `except`), else `wait4`'s `ru_maxrss` (kilobytes),
/// which also counts the parent's memory copied at fork.
pub fn workload_peak(tree: Option<&TreePeaks>, except: Option<u32>, ru_maxrss_kb: u64) -> PeakRss {
    tree.and_then(|t| t.peak_rss(except)).unwrap_or(PeakRss {
        bytes: ru_maxrss_kb * 1024,
        method: RssMethod::Wait4Rusage,
        sum_bytes: None,
        processes: None,
    })
}

/// The session cgroup's charged-memory peak, where the cgroup has one.
pub fn memory_peak(src: &PeakMemorySource) -> Option<MemoryPeak> {
    let method = match src {
        PeakMemorySource::V2MemoryPeak(_) => MemoryMethod::CgroupV2Peak,
        PeakMemorySource::V1MaxUsage(_) => MemoryMethod::CgroupV1MaxUsage,
        PeakMemorySource::None => return None,
    };
    Some(MemoryPeak {
        bytes: src.read_bytes()?,
        method,
    })
}

fn timeval_ns(t: libc::timeval) -> u64 {
    t.tv_sec.max(0) as u64 * 1_000_000_000 + t.tv_usec.max(0) as u64 * 1_000
}

/// CPU, context switches and faults of an rusage.
pub fn cpu_of(ru: &libc::rusage) -> CpuUsage {
    CpuUsage {
        user_ns: timeval_ns(ru.ru_utime),
        sys_ns: timeval_ns(ru.ru_stime),
        voluntary_ctxt_switches: ru.ru_nvcsw.max(0) as u64,
        involuntary_ctxt_switches: ru.ru_nivcsw.max(0) as u64,
        minor_faults: ru.ru_minflt.max(0) as u64,
        major_faults: ru.ru_majflt.max(0) as u64,
    }
}

/// tare's own CPU so far (every thread), `getrusage(RUSAGE_SELF)`.
pub fn own_cpu() -> CpuTime {
    // SAFETY: zeroed rusage is a valid out-parameter.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage with a valid pointer.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let c = cpu_of(&ru);
    CpuTime {
        user_ns: c.user_ns,
        sys_ns: c.sys_ns,
    }
}

/// `whole - part`, field by field (never below zero): tare's own share of an rusage that
/// also holds its workload's.
pub fn cpu_less(whole: &CpuUsage, part: &CpuUsage) -> CpuTime {
    CpuTime {
        user_ns: whole.user_ns.saturating_sub(part.user_ns),
        sys_ns: whole.sys_ns.saturating_sub(part.sys_ns),
    }
}

/// The kernel memory of this process's eBPF maps (the ring buffer is one): the sum of
/// `memlock` over its map fds' fdinfo, which is what the kernel charges for them.
pub fn own_bpf_map_bytes() -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc/self/fdinfo") else {
        return 0;
    };
    dir.flatten()
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .filter_map(|text| parse_map_memlock(&text))
        .sum()
}

/// `memlock` of an fdinfo text when the fd is a BPF map (it has `map_type:`).
pub fn parse_map_memlock(fdinfo: &str) -> Option<u64> {
    fdinfo.lines().find(|l| l.starts_with("map_type:"))?;
    fdinfo
        .lines()
        .find_map(|l| l.strip_prefix("memlock:"))?
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::treewatch::ProcessPeak;

    #[test]
    fn reads_vm_hwm() {
        let s = "Name:\ttare\nVmPeak:\t  20000 kB\nVmHWM:\t    8840 kB\nVmRSS:\t 8000 kB\n";
        assert_eq!(parse_vm_hwm(s), Some(8840 * 1024));
        assert_eq!(parse_vm_hwm("Name: x\n"), None);
        assert!(own_peak_rss_bytes() > 0);
    }

    #[test]
    fn the_tree_watch_wins_over_wait4() {
        let mut t = TreePeaks::default();
        t.processes.insert(
            5,
            ProcessPeak {
                tgid: 5,
                ppid: 1,
                comm: "w".into(),
                hiwater_rss_bytes: 6 << 20,
            },
        );
        let p = workload_peak(Some(&t), None, 20_000);
        assert_eq!((p.bytes, p.method), (6 << 20, RssMethod::TaskstatsHiwater));
        // Nothing seen (or no watch): ru_maxrss, named as such.
        let w = workload_peak(Some(&TreePeaks::default()), None, 7);
        assert_eq!((w.bytes, w.method), (7168, RssMethod::Wait4Rusage));
        assert_eq!(workload_peak(None, None, 7).method, RssMethod::Wait4Rusage);
        assert_eq!(
            workload_peak(Some(&t), Some(5), 7).method,
            RssMethod::Wait4Rusage
        );
    }

    #[test]
    fn memory_peak_method_follows_the_cgroup_layout() {
        assert_eq!(memory_peak(&PeakMemorySource::None), None);
        let dir = std::env::temp_dir().join(format!("tare-mempeak-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("memory.peak");
        std::fs::write(&f, "123456\n").unwrap();
        // Pure cgroup v2 (memory.peak) and hybrid v1 (max_usage_in_bytes) are told apart.
        assert_eq!(
            memory_peak(&PeakMemorySource::V2MemoryPeak(f.clone())),
            Some(MemoryPeak {
                bytes: 123456,
                method: MemoryMethod::CgroupV2Peak
            })
        );
        assert_eq!(
            memory_peak(&PeakMemorySource::V1MaxUsage(f.clone())).map(|m| m.method),
            Some(MemoryMethod::CgroupV1MaxUsage)
        );
        assert_eq!(
            memory_peak(&PeakMemorySource::V2MemoryPeak(dir.join("none"))),
            None
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn map_memlock_only_for_maps() {
        let map = "pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t1\nmap_type:\t27\nkey_size:\t0\nvalue_size:\t0\nmax_entries:\t8388608\nmap_flags:\t0x0\nmap_extra:\t0x0\nmemlock:\t8400896\nmap_id:\t12\n";
        assert_eq!(parse_map_memlock(map), Some(8_400_896));
        let prog = "pos:\t0\nflags:\t02000002\nprog_type:\t17\nprog_jited:\t1\nmemlock:\t4096\n";
        assert_eq!(parse_map_memlock(prog), None);
        assert_eq!(parse_map_memlock("pos: 0\n"), None);
    }

    #[test]
    fn cpu_less_never_goes_below_zero() {
        let whole = CpuUsage {
            user_ns: 10,
            sys_ns: 5,
            ..CpuUsage::default()
        };
        let part = CpuUsage {
            user_ns: 4,
            sys_ns: 9,
            ..CpuUsage::default()
        };
        assert_eq!(
            cpu_less(&whole, &part),
            CpuTime {
                user_ns: 6,
                sys_ns: 0
            }
        );
    }
}
