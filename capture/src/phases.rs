//! Phase timing: each phase is a `tracing` span, and its guard records the same interval for phases.json.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use report_model::schema::phases::{Phase, Phases};

/// Times the phases of one capture on the monotonic clock, from its creation.
#[derive(Debug, Clone)]
pub struct PhaseClock {
    start: Instant,
    done: Arc<Mutex<Vec<Phase>>>,
}

/// While alive, the phase's span is entered; dropping it ends the phase.
#[must_use = "a phase ends when its guard is dropped"]
pub struct PhaseGuard {
    clock: PhaseClock,
    name: &'static str,
    started: Instant,
    _span: tracing::span::EnteredSpan,
}

impl PhaseClock {
    /// Starts the clock now (the capture's time zero).
    pub fn start() -> Self {
        Self::starting_at(Instant::now())
    }

    /// Starts the clock at an earlier instant (e.g. process start).
    pub fn starting_at(start: Instant) -> Self {
        PhaseClock {
            start,
            done: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Begins phase `name`: a `tracing` span named after it, timed until the guard drops.
    pub fn phase(&self, name: &'static str) -> PhaseGuard {
        let span = tracing::info_span!(target: "tare::phase", "phase", name).entered();
        PhaseGuard {
            clock: self.clone(),
            name,
            started: Instant::now(),
            _span: span,
        }
    }

    /// Nanoseconds since the clock started.
    pub fn elapsed_ns(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    /// The phases finished so far, in start order, with total = now.
    pub fn snapshot(&self) -> Phases {
        self.snapshot_with(None)
    }

    fn snapshot_with(&self, open: Option<Phase>) -> Phases {
        let mut phases = self.done.lock().map(|v| v.clone()).unwrap_or_default();
        phases.extend(open);
        phases.sort_by_key(|p| p.start_ns);
        Phases::new(phases, self.elapsed_ns())
    }
}

impl PhaseGuard {
    /// This phase from its start to now.
    fn so_far(&self) -> Phase {
        Phase {
            name: self.name.to_string(),
            start_ns: self.started.duration_since(self.clock.start).as_nanos() as u64,
            duration_ns: self.started.elapsed().as_nanos() as u64,
        }
    }

    /// The phases finished so far and this one up to now, with total = now: for a file
    /// written inside this phase. `not_counted` says what of the phase comes after.
    pub fn snapshot_open(&self, not_counted: &str) -> Phases {
        let mut p = self.clock.snapshot_with(Some(self.so_far()));
        p.not_counted = Some(not_counted.to_string());
        p
    }
}

impl Drop for PhaseGuard {
    fn drop(&mut self) {
        let phase = self.so_far();
        if let Ok(mut done) = self.clock.done.lock() {
            done.push(phase);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_are_ordered_and_the_residual_is_the_gap() {
        let clock = PhaseClock::start();
        {
            let _a = clock.phase("preflight");
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        std::thread::sleep(std::time::Duration::from_millis(3));
        {
            let _b = clock.phase("cgroup_prepare");
        }
        let p = clock.snapshot();
        assert_eq!(
            p.phases.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
            ["preflight", "cgroup_prepare"]
        );
        assert!(p.phases[0].duration_ns >= 2_000_000);
        assert!(p.phases[1].start_ns >= p.phases[0].start_ns + p.phases[0].duration_ns);
        // The 3 ms between the phases is residual, not lost.
        assert!(p.residual_ns >= 3_000_000, "{}", p.residual_ns);
        let sum: u64 = p.phases.iter().map(|x| x.duration_ns).sum();
        assert_eq!(p.total_ns as i64 - sum as i64, p.residual_ns);
    }

    #[test]
    fn an_open_phase_counts_up_to_its_snapshot() {
        let clock = PhaseClock::start();
        let g = clock.phase("archive_write");
        std::thread::sleep(std::time::Duration::from_millis(2));
        let p = g.snapshot_open("the rest");
        assert_eq!(p.phases.len(), 1);
        assert!(p.phases[0].duration_ns >= 2_000_000);
        assert!(p.total_ns >= p.phases[0].start_ns + p.phases[0].duration_ns);
        assert_eq!(p.not_counted.as_deref(), Some("the rest"));
        drop(g);
        // Once it ends, the whole phase is in the clock's own snapshot.
        let done = clock.snapshot();
        assert!(done.phases[0].duration_ns >= p.phases[0].duration_ns);
        assert_eq!(done.not_counted, None);
    }
}
