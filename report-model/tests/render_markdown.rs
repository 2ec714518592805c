//! summary.md and its mermaid charts: content from a realistic summary, escaping, determinism.

#[path = "render_fixture.rs"]
mod fixture;

use fixture::{fixture, hostile, usage_fixture, CLEAN, HOSTILE, LOSSY};
use report_model::render::escape;
use report_model::render::markdown::summary_md;
use report_model::schema::experiment::Arm;
use report_model::stats::Verdict;

#[test]
fn summary_md_has_headline_tables_charts_and_caveats() {
    let (summary, _) = fixture();
    let md = summary_md(&summary);
    assert!(md.starts_with("# tare bench: event-rate-sweep\n"));
    // The headline is there (escaped), and it carries the bare median of the first cell.
    assert!(md.contains(&escape::markdown(&summary.headline)), "{md}");
    let bare = summary.cells[0].arms[&Arm::Bare].wall_ms.as_ref().unwrap();
    assert!(summary.headline.contains(&format!("{:.2}", bare.median)));
    for id in [LOSSY, CLEAN] {
        assert!(md.contains(&format!("## Cell {id}\n")), "{id}");
    }
    // Each arm's row with the exact formatted numbers; n = 8 so p99 is the max.
    for cell in &summary.cells {
        for (arm, a) in &cell.arms {
            let d = a.wall_ms.as_ref().unwrap();
            let rss = a.rss_bytes.as_ref().unwrap();
            let row = format!(
                "| {} | 8 | 0 | {:.2} | {:.2} | {:.2} (max) | {:.2} (healthy) | {:.1} MiB |",
                arm.label(),
                d.median,
                d.p95,
                d.p99,
                d.p99 / d.median,
                rss.median / 1048576.0
            );
            assert!(md.contains(&row), "missing row {row}\n{md}");
        }
        for d in &cell.deltas {
            assert_eq!(d.n, 8);
            let ci = format!("{:+.2} to {:+.2}", d.ci_low.unwrap(), d.ci_high.unwrap());
            assert!(
                md.contains(&format!("| {:+.2} | {ci} |", d.estimate.unwrap())),
                "{ci}"
            );
            if d.verdict == Verdict::Difference {
                assert!(md.contains("**difference**"));
            }
        }
    }
    assert!(md.contains("| A - bare (a\\_vs\\_bare) |"));
    assert!(md.contains("| C - (A + B - bare) (interaction) |"));
    assert!(md.contains(" 8 pairs |"));
    // Fidelity.
    assert!(md.contains(&format!(
        "| {LOSSY} | 1000 | 1000 | 500 | 128 | 372..499 | newest\\_kept | 128 (default) | **lossy** |"
    )), "{md}");
    assert!(md.contains(&format!(
        "| {CLEAN} | 200 | 200 | 100 | 100 | 0..99 | complete | 128 (env) | clean |"
    )));
    // The boundary: span fidelity in the first cell.
    assert!(md.contains(
        "## Boundary\n\nThe first gate that failed: **span\\_fidelity** in cell **k1000-s500**"
    ));
    // Charts GitHub renders.
    assert!(md.contains("```mermaid\nxychart-beta\n"));
    assert!(md.contains("x-axis [\"bare\", \"A (capture)\", \"B (OTel)\", \"C (capture + OTel)\"]"));
    assert!(md.contains(&format!("x-axis [\"{LOSSY}\", \"{CLEAN}\"]")));
    assert!(md.contains("    bar [500.00, 100.00]\n    line [128.00, 100.00]\n"));
    assert_eq!(md.matches("```mermaid").count(), 3);
    assert_eq!(md.matches("```").count(), 6, "fences balanced");
    // What it does not show.
    let caveats = md
        .split("## What this does not show\n\n")
        .nth(1)
        .expect("section");
    for line in &summary.not_shown {
        assert!(
            caveats.contains(&format!("- {}\n", escape::markdown(line))),
            "{line}"
        );
    }
    assert!(caveats.contains("fewer than 20 valid samples"));
    // Samples without CPU figures: no CPU or memory table, and the caveat says why.
    assert!(!md.contains("| CPU comparison |") && !md.contains("charged memory, not RSS"));
    assert!(
        caveats.contains("These samples carry no CPU time"),
        "{caveats}"
    );
    assert_rectangular(&md);
}

/// Every table row has the same number of cells as its header.
fn assert_rectangular(md: &str) {
    let mut columns = 0;
    for line in md.lines() {
        if line.starts_with('|') {
            let cells = line.replace("\\|", "").matches('|').count();
            if columns == 0 {
                columns = cells;
            }
            assert_eq!(cells, columns, "{line}");
        } else {
            columns = 0;
        }
    }
}

#[test]
fn summary_md_shows_cpu_and_memory_beside_wall_clock() {
    let (summary, _) = usage_fixture();
    let md = summary_md(&summary);
    // Everything the plain fixture renders is still there, line for line, but the caveat
    // about absent CPU figures.
    let plain = summary_md(&fixture().0);
    for line in plain.lines() {
        assert!(
            md.contains(line) || line.contains("carry no CPU time"),
            "lost: {line}"
        );
    }
    assert!(!md.contains("carry no CPU time"));
    let pct = |f: f64| format!("{:.1}%", f * 100.0);
    for cell in &summary.cells {
        for (arm, a) in &cell.arms {
            let cpu = |d: &Option<report_model::stats::Distribution>| {
                format!("{:.2}", d.as_ref().unwrap().median)
            };
            let tare = if arm.captures() {
                cpu(&a.tare_cpu_ms)
            } else {
                "—".into()
            };
            let row = format!(
                "| {} | {} | {} / {} | {tare} | {} | {} |",
                arm.label(),
                cpu(&a.cpu_ms),
                cpu(&a.cpu_user_ms),
                cpu(&a.cpu_sys_ms),
                pct(a.wall_cv.unwrap()),
                pct(a.cpu_cv.unwrap()),
            );
            assert!(md.contains(&row), "missing CPU row {row}\n{md}");
            let mib = |d: &Option<report_model::stats::Distribution>| {
                format!("{:.1} MiB", d.as_ref().unwrap().median / 1048576.0)
            };
            let row = format!(
                "| {} | {} | {} | {} |",
                arm.label(),
                mib(&a.rss_bytes),
                mib(&a.rss_sum_bytes),
                mib(&a.memory_peak_bytes)
            );
            assert!(md.contains(&row), "missing memory row {row}\n{md}");
        }
        let cpu_deltas: Vec<_> = cell
            .deltas
            .iter()
            .filter(|d| d.metric == "cpu_ms")
            .collect();
        assert_eq!(cpu_deltas.len(), 6);
        for d in cpu_deltas {
            let row = format!(
                "| {:+.2} | {:+.2} to {:+.2} |",
                d.estimate.unwrap(),
                d.ci_low.unwrap(),
                d.ci_high.unwrap()
            );
            assert!(md.contains(&row), "missing CPU delta {row}");
        }
    }
    assert_eq!(md.matches("| CPU comparison | Estimate (ms) |").count(), 2);
    assert!(md.contains("Memory peak (cgroup charged memory, not RSS)"));
    // C's extra CPU is an interaction CPU time detects and wall-clock's noise hides.
    let verdict = |metric: &str| {
        summary.cells[0]
            .deltas
            .iter()
            .find(|d| d.name == "interaction" && d.metric == metric)
            .unwrap()
            .verdict
    };
    assert_eq!(verdict("cpu_ms"), Verdict::Difference);
    assert_eq!(verdict("wall_ms"), Verdict::NoDetectableDifference);
    assert!(
        md.contains("CPU time decomposes where wall-clock cannot"),
        "{md}"
    );
    assert_eq!(md.matches("```mermaid").count(), 3, "no new charts");
    assert_rectangular(&md);
}

#[test]
fn summary_md_escapes_hostile_ids() {
    let (summary, _) = hostile();
    let md = summary_md(&summary);
    assert!(!md.to_lowercase().contains("<script"), "{md}");
    assert!(!md.contains("</script"));
    assert!(md.contains("## Cell &lt;script&gt;alert(1)&lt;/script&gt;\n"));
    // Inside mermaid only safe characters remain.
    for block in md.split("```mermaid\n").skip(1) {
        let body = block.split("```").next().unwrap().replace(" --> ", " ");
        assert!(
            !body.contains('<') && !body.contains('>') && !body.contains('#'),
            "{body}"
        );
        assert!(body.contains("script alert(1) /script") || !body.contains("script"));
    }
    // A cell id with a pipe or a newline cannot break a table.
    let mut s = summary.clone();
    s.cells[0].id = "a|b\n| x |".into();
    let md = summary_md(&s);
    assert!(md.contains("| a\\|b \\| x \\| | 1000 |"), "{md}");
}

#[test]
fn summary_md_is_deterministic() {
    let (a, _) = fixture();
    let (b, _) = fixture();
    assert_eq!(summary_md(&a), summary_md(&b));
    assert_eq!(summary_md(&a), summary_md(&a));
}

#[test]
fn summary_md_of_an_empty_partial_run() {
    let (mut s, _) = fixture();
    s.cells.clear();
    s.partial = true;
    s.boundary = None;
    let md = summary_md(&s);
    assert!(md.contains("[!WARNING]"));
    assert!(md.contains("No cells were run."));
    assert!(!md.contains("```mermaid"));
    assert!(!md.contains(HOSTILE));
}
