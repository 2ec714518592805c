//! Maps, globals set by userspace, and the event-building helpers every program shares.

use core::ffi::c_void;

use aya_ebpf::{
    bindings::{BPF_RB_AVAIL_DATA, BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP},
    helpers::{
        bpf_get_current_pid_tgid, bpf_probe_read_kernel, bpf_probe_read_user,
        generated::{
            bpf_get_current_cgroup_id, bpf_get_current_comm, bpf_get_current_task,
            bpf_ktime_get_ns, bpf_probe_read_kernel_str, bpf_probe_read_user_str,
        },
    },
    macros::map,
    maps::{PerCpuArray, RingBuf},
};
use capture_ebpf::{
    counter_index, RawEvent, CTR_DROPPED, CTR_SEEN, CTR_SUBMITTED, DATA_MAX, DEFAULT_RINGBUF_BYTES,
    NUM_COUNTERS, RAW_HEADER_SIZE, STR_MAX,
};

/// The one ring buffer (size set by userspace with `map_max_entries`).
#[map]
pub static EVENTS: RingBuf = RingBuf::with_byte_size(DEFAULT_RINGBUF_BYTES, 0);

/// Per-CPU counters: `counter_index(kind, CTR_*)`.
#[map]
pub static COUNTERS: PerCpuArray<u64> = PerCpuArray::with_max_entries(NUM_COUNTERS, 0);

/// Per-CPU scratch events (slot 0: sys_exit, slot 1: sched programs), too big for the stack.
#[map]
pub static SCRATCH: PerCpuArray<RawEvent> = PerCpuArray::with_max_entries(2, 0);

// Globals set by userspace before load (see capture_ebpf::globals).
#[unsafe(no_mangle)]
pub static SESSION_CGROUP_ID: u64 = 0;
#[unsafe(no_mangle)]
pub static SESSION_LEVEL: u32 = 0;
#[unsafe(no_mangle)]
pub static TASK_PID_OFF: u32 = 0;
#[unsafe(no_mangle)]
pub static TASK_TGID_OFF: u32 = 0;
#[unsafe(no_mangle)]
pub static TASK_REAL_PARENT_OFF: u32 = 0;
#[unsafe(no_mangle)]
pub static TASK_EXIT_CODE_OFF: u32 = 0;
#[unsafe(no_mangle)]
pub static BPRM_FILENAME_OFF: u32 = 0;
#[unsafe(no_mangle)]
pub static BPRM_BUF_OFF: u32 = 0;
#[unsafe(no_mangle)]
pub static TASK_TI_STATUS_OFF: u32 = capture_ebpf::NO_OFFSET;
#[unsafe(no_mangle)]
pub static EXIT_HAS_GROUP_DEAD: u32 = 0;
#[unsafe(no_mangle)]
pub static WAKEUP_BYTES: u64 = 0;

/// Reads a global through a volatile load so the compiler cannot fold the default.
#[inline(always)]
pub fn global_u64(g: &u64) -> u64 {
    // SAFETY: reading a valid static.
    unsafe { core::ptr::read_volatile(g) }
}

#[inline(always)]
pub fn global_u32(g: &u32) -> u32 {
    // SAFETY: reading a valid static.
    unsafe { core::ptr::read_volatile(g) }
}

#[inline(always)]
pub fn bump(kind: u32, which: u32) {
    if let Some(p) = COUNTERS.get_ptr_mut(counter_index(kind, which)) {
        // SAFETY: per-CPU slot; programs do not nest on one CPU for one map slot.
        unsafe { *p += 1 };
    }
}

/// The per-CPU scratch event of `slot`.
#[inline(always)]
pub fn scratch(slot: u32) -> Option<&'static mut RawEvent> {
    // SAFETY: the map value lives as long as the program run; one user per slot per CPU.
    SCRATCH.get_ptr_mut(slot).map(|p| unsafe { &mut *p })
}

#[inline(always)]
pub fn read_kernel_u64(addr: u64) -> u64 {
    // SAFETY: bpf_probe_read_kernel handles faults.
    unsafe { bpf_probe_read_kernel(addr as *const u64) }.unwrap_or(0)
}

#[inline(always)]
pub fn read_kernel_u32(addr: u64) -> u32 {
    // SAFETY: bpf_probe_read_kernel handles faults.
    unsafe { bpf_probe_read_kernel(addr as *const u32) }.unwrap_or(0)
}

#[inline(always)]
pub fn read_user_u64(addr: u64) -> u64 {
    // SAFETY: bpf_probe_read_user handles faults.
    unsafe { bpf_probe_read_user(addr as *const u64) }.unwrap_or(0)
}

/// `tgid` of a task_struct.
#[inline(always)]
pub fn task_tgid(task: u64) -> u32 {
    read_kernel_u32(task + global_u32(&TASK_TGID_OFF) as u64)
}

/// `pid` (thread id) of a task_struct.
#[inline(always)]
pub fn task_pid(task: u64) -> u32 {
    read_kernel_u32(task + global_u32(&TASK_PID_OFF) as u64)
}

/// `current->real_parent->tgid`, 0 when unreadable.
#[inline(always)]
fn current_ppid() -> u32 {
    // SAFETY: helper call without arguments.
    let task = unsafe { bpf_get_current_task() };
    let parent = read_kernel_u64(task + global_u32(&TASK_REAL_PARENT_OFF) as u64);
    if parent == 0 {
        return 0;
    }
    task_tgid(parent)
}

/// Fills the fixed part of `ev` for the current task.
#[inline(always)]
pub fn fill_header(ev: &mut RawEvent, kind: u32) {
    let pid_tgid = bpf_get_current_pid_tgid();
    ev.kind = kind;
    ev.flags = 0;
    // SAFETY: helper calls; comm writes 16 bytes into the 16-byte array.
    unsafe {
        ev.ts_ns = bpf_ktime_get_ns();
        ev.cgroup_id = bpf_get_current_cgroup_id();
        // On failure the helper zeroes the buffer itself.
        bpf_get_current_comm(ev.comm.as_mut_ptr() as *mut c_void, 16);
    }
    ev.pid = (pid_tgid >> 32) as u32;
    ev.tid = pid_tgid as u32;
    ev.ppid = current_ppid();
    // Volatile stores: plain ones get merged into a call to a byte-by-byte
    // memset, which costs the verifier a loop per event path.
    // SAFETY: plain field writes through a valid &mut.
    unsafe {
        core::ptr::write_volatile(&mut ev.len1, 0);
        core::ptr::write_volatile(&mut ev.len2, 0);
        core::ptr::write_volatile(&mut ev.result, 0);
        core::ptr::write_volatile(&mut ev.arg0, 0);
        core::ptr::write_volatile(&mut ev.arg1, 0);
    }
}

/// Length without the NUL from a `bpf_probe_read_*_str` result (0 when it failed).
#[inline(always)]
fn str_len(r: i64) -> u16 {
    let n = if r > 0 { (r - 1) as u16 } else { 0 };
    n & (STR_MAX as u16 - 1)
}

/// Reads a user string into string 1.
#[inline(always)]
pub fn put_str1_user(ev: &mut RawEvent, src: u64) {
    // SAFETY: writes at most STR_MAX bytes into data (DATA_MAX >= STR_MAX).
    let r = unsafe {
        bpf_probe_read_user_str(
            ev.data.as_mut_ptr() as *mut c_void,
            STR_MAX as u32,
            src as *const c_void,
        )
    };
    ev.len1 = str_len(r);
}

/// Reads a kernel string into string 1.
#[inline(always)]
pub fn put_str1_kernel(ev: &mut RawEvent, src: u64) {
    // SAFETY: writes at most STR_MAX bytes into data.
    let r = unsafe {
        bpf_probe_read_kernel_str(
            ev.data.as_mut_ptr() as *mut c_void,
            STR_MAX as u32,
            src as *const c_void,
        )
    };
    ev.len1 = str_len(r);
}

/// Reads a user string into string 2, right after string 1.
#[inline(always)]
pub fn put_str2_user(ev: &mut RawEvent, src: u64) {
    let at = ev.len1 as usize & (STR_MAX - 1);
    // SAFETY: at < STR_MAX and at most STR_MAX bytes are written: ends below DATA_MAX.
    let r = unsafe {
        bpf_probe_read_user_str(
            ev.data.as_mut_ptr().add(at) as *mut c_void,
            STR_MAX as u32,
            src as *const c_void,
        )
    };
    ev.len2 = str_len(r);
}

/// Counts the event as seen and writes its used bytes to the ring buffer.
#[inline(always)]
pub fn emit(ev: &RawEvent) {
    let kind = ev.kind;
    bump(kind, CTR_SEEN);
    let mut n = ev.len1 as usize + ev.len2 as usize;
    if n > DATA_MAX {
        n = DATA_MAX;
    }
    // SAFETY: RAW_HEADER_SIZE + n <= size_of::<RawEvent>().
    let bytes = unsafe {
        core::slice::from_raw_parts(ev as *const RawEvent as *const u8, RAW_HEADER_SIZE + n)
    };
    // Waking the consumer for every event (the default when it keeps up) costs
    // an interrupt and a context switch per event: wake it only once a share of
    // the ring is pending; it also drains on a short timer.
    let pending = EVENTS.query(BPF_RB_AVAIL_DATA as u64);
    let flags = if pending >= global_u64(&WAKEUP_BYTES) {
        BPF_RB_FORCE_WAKEUP
    } else {
        BPF_RB_NO_WAKEUP
    };
    match EVENTS.output::<[u8]>(bytes, flags as u64) {
        Ok(()) => bump(kind, CTR_SUBMITTED),
        Err(_) => bump(kind, CTR_DROPPED),
    }
}
