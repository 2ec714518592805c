//! Kernel fidelity: which of the workload's worker files the captured events show.

use std::collections::BTreeSet;

use crate::schema::kernel_event::{EventDetail, KernelEvent};
use crate::schema::sample::KernelFidelity;

/// The directory the built-in workload writes its worker files into.
pub const WORKER_DIR: &str = "event-rate-sweep/";

/// The worker file name (`worker-<w>-<i>.txt`) a path refers to, if it is one.
pub fn worker_file(path: &str) -> Option<&str> {
    let idx = path.rfind(WORKER_DIR)?;
    let name = &path[idx + WORKER_DIR.len()..];
    (name.starts_with("worker-") && name.ends_with(".txt") && !name.contains('/')).then_some(name)
}

/// Distinct worker files successfully opened in `events`, against the `target` count.
pub fn kernel_fidelity(events: &[KernelEvent], target: u64) -> KernelFidelity {
    let seen: BTreeSet<&str> = events
        .iter()
        .filter_map(|e| match &e.detail {
            EventDetail::Open { path, result, .. } if *result >= 0 => worker_file(path),
            _ => None,
        })
        .collect();
    KernelFidelity {
        target,
        unique_worker_files: seen.len() as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(path: &str, result: i64) -> KernelEvent {
        KernelEvent {
            seq: 0,
            ts_ns: 0,
            pid: 1,
            tid: 1,
            ppid: None,
            comm: "tare".into(),
            cgroup_id: 1,
            detail: EventDetail::Open {
                path: path.into(),
                flags: 0,
                mode: 0,
                result,
            },
        }
    }

    #[test]
    fn counts_distinct_successful_worker_opens() {
        let events = vec![
            open("/tmp/x/event-rate-sweep/worker-0-0.txt", 3),
            open("/tmp/x/event-rate-sweep/worker-0-0.txt", 4),
            open("event-rate-sweep/worker-1-1.txt", 3),
            open("/tmp/x/event-rate-sweep/worker-2-2.txt", -2),
            open("/tmp/x/event-rate-sweep/other.txt", 3),
            open("/etc/passwd", 3),
        ];
        assert_eq!(
            kernel_fidelity(&events, 3),
            KernelFidelity {
                target: 3,
                unique_worker_files: 2
            }
        );
        assert_eq!(
            worker_file("a/event-rate-sweep/worker-3-9.txt"),
            Some("worker-3-9.txt")
        );
        assert_eq!(worker_file("a/event-rate-sweep/sub/worker-3-9.txt"), None);
    }
}
