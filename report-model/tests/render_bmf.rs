//! bmf.json: names, values and bounds equal the summary's numbers; JSON round trip; determinism.

#[path = "render_fixture.rs"]
mod fixture;

use fixture::{fixture, hostile, usage_fixture, CLEAN, HOSTILE, LOSSY};
use report_model::render::bmf::{
    to_bmf, CPU_TIME_DELTA_MS, CPU_TIME_MS, MEMORY_PEAK_BYTES, PEAK_RSS_BYTES, TARE_CPU_TIME_MS,
    WALL_CLOCK_DELTA_MS, WALL_CLOCK_MS,
};
use report_model::schema::bmf::{parse_bmf, Bmf};
use report_model::stats::Distribution;

/// serde_json's default float parser may be one ulp off the shortest representation it
/// wrote, so a round trip is compared to 1e-12 relative.
fn assert_close(a: &Bmf, b: &Bmf) {
    assert_eq!(a.len(), b.len());
    for ((ka, ma), (kb, mb)) in a.iter().zip(b) {
        assert_eq!(ka, kb);
        assert_eq!(ma.len(), mb.len());
        for ((na, x), (nb, y)) in ma.iter().zip(mb) {
            assert_eq!(na, nb);
            let close = |p: f64, q: f64| (p - q).abs() <= 1e-12 * p.abs().max(q.abs()).max(1.0);
            assert!(close(x.value, y.value), "{ka}/{na}");
            assert_eq!(x.lower_value.is_some(), y.lower_value.is_some());
            assert_eq!(x.upper_value.is_some(), y.upper_value.is_some());
            if let (Some(p), Some(q)) = (x.lower_value, y.lower_value) {
                assert!(close(p, q));
            }
            if let (Some(p), Some(q)) = (x.upper_value, y.upper_value) {
                assert!(close(p, q));
            }
        }
    }
}

#[test]
fn bmf_names_values_and_bounds() {
    let (summary, _) = fixture();
    let bmf = to_bmf(&summary);
    // 2 cells x (4 arms + 5 comparisons + interaction).
    assert_eq!(bmf.len(), 20);
    let names: Vec<&str> = bmf.keys().map(String::as_str).collect();
    for id in [LOSSY, CLEAN] {
        for suffix in [
            "bare",
            "a",
            "b",
            "c",
            "a_vs_bare",
            "b_vs_bare",
            "c_vs_bare",
            "c_vs_a",
            "c_vs_b",
            "interaction",
        ] {
            let name = format!("{id}/{suffix}");
            assert!(names.contains(&name.as_str()), "{name}");
        }
    }
    for cell in &summary.cells {
        for (arm, a) in &cell.arms {
            let b = &bmf[&format!("{}/{}", cell.id, arm.as_str())];
            assert_eq!(b.len(), 2);
            let w = a.wall_ms.as_ref().unwrap();
            let m = &b[WALL_CLOCK_MS];
            assert_eq!(
                (Some(m.value), m.lower_value, m.upper_value),
                (Some(w.median), Some(w.min), Some(w.p95))
            );
            let r = a.rss_bytes.as_ref().unwrap();
            let m = &b[PEAK_RSS_BYTES];
            assert_eq!(
                (Some(m.value), m.lower_value, m.upper_value),
                (Some(r.median), Some(r.min), Some(r.p95))
            );
        }
        for d in &cell.deltas {
            let b = &bmf[&format!("{}/{}", cell.id, d.name)];
            assert_eq!(b.len(), 1);
            let m = &b[WALL_CLOCK_DELTA_MS];
            assert_eq!(
                (Some(m.value), m.lower_value, m.upper_value),
                (d.estimate, d.ci_low, d.ci_high)
            );
            assert!(m.lower_value.unwrap() <= m.value && m.value <= m.upper_value.unwrap());
        }
    }
}

#[test]
fn bmf_has_cpu_and_memory_measures_when_measured() {
    let (summary, _) = usage_fixture();
    let bmf = to_bmf(&summary);
    assert_eq!(bmf.len(), 20, "the same benchmarks, more measures");
    let band = |d: &Option<Distribution>| {
        let d = d.as_ref().unwrap();
        (d.median, Some(d.min), Some(d.p95))
    };
    for cell in &summary.cells {
        for (arm, a) in &cell.arms {
            let b = &bmf[&format!("{}/{}", cell.id, arm.as_str())];
            let got = |m: &str| (b[m].value, b[m].lower_value, b[m].upper_value);
            assert_eq!(got(WALL_CLOCK_MS), band(&a.wall_ms));
            assert_eq!(got(CPU_TIME_MS), band(&a.cpu_ms));
            assert_eq!(got(MEMORY_PEAK_BYTES), band(&a.memory_peak_bytes));
            if arm.captures() {
                assert_eq!(got(TARE_CPU_TIME_MS), band(&a.tare_cpu_ms));
                assert_eq!(b.len(), 5);
            } else {
                assert_eq!(b.len(), 4);
            }
        }
        for d in &cell.deltas {
            let b = &bmf[&format!("{}/{}", cell.id, d.name)];
            assert_eq!(b.len(), 2, "wall-clock and CPU under one benchmark");
            let measure = match d.metric.as_str() {
                "wall_ms" => WALL_CLOCK_DELTA_MS,
                "cpu_ms" => CPU_TIME_DELTA_MS,
                other => panic!("{other}"),
            };
            let m = &b[measure];
            assert_eq!(
                (Some(m.value), m.lower_value, m.upper_value),
                (d.estimate, d.ci_low, d.ci_high)
            );
        }
    }
    // The wall-clock measures are the plain fixture's, unchanged.
    let plain = to_bmf(&fixture().0);
    for (name, measures) in &plain {
        for (measure, m) in measures {
            assert_eq!(&bmf[name][measure], m, "{name}/{measure}");
        }
    }
}

#[test]
fn bmf_round_trips_as_json_and_is_deterministic() {
    let (summary, _) = fixture();
    let bmf = to_bmf(&summary);
    let text = serde_json::to_string_pretty(&bmf).unwrap();
    assert_close(&parse_bmf("bmf.json", &text).unwrap(), &bmf);
    assert_eq!(
        text,
        serde_json::to_string_pretty(&to_bmf(&fixture().0)).unwrap()
    );
    assert!(!text.contains("null") && !text.contains("NaN"));
}

#[test]
fn bmf_leaves_out_what_has_no_number() {
    let (mut summary, _) = fixture();
    let d = &mut summary.cells[0].deltas[0];
    d.estimate = None;
    d.ci_low = None;
    d.ci_high = None;
    let name = format!(
        "{}/{}",
        summary.cells[0].id, summary.cells[0].deltas[0].name
    );
    summary.cells[0].deltas[1].ci_high = None;
    let bmf = to_bmf(&summary);
    assert!(!bmf.contains_key(&name));
    let other = format!(
        "{}/{}",
        summary.cells[0].id, summary.cells[0].deltas[1].name
    );
    assert_eq!(bmf[&other][WALL_CLOCK_DELTA_MS].upper_value, None);
    let text = serde_json::to_string(&bmf).unwrap();
    assert!(!text.contains("null"));
}

#[test]
fn bmf_keeps_hostile_names_as_data() {
    let (summary, _) = hostile();
    let bmf = to_bmf(&summary);
    assert!(bmf.contains_key(&format!("{HOSTILE}/bare")));
    let text = serde_json::to_string(&bmf).unwrap();
    assert_close(&parse_bmf("bmf.json", &text).unwrap(), &bmf);
}
