//! Bundle and archive I/O: determinism, manifests, and every kind of refused input.

use report_model::bundle::{self, Limits, Member, MANIFEST};
use report_model::schema::manifest::ContainerKind;
use report_model::ModelError;

/// A fixture's member, by path.
fn fixture_member(fixture: &str, path: &str) -> Vec<u8> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/bundles");
    let bytes = std::fs::read(format!("{dir}/{fixture}")).unwrap();
    let members = bundle::read_tar_gz(fixture, &bytes, &Limits::default()).unwrap();
    members.into_iter().find(|m| m.path == path).unwrap().data
}

/// Two kernel events (v2 lines).
const EVENTS: &[u8] =
    b"{\"dt\":5,\"pid\":1,\"comm\":\"a\",\"cgroup_id\":1,\"kind\":\"fork\",\"child_pid\":2}\n\
{\"dt\":7,\"pid\":2,\"comm\":\"b\",\"cgroup_id\":1,\"kind\":\"exit\",\"code\":0}\n";

fn sample_members() -> Vec<Member> {
    vec![
        Member::new(
            "run.json",
            fixture_member("capture.archive.tar.gz", "run.json"),
        ),
        Member::new("kernel.ndjson", EVENTS.to_vec()),
        Member::new("charts/wall.svg", b"<svg/>".to_vec()),
    ]
}

/// A raw tar.gz built by hand, for inputs our writer would never produce.
fn raw_tar_gz(entries: &[(&str, tar::EntryType, &[u8])]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    for (path, kind, data) in entries {
        let mut h = tar::Header::new_gnu();
        // Write the name bytes directly so `..` and absolute paths get through.
        let name = &mut h.as_old_mut().name;
        name[..path.len()].copy_from_slice(path.as_bytes());
        h.set_size(data.len() as u64);
        h.set_entry_type(*kind);
        h.set_mode(0o644);
        if matches!(kind, tar::EntryType::Symlink) {
            h.set_link_name("/etc/passwd").unwrap();
        }
        h.set_cksum();
        b.append(&h, *data).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap()
}

fn container_problem(err: ModelError) -> String {
    match err {
        ModelError::Container { problem, .. } => problem,
        other => panic!("expected a container error, got {other:?}"),
    }
}

#[test]
fn writing_is_byte_identical_and_order_independent() {
    let a = bundle::pack(
        "a.tar.gz",
        ContainerKind::Archive,
        "run-1",
        sample_members(),
        vec![],
    )
    .unwrap();
    let mut reversed = sample_members();
    reversed.reverse();
    let b = bundle::pack(
        "b.tar.gz",
        ContainerKind::Archive,
        "run-1",
        reversed,
        vec![],
    )
    .unwrap();
    assert_eq!(a, b, "same members must give the same bytes");
    // gzip header: no mtime, no file name.
    assert_eq!(&a[4..8], &[0, 0, 0, 0]);
    assert_eq!(a[3] & 0x08, 0, "FNAME flag must be clear");
}

#[test]
fn round_trip_and_verify() {
    let bytes = bundle::pack(
        "x.tar.gz",
        ContainerKind::Bundle,
        "smoke",
        sample_members(),
        vec!["note".into()],
    )
    .unwrap();
    let members = bundle::read_tar_gz("x.tar.gz", &bytes, &Limits::default()).unwrap();
    let paths: Vec<&str> = members.iter().map(|m| m.path.as_str()).collect();
    assert_eq!(
        paths,
        ["charts/wall.svg", "kernel.ndjson", MANIFEST, "run.json"]
    );
    let manifest = bundle::verify("x.tar.gz", &members).unwrap();
    assert_eq!(manifest.kind, ContainerKind::Bundle);
    assert_eq!(manifest.members.len(), 3);
    assert_eq!(manifest.notes, vec!["note".to_string()]);
    let run = manifest
        .members
        .iter()
        .find(|m| m.path == "run.json")
        .unwrap();
    assert_eq!(run.schema.as_deref(), Some("tare.run.v1"));
    assert_eq!(
        run.sha256,
        bundle::sha256_hex(&fixture_member("capture.archive.tar.gz", "run.json"))
    );
    // Every member round-trips byte for byte.
    for m in sample_members() {
        assert_eq!(
            members.iter().find(|x| x.path == m.path).unwrap().data,
            m.data
        );
    }
}

/// The good members with one thing wrong each: (case, members, what the error must name).
fn broken(good: &[Member]) -> Vec<(&'static str, Vec<Member>, [&'static str; 2])> {
    let mut tampered = good.to_vec();
    tampered
        .iter_mut()
        .find(|m| m.path == "kernel.ndjson")
        .unwrap()
        .data[0] = b'[';
    let mut stray = good.to_vec();
    stray.push(Member::new("extra.bin", vec![1, 2, 3]));
    let without =
        |path: &str| -> Vec<Member> { good.iter().filter(|m| m.path != path).cloned().collect() };
    vec![
        ("tampered", tampered, ["kernel.ndjson", "sha256"]),
        ("missing", without("run.json"), ["run.json", "missing"]),
        ("stray", stray, ["stray", "extra.bin"]),
        ("no manifest", without(MANIFEST), ["no manifest.json", ""]),
    ]
}

#[test]
fn verify_names_a_tampered_missing_or_stray_member() {
    let bytes = bundle::pack("x", ContainerKind::Archive, "r", sample_members(), vec![]).unwrap();
    let good = bundle::read_tar_gz("x", &bytes, &Limits::default()).unwrap();
    for (case, members, names) in broken(&good) {
        let p = container_problem(bundle::verify("x", &members).unwrap_err());
        assert!(p.contains(names[0]) && p.contains(names[1]), "{case}: {p}");
    }
}

#[test]
fn verify_rejects_an_unknown_major_version() {
    let bytes = bundle::pack("x", ContainerKind::Archive, "r", sample_members(), vec![]).unwrap();
    let mut members = bundle::read_tar_gz("x", &bytes, &Limits::default()).unwrap();
    let m = members.iter_mut().find(|m| m.path == MANIFEST).unwrap();
    m.data = String::from_utf8(m.data.clone())
        .unwrap()
        .replace("tare.manifest.v1", "tare.manifest.v2")
        .into_bytes();
    match bundle::verify("x", &members).unwrap_err() {
        ModelError::Schema {
            found, expected, ..
        } => {
            assert_eq!(found, "tare.manifest.v2");
            assert_eq!(expected, "tare.manifest.v1");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn refuses_non_gzip_and_damaged_input() {
    let p = container_problem(
        bundle::read_tar_gz("f", b"{\"not\":\"gzip\"}", &Limits::default()).unwrap_err(),
    );
    assert!(p.contains("not a gzip file"), "{p}");
    let mut bytes =
        bundle::pack("x", ContainerKind::Archive, "r", sample_members(), vec![]).unwrap();
    bytes.truncate(bytes.len() / 2);
    let p = container_problem(bundle::read_tar_gz("f", &bytes, &Limits::default()).unwrap_err());
    assert!(p.contains("damaged") || p.contains("truncated"), "{p}");
}

#[test]
fn refuses_path_traversal_absolute_and_links() {
    for (path, kind, expect) in [
        ("../evil.json", tar::EntryType::Regular, "`..` in path"),
        ("a/../../evil", tar::EntryType::Regular, "`..` in path"),
        ("/etc/evil", tar::EntryType::Regular, "absolute path"),
        ("link", tar::EntryType::Symlink, "links are not allowed"),
        ("hard", tar::EntryType::Link, "links are not allowed"),
        ("dev", tar::EntryType::Char, "not a regular file"),
        ("blk", tar::EntryType::Block, "not a regular file"),
        ("fifo", tar::EntryType::Fifo, "not a regular file"),
    ] {
        let bytes = raw_tar_gz(&[(path, kind, b"x")]);
        let p = container_problem(
            bundle::read_tar_gz("evil.tar.gz", &bytes, &Limits::default()).unwrap_err(),
        );
        assert!(p.contains(expect), "{path}: {p}");
    }
}

#[test]
fn refuses_a_gzip_bomb_and_too_many_members() {
    // 64 MiB of zeros compress to ~64 KiB: over a 16 MiB total limit.
    let zeros = vec![0u8; 64 << 20];
    let bomb = bundle::write_tar_gz("bomb", &[Member::new("zeros.bin", zeros)]).unwrap();
    assert!(
        bomb.len() < 1 << 20,
        "the bomb must be small compressed: {}",
        bomb.len()
    );
    let limits = Limits {
        max_members: 10,
        max_member_bytes: 128 << 20,
        max_total_bytes: 16 << 20,
        ..Limits::default()
    };
    let p = container_problem(bundle::read_tar_gz("bomb.tar.gz", &bomb, &limits).unwrap_err());
    assert!(p.contains("gzip bomb"), "{p}");
    let limits = Limits {
        max_members: 10,
        max_member_bytes: 1 << 20,
        max_total_bytes: 1 << 30,
        ..Limits::default()
    };
    let p = container_problem(bundle::read_tar_gz("bomb.tar.gz", &bomb, &limits).unwrap_err());
    assert!(p.contains("limit per member"), "{p}");

    let many: Vec<Member> = (0..11)
        .map(|i| Member::new(format!("m{i:02}"), vec![b'x']))
        .collect();
    let bytes = bundle::write_tar_gz("many", &many).unwrap();
    let limits = Limits {
        max_members: 10,
        ..Limits::default()
    };
    let p = container_problem(bundle::read_tar_gz("many.tar.gz", &bytes, &limits).unwrap_err());
    assert!(p.contains("more than 10 members"), "{p}");
}

#[test]
fn refuses_gnu_long_names_and_pax_headers_before_reading_them() {
    // A GNU long-name entry, as `tar --format=gnu` writes for a path over 100 bytes: the tar
    // crate would read its whole body (the name) into memory.
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    let mut h = tar::Header::new_gnu();
    h.set_size(2);
    h.set_mode(0o644);
    let long = format!("{}/run.json", "d".repeat(120));
    b.append_data(&mut h, &long, &b"{}"[..]).unwrap();
    let bytes = b.into_inner().unwrap().finish().unwrap();
    let err = container_problem(bundle::read_tar_gz("x", &bytes, &Limits::default()).unwrap_err());
    assert!(err.contains("GNULongName header refused"), "{err}");
    // A pax extended header, as `tar --format=posix` writes.
    let pax = raw_tar_gz(&[(
        "././@PaxHeader",
        tar::EntryType::XHeader,
        b"20 path=run.json\n",
    )]);
    let err = container_problem(bundle::read_tar_gz("x", &pax, &Limits::default()).unwrap_err());
    assert!(err.contains("XHeader header refused"), "{err}");
    // Plain ustar paths of up to 255 bytes (name and prefix) are still read.
    let deep = format!("{}/{}/summary.json", "a".repeat(90), "b".repeat(60));
    let ok = bundle::write_tar_gz("x", &[Member::new(deep.clone(), b"{}".to_vec())]).unwrap();
    let back = bundle::read_tar_gz("x", &ok, &Limits::default()).unwrap();
    assert_eq!(back[0].path, deep);
}

#[test]
fn refuses_duplicate_members() {
    let bytes = raw_tar_gz(&[
        ("a.json", tar::EntryType::Regular, b"1"),
        ("a.json", tar::EntryType::Regular, b"2"),
    ]);
    let p = container_problem(
        bundle::read_tar_gz("dup.tar.gz", &bytes, &Limits::default()).unwrap_err(),
    );
    assert!(p.contains("appears twice"), "{p}");
    let err = bundle::write_tar_gz("dup", &[Member::new("a", vec![]), Member::new("a", vec![])])
        .unwrap_err();
    assert!(container_problem(err).contains("given twice"));
}

#[test]
fn writer_refuses_unsafe_paths() {
    let err = bundle::write_tar_gz("w", &[Member::new("../x", vec![])]).unwrap_err();
    assert!(container_problem(err).contains("`..`"));
}

/// A member packed from a reader (its length and sha256 given) gives the same bytes as the
/// same member in memory; a reader that ends early is an error naming the member.
#[test]
fn spooled_members_pack_like_members_in_memory() {
    let big: Vec<u8> = (0..200_000u32)
        .flat_map(|i| format!("{{\"seq\":{i}}}\n").into_bytes())
        .collect();
    let others = || -> Vec<Member> {
        sample_members()
            .into_iter()
            .filter(|m| m.path != "kernel.ndjson")
            .collect()
    };
    let mut in_memory = others();
    in_memory.push(Member::new("kernel.ndjson", big.clone()));
    let expected = bundle::pack("a", ContainerKind::Archive, "run-1", in_memory, vec![]).unwrap();

    let spooled = bundle::Spooled {
        path: "kernel.ndjson".into(),
        bytes: big.len() as u64,
        sha256: bundle::sha256_hex(&big),
        reader: Box::new(std::io::Cursor::new(big.clone())),
        ready: None,
    };
    let got = bundle::pack_to(
        "a",
        Vec::new(),
        ContainerKind::Archive,
        "run-1",
        others(),
        vec![spooled],
        vec![],
    )
    .unwrap();
    assert_eq!(got, expected);
    let members = bundle::read_tar_gz("a", &got, &Limits::default()).unwrap();
    let manifest = bundle::verify("a", &members).unwrap();
    assert!(manifest
        .members
        .iter()
        .any(|m| m.path == "kernel.ndjson" && m.bytes == big.len() as u64));

    let short = bundle::Spooled {
        path: "kernel.ndjson".into(),
        bytes: big.len() as u64 + 10,
        sha256: bundle::sha256_hex(&big),
        reader: Box::new(std::io::Cursor::new(big)),
        ready: None,
    };
    let err = bundle::pack_to(
        "a",
        Vec::new(),
        ContainerKind::Archive,
        "run-1",
        others(),
        vec![short],
        vec![],
    )
    .unwrap_err();
    assert!(
        container_problem(err).contains("kernel.ndjson"),
        "the error names the member"
    );
}

#[test]
fn the_streaming_verify_agrees_with_the_one_in_memory() {
    let bytes = bundle::pack("x", ContainerKind::Archive, "r", sample_members(), vec![]).unwrap();
    let (manifest, count) = bundle::verify_stream("x", &bytes[..]).unwrap();
    assert_eq!((manifest.id.as_str(), count), ("r", 4));
    let good = bundle::read_tar_gz("x", &bytes, &Limits::default()).unwrap();
    let repack = |members: &[Member]| bundle::write_tar_gz("x", members).unwrap();
    for (case, members, _) in broken(&good) {
        let in_memory = container_problem(bundle::verify("x", &members).unwrap_err());
        let streamed =
            container_problem(bundle::verify_stream("x", &repack(&members)[..]).unwrap_err());
        assert_eq!(streamed, in_memory, "{case}");
    }
    // Every fixture archive and bundle gets the same answer both ways.
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/bundles");
    for name in [
        "capture.archive.tar.gz",
        "smoke.bundle.tar.gz",
        "redacted.archive.tar.gz",
        "traversal.tar.gz",
        "symlink.tar.gz",
        "malformed.tar.gz",
    ] {
        let bytes = std::fs::read(format!("{dir}/{name}")).unwrap();
        let in_memory = bundle::read_tar_gz(name, &bytes, &Limits::default())
            .and_then(|m| bundle::verify(name, &m).map(|x| x.id));
        let streamed = bundle::verify_stream(name, &bytes[..]).map(|(m, _)| m.id);
        assert_eq!(format!("{streamed:?}"), format!("{in_memory:?}"), "{name}");
    }
}

/// An archive of `members` with a manifest that matches them (as a forger would recompute it).
fn archive_of(members: Vec<Member>) -> Vec<u8> {
    bundle::pack("x", ContainerKind::Archive, "r", members, vec![]).unwrap()
}

/// `sample_members` with `path`'s content replaced.
fn with(path: &str, data: &[u8]) -> Vec<Member> {
    let mut m = sample_members();
    m.retain(|m| m.path != path);
    m.push(Member::new(path, data.to_vec()));
    m
}

fn field_error(err: ModelError) -> (String, String, String) {
    match err {
        ModelError::Field {
            file,
            field,
            problem,
        } => (file, field, problem),
        other => panic!("expected a field error, got {other:?}"),
    }
}

/// Issue #31 item 6: hashes that match are not enough; every member tare knows is parsed
/// with its schema, and the error names the member (and the line, for ndjson).
#[test]
fn the_streaming_verify_parses_every_member_it_knows() {
    let bad_run = archive_of(with("run.json", b"not json {{{"));
    let (file, field, problem) = field_error(bundle::verify_stream("x", &bad_run[..]).unwrap_err());
    assert_eq!(
        (file.as_str(), field.as_str()),
        ("x:run.json", "(top level)")
    );
    assert!(problem.contains("not valid JSON"), "{problem}");

    let mut events = EVENTS.to_vec();
    events.extend_from_slice(b"{\"dt\":1,\"pid\":\"one\"}\n");
    let bad_line = archive_of(with("kernel.ndjson", &events));
    let (file, field, _) = field_error(bundle::verify_stream("x", &bad_line[..]).unwrap_err());
    assert_eq!(
        (file.as_str(), field.as_str()),
        ("x:kernel.ndjson", "line 3: pid")
    );

    let mut others = sample_members();
    others.push(Member::new("metrics.ndjson", b"{\"t_ns\":1}\n".to_vec()));
    others.push(Member::new("trace.json", b"[]".to_vec()));
    let (file, field, _) =
        field_error(bundle::verify_stream("x", &archive_of(others.clone())[..]).unwrap_err());
    assert_eq!(
        (file.as_str(), field.as_str()),
        ("x:metrics.ndjson", "line 1: (top level)")
    );
    others.retain(|m| m.path != "metrics.ndjson");
    let (file, _, problem) =
        field_error(bundle::verify_stream("x", &archive_of(others)[..]).unwrap_err());
    assert_eq!(file, "x:trace.json");
    assert!(problem.contains("OTLP"), "{problem}");

    // What tare writes passes: the fixtures, a bundle's archives included.
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/bundles");
    for name in [
        "capture.archive.tar.gz",
        "timeline.archive.tar.gz",
        "redacted.archive.tar.gz",
        "smoke.bundle.tar.gz",
        "smoke-b.bundle.tar.gz",
        "xss.bundle.tar.gz",
    ] {
        let bytes = std::fs::read(format!("{dir}/{name}")).unwrap();
        bundle::verify_stream(name, &bytes[..]).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

/// A member that does not match the manifest is named before one whose content is bad.
#[test]
fn a_hash_mismatch_is_named_before_a_bad_content() {
    let good = bundle::read_tar_gz("x", &archive_of(sample_members()), &Limits::default()).unwrap();
    let mut members = good.clone();
    for m in &mut members {
        if m.path == "run.json" {
            m.data = b"not json".to_vec();
        }
    }
    let bytes = bundle::write_tar_gz("x", &members).unwrap();
    let p = container_problem(bundle::verify_stream("x", &bytes[..]).unwrap_err());
    assert!(
        p.contains("`run.json` is 8 bytes; the manifest says"),
        "{p}"
    );
}

/// A bundle's capture archives are checked member by member too; the error names both.
#[test]
fn a_bundles_archives_are_checked_inside() {
    let inner = archive_of(with("phases.json", b"{\"schema\":\"tare.phases.v1\"}"));
    let outer = bundle::pack(
        "b",
        ContainerKind::Bundle,
        "smoke",
        vec![Member::new("archives/k-0001-c.tar.gz", inner)],
        vec![],
    )
    .unwrap();
    let (file, field, problem) = field_error(bundle::verify_stream("b", &outer[..]).unwrap_err());
    assert_eq!(file, "b:archives/k-0001-c.tar.gz:phases.json");
    assert!(
        field.contains("top level") && problem.contains("missing field"),
        "{field}: {problem}"
    );
}

/// Reads through `inner`, counting the bytes it gave.
struct Counting<'a> {
    inner: &'a [u8],
    read: std::rc::Rc<std::cell::Cell<usize>>,
}

impl std::io::Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.set(self.read.get() + n);
        Ok(n)
    }
}

/// A gzip bomb of `members` tar members of `mib` MiB of zeros each, every MiB its own
/// gzip member at the best compression (~1 KiB): what a hostile file looks like.
fn zero_bomb(names: &[&str], mib: u64) -> Vec<u8> {
    use std::io::Write;
    let gz = |data: &[u8]| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    };
    let zeros = gz(&vec![0u8; 1 << 20]);
    let mut out = Vec::new();
    for name in names {
        let mut h = tar::Header::new_ustar();
        h.set_path(name).unwrap();
        h.set_size(mib << 20);
        h.set_mode(0o644);
        h.set_cksum();
        out.extend(gz(h.as_bytes()));
        for _ in 0..mib {
            out.extend_from_slice(&zeros);
        }
    }
    out.extend(gz(&[0u8; 1024]));
    out
}

/// Issue #31 item 7: a bomb whose members are each within the limits (4 x 500 MiB of zeros
/// in ~2 MB) is refused by its compression ratio after 64 MiB, having read a few percent of
/// the file, whichever reader opens it.
#[test]
fn a_gzip_bomb_stops_at_the_ratio_limit_having_read_little() {
    let bomb = zero_bomb(&["kernel.ndjson", "run.json", "a.bin", "b.bin"], 500);
    assert!(bomb.len() < 2_300_000, "{}", bomb.len());
    // The browser's: members within its 128 MiB.
    let small = zero_bomb(&["a.bin", "b.bin"], 100);
    for (what, bomb, keep, limits) in [
        ("export", &bomb, bundle::Keep::CAPTURE, Limits::default()),
        ("verify", &bomb, bundle::Keep::default(), Limits::verify()),
        (
            "browser",
            &small,
            bundle::Keep::default(),
            Limits::browser(),
        ),
    ] {
        let read = std::rc::Rc::default();
        let reader = Counting {
            inner: bomb,
            read: std::rc::Rc::clone(&read),
        };
        let p = container_problem(bundle::open("bomb.tar.gz", reader, &keep, &limits).unwrap_err());
        assert!(
            p.contains("decompresses to over 200:1") && p.contains("possible gzip bomb"),
            "{what}: {p}"
        );
        assert!(read.get() < 200_000, "{what}: read {} bytes", read.get());
    }
    // The in-memory reader (the viewer's) stops there too.
    let p = container_problem(
        bundle::read_tar_gz("bomb.tar.gz", &bomb, &Limits::default()).unwrap_err(),
    );
    assert!(p.contains("possible gzip bomb"), "{p}");
}

/// What `tare export` reads as a stream is what the viewer reads in memory.
#[test]
fn a_streamed_capture_is_the_capture_read_in_memory() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/bundles");
    for name in [
        "capture.archive.tar.gz",
        "timeline.archive.tar.gz",
        "redacted.archive.tar.gz",
    ] {
        let bytes = std::fs::read(format!("{dir}/{name}")).unwrap();
        let members = bundle::read_tar_gz(name, &bytes, &Limits::default()).unwrap();
        let manifest = bundle::verify(name, &members).unwrap();
        let in_memory = bundle::capture_members(name, &members).unwrap();
        // In pieces of 7 bytes: lines and documents cut anywhere.
        let opened = bundle::open(
            name,
            Pieces(&bytes[..], 7),
            &bundle::Keep::CAPTURE,
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(opened.manifest, manifest, "{name}");
        assert_eq!(opened.count, members.len(), "{name}");
        let streamed = opened.capture_members(name).unwrap();
        assert!(!streamed.events.is_empty(), "{name}");
        assert_eq!(format!("{streamed:?}"), format!("{in_memory:?}"), "{name}");
    }
}

/// A reader that gives at most `.1` bytes a read.
struct Pieces<'a>(&'a [u8], usize);

impl std::io::Read for Pieces<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.1);
        self.0.read(&mut buf[..n])
    }
}

/// A reader that gives one byte at a time (a slow pipe) is read like any other.
#[test]
fn a_container_given_a_byte_at_a_time_reads_the_same() {
    let bytes = archive_of(sample_members());
    let whole = bundle::open("x", &bytes[..], &bundle::Keep::CAPTURE, &Limits::default()).unwrap();
    let bytewise = bundle::open(
        "x",
        Pieces(&bytes[..], 1),
        &bundle::Keep::CAPTURE,
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(whole, bytewise);
    assert_eq!(whole.events.map(|e| e.len()), Some(2));
}

/// The fuzz target `stream`'s agreement, on forged archives: members of the fixture archive
/// with bytes changed (a manifest recomputed to match), read whole, in pieces, and in
/// memory. Kernel lines cut, joined, blanked or broken give the same answer every way.
#[test]
fn forged_members_read_the_same_whole_in_pieces_and_in_memory() {
    let good = bundle::read_tar_gz(
        "c",
        &std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fixtures/bundles/timeline.archive.tar.gz"
        ))
        .unwrap(),
        &Limits::default(),
    )
    .unwrap();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let (mut ok, mut refused) = (0, 0);
    for round in 0..300 {
        let mut members: Vec<Member> = good
            .iter()
            .filter(|m| m.path != MANIFEST)
            .cloned()
            .collect();
        let i = next(members.len());
        let data = &mut members[i].data;
        for _ in 0..1 + next(3) {
            let at = next(data.len().max(1));
            match next(5) {
                0 => data.insert(at.min(data.len()), b'\n'),
                1 if !data.is_empty() => {
                    data.remove(at.min(data.len() - 1));
                }
                2 if !data.is_empty() => {
                    let at = at.min(data.len() - 1);
                    data[at] = b"{}\",:0 \r\xff"[next(9)];
                }
                3 => data.truncate(at),
                _ => data.extend_from_slice(b"\r\n\n"),
            }
        }
        let bytes = archive_of(members);
        let keep = bundle::Keep::CAPTURE;
        let whole = bundle::open("f", &bytes[..], &keep, &Limits::default());
        let step = 1 + next(700);
        let pieces = bundle::open("f", Pieces(&bytes[..], step), &keep, &Limits::default());
        assert_eq!(whole, pieces, "round {round}, pieces of {step}");
        let in_memory = bundle::read_tar_gz("f", &bytes, &Limits::default()).unwrap();
        bundle::verify("f", &in_memory).unwrap();
        let parts = bundle::capture_members("f", &in_memory);
        match whole {
            Ok(opened) => {
                ok += 1;
                let streamed = opened.capture_members("f").map(|p| format!("{p:?}"));
                assert_eq!(streamed, parts.map(|p| format!("{p:?}")), "round {round}");
            }
            Err(e) => {
                refused += 1;
                // A content problem the stream finds is one the in-memory readers find,
                // or one in a member they do not read (health.json).
                let named = e.to_string();
                assert!(
                    parts.is_err() || named.contains("health.json"),
                    "round {round}: {named}"
                );
            }
        }
    }
    assert!(ok > 10 && refused > 10, "{ok} read, {refused} refused");
}
