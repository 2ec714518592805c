//! Mann-Whitney U test: exact (conditional on ties) up to 50 values per side, normal beyond.

use super::percentile::check_finite;
use super::ranks::{
    doubled, k_subset_distribution, midranks, normal_two_sided, tie_term, two_sided,
};
use super::signed_rank::{TestMethod, TestResult};
use super::StatsError;

/// Largest size of either sample for which the Mann-Whitney test (and the unpaired
/// confidence interval) uses the exact distribution.
pub const EXACT_MAX_PER_SIDE: usize = 50;

/// Whether samples of sizes `m` and `n` get the exact distribution.
pub(crate) fn exact_sizes(m: usize, n: usize) -> bool {
    m.max(n) <= EXACT_MAX_PER_SIDE
}

/// The exact null distribution of U for untied samples of sizes `m` and `n`, as
/// probabilities indexed by U = 0..=m n.
pub(crate) fn u_distribution(m: usize, n: usize) -> Vec<f64> {
    let k = m.min(n);
    let ranks: Vec<usize> = (1..=m + n).collect();
    let rank_sum = k_subset_distribution(&ranks, k);
    // U = R - k(k+1)/2 for the sample of size k, in 0..=m n; U has the same law for either
    // sample.
    let offset = k * (k + 1) / 2;
    rank_sum
        .get(offset..=offset + m * n)
        .unwrap_or(&[])
        .to_vec()
}

/// Two-sided Mann-Whitney U test of `x` against `y` (a location shift between independent
/// samples). The statistic is U of `x`: the number of pairs with x > y, ties counting 1/2.
///
/// Mid-ranks over the pooled sample. When neither sample exceeds [`EXACT_MAX_PER_SIDE`] the
/// p-value is exact: every split of the observed mid-ranks into the two samples equally
/// likely (the permutation distribution, conditional on the ties), enumerated by a dynamic
/// program over doubled mid-ranks. Beyond, the normal approximation with the tie-corrected
/// variance m n/12 ((N+1) - sum(t^3 - t)/(N(N-1))) and a 0.5 continuity correction
/// (SciPy's `method="asymptotic", use_continuity=True`).
///
/// Errors: an empty sample, or a NaN or infinite value.
pub fn mann_whitney_test(x: &[f64], y: &[f64]) -> Result<TestResult, StatsError> {
    for (values, what) in [(x, "first sample"), (y, "second sample")] {
        if values.is_empty() {
            return Err(StatsError::TooFew {
                needed: 1,
                got: 0,
                what,
            });
        }
        check_finite(values, what)?;
    }
    let (nx, ny) = (x.len(), y.len());
    let pooled: Vec<f64> = x.iter().chain(y).copied().collect();
    let ranks = midranks(&pooled);
    let rx: f64 = ranks[..nx].iter().sum();
    let u = rx - (nx * (nx + 1)) as f64 / 2.0;
    let ties = tie_term(&pooled);
    let n = u32::try_from(nx + ny).unwrap_or(u32::MAX);
    if exact_sizes(nx, ny) {
        // The rank sum of the smaller sample; its null is symmetric, so the two-sided p is
        // the same whichever sample it is taken from.
        let (k, observed) = if nx <= ny {
            (nx, rx)
        } else {
            (ny, ranks[nx..].iter().sum())
        };
        let dist = k_subset_distribution(&doubled(&ranks), k);
        return Ok(TestResult {
            statistic: u,
            p_value: two_sided(&dist, (observed * 2.0).round() as usize),
            method: TestMethod::Exact,
            n,
            ties: ties > 0.0,
        });
    }
    let (fx, fy) = (nx as f64, ny as f64);
    let total = fx + fy;
    let var = fx * fy / 12.0 * ((total + 1.0) - ties / (total * (total - 1.0)));
    let p_value = if var > 0.0 {
        normal_two_sided(((u - fx * fy / 2.0).abs() - 0.5).max(0.0) / var.sqrt())
    } else {
        // Every value tied: U is its mean whatever the split.
        1.0
    };
    Ok(TestResult {
        statistic: u,
        p_value,
        method: TestMethod::Normal,
        n,
        ties: ties > 0.0,
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
    fn three_against_four_by_hand() {
        // x = {1, 2, 4} among 1..=7: U = 0 + 0 + 1 = 1. P(U <= 1) = 2/35: two-sided 4/35.
        let r = mann_whitney_test(&[1.0, 2.0, 4.0], &[3.0, 5.0, 6.0, 7.0]).unwrap();
        assert_eq!(r.statistic, 1.0);
        assert!((r.p_value - 4.0 / 35.0).abs() < 1e-15);
        // Unequal sizes the other way round give the same p.
        let s = mann_whitney_test(&[3.0, 5.0, 6.0, 7.0], &[1.0, 2.0, 4.0]).unwrap();
        assert_eq!(s.statistic, 11.0);
        assert!((s.p_value - r.p_value).abs() < 1e-15);
    }

    #[test]
    fn ties_by_hand() {
        // Pooled {1, 1, 2, 2}: mid-ranks 1.5, 1.5, 3.5, 3.5. x = {1, 1}: R = 3, U = 0.
        // Of the C(4,2) = 6 splits only x = {1, 1} has R <= 3: two-sided 2/6.
        let r = mann_whitney_test(&[1.0, 1.0], &[2.0, 2.0]).unwrap();
        assert_eq!((r.statistic, r.ties), (0.0, true));
        assert!((r.p_value - 1.0 / 3.0).abs() < 1e-15);
        // x = {1, 2}: R = 5, U = 2, the centre of the null: p = 1.
        let r = mann_whitney_test(&[1.0, 2.0], &[1.0, 2.0]).unwrap();
        assert_eq!((r.statistic, r.p_value), (2.0, 1.0));
    }

    #[test]
    fn identical_samples_give_p_one() {
        let r = mann_whitney_test(&[1.0, 1.0, 1.0], &[1.0, 1.0, 1.0]).unwrap();
        assert_eq!(r.p_value, 1.0);
        let big = vec![7.0; 60];
        let r = mann_whitney_test(&big, &big).unwrap();
        assert_eq!((r.method, r.p_value), (TestMethod::Normal, 1.0));
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert!(matches!(
            mann_whitney_test(&[], &[1.0]),
            Err(StatsError::TooFew { .. })
        ));
        assert_eq!(
            mann_whitney_test(&[1.0], &[2.0, f64::NAN]),
            Err(StatsError::NotFinite {
                what: "second sample",
                index: 1
            })
        );
    }

    #[test]
    fn u_distribution_by_hand() {
        // m = n = 2: U in 0..=4 with counts 1, 1, 2, 1, 1 of 6.
        let d = u_distribution(2, 2);
        let sixths: Vec<f64> = d.iter().map(|p| (p * 6.0).round()).collect();
        assert_eq!(sixths, vec![1.0, 1.0, 2.0, 1.0, 1.0]);
        assert_eq!(u_distribution(3, 5).len(), 16);
    }

    #[test]
    fn method_switches_above_fifty_per_side() {
        let x: Vec<f64> = (0..50).map(f64::from).collect();
        let y: Vec<f64> = (0..50).map(|i| f64::from(i) + 0.25).collect();
        assert_eq!(mann_whitney_test(&x, &y).unwrap().method, TestMethod::Exact);
        let y: Vec<f64> = (0..51).map(|i| f64::from(i) + 0.25).collect();
        assert_eq!(
            mann_whitney_test(&x, &y).unwrap().method,
            TestMethod::Normal
        );
    }
}
