//! Compiles the eBPF programs under `bpf/` with clang and leaves the objects in `OUT_DIR`,
//! where `src/lib.rs` embeds them.
//!
//! `CLANG` overrides the compiler (default: `clang-19`, then `clang`). The ABI header comes
//! from cilium-maps through `DEP_CILIUM_MAPS_ABI_INCLUDE`.

use std::path::PathBuf;
use std::process::Command;

/// Entry files, one per attach point.
const PROGRAMS: &[&str] = &["bpf_lxc", "bpf_host", "bpf_sock", "bpf_sockops", "bpf_xdp"];

fn find_clang() -> Result<String, String> {
    if let Ok(c) = std::env::var("CLANG") {
        return Ok(c);
    }
    for c in ["clang-19", "clang"] {
        if Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return Ok(c.to_owned());
        }
    }
    Err(
        "no clang found to compile the eBPF programs: install it with \
         `apt-get install clang-19 libbpf-dev` (or set CLANG to a clang binary)"
            .to_owned(),
    )
}

fn main() {
    println!("cargo::rerun-if-changed=bpf");
    println!("cargo::rerun-if-env-changed=CLANG");
    let clang = match find_clang() {
        Ok(c) => c,
        Err(e) => {
            println!("cargo::error={e}");
            return;
        }
    };
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let abi_include =
        std::env::var("DEP_CILIUM_MAPS_ABI_INCLUDE").expect("cilium-maps exports its include dir");
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let multiarch = match arch.as_str() {
        "x86_64" => "/usr/include/x86_64-linux-gnu",
        "aarch64" => "/usr/include/aarch64-linux-gnu",
        _ => "/usr/include",
    };
    println!("cargo::rerun-if-changed={abi_include}");
    for prog in PROGRAMS {
        let src = format!("bpf/{prog}.c");
        let obj = out_dir.join(format!("{prog}.o"));
        let output = Command::new(&clang)
            .args([
                "-g",
                "-O2",
                "-target",
                "bpf",
                "-Wall",
                "-Werror",
                "-c",
                &src,
                "-I",
                &abi_include,
                "-I",
                multiarch,
                "-o",
            ])
            .arg(&obj)
            .output();
        match output {
            Ok(o) if o.status.success() => {}
            Ok(o) => {
                let stderr = String::from_utf8_lossy(&o.stderr);
                if stderr.contains("bpf/bpf_helpers.h") && stderr.contains("not found") {
                    println!(
                        "cargo::error=libbpf headers missing: install them with `apt-get install libbpf-dev`"
                    );
                }
                for line in stderr.lines() {
                    println!("cargo::warning={line}");
                }
                println!("cargo::error=clang failed to compile {src}");
            }
            Err(e) => println!("cargo::error=could not run {clang}: {e}"),
        }
    }
}
