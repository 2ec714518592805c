//! Creates tare's output files as root without following anything another user planted: an exclusive temporary beside the target, renamed over it.
//!
//! tare runs as root and writes where it is told, often a world-writable directory such as
//! /tmp. A path another user can predict is a path they can plant a symbolic link at, and a
//! root process that opens it with `O_CREAT` writes through the link into any file. So:
//! - every temporary is created with `O_CREAT | O_EXCL` under a random name (the `tempfile`
//!   crate), which never follows a link and fails on anything already there;
//! - the finished file is renamed over the target: `rename(2)` replaces a link at the
//!   target itself, it never writes through it;
//! - a temporary is named `.NAME.partial-PID-XXXXXX`, so one that a killed tare left is
//!   recognised and removed by the next write into the same directory ([`sweep_partials`]);
//! - a file tare appends to is opened with `O_NOFOLLOW` ([`open_append`]).

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::Result;

/// The mode of a finished output file (a temporary is 0600 until it is complete).
const MODE: u32 = 0o644;

/// The directory a file at `path` goes in (`.` for a bare file name).
pub fn dir_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// What to add to a write error: on a full disk, how to go on (and that nothing was left).
pub fn full_disk_hint(e: &std::io::Error) -> &'static str {
    if e.raw_os_error() == Some(libc::ENOSPC) {
        "; free space or choose another --out (nothing was left under the final name)"
    } else {
        ""
    }
}

/// The prefix of this process's temporaries for a target named `name`.
fn partial_prefix(name: &str, pid: u32) -> String {
    format!(".{name}.partial-{pid}-")
}

/// The owner's pid of a temporary named `.NAME.partial-PID-XXXXXX`, if `file` is one.
pub fn partial_owner(file: &str) -> Option<u32> {
    if !file.starts_with('.') {
        return None;
    }
    let (_, rest) = file.rsplit_once(".partial-")?;
    let (pid, suffix) = rest.split_once('-')?;
    if suffix.is_empty() || suffix.contains('/') {
        return None;
    }
    pid.parse().ok()
}

/// Removes the temporaries in `dir` that a tare which is gone left (killed while writing):
/// regular files of ours only (never a link, never another user's file). Returns their names.
pub fn sweep_partials(dir: &Path) -> Vec<String> {
    let euid = nix::unistd::geteuid().as_raw();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for e in entries.filter_map(Result::ok) {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = partial_owner(&name) else {
            continue;
        };
        if pid == std::process::id() || crate::stale::process_alive(pid) {
            continue;
        }
        let Ok(meta) = std::fs::symlink_metadata(e.path()) else {
            continue;
        };
        if meta.file_type().is_file()
            && meta.uid() == euid
            && std::fs::remove_file(e.path()).is_ok()
        {
            removed.push(name);
        }
    }
    removed
}

/// Checks, before any work is done, that a file can be written at `path`: it is not a
/// directory, its directory exists, and a file can be made there (one with no name, dropped).
pub fn check_target(path: &Path, flag: &str) -> Result<()> {
    if path.file_name().is_none() {
        anyhow::bail!("{flag} {}: not a file path", path.display());
    }
    if let Ok(m) = std::fs::symlink_metadata(path) {
        if m.is_dir() {
            anyhow::bail!(
                "{flag} {}: is a directory; give a file name (e.g. {})",
                path.display(),
                path.join("out.tar.gz").display()
            );
        }
    }
    let dir = dir_of(path);
    match std::fs::metadata(&dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => anyhow::bail!(
            "{flag} {}: {} is not a directory",
            path.display(),
            dir.display()
        ),
        Err(e) => anyhow::bail!(
            "{flag} {}: cannot use directory {}: {e}; create it first",
            path.display(),
            dir.display()
        ),
    }
    // A file with no name (O_TMPFILE where the filesystem has it): the probe leaves no trace.
    tempfile::tempfile_in(&dir).map(drop).map_err(|e| {
        anyhow::anyhow!(
            "{flag} {}: cannot write in {}: {e}",
            path.display(),
            dir.display()
        )
    })
}

/// A new exclusive temporary beside `path`, mode 0600.
fn temporary(path: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file path"))?;
    tempfile::Builder::new()
        .prefix(&partial_prefix(&name.to_string_lossy(), std::process::id()))
        .rand_bytes(6)
        .tempfile_in(dir_of(path))
}

/// Writes `bytes` to `path` via a temporary file in the same directory and a rename,
/// so a failure (e.g. a full disk) leaves nothing under the final name.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomically_with(path, |mut out| {
        out.write_all(bytes)?;
        Ok(out)
    })
    .map(|_| ())
}

/// As [`write_atomically`], for a file only its owner may read (mode 0600 from its first
/// byte on: the temporary is made so).
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    write_with_mode(path, 0o600, false, |mut out| {
        out.write_all(bytes)?;
        Ok(out)
    })
    .map(|_| ())
}

/// As [`write_atomically`], with the bytes written by `fill` into a buffered temporary
/// file as they are made (nothing is held whole in memory). Returns the file's size.
pub fn write_atomically_with(
    path: &Path,
    fill: impl FnOnce(BufWriter<File>) -> Result<BufWriter<File>>,
) -> Result<u64> {
    write_with_mode(path, MODE, true, fill)
}

/// The one way an output is written; `traced`: under an `archive_file` span (tare's outputs,
/// not its private state files).
fn write_with_mode(
    path: &Path,
    mode: u32,
    traced: bool,
    fill: impl FnOnce(BufWriter<File>) -> Result<BufWriter<File>>,
) -> Result<u64> {
    sweep_partials(&dir_of(path));
    let result = (|| -> Result<u64> {
        let tmp = temporary(path)?;
        let (file, tmp_path) = tmp.into_parts();
        // From here on, the temporary is removed when `tmp_path` is dropped on an error.
        let f = fill(BufWriter::with_capacity(256 << 10, file))?
            .into_inner()
            .map_err(|e| e.into_error())?;
        let bytes = f.metadata()?.len();
        let _s = traced.then(|| tracing::info_span!(target: "tare::archive", "archive_file", path = %path.display(), bytes = bytes as i64).entered());
        f.set_permissions(std::fs::Permissions::from_mode(mode))?;
        f.sync_all()?;
        tmp_path.persist(path).map_err(|e| e.error)?;
        Ok(bytes)
    })();
    result.map_err(|e| {
        let hint = e
            .chain()
            .find_map(|c| c.downcast_ref::<std::io::Error>())
            .map(full_disk_hint)
            .unwrap_or_else(|| {
                if format!("{e:#}").contains("No space left") {
                    full_disk_hint(&std::io::Error::from_raw_os_error(libc::ENOSPC))
                } else {
                    ""
                }
            });
        anyhow::anyhow!("cannot write {}: {e:#}{hint}", path.display())
    })
}

/// A file written as it goes (tare's own Chrome trace) that appears under its name only
/// when [`Streamed::finish`] renames it there.
#[derive(Debug)]
pub struct Streamed {
    tmp: tempfile::TempPath,
    target: PathBuf,
}

/// Creates a temporary beside `path` for a file written while tare runs: the file to write,
/// and what puts it in place.
pub fn streamed(path: &Path) -> std::io::Result<(File, Streamed)> {
    sweep_partials(&dir_of(path));
    let (file, tmp) = temporary(path)?.into_parts();
    Ok((
        file,
        Streamed {
            tmp,
            target: path.to_path_buf(),
        },
    ))
}

impl Streamed {
    /// Renames the written file over its target (mode 0644).
    pub fn finish(self) -> Result<()> {
        std::fs::set_permissions(&self.tmp, std::fs::Permissions::from_mode(MODE))?;
        self.tmp
            .persist(&self.target)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {}", self.target.display(), e.error))
    }
}

/// Makes `dir` (and its parents) if missing, mode 0700, and says whether it is a private
/// directory of ours: a real directory (not a link), owned by this user, that nobody else
/// may write to. tare's own state (/run/tare) is kept only in such a directory.
pub fn private_dir(dir: &Path) -> bool {
    use std::os::unix::fs::DirBuilderExt;
    let _ = std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir);
    let euid = nix::unistd::geteuid().as_raw();
    std::fs::symlink_metadata(dir)
        .is_ok_and(|m| m.is_dir() && m.uid() == euid && m.mode() & 0o022 == 0)
}

/// Creates or truncates `path` to write it in place (a file another program reads while it
/// is written), never through a link at it.
pub fn create_nofollow(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

/// Opens `path` to append to it (created if missing), never through a link at it.
pub fn open_append(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_names_and_their_owners() {
        let name = format!("{}Ab3xZ9", partial_prefix("out.tar.gz", 4242));
        assert_eq!(name, ".out.tar.gz.partial-4242-Ab3xZ9");
        assert_eq!(partial_owner(&name), Some(4242));
        assert_eq!(partial_owner(".a.partial-17-"), None, "no random part");
        assert_eq!(partial_owner("a.partial-17-x"), None, "not hidden");
        assert_eq!(partial_owner(".a.partial-x-y"), None);
        assert_eq!(partial_owner(".plain"), None);
    }

    fn dir() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    #[test]
    fn writes_replace_a_link_at_the_target_and_never_write_through_it() {
        let d = dir();
        let victim = d.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let out = d.path().join("out.json");
        std::os::unix::fs::symlink(&victim, &out).unwrap();
        write_atomically(&out, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        let m = std::fs::symlink_metadata(&out).unwrap();
        assert!(m.file_type().is_file(), "the link was replaced by a file");
        assert_eq!(m.mode() & 0o777, MODE);
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "new");
        let left: Vec<_> = std::fs::read_dir(d.path()).unwrap().collect();
        assert_eq!(left.len(), 2, "no temporary left");
    }

    #[test]
    fn a_failed_write_leaves_nothing() {
        let d = dir();
        let out = d.path().join("x.tar.gz");
        let err = write_atomically_with(&out, |_| anyhow::bail!("boom")).unwrap_err();
        assert!(format!("{err:#}").contains("boom"));
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 0);
    }

    #[test]
    fn partials_of_gone_owners_are_swept_and_nothing_else() {
        let d = dir();
        // A pid that is not running: past the kernel's pid_max.
        let dead = d.path().join(".x.tar.gz.partial-4194305-abcdef");
        let mine = d
            .path()
            .join(format!(".x.tar.gz.partial-{}-abcdef", std::process::id()));
        let other = d.path().join("x.tar.gz");
        let link = d.path().join(".y.partial-4194305-abcdef");
        for p in [&dead, &mine, &other] {
            std::fs::write(p, "x").unwrap();
        }
        std::os::unix::fs::symlink(&other, &link).unwrap();
        let removed = sweep_partials(d.path());
        assert_eq!(removed, [".x.tar.gz.partial-4194305-abcdef"]);
        assert!(!dead.exists() && mine.exists() && other.exists());
        assert!(
            std::fs::symlink_metadata(&link).is_ok(),
            "a link is not ours to remove"
        );
    }

    #[test]
    fn targets_are_checked_before_work() {
        let d = dir();
        let e = check_target(d.path(), "--out").unwrap_err().to_string();
        assert!(e.contains("is a directory"), "{e}");
        let e = check_target(&d.path().join("no/such/x.tar.gz"), "--out")
            .unwrap_err()
            .to_string();
        assert!(e.contains("create it first"), "{e}");
        check_target(&d.path().join("ok.tar.gz"), "--out").unwrap();
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 0);
    }

    #[test]
    fn streamed_files_appear_only_when_finished() {
        let d = dir();
        let out = d.path().join("trace.json");
        let (mut f, s) = streamed(&out).unwrap();
        f.write_all(b"[]").unwrap();
        assert!(!out.exists());
        s.finish().unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "[]");
    }

    #[test]
    fn private_dirs_are_real_directories_nobody_else_writes() {
        let d = dir();
        let mine = d.path().join("run/tare");
        assert!(private_dir(&mine));
        assert_eq!(std::fs::metadata(&mine).unwrap().mode() & 0o777, 0o700);
        let open = d.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(!private_dir(&open), "world-writable");
        let link = d.path().join("link");
        std::os::unix::fs::symlink(&mine, &link).unwrap();
        assert!(
            !private_dir(&link),
            "a link to a private directory is not one"
        );
    }

    #[test]
    fn appends_refuse_a_link() {
        let d = dir();
        let victim = d.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let link = d.path().join("samples.jsonl");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        assert!(open_append(&link).is_err());
        assert!(create_nofollow(&link).is_err());
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
    }
}
