//! Network events built at sys_exit: connect.

use core::ffi::c_void;

use aya_ebpf::helpers::generated::bpf_probe_read_user;
use capture_ebpf::{RawEvent, SyscallArgs, SOCKADDR_MAX};

/// connect(fd, addr, addrlen): the raw sockaddr goes in string 1; userspace decodes it.
#[inline(always)]
pub fn connect(ev: &mut RawEvent, sys: &SyscallArgs) {
    let a = &sys.args;
    ev.arg0 = a[0];
    ev.arg1 = a[2];
    let mut n = a[2] as u32;
    if n > SOCKADDR_MAX as u32 {
        n = SOCKADDR_MAX as u32;
    }
    // SAFETY: reads at most SOCKADDR_MAX bytes into data (DATA_MAX >= SOCKADDR_MAX).
    let r = unsafe {
        bpf_probe_read_user(
            ev.data.as_mut_ptr() as *mut c_void,
            n,
            a[1] as *const c_void,
        )
    };
    if r == 0 {
        ev.len1 = n as u16;
    }
}
