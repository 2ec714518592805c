//! Netlink messages of the proc connector and of taskstats: built and parsed as plain bytes.
//!
//! Pure: no sockets here, so every parser is tested on bytes. Layouts are the kernel's
//! uapi (`linux/netlink.h`, `linux/genetlink.h`, `linux/connector.h`, `linux/cn_proc.h`,
//! `linux/taskstats.h`); all integers are in host byte order.

/// `NLMSG_ERROR`, `NLMSG_DONE` and the generic netlink controller's family.
pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;
pub const GENL_ID_CTRL: u16 = 0x10;
const CTRL_CMD_GETFAMILY: u8 = 3;
const CTRL_ATTR_FAMILY_ID: u16 = 1;
const CTRL_ATTR_FAMILY_NAME: u16 = 2;
pub const NLM_F_REQUEST: u16 = 1;
pub const NLM_F_ACK: u16 = 4;

/// Proc connector: its index/value, the listen/ignore operations, the fork event.
pub const CN_IDX_PROC: u32 = 1;
const CN_VAL_PROC: u32 = 1;
pub const PROC_CN_MCAST_LISTEN: u32 = 1;
pub const PROC_CN_MCAST_IGNORE: u32 = 2;
const PROC_EVENT_FORK: u32 = 1;

/// Taskstats commands and attributes.
const TASKSTATS_CMD_GET: u8 = 1;
const TASKSTATS_CMD_NEW: u8 = 2;
pub const TASKSTATS_CMD_ATTR_REGISTER_CPUMASK: u16 = 3;
pub const TASKSTATS_CMD_ATTR_DEREGISTER_CPUMASK: u16 = 4;
const TASKSTATS_TYPE_PID: u16 = 1;
const TASKSTATS_TYPE_STATS: u16 = 3;
const TASKSTATS_TYPE_AGGR_PID: u16 = 4;
const TASKSTATS_GENL_VERSION: u8 = 1;

const NLMSG_HDRLEN: usize = 16;
const GENL_HDRLEN: usize = 4;
const NLA_HDRLEN: usize = 4;
const NLA_F_MASK: u16 = 0xc000;

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(off..off + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(off..off + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], off: usize) -> Option<u64> {
    Some(u64::from_ne_bytes(b.get(off..off + 8)?.try_into().ok()?))
}

/// One netlink message: `nlmsghdr` then `payload`, padded to 4 bytes.
pub fn nlmsg(kind: u16, flags: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
    let len = NLMSG_HDRLEN + payload.len();
    let mut m = Vec::with_capacity(align4(len));
    m.extend_from_slice(&(len as u32).to_ne_bytes());
    m.extend_from_slice(&kind.to_ne_bytes());
    m.extend_from_slice(&flags.to_ne_bytes());
    m.extend_from_slice(&seq.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes());
    m.extend_from_slice(payload);
    m.resize(align4(len), 0);
    m
}

/// One netlink attribute, padded to 4 bytes.
fn nla(kind: u16, data: &[u8]) -> Vec<u8> {
    let len = NLA_HDRLEN + data.len();
    let mut a = Vec::with_capacity(align4(len));
    a.extend_from_slice(&(len as u16).to_ne_bytes());
    a.extend_from_slice(&kind.to_ne_bytes());
    a.extend_from_slice(data);
    a.resize(align4(len), 0);
    a
}

fn genl(cmd: u8, version: u8, attrs: &[u8]) -> Vec<u8> {
    let mut p = vec![cmd, version, 0, 0];
    p.extend_from_slice(attrs);
    p
}

/// Asks the controller for the id of the generic netlink family `name`.
pub fn get_family(name: &str, seq: u32) -> Vec<u8> {
    let mut z = name.as_bytes().to_vec();
    z.push(0);
    let body = genl(CTRL_CMD_GETFAMILY, 1, &nla(CTRL_ATTR_FAMILY_NAME, &z));
    nlmsg(GENL_ID_CTRL, NLM_F_REQUEST, seq, &body)
}

/// Registers (or, with the deregister attribute, removes) an exit listener on `cpus`
/// (a cpulist such as `0-1`), acknowledged by the kernel.
pub fn taskstats_cpumask(family: u16, attr: u16, cpus: &str, seq: u32) -> Vec<u8> {
    let mut z = cpus.as_bytes().to_vec();
    z.push(0);
    let body = genl(TASKSTATS_CMD_GET, TASKSTATS_GENL_VERSION, &nla(attr, &z));
    nlmsg(family, NLM_F_REQUEST | NLM_F_ACK, seq, &body)
}

/// Subscribes to (or ignores) proc connector events.
pub fn cn_proc_op(op: u32, seq: u32) -> Vec<u8> {
    let mut cn = Vec::with_capacity(24);
    cn.extend_from_slice(&CN_IDX_PROC.to_ne_bytes());
    cn.extend_from_slice(&CN_VAL_PROC.to_ne_bytes());
    cn.extend_from_slice(&seq.to_ne_bytes()); // seq
    cn.extend_from_slice(&0u32.to_ne_bytes()); // ack
    cn.extend_from_slice(&4u16.to_ne_bytes()); // len of the data
    cn.extend_from_slice(&0u16.to_ne_bytes()); // flags
    cn.extend_from_slice(&op.to_ne_bytes());
    nlmsg(NLMSG_DONE, 0, seq, &cn)
}

/// The messages of one datagram: (type, payload after the header).
pub fn messages(buf: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    let mut off = 0usize;
    std::iter::from_fn(move || {
        let len = u32_at(buf, off)? as usize;
        let kind = u16_at(buf, off + 4)?;
        if len < NLMSG_HDRLEN || off + len > buf.len() {
            return None;
        }
        let payload = &buf[off + NLMSG_HDRLEN..off + len];
        off += align4(len);
        Some((kind, payload))
    })
}

/// The attributes in `b`: (type without flags, data).
fn attrs(b: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    let mut off = 0usize;
    std::iter::from_fn(move || {
        let len = u16_at(b, off)? as usize;
        let kind = u16_at(b, off + 2)? & !NLA_F_MASK;
        if len < NLA_HDRLEN || off + len > b.len() {
            return None;
        }
        let data = &b[off + NLA_HDRLEN..off + len];
        off += align4(len);
        Some((kind, data))
    })
}

/// The errno of an `NLMSG_ERROR` payload (0 is an acknowledgement).
pub fn error_code(payload: &[u8]) -> Option<i32> {
    u32_at(payload, 0).map(|e| e as i32)
}

/// The family id in the controller's answer to [`get_family`].
pub fn family_id(payload: &[u8]) -> Option<u16> {
    attrs(payload.get(GENL_HDRLEN..)?)
        .find(|(k, _)| *k == CTRL_ATTR_FAMILY_ID)
        .and_then(|(_, d)| u16_at(d, 0))
}

/// A fork seen by the proc connector (thread creation included: then the tgids are equal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fork {
    pub parent_tgid: u32,
    pub child_pid: u32,
    pub child_tgid: u32,
}

/// The fork in a proc connector message's payload (`cn_msg` + `proc_event`), if it is one.
pub fn fork_event(payload: &[u8]) -> Option<Fork> {
    const CN_MSG: usize = 20;
    let ev = payload.get(CN_MSG..)?;
    if u32_at(ev, 0)? != PROC_EVENT_FORK {
        return None;
    }
    Some(Fork {
        parent_tgid: u32_at(ev, 20)?,
        child_pid: u32_at(ev, 24)?,
        child_tgid: u32_at(ev, 28)?,
    })
}

/// What a task's exit record says, of the fields tare reads.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaskExit {
    pub version: u16,
    pub pid: u32,
    /// Thread group id (taskstats v12+; the pid before).
    pub tgid: u32,
    pub ppid: u32,
    pub comm: String,
    /// Resident high-water mark of the task's memory, bytes.
    pub hiwater_rss_bytes: u64,
    pub utime_us: u64,
    pub stime_us: u64,
    pub minflt: u64,
    pub majflt: u64,
    pub nvcsw: u64,
    pub nivcsw: u64,
}

/// Offsets in `struct taskstats` (identical on every 64-bit and 32-bit ABI Linux has, by the
/// header's explicit alignment).
mod off {
    pub const VERSION: usize = 0;
    pub const COMM: usize = 80;
    pub const PID: usize = 128;
    pub const PPID: usize = 132;
    pub const UTIME: usize = 152;
    pub const STIME: usize = 160;
    pub const MINFLT: usize = 168;
    pub const MAJFLT: usize = 176;
    pub const HIWATER_RSS: usize = 200;
    pub const NVCSW: usize = 272;
    pub const NIVCSW: usize = 280;
    pub const TGID: usize = 368;
}

/// Parses `struct taskstats` (any version with the basic and extended fields).
pub fn taskstats(b: &[u8]) -> Option<TaskExit> {
    let version = u16_at(b, off::VERSION)?;
    let comm = b.get(off::COMM..off::COMM + 32)?;
    let comm_len = comm.iter().position(|&c| c == 0).unwrap_or(comm.len());
    let pid = u32_at(b, off::PID)?;
    Some(TaskExit {
        version,
        pid,
        tgid: if version >= 12 {
            u32_at(b, off::TGID).unwrap_or(pid)
        } else {
            pid
        },
        ppid: u32_at(b, off::PPID)?,
        comm: String::from_utf8_lossy(&comm[..comm_len]).into_owned(),
        hiwater_rss_bytes: u64_at(b, off::HIWATER_RSS)? * 1024,
        utime_us: u64_at(b, off::UTIME)?,
        stime_us: u64_at(b, off::STIME)?,
        minflt: u64_at(b, off::MINFLT)?,
        majflt: u64_at(b, off::MAJFLT)?,
        nvcsw: u64_at(b, off::NVCSW).unwrap_or(0),
        nivcsw: u64_at(b, off::NIVCSW).unwrap_or(0),
    })
}

/// The per-task exit record in a taskstats message payload (genl header + attributes), if
/// it carries one (`TASKSTATS_TYPE_AGGR_PID`; the per-thread-group aggregate is skipped).
pub fn task_exit(family: u16, kind: u16, payload: &[u8]) -> Option<TaskExit> {
    if kind != family || *payload.first()? != TASKSTATS_CMD_NEW {
        return None;
    }
    let (_, aggr) =
        attrs(payload.get(GENL_HDRLEN..)?).find(|(k, _)| *k == TASKSTATS_TYPE_AGGR_PID)?;
    let mut pid = None;
    let mut stats = None;
    for (k, d) in attrs(aggr) {
        match k {
            TASKSTATS_TYPE_PID => pid = u32_at(d, 0),
            TASKSTATS_TYPE_STATS => stats = taskstats(d),
            _ => {}
        }
    }
    let mut t = stats?;
    if let Some(p) = pid {
        t.pid = p;
    }
    Some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats_bytes(version: u16, pid: u32, tgid: u32, ppid: u32, hiwater_kb: u64) -> Vec<u8> {
        let mut b = vec![0u8; 416];
        b[0..2].copy_from_slice(&version.to_ne_bytes());
        b[off::COMM..off::COMM + 7].copy_from_slice(b"python3");
        b[off::PID..off::PID + 4].copy_from_slice(&pid.to_ne_bytes());
        b[off::PPID..off::PPID + 4].copy_from_slice(&ppid.to_ne_bytes());
        b[off::TGID..off::TGID + 4].copy_from_slice(&tgid.to_ne_bytes());
        b[off::HIWATER_RSS..off::HIWATER_RSS + 8].copy_from_slice(&hiwater_kb.to_ne_bytes());
        b[off::UTIME..off::UTIME + 8].copy_from_slice(&1500u64.to_ne_bytes());
        b[off::NVCSW..off::NVCSW + 8].copy_from_slice(&3u64.to_ne_bytes());
        b
    }

    #[test]
    fn builds_aligned_messages_with_their_lengths() {
        let m = get_family("TASKSTATS", 7);
        assert_eq!(m.len() % 4, 0);
        // 16 header + 4 genl + 4 attr header + 10 name bytes, the attribute padded to 4.
        assert_eq!(u32_at(&m, 0), Some(36));
        assert_eq!(
            u16_at(&m, 20),
            Some(14),
            "the attribute's own length is unpadded"
        );
        assert_eq!(u16_at(&m, 4), Some(GENL_ID_CTRL));
        assert_eq!(u32_at(&m, 8), Some(7));
        assert_eq!(&m[24..34], b"TASKSTATS\0");
        let l = cn_proc_op(PROC_CN_MCAST_LISTEN, 1);
        assert_eq!(u32_at(&l, 0), Some(16 + 20 + 4));
        assert_eq!(u32_at(&l, 16), Some(CN_IDX_PROC));
        assert_eq!(u32_at(&l, 36), Some(PROC_CN_MCAST_LISTEN));
        let r = taskstats_cpumask(0x17, TASKSTATS_CMD_ATTR_REGISTER_CPUMASK, "0-1", 2);
        assert_eq!(u16_at(&r, 4), Some(0x17));
        assert_eq!(u16_at(&r, 6), Some(NLM_F_REQUEST | NLM_F_ACK));
        assert_eq!(&r[24..28], b"0-1\0");
    }

    #[test]
    fn parses_a_family_answer_and_errors() {
        let mut attrs_b = nla(CTRL_ATTR_FAMILY_NAME, b"TASKSTATS\0");
        attrs_b.extend(nla(CTRL_ATTR_FAMILY_ID, &0x1au16.to_ne_bytes()));
        let msg = nlmsg(GENL_ID_CTRL, 0, 1, &genl(1, 2, &attrs_b));
        let all: Vec<_> = messages(&msg).collect();
        assert_eq!(all.len(), 1);
        assert_eq!(family_id(all[0].1), Some(0x1a));
        let err = nlmsg(NLMSG_ERROR, 0, 1, &(-1i32).to_ne_bytes());
        let (k, p) = messages(&err).next().unwrap();
        assert_eq!((k, error_code(p)), (NLMSG_ERROR, Some(-1)));
        // A truncated datagram yields nothing rather than garbage.
        assert_eq!(messages(&msg[..20]).count(), 0);
    }

    #[test]
    fn parses_fork_events_and_skips_others() {
        let mut p = vec![0u8; 20 + 40];
        p[20..24].copy_from_slice(&PROC_EVENT_FORK.to_ne_bytes());
        for (i, v) in [10u32, 10, 11, 11].iter().enumerate() {
            p[36 + 4 * i..40 + 4 * i].copy_from_slice(&v.to_ne_bytes());
        }
        assert_eq!(
            fork_event(&p),
            Some(Fork {
                parent_tgid: 10,
                child_pid: 11,
                child_tgid: 11
            })
        );
        p[20..24].copy_from_slice(&2u32.to_ne_bytes()); // PROC_EVENT_EXEC
        assert_eq!(fork_event(&p), None);
        assert_eq!(fork_event(&p[..30]), None);
    }

    #[test]
    fn parses_a_task_exit_and_its_version_rules() {
        let stats = stats_bytes(13, 41, 40, 7, 66_000);
        let mut inner = nla(TASKSTATS_TYPE_PID, &41u32.to_ne_bytes());
        inner.extend(nla(TASKSTATS_TYPE_STATS, &stats));
        let body = genl(
            TASKSTATS_CMD_NEW,
            1,
            &nla(TASKSTATS_TYPE_AGGR_PID | 0x8000, &inner),
        );
        let msg = nlmsg(0x1a, 0, 0, &body);
        let (k, p) = messages(&msg).next().unwrap();
        let t = task_exit(0x1a, k, p).unwrap();
        assert_eq!((t.pid, t.tgid, t.ppid), (41, 40, 7));
        assert_eq!(t.comm, "python3");
        assert_eq!(t.hiwater_rss_bytes, 66_000 * 1024);
        assert_eq!((t.utime_us, t.nvcsw), (1500, 3));
        // Another family's message, or a command other than NEW, is not an exit.
        assert_eq!(task_exit(0x1b, k, p), None);
        // Before v12 there is no tgid: the pid stands in.
        let old = taskstats(&stats_bytes(11, 41, 40, 7, 1)).unwrap();
        assert_eq!(old.tgid, 41);
        assert_eq!(taskstats(&stats[..100]), None);
    }
}
