//! The `#[repr(C)]` event layout shared by the eBPF programs and userspace.
//!
//! Every record in the ring buffer is one [`RawEvent`] cut after its string
//! data: [`RAW_HEADER_SIZE`] fixed bytes, then `len1 + len2` bytes of `data`.
//! The meaning of `arg0`, `arg1`, `result` and the strings depends on `kind`:
//!
//! | kind | arg0 | arg1 | result | string 1 | string 2 |
//! |---|---|---|---|---|---|
//! | [`KIND_EXEC`] | - | - | 0 | filename | - |
//! | [`KIND_FORK`] | child tgid | - | 0 | - | - |
//! | [`KIND_EXIT`] | wait status (`task->exit_code`) | - | 0 | - | - |
//! | [`KIND_OPEN`] | open flags | mode | fd or -errno | path | - |
//! | [`KIND_WRITE`] | fd | requested bytes | bytes or -errno | - | - |
//! | [`KIND_UNLINK`] | - | - | 0 or -errno | path | - |
//! | [`KIND_RENAME`] | - | - | 0 or -errno | from | to |
//! | [`KIND_CONNECT`] | fd | addrlen | 0 or -errno | raw sockaddr bytes | - |
//! | [`KIND_EXEC_FAILED`] | - | - | -errno | filename | - |
//! | [`KIND_IO_URING`] | entries asked for | - | ring fd | - | - |
//! | [`KIND_COMPAT_EXEC`] | ELF `e_machine` | - | 0 | filename | - |
//!
//! Userspace decodes with the `offset_of!` constants below, never by
//! transmuting, so a short or corrupt record is an error, not UB.
#![cfg_attr(not(test), no_std)]

/// A successful exec: the new program image (`sched_process_exec`).
pub const KIND_EXEC: u32 = 0;
/// A new process (not thread) (`sched_process_fork`).
pub const KIND_FORK: u32 = 1;
/// A thread group died (`sched_process_exit` with `group_dead`).
pub const KIND_EXIT: u32 = 2;
/// open / creat / openat / openat2.
pub const KIND_OPEN: u32 = 3;
/// write / pwrite64 / writev / pwritev / pwritev2.
pub const KIND_WRITE: u32 = 4;
/// unlink / unlinkat.
pub const KIND_UNLINK: u32 = 5;
/// rename / renameat / renameat2.
pub const KIND_RENAME: u32 = 6;
/// connect.
pub const KIND_CONNECT: u32 = 7;
/// An execve/execveat that failed (a missing command, a PATH probe): the path and errno.
pub const KIND_EXEC_FAILED: u32 = 8;
/// An io_uring set up (io_uring_setup succeeded): file operations submitted through it
/// are not syscalls, so the programs do not see them.
pub const KIND_IO_URING: u32 = 9;
/// A successful exec of a 32-bit program (ELFCLASS32: ia32, aarch32, x32), right after its
/// `KIND_EXEC`: the task now makes compat syscalls, whose numbers are another table's, so
/// the syscall programs do not decode them.
pub const KIND_COMPAT_EXEC: u32 = 10;
/// Number of kinds; counters are indexed `kind * COUNTERS_PER_KIND + which`.
pub const NUM_KINDS: u32 = 11;

/// Counter slot: events that passed the session filter.
pub const CTR_SEEN: u32 = 0;
/// Counter slot: events written to the ring buffer.
pub const CTR_SUBMITTED: u32 = 1;
/// Counter slot: events lost because the ring buffer was full.
pub const CTR_DROPPED: u32 = 2;
/// Counter slots per kind.
pub const COUNTERS_PER_KIND: u32 = 3;
/// Entries of the per-CPU `COUNTERS` array.
pub const NUM_COUNTERS: u32 = NUM_KINDS * COUNTERS_PER_KIND;

/// Index of a counter in the `COUNTERS` map.
#[inline(always)]
pub const fn counter_index(kind: u32, which: u32) -> u32 {
    kind * COUNTERS_PER_KIND + which
}

/// Buffer per string field, NUL included: strings longer than `STR_MAX - 1` bytes are
/// cut (a string of exactly `STR_MAX - 1` bytes may have been). An unreadable string
/// (bad pointer) has length 0.
pub const STR_MAX: usize = 512;
/// Size of `RawEvent::data` (two strings).
pub const DATA_MAX: usize = 2 * STR_MAX;
/// Bytes of a raw sockaddr kept for connect (`sockaddr_un` is 110).
pub const SOCKADDR_MAX: usize = 128;
/// Most iovecs summed for writev; more set [`FLAG_IOV_TRUNCATED`].
pub const IOV_MAX_SUMMED: u32 = 64;

/// `RawEvent::flags`: writev had more than [`IOV_MAX_SUMMED`] iovecs; `arg1` is a lower bound.
pub const FLAG_IOV_TRUNCATED: u32 = 16;

/// Default ring buffer size: 2 MiB holds ~16k typical records (~130 bytes for
/// an open), ~16 ms of events at 1M events/s. Measured on a loaded 2-core VM:
/// 0 drops at ~350k events/s for 5 s with 1 MiB already. The consumer maps the
/// data pages twice, so tare's RSS grows by 2x the size (8 MiB would add 16 MB).
pub const DEFAULT_RINGBUF_BYTES: u32 = 2 << 20;

/// One event as the eBPF programs build it; only the first
/// `RAW_HEADER_SIZE + len1 + len2` bytes go into the ring buffer.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct RawEvent {
    pub kind: u32,
    /// `FLAG_*` bits.
    pub flags: u32,
    /// `bpf_ktime_get_ns()` at the hook.
    pub ts_ns: u64,
    pub pid: u32,
    pub tid: u32,
    /// Parent's tgid (`real_parent->tgid`), 0 when unknown.
    pub ppid: u32,
    /// Bytes of string 1 in `data` (no NUL).
    pub len1: u16,
    /// Bytes of string 2, right after string 1 (no NUL).
    pub len2: u16,
    pub cgroup_id: u64,
    pub comm: [u8; 16],
    pub result: i64,
    pub arg0: u64,
    pub arg1: u64,
    pub data: [u8; DATA_MAX],
}

/// Bytes before `data`: the fixed part of every record.
pub const RAW_HEADER_SIZE: usize = core::mem::offset_of!(RawEvent, data);

/// Field offsets for decoders.
pub mod offsets {
    use super::RawEvent;
    use core::mem::offset_of;
    pub const KIND: usize = offset_of!(RawEvent, kind);
    pub const FLAGS: usize = offset_of!(RawEvent, flags);
    pub const TS_NS: usize = offset_of!(RawEvent, ts_ns);
    pub const PID: usize = offset_of!(RawEvent, pid);
    pub const TID: usize = offset_of!(RawEvent, tid);
    pub const PPID: usize = offset_of!(RawEvent, ppid);
    pub const LEN1: usize = offset_of!(RawEvent, len1);
    pub const LEN2: usize = offset_of!(RawEvent, len2);
    pub const CGROUP_ID: usize = offset_of!(RawEvent, cgroup_id);
    pub const COMM: usize = offset_of!(RawEvent, comm);
    pub const RESULT: usize = offset_of!(RawEvent, result);
    pub const ARG0: usize = offset_of!(RawEvent, arg0);
    pub const ARG1: usize = offset_of!(RawEvent, arg1);
    pub const DATA: usize = offset_of!(RawEvent, data);
}

/// A traced syscall's number and arguments, read from its `pt_regs` when it returns.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SyscallArgs {
    /// Syscall number.
    pub nr: u64,
    pub args: [u64; 5],
}

/// Names of the globals userspace sets before load (`.rodata`, constant to the verifier).
pub mod globals {
    /// `u64`: the session cgroup's id (inode of its cgroup2 directory).
    pub const SESSION_CGROUP_ID: &str = "SESSION_CGROUP_ID";
    /// `u32`: the session cgroup's level (root = 0).
    pub const SESSION_LEVEL: &str = "SESSION_LEVEL";
    /// `u32`: offset of `task_struct.pid`.
    pub const TASK_PID_OFF: &str = "TASK_PID_OFF";
    /// `u32`: offset of `task_struct.tgid`.
    pub const TASK_TGID_OFF: &str = "TASK_TGID_OFF";
    /// `u32`: offset of `task_struct.real_parent`.
    pub const TASK_REAL_PARENT_OFF: &str = "TASK_REAL_PARENT_OFF";
    /// `u32`: offset of `task_struct.exit_code`.
    pub const TASK_EXIT_CODE_OFF: &str = "TASK_EXIT_CODE_OFF";
    /// `u32`: offset of `linux_binprm.filename`.
    pub const BPRM_FILENAME_OFF: &str = "BPRM_FILENAME_OFF";
    /// `u32`: offset of `linux_binprm.buf` (the first bytes of the program: its ELF header).
    pub const BPRM_BUF_OFF: &str = "BPRM_BUF_OFF";
    /// `u32`: offset of `task_struct.thread_info.status` (x86: `TS_COMPAT` is set while a
    /// compat syscall runs); [`NO_OFFSET`](super::NO_OFFSET) where the kernel has none.
    pub const TASK_TI_STATUS_OFF: &str = "TASK_TI_STATUS_OFF";
    /// `u32`: 1 when `sched_process_exit` passes `group_dead` as its second argument (6.16+).
    pub const EXIT_HAS_GROUP_DEAD: &str = "EXIT_HAS_GROUP_DEAD";
    /// `u64`: pending ring-buffer bytes from which an event wakes the consumer
    /// (below it the consumer finds events on its poll timer).
    pub const WAKEUP_BYTES: &str = "WAKEUP_BYTES";
}

/// Names of the maps and programs in the object.
pub mod names {
    pub const EVENTS: &str = "EVENTS";
    pub const COUNTERS: &str = "COUNTERS";
    pub const SCRATCH: &str = "SCRATCH";
    /// The scheduler's raw tracepoints (program, tracepoint): always attached.
    pub const SCHED_PROGRAMS: [(&str, &str); 3] = [
        ("tare_exec", "sched_process_exec"),
        ("tare_fork", "sched_process_fork"),
        ("tare_exit", "sched_process_exit"),
    ];
    /// The fallback syscall hook where fexit is not available: one program on the
    /// `sys_exit` tracepoint, which every syscall of every task on the host runs. First
    /// choice the BTF-typed one (`tp_btf`, direct loads from `pt_regs`), then the plain raw
    /// tracepoint (a helper call per load). (program, tracepoint).
    pub const BTF_SYSCALL_PROGRAM: (&str, &str) = ("tare_btf_sysret", "sys_exit");
    pub const RAW_SYSCALL_PROGRAM: (&str, &str) = ("tare_raw_sysret", "sys_exit");
    /// The preferred syscall hooks (program, syscall): one fexit program per traced
    /// syscall, on the kernel's syscall entry function (`__x64_sys_openat` on x86_64), so
    /// no other syscall pays anything. A syscall the kernel lacks (arm64 has no `open`) is
    /// skipped. Every program name starts with `tare_`.
    pub const FEXIT_PROGRAMS: [(&str, &str); 18] = [
        ("tare_open", "open"),
        ("tare_creat", "creat"),
        ("tare_openat", "openat"),
        ("tare_openat2", "openat2"),
        ("tare_write", "write"),
        ("tare_pwrite64", "pwrite64"),
        ("tare_writev", "writev"),
        ("tare_pwritev", "pwritev"),
        ("tare_pwritev2", "pwritev2"),
        ("tare_unlink", "unlink"),
        ("tare_unlinkat", "unlinkat"),
        ("tare_rename", "rename"),
        ("tare_renameat", "renameat"),
        ("tare_renameat2", "renameat2"),
        ("tare_connect", "connect"),
        ("tare_execve", "execve"),
        ("tare_execveat", "execveat"),
        ("tare_io_uring_setup", "io_uring_setup"),
    ];
}

/// A global offset the kernel's BTF does not have: the programs skip what needs it.
pub const NO_OFFSET: u32 = u32::MAX;

/// x86's `TS_COMPAT` bit of `thread_info.status`: a 32-bit (ia32) syscall is running.
pub const TS_COMPAT: u32 = 0x0002;
/// arm64's `PSR_MODE32_BIT` of `pt_regs.pstate`: the task runs AArch32 code.
pub const PSR_MODE32_BIT: u64 = 0x10;

/// The ELF machine of a program whose first 8 header bytes are `ident` and bytes 16..20 are
/// `type_machine` (both little-endian), when it is a 32-bit ELF (`ELFCLASS32`), else `None`.
#[inline(always)]
pub fn elf32_machine(ident: u64, type_machine: u32) -> Option<u16> {
    let magic = ident as u32;
    let class = (ident >> 32) as u8;
    (magic == 0x464c_457f && class == 1).then_some((type_machine >> 16) as u16)
}

/// `O_CREAT | O_WRONLY | O_TRUNC`: the flags `creat(2)` implies.
pub const CREAT_FLAGS: u64 = 0o100 | 0o1 | 0o1000;

/// Syscall numbers the programs decode (per architecture).
pub mod nr {
    #[cfg(any(target_arch = "x86_64", bpf_target_arch = "x86_64"))]
    mod arch {
        pub const WRITE: u64 = 1;
        pub const OPEN: u64 = 2;
        pub const PWRITE64: u64 = 18;
        pub const WRITEV: u64 = 20;
        pub const CONNECT: u64 = 42;
        pub const RENAME: u64 = 82;
        pub const CREAT: u64 = 85;
        pub const UNLINK: u64 = 87;
        pub const OPENAT: u64 = 257;
        pub const UNLINKAT: u64 = 263;
        pub const RENAMEAT: u64 = 264;
        pub const PWRITEV: u64 = 296;
        pub const RENAMEAT2: u64 = 316;
        pub const PWRITEV2: u64 = 328;
        pub const OPENAT2: u64 = 437;
        pub const EXECVE: u64 = 59;
        pub const EXECVEAT: u64 = 322;
        pub const IO_URING_SETUP: u64 = 425;
    }
    // The generic table (arm64, riscv64, ...): no open/creat/unlink/rename.
    #[cfg(not(any(target_arch = "x86_64", bpf_target_arch = "x86_64")))]
    mod arch {
        pub const WRITE: u64 = 64;
        pub const OPEN: u64 = u64::MAX - 1;
        pub const PWRITE64: u64 = 68;
        pub const WRITEV: u64 = 66;
        pub const CONNECT: u64 = 203;
        pub const RENAME: u64 = u64::MAX - 2;
        pub const CREAT: u64 = u64::MAX - 3;
        pub const UNLINK: u64 = u64::MAX - 4;
        pub const OPENAT: u64 = 56;
        pub const UNLINKAT: u64 = 35;
        pub const RENAMEAT: u64 = 38;
        pub const PWRITEV: u64 = 70;
        pub const RENAMEAT2: u64 = 276;
        pub const PWRITEV2: u64 = 287;
        pub const OPENAT2: u64 = 437;
        pub const EXECVE: u64 = 221;
        pub const EXECVEAT: u64 = 281;
        pub const IO_URING_SETUP: u64 = 425;
    }
    pub use arch::*;
}

/// The event kind a syscall number produces, if tare traces it.
#[inline(always)]
pub fn syscall_kind(n: u64) -> Option<u32> {
    use nr::*;
    match n {
        OPEN | CREAT | OPENAT | OPENAT2 => Some(KIND_OPEN),
        WRITE | PWRITE64 | WRITEV | PWRITEV | PWRITEV2 => Some(KIND_WRITE),
        UNLINK | UNLINKAT => Some(KIND_UNLINK),
        RENAME | RENAMEAT | RENAMEAT2 => Some(KIND_RENAME),
        CONNECT => Some(KIND_CONNECT),
        EXECVE | EXECVEAT => Some(KIND_EXEC_FAILED),
        IO_URING_SETUP => Some(KIND_IO_URING),
        _ => None,
    }
}

/// Whether a traced syscall that returned `ret` makes an event: an exec only when it
/// failed (a successful one is `KIND_EXEC`'s), an io_uring only when one was set up.
#[inline(always)]
pub fn wanted(kind: u32, ret: i64) -> bool {
    match kind {
        KIND_EXEC_FAILED => ret < 0,
        KIND_IO_URING => ret >= 0,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_stable() {
        assert_eq!(RAW_HEADER_SIZE, 80);
        assert_eq!(core::mem::size_of::<RawEvent>(), 80 + DATA_MAX);
        assert_eq!(offsets::TS_NS, 8);
        assert_eq!(offsets::CGROUP_ID, 32);
        assert_eq!(offsets::COMM, 40);
        assert_eq!(core::mem::size_of::<SyscallArgs>(), 48);
    }

    #[test]
    fn syscall_table() {
        assert_eq!(syscall_kind(nr::OPENAT), Some(KIND_OPEN));
        assert_eq!(syscall_kind(nr::WRITEV), Some(KIND_WRITE));
        assert_eq!(syscall_kind(nr::RENAMEAT2), Some(KIND_RENAME));
        assert_eq!(syscall_kind(0xffff), None);
        assert_eq!(syscall_kind(nr::EXECVEAT), Some(KIND_EXEC_FAILED));
        assert_eq!(syscall_kind(nr::IO_URING_SETUP), Some(KIND_IO_URING));
        assert!(wanted(KIND_EXEC_FAILED, -2) && !wanted(KIND_EXEC_FAILED, 0));
        assert!(wanted(KIND_IO_URING, 5) && !wanted(KIND_IO_URING, -12));
        assert!(wanted(KIND_WRITE, -9));
        assert_eq!(
            counter_index(KIND_COMPAT_EXEC, CTR_DROPPED),
            NUM_COUNTERS - 1
        );
    }

    #[test]
    fn elf_class() {
        // The first bytes of real headers: i386 busybox, x86_64 /bin/true, a script.
        let i386 = u64::from_le_bytes(*b"\x7fELF\x01\x01\x01\x00");
        let x86_64 = u64::from_le_bytes(*b"\x7fELF\x02\x01\x01\x00");
        let script = u64::from_le_bytes(*b"#!/bin/s");
        // e_type 2 (EXEC), e_machine 3 (EM_386), 40 (EM_ARM).
        assert_eq!(elf32_machine(i386, 2 | (3 << 16)), Some(3));
        assert_eq!(elf32_machine(i386, 3 | (40 << 16)), Some(40));
        assert_eq!(elf32_machine(x86_64, 2 | (62 << 16)), None);
        assert_eq!(elf32_machine(script, 0), None);
    }
}
