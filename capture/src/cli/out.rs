//! What tare prints: every line escaped for the terminal, error messages clipped, and a closed stdout ended quietly (exit 141).
//!
//! Command output goes to stdout through [`line`], [`text`] and [`json`] (or the [`outln!`]
//! macro); messages go to stderr through [`note`] and [`error`] (or [`errln!`]). Everything
//! passes [`escape::terminal_text`], so nothing read from input (an archive's id, a span
//! name, a path) can reach the terminal as a control sequence; data placed inside tare's own
//! text goes through [`esc`] first, so it cannot start a line of its own either.
//!
//! A reader that goes away (`tare verify X | head -0`) makes the next write fail with EPIPE
//! (Rust ignores SIGPIPE): that is [`StdoutClosed`], which [`crate::cli::run`] turns into
//! exit status [`EXIT_STDOUT_CLOSED`] without a message, as a shell reports coreutils killed
//! by SIGPIPE.

use std::borrow::Cow;
use std::io::{self, Write};

use report_model::render::escape;

/// Exit status when stdout was closed before everything was written: 128 + SIGPIPE, what a
/// shell reports for `cat` or `ls` killed by SIGPIPE (`set -o pipefail` sees a failure).
pub const EXIT_STDOUT_CLOSED: i32 = 141;

/// The longest line of an error message, in characters; longer ones are clipped (a parser's
/// error quotes the offending line of the input, which can be megabytes).
pub const ERROR_LINE_MAX: usize = 1000;

/// Standard output was closed by its reader: nothing more to say, nobody to say it to.
#[derive(Debug, thiserror::Error)]
#[error("standard output was closed")]
pub struct StdoutClosed;

/// A data string (a name, an id, a path) escaped for the terminal: controls, line breaks and
/// bidi controls become visible escapes.
pub fn esc(s: &str) -> Cow<'_, str> {
    escape::terminal(s)
}

fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Err(StdoutClosed.into()),
        Err(e) => Err(anyhow::Error::new(e).context("cannot write to standard output")),
    }
}

/// Prints `s` on stdout as it is but escaped for the terminal (line feeds and tabs kept).
pub fn text(s: &str) -> anyhow::Result<()> {
    write_stdout(escape::terminal_text(s).as_bytes())
}

/// Prints `s` and a line feed on stdout, escaped for the terminal (line feeds and tabs kept).
pub fn line(s: &str) -> anyhow::Result<()> {
    let mut t = escape::terminal_text(s).into_owned();
    t.push('\n');
    write_stdout(t.as_bytes())
}

/// Prints serialized JSON on stdout; DEL, C1 and bidi controls become `\uXXXX` escapes, the
/// same JSON value.
pub fn json(s: &str) -> anyhow::Result<()> {
    write_stdout(escape::json_text(s).as_bytes())
}

/// Prints `s` and a line feed on stderr, escaped for the terminal. A failing stderr is
/// ignored: there is nowhere left to report it.
pub fn note(s: &str) {
    let mut t = escape::terminal_text(s).into_owned();
    t.push('\n');
    let _ = io::stderr().lock().write_all(t.as_bytes());
}

/// Prints an error message on stderr: escaped for the terminal, every line clipped to
/// [`ERROR_LINE_MAX`] characters.
pub fn error(s: &str) {
    note(&escape::clip_lines(s, ERROR_LINE_MAX));
}

/// `println!` for command output: escaped, and `Err(StdoutClosed)` when the reader has gone.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::out::line(&format!($($arg)*))
    };
}
pub(crate) use outln;

/// `eprintln!` for tare's messages: escaped for the terminal.
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::cli::out::note(&format!($($arg)*))
    };
}
pub(crate) use errln;

/// `eprintln!` for error messages: escaped, and long lines (quoted input) clipped.
macro_rules! failln {
    ($($arg:tt)*) => {
        $crate::cli::out::error(&format!($($arg)*))
    };
}
pub(crate) use failln;
