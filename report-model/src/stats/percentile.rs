//! Nearest-rank percentiles, the median, and the p99/median tail ratio with its bands.

use serde::{Deserialize, Serialize};

/// The `p`-th percentile (0 < p <= 100) of sorted values by nearest rank: the value at
/// 1-based rank ceil(p/100 * n). None for empty input.
pub fn nearest_rank(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() || !(p > 0.0 && p <= 100.0) {
        return None;
    }
    let n = sorted.len();
    // Round away float noise (e.g. 0.95 * 20 = 19.000000000000004) before the ceiling.
    let exact = p / 100.0 * n as f64;
    let rank = ((exact * 1e9).round() / 1e9).ceil() as usize;
    Some(sorted[rank.clamp(1, n) - 1])
}

/// The ordinary median of sorted values (mean of the two middle ones for even n).
pub fn median_sorted(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    Some(if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    })
}

/// Sorts finite values; None when empty or when any value is NaN or infinite.
pub fn sorted_finite(values: &[f64]) -> Option<Vec<f64>> {
    if values.is_empty() || values.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    Some(v)
}

/// The summary of one sample of values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Distribution {
    pub n: u32,
    pub median: f64,
    /// Nearest-rank p95.
    pub p95: f64,
    /// Nearest-rank p99 (the maximum when n <= 100).
    pub p99: f64,
    pub min: f64,
    pub max: f64,
}

impl Distribution {
    /// Summarises `values`; None when empty or not all finite.
    pub fn of(values: &[f64]) -> Option<Distribution> {
        let s = sorted_finite(values)?;
        Some(Distribution {
            n: s.len() as u32,
            median: median_sorted(&s)?,
            p95: nearest_rank(&s, 95.0)?,
            p99: nearest_rank(&s, 99.0)?,
            min: s[0],
            max: s[s.len() - 1],
        })
    }

    /// Whether p99 is simply the maximum (nearest rank with n <= 100).
    pub fn p99_is_max(&self) -> bool {
        self.n <= 100
    }
}

/// Bands of p99/median: healthy < 1.5, warning 1.5..=2.0, fail > 2.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TailBand {
    Healthy,
    Warning,
    Fail,
}

impl TailBand {
    /// The band of a tail ratio.
    pub fn of(ratio: f64) -> TailBand {
        if ratio < 1.5 {
            TailBand::Healthy
        } else if ratio <= 2.0 {
            TailBand::Warning
        } else {
            TailBand::Fail
        }
    }
}

/// p99/median and its band; None when the median is not positive.
pub fn tail_ratio(d: &Distribution) -> Option<(f64, TailBand)> {
    (d.median > 0.0).then(|| {
        let r = d.p99 / d.median;
        (r, TailBand::of(r))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_by_hand() {
        let v: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(nearest_rank(&v, 95.0), Some(19.0));
        assert_eq!(nearest_rank(&v, 99.0), Some(20.0));
        assert_eq!(nearest_rank(&v, 50.0), Some(10.0));
        assert_eq!(nearest_rank(&v, 5.0), Some(1.0));
        assert_eq!(nearest_rank(&[], 50.0), None);
        assert_eq!(nearest_rank(&v, 0.0), None);
        let hundred: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(nearest_rank(&hundred, 99.0), Some(99.0));
        let more: Vec<f64> = (1..=101).map(f64::from).collect();
        assert_eq!(nearest_rank(&more, 99.0), Some(100.0));
    }

    #[test]
    fn distribution_and_bands() {
        let d = Distribution::of(&[4.0, 1.0, 3.0, 2.0]).unwrap();
        assert_eq!(
            (d.n, d.median, d.min, d.max, d.p99),
            (4, 2.5, 1.0, 4.0, 4.0)
        );
        assert!(d.p99_is_max());
        assert_eq!(Distribution::of(&[]), None);
        assert_eq!(Distribution::of(&[1.0, f64::NAN]), None);
        assert_eq!(TailBand::of(1.49), TailBand::Healthy);
        assert_eq!(TailBand::of(1.5), TailBand::Warning);
        assert_eq!(TailBand::of(2.0), TailBand::Warning);
        assert_eq!(TailBand::of(2.01), TailBand::Fail);
        assert_eq!(tail_ratio(&d), Some((1.6, TailBand::Warning)));
    }
}
