//! `health.json`: whether the kernel layer saw everything, with the counts that prove it.

use serde::{Deserialize, Serialize};

use super::kernel_event::EventKind;
use super::Versioned;

/// `health.json` (`tare.health.v1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub schema: String,
    pub kernel_layer: KernelLayer,
    /// Events the kernel could not reserve ring-buffer space for.
    pub ringbuf_drops: u64,
    pub cgroup_correlation: CgroupCorrelation,
    /// Events whose cgroup was not the session cgroup or a descendant.
    #[serde(default)]
    pub foreign_events: u64,
    /// Per kind: seen in the kernel, submitted to the ring buffer, dropped, delivered to userspace.
    pub counters: Vec<KindCounters>,
    /// Why the run is incomplete (timeout, interrupt), if it is.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// What became of tare's own steps between the child's fork and its exec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tare_setup: Option<TareSetup>,
    /// How the traced syscalls were hooked (older archives do not say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub syscall_hooks: Option<SyscallHooks>,
    /// What the session's tasks did that the programs cannot see: each one makes the kernel
    /// layer partial, however exact the counts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blind_spots: Vec<BlindSpot>,
}

/// Something the session did that tare's programs do not record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlindSpot {
    /// e.g. `io_uring`.
    pub what: String,
    /// How many times it happened (the events of that kind in kernel.ndjson).
    pub count: u64,
    /// What is missing because of it.
    pub reason: String,
}

/// The blind spots that `counters` show: a kind whose every event marks one.
fn blind_spots(counters: &[KindCounters]) -> Vec<BlindSpot> {
    let seen = |kind| -> u64 {
        counters
            .iter()
            .filter(|c| c.kind == kind)
            .map(|c| c.seen)
            .sum()
    };
    let spots = [
        (
            EventKind::IoUring,
            "the session set up io_uring instances (`io_uring` events in kernel.ndjson); \
             file and network operations submitted through a ring are not syscalls, \
             so their opens, writes and connects are not recorded",
        ),
        (
            EventKind::CompatExec,
            "the session ran 32-bit programs (`compat_exec` events in kernel.ndjson: pid, \
             program, ABI); their tasks and the children they fork make compat syscalls, \
             numbered by another table, which tare does not decode, so their opens, writes, \
             renames, unlinks, connects and failed execs are not recorded",
        ),
    ];
    spots
        .into_iter()
        .filter_map(|(kind, reason)| {
            let count = seen(kind);
            (count > 0).then(|| BlindSpot {
                what: kind.as_str().into(),
                count,
                reason: reason.into(),
            })
        })
        .collect()
}

/// The kernel hooks of the traced syscalls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyscallHooks {
    /// One fexit program per traced syscall: no other syscall on the host pays anything.
    Fexit,
    /// One BTF-typed program on the `sys_exit` tracepoint: every syscall of every task on
    /// the host runs it (used where fexit is not available).
    BtfTracepoint,
    /// The same on the plain raw tracepoint (kernels without tp_btf).
    RawTracepoint,
}

impl SyscallHooks {
    pub fn as_str(self) -> &'static str {
        match self {
            SyscallHooks::Fexit => "fexit",
            SyscallHooks::BtfTracepoint => "btf_tracepoint",
            SyscallHooks::RawTracepoint => "raw_tracepoint",
        }
    }
}

/// tare's own steps in the child before it runs the command (joining its cgroups).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TareSetup {
    /// Done before the programs were attached: none of it is among the events, and the
    /// workload's first event is its exec.
    BeforeCapture,
}

/// `complete` only when every submitted event was delivered and none was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KernelLayer {
    Complete,
    Partial,
    /// No kernel capture in this run (e.g. an arm without it).
    Absent,
}

/// Whether every event belongs to the session cgroup tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CgroupCorrelation {
    Clean,
    Leaked,
    Unknown,
}

/// The accounting of one event kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindCounters {
    pub kind: EventKind,
    pub seen: u64,
    pub submitted: u64,
    pub dropped: u64,
    pub delivered: u64,
}

impl Health {
    /// Derives the verdicts from the counters: the only way health.json is built.
    pub fn from_counters(
        counters: Vec<KindCounters>,
        foreign_events: u64,
        notes: Vec<String>,
    ) -> Self {
        let dropped: u64 = counters.iter().map(|c| c.dropped).sum();
        let balanced = counters
            .iter()
            .all(|c| c.delivered == c.submitted && c.seen == c.submitted + c.dropped);
        let blind_spots = blind_spots(&counters);
        let kernel_layer = if balanced && dropped == 0 && notes.is_empty() && blind_spots.is_empty()
        {
            KernelLayer::Complete
        } else {
            KernelLayer::Partial
        };
        Health {
            schema: Self::SCHEMA.into(),
            kernel_layer,
            ringbuf_drops: dropped,
            cgroup_correlation: if foreign_events == 0 {
                CgroupCorrelation::Clean
            } else {
                CgroupCorrelation::Leaked
            },
            foreign_events,
            tare_setup: None,
            syscall_hooks: None,
            blind_spots,
            counters,
            notes,
        }
    }

    /// Adds a blind spot found outside the counters (e.g. processes that left the session's
    /// cgroup): like every blind spot, it makes the kernel layer partial.
    pub fn add_blind_spot(&mut self, b: BlindSpot) {
        self.blind_spots.push(b);
        self.kernel_layer = KernelLayer::Partial;
    }

    /// Events delivered to userspace, all kinds.
    pub fn delivered(&self) -> u64 {
        self.counters.iter().map(|c| c.delivered).sum()
    }

    /// Clean enough for a capture-arm sample to count.
    pub fn is_clean(&self) -> bool {
        self.kernel_layer == KernelLayer::Complete
            && self.cgroup_correlation == CgroupCorrelation::Clean
    }
}

impl Versioned for Health {
    const SCHEMA: &'static str = "tare.health.v1";
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(kind: EventKind, seen: u64, submitted: u64, dropped: u64, delivered: u64) -> KindCounters {
        KindCounters {
            kind,
            seen,
            submitted,
            dropped,
            delivered,
        }
    }

    #[test]
    fn complete_only_when_balanced_and_lossless() {
        let h = Health::from_counters(vec![c(EventKind::Open, 10, 10, 0, 10)], 0, vec![]);
        assert_eq!(h.kernel_layer, KernelLayer::Complete);
        assert!(h.is_clean());
        let h = Health::from_counters(vec![c(EventKind::Open, 10, 8, 2, 8)], 0, vec![]);
        assert_eq!(h.kernel_layer, KernelLayer::Partial);
        assert_eq!(h.ringbuf_drops, 2);
        let h = Health::from_counters(vec![c(EventKind::Open, 10, 10, 0, 9)], 0, vec![]);
        assert_eq!(h.kernel_layer, KernelLayer::Partial);
        let h = Health::from_counters(
            vec![c(EventKind::Open, 1, 1, 0, 1)],
            0,
            vec!["timed out".into()],
        );
        assert_eq!(h.kernel_layer, KernelLayer::Partial);
        let h = Health::from_counters(vec![c(EventKind::Open, 1, 1, 0, 1)], 3, vec![]);
        assert_eq!(h.cgroup_correlation, CgroupCorrelation::Leaked);
        assert!(!h.is_clean());
        // Exact counts, but an io_uring was set up: what went through it was not seen.
        let h = Health::from_counters(
            vec![
                c(EventKind::Open, 4, 4, 0, 4),
                c(EventKind::IoUring, 2, 2, 0, 2),
            ],
            0,
            vec![],
        );
        assert_eq!(h.kernel_layer, KernelLayer::Partial);
        assert_eq!(
            (h.blind_spots[0].what.as_str(), h.blind_spots[0].count),
            ("io_uring", 2)
        );
        let h = Health::from_counters(
            vec![
                c(EventKind::Open, 4, 4, 0, 4),
                c(EventKind::IoUring, 0, 0, 0, 0),
            ],
            0,
            vec![],
        );
        assert_eq!(h.kernel_layer, KernelLayer::Complete);
        assert!(h.blind_spots.is_empty());
        // A 32-bit program ran: both blind spots, in kind order.
        let h = Health::from_counters(
            vec![
                c(EventKind::IoUring, 1, 1, 0, 1),
                c(EventKind::CompatExec, 3, 3, 0, 3),
            ],
            0,
            vec![],
        );
        assert_eq!(h.kernel_layer, KernelLayer::Partial);
        let spots: Vec<(&str, u64)> = h
            .blind_spots
            .iter()
            .map(|b| (b.what.as_str(), b.count))
            .collect();
        assert_eq!(spots, [("io_uring", 1), ("compat_exec", 3)]);
        assert!(h.blind_spots[1].reason.contains("compat syscalls"));
    }
}
