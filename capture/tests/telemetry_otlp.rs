//! `--otlp-endpoint` (as root, real kernel): tare's spans reach a loopback OTLP/HTTP receiver that decodes them with opentelemetry-proto; headers only from the environment; dead endpoints cost one warning.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, KeyValue};
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use report_model::bundle::{self, member_text, Limits};
use report_model::schema::parse_json;
use report_model::schema::phases::PHASE_NAMES;
use report_model::schema::run::Run;

const TARE: &str = env!("CARGO_BIN_EXE_tare");
const SECRET: &str = "s3cr3t-h3ad3r-v4lue";

fn scratch(name: &str) -> PathBuf {
    common::scratch("totlp", name)
}

/// One HTTP request as the receiver saw it.
struct Request {
    method: String,
    path: String,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

/// Reads one HTTP/1.1 request (Content-Length or chunked body); `None` at EOF.
fn read_request(r: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if r.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
    }
    let mut body = Vec::new();
    if let Some(n) = headers.get("content-length") {
        body.resize(n.parse().ok()?, 0);
        r.read_exact(&mut body).ok()?;
    } else if headers.get("transfer-encoding").map(String::as_str) == Some("chunked") {
        loop {
            let mut size = String::new();
            r.read_line(&mut size).ok()?;
            let n = usize::from_str_radix(size.trim(), 16).ok()?;
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk).ok()?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    }
    Some(Request {
        method,
        path,
        headers,
        body,
    })
}

/// An OTLP/HTTP receiver on 127.0.0.1 answering 200 to every request, for at most 60 s.
fn receiver() -> (u16, mpsc::Receiver<Request>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            match listener.accept() {
                Ok((stream, _)) => {
                    let tx = tx.clone();
                    std::thread::spawn(move || {
                        stream.set_nonblocking(false).unwrap();
                        stream
                            .set_read_timeout(Some(Duration::from_secs(20)))
                            .unwrap();
                        let mut w = stream.try_clone().unwrap();
                        let mut r = BufReader::new(stream);
                        for _ in 0..100 {
                            let Some(req) = read_request(&mut r) else {
                                break;
                            };
                            let _ = tx.send(req);
                            let _ = w.write_all(
                                b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n",
                            );
                        }
                    });
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    });
    (port, rx)
}

fn tare(args: &[&str], headers: Option<&str>) -> Output {
    let mut c = Command::new(TARE);
    c.args(args);
    for v in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "OTEL_EXPORTER_OTLP_HEADERS",
        "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_SERVICE_NAME",
    ] {
        c.env_remove(v);
    }
    if let Some(h) = headers {
        c.env("OTEL_EXPORTER_OTLP_HEADERS", h);
    }
    c.output().unwrap()
}

fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a any_value::Value> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.as_ref())
}

fn attr_str(attrs: &[KeyValue], key: &str) -> Option<String> {
    match attr(attrs, key)? {
        any_value::Value::StringValue(s) => Some(s.clone()),
        _ => None,
    }
}

fn attr_int(attrs: &[KeyValue], key: &str) -> Option<i64> {
    match attr(attrs, key)? {
        any_value::Value::IntValue(i) => Some(*i),
        _ => None,
    }
}

fn archive_members(path: &Path) -> Vec<bundle::Member> {
    let bytes = std::fs::read(path).unwrap();
    let members = bundle::read_tar_gz("a", &bytes, &Limits::default()).unwrap();
    bundle::verify("a", &members).unwrap();
    members
}

#[test]
fn spans_reach_a_loopback_receiver_with_parents_attributes_and_the_env_header() {
    let (port, requests) = receiver();
    let d = scratch("export");
    let out = d.join("a.tar.gz");
    let endpoint = format!("http://127.0.0.1:{port}");
    let headers = format!("x-tare-test={SECRET},authorization=Bearer%20tok-{SECRET}");
    let o = tare(
        &[
            "--otlp-endpoint",
            &endpoint,
            "capture",
            "--out",
            out.to_str().unwrap(),
            "--",
            "sh",
            "-c",
            "echo hi > /dev/null",
        ],
        Some(&headers),
    );
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");

    // Every request tare sent (batched: normally one), decoded with the official definitions.
    let mut spans: Vec<Span> = Vec::new();
    let mut service_names = Vec::new();
    while let Ok(req) = requests.recv_timeout(Duration::from_secs(5)) {
        assert_eq!(req.method, "POST");
        assert_eq!(req.path, "/v1/traces");
        assert_eq!(
            req.headers.get("content-type").map(String::as_str),
            Some("application/x-protobuf")
        );
        assert_eq!(
            req.headers.get("x-tare-test").map(String::as_str),
            Some(SECRET),
            "the header from OTEL_EXPORTER_OTLP_HEADERS arrives"
        );
        let msg = ExportTraceServiceRequest::decode(req.body.as_slice()).expect("protobuf");
        for rs in msg.resource_spans {
            let res = rs.resource.expect("a resource");
            service_names.push(attr_str(&res.attributes, "service.name"));
            spans.extend(rs.scope_spans.into_iter().flat_map(|s| s.spans));
        }
        if spans.iter().any(|s| s.name == "tare") {
            break;
        }
    }
    assert!(!spans.is_empty(), "no spans arrived");
    assert!(service_names.iter().all(|s| s.as_deref() == Some("tare")));

    let one = |name: &str| -> &Span {
        let v: Vec<&Span> = spans.iter().filter(|s| s.name == name).collect();
        assert_eq!(
            v.len(),
            1,
            "one span {name} in {:?}",
            spans.iter().map(|s| &s.name).collect::<Vec<_>>()
        );
        v[0]
    };
    let root = one("tare");
    assert!(root.parent_span_id.is_empty(), "the root has no parent");
    assert_eq!(
        attr_str(&root.attributes, "command").as_deref(),
        Some("capture")
    );
    assert!(
        spans.iter().all(|s| s.trace_id == root.trace_id),
        "one trace"
    );
    let capture = one("capture");
    assert_eq!(capture.parent_span_id, root.span_id);

    let members = archive_members(&out);
    let run: Run = parse_json("run.json", member_text("a", &members, "run.json").unwrap()).unwrap();
    assert_eq!(
        attr_str(&capture.attributes, "run_id").as_deref(),
        Some(run.run_id.as_str())
    );
    for name in PHASE_NAMES {
        let p = one(name);
        assert_eq!(p.parent_span_id, capture.span_id, "{name} under capture");
        assert_eq!(attr_str(&p.attributes, "name").as_deref(), Some(name));
        assert!(p.start_time_unix_nano >= capture.start_time_unix_nano);
        assert!(p.end_time_unix_nano <= capture.end_time_unix_nano);
    }
    let drain = one("drain");
    assert_eq!(drain.parent_span_id, one("event_flush").span_id);
    let kernel = member_text("a", &members, "kernel.ndjson").unwrap();
    assert_eq!(
        attr_int(&drain.attributes, "events"),
        Some(kernel.lines().count() as i64)
    );
    assert_eq!(attr_int(&drain.attributes, "dropped"), Some(0));
    let ms = one("monitor_start");
    assert_eq!(ms.parent_span_id, one("monitor_attach").span_id);
    let programs = attr_int(&ms.attributes, "programs").unwrap();
    assert!(programs > 0);
    // monitor_load runs on a thread of its own from cgroup_prepare on.
    let ml = one("monitor_load");
    assert_eq!(ml.parent_span_id, one("cgroup_prepare").span_id);
    // Each program's verification (on two threads) is a child of monitor_load, each attach
    // of monitor_start, named for its program.
    for step in ["program_load", "attach"] {
        let parent = if step == "attach" { &ms } else { &ml };
        let v: Vec<&Span> = spans.iter().filter(|s| s.name == step).collect();
        assert_eq!(v.len() as i64, programs, "one {step} span per program");
        let mut names: Vec<String> = v
            .iter()
            .map(|s| {
                assert_eq!(s.parent_span_id, parent.span_id, "{step} under its parent");
                attr_str(&s.attributes, "program").unwrap()
            })
            .collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len() as i64, programs, "{step}: {names:?}");
    }
    // One `member` span per archive member serialized, under archive_encode.
    let encode = one("archive_encode");
    let mut paths: Vec<String> = spans
        .iter()
        .filter(|s| s.name == "member")
        .map(|s| {
            assert_eq!(s.parent_span_id, encode.span_id);
            assert!(attr_int(&s.attributes, "bytes").unwrap() > 0);
            attr_str(&s.attributes, "path").unwrap()
        })
        .collect();
    paths.sort();
    let mut expected: Vec<String> = members
        .iter()
        .map(|m| m.path.clone())
        .filter(|p| p != "manifest.json")
        .collect();
    expected.sort();
    assert_eq!(paths, expected);

    // The header is nowhere in the archive, nor in what tare printed.
    for m in &members {
        let text = String::from_utf8_lossy(&m.data);
        assert!(!text.contains(SECRET), "{} holds the header", m.path);
        assert!(!text.contains("OTEL_EXPORTER_OTLP_HEADERS"), "{}", m.path);
    }
    assert!(!stderr.contains(SECRET) && !String::from_utf8_lossy(&o.stdout).contains(SECRET));
    let _ = std::fs::remove_dir_all(&d);
}

/// A loopback port with nothing listening.
fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn assert_one_warning(stderr: &str, endpoint: &str) {
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("warning")).collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(warnings[0].starts_with("tare: warning: cannot export tare's spans to "));
    assert!(warnings[0].contains(endpoint), "{stderr}");
    assert!(!stderr.contains(SECRET), "{stderr}");
}

#[test]
fn an_unreachable_endpoint_costs_one_warning_and_never_fails_the_capture() {
    let d = scratch("closed");
    let out = d.join("a.tar.gz");
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    let started = Instant::now();
    let o = tare(
        &[
            "--otlp-endpoint",
            &endpoint,
            "capture",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
            "--",
            "true",
        ],
        Some(&format!("x-tare-test={SECRET}")),
    );
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert_one_warning(&stderr, &endpoint);
    archive_members(&out);
    // Refused at once: well under the 2 s export timeout.
    assert!(took < Duration::from_secs(3), "{took:?}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_silent_endpoint_delays_the_exit_by_at_most_the_export_timeout() {
    // Accepts connections (the kernel's backlog) but never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://127.0.0.1:{}", silent.local_addr().unwrap().port());
    let d = scratch("silent");
    let baseline = {
        let t = Instant::now();
        let o = tare(
            &[
                "capture",
                "--quiet",
                "--out",
                d.join("b.tar.gz").to_str().unwrap(),
                "--",
                "true",
            ],
            None,
        );
        assert!(o.status.success());
        t.elapsed()
    };
    let started = Instant::now();
    let o = tare(
        &[
            "--otlp-endpoint",
            &endpoint,
            "capture",
            "--quiet",
            "--out",
            d.join("a.tar.gz").to_str().unwrap(),
            "--",
            "true",
        ],
        None,
    );
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert_one_warning(&stderr, &endpoint);
    archive_members(&d.join("a.tar.gz"));
    let extra = took.saturating_sub(baseline);
    // The 2 s export timeout, plus the shutdown margin and scheduling slack.
    assert!(
        extra < Duration::from_millis(3500),
        "{took:?} vs {baseline:?}"
    );
    drop(silent);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_malformed_endpoint_is_a_usage_error() {
    let o = tare(
        &["--otlp-endpoint", "localhost:4318", "capture", "--", "true"],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("use an http:// or https:// URL"), "{err}");
}
