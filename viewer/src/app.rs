//! The application shell: state in context, hash routing, page-wide drop, header, messages, the view switch.

use leptos::ev;
use leptos::prelude::*;

use crate::components::nav::Nav;
use crate::components::open::{self, DropZone, FilePicker};
use crate::components::theme::ThemeToggle;
use crate::load;
use crate::route::Page;
use crate::state::{Kind, Slot, State};
use crate::views;

#[component]
pub fn App() -> impl IntoView {
    let state = State::new();
    provide_context(state);

    // Back/forward and edited addresses re-read the route.
    let _ = window_event_listener(ev::hashchange, move |_| state.sync_route());

    // Files dropped anywhere on the page open as the bundle.
    let dragging = RwSignal::new(false);
    let _ = window_event_listener(ev::dragover, move |e| {
        if open::carries_files(&e) {
            e.prevent_default();
            dragging.set(true);
        }
    });
    let _ = window_event_listener(ev::dragleave, move |e| {
        if open::left_window(&e) {
            dragging.set(false);
        }
    });
    let _ = window_event_listener(ev::drop, move |e| {
        e.prevent_default();
        dragging.set(false);
        if let Some(file) = open::dropped_file(&e) {
            load::open_file(state, file, Slot::Primary);
        }
    });

    if let Some(url) = load::bundle_param() {
        load::open_url(state, url, Slot::Primary);
    }

    view! {
        <header class="top" class:dragging=move || dragging.get()>
            <h1>"tare viewer"</h1>
            <FilePicker into=Slot::Primary id="open-file" text="Open a bundle or summary.json" />
            <p class="privacy">"Files are read in this tab only; nothing is uploaded."</p>
            <ThemeToggle />
        </header>
        <Nav />
        <main id="main">
            <Messages />
            <Body />
        </main>
    }
}

/// The busy line and the error banner.
#[component]
fn Messages() -> impl IntoView {
    let state = crate::state::use_state();
    view! {
        <p class="busy" aria-live="polite" id="busy">{move || state.busy.get()}</p>
        <Show when=move || state.error.with(Option::is_some)>
            <div class="error" role="alert" id="error">
                <p>{move || state.error.get().unwrap_or_default()}</p>
                <button type="button" class="ghost" on:click=move |_| state.error.set(None)>"Dismiss"</button>
            </div>
        </Show>
    }
}

/// The current view of the opened bundle, or the welcome page.
#[component]
fn Body() -> impl IntoView {
    let state = crate::state::use_state();
    let page = Memo::new(move |_| state.route.with(|r| r.page));
    move || {
        let page = page.get();
        let Some(bundle) = state.primary.get() else {
            return view! { <Welcome /> }.into_any();
        };
        let heading = view! { <h2 class="view-title">{page.title()}</h2> };
        let kind = match bundle.kind {
            Kind::Bundle => "bundle",
            Kind::Summary => "summary.json",
            Kind::Archive => "capture archive",
        };
        let (name, id) = (bundle.name.clone(), bundle.id.clone());
        let body = match (page, bundle.summary.clone()) {
            (Page::Events, _) => view! { <views::events::EventsView bundle /> }.into_any(),
            (Page::Processes, _) => view! { <views::processes::ProcessesView bundle /> }.into_any(),
            (Page::Timeline, _) => view! { <views::timeline::TimelineView bundle /> }.into_any(),
            (Page::Compare, _) => view! { <views::compare::CompareView bundle /> }.into_any(),
            (_, None) => view! { <views::overview::ArchiveOnly bundle /> }.into_any(),
            (Page::Overview, Some(summary)) => {
                view! { <views::overview::OverviewView bundle summary /> }.into_any()
            }
            (Page::Deltas, Some(summary)) => {
                view! { <views::deltas::DeltasView summary /> }.into_any()
            }
            (Page::Wall, Some(summary)) => {
                let samples = bundle.samples.clone();
                view! { <views::wall::WallView summary samples /> }.into_any()
            }
            (Page::Phases, Some(summary)) => {
                view! { <views::phases::PhasesView summary /> }.into_any()
            }
            (Page::Retention, Some(summary)) => {
                view! { <views::retention::RetentionView summary /> }.into_any()
            }
            (Page::Matrix, Some(summary)) => {
                view! { <views::matrix::MatrixView summary /> }.into_any()
            }
            (Page::Rss, Some(summary)) => view! { <views::rss::RssView summary /> }.into_any(),
        };
        view! {
            <p class="source muted" id="source">
                {kind} " " <strong>{name}</strong> " (" {id} ")"
            </p>
            {heading}
            {body}
        }
        .into_any()
    }
}

/// Shown before anything is opened.
#[component]
fn Welcome() -> impl IntoView {
    view! {
        <section class="welcome">
            <h2>"Open a tare result"</h2>
            <DropZone into=Slot::Primary>
                <p>"Drop a bundle (" <code>".bundle.tar.gz"</code> "), a capture archive or a "
                    <code>"summary.json"</code> " here, or pick one:"</p>
                <FilePicker into=Slot::Primary id="open-file-welcome" text="Choose a file" />
            </DropZone>
            <p class="muted">
                "Everything is read and computed in this browser tab; nothing is uploaded. "
                "`tare view RESULTS` opens a result directly; a page address with "
                <code>"?bundle=URL"</code> " opens a bundle from the same origin."
            </p>
        </section>
    }
}
