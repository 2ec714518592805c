//! kernel.ndjson written to an unlinked file as events arrive, with its length, sha256 and per-cgroup counts, and compressed behind the writer on an idle-priority thread: a capture holds no event in memory.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use report_model::bundle::{hex, Spooled};
use report_model::gzchunks::{self, ReadyMembers, CHUNK};
use report_model::redact::{self, Redactor, Tally};
use report_model::schema::kernel_event::{KernelEvent, LineWriter};
use sha2::{Digest, Sha256};

/// The member name of the kernel events in an archive.
pub const KERNEL_MEMBER: &str = "kernel.ndjson";

/// Kernel events as they arrive, one JSON line each, in a file nobody else can see.
pub struct KernelSpool {
    writer: BufWriter<File>,
    hasher: Sha256,
    bytes: u64,
    /// One event's line, reused: serde_json writes token by token, and hashing and
    /// buffering each token cost more than the event (the smoke gate saw +70% event_flush).
    line: Vec<u8>,
    lines: LineWriter,
    events: u64,
    by_cgroup: BTreeMap<u64, u64>,
    /// The first write or encoding error; later events are counted but not written.
    error: Option<io::Error>,
    ahead: Option<Precompressor>,
    /// Secrets in the events' strings are replaced before a line is written.
    redactor: Redactor,
    redacted: Tally,
    /// The last command name found clean: it changes only at exec, so it is checked once.
    clean_comm: String,
    /// Which processes were seen to start and end (to find those that left the cgroup).
    lifetimes: crate::leavers::Lifetimes,
}

impl KernelSpool {
    /// A spool in `dir` (the archive's directory, so it is on the archive's filesystem): the
    /// file is unlinked at once, so nothing is left behind whatever happens to tare.
    pub fn create(dir: &Path, redactor: Redactor) -> io::Result<KernelSpool> {
        let file = unlinked_file(dir)?;
        // Best effort: without it the archive is compressed whole at the end.
        let ahead = Precompressor::start(&file, dir).ok();
        Ok(KernelSpool {
            writer: BufWriter::with_capacity(64 << 10, file),
            hasher: Sha256::new(),
            bytes: 0,
            line: Vec::with_capacity(512),
            lines: LineWriter::default(),
            events: 0,
            by_cgroup: BTreeMap::new(),
            error: None,
            ahead,
            redactor,
            redacted: Tally::default(),
            clean_comm: String::new(),
            lifetimes: crate::leavers::Lifetimes::default(),
        })
    }

    /// Appends one event's line (the bytes `to_lines` gives for it); nothing is allocated
    /// per event once the line buffer has grown to the longest line.
    pub fn push(&mut self, ev: &KernelEvent) {
        self.events += 1;
        *self.by_cgroup.entry(ev.cgroup_id).or_default() += 1;
        self.lifetimes.observe(ev);
        if self.error.is_some() {
            return;
        }
        let comm_clean = ev.comm == self.clean_comm;
        if !comm_clean && !self.redactor.matches(&ev.comm) {
            self.clean_comm.clone_from(&ev.comm);
        }
        let ev = redact::event(&self.redactor, ev, comm_clean, &mut self.redacted);
        self.line.clear();
        let written = self
            .lines
            .write(&mut self.line, ev.as_ref())
            .and_then(|()| self.writer.write_all(&self.line));
        match written {
            Ok(()) => {
                self.hasher.update(&self.line);
                self.bytes += self.line.len() as u64;
            }
            Err(e) => self.error = Some(e),
        }
    }

    /// Which processes the events so far saw start and end.
    pub fn lifetimes(&self) -> &crate::leavers::Lifetimes {
        &self.lifetimes
    }

    /// What redaction replaced in the events so far.
    pub fn redacted(&self) -> &Tally {
        &self.redacted
    }

    /// Events pushed so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Events from a cgroup outside `allowed` (they should never pass the kernel filter).
    pub fn foreign(&self, allowed: &BTreeSet<u64>) -> u64 {
        self.by_cgroup
            .iter()
            .filter(|(id, _)| !allowed.contains(id))
            .map(|(_, n)| n)
            .sum()
    }

    /// The finished member, to pack; or the first error that kept an event out of it.
    pub fn finish(self) -> io::Result<Spooled> {
        let ready = self
            .ahead
            .map(|p| Box::new(p.stop()) as Box<dyn ReadyMembers>);
        if let Some(e) = self.error {
            return Err(e);
        }
        let mut file = self.writer.into_inner().map_err(|e| e.into_error())?;
        file.seek(SeekFrom::Start(0))?;
        Ok(Spooled {
            path: KERNEL_MEMBER.into(),
            bytes: self.bytes,
            sha256: hex(&self.hasher.finalize()),
            reader: Box::new(io::BufReader::with_capacity(64 << 10, file)),
            ready,
        })
    }
}

/// A new file in `dir`, open for reading and writing, with no name (`O_TMPFILE`, else an
/// exclusive random name unlinked at once): nothing is left behind whatever happens to tare,
/// nobody else can open it, and no link planted in `dir` is followed.
fn unlinked_file(dir: &Path) -> io::Result<File> {
    tempfile::tempfile_in(dir)
}

/// The bytes before kernel.ndjson in the archive's stream: its tar header (it is the first
/// member). So chunk `i >= 1` of the stream is spool bytes from `i * CHUNK - TAR_HEADER`.
/// Were the layout ever different, the members made ahead would not match their chunks and
/// the archive writer would compress those chunks itself.
const TAR_HEADER: u64 = 512;

/// Spool bytes `[start, end)` of the stream's chunk `index` (>= 1).
fn chunk_range(index: u64) -> (u64, u64) {
    let start = index * CHUNK as u64 - TAR_HEADER;
    (start, start + CHUNK as u64)
}

/// Compresses each chunk of the spool as soon as it is complete, while the workload runs,
/// on a thread at idle priority (`SCHED_IDLE`: it takes only CPU that nothing else wants,
/// so neither the workload nor the event consumer waits for it).
struct Precompressor {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Ahead>,
}

/// The members made ahead: an unlinked file of them, and where each is.
struct Ahead {
    file: Option<File>,
    /// (chunk index, offset in `file`, length).
    members: Vec<(u64, u64, usize)>,
}

impl ReadyMembers for Ahead {
    fn take(&mut self, index: u64) -> Option<Vec<u8>> {
        let &(_, at, len) = self.members.iter().find(|(i, _, _)| *i == index)?;
        let mut buf = vec![0; len];
        self.file.as_ref()?.read_exact_at(&mut buf, at).ok()?;
        Some(buf)
    }
}

impl Precompressor {
    fn start(spool: &File, dir: &Path) -> io::Result<Precompressor> {
        let src = spool.try_clone()?;
        let out = unlinked_file(dir)?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("tare-precompress".into())
            .spawn(move || {
                // SAFETY: sched_setscheduler on the calling thread (pid 0) with a valid param
                // (all zero: priority 0, and musl's extra sporadic-server fields unused).
                unsafe {
                    let param: libc::sched_param = std::mem::zeroed();
                    libc::sched_setscheduler(0, libc::SCHED_IDLE, &param);
                }
                let mut ahead = Ahead {
                    file: None,
                    members: Vec::new(),
                };
                let _ = compress_behind(&src, &out, &flag, &mut ahead.members);
                ahead.file = Some(out);
                ahead
            })?;
        Ok(Precompressor { stop, thread })
    }

    /// Stops after the chunk in hand and returns what was made.
    fn stop(self) -> Ahead {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.thread().unpark();
        let a = self.thread.join().unwrap_or(Ahead {
            file: None,
            members: Vec::new(),
        });
        tracing::info!(target: "tare::spool", members = a.members.len() as i64, "gzip members compressed while the workload ran");
        a
    }
}

/// Compresses chunk after chunk of `src` into `out` as `src` grows, until `stop`.
fn compress_behind(
    src: &File,
    out: &File,
    stop: &AtomicBool,
    members: &mut Vec<(u64, u64, usize)>,
) -> io::Result<()> {
    let mut index = 1;
    let mut written = 0u64;
    let mut chunk = vec![0; CHUNK];
    while !stop.load(Ordering::Relaxed) {
        let (start, end) = chunk_range(index);
        if src.metadata()?.len() < end {
            std::thread::park_timeout(Duration::from_millis(20));
            continue;
        }
        src.read_exact_at(&mut chunk, start)?;
        let member = gzchunks::member(&chunk)?;
        out.write_all_at(&member, written)?;
        members.push((index, written, member.len()));
        written += member.len() as u64;
        index += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use report_model::bundle::sha256_hex;
    use report_model::schema::kernel_event::{to_lines, EventDetail};
    use std::io::Read;

    fn ev(seq: u64, cgroup_id: u64) -> KernelEvent {
        KernelEvent {
            seq,
            ts_ns: 1000 + seq,
            pid: 7,
            tid: 7,
            ppid: Some(1),
            cgroup_id,
            comm: "w".into(),
            detail: EventDetail::Exit {
                code: Some(0),
                signal: None,
            },
        }
    }

    #[test]
    fn spools_what_to_lines_writes_and_leaves_no_file() {
        let dir = std::env::temp_dir().join(format!("tare-spool-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let events: Vec<KernelEvent> = (0..5000).map(|i| ev(i, 10 + i % 3)).collect();
        let mut spool = KernelSpool::create(&dir, Redactor::new(&[]).unwrap()).unwrap();
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            0,
            "unlinked at once"
        );
        for e in &events {
            spool.push(e);
        }
        assert_eq!(spool.events(), 5000);
        assert_eq!(spool.foreign(&BTreeSet::from([10, 11])), 1666);
        let expected = to_lines(&events);
        let mut s = spool.finish().unwrap();
        assert_eq!(s.bytes, expected.len() as u64);
        assert_eq!(s.sha256, sha256_hex(expected.as_bytes()));
        let mut back = String::new();
        s.reader.read_to_string(&mut back).unwrap();
        assert_eq!(back, expected);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_directory_that_cannot_hold_it_is_an_error() {
        let missing = std::env::temp_dir().join("tare-spool-no-such-dir/x");
        assert!(KernelSpool::create(&missing, Redactor::off()).is_err());
    }
}
