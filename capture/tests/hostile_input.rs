//! Hostile and bad input to every reading command (export, report, compare, view, verify):
//! a 3 GB file and a 2 MB gzip bomb are refused with a clear message and exit 2 (verify: 1,
//! "the file is bad") in bounded memory, GNU time's maximum RSS held under 200 MB; member
//! contents are checked by verify; real archives of a million events still read.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use report_model::bundle::{self, Limits, Member};
use report_model::schema::kernel_event::{EventDetail, KernelEvent, LineWriter};
use report_model::schema::manifest::ContainerKind;

const TARE: &str = env!("CARGO_BIN_EXE_tare");
const GNU_TIME: &str = "/usr/bin/time";
/// The bound on every reader's memory here: tare itself is ~10-20 MB; the old readers took
/// the whole file (3.15 GB) or the whole bomb (2.1 GB).
const MAX_RSS_KB: u64 = 200 * 1024;
/// A command that has not ended by then is a failure (`tare view` serves forever).
const DEADLINE: Duration = Duration::from_secs(120);

/// One run of tare under GNU time.
#[derive(Debug)]
struct Timed {
    code: i32,
    stderr: String,
    max_rss_kb: u64,
}

/// `tare ARGS` under `/usr/bin/time -v`, in a process group of its own that is killed if it
/// has not ended by [`DEADLINE`].
fn timed(dir: &Path, args: &[&str]) -> Timed {
    let report = dir.join("time.txt");
    let _ = std::fs::remove_file(&report);
    let mut cmd = Command::new(GNU_TIME);
    cmd.arg("-v").arg("-o").arg(&report).arg(TARE).args(args);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd
        .spawn()
        .expect("GNU time (/usr/bin/time; Debian's `time`)");
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if started.elapsed() > DEADLINE {
            // SAFETY: kill has no preconditions; the group is the one spawned here.
            unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
            let _ = child.wait();
            panic!("tare {args:?} still running after {DEADLINE:?}: killed");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    let text = std::fs::read_to_string(&report).expect("GNU time's report");
    let max_rss_kb = text
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no maximum RSS in GNU time's report:\n{text}"));
    Timed {
        code: status.code().unwrap_or(-1),
        stderr,
        max_rss_kb,
    }
}

/// Every reading command on `file`, each with its expected exit status and what its
/// message must say.
fn readers<'a>(file: &'a str, out: &'a str) -> Vec<(&'static str, Vec<&'a str>, i32)> {
    vec![
        ("export", vec!["export", "--perfetto", file, "-o", out], 2),
        ("report", vec!["report", file, "--out", out], 2),
        ("compare", vec!["compare", file, file], 2),
        ("view", vec!["view", "--port", "0", file], 2),
        // verify's "the file is bad" (its documented status for a check that failed).
        ("verify", vec!["verify", file], 1),
    ]
}

/// Runs every reader on `file` and holds each to its status, its message and the bound.
fn every_reader_refuses(dir: &Path, file: &Path, says: &[(&str, &str)]) {
    let name = file.display().to_string();
    let out = dir.join("out").display().to_string();
    for (cmd, args, code) in readers(&name, &out) {
        let r = timed(dir, &args);
        let expected = says
            .iter()
            .find(|(c, _)| *c == cmd || *c == "*")
            .map(|(_, s)| *s)
            .unwrap();
        assert_eq!(r.code, code, "{cmd}: {r:?}");
        assert!(
            r.stderr.contains(&name) && r.stderr.contains(expected),
            "{cmd}: the message names the file and says `{expected}`: {}",
            r.stderr
        );
        assert!(
            r.max_rss_kb < MAX_RSS_KB,
            "{cmd}: max RSS {} KB, over {MAX_RSS_KB} KB",
            r.max_rss_kb
        );
        assert!(!Path::new(&out).exists(), "{cmd} wrote an output");
    }
}

/// A 512-byte ustar header of a regular file.
fn tar_header(path: &str, size: u64) -> Vec<u8> {
    let mut h = tar::Header::new_ustar();
    h.set_path(path).unwrap();
    h.set_size(size);
    h.set_mode(0o644);
    h.set_cksum();
    h.as_bytes().to_vec()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Issue #31 item 7: a 3 GB file costs no memory. A sparse file of zeros (not gzip), and
/// one that starts as a real tar.gz (a gzip member holding a 100 MiB member's header) and
/// goes on as zeros: the readers stream it and stop at the damage; none reads it whole
/// (before: 3.15 GB RSS). Sparse, so no disk is used.
#[test]
fn a_3gb_file_is_refused_in_bounded_memory() {
    let dir = common::scratch("hostile", "3gb");
    let zeros = dir.join("huge.tar.gz");
    std::fs::File::create(&zeros)
        .unwrap()
        .set_len(3 << 30)
        .unwrap();
    every_reader_refuses(
        &dir,
        &zeros,
        &[
            ("compare", "over the 128 MiB limit of a summary.json"),
            ("view", "over the 256 MiB limit of a file the viewer opens"),
            ("*", "not a gzip file"),
        ],
    );
    std::fs::remove_file(&zeros).unwrap();

    let gz = dir.join("huge-gz.tar.gz");
    let mut f = std::fs::File::create(&gz).unwrap();
    f.write_all(&gzip(&tar_header("kernel.ndjson", 100 << 20)))
        .unwrap();
    f.set_len(3 << 30).unwrap();
    drop(f);
    every_reader_refuses(
        &dir,
        &gz,
        &[
            ("view", "over the 256 MiB limit of a file the viewer opens"),
            ("*", "damaged tar.gz"),
        ],
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue #31 item 7: a 2 MB gzip bomb whose members are each within the limits (4 x 500
/// MiB of zeros; the old readers held 2.1 GB before saying "no manifest.json member") is
/// refused by its compression ratio after 64 MiB. `tare view` refuses it at start.
#[test]
fn a_gzip_bomb_is_refused_in_bounded_memory() {
    let dir = common::scratch("hostile", "bomb");
    let zeros = gzip(&vec![0u8; 1 << 20]);
    let mut bomb = Vec::new();
    for name in ["kernel.ndjson", "run.json", "a.bin", "manifest.json"] {
        bomb.extend(gzip(&tar_header(name, 500 << 20)));
        for _ in 0..500 {
            bomb.extend_from_slice(&zeros);
        }
    }
    bomb.extend(gzip(&[0; 1024]));
    assert!(bomb.len() < 2_300_000, "a ~2 MB bomb: {}", bomb.len());
    let file = dir.join("bomb.tar.gz");
    std::fs::write(&file, &bomb).unwrap();
    every_reader_refuses(
        &dir,
        &file,
        &[
            // The browser's limit per member (128 MiB) refuses it before a byte of it.
            ("view", "over the 134217728 byte limit per member"),
            ("*", "possible gzip bomb"),
        ],
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A fixture's members.
fn fixture(name: &str) -> Vec<Member> {
    let path = format!("{}/../fixtures/bundles/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(path).unwrap();
    let mut members = bundle::read_tar_gz(name, &bytes, &Limits::default()).unwrap();
    members.retain(|m| m.path != bundle::MANIFEST);
    members
}

fn tare(args: &[&str]) -> std::process::Output {
    Command::new(TARE).args(args).output().expect("run tare")
}

/// Issue #31 item 6: hashes that match are not enough. A capture archive whose run.json
/// is `not json {{{`, with a manifest recomputed to match, and one with a bad kernel event
/// line: `tare verify` says which member (and line) and exits 1.
#[test]
fn verify_checks_member_contents() {
    let dir = common::scratch("hostile", "contents");
    let forged = |path: &str, data: &[u8]| -> PathBuf {
        let mut members = fixture("capture.archive.tar.gz");
        let m = members.iter_mut().find(|m| m.path == path).unwrap();
        m.data = data.to_vec();
        let bytes = bundle::pack("f", ContainerKind::Archive, "r", members, vec![]).unwrap();
        let file = dir.join(format!("forged-{path}.tar.gz"));
        std::fs::write(&file, bytes).unwrap();
        file
    };
    let file = forged("run.json", b"not json {{{");
    let o = tare(&["verify", file.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        o.stdout.is_empty(),
        "no `ok`: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(
        stderr.contains(&format!("{}:run.json", file.display()))
            && stderr.contains("not valid JSON"),
        "{stderr}"
    );

    let mut lines = fixture("capture.archive.tar.gz")
        .into_iter()
        .find(|m| m.path == "kernel.ndjson")
        .unwrap()
        .data;
    let n = lines.iter().filter(|&&b| b == b'\n').count();
    lines.extend_from_slice(
        b"{\"dt\":1,\"pid\":1,\"comm\":\"x\",\"cgroup_id\":1,\"kind\":\"teleport\"}\n",
    );
    let file = forged("kernel.ndjson", &lines);
    let o = tare(&["verify", file.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(":kernel.ndjson")
            && stderr.contains(&format!("line {}", n + 1))
            && stderr.contains("teleport"),
        "{stderr}"
    );
    // And what tare writes still verifies.
    let good = format!(
        "{}/../fixtures/bundles/smoke.bundle.tar.gz",
        env!("CARGO_MANIFEST_DIR")
    );
    let o = tare(&["verify", &good]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue #31 item 11: a missing file or a directory that is not a result is bad input (exit
/// 2, saying what is expected), not tare's failure (125).
#[test]
fn view_and_report_of_a_missing_path_or_a_non_result_directory_exit_2() {
    let dir = common::scratch("hostile", "paths");
    let missing = dir.join("missing.tar.gz");
    let empty = dir.join("not-results");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(empty.join("notes.txt"), b"x").unwrap();
    let (missing, empty) = (missing.to_str().unwrap(), empty.to_str().unwrap());
    for (args, says) in [
        (vec!["view", missing], "cannot read"),
        (
            vec!["view", empty],
            "is not a results directory: it has no experiment.toml",
        ),
        (vec!["report", missing], "cannot read"),
        (
            vec!["report", empty],
            "is not a results directory: it has no experiment.toml",
        ),
    ] {
        let o = tare(&args);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        let wants = if args[0] == "view" {
            "tare view opens a bundle (.bundle.tar.gz), a capture archive (.tar.gz), a summary.json or a results directory"
        } else {
            "tare report takes a results directory or a capture archive"
        };
        assert!(stderr.contains(wants), "{args:?}: {stderr}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The bounds do not break real archives: a capture of a million kernel events (112 MB of
/// kernel.ndjson, the size of `dd bs=1 count=1000000`'s) exports, and verifies in constant
/// memory (the events are checked line by line, never held).
#[test]
fn a_million_event_archive_still_exports_and_verifies_in_constant_memory() {
    let dir = common::scratch("hostile", "million");
    let mut kernel = Vec::with_capacity(120 << 20);
    let mut w = LineWriter::default();
    for i in 0..1_000_000u64 {
        let detail = if i % 2 == 0 {
            EventDetail::Write {
                fd: 1,
                requested: 1,
                result: 1,
            }
        } else {
            EventDetail::Open {
                path: format!("/tmp/f{}", i % 977),
                flags: 0,
                mode: 0,
                result: 3,
            }
        };
        let ev = KernelEvent {
            seq: i,
            ts_ns: 1_000_000 + i * 1_400 + i % 7,
            pid: 4242,
            tid: 4242,
            ppid: None,
            comm: "dd".into(),
            cgroup_id: 7,
            detail,
        };
        w.write(&mut kernel, &ev).unwrap();
    }
    let mut members = fixture("timeline.archive.tar.gz");
    members.retain(|m| m.path != "kernel.ndjson");
    members.push(Member::new("kernel.ndjson", kernel));
    let file = dir.join("million.tar.gz");
    let bytes = bundle::pack("m", ContainerKind::Archive, "million", members, vec![]).unwrap();
    std::fs::write(&file, bytes).unwrap();
    let name = file.to_str().unwrap();

    let v = timed(&dir, &["verify", name]);
    assert_eq!(v.code, 0, "{v:?}");
    assert!(v.max_rss_kb < 64 * 1024, "verify held {} KB", v.max_rss_kb);

    let out = dir.join("million.json");
    let e = timed(
        &dir,
        &["export", "--perfetto", name, "-o", out.to_str().unwrap()],
    );
    assert_eq!(e.code, 0, "{e:?}");
    let json = std::fs::read(&out).unwrap();
    let kernel = br#""cat":"kernel""#;
    let instants = json.windows(kernel.len()).filter(|w| w == kernel).count();
    assert_eq!(instants, 1_000_000, "every event exported");
    let r = timed(
        &dir,
        &["report", name, "--out", dir.join("t.svg").to_str().unwrap()],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
