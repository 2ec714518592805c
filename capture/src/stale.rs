//! Records which tare process owns each session cgroup, and removes what a killed tare left behind.
//!
//! A `kill -9` of tare runs none of its cleanup: its session cgroups stay, and so do the
//! workload's descendants (the direct child dies with tare, by `PR_SET_PDEATHSIG`). Each
//! session writes `/run/tare/sessions/<run_id>`: the owner's pid and start time (so a
//! reused pid is not taken for it) and its cgroup directories. The next capture sweeps the
//! records whose owner is gone: it kills what is left in their cgroups and removes them.

use std::fs;
use std::path::{Path, PathBuf};

/// Where the records are (root only: /run/tare is 0700).
pub const SESSIONS_DIR: &str = "/run/tare/sessions";

/// A session's owner and cgroups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub pid: u32,
    /// Field 22 of /proc/<pid>/stat: the owner's start time in clock ticks since boot.
    pub start: u64,
    pub cgroups: Vec<PathBuf>,
}

/// The text of a record: `pid start`, then one cgroup directory a line.
pub fn format_record(r: &Record) -> String {
    let mut s = format!("{} {}\n", r.pid, r.start);
    for c in &r.cgroups {
        s.push_str(&c.display().to_string());
        s.push('\n');
    }
    s
}

/// Parses a record; `None` unless well formed. Only directories below a `tare` directory of
/// a cgroup file system are kept, so a damaged record cannot point tare elsewhere.
pub fn parse_record(text: &str) -> Option<Record> {
    let mut lines = text.lines();
    let mut head = lines.next()?.split_whitespace();
    let pid = head.next()?.parse().ok()?;
    let start = head.next()?.parse().ok()?;
    let cgroups = lines
        .map(PathBuf::from)
        .filter(|p| {
            p.starts_with("/sys/fs/cgroup")
                && p.parent().and_then(Path::file_name) == Some("tare".as_ref())
        })
        .collect();
    Some(Record {
        pid,
        start,
        cgroups,
    })
}

/// The start time (field 22) from the text of /proc/<pid>/stat; the command name may hold
/// spaces and parentheses, so fields are counted after its last `)`.
pub fn start_of_stat(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// The state letter (field 3) from the text of /proc/<pid>/stat.
pub fn state_of_stat(stat: &str) -> Option<char> {
    stat[stat.rfind(')')? + 1..].trim_start().chars().next()
}

/// Whether a process with this stat text runs code: it is not a zombie (nor dead). A
/// zombie has exited; only its parent's wait is missing, so what it owned is abandoned.
pub fn runs(stat: &str) -> bool {
    state_of_stat(stat).is_some_and(|s| !matches!(s, 'Z' | 'X' | 'x'))
}

/// Whether `pid` is a live process (it exists and is not a zombie).
pub fn process_alive(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| runs(&s))
}

/// Whether the owner of a record still runs: the same process (pid and start time) and not
/// a zombie.
fn owner_runs(pid: u32, start: u64) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| start_of_stat(&s) == Some(start) && runs(&s))
}

fn start_of(pid: u32) -> Option<u64> {
    start_of_stat(&fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Writes this process's record for `run_id` (best effort: without it, only the sweep of a
/// later capture is lost).
pub fn record(run_id: &str, cgroups: &[PathBuf]) {
    let pid = std::process::id();
    let Some(start) = start_of(pid) else { return };
    let r = Record {
        pid,
        start,
        cgroups: cgroups.to_vec(),
    };
    if crate::outfile::private_dir(Path::new(SESSIONS_DIR)) {
        let path = Path::new(SESSIONS_DIR).join(run_id);
        let _ = crate::outfile::write_private(&path, format_record(&r).as_bytes());
    }
}

/// Removes `run_id`'s record (its cgroups are gone).
pub fn forget(run_id: &str) {
    let _ = fs::remove_file(Path::new(SESSIONS_DIR).join(run_id));
}

/// Removes the sessions whose owner is gone: kills what is left in their cgroups, removes
/// the directories and the record. Returns one line per session removed, for a note.
pub fn sweep() -> Vec<String> {
    let Ok(dir) = fs::read_dir(SESSIONS_DIR) else {
        return Vec::new();
    };
    let mut notes = Vec::new();
    for entry in dir.filter_map(Result::ok) {
        let run_id = entry.file_name().to_string_lossy().into_owned();
        let Some(r) = fs::read_to_string(entry.path())
            .ok()
            .and_then(|t| parse_record(&t))
        else {
            continue;
        };
        if owner_runs(r.pid, r.start) {
            continue; // its tare still runs
        }
        let mut killed = 0;
        for c in &r.cgroups {
            killed += crate::cgroup::kill_and_remove(c);
        }
        let _ = fs::remove_file(entry.path());
        notes.push(format!(
            "removed session cgroup {run_id} left by tare pid {} (gone), {killed} process(es) killed",
            r.pid
        ));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_stay_in_cgroup_trees() {
        let r = Record {
            pid: 42,
            start: 123456,
            cgroups: vec![
                "/sys/fs/cgroup/unified/tare/run-1".into(),
                "/sys/fs/cgroup/memory/tare/run-1".into(),
            ],
        };
        assert_eq!(parse_record(&format_record(&r)), Some(r));
        let bad = "7 8\n/etc\n/sys/fs/cgroup/unified/other/x\n/sys/fs/cgroup/tare/ok\n";
        assert_eq!(
            parse_record(bad).unwrap().cgroups,
            vec![PathBuf::from("/sys/fs/cgroup/tare/ok")]
        );
        assert_eq!(parse_record("x y\n"), None);
        assert_eq!(parse_record(""), None);
    }

    #[test]
    fn start_time_is_field_22_whatever_the_command_name() {
        let tail = "S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 98765 20 21";
        assert_eq!(start_of_stat(&format!("12 (tare) {tail}")), Some(98765));
        assert_eq!(start_of_stat(&format!("12 (a) b) (c) {tail}")), Some(98765));
        assert_eq!(start_of_stat("12 (tare"), None);
        let own = start_of(std::process::id()).expect("our own start time");
        assert!(own > 0);
    }

    #[test]
    fn a_zombie_owner_is_gone() {
        let tail = "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 98765 20 21";
        assert!(runs(&format!("12 (tare) S {tail}")));
        assert!(
            runs(&format!("12 (a) Z) R {tail}")),
            "the state after the last paren"
        );
        assert!(!runs(&format!("12 (tare) Z {tail}")));
        assert!(!runs(&format!("12 (tare) X {tail}")));
        assert!(!runs("garbage"));
        assert!(process_alive(std::process::id()));
        // A real zombie: a child that exited and is not waited for yet.
        let child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        let zombie = (0..500).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(10));
            fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !runs(&s))
        });
        assert!(
            zombie && !process_alive(pid),
            "pid {pid} is a zombie, not alive"
        );
        let start = start_of(pid).unwrap();
        assert!(!owner_runs(pid, start));
        drop(child.wait_with_output());
    }
}
