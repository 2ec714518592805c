//! tare's eBPF programs: fexit, tp_btf and raw tracepoints (no kprobes, no tracefs needed).
//!
//! - When a traced syscall of a task in the session cgroup returns, its event is built
//!   from its `pt_regs` and user strings (paged in by then) and written to the ring
//!   buffer (`syscalls.rs`, `file.rs`, `net.rs`): by one fexit program per syscall, or
//!   where the kernel refuses fexit, by one program on `sys_exit`.
//! - `sched_process_exec` / `_fork` / `_exit` give exec, fork and exit
//!   (`proc.rs`).
//!
//! On the host this binary is an empty `main` so the workspace builds on stable.
#![cfg_attr(target_arch = "bpf", no_std, no_main)]

#[cfg(target_arch = "bpf")]
mod event;
#[cfg(target_arch = "bpf")]
mod file;
#[cfg(target_arch = "bpf")]
mod filter;
#[cfg(target_arch = "bpf")]
mod net;
#[cfg(target_arch = "bpf")]
mod proc;
#[cfg(target_arch = "bpf")]
mod syscalls;

#[cfg(not(target_arch = "bpf"))]
fn main() {}

/// GPL-compatible so the probe_read helpers are available.
#[cfg(target_arch = "bpf")]
#[unsafe(no_mangle)]
#[unsafe(link_section = "license")]
pub static LICENSE: [u8; 13] = *b"Dual MIT/GPL\0";

#[cfg(target_arch = "bpf")]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    // SAFETY: the verifier rejects programs with reachable panics; none is reachable.
    unsafe { core::hint::unreachable_unchecked() }
}
