//! Builds the eBPF programs (capture-ebpf) with nightly for bpfel-unknown-none;
//! the loader embeds the object with `include_bytes_aligned!`.
//!
//! This is the invocation aya-build makes (`rustup run nightly cargo build
//! -Z build-std=core --target bpfel-unknown-none` with the BTF link flags),
//! done here directly so the nested build stays quiet when it works and its
//! whole output is shown when it does not.
//!
//! Needs: `rustup` with a nightly toolchain + rust-src, and `bpf-linker` on
//! PATH (~/.cargo/bin is added). `scripts/setup.sh` installs all of it.
//! `TARE_SKIP_EBPF=1` builds tare without kernel capture (an empty object;
//! `tare capture` then says so); `TARE_EBPF_TOOLCHAIN` names the nightly to
//! use (default `nightly`).

use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

const SETUP_HINT: &str =
    "run `sudo scripts/setup.sh` (installs the nightly toolchain with rust-src and bpf-linker), \
or set TARE_SKIP_EBPF=1 to build tare without kernel capture";
const TARGET: &str = "bpfel-unknown-none";

fn fail(what: &str, detail: &str) -> ! {
    panic!(
        "building the eBPF programs (capture-ebpf) failed: {what}\n{detail}\nto fix: {SETUP_HINT}"
    );
}

fn main() {
    let manifest =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let ebpf_dir = manifest.join("..").join("capture-ebpf");
    println!("cargo:rerun-if-env-changed=TARE_SKIP_EBPF");
    println!("cargo:rerun-if-env-changed=TARE_EBPF_TOOLCHAIN");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed={}", ebpf_dir.join("src").display());
    println!(
        "cargo:rerun-if-changed={}",
        ebpf_dir.join("Cargo.toml").display()
    );

    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let object = out_dir.join("capture-ebpf");
    if env::var_os("TARE_SKIP_EBPF").is_some_and(|v| v == "1") {
        println!("cargo:warning=TARE_SKIP_EBPF=1: building tare without its eBPF programs");
        std::fs::write(&object, b"").expect("write empty eBPF placeholder");
        return;
    }

    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_else(|_| "x86_64".into());
    let endian = env::var("CARGO_CFG_TARGET_ENDIAN").unwrap_or_else(|_| "little".into());
    if endian != "little" {
        fail("only little-endian hosts are supported", "");
    }

    // bpf-linker is installed by `cargo install` into $CARGO_HOME/bin (~/.cargo/bin).
    let mut path: Vec<PathBuf> = env::var_os("PATH")
        .map(|p| env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Some(bin) = env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|p| p.join("bin"))
    {
        if !path.contains(&bin) {
            path.push(bin);
        }
    }
    let path: OsString = env::join_paths(&path).expect("PATH entries without separators");

    let target_dir = out_dir.join("ebpf-target");
    // The nightly that builds the eBPF object (`TARE_EBPF_TOOLCHAIN` pins another one).
    let toolchain = env::var("TARE_EBPF_TOOLCHAIN").unwrap_or_else(|_| "nightly".into());
    let mut cmd = Command::new("rustup");
    cmd.args([
        "run",
        toolchain.as_str(),
        "cargo",
        "build",
        "--quiet",
        "--package",
        "capture-ebpf",
        "--bin",
        "capture-ebpf",
    ])
    .args([
        "--release",
        "--target",
        TARGET,
        "-Z",
        "build-std=core",
        "--target-dir",
    ])
    .arg(&target_dir)
    .current_dir(&ebpf_dir)
    .env("PATH", &path)
    .env(
        "CARGO_ENCODED_RUSTFLAGS",
        format!("--cfg=bpf_target_arch=\"{arch}\"\x1f-Cdebuginfo=0"),
    )
    // The workspace's release profile is for the host binary. The eBPF object needs one
    // codegen unit, and neither debug info nor BTF of its own: the loader hands the kernel
    // no program BTF (the fexit and tp_btf targets are found in the kernel's), and parsing
    // them cost 1.3 ms of every capture's start (the object went from 454 KB to a few).
    .env("CARGO_PROFILE_RELEASE_STRIP", "debuginfo")
    .env("CARGO_PROFILE_RELEASE_DEBUG", "0")
    .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1")
    .env("CARGO_PROFILE_RELEASE_LTO", "false");
    for k in [
        "RUSTC",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
    ] {
        cmd.env_remove(k);
    }
    let out = match cmd.output() {
        Ok(o) => o,
        Err(e) => fail(
            &format!("cannot run `rustup`: {e}"),
            "rustup is needed to use the nightly toolchain.",
        ),
    };
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let mut hint = String::new();
        if stderr.contains("bpf-linker") {
            hint.push_str("(bpf-linker is missing or broken.)\n");
        }
        if stderr.contains("is not installed") || stderr.contains("rust-src") {
            hint.push_str("(the nightly toolchain or its rust-src component is missing.)\n");
        }
        fail(
            &format!("{cmd:?} exited with {}", out.status),
            &format!("{stderr}\n{hint}"),
        );
    }
    let built = target_dir.join(TARGET).join("release").join("capture-ebpf");
    copy(&built, &object);
}

fn copy(from: &Path, to: &Path) {
    if let Err(e) = std::fs::copy(from, to) {
        fail(
            &format!("copying {} to {}: {e}", from.display(), to.display()),
            "",
        );
    }
}
