//! Attaches the loaded programs to their hooks (no tracefs, no kprobes); where fexit
//! programs cannot be attached, falls back to the raw syscall tracepoints.

use std::os::fd::OwnedFd;

use report_model::schema::health::SyscallHooks;

use super::load::{attach_program, classify, program_id, verify, Hook, Loaded, Program};
use super::MonitorError;

fn attach_one(p: &Program) -> Result<OwnedFd, MonitorError> {
    let _span =
        tracing::info_span!(target: "tare::monitor", "attach", program = %p.name, hook = %p.hook)
            .entered();
    attach_program(&p.hook, &p.fd)
        .map_err(|e| classify(&format!("attaching {} to {}", p.name, p.hook), &e))
}

/// Attaches every program; closing a returned link fd detaches its program.
///
/// When an fexit program cannot be attached (a kernel without fexit trampolines) and
/// `loaded` holds the fallback, its fexit programs are replaced by the raw syscall
/// tracepoints, and `loaded.hooks` and `loaded.notes` say so.
pub fn attach_all(loaded: &mut Loaded) -> Result<Vec<OwnedFd>, MonitorError> {
    let mut links = Vec::with_capacity(loaded.programs.len());
    for i in 0..loaded.programs.len() {
        let p = &loaded.programs[i];
        match attach_one(p) {
            Ok(link) => links.push(link),
            Err(e @ MonitorError::Kernel { .. })
                if matches!(p.hook, Hook::Fexit { .. }) && !loaded.fallback.is_empty() =>
            {
                // The raw tracepoints come first: keep them and their links, drop the rest.
                let raw = loaded
                    .programs
                    .iter()
                    .take_while(|p| matches!(p.hook, Hook::RawTracepoint(_)))
                    .count();
                links.truncate(raw);
                loaded.programs.truncate(raw);
                for r in verify(&std::mem::take(&mut loaded.fallback)) {
                    let p = r?;
                    links.push(attach_one(&p)?);
                    loaded.programs.push(p);
                }
                loaded.hooks = SyscallHooks::RawTracepoint;
                loaded
                    .notes
                    .push(format!("syscalls hooked with raw tracepoints: {e}"));
                return Ok(links);
            }
            Err(e) => return Err(e),
        }
    }
    Ok(links)
}

/// Kernel ids of the programs (to check later that they are gone).
pub fn program_ids(programs: &[Program]) -> Vec<u32> {
    programs
        .iter()
        .filter_map(|p| program_id(&p.fd).ok())
        .collect()
}
