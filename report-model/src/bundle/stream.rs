//! Reading a container as a stream in bounded memory: each member hashed and schema-checked as it goes by, only the members asked for kept, the manifest checked last.

use std::io::Read;

use sha2::{Digest, Sha256};

use super::check::{Checker, Content};
use super::{check_digests, each_member, hex, Limits, Member, MemberDigest, MANIFEST};
use crate::error::ModelError;
use crate::schema::kernel_event::KernelEvent;
use crate::schema::manifest::Manifest;

/// The largest manifest read: 16 MiB lists about 100,000 members.
pub const MAX_MANIFEST_BYTES: u64 = 16 << 20;

/// What a streaming read keeps, besides checking every member.
#[derive(Debug, Clone, Copy, Default)]
pub struct Keep {
    /// Members kept whole, by path (each within the limit per member).
    pub members: &'static [&'static str],
    /// Keeps `kernel.ndjson`'s events, parsed as they stream by (its text is not kept).
    pub events: bool,
    /// Checks each capture archive a bundle holds (`archives/*.tar.gz`) member by member.
    pub nested: bool,
}

impl Keep {
    /// What `tare export` reads of a capture archive: its events, run, trace, phases and
    /// resource samples (see [`Opened::capture_members`]).
    pub const CAPTURE: Keep = Keep {
        members: &["run.json", "trace.json", "phases.json", "metrics.ndjson"],
        events: true,
        nested: false,
    };
}

/// A container read as a stream: its manifest (every member checked against it) and what
/// was kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Opened {
    pub manifest: Manifest,
    /// The members asked for that the container has, sorted by path.
    pub members: Vec<Member>,
    /// `kernel.ndjson`'s events, when asked for and present.
    pub events: Option<Vec<KernelEvent>>,
    /// Members in the container, the manifest included.
    pub count: usize,
}

impl Opened {
    /// The events, run, trace, phases and resource samples of a capture archive read with
    /// [`Keep::CAPTURE`].
    pub fn capture_members(self, file: &str) -> Result<super::CaptureMembers, ModelError> {
        let events = self
            .events
            .ok_or_else(|| ModelError::container(file, "no `kernel.ndjson` member"))?;
        super::capture_parts(file, &self.members, events)
    }
}

/// Reads the container `reader` holds within `limits`, as [`super::read_tar_gz`] and
/// [`super::verify`] would, and checks every member it knows against its schema (JSON and
/// TOML documents whole, ndjson line by line); keeps only what `keep` asks for. Nothing else
/// is held, so a member of any size within the limits costs constant memory.
///
/// Errors name the first problem: a broken rule or limit as soon as it is met; otherwise a
/// member that does not match the manifest, then the first member whose content is bad
/// (with its line, for ndjson).
pub fn open<R: Read>(
    file: &str,
    reader: R,
    keep: &Keep,
    limits: &Limits,
) -> Result<Opened, ModelError> {
    open_at(file, reader, keep, limits, 0)
}

fn open_at<R: Read>(
    file: &str,
    reader: R,
    keep: &Keep,
    limits: &Limits,
    depth: u32,
) -> Result<Opened, ModelError> {
    let mut digests = Vec::new();
    let mut manifest = None;
    let mut kept = Vec::new();
    let mut events = None;
    let mut problem: Option<ModelError> = None;
    let mut buf = vec![0; 256 << 10];
    each_member(file, reader, limits, |path, declared, entry| {
        let damaged = |e: std::io::Error| super::damaged(file, e);
        if path == MANIFEST {
            if declared > MAX_MANIFEST_BYTES {
                return Err(ModelError::container(
                    file,
                    format!(
                        "manifest.json is {declared} bytes, over the {} MiB a manifest may be",
                        MAX_MANIFEST_BYTES >> 20
                    ),
                ));
            }
            let mut text = Vec::new();
            entry.read_to_end(&mut text).map_err(damaged)?;
            digests.push(MemberDigest::of(path, &text));
            manifest = Some(text);
            return Ok(());
        }
        let content = Content::of(&path);
        let place = format!("{file}:{path}");
        let mut hashed = Hashed {
            inner: entry,
            hasher: Sha256::new(),
            bytes: 0,
        };
        let mut data = keep.members.contains(&path.as_str()).then(Vec::new);
        if content == Content::Archive && keep.nested && depth == 0 && problem.is_none() {
            // The archive is read as a container while its bytes are hashed as a member.
            let inner = open_at(&place, &mut hashed, &Keep::default(), limits, depth + 1);
            std::io::copy(&mut hashed, &mut std::io::sink()).map_err(damaged)?;
            problem = inner.err();
        } else {
            let check = problem.is_none();
            let keep_events = keep.events && content == Content::Kernel;
            let mut checker = check.then(|| {
                Checker::new(
                    place,
                    content,
                    declared,
                    limits.max_document_bytes,
                    keep_events,
                )
            });
            loop {
                let n = hashed.read(&mut buf).map_err(damaged)?;
                if n == 0 {
                    break;
                }
                if let Some(c) = &mut checker {
                    c.feed(&buf[..n]);
                }
                if let Some(d) = &mut data {
                    d.extend_from_slice(&buf[..n]);
                }
            }
            if let Some(c) = checker {
                let (p, evs) = c.finish();
                problem = p;
                if keep_events {
                    events = evs;
                }
            }
        }
        let digest = MemberDigest {
            path: path.clone(),
            bytes: hashed.bytes,
            sha256: hex(&hashed.hasher.finalize()),
        };
        digests.push(digest);
        if let Some(data) = data {
            kept.push(Member { path, data });
        }
        Ok(())
    })?;
    let text = manifest.ok_or_else(|| ModelError::container(file, "no manifest.json member"))?;
    let manifest = check_digests(file, &text, &digests)?;
    if let Some(p) = problem {
        return Err(p);
    }
    kept.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Opened {
        manifest,
        members: kept,
        events,
        count: digests.len(),
    })
}

/// Hashes and counts the bytes read through it.
struct Hashed<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R: Read> Read for Hashed<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}
