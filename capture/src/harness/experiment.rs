//! Loads an experiment (file or preset), filters it by tier, and expands arm commands.

use std::path::Path;

use anyhow::{bail, Context, Result};
use report_model::schema::experiment::{Arm, Cell, Experiment, Tier};
use report_model::schema::parse_toml;

/// Built-in experiments, by name.
pub const PRESETS: &[(&str, &str)] = &[
    ("smoke", include_str!("../../presets/smoke.toml")),
    ("study", include_str!("../../presets/study.toml")),
    ("sweep", include_str!("../../presets/sweep.toml")),
    ("limits", include_str!("../../presets/limits.toml")),
];

/// The names of the presets, for `--preset`.
pub fn preset_names() -> Vec<&'static str> {
    PRESETS.iter().map(|(n, _)| *n).collect()
}

/// Parses a preset by name.
pub fn preset(name: &str) -> Result<(Experiment, String)> {
    let Some((_, text)) = PRESETS.iter().find(|(n, _)| *n == name) else {
        let names: Vec<&str> = PRESETS.iter().map(|(n, _)| *n).collect();
        bail!("no preset `{name}`; the presets are: {}", names.join(", "));
    };
    Ok((
        parse_toml(&format!("preset {name}"), text)?,
        text.to_string(),
    ))
}

/// Reads and checks an experiment file; returns it with its text (kept as run).
pub fn load(path: &Path) -> Result<(Experiment, String)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let e: Experiment = parse_toml(&path.display().to_string(), &text)?;
    validate(&e).with_context(|| path.display().to_string())?;
    Ok((e, text))
}

/// Rules the types cannot express.
pub fn validate(e: &Experiment) -> Result<()> {
    if e.n == 0 {
        bail!("`n` must be at least 1");
    }
    if e.arms.is_empty() {
        bail!("`arms` is empty; use some of \"bare\", \"a\", \"b\", \"c\"");
    }
    if e.cells.is_empty() {
        bail!("no [[cells]]");
    }
    let mut ids: Vec<&str> = e.cells.iter().map(|c| c.id.as_str()).collect();
    ids.sort_unstable();
    if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
        bail!("cell id `{}` is used twice", w[0]);
    }
    for c in &e.cells {
        if c.concurrency == 0 {
            bail!("cell `{}`: concurrency must be at least 1", c.id);
        }
        if c.id.is_empty()
            || !c
                .id
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch))
        {
            bail!(
                "cell id `{}` must be letters, digits, `-`, `_` or `.`",
                c.id
            );
        }
    }
    for (arm, cmd) in &e.commands {
        if arm.traces() && !cmd.contains("{trace_out}") {
            bail!(
                "the command of arm `{}` traces, so it must write its trace to {{trace_out}}",
                arm.as_str()
            );
        }
    }
    Ok(())
}

/// Keeps the cells of `tier` (`--tier`): smoke keeps smoke cells only, and so on.
pub fn filter_tier(mut e: Experiment, tier: Option<Tier>) -> Result<Experiment> {
    if let Some(t) = tier {
        e.cells.retain(|c| c.tier == t);
        if e.cells.is_empty() {
            bail!("experiment `{}` has no cells of tier {t:?}", e.name);
        }
    }
    Ok(e)
}

/// Fills the placeholders of an arm command for one cell.
pub fn expand(command: &str, cell: &Cell, trace_out: &Path) -> String {
    command
        .replace("{trace_out}", &trace_out.display().to_string())
        .replace("{kernel_events}", &cell.kernel_events.to_string())
        .replace("{span_events}", &cell.span_events.to_string())
        .replace("{concurrency}", &cell.concurrency.to_string())
        .replace("{payload_bytes}", &cell.payload_bytes.to_string())
        .replace("{span_attributes}", &cell.span_attributes.to_string())
        .replace("{span_links}", &cell.span_links.to_string())
        .replace("{spans}", &cell.spans.to_string())
}

/// The arms to run, in the experiment's order without duplicates.
pub fn arms(e: &Experiment) -> Vec<Arm> {
    let mut out = Vec::new();
    for a in &e.arms {
        if !out.contains(a) {
            out.push(*a);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_parse_and_validate() {
        for (name, _) in PRESETS {
            let (e, _) = preset(name).unwrap();
            validate(&e).unwrap();
            assert_eq!(e.name, *name);
        }
        let (study, _) = preset("study").unwrap();
        assert_eq!(study.cells.len(), 11);
        let s500 = study.cells.iter().find(|c| c.id == "s12-s500").unwrap();
        assert_eq!(
            (s500.kernel_events, s500.span_events, s500.concurrency),
            (0, 500, 1)
        );
        assert!(preset("nope")
            .unwrap_err()
            .to_string()
            .contains("smoke, study, sweep, limits"));
        let (limits, _) = preset("limits").unwrap();
        let a500 = limits.cells.iter().find(|c| c.id == "attrs-500").unwrap();
        assert_eq!(
            (a500.span_attributes, a500.span_links, a500.spans),
            (500, 0, 0)
        );
        assert!(limits.cells.iter().any(|c| c.spans > 2560));
    }

    #[test]
    fn tier_filter_and_validation_errors() {
        let (smoke, _) = preset("smoke").unwrap();
        assert_eq!(
            filter_tier(smoke.clone(), Some(Tier::Smoke))
                .unwrap()
                .cells
                .len(),
            2
        );
        assert!(filter_tier(smoke.clone(), Some(Tier::Certification)).is_err());
        let mut bad = smoke.clone();
        bad.cells[1].id = bad.cells[0].id.clone();
        assert!(validate(&bad)
            .unwrap_err()
            .to_string()
            .contains("used twice"));
        let mut bad = smoke;
        bad.commands.insert(Arm::B, "python3 x.py".into());
        assert!(validate(&bad)
            .unwrap_err()
            .to_string()
            .contains("{trace_out}"));
    }

    #[test]
    fn placeholders_expand() {
        let cell = Cell {
            id: "x".into(),
            kernel_events: 5,
            span_events: 7,
            concurrency: 2,
            payload_bytes: 64,
            span_attributes: 0,
            span_links: 0,
            spans: 0,
            tier: Tier::Smoke,
        };
        assert_eq!(
            expand("w --k {kernel_events} --s {span_events} -c {concurrency} -p {payload_bytes} -o {trace_out}", &cell, Path::new("/t/x.json")),
            "w --k 5 --s 7 -c 2 -p 64 -o /t/x.json"
        );
        let limits = Cell {
            span_attributes: 3,
            span_links: 4,
            spans: 5,
            ..cell
        };
        assert_eq!(
            expand(
                "w -a {span_attributes} -l {span_links} -n {spans}",
                &limits,
                Path::new("/t")
            ),
            "w -a 3 -l 4 -n 5"
        );
    }
}
