//! Spawns the child so that it is inside the session cgroup before it execs.
//!
//! The child is forked straight into the session's cgroup2 directory
//! (`clone3` + `CLONE_INTO_CGROUP`; on older kernels it writes `0` to
//! `cgroup.procs` before exec) and joins the parallel v1 memory cgroup, when
//! there is one, before exec: its exec and everything after happen inside
//! the session. tare keeps a pidfd (no pid-reuse races for kill and wait) and
//! reaps the child itself with `wait4`, which gives `ru_maxrss` and the exit
//! status.

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
    /// CPU, context switches and page faults from `wait4` (the child and every descendant
    /// it waited for, as GNU time reports them).
    pub cpu: report_model::schema::usage::CpuUsage,
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
/// Joining a cgroup by writing a pid to `cgroup.procs` takes the kernel's
/// global `cgroup_threadgroup_rwsem` for writing, which waits for an RCU
/// grace period when it has been idle: 10-20 ms on the machines tare targets.
/// tare avoids it: the child is forked straight into the session's cgroup2
/// (`clone3` + `CLONE_INTO_CGROUP`, Linux 5.7+), and joins a v1 memory cgroup
/// (hybrid hosts) by writing `0` to its `tasks` file while it has a single
/// thread, which the kernel does without that lock. The child then waits for
/// [`Prepared::start`] to exec, so it can be prepared before the eBPF
/// programs load. Dropping a `Prepared` makes the child exit without exec'ing.
#[derive(Debug)]
pub struct Prepared {
    inner: Option<Parked>,
}

#[derive(Debug)]
enum Parked {
    /// Forked with clone3: the child waits on `go`; `exec_err` reports a failed exec;
    /// `parked` reads EOF once the child has joined its cgroups and waits.
    Clone3 {
        pid: libc::pid_t,
        pidfd: OwnedFd,
        go: OwnedFd,
        exec_err: OwnedFd,
        parked: OwnedFd,
    },
    /// Kernels without CLONE_INTO_CGROUP: std's spawn on a thread, joining by writes.
    Thread {
        go: OwnedFd,
        spawner: std::thread::JoinHandle<io::Result<u32>>,
    },
}

/// Forks `argv` into `cg`'s cgroups and parks it before exec (see [`Prepared`]).
/// `quiet` (a bench sample) sends stdin/stdout/stderr to /dev/null and puts the child in a
/// process group of its own, so a terminal's Ctrl-C reaches tare alone, which lets the
/// running sample finish and then stops; otherwise the child shares tare's terminal.
/// The command is looked up in PATH like `execvp` does.
pub fn prepare(argv: &[String], cg: &SessionCgroup, quiet: bool) -> io::Result<Prepared> {
    if argv.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "no command given",
        ));
    }
    match clone3_parked(argv, cg, quiet) {
        Ok(p) => Ok(Prepared { inner: Some(p) }),
        // No clone3 (ENOSYS), or no CLONE_INTO_CGROUP in it (E2BIG/EINVAL): Linux < 5.7.
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::ENOSYS | libc::E2BIG | libc::EINVAL)
            ) =>
        {
            thread_parked(argv, cg, quiet).map(|p| Prepared { inner: Some(p) })
        }
        Err(e) => Err(e),
    }
}

fn cstr(s: &[u8], what: &str) -> io::Result<CString> {
    CString::new(s)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, format!("{what} contains NUL")))
}

/// Where `execvp` would look for `prog`, in order.
pub fn exec_candidates(prog: &str, path_var: Option<&std::ffi::OsStr>) -> Vec<std::path::PathBuf> {
    if prog.contains('/') {
        return vec![prog.into()];
    }
    let path = path_var.unwrap_or_else(|| std::ffi::OsStr::new("/usr/local/bin:/bin:/usr/bin"));
    path.as_bytes()
        .split(|&b| b == b':')
        .map(|dir| {
            let dir = if dir.is_empty() {
                std::path::Path::new(".")
            } else {
                std::path::Path::new(std::ffi::OsStr::from_bytes(dir))
            };
            dir.join(prog)
        })
        .collect()
}

/// `struct clone_args` (Linux 5.7+, up to `cgroup`).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

const CLONE_PIDFD: u64 = 0x1000;
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

fn clone3_parked(argv: &[String], cg: &SessionCgroup, quiet: bool) -> io::Result<Parked> {
    // Everything the child touches is built before the fork: it may only make syscalls.
    let args: Vec<CString> = argv
        .iter()
        .map(|a| cstr(a.as_bytes(), "an argument"))
        .collect::<Result<_, _>>()?;
    let mut arg_ptrs: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
    arg_ptrs.push(std::ptr::null());
    let env: Vec<CString> = std::env::vars_os()
        .map(|(k, v)| {
            let mut kv = k.as_bytes().to_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_bytes());
            cstr(&kv, "the environment")
        })
        .collect::<Result<_, _>>()?;
    let mut env_ptrs: Vec<*const libc::c_char> = env.iter().map(|e| e.as_ptr()).collect();
    env_ptrs.push(std::ptr::null());
    let paths: Vec<CString> = exec_candidates(&argv[0], std::env::var_os("PATH").as_deref())
        .iter()
        .map(|p| cstr(p.as_os_str().as_bytes(), "the command path"))
        .collect::<Result<_, _>>()?;
    let v1: Vec<CString> = cg
        .v1_join_files()
        .iter()
        .map(|p| cstr(p.as_os_str().as_bytes(), "a cgroup path"))
        .collect::<Result<_, _>>()?;
    let dir = cstr(cg.path().as_os_str().as_bytes(), "the cgroup path")?;
    // SAFETY: open(2) of a directory path; the fd is owned below.
    let cg_fd = unsafe {
        libc::open(
            dir.as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if cg_fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh fd we own.
    let cg_fd = unsafe { OwnedFd::from_raw_fd(cg_fd) };
    let null = if quiet {
        // SAFETY: open(2) of /dev/null.
        let fd = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a fresh fd we own.
        Some(unsafe { OwnedFd::from_raw_fd(fd) })
    } else {
        None
    };
    let (go_read, go_write) = pipe_cloexec()?;
    let (err_read, err_write) = pipe_cloexec()?;
    let (parked_read, parked_write) = pipe_cloexec()?;

    let mut pidfd: libc::c_int = -1;
    let mut ca = CloneArgs {
        flags: CLONE_PIDFD | CLONE_INTO_CGROUP,
        pidfd: &mut pidfd as *mut libc::c_int as u64,
        exit_signal: libc::SIGCHLD as u64,
        cgroup: cg_fd.as_raw_fd() as u64,
        ..CloneArgs::default()
    };
    // SAFETY: clone3 without CLONE_VM is fork: the child gets a copy of this
    // address space and, below, only makes async-signal-safe syscalls on data
    // built above before it execs or exits.
    // SAFETY: getpid has no preconditions.
    let parent = unsafe { libc::getpid() };
    let pid = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &mut ca as *mut CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid == 0 {
        // SAFETY: see above; never returns.
        unsafe {
            child_after_clone(
                parent,
                go_read.as_raw_fd(),
                go_write.as_raw_fd(),
                err_read.as_raw_fd(),
                err_write.as_raw_fd(),
                [parked_read.as_raw_fd(), parked_write.as_raw_fd()],
                null.as_ref().map(|f| f.as_raw_fd()),
                &v1,
                &paths,
                arg_ptrs.as_ptr(),
                env_ptrs.as_ptr(),
            )
        }
    }
    drop((go_read, err_write, parked_write, cg_fd, null));
    // SAFETY: CLONE_PIDFD stored a fresh pidfd we own.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
    Ok(Parked::Clone3 {
        pid: pid as libc::pid_t,
        pidfd,
        go: go_write,
        exec_err: err_read,
        parked: parked_read,
    })
}

/// The child side of `clone3_parked`. Only syscalls: no allocation, no locks.
///
/// # Safety
/// Must run in a freshly cloned child (single thread) with valid pointers.
#[allow(clippy::too_many_arguments)]
unsafe fn child_after_clone(
    parent: libc::pid_t,
    go_read: RawFd,
    go_write: RawFd,
    err_read: RawFd,
    err_write: RawFd,
    [parked_read, parked_write]: [RawFd; 2],
    null: Option<RawFd>,
    v1: &[CString],
    paths: &[CString],
    argv: *const *const libc::c_char,
    envp: *const *const libc::c_char,
) -> ! {
    // SAFETY (whole body): plain syscalls on fds and buffers made before the clone.
    unsafe {
        let fail = |errno: i32| -> ! {
            let b = errno.to_ne_bytes();
            libc::write(err_write, b.as_ptr().cast(), b.len());
            libc::_exit(127)
        };
        libc::close(go_write);
        libc::close(err_read);
        libc::close(parked_read);
        // The child dies with tare (even by kill -9): SIGKILL when the thread that forked
        // it ends, which is the thread that waits for it. Had tare died already, go.
        libc::prctl(
            libc::PR_SET_PDEATHSIG,
            libc::SIGKILL as libc::c_ulong,
            0,
            0,
            0,
        );
        if libc::getppid() != parent {
            libc::_exit(127);
        }
        // Like std's Command: default SIGPIPE (Rust ignores it) and an empty signal mask.
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
        for p in v1 {
            if let Err(e) = join_cgroup(p) {
                fail(e.raw_os_error().unwrap_or(libc::EIO));
            }
        }
        // Nothing of tare's runs in the child from here: `Prepared::wait_parked` returns.
        libc::close(parked_write);
        let mut b = 0u8;
        loop {
            let n = libc::read(go_read, (&mut b as *mut u8).cast(), 1);
            if n == 1 {
                break;
            }
            if n == 0 || *libc::__errno_location() != libc::EINTR {
                libc::_exit(127); // tare dropped the Prepared: do not run
            }
        }
        if let Some(fd) = null {
            // Quiet: a process group of its own, out of the terminal's reach.
            if libc::setpgid(0, 0) < 0 {
                fail(*libc::__errno_location());
            }
            for target in 0..3 {
                if libc::dup2(fd, target) < 0 {
                    fail(*libc::__errno_location());
                }
            }
        }
        let mut err = libc::ENOENT;
        for p in paths {
            libc::execve(p.as_ptr(), argv, envp);
            let e = *libc::__errno_location();
            // As execvp: keep looking after "not here"; remember "found but not runnable".
            match e {
                libc::ENOENT | libc::ENOTDIR | libc::ESTALE | libc::ENODEV | libc::ETIMEDOUT => {}
                libc::EACCES => err = e,
                _ => fail(e),
            }
        }
        fail(err)
    }
}

fn thread_parked(argv: &[String], cg: &SessionCgroup, quiet: bool) -> io::Result<Parked> {
    let (prog, args) = argv
        .split_first()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no command given"))?;
    let procs: Vec<CString> = cg
        .join_files()
        .iter()
        .map(|p| cstr(p.as_os_str().as_bytes(), "a cgroup path"))
        .collect::<Result<_, _>>()?;
    let mut cmd = Command::new(prog);
    cmd.args(args);
    if quiet {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
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
    Ok(Parked::Thread {
        go: go_write,
        spawner,
    })
}

impl Prepared {
    /// The parked child's pid (not known before exec on kernels without clone3).
    pub fn pid(&self) -> Option<u32> {
        match &self.inner {
            Some(Parked::Clone3 { pid, .. }) => Some(*pid as u32),
            _ => None,
        }
    }

    /// Returns once the child has done tare's steps (joining its cgroups) and waits to
    /// exec, so that programs attached after this see none of them. Kernels without
    /// clone3 join in std's pre-exec hook, which cannot say so: there it returns at once.
    pub fn wait_parked(&self) {
        if let Some(Parked::Clone3 { parked, .. }) = &self.inner {
            let mut b = [0u8; 1];
            // EOF once the child closed its end (or died); nothing is ever written.
            // SAFETY: read into a local buffer.
            while unsafe { libc::read(parked.as_raw_fd(), b.as_mut_ptr().cast(), 1) } < 0
                && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted
            {}
        }
    }

    /// Lets the parked child exec; returns once it has (or says why it could not).
    pub fn start(mut self) -> io::Result<Child> {
        let started = Instant::now();
        let go_byte = |go: &OwnedFd| {
            // SAFETY: a 1-byte write to our pipe; a gone child shows up as an exec error.
            unsafe { libc::write(go.as_raw_fd(), b"g".as_ptr().cast(), 1) };
        };
        match self.inner.take() {
            Some(Parked::Clone3 {
                pid,
                pidfd,
                go,
                exec_err,
                ..
            }) => {
                go_byte(&go);
                drop(go);
                // EOF: the exec succeeded (the pipe is close-on-exec); 4 bytes: its errno.
                let mut b = [0u8; 4];
                let n = loop {
                    // SAFETY: read into a local buffer.
                    let n = unsafe { libc::read(exec_err.as_raw_fd(), b.as_mut_ptr().cast(), 4) };
                    if n >= 0 || io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
                        break n;
                    }
                };
                if n != 0 {
                    // SAFETY: reap our failed child.
                    unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
                    let errno = if n == 4 {
                        i32::from_ne_bytes(b)
                    } else {
                        libc::EIO
                    };
                    return Err(io::Error::from_raw_os_error(errno));
                }
                Ok(Child {
                    pid,
                    pidfd,
                    started,
                    reaped: None,
                })
            }
            Some(Parked::Thread { go, spawner }) => {
                go_byte(&go);
                drop(go);
                let pid = spawner
                    .join()
                    .map_err(|_| io::Error::other("the spawn thread panicked"))??
                    as libc::pid_t;
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
            None => Err(io::Error::other("already started")),
        }
    }
}

impl Drop for Prepared {
    fn drop(&mut self) {
        // Closing the go pipe makes the parked child exit without exec'ing.
        match self.inner.take() {
            Some(Parked::Clone3 { pid, go, .. }) => {
                drop(go);
                // SAFETY: reap our child.
                unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
            }
            Some(Parked::Thread { go, spawner }) => {
                drop(go);
                let _ = spawner.join(); // std's spawn reaps the child
            }
            None => {}
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

/// Writes "0" (the calling thread/process) to a `tasks`/`cgroup.procs` file. Runs between
/// fork and exec, in a single-threaded child.
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

    /// Sends `sig` to the child's process group: only for a child spawned `quiet`, which
    /// leads a group of its own (a no-op once the child is reaped).
    pub fn signal_group(&self, sig: i32) -> io::Result<()> {
        if self.reaped.is_some() {
            return Ok(());
        }
        // SAFETY: kill(2) on a process group id we made.
        if unsafe { libc::kill(-self.pid, sig) } < 0 {
            let e = io::Error::last_os_error();
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
            cpu: crate::resources::cpu_of(&ru),
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

/// Spawns `argv` quietly into `cg` (in a process group of its own), waits and reaps it;
/// `watch`, when given, follows it from before it runs.
/// After `timeout` it is killed (`timed_out`). When a second SIGINT/SIGTERM reaches tare
/// while it runs ([`crate::signals::abort_requested`]), its group gets SIGTERM (a `tare
/// capture` then writes its partial archive and cleans up) and SIGKILL a second later
/// (`interrupted`).
pub fn run_to_end(
    argv: &[String],
    cg: &SessionCgroup,
    timeout: Duration,
    watch: Option<&crate::treewatch::TreeWatch>,
) -> io::Result<Ended> {
    const SLICE: Duration = Duration::from_millis(100);
    let prepared = prepare(argv, cg, true)?;
    let early = prepared.pid();
    if let (Some(w), Some(pid)) = (watch, early) {
        w.follow(pid);
    }
    let mut child = prepared.start()?;
    if let (Some(w), None) = (watch, early) {
        w.follow(child.pid()); // kernels without clone3: known only once it has exec'd
    }
    let deadline = child.started + timeout;
    let mut terminated: Option<Instant> = None;
    loop {
        if let Some(mut e) = child.try_wait()? {
            e.interrupted = terminated.is_some();
            return Ok(e);
        }
        let now = Instant::now();
        if now >= deadline {
            child.kill()?;
            let mut e = child.wait_blocking(None)?;
            e.timed_out = true;
            return Ok(e);
        }
        match terminated {
            None if crate::signals::abort_requested() => {
                child.signal_group(libc::SIGTERM)?;
                terminated = Some(now);
            }
            Some(t) if now.duration_since(t) > Duration::from_secs(1) => {
                child.signal_group(libc::SIGKILL)?;
            }
            _ => {}
        }
        poll_readable(child.pidfd.as_raw_fd(), Some((deadline - now).min(SLICE)))?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_candidates_follow_execvp() {
        use std::ffi::OsStr;
        use std::path::PathBuf;
        assert_eq!(
            exec_candidates("/bin/true", None),
            vec![PathBuf::from("/bin/true")]
        );
        assert_eq!(
            exec_candidates("./x", Some(OsStr::new("/a"))),
            vec![PathBuf::from("./x")]
        );
        assert_eq!(
            exec_candidates("py", Some(OsStr::new("/a:/b/c::"))),
            ["/a/py", "/b/c/py", "./py", "./py"]
                .map(PathBuf::from)
                .to_vec()
        );
        assert_eq!(
            exec_candidates("sh", None)[0],
            PathBuf::from("/usr/local/bin/sh")
        );
    }

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
