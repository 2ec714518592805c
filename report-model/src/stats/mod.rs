//! Statistics: nearest-rank percentiles, Hodges-Lehmann shifts with exact CIs, rank tests, verdicts, the coefficient of variation.
//!
//! Pure functions on `&[f64]`, no I/O, no clock, no threads (the crate also builds for
//! wasm32). Input errors are [`StatsError`]s, never panics. Conventions, checked against
//! SciPy by `tests/stats_vectors.rs` (vectors from `scripts/gen_stats_vectors.py`):
//!
//! - percentiles are nearest-rank (rank ceil(p/100 n), NumPy's `inverted_cdf`); the median is
//!   the ordinary one ([`percentile`]);
//! - rank tests use mid-ranks for ties; the signed-rank test drops zero differences; p-values
//!   are two-sided and exact (conditional on the ties) up to 50 per side, normal with tie and
//!   continuity corrections beyond ([`signed_rank`], [`mann_whitney`]);
//! - confidence intervals are order statistics of the Walsh averages or pairwise differences,
//!   chosen from the untied null distribution ([`hodges_lehmann`]);
//! - the verdict follows the interval ([`verdict()`]).

pub mod hodges_lehmann;
pub mod mann_whitney;
pub mod percentile;
mod ranks;
pub mod signed_rank;
pub mod variation;
pub mod verdict;

pub use hodges_lehmann::{paired_shift, unpaired_shift, ShiftEstimate, DEFAULT_LEVEL};
pub use mann_whitney::mann_whitney_test;
pub use percentile::{median_sorted, nearest_rank, tail_ratio, Distribution, TailBand, TailRatio};
pub use signed_rank::{signed_rank_test, TestMethod, TestResult};
pub use variation::coefficient_of_variation;
pub use verdict::{verdict, Verdict};

/// Why a statistic could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StatsError {
    #[error("paired samples differ in length: base has {base} values, cand has {cand}")]
    LengthMismatch { base: usize, cand: usize },
    #[error("{what}[{index}] is NaN or infinite")]
    NotFinite { what: &'static str, index: usize },
    #[error("too few {what}: need at least {needed}, got {got}")]
    TooFew {
        needed: usize,
        got: usize,
        what: &'static str,
    },
    #[error("confidence level {0} is not strictly between 0 and 1")]
    BadLevel(f64),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_are_clear() {
        assert_eq!(
            StatsError::NotFinite {
                what: "base",
                index: 3
            }
            .to_string(),
            "base[3] is NaN or infinite"
        );
        assert_eq!(
            StatsError::LengthMismatch { base: 5, cand: 6 }.to_string(),
            "paired samples differ in length: base has 5 values, cand has 6"
        );
        assert_eq!(
            StatsError::TooFew {
                needed: 1,
                got: 0,
                what: "pairs"
            }
            .to_string(),
            "too few pairs: need at least 1, got 0"
        );
    }
}
