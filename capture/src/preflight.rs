//! Preflight: gathers the facts capture depends on and judges each as a check with a fix.

use std::path::{Path, PathBuf};

use report_model::schema::health::SyscallHooks;
use report_model::schema::host::kernel_version;
use serde::Serialize;

/// Outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    /// Capture works, with less (e.g. RSS by a weaker method).
    Warn,
    /// Capture cannot run.
    Fail,
}

/// One row of `tare doctor`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub status: Status,
    pub detail: String,
    /// What to do when it is not a pass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// What the machine is, read once (the only I/O of preflight).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub euid: u32,
    /// CapEff from /proc/self/status.
    pub cap_eff: u64,
    pub kernel_release: String,
    pub btf: bool,
    pub lsm: Option<String>,
    pub cgroup2_mount: Option<PathBuf>,
    /// Controllers enabled in the cgroup2 root's cgroup.subtree_control.
    pub cgroup2_controllers: Vec<String>,
    /// Controllers the cgroup2 root has (its cgroup.controllers), enabled or not.
    pub cgroup2_available: Vec<String>,
    pub cgroup_v1_memory: Option<PathBuf>,
    /// tare's own cgroup v2 path (`0::` of /proc/self/cgroup), e.g. `/system.slice/x.service`.
    pub own_cgroup: Option<String>,
    /// The extended attribute that marks tare's own cgroup as a subtree systemd delegated
    /// (`trusted.delegate` or `user.delegate`), when one does.
    pub own_delegated: Option<String>,
    pub tracefs: bool,
    pub bpf_jit: Option<bool>,
    pub unprivileged_bpf_disabled: Option<u32>,
    /// The syscall hooks a capture would take, and why not better ones (probed as root, by
    /// `tare doctor` only).
    pub syscall_hooks: Option<(SyscallHooks, Vec<String>)>,
}

const CAP_SYS_ADMIN: u32 = 21;
const CAP_PERFMON: u32 = 38;
const CAP_BPF: u32 = 39;

fn has_cap(caps: u64, cap: u32) -> bool {
    caps & (1u64 << cap) != 0
}

/// Judges the facts. Pure: unit-tested with made-up machines.
pub fn judge(f: &Facts) -> Vec<Check> {
    let mut out = Vec::new();
    let privileged = f.euid == 0
        || has_cap(f.cap_eff, CAP_SYS_ADMIN)
        || (has_cap(f.cap_eff, CAP_BPF) && has_cap(f.cap_eff, CAP_PERFMON));
    out.push(Check {
        name: "privileges",
        status: if privileged {
            Status::Pass
        } else {
            Status::Fail
        },
        detail: if f.euid == 0 {
            "running as root".into()
        } else if privileged {
            format!("uid {} with CAP_BPF and CAP_PERFMON", f.euid)
        } else {
            format!(
                "uid {} without CAP_BPF + CAP_PERFMON (or CAP_SYS_ADMIN)",
                f.euid
            )
        },
        fix: (!privileged).then(|| {
            "run as root (sudo tare ...) or grant the binary capabilities: \
             setcap cap_bpf,cap_perfmon,cap_sys_admin+ep $(command -v tare)"
                .into()
        }),
    });
    let version = kernel_version(&f.kernel_release);
    let kernel_ok = version.is_some_and(|v| v >= (5, 8));
    out.push(Check {
        name: "kernel",
        status: if kernel_ok {
            Status::Pass
        } else {
            Status::Fail
        },
        detail: format!("Linux {}", f.kernel_release),
        fix: (!kernel_ok)
            .then(|| "tare needs Linux 5.8 or newer (BPF ring buffer); upgrade the kernel".into()),
    });
    out.push(Check {
        name: "btf",
        status: if f.btf { Status::Pass } else { Status::Warn },
        detail: if f.btf {
            "/sys/kernel/btf/vmlinux present".into()
        } else {
            "no /sys/kernel/btf/vmlinux".into()
        },
        fix: (!f.btf).then(|| {
            "exit signals of descendants need kernel BTF: use a kernel built with CONFIG_DEBUG_INFO_BTF=y".into()
        }),
    });
    match &f.cgroup2_mount {
        Some(m) => out.push(Check {
            name: "cgroup v2",
            status: Status::Pass,
            detail: if m == Path::new("/sys/fs/cgroup") {
                format!("pure v2 at {}", m.display())
            } else {
                format!("hybrid: v2 at {}", m.display())
            },
            fix: None,
        }),
        None => out.push(Check {
            name: "cgroup v2",
            status: Status::Fail,
            detail: "no cgroup2 file system mounted".into(),
            fix: Some("mount one: mkdir -p /sys/fs/cgroup/unified && mount -t cgroup2 none /sys/fs/cgroup/unified".into()),
        }),
    }
    out.push(memory_check(f));
    if let Some(c) = placement_check(f) {
        out.push(c);
    }
    out.push(Check {
        name: "tracefs",
        status: Status::Pass,
        detail: if f.tracefs {
            "mounted (not required: fexit, tp_btf and raw tracepoints need no tracefs)".into()
        } else {
            "not mounted; not required (fexit, tp_btf and raw tracepoints need no tracefs)".into()
        },
        fix: None,
    });
    out.push(Check {
        name: "bpf lsm",
        status: Status::Pass,
        detail: match &f.lsm {
            Some(l) if l.split(',').any(|x| x == "bpf") => {
                format!("active LSMs: {l} (not required)")
            }
            Some(l) => format!("active LSMs: {l}; BPF LSM off (not required)"),
            None => "LSM list unreadable (not required)".into(),
        },
        fix: None,
    });
    if let Some((hooks, why)) = &f.syscall_hooks {
        let fexit = *hooks == SyscallHooks::Fexit;
        out.push(Check {
            name: "syscall hooks",
            status: if fexit { Status::Pass } else { Status::Warn },
            detail: if fexit {
                "fexit: one program per traced syscall; no other syscall on the host pays".into()
            } else {
                format!(
                    "{}: while a capture runs, every syscall on the host runs tare's sys_exit \
                     program (benches/collateral.sh measures what it costs); {}",
                    hooks.as_str(),
                    why.join("; ")
                )
            },
            fix: (!fexit).then(|| {
                "a kernel that allows fexit programs (CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS, \
                 and no policy refusing them) makes the rest of the host pay nothing"
                    .into()
            }),
        });
    }
    if let Some(jit) = f.bpf_jit {
        out.push(Check {
            name: "bpf jit",
            status: if jit { Status::Pass } else { Status::Warn },
            detail: if jit {
                "enabled".into()
            } else {
                "disabled: programs run interpreted (slower)".into()
            },
            fix: (!jit).then(|| "sysctl net.core.bpf_jit_enable=1".into()),
        });
    }
    out
}

/// Whether capture can run on a machine with these checks.
pub fn can_capture(checks: &[Check]) -> bool {
    checks.iter().all(|c| c.status != Status::Fail)
}

/// Reads the facts from /proc and /sys.
pub fn gather() -> Facts {
    let read = |p: &str| std::fs::read_to_string(p).ok();
    let cap_eff = read("/proc/self/status")
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("CapEff:"))
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        })
        .unwrap_or(0);
    let mounts = read("/proc/self/mountinfo").unwrap_or_default();
    let cgroup2_mount = crate::cgroup::find_cgroup2_mount(&mounts);
    let list = |file: &str| -> Vec<String> {
        cgroup2_mount
            .as_ref()
            .and_then(|m| std::fs::read_to_string(m.join(file)).ok())
            .map(|s| s.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default()
    };
    let cgroup2_controllers = list("cgroup.subtree_control");
    let cgroup2_available = list("cgroup.controllers");
    let own_cgroup = read("/proc/self/cgroup").and_then(|t| crate::cgroup::parse_own_cgroup(&t));
    let own_delegated = match (&cgroup2_mount, &own_cgroup) {
        (Some(m), Some(own)) if own != "/" => {
            let dir = m.join(own.trim_start_matches('/'));
            ["trusted.delegate", "user.delegate"]
                .into_iter()
                .find(|name| crate::cgroup::xattr_is_one(&dir, name))
                .map(str::to_string)
        }
        _ => None,
    };
    Facts {
        euid: nix::unistd::geteuid().as_raw(),
        cap_eff,
        kernel_release: nix::sys::utsname::uname()
            .map(|u| u.release().to_string_lossy().into_owned())
            .unwrap_or_default(),
        btf: Path::new("/sys/kernel/btf/vmlinux").exists(),
        lsm: read("/sys/kernel/security/lsm").map(|s| s.trim().to_string()),
        cgroup2_mount,
        cgroup2_controllers,
        cgroup2_available,
        cgroup_v1_memory: crate::cgroup::find_cgroup_v1_memory_mount(&mounts),
        own_cgroup,
        own_delegated,
        tracefs: mounts.lines().any(|l| l.contains(" - tracefs ")),
        bpf_jit: read("/proc/sys/net/core/bpf_jit_enable").map(|s| s.trim() != "0"),
        unprivileged_bpf_disabled: read("/proc/sys/kernel/unprivileged_bpf_disabled")
            .and_then(|s| s.trim().parse().ok()),
        // Probing loads programs: only `tare doctor` does it (a capture finds out as it loads).
        syscall_hooks: None,
    }
}

/// Where tare puts its session cgroups, and, inside a subtree systemd delegated, why there.
fn placement_check(f: &Facts) -> Option<Check> {
    let root = f.cgroup2_mount.as_deref()?.display().to_string();
    let own = f.own_cgroup.as_deref().unwrap_or("/");
    let detail = match &f.own_delegated {
        None => format!(
            "sessions go in {root}/tare/<run-id> (tare runs in {own}, not a delegated subtree)"
        ),
        Some(attr) => format!(
            "tare runs in {own}, a subtree systemd delegated ({attr}=1), but its sessions go in \
             {root}/tare/<run-id>, outside it: a session needs its own cgroup with memory enabled \
             above it, and {own} holds processes (tare's own and its caller's), which the \
             no-internal-process rule forbids beside child cgroups that have controllers; tare \
             does not move processes it did not start. systemd leaves {root}/tare alone, and \
             tare removes it with its last session"
        ),
    };
    Some(Check {
        name: "cgroup placement",
        status: if f.own_delegated.is_some() {
            Status::Warn
        } else {
            Status::Pass
        },
        detail,
        fix: None,
    })
}

/// Where session memory comes from, and exactly what tare changes in the cgroup tree for it.
fn memory_check(f: &Facts) -> Check {
    let has = |list: &[String]| list.iter().any(|c| c == "memory");
    let root = f
        .cgroup2_mount
        .as_deref()
        .map_or_else(|| "<cgroup2 root>".to_string(), |p| p.display().to_string());
    let enabled = has(&f.cgroup2_controllers);
    let available = enabled || has(&f.cgroup2_available);
    let fallback = match &f.cgroup_v1_memory {
        Some(p) => format!("cgroup v1 memory.max_usage_in_bytes at {}", p.display()),
        None => "wait4 rusage (the largest process only)".into(),
    };
    let enable_at_root = format!("echo +memory > {root}/cgroup.subtree_control");
    let (status, detail, fix) = if enabled {
        (
            Status::Pass,
            format!(
                "cgroup v2 memory.peak (whole process tree): tare enables +memory in {root}/tare/cgroup.subtree_control for its sessions, and removes {root}/tare when its last session ends"
            ),
            None,
        )
    } else if available {
        (
            if f.cgroup_v1_memory.is_some() { Status::Pass } else { Status::Warn },
            format!(
                "the memory controller is available but not enabled at the cgroup2 root: tare does not change the root's controllers (every cgroup on the host would get it), so session memory comes from {fallback}"
            ),
            f.cgroup_v1_memory.is_none().then(|| format!("for memory.peak of the whole tree: {enable_at_root}")),
        )
    } else {
        (
            if f.cgroup_v1_memory.is_some() { Status::Pass } else { Status::Warn },
            format!("no cgroup v2 memory controller: session memory comes from {fallback}"),
            f.cgroup_v1_memory.is_none().then(|| {
                "boot a kernel with CONFIG_MEMCG (and cgroup_enable=memory if it is off by default)".to_string()
            }),
        )
    };
    Check {
        name: "memory accounting",
        status,
        detail,
        fix,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours() -> Facts {
        Facts {
            euid: 0,
            cap_eff: u64::MAX >> 23,
            kernel_release: "6.18.44-fc-v669".into(),
            btf: true,
            lsm: Some("lockdown,capability,landlock,bpf".into()),
            cgroup2_mount: Some("/sys/fs/cgroup/unified".into()),
            cgroup2_controllers: vec![],
            cgroup2_available: vec![],
            cgroup_v1_memory: Some("/sys/fs/cgroup/memory".into()),
            own_cgroup: None,
            own_delegated: None,
            tracefs: false,
            bpf_jit: Some(true),
            unprivileged_bpf_disabled: Some(2),
            syscall_hooks: None,
        }
    }

    #[test]
    fn placement_says_where_sessions_go_and_why_not_in_a_delegated_unit() {
        let row = |own: &str, attr: Option<&str>| {
            let f = Facts {
                cgroup2_mount: Some("/sys/fs/cgroup".into()),
                own_cgroup: Some(own.into()),
                own_delegated: attr.map(str::to_string),
                ..ours()
            };
            judge(&f)
                .into_iter()
                .find(|c| c.name == "cgroup placement")
                .unwrap()
        };
        let plain = row("/user.slice/session-1.scope", None);
        assert_eq!(plain.status, Status::Pass);
        assert!(plain
            .detail
            .starts_with("sessions go in /sys/fs/cgroup/tare/<run-id>"));
        let unit = row("/system.slice/ci.service", Some("trusted.delegate"));
        assert_eq!(unit.status, Status::Warn);
        assert!(
            unit.detail.starts_with(
                "tare runs in /system.slice/ci.service, a subtree systemd delegated \
                 (trusted.delegate=1), but its sessions go in /sys/fs/cgroup/tare/<run-id>"
            ),
            "{}",
            unit.detail
        );
        assert!(unit.detail.contains("no-internal-process rule"));
        assert_eq!(
            crate::cgroup::parse_own_cgroup("12:memory:/x\n0::/system.slice/ci.service\n")
                .as_deref(),
            Some("/system.slice/ci.service")
        );
        assert_eq!(crate::cgroup::parse_own_cgroup("1:name=systemd:/\n"), None);
    }

    #[test]
    fn syscall_hooks_say_who_pays() {
        let row = |h| {
            let f = Facts {
                syscall_hooks: Some((h, vec!["the kernel refuses fexit programs".into()])),
                ..ours()
            };
            judge(&f)
                .into_iter()
                .find(|c| c.name == "syscall hooks")
                .unwrap()
        };
        assert_eq!(row(SyscallHooks::Fexit).status, Status::Pass);
        let btf = row(SyscallHooks::BtfTracepoint);
        assert_eq!(btf.status, Status::Warn);
        assert!(
            btf.detail.contains("every syscall on the host"),
            "{}",
            btf.detail
        );
        assert!(btf.detail.contains("refuses fexit"), "{}", btf.detail);
        assert!(btf.fix.is_some());
        assert!(can_capture(&[btf]));
        assert!(judge(&ours()).iter().all(|c| c.name != "syscall hooks"));
    }

    #[test]
    fn this_machine_kind_passes() {
        let checks = judge(&ours());
        assert!(can_capture(&checks));
        let cg = checks.iter().find(|c| c.name == "cgroup v2").unwrap();
        assert!(cg.detail.starts_with("hybrid"), "{}", cg.detail);
        let mem = checks
            .iter()
            .find(|c| c.name == "memory accounting")
            .unwrap();
        assert!(mem.detail.contains("v1"), "{}", mem.detail);
    }

    #[test]
    fn unprivileged_user_fails_with_a_fix() {
        let f = Facts {
            euid: 1000,
            cap_eff: 0,
            ..ours()
        };
        let checks = judge(&f);
        assert!(!can_capture(&checks));
        let p = checks.iter().find(|c| c.name == "privileges").unwrap();
        assert_eq!(p.status, Status::Fail);
        assert!(p.fix.as_deref().unwrap().contains("sudo"));
        let with_caps = Facts {
            euid: 1000,
            cap_eff: (1 << CAP_BPF) | (1 << CAP_PERFMON),
            ..ours()
        };
        assert!(can_capture(&judge(&with_caps)));
    }

    #[test]
    fn old_kernel_and_missing_cgroup2_fail() {
        let f = Facts {
            kernel_release: "5.4.0-100-generic".into(),
            cgroup2_mount: None,
            ..ours()
        };
        let failed: Vec<&str> = judge(&f)
            .iter()
            .filter(|c| c.status == Status::Fail)
            .map(|c| c.name)
            .collect();
        assert_eq!(failed, ["kernel", "cgroup v2"]);
        assert_eq!(kernel_version("6.18.44-fc-v669"), Some((6, 18)));
        assert_eq!(kernel_version("garbage"), None);
    }

    #[test]
    fn memory_method_degrades_to_a_warning() {
        let f = Facts {
            cgroup_v1_memory: None,
            own_cgroup: None,
            own_delegated: None,
            ..ours()
        };
        let mem = judge(&f)
            .into_iter()
            .find(|c| c.name == "memory accounting")
            .unwrap();
        assert_eq!(mem.status, Status::Warn);
        let f = Facts {
            cgroup2_controllers: vec!["cpu".into(), "memory".into()],
            ..f
        };
        let mem = judge(&f)
            .into_iter()
            .find(|c| c.name == "memory accounting")
            .unwrap();
        assert_eq!(mem.status, Status::Pass);
        assert!(mem.detail.contains("memory.peak"));
    }

    #[test]
    fn memory_row_says_exactly_what_tare_changes() {
        let base = Facts {
            cgroup2_mount: Some("/sys/fs/cgroup".into()),
            cgroup_v1_memory: None,
            own_cgroup: None,
            own_delegated: None,
            ..ours()
        };
        let row = |f: &Facts| memory_check(f);
        // Enabled at the root (a systemd host): tare enables it in tare/ and removes tare/.
        let on = row(&Facts {
            cgroup2_controllers: vec!["memory".into()],
            cgroup2_available: vec!["memory".into()],
            ..base.clone()
        });
        assert_eq!(on.status, Status::Pass);
        assert!(on
            .detail
            .contains("+memory in /sys/fs/cgroup/tare/cgroup.subtree_control"));
        assert!(on.detail.contains("removes /sys/fs/cgroup/tare"));
        // Available, not enabled (a VM without systemd): tare leaves the root alone and says
        // the one command that would give memory.peak.
        let off = row(&Facts {
            cgroup2_available: vec!["cpu".into(), "memory".into()],
            ..base.clone()
        });
        assert_eq!(off.status, Status::Warn);
        assert!(off
            .detail
            .contains("does not change the root's controllers"));
        assert!(off.detail.contains("wait4"));
        assert_eq!(
            off.fix.as_deref(),
            Some("for memory.peak of the whole tree: echo +memory > /sys/fs/cgroup/cgroup.subtree_control")
        );
        // Not built in: a kernel fix.
        let none = row(&base);
        assert!(none.detail.starts_with("no cgroup v2 memory controller"));
        assert!(none.fix.unwrap().contains("CONFIG_MEMCG"));
    }
}
