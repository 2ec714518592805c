//! Spawns the child so that it is inside the session cgroup before it execs.
//!
//! The child writes `0` to the session's `cgroup.procs` files (cgroup2, and
//! the parallel v1 memory cgroup when there is one) between fork and exec,
//! so its exec and everything after happen inside the session. tare keeps a
//! pidfd (no pid-reuse races for kill and wait) and reaps the child itself
//! with `wait4`, which gives `ru_maxrss` and the exit status.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::cgroup::SessionCgroup;

/// A timer that never fires in practice (a year).
const FAR_FUTURE: Duration = Duration::from_secs(365 * 24 * 3600);

/// How the child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Ended {
    /// Exit code when it exited.
    pub code: Option<i32>,
    /// Signal when it was killed by one.
    pub signal: Option<i32>,
    /// tare killed it because it outlived the timeout.
    pub timed_out: bool,
    /// tare was interrupted (SIGINT/SIGTERM) and stopped it.
    pub interrupted: bool,
    /// `ru_maxrss` of the child and its waited-for descendants, kilobytes.
    pub max_rss_kb: u64,
    /// User and system CPU time from `wait4`.
    pub user: Duration,
    pub system: Duration,
    /// From spawn to reap.
    pub wall: Duration,
}

impl Ended {
    /// The exit status a shell would report: the code, or 128 + signal.
    pub fn shell_status(&self) -> i32 {
        match (self.code, self.signal) {
            (Some(c), _) => c,
            (None, Some(s)) => 128 + s,
            (None, None) => 1,
        }
    }
}

/// Splits a raw `wait` status into (code, signal).
pub fn decode_status(status: i32) -> (Option<i32>, Option<i32>) {
    if libc::WIFEXITED(status) {
        (Some(libc::WEXITSTATUS(status)), None)
    } else if libc::WIFSIGNALED(status) {
        (None, Some(libc::WTERMSIG(status)))
    } else {
        (None, None)
    }
}

fn tv(t: libc::timeval) -> Duration {
    Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
}

/// A running child in the session cgroup; reap it with one of the `wait` methods.
#[derive(Debug)]
pub struct Child {
    pid: libc::pid_t,
    pidfd: OwnedFd,
    started: Instant,
    reaped: Option<Ended>,
}

/// A child forked into the session cgroup(s) and parked just before exec.
///
/// Joining a cgroup from a process takes the kernel's global
/// `cgroup_threadgroup_rwsem` for writing, which waits for an RCU grace
/// period when it has been idle: 10-30 ms on the machines tare targets. A
/// prepared child pays that while tare does other work (loading the eBPF
/// programs), then [`Prepared::start`] lets it exec at once. Dropping a
/// `Prepared` makes the child exit without exec'ing.
#[derive(Debug)]
pub struct Prepared {
    go: Option<OwnedFd>,
    spawner: Option<std::thread::JoinHandle<io::Result<u32>>>,
}

/// Forks `argv` into `cg`'s cgroups and parks it before exec (see [`Prepared`]).
/// `quiet` sends stdin/stdout/stderr to /dev/null; otherwise the child shares
/// tare's terminal.
pub fn prepare(argv: &[String], cg: &SessionCgroup, quiet: bool) -> io::Result<Prepared> {
    let (prog, args) = argv
        .split_first()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no command given"))?;
    let procs: Vec<CString> = cg
        .procs_files()
        .iter()
        .map(|p| CString::new(p.as_os_str().as_bytes()))
        .collect::<Result<_, _>>()
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "cgroup path contains NUL"))?;
    let mut cmd = Command::new(prog);
    cmd.args(args);
    if quiet {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
    }
    let (go_read, go_write) = pipe_cloexec()?;
    let (r, w) = (go_read.as_raw_fd(), go_write.as_raw_fd());
    // SAFETY: the hook only makes syscalls (open/write/close/read, all
    // async-signal-safe) on CStrings and fds made before fork; it allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            libc::close(w);
            for p in &procs {
                join_cgroup(p)?;
            }
            wait_for_go(r)
        });
    }
    let spawner = std::thread::Builder::new()
        .name("tare-spawn".into())
        .spawn(move || {
            // Returns once the child has exec'd (or failed to); the read end stays open until then.
            let child = cmd.spawn();
            drop(go_read);
            child.map(|c| c.id())
        })?;
    Ok(Prepared {
        go: Some(go_write),
        spawner: Some(spawner),
    })
}

impl Prepared {
    /// Lets the parked child exec; returns once it has (or reports why it could not).
    pub fn start(mut self) -> io::Result<Child> {
        let started = Instant::now();
        if let Some(go) = self.go.take() {
            // SAFETY: a 1-byte write to our pipe. EPIPE (the child is gone) shows up below.
            unsafe {
                libc::write(go.as_raw_fd(), b"g".as_ptr().cast(), 1);
            }
        }
        let spawner = self
            .spawner
            .take()
            .ok_or_else(|| io::Error::other("already started"))?;
        let pid = spawner
            .join()
            .map_err(|_| io::Error::other("the spawn thread panicked"))??
            as libc::pid_t;
        // std's handle neither kills nor reaps on drop; tare reaps with wait4.
        let pidfd = match pidfd_open(pid) {
            Ok(fd) => fd,
            Err(e) => {
                // SAFETY: kill/waitpid on our child, not reaped yet.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                    libc::waitpid(pid, std::ptr::null_mut(), 0);
                }
                return Err(io::Error::new(
                    e.kind(),
                    format!("pidfd_open: {e} (needs Linux 5.3+)"),
                ));
            }
        };
        Ok(Child {
            pid,
            pidfd,
            started,
            reaped: None,
        })
    }
}

impl Drop for Prepared {
    fn drop(&mut self) {
        // Closing the pipe makes the parked child fail its pre-exec hook and exit;
        // std's spawn reaps it.
        self.go = None;
        if let Some(t) = self.spawner.take() {
            let _ = t.join();
        }
    }
}

/// Forks `argv` into `cg` and lets it exec at once (`prepare` + `start`).
pub fn spawn_into(argv: &[String], cg: &SessionCgroup, quiet: bool) -> io::Result<Child> {
    prepare(argv, cg, quiet)?.start()
}

fn pipe_cloexec() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills two fds on success.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fresh fds we own.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// In the child: blocks until tare writes the go byte; EOF means "do not run".
fn wait_for_go(fd: RawFd) -> io::Result<()> {
    let mut b = 0u8;
    loop {
        // SAFETY: 1-byte read into a local.
        let n = unsafe { libc::read(fd, (&mut b as *mut u8).cast(), 1) };
        match n {
            1 => return Ok(()),
            0 => return Err(io::Error::other("tare did not start the command")),
            _ => {
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
        }
    }
}

/// Writes "0" (the calling process) to a cgroup.procs file. Runs between fork and exec.
fn join_cgroup(path: &CString) -> io::Result<()> {
    // SAFETY: plain syscalls on a valid NUL-terminated path and a 1-byte buffer.
    unsafe {
        let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let n = libc::write(fd, b"0".as_ptr().cast(), 1);
        let err = io::Error::last_os_error();
        libc::close(fd);
        if n != 1 {
            return Err(err);
        }
    }
    Ok(())
}

fn pidfd_open(pid: libc::pid_t) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open(2) with flags 0 returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh fd we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Blocks until `fd` is readable or `timeout` passes; true when readable.
fn poll_readable(fd: RawFd, timeout: Option<Duration>) -> io::Result<bool> {
    let deadline = timeout.map(|t| Instant::now() + t);
    loop {
        let ms = match deadline {
            None => -1,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                i32::try_from(left.as_micros().div_ceil(1000)).unwrap_or(i32::MAX)
            }
        };
        let mut p = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut p, 1, ms) };
        if r > 0 {
            return Ok(true);
        }
        if r == 0 {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(false);
            }
            continue;
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

impl Child {
    /// The child's pid.
    pub fn pid(&self) -> u32 {
        self.pid as u32
    }

    /// Sends `sig` through the pidfd (a no-op once the child is reaped).
    pub fn signal(&self, sig: i32) -> io::Result<()> {
        if self.reaped.is_some() {
            return Ok(());
        }
        // SAFETY: pidfd_send_signal(2) on our pidfd with no siginfo.
        let r = unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.pidfd.as_raw_fd(),
                sig,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            )
        };
        if r < 0 {
            let e = io::Error::last_os_error();
            // ESRCH: it already exited (a zombie waiting to be reaped).
            if e.raw_os_error() != Some(libc::ESRCH) {
                return Err(e);
            }
        }
        Ok(())
    }

    /// SIGKILL.
    pub fn kill(&self) -> io::Result<()> {
        self.signal(libc::SIGKILL)
    }

    /// Reaps the child if it has exited.
    pub fn try_wait(&mut self) -> io::Result<Option<Ended>> {
        if let Some(e) = self.reaped {
            return Ok(Some(e));
        }
        let mut status = 0;
        // SAFETY: zeroed rusage is a valid out-parameter.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: wait4 on our own child with valid out-pointers.
        let r = unsafe { libc::wait4(self.pid, &mut status, libc::WNOHANG, &mut ru) };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        if r == 0 {
            return Ok(None);
        }
        let (code, signal) = decode_status(status);
        let ended = Ended {
            code,
            signal,
            max_rss_kb: ru.ru_maxrss.max(0) as u64,
            user: tv(ru.ru_utime),
            system: tv(ru.ru_stime),
            wall: self.started.elapsed(),
            ..Ended::default()
        };
        self.reaped = Some(ended);
        Ok(Some(ended))
    }

    /// Blocks until the child exits; after `timeout` it is killed (`timed_out`).
    pub fn wait_blocking(&mut self, timeout: Option<Duration>) -> io::Result<Ended> {
        let mut timed_out = false;
        loop {
            if let Some(mut e) = self.try_wait()? {
                e.timed_out = timed_out;
                self.reaped = Some(e);
                return Ok(e);
            }
            let limit = if timed_out {
                None
            } else {
                timeout.map(|t| t.saturating_sub(self.started.elapsed()))
            };
            if !poll_readable(self.pidfd.as_raw_fd(), limit)? && !timed_out {
                self.kill()?;
                timed_out = true;
            }
        }
    }

    /// Waits without blocking the runtime (pidfd readiness). After `timeout`
    /// the child is killed (`timed_out`); on SIGINT/SIGTERM to tare it gets
    /// SIGTERM, then SIGKILL after a second (`interrupted`).
    pub async fn wait_with(&mut self, timeout: Option<Duration>) -> io::Result<Ended> {
        use tokio::io::unix::AsyncFd;
        use tokio::io::Interest;
        use tokio::signal::unix::{signal, SignalKind};

        if let Some(e) = self.try_wait()? {
            return Ok(e);
        }
        let fd = self.pidfd.try_clone()?;
        // SAFETY: `fd` is an owned pidfd that lives (open, unchanged) inside the AsyncFd.
        let afd = unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) }
            .map_err(|e| e.into_parts().1)?;
        let mut sigint = signal(SignalKind::interrupt())?;
        let mut sigterm = signal(SignalKind::terminate())?;
        let sleep = tokio::time::sleep(timeout.unwrap_or(FAR_FUTURE));
        tokio::pin!(sleep);
        let (mut timed_out, mut interrupted) = (false, false);
        let mut kill_at: Option<tokio::time::Instant> = None;
        loop {
            let kill_timer = tokio::time::sleep_until(
                kill_at.unwrap_or_else(|| tokio::time::Instant::now() + FAR_FUTURE),
            );
            tokio::select! {
                r = afd.readable() => {
                    let mut guard = r?;
                    if let Some(mut e) = self.try_wait()? {
                        e.timed_out = timed_out;
                        e.interrupted = interrupted;
                        self.reaped = Some(e);
                        return Ok(e);
                    }
                    guard.clear_ready();
                }
                _ = &mut sleep, if timeout.is_some() && !timed_out => {
                    timed_out = true;
                    self.kill()?;
                }
                _ = sigint.recv(), if !interrupted => {
                    interrupted = true;
                    self.signal(libc::SIGTERM)?;
                    kill_at = Some(tokio::time::Instant::now() + Duration::from_secs(1));
                }
                _ = sigterm.recv(), if !interrupted => {
                    interrupted = true;
                    self.signal(libc::SIGTERM)?;
                    kill_at = Some(tokio::time::Instant::now() + Duration::from_secs(1));
                }
                _ = kill_timer, if kill_at.is_some() => {
                    kill_at = None;
                    self.kill()?;
                }
            }
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if self.reaped.is_none() {
            let _ = self.kill();
            let _ = self.wait_blocking(None);
        }
    }
}

/// Spawns `argv` quietly into `cg`, waits (killing it after `timeout`) and reaps it.
pub fn run_to_end(argv: &[String], cg: &SessionCgroup, timeout: Duration) -> io::Result<Ended> {
    let mut child = spawn_into(argv, cg, true)?;
    child.wait_blocking(Some(timeout))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(decode_status(0), (Some(0), None));
        assert_eq!(decode_status(3 << 8), (Some(3), None));
        assert_eq!(decode_status(9), (None, Some(9)));
        assert_eq!(decode_status(0x80 | 11), (None, Some(11)));
        let e = Ended {
            signal: Some(9),
            ..Ended::default()
        };
        assert_eq!(e.shell_status(), 137);
        assert_eq!(
            Ended {
                code: Some(4),
                ..Ended::default()
            }
            .shell_status(),
            4
        );
    }
}
