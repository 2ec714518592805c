//! Table cells for numbers: the formatted text shown, the exact value kept in `data-v`.

use leptos::prelude::*;
use report_model::render::format;

/// A cell of milliseconds (`12.34`), `—` when absent.
pub fn ms(v: Option<f64>) -> impl IntoView {
    cell(v, format::ms)
}

/// A signed shift in milliseconds (`+1.23`).
pub fn signed_ms(v: Option<f64>) -> impl IntoView {
    cell(v, format::signed_ms)
}

/// Bytes as MiB (`10.5 MiB`), the exact bytes in `data-v`.
pub fn mib(v: Option<f64>) -> impl IntoView {
    cell(v, format::mib)
}

/// A p-value to three significant digits.
pub fn p_value(v: Option<f64>) -> impl IntoView {
    cell(v, format::p_value)
}

/// A plain count.
pub fn count(v: impl Into<u64>) -> impl IntoView {
    let v: u64 = v.into();
    view! { <td class="num" data-v=v.to_string()>{v.to_string()}</td> }
}

/// A ratio with two decimals (`1.29`).
pub fn ratio(v: Option<f64>) -> impl IntoView {
    cell(v, |v| format!("{v:.2}"))
}

/// A percentage with one decimal and sign (`+4.5%`).
pub fn percent(v: Option<f64>) -> impl IntoView {
    cell(v, |v| {
        if v.is_finite() {
            format!("{v:+.1}%")
        } else {
            "—".into()
        }
    })
}

fn cell(v: Option<f64>, fmt: impl Fn(f64) -> String) -> impl IntoView {
    match v {
        Some(v) => view! { <td class="num" data-v=v.to_string()>{fmt(v)}</td> }.into_any(),
        None => view! { <td class="num missing">"—"</td> }.into_any(),
    }
}
