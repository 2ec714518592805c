//! Wilcoxon signed-rank test: exact (conditional on ties) for n <= 50, normal beyond.

use serde::{Deserialize, Serialize};

use super::ranks::{midranks, normal_cdf, tie_groups};
use super::StatsError;

/// Largest number of non-zero differences for which the exact distribution is used.
pub const EXACT_MAX_N: usize = 50;

/// How a p-value was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestMethod {
    /// Exact permutation distribution over the actual (mid-)ranks.
    Exact,
    /// Normal approximation with tie and continuity corrections.
    Normal,
}

/// Result of a rank test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestResult {
    /// W+ (signed-rank) or U of the first sample (Mann-Whitney).
    pub statistic: f64,
    /// Two-sided: min(1, 2 * min(P(T <= t), P(T >= t))).
    pub p_value: f64,
    pub method: TestMethod,
    /// Observations used (non-zero differences for signed-rank).
    pub n: u32,
}

/// Exact null distribution of the sum of a random subset of `weights` (each in or out
/// with probability 1/2), as probabilities indexed by the sum. Weights are integers.
pub(crate) fn subset_sum_distribution(weights: &[usize]) -> Vec<f64> {
    let total: usize = weights.iter().sum();
    let mut dist = vec![0.0f64; total + 1];
    dist[0] = 1.0;
    let mut reach = 0;
    for &w in weights {
        for s in (0..=reach).rev() {
            let p = dist[s] * 0.5;
            dist[s] = p;
            dist[s + w] += p;
        }
        reach += w;
    }
    dist
}

/// Two-sided p from a discrete distribution over integer sums and an observed sum.
pub(crate) fn two_sided(dist: &[f64], observed: usize) -> f64 {
    let lower: f64 = dist[..=observed.min(dist.len() - 1)].iter().sum();
    let upper: f64 = dist[observed.min(dist.len())..].iter().sum();
    (2.0 * lower.min(upper)).min(1.0)
}

/// Wilcoxon signed-rank test on paired differences. Zeros are dropped (Wilcoxon's method,
/// SciPy's default `zero_method="wilcox"`); ties get mid-ranks. Exact for up to
/// [`EXACT_MAX_N`] non-zero differences (over doubled mid-ranks, so conditional on the
/// ties), else the normal approximation with tie and continuity corrections.
pub fn signed_rank_test(diffs: &[f64]) -> Result<TestResult, StatsError> {
    if diffs.iter().any(|d| !d.is_finite()) {
        return Err(StatsError::NotFinite);
    }
    let nz: Vec<f64> = diffs.iter().copied().filter(|d| *d != 0.0).collect();
    let n = nz.len();
    if n == 0 {
        return Err(StatsError::TooFew {
            needed: 1,
            got: 0,
            what: "non-zero differences",
        });
    }
    let abs: Vec<f64> = nz.iter().map(|d| d.abs()).collect();
    let ranks = midranks(&abs);
    let w_plus: f64 = nz
        .iter()
        .zip(&ranks)
        .filter(|(d, _)| **d > 0.0)
        .map(|(_, r)| r)
        .sum();
    if n <= EXACT_MAX_N {
        // Doubled mid-ranks are integers.
        let doubled: Vec<usize> = ranks.iter().map(|r| (r * 2.0).round() as usize).collect();
        let dist = subset_sum_distribution(&doubled);
        let p = two_sided(&dist, (w_plus * 2.0).round() as usize);
        return Ok(TestResult {
            statistic: w_plus,
            p_value: p,
            method: TestMethod::Exact,
            n: n as u32,
        });
    }
    let nf = n as f64;
    let mean = nf * (nf + 1.0) / 4.0;
    let tie_term: f64 = tie_groups(&abs)
        .iter()
        .map(|&t| (t * t * t - t) as f64)
        .sum::<f64>()
        / 48.0;
    let var = nf * (nf + 1.0) * (2.0 * nf + 1.0) / 24.0 - tie_term;
    let z = ((w_plus - mean).abs() - 0.5).max(0.0) / var.sqrt();
    Ok(TestResult {
        statistic: w_plus,
        p_value: (2.0 * (1.0 - normal_cdf(z))).min(1.0),
        method: TestMethod::Normal,
        n: n as u32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_positive_differences() {
        let r = signed_rank_test(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
        assert_eq!(r.statistic, 21.0);
        assert!((r.p_value - 0.03125).abs() < 1e-15);
        assert_eq!(r.method, TestMethod::Exact);
        let r = signed_rank_test(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert!((r.p_value - 0.0625).abs() < 1e-15);
    }

    #[test]
    fn zeros_dropped_and_symmetry() {
        let a = signed_rank_test(&[0.0, 1.0, -2.0, 3.0, 0.0]).unwrap();
        assert_eq!(a.n, 3);
        let b = signed_rank_test(&[-1.0, 2.0, -3.0]).unwrap();
        assert!((a.p_value - b.p_value).abs() < 1e-15);
        assert!(signed_rank_test(&[0.0, 0.0]).is_err());
        assert!(signed_rank_test(&[f64::NAN]).is_err());
    }

    #[test]
    fn distribution_sums_to_one() {
        let d = subset_sum_distribution(&[2, 3, 3, 8]);
        assert!((d.iter().sum::<f64>() - 1.0).abs() < 1e-15);
        assert_eq!(d[0], 1.0 / 16.0);
    }
}
