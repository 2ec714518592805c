//! `tare capture`: run a command in a fresh cgroup under eBPF capture and write its archive.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;

use crate::cli::redaction::RedactArgs;
use crate::monitor::HookChoice;
use crate::phases::PhaseClock;
use crate::resources;
use crate::session::{self, CaptureOptions};

/// Run COMMAND in a fresh cgroup v2, record its process tree's kernel activity with
/// eBPF, and write a deterministic, checksummed .tar.gz archive.
///
/// Records exec, fork, exit, open, write, unlink, rename and connect of every process
/// in the tree; accounts for every event (health.json says `complete` only when the
/// kernel's count and ours agree and nothing was dropped); times every phase. Exits
/// with COMMAND's status (128+signal when it was killed).
///
/// Examples:
///   sudo tare capture -- make -j2
///   sudo tare capture --out build.tar.gz --timeout 600 -- ./build.sh
///   sudo tare capture --trace /tmp/trace.json -- tare workload --span-events 100 --trace-out /tmp/trace.json
///
/// Secrets are redacted before anything is written (see --redact, --no-redact): in the
/// command line, the events' paths, the trace and the samples.
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Archive to write (default: ./<run-id>.tar.gz).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Ring buffer size in bytes (a power of two, at least 4096).
    #[arg(long, default_value_t = capture_ebpf::DEFAULT_RINGBUF_BYTES)]
    pub ringbuf_bytes: u32,
    /// Kill COMMAND after this many seconds; the archive is still written, marked.
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<f64>,
    /// Add this OTLP JSON trace (written by COMMAND) to the archive as trace.json.
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
    /// Sample the workload's memory, CPU%, threads and open fds this often while it runs,
    /// into metrics.ndjson (e.g. 250ms, 0.5s, or milliseconds; at least 100ms).
    #[arg(long, value_name = "DURATION", default_value = "250ms", value_parser = crate::sampler::parse_interval)]
    pub sample_interval: Duration,
    /// How to hook the traced syscalls: `fexit` runs only for them; `btf-tracepoint` and
    /// `raw-tracepoint` (sys_exit) run for every syscall of every process on the host;
    /// `auto` takes the first the kernel allows, in that order. health.json says which.
    #[arg(long, value_enum, default_value_t = Hooks::Auto, value_name = "HOOKS")]
    pub syscall_hooks: Hooks,
    #[command(flatten)]
    pub redact: RedactArgs,
    /// Print nothing on success.
    #[arg(long, short)]
    pub quiet: bool,
    /// The command and its arguments.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// The values of `--syscall-hooks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Hooks {
    Auto,
    Fexit,
    BtfTracepoint,
    RawTracepoint,
}

impl From<Hooks> for HookChoice {
    fn from(h: Hooks) -> HookChoice {
        match h {
            Hooks::Auto => HookChoice::Auto,
            Hooks::Fexit => HookChoice::Fexit,
            Hooks::BtfTracepoint => HookChoice::BtfTracepoint,
            Hooks::RawTracepoint => HookChoice::RawTracepoint,
        }
    }
}

pub fn run(args: Args, clock: &PhaseClock) -> Result<i32> {
    let redactor = match args.redact.redactor() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tare: error: {e:#}");
            return Ok(crate::cli::EXIT_BAD_INPUT);
        }
    };
    let timeout = match args.timeout {
        Some(s) if s.is_finite() && s > 0.0 => Some(Duration::from_secs_f64(s)),
        Some(s) => anyhow::bail!("--timeout must be a positive number of seconds, not {s}"),
        None => None,
    };
    if let Some(out) = &args.out {
        if let Err(e) = crate::outfile::check_target(out, "--out") {
            eprintln!("tare: error: {e:#}");
            return Ok(crate::cli::EXIT_BAD_INPUT);
        }
    }
    let opts = CaptureOptions {
        command: args.command,
        out: args.out,
        ringbuf_bytes: args.ringbuf_bytes,
        timeout,
        trace: args.trace,
        sample_interval: args.sample_interval,
        syscall_hooks: args.syscall_hooks.into(),
        redactor,
    };
    let c = session::capture(&opts, clock)?;
    if !args.quiet {
        eprintln!("tare: {}", summary_line(&c, clock.elapsed_ns()));
        for note in c.health.notes.iter().chain(&c.run.notes) {
            eprintln!("tare: note: {note}");
        }
        for b in &c.health.blind_spots {
            eprintln!(
                "tare: note: blind spot: {} (x{}): {}",
                b.what, b.count, b.reason
            );
        }
    }
    Ok(c.run.exit.shell_status())
}

/// `; N killed at end (outlived the command)`, or nothing.
fn killed_at_end(r: &report_model::schema::run::Run) -> String {
    let n = r.killed_at_end.len();
    if n == 0 {
        return String::new();
    }
    let outside = r.killed_at_end.iter().filter(|p| p.left_cgroup).count();
    let outside = if outside > 0 {
        format!(", {outside} outside the cgroup")
    } else {
        String::new()
    };
    format!("; {n} killed at end (outlived the command{outside})")
}

/// The one line a capture prints: counts, phases, memory and CPU of the workload and of tare,
/// and `total`, tare's whole wall-clock from its start to this line; then what was redacted.
pub fn summary_line(c: &session::Captured, total_ns: u64) -> String {
    let ms = |ns: u64| ns as f64 / 1e6;
    let mib = |b: u64| b as f64 / (1u64 << 20) as f64;
    let phase = |n: &str| c.phases.get(n).map(ms).unwrap_or(0.0);
    let r = &c.run;
    let cpu = r.workload_cpu.map(|u| ms(u.total_ns())).unwrap_or(0.0);
    let tare_cpu = resources::own_cpu();
    format!(
        "{} events, {} dropped, kernel layer {:?}; attach {:.1} ms, child {:.1} ms, flush {:.1} ms, archive {:.1} ms ({:.1} MiB), total {:.1} ms; \
         workload peak RSS {:.1} MiB, CPU {:.1} ms; tare peak RSS {:.1} MiB, CPU {:.1} ms, eBPF maps {:.1} MiB; exit {}; {}",
        c.events,
        c.health.ringbuf_drops,
        c.health.kernel_layer,
        phase("monitor_attach"),
        phase("child_runtime"),
        phase("event_flush"),
        phase("archive_write"),
        mib(c.archive_bytes),
        ms(total_ns),
        mib(r.workload_peak_rss.bytes),
        cpu,
        mib(resources::own_peak_rss_bytes()),
        ms(tare_cpu.user_ns + tare_cpu.sys_ns),
        mib(r.tare_kernel_bytes.unwrap_or(0)),
        r.exit.shell_status(),
        c.archive.display()
    ) + &killed_at_end(r)
        + &r
        .redaction
        .as_ref()
        .map(|x| format!("; {}", report_model::redact::describe(x)))
        .unwrap_or_default()
}
