//! Statistics: percentiles, Hodges-Lehmann shifts with exact CIs, exact rank tests, verdicts.

pub mod hodges_lehmann;
pub mod mann_whitney;
pub mod percentile;
mod ranks;
pub mod signed_rank;
pub mod verdict;

pub use hodges_lehmann::{paired_shift, unpaired_shift, ShiftEstimate};
pub use mann_whitney::mann_whitney_test;
pub use percentile::{median_sorted, nearest_rank, tail_ratio, Distribution, TailBand};
pub use signed_rank::{signed_rank_test, TestMethod, TestResult};
pub use verdict::{verdict, Verdict};

/// Why a statistic could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StatsError {
    #[error("paired samples differ in length: base has {base}, candidate has {cand}")]
    LengthMismatch { base: usize, cand: usize },
    #[error("a value is NaN or infinite")]
    NotFinite,
    #[error("need at least {needed} {what}, got {got}")]
    TooFew {
        needed: usize,
        got: usize,
        what: &'static str,
    },
    #[error("confidence level {0} is not between 0 and 1")]
    BadLevel(f64),
}
