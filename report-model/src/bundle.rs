//! Deterministic tar.gz writing and limit-checked reading of archives and bundles, with manifests.

use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::io::{BufRead, Read, Write};
use std::rc::Rc;

use flate2::bufread::MultiGzDecoder;
use sha2::{Digest, Sha256};

use crate::error::ModelError;
use crate::gzchunks::{ChunkedGz, ReadyMembers};
use crate::schema::manifest::{ContainerKind, Manifest, ManifestMember};
use crate::schema::{parse_json, to_canonical_json, Versioned};

mod check;
mod stream;
pub use check::{Content, MAX_LINE_BYTES};
pub use stream::{open, Keep, Opened, MAX_MANIFEST_BYTES};

/// The name of the manifest member in every archive and bundle.
pub const MANIFEST: &str = "manifest.json";

/// One file inside a tar.gz.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub path: String,
    pub data: Vec<u8>,
}

impl Member {
    pub fn new(path: impl Into<String>, data: impl Into<Vec<u8>>) -> Self {
        Member {
            path: path.into(),
            data: data.into(),
        }
    }
}

/// A member whose bytes were written elsewhere as they were produced (e.g. a capture's
/// kernel.ndjson, spooled to a file event by event), with the length and sha256 measured
/// while writing: packed from `reader` without being held in memory.
pub struct Spooled {
    pub path: String,
    pub bytes: u64,
    /// Lower-case hex, as [`sha256_hex`] gives.
    pub sha256: String,
    pub reader: Box<dyn Read>,
    /// Gzip members compressed from these bytes ahead of time, numbered as chunks of the
    /// archive's stream (see [`crate::gzchunks::ReadyMembers`]); any that do not match are
    /// compressed again.
    pub ready: Option<Box<dyn ReadyMembers>>,
}

impl std::fmt::Debug for Spooled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spooled")
            .field("path", &self.path)
            .field("bytes", &self.bytes)
            .field("sha256", &self.sha256)
            .finish_non_exhaustive()
    }
}

/// What a reader accepts from untrusted input. Every limit is checked while the input is
/// decompressed, so a reader stops at the first one broken, having read no further.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_members: usize,
    /// Uncompressed bytes of one member (its declared size).
    pub max_member_bytes: u64,
    /// Uncompressed bytes of every member together.
    pub max_total_bytes: u64,
    /// The largest JSON or TOML member (run.json, trace.json, ...): those are parsed whole,
    /// unlike the ndjson members, read line by line.
    pub max_document_bytes: u64,
    /// Uncompressed bytes per compressed byte, over the whole stream once past its first
    /// `ratio_grace_bytes`: deflate reaches 1032:1 on zeros (a gzip bomb); tare's own
    /// archives stay far below (46:1 for the kernel events of `dd bs=1`, the most regular
    /// workload there is).
    pub max_ratio: u64,
    /// Uncompressed bytes a stream may give before `max_ratio` applies (a small archive of
    /// repeated text compresses far better than a large one).
    pub ratio_grace_bytes: u64,
}

impl Default for Limits {
    /// Generous for the CLI: 20,000 members, 512 MiB a member, 2 GiB in all, 128 MiB a
    /// JSON or TOML member, 200:1 compression past the first 64 MiB.
    fn default() -> Self {
        Limits {
            max_members: 20_000,
            max_member_bytes: 512 << 20,
            max_total_bytes: 2 << 30,
            max_document_bytes: 128 << 20,
            max_ratio: 200,
            ratio_grace_bytes: 64 << 20,
        }
    }
}

impl Limits {
    /// Tighter limits for the browser: 5,000 members, 128 MiB a member, 256 MiB in all,
    /// 128 MiB a JSON or TOML member, 200:1 compression past the first 64 MiB.
    pub fn browser() -> Self {
        Limits {
            max_members: 5_000,
            max_member_bytes: 128 << 20,
            max_total_bytes: 256 << 20,
            max_document_bytes: 128 << 20,
            max_ratio: 200,
            ratio_grace_bytes: 64 << 20,
        }
    }

    /// `tare verify`'s: any size (it holds nothing but the manifest, one line and one
    /// document at a time), 100,000 members, the CLI's bound on documents and compression.
    pub fn verify() -> Self {
        Limits {
            max_members: 100_000,
            max_member_bytes: u64::MAX,
            max_total_bytes: u64::MAX,
            ..Limits::default()
        }
    }
}

/// Lower-case hex sha256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// Lower-case hex of a digest (e.g. of a [`Sha256`] fed piece by piece).
pub fn hex(digest: &[u8]) -> String {
    let mut s = String::with_capacity(2 * digest.len());
    for b in digest {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Writes members as a deterministic tar.gz: sorted paths, zero mtimes, mode 0644, uid/gid 0,
/// no names in the gzip header, one gzip member per MiB (see [`crate::gzchunks`]). The same
/// members always give the same bytes.
pub fn write_tar_gz(file: &str, members: &[Member]) -> Result<Vec<u8>, ModelError> {
    let entries = members.iter().map(Member::entry).collect();
    write_entries(file, Vec::new(), entries)
}

impl Member {
    /// This member's manifest row: (path, bytes, sha256).
    fn manifest_row(&self) -> (String, u64, String) {
        (
            self.path.clone(),
            self.data.len() as u64,
            sha256_hex(&self.data),
        )
    }

    /// This member as a tar entry read from memory.
    fn entry(&self) -> Entry<'_> {
        Entry {
            path: self.path.clone(),
            bytes: self.data.len() as u64,
            reader: Box::new(self.data.as_slice()),
        }
    }
}

/// One tar entry to write: its path, length and where its bytes come from.
struct Entry<'a> {
    path: String,
    bytes: u64,
    reader: Box<dyn Read + 'a>,
}

/// The deterministic tar.gz of `entries` into `out`, sorted by path (see [`write_tar_gz`]).
fn write_entries<W: Write>(file: &str, out: W, mut entries: Vec<Entry>) -> Result<W, ModelError> {
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    let mut tar = TarGz::new(file, out);
    for e in entries {
        tar.append(e)?;
    }
    tar.close()
}

/// A deterministic tar.gz being written entry by entry, in the order given: zero mtimes,
/// mode 0644, uid/gid 0, no names in the gzip header; a path given twice is an error.
struct TarGz<W: Write> {
    file: String,
    tar: tar::Builder<ChunkedGz<W>>,
    paths: BTreeSet<String>,
}

impl<W: Write> TarGz<W> {
    fn new(file: &str, out: W) -> Self {
        let mut tar = tar::Builder::new(ChunkedGz::new(out));
        tar.mode(tar::HeaderMode::Deterministic);
        TarGz {
            file: file.into(),
            tar,
            paths: BTreeSet::new(),
        }
    }

    fn io(&self) -> impl Fn(std::io::Error) -> ModelError + '_ {
        |e| ModelError::container(&self.file, format!("cannot write tar.gz: {e}"))
    }

    fn append(&mut self, e: Entry) -> Result<(), ModelError> {
        let file = self.file.clone();
        check_member_path(&file, &e.path)?;
        if !self.paths.insert(e.path.clone()) {
            return Err(ModelError::container(
                &file,
                format!("member `{}` given twice", e.path),
            ));
        }
        let mut header = tar::Header::new_ustar();
        header.set_path(&e.path).map_err(|err| {
            ModelError::container(
                &file,
                format!("member path `{}` cannot be stored: {err}", e.path),
            )
        })?;
        header.set_size(e.bytes);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        // Exactly `bytes` go in: a reader that ends early is an error, not a short member.
        let mut limited = e.reader.take(e.bytes);
        let mut counted = CountingReader {
            inner: &mut limited,
            n: 0,
        };
        let appended = self.tar.append(&header, &mut counted);
        appended.map_err(self.io())?;
        if counted.n != e.bytes {
            return Err(ModelError::container(
                &file,
                format!(
                    "member `{}` gave {} bytes; {} were announced",
                    e.path, counted.n, e.bytes
                ),
            ));
        }
        Ok(())
    }

    fn close(self) -> Result<W, ModelError> {
        let file = self.file;
        let io =
            |e: std::io::Error| ModelError::container(&file, format!("cannot write tar.gz: {e}"));
        let gz = self.tar.into_inner().map_err(io)?;
        gz.finish().map_err(io)
    }
}

/// An archive written member by member in the order given, its manifest last: a capture
/// writes its big spooled member first, then the small ones that report on that writing.
/// The same calls always give the same bytes. Readers sort members, so order is free.
pub struct PackStream<W: Write> {
    tar: TarGz<W>,
    rows: Vec<(String, u64, String)>,
}

impl<W: Write> PackStream<W> {
    pub fn new(file: &str, out: W) -> Self {
        PackStream {
            tar: TarGz::new(file, out),
            rows: Vec::new(),
        }
    }

    fn refuse_manifest(&self, path: &str) -> Result<(), ModelError> {
        if path == MANIFEST {
            return Err(ModelError::container(
                &self.tar.file,
                "members must not include manifest.json; it is generated",
            ));
        }
        Ok(())
    }

    /// Appends a member held in memory.
    pub fn member(&mut self, m: &Member) -> Result<(), ModelError> {
        self.refuse_manifest(&m.path)?;
        self.tar.append(m.entry())?;
        self.rows.push(m.manifest_row());
        Ok(())
    }

    /// Appends a spooled member, read from its reader as it is written, with the gzip
    /// members made of its bytes ahead of time, if any.
    pub fn spooled(&mut self, mut s: Spooled) -> Result<(), ModelError> {
        self.refuse_manifest(&s.path)?;
        if let Some(ready) = s.ready.take() {
            self.tar.tar.get_mut().set_ready(ready);
        }
        self.rows.push((s.path.clone(), s.bytes, s.sha256));
        self.tar.append(Entry {
            path: s.path,
            bytes: s.bytes,
            reader: s.reader,
        })
    }

    /// Writes the manifest of every member appended and closes the gzip stream.
    pub fn finish(
        self,
        kind: ContainerKind,
        id: &str,
        notes: Vec<String>,
    ) -> Result<W, ModelError> {
        let PackStream { mut tar, rows } = self;
        let manifest = to_canonical_json(MANIFEST, &manifest_of(kind, id, rows, notes))?;
        tar.append(Entry {
            path: MANIFEST.into(),
            bytes: manifest.len() as u64,
            reader: Box::new(manifest.as_bytes()),
        })?;
        tar.close()
    }
}

/// Counts the bytes read through it.
struct CountingReader<R> {
    inner: R,
    n: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n += k as u64;
        Ok(k)
    }
}

/// Rejects paths that could escape a directory or are not plain relative names.
fn check_member_path(file: &str, path: &str) -> Result<(), ModelError> {
    let bad = |why: &str| {
        Err(ModelError::container(
            file,
            format!("member `{path}` refused: {why}"),
        ))
    };
    if path.is_empty() {
        return bad("empty path");
    }
    if path.starts_with('/') || path.starts_with('\\') || path.contains(':') {
        return bad("absolute path");
    }
    if path.split(['/', '\\']).any(|c| c == "..") {
        return bad("`..` in path");
    }
    if path.chars().any(|c| c.is_control()) {
        return bad("control character in path");
    }
    Ok(())
}

/// Reads an untrusted tar.gz within `limits`. Refuses links, devices, fifos, absolute paths,
/// `..`, duplicate members and anything over the limits (so a gzip bomb stops early).
/// Directory entries are skipped. Members come back sorted by path.
pub fn read_tar_gz(file: &str, bytes: &[u8], limits: &Limits) -> Result<Vec<Member>, ModelError> {
    let mut members = Vec::new();
    each_member(file, bytes, limits, |path, declared, entry| {
        let mut data = Vec::with_capacity(declared.min(1 << 20) as usize);
        entry.read_to_end(&mut data).map_err(|e| damaged(file, e))?;
        members.push(Member { path, data });
        Ok(())
    })?;
    members.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(members)
}

/// Checks a tar.gz against its manifest as [`verify`] does, reading it as a stream, and
/// every member it knows against its schema (see [`open`]), a bundle's archives too: each
/// member is hashed and checked as it goes by and only the manifest, one ndjson line and one
/// document are held, so an archive of any size is checked in constant memory (`tare verify`
/// of a 10M-event capture, 1.1 GB of events). Returns the manifest and the member count.
pub fn verify_stream<R: Read>(file: &str, reader: R) -> Result<(Manifest, usize), ModelError> {
    let keep = Keep {
        nested: true,
        ..Keep::default()
    };
    let opened = open(file, reader, &keep, &Limits::verify())?;
    Ok((opened.manifest, opened.count))
}

/// A read error of a member's bytes, as the container's problem.
pub(crate) fn damaged(file: &str, e: std::io::Error) -> ModelError {
    ModelError::container(file, format!("damaged tar.gz: {e}"))
}

/// The tar entries of a gzip stream, checked one by one against `limits` and the path
/// rules, each handed to `take` with its path, its declared size and a reader of exactly
/// that many bytes (the reader must be read to its end).
fn each_member<R: Read>(
    file: &str,
    reader: R,
    limits: &Limits,
    mut take: impl FnMut(String, u64, &mut dyn Read) -> Result<(), ModelError>,
) -> Result<(), ModelError> {
    // The first two bytes, however the reader hands them out (a pipe may give one).
    let mut reader = reader;
    let mut magic = [0u8; 2];
    let mut got = 0;
    while got < magic.len() {
        match reader.read(&mut magic[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(ModelError::container(file, format!("cannot read: {e}"))),
        }
    }
    if magic[..got] != [0x1f, 0x8b] {
        return Err(ModelError::container(
            file,
            "not a gzip file (expected a .tar.gz)",
        ));
    }
    let reader = std::io::BufReader::new(magic.as_slice().chain(reader));
    // A read that fails because a limit was broken says which, not "damaged".
    let broken: Rc<RefCell<Option<String>>> = Rc::default();
    let limit = |e: ModelError| match broken.borrow().as_ref() {
        Some(why) => ModelError::container(file, why.clone()),
        None => e,
    };
    let io = |e: std::io::Error| limit(damaged(file, e));
    let compressed = Rc::new(Cell::new(0u64));
    // Every member of the gzip stream: tare writes one per MiB (see gzchunks).
    let decoder = MultiGzDecoder::new(Consumed {
        inner: reader,
        n: compressed.clone(),
    });
    let bounded = Bounded {
        inner: decoder,
        compressed,
        out: 0,
        // A little above the content limit (headers, padding).
        cap: limits
            .max_total_bytes
            .saturating_add(1024 * (limits.max_members as u64 + 2)),
        max_ratio: limits.max_ratio,
        grace: limits.ratio_grace_bytes,
        broken: broken.clone(),
    };
    let mut archive = tar::Archive::new(bounded);
    let mut seen = BTreeSet::new();
    let mut total: u64 = 0;
    // Raw entries: GNU long-name and pax headers come to us as entries of their own, to be
    // refused, rather than being read whole into memory by the tar crate (a long name of
    // hundreds of MiB would bypass the per-member limit). tare writes plain ustar.
    for entry in archive.entries().map_err(io)?.raw(true) {
        let entry = entry.map_err(io)?;
        let raw_path = String::from_utf8(entry.path_bytes().into_owned())
            .map_err(|_| ModelError::container(file, "a member path is not UTF-8"))?;
        let path = raw_path.trim_start_matches("./").to_string();
        match entry.header().entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous => {}
            tar::EntryType::Directory => {
                check_member_path(file, path.trim_end_matches('/'))?;
                continue;
            }
            tar::EntryType::Symlink | tar::EntryType::Link => {
                return Err(ModelError::container(
                    file,
                    format!("member `{path}` refused: links are not allowed"),
                ))
            }
            tar::EntryType::GNULongName
            | tar::EntryType::GNULongLink
            | tar::EntryType::XHeader
            | tar::EntryType::XGlobalHeader => {
                return Err(ModelError::container(
                    file,
                    format!(
                        "a {:?} header refused: tare reads plain ustar (re-pack with `tar --format=ustar`)",
                        entry.header().entry_type()
                    ),
                ))
            }
            other => {
                return Err(ModelError::container(
                    file,
                    format!("member `{path}` refused: entry type {other:?} is not a regular file"),
                ))
            }
        }
        check_member_path(file, &path)?;
        if seen.len() >= limits.max_members {
            return Err(ModelError::container(
                file,
                format!("more than {} members (limit)", limits.max_members),
            ));
        }
        if !seen.insert(path.clone()) {
            return Err(ModelError::container(
                file,
                format!("member `{path}` appears twice"),
            ));
        }
        let declared = entry.header().size().map_err(io)?;
        if declared > limits.max_member_bytes {
            return Err(ModelError::container(
                file,
                format!(
                    "member `{path}` is {declared} bytes, over the {} byte limit per member",
                    limits.max_member_bytes
                ),
            ));
        }
        if total.saturating_add(declared) > limits.max_total_bytes {
            return Err(ModelError::container(
                file,
                format!(
                    "content is over the {} byte limit uncompressed (refused as a possible gzip bomb)",
                    limits.max_total_bytes
                ),
            ));
        }
        let mut counted = CountingReader {
            inner: entry.take(declared),
            n: 0,
        };
        take(path.clone(), declared, &mut counted).map_err(limit)?;
        if counted.n != declared {
            return Err(ModelError::container(
                file,
                format!("member `{path}` is truncated"),
            ));
        }
        total += declared;
    }
    if seen.is_empty() {
        return Err(ModelError::container(
            file,
            "no members (empty or not a tar archive)",
        ));
    }
    Ok(())
}

/// Counts the compressed bytes the decoder has consumed (not those it buffered ahead).
struct Consumed<R> {
    inner: R,
    n: Rc<Cell<u64>>,
}

impl<R: BufRead> Read for Consumed<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n.set(self.n.get() + k as u64);
        Ok(k)
    }
}

impl<R: BufRead> BufRead for Consumed<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        self.n.set(self.n.get() + amt as u64);
        self.inner.consume(amt);
    }
}

/// The decompressed stream, failing every read from the first byte over its cap or over
/// the compression ratio limit (past its grace); `broken` says which.
struct Bounded<R> {
    inner: R,
    compressed: Rc<Cell<u64>>,
    out: u64,
    cap: u64,
    max_ratio: u64,
    grace: u64,
    broken: Rc<RefCell<Option<String>>>,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if let Some(why) = self.broken.borrow().as_ref() {
            return Err(std::io::Error::other(why.clone()));
        }
        let k = self.inner.read(buf)?;
        self.out += k as u64;
        let compressed = self.compressed.get();
        let why = if self.out > self.cap {
            Some(format!(
                "content is over the {} byte limit uncompressed (refused as a possible gzip bomb)",
                self.cap
            ))
        } else if self.out > self.grace && self.out > compressed.saturating_mul(self.max_ratio) {
            Some(format!(
                "decompresses to over {}:1 ({} bytes from {compressed} compressed bytes): \
                 refused as a possible gzip bomb (tare's own archives stay far below {}:1)",
                self.max_ratio, self.out, self.max_ratio
            ))
        } else {
            None
        };
        match why {
            Some(why) => {
                *self.broken.borrow_mut() = Some(why.clone());
                Err(std::io::Error::other(why))
            }
            None => Ok(k),
        }
    }
}

/// The schema a member's content has, from its name (what the manifest records).
pub fn schema_for_member(path: &str) -> Option<&'static str> {
    use crate::schema::*;
    let name = path.rsplit('/').next().unwrap_or(path);
    Some(match name {
        "run.json" => run::Run::SCHEMA,
        "phases.json" => phases::Phases::SCHEMA,
        "health.json" => health::Health::SCHEMA,
        "kernel.ndjson" => kernel_event::KERNEL_EVENT_SCHEMA,
        "metrics.ndjson" => metrics::MetricsSample::SCHEMA,
        "summary.json" => summary::Summary::SCHEMA,
        "samples.jsonl" => sample::Sample::SCHEMA,
        "host.json" => host::Host::SCHEMA,
        "experiment.toml" => experiment::Experiment::SCHEMA,
        _ => return None,
    })
}

/// Whether a member that the manifest says has `found` can be read by the reader of `ours`:
/// the same major version, or kernel events' first version, which their reader still takes.
fn readable(found: &str, ours: &str) -> bool {
    use crate::schema::kernel_event::{KERNEL_EVENT_SCHEMA, KERNEL_EVENT_SCHEMA_V1};
    crate::schema::compatible(found, ours)
        || (ours == KERNEL_EVENT_SCHEMA && crate::schema::compatible(found, KERNEL_EVENT_SCHEMA_V1))
}

/// Builds the manifest of `members` (which must not include the manifest itself).
pub fn build_manifest(
    kind: ContainerKind,
    id: &str,
    members: &[Member],
    notes: Vec<String>,
) -> Manifest {
    let rows = members.iter().map(Member::manifest_row).collect();
    manifest_of(kind, id, rows, notes)
}

/// The manifest of members given as (path, bytes, sha256).
fn manifest_of(
    kind: ContainerKind,
    id: &str,
    rows: Vec<(String, u64, String)>,
    notes: Vec<String>,
) -> Manifest {
    let mut entries: Vec<ManifestMember> = rows
        .into_iter()
        .map(|(path, bytes, sha256)| ManifestMember {
            schema: schema_for_member(&path).map(str::to_string),
            path,
            sha256,
            bytes,
        })
        .collect();
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    Manifest {
        schema: Manifest::SCHEMA.into(),
        kind,
        id: id.into(),
        members: entries,
        notes,
    }
}

/// Adds `manifest.json` to `members` and writes the deterministic tar.gz.
pub fn pack(
    file: &str,
    kind: ContainerKind,
    id: &str,
    members: Vec<Member>,
    notes: Vec<String>,
) -> Result<Vec<u8>, ModelError> {
    pack_to(file, Vec::new(), kind, id, members, Vec::new(), notes)
}

/// [`pack`] into `out`, with `spooled` members read from their readers as they are written:
/// the same bytes as [`pack`] would give had their contents been [`Member`]s.
pub fn pack_to<W: Write>(
    file: &str,
    out: W,
    kind: ContainerKind,
    id: &str,
    members: Vec<Member>,
    spooled: Vec<Spooled>,
    notes: Vec<String>,
) -> Result<W, ModelError> {
    if members.iter().any(|m| m.path == MANIFEST) || spooled.iter().any(|m| m.path == MANIFEST) {
        return Err(ModelError::container(
            file,
            "members must not include manifest.json; it is generated",
        ));
    }
    let rows = members
        .iter()
        .map(Member::manifest_row)
        .chain(
            spooled
                .iter()
                .map(|s| (s.path.clone(), s.bytes, s.sha256.clone())),
        )
        .collect();
    let manifest = to_canonical_json(MANIFEST, &manifest_of(kind, id, rows, notes))?;
    let mut entries: Vec<Entry> = members.iter().map(Member::entry).collect();
    entries.extend(spooled.into_iter().map(|s| Entry {
        path: s.path,
        bytes: s.bytes,
        reader: s.reader,
    }));
    entries.push(Entry {
        path: MANIFEST.into(),
        bytes: manifest.len() as u64,
        reader: Box::new(manifest.as_bytes()),
    });
    write_entries(file, out, entries)
}

/// Checks members against their manifest: every listed member present with the right sha256
/// and size, no member unlisted, and every member's schema readable by this tare.
/// Returns the manifest on success; the error names the first problem.
pub fn verify(file: &str, members: &[Member]) -> Result<Manifest, ModelError> {
    let manifest = members
        .iter()
        .find(|m| m.path == MANIFEST)
        .ok_or_else(|| ModelError::container(file, "no manifest.json member"))?;
    let digests: Vec<MemberDigest> = members
        .iter()
        .map(|m| MemberDigest::of(m.path.clone(), &m.data))
        .collect();
    check_digests(file, &manifest.data, &digests)
}

/// A member's path, length and sha256: all that checking it against a manifest needs.
struct MemberDigest {
    path: String,
    bytes: u64,
    sha256: String,
}

impl MemberDigest {
    fn of(path: String, data: &[u8]) -> Self {
        MemberDigest {
            path,
            bytes: data.len() as u64,
            sha256: sha256_hex(data),
        }
    }
}

/// [`verify`]'s checks, on the members' digests and the manifest's bytes.
fn check_digests(
    file: &str,
    manifest: &[u8],
    digests: &[MemberDigest],
) -> Result<Manifest, ModelError> {
    let text = std::str::from_utf8(manifest)
        .map_err(|_| ModelError::container(file, "manifest.json is not UTF-8"))?;
    let manifest: Manifest = parse_json(&format!("{file}:{MANIFEST}"), text)?;
    for listed in &manifest.members {
        let m = digests
            .iter()
            .find(|m| m.path == listed.path)
            .ok_or_else(|| {
                ModelError::container(
                    file,
                    format!("member `{}` is in the manifest but missing", listed.path),
                )
            })?;
        if m.bytes != listed.bytes {
            return Err(ModelError::container(
                file,
                format!(
                    "member `{}` is {} bytes; the manifest says {}",
                    m.path, m.bytes, listed.bytes
                ),
            ));
        }
        if m.sha256 != listed.sha256 {
            return Err(ModelError::container(
                file,
                format!(
                    "member `{}` sha256 {} does not match the manifest's {}",
                    m.path, m.sha256, listed.sha256
                ),
            ));
        }
        if let Some(schema) = &listed.schema {
            if let Some(ours) = schema_for_member(&listed.path) {
                if !readable(schema, ours) {
                    return Err(ModelError::Schema {
                        file: format!("{file}:{}", listed.path),
                        found: schema.clone(),
                        expected: ours.into(),
                    });
                }
            }
        }
    }
    for m in digests {
        if m.path != MANIFEST && !manifest.members.iter().any(|l| l.path == m.path) {
            return Err(ModelError::container(
                file,
                format!("stray member `{}` is not in the manifest", m.path),
            ));
        }
    }
    Ok(manifest)
}

/// The items of an ndjson member, schema-checked line by line; `None` when there is no
/// such member (an optional one, such as `metrics.ndjson` in archives from before it).
pub fn member_ndjson<T: serde::de::DeserializeOwned>(
    file: &str,
    members: &[Member],
    path: &str,
) -> Result<Option<Vec<T>>, ModelError> {
    if !members.iter().any(|m| m.path == path) {
        return Ok(None);
    }
    let text = member_text(file, members, path)?;
    crate::schema::parse_ndjson(&format!("{file}:{path}"), text).map(Some)
}

/// The kernel events of a container's `kernel.ndjson` (either version); `None` when it has
/// no such member.
pub fn member_kernel_events(
    file: &str,
    members: &[Member],
) -> Result<Option<Vec<crate::schema::kernel_event::KernelEvent>>, ModelError> {
    const PATH: &str = "kernel.ndjson";
    if !members.iter().any(|m| m.path == PATH) {
        return Ok(None);
    }
    let text = member_text(file, members, PATH)?;
    crate::schema::kernel_event::parse_lines(&format!("{file}:{PATH}"), text).map(Some)
}

/// The member at `path`, as UTF-8 text.
pub fn member_text<'a>(
    file: &str,
    members: &'a [Member],
    path: &str,
) -> Result<&'a str, ModelError> {
    let m = members
        .iter()
        .find(|m| m.path == path)
        .ok_or_else(|| ModelError::container(file, format!("no `{path}` member")))?;
    std::str::from_utf8(&m.data)
        .map_err(|_| ModelError::container(file, format!("member `{path}` is not UTF-8")))
}

/// The parsed members of one capture archive, each schema-checked.
#[derive(Debug, Clone, Default)]
pub struct CaptureMembers {
    pub events: Vec<crate::schema::kernel_event::KernelEvent>,
    /// `None` when the archive has no run.json.
    pub run: Option<crate::schema::run::Run>,
    /// The workload's OTLP trace, when the capture was given one.
    pub trace: Option<crate::schema::otlp::TracesData>,
    /// The resource samples (empty in archives from before them).
    pub metrics: Vec<crate::schema::metrics::MetricsSample>,
    /// tare's own phases; `None` when the archive has no phases.json.
    pub phases: Option<crate::schema::phases::Phases>,
}

/// The events, run, trace and resource samples of a capture archive's `members`.
pub fn capture_members(file: &str, members: &[Member]) -> Result<CaptureMembers, ModelError> {
    let events = member_kernel_events(file, members)?
        .ok_or_else(|| ModelError::container(file, "no `kernel.ndjson` member"))?;
    capture_parts(file, members, events)
}

/// [`CaptureMembers`] of `events` and the other members of a capture archive.
fn capture_parts(
    file: &str,
    members: &[Member],
    events: Vec<crate::schema::kernel_event::KernelEvent>,
) -> Result<CaptureMembers, ModelError> {
    // An optional member, parsed by `parse` when the archive has it.
    let optional = |path: &str| -> Result<Option<&str>, ModelError> {
        if members.iter().any(|m| m.path == path) {
            member_text(file, members, path).map(Some)
        } else {
            Ok(None)
        }
    };
    let place = |path: &str| format!("{file}:{path}");
    let run = optional("run.json")?
        .map(|t| crate::schema::parse_json(&place("run.json"), t))
        .transpose()?;
    let trace = optional("trace.json")?
        .map(|t| crate::schema::otlp::parse_otlp_json(&place("trace.json"), t))
        .transpose()?;
    let phases = optional("phases.json")?
        .map(|t| crate::schema::parse_json(&place("phases.json"), t))
        .transpose()?;
    let metrics = member_ndjson(file, members, "metrics.ndjson")?.unwrap_or_default();
    Ok(CaptureMembers {
        events,
        run,
        trace,
        metrics,
        phases,
    })
}
