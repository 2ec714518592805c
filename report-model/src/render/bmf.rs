//! `bmf.json` from a summary: Bencher Metric Format benchmarks per cell, arm and comparison.
//!
//! Naming convention (stable: Bencher keys history on it):
//!
//! | benchmark | measure | value | lower_value | upper_value |
//! |---|---|---|---|---|
//! | `<cell>/<arm>` (`bare`, `a`, `b`, `c`) | `wall_clock_ms` | median | min | nearest-rank p95 |
//! | `<cell>/<arm>` | `peak_rss_bytes` (when measured) | median | min | nearest-rank p95 |
//! | `<cell>/<arm>` | `cpu_time_ms` (the workload's user + system, when measured) | median | min | nearest-rank p95 |
//! | `<cell>/<arm>` | `tare_cpu_time_ms` (tare's own, capture arms) | median | min | nearest-rank p95 |
//! | `<cell>/<arm>` | `memory_peak_bytes` (cgroup charged memory, not RSS) | median | min | nearest-rank p95 |
//! | `<cell>/<delta>` (`a_vs_bare`, `c_vs_a`, `interaction`, ...) | `wall_clock_delta_ms` | Hodges-Lehmann shift (cand - base) | 95% CI low | 95% CI high |
//! | `<cell>/<delta>` | `cpu_time_delta_ms` (when CPU was measured) | Hodges-Lehmann shift (cand - base) | 95% CI low | 95% CI high |
//!
//! Why min and p95 around the median: run-to-run noise in wall-clock is one-sided (interference
//! only adds time), so the fastest run is the natural floor, while the maximum is one outlier
//! that would make the band jump from run to run; p95 bounds the slow tail without it (at
//! n < 20 nearest-rank p95 is the maximum anyway). Peak RSS uses the same rule so every
//! distribution measure reads alike. A delta without a finite estimate (too few samples) is
//! left out, and so is a bound that is missing or not finite: JSON has no NaN, and Bencher
//! would reject it. Deltas of any other metric are named `<metric>_delta`.

use std::collections::BTreeMap;

use crate::analysis::summary::{CPU_MS, WALL_MS};
use crate::schema::bmf::{Bmf, BmfMetric};
use crate::schema::summary::Summary;
use crate::stats::Distribution;

/// Measure of an arm's wall-clock distribution, milliseconds.
pub const WALL_CLOCK_MS: &str = "wall_clock_ms";
/// Measure of an arm's peak RSS distribution, bytes.
pub const PEAK_RSS_BYTES: &str = "peak_rss_bytes";
/// Measure of a wall-clock shift between two arms, milliseconds.
pub const WALL_CLOCK_DELTA_MS: &str = "wall_clock_delta_ms";
/// Measure of an arm's CPU time distribution (the workload's user + system), milliseconds.
pub const CPU_TIME_MS: &str = "cpu_time_ms";
/// Measure of a CPU-time shift between two arms, milliseconds.
pub const CPU_TIME_DELTA_MS: &str = "cpu_time_delta_ms";
/// Measure of tare's own CPU time distribution (capture arms), milliseconds.
pub const TARE_CPU_TIME_MS: &str = "tare_cpu_time_ms";
/// Measure of an arm's charged-memory peak distribution (cgroup, not RSS), bytes.
pub const MEMORY_PEAK_BYTES: &str = "memory_peak_bytes";

fn finite(v: Option<f64>) -> Option<f64> {
    v.filter(|x| x.is_finite())
}

fn of_distribution(d: &Distribution) -> Option<BmfMetric> {
    d.median.is_finite().then(|| BmfMetric {
        value: d.median,
        lower_value: finite(Some(d.min)),
        upper_value: finite(Some(d.p95)),
    })
}

/// The measure name of a delta's metric: `wall_ms` -> `wall_clock_delta_ms`, `cpu_ms` ->
/// `cpu_time_delta_ms`.
pub fn delta_measure(metric: &str) -> String {
    match metric {
        WALL_MS => WALL_CLOCK_DELTA_MS.into(),
        CPU_MS => CPU_TIME_DELTA_MS.into(),
        other => format!("{other}_delta"),
    }
}

/// Every cell's arms and deltas as Bencher Metric Format (see the module docs for the names).
pub fn to_bmf(summary: &Summary) -> Bmf {
    let mut bmf: Bmf = BTreeMap::new();
    for cell in &summary.cells {
        for (arm, s) in &cell.arms {
            let mut measures = BTreeMap::new();
            for (name, d) in [
                (WALL_CLOCK_MS, &s.wall_ms),
                (PEAK_RSS_BYTES, &s.rss_bytes),
                (CPU_TIME_MS, &s.cpu_ms),
                (TARE_CPU_TIME_MS, &s.tare_cpu_ms),
                (MEMORY_PEAK_BYTES, &s.memory_peak_bytes),
            ] {
                if let Some(m) = d.as_ref().and_then(of_distribution) {
                    measures.insert(name.to_string(), m);
                }
            }
            if !measures.is_empty() {
                bmf.insert(format!("{}/{}", cell.id, arm.as_str()), measures);
            }
        }
        for d in &cell.deltas {
            let Some(value) = d.estimate.filter(|v| v.is_finite()) else {
                continue;
            };
            let metric = BmfMetric {
                value,
                lower_value: finite(d.ci_low),
                upper_value: finite(d.ci_high),
            };
            bmf.entry(format!("{}/{}", cell.id, d.name))
                .or_default()
                .insert(delta_measure(&d.metric), metric);
        }
    }
    bmf
}
