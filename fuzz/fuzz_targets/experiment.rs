//! Feeds arbitrary text as an experiment TOML (`tare bench --experiment FILE`): parse_toml, then the harness's validate, tier filter, arms and command expansion.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use report_model::schema::experiment::{Experiment, Tier};
use report_model::schema::parse_toml;
use tare::harness::experiment::{arms, expand, filter_tier, validate};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(e) = parse_toml::<Experiment>("experiment.toml", text) else {
        return;
    };
    if validate(&e).is_err() {
        return;
    }
    let _ = arms(&e);
    // `--tier smoke` when the experiment has smoke cells, else every cell.
    let e = filter_tier(e.clone(), Some(Tier::Smoke)).unwrap_or(e);
    for cell in &e.cells {
        for cmd in e.commands.values() {
            let _ = expand(cmd, cell, Path::new("/tmp/trace.json"));
        }
    }
});
