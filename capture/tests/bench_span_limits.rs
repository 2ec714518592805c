//! The span limits through the harness: `tare bench` cells with span_attributes, span_links and spans, on the Rust SDK (built-in workload) and the Python and JS SDKs (arm commands); summary.json, its per-gate boundaries and summary.md.
//! The Python and JS halves need the OpenTelemetry Python and JS SDKs that scripts/setup.sh installs.

mod common;

use report_model::schema::parse_json;
use report_model::schema::sample::RetentionPattern;
use report_model::schema::summary::{CellSummary, Summary};

const CELLS: &str = r#"
[[cells]]
id = "attrs-100"
span_attributes = 100

[[cells]]
id = "attrs-500"
span_attributes = 500

[[cells]]
id = "links-500"
span_links = 500

[[cells]]
id = "spans-5000"
spans = 5000
"#;

fn bench(name: &str, commands: &str) -> (Summary, String) {
    let dir = std::env::temp_dir().join(format!("tare-limits-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let exp = dir.join("limits.toml");
    let text = format!(
        "schema = \"tare.experiment.v1\"\nname = \"limits-{name}\"\nn = 1\nwarmups = 0\ntimeout_s = 60\narms = [\"bare\", \"b\"]\n{CELLS}\n{commands}"
    );
    std::fs::write(&exp, text).expect("experiment written");
    let out = dir.join("res");
    let run = common::bench(&exp, &out);
    assert!(
        run.status.success(),
        "bench failed: {}\n{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    let summary: Summary = parse_json(
        "summary.json",
        &std::fs::read_to_string(out.join("summary.json")).expect("summary.json"),
    )
    .expect("summary.json parses");
    let md = std::fs::read_to_string(out.join("summary.md")).expect("summary.md");
    let _ = std::fs::remove_dir_all(&dir);
    (summary, md)
}

fn cell<'a>(s: &'a Summary, id: &str) -> &'a CellSummary {
    s.cells.iter().find(|c| c.id == id).expect("cell present")
}

/// What both SDKs share: the knobs reach the summary, each lossy cell is the first failure of
/// its own gate, and summary.md lists them.
fn common_checks(s: &Summary, md: &str) {
    let under = cell(s, "attrs-100")
        .fidelity
        .attributes
        .clone()
        .expect("attrs-100");
    assert_eq!(
        (
            under.target,
            under.retained,
            under.pattern,
            under.dropped_by_sdk
        ),
        (100, 100, RetentionPattern::Complete, Some(0))
    );
    assert_eq!(cell(s, "attrs-500").span_attributes, 500);
    let gates: Vec<(&str, &str)> = s
        .boundaries
        .iter()
        .map(|b| (b.gate.as_str(), b.cell.as_str()))
        .collect();
    for (gate, id) in [
        ("attribute_fidelity", "attrs-500"),
        ("link_fidelity", "links-500"),
        ("span_drop", "spans-5000"),
    ] {
        assert!(
            gates.contains(&(gate, id)),
            "{gate} first fails in {id}: {gates:?}"
        );
    }
    assert_eq!(
        s.boundary.as_ref().map(|b| b.cell.as_str()),
        Some("attrs-500"),
        "the first failure of all"
    );
    assert!(md.contains("## Span limits: attributes, links, whole spans"));
    assert!(md.contains("| links-500 | links | 500 | **128** |"), "{md}");
}

#[test]
fn rust_sdk_cells() {
    let (s, md) = bench("rust", "");
    common_checks(&s, &md);
    let a = cell(&s, "attrs-500")
        .fidelity
        .attributes
        .clone()
        .expect("attrs");
    assert_eq!(a.pattern, RetentionPattern::OldestKept);
    assert_eq!(a.retained_ranges[0][0], 0);
    assert_eq!(a.dropped_by_sdk, Some(a.dropped_counted));
    let l = cell(&s, "links-500").fidelity.links.clone().expect("links");
    assert_eq!(
        (l.retained_ranges.clone(), l.dropped_by_sdk),
        (vec![[0, 127]], Some(372))
    );
    let sp = cell(&s, "spans-5000")
        .fidelity
        .spans
        .clone()
        .expect("spans");
    assert!(sp.retained_ranges[0][0] == 0 && sp.retained_ranges[0][1] >= 2047);
    assert_eq!(
        (sp.dropped_by_sdk, sp.dropped_counted),
        (None, 5000 - sp.retained)
    );
    assert!(md.contains("| not exposed |"));
}

#[test]
fn python_sdk_cells() {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scripts/workloads/python_spans.py");
    let (s, md) = bench(
        "python",
        &format!(
            "[commands]\nb = \"python3 {} --span-attributes {{span_attributes}} --span-links {{span_links}} --spans {{spans}} --trace-out {{trace_out}}\"\n",
            script.display()
        ),
    );
    common_checks(&s, &md);
    let a = cell(&s, "attrs-500")
        .fidelity
        .attributes
        .clone()
        .expect("attrs");
    assert_eq!(a.pattern, RetentionPattern::NewestKept);
    assert_eq!(a.retained_ranges.last().map(|r| r[1]), Some(499));
    assert_eq!(a.dropped_by_sdk, Some(a.dropped_counted));
    let l = cell(&s, "links-500").fidelity.links.clone().expect("links");
    assert_eq!(
        (l.retained_ranges.clone(), l.dropped_by_sdk),
        (vec![[372, 499]], Some(372))
    );
    let sp = cell(&s, "spans-5000")
        .fidelity
        .spans
        .clone()
        .expect("spans");
    assert_eq!(sp.retained_ranges.last().map(|r| r[1]), Some(4999));
    assert_eq!(sp.dropped_by_sdk, Some(sp.dropped_counted));
}

#[test]
fn js_sdk_cells() {
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/workloads/js_spans.mjs");
    let (s, md) = bench(
        "js",
        &format!(
            "[commands]\nb = \"node {} --span-attributes {{span_attributes}} --span-links {{span_links}} --spans {{spans}} --trace-out {{trace_out}}\"\n",
            script.display()
        ),
    );
    common_checks(&s, &md);
    let a = cell(&s, "attrs-500")
        .fidelity
        .attributes
        .clone()
        .expect("attrs");
    assert_eq!(a.pattern, RetentionPattern::OldestKept);
    assert_eq!(a.dropped_by_sdk, Some(a.dropped_counted));
    let l = cell(&s, "links-500").fidelity.links.clone().expect("links");
    assert_eq!(
        (l.retained_ranges.clone(), l.dropped_by_sdk),
        (vec![[372, 499]], Some(372))
    );
    let sp = cell(&s, "spans-5000")
        .fidelity
        .spans
        .clone()
        .expect("spans");
    assert_eq!(
        (sp.retained_ranges.clone(), sp.dropped_by_sdk),
        (vec![[0, 2559]], Some(2440))
    );
}
