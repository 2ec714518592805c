//! The session's processes that outlive its command or leave its cgroup: found through the kernel layer's forks and exits and the tree watch, killed at the end, and reported (run.json, health.json).
//!
//! The kernel filter follows the session's cgroup, and a process that writes its pid into
//! another cgroup's `cgroup.procs` leaves it: from then on neither its events nor those of
//! the processes it starts are recorded, and killing the cgroup does not reach it. Two
//! independent witnesses find such a process:
//! - the kernel layer: every process of the session starts with a fork event (the root, with
//!   tare's own fork) and ends with an exit event, both recorded while it is in the cgroup;
//!   after the cgroup is emptied, a start without an exit is a process that left;
//! - the tree watch (the proc connector, host-wide, by fork ancestry): a process of the tree
//!   that the kernel layer never saw start was started outside the cgroup.

use std::collections::BTreeSet;
use std::time::Duration;

use report_model::redact::{Redactor, Tally};
use report_model::schema::health::BlindSpot;
use report_model::schema::kernel_event::{EventDetail, KernelEvent};
use report_model::schema::run::EndedProcess;

/// The blind spot's name in health.json.
pub const CGROUP_ESCAPE: &str = "cgroup_escape";

/// Which processes the kernel layer saw start and end.
#[derive(Debug, Default, Clone)]
pub struct Lifetimes {
    started: BTreeSet<u32>,
    exited: BTreeSet<u32>,
}

impl Lifetimes {
    /// One event of the kernel layer.
    pub fn observe(&mut self, ev: &KernelEvent) {
        match ev.detail {
            EventDetail::Fork { child_pid } => {
                self.started.insert(child_pid);
            }
            EventDetail::Exit { .. } => {
                self.exited.insert(ev.pid);
            }
            _ => {}
        }
    }

    /// The processes that left the cgroup, once it is empty and every event is in: those
    /// seen to start (`root`, the process tare started, before capture) and not to end, and
    /// the tree's `members` never seen to start.
    pub fn left(&self, root: u32, members: &BTreeSet<u32>) -> BTreeSet<u32> {
        let started = |p: &u32| *p == root || self.started.contains(p);
        let unfinished = std::iter::once(root)
            .chain(self.started.iter().copied())
            .filter(|p| !self.exited.contains(p));
        let unseen = members.iter().copied().filter(|p| !started(p));
        unfinished.chain(unseen).collect()
    }
}

/// The health.json entry for processes that left the cgroup, if any did.
pub fn blind_spot(left: &BTreeSet<u32>) -> Option<BlindSpot> {
    if left.is_empty() {
        return None;
    }
    let pids: Vec<String> = left.iter().take(20).map(u32::to_string).collect();
    let more = if left.len() > 20 { ", ..." } else { "" };
    Some(BlindSpot {
        what: CGROUP_ESCAPE.into(),
        count: left.len() as u64,
        reason: format!(
            "processes of the session left its cgroup (a write to another cgroup's cgroup.procs; \
             pids {}{more}): the kernel filter follows the cgroup, so their events after the move, \
             and every event of the processes they started then, are not recorded, and the \
             cgroup's memory and CPU figures leave them out",
            pids.join(", ")
        ),
    })
}

/// The command name of a running process, redacted; `None` if it is gone or a zombie.
fn running_comm(pid: u32, redactor: &Redactor, tally: &mut Tally) -> Option<String> {
    if !crate::stale::process_alive(pid) {
        return None;
    }
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    Some(
        redactor
            .text("run.json:killed_at_end", comm.trim_end(), tally)
            .into_owned(),
    )
}

/// The processes still running in the cgroup (`pids`) once the command (`root`) ended: they
/// are about to be killed with it.
pub fn outlived_in_cgroup(
    pids: &[u32],
    root: u32,
    redactor: &Redactor,
    tally: &mut Tally,
) -> Vec<EndedProcess> {
    let mut out: Vec<EndedProcess> = pids
        .iter()
        .filter(|&&p| p != root)
        .filter_map(|&pid| {
            Some(EndedProcess {
                pid,
                comm: running_comm(pid, redactor, tally)?,
                left_cgroup: false,
            })
        })
        .collect();
    out.sort_by_key(|p| p.pid);
    out.dedup_by_key(|p| p.pid);
    out
}

/// Kills the processes of the tree that still run outside the emptied cgroup. `not_gone`
/// gives, each round, the tree's members whose exit was not seen (and whether exit notices
/// were lost: then a pid may name another process now, and nothing is killed). Rounds go on
/// while a killed process may have started another, at most 50. Returns the processes
/// killed, and the pids left running unkilled (notices lost).
pub fn kill_outside(
    mut not_gone: impl FnMut() -> Option<(BTreeSet<u32>, bool)>,
    redactor: &Redactor,
    tally: &mut Tally,
) -> (Vec<EndedProcess>, Vec<u32>) {
    let mut killed: Vec<EndedProcess> = Vec::new();
    for _ in 0..50 {
        let Some((alive, lost)) = not_gone() else {
            break;
        };
        let running: Vec<(u32, String)> = alive
            .into_iter()
            .filter_map(|pid| Some((pid, running_comm(pid, redactor, tally)?)))
            .collect();
        if running.is_empty() {
            break;
        }
        if lost {
            return (killed, running.into_iter().map(|(p, _)| p).collect());
        }
        for (pid, comm) in running {
            let Ok(p) = i32::try_from(pid) else { continue };
            if nix::sys::signal::kill(nix::unistd::Pid::from_raw(p), nix::sys::signal::SIGKILL)
                .is_ok()
                && !killed.iter().any(|k| k.pid == pid)
            {
                killed.push(EndedProcess {
                    pid,
                    comm,
                    left_cgroup: true,
                });
            }
        }
        // Their exit notices come in while they die.
        std::thread::sleep(Duration::from_millis(20));
    }
    killed.sort_by_key(|p| p.pid);
    (killed, Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(pid: u32, detail: EventDetail) -> KernelEvent {
        KernelEvent {
            seq: 0,
            ts_ns: 0,
            pid,
            tid: pid,
            ppid: None,
            comm: "sh".into(),
            cgroup_id: 1,
            detail,
        }
    }

    fn set(v: &[u32]) -> BTreeSet<u32> {
        v.iter().copied().collect()
    }

    #[test]
    fn a_clean_tree_left_nothing() {
        let mut l = Lifetimes::default();
        l.observe(&ev(10, EventDetail::Fork { child_pid: 11 }));
        l.observe(&ev(
            11,
            EventDetail::Exit {
                code: Some(0),
                signal: None,
            },
        ));
        l.observe(&ev(
            10,
            EventDetail::Exit {
                code: Some(0),
                signal: None,
            },
        ));
        assert!(l.left(10, &set(&[10, 11])).is_empty());
        assert!(blind_spot(&BTreeSet::new()).is_none());
    }

    #[test]
    fn starts_without_exits_and_unseen_members_left() {
        let mut l = Lifetimes::default();
        // 11 moved itself out (no exit in the session), then started 12 outside.
        l.observe(&ev(10, EventDetail::Fork { child_pid: 11 }));
        l.observe(&ev(
            10,
            EventDetail::Exit {
                code: Some(0),
                signal: None,
            },
        ));
        assert_eq!(l.left(10, &set(&[10, 11, 12])), set(&[11, 12]));
        // Without the tree watch, the kernel layer alone still finds 11.
        assert_eq!(l.left(10, &BTreeSet::new()), set(&[11]));
        let b = blind_spot(&set(&[11, 12])).unwrap();
        assert_eq!((b.what.as_str(), b.count), (CGROUP_ESCAPE, 2));
        assert!(b.reason.contains("pids 11, 12"), "{}", b.reason);
    }

    #[test]
    fn survivors_in_the_cgroup_are_named_and_the_root_is_not() {
        let me = std::process::id();
        let r = Redactor::new(&[]).unwrap();
        let mut t = Tally::default();
        let out = outlived_in_cgroup(&[me, 4_194_305, me], 1, &r, &mut t);
        assert_eq!(
            out.len(),
            1,
            "a pid that does not run is left out; no duplicate"
        );
        assert_eq!(out[0].pid, me);
        assert!(!out[0].comm.is_empty() && !out[0].left_cgroup);
        assert!(outlived_in_cgroup(&[me], me, &r, &mut t).is_empty());
    }

    #[test]
    fn nothing_is_killed_when_notices_were_lost() {
        let me = std::process::id();
        let r = Redactor::new(&[]).unwrap();
        let (killed, unkilled) =
            kill_outside(|| Some((set(&[me]), true)), &r, &mut Tally::default());
        assert!(killed.is_empty());
        assert_eq!(unkilled, [me]);
    }

    #[test]
    fn processes_outside_are_killed() {
        let mut child = std::process::Command::new("sleep")
            .arg("300")
            .spawn()
            .unwrap();
        let pid = child.id();
        let r = Redactor::new(&[]).unwrap();
        let mut rounds = 0;
        let (killed, unkilled) = kill_outside(
            || {
                rounds += 1;
                // The test reaps its child, as a subreaper or init would.
                if rounds > 1 {
                    let _ = child.try_wait();
                }
                Some((set(&[pid]), false))
            },
            &r,
            &mut Tally::default(),
        );
        assert!(unkilled.is_empty());
        assert_eq!(killed.len(), 1);
        assert_eq!((killed[0].pid, killed[0].comm.as_str()), (pid, "sleep"));
        assert!(killed[0].left_cgroup);
        assert!(!crate::stale::process_alive(pid));
        let _ = child.wait();
    }
}
