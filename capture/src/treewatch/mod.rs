//! Follows a process tree through the kernel's fork and exit notices and keeps each process's resident high-water mark, as GNU time reports it.
//!
//! Two netlink sockets: the proc connector says who forked whom (so the tree is known
//! exactly, orphans included), and taskstats sends each task's statistics as it exits,
//! before its memory is released: `hiwater_rss` is the peak of the memory it had after its
//! last exec, not the copy of its parent made at fork (the trap of `wait4`'s `ru_maxrss`).
//! Both are host-wide, so a thread reads them while the tree runs and keeps only its
//! members. Root only; where either is missing, [`TreeWatch::start`] says why.

pub mod wire;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use report_model::schema::usage::{PeakRss, RssMethod};

use wire::{Fork, TaskExit};

/// One process of the tree, as it exited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessPeak {
    pub tgid: u32,
    pub ppid: u32,
    pub comm: String,
    /// The largest `hiwater_rss` of its threads (they share one memory).
    pub hiwater_rss_bytes: u64,
}

/// What the watch saw of the tree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TreePeaks {
    /// By thread group id.
    pub processes: BTreeMap<u32, ProcessPeak>,
    /// A socket overflowed (ENOBUFS): some notices were lost, so a figure may be low.
    pub lost: bool,
    /// The processes followed from the start, in order.
    pub roots: Vec<u32>,
}

impl TreePeaks {
    /// The first root's own high-water mark, if its exit was seen.
    pub fn root_peak(&self) -> Option<u64> {
        let root = self.roots.first()?;
        self.processes.get(root).map(|p| p.hiwater_rss_bytes)
    }

    /// The tree's peak RSS: its largest process's, with the sum of all and their count;
    /// `except` leaves one process out (tare itself, when it is the root of a bench sample).
    pub fn peak_rss(&self, except: Option<u32>) -> Option<PeakRss> {
        let procs = self.processes.values().filter(|p| Some(p.tgid) != except);
        let (mut max, mut sum, mut n) = (0u64, 0u64, 0u32);
        for p in procs {
            max = max.max(p.hiwater_rss_bytes);
            sum += p.hiwater_rss_bytes;
            n += 1;
        }
        (n > 0).then_some(PeakRss {
            bytes: max,
            method: RssMethod::TaskstatsHiwater,
            sum_bytes: Some(sum),
            processes: Some(n),
        })
    }
}

/// The tree's membership and its exits: pure, fed by the reader thread in the order that
/// keeps it exact (see [`Tree::settle`]).
#[derive(Debug, Default)]
pub struct Tree {
    members: HashSet<u32>,
    /// Members whose thread-group leader's exit was seen.
    gone: HashSet<u32>,
    peaks: TreePeaks,
    /// Exits of tasks not known to be members, read since the last settle, and before it.
    pending_new: Vec<TaskExit>,
    pending_old: Vec<TaskExit>,
}

impl Tree {
    /// Makes `tgid` a root of the tree (before it can fork).
    pub fn follow(&mut self, tgid: u32) {
        if self.members.insert(tgid) {
            self.peaks.roots.push(tgid);
        }
    }

    /// A fork anywhere on the host: a member's child becomes a member.
    pub fn fork(&mut self, f: Fork) {
        if self.members.contains(&f.parent_tgid) {
            self.members.insert(f.child_tgid);
        }
    }

    /// A task exit anywhere on the host.
    pub fn exit(&mut self, t: TaskExit) {
        if self.members.contains(&t.tgid) {
            self.record(t);
        } else {
            self.pending_new.push(t);
        }
    }

    fn record(&mut self, t: TaskExit) {
        if t.pid == t.tgid {
            self.gone.insert(t.tgid);
        }
        let p = self.peaks.processes.entry(t.tgid).or_insert(ProcessPeak {
            tgid: t.tgid,
            ppid: t.ppid,
            comm: String::new(),
            hiwater_rss_bytes: 0,
        });
        p.hiwater_rss_bytes = p.hiwater_rss_bytes.max(t.hiwater_rss_bytes);
        // The thread-group leader's record names the process.
        if t.pid == t.tgid || p.comm.is_empty() {
            p.comm = t.comm;
            p.ppid = t.ppid;
        }
    }

    /// Call after every complete read of the fork notices. A task's fork notice is queued
    /// before the task can exit, so an exit read before the previous settle whose task is
    /// still no member never will be one: it is dropped. Memory stays bounded by two rounds.
    pub fn settle(&mut self) {
        for t in std::mem::take(&mut self.pending_old) {
            if self.members.contains(&t.tgid) {
                self.record(t);
            }
        }
        self.pending_old = std::mem::take(&mut self.pending_new);
    }

    /// Members not known to have exited, and whether notices were lost (then some of them
    /// may have, and their pids may be another process's now).
    pub fn not_gone(&self) -> (BTreeSet<u32>, bool) {
        let alive = self
            .members
            .iter()
            .filter(|p| !self.gone.contains(p))
            .copied()
            .collect();
        (alive, self.peaks.lost)
    }

    /// Every process of the tree so far (by fork ancestry from the roots).
    pub fn members(&self) -> BTreeSet<u32> {
        self.members.iter().copied().collect()
    }

    /// Notices were lost.
    pub fn lost(&mut self) {
        self.peaks.lost = true;
    }

    /// The result.
    pub fn into_peaks(self) -> TreePeaks {
        self.peaks
    }
}

/// A running watch: start it before the root forks, [`follow`](Self::follow) the root, and
/// [`finish`](Self::finish) once every process of the tree has exited.
pub struct TreeWatch {
    tree: Arc<Mutex<Tree>>,
    sockets: Arc<Sockets>,
    stop: OwnedFd,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl TreeWatch {
    /// Subscribes to fork and exit notices and starts the reader thread.
    pub fn start() -> io::Result<TreeWatch> {
        let conn = Connector::open()?;
        let stats = Taskstats::open()?;
        // SAFETY: eventfd(2) returns a new fd or -1.
        let stop = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if stop < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a fresh fd we own.
        let stop = unsafe { OwnedFd::from_raw_fd(stop) };
        let tree = Arc::new(Mutex::new(Tree::default()));
        let sockets = Arc::new(Sockets { conn, stats });
        let (t, so, s) = (Arc::clone(&tree), Arc::clone(&sockets), stop.as_raw_fd());
        let thread = std::thread::Builder::new()
            .name("tare-treewatch".into())
            .spawn(move || read_loop(&so, s, &t))?;
        Ok(TreeWatch {
            tree,
            sockets,
            stop,
            thread: Some(thread),
        })
    }

    /// Makes `tgid` a root of the tree: call it before the process is let run.
    pub fn follow(&self, tgid: u32) {
        if let Ok(mut t) = self.tree.lock() {
            t.follow(tgid);
        }
    }

    /// What [`Tree::not_gone`] says now, with every process of the tree so far: the notices
    /// queued by now are read first (the reader thread may not have run since they came).
    /// `None` if the tree is unusable (a reader panicked).
    pub fn snapshot(&self) -> Option<(BTreeSet<u32>, BTreeSet<u32>, bool)> {
        let mut t = self.tree.lock().ok()?;
        let mut buf = vec![0u8; 64 << 10];
        if self.sockets.drain(&mut buf, &mut t, true).is_err() {
            t.lost();
        }
        let (alive, lost) = t.not_gone();
        Some((t.members(), alive, lost))
    }

    /// Reads what is left and returns the tree's processes. Every process of the tree must
    /// have exited (its exit notice is queued before its parent can reap it).
    pub fn finish(mut self) -> io::Result<TreePeaks> {
        self.stop_thread()?;
        let tree =
            std::mem::take(&mut *self.tree.lock().map_err(|_| io::Error::other("poisoned"))?);
        Ok(tree.into_peaks())
    }

    fn stop_thread(&mut self) -> io::Result<()> {
        let Some(thread) = self.thread.take() else {
            return Ok(());
        };
        let one = 1u64.to_ne_bytes();
        // SAFETY: an 8-byte write to our eventfd.
        unsafe { libc::write(self.stop.as_raw_fd(), one.as_ptr().cast(), 8) };
        thread
            .join()
            .map_err(|_| io::Error::other("the tree watch thread panicked"))?
    }
}

impl Drop for TreeWatch {
    fn drop(&mut self) {
        let _ = self.stop_thread();
    }
}

/// The two notice sockets, read by the reader thread and by [`TreeWatch::snapshot`], always
/// under the tree's lock.
struct Sockets {
    conn: Connector,
    stats: Taskstats,
}

impl Sockets {
    /// Reads what is queued: forks first, so that an exit is never taken for a stranger's.
    /// A `final_round` reads the forks again and settles twice, so that every exit read is
    /// placed (the fork of a task is queued before the task can exit).
    fn drain(&self, buf: &mut [u8], t: &mut Tree, final_round: bool) -> io::Result<()> {
        self.conn.drain(buf, t)?;
        t.settle();
        self.stats.drain(buf, t)?;
        if final_round {
            self.conn.drain(buf, t)?;
            t.settle();
            t.settle();
        }
        Ok(())
    }
}

fn read_loop(sockets: &Sockets, stop: RawFd, tree: &Mutex<Tree>) -> io::Result<()> {
    let mut buf = vec![0u8; 64 << 10];
    let mut step = |final_round: bool| -> io::Result<()> {
        let mut t = tree.lock().map_err(|_| io::Error::other("poisoned"))?;
        sockets.drain(&mut buf, &mut t, final_round)
    };
    loop {
        let (conn, stats) = (&sockets.conn, &sockets.stats);
        let mut fds = [conn.0.as_raw_fd(), stats.fd.as_raw_fd(), stop].map(|fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        });
        // SAFETY: three valid pollfds.
        let r = unsafe { libc::poll(fds.as_mut_ptr(), 3, -1) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if fds[2].revents != 0 {
            return step(true);
        }
        step(false)?;
    }
}

/// A netlink socket of `protocol`, bound to `groups`, with a large receive buffer.
fn netlink(kind: i32, protocol: i32, groups: u32) -> io::Result<OwnedFd> {
    // SAFETY: socket(2) returns a new fd or -1.
    let fd = unsafe { libc::socket(libc::AF_NETLINK, kind | libc::SOCK_CLOEXEC, protocol) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh fd we own.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: zeroed sockaddr_nl is valid; the kernel picks the port id.
    let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    addr.nl_family = libc::AF_NETLINK as u16;
    addr.nl_groups = groups;
    // SAFETY: bind with a valid sockaddr_nl of its size.
    let r = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&addr as *const libc::sockaddr_nl).cast(),
            std::mem::size_of::<libc::sockaddr_nl>() as u32,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    // Room for bursts (a build forking thousands of processes): 8 MiB, root only; the
    // ordinary limit otherwise.
    let size: libc::c_int = 8 << 20;
    for opt in [libc::SO_RCVBUFFORCE, libc::SO_RCVBUF] {
        // SAFETY: setsockopt with an int of its size.
        let r = unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                opt,
                (&size as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as u32,
            )
        };
        if r == 0 {
            break;
        }
    }
    Ok(fd)
}

fn send(fd: RawFd, msg: &[u8]) -> io::Result<()> {
    // SAFETY: zeroed sockaddr_nl addresses the kernel (port 0).
    let mut to: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    to.nl_family = libc::AF_NETLINK as u16;
    // SAFETY: sendto with a valid buffer and address.
    let n = unsafe {
        libc::sendto(
            fd,
            msg.as_ptr().cast(),
            msg.len(),
            0,
            (&to as *const libc::sockaddr_nl).cast(),
            std::mem::size_of::<libc::sockaddr_nl>() as u32,
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// One datagram; `Ok(None)` when nothing is waiting (`nonblocking`), ENOBUFS as an error.
fn recv(fd: RawFd, buf: &mut [u8], nonblocking: bool) -> io::Result<Option<usize>> {
    let flags = if nonblocking { libc::MSG_DONTWAIT } else { 0 };
    loop {
        // SAFETY: recv into our buffer.
        let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), flags) };
        if n >= 0 {
            return Ok(Some(n as usize));
        }
        let e = io::Error::last_os_error();
        match e.kind() {
            io::ErrorKind::Interrupted => continue,
            io::ErrorKind::WouldBlock => return Ok(None),
            _ => return Err(e),
        }
    }
}

/// Reads every waiting datagram of `fd` into `each`; a lost-notice overflow marks the tree.
fn drain_with(
    fd: RawFd,
    buf: &mut [u8],
    tree: &mut Tree,
    mut each: impl FnMut(&mut Tree, u16, &[u8]),
) -> io::Result<()> {
    loop {
        match recv(fd, buf, true) {
            Ok(Some(n)) => {
                for (kind, payload) in wire::messages(&buf[..n]) {
                    each(tree, kind, payload);
                }
            }
            Ok(None) => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => tree.lost(),
            Err(e) => return Err(e),
        }
    }
}

/// The proc connector, subscribed to process events.
struct Connector(OwnedFd);

impl Connector {
    fn open() -> io::Result<Connector> {
        let fd = netlink(libc::SOCK_DGRAM, libc::NETLINK_CONNECTOR, wire::CN_IDX_PROC)
            .map_err(|e| explain(e, "the proc connector (CONFIG_PROC_EVENTS)"))?;
        send(
            fd.as_raw_fd(),
            &wire::cn_proc_op(wire::PROC_CN_MCAST_LISTEN, 1),
        )?;
        Ok(Connector(fd))
    }

    fn drain(&self, buf: &mut [u8], tree: &mut Tree) -> io::Result<()> {
        drain_with(self.0.as_raw_fd(), buf, tree, |t, _, p| {
            if let Some(f) = wire::fork_event(p) {
                t.fork(f);
            }
        })
    }
}

impl Drop for Connector {
    fn drop(&mut self) {
        let _ = send(
            self.0.as_raw_fd(),
            &wire::cn_proc_op(wire::PROC_CN_MCAST_IGNORE, 2),
        );
    }
}

/// A taskstats exit listener on every possible CPU.
struct Taskstats {
    fd: OwnedFd,
    family: u16,
    cpus: String,
}

impl Taskstats {
    fn open() -> io::Result<Taskstats> {
        let what = "taskstats (CONFIG_TASKSTATS, CONFIG_TASK_XACCT)";
        let fd = netlink(libc::SOCK_RAW, libc::NETLINK_GENERIC, 0).map_err(|e| explain(e, what))?;
        let mut buf = vec![0u8; 16 << 10];
        send(fd.as_raw_fd(), &wire::get_family("TASKSTATS", 1))?;
        let family = answer(&fd, &mut buf, wire::family_id).map_err(|e| explain(e, what))?;
        let cpus = std::fs::read_to_string("/sys/devices/system/cpu/possible")?
            .trim()
            .to_string();
        let reg =
            wire::taskstats_cpumask(family, wire::TASKSTATS_CMD_ATTR_REGISTER_CPUMASK, &cpus, 2);
        send(fd.as_raw_fd(), &reg)?;
        answer(&fd, &mut buf, |_| None::<()>).map_err(|e| explain(e, what))?;
        Ok(Taskstats { fd, family, cpus })
    }

    fn drain(&self, buf: &mut [u8], tree: &mut Tree) -> io::Result<()> {
        let family = self.family;
        drain_with(self.fd.as_raw_fd(), buf, tree, |t, kind, p| {
            if let Some(x) = wire::task_exit(family, kind, p) {
                t.exit(x);
            }
        })
    }
}

impl Drop for Taskstats {
    fn drop(&mut self) {
        let msg = wire::taskstats_cpumask(
            self.family,
            wire::TASKSTATS_CMD_ATTR_DEREGISTER_CPUMASK,
            &self.cpus,
            3,
        );
        let _ = send(self.fd.as_raw_fd(), &msg);
    }
}

/// Waits (1 s at most) for the kernel's answer to a request: the value `pick` finds in a
/// reply, or `T::default()` for a bare acknowledgement (error 0); a negative error code
/// comes back as that errno.
fn answer<T>(fd: &OwnedFd, buf: &mut [u8], pick: impl Fn(&[u8]) -> Option<T>) -> io::Result<T>
where
    T: Default,
{
    let tv = libc::timeval {
        tv_sec: 1,
        tv_usec: 0,
    };
    // SAFETY: setsockopt with a timeval of its size.
    unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&tv as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as u32,
        )
    };
    loop {
        let n = recv(fd.as_raw_fd(), buf, false)?
            .ok_or_else(|| io::Error::new(io::ErrorKind::TimedOut, "no answer from the kernel"))?;
        for (kind, payload) in wire::messages(&buf[..n]) {
            if kind == wire::NLMSG_ERROR {
                match wire::error_code(payload) {
                    Some(0) => return Ok(T::default()),
                    Some(e) => return Err(io::Error::from_raw_os_error(-e)),
                    None => return Err(io::Error::other("a short netlink error")),
                }
            }
            if let Some(v) = pick(payload) {
                return Ok(v);
            }
        }
    }
}

fn explain(e: io::Error, what: &str) -> io::Error {
    io::Error::new(e.kind(), format!("{what}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exit(pid: u32, tgid: u32, kb: u64) -> TaskExit {
        TaskExit {
            version: 13,
            pid,
            tgid,
            ppid: 1,
            comm: format!("p{pid}"),
            hiwater_rss_bytes: kb * 1024,
            ..TaskExit::default()
        }
    }

    fn fork(parent: u32, child: u32) -> Fork {
        Fork {
            parent_tgid: parent,
            child_pid: child,
            child_tgid: child,
        }
    }

    #[test]
    fn follows_forks_and_keeps_only_members() {
        let mut t = Tree::default();
        t.follow(100);
        t.fork(fork(100, 101));
        t.fork(fork(101, 102)); // grandchild
        t.fork(fork(7, 8)); // elsewhere on the host
        t.exit(exit(102, 102, 3000));
        t.exit(exit(8, 8, 90_000));
        t.exit(exit(103, 101, 5000)); // a thread of 101
        t.exit(exit(101, 101, 5000));
        t.exit(exit(100, 100, 1000));
        t.settle();
        t.settle();
        let p = t.into_peaks();
        assert_eq!(
            p.processes.keys().copied().collect::<Vec<_>>(),
            [100, 101, 102]
        );
        assert_eq!(
            p.processes[&101].comm, "p101",
            "the leader names the process"
        );
        let peak = p.peak_rss(None).unwrap();
        assert_eq!(peak.bytes, 5000 * 1024);
        assert_eq!(peak.sum_bytes, Some(9000 * 1024));
        assert_eq!(peak.processes, Some(3));
        assert_eq!(p.peak_rss(Some(101)).unwrap().bytes, 3000 * 1024);
        assert_eq!(p.root_peak(), Some(1000 * 1024));
    }

    #[test]
    fn an_exit_read_before_its_fork_notice_still_counts() {
        let mut t = Tree::default();
        t.follow(1);
        // The exit was read from taskstats before the connector drain that has its fork.
        t.exit(exit(2, 2, 700));
        t.settle();
        t.fork(fork(1, 2));
        t.settle();
        t.exit(exit(9, 9, 1)); // no member: dropped after two settles
        t.settle();
        t.settle();
        let p = t.into_peaks();
        assert_eq!(p.processes.keys().copied().collect::<Vec<_>>(), [2]);
        assert_eq!(TreePeaks::default().peak_rss(None), None);
    }

    #[test]
    fn members_not_gone_are_those_whose_leader_exit_was_not_seen() {
        let mut t = Tree::default();
        t.follow(100);
        t.fork(fork(100, 101));
        t.fork(fork(101, 102));
        t.exit(exit(103, 101, 5)); // a thread of 101: 101 still runs
        t.exit(exit(102, 102, 5));
        t.settle();
        let (alive, lost) = t.not_gone();
        assert_eq!(alive.into_iter().collect::<Vec<_>>(), [100, 101]);
        assert!(!lost);
        assert_eq!(t.members().into_iter().collect::<Vec<_>>(), [100, 101, 102]);
        t.lost();
        assert!(t.not_gone().1);
    }
}
