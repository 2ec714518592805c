//! Loads the embedded eBPF object: globals set, ring buffer sized, programs verified.

use std::error::Error as StdError;
use std::io;

use aya::programs::RawTracePoint;
use aya::{Ebpf, EbpfLoader};
use capture_ebpf::{globals, names};

use super::btf::KernelOffsets;
use super::{MonitorConfig, MonitorError};

/// The eBPF object built by capture/build.rs (empty when built with TARE_SKIP_EBPF=1).
static EBPF_OBJECT: &[u8] = aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/capture-ebpf"));

/// Whether this binary carries the eBPF programs.
pub fn object_available() -> bool {
    !EBPF_OBJECT.is_empty()
}

/// Checks a ring buffer size: a power of two and a multiple of the page size.
pub fn validate_ringbuf_bytes(bytes: u32, page_size: u32) -> Result<(), MonitorError> {
    if bytes == 0 || !bytes.is_power_of_two() || bytes % page_size != 0 {
        return Err(MonitorError::Config(format!(
            "ring buffer size {bytes} must be a power of two and a multiple of the page size ({page_size})"
        )));
    }
    Ok(())
}

pub(crate) fn page_size() -> u32 {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u32::try_from(p).unwrap_or(4096)
}

/// Finds an `io::Error` with EPERM/EACCES in an error's source chain.
fn permission_denied(e: &(dyn StdError + 'static)) -> bool {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<io::Error>() {
            if matches!(io.raw_os_error(), Some(libc::EPERM) | Some(libc::EACCES)) {
                return true;
            }
        }
        cur = err.source();
    }
    false
}

fn chain(e: &(dyn StdError + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(err) = cur {
        s.push_str(": ");
        s.push_str(&err.to_string());
        cur = err.source();
    }
    s
}

pub(crate) fn classify(what: &str, e: &(dyn StdError + 'static)) -> MonitorError {
    if permission_denied(e) {
        MonitorError::Permission {
            what: what.to_string(),
            detail: chain(e),
        }
    } else {
        MonitorError::Kernel {
            what: what.to_string(),
            detail: chain(e),
        }
    }
}

/// Creates the maps and loads (verifies) every program; nothing is attached yet.
pub fn load(cfg: &MonitorConfig, offs: &KernelOffsets) -> Result<Ebpf, MonitorError> {
    if !object_available() {
        return Err(MonitorError::NotBuilt);
    }
    validate_ringbuf_bytes(cfg.ringbuf_bytes, page_size())?;
    let exit_group_dead = u32::from(offs.exit_has_group_dead);
    let mut loader = EbpfLoader::new();
    // No CO-RE relocations: skip parsing the kernel's BTF (~20 ms).
    loader
        .btf(None)
        .override_global(globals::SESSION_CGROUP_ID, &cfg.session_cgroup_id, true)
        .override_global(globals::SESSION_LEVEL, &cfg.session_level, true)
        .override_global(globals::TASK_PID_OFF, &offs.task_pid, true)
        .override_global(globals::TASK_TGID_OFF, &offs.task_tgid, true)
        .override_global(globals::TASK_REAL_PARENT_OFF, &offs.task_real_parent, true)
        .override_global(globals::TASK_EXIT_CODE_OFF, &offs.task_exit_code, true)
        .override_global(globals::BPRM_FILENAME_OFF, &offs.bprm_filename, true)
        .override_global(globals::EXIT_HAS_GROUP_DEAD, &exit_group_dead, true)
        .map_max_entries(names::EVENTS, cfg.ringbuf_bytes);
    let mut ebpf = loader
        .load(EBPF_OBJECT)
        .map_err(|e| classify("creating the eBPF maps", &e))?;
    for (name, _) in names::PROGRAMS {
        let prog: &mut RawTracePoint = ebpf
            .program_mut(name)
            .ok_or_else(|| MonitorError::Kernel {
                what: format!("finding program {name}"),
                detail: "not in the embedded object (rebuild tare)".into(),
            })?
            .try_into()
            .map_err(|e| classify(&format!("program {name}"), &e))?;
        prog.load()
            .map_err(|e| classify(&format!("loading program {name}"), &e))?;
    }
    Ok(ebpf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ringbuf_sizes() {
        assert!(validate_ringbuf_bytes(4096, 4096).is_ok());
        assert!(validate_ringbuf_bytes(8 << 20, 4096).is_ok());
        for bad in [0, 1000, 4096 * 3, 2048] {
            assert!(validate_ringbuf_bytes(bad, 4096).is_err(), "{bad}");
        }
    }

    #[test]
    fn eperm_is_recognised_through_the_chain() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] io::Error);
        let e = Outer(io::Error::from_raw_os_error(libc::EPERM));
        assert!(matches!(classify("x", &e), MonitorError::Permission { .. }));
        let msg = classify("x", &e).to_string();
        assert!(msg.contains("root") && msg.contains("CAP_BPF"), "{msg}");
        let e = Outer(io::Error::from_raw_os_error(libc::EINVAL));
        assert!(matches!(classify("x", &e), MonitorError::Kernel { .. }));
    }
}
