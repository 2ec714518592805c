//! Reads the few kernel struct offsets the programs need from the kernel's BTF.
//!
//! The programs are raw tracepoints compiled without CO-RE, so the offsets of
//! `task_struct.{pid,tgid,real_parent,exit_code}` and `linux_binprm.filename`
//! are found here and handed to them as load-time constants. A full BTF parse
//! (what aya does for CO-RE) costs ~20 ms; this single pass over the type
//! section finds just these, and the type ids of the syscall functions the
//! fexit programs attach to, and costs ~1-2 ms.

use std::path::Path;

use capture_ebpf::names::FEXIT_PROGRAMS;

/// The number of syscalls tare hooks with fexit.
pub const FEXIT_SYSCALLS: usize = FEXIT_PROGRAMS.len();

/// The name prefix of the kernel's syscall entry functions on this architecture
/// (`__x64_sys_openat`), which take the syscall's `pt_regs`.
/// `None` where no such wrapper is known: then no function is found and the raw
/// tracepoints are used.
pub fn syscall_prefix() -> Option<&'static str> {
    match std::env::consts::ARCH {
        "x86_64" => Some("__x64_sys_"),
        "aarch64" => Some("__arm64_sys_"),
        "riscv64" => Some("__riscv_sys_"),
        "s390x" => Some("__s390x_sys_"),
        _ => None,
    }
}

/// Offsets (bytes) and facts the eBPF programs are parameterised with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelOffsets {
    pub task_pid: u32,
    pub task_tgid: u32,
    pub task_real_parent: u32,
    pub task_exit_code: u32,
    pub bprm_filename: u32,
    /// `linux_binprm.buf`: the program's first bytes (its ELF header).
    pub bprm_buf: u32,
    /// `task_struct.thread_info.status` on x86_64 (where `TS_COMPAT` marks an ia32
    /// syscall); `capture_ebpf::NO_OFFSET` elsewhere or when the kernel has none.
    pub task_ti_status: u32,
    /// `sched_process_exit` passes `bool group_dead` (Linux 6.16+).
    pub exit_has_group_dead: bool,
    /// BTF type id of each syscall's entry function, in `FEXIT_PROGRAMS` order; 0 when the
    /// kernel has no such function (the syscall does not exist on this architecture).
    pub syscall_funcs: [u32; FEXIT_SYSCALLS],
    /// BTF type id of the `sys_exit` tracepoint's typedef (`btf_trace_sys_exit`), for tp_btf;
    /// 0 when the kernel has none.
    pub sys_exit_tp: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum BtfError {
    #[error("reading {path}: {source} (kernel BTF is needed: CONFIG_DEBUG_INFO_BTF=y)")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("kernel BTF is malformed: {0}")]
    Malformed(&'static str),
    #[error("kernel BTF has no {0}")]
    Missing(&'static str),
}

const BTF_MAGIC: u16 = 0xeb9f;
const KIND_INT: u32 = 1;
const KIND_PTR: u32 = 2;
const KIND_ARRAY: u32 = 3;
const KIND_STRUCT: u32 = 4;
const KIND_UNION: u32 = 5;
const KIND_ENUM: u32 = 6;
const KIND_FUNC: u32 = 12;
const KIND_TYPEDEF: u32 = 8;
const KIND_VOLATILE: u32 = 9;
const KIND_CONST: u32 = 10;
const KIND_RESTRICT: u32 = 11;
const KIND_FUNC_PROTO: u32 = 13;
const KIND_VAR: u32 = 14;
const KIND_DATASEC: u32 = 15;
const KIND_DECL_TAG: u32 = 17;
const KIND_TYPE_TAG: u32 = 18;
const KIND_ENUM64: u32 = 19;

struct Btf<'a> {
    types: &'a [u8],
    strings: &'a [u8],
    /// Byte offset of every type in `types`; index = type id - 1.
    offsets: Vec<u32>,
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

impl<'a> Btf<'a> {
    fn parse(data: &'a [u8]) -> Result<(Btf<'a>, Found), BtfError> {
        let m = data.get(0..2).ok_or(BtfError::Malformed("short header"))?;
        if u16::from_le_bytes([m[0], m[1]]) != BTF_MAGIC {
            return Err(BtfError::Malformed(
                "bad magic (big-endian BTF is not supported)",
            ));
        }
        let hdr = |at| u32_at(data, at).ok_or(BtfError::Malformed("short header"));
        let hdr_len = hdr(4)? as usize;
        let (type_off, type_len, str_off, str_len) = (hdr(8)?, hdr(12)?, hdr(16)?, hdr(20)?);
        let sect = |off: u32, len: u32| {
            let start = hdr_len.checked_add(off as usize)?;
            data.get(start..start.checked_add(len as usize)?)
        };
        let types =
            sect(type_off, type_len).ok_or(BtfError::Malformed("type section out of range"))?;
        let strings =
            sect(str_off, str_len).ok_or(BtfError::Malformed("string section out of range"))?;
        let mut btf = Btf {
            types,
            strings,
            offsets: Vec::with_capacity(types.len() / 24),
        };
        let mut found = Found::default();
        let prefix = syscall_prefix().map(str::as_bytes);
        let mut at = 0usize;
        while at < types.len() {
            let name_off = u32_at(types, at).ok_or(BtfError::Malformed("truncated type"))?;
            let info = u32_at(types, at + 4).ok_or(BtfError::Malformed("truncated type"))?;
            let kind = (info >> 24) & 0x1f;
            let vlen = (info & 0xffff) as usize;
            let extra = match kind {
                KIND_INT | KIND_VAR | KIND_DECL_TAG => 4,
                KIND_ARRAY => 12,
                KIND_STRUCT | KIND_UNION | KIND_DATASEC | KIND_ENUM64 => 12 * vlen,
                KIND_ENUM | KIND_FUNC_PROTO => 8 * vlen,
                _ => 0,
            };
            btf.offsets.push(at as u32);
            let id = btf.offsets.len() as u32;
            if (kind == KIND_STRUCT && vlen > 0) || kind == KIND_TYPEDEF {
                let name = btf.name(name_off);
                let slot = match (kind, name) {
                    (KIND_STRUCT, b"task_struct") => &mut found.task_struct,
                    (KIND_STRUCT, b"linux_binprm") => &mut found.linux_binprm,
                    (KIND_STRUCT, b"thread_info") => &mut found.thread_info,
                    (KIND_TYPEDEF, b"btf_trace_sched_process_exit") => &mut found.exit_tp,
                    (KIND_TYPEDEF, b"btf_trace_sys_exit") => &mut found.sys_exit_tp,
                    _ => &mut found.none,
                };
                if *slot == 0 {
                    *slot = id;
                }
            } else if let (KIND_FUNC, Some(prefix)) = (kind, prefix) {
                if let Some(syscall) = btf.name(name_off).strip_prefix(prefix) {
                    if let Some(i) = FEXIT_PROGRAMS
                        .iter()
                        .position(|(_, s)| s.as_bytes() == syscall)
                    {
                        if found.syscall_funcs[i] == 0 {
                            found.syscall_funcs[i] = id;
                        }
                    }
                }
            }
            at += 12 + extra;
        }
        if at != types.len() {
            return Err(BtfError::Malformed("type section does not end on a type"));
        }
        Ok((btf, found))
    }

    fn name(&self, off: u32) -> &'a [u8] {
        let s = self.strings.get(off as usize..).unwrap_or(&[]);
        let end = s.iter().position(|&c| c == 0).unwrap_or(s.len());
        &s[..end]
    }

    /// (name_off, info, size_or_type, byte offset) of a type id.
    fn ty(&self, id: u32) -> Option<(u32, u32, u32, usize)> {
        let at = *self.offsets.get((id as usize).checked_sub(1)?)? as usize;
        Some((
            u32_at(self.types, at)?,
            u32_at(self.types, at + 4)?,
            u32_at(self.types, at + 8)?,
            at,
        ))
    }

    /// Skips typedef/const/volatile/restrict/type_tag.
    fn resolve(&self, mut id: u32) -> Option<u32> {
        for _ in 0..32 {
            let (_, info, next, _) = self.ty(id)?;
            match (info >> 24) & 0x1f {
                KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT | KIND_TYPE_TAG => {
                    id = next
                }
                _ => return Some(id),
            }
        }
        None
    }

    /// Byte offset of member `want` in struct/union `id`, looking into anonymous members.
    fn member_offset(&self, id: u32, want: &[u8], depth: u32) -> Option<u32> {
        if depth > 8 {
            return None;
        }
        let (_, info, _, at) = self.ty(id)?;
        let kind = (info >> 24) & 0x1f;
        if kind != KIND_STRUCT && kind != KIND_UNION {
            return None;
        }
        let kflag = info >> 31 == 1;
        for i in 0..(info & 0xffff) as usize {
            let m = at + 12 + 12 * i;
            let (name_off, mty, off) = (
                u32_at(self.types, m)?,
                u32_at(self.types, m + 4)?,
                u32_at(self.types, m + 8)?,
            );
            let bits = if kflag { off & 0x00ff_ffff } else { off };
            let name = self.name(name_off);
            if name == want {
                return Some(bits / 8);
            }
            if name.is_empty() {
                if let Some(inner) = self
                    .resolve(mty)
                    .and_then(|t| self.member_offset(t, want, depth + 1))
                {
                    return Some(bits / 8 + inner);
                }
            }
        }
        None
    }

    /// Number of parameters of the function prototype a `btf_trace_*` typedef points to.
    fn tp_params(&self, typedef: u32) -> Option<u32> {
        let (_, _, ptr, _) = self.ty(typedef)?;
        let (_, info, proto, _) = self.ty(self.resolve(ptr)?)?;
        if (info >> 24) & 0x1f != KIND_PTR {
            return None;
        }
        let (_, info, _, _) = self.ty(self.resolve(proto)?)?;
        ((info >> 24) & 0x1f == KIND_FUNC_PROTO).then_some(info & 0xffff)
    }
}

#[derive(Default)]
struct Found {
    task_struct: u32,
    linux_binprm: u32,
    thread_info: u32,
    exit_tp: u32,
    none: u32,
    syscall_funcs: [u32; FEXIT_SYSCALLS],
    sys_exit_tp: u32,
}

/// Finds the offsets in a BTF blob (e.g. the bytes of /sys/kernel/btf/vmlinux).
pub fn kernel_offsets(data: &[u8]) -> Result<KernelOffsets, BtfError> {
    let (btf, found) = Btf::parse(data)?;
    if found.task_struct == 0 {
        return Err(BtfError::Missing("struct task_struct"));
    }
    if found.linux_binprm == 0 {
        return Err(BtfError::Missing("struct linux_binprm"));
    }
    let task = |m: &'static str| {
        btf.member_offset(found.task_struct, m.as_bytes(), 0)
            .ok_or(BtfError::Missing(m))
    };
    let bprm = |m: &'static str, what| {
        btf.member_offset(found.linux_binprm, m.as_bytes(), 0)
            .ok_or(BtfError::Missing(what))
    };
    // x86's thread_info is the task's first member; TS_COMPAT is x86's alone.
    let task_ti_status = match (
        cfg!(target_arch = "x86_64"),
        btf.member_offset(found.task_struct, b"thread_info", 0),
        btf.member_offset(found.thread_info, b"status", 0),
    ) {
        (true, Some(ti), Some(status)) => ti + status,
        _ => capture_ebpf::NO_OFFSET,
    };
    Ok(KernelOffsets {
        task_pid: task("pid")?,
        task_tgid: task("tgid")?,
        task_real_parent: task("real_parent")?,
        task_exit_code: task("exit_code")?,
        bprm_filename: bprm("filename", "linux_binprm.filename")?,
        bprm_buf: bprm("buf", "linux_binprm.buf")?,
        task_ti_status,
        // (void *__data, struct task_struct *p, bool group_dead)
        exit_has_group_dead: found.exit_tp != 0 && btf.tp_params(found.exit_tp).unwrap_or(0) >= 3,
        syscall_funcs: found.syscall_funcs,
        sys_exit_tp: found.sys_exit_tp,
    })
}

/// Reads /sys/kernel/btf/vmlinux (or `path`) and finds the offsets.
pub fn read_kernel_offsets(path: &Path) -> Result<KernelOffsets, BtfError> {
    let data = std::fs::read(path).map_err(|source| BtfError::Read {
        path: path.display().to_string(),
        source,
    })?;
    kernel_offsets(&data)
}

/// Where the offsets of the running kernel are cached (per boot).
pub const OFFSETS_CACHE: &str = "/run/tare/kernel-offsets";

const CACHE_MAGIC: &str = "tare-kernel-offsets-v4";

/// The cache record for `key` (boot id and BTF size: offsets cannot change within a boot).
pub fn format_cache(key: &str, o: &KernelOffsets) -> String {
    let funcs: Vec<String> = o.syscall_funcs.iter().map(u32::to_string).collect();
    format!(
        "{CACHE_MAGIC} {key} {} {} {} {} {} {} {} {} {} {}\n",
        o.task_pid,
        o.task_tgid,
        o.task_real_parent,
        o.task_exit_code,
        o.bprm_filename,
        o.bprm_buf,
        o.task_ti_status,
        u8::from(o.exit_has_group_dead),
        o.sys_exit_tp,
        funcs.join(" ")
    )
}

/// Parses a cache record; `None` unless it is well formed and for `key`.
pub fn parse_cache(text: &str, key: &str) -> Option<KernelOffsets> {
    let mut f = text.split_whitespace();
    if f.next()? != CACHE_MAGIC || f.next()? != key {
        return None;
    }
    let mut n = || f.next()?.parse::<u32>().ok();
    let mut o = KernelOffsets {
        task_pid: n()?,
        task_tgid: n()?,
        task_real_parent: n()?,
        task_exit_code: n()?,
        bprm_filename: n()?,
        bprm_buf: n()?,
        task_ti_status: n()?,
        exit_has_group_dead: match n()? {
            0 => false,
            1 => true,
            _ => return None,
        },
        syscall_funcs: [0; FEXIT_SYSCALLS],
        sys_exit_tp: n()?,
    };
    for id in o.syscall_funcs.iter_mut() {
        *id = n()?;
    }
    f.next().is_none().then_some(o)
}

/// The offsets of the running kernel: from the per-boot cache when it matches,
/// else from `btf` (then cached, best effort). Returns whether the cache was used.
///
/// Reading and scanning 5.5 MB of BTF costs ~4-5 ms; the cache, ~50 µs.
pub fn kernel_offsets_cached(btf: &Path, cache: &Path) -> Result<(KernelOffsets, bool), BtfError> {
    let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap_or_default();
    let btf_len = std::fs::metadata(btf).map(|m| m.len()).unwrap_or(0);
    let key = format!("{}-{btf_len}", boot_id.trim());
    if !boot_id.trim().is_empty() {
        if let Some(o) = std::fs::read_to_string(cache)
            .ok()
            .and_then(|t| parse_cache(&t, &key))
        {
            return Ok((o, true));
        }
    }
    let o = read_kernel_offsets(btf)?;
    if !boot_id.trim().is_empty() {
        write_cache(cache, &format_cache(&key, &o));
    }
    Ok((o, false))
}

fn write_cache(cache: &Path, text: &str) {
    let Some(dir) = cache.parent() else { return };
    if crate::outfile::private_dir(dir) {
        let _ = crate::outfile::write_private(cache, text.as_bytes());
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A tiny BTF blob builder for tests.
    #[derive(Default)]
    pub struct Builder {
        types: Vec<u8>,
        strings: Vec<u8>,
        next_id: u32,
    }

    impl Builder {
        pub fn new() -> Self {
            Builder {
                types: Vec::new(),
                strings: vec![0],
                next_id: 1,
            }
        }
        fn s(&mut self, name: &str) -> u32 {
            if name.is_empty() {
                return 0;
            }
            let off = self.strings.len() as u32;
            self.strings.extend_from_slice(name.as_bytes());
            self.strings.push(0);
            off
        }
        fn head(&mut self, name: &str, kind: u32, vlen: u32, kflag: bool, st: u32) -> u32 {
            let n = self.s(name);
            let info = (kind << 24) | vlen | if kflag { 1 << 31 } else { 0 };
            for v in [n, info, st] {
                self.types.extend_from_slice(&v.to_le_bytes());
            }
            self.next_id += 1;
            self.next_id - 1
        }
        pub fn int(&mut self, name: &str) -> u32 {
            let id = self.head(name, KIND_INT, 0, false, 4);
            self.types.extend_from_slice(&32u32.to_le_bytes());
            id
        }
        pub fn ptr(&mut self, to: u32) -> u32 {
            self.head("", KIND_PTR, 0, false, to)
        }
        pub fn typedef(&mut self, name: &str, to: u32) -> u32 {
            self.head(name, KIND_TYPEDEF, 0, false, to)
        }
        pub fn func(&mut self, name: &str, proto: u32) -> u32 {
            self.head(name, KIND_FUNC, 0, false, proto)
        }
        pub fn proto(&mut self, params: &[u32]) -> u32 {
            let id = self.head("", KIND_FUNC_PROTO, params.len() as u32, false, 0);
            for p in params {
                self.types.extend_from_slice(&0u32.to_le_bytes());
                self.types.extend_from_slice(&p.to_le_bytes());
            }
            id
        }
        /// members: (name, type, bit offset)
        pub fn strukt(
            &mut self,
            kind: u32,
            name: &str,
            kflag: bool,
            members: &[(&str, u32, u32)],
        ) -> u32 {
            let id = self.head(name, kind, members.len() as u32, kflag, 64);
            for (n, t, off) in members {
                let n = self.s(n);
                for v in [n, *t, *off] {
                    self.types.extend_from_slice(&v.to_le_bytes());
                }
            }
            id
        }
        pub fn build(&self) -> Vec<u8> {
            let mut out = Vec::new();
            out.extend_from_slice(&BTF_MAGIC.to_le_bytes());
            out.push(1);
            out.push(0);
            let tl = self.types.len() as u32;
            for v in [24u32, 0, tl, tl, self.strings.len() as u32] {
                out.extend_from_slice(&v.to_le_bytes());
            }
            out.extend_from_slice(&self.types);
            out.extend_from_slice(&self.strings);
            out
        }
    }

    fn sample(group_dead: bool) -> Vec<u8> {
        let mut b = Builder::new();
        let int = b.int("int");
        let _fwd_like = b.strukt(KIND_STRUCT, "task_struct", false, &[]); // a declaration: skipped
        let anon = b.strukt(
            KIND_STRUCT,
            "",
            false,
            &[("real_parent", int, 64), ("x", int, 128)],
        );
        let anon_t = b.typedef("", anon);
        let ti = b.strukt(
            KIND_STRUCT,
            "thread_info",
            false,
            &[
                ("flags", int, 0),
                ("syscall_work", int, 64),
                ("status", int, 128),
            ],
        );
        let task = b.strukt(
            KIND_STRUCT,
            "task_struct",
            true,
            &[
                ("thread_info", ti, 0),
                ("exit_code", int, 9312),
                ("pid", int, 10112),
                ("tgid", int, 10144),
                ("", anon_t, 10176),
            ],
        );
        let task_ptr = b.ptr(task);
        let void_ptr = b.ptr(0);
        let params: Vec<u32> = if group_dead {
            vec![void_ptr, task_ptr, int]
        } else {
            vec![void_ptr, task_ptr]
        };
        let proto = b.proto(&params);
        let pp = b.ptr(proto);
        b.typedef("btf_trace_sched_process_exit", pp);
        b.typedef("btf_trace_sys_exit", pp);
        let syscall = b.proto(&[void_ptr]);
        let prefix = syscall_prefix().unwrap_or("__x64_sys_");
        b.func(&format!("{prefix}openat"), syscall);
        b.func("openat", syscall); // not the syscall's function: ignored
        b.func(&format!("{prefix}connect"), syscall);
        b.strukt(KIND_UNION, "linux_binprm", false, &[]);
        b.strukt(
            KIND_STRUCT,
            "linux_binprm",
            false,
            &[("vma", int, 0), ("filename", int, 768), ("buf", int, 1536)],
        );
        b.build()
    }

    #[test]
    fn finds_offsets_in_a_synthetic_blob() {
        let o = kernel_offsets(&sample(true)).unwrap();
        let mut funcs = [0; FEXIT_SYSCALLS];
        let at = |name: &str| FEXIT_PROGRAMS.iter().position(|(_, s)| *s == name).unwrap();
        // int, 2 structs, typedef, thread_info, task_struct, 2 ptrs, proto, ptr, 2 typedefs,
        // proto: 14 on.
        funcs[at("openat")] = 14;
        funcs[at("connect")] = 16;
        assert_eq!(
            o,
            KernelOffsets {
                task_pid: 1264,
                task_tgid: 1268,
                task_real_parent: 1272 + 8,
                task_exit_code: 1164,
                bprm_filename: 96,
                bprm_buf: 192,
                task_ti_status: if cfg!(target_arch = "x86_64") {
                    16
                } else {
                    capture_ebpf::NO_OFFSET
                },
                exit_has_group_dead: true,
                syscall_funcs: funcs,
                sys_exit_tp: 12,
            }
        );
        assert!(!kernel_offsets(&sample(false)).unwrap().exit_has_group_dead);
    }

    #[test]
    fn cache_records() {
        let o = kernel_offsets(&sample(true)).unwrap();
        let text = format_cache("boot-1-5516713", &o);
        assert_eq!(parse_cache(&text, "boot-1-5516713"), Some(o));
        assert_eq!(parse_cache(&text, "boot-2-5516713"), None);
        assert_eq!(parse_cache("garbage", "k"), None);
        assert_eq!(
            parse_cache(&text.replace(" 1 12 ", " 7 12 "), "boot-1-5516713"),
            None
        );
        assert_eq!(
            parse_cache(&format!("{} 9", text.trim()), "boot-1-5516713"),
            None
        );
        let dir = std::env::temp_dir().join(format!("tare-btf-cache-{}", std::process::id()));
        let cache = dir.join("kernel-offsets");
        write_cache(&cache, &text);
        assert_eq!(std::fs::read_to_string(&cache).unwrap(), text);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn rejects_garbage() {
        assert!(matches!(kernel_offsets(b""), Err(BtfError::Malformed(_))));
        assert!(matches!(
            kernel_offsets(&[0u8; 64]),
            Err(BtfError::Malformed(_))
        ));
        let mut blob = sample(true);
        blob.truncate(blob.len() - 40);
        assert!(kernel_offsets(&blob).is_err());
        let mut b = Builder::new();
        b.int("int");
        assert!(matches!(
            kernel_offsets(&b.build()),
            Err(BtfError::Missing(_))
        ));
    }
}
