//! Loads the embedded eBPF object: maps created, globals set, programs verified.
//!
//! Why not `aya::EbpfLoader`: its constructor always parses the kernel's whole
//! BTF (`Btf::from_sys_fs()` in `EbpfLoader::new`, ~20 ms here, even when
//! `.btf(None)` follows), and our programs need no CO-RE. So the object is
//! parsed and relocated with `aya-obj` (aya's own ELF layer), maps are created
//! with `aya::maps::MapData::create`, and the programs are loaded with a plain
//! `BPF_PROG_LOAD`: raw tracepoints for exec, fork and exit, and for the syscalls
//! one fexit program per syscall (or, where fexit is not available, one program
//! on `sys_exit`: tp_btf, else raw). Userspace still reads the maps through aya
//! (`RingBuf`, `PerCpuArray`).

use std::collections::{HashMap, HashSet};
use std::error::Error as StdError;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;
use std::time::Instant;

use aya::maps::{Map, MapData, PerCpuArray, RingBuf};
use aya_obj::generated::{bpf_attach_type, bpf_cmd, bpf_insn, bpf_prog_type};
use aya_obj::{EbpfSectionKind, Object};
use capture_ebpf::{globals, names};
use report_model::schema::health::SyscallHooks;

use super::btf::{kernel_offsets_cached, KernelOffsets};
use super::{HookChoice, MonitorConfig, MonitorError};

/// The eBPF object built by capture/build.rs (empty when built with TARE_SKIP_EBPF=1).
static EBPF_OBJECT: &[u8] = aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/capture-ebpf"));

/// Whether this binary carries the eBPF programs.
pub fn object_available() -> bool {
    !EBPF_OBJECT.is_empty()
}

/// Checks a ring buffer size: a power of two and a multiple of the page size.
pub fn validate_ringbuf_bytes(bytes: u32, page_size: u32) -> Result<(), MonitorError> {
    if bytes == 0 || !bytes.is_power_of_two() || !bytes.is_multiple_of(page_size) {
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
        let next = err.to_string();
        if !s.contains(&next) {
            s.push_str(": ");
            s.push_str(&next);
        }
        cur = err.source();
    }
    s
}

/// Turns an error into [`MonitorError::Permission`] when it is EPERM/EACCES, else `Kernel`.
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

/// One `bpf(2)` call.
fn sys_bpf<T>(cmd: bpf_cmd, attr: &mut T) -> io::Result<i64> {
    // SAFETY: `attr` is a #[repr(C)] prefix of `union bpf_attr` for `cmd`, and its
    // size is passed; the kernel zero-extends the rest.
    let r = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd as libc::c_long,
            attr as *mut T as *mut libc::c_void,
            std::mem::size_of::<T>(),
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn owned(fd: i64) -> OwnedFd {
    // SAFETY: a fresh fd returned by bpf(2), owned by nobody else.
    unsafe { OwnedFd::from_raw_fd(fd as i32) }
}

/// `union bpf_attr` for BPF_PROG_LOAD, up to `attach_btf_obj_fd`.
#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
    prog_btf_fd: u32,
    func_info_rec_size: u32,
    func_info: u64,
    func_info_cnt: u32,
    line_info_rec_size: u32,
    line_info: u64,
    line_info_cnt: u32,
    attach_btf_id: u32,
    attach_btf_obj_fd: u32,
}

/// `union bpf_attr` for BPF_MAP_UPDATE_ELEM.
#[repr(C)]
struct MapElemAttr {
    map_fd: u32,
    _pad: u32,
    key: u64,
    value: u64,
    flags: u64,
}

/// `union bpf_attr` for BPF_MAP_FREEZE.
#[repr(C)]
struct MapFdAttr {
    map_fd: u32,
}

/// `union bpf_attr` for BPF_RAW_TRACEPOINT_OPEN.
#[repr(C)]
struct RawTpAttr {
    name: u64,
    prog_fd: u32,
    _pad: u32,
}

/// `union bpf_attr` for BPF_OBJ_GET_INFO_BY_FD.
#[repr(C)]
struct InfoAttr {
    bpf_fd: u32,
    info_len: u32,
    info: u64,
}

fn prog_load(code: &Code, log: Option<&mut Vec<u8>>) -> io::Result<OwnedFd> {
    let (prog_type, expected_attach_type, attach_btf_id) = match code.hook {
        Hook::RawTracepoint(_) => (bpf_prog_type::BPF_PROG_TYPE_RAW_TRACEPOINT, 0, 0),
        Hook::BtfTracepoint { btf_id, .. } => (
            bpf_prog_type::BPF_PROG_TYPE_TRACING,
            bpf_attach_type::BPF_TRACE_RAW_TP as u32,
            btf_id,
        ),
        Hook::Fexit { btf_id, .. } => (
            bpf_prog_type::BPF_PROG_TYPE_TRACING,
            bpf_attach_type::BPF_TRACE_FEXIT as u32,
            btf_id,
        ),
    };
    let (name, insns) = (code.name, &code.insns);
    let mut attr = ProgLoadAttr {
        prog_type: prog_type as u32,
        insn_cnt: insns.len() as u32,
        insns: insns.as_ptr() as u64,
        license: code.license.as_ptr() as u64,
        expected_attach_type,
        attach_btf_id,
        ..ProgLoadAttr::default()
    };
    let n = name.len().min(15);
    attr.prog_name[..n].copy_from_slice(&name.as_bytes()[..n]);
    if let Some(buf) = log {
        attr.log_level = 1;
        attr.log_size = buf.len() as u32;
        attr.log_buf = buf.as_mut_ptr() as u64;
    }
    sys_bpf(bpf_cmd::BPF_PROG_LOAD, &mut attr).map(owned)
}

/// Attaches a loaded program to its hook; closing the returned link fd detaches it.
/// A raw tracepoint is named; the target of the BTF-typed ones was fixed when they were loaded.
pub(crate) fn attach_program(hook: &Hook, prog: &OwnedFd) -> io::Result<OwnedFd> {
    let name = match hook {
        Hook::RawTracepoint(tp) => {
            Some(CString::new(*tp).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?)
        }
        Hook::Fexit { .. } | Hook::BtfTracepoint { .. } => None,
    };
    let mut attr = RawTpAttr {
        name: name.as_ref().map_or(0, |n| n.as_ptr() as u64),
        prog_fd: prog.as_raw_fd() as u32,
        _pad: 0,
    };
    sys_bpf(bpf_cmd::BPF_RAW_TRACEPOINT_OPEN, &mut attr).map(owned)
}

/// The kernel id of a program (from `bpf_prog_info`, whose second field is the id).
pub(crate) fn program_id(prog: &OwnedFd) -> io::Result<u32> {
    let mut info = [0u32; 2];
    let mut attr = InfoAttr {
        bpf_fd: prog.as_raw_fd() as u32,
        info_len: 8,
        info: info.as_mut_ptr() as u64,
    };
    sys_bpf(bpf_cmd::BPF_OBJ_GET_INFO_BY_FD, &mut attr)?;
    Ok(info[1])
}

/// Writes a global-data map's initial value (key 0) and freezes it when read-only.
fn finalize_data_map(map: &MapData, data: &[u8], rodata: bool) -> io::Result<()> {
    let fd = map.fd().as_fd().as_raw_fd() as u32;
    if !data.is_empty() {
        let key = 0u32;
        let mut attr = MapElemAttr {
            map_fd: fd,
            _pad: 0,
            key: &key as *const u32 as u64,
            value: data.as_ptr() as u64,
            flags: 0,
        };
        sys_bpf(bpf_cmd::BPF_MAP_UPDATE_ELEM, &mut attr)?;
    }
    if rodata {
        sys_bpf(bpf_cmd::BPF_MAP_FREEZE, &mut MapFdAttr { map_fd: fd })?;
    }
    Ok(())
}

/// Where a program is attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    /// A raw tracepoint, by name.
    RawTracepoint(&'static str),
    /// A raw tracepoint typed by BTF (tp_btf): its typedef's BTF type id is `btf_id`.
    BtfTracepoint {
        tracepoint: &'static str,
        btf_id: u32,
    },
    /// fexit on the entry function of `syscall`, whose BTF type id is `btf_id`.
    Fexit { syscall: &'static str, btf_id: u32 },
}

impl std::fmt::Display for Hook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Hook::RawTracepoint(tp) => write!(f, "raw tracepoint {tp}"),
            Hook::BtfTracepoint { tracepoint, .. } => write!(f, "BTF tracepoint {tracepoint}"),
            Hook::Fexit { syscall, .. } => write!(f, "fexit of syscall {syscall}"),
        }
    }
}

/// One program's relocated instructions, ready to be verified.
#[derive(Clone)]
pub struct Code {
    pub name: &'static str,
    pub hook: Hook,
    pub insns: Vec<bpf_insn>,
    pub license: CString,
}

/// A verified program and its hook.
pub struct Program {
    pub name: &'static str,
    pub hook: Hook,
    pub fd: OwnedFd,
}

/// Everything loaded and verified, nothing attached yet.
pub struct Loaded {
    /// The ring buffer, mapped into this process (mapping its pages takes a while, so it is
    /// done here, before anything is attached).
    pub ring: RingBuf<MapData>,
    /// The per-CPU counters map.
    pub counters: PerCpuArray<MapData, u64>,
    /// The verified programs: the scheduler's, then the syscalls'.
    pub programs: Vec<Program>,
    /// How the syscalls are hooked by `programs`.
    pub hooks: SyscallHooks,
    /// The next hook sets to try, unverified, in case the syscall programs cannot be
    /// attached (only when the choice was `Auto`).
    pub fallback: HookSets,
    /// Why the preferred hooks are not in use, when they are not.
    pub notes: Vec<String>,
    /// The other maps (held by the programs too; kept until unload for clarity).
    pub other_maps: Vec<MapData>,
}

/// Pending bytes from which an event wakes the consumer: a quarter of the ring.
pub fn wakeup_bytes(ringbuf_bytes: u32) -> u64 {
    u64::from(ringbuf_bytes / 4)
}

/// Where the load time went (the steps overlap: see [`load`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadTimings {
    /// Kernel struct offsets (per-boot cache, else BTF).
    pub offsets: std::time::Duration,
    /// Whether the offsets came from the per-boot cache.
    pub offsets_cached: bool,
    /// Map creation (the ring buffer on its own thread, the others with the offsets).
    pub maps: std::time::Duration,
    /// Program verification, two programs at a time.
    pub programs: std::time::Duration,
}

type Created = Vec<(String, MapData, aya_obj::Map)>;

fn create_map(
    name: &str,
    m: aya_obj::Map,
) -> Result<(String, MapData, aya_obj::Map), MonitorError> {
    let kind = m.section_kind();
    let data = m.data().to_vec();
    let def = m.clone();
    let map = MapData::create(m, name, None)
        .map_err(|e| classify(&format!("creating eBPF map {name}"), &e))?;
    if matches!(kind, EbpfSectionKind::Rodata | EbpfSectionKind::Data) {
        finalize_data_map(&map, &data, kind == EbpfSectionKind::Rodata)
            .map_err(|e| classify(&format!("initialising eBPF map {name}"), &e))?;
    }
    Ok((name.to_string(), map, def))
}

fn bad_object(what: &str, e: &dyn std::fmt::Display) -> MonitorError {
    MonitorError::Kernel {
        what: what.to_string(),
        detail: format!("{e} (the embedded eBPF object is broken: rebuild tare)"),
    }
}

/// Verifies one program; on rejection, loads it again with the verifier log for the error.
fn load_program(parent: &tracing::Span, code: &Code) -> Result<Program, MonitorError> {
    let name = code.name;
    let _span = tracing::info_span!(target: "tare::monitor", parent: parent, "program_load", program = %name, insns = code.insns.len() as i64).entered();
    match prog_load(code, None) {
        Ok(fd) => Ok(Program {
            name,
            hook: code.hook,
            fd,
        }),
        Err(e) if matches!(e.raw_os_error(), Some(libc::EPERM) | Some(libc::EACCES)) => {
            Err(MonitorError::Permission {
                what: format!("loading program {name}"),
                detail: e.to_string(),
            })
        }
        Err(e) => {
            let mut log = vec![0u8; 1 << 20];
            let _ = prog_load(code, Some(&mut log));
            let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
            let text = String::from_utf8_lossy(&log[..end]);
            let lines: Vec<&str> = text.lines().collect();
            let tail = lines[lines.len().saturating_sub(30)..].join("\n");
            Err(MonitorError::Kernel {
                what: format!("the kernel rejected program {name} ({})", code.hook),
                detail: format!("{e}; verifier log (end):\n{tail}"),
            })
        }
    }
}

/// Creates the maps and loads (verifies) every program.
///
/// On two or more CPUs the steps overlap: the ring buffer is created on its
/// own thread while the kernel offsets are read and the other maps made, and
/// the programs are verified two at a time (see [`verify`]).
pub fn load(
    cfg: &MonitorConfig,
    btf: &Path,
    cache: &Path,
) -> Result<(Loaded, LoadTimings), MonitorError> {
    if !object_available() {
        return Err(MonitorError::NotBuilt);
    }
    validate_ringbuf_bytes(cfg.ringbuf_bytes, page_size())?;
    let mut timings = LoadTimings::default();
    let mut obj = tracing::info_span!(target: "tare::monitor", "object_parse", bytes = EBPF_OBJECT.len() as i64)
        .in_scope(|| Object::parse(EBPF_OBJECT))
        .map_err(|e| bad_object("parsing the eBPF object", &e))?;

    // The ring buffer (zeroed pages: the slowest map to create) is made on its
    // own thread while this one reads the offsets and makes the other maps.
    let mut ring_def = obj
        .maps
        .get(names::EVENTS)
        .cloned()
        .ok_or_else(|| bad_object("finding a map", &names::EVENTS))?;
    ring_def.set_max_entries(cfg.ringbuf_bytes);
    let plain: Vec<(String, aya_obj::Map)> = obj
        .maps
        .iter()
        .filter(|(name, m)| {
            name.as_str() != names::EVENTS
                && !matches!(
                    m.section_kind(),
                    EbpfSectionKind::Rodata | EbpfSectionKind::Data | EbpfSectionKind::Bss
                )
        })
        .map(|(n, m)| (n.clone(), m.clone()))
        .collect();
    let (ring, created, offsets) = std::thread::scope(|scope| {
        let ring = scope.spawn(move || {
            let t = Instant::now();
            (create_map(names::EVENTS, ring_def), t.elapsed())
        });
        let t = Instant::now();
        let offsets = kernel_offsets_cached(btf, cache);
        timings.offsets = t.elapsed();
        let created: Result<Created, MonitorError> =
            plain.into_iter().map(|(n, m)| create_map(&n, m)).collect();
        let (ring, ring_time) = ring.join().unwrap_or_else(|_| {
            (
                Err(MonitorError::Kernel {
                    what: "creating the ring buffer".into(),
                    detail: "the thread panicked".into(),
                }),
                Default::default(),
            )
        });
        timings.maps = t.elapsed().max(ring_time);
        (ring, created, offsets)
    });
    let mut created = created?;
    created.push(ring?);
    let (offs, cached) = offsets?;
    timings.offsets_cached = cached;

    let group_dead = u32::from(offs.exit_has_group_dead);
    let wakeup = wakeup_bytes(cfg.ringbuf_bytes);
    let values: [(&str, &[u8]); 11] = [
        (
            globals::SESSION_CGROUP_ID,
            &cfg.session_cgroup_id.to_ne_bytes(),
        ),
        (globals::SESSION_LEVEL, &cfg.session_level.to_ne_bytes()),
        (globals::TASK_PID_OFF, &offs.task_pid.to_ne_bytes()),
        (globals::TASK_TGID_OFF, &offs.task_tgid.to_ne_bytes()),
        (
            globals::TASK_REAL_PARENT_OFF,
            &offs.task_real_parent.to_ne_bytes(),
        ),
        (
            globals::TASK_EXIT_CODE_OFF,
            &offs.task_exit_code.to_ne_bytes(),
        ),
        (
            globals::BPRM_FILENAME_OFF,
            &offs.bprm_filename.to_ne_bytes(),
        ),
        (globals::BPRM_BUF_OFF, &offs.bprm_buf.to_ne_bytes()),
        (
            globals::TASK_TI_STATUS_OFF,
            &offs.task_ti_status.to_ne_bytes(),
        ),
        (globals::EXIT_HAS_GROUP_DEAD, &group_dead.to_ne_bytes()),
        (globals::WAKEUP_BYTES, &wakeup.to_ne_bytes()),
    ];
    let patches: HashMap<&str, (&[u8], bool)> =
        values.iter().map(|(k, v)| (*k, (*v, true))).collect();
    obj.patch_map_data(patches)
        .map_err(|e| bad_object("setting the eBPF globals", &e))?;
    let data_maps: Vec<(String, aya_obj::Map)> = obj
        .maps
        .iter()
        .filter(|(n, _)| !created.iter().any(|(c, _, _)| c == *n))
        .map(|(n, m)| (n.clone(), m.clone()))
        .collect();
    for (name, m) in data_maps {
        created.push(create_map(&name, m)?);
    }

    let text_sections: HashSet<usize> = obj.functions.keys().map(|(section, _)| *section).collect();
    let relocate = tracing::info_span!(target: "tare::monitor", "relocate").entered();
    obj.relocate_maps(
        created
            .iter()
            .map(|(n, m, def)| (n.as_str(), m.fd().as_fd().as_raw_fd(), def)),
        &text_sections,
    )
    .map_err(|e| bad_object("relocating map references", &e))?;
    obj.relocate_calls(&text_sections)
        .map_err(|e| bad_object("relocating calls", &e))?;

    drop(relocate);
    let code_of = |name: &'static str, hook: Hook| -> Result<Code, MonitorError> {
        let prog = obj
            .programs
            .get(name)
            .ok_or_else(|| bad_object("finding a program", &name))?;
        let func = obj
            .functions
            .get(&prog.function_key())
            .ok_or_else(|| bad_object("finding a function", &name))?;
        Ok(Code {
            name,
            hook,
            insns: func.instructions.clone(),
            license: prog.license.clone(),
        })
    };
    let mut code: Vec<Code> = names::SCHED_PROGRAMS
        .iter()
        .map(|&(name, tp)| code_of(name, Hook::RawTracepoint(tp)))
        .collect::<Result<_, _>>()?;
    let sched = code.len();
    let mut sets = Vec::new();
    for (hooks, programs) in candidates(cfg.syscall_hooks, &offs)? {
        let code = programs
            .into_iter()
            .map(|(name, hook)| code_of(name, hook))
            .collect::<Result<Vec<_>, _>>()?;
        sets.push((hooks, code));
    }
    let mut notes = Vec::new();
    // Where fexit is refused (as by this project's test kernel), finding out from the 15
    // programs would put the fallback's verification after theirs: a 2-instruction probe
    // finds out first, in microseconds.
    if sets.len() > 1 && sets[0].0 == SyscallHooks::Fexit {
        if let Some(why) = refused(&sets[0].1[0].hook) {
            sets.remove(0);
            notes.push(format!(
                "syscalls hooked with {}: {why}",
                sets[0].0.as_str()
            ));
        }
    }
    let (mut hooks, first) = sets.remove(0);
    code.extend(first);
    let t = Instant::now();
    let mut results = verify(&code);
    // A kernel that refuses a hook set (too old, no trampolines, or a policy against fexit:
    // EPERM, though the raw tracepoints of the same batch loaded, so not tare's privileges)
    // gets the next one.
    let sched_loaded = results[..sched].iter().all(Result::is_ok);
    let why = results[sched..]
        .iter()
        .find_map(|r| r.as_ref().err().map(|e| refusal(hooks, e)));
    if let (true, Some(why), false) = (sched_loaded, why, sets.is_empty()) {
        results.truncate(sched);
        match next_loadable_set(&mut sets, why, &mut notes) {
            Ok((next, programs)) => {
                results.extend(programs.into_iter().map(Ok));
                hooks = next;
            }
            Err((last, e)) => {
                results.push(Err(e));
                hooks = last;
            }
        }
    }
    timings.programs = t.elapsed();
    let programs = match results.into_iter().collect::<Result<Vec<_>, _>>() {
        Ok(p) => p,
        Err(e @ MonitorError::Permission { .. }) if sched_loaded => {
            return Err(MonitorError::Kernel {
                what: format!(
                    "hooking the syscalls with {} (--syscall-hooks)",
                    hooks.as_str()
                ),
                detail: format!("{}; use --syscall-hooks auto", refusal(hooks, &e)),
            })
        }
        Err(e) => return Err(e),
    };
    let fallback = sets;

    let mut ring = None;
    let mut counters = None;
    let mut other_maps = Vec::new();
    for (name, m, _) in created {
        match name.as_str() {
            n if n == names::EVENTS => ring = Some(m),
            n if n == names::COUNTERS => counters = Some(m),
            _ => other_maps.push(m),
        }
    }
    let missing = |n: &str| bad_object("finding a map", &n.to_string());
    let ring = RingBuf::try_from(Map::RingBuf(ring.ok_or_else(|| missing(names::EVENTS))?))
        .map_err(|e| classify("mapping the ring buffer", &e))?;
    let counters = PerCpuArray::try_from(Map::PerCpuArray(
        counters.ok_or_else(|| missing(names::COUNTERS))?,
    ))
    .map_err(|e| classify("opening the counters", &e))?;
    let loaded = Loaded {
        ring,
        counters,
        programs,
        hooks,
        fallback,
        notes,
        other_maps,
    };
    Ok((loaded, timings))
}

/// The hook sets not yet tried, best first, each with its unverified programs.
pub type HookSets = Vec<(SyscallHooks, Vec<Code>)>;

/// Verifies the sets of `sets` in order until one loads whole, and returns it: `why` says
/// why the set before them is not used, and every set taken or passed over adds a note.
/// When none loads, the last set and its error. `sets` must not be empty.
pub(crate) fn next_loadable_set(
    sets: &mut HookSets,
    mut why: String,
    notes: &mut Vec<String>,
) -> Result<(SyscallHooks, Vec<Program>), (SyscallHooks, MonitorError)> {
    loop {
        let (next, code) = sets.remove(0);
        notes.push(format!("syscalls hooked with {}: {why}", next.as_str()));
        match verify(&code).into_iter().collect::<Result<Vec<_>, _>>() {
            Ok(programs) => return Ok((next, programs)),
            Err(e) if !sets.is_empty() => why = refusal(next, &e),
            Err(e) => return Err((next, e)),
        }
    }
}

/// Why the kernel refuses programs on `hook`, if it does: an empty program (`r0 = 0;
/// exit`) is loaded there and dropped.
fn refused(hook: &Hook) -> Option<String> {
    let insn = |code: u8| bpf_insn {
        code,
        _bitfield_align_1: [],
        _bitfield_1: bpf_insn::new_bitfield_1(0, 0),
        off: 0,
        imm: 0,
    };
    let probe = Code {
        name: "tare_probe",
        hook: *hook,
        // BPF_ALU64 | BPF_MOV | BPF_K (r0 = 0), BPF_JMP | BPF_EXIT.
        insns: vec![insn(0xb7), insn(0x95)],
        license: CString::new("GPL").unwrap_or_default(),
    };
    match prog_load(&probe, None) {
        Ok(_) => None,
        Err(e) => Some(format!(
            "the kernel refuses {} programs ({hook}: {e}; a kernel policy when the \
             raw tracepoints load)",
            match hook {
                Hook::Fexit { .. } => "fexit",
                Hook::BtfTracepoint { .. } => "tp_btf",
                Hook::RawTracepoint(_) => "raw tracepoint",
            }
        )),
    }
}

/// The syscall hooks `--syscall-hooks auto` would take here, and why not better ones: each
/// set's target is probed with an empty program (for `tare doctor`; needs root).
pub fn probe_hooks(offs: &KernelOffsets) -> (SyscallHooks, Vec<String>) {
    let mut notes = Vec::new();
    let sets = candidates(HookChoice::Auto, offs).unwrap_or_default();
    for (hooks, set) in &sets {
        let Some((_, hook)) = set.first() else {
            continue;
        };
        if *hooks == SyscallHooks::RawTracepoint {
            return (*hooks, notes);
        }
        match refused(hook) {
            None => return (*hooks, notes),
            Some(why) => notes.push(why),
        }
    }
    (SyscallHooks::RawTracepoint, notes)
}

/// Why the kernel refused a hook set's program, for a note.
fn refusal(hooks: SyscallHooks, e: &MonitorError) -> String {
    match e {
        MonitorError::Permission { what, detail } => format!(
            "{what}: {detail}, though the raw tracepoints loaded: this kernel refuses {} programs",
            hooks.as_str()
        ),
        e => e.to_string(),
    }
}

/// The programs of one way of hooking the syscalls: (program, hook).
type HookSet = Vec<(&'static str, Hook)>;

/// The syscall hook sets to try for `choice`, best first.
fn candidates(
    choice: HookChoice,
    offs: &KernelOffsets,
) -> Result<Vec<(SyscallHooks, HookSet)>, MonitorError> {
    let fexit: HookSet = names::FEXIT_PROGRAMS
        .iter()
        .zip(offs.syscall_funcs)
        .filter(|(_, id)| *id != 0)
        .map(|(&(name, syscall), btf_id)| (name, Hook::Fexit { syscall, btf_id }))
        .collect();
    let (btf_name, btf_tp) = names::BTF_SYSCALL_PROGRAM;
    let btf = (offs.sys_exit_tp != 0).then(|| {
        vec![(
            btf_name,
            Hook::BtfTracepoint {
                tracepoint: btf_tp,
                btf_id: offs.sys_exit_tp,
            },
        )]
    });
    let (raw_name, raw_tp) = names::RAW_SYSCALL_PROGRAM;
    let raw = vec![(raw_name, Hook::RawTracepoint(raw_tp))];
    let missing = |hooks: SyscallHooks, what: &str| MonitorError::Kernel {
        what: format!(
            "hooking the syscalls with {} (--syscall-hooks)",
            hooks.as_str()
        ),
        detail: format!("the kernel's BTF has no {what}; use --syscall-hooks auto"),
    };
    Ok(match choice {
        HookChoice::Auto => {
            let mut sets = Vec::new();
            if !fexit.is_empty() {
                sets.push((SyscallHooks::Fexit, fexit));
            }
            if let Some(btf) = btf {
                sets.push((SyscallHooks::BtfTracepoint, btf));
            }
            sets.push((SyscallHooks::RawTracepoint, raw));
            sets
        }
        HookChoice::Fexit if fexit.is_empty() => {
            return Err(missing(SyscallHooks::Fexit, "syscall function"))
        }
        HookChoice::Fexit => vec![(SyscallHooks::Fexit, fexit)],
        HookChoice::BtfTracepoint => vec![(
            SyscallHooks::BtfTracepoint,
            btf.ok_or_else(|| missing(SyscallHooks::BtfTracepoint, "btf_trace_sys_exit"))?,
        )],
        HookChoice::RawTracepoint => vec![(SyscallHooks::RawTracepoint, raw)],
    })
}

/// Verifies `code` on two threads (the kernel verifies one program per call), the biggest
/// programs first, each thread taking the next one left. Results come in `code` order.
pub fn verify(code: &[Code]) -> Vec<Result<Program, MonitorError>> {
    let mut order: Vec<usize> = (0..code.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(code[i].insns.len()));
    let next = std::sync::atomic::AtomicUsize::new(0);
    // The spans of both threads are children of the caller's span.
    let parent = tracing::Span::current();
    let lane = || {
        let mut done = Vec::new();
        loop {
            let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(&i) = order.get(k) else {
                return done;
            };
            done.push((i, load_program(&parent, &code[i])));
        }
    };
    let mut all = std::thread::scope(|scope| {
        let other = scope.spawn(lane);
        let mut mine = lane();
        match other.join() {
            Ok(theirs) => mine.extend(theirs),
            Err(_) => {
                let lost: Vec<usize> = (0..code.len())
                    .filter(|i| !mine.iter().any(|(j, _)| j == i))
                    .collect();
                for i in lost {
                    let e = MonitorError::Kernel {
                        what: format!("loading program {}", code[i].name),
                        detail: "the verifying thread panicked".into(),
                    };
                    mine.push((i, Err(e)));
                }
            }
        }
        mine
    });
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, r)| r).collect()
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

    #[test]
    fn the_object_has_every_program_and_map() {
        if !object_available() {
            return;
        }
        let obj = Object::parse(EBPF_OBJECT).expect("embedded object parses");
        let all = names::SCHED_PROGRAMS
            .iter()
            .chain([&names::BTF_SYSCALL_PROGRAM, &names::RAW_SYSCALL_PROGRAM])
            .chain(&names::FEXIT_PROGRAMS);
        for (name, _) in all {
            assert!(obj.programs.contains_key(*name), "{name}");
        }
        for m in [names::EVENTS, names::COUNTERS, names::SCRATCH, ".rodata"] {
            assert!(obj.maps.contains_key(m), "{m}");
        }
    }
}
