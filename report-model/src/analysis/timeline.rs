//! What a resource timeline (metrics.ndjson) amounts to: its length, peaks and CPU time.

use crate::render::format;
use crate::schema::metrics::MetricsSample;

/// The peaks of one capture's resource samples.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelinePeaks {
    pub samples: usize,
    /// From the first sample to the last, nanoseconds.
    pub span_ns: u64,
    pub max_pids: u32,
    pub max_threads: u64,
    pub max_fds: u64,
    pub peak_rss_bytes: u64,
    pub peak_memory_bytes: u64,
    /// Highest CPU use between two samples, percent of one CPU; none when no interval said.
    pub peak_cpu_percent: Option<f64>,
    /// CPU time of the workload at the last sample, microseconds.
    pub cpu_usec: u64,
}

/// The peaks of `samples`; `None` when there are none.
pub fn peaks(samples: &[MetricsSample]) -> Option<TimelinePeaks> {
    let first = samples.first()?;
    let last = samples.last()?;
    Some(TimelinePeaks {
        samples: samples.len(),
        span_ns: last.t_ns.saturating_sub(first.t_ns),
        max_pids: samples.iter().map(|s| s.pids).max().unwrap_or(0),
        max_threads: samples.iter().map(|s| s.threads).max().unwrap_or(0),
        max_fds: samples.iter().map(|s| s.fds).max().unwrap_or(0),
        peak_rss_bytes: samples.iter().map(|s| s.rss_bytes).max().unwrap_or(0),
        peak_memory_bytes: samples.iter().map(|s| s.memory_bytes).max().unwrap_or(0),
        peak_cpu_percent: samples
            .iter()
            .filter_map(|s| s.cpu_percent)
            .filter(|c| c.is_finite())
            .reduce(f64::max),
        cpu_usec: samples.iter().map(|s| s.cpu_usec).max().unwrap_or(0),
    })
}

impl TimelinePeaks {
    /// One line for a terminal: `15 samples over 1.40 s: peak RSS 70.1 MiB, ...`.
    pub fn line(&self) -> String {
        let cpu = self
            .peak_cpu_percent
            .map_or("—".to_string(), |c| format!("{c:.0}%"));
        format!(
            "{} samples over {:.2} s: peak RSS {}, cgroup memory {}, CPU {} of one CPU at most \
             ({:.2} s in all), up to {} processes, {} threads, {} open fds",
            self.samples,
            self.span_ns as f64 / 1e9,
            format::mib(self.peak_rss_bytes as f64),
            format::mib(self.peak_memory_bytes as f64),
            cpu,
            self.cpu_usec as f64 / 1e6,
            self.max_pids,
            self.max_threads,
            self.max_fds
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::metrics::{CpuSource, MemorySource};

    fn sample(t_ms: u64, rss_mib: u64, cpu: Option<f64>, threads: u64) -> MetricsSample {
        MetricsSample {
            t_ns: t_ms * 1_000_000,
            pids: 1 + threads as u32 / 4,
            threads,
            fds: 3 + threads,
            rss_bytes: rss_mib << 20,
            memory_bytes: (rss_mib + 1) << 20,
            memory_source: MemorySource::CgroupV2MemoryCurrent,
            cpu_usec: t_ms * 900,
            cpu_source: CpuSource::CgroupV2CpuStat,
            cpu_percent: cpu,
        }
    }

    #[test]
    fn peaks_are_maxima_and_the_span_runs_first_to_last() {
        let s = [
            sample(5, 1, None, 1),
            sample(255, 40, Some(180.0), 9),
            sample(505, 20, Some(35.5), 2),
        ];
        let p = peaks(&s).unwrap();
        assert_eq!(p.samples, 3);
        assert_eq!(p.span_ns, 500_000_000);
        assert_eq!(p.peak_rss_bytes, 40 << 20);
        assert_eq!(p.peak_memory_bytes, 41 << 20);
        assert_eq!(p.peak_cpu_percent, Some(180.0));
        assert_eq!((p.max_pids, p.max_threads, p.max_fds), (3, 9, 12));
        assert_eq!(p.cpu_usec, 505 * 900);
        assert_eq!(
            p.line(),
            "3 samples over 0.50 s: peak RSS 40.0 MiB, cgroup memory 41.0 MiB, CPU 180% of one \
             CPU at most (0.45 s in all), up to 3 processes, 9 threads, 12 open fds"
        );
    }

    #[test]
    fn no_samples_no_peaks_and_no_cpu_interval_is_a_dash() {
        assert_eq!(peaks(&[]), None);
        let p = peaks(&[sample(5, 1, None, 1)]).unwrap();
        assert_eq!(p.peak_cpu_percent, None);
        assert!(p.line().contains("CPU — of one CPU"), "{}", p.line());
    }
}
