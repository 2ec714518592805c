//! summary.json from synthetic samples: validity, gates, deltas and verdicts, fidelity, boundary.

use std::collections::BTreeMap;

use report_model::analysis::summary::{summarize, RSS_CLAIM_N, WALL_CLAIM_N};
use report_model::schema::experiment::{Arm, Cell, Experiment, Tier};
use report_model::schema::sample::{KernelFidelity, RetentionPattern, Sample, SpanFidelity};
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
                artifact_bytes: 100,
                phases_ns: BTreeMap::new(),
                kernel_events: arm.captures().then_some(75),
                kernel_fidelity: arm.captures().then_some(KernelFidelity {
                    target: 25,
                    unique_worker_files: kernel_seen,
                }),
                span_fidelity: if arm.traces() { span.clone() } else { None },
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
