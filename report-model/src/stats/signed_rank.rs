//! Wilcoxon signed-rank test: exact (conditional on ties) up to 50 differences, normal beyond.

use serde::{Deserialize, Serialize};

use super::percentile::check_finite;
use super::ranks::{
    doubled, midranks, normal_two_sided, sign_flip_distribution, tie_term, two_sided,
};
use super::StatsError;

/// Largest number of non-zero differences for which the signed-rank test (and the paired
/// confidence interval) uses the exact distribution.
pub const EXACT_MAX_N: usize = 50;

/// How a p-value or a confidence interval was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestMethod {
    /// The exact permutation distribution of the statistic over the actual mid-ranks
    /// (conditional on the ties; the classical exact distribution when there are none).
    Exact,
    /// The normal approximation, with tie and continuity corrections.
    Normal,
}

/// Result of a two-sided rank test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestResult {
    /// Signed-rank: W+, the sum of the mid-ranks of |d| over positive d.
    /// Mann-Whitney: U of the first sample, R1 - n1(n1+1)/2 (ties count 1/2).
    pub statistic: f64,
    /// Two-sided: min(1, 2 min(P(T <= t), P(T >= t))) under the null.
    pub p_value: f64,
    pub method: TestMethod,
    /// Observations ranked: non-zero differences (signed-rank), n1 + n2 (Mann-Whitney).
    pub n: u32,
    /// Whether the ranks had ties (so mid-ranks and the conditional distribution were used).
    pub ties: bool,
}

/// Wilcoxon signed-rank test of paired differences (cand - base) against a zero shift.
///
/// Zero differences are dropped (Wilcoxon's method, SciPy's default `zero_method="wilcox"`)
/// and tied |d| share mid-ranks. Up to [`EXACT_MAX_N`] non-zero differences the p-value is
/// exact: every sign pattern of the observed mid-ranks equally likely, enumerated by a
/// dynamic program over doubled mid-ranks (integers). Beyond, the normal approximation with
/// variance n(n+1)(2n+1)/24 - sum(t^3 - t)/48 and a 0.5 continuity correction (SciPy's
/// `method="asymptotic", correction=True`).
///
/// Errors: an empty input, a NaN or infinite difference, or no non-zero difference.
pub fn signed_rank_test(diffs: &[f64]) -> Result<TestResult, StatsError> {
    if diffs.is_empty() {
        return Err(StatsError::TooFew {
            needed: 1,
            got: 0,
            what: "differences",
        });
    }
    check_finite(diffs, "differences")?;
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
    let ties = tie_term(&abs);
    let n32 = u32::try_from(n).unwrap_or(u32::MAX);
    if n <= EXACT_MAX_N {
        let dist = sign_flip_distribution(&doubled(&ranks));
        return Ok(TestResult {
            statistic: w_plus,
            p_value: two_sided(&dist, (w_plus * 2.0).round() as usize),
            method: TestMethod::Exact,
            n: n32,
            ties: ties > 0.0,
        });
    }
    let nf = n as f64;
    let mean = nf * (nf + 1.0) / 4.0;
    let var = nf * (nf + 1.0) * (2.0 * nf + 1.0) / 24.0 - ties / 48.0;
    let z = ((w_plus - mean).abs() - 0.5).max(0.0) / var.sqrt();
    Ok(TestResult {
        statistic: w_plus,
        p_value: normal_two_sided(z),
        method: TestMethod::Normal,
        n: n32,
        ties: ties > 0.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_positive_differences() {
        // Only the all-positive sign pattern reaches W+ = 21: p = 2/64.
        let r = signed_rank_test(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
        assert_eq!(r.statistic, 21.0);
        assert_eq!(r.p_value, 0.03125);
        assert_eq!(r.method, TestMethod::Exact);
        assert!(!r.ties);
        let r = signed_rank_test(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert_eq!(r.p_value, 0.0625);
        let r = signed_rank_test(&[-0.5, -1.0, -2.0, -3.0, -4.0, -5.0, -6.0]).unwrap();
        assert_eq!((r.statistic, r.p_value), (0.0, 2.0 / 128.0));
    }

    #[test]
    fn one_negative_of_six() {
        // W+ = 20 (rank 1 negative): P(W+ >= 20) = 2/64, two-sided 4/64.
        let r = signed_rank_test(&[-1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
        assert_eq!(r.statistic, 20.0);
        assert_eq!(r.p_value, 0.0625);
        // W+ = 19 (rank 2 negative): patterns with W- <= 2 are {}, {1}, {2}: 2 * 3/64.
        let r = signed_rank_test(&[1.0, -2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
        assert_eq!(r.p_value, 0.09375);
    }

    #[test]
    fn ties_use_the_conditional_distribution() {
        // |d| = 1, 1, 2, 2: mid-ranks 1.5, 1.5, 3.5, 3.5 (doubled 3, 3, 7, 7). All positive:
        // W+ = 10, only the all-positive pattern reaches it: p = 2/16.
        let r = signed_rank_test(&[1.0, 1.0, 2.0, 2.0]).unwrap();
        assert_eq!((r.statistic, r.p_value, r.ties), (10.0, 0.125, true));
        // One of the rank-1.5 values negative: W+ = 8.5. W- <= 1.5 occurs for the empty set
        // and either 1.5: 3 of 16 patterns, p = 6/16.
        let r = signed_rank_test(&[-1.0, 1.0, 2.0, 2.0]).unwrap();
        assert_eq!((r.statistic, r.p_value), (8.5, 0.375));
    }

    #[test]
    fn zeros_dropped_and_symmetry() {
        let a = signed_rank_test(&[0.0, 1.0, -2.0, 3.0, 0.0]).unwrap();
        assert_eq!(a.n, 3);
        let b = signed_rank_test(&[-1.0, 2.0, -3.0]).unwrap();
        assert_eq!(a.p_value, b.p_value);
        assert_eq!(a.statistic, 4.0);
        assert_eq!(b.statistic, 2.0);
        assert!(matches!(
            signed_rank_test(&[0.0, 0.0]),
            Err(StatsError::TooFew { .. })
        ));
        assert!(matches!(
            signed_rank_test(&[]),
            Err(StatsError::TooFew { .. })
        ));
        assert_eq!(
            signed_rank_test(&[1.0, f64::NAN]),
            Err(StatsError::NotFinite {
                what: "differences",
                index: 1
            })
        );
    }

    #[test]
    fn normal_beyond_fifty() {
        // 60 differences 1..=60, all positive: W+ = 1830, mean 915, var 18452.5.
        let d: Vec<f64> = (1..=60).map(f64::from).collect();
        let r = signed_rank_test(&d).unwrap();
        assert_eq!(r.method, TestMethod::Normal);
        assert_eq!(r.statistic, 1830.0);
        let z: f64 = (915.0 - 0.5) / 18452.5f64.sqrt();
        assert!((r.p_value - normal_two_sided(z)).abs() < 1e-18);
        // Balanced signs: p = 1 after the continuity correction.
        let d: Vec<f64> = (1..=60)
            .map(|i| {
                if i % 4 == 1 || i % 4 == 0 {
                    i as f64
                } else {
                    -(i as f64)
                }
            })
            .collect();
        let r = signed_rank_test(&d).unwrap();
        assert_eq!(r.statistic, 915.0);
        assert_eq!(r.p_value, 1.0);
    }

    #[test]
    fn exact_at_fifty_is_normalised() {
        let d: Vec<f64> = (1..=50).map(|i| f64::from(i % 7) + 0.5).collect();
        let r = signed_rank_test(&d).unwrap();
        assert_eq!(r.method, TestMethod::Exact);
        assert!(r.ties);
        assert!(r.p_value > 0.0 && r.p_value < 1e-14, "{}", r.p_value);
    }
}
