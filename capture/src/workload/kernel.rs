//! File pressure for kernel capture: N worker files written then read back, spread over W threads.
//!
//! File `i` (0..N) belongs to worker `i % W` and is named
//! `event-rate-sweep/worker-<w>-<i>.txt`. Each worker handles its files in increasing `i`:
//! create+truncate, write the whole payload, close; open, read it all back, compare, close.
//! The content is a function of `i` and the payload size only ([`file_content`]), so two runs
//! with the same knobs do the same system calls with the same bytes.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use super::WorkloadError;

/// The directory (under the workload directory) that holds the worker files.
pub const SWEEP_DIR: &str = "event-rate-sweep";

/// What to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelPlan {
    /// Number of files (N).
    pub files: u64,
    /// Worker threads (W >= 1).
    pub concurrency: u32,
    /// Bytes written to, then read from, each file (P).
    pub payload_bytes: usize,
}

/// What was done.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KernelOutcome {
    pub files_written: u64,
    pub bytes_written: u64,
    pub bytes_read: u64,
    /// Files handled by each worker, index = worker number.
    pub files_per_worker: Vec<u64>,
    /// Every file written, in index order (to remove them afterwards).
    pub paths: Vec<PathBuf>,
}

/// The worker that handles file `index`.
pub fn worker_of(index: u64, concurrency: u32) -> u32 {
    // The remainder is < concurrency, which is a u32.
    (index % u64::from(concurrency.max(1))) as u32
}

/// `worker-<w>-<i>.txt`.
pub fn file_name(worker: u32, index: u64) -> String {
    format!("worker-{worker}-{index}.txt")
}

/// `event-rate-sweep/worker-<w>-<i>.txt`, relative to the workload directory.
pub fn relative_path(index: u64, concurrency: u32) -> PathBuf {
    Path::new(SWEEP_DIR).join(file_name(worker_of(index, concurrency), index))
}

/// The file indexes of each worker, in the order it handles them.
pub fn assignment(files: u64, concurrency: u32) -> Vec<Vec<u64>> {
    let w = u64::from(concurrency.max(1));
    (0..w)
        .map(|worker| (worker..files).step_by(w as usize).collect())
        .collect()
}

/// The bytes of file `index`: the line `tare.workload file <index>\n` repeated and cut to
/// exactly `payload_bytes`.
pub fn file_content(index: u64, payload_bytes: usize) -> Vec<u8> {
    let line = format!("tare.workload file {index}\n");
    line.as_bytes()
        .iter()
        .copied()
        .cycle()
        .take(payload_bytes)
        .collect()
}

/// Writes and reads back every file of the plan under `root` (which must exist);
/// creates `root/event-rate-sweep` if missing.
pub fn run(root: &Path, plan: &KernelPlan) -> Result<KernelOutcome, WorkloadError> {
    let concurrency = plan.concurrency.max(1);
    let sweep = root.join(SWEEP_DIR);
    fs::create_dir_all(&sweep).map_err(|source| WorkloadError::Dir {
        path: sweep.clone(),
        source,
    })?;
    let work = assignment(plan.files, concurrency);
    let results: Vec<Result<WorkerTotals, WorkloadError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = work
            .iter()
            .enumerate()
            .filter(|(_, files)| !files.is_empty())
            .map(|(worker, files)| {
                let sweep = &sweep;
                std::thread::Builder::new()
                    .name(format!("tare-worker-{worker}"))
                    .spawn_scoped(scope, move || {
                        run_worker(sweep, worker as u32, files, plan.payload_bytes)
                    })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| match h {
                Ok(handle) => handle.join().unwrap_or_else(|_| {
                    Err(WorkloadError::Failed("a worker thread panicked".into()))
                }),
                Err(e) => Err(WorkloadError::Failed(format!(
                    "cannot start a worker thread: {e}"
                ))),
            })
            .collect()
    });
    let mut out = KernelOutcome {
        files_per_worker: work.iter().map(|f| f.len() as u64).collect(),
        paths: (0..plan.files)
            .map(|i| root.join(relative_path(i, concurrency)))
            .collect(),
        ..KernelOutcome::default()
    };
    for r in results {
        let t = r?;
        out.files_written += t.files;
        out.bytes_written += t.written;
        out.bytes_read += t.read;
    }
    Ok(out)
}

#[derive(Default)]
struct WorkerTotals {
    files: u64,
    written: u64,
    read: u64,
}

fn run_worker(
    sweep: &Path,
    worker: u32,
    files: &[u64],
    payload_bytes: usize,
) -> Result<WorkerTotals, WorkloadError> {
    let mut totals = WorkerTotals::default();
    let mut back = Vec::with_capacity(payload_bytes);
    for &index in files {
        let path = sweep.join(file_name(worker, index));
        let content = file_content(index, payload_bytes);
        write_file(&path, &content).map_err(|source| WorkloadError::Io {
            op: "cannot write",
            path: path.clone(),
            source,
        })?;
        back.clear();
        File::open(&path)
            .and_then(|mut f| f.read_to_end(&mut back))
            .map_err(|source| WorkloadError::Io {
                op: "cannot read back",
                path: path.clone(),
                source,
            })?;
        if back != content {
            return Err(WorkloadError::Mismatch {
                path,
                written: content.len() as u64,
                read: back.len() as u64,
            });
        }
        totals.files += 1;
        totals.written += content.len() as u64;
        totals.read += back.len() as u64;
    }
    Ok(totals)
}

fn write_file(path: &Path, content: &[u8]) -> io::Result<()> {
    // No fsync: the workload measures system calls, not the disk.
    File::create(path)?.write_all(content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_workers() {
        assert_eq!(file_name(2, 10), "worker-2-10.txt");
        assert_eq!(
            relative_path(10, 4),
            Path::new("event-rate-sweep/worker-2-10.txt")
        );
        assert_eq!(worker_of(7, 1), 0);
        assert_eq!(worker_of(7, 3), 1);
    }

    #[test]
    fn assignment_is_round_robin() {
        assert_eq!(
            assignment(10, 3),
            vec![vec![0, 3, 6, 9], vec![1, 4, 7], vec![2, 5, 8]]
        );
        assert_eq!(assignment(2, 4), vec![vec![0], vec![1], vec![], vec![]]);
        assert_eq!(assignment(0, 1), vec![Vec::<u64>::new()]);
    }

    #[test]
    fn content_is_deterministic_and_sized() {
        assert_eq!(file_content(3, 0), b"");
        assert_eq!(file_content(3, 5), b"tare.");
        let c = file_content(12, 100);
        assert_eq!(c.len(), 100);
        assert!(c.starts_with(b"tare.workload file 12\ntare.workload file 12\n"));
        assert_eq!(c, file_content(12, 100));
        assert_ne!(c, file_content(13, 100));
    }
}
