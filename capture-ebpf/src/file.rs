//! File events built at sys_exit: open, write, unlink, rename.

use capture_ebpf::{
    nr, Inflight, RawEvent, CREAT_FLAGS, FLAG_IOV_TRUNCATED, IOV_MAX_SUMMED, KIND_OPEN,
    KIND_RENAME, KIND_UNLINK, KIND_WRITE,
};

use crate::event::{emit, fill_header, put_str1_user, put_str2_user, read_user_u64};

/// open(path, flags, mode) · creat(path, mode) · openat(dfd, path, flags, mode) ·
/// openat2(dfd, path, how, size).
#[inline(always)]
pub fn open(ev: &mut RawEvent, inf: &Inflight, ret: i64) {
    fill_header(ev, KIND_OPEN);
    ev.result = ret;
    let a = &inf.args;
    let path = match inf.nr {
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
    emit(ev);
}

/// write/pwrite64(fd, buf, count) · writev/pwritev/pwritev2(fd, iov, iovcnt).
#[inline(always)]
pub fn write(ev: &mut RawEvent, inf: &Inflight, ret: i64) {
    fill_header(ev, KIND_WRITE);
    ev.result = ret;
    let a = &inf.args;
    ev.arg0 = a[0];
    match inf.nr {
        nr::WRITE | nr::PWRITE64 => ev.arg1 = a[2],
        _ => {
            // struct iovec { void *iov_base; size_t iov_len; }
            let cnt = a[2];
            let mut sum = 0u64;
            let mut i = 0u32;
            while i < IOV_MAX_SUMMED {
                if u64::from(i) >= cnt {
                    break;
                }
                sum += read_user_u64(a[1] + u64::from(i) * 16 + 8);
                i += 1;
            }
            if cnt > u64::from(IOV_MAX_SUMMED) {
                ev.flags |= FLAG_IOV_TRUNCATED;
            }
            ev.arg1 = sum;
        }
    }
    emit(ev);
}

/// unlink(path) · unlinkat(dfd, path, flags).
#[inline(always)]
pub fn unlink(ev: &mut RawEvent, inf: &Inflight, ret: i64) {
    fill_header(ev, KIND_UNLINK);
    ev.result = ret;
    let path = if inf.nr == nr::UNLINK {
        inf.args[0]
    } else {
        inf.args[1]
    };
    put_str1_user(ev, path);
    emit(ev);
}

/// rename(old, new) · renameat(odfd, old, ndfd, new) · renameat2(odfd, old, ndfd, new, flags).
#[inline(always)]
pub fn rename(ev: &mut RawEvent, inf: &Inflight, ret: i64) {
    fill_header(ev, KIND_RENAME);
    ev.result = ret;
    let a = &inf.args;
    let (from, to) = if inf.nr == nr::RENAME {
        (a[0], a[1])
    } else {
        (a[1], a[3])
    };
    put_str1_user(ev, from);
    put_str2_user(ev, to);
    emit(ev);
}
