//! Compare two bundles side by side: per cell and arm, the wall-clock medians and their difference.

use std::collections::BTreeSet;
use std::sync::Arc;

use leptos::prelude::*;
use report_model::analysis::compare::host_parts_text;
use report_model::schema::experiment::Arm;
use report_model::schema::host::HostClass;
use report_model::schema::summary::Summary;

use crate::components::num;
use crate::components::open::{DropZone, FilePicker};
use crate::state::{use_state, Loaded, Slot};

/// One row: a cell and arm, with the wall-clock median on each side (ms).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub cell: String,
    pub arm: Arm,
    pub a: Option<f64>,
    pub b: Option<f64>,
}

impl Row {
    /// B − A, ms.
    pub fn diff(&self) -> Option<f64> {
        Some(self.b? - self.a?)
    }

    /// (B − A) / A, percent.
    pub fn pct(&self) -> Option<f64> {
        let a = self.a.filter(|a| *a > 0.0)?;
        Some(self.diff()? / a * 100.0)
    }
}

fn median(s: &Summary, cell: &str, arm: Arm) -> Option<f64> {
    s.cells
        .iter()
        .find(|c| c.id == cell)?
        .arms
        .get(&arm)?
        .wall_ms
        .as_ref()
        .map(|d| d.median)
}

/// Every cell of either side (A's order first), every arm either side measured.
pub fn rows(a: &Summary, b: &Summary) -> Vec<Row> {
    let mut ids: Vec<&str> = a.cells.iter().map(|c| c.id.as_str()).collect();
    for c in &b.cells {
        if !ids.contains(&c.id.as_str()) {
            ids.push(&c.id);
        }
    }
    let mut out = Vec::new();
    for id in ids {
        let arms: BTreeSet<Arm> = [a, b]
            .iter()
            .filter_map(|s| s.cells.iter().find(|c| c.id == id))
            .flat_map(|c| c.arms.keys().copied())
            .collect();
        for arm in arms {
            out.push(Row {
                cell: id.to_string(),
                arm,
                a: median(a, id, arm),
                b: median(b, id, arm),
            });
        }
    }
    out
}

#[component]
pub fn CompareView(bundle: Arc<Loaded>) -> impl IntoView {
    let state = use_state();
    let Some(a) = bundle.summary.clone() else {
        return view! {
            <p class="note">"Compare needs two bench bundles; a capture archive has no summary."</p>
        }
        .into_any();
    };
    let table = move || {
        let second = state.second.get()?;
        let Some(b) = second.summary.clone() else {
            return Some(
                view! { <p class="note" id="compare-note">{second.name.clone()} " is a capture archive, not a bundle."</p> }
                    .into_any(),
            );
        };
        let differ = HostClass::parse(&a.host_class).differences(&HostClass::parse(&b.host_class));
        let warn = (!differ.is_empty()).then(|| {
            view! {
                <p class="note warn" id="host-differs">
                    "The host classes differ in " {host_parts_text(&differ)} " (" {a.host_class.clone()} " vs " {b.host_class.clone()}
                    "): these results are not comparable as measurements of the same machine."
                </p>
            }
        });
        let body = rows(&a, &b)
            .into_iter()
            .map(|r| {
                view! {
                    <tr data-cell=r.cell.clone() data-arm=r.arm.as_str()>
                        <th scope="row">{r.cell.clone()}</th>
                        <td>{r.arm.label()}</td>
                        {num::ms(r.a)}
                        {num::ms(r.b)}
                        {num::signed_ms(r.diff())}
                        {num::percent(r.pct())}
                    </tr>
                }
            })
            .collect_view();
        Some(
            view! {
                <dl class="facts">
                    <dt>"A"</dt><dd id="cmp-a">{bundle.name.clone()} " — " {a.experiment.clone()} ", " {a.host_class.clone()}</dd>
                    <dt>"B"</dt><dd id="cmp-b">{second.name.clone()} " — " {b.experiment.clone()} ", " {b.host_class.clone()}</dd>
                </dl>
                {warn}
                <div class="scroll">
                    <table id="compare">
                        <thead>
                            <tr>
                                <th scope="col">"cell"</th><th scope="col">"arm"</th>
                                <th scope="col">"A median (ms)"</th><th scope="col">"B median (ms)"</th>
                                <th scope="col">"B − A (ms)"</th><th scope="col">"B − A (%)"</th>
                            </tr>
                        </thead>
                        <tbody>{body}</tbody>
                    </table>
                </div>
            }
            .into_any(),
        )
    };
    view! {
        <p class="muted">
            "The bundle open now is A. Open a second bundle as B to see, per cell and arm, how the "
            "wall-clock medians moved. This is a side-by-side look, not a statistical test: "
            <code>"tare compare"</code> " gives shifts with confidence intervals."
        </p>
        <DropZone into=Slot::Second>
            <FilePicker into=Slot::Second id="open-second" text="Open bundle B" />
            <span class="muted">" or drop it here"</span>
        </DropZone>
        {table}
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;
    use report_model::schema::parse_json;

    fn smoke() -> Summary {
        let path = format!(
            "{}/../fixtures/bundles/smoke.summary.json",
            env!("CARGO_MANIFEST_DIR")
        );
        parse_json("smoke", &std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn rows_cover_both_sides() {
        let a = smoke();
        let mut b = a.clone();
        b.cells.remove(0);
        let mut extra = a.cells[0].clone();
        extra.id = "only-b".into();
        b.cells.push(extra);
        let rows = rows(&a, &b);
        // A's cells (4 arms each), then B's extra cell.
        assert_eq!(rows.len(), 12);
        assert!(rows[..4]
            .iter()
            .all(|r| r.b.is_none() && r.diff().is_none()));
        assert!(rows[4..8].iter().all(|r| r.diff() == Some(0.0)));
        assert!(rows[8..]
            .iter()
            .all(|r| r.cell == "only-b" && r.a.is_none()));
    }
}
