//! Secrets never reach an archive (as root, real kernel): a capture whose command line, file
//! paths and trace hold tokens writes `[redacted:<kind>]` in their place everywhere, says so,
//! and still verifies; `--no-redact` keeps them; a bad `--redact` pattern is a usage error.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use report_model::bundle::{self, member_text, Limits, Member};
use report_model::schema::kernel_event::{EventDetail, KernelEvent};
use report_model::schema::parse_json;
use report_model::schema::run::Run;

const TARE: &str = env!("CARGO_BIN_EXE_tare");

/// A GitHub token of the classic form (not a real one).
fn github_token() -> String {
    format!("ghp_{}", "Xy7Q".repeat(9))
}

const TRACE_SECRET: &str = "s3cretPw";
const OPTION_SECRET: &str = "optval-4711";
const NEXT_ARG_SECRET: &str = "hunter2-next";
const CUSTOM_SECRET: &str = "corp-918273";

/// `tare capture ARGS -- sh -c 'write a file named after the token' ... secrets`.
fn capture(dir: &Path, out: &Path, args: &[&str]) -> Output {
    let trace = dir.join("trace.json");
    std::fs::write(
        &trace,
        format!(
            r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"url","value":{{"stringValue":"https://bob:{TRACE_SECRET}@example.com/x"}}}}]}},"scopeSpans":[]}}]}}"#
        ),
    )
    .unwrap();
    let file = dir.join(format!("{}.txt", github_token()));
    Command::new(TARE)
        .arg("capture")
        .arg("--out")
        .arg(out)
        .arg("--trace")
        .arg(&trace)
        .args(args)
        .args(["--", "sh", "-c", r#"echo x > "$1""#, "sh"])
        .arg(&file)
        .arg(format!("--token={OPTION_SECRET}"))
        .args(["--password", NEXT_ARG_SECRET, CUSTOM_SECRET])
        .output()
        .unwrap()
}

fn members(path: &Path) -> Vec<Member> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let members = bundle::read_tar_gz("a", &bytes, &Limits::default()).unwrap();
    bundle::verify("a", &members).expect("the archive verifies");
    members
}

fn run_of(members: &[Member]) -> Run {
    parse_json("run.json", member_text("a", members, "run.json").unwrap()).unwrap()
}

fn secrets() -> Vec<String> {
    vec![
        github_token(),
        TRACE_SECRET.into(),
        OPTION_SECRET.into(),
        NEXT_ARG_SECRET.into(),
        CUSTOM_SECRET.into(),
    ]
}

#[test]
fn secrets_are_redacted_everywhere_and_the_archive_still_verifies() {
    let dir = common::scratch("redact", "on");
    let out = dir.join("a.tar.gz");
    let o = capture(&dir, &out, &["--redact", r"corp-\d{6}"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    // The summary line says how many and where.
    assert!(
        stderr
            .contains("6 values redacted (kernel.ndjson:path 1, run.json:command 4, trace.json 1)"),
        "{stderr}"
    );

    let members = members(&out);
    for m in &members {
        let text = String::from_utf8_lossy(&m.data);
        for s in secrets() {
            assert!(!text.contains(&s), "{} holds {s}", m.path);
        }
    }
    let run = run_of(&members);
    let file = dir.join("[redacted:github-token].txt");
    assert_eq!(
        run.command[4..],
        [
            file.display().to_string(),
            "--token=[redacted:secret-option]".into(),
            "--password".into(),
            "[redacted:secret-option]".into(),
            "[redacted:custom]".into(),
        ]
    );
    let r = run.redaction.expect("run.json says what was redacted");
    assert!(r.enabled);
    assert_eq!(r.custom_patterns, 1);
    let rows: Vec<(&str, &str, u64)> = r
        .replaced
        .iter()
        .map(|x| (x.place.as_str(), x.kind.as_str(), x.count))
        .collect();
    assert_eq!(
        rows,
        [
            ("kernel.ndjson:path", "github-token", 1),
            ("run.json:command", "custom", 1),
            ("run.json:command", "github-token", 1),
            ("run.json:command", "secret-option", 2),
            ("trace.json", "url-userinfo", 1),
        ]
    );
    // The kernel saw the real path; the archive holds the redacted one.
    let events: Vec<KernelEvent> = bundle::member_kernel_events("a", &members)
        .unwrap()
        .expect("kernel events");
    assert!(
        events.iter().any(|e| matches!(&e.detail,
            EventDetail::Open { path, result, .. } if *path == file.display().to_string() && *result >= 0)),
        "the open of the token-named file, redacted"
    );
    // `tare verify` agrees.
    let v = Command::new(TARE).arg("verify").arg(&out).output().unwrap();
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
}

#[test]
fn no_redact_keeps_every_value_and_says_so() {
    let dir = common::scratch("redact", "off");
    let out = dir.join("a.tar.gz");
    let o = capture(&dir, &out, &["--no-redact"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(stderr.contains("redaction off (--no-redact)"), "{stderr}");
    let members = members(&out);
    let run = run_of(&members);
    assert!(run.command.contains(&format!("--token={OPTION_SECRET}")));
    assert!(!run.redaction.unwrap().enabled);
    let trace = member_text("a", &members, "trace.json").unwrap();
    assert!(trace.contains(TRACE_SECRET));
}

#[test]
fn a_bad_pattern_is_a_usage_error_and_nothing_runs() {
    let dir = common::scratch("redact", "bad");
    let out = dir.join("a.tar.gz");
    let o = Command::new(TARE)
        .arg("capture")
        .arg("--out")
        .arg(&out)
        .args(["--redact", "(unclosed", "--", "true"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(r#"--redact "(unclosed" is not a regular expression"#),
        "{stderr}"
    );
    assert!(!out.exists());
}
