//! Readers: round trips, unknown major versions, and errors that name file, field and expectation.

use report_model::schema::experiment::{Arm, Experiment, Tier};
use report_model::schema::health::{Health, KernelLayer, KindCounters};
use report_model::schema::kernel_event::{
    parse_lines, to_lines, EventDetail, EventKind, KernelEvent,
};
use report_model::schema::phases::{Phase, Phases};
use report_model::schema::{parse_json, parse_toml, to_canonical_json, Versioned};
use report_model::ModelError;

fn event(seq: u64, detail: EventDetail) -> KernelEvent {
    KernelEvent {
        seq,
        ts_ns: 1000 + seq,
        pid: 42,
        tid: 43,
        ppid: Some(1),
        comm: "sh".into(),
        cgroup_id: 7,
        detail,
    }
}

#[test]
fn kernel_events_round_trip_as_ndjson() {
    let events = vec![
        event(
            0,
            EventDetail::Exec {
                filename: "/bin/sh".into(),
            },
        ),
        event(
            1,
            EventDetail::Open {
                path: "/tmp/a b".into(),
                flags: 0o101,
                mode: 0o644,
                result: 3,
            },
        ),
        event(
            2,
            EventDetail::Write {
                fd: 3,
                requested: 5,
                result: 5,
            },
        ),
        event(
            3,
            EventDetail::Rename {
                from: "x".into(),
                to: "y".into(),
                result: 0,
            },
        ),
        event(
            4,
            EventDetail::Connect {
                family: 2,
                addr: "127.0.0.1".into(),
                port: 8080,
                result: -111,
            },
        ),
        event(
            5,
            EventDetail::Exit {
                code: Some(3),
                signal: None,
            },
        ),
    ];
    let mut events = events;
    // A thread of the process, and a time earlier than the line before (two CPUs' order).
    events[2].tid = 42;
    events[3].ts_ns = 900;
    let text = to_lines(&events);
    assert_eq!(text.lines().count(), 6);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("{\"dt\":1000,\"pid\":42,\"tid\":43,"),
        "{}",
        lines[0]
    );
    assert!(lines[1].contains("\"kind\":\"open\""));
    assert!(
        lines[2].starts_with("{\"dt\":1,\"pid\":42,\"ppid\":1,"),
        "tid left out: {}",
        lines[2]
    );
    assert!(lines[3].starts_with("{\"dt\":-102,"), "{}", lines[3]);
    assert!(!text.contains("\"seq\""), "seq is the line's index");
    let back = parse_lines("kernel.ndjson", &text).unwrap();
    assert_eq!(back, events);
    assert_eq!(back[4].detail.kind(), EventKind::Connect);
}

#[test]
fn kernel_events_of_v1_archives_are_still_read() {
    let text = "{\"seq\":0,\"ts_ns\":34924475562423,\"pid\":13915,\"tid\":13915,\"ppid\":13912,\"comm\":\"dd\",\"cgroup_id\":1171983,\"kind\":\"exec\",\"filename\":\"/usr/bin/dd\"}\n\
                {\"seq\":1,\"ts_ns\":34924475788511,\"pid\":13915,\"tid\":13916,\"comm\":\"dd\",\"cgroup_id\":1171983,\"kind\":\"write\",\"fd\":1,\"requested\":1,\"result\":1}\n";
    let back = parse_lines("kernel.ndjson", text).unwrap();
    assert_eq!(back.len(), 2);
    assert_eq!(
        (back[1].seq, back[1].ts_ns, back[1].tid),
        (1, 34924475788511, 13916)
    );
    assert_eq!(back[1].ppid, None);
    // Written again as v2 and read back, nothing changes.
    assert_eq!(parse_lines("k", &to_lines(&back)).unwrap(), back);
}

#[test]
fn a_kernel_event_line_gives_one_time() {
    for (text, says) in [
        ("{\"pid\":1,\"comm\":\"a\",\"cgroup_id\":1,\"kind\":\"fork\",\"child_pid\":2}\n", "missing"),
        ("{\"dt\":5,\"ts_ns\":5,\"pid\":1,\"comm\":\"a\",\"cgroup_id\":1,\"kind\":\"fork\",\"child_pid\":2}\n", "both"),
    ] {
        match parse_lines("kernel.ndjson", text).unwrap_err() {
            ModelError::Field { field, problem, .. } => {
                assert_eq!(field, "line 1: ts_ns");
                assert!(problem.contains(says), "{problem}");
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn ndjson_errors_name_the_line_and_field() {
    let text = "{\"seq\":0,\"ts_ns\":1,\"pid\":1,\"tid\":1,\"comm\":\"a\",\"cgroup_id\":1,\"kind\":\"fork\",\"child_pid\":2}\n\
                {\"seq\":1,\"ts_ns\":\"soon\",\"pid\":1,\"tid\":1,\"comm\":\"a\",\"cgroup_id\":1,\"kind\":\"fork\",\"child_pid\":2}\n";
    match parse_lines("kernel.ndjson", text).unwrap_err() {
        ModelError::Field {
            file,
            field,
            problem,
        } => {
            assert_eq!(file, "kernel.ndjson");
            assert!(field.starts_with("line 2"), "{field}");
            assert!(problem.contains("expected"), "{problem}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn json_errors_name_file_field_and_expectation() {
    let p = Phases::new(
        vec![Phase {
            name: "preflight".into(),
            start_ns: 0,
            duration_ns: 10,
        }],
        25,
    );
    assert_eq!(p.residual_ns, 15);
    let text = to_canonical_json("phases.json", &p).unwrap();
    assert!(text.ends_with('\n'));
    assert_eq!(parse_json::<Phases>("phases.json", &text).unwrap(), p);

    let bad = text.replace("\"duration_ns\": 10", "\"duration_ns\": -4");
    match parse_json::<Phases>("phases.json", &bad).unwrap_err() {
        ModelError::Field {
            file,
            field,
            problem,
        } => {
            assert_eq!(file, "phases.json");
            assert_eq!(field, "phases[0].duration_ns");
            assert!(problem.contains("expected u64"), "{problem}");
        }
        other => panic!("{other:?}"),
    }
    let missing = text.replace("\"schema\": \"tare.phases.v1\",", "");
    let err = parse_json::<Phases>("phases.json", &missing)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("phases.json") && err.contains("`schema`") && err.contains("tare.phases.v1"),
        "{err}"
    );
    let err = parse_json::<Phases>("phases.json", "{ not json")
        .unwrap_err()
        .to_string();
    assert!(err.contains("not valid JSON"), "{err}");
}

#[test]
fn unknown_major_version_is_refused_minor_is_read() {
    let h = Health::from_counters(
        vec![KindCounters {
            kind: EventKind::Open,
            seen: 2,
            submitted: 2,
            dropped: 0,
            delivered: 2,
        }],
        0,
        vec![],
    );
    let text = to_canonical_json("health.json", &h).unwrap();
    let v2 = text.replace(Health::SCHEMA, "tare.health.v2");
    let err = parse_json::<Health>("health.json", &v2).unwrap_err();
    assert!(matches!(err, ModelError::Schema { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains("tare.health.v2") && msg.contains("tare.health.v1"),
        "{msg}"
    );
    let minor = text.replace(Health::SCHEMA, "tare.health.v1.7");
    assert_eq!(
        parse_json::<Health>("health.json", &minor)
            .unwrap()
            .kernel_layer,
        KernelLayer::Complete
    );
    let other_family = text.replace(Health::SCHEMA, "tare.run.v1");
    assert!(matches!(
        parse_json::<Health>("health.json", &other_family),
        Err(ModelError::Schema { .. })
    ));
}

#[test]
fn experiment_toml_reads_with_defaults_and_refuses_typos() {
    let text = r#"
schema = "tare.experiment.v1"
name = "smoke"
tier = "smoke"
n = 6
warmups = 1
timeout_s = 30
arms = ["bare", "a", "b", "c"]

[[cells]]
id = "k25"
kernel_events = 25

[commands]
b = "python3 w.py --out {trace_out}"
"#;
    let e: Experiment = parse_toml("experiment.toml", text).unwrap();
    assert_eq!(e.tier, Tier::Smoke);
    assert_eq!(e.arms, Arm::ALL.to_vec());
    assert_eq!(e.cells[0].concurrency, 1);
    assert_eq!(e.cells[0].payload_bytes, 128);
    assert_eq!(
        e.commands.get(&Arm::B).map(String::as_str),
        Some("python3 w.py --out {trace_out}")
    );

    let typo = text.replace("kernel_events = 25", "kernel_event = 25");
    let err = parse_toml::<Experiment>("experiment.toml", &typo)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("experiment.toml") && err.contains("cells[0]") && err.contains("kernel_event"),
        "{err}"
    );
    let bad_arm = text.replace("\"c\"]", "\"d\"]");
    let err = parse_toml::<Experiment>("experiment.toml", &bad_arm)
        .unwrap_err()
        .to_string();
    assert!(err.contains("arms[3]"), "{err}");
}
