//! A chart from report-model's renderer, shown as an `<img>` of a data URL so its SVG can never run script.

use leptos::prelude::*;

/// Shows `svg` (a complete SVG document) as an image; `label` is its text alternative.
/// The numbers it draws are in a table next to it.
#[component]
pub fn Chart(
    #[prop(into)] svg: Signal<String>,
    #[prop(into)] label: Signal<String>,
) -> impl IntoView {
    let src = move || svg.with(|s| data_url(s));
    view! {
        <figure class="chart">
            <img class="chart-img" src=src alt=label title=label />
        </figure>
    }
}

/// `data:image/svg+xml;base64,...` of an SVG document.
pub fn data_url(svg: &str) -> String {
    let mut out = String::from("data:image/svg+xml;base64,");
    base64_into(svg.as_bytes(), &mut out);
    out
}

/// Standard base64 with padding.
fn base64_into(bytes: &[u8], out: &mut String) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    out.reserve(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            let mut s = String::new();
            base64_into(input.as_bytes(), &mut s);
            assert_eq!(s, want);
        }
    }
}
