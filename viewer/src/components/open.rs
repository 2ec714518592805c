//! Opening files: a file picker and a drop zone, each filling one slot (the bundle or the compared one).

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::load;
use crate::state::{use_state, Slot};

/// A labelled file input; `id` names the input for labels and tests.
#[component]
pub fn FilePicker(
    into: Slot,
    #[prop(into)] id: String,
    #[prop(into)] text: String,
) -> impl IntoView {
    let state = use_state();
    let on_change =
        move |ev: leptos::ev::Targeted<leptos::ev::Event, web_sys::HtmlInputElement>| {
            let input = ev.target();
            if let Some(file) = input.files().and_then(|f| f.get(0)) {
                load::open_file(state, file, into);
            }
            // Let the same file be picked again after an error.
            input.set_value("");
        };
    view! {
        <label class="picker file">
            <span>{text}</span>
            <input id=id type="file" accept=".gz,.tgz,.json,application/gzip,application/json" on:change:target=on_change />
        </label>
    }
}

/// The first file of a drag-and-drop event.
pub fn dropped_file(ev: &web_sys::DragEvent) -> Option<web_sys::File> {
    ev.data_transfer()?.files()?.get(0)
}

/// A drop target for the slot `into`; drops here do not reach the page-wide drop handler.
#[component]
pub fn DropZone(into: Slot, children: Children) -> impl IntoView {
    let state = use_state();
    let over = RwSignal::new(false);
    let on_over = move |ev: web_sys::DragEvent| {
        ev.prevent_default();
        ev.stop_propagation();
        over.set(true);
    };
    let on_leave = move |_: web_sys::DragEvent| over.set(false);
    let on_drop = move |ev: web_sys::DragEvent| {
        ev.prevent_default();
        ev.stop_propagation();
        over.set(false);
        if let Some(file) = dropped_file(&ev) {
            load::open_file(state, file, into);
        }
    };
    view! {
        <div
            class="drop"
            class:over=move || over.get()
            id=match into { Slot::Primary => "drop-primary", Slot::Second => "drop-second" }
            on:dragover=on_over
            on:dragenter=on_over
            on:dragleave=on_leave
            on:drop=on_drop
        >
            {children()}
        </div>
    }
}

/// True when a drag carries files (not text being dragged inside the page).
pub fn carries_files(ev: &web_sys::DragEvent) -> bool {
    ev.data_transfer()
        .map(|dt| {
            let types = dt.types();
            (0..types.length()).any(|i| types.get(i).as_string().as_deref() == Some("Files"))
        })
        .unwrap_or(false)
}

/// Whether the event's target is an element (used to ignore drags between children).
pub fn left_window(ev: &web_sys::DragEvent) -> bool {
    ev.related_target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .is_none()
}
