//! Turns a dropped, picked or same-origin file into report-model data, entirely in the browser.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use leptos::prelude::*;
use report_model::bundle::{self, Limits, Member};
use report_model::schema::health::{BlindSpot, Health};
use report_model::schema::kernel_event::KernelEvent;
use report_model::schema::manifest::ContainerKind;
use report_model::schema::metrics::MetricsSample;
use report_model::schema::parse_json;
use report_model::schema::run::{Redaction, Run};
use report_model::schema::sample::Sample;
use report_model::schema::summary::Summary;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::state::{Archive, Kind, Loaded, Slot, State};

/// What the page accepts, for error messages.
const ACCEPTS: &str =
    "The viewer opens a tare bundle (.tar.gz), a capture archive (.tar.gz) or a summary.json.";

/// The largest file read at all (the browser limits apply again to its content).
fn max_input_bytes() -> u64 {
    Limits::browser().max_total_bytes
}

/// Reads a picked or dropped file into `slot`, showing progress and any error.
pub fn open_file(state: State, file: web_sys::File, slot: Slot) {
    let name = file.name();
    if file.size() > max_input_bytes() as f64 {
        let limit = max_input_bytes() >> 20;
        state.error.set(Some(format!(
            "{name} was not opened: it is larger than the viewer's {limit} MiB limit."
        )));
        return;
    }
    state.busy.set(Some(format!("Opening {name}…")));
    leptos::task::spawn_local(async move {
        let bytes = file_bytes(&file).await;
        finish(state, slot, &name, bytes);
    });
}

/// Fetches `raw` (relative to the page; same origin only) into `slot`.
pub fn open_url(state: State, raw: String, slot: Slot) {
    let url = match same_origin(&raw) {
        Ok(u) => u,
        Err(e) => {
            state.error.set(Some(e));
            return;
        }
    };
    state.busy.set(Some(format!("Opening {raw}…")));
    leptos::task::spawn_local(async move {
        let bytes = fetch_bytes(&url).await;
        finish(state, slot, &raw, bytes);
    });
}

fn finish(state: State, slot: Slot, name: &str, bytes: Result<Vec<u8>, String>) {
    let opened = bytes.and_then(|b| open_bytes(name, &b));
    state.busy.set(None);
    match opened {
        Ok(loaded) => {
            state.error.set(None);
            state.slot(slot).set(Some(Arc::new(loaded)));
        }
        Err(e) => {
            let still = state
                .slot(slot)
                .with_untracked(|l| l.as_ref().map(|l| l.name.clone()));
            let mut msg = format!("{name} was not opened: {e}");
            if let Some(still) = still {
                msg.push_str(&format!(" Still showing {still}."));
            }
            state.error.set(Some(msg));
        }
    }
}

/// Resolves `raw` against the page and refuses anything not on the page's own origin.
pub fn same_origin(raw: &str) -> Result<String, String> {
    let location = window().location();
    let here = location
        .href()
        .map_err(|_| "the page has no address".to_string())?;
    let origin = location.origin().unwrap_or_default();
    let url = web_sys::Url::new_with_base(raw, &here)
        .map_err(|_| format!("?bundle={raw} is not a valid address."))?;
    let proto = url.protocol();
    if url.origin() != origin || !(proto == "http:" || proto == "https:") {
        return Err(format!(
            "?bundle={raw} was refused: the viewer only fetches bundles from its own origin ({origin}). \
             Download the file and open it with the file picker instead; nothing is uploaded."
        ));
    }
    Ok(url.href())
}

/// Reads a browser `File` into bytes.
pub async fn file_bytes(file: &web_sys::File) -> Result<Vec<u8>, String> {
    let buf = JsFuture::from(file.array_buffer())
        .await
        .map_err(|_| "the browser could not read the file.".to_string())?;
    let buf: js_sys::ArrayBuffer = buf
        .dyn_into()
        .map_err(|_| "unexpected file contents.".to_string())?;
    Ok(js_sys::Uint8Array::new(&buf).to_vec())
}

async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
    let init = web_sys::RequestInit::new();
    init.set_method("GET");
    init.set_mode(web_sys::RequestMode::SameOrigin);
    init.set_credentials(web_sys::RequestCredentials::SameOrigin);
    let resp = JsFuture::from(window().fetch_with_str_and_init(url, &init))
        .await
        .map_err(|_| "the download failed (is `tare view` still running?).".to_string())?;
    let resp: web_sys::Response = resp
        .dyn_into()
        .map_err(|_| "the download gave no response.".to_string())?;
    if !resp.ok() {
        return Err(format!("the server answered HTTP {}.", resp.status()));
    }
    let declared = resp
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max_input_bytes()) {
        return Err(format!(
            "it is larger than the viewer's {} MiB limit.",
            max_input_bytes() >> 20
        ));
    }
    let buf = resp
        .array_buffer()
        .map_err(|_| "the download could not be read.".to_string())?;
    let buf = JsFuture::from(buf)
        .await
        .map_err(|_| "the download was cut short.".to_string())?;
    let buf: js_sys::ArrayBuffer = buf
        .dyn_into()
        .map_err(|_| "unexpected download contents.".to_string())?;
    Ok(js_sys::Uint8Array::new(&buf).to_vec())
}

fn next_serial() -> u64 {
    static SERIAL: AtomicU64 = AtomicU64::new(1);
    SERIAL.fetch_add(1, Ordering::Relaxed)
}

/// Opens a bundle, a capture archive or a summary.json from its bytes. Limits apply and every
/// container member is checked against its manifest before anything is parsed.
pub fn open_bytes(name: &str, bytes: &[u8]) -> Result<Loaded, String> {
    if bytes.len() as u64 > max_input_bytes() {
        return Err(format!(
            "it is larger than the viewer's {} MiB limit.",
            max_input_bytes() >> 20
        ));
    }
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return open_container(name, bytes);
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| format!("it is neither gzip nor UTF-8 text. {ACCEPTS}"))?;
    let text = text.trim_start_matches('\u{feff}');
    if !text.trim_start().starts_with('{') {
        return Err(format!("it is neither a .tar.gz nor JSON. {ACCEPTS}"));
    }
    let summary: Summary = parse_json(name, text).map_err(|e| e.to_string())?;
    Ok(Loaded {
        serial: next_serial(),
        name: name.to_string(),
        kind: Kind::Summary,
        id: summary.experiment.clone(),
        members: 0,
        notes: Vec::new(),
        summary: Some(Arc::new(summary)),
        samples: Arc::new(Vec::new()),
        archives: Vec::new(),
    })
}

fn open_container(name: &str, bytes: &[u8]) -> Result<Loaded, String> {
    let members =
        bundle::read_tar_gz(name, bytes, &Limits::browser()).map_err(|e| e.to_string())?;
    let manifest = bundle::verify(name, &members).map_err(|e| e.to_string())?;
    let count = members.len();
    if manifest.kind == ContainerKind::Archive {
        bundle::member_text(name, &members, "kernel.ndjson").map_err(|e| e.to_string())?;
        return Ok(Loaded {
            serial: next_serial(),
            name: name.to_string(),
            kind: Kind::Archive,
            id: manifest.id.clone(),
            members: count,
            notes: manifest.notes,
            summary: None,
            samples: Arc::new(Vec::new()),
            archives: vec![Archive {
                path: name.to_string(),
                label: format!("run {}", manifest.id),
                data: bytes.to_vec(),
            }],
        });
    }
    let summary_text =
        bundle::member_text(name, &members, "summary.json").map_err(|e| e.to_string())?;
    let summary: Summary =
        parse_json(&format!("{name}:summary.json"), summary_text).map_err(|e| e.to_string())?;
    let samples: Vec<Sample> = bundle::member_ndjson(name, &members, "samples.jsonl")
        .map_err(|e| e.to_string())?
        .unwrap_or_default();
    let mut archives: Vec<Archive> = members
        .into_iter()
        .filter(|m| m.path.starts_with("archives/") && m.path.ends_with(".tar.gz"))
        .map(|Member { path, data }| Archive {
            label: archive_label(&path, &samples),
            path,
            data,
        })
        .collect();
    // Counted samples first, in the summary's cell order and run order; then the rest.
    archives.sort_by_key(|a| {
        let s = samples
            .iter()
            .find(|s| s.archive.as_deref() == Some(a.path.as_str()));
        let cell = s
            .and_then(|s| summary.cells.iter().position(|c| c.id == s.cell))
            .unwrap_or(usize::MAX);
        (
            s.is_none_or(|s| s.warmup),
            cell,
            s.map_or(u32::MAX, |s| s.seq),
        )
    });
    Ok(Loaded {
        serial: next_serial(),
        name: name.to_string(),
        kind: Kind::Bundle,
        id: manifest.id,
        members: count,
        notes: manifest.notes,
        summary: Some(Arc::new(summary)),
        samples: Arc::new(samples),
        archives,
    })
}

/// `k25-s25 · A (capture) · sample 2`, from the sample that wrote the archive.
fn archive_label(path: &str, samples: &[Sample]) -> String {
    match samples.iter().find(|s| s.archive.as_deref() == Some(path)) {
        Some(s) => {
            let warm = if s.warmup { ", warm-up" } else { "" };
            format!("{} · {} · sample {}{warm}", s.cell, s.arm.label(), s.seq)
        }
        None => path.trim_start_matches("archives/").to_string(),
    }
}

/// The members of a per-sample archive: its own limits and manifest checks apply.
fn archive_members(archive: &Archive) -> Result<Vec<Member>, String> {
    let name = archive.path.as_str();
    let members =
        bundle::read_tar_gz(name, &archive.data, &Limits::browser()).map_err(|e| e.to_string())?;
    bundle::verify(name, &members).map_err(|e| e.to_string())?;
    Ok(members)
}

/// What the event explorer shows of an archive: its kernel events (schema-checked), and what redaction replaced
/// before they were written (from run.json; `None` for archives before redaction).
#[derive(Debug)]
pub struct Explored {
    pub events: Vec<KernelEvent>,
    pub redaction: Option<Redaction>,
    /// What the programs could not see (health.json; empty for archives before it).
    pub blind_spots: Vec<BlindSpot>,
}

/// An archive's events and redaction, from one read of its members.
pub fn explore(archive: &Archive) -> Result<Explored, String> {
    let name = archive.path.as_str();
    let members = archive_members(archive)?;
    let events = bundle::member_kernel_events(name, &members)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("{name}: no `kernel.ndjson` member"))?;
    let redaction = match bundle::member_text(name, &members, "run.json") {
        Ok(text) => {
            parse_json::<Run>(&format!("{name}:run.json"), text)
                .map_err(|e| e.to_string())?
                .redaction
        }
        Err(_) => None,
    };
    let blind_spots = match bundle::member_text(name, &members, "health.json") {
        Ok(text) => {
            parse_json::<Health>(&format!("{name}:health.json"), text)
                .map_err(|e| e.to_string())?
                .blind_spots
        }
        Err(_) => Vec::new(),
    };
    Ok(Explored {
        events,
        redaction,
        blind_spots,
    })
}

/// The resource timeline of an archive (`metrics.ndjson`), schema-checked; `None` when the
/// archive has none (written before tare sampled, or by a capture that never ran its child).
pub fn metrics(archive: &Archive) -> Result<Option<Vec<MetricsSample>>, String> {
    bundle::member_ndjson(&archive.path, &archive_members(archive)?, "metrics.ndjson")
        .map_err(|e| e.to_string())
}

/// What the processes view shows of an archive: its parsed members, process tree, overview
/// and health, all computed by report-model.
#[derive(Debug)]
pub struct Capture {
    pub members: bundle::CaptureMembers,
    pub tree: report_model::analysis::process_tree::ProcessTree,
    pub overview: report_model::analysis::capture_overview::CaptureOverview,
    /// None for archives without health.json.
    pub health: Option<Health>,
}

/// Files listed in the capture overview.
pub const TOP_FILES: usize = 10;

/// An archive's capture overview and process tree, from one read of its members.
pub fn capture(archive: &Archive) -> Result<Capture, String> {
    let name = archive.path.as_str();
    let members = archive_members(archive)?;
    let parts = bundle::capture_members(name, &members).map_err(|e| e.to_string())?;
    let health = match bundle::member_text(name, &members, "health.json") {
        Ok(text) => Some(
            parse_json::<Health>(&format!("{name}:health.json"), text)
                .map_err(|e| e.to_string())?,
        ),
        Err(_) => None,
    };
    Ok(Capture {
        tree: report_model::analysis::process_tree::build(&parts.events),
        overview: report_model::analysis::capture_overview::overview(&parts.events, TOP_FILES),
        members: parts,
        health,
    })
}

/// The `bundle` parameter of the page's query string, if any.
pub fn bundle_param() -> Option<String> {
    let search = window().location().search().ok()?;
    let params = web_sys::UrlSearchParams::new_with_str(&search).ok()?;
    params.get("bundle").filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{}/../fixtures/bundles/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn error(name: &str) -> String {
        match open_bytes(name, &fixture(name)) {
            Ok(_) => panic!("{name} opened"),
            Err(e) => e,
        }
    }

    #[test]
    fn opens_the_smoke_bundle_with_its_archives_in_run_order() {
        let l = open_bytes("smoke", &fixture("smoke.bundle.tar.gz")).unwrap();
        assert_eq!(l.kind, Kind::Bundle);
        let s = l.summary.as_ref().unwrap();
        assert_eq!(s.cells.len(), 2);
        assert!(!l.samples.is_empty());
        assert_eq!(l.archives.len(), 28);
        assert!(l.archives[0]
            .label
            .starts_with("k25-s25 · A (capture) · sample "));
        assert!(!l.archives[0].label.contains("warm-up"));
        assert!(l.archives.last().unwrap().label.contains("warm-up"));
        let events = explore(&l.archives[0]).unwrap().events;
        assert!(!events.is_empty());
    }

    #[test]
    fn opens_a_summary_and_an_archive_alone() {
        let s = open_bytes("s.json", &fixture("smoke.summary.json")).unwrap();
        assert_eq!(s.kind, Kind::Summary);
        assert!(s.archives.is_empty());
        let a = open_bytes("a.tar.gz", &fixture("capture.archive.tar.gz")).unwrap();
        assert_eq!(a.kind, Kind::Archive);
        assert!(a.summary.is_none());
        assert!(!explore(&a.archives[0]).unwrap().events.is_empty());
    }

    #[test]
    fn hostile_files_are_refused_with_a_reason() {
        assert!(error("bomb.tar.gz").contains("byte limit per member"));
        assert!(error("traversal.tar.gz").contains("`..` in path"));
        assert!(error("symlink.tar.gz").contains("links are not allowed"));
        assert!(error("wrong-schema.bundle.tar.gz").contains("tare.summary.v9"));
        assert!(error("bad-field.summary.json").contains("cells"));
        let m = error("malformed.tar.gz");
        assert!(m.contains("damaged") || m.contains("no members"), "{m}");
        assert!(open_bytes("x", b"hello").unwrap_err().contains("neither"));
    }
}
