//! The verdict of a comparison: difference, no detectable difference, or too few samples.

use serde::{Deserialize, Serialize};

/// Pairs a paired comparison needs before it says anything.
pub const MIN_PAIRS: usize = 6;
/// Values per side an unpaired comparison needs.
pub const MIN_PER_SIDE: usize = 4;

/// What a shift estimate lets us say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The confidence interval excludes zero.
    Difference,
    /// The interval includes zero.
    NoDetectableDifference,
    /// Fewer than 6 pairs (paired) or 4 per side (unpaired).
    InsufficientSamples,
}

/// The rule: too few samples first; then the CI (difference when it excludes 0); where no
/// CI exists, p < 0.05.
pub fn verdict(
    paired: bool,
    n_base: usize,
    n_cand: usize,
    ci: Option<(f64, f64)>,
    p: Option<f64>,
) -> Verdict {
    let enough = if paired {
        n_base.min(n_cand) >= MIN_PAIRS
    } else {
        n_base.min(n_cand) >= MIN_PER_SIDE
    };
    if !enough {
        return Verdict::InsufficientSamples;
    }
    let differs = match (ci, p) {
        (Some((lo, hi)), _) => lo > 0.0 || hi < 0.0,
        (None, Some(p)) => p < 0.05,
        (None, None) => false,
    };
    if differs {
        Verdict::Difference
    } else {
        Verdict::NoDetectableDifference
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert_eq!(
            verdict(true, 5, 5, Some((1.0, 2.0)), Some(0.01)),
            Verdict::InsufficientSamples
        );
        assert_eq!(
            verdict(true, 6, 6, Some((1.0, 2.0)), None),
            Verdict::Difference
        );
        assert_eq!(
            verdict(true, 6, 6, Some((-2.0, -1.0)), None),
            Verdict::Difference
        );
        assert_eq!(
            verdict(true, 6, 6, Some((-1.0, 2.0)), Some(0.01)),
            Verdict::NoDetectableDifference
        );
        assert_eq!(verdict(false, 4, 9, None, Some(0.01)), Verdict::Difference);
        assert_eq!(
            verdict(false, 3, 9, None, Some(0.01)),
            Verdict::InsufficientSamples
        );
        assert_eq!(
            verdict(false, 4, 4, None, None),
            Verdict::NoDetectableDifference
        );
    }
}
