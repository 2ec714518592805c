//! Attaches the loaded programs to their raw tracepoints (no tracefs needed).

use aya::programs::RawTracePoint;
use aya::Ebpf;
use capture_ebpf::names;

use super::load::classify;
use super::MonitorError;

/// Attaches every program; the links live in `ebpf` and go when it is dropped.
pub fn attach_all(ebpf: &mut Ebpf) -> Result<(), MonitorError> {
    for (name, tracepoint) in names::PROGRAMS {
        let prog: &mut RawTracePoint = ebpf
            .program_mut(name)
            .ok_or_else(|| MonitorError::Kernel {
                what: format!("finding program {name}"),
                detail: "missing".into(),
            })?
            .try_into()
            .map_err(|e| classify(&format!("program {name}"), &e))?;
        prog.attach(tracepoint).map_err(|e| {
            classify(
                &format!("attaching {name} to raw tracepoint {tracepoint}"),
                &e,
            )
        })?;
    }
    Ok(())
}

/// Kernel ids of the loaded programs (to check later that they are gone).
pub fn program_ids(ebpf: &Ebpf) -> Vec<u32> {
    ebpf.programs()
        .filter_map(|(_, p)| p.info().ok().map(|i| i.id()))
        .collect()
}
