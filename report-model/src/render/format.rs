//! Number and name formatting shared by the markdown, mermaid and SVG renderers.

use crate::schema::experiment::Arm;
use crate::schema::sample::LimitSource;
use crate::schema::summary::FidelityVerdict;
use crate::stats::{TailBand, Verdict};

/// Bytes in a MiB.
pub const MIB: f64 = 1024.0 * 1024.0;

/// Milliseconds with two decimals (`12.34`); `—` when not finite.
pub fn ms(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.2}")
    } else {
        "—".into()
    }
}

/// A signed shift in milliseconds with two decimals (`+1.23`, `-0.40`); `—` when not finite.
pub fn signed_ms(v: f64) -> String {
    if v.is_finite() {
        format!("{v:+.2}")
    } else {
        "—".into()
    }
}

/// Bytes as MiB with one decimal (`10.5 MiB`); `—` when not finite.
pub fn mib(bytes: f64) -> String {
    if bytes.is_finite() {
        format!("{:.1} MiB", bytes / MIB)
    } else {
        "—".into()
    }
}

/// A p-value to three significant digits: `0.500`, `0.0234`, `1.00`; below 0.001 in
/// scientific notation (`1.95e-3`); `0` for zero, `—` when not finite or negative.
pub fn p_value(p: f64) -> String {
    if !p.is_finite() || p < 0.0 {
        return "—".into();
    }
    if p == 0.0 {
        return "0".into();
    }
    // Round to three significant digits first so 0.09996 prints as 0.100, not 0.1000.
    let exp = p.log10().floor() as i32;
    let scale = 10f64.powi(2 - exp);
    let rounded = (p * scale).round() / scale;
    if rounded < 0.001 {
        return format!("{p:.2e}");
    }
    let exp = rounded.log10().floor() as i32;
    let decimals = (2 - exp).max(0) as usize;
    format!("{rounded:.decimals$}")
}

/// A fraction as a percentage with one decimal (`0.0123` -> `1.2%`); `—` when not finite.
pub fn percent(fraction: f64) -> String {
    if fraction.is_finite() {
        format!("{:.1}%", fraction * 100.0)
    } else {
        "—".into()
    }
}

/// A count (or the median of counts): whole numbers as they are (`42`), halves with one
/// decimal (`42.5`); `—` when not finite.
pub fn count(v: f64) -> String {
    if !v.is_finite() {
        "—".into()
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// Inclusive index ranges as `372..499`, a single index as `7`, joined by `, `; at most
/// `max` ranges, then `… (+N more)`. `—` when empty.
pub fn ranges(ranges: &[[u64; 2]], max: usize) -> String {
    if ranges.is_empty() {
        return "—".into();
    }
    let mut parts: Vec<String> = ranges
        .iter()
        .take(max)
        .map(|[lo, hi]| {
            if lo == hi {
                lo.to_string()
            } else {
                format!("{lo}..{hi}")
            }
        })
        .collect();
    if ranges.len() > max {
        parts.push(format!("… (+{} more)", ranges.len() - max));
    }
    parts.join(", ")
}

/// The short name of an arm, as in comparisons: `bare`, `A`, `B`, `C`.
pub fn arm_short(arm: Arm) -> &'static str {
    match arm {
        Arm::Bare => "bare",
        Arm::A => "A",
        Arm::B => "B",
        Arm::C => "C",
    }
}

/// What a delta compares, readably: `a_vs_bare` -> `A - bare`, `interaction` ->
/// `C - (A + B - bare)`. Unknown names are returned as they are.
pub fn delta_label(name: &str) -> String {
    if name == "interaction" {
        return "C - (A + B - bare)".into();
    }
    let arm = |s: &str| match s {
        "bare" => Some("bare"),
        "a" => Some("A"),
        "b" => Some("B"),
        "c" => Some("C"),
        _ => None,
    };
    match name.split_once("_vs_") {
        Some((cand, base)) => match (arm(cand), arm(base)) {
            (Some(c), Some(b)) => format!("{c} - {b}"),
            _ => name.to_string(),
        },
        None => name.to_string(),
    }
}

/// A verdict in words.
pub fn verdict(v: Verdict) -> &'static str {
    match v {
        Verdict::Difference => "difference",
        Verdict::NoDetectableDifference => "no detectable difference",
        Verdict::InsufficientSamples => "insufficient samples",
    }
}

/// A tail band in words.
pub fn band(b: TailBand) -> &'static str {
    match b {
        TailBand::Healthy => "healthy",
        TailBand::Warning => "warning",
        TailBand::Fail => "fail",
    }
}

/// A fidelity verdict in words.
pub fn fidelity(v: FidelityVerdict) -> &'static str {
    match v {
        FidelityVerdict::Clean => "clean",
        FidelityVerdict::Lossy => "lossy",
        FidelityVerdict::Inconclusive => "inconclusive",
    }
}

/// Where a span-event limit came from, in words.
pub fn limit_source(s: LimitSource) -> &'static str {
    match s {
        LimitSource::Default => "default",
        LimitSource::Env => "env",
        LimitSource::Flag => "flag",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(ms(12.345_6), "12.35");
        assert_eq!(ms(f64::NAN), "—");
        assert_eq!(signed_ms(1.5), "+1.50");
        assert_eq!(signed_ms(-0.404), "-0.40");
        assert_eq!(mib(10.0 * MIB + 0.55 * MIB), "10.6 MiB");
        assert_eq!(p_value(0.5), "0.500");
        assert_eq!(p_value(1.0), "1.00");
        assert_eq!(p_value(0.023_44), "0.0234");
        assert_eq!(p_value(0.099_96), "0.100");
        assert_eq!(p_value(0.007_812_5), "0.00781");
        assert_eq!(p_value(0.001), "0.00100");
        assert_eq!(p_value(0.000_195_3), "1.95e-4");
        assert_eq!(p_value(0.0), "0");
        assert_eq!(p_value(f64::NAN), "—");
        assert_eq!(percent(0.012_34), "1.2%");
        assert_eq!(percent(0.0), "0.0%");
        assert_eq!(percent(f64::NAN), "—");
        assert_eq!(count(42.0), "42");
        assert_eq!(count(42.5), "42.5");
        assert_eq!(count(f64::INFINITY), "—");
    }

    #[test]
    fn names() {
        assert_eq!(ranges(&[[372, 499]], 8), "372..499");
        assert_eq!(
            ranges(&[[0, 3], [7, 7], [9, 10]], 2),
            "0..3, 7, … (+1 more)"
        );
        assert_eq!(ranges(&[], 8), "—");
        assert_eq!(delta_label("a_vs_bare"), "A - bare");
        assert_eq!(delta_label("c_vs_b"), "C - B");
        assert_eq!(delta_label("interaction"), "C - (A + B - bare)");
        assert_eq!(delta_label("odd"), "odd");
    }
}
