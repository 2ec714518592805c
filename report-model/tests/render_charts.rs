//! SVG charts: well-formed, labelled with the data as <text>, escaped, deterministic.

#[path = "render_fixture.rs"]
mod fixture;

use fixture::{check_svg, fixture, hostile, usage_fixture, CLEAN, HOSTILE, LOSSY};
use report_model::render::charts::{all, deltas_svg, phases_svg, retention_svg, rss_svg, wall_svg};
use report_model::schema::experiment::Arm;

const ARM_LABELS: [&str; 4] = ["bare", "A (capture)", "B (OTel)", "C (capture + OTel)"];

fn has_text(texts: &[String], want: &str) -> bool {
    texts.iter().any(|t| t.contains(want))
}

fn common(svg: &str) -> Vec<String> {
    let texts = check_svg(svg);
    assert!(svg.contains("viewBox=\"0 0 760 "), "viewBox");
    assert!(svg.contains("width=\"760\""));
    assert!(svg.contains("<title>") && svg.contains("<desc>"));
    assert!(svg.contains("role=\"img\""));
    assert!(svg.contains("prefers-color-scheme: dark"));
    assert!(!texts.is_empty());
    texts
}

#[test]
fn deltas_chart() {
    let (summary, _) = fixture();
    let svg = deltas_svg(&summary);
    let texts = common(&svg);
    for id in [LOSSY, CLEAN] {
        assert!(texts.contains(&id.to_string()), "{id} in {texts:?}");
    }
    for label in [
        "A - bare",
        "B - bare",
        "C - bare",
        "C - A",
        "C - B",
        "C - (A + B - bare)",
    ] {
        assert_eq!(texts.iter().filter(|t| *t == label).count(), 2, "{label}");
    }
    let d = &summary.cells[0].deltas[0];
    assert!(has_text(&texts, &format!("{:+.2} ms", d.estimate.unwrap())));
    // One point per delta with an estimate, CI whiskers as polylines.
    assert_eq!(svg.matches("<circle").count(), 12);
    // The chart is of wall-clock: CPU deltas beside them leave it as it is.
    assert_eq!(deltas_svg(&usage_fixture().0), svg);
}

#[test]
fn wall_chart_per_cell() {
    let (summary, samples) = fixture();
    for cell in &summary.cells {
        let svg = wall_svg(&cell.id, &samples);
        let texts = common(&svg);
        assert!(has_text(
            &texts,
            &format!("Wall-clock per sample: {}", cell.id)
        ));
        for label in ARM_LABELS {
            assert!(texts.contains(&label.to_string()), "{label}");
        }
        assert_eq!(texts.iter().filter(|t| *t == "8 valid").count(), 4);
        let bare = cell.arms[&Arm::Bare].wall_ms.as_ref().unwrap();
        assert!(has_text(&texts, &format!("median {:.2} ms", bare.median)));
        // 8 counted samples per arm; the warm-ups are not drawn.
        assert_eq!(svg.matches("<circle").count(), 32);
    }
    let empty = wall_svg("no-such-cell", &samples);
    assert!(has_text(&common(&empty), "no samples for this cell"));
}

#[test]
fn phases_chart() {
    let (summary, _) = fixture();
    let svg = phases_svg(&summary);
    let texts = common(&svg);
    for id in [LOSSY, CLEAN] {
        assert!(texts.contains(&id.to_string()));
    }
    // Only the capture arms recorded phases.
    assert_eq!(texts.iter().filter(|t| *t == "A (capture)").count(), 2);
    assert_eq!(
        texts.iter().filter(|t| *t == "C (capture + OTel)").count(),
        2
    );
    assert!(!texts.contains(&"bare".to_string()));
    for phase in [
        "preflight",
        "monitor_attach",
        "child_runtime",
        "archive_write",
        "residual",
    ] {
        assert!(texts.contains(&phase.to_string()), "{phase}");
    }
}

#[test]
fn retention_chart() {
    let (summary, _) = fixture();
    let svg = retention_svg(&summary);
    let texts = common(&svg);
    for id in [LOSSY, CLEAN] {
        assert!(texts.contains(&id.to_string()));
    }
    for t in [
        "128 of 500 retained",
        "newest_kept, limit 128 (default)",
        "100 of 100 retained",
        "complete, limit 128 (env)",
        "372",
        "499",
        "0",
        "500",
        "retained",
        "evicted (not in the trace)",
    ] {
        assert!(texts.contains(&t.to_string()), "{t} in {texts:?}");
    }
}

#[test]
fn rss_chart() {
    let (summary, _) = fixture();
    let svg = rss_svg(&summary);
    let texts = common(&svg);
    for id in [LOSSY, CLEAN] {
        assert!(texts.contains(&id.to_string()));
    }
    for label in ARM_LABELS {
        assert_eq!(texts.iter().filter(|t| *t == label).count(), 2, "{label}");
    }
    let rss = summary.cells[0].arms[&Arm::B].rss_bytes.as_ref().unwrap();
    assert!(texts.contains(&format!("{:.1} MiB", rss.median / 1048576.0)));
}

#[test]
fn all_charts_are_named_and_deterministic() {
    let (summary, samples) = fixture();
    let charts = all(&summary, &samples);
    let names: Vec<&str> = charts.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "deltas.svg",
            "phases.svg",
            "retention.svg",
            "rss.svg",
            "wall-1-k1000-s500.svg",
            "wall-2-k200-s100.svg"
        ]
    );
    for (_, svg) in &charts {
        check_svg(svg);
    }
    let again = all(&fixture().0, &fixture().1);
    assert_eq!(charts, again, "byte-identical");
}

#[test]
fn hostile_ids_are_escaped_everywhere() {
    let (summary, samples) = hostile();
    let charts = all(&summary, &samples);
    assert_eq!(charts[4].0, "wall-1-script-alert-1-script.svg");
    for (name, svg) in &charts {
        assert!(!svg.to_lowercase().contains("<script"), "{name}");
        assert!(!svg.contains("</script"), "{name}");
        let texts = check_svg(svg);
        if name == "wall-2-k200-s100.svg" {
            continue; // the other cell's chart
        }
        assert!(
            texts.iter().any(|t| t.contains(HOSTILE)),
            "{name}: the id is shown as text"
        );
        assert!(
            svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{name}"
        );
    }
}

#[test]
fn empty_summary_still_draws_valid_svg() {
    let (mut summary, _) = fixture();
    summary.cells.clear();
    for svg in [
        deltas_svg(&summary),
        phases_svg(&summary),
        retention_svg(&summary),
        rss_svg(&summary),
        wall_svg(CLEAN, &[]),
    ] {
        let texts = common(&svg);
        assert!(texts.iter().any(|t| t.starts_with("no ")), "{texts:?}");
    }
}
