//! Helpers shared by the integration tests of cilium-maps.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The clang to use: `$CLANG`, else `clang-19`, else `clang`.
///
/// Without clang the test is skipped with a message, unless `CILIUM_PRIVILEGED_TESTS=1`
/// (CI, or `cargo xtask test` as root, which installs clang): then it fails.
pub fn clang_or_skip(test: &str) -> Option<String> {
    let candidates: Vec<String> = match std::env::var("CLANG") {
        Ok(c) => vec![c],
        Err(_) => vec!["clang-19".into(), "clang".into()],
    };
    for c in candidates {
        if Command::new(&c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return Some(c);
        }
    }
    let msg =
        "no clang found: install it with `apt-get install clang-19 libbpf-dev` (or set CLANG)";
    if std::env::var("CILIUM_PRIVILEGED_TESTS").as_deref() == Ok("1") {
        panic!("{test}: {msg}");
    }
    eprintln!("skipping {test}: {msg}");
    None
}

/// Debian keeps `asm/types.h` under the multiarch directory, which `-target bpf` does not search.
pub fn multiarch_include() -> String {
    let triple = match std::env::consts::ARCH {
        "x86_64" => "x86_64-linux-gnu",
        "aarch64" => "aarch64-linux-gnu",
        other => other,
    };
    format!("/usr/include/{triple}")
}

/// Compiles `src` with `clang -g -O2 -target bpf -I include_dir` into `out`; panics with
/// clang's message on failure.
pub fn compile_bpf(clang: &str, src: &Path, include_dir: &Path, out: &Path) {
    let output = Command::new(clang)
        .args(["-g", "-O2", "-target", "bpf", "-Wall", "-Werror", "-c"])
        .arg("-I")
        .arg(include_dir)
        .arg("-I")
        .arg(multiarch_include())
        .arg(src)
        .arg("-o")
        .arg(out)
        .output()
        .expect("run clang");
    assert!(
        output.status.success(),
        "clang failed on {}:\n{}",
        src.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A fresh temporary directory under the target dir (removed by the caller).
pub fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cilium-maps-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A deterministic xorshift64* generator for property-style tests.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
