//! Attaches the loaded programs to their raw tracepoints (no tracefs, no kprobes).

use std::os::fd::OwnedFd;

use super::load::{classify, program_id, raw_tracepoint_open};
use super::MonitorError;

/// Attaches every program; closing a returned link fd detaches its program.
pub fn attach_all(
    programs: &[(&'static str, &'static str, OwnedFd)],
) -> Result<Vec<OwnedFd>, MonitorError> {
    programs
        .iter()
        .map(|(name, tracepoint, prog)| {
            let _span =
                tracing::info_span!(target: "tare::monitor", "attach", program = %name, tracepoint = %tracepoint)
                    .entered();
            raw_tracepoint_open(tracepoint, prog).map_err(|e| {
                classify(
                    &format!("attaching {name} to raw tracepoint {tracepoint}"),
                    &e,
                )
            })
        })
        .collect()
}

/// Kernel ids of the programs (to check later that they are gone).
pub fn program_ids(programs: &[(&'static str, &'static str, OwnedFd)]) -> Vec<u32> {
    programs
        .iter()
        .filter_map(|(_, _, fd)| program_id(fd).ok())
        .collect()
}
