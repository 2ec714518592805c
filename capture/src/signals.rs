//! SIGINT/SIGTERM as a flag: long runs stop at a safe point instead of dying mid-write; a second one asks to stop the running step too.

use std::sync::atomic::{AtomicU32, Ordering};

static STOPS: AtomicU32 = AtomicU32::new(0);

const FIRST: &[u8] = b"\ntare: stopping after the current sample (Ctrl-C again to stop it now)\n";

extern "C" fn on_stop(_sig: libc::c_int) {
    if STOPS.fetch_add(1, Ordering::SeqCst) == 0 {
        // SAFETY: write(2) is async-signal-safe; a static buffer.
        unsafe { libc::write(libc::STDERR_FILENO, FIRST.as_ptr().cast(), FIRST.len()) };
    }
}

/// From now on SIGINT and SIGTERM set the stop flag instead of killing the process.
pub fn install_stop_flag() {
    let handler = on_stop as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: the handler only touches an atomic and calls write(2), both async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, handler);
        libc::signal(libc::SIGTERM, handler);
    }
}

/// Whether a stop was asked for (one SIGINT/SIGTERM or more).
pub fn stop_requested() -> bool {
    STOPS.load(Ordering::SeqCst) >= 1
}

/// Whether the running step should stop too (a second SIGINT/SIGTERM).
pub fn abort_requested() -> bool {
    STOPS.load(Ordering::SeqCst) >= 2
}
