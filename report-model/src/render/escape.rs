//! Escaping of data strings for the three outputs: XML/SVG text, GitHub markdown, chart labels.
//!
//! Every string that comes from a results directory (cell ids, discard reasons, host class,
//! experiment names) is data, never markup: it passes through one of these before it is
//! written next to markup.

/// Escapes `s` for XML text and attribute values (`& < > " '`), and replaces characters XML
/// 1.0 forbids (C0 controls other than tab/newline/CR) with U+FFFD so the document still
/// parses.
pub fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Escapes `s` for inline GitHub-flavoured markdown, including inside a table cell:
/// HTML-significant characters become entities (`&lt;` `&gt;` `&amp;`); inline markdown
/// punctuation is backslash-escaped: `|` cannot end a cell, `*` `_` `~` cannot emphasise,
/// `[` `]` cannot link (so `(` `)` `!` stay as they are), `` ` `` cannot open code, `$`
/// cannot open math, `:` cannot form an autolink or emoji, `@` cannot mention and `#` cannot
/// reference an issue; line breaks and other control characters become spaces (a newline
/// would end the table row). Block syntax (`-`, `+`, `>` at a line start) cannot arise: the
/// result is always placed after other text on its line.
pub fn markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '|' | '~' | '$' | ':' | '@' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A chart label: control characters (and the XML non-characters U+FFFE/U+FFFF) become spaces, surrounding white space is trimmed, and a
/// label longer than `max` characters is cut with an ellipsis. No escaping: the caller escapes
/// for its target (plotters' SVG backend escapes text itself; mermaid labels go through
/// [`crate::render::mermaid::label`]).
pub fn label(s: &str, max: usize) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| {
            if c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}' {
                ' '
            } else {
                c
            }
        })
        .collect();
    let trimmed = cleaned.trim();
    if trimmed.chars().count() <= max {
        return trimmed.to_string();
    }
    let mut cut: String = trimmed.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// A file-name-safe slug of `s`: ASCII letters and digits kept (lower-cased), `-` and `_`
/// kept, anything else becomes `-`; runs of `-` collapse, at most 40 characters, `cell` when
/// nothing is left. Never contains `/`, `.` or `..`.
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        let c = if c.is_ascii_alphanumeric() || c == '_' {
            c.to_ascii_lowercase()
        } else {
            '-'
        };
        if c == '-' && (out.is_empty() || out.ends_with('-')) {
            continue;
        }
        out.push(c);
        if out.len() >= 40 {
            break;
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "cell".into()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escapes_markup_and_controls() {
        assert_eq!(
            xml("<script>alert('x')</script> & \"q\"\u{0}"),
            "&lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt; &amp; &quot;q&quot;\u{FFFD}"
        );
    }

    #[test]
    fn markdown_cannot_break_a_table() {
        let e = markdown("a|b\nc <b>*x*</b> [l](u)");
        assert!(!e.contains('\n'));
        assert!(!e.contains('<'));
        assert_eq!(e.matches('|').count(), e.matches("\\|").count());
        assert_eq!(markdown("k1000-s500"), "k1000-s500");
        assert_eq!(markdown("a_vs_bare"), "a\\_vs\\_bare");
    }

    #[test]
    fn labels_and_slugs() {
        assert_eq!(label("  ab\ncd ", 10), "ab cd");
        assert_eq!(label("abcdefghij", 5), "abcd…");
        assert_eq!(slug("K1000/S500 <x>"), "k1000-s500-x");
        assert_eq!(slug("../.."), "cell");
        assert_eq!(slug("<script>"), "script");
    }
}
