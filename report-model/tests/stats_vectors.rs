//! The statistics against SciPy/NumPy reference vectors (fixtures/stats/vectors.json, made by scripts/gen_stats_vectors.py).

use report_model::stats::{
    mann_whitney_test, nearest_rank, paired_shift, signed_rank_test, unpaired_shift, Distribution,
    ShiftEstimate, TestMethod, Verdict,
};
use serde_json::Value;

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/stats/vectors.json"
    );
    let text = std::fs::read_to_string(path)
        .expect("fixtures/stats/vectors.json (python3 scripts/gen_stats_vectors.py)");
    serde_json::from_str(&text).expect("vectors are JSON")
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

fn num(v: &Value, what: &str, case: &str) -> f64 {
    v.as_f64()
        .unwrap_or_else(|| panic!("{case}: {what} is not a number"))
}

/// Estimates and bounds: relative 1e-9 (absolute near 0).
fn close(ours: f64, reference: f64, what: &str, case: &str) {
    let tol = 1e-9 * reference.abs().max(1.0);
    assert!(
        (ours - reference).abs() <= tol,
        "{case}: {what}: ours {ours}, reference {reference}"
    );
}

/// p-values and coverages: absolute 1e-9.
fn close_abs(ours: f64, reference: f64, what: &str, case: &str) {
    assert!(
        (ours - reference).abs() <= 1e-9,
        "{case}: {what}: ours {ours}, reference {reference}"
    );
}

fn method(v: &Value, case: &str) -> TestMethod {
    match v.as_str() {
        Some("exact") => TestMethod::Exact,
        Some("normal") => TestMethod::Normal,
        other => panic!("{case}: unknown method {other:?}"),
    }
}

/// Estimate, interval, k, coverage, methods, p-value and verdict of a shift against a case.
fn check_shift(s: &ShiftEstimate, c: &Value, paired: bool, name: &str) {
    close(
        s.estimate,
        num(&c["hl_estimate"], "HL", name),
        "HL estimate",
        name,
    );
    assert_eq!(
        s.ci_method,
        method(&c["ci_method"], name),
        "{name}: CI method"
    );
    match (s.ci, c["ci"].as_array()) {
        (Some((lo, hi)), Some(r)) => {
            close(lo, num(&r[0], "ci low", name), "CI low", name);
            close(hi, num(&r[1], "ci high", name), "CI high", name);
            assert_eq!(s.ci_k, c["ci_k"].as_u64(), "{name}: k");
            close_abs(
                s.achieved_confidence.expect("coverage"),
                num(&c["achieved_confidence"], "coverage", name),
                "achieved confidence",
                name,
            );
            assert!(s.ci_note.is_none(), "{name}: a note with an interval");
        }
        (None, None) => {
            assert!(c["ci_k"].is_null() && s.ci_k.is_none());
            assert!(s.achieved_confidence.is_none());
            assert!(s.ci_note.is_some(), "{name}: no interval and no note");
        }
        (o, r) => panic!("{name}: CI ours {o:?}, reference {r:?}"),
    }
    match (s.p_value, c["p_value"].as_f64()) {
        (Some(ours), Some(r)) => {
            close_abs(ours, r, "p-value", name);
            assert_eq!(s.p_method, Some(method(&c["p_method"], name)), "{name}");
        }
        (None, None) => assert!(s.p_method.is_none()),
        (o, r) => panic!("{name}: p ours {o:?}, reference {r:?}"),
    }
    // The verdict rule applied to the reference numbers.
    let (nb, nc) = (
        c["base"].as_array().unwrap().len(),
        c["cand"].as_array().unwrap().len(),
    );
    let enough = if paired { nb >= 6 } else { nb.min(nc) >= 4 };
    let excludes_zero = c["ci"]
        .as_array()
        .is_some_and(|r| num(&r[0], "lo", name) > 0.0 || num(&r[1], "hi", name) < 0.0);
    let expected = match (enough, excludes_zero) {
        (false, _) => Verdict::InsufficientSamples,
        (true, true) => Verdict::Difference,
        (true, false) => Verdict::NoDetectableDifference,
    };
    assert_eq!(s.verdict, expected, "{name}: verdict");
    // Without ties or zeros the exact interval and SciPy's exact test agree: the interval
    // excludes 0 exactly when p <= 1 - achieved confidence.
    let untied = !c["ties"].as_bool().unwrap()
        && c.get("n_nonzero")
            .is_none_or(|z| z.as_u64() == Some(nb as u64));
    if untied && s.ci_method == TestMethod::Exact && s.ci.is_some() {
        let p = num(&c["p_value"], "p", name);
        let alpha = 1.0 - s.achieved_confidence.unwrap();
        assert_eq!(excludes_zero, p <= alpha + 1e-12, "{name}: CI/test duality");
    }
}

#[test]
fn vectors_cover_what_they_claim() {
    let v = vectors();
    assert!(v["scipy"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(v["level"].as_f64(), Some(0.95));
    let paired = v["paired"].as_array().unwrap();
    let unpaired = v["unpaired"].as_array().unwrap();
    let count = |cases: &[Value], f: &dyn Fn(&Value) -> bool| cases.iter().filter(|c| f(c)).count();
    assert!(paired.len() >= 25 && unpaired.len() >= 20);
    assert!(count(paired, &|c| c["ties"].as_bool().unwrap()) >= 6);
    let zeros =
        |c: &Value| c["n_nonzero"].as_u64().unwrap() < c["base"].as_array().unwrap().len() as u64;
    assert!(count(paired, &zeros) >= 4);
    assert!(count(unpaired, &|c| c["ties"].as_bool().unwrap()) >= 4);
    assert!(count(paired, &|c| c["ci"].is_null()) >= 2);
    assert!(count(paired, &|c| c["p_method"] == "normal") >= 2);
    assert!(count(unpaired, &|c| c["p_method"] == "normal") >= 2);
    assert!(count(paired, &|c| c["hl_estimate"].as_f64().unwrap() < 0.0) >= 2);
}

#[test]
fn paired_shift_and_signed_rank_match_scipy() {
    let v = vectors();
    for c in v["paired"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let (base, cand) = (floats(&c["base"]), floats(&c["cand"]));
        let s = paired_shift(&base, &cand, 0.95).unwrap();
        check_shift(&s, c, true, name);
        assert_eq!(s.n as usize, base.len());
        let diffs: Vec<f64> = base.iter().zip(&cand).map(|(b, c)| c - b).collect();
        match (signed_rank_test(&diffs), c["w_plus"].as_f64()) {
            (Ok(t), Some(w)) => {
                close(t.statistic, w, "W+", name);
                assert_eq!(t.n as u64, c["n_nonzero"].as_u64().unwrap(), "{name}");
                assert_eq!(t.ties, c["ties"].as_bool().unwrap(), "{name}: ties");
                assert_eq!(Some(t.p_value), s.p_value);
            }
            (Err(_), None) => assert_eq!(c["n_nonzero"].as_u64(), Some(0)),
            (o, r) => panic!("{name}: test ours {o:?}, reference W+ {r:?}"),
        }
    }
}

#[test]
fn unpaired_shift_and_mann_whitney_match_scipy() {
    let v = vectors();
    for c in v["unpaired"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let (base, cand) = (floats(&c["base"]), floats(&c["cand"]));
        let s = unpaired_shift(&base, &cand, 0.95).unwrap();
        check_shift(&s, c, false, name);
        let t = mann_whitney_test(&cand, &base).unwrap();
        close(t.statistic, num(&c["u_cand"], "U", name), "U", name);
        assert_eq!(t.ties, c["ties"].as_bool().unwrap(), "{name}: ties");
        // The test is symmetric in its samples: U of base is m n - U of cand, same p.
        let r = mann_whitney_test(&base, &cand).unwrap();
        close(
            r.statistic,
            (base.len() * cand.len()) as f64 - t.statistic,
            "U of base",
            name,
        );
        close_abs(r.p_value, t.p_value, "p-value, samples swapped", name);
    }
}

#[test]
fn percentiles_match_numpy_inverted_cdf() {
    let v = vectors();
    for c in v["percentiles"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let values = floats(&c["values"]);
        let d = Distribution::from_values(&values).unwrap();
        let pct = &c["percentiles"];
        assert_eq!(u64::from(d.n), c["n"].as_u64().unwrap());
        close(d.median, num(&c["median"], "median", name), "median", name);
        close(d.p95, num(&pct["95"], "p95", name), "p95", name);
        close(d.p99, num(&pct["99"], "p99", name), "p99", name);
        close(d.min, num(&c["min"], "min", name), "min", name);
        close(d.max, num(&c["max"], "max", name), "max", name);
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        for (p, reference) in pct.as_object().unwrap() {
            let p: f64 = p.parse().unwrap();
            let ours = nearest_rank(&sorted, p).unwrap();
            close(
                ours,
                num(reference, "percentile", name),
                &format!("p{p}"),
                name,
            );
        }
        assert_eq!(Some(d.p99_is_max()), c["p99_is_max"].as_bool(), "{name}");
        match (d.tail(), c["tail_ratio"].as_f64()) {
            (Some(t), Some(r)) => {
                close(t.ratio, r, "tail ratio", name);
                let band = serde_json::to_value(t.band).unwrap();
                assert_eq!(band, c["tail_band"], "{name}: band");
                assert_eq!(t.p99_is_max, d.p99_is_max());
            }
            (None, None) => {}
            (o, r) => panic!("{name}: tail ours {o:?}, reference {r:?}"),
        }
    }
}
