//! `sys_enter` / `sys_exit`: save the traced syscalls' arguments, then build the event at exit.

use aya_ebpf::{
    helpers::bpf_get_current_pid_tgid, macros::raw_tracepoint, programs::RawTracePointContext,
};
use capture_ebpf::{nr, syscall_kind, Inflight};

use crate::event::{lost, read_kernel_u64, scratch, INFLIGHT};
use crate::{file, filter, net};

/// Indexes (in u64 words) of the syscall argument registers and the syscall number in `pt_regs`.
#[cfg(bpf_target_arch = "x86_64")]
mod regs {
    // r15 r14 r13 r12 bp bx r11 r10 r9 r8 ax cx dx si di orig_ax
    pub const ARGS: [u64; 5] = [14, 13, 12, 7, 9];
    pub const NR: u64 = 15;
}
#[cfg(not(bpf_target_arch = "x86_64"))]
mod regs {
    // arm64 / riscv-like: x0..x4 first; the number is not re-checked at exit.
    pub const ARGS: [u64; 5] = [0, 1, 2, 3, 4];
    pub const NR: u64 = u64::MAX;
}

#[raw_tracepoint(tracepoint = "sys_enter")]
pub fn tare_sys_enter(ctx: RawTracePointContext) -> i32 {
    let id: u64 = ctx.arg(1);
    let Some(kind) = syscall_kind(id) else {
        return 0;
    };
    if !filter::in_session() {
        return 0;
    }
    let regs: u64 = ctx.arg(0);
    let inf = Inflight {
        nr: id,
        args: [
            read_kernel_u64(regs + regs::ARGS[0] * 8),
            read_kernel_u64(regs + regs::ARGS[1] * 8),
            read_kernel_u64(regs + regs::ARGS[2] * 8),
            read_kernel_u64(regs + regs::ARGS[3] * 8),
            read_kernel_u64(regs + regs::ARGS[4] * 8),
        ],
    };
    let tid = bpf_get_current_pid_tgid() as u32;
    if INFLIGHT.insert(tid, inf, 0).is_err() {
        lost(kind);
    }
    0
}

#[raw_tracepoint(tracepoint = "sys_exit")]
pub fn tare_sys_exit(ctx: RawTracePointContext) -> i32 {
    if !filter::in_session() {
        return 0;
    }
    let tid = bpf_get_current_pid_tgid() as u32;
    let Some(p) = INFLIGHT.get_ptr(tid) else {
        return 0;
    };
    // SAFETY: valid map value pointer; copied before the entry is removed.
    let inf = unsafe { *p };
    let _ = INFLIGHT.remove(tid);
    if regs::NR != u64::MAX {
        let regs: u64 = ctx.arg(0);
        if read_kernel_u64(regs + regs::NR * 8) != inf.nr {
            return 0; // a stale entry (its exit was never seen)
        }
    }
    let ret: i64 = ctx.arg(1);
    let Some(ev) = scratch(0) else {
        return 0;
    };
    match inf.nr {
        nr::OPEN | nr::CREAT | nr::OPENAT | nr::OPENAT2 => file::open(ev, &inf, ret),
        nr::WRITE | nr::PWRITE64 | nr::WRITEV | nr::PWRITEV | nr::PWRITEV2 => {
            file::write(ev, &inf, ret)
        }
        nr::UNLINK | nr::UNLINKAT => file::unlink(ev, &inf, ret),
        nr::RENAME | nr::RENAMEAT | nr::RENAMEAT2 => file::rename(ev, &inf, ret),
        nr::CONNECT => net::connect(ev, &inf, ret),
        _ => {}
    }
    0
}
