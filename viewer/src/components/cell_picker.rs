//! A `<select>` of the bundle's cells, bound to the route's `cell` parameter.

use leptos::prelude::*;

use crate::state::use_state;

/// Picks a cell by id. With `all` set, the first option (`all cells`) clears the parameter.
/// `selected` is the cell the view shows (its own default when the route names none).
#[component]
pub fn CellPicker(
    cells: Vec<String>,
    #[prop(into)] selected: Signal<Option<String>>,
    #[prop(optional)] all: bool,
) -> impl IntoView {
    let state = use_state();
    let on_change =
        move |ev: leptos::ev::Targeted<leptos::ev::Event, web_sys::HtmlSelectElement>| {
            let value = ev.target().value();
            state.navigate(state.route.get_untracked().with("cell", value));
        };
    let options = cells
        .into_iter()
        .map(|id| {
            let for_selected = id.clone();
            let shown = id.clone();
            view! {
                <option value=id prop:selected=move || selected.get().as_deref() == Some(for_selected.as_str())>
                    {shown}
                </option>
            }
        })
        .collect_view();
    view! {
        <label class="picker">
            "Cell "
            <select id="cell-picker" on:change:target=on_change>
                {all.then(|| view! {
                    <option value="" prop:selected=move || selected.get().is_none()>"all cells"</option>
                })}
                {options}
            </select>
        </label>
    }
}
