//! The session filter: is the current task in the session cgroup or below it?

use aya_ebpf::helpers::generated::bpf_get_current_ancestor_cgroup_id;

use crate::event::{global_u32, global_u64, SESSION_CGROUP_ID, SESSION_LEVEL};

/// True when the current task's cgroup2 ancestor at the session level is the session cgroup.
#[inline(always)]
pub fn in_session() -> bool {
    let level = global_u32(&SESSION_LEVEL) as i32;
    let id = global_u64(&SESSION_CGROUP_ID);
    // SAFETY: helper call without pointer arguments.
    let ancestor = unsafe { bpf_get_current_ancestor_cgroup_id(level) };
    id != 0 && ancestor == id
}
