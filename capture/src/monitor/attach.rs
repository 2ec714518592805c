//! Attaches the loaded programs to their hooks (no tracefs, no kprobes); where the
//! syscall programs cannot be attached, falls back to the next hook set.

use std::os::fd::OwnedFd;

use super::load::{attach_program, classify, next_loadable_set, program_id, Hook, Loaded, Program};
use super::MonitorError;

fn attach_one(p: &Program) -> Result<OwnedFd, MonitorError> {
    let _span =
        tracing::info_span!(target: "tare::monitor", "attach", program = %p.name, hook = %p.hook)
            .entered();
    attach_program(&p.hook, &p.fd)
        .map_err(|e| match e.raw_os_error() {
            // The kernel's ENOTSUPP, which libc has no text for.
            Some(524) => std::io::Error::other(
                "ENOTSUPP (524): this kernel cannot attach such programs here, as a kernel \
                 without fexit trampolines for its architecture",
            ),
            _ => e,
        })
        .map_err(|e| classify(&format!("attaching {} to {}", p.name, p.hook), &e))
}

/// Attaches every program; closing a returned link fd detaches its program.
///
/// When a syscall program cannot be attached (a kernel without fexit trampolines) and
/// `loaded` holds a fallback, the syscall programs are replaced by the next set, and
/// `loaded.hooks` and `loaded.notes` say so.
pub fn attach_all(loaded: &mut Loaded) -> Result<Vec<OwnedFd>, MonitorError> {
    let mut links = Vec::with_capacity(loaded.programs.len());
    let mut i = 0;
    while i < loaded.programs.len() {
        let p = &loaded.programs[i];
        match attach_one(p) {
            Ok(link) => links.push(link),
            Err(e @ MonitorError::Kernel { .. })
                if !matches!(p.hook, Hook::RawTracepoint(_)) && !loaded.fallback.is_empty() =>
            {
                // The scheduler's raw tracepoints come first: keep them and their links,
                // replace the syscall programs with the next set, and go on from there.
                let sched = loaded
                    .programs
                    .iter()
                    .take_while(|p| matches!(p.hook, Hook::RawTracepoint(_)))
                    .count();
                links.truncate(sched);
                loaded.programs.truncate(sched);
                // The next set that the verifier takes (arm64's 6.1 refuses fexit at attach
                // time, with ENOTSUPP, then may refuse tp_btf at load time).
                let (next, programs) =
                    next_loadable_set(&mut loaded.fallback, e.to_string(), &mut loaded.notes)
                        .map_err(|(_, e)| e)?;
                loaded.programs.extend(programs);
                loaded.hooks = next;
                i = sched;
                continue;
            }
            Err(e) => return Err(e),
        }
        i += 1;
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
