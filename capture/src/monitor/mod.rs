//! Loads the eBPF programs, attaches them, and consumes their ring buffer.
//!
//! ```no_run
//! # async fn demo(cg: &tare::cgroup::SessionCgroup) -> Result<(), tare::monitor::MonitorError> {
//! use tare::monitor::{Monitor, MonitorConfig};
//! // Fork the child into the cgroup first: it parks before exec while the programs load.
//! let prepared = tare::spawn::prepare(&["make".to_string()], cg, false).expect("fork");
//! let mon = Monitor::start(MonitorConfig::new(cg.id(), cg.level()))?;
//! let mut child = prepared.start().expect("exec");
//! let _ended = child.wait_with(None).await.expect("wait");
//! cg.kill_all(); // leftovers: the counters are final only once the cgroup is empty
//! cg.wait_empty(std::time::Duration::from_secs(5)).expect("empty");
//! let out = mon.finish().await?;
//! assert!(out.counters.is_complete());
//! # Ok(()) }
//! ```
//!
//! Accounting: the kernel counts, per kind, events seen (passed the cgroup
//! filter), submitted (written to the ring buffer) and dropped (ring buffer
//! full). Userspace counts what it received. [`Monitor::finish`] drains until
//! received == submitted for every kind, with a deadline instead of a sleep.

pub mod attach;
pub mod btf;
pub mod decode;
pub mod load;
pub mod ringbuf;

use std::collections::BTreeMap;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::time::{Duration, Instant};

use aya::maps::{MapData, PerCpuArray};
use capture_ebpf::{counter_index, CTR_DROPPED, CTR_SEEN, CTR_SUBMITTED, NUM_KINDS};
use report_model::schema::health::SyscallHooks;
use report_model::schema::kernel_event::{EventKind, KernelEvent};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use self::btf::{BtfError, KernelOffsets};
use self::ringbuf::{drain, Consumer, Received, Sink};
use crate::spool::KernelSpool;

pub use capture_ebpf::DEFAULT_RINGBUF_BYTES;

/// How long [`Monitor::finish`] waits for the ring buffer to deliver everything.
pub const DEFAULT_DRAIN_DEADLINE: Duration = Duration::from_secs(5);

/// Where the kernel's BTF is read from (for the few struct offsets the programs need).
pub const KERNEL_BTF: &str = "/sys/kernel/btf/vmlinux";

/// What to watch and how much to buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonitorConfig {
    /// Id of the session cgroup (see `SessionCgroup::id`).
    pub session_cgroup_id: u64,
    /// Its level, root = 0 (see `SessionCgroup::level`).
    pub session_level: u32,
    /// Ring buffer bytes: a power of two and a page multiple.
    pub ringbuf_bytes: u32,
    /// How to hook the traced syscalls.
    pub syscall_hooks: HookChoice,
}

/// How to hook the traced syscalls (`tare capture --syscall-hooks`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HookChoice {
    /// fexit where the kernel allows it, else the BTF-typed tracepoint, else the raw one
    /// (said in run.json's notes).
    #[default]
    Auto,
    /// fexit or an error.
    Fexit,
    /// The BTF-typed `sys_exit` tracepoint, which every syscall on the host runs.
    BtfTracepoint,
    /// The raw `sys_exit` tracepoint, which every syscall on the host runs.
    RawTracepoint,
}

impl MonitorConfig {
    /// A config with the default ring buffer ([`DEFAULT_RINGBUF_BYTES`]).
    pub fn new(session_cgroup_id: u64, session_level: u32) -> Self {
        MonitorConfig {
            session_cgroup_id,
            session_level,
            ringbuf_bytes: DEFAULT_RINGBUF_BYTES,
            syscall_hooks: HookChoice::Auto,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    #[error("this tare was built without its eBPF programs (TARE_SKIP_EBPF=1); rebuild after running scripts/setup.sh")]
    NotBuilt,
    #[error("{what}: loading eBPF programs needs root (CAP_BPF + CAP_PERFMON); run tare with sudo ({detail})")]
    Permission { what: String, detail: String },
    #[error("{what}: {detail}")]
    Kernel { what: String, detail: String },
    #[error("reading kernel struct offsets: {0}")]
    Btf(#[from] BtfError),
    #[error("invalid monitor configuration: {0}")]
    Config(String),
    #[error("Monitor::start must be called inside a tokio runtime with I/O enabled")]
    NoRuntime,
    #[error("ring buffer consumer failed: {0}")]
    Consumer(String),
    #[error("the ring buffer did not deliver everything the kernel submitted within {waited:?}: {pending}")]
    NotConverged { waited: Duration, pending: String },
}

/// The four numbers of one event kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KindCounters {
    /// Passed the session filter in the kernel.
    pub seen: u64,
    /// Written to the ring buffer.
    pub submitted: u64,
    /// Lost in the kernel (ring buffer full).
    pub dropped: u64,
    /// Received by userspace.
    pub delivered: u64,
}

/// Counters per kind, every kind present.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MonitorCounters {
    pub kinds: BTreeMap<EventKind, KindCounters>,
}

impl MonitorCounters {
    /// Sum over kinds.
    pub fn total(&self) -> KindCounters {
        self.kinds
            .values()
            .fold(KindCounters::default(), |a, k| KindCounters {
                seen: a.seen + k.seen,
                submitted: a.submitted + k.submitted,
                dropped: a.dropped + k.dropped,
                delivered: a.delivered + k.delivered,
            })
    }

    /// `complete` in DESIGN §3: everything seen was delivered, nothing dropped.
    pub fn is_complete(&self) -> bool {
        self.kinds
            .values()
            .all(|k| k.seen == k.delivered && k.dropped == 0)
    }

    fn from_parts(kernel: &[(u64, u64, u64)], delivered: &[u64]) -> Self {
        let kinds = EventKind::ALL
            .iter()
            .enumerate()
            .map(|(i, &k)| {
                let (seen, submitted, dropped) = kernel.get(i).copied().unwrap_or_default();
                (
                    k,
                    KindCounters {
                        seen,
                        submitted,
                        dropped,
                        delivered: delivered.get(i).copied().unwrap_or(0),
                    },
                )
            })
            .collect();
        MonitorCounters { kinds }
    }
}

/// Where the monitor's fixed cost went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MonitorTimings {
    /// Reading the kernel struct offsets (part of `load`, overlapped with map creation).
    pub btf: Duration,
    /// Everything before attaching: object, offsets, maps, verification.
    pub load: Duration,
    /// The parts of `load`.
    pub detail: load::LoadTimings,
    /// Attaching the programs and starting the consumer.
    pub attach: Duration,
    /// In `finish`: from the call until everything submitted was received.
    pub drain: Duration,
}

/// What a finished monitor hands back.
pub struct MonitorOutput {
    /// Decoded events in receive order (empty when they were spooled).
    pub events: Vec<KernelEvent>,
    /// The spool the events were written to, when the monitor was started with one.
    pub spool: Option<KernelSpool>,
    pub counters: MonitorCounters,
    /// Records that reached userspace but did not decode.
    pub decode_errors: u64,
    pub first_decode_error: Option<String>,
    pub timings: MonitorTimings,
    /// Kernel ids the programs had (gone once this is returned).
    pub program_ids: Vec<u32>,
    /// How the syscalls were hooked.
    pub syscall_hooks: SyscallHooks,
    /// Why the hooks are not the preferred ones, when they are not.
    pub notes: Vec<String>,
    /// Detaching and unloading, still under way on a thread: the programs are gone once it
    /// is waited for or dropped.
    pub detach: Detach,
}

/// The kernel objects of a running capture; dropping it detaches (links
/// first), then unloads the programs and frees the maps.
struct Kernel {
    links: Vec<OwnedFd>,
    programs: Vec<OwnedFd>,
    _maps: Vec<MapData>,
}

impl Drop for Kernel {
    fn drop(&mut self) {
        self.links.clear();
        self.programs.clear();
    }
}

/// The running kernel capture. Dropping it detaches and unloads everything.
pub struct Monitor {
    kernel: Option<Kernel>,
    counters: PerCpuArray<MapData, u64>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Consumer>>,
    timings: MonitorTimings,
    program_ids: Vec<u32>,
    syscall_hooks: SyscallHooks,
    notes: Vec<String>,
}

/// Maps made and programs verified, nothing attached yet (see [`Monitor::load`]); dropping
/// it unloads them.
pub struct Verified {
    loaded: load::Loaded,
    timings: MonitorTimings,
}

impl Verified {
    /// Attaches the programs and collects events in memory. Call inside a tokio runtime with
    /// I/O enabled.
    pub fn start(self) -> Result<Monitor, MonitorError> {
        self.start_with_sink(Sink::Collect(Vec::new()))
    }

    /// Attaches the programs and writes each event to `spool` as it arrives.
    pub fn start_spooled(self, spool: KernelSpool) -> Result<Monitor, MonitorError> {
        self.start_with_sink(Sink::Spool(Box::new(spool)))
    }

    fn start_with_sink(self, sink: Sink) -> Result<Monitor, MonitorError> {
        let rt = tokio::runtime::Handle::try_current().map_err(|_| MonitorError::NoRuntime)?;
        let Verified {
            mut loaded,
            mut timings,
        } = self;
        let t = Instant::now();
        let links = attach::attach_all(&mut loaded)?;
        let (ring, counters) = (loaded.ring, loaded.counters);
        let ring = {
            let _guard = rt.enter();
            // SAFETY: the RingBuf owns its map fd and keeps it open, unchanged, while the
            // AsyncFd owns the RingBuf.
            unsafe { AsyncFd::register_with_interest(ring, Interest::READABLE) }.map_err(|e| {
                let (_, e) = e.into_parts();
                load::classify("registering the ring buffer with tokio", &e)
            })?
        };
        let program_ids = attach::program_ids(&loaded.programs);
        let (syscall_hooks, notes) = (loaded.hooks, std::mem::take(&mut loaded.notes));
        let kernel = Kernel {
            links,
            programs: loaded.programs.into_iter().map(|p| p.fd).collect(),
            _maps: loaded.other_maps,
        };
        let (stop, stop_rx) = oneshot::channel();
        let consumer = Consumer {
            ring,
            rx: Received::new(sink),
            error: None,
        };
        let task = rt.spawn(consumer.run(stop_rx));
        timings.attach = t.elapsed();
        Ok(Monitor {
            kernel: Some(kernel),
            counters,
            stop: Some(stop),
            task: Some(task),
            timings,
            program_ids,
            syscall_hooks,
            notes,
        })
    }
}

/// Detaching the programs, unloading them and unmapping the ring buffer, on a thread of its
/// own so that the archive is written meanwhile. [`Detach::wait`] (or dropping it) joins it.
#[derive(Default)]
pub struct Detach {
    thread: Option<std::thread::JoinHandle<Duration>>,
}

impl Detach {
    fn spawn(objects: impl Send + 'static) -> Detach {
        let undo = move || {
            let t = Instant::now();
            drop(objects);
            t.elapsed()
        };
        // Where no thread can be made, the objects go with the refused closure, here.
        let thread = std::thread::Builder::new()
            .name("tare-detach".into())
            .spawn(undo)
            .ok();
        Detach { thread }
    }

    /// Waits until everything is detached and unloaded; how long the work took.
    pub fn wait(mut self) -> Duration {
        self.join()
    }

    fn join(&mut self) -> Duration {
        self.thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for Detach {
    fn drop(&mut self) {
        self.join();
    }
}

impl Monitor {
    /// Loads and attaches the programs and starts collecting events in memory.
    /// Call inside a tokio runtime with I/O enabled.
    pub fn start(cfg: MonitorConfig) -> Result<Monitor, MonitorError> {
        Self::start_with_sink(cfg, Sink::Collect(Vec::new()))
    }

    /// Like [`Monitor::start`], writing each event to `spool` as it arrives; `finish` hands
    /// the spool back in [`MonitorOutput::spool`].
    pub fn start_spooled(cfg: MonitorConfig, spool: KernelSpool) -> Result<Monitor, MonitorError> {
        Self::start_with_sink(cfg, Sink::Spool(Box::new(spool)))
    }

    fn start_with_sink(cfg: MonitorConfig, sink: Sink) -> Result<Monitor, MonitorError> {
        tokio::runtime::Handle::try_current().map_err(|_| MonitorError::NoRuntime)?;
        Self::load(cfg)?.start_with_sink(sink)
    }

    /// Creates the maps and verifies the programs, attaching nothing: the slow part of a
    /// start, which needs no runtime and may run on another thread while the session is
    /// prepared. [`Verified::start`] (or [`Verified::start_spooled`]) attaches them.
    pub fn load(cfg: MonitorConfig) -> Result<Verified, MonitorError> {
        if cfg.session_cgroup_id == 0 {
            return Err(MonitorError::Config("session cgroup id 0".into()));
        }
        let mut timings = MonitorTimings::default();
        let t = Instant::now();
        let (loaded, lt) = load::load(&cfg, Path::new(KERNEL_BTF), Path::new(btf::OFFSETS_CACHE))?;
        timings.load = t.elapsed();
        timings.btf = lt.offsets;
        timings.detail = lt;
        Ok(Verified { loaded, timings })
    }
    /// How the syscalls are hooked.
    pub fn syscall_hooks(&self) -> SyscallHooks {
        self.syscall_hooks
    }

    /// Load and attach timings (drain is filled in by `finish`).
    pub fn timings(&self) -> MonitorTimings {
        self.timings
    }

    /// Kernel ids of the attached programs.
    pub fn program_ids(&self) -> &[u32] {
        &self.program_ids
    }

    /// The kernel's (seen, submitted, dropped) per kind, summed over CPUs.
    pub fn kernel_counters(&self) -> Result<Vec<(u64, u64, u64)>, MonitorError> {
        read_counters(&self.counters)
    }

    /// Finishes with [`DEFAULT_DRAIN_DEADLINE`].
    pub async fn finish(self) -> Result<MonitorOutput, MonitorError> {
        self.finish_within(DEFAULT_DRAIN_DEADLINE).await
    }

    /// Drains the ring buffer until every kind's delivered count equals the
    /// kernel's submitted count, then detaches and unloads the programs on a thread of
    /// its own ([`MonitorOutput::detach`]).
    ///
    /// Call once the session cgroup has no tasks left, so the kernel counters
    /// are final. Errors with [`MonitorError::NotConverged`] after `deadline`.
    pub async fn finish_within(
        mut self,
        deadline: Duration,
    ) -> Result<MonitorOutput, MonitorError> {
        let t0 = Instant::now();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let task = self
            .task
            .take()
            .ok_or_else(|| MonitorError::Consumer("already finished".into()))?;
        let mut consumer = task
            .await
            .map_err(|e| MonitorError::Consumer(e.to_string()))?;
        if let Some(e) = consumer.error.take() {
            return Err(MonitorError::Consumer(e));
        }
        let kernel = loop {
            let kernel = read_counters(&self.counters)?;
            drain(consumer.ring.get_mut(), &mut consumer.rx);
            let converged = kernel
                .iter()
                .zip(consumer.rx.delivered.iter())
                .all(|(k, &d)| d >= k.1);
            if converged {
                // Quiescent producers: a second read confirms the numbers are final.
                let again = read_counters(&self.counters)?;
                if again == kernel {
                    break kernel;
                }
                continue;
            }
            let waited = t0.elapsed();
            if waited >= deadline {
                let pending = EventKind::ALL
                    .iter()
                    .zip(kernel.iter().zip(consumer.rx.delivered.iter()))
                    .filter(|(_, (k, &d))| d < k.1)
                    .map(|(kind, (k, d))| {
                        format!("{}: submitted {} delivered {}", kind.as_str(), k.1, d)
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(MonitorError::NotConverged { waited, pending });
            }
            let tick = (deadline - waited).min(Duration::from_millis(5));
            if let Ok(Ok(mut guard)) =
                tokio::time::timeout(tick, consumer.ring.readable_mut()).await
            {
                drain(guard.get_inner_mut(), &mut consumer.rx);
                guard.clear_ready();
            }
        };
        self.timings.drain = t0.elapsed();

        let Consumer { ring, rx, .. } = consumer;
        // Detaches the links, closes programs and maps, unmaps the ring: on its own thread.
        let detach = Detach::spawn((ring.into_inner(), self.kernel.take()));

        let counters = MonitorCounters::from_parts(&kernel, &rx.delivered);
        let (events, spool) = match rx.sink {
            Sink::Collect(v) => (v, None),
            Sink::Spool(s) => (Vec::new(), Some(*s)),
        };
        Ok(MonitorOutput {
            events,
            spool,
            counters,
            decode_errors: rx.decode_errors,
            first_decode_error: rx.first_error,
            timings: self.timings,
            program_ids: std::mem::take(&mut self.program_ids),
            syscall_hooks: self.syscall_hooks,
            notes: std::mem::take(&mut self.notes),
            detach,
        })
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
        self.kernel = None;
    }
}

fn read_counters(map: &PerCpuArray<MapData, u64>) -> Result<Vec<(u64, u64, u64)>, MonitorError> {
    let sum = |kind: u32, which: u32| -> Result<u64, MonitorError> {
        let v = map
            .get(&counter_index(kind, which), 0)
            .map_err(|e| load::classify("reading the kernel counters", &e))?;
        Ok(v.iter().sum())
    };
    (0..NUM_KINDS)
        .map(|k| {
            Ok((
                sum(k, CTR_SEEN)?,
                sum(k, CTR_SUBMITTED)?,
                sum(k, CTR_DROPPED)?,
            ))
        })
        .collect()
}

/// The syscall hooks a capture would take on this kernel, and why not better ones; `None`
/// without root or without the eBPF programs (for `tare doctor`).
pub fn probe_syscall_hooks() -> Option<(SyscallHooks, Vec<String>)> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 || !load::object_available() {
        return None;
    }
    let offs = kernel_offsets().ok()?;
    Some(load::probe_hooks(&offs))
}

/// Reads the kernel struct offsets the programs need (exposed for `tare doctor`).
pub fn kernel_offsets() -> Result<KernelOffsets, BtfError> {
    btf::kernel_offsets_cached(Path::new(KERNEL_BTF), Path::new(btf::OFFSETS_CACHE)).map(|(o, _)| o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_complete_and_totals() {
        let n = capture_ebpf::NUM_KINDS as u64;
        let kernel: Vec<(u64, u64, u64)> = (0..n).map(|i| (i, i, 0)).collect();
        let delivered: Vec<u64> = (0..n).collect();
        let c = MonitorCounters::from_parts(&kernel, &delivered);
        assert!(c.is_complete());
        assert_eq!(c.kinds.len(), EventKind::ALL.len());
        assert_eq!(c.kinds[&EventKind::Connect].seen, 7);
        assert_eq!(c.kinds[&EventKind::IoUring].seen, 9);
        assert_eq!(c.total().seen, n * (n - 1) / 2);
        let mut kernel = kernel;
        kernel[3] = (10, 8, 2);
        let mut delivered = delivered;
        delivered[3] = 8;
        let c = MonitorCounters::from_parts(&kernel, &delivered);
        assert!(!c.is_complete());
        assert_eq!(
            c.kinds[&EventKind::Open],
            KindCounters {
                seen: 10,
                submitted: 8,
                dropped: 2,
                delivered: 8
            }
        );
    }
}
