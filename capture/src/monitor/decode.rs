//! Pure decoding of ring-buffer records (bytes) into [`KernelEvent`]s.

use std::net::{Ipv4Addr, Ipv6Addr};

use capture_ebpf::{offsets as off, RAW_HEADER_SIZE};
use report_model::schema::kernel_event::{elf32_abi, EventDetail, EventKind, KernelEvent};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("record of {0} bytes is shorter than the {RAW_HEADER_SIZE}-byte header")]
    Short(usize),
    #[error("unknown event kind {0}")]
    UnknownKind(u32),
    #[error("record of {len} bytes cannot hold its {need} bytes of strings")]
    Truncated { len: usize, need: usize },
}

const AF_UNIX: u16 = 1;
const AF_INET: u16 = 2;
const AF_INET6: u16 = 10;

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}
fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// The kind of a raw record (from its first 4 bytes), without decoding the rest.
pub fn raw_kind(rec: &[u8]) -> Option<EventKind> {
    if rec.len() < 4 {
        return None;
    }
    kind_of(u32_at(rec, off::KIND))
}

/// Maps a `capture_ebpf::KIND_*` to the report kind.
pub fn kind_of(k: u32) -> Option<EventKind> {
    EventKind::ALL.get(usize::try_from(k).ok()?).copied()
}

fn text(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

/// Splits a wait status into (exit code, signal).
pub fn split_wait_status(status: u32) -> (Option<i32>, Option<i32>) {
    let sig = (status & 0x7f) as i32;
    if sig == 0 {
        (Some(((status >> 8) & 0xff) as i32), None)
    } else {
        (None, Some(sig))
    }
}

/// Decodes a raw `struct sockaddr` into (family, address text, port).
pub fn decode_sockaddr(sa: &[u8]) -> (u16, String, u16) {
    if sa.len() < 2 {
        return (0, String::new(), 0);
    }
    let family = u16_at(sa, 0);
    match family {
        AF_INET if sa.len() >= 8 => {
            let port = u16::from_be_bytes([sa[2], sa[3]]);
            (
                family,
                Ipv4Addr::new(sa[4], sa[5], sa[6], sa[7]).to_string(),
                port,
            )
        }
        AF_INET6 if sa.len() >= 24 => {
            let port = u16::from_be_bytes([sa[2], sa[3]]);
            let mut a = [0u8; 16];
            a.copy_from_slice(&sa[8..24]);
            (family, Ipv6Addr::from(a).to_string(), port)
        }
        AF_UNIX => {
            let path = &sa[2..];
            if path.first() == Some(&0) {
                // Abstract socket: the name is every byte given, shown with a leading '@'.
                (
                    family,
                    format!("@{}", String::from_utf8_lossy(&path[1..])),
                    0,
                )
            } else {
                (family, text(path), 0)
            }
        }
        _ => (family, String::new(), 0),
    }
}

/// Decodes one ring-buffer record; `seq` is the receive order.
pub fn decode(rec: &[u8], seq: u64) -> Result<KernelEvent, DecodeError> {
    if rec.len() < RAW_HEADER_SIZE {
        return Err(DecodeError::Short(rec.len()));
    }
    let kind_raw = u32_at(rec, off::KIND);
    let kind = kind_of(kind_raw).ok_or(DecodeError::UnknownKind(kind_raw))?;
    let len1 = u16_at(rec, off::LEN1) as usize;
    let len2 = u16_at(rec, off::LEN2) as usize;
    let need = RAW_HEADER_SIZE + len1 + len2;
    if rec.len() < need {
        return Err(DecodeError::Truncated {
            len: rec.len(),
            need,
        });
    }
    let s1 = &rec[off::DATA..off::DATA + len1];
    let s2 = &rec[off::DATA + len1..off::DATA + len1 + len2];
    let result = u64_at(rec, off::RESULT) as i64;
    let arg0 = u64_at(rec, off::ARG0);
    let arg1 = u64_at(rec, off::ARG1);
    let detail = match kind {
        EventKind::Exec => EventDetail::Exec { filename: text(s1) },
        EventKind::Fork => EventDetail::Fork {
            child_pid: arg0 as u32,
        },
        EventKind::Exit => {
            let (code, signal) = split_wait_status(arg0 as u32);
            EventDetail::Exit { code, signal }
        }
        EventKind::Open => EventDetail::Open {
            path: text(s1),
            flags: arg0 as u32 as i32,
            mode: arg1 as u32,
            result,
        },
        EventKind::Write => EventDetail::Write {
            fd: arg0 as u32 as i32,
            requested: arg1,
            result,
        },
        EventKind::Unlink => EventDetail::Unlink {
            path: text(s1),
            result,
        },
        EventKind::Rename => EventDetail::Rename {
            from: text(s1),
            to: text(s2),
            result,
        },
        EventKind::ExecFailed => EventDetail::ExecFailed {
            filename: text(s1),
            result,
        },
        EventKind::IoUring => EventDetail::IoUring {
            entries: arg0 as u32,
            result,
        },
        EventKind::CompatExec => EventDetail::CompatExec {
            filename: text(s1),
            abi: elf32_abi(arg0 as u16),
        },
        EventKind::Connect => {
            let (family, addr, port) = decode_sockaddr(s1);
            EventDetail::Connect {
                family,
                addr,
                port,
                result,
            }
        }
    };
    let ppid = u32_at(rec, off::PPID);
    Ok(KernelEvent {
        seq,
        ts_ns: u64_at(rec, off::TS_NS),
        pid: u32_at(rec, off::PID),
        tid: u32_at(rec, off::TID),
        ppid: (ppid != 0).then_some(ppid),
        comm: text(&rec[off::COMM..off::COMM + 16]),
        cgroup_id: u64_at(rec, off::CGROUP_ID),
        detail,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use capture_ebpf::*;

    /// Builds a record exactly as the eBPF `emit` writes it.
    pub fn record(kind: u32, result: i64, arg0: u64, arg1: u64, s1: &[u8], s2: &[u8]) -> Vec<u8> {
        let mut r = vec![0u8; RAW_HEADER_SIZE];
        r[offsets::KIND..][..4].copy_from_slice(&kind.to_le_bytes());
        r[offsets::TS_NS..][..8].copy_from_slice(&123_456_789u64.to_le_bytes());
        r[offsets::PID..][..4].copy_from_slice(&42u32.to_le_bytes());
        r[offsets::TID..][..4].copy_from_slice(&43u32.to_le_bytes());
        r[offsets::PPID..][..4].copy_from_slice(&7u32.to_le_bytes());
        r[offsets::LEN1..][..2].copy_from_slice(&(s1.len() as u16).to_le_bytes());
        r[offsets::LEN2..][..2].copy_from_slice(&(s2.len() as u16).to_le_bytes());
        r[offsets::CGROUP_ID..][..8].copy_from_slice(&9999u64.to_le_bytes());
        r[offsets::COMM..][..6].copy_from_slice(b"python");
        r[offsets::RESULT..][..8].copy_from_slice(&result.to_le_bytes());
        r[offsets::ARG0..][..8].copy_from_slice(&arg0.to_le_bytes());
        r[offsets::ARG1..][..8].copy_from_slice(&arg1.to_le_bytes());
        r.extend_from_slice(s1);
        r.extend_from_slice(s2);
        r
    }

    #[test]
    fn open_event() {
        let r = record(KIND_OPEN, -2, 0o102, 0o644, b"/tmp/x y", b"");
        let e = decode(&r, 5).unwrap();
        assert_eq!(e.seq, 5);
        assert_eq!(
            (e.ts_ns, e.pid, e.tid, e.ppid, e.cgroup_id),
            (123_456_789, 42, 43, Some(7), 9999)
        );
        assert_eq!(e.comm, "python");
        assert_eq!(
            e.detail,
            EventDetail::Open {
                path: "/tmp/x y".into(),
                flags: 0o102,
                mode: 0o644,
                result: -2
            }
        );
    }

    #[test]
    fn rename_write_unlink_exec_fork() {
        let e = decode(&record(KIND_RENAME, 0, 0, 0, b"/a/old", b"/b/new"), 0).unwrap();
        assert_eq!(
            e.detail,
            EventDetail::Rename {
                from: "/a/old".into(),
                to: "/b/new".into(),
                result: 0
            }
        );
        let e = decode(&record(KIND_WRITE, 4096, 3, 4096, b"", b""), 0).unwrap();
        assert_eq!(
            e.detail,
            EventDetail::Write {
                fd: 3,
                requested: 4096,
                result: 4096
            }
        );
        let e = decode(&record(KIND_WRITE, -9, u32::MAX as u64, 1, b"", b""), 0).unwrap();
        assert_eq!(
            e.detail,
            EventDetail::Write {
                fd: -1,
                requested: 1,
                result: -9
            }
        );
        let e = decode(&record(KIND_UNLINK, -2, 0, 0, b"gone", b""), 0).unwrap();
        assert_eq!(
            e.detail,
            EventDetail::Unlink {
                path: "gone".into(),
                result: -2
            }
        );
        let e = decode(&record(KIND_EXEC, 0, 0, 0, b"/usr/bin/python3", b""), 0).unwrap();
        assert_eq!(
            e.detail,
            EventDetail::Exec {
                filename: "/usr/bin/python3".into()
            }
        );
        let e = decode(&record(KIND_FORK, 0, 31337, 0, b"", b""), 0).unwrap();
        assert_eq!(e.detail, EventDetail::Fork { child_pid: 31337 });
        // arg0 is the ELF machine: EM_386, then one without a name.
        let e = decode(&record(KIND_COMPAT_EXEC, 0, 3, 0, b"/bin/bb32", b""), 0).unwrap();
        assert_eq!(
            e.detail,
            EventDetail::CompatExec {
                filename: "/bin/bb32".into(),
                abi: "i386".into()
            }
        );
        let e = decode(&record(KIND_COMPAT_EXEC, 0, 9999, 0, b"x", b""), 0).unwrap();
        assert!(
            matches!(e.detail, EventDetail::CompatExec { abi, .. } if abi == "elf32 machine 9999")
        );
    }

    #[test]
    fn exit_status() {
        let e = decode(&record(KIND_EXIT, 0, 3 << 8, 0, b"", b""), 0).unwrap();
        assert_eq!(
            e.detail,
            EventDetail::Exit {
                code: Some(3),
                signal: None
            }
        );
        let e = decode(&record(KIND_EXIT, 0, 9, 0, b"", b""), 0).unwrap();
        assert_eq!(
            e.detail,
            EventDetail::Exit {
                code: None,
                signal: Some(9)
            }
        );
        // SIGSEGV with core dump bit.
        assert_eq!(split_wait_status(0x80 | 11), (None, Some(11)));
        assert_eq!(split_wait_status(0), (Some(0), None));
    }

    #[test]
    fn connect_addresses() {
        let mut v4 = vec![2, 0, 0x1f, 0x90, 127, 0, 0, 1];
        v4.extend_from_slice(&[0; 8]);
        let e = decode(&record(KIND_CONNECT, 0, 3, 16, &v4, b""), 0).unwrap();
        assert_eq!(
            e.detail,
            EventDetail::Connect {
                family: 2,
                addr: "127.0.0.1".into(),
                port: 8080,
                result: 0
            }
        );

        let mut v6 = vec![10, 0, 0x01, 0xbb, 0, 0, 0, 0];
        v6.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
        v6.extend_from_slice(&[0; 4]);
        assert_eq!(decode_sockaddr(&v6), (10, "::1".into(), 443));

        let mut un = vec![1, 0];
        un.extend_from_slice(b"/run/x.sock\0\0\0");
        assert_eq!(decode_sockaddr(&un), (1, "/run/x.sock".into(), 0));
        let mut abs = vec![1, 0, 0];
        abs.extend_from_slice(b"tare");
        assert_eq!(decode_sockaddr(&abs), (1, "@tare".into(), 0));
        assert_eq!(decode_sockaddr(&[]), (0, String::new(), 0));
        assert_eq!(decode_sockaddr(&[2, 0, 1]), (2, String::new(), 0));
        let e = decode(&record(KIND_CONNECT, -14, 3, 16, b"", b""), 0).unwrap();
        assert_eq!(
            e.detail,
            EventDetail::Connect {
                family: 0,
                addr: String::new(),
                port: 0,
                result: -14
            }
        );
    }

    #[test]
    fn malformed_records() {
        assert_eq!(decode(&[0; 10], 0), Err(DecodeError::Short(10)));
        assert_eq!(
            decode(&record(99, 0, 0, 0, b"", b""), 0),
            Err(DecodeError::UnknownKind(99))
        );
        let mut r = record(KIND_OPEN, 3, 0, 0, b"/abc", b"");
        r.truncate(r.len() - 1);
        assert!(matches!(decode(&r, 0), Err(DecodeError::Truncated { .. })));
        assert_eq!(raw_kind(&[3, 0, 0, 0]), Some(EventKind::Open));
        assert_eq!(raw_kind(&[3]), None);
        // Non-UTF-8 paths are kept lossily; comm stops at its NUL.
        let e = decode(&record(KIND_OPEN, 3, 0, 0, b"/tmp/\xff", b""), 0).unwrap();
        assert!(matches!(e.detail, EventDetail::Open { ref path, .. } if path == "/tmp/\u{fffd}"));
    }

    #[test]
    fn kinds_line_up_with_the_kernel_indices() {
        assert_eq!(kind_of(KIND_EXEC), Some(EventKind::Exec));
        assert_eq!(kind_of(KIND_FORK), Some(EventKind::Fork));
        assert_eq!(kind_of(KIND_EXIT), Some(EventKind::Exit));
        assert_eq!(kind_of(KIND_OPEN), Some(EventKind::Open));
        assert_eq!(kind_of(KIND_WRITE), Some(EventKind::Write));
        assert_eq!(kind_of(KIND_UNLINK), Some(EventKind::Unlink));
        assert_eq!(kind_of(KIND_RENAME), Some(EventKind::Rename));
        assert_eq!(kind_of(KIND_CONNECT), Some(EventKind::Connect));
        assert_eq!(kind_of(NUM_KINDS), None);
        assert_eq!(EventKind::ALL.len(), NUM_KINDS as usize);
    }
}
