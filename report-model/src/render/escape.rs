//! Escaping of data strings for the outputs: XML/SVG text, GitHub markdown, chart labels, the terminal.
//!
//! Every string that comes from a results directory (cell ids, discard reasons, host class,
//! experiment names) or from any other input (an archive's manifest, a trace's span names, a
//! path) is data, never markup: it passes through one of these before it is written next to
//! markup or shown on a terminal.

use std::borrow::Cow;

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

/// Whether `c` is a bidirectional-text control (the "Trojan Source" characters): it can
/// reorder what a terminal or an editor shows around it.
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// Whether a terminal must never receive `c` raw from data: a control character (C0, DEL,
/// C1) or a bidirectional control. `keep_layout` lets line feed and tab through.
fn unsafe_for_terminal(c: char, keep_layout: bool) -> bool {
    if keep_layout && (c == '\n' || c == '\t') {
        return false;
    }
    c.is_control() || is_bidi_control(c)
}

fn escape_for_terminal(s: &str, keep_layout: bool) -> Cow<'_, str> {
    if !s.chars().any(|c| unsafe_for_terminal(c, keep_layout)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if !unsafe_for_terminal(c, keep_layout) {
            out.push(c);
            continue;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    Cow::Owned(out)
}

/// Escapes a data string (a name, an id, a note, a path) for a terminal, where it is shown
/// inside tare's own text: every control character (C0 including line feed, tab and carriage
/// return; DEL; C1) and every bidirectional control becomes a visible escape: `\n`, `\t`,
/// `\r`, `\x1b` (C0 and DEL), `\u{9b}` (C1), `\u{202e}` (bidi). Data then cannot move the
/// cursor, clear the screen, set the window title, start a line of its own or reorder the
/// text around it. Backslashes are left as they are (a literal `\x1b` in the data reads the
/// same as an escaped ESC, and is as harmless).
pub fn terminal(s: &str) -> Cow<'_, str> {
    escape_for_terminal(s, false)
}

/// Escapes text for a terminal as [`terminal`] does, except that line feeds and tabs stay:
/// for whole messages and reports, whose layout is tare's own. The last line of defence for
/// everything tare prints; data placed in such text goes through [`terminal`] first.
pub fn terminal_text(s: &str) -> Cow<'_, str> {
    escape_for_terminal(s, true)
}

/// Makes serialized JSON text safe to show on a terminal without changing what it means: every
/// control character but line feed and tab, and every bidirectional control, becomes its
/// `\uXXXX` escape. serde_json already escapes C0 controls inside strings; DEL, C1 and the
/// bidi controls it leaves raw can only occur inside strings, where the escape is the same
/// value.
pub fn json_text(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| unsafe_for_terminal(c, true)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if unsafe_for_terminal(c, true) {
            // Every such character is in the basic multilingual plane: one \uXXXX.
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Cuts every line of `s` longer than `max` characters (at least 20) to its start and end
/// around a marker that says how long it was: `START…(cut: a line of N bytes)…END`, about
/// three quarters of `max` from the start and a quarter from the end. For messages that
/// quote input (a parser's error shows the offending line, which can be megabytes long).
pub fn clip_lines(s: &str, max: usize) -> Cow<'_, str> {
    let max = max.max(20);
    if !s.lines().any(|l| l.len() > max && l.chars().count() > max) {
        return Cow::Borrowed(s);
    }
    let head = max * 3 / 4;
    let tail = max - head;
    let mut out = String::with_capacity(s.len().min(max * 8));
    for (i, line) in s.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let chars = line.chars().count();
        if chars <= max {
            out.push_str(line);
            continue;
        }
        out.extend(line.chars().take(head));
        out.push_str(&format!("…(cut: a line of {} bytes)…", line.len()));
        out.extend(line.chars().skip(chars - tail));
    }
    Cow::Owned(out)
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

    #[test]
    fn terminal_escapes_every_control_and_bidi_character() {
        let hostile = "a\u{1b}[2Jb\u{1b}]0;pwned\u{7}c\rd\ne\tf\u{7f}g\u{9b}h\u{202e}i\u{2066}j";
        assert_eq!(
            terminal(hostile),
            "a\\x1b[2Jb\\x1b]0;pwned\\x07c\\rd\\ne\\tf\\x7fg\\u{9b}h\\u{202e}i\\u{2066}j"
        );
        assert_eq!(
            terminal_text(hostile),
            "a\\x1b[2Jb\\x1b]0;pwned\\x07c\\rd\ne\tf\\x7fg\\u{9b}h\\u{202e}i\\u{2066}j"
        );
        for out in [terminal(hostile), terminal_text(hostile)] {
            assert!(!out
                .chars()
                .any(|c| (c.is_control() && c != '\n' && c != '\t') || is_bidi_control(c)));
        }
        // Plain text (accents, emoji, backslashes) is borrowed unchanged.
        assert!(matches!(
            terminal("café ✓ C:\\x"),
            Cow::Borrowed("café ✓ C:\\x")
        ));
    }

    #[test]
    fn json_text_keeps_the_value() {
        let v = serde_json::json!({"name": "a\u{1b}]0;t\u{7}\u{7f}\u{9b}\u{202e}b", "n": 1});
        let text = serde_json::to_string_pretty(&v).unwrap();
        let safe = json_text(&text);
        assert!(!safe
            .chars()
            .any(|c| (c.is_control() && c != '\n' && c != '\t') || is_bidi_control(c)));
        assert!(
            safe.contains("\\u007f") && safe.contains("\\u202e"),
            "{safe}"
        );
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn long_lines_are_clipped_with_their_length() {
        let long = format!("start{}end", "x".repeat(2_000_000));
        let msg = format!("error: bad line\n1 | {long}\nexpected `=`");
        let clipped = clip_lines(&msg, 200);
        let lines: Vec<&str> = clipped.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0], "error: bad line");
        assert_eq!(lines[2], "expected `=`");
        assert!(lines[1].starts_with("1 | startxx"), "{}", lines[1]);
        assert!(lines[1].ends_with("xxend"), "{}", lines[1]);
        assert!(lines[1].contains("…(cut: a line of 2000012 bytes)…"));
        assert!(lines[1].chars().count() < 260);
        assert!(matches!(clip_lines("short\nlines", 200), Cow::Borrowed(_)));
    }
}
