//! `kernel.ndjson`: one kernel event a line (`tare.kernel_event.v1`).

use serde::{Deserialize, Serialize};

/// Schema string of every line of `kernel.ndjson` (versioned through the manifest).
pub const KERNEL_EVENT_SCHEMA: &str = "tare.kernel_event.v1";

/// One event seen by the eBPF programs in the session cgroup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KernelEvent {
    /// Order in which userspace received the event, from 0.
    pub seq: u64,
    /// `CLOCK_MONOTONIC` (bpf_ktime_get_ns) at the hook, in nanoseconds.
    pub ts_ns: u64,
    /// Thread-group id (what userspace calls the pid).
    pub pid: u32,
    /// Thread id.
    pub tid: u32,
    /// Parent's thread-group id, where the hook knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ppid: Option<u32>,
    /// Task command name (at most 15 bytes).
    pub comm: String,
    /// cgroup v2 id of the task when the event fired.
    pub cgroup_id: u64,
    /// What happened.
    #[serde(flatten)]
    pub detail: EventDetail,
}

/// The kind-specific part of a kernel event; `kind` names it in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventDetail {
    /// A successful execve: the new program image.
    Exec { filename: String },
    /// A new process (not thread) created by fork/clone.
    Fork { child_pid: u32 },
    /// A process (thread group) exited.
    Exit {
        /// Exit code when it exited normally.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<i32>,
        /// Terminating signal when it was killed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signal: Option<i32>,
    },
    /// openat/openat2/open: `result` is the fd, or a negative errno.
    Open {
        path: String,
        flags: i32,
        mode: u32,
        result: i64,
    },
    /// write/pwrite64/writev: `result` is bytes written, or a negative errno.
    Write {
        fd: i32,
        requested: u64,
        result: i64,
    },
    /// unlink/unlinkat.
    Unlink { path: String, result: i64 },
    /// rename/renameat/renameat2.
    Rename {
        from: String,
        to: String,
        result: i64,
    },
    /// connect: `addr` in text form (IPv4, IPv6, or a unix path).
    Connect {
        family: u16,
        addr: String,
        port: u16,
        result: i64,
    },
}

impl EventDetail {
    /// The kind as written in JSON and in health counters.
    pub fn kind(&self) -> EventKind {
        match self {
            EventDetail::Exec { .. } => EventKind::Exec,
            EventDetail::Fork { .. } => EventKind::Fork,
            EventDetail::Exit { .. } => EventKind::Exit,
            EventDetail::Open { .. } => EventKind::Open,
            EventDetail::Write { .. } => EventKind::Write,
            EventDetail::Unlink { .. } => EventKind::Unlink,
            EventDetail::Rename { .. } => EventKind::Rename,
            EventDetail::Connect { .. } => EventKind::Connect,
        }
    }
}

/// Event kinds, in the order the kernel counters index them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Exec,
    Fork,
    Exit,
    Open,
    Write,
    Unlink,
    Rename,
    Connect,
}

impl EventKind {
    /// Every kind, in counter-index order.
    pub const ALL: [EventKind; 8] = [
        EventKind::Exec,
        EventKind::Fork,
        EventKind::Exit,
        EventKind::Open,
        EventKind::Write,
        EventKind::Unlink,
        EventKind::Rename,
        EventKind::Connect,
    ];

    /// The name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Exec => "exec",
            EventKind::Fork => "fork",
            EventKind::Exit => "exit",
            EventKind::Open => "open",
            EventKind::Write => "write",
            EventKind::Unlink => "unlink",
            EventKind::Rename => "rename",
            EventKind::Connect => "connect",
        }
    }
}
