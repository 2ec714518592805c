//! Coloured verdict and gate badges; the colour comes from the verdict, the text is always there too.

use leptos::prelude::*;
use report_model::render::format;
use report_model::schema::summary::FidelityVerdict;
use report_model::stats::{TailBand, Verdict};

/// How good a badge's news is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Good,
    Warn,
    Bad,
    /// News that is neither good nor bad (a detected difference).
    Info,
    Neutral,
}

impl Tone {
    /// The CSS class of the tone.
    pub fn class(self) -> &'static str {
        match self {
            Tone::Good => "good",
            Tone::Warn => "warn",
            Tone::Bad => "bad",
            Tone::Info => "info",
            Tone::Neutral => "neutral",
        }
    }
}

/// A badge with `text` in the colour of `tone`.
#[component]
pub fn Badge(tone: Tone, #[prop(into)] text: String) -> impl IntoView {
    view! { <span class=format!("badge {}", tone.class())>{text}</span> }
}

/// A fidelity verdict badge.
pub fn fidelity(v: FidelityVerdict) -> impl IntoView {
    let tone = match v {
        FidelityVerdict::Clean => Tone::Good,
        FidelityVerdict::Lossy => Tone::Bad,
        FidelityVerdict::Inconclusive => Tone::Warn,
    };
    view! { <Badge tone text=format::fidelity(v) /> }
}

/// A delta verdict badge: a difference is news, not necessarily bad.
pub fn verdict(v: Verdict) -> impl IntoView {
    let tone = match v {
        Verdict::Difference => Tone::Info,
        Verdict::NoDetectableDifference => Tone::Neutral,
        Verdict::InsufficientSamples => Tone::Warn,
    };
    view! { <Badge tone text=format::verdict(v) /> }
}

/// A p99/median band badge.
pub fn band(b: Option<TailBand>) -> impl IntoView {
    let (tone, text) = match b {
        Some(TailBand::Healthy) => (Tone::Good, format::band(TailBand::Healthy)),
        Some(TailBand::Warning) => (Tone::Warn, format::band(TailBand::Warning)),
        Some(TailBand::Fail) => (Tone::Bad, format::band(TailBand::Fail)),
        None => (Tone::Neutral, "—"),
    };
    view! { <Badge tone text /> }
}

/// A gate badge: `made` when the claim is made, else `not made`.
pub fn claim(made: bool) -> impl IntoView {
    if made {
        view! { <Badge tone=Tone::Good text="made" /> }
    } else {
        view! { <Badge tone=Tone::Warn text="not made" /> }
    }
}
