//! Hodges-Lehmann shift estimates with exact distribution-free confidence intervals.

use serde::{Deserialize, Serialize};

use super::mann_whitney::{k_subset_sum_distribution, mann_whitney_test, EXACT_MAX_TOTAL};
use super::percentile::{median_sorted, sorted_finite};
use super::ranks::normal_quantile;
use super::signed_rank::{signed_rank_test, subset_sum_distribution, TestMethod, EXACT_MAX_N};
use super::verdict::{verdict, Verdict};
use super::StatsError;

/// A shift of `cand` relative to `base` (positive: cand is larger).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShiftEstimate {
    /// Hodges-Lehmann estimate.
    pub estimate: f64,
    /// Confidence interval [low, high]; None when n is too small to reach the level.
    pub ci: Option<(f64, f64)>,
    /// The confidence actually achieved by the order statistics chosen (>= the level asked).
    pub achieved_confidence: Option<f64>,
    /// How the CI's order statistics were chosen.
    pub ci_method: TestMethod,
    /// Two-sided p-value of the matching rank test; None when the test is undefined
    /// (e.g. every paired difference is zero).
    pub p_value: Option<f64>,
    pub paired: bool,
    /// Pairs (paired) or the smaller sample (unpaired).
    pub n: u32,
    pub verdict: Verdict,
}

fn check_level(level: f64) -> Result<f64, StatsError> {
    if level > 0.0 && level < 1.0 {
        Ok(1.0 - level)
    } else {
        Err(StatsError::BadLevel(level))
    }
}

/// Index (1-based) of the lower CI order statistic from a null distribution over
/// integer statistic values: the largest c with P(T <= c - 1) <= alpha/2. Also returns the
/// achieved confidence 1 - 2 P(T <= c - 1). None when even c = 1 is too wide.
fn lower_index(dist: &[f64], alpha: f64) -> Option<(usize, f64)> {
    let mut cum = 0.0;
    let mut best = None;
    for (t, p) in dist.iter().enumerate() {
        cum += p;
        // Allow for float rounding at exact boundaries.
        if cum <= alpha / 2.0 + 1e-12 {
            best = Some((t + 1, 1.0 - 2.0 * cum));
        } else {
            break;
        }
    }
    best
}

/// Normal-approximation lower index for large n.
fn lower_index_normal(mean: f64, sd: f64, alpha: f64) -> Option<(usize, f64)> {
    let z = normal_quantile(1.0 - alpha / 2.0);
    let c = (mean - z * sd).floor();
    (c >= 1.0).then_some((c as usize, 1.0 - alpha))
}

/// The CI [v_(c), v_(len+1-c)] from sorted values and a lower index.
fn interval(sorted: &[f64], idx: Option<(usize, f64)>) -> (Option<(f64, f64)>, Option<f64>) {
    match idx {
        Some((c, conf)) if c >= 1 && c <= sorted.len() + 1 - c => {
            (Some((sorted[c - 1], sorted[sorted.len() - c])), Some(conf))
        }
        _ => (None, None),
    }
}

/// Paired shift of `cand` over `base`: the median of the Walsh averages of d = cand - base,
/// with the exact CI from the signed-rank null distribution for n untied differences
/// (Hollander & Wolfe; zeros included), normal beyond n = 50. The p-value is the
/// signed-rank test's (zeros dropped, mid-ranks).
pub fn paired_shift(base: &[f64], cand: &[f64], level: f64) -> Result<ShiftEstimate, StatsError> {
    let alpha = check_level(level)?;
    if base.len() != cand.len() {
        return Err(StatsError::LengthMismatch {
            base: base.len(),
            cand: cand.len(),
        });
    }
    if base.is_empty() {
        return Err(StatsError::TooFew {
            needed: 1,
            got: 0,
            what: "pairs",
        });
    }
    let diffs: Vec<f64> = base.iter().zip(cand).map(|(b, c)| c - b).collect();
    let mut walsh = Vec::with_capacity(diffs.len() * (diffs.len() + 1) / 2);
    for i in 0..diffs.len() {
        for j in i..diffs.len() {
            walsh.push((diffs[i] + diffs[j]) / 2.0);
        }
    }
    let walsh = sorted_finite(&walsh).ok_or(StatsError::NotFinite)?;
    let estimate = median_sorted(&walsh).ok_or(StatsError::NotFinite)?;
    let n = diffs.len();
    let (idx, ci_method) = if n <= EXACT_MAX_N {
        let ranks: Vec<usize> = (1..=n).collect();
        (
            lower_index(&subset_sum_distribution(&ranks), alpha),
            TestMethod::Exact,
        )
    } else {
        let nf = n as f64;
        let mean = nf * (nf + 1.0) / 4.0;
        let sd = (nf * (nf + 1.0) * (2.0 * nf + 1.0) / 24.0).sqrt();
        (lower_index_normal(mean, sd, alpha), TestMethod::Normal)
    };
    let (ci, achieved_confidence) = interval(&walsh, idx);
    let p_value = signed_rank_test(&diffs).ok().map(|t| t.p_value);
    Ok(ShiftEstimate {
        estimate,
        ci,
        achieved_confidence,
        ci_method,
        p_value,
        paired: true,
        n: n as u32,
        verdict: verdict(true, n, n, ci, p_value),
    })
}

/// Unpaired shift of `cand` over `base`: the median of all differences cand_j - base_i,
/// with the exact CI from the Mann-Whitney null distribution (untied), normal beyond a
/// total of 80. The p-value is the Mann-Whitney test's (mid-ranks, exact conditional).
pub fn unpaired_shift(base: &[f64], cand: &[f64], level: f64) -> Result<ShiftEstimate, StatsError> {
    let alpha = check_level(level)?;
    if base.is_empty() || cand.is_empty() {
        return Err(StatsError::TooFew {
            needed: 1,
            got: 0,
            what: "values on each side",
        });
    }
    let mut diffs = Vec::with_capacity(base.len() * cand.len());
    for c in cand {
        for b in base {
            diffs.push(c - b);
        }
    }
    let diffs = sorted_finite(&diffs).ok_or(StatsError::NotFinite)?;
    let estimate = median_sorted(&diffs).ok_or(StatsError::NotFinite)?;
    let (m, n) = (base.len(), cand.len());
    let (idx, ci_method) = if m + n <= EXACT_MAX_TOTAL {
        // Distribution of the rank sum of `cand` among 1..=m+n; U = R - n(n+1)/2.
        let ranks: Vec<usize> = (1..=m + n).collect();
        let rank_sum = k_subset_sum_distribution(&ranks, n);
        let offset = n * (n + 1) / 2;
        let u_dist: Vec<f64> = rank_sum.get(offset..).unwrap_or(&[]).to_vec();
        (lower_index(&u_dist, alpha), TestMethod::Exact)
    } else {
        let (mf, nf) = (m as f64, n as f64);
        let sd = (mf * nf * (mf + nf + 1.0) / 12.0).sqrt();
        (
            lower_index_normal(mf * nf / 2.0, sd, alpha),
            TestMethod::Normal,
        )
    };
    let (ci, achieved_confidence) = interval(&diffs, idx);
    let p_value = mann_whitney_test(cand, base).ok().map(|t| t.p_value);
    Ok(ShiftEstimate {
        estimate,
        ci,
        achieved_confidence,
        ci_method,
        p_value,
        paired: false,
        n: m.min(n) as u32,
        verdict: verdict(false, m, n, ci, p_value),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paired_six_gives_min_max_at_96_9_percent() {
        let base = [10.0; 6];
        let cand = [11.0, 12.0, 13.0, 14.0, 15.0, 16.0];
        let s = paired_shift(&base, &cand, 0.95).unwrap();
        assert_eq!(s.estimate, 3.5);
        assert_eq!(s.ci, Some((1.0, 6.0)));
        assert!((s.achieved_confidence.unwrap() - (1.0 - 2.0 / 64.0)).abs() < 1e-12);
        assert_eq!(s.verdict, Verdict::Difference);
        assert!((s.p_value.unwrap() - 0.03125).abs() < 1e-12);
    }

    #[test]
    fn paired_five_has_no_ci_and_too_few_pairs() {
        let s = paired_shift(&[0.0; 5], &[1.0, 2.0, 3.0, 4.0, 5.0], 0.95).unwrap();
        assert_eq!(s.ci, None);
        assert_eq!(s.verdict, Verdict::InsufficientSamples);
    }

    #[test]
    fn unpaired_four_and_four() {
        let s = unpaired_shift(&[1.0, 2.0, 3.0, 4.0], &[11.0, 12.0, 13.0, 14.0], 0.95).unwrap();
        assert_eq!(s.estimate, 10.0);
        // P(U = 0) = 1/70 <= 0.025, P(U <= 1) = 2/70 > 0.025: c = 1 -> [min, max].
        assert_eq!(s.ci, Some((7.0, 13.0)));
        assert_eq!(s.verdict, Verdict::Difference);
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert!(matches!(
            paired_shift(&[1.0], &[1.0, 2.0], 0.95),
            Err(StatsError::LengthMismatch { .. })
        ));
        assert!(matches!(
            paired_shift(&[f64::NAN], &[1.0], 0.95),
            Err(StatsError::NotFinite)
        ));
        assert!(matches!(
            unpaired_shift(&[], &[1.0], 0.95),
            Err(StatsError::TooFew { .. })
        ));
        assert!(matches!(
            paired_shift(&[1.0], &[1.0], 1.5),
            Err(StatsError::BadLevel(_))
        ));
    }
}
