//! Resource timeline of the workload: memory, CPU%, threads and fds of the session cgroup, sampled on a thread while the child runs.
//!
//! The parsing of /proc and cgroup files is pure and unit-tested; [`Sources`] finds the
//! files of one session cgroup and [`Sampler`] reads them every interval on its own
//! thread (tare's thread is outside the session cgroup, so the reads are not captured).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use report_model::schema::metrics::{CpuSource, MemorySource, MetricsSample};

use crate::cgroup::{parse_procs, SessionCgroup};

/// How often to sample unless `--sample-interval` says otherwise.
pub const DEFAULT_INTERVAL: Duration = Duration::from_millis(250);
/// The shortest interval accepted: faster sampling would disturb what it measures.
pub const MIN_INTERVAL: Duration = Duration::from_millis(100);
/// The longest interval accepted.
pub const MAX_INTERVAL: Duration = Duration::from_secs(3600);

// ---------------------------------------------------------------------------
// Pure part
// ---------------------------------------------------------------------------

/// Parses `--sample-interval`: `250ms`, `0.5s`, `2s`, or a bare number of milliseconds.
/// Below [`MIN_INTERVAL`] is an error.
pub fn parse_interval(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (num, scale_ms) = if let Some(v) = t.strip_suffix("ms") {
        (v, 1.0)
    } else if let Some(v) = t.strip_suffix('s') {
        (v, 1000.0)
    } else {
        (t, 1.0)
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a duration: use e.g. 250ms, 0.5s or 250"))?;
    let ms = v * scale_ms;
    if !ms.is_finite() || ms < 0.0 {
        return Err(format!(
            "{text:?} is not a duration: use e.g. 250ms, 0.5s or 250"
        ));
    }
    // Bounded before it becomes a Duration: from_secs_f64 panics past u64 seconds.
    if ms > MAX_INTERVAL.as_secs_f64() * 1000.0 {
        return Err(format!("{text} is longer than an hour"));
    }
    let d = Duration::from_secs_f64(ms / 1000.0);
    if d < MIN_INTERVAL {
        return Err(format!(
            "{text} is below the floor of {} ms: sampling faster would disturb the workload it measures",
            MIN_INTERVAL.as_millis()
        ));
    }
    Ok(d)
}

/// A file holding one unsigned number (`memory.current`, `cpuacct.usage`, ...).
pub fn parse_u64(text: &str) -> Option<u64> {
    text.trim().parse().ok()
}

/// `usage_usec` of a cgroup v2 `cpu.stat`.
pub fn parse_cpu_stat_usage_usec(text: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let mut it = l.split_whitespace();
        (it.next()? == "usage_usec").then(|| it.next()?.parse().ok())?
    })
}

/// `utime + stime + cutime + cstime` (clock ticks) of a /proc/<pid>/stat line. The command
/// name (field 2) may hold spaces and parentheses, so fields are counted after the last `)`.
pub fn parse_proc_stat_ticks(text: &str) -> Option<u64> {
    let rest = &text[text.rfind(')')? + 1..];
    // After the name: state is field 3, utime field 14 ... cstime field 17.
    let f: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| -> Option<u64> { f.get(n - 3)?.parse().ok() };
    Some(field(14)? + field(15)? + field(16)? + field(17)?)
}

/// What tare reads from /proc/<pid>/status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProcStatus {
    pub threads: u64,
    /// `VmRSS:` in bytes (absent for kernel threads and zombies: 0).
    pub rss_bytes: u64,
}

/// Parses the `Threads:` and `VmRSS:` lines of /proc/<pid>/status.
pub fn parse_status(text: &str) -> ProcStatus {
    let mut s = ProcStatus::default();
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("Threads:") {
            s.threads = v.trim().parse().unwrap_or(0);
        } else if let Some(v) = line.strip_prefix("VmRSS:") {
            let kb: u64 = v
                .split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            s.rss_bytes = kb * 1024;
        }
    }
    s
}

/// CPU use between two readings of cumulative CPU time, in percent of one CPU; `None`
/// when less than 10 ms passed (too short to say). A counter that went backwards (a
/// process left the /proc sum) counts as 0.
pub fn cpu_percent(prev_t_ns: u64, prev_cpu_usec: u64, t_ns: u64, cpu_usec: u64) -> Option<f64> {
    let dt_ns = t_ns.checked_sub(prev_t_ns)?;
    if dt_ns < 10_000_000 {
        return None;
    }
    let used_usec = cpu_usec.saturating_sub(prev_cpu_usec);
    Some(used_usec as f64 * 1000.0 / dt_ns as f64 * 100.0)
}

/// The per-process part of one sample, summed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProcTotals {
    pub pids: u32,
    pub threads: u64,
    pub fds: u64,
    pub rss_bytes: u64,
    pub cpu_ticks: u64,
}

impl ProcTotals {
    /// Adds one process (its status, fd count and stat ticks, where they could be read).
    pub fn add(&mut self, status: ProcStatus, fds: u64, ticks: Option<u64>) {
        self.pids += 1;
        self.threads += status.threads;
        self.rss_bytes += status.rss_bytes;
        self.fds += fds;
        self.cpu_ticks += ticks.unwrap_or(0);
    }
}

// ---------------------------------------------------------------------------
// I/O part
// ---------------------------------------------------------------------------

/// Where one session cgroup's memory and CPU figures are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sources {
    /// The cgroup2 directory whose `cgroup.procs` (recursively) list the workload.
    pub procs_dir: PathBuf,
    pub memory: (MemorySource, Option<PathBuf>),
    pub cpu: (CpuSource, Option<PathBuf>),
}

impl Sources {
    /// The best files of a session cgroup: v2 `memory.current`, else v1
    /// `memory.usage_in_bytes`, else the /proc RSS sum; v2 `cpu.stat`, else the /proc
    /// stat sum (tare makes no v1 cpuacct cgroup of its own).
    pub fn for_cgroup(cg: &SessionCgroup) -> Self {
        Self::at(cg.path(), cg.v1_memory_path(), None)
    }

    /// The best files below explicit directories (a v2 cgroup, optional v1 memory and
    /// cpuacct cgroups); a file that does not exist is not chosen.
    pub fn at(v2: &Path, v1_memory: Option<&Path>, v1_cpuacct: Option<&Path>) -> Self {
        let existing = |p: PathBuf| p.exists().then_some(p);
        let memory = if let Some(p) = existing(v2.join("memory.current")) {
            (MemorySource::CgroupV2MemoryCurrent, Some(p))
        } else if let Some(p) = v1_memory.and_then(|d| existing(d.join("memory.usage_in_bytes"))) {
            (MemorySource::CgroupV1UsageInBytes, Some(p))
        } else {
            (MemorySource::ProcRssSum, None)
        };
        let cpu = if let Some(p) = existing(v2.join("cpu.stat")) {
            (CpuSource::CgroupV2CpuStat, Some(p))
        } else if let Some(p) = v1_cpuacct.and_then(|d| existing(d.join("cpuacct.usage"))) {
            (CpuSource::CgroupV1CpuacctUsage, Some(p))
        } else {
            (CpuSource::ProcStatSum, None)
        };
        Sources {
            procs_dir: v2.to_path_buf(),
            memory,
            cpu,
        }
    }
}

fn collect_pids(dir: &Path, out: &mut Vec<u32>) {
    if let Ok(s) = fs::read_to_string(dir.join("cgroup.procs")) {
        out.extend(parse_procs(&s));
    }
    if let Ok(rd) = fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                collect_pids(&e.path(), out);
            }
        }
    }
}

fn clock_ticks_per_sec() -> u64 {
    // SAFETY: sysconf reads a constant of the running system; no memory is touched.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as u64
    } else {
        100
    }
}

/// Reads the per-process figures of every process in the cgroup (one that exits
/// meanwhile is skipped).
pub fn read_proc_totals(procs_dir: &Path) -> ProcTotals {
    let mut pids = Vec::new();
    collect_pids(procs_dir, &mut pids);
    let mut totals = ProcTotals::default();
    for pid in pids {
        let base = PathBuf::from(format!("/proc/{pid}"));
        let Ok(status) = fs::read_to_string(base.join("status")) else {
            continue;
        };
        let fds = fs::read_dir(base.join("fd"))
            .map(|d| d.count() as u64)
            .unwrap_or(0);
        let ticks = fs::read_to_string(base.join("stat"))
            .ok()
            .and_then(|s| parse_proc_stat_ticks(&s));
        totals.add(parse_status(&status), fds, ticks);
    }
    totals
}

/// Takes one sample at `t_ns` (capture clock); `prev` is the previous (t_ns, cpu_usec).
pub fn read_sample(
    src: &Sources,
    t_ns: u64,
    prev: (u64, u64),
    ticks_per_sec: u64,
) -> MetricsSample {
    let totals = read_proc_totals(&src.procs_dir);
    let read = |p: &Option<PathBuf>| p.as_ref().and_then(|p| fs::read_to_string(p).ok());
    let memory_bytes = match src.memory.0 {
        MemorySource::ProcRssSum => None,
        _ => read(&src.memory.1).and_then(|t| parse_u64(&t)),
    };
    let (memory_source, memory_bytes) = match memory_bytes {
        Some(b) => (src.memory.0, b),
        None => (MemorySource::ProcRssSum, totals.rss_bytes),
    };
    let cpu_usec = match src.cpu.0 {
        CpuSource::CgroupV2CpuStat => read(&src.cpu.1).and_then(|t| parse_cpu_stat_usage_usec(&t)),
        CpuSource::CgroupV1CpuacctUsage => read(&src.cpu.1)
            .and_then(|t| parse_u64(&t))
            .map(|ns| ns / 1000),
        CpuSource::ProcStatSum => None,
    };
    let (cpu_source, cpu_usec) = match cpu_usec {
        Some(u) => (src.cpu.0, u),
        None => (
            CpuSource::ProcStatSum,
            totals.cpu_ticks.saturating_mul(1_000_000) / ticks_per_sec.max(1),
        ),
    };
    MetricsSample {
        t_ns,
        pids: totals.pids,
        threads: totals.threads,
        fds: totals.fds,
        rss_bytes: totals.rss_bytes,
        memory_bytes,
        memory_source,
        cpu_usec,
        cpu_source,
        cpu_percent: cpu_percent(prev.0, prev.1, t_ns, cpu_usec),
    }
}

/// A sampling thread; [`Sampler::stop`] ends it and returns the samples.
pub struct Sampler {
    stop: mpsc::Sender<()>,
    handle: JoinHandle<Vec<MetricsSample>>,
}

impl Sampler {
    /// Starts sampling `src` now and then every `interval`. `origin` is the capture's
    /// time zero (the samples' `t_ns` are on the clock of phases.json) and `child_t_ns`
    /// when the child started on that clock (the first sample's CPU% counts from there).
    pub fn start(
        src: Sources,
        interval: Duration,
        origin: Instant,
        child_t_ns: u64,
    ) -> std::io::Result<Sampler> {
        let (stop, stopped) = mpsc::channel::<()>();
        let ticks = clock_ticks_per_sec();
        let handle = std::thread::Builder::new()
            .name("tare-sampler".into())
            .spawn(move || {
                let mut out = Vec::new();
                let mut prev = (child_t_ns, 0u64);
                let start = Instant::now();
                for k in 1u32.. {
                    let t_ns = origin.elapsed().as_nanos() as u64;
                    let s = read_sample(&src, t_ns, prev, ticks);
                    prev = (s.t_ns, s.cpu_usec);
                    out.push(s);
                    // Deadlines on a fixed grid: a slow read does not shift later samples.
                    let due = start + interval * k;
                    let wait = due.saturating_duration_since(Instant::now());
                    match stopped.recv_timeout(wait) {
                        Err(RecvTimeoutError::Timeout) => continue,
                        Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
                    }
                }
                out
            })?;
        Ok(Sampler { stop, handle })
    }

    /// Stops sampling (within one sample's read) and returns the samples in time order.
    pub fn stop(self) -> Vec<MetricsSample> {
        let _ = self.stop.send(());
        self.handle.join().unwrap_or_default()
    }
}

/// The samples as `metrics.ndjson`.
pub fn to_ndjson(samples: &[MetricsSample]) -> Result<String, report_model::ModelError> {
    report_model::schema::to_ndjson("metrics.ndjson", samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_interval("250"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_interval("0.5s"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_interval(" 2s "), Ok(Duration::from_secs(2)));
        assert_eq!(parse_interval("100ms"), Ok(MIN_INTERVAL));
        let e = parse_interval("99ms").unwrap_err();
        assert!(e.contains("below the floor of 100 ms"), "{e}");
        assert!(parse_interval("0").is_err());
        assert!(parse_interval("-5s").is_err());
        assert!(parse_interval("fast").is_err());
        assert!(parse_interval("NaNs").is_err());
        assert!(parse_interval("2h").is_err());
        assert!(parse_interval("7200s").is_err());
        // Past u64 seconds: an error, not a panic in Duration::from_secs_f64.
        assert!(parse_interval("1e30s")
            .unwrap_err()
            .contains("longer than an hour"));
        assert!(parse_interval("1e300").is_err());
        assert_eq!(parse_interval("3600s"), Ok(MAX_INTERVAL));
    }

    #[test]
    fn cpu_stat() {
        let text = "usage_usec 123456\nuser_usec 100000\nsystem_usec 23456\nnice_usec 0\n";
        assert_eq!(parse_cpu_stat_usage_usec(text), Some(123456));
        assert_eq!(parse_cpu_stat_usage_usec("user_usec 5\n"), None);
        assert_eq!(parse_cpu_stat_usage_usec(""), None);
        assert_eq!(parse_u64("4096\n"), Some(4096));
        assert_eq!(parse_u64("max\n"), None);
    }

    #[test]
    fn proc_stat_with_a_hostile_name() {
        // Field 2 is "(a) b (c)": spaces and parentheses inside the name.
        let line = "4242 (a) b (c) S 1 4242 4242 0 -1 4194560 100 0 0 0 \
                    7 3 11 13 20 0 1 0 5000 1000000 200 18446744073709551615";
        assert_eq!(parse_proc_stat_ticks(line), Some(7 + 3 + 11 + 13));
        assert_eq!(parse_proc_stat_ticks("4242 (x) S 1 2"), None);
        assert_eq!(parse_proc_stat_ticks("garbage"), None);
    }

    #[test]
    fn status_lines() {
        let text = "Name:\tsleep\nState:\tS (sleeping)\nVmPeak:\t  8000 kB\nVmRSS:\t    1536 kB\nThreads:\t3\n";
        assert_eq!(
            parse_status(text),
            ProcStatus {
                threads: 3,
                rss_bytes: 1536 * 1024
            }
        );
        // A zombie has no VmRSS.
        assert_eq!(
            parse_status("Name:\tx\nThreads:\t1\n"),
            ProcStatus {
                threads: 1,
                rss_bytes: 0
            }
        );
    }

    #[test]
    fn cpu_percentages() {
        // 125 ms of CPU in 250 ms: half a CPU.
        assert_eq!(cpu_percent(0, 0, 250_000_000, 125_000), Some(50.0));
        // Two CPUs busy.
        assert_eq!(cpu_percent(0, 0, 100_000_000, 200_000), Some(200.0));
        assert_eq!(cpu_percent(0, 0, 5_000_000, 1000), None);
        assert_eq!(cpu_percent(10, 0, 5, 1000), None);
        assert_eq!(cpu_percent(0, 900, 250_000_000, 100), Some(0.0));
    }

    #[test]
    fn totals_and_sources() {
        let mut t = ProcTotals::default();
        t.add(
            ProcStatus {
                threads: 2,
                rss_bytes: 10,
            },
            5,
            Some(4),
        );
        t.add(ProcStatus::default(), 0, None);
        assert_eq!(
            t,
            ProcTotals {
                pids: 2,
                threads: 2,
                fds: 5,
                rss_bytes: 10,
                cpu_ticks: 4
            }
        );
        let dir = std::env::temp_dir().join(format!("tare-sampler-{}", std::process::id()));
        let (v2, v1) = (dir.join("v2"), dir.join("v1"));
        fs::create_dir_all(&v2).unwrap();
        fs::create_dir_all(&v1).unwrap();
        let s = Sources::at(&v2, Some(&v1), None);
        assert_eq!(s.memory, (MemorySource::ProcRssSum, None));
        assert_eq!(s.cpu, (CpuSource::ProcStatSum, None));
        fs::write(v1.join("memory.usage_in_bytes"), "8192\n").unwrap();
        fs::write(v2.join("cpu.stat"), "usage_usec 1000\n").unwrap();
        fs::write(v2.join("cgroup.procs"), "").unwrap();
        let s = Sources::at(&v2, Some(&v1), None);
        assert_eq!(s.memory.0, MemorySource::CgroupV1UsageInBytes);
        assert_eq!(s.cpu.0, CpuSource::CgroupV2CpuStat);
        let m = read_sample(&s, 20_000_000, (0, 0), 100);
        assert_eq!((m.pids, m.memory_bytes, m.cpu_usec), (0, 8192, 1000));
        assert_eq!(m.cpu_percent, Some(5.0));
        fs::write(v2.join("memory.current"), "4096\n").unwrap();
        let s = Sources::at(&v2, Some(&v1), None);
        assert_eq!(s.memory.0, MemorySource::CgroupV2MemoryCurrent);
        // A source file that vanished falls back to the /proc figures.
        fs::remove_file(v2.join("memory.current")).unwrap();
        let m = read_sample(&s, 20_000_000, (0, 0), 100);
        assert_eq!(
            (m.memory_source, m.memory_bytes),
            (MemorySource::ProcRssSum, 0)
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn samples_a_live_process_tree() {
        // This process's own pid in a fake cgroup.procs: the /proc reads are real.
        let dir = std::env::temp_dir().join(format!("tare-sampler-live-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(
            dir.join("cgroup.procs"),
            format!("{}\n", std::process::id()),
        )
        .unwrap();
        let src = Sources::at(&dir, None, None);
        let origin = Instant::now();
        let sampler = Sampler::start(src, Duration::from_millis(100), origin, 0).unwrap();
        std::thread::sleep(Duration::from_millis(350));
        let samples = sampler.stop();
        fs::remove_dir_all(&dir).unwrap();
        assert!((3..=5).contains(&samples.len()), "{}", samples.len());
        for w in samples.windows(2) {
            assert!(w[1].t_ns > w[0].t_ns);
        }
        let s = &samples[1];
        assert_eq!(s.pids, 1);
        assert!(s.threads >= 2, "the sampler thread is one: {}", s.threads);
        assert!(s.fds >= 3 && s.rss_bytes > 0, "{s:?}");
        assert_eq!(s.cpu_source, CpuSource::ProcStatSum);
        assert!(s.cpu_percent.is_some());
        let text = to_ndjson(&samples).unwrap();
        assert_eq!(text.lines().count(), samples.len());
    }
}
