//! The traced syscalls' events, built when the syscall returns (user strings are paged in
//! by then): by one fexit program per syscall, or by the raw `sys_enter` / `sys_exit` pair
//! where fexit is not available.

use aya_ebpf::{
    helpers::{bpf_get_current_pid_tgid, bpf_probe_read_kernel},
    macros::{fexit, raw_tracepoint},
    programs::{FExitContext, RawTracePointContext},
};
use capture_ebpf::{nr, syscall_kind, Inflight, KIND_OPEN, KIND_RENAME, KIND_UNLINK, KIND_WRITE};

use crate::event::{emit, fill_header, lost, read_kernel_u64, scratch, INFLIGHT};
use crate::{file, filter, net};

/// Where the syscall arguments and number are in `pt_regs` (u64 words): the
/// arguments are read as one block of `BLOCK` words starting at `FIRST`.
#[cfg(bpf_target_arch = "x86_64")]
mod regs {
    // r15 r14 r13 r12 bp bx r11 r10 r9 r8 ax cx dx si di orig_ax
    pub const FIRST: u64 = 7;
    pub const BLOCK: usize = 8;
    /// di si dx r10 r8, relative to FIRST.
    pub const ARGS: [usize; 5] = [7, 6, 5, 0, 2];
    pub const NR: u64 = 15;
}
#[cfg(not(bpf_target_arch = "x86_64"))]
mod regs {
    // arm64 / riscv-like: x0..x4 first; the number is not re-checked at exit.
    pub const FIRST: u64 = 0;
    pub const BLOCK: usize = 5;
    pub const ARGS: [usize; 5] = [0, 1, 2, 3, 4];
    pub const NR: u64 = u64::MAX;
}

/// The syscall `nr`'s arguments, read from its `pt_regs` in one block (fewer helper calls,
/// fewer verifier paths).
#[inline(always)]
fn arguments(nr: u64, regs: u64) -> Inflight {
    // SAFETY: bpf_probe_read_kernel handles faults.
    let block: [u64; regs::BLOCK] =
        unsafe { bpf_probe_read_kernel((regs + regs::FIRST * 8) as *const [u64; regs::BLOCK]) }
            .unwrap_or([0; regs::BLOCK]);
    Inflight {
        nr,
        args: [
            block[regs::ARGS[0]],
            block[regs::ARGS[1]],
            block[regs::ARGS[2]],
            block[regs::ARGS[3]],
            block[regs::ARGS[4]],
        ],
    }
}

/// The event of a traced syscall that returned `ret`, written to the ring buffer.
#[inline(always)]
fn emit_syscall(kind: u32, inf: &Inflight, ret: i64) {
    let Some(ev) = scratch(0) else {
        return;
    };
    // One header and one emit for every kind keeps the program (and its verification) small.
    fill_header(ev, kind);
    ev.result = ret;
    match kind {
        KIND_OPEN => file::open(ev, inf),
        KIND_WRITE => file::write(ev, inf),
        KIND_UNLINK => file::unlink(ev, inf),
        KIND_RENAME => file::rename(ev, inf),
        _ => net::connect(ev, inf),
    }
    emit(ev);
}

/// An fexit program on the syscall function `nr` goes to: `(const struct pt_regs *regs)`,
/// then the return value. `nr` is a constant in each program, so each keeps only its kind.
#[inline(always)]
fn on_syscall_return(ctx: &FExitContext, nr: u64) -> i32 {
    let Some(kind) = syscall_kind(nr) else {
        return 0;
    };
    if !filter::in_session() {
        return 0;
    }
    let regs: u64 = ctx.arg(0);
    let ret: i64 = ctx.arg(1);
    emit_syscall(kind, &arguments(nr, regs), ret);
    0
}

macro_rules! fexit_programs {
    ($($name:ident => $nr:ident),* $(,)?) => {$(
        // The loader attaches it to the function of the syscall `capture_ebpf::names` pairs it with.
        #[fexit]
        pub fn $name(ctx: FExitContext) -> i32 {
            on_syscall_return(&ctx, nr::$nr)
        }
    )*};
}

fexit_programs! {
    tare_open => OPEN,
    tare_creat => CREAT,
    tare_openat => OPENAT,
    tare_openat2 => OPENAT2,
    tare_write => WRITE,
    tare_pwrite64 => PWRITE64,
    tare_writev => WRITEV,
    tare_pwritev => PWRITEV,
    tare_pwritev2 => PWRITEV2,
    tare_unlink => UNLINK,
    tare_unlinkat => UNLINKAT,
    tare_rename => RENAME,
    tare_renameat => RENAMEAT,
    tare_renameat2 => RENAMEAT2,
    tare_connect => CONNECT,
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
    let inf = arguments(id, ctx.arg(0));
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
    let Some(kind) = syscall_kind(inf.nr) else {
        return 0;
    };
    emit_syscall(kind, &inf, ret);
    0
}
