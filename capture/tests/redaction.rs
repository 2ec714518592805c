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

/// Every file under `dir`, as (path, bytes).
fn files_under(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push((p.display().to_string(), std::fs::read(&p).unwrap()));
        }
    }
    out
}

fn holds(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn a_trace_that_is_not_utf8_is_redacted_too() {
    let dir = common::scratch("redact", "bytes");
    let out = dir.join("a.tar.gz");
    let trace = dir.join("trace.json");
    let token = github_token();
    let key = "AKIAIOSFODNN7EXAMPLE";
    // The workload writes its trace: byte 0xff right before a GitHub token, 0xfe right after
    // an AWS key. The command spells both with octal escapes (\160 is p, \111 is I), so only
    // the trace holds them.
    let script = format!(
        r#"printf '{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"note","value":{{"stringValue":"\377gh\160_{} AK\111A{}\376"}}}}]}},"scopeSpans":[]}}]}}' > "$1""#,
        &token[4..],
        &key[4..]
    );
    let o = Command::new(TARE)
        .arg("capture")
        .arg("--out")
        .arg(&out)
        .arg("--trace")
        .arg(&trace)
        .args(["--", "sh", "-c", &script, "sh"])
        .arg(&trace)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    let written = std::fs::read(&trace).unwrap();
    assert!(
        std::str::from_utf8(&written).is_err() && holds(&written, &token) && holds(&written, key),
        "the workload wrote a trace that is not UTF-8, with both secrets"
    );
    assert!(!stderr.contains("no secrets found"), "{stderr}");
    assert!(
        stderr.contains("2 values redacted (trace.json 2)"),
        "{stderr}"
    );

    // Read back by extracting the archive: no file holds either secret; the odd bytes are
    // U+FFFD now (trace.json is OTLP JSON, which is UTF-8, as verify checks), and a note says so.
    assert!(
        stderr.contains("2 byte sequence(s) that are not UTF-8 were replaced with U+FFFD"),
        "{stderr}"
    );
    let x = dir.join("x");
    std::fs::create_dir_all(&x).unwrap();
    let tar = Command::new("tar")
        .arg("-xzf")
        .arg(&out)
        .arg("-C")
        .arg(&x)
        .status()
        .unwrap();
    assert!(tar.success());
    for (path, data) in files_under(&x) {
        assert!(!holds(&data, &token), "{path} holds the GitHub token");
        assert!(!holds(&data, key), "{path} holds the AWS key");
    }
    let archived = std::fs::read(x.join("trace.json")).unwrap();
    let want =
        "\"stringValue\":\"\u{fffd}[redacted:github-token] [redacted:aws-access-key]\u{fffd}\""
            .as_bytes();
    assert!(
        archived.windows(want.len()).any(|w| w == want),
        "{}",
        String::from_utf8_lossy(&archived)
    );

    // run.json's tally counts them.
    let run = run_of(&members(&out));
    let rows: Vec<(String, String, u64)> = run
        .redaction
        .expect("run.json says what was redacted")
        .replaced
        .into_iter()
        .map(|x| (x.place, x.kind, x.count))
        .collect();
    assert_eq!(
        rows,
        [
            ("trace.json".into(), "aws-access-key".into(), 1),
            ("trace.json".into(), "github-token".into(), 1),
        ]
    );
    let v = Command::new(TARE).arg("verify").arg(&out).output().unwrap();
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
}

const BENCH_TOKEN: &str = "s3cr3t-tok";
const BENCH_CUSTOM: &str = "corp-918273";
const BENCH_PEM_BODY: &str = "MIIEvQIBADANBgkqhkiG9w0";

/// A one-sample experiment whose command (run by `sh -c`: it has shell syntax) holds a
/// `--token VALUE`, a string only `--redact 'corp-\d{6}'` names, and a PEM private key.
fn secret_experiment(dir: &Path, arm: &str) -> std::path::PathBuf {
    let exp = dir.join("e.toml");
    std::fs::write(
        &exp,
        format!(
            r#"schema = "tare.experiment.v1"
name = "redact"
n = 1
warmups = 0
timeout_s = 30
arms = ["{arm}"]

[[cells]]
id = "k0"

[commands]
{arm} = "true --token {BENCH_TOKEN} {BENCH_CUSTOM} '-----BEGIN PRIVATE KEY-----\n{BENCH_PEM_BODY}\n-----END PRIVATE KEY-----'; true"
"#
        ),
    )
    .unwrap();
    exp
}

fn bench_secrets() -> [&'static str; 3] {
    [BENCH_TOKEN, BENCH_CUSTOM, BENCH_PEM_BODY]
}

/// Every member of a bundle, and of the archives inside it, as (place, bytes).
fn bundle_members(path: &Path) -> Vec<(String, Vec<u8>)> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let ms = bundle::read_tar_gz("b", &bytes, &Limits::default()).unwrap();
    bundle::verify("b", &ms).expect("the bundle verifies");
    let mut out = Vec::new();
    for m in ms {
        if m.path.ends_with(".tar.gz") {
            let inner = bundle::read_tar_gz(&m.path, &m.data, &Limits::default()).unwrap();
            out.extend(
                inner
                    .into_iter()
                    .map(|i| (format!("{}:{}", m.path, i.path), i.data)),
            );
        }
        out.push((m.path, m.data));
    }
    out
}

fn report(dir: &Path) -> Output {
    Command::new(TARE).arg("report").arg(dir).output().unwrap()
}

#[test]
fn a_bench_keeps_no_secret_and_every_rebuild_redacts_with_its_patterns() {
    use std::os::unix::fs::PermissionsExt;
    let dir = common::scratch("redact", "bench");
    let exp = secret_experiment(&dir, "a");
    let out = dir.join("res");
    let o = Command::new(TARE)
        .args(["bench", "--quiet", "--redact", r"corp-\d{6}", "--out"])
        .arg(&out)
        .arg(&exp)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        stdout.contains("experiment.toml: 3 values redacted (experiment.toml:commands 3)"),
        "{stdout}"
    );

    // The results directory's experiment.toml is redacted, and still the experiment as run.
    let kept = std::fs::read_to_string(out.join("experiment.toml")).unwrap();
    for s in bench_secrets() {
        assert!(!kept.contains(s), "experiment.toml holds {s}:\n{kept}");
    }
    let e: report_model::schema::experiment::Experiment =
        report_model::schema::parse_toml("experiment.toml", &kept).unwrap();
    assert_eq!(
        e.commands.values().next().unwrap(),
        "true --token [redacted:secret-option] [redacted:custom] '-----BEGIN PRIVATE KEY-----[redacted:private-key]-----END PRIVATE KEY-----'; true"
    );
    // Every file of the directory, the sample's archive too (its capture ran `sh -c` with the
    // secrets in one string), holds none; redact.json only the pattern.
    let mut archives = 0;
    for (path, data) in files_under(&out) {
        let texts = if path.ends_with(".tar.gz") {
            archives += 1;
            let ms = bundle::read_tar_gz(&path, &data, &Limits::default()).unwrap();
            let run = run_of(&ms);
            assert_eq!(
                run.command.last().unwrap(),
                "true --token [redacted:secret-option] [redacted:custom] '-----BEGIN PRIVATE KEY-----[redacted:private-key]-----END PRIVATE KEY-----'; true"
            );
            ms.into_iter()
                .map(|m| (format!("{path}:{}", m.path), m.data))
                .collect()
        } else {
            vec![(path, data)]
        };
        for (path, data) in texts {
            for s in bench_secrets() {
                assert!(!holds(&data, s), "{path} holds {s}");
            }
        }
    }
    assert_eq!(archives, 1, "one capture sample");
    let remembered = out.join("redact.json");
    assert_eq!(
        std::fs::metadata(&remembered).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let settings: report_model::redact::Settings = parse_json(
        "redact.json",
        &std::fs::read_to_string(&remembered).unwrap(),
    )
    .unwrap();
    assert_eq!(
        (settings.enabled, settings.patterns),
        (true, vec![r"corp-\d{6}".to_string()])
    );
    let bundle_path = dir.join("res.bundle.tar.gz");
    let check_bundle = || {
        let ms = bundle_members(&bundle_path);
        assert!(ms.iter().all(|(p, _)| p != "redact.json"), "no redact.json");
        assert!(ms.iter().any(|(p, _)| p.ends_with(".tar.gz:run.json")));
        for (path, data) in &ms {
            for s in bench_secrets() {
                assert!(!holds(data, s), "the bundle's {path} holds {s}");
            }
        }
    };
    check_bundle();

    // A note added to the directory's experiment.toml that only the bench's --redact pattern
    // names: `tare report` rebuilds the bundle with that pattern, remembered.
    std::fs::write(
        out.join("experiment.toml"),
        format!("# ticket {BENCH_CUSTOM}\n{kept}"),
    )
    .unwrap();
    let r = report(&out);
    let stdout = String::from_utf8_lossy(&r.stdout);
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert!(r.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("bundle: checked again for secrets: 1 value redacted (experiment.toml 1)"),
        "{stdout}"
    );
    check_bundle();
    let ms = bundle_members(&bundle_path);
    let (_, toml) = ms.iter().find(|(p, _)| p == "experiment.toml").unwrap();
    assert!(
        String::from_utf8_lossy(toml).starts_with("# ticket [redacted:custom]\n"),
        "{}",
        String::from_utf8_lossy(toml)
    );
}

#[test]
fn no_redact_is_remembered_too_and_a_bad_redact_json_stops_the_rebuild() {
    let dir = common::scratch("redact", "bench-off");
    let exp = secret_experiment(&dir, "bare");
    let out = dir.join("res");
    let o = Command::new(TARE)
        .args(["bench", "--quiet", "--no-redact", "--out"])
        .arg(&out)
        .arg(&exp)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let kept = std::fs::read_to_string(out.join("experiment.toml")).unwrap();
    assert!(kept.contains(BENCH_TOKEN), "--no-redact keeps it: {kept}");
    let bundle_path = dir.join("res.bundle.tar.gz");
    let toml_of_bundle = || {
        let ms = bundle_members(&bundle_path);
        let (_, t) = ms
            .into_iter()
            .find(|(p, _)| p == "experiment.toml")
            .unwrap();
        String::from_utf8(t).unwrap()
    };

    let r = report(&out);
    let stdout = String::from_utf8_lossy(&r.stdout);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(
        stdout.contains("bundle: redaction off (--no-redact); do not share it"),
        "{stdout}"
    );
    assert!(toml_of_bundle().contains(BENCH_TOKEN));

    // A directory from a tare before redact.json: the built-in forms, and a note saying so.
    std::fs::remove_file(out.join("redact.json")).unwrap();
    let r = report(&out);
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert!(r.status.success(), "{stderr}");
    assert!(
        stderr.contains("has no redact.json") && stderr.contains("built-in forms only"),
        "{stderr}"
    );
    let t = toml_of_bundle();
    assert!(
        !t.contains(BENCH_TOKEN) && t.contains("--token [redacted:secret-option]"),
        "{t}"
    );

    // A redact.json that cannot be used: bad input, and the bundle is left as it was.
    std::fs::write(
        out.join("redact.json"),
        r#"{"schema":"tare.redact.v1","enabled":true,"patterns":["(corp"]}"#,
    )
    .unwrap();
    let before = std::fs::read(&bundle_path).unwrap();
    let r = report(&out);
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("redact.json") && stderr.contains("is not a regular expression"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&bundle_path).unwrap(), before);
}
