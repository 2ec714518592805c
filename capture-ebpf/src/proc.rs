//! Process events from the scheduler's raw tracepoints (exec, fork, exit), and failed execs.

use aya_ebpf::{
    helpers::bpf_get_current_pid_tgid, macros::raw_tracepoint, programs::RawTracePointContext,
};
use capture_ebpf::{
    elf32_machine, nr, RawEvent, SyscallArgs, KIND_COMPAT_EXEC, KIND_EXEC, KIND_EXIT, KIND_FORK,
};

use crate::event::{
    emit, fill_header, global_u32, put_str1_kernel, put_str1_user, read_kernel_u32,
    read_kernel_u64, scratch, task_pid, task_tgid, BPRM_BUF_OFF, BPRM_FILENAME_OFF,
    EXIT_HAS_GROUP_DEAD, TASK_EXIT_CODE_OFF,
};
use crate::filter;

/// sched_process_exec(struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm).
/// When the new program is a 32-bit ELF (`bprm->buf` holds its header), a `KIND_COMPAT_EXEC`
/// follows the exec: the task's syscalls are compat ones from now on.
#[raw_tracepoint(tracepoint = "sched_process_exec")]
pub fn tare_exec(ctx: RawTracePointContext) -> i32 {
    if !filter::in_session() {
        return 0;
    }
    let bprm: u64 = ctx.arg(2);
    let Some(ev) = scratch(1) else {
        return 0;
    };
    fill_header(ev, KIND_EXEC);
    let filename = read_kernel_u64(bprm + global_u32(&BPRM_FILENAME_OFF) as u64);
    put_str1_kernel(ev, filename);
    emit(ev);
    let head = bprm + global_u32(&BPRM_BUF_OFF) as u64;
    if let Some(machine) = elf32_machine(read_kernel_u64(head), read_kernel_u32(head + 16)) {
        let len1 = ev.len1;
        fill_header(ev, KIND_COMPAT_EXEC);
        ev.len1 = len1;
        ev.arg0 = u64::from(machine);
        emit(ev);
    }
    0
}

/// sched_process_fork(struct task_struct *parent, struct task_struct *child), run by the parent.
#[raw_tracepoint(tracepoint = "sched_process_fork")]
pub fn tare_fork(ctx: RawTracePointContext) -> i32 {
    if !filter::in_session() {
        return 0;
    }
    let child: u64 = ctx.arg(1);
    let child_tgid = task_tgid(child);
    if task_pid(child) != child_tgid {
        return 0; // a new thread, not a process
    }
    let Some(ev) = scratch(1) else {
        return 0;
    };
    fill_header(ev, KIND_FORK);
    ev.arg0 = u64::from(child_tgid);
    emit(ev);
    0
}

/// sched_process_exit(struct task_struct *p[, bool group_dead]), run by each exiting thread.
#[raw_tracepoint(tracepoint = "sched_process_exit")]
pub fn tare_exit(ctx: RawTracePointContext) -> i32 {
    let pid_tgid = bpf_get_current_pid_tgid();
    let tid = pid_tgid as u32;
    if !filter::in_session() {
        return 0;
    }
    let group_dead = if global_u32(&EXIT_HAS_GROUP_DEAD) != 0 {
        ctx.arg::<u64>(1) & 0xff != 0
    } else {
        // Older kernels: report when the leader exits (approximate for threaded exits).
        (pid_tgid >> 32) as u32 == tid
    };
    if !group_dead {
        return 0;
    }
    let task: u64 = ctx.arg(0);
    let Some(ev) = scratch(1) else {
        return 0;
    };
    fill_header(ev, KIND_EXIT);
    ev.arg0 = u64::from(read_kernel_u32(
        task + global_u32(&TASK_EXIT_CODE_OFF) as u64,
    ));
    emit(ev);
    0
}

/// A failed execve/execveat, at its return: the path it tried (execveat's is its second
/// argument, relative to the directory fd when not absolute), still in the caller's memory.
#[inline(always)]
pub fn exec_failed(ev: &mut RawEvent, sys: &SyscallArgs) {
    let path = if sys.nr == nr::EXECVEAT {
        sys.args[1]
    } else {
        sys.args[0]
    };
    put_str1_user(ev, path);
}
