//! summary.json from synthetic samples: validity, gates, deltas and verdicts, fidelity, boundary.

use std::collections::BTreeMap;

use report_model::analysis::summary::{summarize, RSS_CLAIM_N, WALL_CLAIM_N};
use report_model::schema::experiment::{Arm, Cell, Experiment, Tier};
use report_model::schema::sample::{
    KernelFidelity, LimitFidelity, RetentionPattern, Sample, SpanFidelity,
};
use report_model::schema::summary::{FidelityVerdict, Summary};
use report_model::schema::Versioned;
use report_model::stats::Verdict;

fn experiment(n: u32, kernel: u32, span: u32) -> Experiment {
    Experiment {
        schema: Experiment::SCHEMA.into(),
        name: "t".into(),
        tier: Tier::Smoke,
        budget_s: None,
        n,
        warmups: 1,
        timeout_s: 10,
        arms: Arm::ALL.to_vec(),
        cells: vec![Cell {
            id: "c1".into(),
            kernel_events: kernel,
            span_events: span,
            concurrency: 1,
            payload_bytes: 128,
            span_attributes: 0,
            span_links: 0,
            spans: 0,
            tier: Tier::Smoke,
        }],
        commands: BTreeMap::new(),
    }
}

/// Arm means: bare 10 ms, A +5, B +2, C +7 (no interaction); small deterministic jitter.
fn samples(n: u32, kernel_seen: u64, span: Option<SpanFidelity>) -> Vec<Sample> {
    let mut out = Vec::new();
    let mut seq = 0;
    for block in 0..n {
        for arm in Arm::ALL {
            let base = match arm {
                Arm::Bare => 10.0,
                Arm::A => 15.0,
                Arm::B => 12.0,
                Arm::C => 17.0,
            };
            let jitter = ((block * 7 + seq) % 5) as f64 * 0.01;
            out.push(Sample {
                schema: Sample::SCHEMA.into(),
                cell: "c1".into(),
                arm,
                seq,
                pair: Some(block),
                warmup: false,
                valid: true,
                discard_reason: None,
                exit_code: Some(0),
                wall_ns: ((base + jitter) * 1e6) as u64,
                peak_rss_bytes: Some(1 << 20),
                rss_method: None,
                tare_peak_rss_bytes: None,
                usage: Default::default(),
                artifact_bytes: 100,
                phases_ns: BTreeMap::new(),
                kernel_events: arm.captures().then_some(75),
                kernel_fidelity: arm.captures().then_some(KernelFidelity {
                    target: 25,
                    unique_worker_files: kernel_seen,
                }),
                span_fidelity: if arm.traces() { span.clone() } else { None },
                span_limits: Default::default(),
                archive: None,
            });
            seq += 1;
        }
    }
    // A warm-up that would wreck every statistic if it were counted.
    let mut warm = out[0].clone();
    warm.warmup = true;
    warm.pair = None;
    warm.wall_ns = 10_000_000_000;
    out.push(warm);
    out
}

fn complete(target: u64) -> SpanFidelity {
    SpanFidelity {
        target,
        retained: target,
        retained_ranges: vec![[0, target - 1]],
        pattern: RetentionPattern::Complete,
        effective_limit: Some(128),
        limit_source: None,
    }
}

fn delta<'a>(s: &'a Summary, name: &str) -> &'a report_model::schema::summary::Delta {
    s.cells[0].deltas.iter().find(|d| d.name == name).unwrap()
}

#[test]
fn paired_deltas_find_each_overhead_and_no_interaction() {
    let s = summarize(
        &experiment(8, 25, 25),
        "h",
        &samples(8, 25, Some(complete(25))),
        false,
    );
    let c = &s.cells[0];
    assert_eq!(c.arms[&Arm::Bare].valid, 8, "the warm-up is not counted");
    assert!((c.arms[&Arm::Bare].wall_ms.as_ref().unwrap().median - 10.0).abs() < 0.05);
    for (name, expect) in [
        ("a_vs_bare", 5.0),
        ("b_vs_bare", 2.0),
        ("c_vs_bare", 7.0),
        ("c_vs_a", 2.0),
        ("c_vs_b", 5.0),
    ] {
        let d = delta(&s, name);
        assert!(d.paired && d.n == 8, "{name}");
        let e = d.estimate.unwrap();
        assert!((e - expect).abs() < 0.05, "{name}: {e}");
        assert_eq!(d.verdict, Verdict::Difference, "{name}");
        assert!(d.ci_low.unwrap() > 0.0 && d.ci_high.unwrap() > d.ci_low.unwrap());
    }
    let i = delta(&s, "interaction");
    let e = i.estimate.unwrap();
    assert!(e.abs() < 0.05, "{e}");
    assert_eq!(i.verdict, Verdict::NoDetectableDifference);
    assert_eq!(c.fidelity.verdict, FidelityVerdict::Clean);
    assert!(s.boundary.is_none());
}

#[test]
fn gates_below_twenty_and_five() {
    let s = summarize(&experiment(5, 25, 0), "h", &samples(5, 25, None), false);
    let bare = &s.cells[0].arms[&Arm::Bare];
    assert!(!bare.wall_claim && bare.rss_claim, "n=5: RSS claim only");
    assert_eq!(delta(&s, "a_vs_bare").verdict, Verdict::InsufficientSamples);
    assert!(s
        .not_shown
        .iter()
        .any(|l| l.contains(&format!("fewer than {WALL_CLAIM_N}"))));
    let s = summarize(&experiment(4, 25, 0), "h", &samples(4, 25, None), false);
    assert!(!s.cells[0].arms[&Arm::Bare].rss_claim);
    assert!(s
        .not_shown
        .iter()
        .any(|l| l.contains(&format!("fewer than {RSS_CLAIM_N}"))));
    let s = summarize(&experiment(20, 25, 0), "h", &samples(20, 25, None), false);
    assert!(s.cells[0]
        .arms
        .values()
        .all(|a| a.wall_claim && a.rss_claim));
    assert!(!s
        .not_shown
        .iter()
        .any(|l| l.contains("No wall-clock claim")));
}

#[test]
fn discarded_samples_leave_the_statistics_and_set_the_boundary() {
    let mut smp = samples(8, 25, None);
    let bad = smp
        .iter_mut()
        .find(|x| x.arm == Arm::A && x.pair == Some(3))
        .unwrap();
    bad.valid = false;
    bad.discard_reason = Some("health Partial/Clean: 3 dropped".into());
    bad.wall_ns = 99_000_000_000;
    let s = summarize(&experiment(8, 25, 0), "h", &smp, false);
    let a = &s.cells[0].arms[&Arm::A];
    assert_eq!((a.valid, a.discarded), (7, 1));
    assert!(
        a.wall_ms.as_ref().unwrap().max < 20.0,
        "the discarded sample is not in the statistics"
    );
    assert_eq!(delta(&s, "a_vs_bare").n, 7, "its pair is dropped");
    let b = s.boundary.unwrap();
    assert_eq!((b.cell.as_str(), b.gate.as_str()), ("c1", "validity"));
    assert!(b.detail.contains("3 dropped"));
}

#[test]
fn fidelity_losses_are_lossy_with_the_retained_ranges() {
    let lossy = SpanFidelity {
        target: 500,
        retained: 128,
        retained_ranges: vec![[0, 127]],
        pattern: RetentionPattern::OldestKept,
        effective_limit: Some(128),
        limit_source: None,
    };
    let s = summarize(
        &experiment(6, 25, 500),
        "h",
        &samples(6, 25, Some(lossy)),
        false,
    );
    let f = &s.cells[0].fidelity;
    assert_eq!(f.verdict, FidelityVerdict::Lossy);
    assert_eq!(
        (f.span_retained, f.pattern),
        (Some(128), Some(RetentionPattern::OldestKept))
    );
    assert_eq!(f.retained_ranges, vec![[0, 127]]);
    assert_eq!(s.boundary.as_ref().unwrap().gate, "span_fidelity");
    assert!(s.headline.contains("128 of 500"), "{}", s.headline);

    let s = summarize(&experiment(6, 25, 0), "h", &samples(6, 24, None), false);
    assert_eq!(s.cells[0].fidelity.verdict, FidelityVerdict::Lossy);
    assert_eq!(s.cells[0].fidelity.kernel_seen_min, Some(24));
    assert_eq!(s.boundary.as_ref().unwrap().gate, "kernel_fidelity");
}

#[test]
fn partial_runs_say_so() {
    let s = summarize(&experiment(8, 25, 0), "h", &samples(3, 25, None), true);
    assert!(s.partial);
    assert!(s.not_shown[0].contains("stopped early"));
}

/// Adds CPU figures to `samples`, in ns: bare 10 ms (8 user + 2 sys), A 14, B 12 and C
/// 14 + 12 - 10 + 5 = 21 (an interaction of +5 ms), each plus 0.1 ms x block in every arm
/// (machine-wide drift the pairing removes); tare 4 ms in capture arms; context switches,
/// faults (major: 0, measured) and memory in every arm.
fn with_cpu(mut samples: Vec<Sample>) -> Vec<Sample> {
    for s in samples.iter_mut() {
        let (user, sys) = match s.arm {
            Arm::Bare => (8_000_000, 2_000_000),
            Arm::A => (11_000_000, 3_000_000),
            Arm::B => (9_000_000, 3_000_000),
            Arm::C => (16_000_000, 5_000_000),
        };
        let drift = u64::from(s.pair.unwrap_or(0)) * 100_000;
        let u = &mut s.usage;
        u.cpu_user_ns = Some(user + drift);
        u.cpu_sys_ns = Some(sys);
        u.voluntary_ctxt_switches = Some(10);
        u.involuntary_ctxt_switches = Some(2);
        u.minor_faults = Some(300);
        u.major_faults = Some(0);
        u.rss_sum_bytes = Some(3 << 20);
        u.memory_peak_bytes = Some(5 << 20);
        if s.arm.captures() {
            u.tare_cpu_user_ns = Some(3_000_000);
            u.tare_cpu_sys_ns = Some(1_000_000);
            u.tare_kernel_bytes = Some(1 << 20);
        }
    }
    samples
}

fn cpu_delta<'a>(s: &'a Summary, name: &str) -> &'a report_model::schema::summary::Delta {
    s.cells[0]
        .deltas
        .iter()
        .find(|d| d.name == name && d.metric == "cpu_ms")
        .unwrap_or_else(|| panic!("no cpu_ms delta {name}"))
}

#[test]
fn cpu_time_gets_medians_cv_and_deltas_that_find_the_interaction() {
    let smp = with_cpu(samples(8, 25, Some(complete(25))));
    let s = summarize(&experiment(8, 25, 25), "h", &smp, false);
    let arms = &s.cells[0].arms;
    let bare = &arms[&Arm::Bare];
    // Bare CPU: 10.0, 10.1, ..., 10.7 ms (the warm-up is not counted).
    let cpu = bare.cpu_ms.as_ref().unwrap();
    assert_eq!(cpu.n, 8);
    assert!((cpu.median - 10.35).abs() < 1e-9, "{cpu:?}");
    assert!((cpu.min - 10.0).abs() < 1e-9 && (cpu.max - 10.7).abs() < 1e-9);
    assert!((bare.cpu_user_ms.as_ref().unwrap().median - 8.35).abs() < 1e-9);
    assert_eq!(bare.cpu_sys_ms.as_ref().unwrap().median, 2.0);
    // CV by hand: mean 10.35, squared deviations 2 x (0.05² + 0.15² + 0.25² + 0.35²) = 0.42,
    // variance 0.42 / 7 = 0.06, CV sqrt(0.06) / 10.35 = 0.023666...
    let cv = bare.cpu_cv.unwrap();
    assert!((cv - 0.06f64.sqrt() / 10.35).abs() < 1e-9, "{cv}");
    assert!((cv - 0.023_666_1).abs() < 1e-6, "{cv}");
    // Wall CV beside it: bare's wall is 10 ms + 0..0.04 ms of jitter, well under 1%.
    let wall_cv = bare.wall_cv.unwrap();
    assert!(wall_cv > 0.0 && wall_cv < 0.01, "{wall_cv}");
    // The other figures, medians as recorded; a measured 0 stays 0.
    assert_eq!(bare.voluntary_ctxt_switches.as_ref().unwrap().median, 10.0);
    assert_eq!(bare.involuntary_ctxt_switches.as_ref().unwrap().median, 2.0);
    assert_eq!(bare.minor_faults.as_ref().unwrap().median, 300.0);
    assert_eq!(bare.major_faults.as_ref().unwrap().median, 0.0);
    assert_eq!(
        bare.rss_sum_bytes.as_ref().unwrap().median,
        (3 << 20) as f64
    );
    assert_eq!(
        bare.memory_peak_bytes.as_ref().unwrap().median,
        (5 << 20) as f64
    );
    assert_eq!(bare.tare_cpu_ms, None, "bare runs no tare");
    assert_eq!(bare.tare_kernel_bytes, None);
    let a = &arms[&Arm::A];
    assert_eq!(a.tare_cpu_ms.as_ref().unwrap().median, 4.0);
    assert_eq!(
        a.tare_kernel_bytes.as_ref().unwrap().median,
        (1 << 20) as f64
    );
    assert!((arms[&Arm::C].cpu_ms.as_ref().unwrap().median - 21.35).abs() < 1e-9);

    // CPU deltas: the same names and rules as the wall-clock ones, every pair exact.
    for (name, expect) in [
        ("a_vs_bare", 4.0),
        ("b_vs_bare", 2.0),
        ("c_vs_bare", 11.0),
        ("c_vs_a", 7.0),
        ("c_vs_b", 9.0),
        ("interaction", 5.0),
    ] {
        let d = cpu_delta(&s, name);
        assert!(d.paired && d.n == 8, "{name}");
        for v in [d.estimate, d.ci_low, d.ci_high] {
            assert!((v.unwrap() - expect).abs() < 1e-9, "{name}: {d:?}");
        }
        assert_eq!(d.verdict, Verdict::Difference, "{name}");
    }
    // Wall-clock finds no interaction in the same samples, and its deltas are unchanged:
    // first in the list, six of them, then the six CPU ones.
    assert_eq!(
        delta(&s, "interaction").verdict,
        Verdict::NoDetectableDifference
    );
    let metrics: Vec<&str> = s.cells[0]
        .deltas
        .iter()
        .map(|d| d.metric.as_str())
        .collect();
    assert_eq!(metrics, [["wall_ms"; 6], ["cpu_ms"; 6]].concat());
    let plain = summarize(
        &experiment(8, 25, 25),
        "h",
        &samples(8, 25, Some(complete(25))),
        false,
    );
    assert_eq!(s.cells[0].deltas[..6], plain.cells[0].deltas[..]);
    assert_eq!(s.headline, plain.headline, "the headline is wall-clock's");
    assert!(
        !s.not_shown.iter().any(|l| l.contains("CPU")),
        "{:?}",
        s.not_shown
    );
}

#[test]
fn samples_without_cpu_figures_give_none_not_zero() {
    let s = summarize(&experiment(8, 25, 0), "h", &samples(8, 25, None), false);
    for a in s.cells[0].arms.values() {
        assert_eq!(
            (&a.cpu_ms, &a.cpu_user_ms, &a.cpu_sys_ms, a.cpu_cv),
            (&None, &None, &None, None)
        );
        assert_eq!((&a.minor_faults, &a.major_faults), (&None, &None));
        assert_eq!(
            (&a.voluntary_ctxt_switches, &a.involuntary_ctxt_switches),
            (&None, &None)
        );
        assert_eq!((&a.memory_peak_bytes, &a.rss_sum_bytes), (&None, &None));
        assert_eq!((&a.tare_cpu_ms, &a.tare_kernel_bytes), (&None, &None));
        assert!(a.wall_cv.is_some(), "wall-clock was recorded");
    }
    assert!(s.cells[0].deltas.iter().all(|d| d.metric == "wall_ms"));
    assert_eq!(s.cells[0].deltas.len(), 6);
    assert!(s
        .not_shown
        .iter()
        .any(|l| l.starts_with("These samples carry no CPU time")));
    // The JSON of such a summary has none of the new keys but wall_cv.
    let json = serde_json::to_string(&s).unwrap();
    for key in [
        "cpu_ms",
        "cpu_cv",
        "memory_peak_bytes",
        "tare_cpu_ms",
        "major_faults",
    ] {
        assert!(!json.contains(&format!("\"{key}\"")), "{key}");
    }

    // One arm without CPU among arms with it: that arm's figures are absent, the others'
    // deltas are computed, and what is missing is said.
    let mut smp = with_cpu(samples(8, 25, None));
    for x in smp.iter_mut().filter(|x| x.arm == Arm::B) {
        x.usage = Default::default();
    }
    let s = summarize(&experiment(8, 25, 0), "h", &smp, false);
    assert_eq!(s.cells[0].arms[&Arm::B].cpu_ms, None);
    assert_eq!(cpu_delta(&s, "a_vs_bare").verdict, Verdict::Difference);
    let b = cpu_delta(&s, "b_vs_bare");
    assert_eq!(
        (b.estimate, b.verdict),
        (None, Verdict::InsufficientSamples)
    );
    assert_eq!(
        cpu_delta(&s, "interaction").verdict,
        Verdict::InsufficientSamples
    );
    assert!(
        s.not_shown
            .iter()
            .any(|l| l == "CPU time was not recorded for c1/b: no CPU figure is shown there."),
        "{:?}",
        s.not_shown
    );
}

fn limit(target: u64, kept: std::ops::Range<u64>, sdk: Option<u64>) -> LimitFidelity {
    let indexes: std::collections::BTreeSet<u64> = kept.collect();
    report_model::analysis::span_limits::limit_fidelity(target, &indexes, sdk)
}

#[test]
fn span_limits_take_the_worst_sample_and_each_gate_its_first_cell() {
    let mut e = experiment(6, 0, 0);
    let base = e.cells[0].clone();
    e.cells = vec![
        Cell {
            id: "attrs-100".into(),
            span_attributes: 100,
            ..base.clone()
        },
        Cell {
            id: "attrs-500".into(),
            span_attributes: 500,
            ..base.clone()
        },
        Cell {
            id: "spans-5000".into(),
            spans: 5000,
            ..base
        },
    ];
    let mut all = Vec::new();
    for (id, kind) in [("attrs-100", 0), ("attrs-500", 1), ("spans-5000", 2)] {
        for (i, mut s) in samples(6, 0, None).into_iter().enumerate() {
            s.cell = id.into();
            if s.arm.traces() {
                let l = &mut s.span_limits;
                match kind {
                    0 => l.attributes = Some(limit(100, 0..100, Some(0))),
                    // One sample kept fewer than the others: the cell shows that one.
                    1 if i == 6 => l.attributes = Some(limit(500, 0..100, Some(400))),
                    1 => l.attributes = Some(limit(500, 0..119, Some(381))),
                    // The SDK reports no count for whole spans.
                    _ => l.spans = Some(limit(5000, 0..2560, None)),
                }
            }
            all.push(s);
        }
    }
    let s = summarize(&e, "h", &all, false);
    let f = |id: &str| &s.cells.iter().find(|c| c.id == id).unwrap().fidelity;
    assert_eq!(f("attrs-100").verdict, FidelityVerdict::Clean);
    let worst = f("attrs-500").attributes.clone().unwrap();
    assert_eq!((worst.retained, worst.dropped_by_sdk), (100, Some(400)));
    assert_eq!(worst.pattern, RetentionPattern::OldestKept);
    assert_eq!(f("attrs-500").verdict, FidelityVerdict::Lossy);
    let spans = f("spans-5000").spans.clone().unwrap();
    assert_eq!((spans.dropped_by_sdk, spans.dropped_counted), (None, 2440));
    assert_eq!(s.cells[2].spans, 5000);
    let gates: Vec<(&str, &str)> = s
        .boundaries
        .iter()
        .map(|b| (b.gate.as_str(), b.cell.as_str()))
        .collect();
    assert_eq!(
        gates,
        [
            ("attribute_fidelity", "attrs-500"),
            ("span_drop", "spans-5000")
        ]
    );
    assert_eq!(
        s.boundaries[0].detail,
        "100 of 500 root-span attributes retained (oldest_kept); the SDK reported 400 dropped, tare counted 400"
    );
    assert_eq!(s.boundary.as_ref().unwrap().cell, "attrs-500");
    assert!(
        s.headline.ends_with(". Beyond span events, attributes in attrs-500: 100 of 500 retained (oldest_kept); spans in spans-5000: 2560 of 5000 retained (oldest_kept)."),
        "{}",
        s.headline
    );
    let md = report_model::render::markdown::summary_md(&s);
    assert!(md.contains("| span\\_drop | spans-5000 |"), "{md}");
    assert!(md.contains("| spans-5000 | spans | 5000 | **2560** | 0..2559 | oldest\\_kept | not exposed | 2440 | — |"), "{md}");
    // A disagreeing count fails the gate even when nothing seems lost.
    let mut odd = all.clone();
    for smp in odd
        .iter_mut()
        .filter(|x| x.cell == "attrs-100" && x.arm.traces())
    {
        smp.span_limits.attributes = Some(limit(100, 0..100, Some(3)));
    }
    let s = summarize(&e, "h", &odd, false);
    assert_eq!(s.boundaries[0].cell, "attrs-100");
    assert_eq!(s.cells[0].fidelity.verdict, FidelityVerdict::Lossy);
}

#[test]
fn old_summaries_and_experiments_read_without_the_new_fields() {
    // The viewer fixture's summary.json was written before span limits other than events.
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/bundles/smoke.summary.json"
    ))
    .unwrap();
    let s: Summary = report_model::schema::parse_json("summary.json", &text).unwrap();
    assert!(s.boundaries.is_empty());
    assert!(s
        .cells
        .iter()
        .all(|c| c.fidelity.attributes.is_none() && c.spans == 0));
    let e: Experiment = report_model::schema::parse_toml(
        "e.toml",
        "schema = \"tare.experiment.v1\"\nname = \"x\"\nn = 1\ntimeout_s = 1\narms = [\"b\"]\n[[cells]]\nid = \"c\"\nspan_events = 5\n",
    )
    .unwrap();
    let c = &e.cells[0];
    assert_eq!((c.span_attributes, c.span_links, c.spans), (0, 0, 0));
}
