//! `tare capture`: run a command in a fresh cgroup under eBPF capture and write its archive.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;

use crate::cli::out::{errln, esc, failln};
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
    /// Ring buffer size in bytes (a power of two and a multiple of the page size, at least 4096).
    #[arg(long, default_value_t = capture_ebpf::DEFAULT_RINGBUF_BYTES, value_parser = parse_ringbuf_bytes)]
    pub ringbuf_bytes: u32,
    /// Kill COMMAND after this many seconds (more than 0, at most a year); the archive is
    /// still written, marked.
    #[arg(long, value_name = "SECONDS", value_parser = parse_timeout)]
    pub timeout: Option<Duration>,
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

/// The longest `--timeout`: a year (longer is no limit at all, and leaving it out says so).
pub const MAX_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 3600);

/// `--timeout SECONDS`: a number of seconds, more than 0 and at most [`MAX_TIMEOUT`].
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    let s: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds: give e.g. 600 or 2.5"))?;
    if !(s.is_finite() && s > 0.0) {
        return Err(format!(
            "`{text}` is not a positive number of seconds: give e.g. 600 or 2.5 (leave --timeout out for no limit)"
        ));
    }
    if s > MAX_TIMEOUT.as_secs_f64() {
        return Err(format!(
            "`{text}` seconds is more than a year: leave --timeout out for no limit"
        ));
    }
    Duration::try_from_secs_f64(s).map_err(|e| format!("`{text}`: {e}"))
}

/// `--ringbuf-bytes N`: a power of two and a multiple of the page size (so at least 4096).
pub fn parse_ringbuf_bytes(text: &str) -> Result<u32, String> {
    let n: u32 = text.trim().parse().map_err(|_| {
        format!("`{text}` is not a size in bytes: give a power of two such as 1048576")
    })?;
    let page = crate::monitor::load::page_size().max(4096);
    if !n.is_power_of_two() || !n.is_multiple_of(page) {
        return Err(format!(
            "{n} is not a power of two of at least the page size ({page} bytes): give e.g. {page}, {} or {}",
            page * 2,
            capture_ebpf::DEFAULT_RINGBUF_BYTES
        ));
    }
    Ok(n)
}

pub fn run(args: Args, clock: &PhaseClock) -> Result<i32> {
    let redactor = match args.redact.redactor() {
        Ok(r) => r,
        Err(e) => {
            failln!("tare: error: {e:#}");
            return Ok(crate::cli::EXIT_BAD_INPUT);
        }
    };
    // A bad --out is bad input; without root, the privileges come first (the capture's
    // preflight says how to get them).
    if let (Some(out), true) = (&args.out, nix::unistd::geteuid().is_root()) {
        if let Err(e) = crate::outfile::check_target(out, "--out") {
            failln!("tare: error: {e:#}");
            return Ok(crate::cli::EXIT_BAD_INPUT);
        }
    }
    let opts = CaptureOptions {
        command: args.command,
        out: args.out,
        ringbuf_bytes: args.ringbuf_bytes,
        timeout: args.timeout,
        trace: args.trace,
        sample_interval: args.sample_interval,
        syscall_hooks: args.syscall_hooks.into(),
        redactor,
    };
    let c = session::capture(&opts, clock)?;
    if !args.quiet {
        errln!("tare: {}", summary_line(&c, clock.elapsed_ns()));
        for note in c.health.notes.iter().chain(&c.run.notes) {
            errln!("tare: note: {}", esc(note));
        }
        for b in &c.health.blind_spots {
            errln!(
                "tare: note: blind spot: {} (x{}): {}",
                esc(&b.what),
                b.count,
                esc(&b.reason)
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
        esc(&c.archive.display().to_string())
    ) + &killed_at_end(r)
        + &r
        .redaction
        .as_ref()
        .map(|x| format!("; {}", report_model::redact::describe(x)))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_are_positive_finite_and_at_most_a_year() {
        assert_eq!(parse_timeout("600"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_timeout(" 2.5 "), Ok(Duration::from_millis(2500)));
        assert_eq!(parse_timeout("31536000"), Ok(MAX_TIMEOUT));
        for bad in ["0", "-1", "nan", "inf", "1e20", "31536001", "soon", ""] {
            let e = parse_timeout(bad).unwrap_err();
            assert!(e.contains(&format!("`{bad}`")), "{bad}: {e}");
        }
        assert!(parse_timeout("1e20")
            .unwrap_err()
            .contains("more than a year"));
    }

    #[test]
    fn ring_buffers_are_page_multiples_and_powers_of_two() {
        let page = crate::monitor::load::page_size().max(4096);
        assert_eq!(parse_ringbuf_bytes(&page.to_string()), Ok(page));
        assert_eq!(parse_ringbuf_bytes("8388608"), Ok(8 << 20));
        for bad in ["0", "4095", "6144", "-1", "4294967296", "lots"] {
            assert!(parse_ringbuf_bytes(bad).is_err(), "{bad}");
        }
        assert!(parse_ringbuf_bytes("4095")
            .unwrap_err()
            .contains("not a power of two"));
    }
}
