//! The Rust code generated from `proto/` is committed under `src/proto/gen/` so that building
//! the crate needs no `protoc`. This test regenerates it and fails when the committed copy is
//! stale; `UPDATE_GOLDEN=1` writes the fresh copy instead.
//!
//! Needs `protoc` (Debian `protobuf-compiler`, which `cargo xtask test` installs).

use std::path::{Path, PathBuf};

const PACKAGES: [&str; 3] = ["flow", "relay", "observer"];

fn generate(out: &Path, services: bool) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let protos: Vec<PathBuf> = PACKAGES
        .iter()
        .map(|p| root.join("proto").join(p).join(format!("{p}.proto")))
        .collect();
    let descriptors = out.join("descriptors.bin");
    // SAFETY-free env use: protoc is found on PATH unless PROTOC says otherwise.
    tonic_prost_build::configure()
        .build_server(services)
        .build_client(services)
        .build_transport(false)
        .emit_rerun_if_changed(false)
        // Well-known types come from pbjson-types (prost messages with protojson serde);
        // "compile" only stops prost from mapping them to prost-types itself.
        .compile_well_known_types(true)
        .out_dir(out)
        .file_descriptor_set_path(&descriptors)
        .extern_path(".google.protobuf", "::pbjson_types")
        .compile_protos(&protos, &[root.join("proto")])
        .unwrap_or_else(|e| {
            panic!(
                "protoc on {}: {e} (apt-get install protobuf-compiler)",
                root.display()
            )
        });
    let set = std::fs::read(&descriptors).expect("read the descriptor set");
    pbjson_build::Builder::new()
        .register_descriptors(&set)
        .expect("register descriptors")
        .preserve_proto_field_names()
        .out_dir(out)
        .build(&[".flow", ".relay", ".observer"])
        .expect("pbjson codegen");
    std::fs::remove_file(descriptors).expect("remove the descriptor set");
}

#[test]
fn generated_code_is_up_to_date() {
    // Messages (no tonic needed) and, separately, the service code (client and server
    // modules, compiled only with the `server` feature): tonic-build appends the services to
    // the package's file, so the service file is what the full output adds to the messages.
    let fresh = tempfile::tempdir().expect("tempdir");
    generate(fresh.path(), false);
    let full = tempfile::tempdir().expect("tempdir");
    generate(full.path(), true);
    let messages = std::fs::read_to_string(fresh.path().join("observer.rs")).expect("read");
    let with_services = std::fs::read_to_string(full.path().join("observer.rs")).expect("read");
    let services = with_services
        .strip_prefix(messages.as_str())
        .expect("the service code follows the messages");
    assert!(services.contains("pub mod observer_server"));
    std::fs::write(
        fresh.path().join("observer.tonic.rs"),
        format!("// The Observer service's tonic code, split from observer.rs by tests/codegen.rs.\n{services}"),
    )
    .expect("write the service code");
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/proto/gen");
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut names: Vec<String> = std::fs::read_dir(fresh.path())
        .expect("list generated files")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "flow.rs",
            "flow.serde.rs",
            "observer.rs",
            "observer.serde.rs",
            "observer.tonic.rs",
            "relay.rs",
            "relay.serde.rs"
        ],
        "generated file set"
    );
    let mut stale = Vec::new();
    for name in &names {
        let new = std::fs::read_to_string(fresh.path().join(name)).expect("read generated");
        let path = committed.join(name);
        let old = std::fs::read_to_string(&path).unwrap_or_default();
        if old != new {
            if update {
                std::fs::write(&path, &new).expect("write generated");
            } else {
                stale.push(name.clone());
            }
        }
    }
    assert!(
        stale.is_empty(),
        "src/proto/gen/{stale:?} differ from what proto/ generates; rerun with UPDATE_GOLDEN=1"
    );
}
