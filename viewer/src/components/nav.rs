//! The view links: one per page, the current one marked for assistive technology.

use leptos::prelude::*;

use crate::route::{Page, Route};
use crate::state::use_state;

/// Links to every view; the `cell` parameter is carried along so a cell stays in focus.
#[component]
pub fn Nav() -> impl IntoView {
    let state = use_state();
    let page = Memo::new(move |_| state.route.with(|r| r.page));
    let cell = Memo::new(move |_| state.route.with(|r| r.get("cell").map(str::to_string)));
    let links = Page::ALL
        .into_iter()
        .map(|p| {
            let href = move || {
                let r = Route::new(p);
                match (p, cell.get()) {
                    (Page::Deltas | Page::Wall | Page::Phases | Page::Rss, Some(c)) => {
                        r.with("cell", c).href()
                    }
                    _ => r.href(),
                }
            };
            view! {
                <li>
                    <a
                        href=href
                        id=format!("nav-{}", p.slug())
                        aria-current=move || (page.get() == p).then_some("page")
                    >
                        {p.title()}
                    </a>
                </li>
            }
        })
        .collect_view();
    view! {
        <nav aria-label="Views">
            <ul>{links}</ul>
        </nav>
    }
}
