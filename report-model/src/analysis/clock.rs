//! Kernel events and OTLP spans on one clock, through the (realtime, monotonic) pair that
//! run.json records as the capture starts.
//!
//! Kernel events carry `CLOCK_MONOTONIC` nanoseconds, OTLP spans Unix nanoseconds. Linux
//! slews both clocks alike (NTP adjusts their rate together), so their difference holds
//! through a run unless the realtime clock is *stepped* (settimeofday, a VM resuming); the
//! pair's own uncertainty is how long the reads that made it took.

use crate::schema::run::ClockPair;

/// Maps between the two clocks of one capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockMapping {
    /// realtime minus monotonic, nanoseconds.
    offset_ns: i128,
    /// How far a mapped time can be off, nanoseconds.
    pub uncertainty_ns: u64,
    /// monotonic minus the capture's clock (phases.json, metrics.ndjson), nanoseconds.
    capture_offset_ns: i128,
}

impl ClockMapping {
    /// The mapping a recorded pair gives.
    pub fn new(pair: &ClockPair) -> Self {
        ClockMapping {
            offset_ns: i128::from(pair.realtime_ns) - i128::from(pair.monotonic_ns),
            uncertainty_ns: pair.uncertainty_ns,
            capture_offset_ns: i128::from(pair.monotonic_ns) - i128::from(pair.capture_ns),
        }
    }

    /// The monotonic time of a time on the capture's clock (a resource sample's `t_ns`).
    pub fn capture_to_monotonic(&self, capture_ns: u64) -> Option<u64> {
        u64::try_from(i128::from(capture_ns) + self.capture_offset_ns).ok()
    }

    /// The monotonic time of a Unix time; none before the monotonic clock's zero (boot).
    pub fn to_monotonic(&self, unix_ns: u64) -> Option<u64> {
        u64::try_from(i128::from(unix_ns) - self.offset_ns).ok()
    }

    /// The Unix time of a monotonic time; none before 1970.
    pub fn to_unix(&self, monotonic_ns: u64) -> Option<u64> {
        u64::try_from(i128::from(monotonic_ns) + self.offset_ns).ok()
    }

    /// A sentence for a viewer or an export: how the clocks were joined and how well.
    pub fn describe(&self) -> String {
        format!(
            "kernel events (CLOCK_MONOTONIC) and OTLP spans (Unix time) joined by one pair of \
             readings taken as the capture started, to within ±{} ns; a step of the realtime \
             clock during the run (not NTP's slewing) would shift the spans",
            self.uncertainty_ns
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_both_ways_and_refuses_what_is_out_of_range() {
        let m = ClockMapping::new(&ClockPair {
            realtime_ns: 1_800_000_000_000_000_000,
            monotonic_ns: 5_000_000_000,
            uncertainty_ns: 1_500,
            capture_ns: 2_000_000,
        });
        assert_eq!(m.capture_to_monotonic(3_000_000), Some(5_001_000_000));
        assert_eq!(
            m.to_monotonic(1_800_000_000_000_000_007),
            Some(5_000_000_007)
        );
        assert_eq!(m.to_unix(5_000_000_007), Some(1_800_000_000_000_000_007));
        assert_eq!(m.to_monotonic(1_000), None, "before boot");
        assert!(m.describe().contains("±1500 ns"));
        let odd = ClockMapping::new(&ClockPair {
            realtime_ns: 10,
            monotonic_ns: 100,
            uncertainty_ns: 0,
            capture_ns: 200,
        });
        assert_eq!(odd.capture_to_monotonic(50), None);
        assert_eq!(odd.to_unix(50), None, "before 1970");
        assert_eq!(odd.to_monotonic(10), Some(100));
    }
}
