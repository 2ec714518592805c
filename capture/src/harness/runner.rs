//! Runs an experiment: every slot of every cell, one sample each, with progress and Ctrl-C.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use report_model::analysis::fidelity::kernel_fidelity;
use report_model::analysis::retention;
use report_model::analysis::span_limits;
use report_model::bundle::{self, member_text, Limits};
use report_model::redact::{Redactor, Tally};
use report_model::schema::experiment::{Cell, Experiment};
use report_model::schema::health::Health;
use report_model::schema::kernel_event::KernelEvent;
use report_model::schema::otlp::parse_otlp_json;
use report_model::schema::phases::Phases;
use report_model::schema::run::Run;
use report_model::schema::sample::Sample;
use report_model::schema::summary::Summary;
use report_model::schema::usage::{CpuUsage, MemoryPeak, PeakRss, SampleUsage};
use report_model::schema::{parse_json, to_ndjson, Versioned};

use super::arms::{plan, ArmPlan};
use super::pairing::{schedule, Slot};
use super::results::{self, Inputs};
use crate::cgroup::SessionCgroup;
use crate::spawn;
use crate::treewatch::{TreePeaks, TreeWatch};

/// How to run.
pub struct Options {
    pub out: PathBuf,
    pub bundle_cap: u64,
    pub quiet: bool,
    /// Flags every capture arm's `tare capture` gets (redaction).
    pub capture_flags: Vec<String>,
    /// What the bundle writer redacts on its second look.
    pub redactor: Redactor,
}

/// What a finished (or interrupted) bench produced.
pub struct Outcome {
    pub summary: Summary,
    pub bundle: PathBuf,
    /// What the bundle writer's second look redacted (the captures redact first).
    pub redacted: Tally,
}

/// Checks that the results directory `out` can be written: absent, or an empty directory.
pub fn check_out(out: &std::path::Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    // tare runs as root: a directory another user controls is one whose entries they can
    // swap for links while the bench writes into it.
    if let Ok(m) = std::fs::symlink_metadata(out) {
        if m.file_type().is_symlink() {
            anyhow::bail!(
                "--out {} is a symbolic link; give the directory itself",
                out.display()
            );
        }
        if m.is_dir() && m.uid() != nix::unistd::geteuid().as_raw() && m.mode() & 0o022 != 0 {
            anyhow::bail!(
                "--out {} belongs to another user who can write in it; choose a directory of your own",
                out.display()
            );
        }
    }
    if out.exists() && !out.is_dir() {
        anyhow::bail!(
            "--out {} exists and is not a directory; choose a new --out (results are never overwritten)",
            out.display()
        );
    }
    if out.exists()
        && std::fs::read_dir(out)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        anyhow::bail!(
            "--out {} exists and is not empty; choose a new --out (results are never overwritten)",
            out.display()
        );
    }
    Ok(())
}

/// Runs `experiment`, writing the results directory as it goes.
pub fn run(experiment: Experiment, experiment_text: String, opts: &Options) -> Result<Outcome> {
    check_out(&opts.out)?;
    let archives = opts.out.join("archives");
    std::fs::create_dir_all(&opts.out)
        .with_context(|| format!("cannot create {}", opts.out.display()))?;
    // Never an `archives` that is already there (a link planted since the check).
    std::fs::create_dir(&archives)
        .with_context(|| format!("cannot create {}", archives.display()))?;
    let tare = std::env::current_exe().context("cannot find the tare executable")?;
    crate::signals::install_stop_flag();

    let mut inputs = Inputs {
        experiment,
        experiment_text,
        host: crate::hostinfo::current(),
        samples: Vec::new(),
    };
    results::write_inputs(&opts.out, &inputs)?;
    results::remember_redaction(&opts.out, &opts.redactor)?;
    let plan_all: Vec<(Cell, Vec<Slot>)> = inputs
        .experiment
        .cells
        .iter()
        .map(|c| {
            (
                c.clone(),
                schedule(
                    &super::experiment::arms(&inputs.experiment),
                    inputs.experiment.n,
                    inputs.experiment.warmups,
                ),
            )
        })
        .collect();
    let total: usize = plan_all.iter().map(|(_, s)| s.len()).sum();
    let bar = progress(total as u64, opts.quiet);
    let mut seq = 0u32;
    let mut disk_full = None;
    'cells: for (cell, slots) in &plan_all {
        let _cell_span = tracing::info_span!(target: "tare::bench", "cell", cell = %cell.id, slots = slots.len() as i64).entered();
        for slot in slots {
            if crate::signals::stop_requested() {
                bar.println("interrupted: finishing with the samples so far");
                break 'cells;
            }
            bar.set_message(format!("{} {}", cell.id, slot.arm.label()));
            let span = tracing::info_span!(target: "tare::bench", "sample", cell = %cell.id, arm = %slot.arm.as_str(), seq = i64::from(seq), warmup = slot.warmup, valid = tracing::field::Empty).entered();
            let sample = run_sample(
                &tare,
                &inputs.experiment,
                cell,
                *slot,
                seq,
                &opts.out,
                &opts.capture_flags,
            )?;
            span.record("valid", sample.valid);
            // A sample that failed because the results' disk filled up measured nothing: it
            // is not kept, and no later one could be written either.
            if !sample.valid && free_bytes(&opts.out).is_some_and(|b| b < LOW_SPACE) {
                disk_full = Some(format!(
                    "sample {seq} ({} {}) failed with the disk full: {}",
                    cell.id,
                    slot.arm.as_str(),
                    sample.discard_reason.as_deref().unwrap_or("?")
                ));
                break 'cells;
            }
            if !sample.valid && !slot.warmup {
                bar.println(format!(
                    "discarded: {} {} #{}: {}",
                    cell.id,
                    slot.arm.as_str(),
                    seq,
                    crate::cli::out::esc(sample.discard_reason.as_deref().unwrap_or("?"))
                ));
            }
            if let Err(e) = append_sample(&opts.out, &sample) {
                if e.raw_os_error() == Some(libc::ENOSPC) {
                    disk_full = Some(format!("sample {seq} could not be recorded: {e}"));
                    break 'cells;
                }
                return Err(e).context("cannot append to samples.jsonl");
            }
            inputs.samples.push(sample);
            seq += 1;
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    let rendered = results::render_all(&opts.out, &inputs, opts.bundle_cap, &opts.redactor);
    if let Some(why) = disk_full {
        let kept = format!(
            "the disk holding {dir} is full ({why}); the {n} samples before it are kept in {dir}/samples.jsonl with their archives",
            dir = opts.out.display(),
            n = inputs.samples.len()
        );
        match rendered {
            Ok((_, bundle, _)) => anyhow::bail!(
                "{kept}, and a partial summary and {} were written; free space and run the bench again for the rest",
                bundle.display()
            ),
            Err(e) => anyhow::bail!(
                "{kept}; the summary could not be written ({e:#}): free space, then `tare report {}` renders it",
                opts.out.display()
            ),
        }
    }
    let (summary, bundle, redacted) = rendered?;
    Ok(Outcome {
        summary,
        bundle,
        redacted,
    })
}

fn progress(total: u64, quiet: bool) -> ProgressBar {
    use std::io::IsTerminal;
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} samples, ETA {eta} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// Below this many free bytes, a failed sample is taken for a full disk.
const LOW_SPACE: u64 = 256 << 10;

/// Bytes free to an unprivileged writer on the filesystem holding `dir`.
fn free_bytes(dir: &Path) -> Option<u64> {
    let s = nix::sys::statvfs::statvfs(dir).ok()?;
    Some(s.blocks_available() as u64 * s.fragment_size() as u64)
}

/// Appends one sample's line to samples.jsonl, whole or not at all: on a failed write (a
/// full disk) the file is cut back to its previous length, so every line in it parses.
fn append_sample(dir: &Path, sample: &Sample) -> std::io::Result<()> {
    use std::io::Write;
    let line =
        to_ndjson("samples.jsonl", std::slice::from_ref(sample)).map_err(std::io::Error::other)?;
    let mut f = crate::outfile::open_append(&dir.join("samples.jsonl"))?;
    let before = f.metadata()?.len();
    if let Err(e) = f.write_all(line.as_bytes()) {
        let _ = f.set_len(before);
        return Err(e);
    }
    Ok(())
}

/// Runs one slot and judges it.
fn run_sample(
    tare: &Path,
    e: &Experiment,
    cell: &Cell,
    slot: Slot,
    seq: u32,
    out: &Path,
    capture_flags: &[String],
) -> Result<Sample> {
    let stem = format!("{}-{:04}-{}", cell.id, seq, slot.arm.as_str());
    let p = plan(
        tare,
        slot.arm,
        cell,
        e,
        &out.join("archives"),
        &stem,
        capture_flags,
    );
    let run_id = format!("bench-{}-{seq}", std::process::id());
    let cg = SessionCgroup::create(&run_id).context("cannot create the sample's cgroup")?;
    // The same measurement in every arm: the tree watch follows the sample's process from
    // before it runs (the workload itself, or `tare capture` and the workload below it).
    let watch = TreeWatch::start().ok();
    let started = Instant::now();
    let ended = spawn::run_to_end(
        &p.argv,
        &cg,
        Duration::from_secs(e.timeout_s),
        watch.as_ref(),
    )
    .with_context(|| format!("cannot run {}", p.argv.join(" ")))?;
    let wall_ns = started.elapsed().as_nanos() as u64;
    let memory = crate::resources::memory_peak(cg.peak_memory());
    let _ = cg.remove();
    let tree = watch.and_then(|w| w.finish().ok());

    let mut s = Sample {
        schema: Sample::SCHEMA.into(),
        cell: cell.id.clone(),
        arm: slot.arm,
        seq,
        pair: slot.block,
        warmup: slot.warmup,
        valid: true,
        discard_reason: None,
        exit_code: ended.code,
        wall_ns,
        peak_rss_bytes: None,
        rss_method: None,
        tare_peak_rss_bytes: None,
        usage: SampleUsage::default(),
        artifact_bytes: 0,
        phases_ns: Default::default(),
        kernel_events: None,
        kernel_fidelity: None,
        span_fidelity: None,
        span_limits: Default::default(),
        archive: None,
    };
    if !slot.arm.captures() {
        set_workload(
            &mut s,
            &crate::resources::workload_peak(tree.as_ref(), None, ended.max_rss_kb),
            memory.as_ref(),
            &ended.cpu,
        );
    }
    let mut problems = Vec::new();
    if ended.timed_out {
        problems.push(format!("timed out after {} s", e.timeout_s));
    } else if ended.interrupted {
        problems.push("stopped by a second Ctrl-C".into());
    } else if ended.code != Some(0) {
        problems.push(match (ended.code, ended.signal) {
            (Some(c), _) => format!("exit status {c}"),
            (None, Some(sig)) => format!("killed by signal {sig}"),
            _ => "no exit status".into(),
        });
    }
    if slot.arm.captures() {
        judge_archive(&p, cell, out, &mut s, &mut problems);
        tare_cost(&mut s, tree.as_ref(), &ended);
    }
    if slot.arm.traces() {
        judge_trace(&p, cell, &mut s, &mut problems);
    }
    if !problems.is_empty() {
        s.valid = false;
        s.discard_reason = Some(problems.join("; "));
    }
    Ok(s)
}

/// Reads the capture archive: health (must be clean), phases, RSS, kernel fidelity.
fn judge_archive(p: &ArmPlan, cell: &Cell, out: &Path, s: &mut Sample, problems: &mut Vec<String>) {
    let Some(path) = &p.archive else { return };
    let name = path.display().to_string();
    let read = || -> Result<(Run, Phases, Health, Vec<KernelEvent>, u64)> {
        let bytes = std::fs::read(path).with_context(|| format!("no archive at {name}"))?;
        let members = bundle::read_tar_gz(&name, &bytes, &Limits::default())?;
        bundle::verify(&name, &members)?;
        let run: Run = parse_json("run.json", member_text(&name, &members, "run.json")?)?;
        let phases: Phases =
            parse_json("phases.json", member_text(&name, &members, "phases.json")?)?;
        let health: Health =
            parse_json("health.json", member_text(&name, &members, "health.json")?)?;
        let events = bundle::member_kernel_events(&name, &members)?
            .with_context(|| format!("{name} has no kernel.ndjson"))?;
        Ok((run, phases, health, events, bytes.len() as u64))
    };
    match read() {
        Ok((run, phases, health, events, bytes)) => {
            s.artifact_bytes += bytes;
            s.archive = path.strip_prefix(out).ok().map(|r| r.display().to_string());
            // The workload's figures as `tare capture` measured them, by the same method
            // as the other arms' (it is the workload's parent there).
            if let Some(cpu) = &run.workload_cpu {
                set_workload(
                    s,
                    &run.workload_peak_rss,
                    run.workload_memory_peak.as_ref(),
                    cpu,
                );
            }
            s.usage.tare_kernel_bytes = run.tare_kernel_bytes;
            s.tare_peak_rss_bytes = Some(run.tare_peak_rss_bytes);
            s.phases_ns = phases
                .phases
                .iter()
                .map(|ph| (ph.name.clone(), ph.duration_ns))
                .collect();
            s.phases_ns
                .insert("residual".into(), phases.residual_ns.max(0) as u64);
            s.kernel_events = Some(events.len() as u64);
            s.kernel_fidelity = Some(kernel_fidelity(&events, cell.kernel_events as u64));
            if !health.is_clean() {
                problems.push(format!(
                    "health {:?}/{:?}: {} dropped, {} foreign",
                    health.kernel_layer,
                    health.cgroup_correlation,
                    health.ringbuf_drops,
                    health.foreign_events
                ));
            }
        }
        Err(e) => problems.push(format!("archive unreadable: {e:#}")),
    }
}

/// The workload's memory and CPU figures of a sample.
fn set_workload(s: &mut Sample, peak: &PeakRss, memory: Option<&MemoryPeak>, cpu: &CpuUsage) {
    s.peak_rss_bytes = Some(peak.bytes);
    s.rss_method = Some(peak.method);
    s.usage.rss_sum_bytes = peak.sum_bytes;
    s.usage.processes = peak.processes;
    s.usage.memory_peak_bytes = memory.map(|m| m.bytes);
    s.usage.memory_method = memory.map(|m| m.method);
    s.usage.set_cpu(cpu);
}

/// tare's own cost in a capture arm, from outside: its CPU is the `tare capture` process's
/// rusage less its workload's (as run.json reports it), and its peak RSS is that process's
/// own high-water mark at exit, archive writing included.
fn tare_cost(s: &mut Sample, tree: Option<&TreePeaks>, ended: &spawn::Ended) {
    let (Some(user), Some(sys)) = (s.usage.cpu_user_ns, s.usage.cpu_sys_ns) else {
        return;
    };
    s.usage.tare_cpu_user_ns = Some(ended.cpu.user_ns.saturating_sub(user));
    s.usage.tare_cpu_sys_ns = Some(ended.cpu.sys_ns.saturating_sub(sys));
    if let Some(p) = tree.and_then(|t| t.root_peak()) {
        s.tare_peak_rss_bytes = Some(p);
    }
}

/// Reads the OTLP JSON trace and classifies span-event retention and the other span limits.
fn judge_trace(p: &ArmPlan, cell: &Cell, s: &mut Sample, problems: &mut Vec<String>) {
    let Some(path) = &p.trace else { return };
    match std::fs::read_to_string(path) {
        Ok(text) => {
            s.artifact_bytes += text.len() as u64;
            match parse_otlp_json(&path.display().to_string(), &text) {
                Ok(trace) => {
                    s.span_fidelity = Some(retention::trace_span_fidelity(
                        &trace,
                        cell.span_events as u64,
                    ));
                    s.span_limits = span_limits::trace_limits_fidelity(
                        &trace,
                        u64::from(cell.span_attributes),
                        u64::from(cell.span_links),
                        u64::from(cell.spans),
                    );
                }
                Err(e) => problems.push(format!("trace unreadable: {e}")),
            }
        }
        Err(e) => problems.push(format!("no trace at {}: {e}", path.display())),
    }
}
