//! Creates, joins and removes the per-run cgroup v2 (pure or hybrid mount).
//!
//! The pure part (mountinfo parsing, levels, names) is separate from the I/O
//! ([`SessionCgroup`]) so it is unit-tested without touching /sys.

use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant};

/// Directory under each hierarchy's mount point where tare puts its session cgroups.
pub const TARE_DIR: &str = "tare";

/// How long [`SessionCgroup::remove`] waits for the killed tasks to leave.
const DRAIN_DEADLINE: Duration = Duration::from_secs(5);

/// Errors of the session cgroup; each says what to do.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error("no cgroup2 file system is mounted (checked /proc/self/mountinfo); mount one with `mount -t cgroup2 none /sys/fs/cgroup/unified` or boot with systemd.unified_cgroup_hierarchy=1")]
    NoCgroup2,
    #[error("invalid run id {0:?}: use letters, digits, '-', '_' and '.' only")]
    BadRunId(String),
    #[error("session cgroup {0} already exists (run ids must be unique)")]
    Exists(PathBuf),
    #[error("creating cgroup {path}: {source} (creating cgroups needs root)")]
    Create { path: PathBuf, source: io::Error },
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("cgroup {path} still has tasks after {waited:?}: {pids:?}")]
    NotEmpty {
        path: PathBuf,
        waited: Duration,
        pids: Vec<u32>,
    },
}

fn io_err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> CgroupError + 'a {
    move |source| CgroupError::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

// ---------------------------------------------------------------------------
// Pure part
// ---------------------------------------------------------------------------

/// One line of /proc/self/mountinfo (the fields tare needs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountEntry {
    /// Root of the mount within its file system (field 4), unescaped.
    pub root: String,
    /// Mount point (field 5), unescaped.
    pub mount_point: PathBuf,
    /// File system type (first field after " - ").
    pub fstype: String,
    /// Super block options (last field), e.g. `rw,memory` for a v1 memory hierarchy.
    pub super_options: String,
}

/// Undoes the octal escapes (`\040` for space, ...) mountinfo uses in paths.
pub fn unescape_mountinfo(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = (b[i + 1] - b'0') as u32 * 64
                + (b[i + 2] - b'0') as u32 * 8
                + (b[i + 3] - b'0') as u32;
            if let Ok(v) = u8::try_from(v) {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses one mountinfo line; `None` when it is malformed.
pub fn parse_mountinfo_line(line: &str) -> Option<MountEntry> {
    let (pre, post) = line.split_once(" - ")?;
    let pre: Vec<&str> = pre.split(' ').collect();
    if pre.len() < 6 {
        return None;
    }
    let mut post = post.split(' ');
    let fstype = post.next()?.to_string();
    let _source = post.next()?;
    let super_options = post.next().unwrap_or("").to_string();
    Some(MountEntry {
        root: unescape_mountinfo(pre[3]),
        mount_point: PathBuf::from(unescape_mountinfo(pre[4])),
        fstype,
        super_options,
    })
}

/// Parses /proc/self/mountinfo, skipping malformed lines.
pub fn parse_mountinfo(text: &str) -> Vec<MountEntry> {
    text.lines().filter_map(parse_mountinfo_line).collect()
}

/// The cgroup2 mount: `/sys/fs/cgroup` on pure v2, `/sys/fs/cgroup/unified` on
/// hybrid hosts, or wherever it is. Prefers a mount of the hierarchy's root,
/// then the shortest mount point.
pub fn find_cgroup2_mount(mountinfo: &str) -> Option<PathBuf> {
    best_mount(
        parse_mountinfo(mountinfo)
            .into_iter()
            .filter(|m| m.fstype == "cgroup2"),
    )
}

/// The v1 hierarchy that has the memory controller, if any.
pub fn find_cgroup_v1_memory_mount(mountinfo: &str) -> Option<PathBuf> {
    best_mount(
        parse_mountinfo(mountinfo)
            .into_iter()
            .filter(|m| m.fstype == "cgroup" && m.super_options.split(',').any(|o| o == "memory")),
    )
}

fn best_mount(it: impl Iterator<Item = MountEntry>) -> Option<PathBuf> {
    it.min_by_key(|m| (m.root != "/", m.mount_point.as_os_str().len()))
        .map(|m| m.mount_point)
}

/// The cgroup2 mount entry itself (with its root), for level computation.
pub fn find_cgroup2_entry(mountinfo: &str) -> Option<MountEntry> {
    parse_mountinfo(mountinfo)
        .into_iter()
        .filter(|m| m.fstype == "cgroup2")
        .min_by_key(|m| (m.root != "/", m.mount_point.as_os_str().len()))
}

/// Number of normal path components (`/` is 0, `/a/b` is 2).
fn depth(p: &Path) -> Option<u32> {
    let mut n = 0u32;
    for c in p.components() {
        match c {
            Component::RootDir | Component::CurDir => {}
            Component::Normal(_) => n += 1,
            Component::ParentDir | Component::Prefix(_) => return None,
        }
    }
    Some(n)
}

/// The kernel's cgroup level (root = 0) of `dir`, a directory below the
/// cgroup2 mount at `mount_point` whose mount root is `mount_root`.
///
/// Inside a cgroup namespace the mount root is relative to the namespace, so
/// the level is relative to it as well; tare runs in the init namespace.
pub fn cgroup_level(mount_root: &str, mount_point: &Path, dir: &Path) -> Option<u32> {
    let rel = dir.strip_prefix(mount_point).ok()?;
    Some(depth(Path::new(mount_root))? + depth(rel)?)
}

/// Checks that a run id is one safe directory name.
pub fn validate_run_id(run_id: &str) -> Result<(), CgroupError> {
    let ok = !run_id.is_empty()
        && run_id.len() <= 200
        && run_id != "."
        && run_id != ".."
        && run_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(CgroupError::BadRunId(run_id.to_string()))
    }
}

/// Parses a `cgroup.procs` file.
pub fn parse_procs(text: &str) -> Vec<u32> {
    text.split_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect()
}

/// Whether a controller list (`cgroup.controllers` / `cgroup.subtree_control`) names `ctrl`.
/// The cgroup v2 path of `/proc/self/cgroup` (its `0::` line).
pub fn parse_own_cgroup(text: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.strip_prefix("0::"))
        .map(|p| p.trim().to_string())
        .filter(|p| p.starts_with('/'))
}

/// Whether the extended attribute `name` of `path` is `1` (systemd's delegation mark).
pub fn xattr_is_one(path: &Path, name: &str) -> bool {
    let (Ok(p), Ok(n)) = (
        std::ffi::CString::new(path.as_os_str().as_encoded_bytes()),
        std::ffi::CString::new(name),
    ) else {
        return false;
    };
    let mut buf = [0u8; 8];
    // SAFETY: both strings are NUL-terminated and `buf` is valid for its length.
    let n = unsafe { libc::getxattr(p.as_ptr(), n.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    usize::try_from(n).is_ok_and(|n| buf[..n.min(buf.len())] == *b"1")
}

pub fn has_controller(list: &str, ctrl: &str) -> bool {
    list.split_whitespace().any(|c| c == ctrl)
}

// ---------------------------------------------------------------------------
// I/O part
// ---------------------------------------------------------------------------

/// Where the workload's peak memory can be read after it exits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeakMemorySource {
    /// cgroup v2 `memory.peak` of the session cgroup.
    V2MemoryPeak(PathBuf),
    /// cgroup v1 `memory.max_usage_in_bytes` of the parallel v1 memory cgroup.
    V1MaxUsage(PathBuf),
    /// No cgroup accounting: use `wait4` rusage.
    None,
}

impl PeakMemorySource {
    /// Method name for the archive (`cgroup_v2_memory_peak`, `cgroup_v1_max_usage`, `none`).
    pub fn method(&self) -> &'static str {
        match self {
            PeakMemorySource::V2MemoryPeak(_) => "cgroup_v2_memory_peak",
            PeakMemorySource::V1MaxUsage(_) => "cgroup_v1_max_usage",
            PeakMemorySource::None => "none",
        }
    }

    /// Reads the peak in bytes; `None` for [`PeakMemorySource::None`] or an unreadable file.
    pub fn read_bytes(&self) -> Option<u64> {
        match self {
            PeakMemorySource::V2MemoryPeak(p) | PeakMemorySource::V1MaxUsage(p) => {
                fs::read_to_string(p).ok()?.trim().parse().ok()
            }
            PeakMemorySource::None => None,
        }
    }
}

/// A fresh cgroup v2 for one run (plus a parallel v1 memory cgroup on hybrid
/// hosts), removed by [`SessionCgroup::remove`] or, failing that, on drop.
#[derive(Debug)]
pub struct SessionCgroup {
    path: PathBuf,
    id: u64,
    level: u32,
    v1_memory: Option<PathBuf>,
    peak: PeakMemorySource,
    removed: bool,
}

impl SessionCgroup {
    /// Creates `<cgroup2 mount>/tare/<run_id>` (and, without v2 memory
    /// accounting, `<v1 memory mount>/tare/<run_id>`), reading /proc/self/mountinfo.
    pub fn create(run_id: &str) -> Result<SessionCgroup, CgroupError> {
        Self::create_with(run_id, true)
    }

    /// Like [`SessionCgroup::create`]; with `v1_memory` false no parallel v1
    /// memory cgroup is made on hybrid hosts (peak memory then falls back to
    /// `wait4`'s `ru_maxrss`).
    pub fn create_with(run_id: &str, v1_memory: bool) -> Result<SessionCgroup, CgroupError> {
        let mounts = fs::read_to_string("/proc/self/mountinfo")
            .map_err(io_err("reading", Path::new("/proc/self/mountinfo")))?;
        let v2 = find_cgroup2_entry(&mounts).ok_or(CgroupError::NoCgroup2)?;
        let v1_mem = if v1_memory {
            find_cgroup_v1_memory_mount(&mounts)
        } else {
            None
        };
        Self::create_at(&v2.mount_point, &v2.root, v1_mem.as_deref(), run_id)
    }

    /// Creates the session cgroup below an explicit cgroup2 mount.
    pub fn create_at(
        v2_mount: &Path,
        v2_mount_root: &str,
        v1_memory_mount: Option<&Path>,
        run_id: &str,
    ) -> Result<SessionCgroup, CgroupError> {
        validate_run_id(run_id)?;
        let parent = v2_mount.join(TARE_DIR);
        let path = parent.join(run_id);
        // tare/ holds only session cgroups, never a task (so enabling a controller in it
        // keeps the no-internal-process rule). The memory controller is passed down to it
        // when the root has it enabled; the root's own controllers are never changed (every
        // cgroup on the host would get them).
        let root_ctl =
            fs::read_to_string(v2_mount.join("cgroup.subtree_control")).unwrap_or_default();
        let enable = has_controller(&root_ctl, "memory").then_some("memory");
        mkdir_session(&parent, &path, enable)?;
        let mut cg = SessionCgroup {
            id: 0,
            level: 0,
            path: path.clone(),
            v1_memory: None,
            peak: PeakMemorySource::None,
            removed: false,
        };
        cg.id = fs::metadata(&path).map_err(io_err("stat", &path))?.ino();
        cg.level = cgroup_level(v2_mount_root, v2_mount, &path).ok_or_else(|| CgroupError::Io {
            op: "computing level of",
            path: path.clone(),
            source: io::Error::other("not below the cgroup2 mount"),
        })?;
        let peak = path.join("memory.peak");
        if peak.exists() {
            cg.peak = PeakMemorySource::V2MemoryPeak(peak);
        } else if let Some(m) = v1_memory_mount {
            let v1_parent = m.join(TARE_DIR);
            let v1 = v1_parent.join(run_id);
            if mkdir_session(&v1_parent, &v1, None).is_ok() {
                let usage = v1.join("memory.max_usage_in_bytes");
                cg.v1_memory = Some(v1);
                if usage.exists() {
                    cg.peak = PeakMemorySource::V1MaxUsage(usage);
                }
            }
        }
        let mut dirs = vec![cg.path.clone()];
        dirs.extend(cg.v1_memory.clone());
        crate::stale::record(run_id, &dirs);
        Ok(cg)
    }

    /// The cgroup2 directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The cgroup id (inode of the directory), as `bpf_get_current_cgroup_id` reports it.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The level (root = 0) for `bpf_get_current_ancestor_cgroup_id`.
    pub fn level(&self) -> u32 {
        self.level
    }

    /// The parallel v1 memory cgroup, if one was created.
    pub fn v1_memory_path(&self) -> Option<&Path> {
        self.v1_memory.as_deref()
    }

    /// Where the workload's peak memory is read.
    pub fn peak_memory(&self) -> &PeakMemorySource {
        &self.peak
    }

    /// The files a single-threaded child writes `0` to, before exec, to join
    /// the session: the v1 memory cgroup's `tasks` (moving only the calling
    /// thread skips the kernel's global threadgroup lock and its RCU grace
    /// period: ~0.1 ms instead of 10-20 ms; the child has one thread), then
    /// the cgroup2 `cgroup.procs` LAST, so the joining syscalls happen before
    /// the child is in the monitored session and are not captured.
    pub fn join_files(&self) -> Vec<PathBuf> {
        let mut v = self.v1_join_files();
        v.push(self.path.join("cgroup.procs"));
        v
    }

    /// The v1 files of [`SessionCgroup::join_files`] (the cgroup2 one is
    /// joined at fork with `CLONE_INTO_CGROUP` where the kernel has it).
    pub fn v1_join_files(&self) -> Vec<PathBuf> {
        self.v1_memory.iter().map(|m| m.join("tasks")).collect()
    }

    /// The pids in the session cgroup and its descendants.
    pub fn pids(&self) -> Vec<u32> {
        let mut out = Vec::new();
        collect_pids(&self.path, &mut out);
        out
    }

    /// Whether no task is left in the session cgroup (or below it).
    pub fn is_empty(&self) -> bool {
        self.pids().is_empty()
    }

    /// Kills every task in the session cgroup (cgroup.kill, else SIGKILL per pid).
    pub fn kill_all(&self) {
        kill_tree(&self.path);
        if let Some(m) = &self.v1_memory {
            kill_tree(m);
        }
    }

    /// Waits until no task is left, up to `deadline`.
    pub fn wait_empty(&self, deadline: Duration) -> Result<(), CgroupError> {
        let start = Instant::now();
        let mut pause = Duration::from_micros(200);
        loop {
            let pids = self.pids();
            if pids.is_empty() {
                return Ok(());
            }
            if start.elapsed() >= deadline {
                return Err(CgroupError::NotEmpty {
                    path: self.path.clone(),
                    waited: start.elapsed(),
                    pids,
                });
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }

    /// Kills what is left, waits for it to go, and removes the directories.
    pub fn remove(mut self) -> Result<(), CgroupError> {
        self.removed = true;
        self.remove_inner()
    }

    fn remove_inner(&self) -> Result<(), CgroupError> {
        if !self.pids().is_empty() {
            self.kill_all();
        }
        let waited = self.wait_empty(DRAIN_DEADLINE);
        let r1 = rmdir_tree(&self.path).inspect(|()| release_parent(&self.path));
        let r2 = match &self.v1_memory {
            Some(m) => rmdir_tree(m).inspect(|()| release_parent(m)),
            None => Ok(()),
        };
        if let Some(run_id) = self.path.file_name().and_then(|n| n.to_str()) {
            crate::stale::forget(run_id);
        }
        waited?;
        r1?;
        r2
    }
}

/// Kills every task in a cgroup directory left by another tare and removes it (with its
/// children); returns how many tasks were in it.
pub(crate) fn kill_and_remove(dir: &Path) -> usize {
    let mut pids = Vec::new();
    collect_pids(dir, &mut pids);
    if !pids.is_empty() {
        kill_tree(dir);
        let start = Instant::now();
        let mut left = pids.len();
        while left > 0 && start.elapsed() < DRAIN_DEADLINE {
            std::thread::sleep(Duration::from_millis(2));
            let mut now = Vec::new();
            collect_pids(dir, &mut now);
            left = now.len();
        }
    }
    if rmdir_tree(dir).is_ok() {
        release_parent(dir);
    }
    pids.len()
}

impl Drop for SessionCgroup {
    fn drop(&mut self) {
        if !self.removed {
            self.removed = true;
            let _ = self.remove_inner();
        }
    }
}

/// Makes `parent` (tare/, with `controller` enabled for its children) and the new session
/// `path` in it. Another tare may remove an empty tare/ at any moment (see
/// [`release_parent`]), so a vanished parent is made again.
fn mkdir_session(parent: &Path, path: &Path, controller: Option<&str>) -> Result<(), CgroupError> {
    let mut attempt = 0;
    loop {
        mkdir_p(parent)?;
        if let Some(c) = controller {
            let ctl = parent.join("cgroup.subtree_control");
            if !has_controller(&fs::read_to_string(&ctl).unwrap_or_default(), c) {
                // Best effort: without it the session falls back to another memory source.
                let _ = fs::write(&ctl, format!("+{c}"));
            }
        }
        match mkdir_new(path) {
            Err(CgroupError::Create { source, .. })
                if source.kind() == io::ErrorKind::NotFound && attempt < 3 =>
            {
                attempt += 1;
            }
            r => return r,
        }
    }
}

/// Removes tare/ above a removed session when no other session is left in it, so that tare
/// leaves the hierarchy as it found it (with the controllers it enabled in tare/ gone too).
/// A busy tare/ (another session) stays: rmdir fails on a cgroup with children.
fn release_parent(session: &Path) {
    if let Some(parent) = session.parent() {
        if parent.file_name().is_some_and(|n| n == TARE_DIR) {
            let _ = fs::remove_dir(parent);
        }
    }
}

fn mkdir_p(p: &Path) -> Result<(), CgroupError> {
    fs::create_dir_all(p).map_err(|source| CgroupError::Create {
        path: p.to_path_buf(),
        source,
    })
}

fn mkdir_new(p: &Path) -> Result<(), CgroupError> {
    match fs::create_dir(p) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            Err(CgroupError::Exists(p.to_path_buf()))
        }
        Err(source) => Err(CgroupError::Create {
            path: p.to_path_buf(),
            source,
        }),
    }
}

fn subdirs(p: &Path) -> Vec<PathBuf> {
    fs::read_dir(p)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}

fn collect_pids(dir: &Path, out: &mut Vec<u32>) {
    if let Ok(s) = fs::read_to_string(dir.join("cgroup.procs")) {
        out.extend(parse_procs(&s));
    }
    for d in subdirs(dir) {
        collect_pids(&d, out);
    }
}

fn kill_tree(dir: &Path) {
    if fs::write(dir.join("cgroup.kill"), "1").is_ok() {
        return;
    }
    // No cgroup.kill (v1, or kernels before 5.14): freeze-less best effort.
    let mut pids = Vec::new();
    collect_pids(dir, &mut pids);
    for pid in pids {
        if let Ok(pid) = i32::try_from(pid) {
            // SAFETY: kill(2) with a pid read from cgroup.procs; no memory is touched.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
    }
}

/// Removes a cgroup directory and its child cgroups, deepest first.
fn rmdir_tree(dir: &Path) -> Result<(), CgroupError> {
    for d in subdirs(dir) {
        rmdir_tree(&d)?;
    }
    match fs::remove_dir(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(CgroupError::Io {
            op: "removing",
            path: dir.to_path_buf(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
25 30 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
30 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw
31 25 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
32 31 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate
33 31 0:28 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd
36 31 0:31 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,memory
37 31 0:32 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,cpu,cpuacct
";

    const PURE: &str = "\
22 27 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw
26 22 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
27 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro
";

    #[test]
    fn hybrid_host() {
        assert_eq!(
            find_cgroup2_mount(HYBRID),
            Some(PathBuf::from("/sys/fs/cgroup/unified"))
        );
        assert_eq!(
            find_cgroup_v1_memory_mount(HYBRID),
            Some(PathBuf::from("/sys/fs/cgroup/memory"))
        );
    }

    #[test]
    fn pure_v2_host() {
        assert_eq!(
            find_cgroup2_mount(PURE),
            Some(PathBuf::from("/sys/fs/cgroup"))
        );
        assert_eq!(find_cgroup_v1_memory_mount(PURE), None);
        let e = find_cgroup2_entry(PURE).unwrap();
        assert_eq!(e.root, "/");
        assert_eq!(e.super_options, "rw,nsdelegate,memory_recursiveprot");
    }

    #[test]
    fn no_cgroup2_and_garbage_lines() {
        assert_eq!(find_cgroup2_mount(""), None);
        assert_eq!(find_cgroup2_mount("garbage\n1 2 3\n"), None);
        assert_eq!(parse_mountinfo("x - y\n").len(), 0);
    }

    #[test]
    fn escaped_mount_point_and_optional_fields() {
        let l = "40 31 0:40 / /mnt/my\\040cg rw,relatime shared:20 master:3 - cgroup2 none rw";
        let e = parse_mountinfo_line(l).unwrap();
        assert_eq!(e.mount_point, PathBuf::from("/mnt/my cg"));
        assert_eq!(e.fstype, "cgroup2");
        // No optional fields at all.
        let l = "40 31 0:40 / /cg rw - cgroup2 none rw";
        assert_eq!(
            parse_mountinfo_line(l).unwrap().mount_point,
            PathBuf::from("/cg")
        );
        assert_eq!(unescape_mountinfo("a\\134b\\011"), "a\\b\t");
        assert_eq!(unescape_mountinfo("trailing\\04"), "trailing\\04");
    }

    #[test]
    fn prefers_root_mount_then_shortest() {
        let m = "\
50 1 0:40 /sub /elsewhere rw - cgroup2 none rw
51 1 0:40 / /cg/deeper/path rw - cgroup2 none rw
52 1 0:40 / /cg2 rw - cgroup2 none rw
";
        assert_eq!(find_cgroup2_mount(m), Some(PathBuf::from("/cg2")));
    }

    #[test]
    fn levels() {
        let mp = Path::new("/sys/fs/cgroup/unified");
        assert_eq!(cgroup_level("/", mp, mp), Some(0));
        assert_eq!(cgroup_level("/", mp, &mp.join("tare/run-1")), Some(2));
        assert_eq!(
            cgroup_level("/a/b", Path::new("/cg"), Path::new("/cg/tare/x")),
            Some(4)
        );
        assert_eq!(cgroup_level("/", mp, Path::new("/tmp/x")), None);
        assert_eq!(cgroup_level("/", mp, &mp.join("../x")), None);
    }

    #[test]
    fn run_ids() {
        assert!(validate_run_id("20260519-123456-abcd").is_ok());
        for bad in ["", ".", "..", "a/b", "a b", "x\0"] {
            assert!(validate_run_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn procs_and_controllers() {
        assert_eq!(parse_procs("12\n345\n\n"), vec![12, 345]);
        assert!(parse_procs("").is_empty());
        assert!(has_controller("cpu io memory pids", "memory"));
        assert!(!has_controller("cpu io memory_x", "memory"));
    }
}
