//! Our statistics against SciPy/NumPy reference vectors (fixtures/stats/vectors.json,
//! made by scripts/gen_stats_vectors.py), ties and zeros included.

use report_model::stats::{mann_whitney_test, paired_shift, unpaired_shift, Distribution};
use serde_json::Value;

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/stats/vectors.json"
    );
    let text = std::fs::read_to_string(path)
        .expect("fixtures/stats/vectors.json (run scripts/gen_stats_vectors.py)");
    serde_json::from_str(&text).expect("vectors are JSON")
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

fn close(a: f64, b: f64, what: &str, case: &str) {
    let tol = 1e-9 * b.abs().max(1.0);
    assert!(
        (a - b).abs() <= tol,
        "{case}: {what}: ours {a}, reference {b}"
    );
}

fn check_ci(
    ours: Option<(f64, f64)>,
    reference: &Value,
    conf_ours: Option<f64>,
    conf_ref: &Value,
    case: &str,
) {
    match (ours, reference.as_array()) {
        (Some((lo, hi)), Some(r)) => {
            close(lo, r[0].as_f64().unwrap(), "ci low", case);
            close(hi, r[1].as_f64().unwrap(), "ci high", case);
            close(
                conf_ours.unwrap(),
                conf_ref.as_f64().unwrap(),
                "achieved confidence",
                case,
            );
        }
        (None, None) => {}
        (o, r) => panic!("{case}: CI ours {o:?}, reference {r:?}"),
    }
}

#[test]
fn paired_shift_matches_scipy() {
    let v = vectors();
    let cases = v["paired"].as_array().unwrap();
    assert!(cases.len() >= 20);
    let mut with_ties = 0;
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let s = paired_shift(&floats(&c["base"]), &floats(&c["cand"]), 0.95).unwrap();
        close(
            s.estimate,
            c["hl_estimate"].as_f64().unwrap(),
            "HL estimate",
            name,
        );
        check_ci(
            s.ci,
            &c["ci"],
            s.achieved_confidence,
            &c["achieved_confidence"],
            name,
        );
        match (s.p_value, c["p_value"].as_f64()) {
            (Some(ours), Some(r)) => close(ours, r, "p-value", name),
            (None, None) => {}
            (o, r) => panic!("{name}: p ours {o:?}, reference {r:?}"),
        }
        if c["p_method"].as_str().unwrap().contains("ties") {
            with_ties += 1;
        }
    }
    assert!(with_ties >= 4, "the vectors must exercise ties and zeros");
}

#[test]
fn unpaired_shift_and_mann_whitney_match_scipy() {
    let v = vectors();
    for c in v["unpaired"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let (base, cand) = (floats(&c["base"]), floats(&c["cand"]));
        let s = unpaired_shift(&base, &cand, 0.95).unwrap();
        close(
            s.estimate,
            c["hl_estimate"].as_f64().unwrap(),
            "HL estimate",
            name,
        );
        check_ci(
            s.ci,
            &c["ci"],
            s.achieved_confidence,
            &c["achieved_confidence"],
            name,
        );
        close(
            s.p_value.unwrap(),
            c["p_value"].as_f64().unwrap(),
            "p-value",
            name,
        );
        let t = mann_whitney_test(&cand, &base).unwrap();
        close(t.statistic, c["u_cand"].as_f64().unwrap(), "U", name);
    }
}

#[test]
fn percentiles_match_numpy_inverted_cdf() {
    let v = vectors();
    for c in v["percentiles"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let d = Distribution::of(&floats(&c["values"])).unwrap();
        close(d.median, c["median"].as_f64().unwrap(), "median", name);
        close(d.p95, c["p95"].as_f64().unwrap(), "p95", name);
        close(d.p99, c["p99"].as_f64().unwrap(), "p99", name);
        close(d.min, c["min"].as_f64().unwrap(), "min", name);
        close(d.max, c["max"].as_f64().unwrap(), "max", name);
    }
}
