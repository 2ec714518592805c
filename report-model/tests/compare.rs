//! `tare compare`'s analysis and markdown on synthetic results: verdicts, thresholds, one-sided cells, host classes, summaries, mismatches.

use std::collections::BTreeMap;

use report_model::analysis::compare::{
    compare, is_known_metric, CompareError, Data, Input, Options,
};
use report_model::analysis::summary::summarize;
use report_model::render::compare_md::{compare_md, signed_value, value};
use report_model::schema::compare::{
    ChangeVerdict, CompareReport, InputKind, MetricComparison, Outcome, Presence, Unit,
};
use report_model::schema::experiment::{Arm, Cell, Experiment, Tier};
use report_model::schema::host::{Host, HostClass};
use report_model::schema::sample::Sample;
use report_model::schema::{parse_json, to_canonical_json, Versioned};

fn cell(id: &str, kernel_events: u32) -> Cell {
    Cell {
        id: id.into(),
        kernel_events,
        span_events: 25,
        concurrency: 1,
        payload_bytes: 128,
        span_attributes: 0,
        span_links: 0,
        spans: 0,
        tier: Tier::Smoke,
    }
}

fn experiment(cells: Vec<Cell>, arms: Vec<Arm>, n: u32) -> Experiment {
    Experiment {
        schema: Experiment::SCHEMA.into(),
        name: "smoke".into(),
        tier: Tier::Smoke,
        budget_s: None,
        n,
        warmups: 1,
        timeout_s: 10,
        arms,
        cells,
        commands: BTreeMap::new(),
    }
}

fn host(class: &str) -> Host {
    Host {
        schema: Host::SCHEMA.into(),
        host_class: class.into(),
        // The fields agree with the class string, as on a real host.json.
        arch: HostClass::parse(class).arch,
        kernel_release: HostClass::parse(class).kernel,
        cpu_model: "test cpu".into(),
        cores: 2,
        governor: None,
        load_avg: [0.1, 0.1, 0.1],
        tare_version: "0.1.0".into(),
        git_commit: Some("abc1234".into()),
    }
}

/// A deterministic jitter in [-1, 1) from a counter (no clock, no RNG crate).
fn jitter(i: u64) -> f64 {
    let x = i
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    ((x >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
}

/// n counted samples (plus one warm-up) per cell and arm: wall ~ `wall_ms` x `scale` with
/// +-2% jitter, RSS 1 MiB, artifacts and phases on capture arms.
fn samples(exp: &Experiment, n: u32, scale: f64, seed: u64) -> Vec<Sample> {
    let mut out = Vec::new();
    let mut seq = 0u32;
    for c in &exp.cells {
        for block in 0..=n {
            for &arm in &exp.arms {
                let wall_ms = match arm {
                    Arm::Bare => 10.0,
                    Arm::A => 15.0,
                    Arm::B => 12.0,
                    Arm::C => 17.0,
                } * scale
                    * (1.0 + 0.02 * jitter(seed * 100_003 + u64::from(seq)));
                let mut phases_ns = BTreeMap::new();
                if arm.captures() {
                    phases_ns.insert(
                        "monitor_attach".to_string(),
                        (4e6 * (1.0 + 0.01 * jitter(seed + u64::from(seq) * 7))) as u64,
                    );
                    phases_ns.insert("event_flush".to_string(), 700_000);
                }
                out.push(Sample {
                    schema: Sample::SCHEMA.into(),
                    cell: c.id.clone(),
                    arm,
                    seq,
                    pair: block.checked_sub(1),
                    warmup: block == 0,
                    valid: true,
                    discard_reason: None,
                    exit_code: Some(0),
                    wall_ns: (wall_ms * 1e6) as u64,
                    peak_rss_bytes: Some(1 << 20),
                    rss_method: None,
                    tare_peak_rss_bytes: arm.captures().then_some(10 << 20),
                    usage: Default::default(),
                    artifact_bytes: if arm == Arm::Bare { 0 } else { 4096 },
                    phases_ns,
                    kernel_events: None,
                    kernel_fidelity: None,
                    span_fidelity: None,
                    span_limits: Default::default(),
                    archive: None,
                });
                seq += 1;
            }
        }
    }
    out
}

fn input(source: &str, exp: Experiment, host_class: &str, samples: Vec<Sample>) -> Input {
    Input {
        source: source.into(),
        kind: InputKind::ResultsDir,
        data: Data::Samples {
            experiment: exp,
            host: host(host_class),
            samples,
        },
    }
}

const HOST: &str = "linux-x86_64-6.18.0";

fn pair(n: u32, scale: f64) -> (Input, Input) {
    let exp = experiment(vec![cell("k25", 25)], Arm::ALL.to_vec(), n);
    let base = input("base", exp.clone(), HOST, samples(&exp, n, 1.0, 1));
    let cand = input("cand", exp.clone(), HOST, samples(&exp, n, scale, 2));
    (base, cand)
}

fn metric<'a>(r: &'a CompareReport, cell: &str, arm: Arm, name: &str) -> &'a MetricComparison {
    r.cells
        .iter()
        .find(|c| c.id == cell)
        .and_then(|c| c.arms.iter().find(|a| a.arm == arm))
        .and_then(|a| a.metrics.iter().find(|m| m.metric == name))
        .unwrap_or_else(|| panic!("no {cell}/{arm:?}/{name}"))
}

fn all_metrics(r: &CompareReport) -> Vec<&MetricComparison> {
    r.cells
        .iter()
        .flat_map(|c| &c.arms)
        .flat_map(|a| &a.metrics)
        .collect()
}

#[test]
fn identical_inputs_have_no_detectable_change() {
    let (base, _) = pair(10, 1.0);
    let r = compare(&base, &base.clone(), &Options::default()).unwrap();
    assert_eq!(r.schema, "tare.compare.v1");
    assert_eq!(r.outcome, Outcome::NoRegression);
    assert!(r.statistical);
    assert_eq!(r.host_mismatch, None);
    let ms = all_metrics(&r);
    // 4 arms x wall + rss; A, B and C: wall_ratio and artifacts (bare writes none); A and C:
    // tare rss + 2 phases.
    assert_eq!(ms.len(), 4 * 2 + 3 * 2 + 2 * 3);
    for m in &ms {
        assert_eq!(m.verdict, ChangeVerdict::NoDetectableChange, "{}", m.metric);
        assert_eq!(m.shift, Some(0.0), "{}", m.metric);
        assert_eq!((m.n_base, m.n_cand), (10, 10), "warm-ups are not counted");
    }
    assert_eq!(r.counts.no_detectable_change, ms.len() as u32);
    assert_eq!(r.counts.regression, 0);
    let bare = &r.cells[0].arms[0];
    assert_eq!(bare.arm, Arm::Bare);
    assert!(
        !bare.metrics.iter().any(|m| m.metric == "artifact_bytes"),
        "an arm that writes nothing on both sides has no artifact row"
    );
    assert!(r.headline.starts_with("No regression"), "{}", r.headline);
    assert!(r.notes.is_empty(), "{:?}", r.notes);
}

#[test]
fn a_twenty_percent_shift_is_a_regression() {
    let (base, cand) = pair(8, 1.2);
    let r = compare(&base, &cand, &Options::default()).unwrap();
    assert_eq!(r.outcome, Outcome::Regression);
    for arm in Arm::ALL {
        let m = metric(&r, "k25", arm, "wall_ms");
        assert_eq!(m.verdict, ChangeVerdict::Regression, "{arm:?}");
        let (lo, hi) = (m.ci_low_pct.unwrap(), m.ci_high_pct.unwrap());
        assert!(lo > 5.0 && lo < 20.0 && hi > 20.0, "{lo}..{hi}");
        assert!((m.shift_pct.unwrap() - 20.0).abs() < 3.0);
        assert!(m.p_value.unwrap() < 0.01);
        assert_eq!(m.threshold_pct, 5.0);
    }
    // RSS, artifacts and phases did not move.
    assert_eq!(
        metric(&r, "k25", Arm::A, "phases.monitor_attach").verdict,
        ChangeVerdict::NoDetectableChange
    );
    assert_eq!(r.counts.regression, 4);
    assert!(
        r.headline.starts_with("4 regressions: k25/bare/wall_ms +"),
        "{}",
        r.headline
    );
}

#[test]
fn wall_ratio_keeps_still_when_the_machine_slows_and_moves_when_observing_does() {
    let exp = experiment(vec![cell("k25", 25)], Arm::ALL.to_vec(), 10);
    let base = input("base", exp.clone(), HOST, samples(&exp, 10, 1.0, 1));
    let ratio = |r: &CompareReport, arm| metric(r, "k25", arm, "wall_ratio").clone();
    // Each arm over the bare sample of its own block: A is 15 ms over bare's 10 ms.
    let r = compare(&base, &base.clone(), &Options::default()).unwrap();
    let a = ratio(&r, Arm::A);
    assert_eq!(a.unit, Unit::Ratio);
    assert!((a.base_median.unwrap() - 1.5).abs() < 0.03, "{a:?}");
    assert!(r.cells[0].arms[0]
        .metrics
        .iter()
        .all(|m| m.metric != "wall_ratio"));

    // The whole machine 20% slower: every wall_ms regresses, no wall_ratio moves.
    let slow = input("cand", exp.clone(), HOST, samples(&exp, 10, 1.2, 2));
    let r = compare(&base, &slow, &Options::default()).unwrap();
    for arm in [Arm::A, Arm::B, Arm::C] {
        assert_eq!(
            metric(&r, "k25", arm, "wall_ms").verdict,
            ChangeVerdict::Regression
        );
        assert_eq!(
            ratio(&r, arm).verdict,
            ChangeVerdict::NoDetectableChange,
            "{arm:?}"
        );
    }

    // Capture 20% slower, the workload not: the capture arms' ratios regress by about 20%.
    let mut s = samples(&exp, 10, 1.0, 2);
    for x in s.iter_mut().filter(|x| x.arm.captures()) {
        x.wall_ns = (x.wall_ns as f64 * 1.2) as u64;
    }
    let r = compare(
        &base,
        &input("cand", exp.clone(), HOST, s),
        &Options::default(),
    )
    .unwrap();
    for arm in [Arm::A, Arm::C] {
        let m = ratio(&r, arm);
        assert_eq!(m.verdict, ChangeVerdict::Regression, "{arm:?}");
        assert!((m.shift_pct.unwrap() - 20.0).abs() < 4.0, "{m:?}");
    }
    assert_eq!(ratio(&r, Arm::B).verdict, ChangeVerdict::NoDetectableChange);
    assert_eq!(
        metric(&r, "k25", Arm::Bare, "wall_ms").verdict,
        ChangeVerdict::NoDetectableChange
    );
}

/// `smp` with the figures newer samples carry: the workload's CPU (bare 8 ms, A 12, B 9, C 13,
/// a quarter of it system time) x `scale(arm)` with +-2% jitter; tare's own CPU (4 ms),
/// charged memory (5 MiB) and summed RSS (2 MiB).
fn with_cpu(mut smp: Vec<Sample>, scale: impl Fn(Arm) -> f64, seed: u64) -> Vec<Sample> {
    for s in &mut smp {
        let ms = match s.arm {
            Arm::Bare => 8.0,
            Arm::A => 12.0,
            Arm::B => 9.0,
            Arm::C => 13.0,
        } * scale(s.arm)
            * (1.0 + 0.02 * jitter(seed * 7_919 + u64::from(s.seq) + 1_000_000));
        let ns = (ms * 1e6) as u64;
        s.usage.cpu_user_ns = Some(ns - ns / 4);
        s.usage.cpu_sys_ns = Some(ns / 4);
        s.usage.memory_peak_bytes = Some(5 << 20);
        s.usage.rss_sum_bytes = Some(2 << 20);
        if s.arm.captures() {
            s.usage.tare_cpu_user_ns = Some(3_000_000);
            s.usage.tare_cpu_sys_ns = Some(1_000_000);
        }
    }
    smp
}

#[test]
fn cpu_ratio_keeps_still_when_the_machine_slows_and_moves_when_observing_does() {
    let exp = experiment(vec![cell("k25", 25)], Arm::ALL.to_vec(), 10);
    let cpu_input = |name: &str, scale: fn(Arm) -> f64, seed: u64| {
        let smp = with_cpu(samples(&exp, 10, 1.0, seed), scale, seed);
        input(name, exp.clone(), HOST, smp)
    };
    let base = cpu_input("base", |_| 1.0, 1);
    let get = |r: &CompareReport, arm, name: &str| metric(r, "k25", arm, name).clone();

    // Every figure is compared; A's CPU is 12 ms over bare's 8 in its block.
    let r = compare(&base, &base.clone(), &Options::default()).unwrap();
    let a = get(&r, Arm::A, "cpu_ratio");
    assert_eq!(a.unit, Unit::Ratio);
    assert!((a.base_median.unwrap() - 1.5).abs() < 0.03, "{a:?}");
    let cpu = get(&r, Arm::Bare, "cpu_ms");
    assert_eq!(cpu.unit, Unit::Ms);
    assert!((cpu.base_median.unwrap() - 8.0).abs() < 0.2, "{cpu:?}");
    let names = |arm| -> Vec<String> {
        r.cells[0]
            .arms
            .iter()
            .find(|x| x.arm == arm)
            .unwrap()
            .metrics
            .iter()
            .map(|m| m.metric.clone())
            .collect()
    };
    assert_eq!(
        names(Arm::A)[..9],
        [
            "wall_ms",
            "wall_ratio",
            "cpu_ms",
            "cpu_ratio",
            "peak_rss_bytes",
            "rss_sum_bytes",
            "memory_peak_bytes",
            "tare_peak_rss_bytes",
            "tare_cpu_ms",
        ]
    );
    assert!(!names(Arm::Bare)
        .iter()
        .any(|m| m == "cpu_ratio" || m == "tare_cpu_ms"));
    assert!(all_metrics(&r)
        .iter()
        .all(|m| m.verdict == ChangeVerdict::NoDetectableChange));
    assert!(r.notes.is_empty(), "{:?}", r.notes);

    // A's CPU 20% higher, nothing else: cpu_ms and cpu_ratio of A regress by about 20%.
    let r = compare(
        &base,
        &cpu_input("cand", |arm| if arm == Arm::A { 1.2 } else { 1.0 }, 2),
        &Options::default(),
    )
    .unwrap();
    for name in ["cpu_ms", "cpu_ratio"] {
        let m = get(&r, Arm::A, name);
        assert_eq!(m.verdict, ChangeVerdict::Regression, "{name}: {m:?}");
        assert!((m.shift_pct.unwrap() - 20.0).abs() < 4.0, "{name}: {m:?}");
    }
    for arm in [Arm::B, Arm::C] {
        assert_eq!(
            get(&r, arm, "cpu_ratio").verdict,
            ChangeVerdict::NoDetectableChange
        );
    }
    assert_eq!(
        get(&r, Arm::Bare, "cpu_ms").verdict,
        ChangeVerdict::NoDetectableChange
    );
    assert_eq!(
        get(&r, Arm::A, "wall_ms").verdict,
        ChangeVerdict::NoDetectableChange
    );
    assert_eq!(r.outcome, Outcome::Regression);

    // The whole machine's CPU 20% slower: every cpu_ms regresses, no cpu_ratio moves.
    let r = compare(&base, &cpu_input("cand", |_| 1.2, 2), &Options::default()).unwrap();
    for arm in Arm::ALL {
        let m = get(&r, arm, "cpu_ms");
        assert_eq!(m.verdict, ChangeVerdict::Regression, "{arm:?}");
        assert!((m.shift_pct.unwrap() - 20.0).abs() < 4.0, "{m:?}");
    }
    for arm in [Arm::A, Arm::B, Arm::C] {
        assert_eq!(
            get(&r, arm, "cpu_ratio").verdict,
            ChangeVerdict::NoDetectableChange,
            "{arm:?}"
        );
    }
}

#[test]
fn cpu_and_memory_on_one_side_only_are_skipped_with_a_note() {
    let (old, _) = pair(8, 1.0);
    let Data::Samples { experiment, .. } = &old.data else {
        unreachable!()
    };
    let exp = experiment.clone();
    let new = input(
        "cand",
        exp.clone(),
        HOST,
        with_cpu(samples(&exp, 8, 1.0, 2), |_| 1.2, 2),
    );
    let r = compare(&old, &new, &Options::default()).unwrap();
    // Only what both sides measured: the same metrics as two old results.
    let plain = compare(&old, &old.clone(), &Options::default()).unwrap();
    assert_eq!(all_metrics(&r).len(), all_metrics(&plain).len());
    assert!(!all_metrics(&r)
        .iter()
        .any(|m| m.metric.starts_with("cpu") || m.metric.contains("memory")));
    assert_eq!(r.counts.insufficient_samples, 0);
    assert_eq!(r.outcome, Outcome::NoRegression);
    assert_eq!(
        r.notes,
        [
            "Not compared, measured on one side only: `cpu_ms`, `cpu_ratio`, `memory_peak_bytes`, \
          `rss_sum_bytes`, `tare_cpu_ms` (samples from before tare recorded CPU time and charged \
          memory, or a host without the cgroup memory controller)."
        ]
    );
    for name in [
        "cpu_ms",
        "cpu_ratio",
        "tare_cpu_ms",
        "memory_peak_bytes",
        "rss_sum_bytes",
    ] {
        assert!(is_known_metric(name), "{name}");
    }
}

#[test]
fn a_twenty_percent_drop_is_an_improvement() {
    let (base, cand) = pair(8, 0.8);
    let r = compare(&base, &cand, &Options::default()).unwrap();
    assert_eq!(r.outcome, Outcome::NoRegression);
    assert_eq!(r.counts.improvement, 4);
    assert_eq!(
        metric(&r, "k25", Arm::C, "wall_ms").verdict,
        ChangeVerdict::Improvement
    );
}

#[test]
fn shifts_inside_the_threshold_are_not_regressions_and_overrides_apply() {
    // +3%: the CI excludes zero (the jitter is 2%) but not the 5% band.
    let (base, cand) = pair(30, 1.03);
    let r = compare(&base, &cand, &Options::default()).unwrap();
    let m = metric(&r, "k25", Arm::Bare, "wall_ms");
    assert!(m.ci_low.unwrap() > 0.0, "{m:?}");
    assert_eq!(m.verdict, ChangeVerdict::NoDetectableChange);
    assert_eq!(r.outcome, Outcome::NoRegression);

    let mut opts = Options::default();
    opts.metric_thresholds.insert("wall_ms".into(), 1.0);
    let r = compare(&base, &cand, &opts).unwrap();
    let m = metric(&r, "k25", Arm::Bare, "wall_ms");
    assert_eq!(
        (m.verdict, m.threshold_pct),
        (ChangeVerdict::Regression, 1.0)
    );
    assert_eq!(r.metric_thresholds.len(), 1);

    // A 20% shift under a 25% threshold is no regression.
    let (base, cand) = pair(8, 1.2);
    let opts = Options {
        threshold_pct: 25.0,
        ..Options::default()
    };
    assert_eq!(
        compare(&base, &cand, &opts).unwrap().outcome,
        Outcome::NoRegression
    );
}

#[test]
fn phase_thresholds_by_group_and_by_name() {
    let mut opts = Options::default();
    opts.metric_thresholds.insert("phases".into(), 50.0);
    opts.metric_thresholds
        .insert("phases.monitor_attach".into(), 2.0);
    assert_eq!(opts.threshold_for("phases.event_flush"), 50.0);
    assert_eq!(opts.threshold_for("phases.monitor_attach"), 2.0);
    assert_eq!(opts.threshold_for("wall_ms"), 5.0);
    assert!(is_known_metric("phases.monitor_attach"));
    assert!(is_known_metric("phases"));
    assert!(is_known_metric("tare_peak_rss_bytes"));
    assert!(!is_known_metric("phases.nope"));
    assert!(!is_known_metric("wall"));
}

#[test]
fn too_few_samples_are_insufficient() {
    let (base, cand) = pair(3, 1.5);
    let r = compare(&base, &cand, &Options::default()).unwrap();
    let m = metric(&r, "k25", Arm::Bare, "wall_ms");
    assert_eq!(m.verdict, ChangeVerdict::InsufficientSamples);
    assert!(m.note.as_deref().unwrap().contains("at least 4"));
    assert_eq!(m.shift, None);
    assert_eq!(r.outcome, Outcome::NoRegression);
    assert!(
        r.headline.contains("with too few samples"),
        "{}",
        r.headline
    );
}

#[test]
fn cells_and_arms_on_one_side_are_reported() {
    let base_exp = experiment(
        vec![cell("k25", 25), cell("old", 1)],
        vec![Arm::Bare, Arm::A],
        6,
    );
    let cand_exp = experiment(
        vec![cell("k25", 25), cell("new", 2)],
        vec![Arm::Bare, Arm::C],
        6,
    );
    let base = input("b", base_exp.clone(), HOST, samples(&base_exp, 6, 1.0, 1));
    let cand = input("c", cand_exp.clone(), HOST, samples(&cand_exp, 6, 1.0, 2));
    let r = compare(&base, &cand, &Options::default()).unwrap();
    let presence: Vec<(&str, Presence)> = r
        .cells
        .iter()
        .map(|c| (c.id.as_str(), c.presence))
        .collect();
    assert_eq!(
        presence,
        [
            ("k25", Presence::Both),
            ("old", Presence::BaseOnly),
            ("new", Presence::CandOnly)
        ]
    );
    let arms: Vec<(Arm, Presence, usize)> = r.cells[0]
        .arms
        .iter()
        .map(|a| (a.arm, a.presence, a.metrics.len()))
        .collect();
    assert_eq!(
        arms,
        [
            (Arm::Bare, Presence::Both, 2),
            (Arm::A, Presence::BaseOnly, 0),
            (Arm::C, Presence::CandOnly, 0)
        ]
    );
    assert_eq!(r.cells[0].arms[1].valid_base, 6);
    assert_eq!(r.cells[0].arms[1].valid_cand, 0);
    for needle in [
        "Cell `old` is in base only",
        "Cell `new` is in cand only",
        "Arm a of cell `k25` is in base only",
        "Arm c of cell `k25` is in cand only",
    ] {
        assert!(r.notes.iter().any(|n| n.contains(needle)), "{needle}");
    }
    let md = compare_md(&r);
    assert!(md.contains("## On one side only"), "{md}");
    assert!(md.contains("- cell old: base only"), "{md}");
    assert!(
        md.contains("- cell k25, arm C (capture + OTel): cand only"),
        "{md}"
    );
}

#[test]
fn a_metric_on_one_side_only_is_reported() {
    let (base, mut cand) = pair(6, 1.0);
    if let Data::Samples { samples, .. } = &mut cand.data {
        for s in samples.iter_mut().filter(|s| s.arm == Arm::A) {
            s.phases_ns.insert("archive_write".into(), 1_000_000);
            s.phases_ns.remove("event_flush");
        }
    }
    let r = compare(&base, &cand, &Options::default()).unwrap();
    let m = metric(&r, "k25", Arm::A, "phases.archive_write");
    assert_eq!(
        (m.presence, m.verdict, m.n_base),
        (Presence::CandOnly, ChangeVerdict::InsufficientSamples, 0)
    );
    let m = metric(&r, "k25", Arm::A, "phases.event_flush");
    assert_eq!(m.presence, Presence::BaseOnly);
    assert_eq!(m.note.as_deref(), Some("measured in base only"));
}

#[test]
fn different_host_classes_are_flagged() {
    let exp = experiment(vec![cell("k25", 25)], vec![Arm::Bare], 6);
    let base = input("b", exp.clone(), HOST, samples(&exp, 6, 1.0, 1));
    let cand = input(
        "c",
        exp.clone(),
        "linux-aarch64-6.1.0",
        samples(&exp, 6, 1.0, 2),
    );
    let r = compare(&base, &cand, &Options::default()).unwrap();
    let h = r.host_mismatch.as_ref().unwrap();
    assert_eq!(
        (h.base.as_str(), h.cand.as_str()),
        (HOST, "linux-aarch64-6.1.0")
    );
    assert!(
        r.headline
            .starts_with("Different host classes, not a benchmark claim."),
        "{}",
        r.headline
    );
    let parts: Vec<_> = h
        .parts
        .iter()
        .map(|d| (d.part.as_str(), d.base.as_str(), d.cand.as_str()))
        .collect();
    assert_eq!(
        parts,
        [("arch", "x86_64", "aarch64"), ("kernel", "6.18", "6.1")]
    );
    assert!(
        r.notes[0].contains("Host classes differ in arch x86_64 vs aarch64, kernel 6.18 vs 6.1"),
        "{}",
        r.notes[0]
    );
    let md = compare_md(&r);
    assert!(
        md.contains("> [!CAUTION]\n> Host classes differ in arch"),
        "{md}"
    );
}

/// The smoke gate's case: the baseline was recorded on another CPU model.
#[test]
fn across_host_classes_only_ratios_and_sizes_are_judged() {
    let exp = experiment(vec![cell("k25", 25)], Arm::ALL.to_vec(), 10);
    let base = input("base", exp.clone(), HOST, samples(&exp, 10, 1.0, 1));
    let other = |s: Vec<Sample>| {
        let mut c = input("cand", exp.clone(), HOST, s);
        if let Data::Samples { host, .. } = &mut c.data {
            host.cpu_model = "a slower cpu".into();
        }
        c
    };
    // A machine 40% slower everywhere: every time would regress, no ratio moves.
    let slow = other(samples(&exp, 10, 1.4, 2));
    let r = compare(&base, &slow, &Options::default()).unwrap();
    assert!(r.host_mismatch.is_some());
    assert_eq!(r.outcome, Outcome::NoRegression, "{}", r.headline);
    for arm in Arm::ALL {
        let m = metric(&r, "k25", arm, "wall_ms");
        assert_eq!(m.verdict, ChangeVerdict::NotCompared, "{arm:?}");
        // Still shown: the shift and its interval are computed.
        assert!((m.shift_pct.unwrap() - 40.0).abs() < 5.0, "{m:?}");
        assert!(m.note.as_deref().unwrap().contains("--cross-host-times"));
    }
    assert_eq!(
        metric(&r, "k25", Arm::A, "phases.monitor_attach").verdict,
        ChangeVerdict::NotCompared
    );
    assert_eq!(
        metric(&r, "k25", Arm::A, "wall_ratio").verdict,
        ChangeVerdict::NoDetectableChange
    );
    assert!(
        r.notes.iter().any(|n| n.starts_with("So absolute times")),
        "{:?}",
        r.notes
    );
    // Asked to, the times are judged: the slower machine is a regression again.
    let opts = Options {
        cross_host_times: true,
        ..Options::default()
    };
    let r = compare(&base, &slow, &opts).unwrap();
    assert_eq!(r.outcome, Outcome::Regression);
    assert_eq!(
        metric(&r, "k25", Arm::Bare, "wall_ms").verdict,
        ChangeVerdict::Regression
    );
    // Capture 20% slower than its own bare arm on the other machine: the ratio still catches it.
    let mut s = samples(&exp, 10, 1.4, 2);
    for x in s.iter_mut().filter(|x| x.arm.captures()) {
        x.wall_ns = (x.wall_ns as f64 * 1.2) as u64;
    }
    let r = compare(&base, &other(s), &Options::default()).unwrap();
    assert_eq!(r.outcome, Outcome::Regression);
    assert_eq!(
        metric(&r, "k25", Arm::A, "wall_ratio").verdict,
        ChangeVerdict::Regression
    );
    assert_eq!(
        metric(&r, "k25", Arm::A, "wall_ms").verdict,
        ChangeVerdict::NotCompared
    );
}

#[test]
fn one_kernel_with_two_local_versions_is_one_host_class() {
    // Two machines of one kind: the kernel's local version string differs, nothing else.
    let exp = experiment(vec![cell("k25", 25)], vec![Arm::Bare], 6);
    let mut base = input("b", exp.clone(), HOST, samples(&exp, 6, 1.0, 1));
    let mut cand = input("c", exp.clone(), HOST, samples(&exp, 6, 1.0, 2));
    for (inp, release) in [
        (&mut base, "6.18.44-fc-v669"),
        (&mut cand, "6.18.44-fc-v1045"),
    ] {
        if let Data::Samples { host, .. } = &mut inp.data {
            host.kernel_release = release.into();
            host.host_class = format!("linux-x86_64-{release}");
        }
    }
    let r = compare(&base, &cand, &Options::default()).unwrap();
    assert_eq!(r.host_mismatch, None);
    assert!(
        !r.headline.starts_with("Different host classes"),
        "{}",
        r.headline
    );
    assert!(
        r.notes.iter().any(|n| n.starts_with("One host class")),
        "{:?}",
        r.notes
    );
    // A different core count is a different class.
    if let Data::Samples { host, .. } = &mut cand.data {
        host.cores = 4;
    }
    let r = compare(&base, &cand, &Options::default()).unwrap();
    let h = r.host_mismatch.expect("4 cores against 2 is another class");
    assert_eq!(h.parts.len(), 1);
    assert_eq!(
        (h.parts[0].part.as_str(), h.parts[0].cand.as_str()),
        ("cores", "4")
    );
}

#[test]
fn summaries_alone_are_not_compared() {
    let (base, cand) = pair(6, 1.5);
    let Data::Samples {
        experiment,
        host,
        samples,
    } = &cand.data
    else {
        unreachable!()
    };
    let summary = summarize(experiment, &host.host_class, samples, false);
    let cand = Input {
        source: "cand/summary.json".into(),
        kind: InputKind::SummaryJson,
        data: Data::Summary(summary),
    };
    let r = compare(&base, &cand, &Options::default()).unwrap();
    assert!(!r.statistical);
    assert_eq!(r.outcome, Outcome::NotCompared);
    assert_eq!(r.counts.regression, 0);
    let m = metric(&r, "k25", Arm::Bare, "wall_ms");
    assert_eq!(m.verdict, ChangeVerdict::NotCompared);
    assert_eq!((m.shift, m.ci_low, m.p_value), (None, None, None));
    assert!((m.median_change_pct.unwrap() - 50.0).abs() < 3.0);
    assert!(
        r.notes[0].starts_with(
            "No statistical comparison is possible without samples: cand is a summary.json only"
        ),
        "{}",
        r.notes[0]
    );
    assert!(r.headline.starts_with("No statistical comparison"));
    assert!(!r.cand.samples && r.base.samples);
    let md = compare_md(&r);
    assert!(
        md.contains("[!WARNING]") && md.contains("medians +"),
        "{md}"
    );
}

#[test]
fn inputs_with_nothing_in_common_are_a_mismatch() {
    let a = experiment(vec![cell("k25", 25)], vec![Arm::Bare], 6);
    let b = experiment(vec![cell("k100", 100)], vec![Arm::Bare], 6);
    let base = input("results/one", a.clone(), HOST, samples(&a, 6, 1.0, 1));
    let cand = input("results/two", b.clone(), HOST, samples(&b, 6, 1.0, 2));
    let err = compare(&base, &cand, &Options::default()).unwrap_err();
    assert!(matches!(err, CompareError::Mismatch(_)));
    let msg = err.to_string();
    assert!(
        msg.contains("results/one and results/two have no cell in common")
            && msg.contains("base cells: k25; cand cells: k100"),
        "{msg}"
    );
}

#[test]
fn one_cell_id_with_other_parameters_is_a_mismatch() {
    let a = experiment(vec![cell("k25", 25)], vec![Arm::Bare], 6);
    let b = experiment(vec![cell("k25", 100)], vec![Arm::Bare], 6);
    let base = input(
        "base.bundle.tar.gz",
        a.clone(),
        HOST,
        samples(&a, 6, 1.0, 1),
    );
    let cand = input("cand", b.clone(), HOST, samples(&b, 6, 1.0, 2));
    let msg = compare(&base, &cand, &Options::default())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("cell `k25` is not the same cell on both sides")
            && msg.contains("kernel_events 25 in base.bundle.tar.gz, 100 in cand"),
        "{msg}"
    );
}

#[test]
fn bad_options_are_errors() {
    let (base, cand) = pair(4, 1.0);
    for opts in [
        Options {
            threshold_pct: -1.0,
            ..Options::default()
        },
        Options {
            threshold_pct: f64::NAN,
            ..Options::default()
        },
        Options {
            level: 1.0,
            ..Options::default()
        },
    ] {
        assert!(matches!(
            compare(&base, &cand, &opts),
            Err(CompareError::Option(_))
        ));
    }
    let mut opts = Options::default();
    opts.metric_thresholds.insert("wall_ms".into(), -3.0);
    let msg = compare(&base, &cand, &opts).unwrap_err().to_string();
    assert!(msg.contains("the threshold of `wall_ms`"), "{msg}");
}

#[test]
fn notes_say_what_else_differs() {
    let exp = experiment(vec![cell("k25", 25)], vec![Arm::Bare], 6);
    let mut other = exp.clone();
    other.name = "smoke-slow".into();
    other.n = 8;
    other
        .commands
        .insert(Arm::Bare, "sh -c 'sleep 0.01; exec w'".into());
    let base = input("b", exp.clone(), HOST, samples(&exp, 6, 1.0, 1));
    let mut cand = input("c", other.clone(), HOST, samples(&other, 8, 1.0, 2));
    if let Data::Samples { host, .. } = &mut cand.data {
        host.load_avg = [5.0, 4.0, 3.0];
    }
    let r = compare(&base, &cand, &Options::default()).unwrap();
    let all = r.notes.join("\n");
    for needle in [
        "Experiments differ by name: base `smoke`, cand `smoke-slow`",
        "The arm commands differ (arms bare)",
        "n differs: base 6 samples per arm and cell, cand 8",
        "The cand run started at load average 5.00 on 2 cores",
    ] {
        assert!(all.contains(needle), "{needle} in\n{all}");
    }
}

#[test]
fn the_report_round_trips_and_the_markdown_is_escaped() {
    let exp = experiment(vec![cell("k25", 25)], vec![Arm::Bare, Arm::A], 6);
    let mut base = input(
        "<b>|x",
        exp.clone(),
        "linux-<script>|",
        samples(&exp, 6, 1.0, 1),
    );
    if let Data::Samples { experiment, .. } = &mut base.data {
        experiment.name = "*evil* [l](u)".into();
    }
    let cand = input("c", exp.clone(), HOST, samples(&exp, 6, 1.3, 2));
    let opts = Options {
        cross_host_times: true,
        ..Options::default()
    };
    let r = compare(&base, &cand, &opts).unwrap();
    let json = to_canonical_json("compare.json", &r).unwrap();
    let back: CompareReport = parse_json("compare.json", &json).unwrap();
    // serde_json parses floats to within an ulp; the structure and verdicts are exact.
    assert_eq!(
        (
            &back.cells[0].arms[0].metrics[0].verdict,
            &back.outcome,
            &back.notes
        ),
        (&r.cells[0].arms[0].metrics[0].verdict, &r.outcome, &r.notes)
    );
    assert_eq!(back.headline, r.headline);
    assert_eq!(back.counts, r.counts);
    assert_eq!(CompareReport::SCHEMA, "tare.compare.v1");
    let md = compare_md(&r);
    assert!(!md.contains("<script>") && !md.contains("<b>"), "{md}");
    assert!(md.contains("\\*evil\\* \\[l\\](u)"), "{md}");
    assert!(md.contains("## Regressions and improvements"), "{md}");
    assert!(md.contains("| k25/bare/wall\\_ms | 10.0"), "{md}");
    assert!(md.contains("## Cell k25"), "{md}");
    // Every table row has the header's number of cells.
    for table in md.split("\n\n").filter(|b| b.starts_with('|')) {
        let cols = |l: &str| l.replace("\\|", "").matches('|').count();
        let mut lines = table.lines();
        let head = cols(lines.next().unwrap());
        for l in lines {
            assert_eq!(cols(l), head, "{l}");
        }
    }
}

#[test]
fn units_format() {
    assert_eq!(value(Unit::Ms, 12.345), "12.35 ms");
    assert_eq!(value(Unit::Bytes, 512.0), "512 B");
    assert_eq!(value(Unit::Bytes, 2560.0), "2.5 KiB");
    assert_eq!(value(Unit::Bytes, 10.5 * 1024.0 * 1024.0), "10.5 MiB");
    assert_eq!(signed_value(Unit::Bytes, -2048.0), "-2.0 KiB");
    assert_eq!(signed_value(Unit::Bytes, 0.0), "+0 B");
    assert_eq!(signed_value(Unit::Ms, 1.5), "+1.50 ms");
    assert_eq!(value(Unit::Ms, f64::NAN), "—");
    assert_eq!(value(Unit::Ratio, 6.1394), "x6.139");
    assert_eq!(signed_value(Unit::Ratio, -0.25), "-0.250");
}
