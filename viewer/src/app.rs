//! The application shell: file picker, error banner, and what was opened.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::load::{self, Opened};

#[component]
pub fn App() -> impl IntoView {
    let opened = RwSignal::new(None::<Opened>);
    let error = RwSignal::new(None::<String>);

    let on_pick = move |ev: leptos::ev::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        leptos::task::spawn_local(async move {
            let result = match load::file_bytes(&file).await {
                Ok(bytes) => load::open_container(&file.name(), &bytes),
                Err(e) => Err(e),
            };
            match result {
                Ok(o) => {
                    error.set(None);
                    opened.set(Some(o));
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };

    view! {
        <header>
            <h1>"tare viewer"</h1>
            <label>
                "Open a bundle or archive (.tar.gz): "
                <input type="file" accept=".gz,.tgz,.json" on:change=on_pick />
            </label>
            <span class="muted">"Files are read in this tab; nothing is uploaded."</span>
        </header>
        <main>
            <Show when=move || error.get().is_some()>
                <p class="error" role="alert">{move || error.get().unwrap_or_default()}</p>
            </Show>
            {move || match opened.get() {
                None => view! { <p class="drop">"Open a tare bundle to begin."</p> }.into_any(),
                Some(o) => view! { <Members opened=o /> }.into_any(),
            }}
        </main>
    }
}

#[component]
fn Members(opened: Opened) -> impl IntoView {
    let rows = opened
        .manifest
        .members
        .iter()
        .map(|m| {
            view! {
                <tr>
                    <td>{m.path.clone()}</td>
                    <td>{m.bytes}</td>
                    <td>{m.schema.clone().unwrap_or_default()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <h2>{opened.name.clone()} " (" {opened.manifest.id.clone()} ")"</h2>
        <table>
            <thead><tr><th>"member"</th><th>"bytes"</th><th>"schema"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
