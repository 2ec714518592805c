//! Hodges-Lehmann shifts, paired and unpaired, with exact distribution-free confidence intervals.
//!
//! Both intervals invert a rank test through order statistics (Hollander & Wolfe, sections
//! 3.3 and 4.3). Of the M sorted values v_(1) <= ... <= v_(M) (Walsh averages when paired,
//! pairwise differences when unpaired) the interval is [v_(k), v_(M+1-k)], where T is the
//! rank statistic's null distribution for untied data (W+ of n pairs, or U of m and n values)
//! and k is the largest integer >= 1 with
//!
//! P(T <= k - 1) <= alpha/2, alpha = 1 - level.
//!
//! Its exact coverage, 1 - 2 P(T <= k - 1) >= level for continuous data, is reported as
//! `achieved_confidence`. When even k = 1 (the whole range [min, max]) misses the level, there
//! is no interval: `ci` is None and `ci_note` says why. Up to 50 pairs / 50 values per side
//! T's distribution is exact (a dynamic program); beyond, k comes from the normal
//! approximation with a continuity correction, k = floor(E T + 1/2 - z sd T) with z the
//! 1 - alpha/2 normal quantile, and the achieved confidence is the normal approximation of
//! the same formula.
//!
//! Ties and zero differences do not change the rule (the usual convention): the interval is
//! still chosen from the untied null, so its stated coverage is nominal when values tie. Zero
//! differences stay in the Walsh averages (the estimate and interval describe every pair),
//! while the p-value reported alongside is the signed-rank test's, which drops them.

use serde::{Deserialize, Serialize};

use super::mann_whitney::{exact_sizes, mann_whitney_test, u_distribution};
use super::percentile::{check_finite, median_sorted};
use super::ranks::{normal_cdf, normal_quantile, sign_flip_distribution};
use super::signed_rank::{signed_rank_test, TestMethod, EXACT_MAX_N};
use super::verdict::{verdict, Verdict};
use super::StatsError;

/// The confidence level used when the caller has no reason to pick another.
pub const DEFAULT_LEVEL: f64 = 0.95;

/// Relative slack when comparing an exact tail probability with alpha/2, so that a tail equal
/// to alpha/2 (e.g. 3/120 = 0.025) is not lost to rounding in the dynamic program.
const TAIL_SLACK: f64 = 1e-10;

/// A shift of `cand` relative to `base` (positive: cand is larger), with its confidence
/// interval, the matching rank test and a verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShiftEstimate {
    /// Hodges-Lehmann estimate: the median of the Walsh averages (d_i + d_j)/2, i <= j, of
    /// d = cand - base (paired), or of all differences cand_j - base_i (unpaired).
    pub estimate: f64,
    /// The confidence level asked for.
    pub level: f64,
    /// The interval [v_(k), v_(M+1-k)]; None when no interval reaches `level`.
    pub ci: Option<(f64, f64)>,
    /// Coverage of the interval, 1 - 2 P(T <= k - 1) (>= `level` when exact).
    pub achieved_confidence: Option<f64>,
    /// k: the interval runs from the k-th smallest to the k-th largest of the M values.
    pub ci_k: Option<u64>,
    /// M: the number of Walsh averages, n(n+1)/2, or of differences, m n.
    pub ci_m: u64,
    /// Whether k came from the exact null distribution or the normal approximation.
    pub ci_method: TestMethod,
    /// Why there is no interval, when there is none.
    pub ci_note: Option<String>,
    /// Two-sided p-value of the matching rank test (Wilcoxon signed-rank, zeros dropped;
    /// Mann-Whitney U). None when the test is undefined: every paired difference is zero.
    pub p_value: Option<f64>,
    /// How `p_value` was computed.
    pub p_method: Option<TestMethod>,
    pub paired: bool,
    /// Pairs (paired) or the smaller sample (unpaired).
    pub n: u32,
    pub n_base: u32,
    pub n_cand: u32,
    /// See [`verdict`]: the interval decides.
    pub verdict: Verdict,
}

fn alpha_of(level: f64) -> Result<f64, StatsError> {
    if level > 0.0 && level < 1.0 {
        Ok(1.0 - level)
    } else {
        Err(StatsError::BadLevel(level))
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn percent(p: f64) -> String {
    let s = format!("{:.4}", p * 100.0);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}%")
}

/// The order-statistic index chosen for an interval and its coverage.
struct Choice {
    /// k >= 1, or None when not even k = 1 reaches the level.
    k: Option<usize>,
    achieved: f64,
    /// Coverage of k = 1, [min, max] (reported when no k reaches the level).
    widest: f64,
    method: TestMethod,
}

/// k from an exact null distribution over the integers 0..: the largest k >= 1 with
/// P(T <= k - 1) <= alpha/2.
fn choose_exact(dist: &[f64], alpha: f64) -> Choice {
    let limit = alpha / 2.0 * (1.0 + TAIL_SLACK);
    let widest = 1.0 - 2.0 * dist.first().copied().unwrap_or(1.0);
    let mut cum = 0.0;
    let mut best = None;
    for (t, p) in dist.iter().enumerate() {
        cum += p;
        if cum > limit {
            break;
        }
        best = Some((t + 1, 1.0 - 2.0 * cum));
    }
    Choice {
        k: best.map(|b| b.0),
        achieved: best.map_or(widest, |b| b.1),
        widest,
        method: TestMethod::Exact,
    }
}

/// k from the normal approximation of T with a continuity correction.
fn choose_normal(mean: f64, sd: f64, alpha: f64) -> Choice {
    let coverage = |k: f64| 1.0 - 2.0 * normal_cdf((k - 0.5 - mean) / sd);
    let z = normal_quantile(1.0 - alpha / 2.0);
    let k = (mean + 0.5 - z * sd).floor();
    let ok = k >= 1.0;
    Choice {
        k: ok.then_some(k as usize),
        achieved: if ok { coverage(k) } else { coverage(1.0) },
        widest: coverage(1.0),
        method: TestMethod::Normal,
    }
}

/// The pieces of a [`ShiftEstimate`] that describe the interval.
struct Interval {
    ci: Option<(f64, f64)>,
    achieved: Option<f64>,
    k: Option<u64>,
    note: Option<String>,
}

fn interval(sorted: &[f64], choice: &Choice, level: f64, what: &str) -> Interval {
    let m = sorted.len();
    match choice.k {
        Some(k) if k >= 1 && k <= m + 1 - k => Interval {
            ci: Some((sorted[k - 1], sorted[m - k])),
            achieved: Some(choice.achieved),
            k: Some(k as u64),
            note: None,
        },
        _ => Interval {
            ci: None,
            achieved: None,
            k: None,
            note: Some(format!(
                "{what} cannot reach {} confidence: the widest interval, from the smallest \
                 to the largest of the {m} values, has {}",
                percent(level),
                percent(choice.widest)
            )),
        },
    }
}

/// Paired shift of `cand` over `base` (same length; pair i is `(base[i], cand[i])`): the
/// Hodges-Lehmann estimate, the median of the Walsh averages of d = cand - base, with the
/// distribution-free confidence interval at `level` (e.g. [`DEFAULT_LEVEL`]) from the
/// signed-rank null distribution of n = all pairs (zero differences included, as in the
/// estimate; exact up to 50 pairs, see the module documentation), and the Wilcoxon
/// signed-rank test's p-value ([`signed_rank_test`]: zeros dropped, mid-ranks). Sorts all
/// n(n+1)/2 Walsh averages: quadratic memory, meant for the harness's tens to hundreds of pairs.
///
/// Errors: lengths differ, no pairs, a NaN or infinite value (or difference), or `level`
/// not in (0, 1).
pub fn paired_shift(base: &[f64], cand: &[f64], level: f64) -> Result<ShiftEstimate, StatsError> {
    let alpha = alpha_of(level)?;
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
    check_finite(base, "base")?;
    check_finite(cand, "cand")?;
    let diffs: Vec<f64> = base.iter().zip(cand).map(|(b, c)| c - b).collect();
    check_finite(&diffs, "differences")?;
    let n = diffs.len();
    let mut walsh = Vec::with_capacity(n * (n + 1) / 2);
    for (i, di) in diffs.iter().enumerate() {
        for dj in &diffs[i..] {
            walsh.push((di + dj) / 2.0);
        }
    }
    walsh.sort_by(f64::total_cmp);
    let estimate = median_sorted(&walsh).unwrap_or(f64::NAN);
    let choice = if n <= EXACT_MAX_N {
        let ranks: Vec<usize> = (1..=n).collect();
        choose_exact(&sign_flip_distribution(&ranks), alpha)
    } else {
        let nf = n as f64;
        let sd = (nf * (nf + 1.0) * (2.0 * nf + 1.0) / 24.0).sqrt();
        choose_normal(nf * (nf + 1.0) / 4.0, sd, alpha)
    };
    let what = format!("{n} pair{}", if n == 1 { "" } else { "s" });
    let iv = interval(&walsh, &choice, level, &what);
    // The only possible error left is "no non-zero difference": no test.
    let test = signed_rank_test(&diffs).ok();
    Ok(ShiftEstimate {
        estimate,
        level,
        ci: iv.ci,
        achieved_confidence: iv.achieved,
        ci_k: iv.k,
        ci_m: walsh.len() as u64,
        ci_method: choice.method,
        ci_note: iv.note,
        p_value: test.as_ref().map(|t| t.p_value),
        p_method: test.as_ref().map(|t| t.method),
        paired: true,
        n: count(n),
        n_base: count(n),
        n_cand: count(n),
        verdict: verdict(true, n, n, iv.ci),
    })
}

/// Unpaired shift of `cand` over `base` (independent samples): the Hodges-Lehmann estimate,
/// the median of all m n differences cand_j - base_i, with the distribution-free confidence
/// interval at `level` from the Mann-Whitney U null distribution (exact up to 50 values per
/// side, see the module documentation), and the Mann-Whitney test's p-value
/// ([`mann_whitney_test`]: mid-ranks, exact conditional on ties). Sorts all m n differences.
///
/// Errors: an empty sample, a NaN or infinite value (or difference), or `level` not in (0, 1).
pub fn unpaired_shift(base: &[f64], cand: &[f64], level: f64) -> Result<ShiftEstimate, StatsError> {
    let alpha = alpha_of(level)?;
    for (values, what) in [(base, "base"), (cand, "cand")] {
        if values.is_empty() {
            return Err(StatsError::TooFew {
                needed: 1,
                got: 0,
                what,
            });
        }
        check_finite(values, what)?;
    }
    let mut diffs = Vec::with_capacity(base.len() * cand.len());
    for c in cand {
        for b in base {
            diffs.push(c - b);
        }
    }
    check_finite(&diffs, "differences")?;
    diffs.sort_by(f64::total_cmp);
    let estimate = median_sorted(&diffs).unwrap_or(f64::NAN);
    let (m, n) = (base.len(), cand.len());
    let choice = if exact_sizes(m, n) {
        choose_exact(&u_distribution(m, n), alpha)
    } else {
        let (mf, nf) = (m as f64, n as f64);
        let sd = (mf * nf * (mf + nf + 1.0) / 12.0).sqrt();
        choose_normal(mf * nf / 2.0, sd, alpha)
    };
    let iv = interval(&diffs, &choice, level, &format!("{m} and {n} values"));
    let test = mann_whitney_test(cand, base)?;
    Ok(ShiftEstimate {
        estimate,
        level,
        ci: iv.ci,
        achieved_confidence: iv.achieved,
        ci_k: iv.k,
        ci_m: diffs.len() as u64,
        ci_method: choice.method,
        ci_note: iv.note,
        p_value: Some(test.p_value),
        p_method: Some(test.method),
        paired: false,
        n: count(m.min(n)),
        n_base: count(m),
        n_cand: count(n),
        verdict: verdict(false, m, n, iv.ci),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paired_six_gives_min_max_at_96_9_percent() {
        // P(W+ = 0) = 1/64 <= 0.025 < P(W+ <= 1) = 2/64: k = 1, the whole range.
        let base = [10.0; 6];
        let cand = [11.0, 12.0, 13.0, 14.0, 15.0, 16.0];
        let s = paired_shift(&base, &cand, DEFAULT_LEVEL).unwrap();
        assert_eq!(s.estimate, 3.5);
        assert_eq!(s.ci, Some((1.0, 6.0)));
        assert_eq!((s.ci_k, s.ci_m), (Some(1), 21));
        assert_eq!(s.achieved_confidence, Some(1.0 - 2.0 / 64.0));
        assert_eq!(s.verdict, Verdict::Difference);
        assert_eq!(s.p_value, Some(0.03125));
        assert_eq!(s.p_method, Some(TestMethod::Exact));
        assert_eq!(s.ci_note, None);
    }

    #[test]
    fn paired_ten_uses_the_ninth_walsh_average() {
        // n = 10: P(W+ <= 8) = 25/1024 = 0.0244 <= 0.025 < P(W+ <= 9) = 33/1024, so k = 9
        // (the tabled critical value), coverage 1 - 50/1024.
        let cand: Vec<f64> = (1..=10).map(|i| f64::from(i * i)).collect();
        let s = paired_shift(&[0.0; 10], &cand, 0.95).unwrap();
        assert_eq!(s.ci_k, Some(9));
        assert_eq!(s.achieved_confidence, Some(1.0 - 50.0 / 1024.0));
        let mut walsh: Vec<f64> = Vec::new();
        for i in 0..10 {
            for j in i..10 {
                walsh.push((cand[i] + cand[j]) / 2.0);
            }
        }
        walsh.sort_by(f64::total_cmp);
        assert_eq!(s.ci, Some((walsh[8], walsh[55 - 9])));
        assert_eq!(s.estimate, walsh[27]);
    }

    #[test]
    fn negative_shift_is_negative() {
        let base = [5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0];
        let cand: Vec<f64> = base.iter().map(|b| b - 2.0).collect();
        let s = paired_shift(&base, &cand, 0.95).unwrap();
        assert_eq!((s.estimate, s.ci), (-2.0, Some((-2.0, -2.0))));
        assert_eq!(s.verdict, Verdict::Difference);
        // Unpaired, the same data overlap: differences -2 + (j - i), so -8 once, -7 twice,
        // -6 three times, -5 four times... For 7 and 7, P(U <= 8) = 65/3432 <= 0.025 <
        // P(U <= 9) = 91/3432: k = 9, and the 9th smallest difference is -5.
        let s = unpaired_shift(&base, &cand, 0.95).unwrap();
        assert_eq!(s.estimate, -2.0);
        assert_eq!((s.ci_k, s.ci), (Some(9), Some((-5.0, 1.0))));
        assert_eq!(s.verdict, Verdict::NoDetectableDifference);
    }

    #[test]
    fn paired_five_has_no_ci_and_says_why() {
        let s = paired_shift(&[0.0; 5], &[1.0, 2.0, 3.0, 4.0, 5.0], 0.95).unwrap();
        assert_eq!(s.ci, None);
        assert_eq!(s.achieved_confidence, None);
        assert_eq!(s.verdict, Verdict::InsufficientSamples);
        assert_eq!(
            s.ci_note.as_deref(),
            Some(
                "5 pairs cannot reach 95% confidence: the widest interval, from the smallest \
                 to the largest of the 15 values, has 93.75%"
            )
        );
        // A higher level needs more pairs: with 6, 99% is out of reach too.
        let s = paired_shift(&[0.0; 6], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 0.99).unwrap();
        assert_eq!((s.ci, s.verdict), (None, Verdict::NoDetectableDifference));
        assert!(s.ci_note.is_some());
    }

    #[test]
    fn all_zero_differences() {
        let s = paired_shift(&[3.0; 8], &[3.0; 8], 0.95).unwrap();
        assert_eq!((s.estimate, s.ci), (0.0, Some((0.0, 0.0))));
        assert_eq!((s.p_value, s.p_method), (None, None));
        assert_eq!(s.verdict, Verdict::NoDetectableDifference);
    }

    #[test]
    fn unpaired_four_and_four() {
        let s = unpaired_shift(&[1.0, 2.0, 3.0, 4.0], &[11.0, 12.0, 13.0, 14.0], 0.95).unwrap();
        assert_eq!(s.estimate, 10.0);
        // P(U = 0) = 1/70 <= 0.025 < P(U <= 1) = 2/70: k = 1, [min, max].
        assert_eq!(s.ci, Some((7.0, 13.0)));
        assert_eq!(s.achieved_confidence, Some(1.0 - 2.0 / 70.0));
        assert_eq!(s.verdict, Verdict::Difference);
        assert_eq!((s.n, s.n_base, s.n_cand, s.ci_m), (4, 4, 4, 16));
        assert!((s.p_value.unwrap() - 2.0 / 70.0).abs() < 1e-15);
    }

    #[test]
    fn unpaired_three_and_four_is_too_small() {
        // 1 - 2/35 = 94.29% < 95%.
        let s = unpaired_shift(&[1.0, 2.0, 3.0], &[11.0, 12.0, 13.0, 14.0], 0.95).unwrap();
        assert_eq!((s.ci, s.verdict), (None, Verdict::InsufficientSamples));
        assert!(s.ci_note.unwrap().ends_with("has 94.2857%"));
    }

    #[test]
    fn exact_tail_equal_to_alpha_half_is_kept() {
        // m = 3, n = 7: C(10, 3) = 120, P(U <= 2) = 4/120 and P(U <= 1) = 2/120. At level
        // 1 - 2 * 4/120 the tail 4/120 equals alpha/2 exactly: k = 3.
        let s = unpaired_shift(
            &[1.0, 2.0, 3.0],
            &[4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0],
            1.0 - 8.0 / 120.0,
        )
        .unwrap();
        assert_eq!(s.ci_k, Some(3));
    }

    #[test]
    fn normal_beyond_fifty() {
        let base: Vec<f64> = (0..60).map(|i| f64::from(i % 9)).collect();
        let cand: Vec<f64> = base
            .iter()
            .enumerate()
            .map(|(i, b)| b + (i % 5) as f64)
            .collect();
        let s = paired_shift(&base, &cand, 0.95).unwrap();
        assert_eq!(s.ci_method, TestMethod::Normal);
        // E W+ = 915, sd = sqrt(18452.5) = 135.84: k = floor(915.5 - 1.96 * 135.84) = 649.
        assert_eq!(s.ci_k, Some(649));
        let a = s.achieved_confidence.unwrap();
        assert!(a > 0.95 && a < 0.951, "{a}");
        let s = unpaired_shift(&base, &cand, 0.95).unwrap();
        assert_eq!(s.ci_method, TestMethod::Normal);
        assert_eq!(s.p_method, Some(TestMethod::Normal));
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert_eq!(
            paired_shift(&[1.0], &[1.0, 2.0], 0.95),
            Err(StatsError::LengthMismatch { base: 1, cand: 2 })
        );
        assert_eq!(
            paired_shift(&[f64::NAN], &[1.0], 0.95),
            Err(StatsError::NotFinite {
                what: "base",
                index: 0
            })
        );
        assert_eq!(
            paired_shift(&[-f64::MAX], &[f64::MAX], 0.95),
            Err(StatsError::NotFinite {
                what: "differences",
                index: 0
            })
        );
        assert!(matches!(
            paired_shift(&[], &[], 0.95),
            Err(StatsError::TooFew { .. })
        ));
        assert!(matches!(
            unpaired_shift(&[], &[1.0], 0.95),
            Err(StatsError::TooFew { .. })
        ));
        assert!(matches!(
            unpaired_shift(&[1.0], &[f64::INFINITY], 0.95),
            Err(StatsError::NotFinite { what: "cand", .. })
        ));
        for level in [0.0, 1.0, 1.5, f64::NAN] {
            assert!(matches!(
                paired_shift(&[1.0], &[1.0], level),
                Err(StatsError::BadLevel(_))
            ));
        }
    }

    #[test]
    fn serialises_with_snake_case_enums() {
        let s = paired_shift(&[0.0; 6], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 0.95).unwrap();
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["ci"], serde_json::json!([1.0, 6.0]));
        assert_eq!(v["ci_method"], "exact");
        assert_eq!(v["verdict"], "difference");
        let back: ShiftEstimate = serde_json::from_value(v).unwrap();
        assert_eq!(back, s);
    }
}
