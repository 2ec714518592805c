//! A second real OTel SDK through the harness: the Python SDK as an experiment's arm command.
//! Needs the OpenTelemetry Python SDK that scripts/setup.sh installs.

mod common;

use report_model::schema::parse_json;
use report_model::schema::sample::RetentionPattern;
use report_model::schema::summary::Summary;

#[test]
fn python_sdk_arm_keeps_the_newest_128_of_500() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let script = root.join("scripts/workloads/python_spans.py");
    let dir = std::env::temp_dir().join(format!("tare-pyarm-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let exp = dir.join("python.toml");
    std::fs::write(
        &exp,
        format!(
            r#"schema = "tare.experiment.v1"
name = "python-sdk"
n = 1
warmups = 0
timeout_s = 60
arms = ["bare", "b"]

[[cells]]
id = "s500"
span_events = 500

[commands]
b = "python3 {} --span-events {{span_events}} --trace-out {{trace_out}}"
"#,
            script.display()
        ),
    )
    .unwrap();
    let out = dir.join("res");
    let run = common::bench(&exp, &out);
    assert!(
        run.status.success(),
        "bench failed (is the Python SDK installed? run scripts/setup.sh): {}\n{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    let text = std::fs::read_to_string(out.join("summary.json")).unwrap();
    let summary: Summary = parse_json("summary.json", &text).unwrap();
    let f = &summary.cells[0].fidelity;
    assert_eq!(f.span_retained, Some(128));
    assert_eq!(
        f.pattern,
        Some(RetentionPattern::NewestKept),
        "the Python SDK evicts the oldest"
    );
    assert_eq!(f.retained_ranges, vec![[372, 499]]);
    let _ = std::fs::remove_dir_all(&dir);
}
