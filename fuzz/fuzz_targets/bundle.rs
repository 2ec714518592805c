//! Feeds arbitrary bytes to the bundle and archive reader as the viewer opens a file (browser limits, then the CLI's defaults): read_tar_gz, verify, each member with its schema, nested archives.
#![no_main]

use libfuzzer_sys::fuzz_target;
use report_model::bundle::{self, Limits, Member};
use report_model::schema::experiment::Experiment;
use report_model::schema::health::Health;
use report_model::schema::host::Host;
use report_model::schema::kernel_event;
use report_model::schema::manifest::ContainerKind;
use report_model::schema::metrics::MetricsSample;
use report_model::schema::phases::Phases;
use report_model::schema::run::Run;
use report_model::schema::sample::Sample;
use report_model::schema::summary::Summary;
use report_model::schema::{parse_json, parse_toml};

fuzz_target!(|data: &[u8]| {
    if !data.starts_with(&[0x1f, 0x8b]) {
        // The viewer's other input: a summary.json on its own.
        if let Ok(text) = std::str::from_utf8(data) {
            let _ = parse_json::<Summary>("in.json", text.trim_start_matches('\u{feff}'));
        }
        return;
    }
    // Whatever the browser limits accept, the CLI's (larger) defaults accept with the same
    // members, so the second read is needed only when the first one refused.
    let members = match bundle::read_tar_gz("in.tar.gz", data, &Limits::browser()) {
        Ok(m) => m,
        Err(_) => match bundle::read_tar_gz("in.tar.gz", data, &Limits::default()) {
            Ok(m) => m,
            Err(_) => return,
        },
    };
    container("in.tar.gz", &members, 0);
});

/// What the viewer, `tare verify`, `tare report` and `tare compare` do with a container.
fn container(name: &str, members: &[Member], depth: u32) {
    let Ok(manifest) = bundle::verify(name, members) else {
        return;
    };
    for m in members {
        let Some(_) = bundle::schema_for_member(&m.path) else {
            if depth == 0 && m.path.starts_with("archives/") && m.path.ends_with(".tar.gz") {
                // The viewer opens a bundle's per-sample archives with their own limits.
                if let Ok(inner) = bundle::read_tar_gz(&m.path, &m.data, &Limits::browser()) {
                    container(&m.path, &inner, depth + 1);
                }
            }
            continue;
        };
        member(name, members, &m.path);
    }
    if manifest.kind == ContainerKind::Archive {
        let _ = bundle::member_text(name, members, "kernel.ndjson");
    }
}

/// Reads one member with the reader of its schema (what `schema_for_member` names).
fn member(name: &str, members: &[Member], path: &str) {
    let file = format!("{name}:{path}");
    let base = path.rsplit('/').next().unwrap_or(path);
    match base {
        "kernel.ndjson" => {
            if let Ok(text) = bundle::member_text(name, members, path) {
                drop(kernel_event::parse_lines(&file, text));
            }
        }
        "metrics.ndjson" => drop(bundle::member_ndjson::<MetricsSample>(name, members, path)),
        "samples.jsonl" => drop(bundle::member_ndjson::<Sample>(name, members, path)),
        _ => {
            let Ok(text) = bundle::member_text(name, members, path) else {
                return;
            };
            match base {
                "run.json" => drop(parse_json::<Run>(&file, text)),
                "phases.json" => drop(parse_json::<Phases>(&file, text)),
                "health.json" => drop(parse_json::<Health>(&file, text)),
                "summary.json" => drop(parse_json::<Summary>(&file, text)),
                "host.json" => drop(parse_json::<Host>(&file, text)),
                "experiment.toml" => drop(parse_toml::<Experiment>(&file, text)),
                _ => {}
            }
        }
    }
}
