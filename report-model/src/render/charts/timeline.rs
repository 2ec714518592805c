//! Resource timeline of one capture from its metrics.ndjson: memory and CPU% of the workload over time.

use super::canvas::{
    padded_domain, ticks, x_axis, Anchor, Canvas, Rgb, Scale, Size, AXIS, INK, MUTED,
};
use super::WIDTH;
use crate::analysis::timeline::peaks;
use crate::render::format::{self, MIB};
use crate::schema::metrics::{MemorySource, MetricsSample};

const TOP: f64 = 66.0;
const MEM_H: f64 = 150.0;
const GAP: f64 = 34.0;
const CPU_H: f64 = 110.0;
const LEFT: f64 = 84.0;
const RIGHT: f64 = 24.0;
/// Above this many samples the dots are left out (the lines carry the data).
const MAX_DOTS: usize = 60;

/// RSS: blue. Cgroup memory: vermillion. CPU: bluish green (Okabe-Ito).
const RSS: Rgb = Rgb(0x00, 0x72, 0xB2);
const CGROUP: Rgb = Rgb(0xD5, 0x5E, 0x00);
const CPU: Rgb = Rgb(0x00, 0x9E, 0x73);

fn memory_label(source: MemorySource) -> Option<&'static str> {
    match source {
        MemorySource::CgroupV2MemoryCurrent => Some("cgroup memory.current"),
        MemorySource::CgroupV1UsageInBytes => Some("cgroup v1 usage_in_bytes"),
        MemorySource::ProcRssSum => None,
    }
}

/// Vertical value axis at `x` for `scale` (data to y pixels): grid lines to `x_end`, tick
/// labels to the left and a caption above.
fn y_axis(c: &mut Canvas, scale: &Scale, x: f64, x_end: f64, caption: &str) {
    let (lo, hi) = (scale.d0.min(scale.d1), scale.d0.max(scale.d1));
    let (values, decimals) = ticks(lo, hi, 4);
    for v in values {
        let y = scale.map(v);
        c.line(&[(x, y), (x_end, y)], AXIS, 0.3, 1);
        c.line(&[(x - 4.0, y), (x, y)], AXIS, 1.0, 1);
        c.text(
            &format!("{v:.decimals$}"),
            x - 7.0,
            y,
            Size::Small,
            MUTED,
            Anchor::End,
            false,
            12,
        );
    }
    c.line(&[(x, scale.r0), (x, scale.r1)], AXIS, 1.0, 1);
    c.text(
        caption,
        x,
        scale.r1 - 10.0,
        Size::Small,
        MUTED,
        Anchor::Middle,
        false,
        30,
    );
}

/// A legend entry: a colour swatch and its text; returns the x after it.
fn legend(c: &mut Canvas, x: f64, y: f64, color: Rgb, text: &str) -> f64 {
    c.fill_rect(x, y - 4.0, x + 14.0, y + 4.0, color, 0.9);
    c.muted(text, x + 19.0, y, 40);
    x + 19.0 + text.chars().count().min(40) as f64 * Size::Small.char_w() + 16.0
}

/// One series as polylines (broken where a value is missing) and, when few, dots.
fn series(c: &mut Canvas, points: &[Option<(f64, f64)>], color: Rgb, dots: bool) {
    for run in points.split(Option::is_none) {
        let run: Vec<(f64, f64)> = run.iter().flatten().copied().collect();
        if run.len() > 1 {
            c.line(&run, color, 1.0, 2);
        }
        if dots || run.len() == 1 {
            for (x, y) in &run {
                c.circle(*x, *y, 2, color, true);
            }
        }
    }
}

/// The workload's memory (top: summed RSS, and the cgroup's own memory figure when it had
/// one, MiB) and CPU use (bottom: percent of one CPU) at every sample of `metrics.ndjson`
/// of capture `run_id`, against seconds since the capture started. A footer gives the
/// peaks, threads and open fds included.
pub fn timeline_svg(run_id: &str, samples: &[MetricsSample]) -> String {
    let mem_top = TOP;
    let cpu_top = mem_top + MEM_H + GAP;
    let axis_y = cpu_top + CPU_H;
    let height = (axis_y + 64.0) as u32;
    let n = samples.len();
    let mut c = Canvas::new(
        WIDTH,
        height,
        &format!("Resource timeline of {run_id}"),
        &format!(
            "Memory in MiB and CPU use in percent of one CPU of the workload of capture {run_id}, \
             at each of its {n} resource samples, against seconds since the capture started."
        ),
    );
    c.heading(&format!(
        "Resource timeline: {}",
        crate::render::escape::label(run_id, 60)
    ));
    if samples.is_empty() {
        c.note("no resource samples (metrics.ndjson is empty)", TOP + 10.0);
        return c.finish();
    }
    let cgroup_label = samples.iter().find_map(|s| memory_label(s.memory_source));
    let mut lx = legend(&mut c, 12.0, 38.0, RSS, "RSS (sum of VmRSS)");
    if let Some(l) = cgroup_label {
        lx = legend(&mut c, lx, 38.0, CGROUP, l);
    }
    legend(&mut c, lx, 38.0, CPU, "CPU, % of one CPU");

    let x1 = c.width() - RIGHT;
    let secs = |s: &MetricsSample| s.t_ns as f64 / 1e9;
    let (t0, t1) = padded_domain(samples.iter().map(secs));
    let xs = Scale::new(t0.max(0.0), t1, LEFT, x1);

    let cgroup_mem =
        |s: &MetricsSample| memory_label(s.memory_source).map(|_| s.memory_bytes as f64 / MIB);
    let mem_max = samples
        .iter()
        .flat_map(|s| [Some(s.rss_bytes as f64 / MIB), cgroup_mem(s)])
        .flatten()
        .fold(0.0_f64, f64::max);
    let mem_hi = if mem_max > 0.0 { mem_max * 1.1 } else { 1.0 };
    let ys_mem = Scale::new(0.0, mem_hi, mem_top + MEM_H, mem_top);
    y_axis(&mut c, &ys_mem, LEFT, x1, "MiB");

    let cpu_max = samples
        .iter()
        .filter_map(|s| s.cpu_percent)
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max);
    let cpu_hi = if cpu_max > 100.0 {
        cpu_max * 1.1
    } else {
        100.0
    };
    let ys_cpu = Scale::new(0.0, cpu_hi, cpu_top + CPU_H, cpu_top);
    y_axis(&mut c, &ys_cpu, LEFT, x1, "CPU %");

    let dots = n <= MAX_DOTS;
    let rss: Vec<_> = samples
        .iter()
        .map(|s| Some((xs.map(secs(s)), ys_mem.map(s.rss_bytes as f64 / MIB))))
        .collect();
    if cgroup_label.is_some() {
        let cg: Vec<_> = samples
            .iter()
            .map(|s| cgroup_mem(s).map(|m| (xs.map(secs(s)), ys_mem.map(m))))
            .collect();
        series(&mut c, &cg, CGROUP, dots);
    }
    series(&mut c, &rss, RSS, dots);
    let cpu: Vec<_> = samples
        .iter()
        .map(|s| {
            s.cpu_percent
                .filter(|v| v.is_finite())
                .map(|v| (xs.map(secs(s)), ys_cpu.map(v)))
        })
        .collect();
    series(&mut c, &cpu, CPU, dots);

    x_axis(
        &mut c,
        &xs,
        axis_y,
        mem_top,
        "seconds since the capture started",
    );

    let Some(p) = peaks(samples) else {
        return c.finish();
    };
    let mut footer = format!(
        "{n} samples; peaks: RSS {}",
        format::mib(p.peak_rss_bytes as f64)
    );
    if cgroup_label.is_some() {
        footer.push_str(&format!(
            ", cgroup memory {}",
            format::mib(p.peak_memory_bytes as f64)
        ));
    }
    if let Some(cpu) = p.peak_cpu_percent.filter(|c| *c > 0.0) {
        footer.push_str(&format!(", CPU {cpu:.0}%"));
    }
    footer.push_str(&format!(
        ", {} processes, {} threads, {} open fds",
        p.max_pids, p.max_threads, p.max_fds
    ));
    c.text(
        &footer,
        12.0,
        axis_y + 52.0,
        Size::Small,
        INK,
        Anchor::Start,
        false,
        140,
    );
    c.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::metrics::CpuSource;

    fn sample(i: u64, cpu: Option<f64>, source: MemorySource) -> MetricsSample {
        MetricsSample {
            t_ns: 10_000_000 + i * 250_000_000,
            pids: 1 + i as u32 % 2,
            threads: 2 + i,
            fds: 4,
            rss_bytes: (3 + i) << 20,
            memory_bytes: (6 + i) << 20,
            memory_source: source,
            cpu_usec: i * 1000,
            cpu_source: CpuSource::CgroupV2CpuStat,
            cpu_percent: cpu,
        }
    }

    fn texts(svg: &str) -> Vec<String> {
        svg.split("<text")
            .skip(1)
            .filter_map(|t| {
                let start = t.find('>')? + 1;
                let end = t.find("</text>")?;
                Some(t[start..end].trim().to_string())
            })
            .collect()
    }

    #[test]
    fn draws_memory_and_cpu_with_peaks() {
        let s: Vec<_> = (0..4)
            .map(|i| {
                let cpu = (i > 0).then_some(i as f64 * 40.0);
                sample(i, cpu, MemorySource::CgroupV1UsageInBytes)
            })
            .collect();
        let svg = timeline_svg("run-<1>", &s);
        assert!(svg.starts_with("<svg role=\"img\" "));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("viewBox=\"0 0 760 "));
        assert!(svg.contains("<title>Resource timeline of run-&lt;1&gt;</title>"));
        assert!(!svg.contains("run-<1>"));
        let t = texts(&svg);
        assert!(t.iter().any(|x| x == "cgroup v1 usage_in_bytes"), "{t:?}");
        assert!(t.iter().any(|x| x == "RSS (sum of VmRSS)"));
        let footer = t.iter().find(|x| x.starts_with("4 samples")).unwrap();
        assert!(footer.contains("RSS 6.0 MiB"), "{footer}");
        assert!(footer.contains("cgroup memory 9.0 MiB"), "{footer}");
        assert!(footer.contains("CPU 120%"), "{footer}");
        assert!(footer.contains("5 threads, 4 open fds"), "{footer}");
        // Three series of four points (CPU has three): dots while few.
        assert_eq!(svg.matches("<circle").count(), 4 + 4 + 3);
        // Deterministic.
        assert_eq!(svg, timeline_svg("run-<1>", &s));
    }

    #[test]
    fn without_a_memory_controller_only_rss_is_drawn() {
        let s: Vec<_> = (0..3)
            .map(|i| sample(i, None, MemorySource::ProcRssSum))
            .collect();
        let svg = timeline_svg("r", &s);
        let t = texts(&svg);
        assert!(!t.iter().any(|x| x.contains("cgroup")), "{t:?}");
        assert_eq!(svg.matches("<circle").count(), 3);
        let footer = t.iter().find(|x| x.starts_with("3 samples")).unwrap();
        assert!(!footer.contains("CPU"), "{footer}");
    }

    #[test]
    fn empty_and_single() {
        let svg = timeline_svg("r", &[]);
        assert!(svg.contains("no resource samples"));
        let one = timeline_svg("r", &[sample(0, Some(f64::NAN), MemorySource::ProcRssSum)]);
        assert_eq!(one.matches("<circle").count(), 1);
        assert!(!one.contains("NaN"));
    }
}
