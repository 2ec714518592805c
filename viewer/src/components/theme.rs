//! Light and dark themes: the system's choice by default, a toggle that overrides it and is remembered.

use leptos::prelude::*;

const KEY: &str = "tare-viewer-theme";

/// The theme setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Theme {
    Auto,
    Light,
    Dark,
}

impl Theme {
    fn name(self) -> &'static str {
        match self {
            Theme::Auto => "auto",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    fn next(self) -> Theme {
        match self {
            Theme::Auto => Theme::Light,
            Theme::Light => Theme::Dark,
            Theme::Dark => Theme::Auto,
        }
    }

    fn parse(s: &str) -> Theme {
        match s {
            "light" => Theme::Light,
            "dark" => Theme::Dark,
            _ => Theme::Auto,
        }
    }
}

fn storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

/// A button cycling auto → light → dark; sets `data-theme` on the root element.
#[component]
pub fn ThemeToggle() -> impl IntoView {
    let saved = storage()
        .and_then(|s| s.get_item(KEY).ok().flatten())
        .map(|s| Theme::parse(&s))
        .unwrap_or(Theme::Auto);
    let theme = RwSignal::new(saved);
    Effect::new(move |_| {
        let t = theme.get();
        if let Some(root) = document().document_element() {
            let _ = match t {
                Theme::Auto => root.remove_attribute("data-theme"),
                t => root.set_attribute("data-theme", t.name()),
            };
        }
        if let Some(s) = storage() {
            let _ = s.set_item(KEY, t.name());
        }
    });
    view! {
        <button
            type="button"
            id="theme-toggle"
            class="ghost"
            on:click=move |_| theme.update(|t| *t = t.next())
            aria-label=move || format!("Theme: {} (change)", theme.get().name())
        >
            {move || format!("Theme: {}", theme.get().name())}
        </button>
    }
}
