//! Compiles `bpf/tc_drop.c` (the floor program of the `prog-cost` benchmark) with clang and
//! leaves the object in `OUT_DIR`. `CLANG` overrides the compiler (default `clang-19`, then
//! `clang`), as for cilium-datapath, which needs clang anyway.

use std::path::PathBuf;
use std::process::Command;

fn clang() -> Option<String> {
    if let Ok(c) = std::env::var("CLANG") {
        return Some(c);
    }
    ["clang-19", "clang"]
        .into_iter()
        .map(str::to_owned)
        .find(|c| {
            Command::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

fn main() {
    println!("cargo::rerun-if-changed=bpf");
    println!("cargo::rerun-if-env-changed=CLANG");
    let Some(clang) = clang() else {
        println!("cargo::error=no clang to compile bpf/tc_drop.c: `apt-get install clang-19`");
        return;
    };
    let obj = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("tc_drop.o");
    match Command::new(&clang)
        .args([
            "-g",
            "-O2",
            "-target",
            "bpf",
            "-Wall",
            "-Werror",
            "-c",
            "bpf/tc_drop.c",
            "-o",
        ])
        .arg(&obj)
        .output()
    {
        Ok(o) if o.status.success() => {}
        Ok(o) => {
            for line in String::from_utf8_lossy(&o.stderr).lines() {
                println!("cargo::warning={line}");
            }
            println!("cargo::error=clang failed to compile bpf/tc_drop.c");
        }
        Err(e) => println!("cargo::error=could not run {clang}: {e}"),
    }
}
