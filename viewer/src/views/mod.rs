//! One file per view; shared helpers for picking cells out of a summary.

pub mod capture_timeline;
pub mod compare;
pub mod deltas;
pub mod events;
pub mod matrix;
pub mod overview;
pub mod phases;
pub mod processes;
pub mod retention;
pub mod rss;
pub mod timeline;
pub mod wall;

use leptos::prelude::*;
use report_model::schema::summary::Summary;

use crate::state::{use_state, Shared};

/// The ids of the summary's cells, in order.
pub fn cell_ids(summary: &Summary) -> Vec<String> {
    summary.cells.iter().map(|c| c.id.clone()).collect()
}

/// The route's `cell` parameter when it names a cell of `summary` (else none: all cells).
pub fn route_cell(summary: Shared<Summary>) -> Memo<Option<String>> {
    let state = use_state();
    Memo::new(move |_| {
        state.route.with(|r| {
            r.get("cell")
                .filter(|c| summary.cells.iter().any(|cell| cell.id == *c))
                .map(str::to_string)
        })
    })
}

/// The summary narrowed to one cell (or all of it), for charts of the selected cell.
pub fn narrowed(summary: Shared<Summary>, cell: Memo<Option<String>>) -> Memo<Shared<Summary>> {
    Memo::new(move |_| match cell.get() {
        None => summary.clone(),
        Some(id) => {
            let mut s = (*summary).clone();
            s.cells.retain(|c| c.id == id);
            Shared::new(s)
        }
    })
}

/// A note when the route names a cell the bundle does not have.
#[component]
pub fn UnknownCell(summary: Shared<Summary>) -> impl IntoView {
    let state = use_state();
    let missing = Memo::new(move |_| {
        state.route.with(|r| {
            r.get("cell")
                .filter(|c| !summary.cells.iter().any(|cell| cell.id == *c))
                .map(str::to_string)
        })
    });
    move || {
        missing.get().map(|c| {
            view! { <p class="note">"This bundle has no cell " <code>{c}</code> "; showing all cells."</p> }
        })
    }
}
