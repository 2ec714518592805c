//! Mann-Whitney U test for two independent samples: exact (conditional on ties) or normal.

use super::ranks::{midranks, normal_cdf, tie_groups};
use super::signed_rank::{two_sided, TestMethod, TestResult};
use super::StatsError;

/// Largest total sample size for which the exact distribution is used.
pub const EXACT_MAX_TOTAL: usize = 80;

/// Exact distribution of the sum of a uniformly random `k`-subset of integer `weights`,
/// as probabilities indexed by the sum.
pub(crate) fn k_subset_sum_distribution(weights: &[usize], k: usize) -> Vec<f64> {
    let total: usize = weights.iter().sum();
    // counts[j][s]: number of j-subsets of the items seen so far with sum s.
    let mut counts = vec![vec![0.0f64; total + 1]; k + 1];
    counts[0][0] = 1.0;
    let mut reach = 0;
    for (i, &w) in weights.iter().enumerate() {
        for j in (1..=k.min(i + 1)).rev() {
            let (before, after) = counts.split_at_mut(j);
            let prev = &before[j - 1];
            let cur = &mut after[0];
            for s in (0..=reach).rev() {
                if prev[s] != 0.0 {
                    cur[s + w] += prev[s];
                }
            }
        }
        reach += w;
    }
    let all: f64 = counts[k].iter().sum();
    counts[k].iter().map(|c| c / all).collect()
}

/// Mann-Whitney U test of `x` against `y`, two-sided. Mid-ranks for ties; exact over the
/// actual (doubled) ranks when the total n <= [`EXACT_MAX_TOTAL`], else the normal
/// approximation with tie and continuity corrections. The statistic is U of `x`.
pub fn mann_whitney_test(x: &[f64], y: &[f64]) -> Result<TestResult, StatsError> {
    if x.is_empty() || y.is_empty() {
        return Err(StatsError::TooFew {
            needed: 1,
            got: 0,
            what: "values on each side",
        });
    }
    if x.iter().chain(y).any(|v| !v.is_finite()) {
        return Err(StatsError::NotFinite);
    }
    let (nx, ny) = (x.len(), y.len());
    let all: Vec<f64> = x.iter().chain(y).copied().collect();
    let ranks = midranks(&all);
    let rx: f64 = ranks[..nx].iter().sum();
    let u = rx - (nx * (nx + 1)) as f64 / 2.0;
    let n = (nx + ny) as u32;
    if nx + ny <= EXACT_MAX_TOTAL {
        let doubled: Vec<usize> = ranks.iter().map(|r| (r * 2.0).round() as usize).collect();
        let dist = k_subset_sum_distribution(&doubled, nx);
        let p = two_sided(&dist, (rx * 2.0).round() as usize);
        return Ok(TestResult {
            statistic: u,
            p_value: p,
            method: TestMethod::Exact,
            n,
        });
    }
    let (fx, fy) = (nx as f64, ny as f64);
    let nt = fx + fy;
    let mean = fx * fy / 2.0;
    let tie_term: f64 = tie_groups(&all)
        .iter()
        .map(|&t| (t * t * t - t) as f64)
        .sum();
    let var = fx * fy / 12.0 * ((nt + 1.0) - tie_term / (nt * (nt - 1.0)));
    let z = ((u - mean).abs() - 0.5).max(0.0) / var.sqrt();
    Ok(TestResult {
        statistic: u,
        p_value: (2.0 * (1.0 - normal_cdf(z))).min(1.0),
        method: TestMethod::Normal,
        n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_separation_of_four_and_four() {
        // P(U = 0) = 1 / C(8,4) = 1/70; two-sided 2/70.
        let r = mann_whitney_test(&[1.0, 2.0, 3.0, 4.0], &[5.0, 6.0, 7.0, 8.0]).unwrap();
        assert_eq!(r.statistic, 0.0);
        assert!((r.p_value - 2.0 / 70.0).abs() < 1e-15, "{}", r.p_value);
        let r = mann_whitney_test(&[5.0, 6.0, 7.0, 8.0], &[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!(r.statistic, 16.0);
        assert!((r.p_value - 2.0 / 70.0).abs() < 1e-15);
    }

    #[test]
    fn identical_samples_give_p_one() {
        let r = mann_whitney_test(&[1.0, 1.0, 1.0], &[1.0, 1.0, 1.0]).unwrap();
        assert_eq!(r.p_value, 1.0);
        assert!(mann_whitney_test(&[], &[1.0]).is_err());
    }

    #[test]
    fn subset_distribution_is_normalised() {
        let d = k_subset_sum_distribution(&[1, 2, 3, 4], 2);
        assert!((d.iter().sum::<f64>() - 1.0).abs() < 1e-15);
        // 2-subsets of {1,2,3,4}: sums 3,4,5,5,6,7.
        assert!((d[5] - 2.0 / 6.0).abs() < 1e-15);
    }
}
