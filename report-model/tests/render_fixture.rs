//! Shared fixture of the render tests: a realistic summary built from synthetic samples, and SVG checks.
#![allow(dead_code)]

use std::collections::BTreeMap;

use report_model::analysis::summary::summarize;
use report_model::schema::experiment::{Arm, Cell, Experiment, Tier};
use report_model::schema::sample::{
    KernelFidelity, LimitSource, RetentionPattern, Sample, SpanFidelity,
};
use report_model::schema::summary::Summary;
use report_model::schema::Versioned;

pub const HOST: &str = "linux-x86_64-6.8.0";
pub const LOSSY: &str = "k1000-s500";
pub const CLEAN: &str = "k200-s100";
pub const HOSTILE: &str = "<script>alert(1)</script>";
pub const N: u32 = 8;

/// A small deterministic generator (64-bit LCG), values in [0, 1).
pub struct Lcg(u64);

impl Lcg {
    pub fn uniform(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn cell(id: &str, kernel_events: u32, span_events: u32) -> Cell {
    Cell {
        id: id.into(),
        kernel_events,
        span_events,
        concurrency: 1,
        payload_bytes: 128,
        span_attributes: 0,
        span_links: 0,
        spans: 0,
        tier: Tier::Smoke,
    }
}

pub fn experiment(ids: [&str; 2]) -> Experiment {
    Experiment {
        schema: Experiment::SCHEMA.into(),
        name: "event-rate-sweep".into(),
        tier: Tier::Smoke,
        budget_s: None,
        n: N,
        warmups: 1,
        timeout_s: 60,
        arms: Arm::ALL.to_vec(),
        cells: vec![cell(ids[0], 1000, 500), cell(ids[1], 200, 100)],
        commands: BTreeMap::new(),
    }
}

fn base_ms(arm: Arm) -> f64 {
    match arm {
        Arm::Bare => 48.0,
        Arm::A => 52.5,
        Arm::B => 61.0,
        Arm::C => 66.0,
    }
}

fn phases(rng: &mut Lcg) -> BTreeMap<String, u64> {
    let ms = [0.4, 0.9, 6.5, 1.2, 38.0, 2.1, 1.4, 0.8];
    let names = [
        "preflight",
        "cgroup_prepare",
        "monitor_attach",
        "child_spawn",
        "child_runtime",
        "event_flush",
        "archive_write",
        "residual",
    ];
    names
        .iter()
        .zip(ms)
        .map(|(n, m)| {
            (
                n.to_string(),
                ((m * (1.0 + 0.1 * rng.uniform())) * 1e6) as u64,
            )
        })
        .collect()
}

/// Samples of both cells: one warm-up per arm, then N counterbalanced blocks of the four arms.
/// The first cell's traces keep the newest 128 of 500 span events; the second's keep all.
pub fn samples(ids: [&str; 2]) -> Vec<Sample> {
    let mut rng = Lcg(42);
    let mut out = Vec::new();
    let mut seq = 0;
    for (ci, id) in ids.iter().enumerate() {
        let (kernel, span) = if ci == 0 { (1000, 500) } else { (200, 100) };
        for block in 0..=N {
            let warmup = block == 0;
            let order = if block % 2 == 0 {
                Arm::ALL
            } else {
                [Arm::C, Arm::B, Arm::A, Arm::Bare]
            };
            for arm in order {
                let wall_ms = base_ms(arm) * (1.0 + ci as f64 * 0.5) + 3.0 * rng.uniform();
                let span_fidelity = arm.traces().then(|| {
                    if ci == 0 {
                        SpanFidelity {
                            target: span,
                            retained: 128,
                            retained_ranges: vec![[372, 499]],
                            pattern: RetentionPattern::NewestKept,
                            effective_limit: Some(128),
                            limit_source: Some(LimitSource::Default),
                        }
                    } else {
                        SpanFidelity {
                            target: span,
                            retained: span,
                            retained_ranges: vec![[0, span - 1]],
                            pattern: RetentionPattern::Complete,
                            effective_limit: Some(128),
                            limit_source: Some(LimitSource::Env),
                        }
                    }
                });
                out.push(Sample {
                    schema: Sample::SCHEMA.into(),
                    cell: id.to_string(),
                    arm,
                    seq,
                    pair: (!warmup).then_some(block),
                    warmup,
                    valid: true,
                    discard_reason: None,
                    exit_code: Some(0),
                    wall_ns: (wall_ms * 1e6) as u64,
                    peak_rss_bytes: Some(
                        ((18.0 + if arm.traces() { 9.0 } else { 0.0 } + rng.uniform()) * 1048576.0)
                            as u64,
                    ),
                    rss_method: None,
                    tare_peak_rss_bytes: arm.captures().then_some(7 * 1048576),
                    usage: Default::default(),
                    artifact_bytes: 4096,
                    phases_ns: if arm.captures() {
                        phases(&mut rng)
                    } else {
                        BTreeMap::new()
                    },
                    kernel_events: arm.captures().then_some(kernel * 3),
                    kernel_fidelity: arm.captures().then_some(KernelFidelity {
                        target: kernel,
                        unique_worker_files: kernel,
                    }),
                    span_fidelity,
                    span_limits: Default::default(),
                    archive: None,
                });
                seq += 1;
            }
        }
    }
    out
}

/// The realistic fixture: two cells, four arms, eight paired blocks each.
pub fn fixture() -> (Summary, Vec<Sample>) {
    let ids = [LOSSY, CLEAN];
    let samples = samples(ids);
    (summarize(&experiment(ids), HOST, &samples, false), samples)
}

/// `samples` with the figures newer samples carry, derived from each sample's wall-clock (so
/// the wall-clock statistics equal the plain fixture's): the workload's CPU is half its
/// wall-clock as user and a tenth as system, plus 4 ms of user time in C alone (an
/// interaction); tare's own CPU, RSS and kernel memory in capture arms; charged memory and
/// summed RSS in every arm.
pub fn with_usage(mut samples: Vec<Sample>) -> Vec<Sample> {
    for s in &mut samples {
        let u = &mut s.usage;
        let extra = if s.arm == Arm::C { 4_000_000 } else { 0 };
        u.cpu_user_ns = Some(s.wall_ns / 2 + extra);
        u.cpu_sys_ns = Some(s.wall_ns / 10);
        u.voluntary_ctxt_switches = Some(40 + u64::from(s.seq % 3));
        u.involuntary_ctxt_switches = Some(3);
        u.minor_faults = Some(900 + u64::from(s.seq % 2));
        u.major_faults = Some(0);
        u.rss_sum_bytes = s.peak_rss_bytes.map(|b| b + 2 * 1048576);
        u.processes = Some(3);
        u.memory_peak_bytes = Some(40 * 1048576 + u64::from(s.seq) * 4096);
        if s.arm.captures() {
            u.tare_cpu_user_ns = Some(9_000_000 + u64::from(s.seq) * 1000);
            u.tare_cpu_sys_ns = Some(3_000_000);
            u.tare_kernel_bytes = Some(16 * 1048576);
        }
    }
    samples
}

/// The realistic fixture with the newer figures ([`with_usage`]).
pub fn usage_fixture() -> (Summary, Vec<Sample>) {
    let ids = [LOSSY, CLEAN];
    let samples = with_usage(samples(ids));
    (summarize(&experiment(ids), HOST, &samples, false), samples)
}

/// The same with a hostile first cell id.
pub fn hostile() -> (Summary, Vec<Sample>) {
    let ids = [HOSTILE, CLEAN];
    let samples = samples(ids);
    (summarize(&experiment(ids), HOST, &samples, false), samples)
}

/// Undoes the five XML entities.
pub fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// Checks that `svg` is one well-formed element tree rooted at `<svg>`: tags balanced and
/// nested, no stray `<`, every `&` an entity. Returns the (unescaped) contents of the
/// `<text>` elements.
pub fn check_svg(svg: &str) -> Vec<String> {
    assert!(
        svg.starts_with("<svg "),
        "starts with <svg: {}",
        &svg[..40.min(svg.len())]
    );
    assert!(svg.trim_end().ends_with("</svg>"));
    let mut stack: Vec<String> = Vec::new();
    let mut texts = Vec::new();
    let mut rest = svg;
    let mut text_start: Option<usize> = None;
    let mut content = String::new();
    while let Some(lt) = rest.find('<') {
        let between = &rest[..lt];
        check_entities(between);
        if text_start.is_some() {
            content.push_str(between);
        }
        let gt = rest[lt..].find('>').expect("tag closed") + lt;
        let tag = &rest[lt + 1..gt];
        assert!(!tag.contains('<'), "stray < in tag {tag}");
        check_entities(tag);
        if let Some(name) = tag.strip_prefix('/') {
            let open = stack.pop().expect("closing tag has an opening tag");
            assert_eq!(open, name.trim(), "nesting");
            if name.trim() == "text" {
                texts.push(unescape(content.trim()));
                content.clear();
                text_start = None;
            }
        } else if !tag.ends_with('/') {
            let name: String = tag.chars().take_while(|c| !c.is_whitespace()).collect();
            assert!(
                stack.is_empty() == (name == "svg"),
                "one root svg, got {name}"
            );
            if name == "text" {
                text_start = Some(lt);
            }
            stack.push(name);
        }
        rest = &rest[gt + 1..];
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
    assert!(rest.trim().is_empty());
    texts
}

fn check_entities(s: &str) {
    for (i, _) in s.match_indices('&') {
        let tail = &s[i..];
        assert!(
            ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
                .iter()
                .any(|e| tail.starts_with(e)),
            "bare & in {s}"
        );
    }
}
