//! File events built at sys_exit (after the header is filled): open, write, unlink, rename.

use core::ffi::c_void;

use aya_ebpf::helpers::generated::bpf_probe_read_user;
use capture_ebpf::{nr, RawEvent, SyscallArgs, CREAT_FLAGS, FLAG_IOV_TRUNCATED, IOV_MAX_SUMMED};

use crate::event::{put_str1_user, put_str2_user, read_user_u64};

/// open(path, flags, mode) · creat(path, mode) · openat(dfd, path, flags, mode) ·
/// openat2(dfd, path, how, size).
#[inline(always)]
pub fn open(ev: &mut RawEvent, sys: &SyscallArgs) {
    let a = &sys.args;
    let path = match sys.nr {
        nr::OPEN => {
            ev.arg0 = a[1];
            ev.arg1 = a[2];
            a[0]
        }
        nr::CREAT => {
            ev.arg0 = CREAT_FLAGS;
            ev.arg1 = a[1];
            a[0]
        }
        nr::OPENAT => {
            ev.arg0 = a[2];
            ev.arg1 = a[3];
            a[1]
        }
        _ => {
            // struct open_how { u64 flags; u64 mode; u64 resolve; }
            ev.arg0 = read_user_u64(a[2]);
            ev.arg1 = read_user_u64(a[2] + 8);
            a[1]
        }
    };
    put_str1_user(ev, path);
}

/// write/pwrite64(fd, buf, count) · writev/pwritev/pwritev2(fd, iov, iovcnt).
#[inline(always)]
pub fn write(ev: &mut RawEvent, sys: &SyscallArgs) {
    let a = &sys.args;
    ev.arg0 = a[0];
    match sys.nr {
        nr::WRITE | nr::PWRITE64 => ev.arg1 = a[2],
        _ => {
            // struct iovec { void *iov_base; size_t iov_len; }: the array is copied
            // into the (otherwise unused) data area in one read, then summed there.
            let cnt = a[2];
            let n = if cnt > u64::from(IOV_MAX_SUMMED) {
                IOV_MAX_SUMMED
            } else {
                cnt as u32
            };
            if cnt > u64::from(IOV_MAX_SUMMED) {
                ev.flags |= FLAG_IOV_TRUNCATED;
            }
            // SAFETY: at most IOV_MAX_SUMMED * 16 <= DATA_MAX bytes into data.
            let r = unsafe {
                bpf_probe_read_user(
                    ev.data.as_mut_ptr() as *mut c_void,
                    n * 16,
                    a[1] as *const c_void,
                )
            };
            let mut sum = 0u64;
            if r == 0 {
                let mut i = 0usize;
                while i < IOV_MAX_SUMMED as usize {
                    if i as u32 >= n {
                        break;
                    }
                    // SAFETY: at + 8 <= DATA_MAX; data sits at offset 80 of the 8-aligned
                    // RawEvent and `at` is a multiple of 8, so the load is aligned.
                    sum += unsafe { (ev.data.as_ptr().add(i * 16 + 8) as *const u64).read() };
                    i += 1;
                }
            }
            ev.arg1 = sum;
        }
    }
}

/// unlink(path) · unlinkat(dfd, path, flags).
#[inline(always)]
pub fn unlink(ev: &mut RawEvent, sys: &SyscallArgs) {
    let path = if sys.nr == nr::UNLINK {
        sys.args[0]
    } else {
        sys.args[1]
    };
    put_str1_user(ev, path);
}

/// rename(old, new) · renameat(odfd, old, ndfd, new) · renameat2(odfd, old, ndfd, new, flags).
#[inline(always)]
pub fn rename(ev: &mut RawEvent, sys: &SyscallArgs) {
    let a = &sys.args;
    let (from, to) = if sys.nr == nr::RENAME {
        (a[0], a[1])
    } else {
        (a[1], a[3])
    };
    put_str1_user(ev, from);
    put_str2_user(ev, to);
}
