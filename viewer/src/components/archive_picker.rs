//! The per-sample archive picker shared by the kernel events and resource timeline views (route parameter `archive`).

use std::sync::Arc;

use leptos::ev::{Event, Targeted};
use leptos::prelude::*;
use web_sys::HtmlSelectElement;

use crate::state::{use_state, Loaded};

/// The index of the archive the route names (`archive=<member path>`), else the first.
pub fn selected_archive(bundle: Arc<Loaded>) -> Memo<usize> {
    let route = use_state().route;
    Memo::new(move |_| {
        route.with(|r| {
            r.get("archive")
                .and_then(|p| bundle.archives.iter().position(|a| a.path == p))
                .unwrap_or(0)
        })
    })
}

/// A `<select id=id>` of the bundle's archives; choosing one sets `archive` in the route
/// (a new history entry) and drops the page number.
#[component]
pub fn ArchivePicker(
    bundle: Arc<Loaded>,
    selected: Memo<usize>,
    id: &'static str,
) -> impl IntoView {
    let state = use_state();
    let on_change = {
        let bundle = bundle.clone();
        move |ev: Targeted<Event, HtmlSelectElement>| {
            let i: usize = ev.target().value().parse().unwrap_or(0);
            let path = bundle
                .archives
                .get(i)
                .map(|a| a.path.clone())
                .unwrap_or_default();
            let next = state
                .route
                .get_untracked()
                .with("archive", path)
                .without("page");
            state.navigate(next);
        }
    };
    let options = bundle
        .archives
        .iter()
        .enumerate()
        .map(|(i, a)| {
            view! {
                <option value=i.to_string() prop:selected=move || selected.get() == i>
                    {a.label.clone()}
                </option>
            }
        })
        .collect_view();
    view! {
        <label class="picker">
            "Archive "
            <select id=id on:change:target=on_change>{options}</select>
        </label>
    }
}

/// Shown instead of a per-archive view when the result has no per-sample archives: says
/// what is missing (`what`) and the bundle's notes (e.g. archives left out over the cap).
#[component]
pub fn NoArchives(bundle: Arc<Loaded>, what: &'static str) -> impl IntoView {
    let notes = bundle.notes.join(" ");
    view! {
        <p class="note" id="no-archives">
            "This result has no per-sample archives, so " {what} ". " {notes}
        </p>
    }
}
