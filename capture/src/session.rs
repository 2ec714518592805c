//! One capture, phase by phase: preflight, cgroup, monitor, child, drain, archive, cleanup.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use report_model::redact::{Redactor, Tally};
use report_model::schema::health::{Health, KindCounters, TareSetup};
use report_model::schema::phases::Phases;
use report_model::schema::run::{describe_killed_at_end, ClockPair, ExitInfo, Run};
use report_model::schema::Versioned;

use crate::archive;
use crate::cgroup::SessionCgroup;
use crate::monitor::{HookChoice, Monitor, MonitorConfig, MonitorCounters, MonitorOutput};
use crate::phases::PhaseClock;
use crate::sampler::{self, Sampler};
use crate::spool::KernelSpool;
use crate::treewatch::TreeWatch;
use crate::{hostinfo, leavers, preflight, resources, spawn};
use tracing::field::Empty;

/// What to capture and where to put it.
#[derive(Debug, Clone)]
pub struct CaptureOptions {
    pub command: Vec<String>,
    /// Archive path; default `./<run-id>.tar.gz`.
    pub out: Option<PathBuf>,
    pub ringbuf_bytes: u32,
    /// Kill the child after this long (the archive is still written, marked).
    pub timeout: Option<Duration>,
    /// The workload's OTLP JSON trace, added to the archive.
    pub trace: Option<PathBuf>,
    /// How often the resource timeline (metrics.ndjson) is sampled.
    pub sample_interval: Duration,
    /// How the traced syscalls are hooked.
    pub syscall_hooks: HookChoice,
    /// What is redacted before anything is written.
    pub redactor: Redactor,
}

/// What a capture produced.
#[derive(Debug)]
pub struct Captured {
    pub archive: PathBuf,
    pub run: Run,
    pub health: Health,
    /// Every phase, `archive_write` whole (phases.json holds it up to its own writing).
    pub phases: Phases,
    pub archive_bytes: u64,
    pub events: usize,
}

/// A run id from the wall clock and pid: `run-20261122-231000-4242`.
pub fn new_run_id() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!("run-{}-{}", utc_stamp(secs), std::process::id())
}

/// One instant on the realtime, the monotonic and the capture's clock: the closest of
/// three tries of a monotonic read between two realtime reads.
pub fn clock_pair(capture: &PhaseClock) -> Option<ClockPair> {
    let read = |clock: libc::clockid_t| {
        let mut t = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime fills the timespec it is given.
        let ok = unsafe { libc::clock_gettime(clock, &mut t) } == 0;
        ok.then(|| t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64)
    };
    (0..3)
        .filter_map(|_| {
            let r1 = read(libc::CLOCK_REALTIME)?;
            let m = read(libc::CLOCK_MONOTONIC)?;
            let capture_ns = capture.elapsed_ns();
            let r2 = read(libc::CLOCK_REALTIME)?.max(r1);
            Some(ClockPair {
                realtime_ns: r1 + (r2 - r1) / 2,
                monotonic_ns: m,
                uncertainty_ns: (r2 - r1).div_ceil(2),
                capture_ns,
            })
        })
        .min_by_key(|p| p.uncertainty_ns)
}

/// `YYYYMMDD-HHMMSS` in UTC for Unix seconds.
pub fn utc_stamp(secs: u64) -> String {
    let t = i64::try_from(secs)
        .ok()
        .and_then(|s| jiff::Timestamp::from_second(s).ok())
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    t.strftime("%Y%m%d-%H%M%S").to_string()
}

/// The health file from the monitor's counters: the only way it is built.
pub fn health_of(counters: &MonitorCounters, foreign_events: u64, notes: Vec<String>) -> Health {
    let rows = counters
        .kinds
        .iter()
        .map(|(kind, c)| KindCounters {
            kind: *kind,
            seen: c.seen,
            submitted: c.submitted,
            dropped: c.dropped,
            delivered: c.delivered,
        })
        .collect();
    Health::from_counters(rows, foreign_events, notes)
}

/// Runs a whole capture. Blocks; builds its own single-threaded tokio runtime.
pub fn capture(opts: &CaptureOptions, clock: &PhaseClock) -> Result<Captured> {
    if opts.command.is_empty() {
        bail!("no command to run: tare capture [OPTIONS] -- COMMAND [ARGS...]");
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(capture_async(opts, clock))
}

async fn capture_async(opts: &CaptureOptions, clock: &PhaseClock) -> Result<Captured> {
    let run_id = new_run_id();
    let clock_pair = clock_pair(clock);
    let started_unix_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .ok();
    let out = opts
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{run_id}.tar.gz")));
    let program = opts
        .redactor
        .text("--trace-chrome", &opts.command[0], &mut Tally::default())
        .into_owned();
    let capture_span = tracing::info_span!(target: "tare::capture", "capture", run_id = %run_id, program = %program, out = %out.display(), pid = Empty).entered();

    {
        let _p = clock.phase("preflight");
        let checks = preflight::judge(&preflight::gather());
        if !preflight::can_capture(&checks) {
            let mut msg = String::from("capture cannot run on this machine:");
            for c in checks
                .iter()
                .filter(|c| c.status == preflight::Status::Fail)
            {
                msg.push_str(&format!("\n  {}: {}", c.name, c.detail));
                if let Some(fix) = &c.fix {
                    msg.push_str(&format!("\n    fix: {fix}"));
                }
            }
            msg.push_str("\n(run `tare doctor` for the full table)");
            bail!(msg);
        }
    };
    // Where the archive goes is checked before anything runs: a workload is not run for an
    // archive that cannot be written.
    crate::outfile::check_target(&out, "--out")?;

    // The session: its cgroup, then, while the programs load and verify on a thread of
    // their own, the tree watch and the child forked into the cgroup and parked before
    // exec. The programs are attached only once the child is parked, so that tare's own
    // steps (joining the v1 memory cgroup) are not recorded as the workload's: its first
    // event is its exec.
    // Caveats of the run's own figures (not of the kernel layer): run.json's notes.
    let mut run_notes = Vec::new();
    let (cg, watch, prepared, loading, host) = {
        let _p = clock.phase("cgroup_prepare");
        // What a killed tare left (its cgroups, its workload's descendants) goes first.
        run_notes.extend(crate::stale::sweep());
        let cg = SessionCgroup::create(&run_id).context("cannot create the session cgroup")?;
        let cfg = MonitorConfig {
            ringbuf_bytes: opts.ringbuf_bytes,
            syscall_hooks: opts.syscall_hooks,
            ..MonitorConfig::new(cg.id(), cg.level())
        };
        let parent = tracing::Span::current();
        let loading = std::thread::Builder::new()
            .name("tare-load".into())
            .spawn(move || {
                tracing::info_span!(target: "tare::capture", parent: &parent, "monitor_load")
                    .in_scope(|| {
                        // Every map is made by now: what they hold of the kernel's memory.
                        Monitor::load(cfg).map(|v| (v, resources::own_bpf_map_bytes()))
                    })
            })
            .context("cannot start a thread to load the eBPF programs")?;
        let watch = match TreeWatch::start() {
            Ok(w) => Some(w),
            Err(e) => {
                run_notes.push(format!(
                    "peak RSS is wait4's ru_maxrss, which also counts tare's memory copied at fork: {e}"
                ));
                None
            }
        };
        let prepared = spawn::prepare(&opts.command, &cg, false)
            .with_context(|| format!("cannot start `{}`", opts.command[0]))?;
        if let (Some(w), Some(pid)) = (&watch, prepared.pid()) {
            w.follow(pid);
        }
        (cg, watch, prepared, loading, hostinfo::current())
    };

    let (monitor, tare_kernel_bytes) = {
        let _p = clock.phase("monitor_attach");
        // Events go to a spool beside the archive as they arrive, not into memory.
        let dir = crate::outfile::dir_of(&out);
        let spool = KernelSpool::create(&dir, opts.redactor.clone()).map_err(|e| {
            anyhow::anyhow!(
                "cannot write in {}, where the archive goes: {e}",
                dir.display()
            )
        })?;
        let span = tracing::info_span!(target: "tare::capture", "monitor_start", ringbuf_bytes = i64::from(opts.ringbuf_bytes), programs = Empty, btf_us = Empty, load_us = Empty, attach_us = Empty).entered();
        let (verified, tare_kernel_bytes) = loading
            .join()
            .map_err(|_| anyhow::anyhow!("the thread loading the eBPF programs panicked"))?
            .context("cannot start kernel capture")?;
        prepared.wait_parked();
        let m = verified
            .start_spooled(spool)
            .context("cannot start kernel capture")?;
        let t = m.timings();
        span.record("programs", m.program_ids().len() as i64);
        span.record("btf_us", t.btf.as_micros() as i64);
        span.record("load_us", t.load.as_micros() as i64);
        span.record("attach_us", t.attach.as_micros() as i64);
        (m, tare_kernel_bytes)
    };

    let mut child = {
        let _p = clock.phase("child_spawn");
        let child = prepared
            .start()
            .with_context(|| format!("cannot start `{}`", opts.command[0]))?;
        if let Some(w) = &watch {
            // Kernels without clone3 know the pid only now (a no-op when it is followed).
            w.follow(child.pid());
        }
        child
    };
    let child_started = std::time::Instant::now();
    capture_span.record("pid", i64::from(child.pid()));
    // The resource timeline, on the capture's clock (the one of phases.json).
    let child_t_ns = clock.elapsed_ns();
    let origin = child_started
        .checked_sub(Duration::from_nanos(child_t_ns))
        .unwrap_or(child_started);
    let sampler = Sampler::start(
        sampler::Sources::for_cgroup(&cg),
        opts.sample_interval,
        origin,
        child_t_ns,
    )
    .context("cannot start the resource sampler")?;

    // The tree's processes (by fork ancestry, from the tree watch), and what redaction
    // replaced in the names of those killed at the end.
    let mut members = BTreeSet::new();
    let mut end_tally = Tally::default();
    let (ended, killed_at_end, samples, tree, mut notes) = {
        let _p = clock.phase("child_runtime");
        let mut notes = Vec::new();
        let waited = child.wait_with(opts.timeout).await;
        let samples = {
            let span =
                tracing::info_span!(target: "tare::capture", "sampler_stop", samples = Empty)
                    .entered();
            let samples = sampler.stop();
            span.record("samples", samples.len() as i64);
            samples
        };
        let waited = waited?;
        if waited.timed_out {
            notes.push(format!(
                "the child outlived --timeout {:?} and was killed",
                opts.timeout.unwrap_or_default()
            ));
        }
        if waited.interrupted {
            notes.push("interrupted by Ctrl-C (SIGINT/SIGTERM): the run is incomplete".into());
        }
        // Anything the child left behind in the cgroup goes too: the counters must be final.
        // What still ran is named first (daemons the command started).
        let mut killed =
            leavers::outlived_in_cgroup(&cg.pids(), child.pid(), &opts.redactor, &mut end_tally);
        cg.kill_all();
        cg.wait_empty(Duration::from_secs(5))
            .context("tasks of the session cgroup would not exit")?;
        // Processes of the tree that left the cgroup, still running outside it, go too.
        if let Some(w) = &watch {
            // Each round's snapshot also gives the tree's members: the last one is kept.
            let (outside, unkilled) = leavers::kill_outside(
                || {
                    w.snapshot().map(|(m, alive, lost)| {
                        members = m;
                        (alive, lost)
                    })
                },
                &opts.redactor,
                &mut end_tally,
            );
            killed.extend(outside);
            if !unkilled.is_empty() {
                run_notes.push(format!(
                    "{} process(es) that left the session's cgroup may still run (pids {:?}): \
                     fork or exit notices were lost, so tare did not kill them by pid",
                    unkilled.len(),
                    unkilled
                ));
            }
        }
        // Every process of the tree has exited: its exit notices are all queued.
        let tree = match watch.map(TreeWatch::finish).transpose() {
            Ok(t) => t,
            Err(e) => {
                run_notes.push(format!(
                    "the tree watch failed, so peak RSS is wait4's: {e}"
                ));
                None
            }
        };
        if tree.as_ref().is_some_and(|t| t.lost) {
            run_notes.push(
                "fork or exit notices were lost (socket overflow): peak RSS may be low".into(),
            );
        }
        (waited, killed, samples, tree, notes)
    };
    let child_ns = child_started.elapsed().as_nanos() as u64;

    let (mut output, spool): (MonitorOutput, KernelSpool) = {
        let _p = clock.phase("event_flush");
        let span = tracing::info_span!(target: "tare::capture", "drain", events = Empty, seen = Empty, dropped = Empty, decode_errors = Empty).entered();
        let mut out = monitor.finish().await.context("draining the ring buffer")?;
        let spool = out.spool.take().context("the kernel event spool is gone")?;
        let total = out.counters.total();
        span.record("events", spool.events() as i64);
        span.record("seen", total.seen as i64);
        span.record("dropped", total.dropped as i64);
        span.record("decode_errors", out.decode_errors as i64);
        (out, spool)
    };
    if output.decode_errors > 0 {
        notes.push(format!(
            "{} records did not decode (first: {})",
            output.decode_errors,
            output.first_decode_error.as_deref().unwrap_or("?")
        ));
    }

    let left = spool.lifetimes().left(child.pid(), &members);
    let allowed = subtree_ids(cg.path());
    let foreign = spool.foreign(&allowed);
    let events = spool.events();
    let spool_redacted = spool.redacted().clone();
    let kernel = spool.finish().map_err(|e| {
        anyhow::anyhow!(
            "cannot write the kernel events beside {}: {e}{}",
            out.display(),
            crate::outfile::full_disk_hint(&e)
        )
    })?;
    // What redaction replaced, by place: the events' strings so far, then the rest.
    let mut redacted = spool_redacted;
    redacted.absorb(&end_tally);
    let r = &opts.redactor;
    let trace = match &opts.trace {
        Some(p) => match std::fs::read(p) {
            Ok(b) => {
                let b = r.bytes("trace.json", &b, &mut redacted);
                match trace_member(&b) {
                    Ok((t, note)) => {
                        notes.extend(note);
                        Some(t)
                    }
                    Err(why) => {
                        notes.push(format!("trace.json left out: {}: {why}", p.display()));
                        None
                    }
                }
            }
            Err(e) => {
                notes.push(format!("no trace at {}: {e}", p.display()));
                None
            }
        },
        None => None,
    };
    let notes: Vec<String> = notes
        .iter()
        .map(|n| r.text("notes", n, &mut redacted).into_owned())
        .collect();
    let mut health = health_of(&output.counters, foreign, notes.clone());
    if let Some(b) = leavers::blind_spot(&left) {
        health.add_blind_spot(b);
    }
    health.tare_setup = Some(TareSetup::BeforeCapture);
    health.syscall_hooks = Some(output.syscall_hooks);
    run_notes.extend(output.notes.iter().cloned());
    run_notes.extend(describe_killed_at_end(&killed_at_end));
    let run_notes = run_notes
        .iter()
        .map(|n| r.text("notes", n, &mut redacted).into_owned())
        .collect();
    let command = r.argv("run.json:command", &opts.command, &mut redacted);
    let metrics = {
        let text = sampler::to_ndjson(&samples)?;
        r.text("metrics.ndjson", &text, &mut redacted).into_owned()
    };
    let mut run = Run {
        schema: Run::SCHEMA.into(),
        run_id: run_id.clone(),
        command,
        exit: ExitInfo {
            code: ended.code,
            signal: ended.signal,
            timed_out: ended.timed_out,
            interrupted: ended.interrupted,
        },
        total_ns: 0,
        child_ns,
        started_unix_ms,
        workload_peak_rss: resources::workload_peak(tree.as_ref(), None, ended.max_rss_kb),
        workload_memory_peak: resources::memory_peak(cg.peak_memory()),
        workload_cpu: Some(ended.cpu),
        tare_peak_rss_bytes: 0,
        tare_cpu: None,
        tare_kernel_bytes: Some(tare_kernel_bytes),
        host_class: host.host_class.clone(),
        tare_version: hostinfo::VERSION.into(),
        notes: run_notes,
        redaction: Some(r.report(&redacted)),
        clock: clock_pair,
        killed_at_end,
    };

    // The programs detach on a thread of their own while the archive is written.
    let detach = std::mem::take(&mut output.detach);
    let archive_bytes = {
        let phase = clock.phase("archive_write");
        let bulk = archive::Bulk {
            kernel,
            trace,
            metrics: Some(metrics),
        };
        let run = &mut run;
        let bytes = archive::write(&out, &run_id, bulk, || {
            // The big members are in: what is measured now covers their writing.
            let phases = phase.snapshot_open(NOT_COUNTED);
            run.total_ns = phases.total_ns;
            run.tare_peak_rss_bytes = resources::own_peak_rss_bytes();
            run.tare_cpu = Some(resources::own_cpu());
            Ok(archive::Reports {
                run: run.clone(),
                phases,
                health: health.clone(),
                notes,
            })
        })?;
        let span = tracing::info_span!(target: "tare::capture", "detach", us = Empty).entered();
        span.record("us", detach.wait().as_micros() as i64);
        bytes
    };
    cg.remove().context("cannot remove the session cgroup")?;
    Ok(Captured {
        archive: out,
        archive_bytes,
        run,
        health,
        phases: clock.snapshot(),
        events: events as usize,
    })
}

/// The workload's trace as the archive keeps it: OTLP JSON, which is UTF-8, as `tare verify`
/// checks. Bytes that are not UTF-8 become U+FFFD (with a note saying how many); a file that
/// is not OTLP JSON at all is refused, and the capture keeps it out with the reason.
pub fn trace_member(bytes: &[u8]) -> Result<(Vec<u8>, Option<String>), String> {
    let odd = bytes
        .utf8_chunks()
        .filter(|c| !c.invalid().is_empty())
        .count();
    let text = String::from_utf8_lossy(bytes);
    report_model::schema::otlp::parse_otlp_json("trace.json", &text)
        .map_err(|e| format!("not OTLP JSON ({e})"))?;
    let note = (odd > 0).then(|| {
        format!("trace.json: {odd} byte sequence(s) that are not UTF-8 were replaced with U+FFFD")
    });
    Ok((text.into_owned().into_bytes(), note))
}

/// What phases.json cannot hold of `archive_write`.
pub const NOT_COUNTED: &str = "archive_write up to the writing of phases.json: the small members after the kernel events, trace and metrics (run.json, phases.json, health.json, manifest.json), the gzip trailer, fsync and rename are not counted here; the summary line and --trace-chrome hold the whole phase";

/// Ids (inode numbers) of a cgroup directory and every cgroup below it.
pub fn subtree_ids(dir: &Path) -> BTreeSet<u64> {
    use std::os::unix::fs::MetadataExt;
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        if let Ok(m) = std::fs::metadata(&d) {
            out.insert(m.ino());
        }
        if let Ok(entries) = std::fs::read_dir(&d) {
            for e in entries.flatten() {
                if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                    stack.push(e.path());
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traces_are_kept_as_utf8_otlp_json_or_left_out() {
        let ok = br#"{"resourceSpans":[]}"#;
        assert_eq!(trace_member(ok).unwrap(), (ok.to_vec(), None));
        let odd = b"{\"resourceSpans\":[],\"x\":\"a\xffb\xfe\"}";
        let (kept, note) = trace_member(odd).unwrap();
        assert_eq!(
            String::from_utf8(kept).unwrap(),
            "{\"resourceSpans\":[],\"x\":\"a\u{fffd}b\u{fffd}\"}"
        );
        assert!(note.unwrap().starts_with("trace.json: 2 byte sequence(s)"));
        assert!(trace_member(b"not json")
            .unwrap_err()
            .contains("not OTLP JSON"));
    }

    #[test]
    fn utc_stamps() {
        assert_eq!(utc_stamp(0), "19700101-000000");
        assert_eq!(utc_stamp(1_795_302_000), "20261121-230000");
        assert_eq!(utc_stamp(951_782_400), "20000229-000000");
        assert!(new_run_id().starts_with("run-"));
    }
}
