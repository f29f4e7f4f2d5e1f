//! Exposes the ABI header directory to dependent build scripts.
//!
//! `cilium-datapath`'s build.rs reads `DEP_CILIUM_MAPS_ABI_INCLUDE` and passes it to clang
//! with `-I`, so the C programs compile against the header that ships in this crate.

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("include");
    println!("cargo::metadata=include={}", dir.display());
    println!("cargo::rerun-if-changed=include");
}
