//! The state every view reads from context: the opened bundle(s), the route, and the messages.

use std::ops::Deref;
use std::sync::Arc;

use leptos::prelude::*;
use report_model::schema::sample::Sample;
use report_model::schema::summary::Summary;

use crate::route::Route;

/// What kind of file was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A `tare bench` bundle.
    Bundle,
    /// A bare `summary.json`.
    Summary,
    /// One `tare capture` archive (only its kernel events can be shown).
    Archive,
}

/// A per-sample capture archive inside a bundle, kept compressed until it is explored.
#[derive(Debug)]
pub struct Archive {
    /// Member path in the bundle (or the file name of an archive opened alone).
    pub path: String,
    /// Cell, arm and sample, when samples.jsonl names this archive.
    pub label: String,
    pub data: Vec<u8>,
}

/// An opened file, parsed through report-model.
#[derive(Debug)]
pub struct Loaded {
    /// Distinguishes two openings of the same file (memos compare by this).
    pub serial: u64,
    /// File name or URL it came from.
    pub name: String,
    pub kind: Kind,
    /// The manifest's id (bundle or run), or the experiment of a bare summary.
    pub id: String,
    /// Members in the container (0 for a bare summary).
    pub members: usize,
    /// Why the container is incomplete, as its manifest says.
    pub notes: Vec<String>,
    pub summary: Option<Arc<Summary>>,
    pub samples: Arc<Vec<Sample>>,
    pub archives: Vec<Archive>,
}

impl PartialEq for Loaded {
    fn eq(&self, other: &Self) -> bool {
        self.serial == other.serial
    }
}

/// A shared value that compares by identity, for memos over large data.
#[derive(Debug)]
pub struct Shared<T>(pub Arc<T>);

impl<T> Shared<T> {
    pub fn new(value: T) -> Self {
        Shared(Arc::new(value))
    }
}

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(Arc::clone(&self.0))
    }
}

impl<T> PartialEq for Shared<T> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl<T> Deref for Shared<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Which bundle an opening fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// The bundle every view shows.
    Primary,
    /// The other side of the compare view.
    Second,
}

/// App state, provided as context by the app shell.
#[derive(Debug, Clone, Copy)]
pub struct State {
    pub primary: RwSignal<Option<Arc<Loaded>>>,
    pub second: RwSignal<Option<Arc<Loaded>>>,
    /// The last file that could not be opened, and why.
    pub error: RwSignal<Option<String>>,
    /// What is being opened right now.
    pub busy: RwSignal<Option<String>>,
    pub route: RwSignal<Route>,
}

impl State {
    /// Empty state at the route of the current URL hash.
    pub fn new() -> Self {
        State {
            primary: RwSignal::new(None),
            second: RwSignal::new(None),
            error: RwSignal::new(None),
            busy: RwSignal::new(None),
            route: RwSignal::new(Route::parse(&current_hash())),
        }
    }

    /// The slot's signal.
    pub fn slot(&self, slot: Slot) -> RwSignal<Option<Arc<Loaded>>> {
        match slot {
            Slot::Primary => self.primary,
            Slot::Second => self.second,
        }
    }

    /// Goes to `route` as a new history entry (back returns here).
    pub fn navigate(&self, route: Route) {
        let href = route.href();
        if current_hash() != href {
            // Fires `hashchange`, which syncs the route signal.
            let _ = window().location().set_hash(&href);
        }
        self.set_route(route);
    }

    /// Replaces the current history entry with `route` (for typing into a filter).
    pub fn replace(&self, route: Route) {
        let href = route.href();
        if let Ok(history) = window().history() {
            let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&href));
        }
        self.set_route(route);
    }

    /// Re-reads the route from the URL (after back/forward or an edited address).
    pub fn sync_route(&self) {
        self.set_route(Route::parse(&current_hash()));
    }

    fn set_route(&self, route: Route) {
        if self.route.with_untracked(|r| *r != route) {
            self.route.set(route);
        }
    }
}

/// The app state from context.
pub fn use_state() -> State {
    expect_context::<State>()
}

fn current_hash() -> String {
    window().location().hash().unwrap_or_default()
}
