//! The verdict of a comparison: difference, no detectable difference, or too few samples.

use serde::{Deserialize, Serialize};

/// Pairs a paired comparison needs before it says anything: with 5 pairs no exact
/// signed-rank interval reaches 95% (the widest, [min, max] of the Walsh averages, has
/// 1 - 2/32 = 93.75%).
pub const MIN_PAIRS: usize = 6;
/// Values per side an unpaired comparison needs (4 and 4: the widest interval has
/// 1 - 2/70 = 97.1%).
pub const MIN_PER_SIDE: usize = 4;

/// What a shift estimate lets us say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The confidence interval excludes zero.
    Difference,
    /// The confidence interval includes zero, or no interval reaches the level.
    NoDetectableDifference,
    /// Fewer than [`MIN_PAIRS`] pairs (paired) or [`MIN_PER_SIDE`] values on a side
    /// (unpaired).
    InsufficientSamples,
}

/// The verdict rule:
/// 1. `insufficient_samples` when a paired comparison has fewer than [`MIN_PAIRS`] pairs
///    (zero differences count: they are pairs) or an unpaired one has fewer than
///    [`MIN_PER_SIDE`] values on either side;
/// 2. otherwise `difference` when the closed confidence interval [low, high] excludes 0
///    (low > 0 or high < 0);
/// 3. otherwise `no_detectable_difference`, which includes an interval touching 0 and no
///    interval at all (the level is out of reach).
///
/// The p-value plays no part. Without ties or zero differences the exact interval excludes 0
/// exactly when the exact two-sided p <= 1 - achieved confidence (<= 1 - level), so the two
/// agree; with ties or zeros they can differ near the boundary (the interval uses the untied
/// null, the test the conditional one), and the interval decides.
pub fn verdict(paired: bool, n_base: usize, n_cand: usize, ci: Option<(f64, f64)>) -> Verdict {
    let needed = if paired { MIN_PAIRS } else { MIN_PER_SIDE };
    if n_base.min(n_cand) < needed {
        return Verdict::InsufficientSamples;
    }
    match ci {
        Some((low, high)) if low > 0.0 || high < 0.0 => Verdict::Difference,
        _ => Verdict::NoDetectableDifference,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        use Verdict::*;
        assert_eq!(verdict(true, 5, 5, Some((1.0, 2.0))), InsufficientSamples);
        assert_eq!(verdict(true, 6, 6, Some((1.0, 2.0))), Difference);
        assert_eq!(verdict(true, 6, 6, Some((-2.0, -1.0))), Difference);
        assert_eq!(
            verdict(true, 6, 6, Some((-1.0, 2.0))),
            NoDetectableDifference
        );
        assert_eq!(
            verdict(true, 6, 6, Some((0.0, 2.0))),
            NoDetectableDifference
        );
        assert_eq!(
            verdict(true, 6, 6, Some((-2.0, 0.0))),
            NoDetectableDifference
        );
        assert_eq!(verdict(true, 6, 6, None), NoDetectableDifference);
        assert_eq!(verdict(false, 4, 9, Some((0.5, 3.0))), Difference);
        assert_eq!(verdict(false, 3, 9, Some((0.5, 3.0))), InsufficientSamples);
        assert_eq!(verdict(false, 9, 3, Some((0.5, 3.0))), InsufficientSamples);
        assert_eq!(verdict(false, 4, 4, None), NoDetectableDifference);
    }

    #[test]
    fn serde_names() {
        let names: Vec<String> = [
            Verdict::Difference,
            Verdict::NoDetectableDifference,
            Verdict::InsufficientSamples,
        ]
        .iter()
        .map(|v| serde_json::to_string(v).unwrap())
        .collect();
        assert_eq!(
            names,
            [
                "\"difference\"",
                "\"no_detectable_difference\"",
                "\"insufficient_samples\""
            ]
        );
    }
}
