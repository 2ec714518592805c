//! The traced syscalls' events, built when the syscall returns (user strings are paged in
//! by then, and the arguments are still in its `pt_regs`): by one fexit program per
//! syscall, or, where fexit is not available, by one program on the `sys_exit` tracepoint.

use aya_ebpf::{
    macros::{btf_tracepoint, fexit, raw_tracepoint},
    programs::{BtfTracePointContext, FExitContext, RawTracePointContext},
};
use capture_ebpf::{
    nr, syscall_kind, wanted, SyscallArgs, KIND_CONNECT, KIND_EXEC_FAILED, KIND_OPEN, KIND_RENAME,
    KIND_UNLINK, KIND_WRITE,
};

use crate::event::{emit, fill_header, read_kernel_u64, scratch};
use crate::{file, filter, net, proc};

/// Where the syscall number and arguments are in `pt_regs` (u64 words) when it returns.
#[cfg(bpf_target_arch = "x86_64")]
mod regs {
    // r15 r14 r13 r12 bp bx r11 r10 r9 r8 ax cx dx si di orig_ax
    /// di si dx r10 r8.
    pub const ARGS: [usize; 5] = [14, 13, 12, 7, 9];
    /// orig_ax.
    pub const NR: usize = 15;
    /// The syscall number from `pt_regs`.
    #[inline(always)]
    pub fn nr<const DIRECT: bool>(regs: u64) -> u64 {
        super::word::<DIRECT>(regs, NR)
    }
    /// Whether the returning syscall is an ia32 one (`TS_COMPAT`: an int 0x80 or a 32-bit
    /// program's sysenter), whose number is the ia32 table's.
    #[inline(always)]
    pub fn compat<const DIRECT: bool>(_regs: u64) -> bool {
        use crate::event::{global_u32, read_kernel_u32, TASK_TI_STATUS_OFF};
        let off = global_u32(&TASK_TI_STATUS_OFF);
        if off == capture_ebpf::NO_OFFSET {
            return false;
        }
        // SAFETY: helper call without arguments.
        let task = unsafe { aya_ebpf::helpers::generated::bpf_get_current_task() };
        read_kernel_u32(task + off as u64) & capture_ebpf::TS_COMPAT != 0
    }
}
#[cfg(not(bpf_target_arch = "x86_64"))]
mod regs {
    // arm64: regs[31] sp pc pstate orig_x0 syscallno(s32). x0 holds the return value by
    // then, so the first argument is orig_x0. (Run on Debian's 6.1 arm64 kernel in the VM
    // suite.)
    pub const ARGS: [usize; 5] = [34, 1, 2, 3, 4];
    /// `syscallno`, an s32 at word 35: a direct load must be 4 bytes, as the verifier checks
    /// a BTF-typed access against the field's size.
    pub const NR: usize = 35;
    /// The syscall number from `pt_regs`.
    #[inline(always)]
    pub fn nr<const DIRECT: bool>(regs: u64) -> u64 {
        if DIRECT {
            // SAFETY: a BTF-typed pt_regs pointer, as in `word`; a 4-byte load of the
            // 4-byte field.
            let n = unsafe { core::ptr::read_volatile((regs as *const u32).add(2 * NR)) };
            n as u64
        } else {
            super::word::<false>(regs, NR) & 0xffff_ffff
        }
    }
    /// `pstate`.
    const PSTATE: usize = 33;
    /// Whether the task runs AArch32 code (its syscall numbers are the arm table's).
    #[inline(always)]
    pub fn compat<const DIRECT: bool>(regs: u64) -> bool {
        super::word::<DIRECT>(regs, PSTATE) & capture_ebpf::PSR_MODE32_BIT != 0
    }
}

/// Word `i` of `pt_regs`: a direct load where the verifier knows the pointer's BTF type
/// (fexit, tp_btf), else a `bpf_probe_read_kernel`.
#[inline(always)]
fn word<const DIRECT: bool>(regs: u64, i: usize) -> u64 {
    if DIRECT {
        // SAFETY: a BTF-typed pt_regs pointer: the verifier checks the field and the JIT
        // turns the load into a fault-safe one.
        unsafe { core::ptr::read_volatile((regs as *const u64).add(i)) }
    } else {
        read_kernel_u64(regs + 8 * i as u64)
    }
}

/// The syscall `nr`'s arguments from its `pt_regs`.
#[inline(always)]
fn arguments<const DIRECT: bool>(nr: u64, regs: u64) -> SyscallArgs {
    let a = regs::ARGS;
    SyscallArgs {
        nr,
        args: [
            word::<DIRECT>(regs, a[0]),
            word::<DIRECT>(regs, a[1]),
            word::<DIRECT>(regs, a[2]),
            word::<DIRECT>(regs, a[3]),
            word::<DIRECT>(regs, a[4]),
        ],
    }
}

/// The event of a traced syscall that returned `ret`, written to the ring buffer.
#[inline(always)]
fn emit_syscall(kind: u32, sys: &SyscallArgs, ret: i64) {
    let Some(ev) = scratch(0) else {
        return;
    };
    // One header and one emit for every kind keeps the program (and its verification) small.
    fill_header(ev, kind);
    ev.result = ret;
    match kind {
        KIND_OPEN => file::open(ev, sys),
        KIND_WRITE => file::write(ev, sys),
        KIND_UNLINK => file::unlink(ev, sys),
        KIND_RENAME => file::rename(ev, sys),
        KIND_CONNECT => net::connect(ev, sys),
        KIND_EXEC_FAILED => proc::exec_failed(ev, sys),
        // KIND_IO_URING: the entries asked for.
        _ => ev.arg0 = sys.args[0],
    }
    emit(ev);
}

/// An fexit program on the function of syscall `nr`: `(const struct pt_regs *regs)`, then
/// the return value. `nr` is a constant in each program, so each keeps only its kind.
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
    if !wanted(kind, ret) {
        return 0;
    }
    emit_syscall(kind, &arguments::<true>(nr, regs), ret);
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
    tare_execve => EXECVE,
    tare_execveat => EXECVEAT,
    tare_io_uring_setup => IO_URING_SETUP,
}

/// `sys_exit(struct pt_regs *regs, long ret)`, run by every syscall on the host: the
/// cheapest test first (is it a traced syscall?), then the session filter. A compat
/// syscall's number is another table's (ia32's 20 is getpid, x86_64's is writev), so it is
/// never decoded: its task was flagged by a `compat_exec` event.
#[inline(always)]
fn on_sys_exit<const DIRECT: bool>(regs: u64, ret: i64) -> i32 {
    let nr = regs::nr::<DIRECT>(regs);
    let Some(kind) = syscall_kind(nr) else {
        return 0;
    };
    if !wanted(kind, ret) || !filter::in_session() || regs::compat::<DIRECT>(regs) {
        return 0;
    }
    emit_syscall(kind, &arguments::<DIRECT>(nr, regs), ret);
    0
}

#[btf_tracepoint(function = "sys_exit")]
pub fn tare_btf_sysret(ctx: BtfTracePointContext) -> i32 {
    on_sys_exit::<true>(ctx.arg(0), ctx.arg(1))
}

#[raw_tracepoint(tracepoint = "sys_exit")]
pub fn tare_raw_sysret(ctx: RawTracePointContext) -> i32 {
    on_sys_exit::<false>(ctx.arg(0), ctx.arg(1))
}
