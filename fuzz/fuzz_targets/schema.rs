//! Feeds one schema reader of report-model (picked by the first byte) the rest of the input as text: parse_json / parse_ndjson / parse_toml / parse_bmf of every file type, and `compatible`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use report_model::schema::bmf::parse_bmf;
use report_model::schema::compare::CompareReport;
use report_model::schema::experiment::Experiment;
use report_model::schema::health::Health;
use report_model::schema::host::Host;
use report_model::schema::kernel_event;
use report_model::schema::manifest::Manifest;
use report_model::schema::metrics::MetricsSample;
use report_model::schema::phases::Phases;
use report_model::schema::run::Run;
use report_model::schema::sample::Sample;
use report_model::schema::summary::Summary;
use report_model::schema::usage::SampleUsage;
use report_model::schema::{compatible, parse_json, parse_ndjson, parse_toml};

/// The readers, in the order of the first byte (modulo their number); seed.sh uses it too.
pub const READERS: [&str; 14] = [
    "run",
    "phases",
    "health",
    "manifest",
    "summary",
    "sample",
    "metrics",
    "kernel_event",
    "usage",
    "host",
    "bmf",
    "compare",
    "experiment",
    "version",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let f = "in";
    match READERS[pick as usize % READERS.len()] {
        "run" => drop(parse_json::<Run>(f, text)),
        "phases" => drop(parse_json::<Phases>(f, text)),
        "health" => drop(parse_json::<Health>(f, text)),
        "manifest" => drop(parse_json::<Manifest>(f, text)),
        "summary" => drop(parse_json::<Summary>(f, text)),
        "sample" => drop(parse_ndjson::<Sample>(f, text)),
        "metrics" => drop(parse_ndjson::<MetricsSample>(f, text)),
        "kernel_event" => drop(kernel_event::parse_lines(f, text)),
        // Usage figures are read inside run.json and samples.jsonl; here one a line.
        "usage" => drop(parse_ndjson::<SampleUsage>(f, text)),
        "host" => drop(parse_json::<Host>(f, text)),
        "bmf" => drop(parse_bmf(f, text)),
        "compare" => drop(parse_json::<CompareReport>(f, text)),
        "experiment" => drop(parse_toml::<Experiment>(f, text)),
        _ => {
            // Schema strings: `found` on the first line, `expected` on the second.
            let (found, expected) = text.split_once('\n').unwrap_or((text, "tare.summary.v1"));
            let _ = compatible(found, expected);
        }
    }
});
