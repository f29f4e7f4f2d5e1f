//! The layout check: the Rust mirrors against the BTF of the compiled C header.
//!
//! Needs clang (`cargo xtask test` installs it), not root.

mod common;

use cilium_maps::abi;
use cilium_maps::btf::Btf;
use cilium_maps::layout::{self, AbiType, LayoutError, Mismatch};

fn compile_checker(tag: &str, include_dir: &std::path::Path) -> Option<Vec<u8>> {
    let clang = common::clang_or_skip(tag)?;
    let dir = common::temp_dir(tag);
    let out = dir.join("abi_check.o");
    common::compile_bpf(
        &clang,
        &common::crate_dir().join("bpf/abi_check.c"),
        include_dir,
        &out,
    );
    let bytes = std::fs::read(&out).expect("read object");
    let _ = std::fs::remove_dir_all(&dir);
    Some(bytes)
}

#[test]
fn header_and_rust_mirrors_agree() {
    let Some(elf) = compile_checker("ok", &common::crate_dir().join("include")) else {
        return;
    };
    if let Err(e) = layout::check_all(&elf) {
        panic!("{e}");
    }
    // The check really looked at the structs: spot-check what BTF says.
    let btf = Btf::from_elf(&elf).unwrap();
    let key = btf
        .struct_by_name("cil_policy_key")
        .unwrap()
        .expect("cil_policy_key in BTF");
    assert_eq!(key.size, 12);
    let names: Vec<_> = key
        .members
        .iter()
        .map(|m| (m.name.as_str(), m.offset))
        .collect();
    assert_eq!(
        names,
        [
            ("prefixlen", 0),
            ("identity", 4),
            ("egress", 8),
            ("protocol", 9),
            ("dport", 10)
        ]
    );
    assert_eq!(
        btf.enumerators()
            .get("CIL_DROP_POLICY_DENY")
            .map(|(_, v)| *v),
        Some(181)
    );
    assert_eq!(
        abi::all_layouts().len(),
        btf.struct_names()
            .iter()
            .filter(|n| n.starts_with("cil_"))
            .count()
    );
}

// A mirror of cil_policy_key with `egress` and `protocol` swapped: same size, wrong offsets.
cilium_maps::abi_struct! {
    /// Deliberately wrong.
    c = "cil_policy_key", size = 12;
    pub struct SwappedPolicyKey {
        /// prefix
        pub prefixlen: u32,
        /// identity
        pub identity: u32,
        /// moved
        pub protocol: u8,
        /// moved
        pub egress: u8,
        /// port
        pub dport: cilium_maps::abi::Be16,
    }
}

// A mirror of cil_ct_entry that forgot the trailing pad: wrong size, missing field.
cilium_maps::abi_struct! {
    /// Deliberately wrong.
    c = "cil_ct_entry", size = 48;
    pub struct ShortCtEntry {
        /// a
        pub rx_packets: u64,
        /// b
        pub rx_bytes: u64,
        /// c
        pub tx_packets: u64,
        /// d
        pub tx_bytes: u64,
        /// e
        pub lifetime: u32,
        /// f
        pub flags: u16,
        /// g
        pub rev_nat_index: u16,
        /// h
        pub backend_id: u32,
        /// i
        pub src_identity: u32,
    }
}

#[test]
fn a_moved_rust_field_is_caught() {
    let Some(elf) = compile_checker("wrong-rust", &common::crate_dir().join("include")) else {
        return;
    };
    let btf = Btf::from_elf(&elf).unwrap();
    let got = layout::check_struct(&btf, &SwappedPolicyKey::layout()).unwrap();
    assert_eq!(
        got,
        vec![
            Mismatch::Offset {
                c_name: "cil_policy_key".into(),
                field: "egress".into(),
                c: 8,
                rust: 9
            },
            Mismatch::Offset {
                c_name: "cil_policy_key".into(),
                field: "protocol".into(),
                c: 9,
                rust: 8
            },
        ]
    );
    let got = layout::check_struct(&btf, &ShortCtEntry::layout()).unwrap();
    assert!(
        got.contains(&Mismatch::Size {
            c_name: "cil_ct_entry".into(),
            c: 64,
            rust: 48
        }),
        "{got:?}"
    );
    assert!(got.contains(&Mismatch::MissingRustField {
        c_name: "cil_ct_entry".into(),
        field: "proxy_port".into()
    }));

    // And the whole-ABI check fails with a message naming the field.
    let mut layouts = abi::all_layouts();
    let pos = layouts
        .iter()
        .position(|l| l.c_name == "cil_policy_key")
        .unwrap();
    layouts[pos] = SwappedPolicyKey::layout();
    let err = layout::check(&btf, &layouts, abi::consts::ALL).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("cil_policy_key.egress: offset is 8 in C, 9 in Rust"),
        "{msg}"
    );
}

#[test]
fn a_moved_c_field_is_caught() {
    if common::clang_or_skip("a_moved_c_field_is_caught").is_none() {
        return;
    }
    // Copy the header, move `egress` after `protocol` in cil_policy_key, recompile.
    let dir = common::temp_dir("moved-c");
    let header = std::fs::read_to_string(common::crate_dir().join("include/cilium_abi.h")).unwrap();
    let moved = header.replacen(
        "\t__u8 egress;     /* CIL_DIR_INGRESS / CIL_DIR_EGRESS */\n\t__u8 protocol;   /* IANA protocol number; 0 = any */\n",
        "\t__u8 protocol;   /* IANA protocol number; 0 = any */\n\t__u8 egress;     /* CIL_DIR_INGRESS / CIL_DIR_EGRESS */\n",
        1,
    );
    assert_ne!(
        moved, header,
        "the test's edit no longer applies to the header"
    );
    std::fs::write(dir.join("cilium_abi.h"), moved).unwrap();
    let elf = compile_checker("moved-c-obj", &dir).expect("clang checked above");
    let _ = std::fs::remove_dir_all(&dir);
    match layout::check_all(&elf) {
        Err(LayoutError::Mismatches(m)) => {
            assert!(m.contains(&Mismatch::Offset {
                c_name: "cil_policy_key".into(),
                field: "egress".into(),
                c: 9,
                rust: 8
            }));
        }
        other => panic!("moved C field not caught: {other:?}"),
    }
}

#[test]
fn a_changed_c_constant_is_caught() {
    if common::clang_or_skip("a_changed_c_constant_is_caught").is_none() {
        return;
    }
    let dir = common::temp_dir("const-c");
    let header = std::fs::read_to_string(common::crate_dir().join("include/cilium_abi.h")).unwrap();
    let changed = header.replacen(
        "CIL_DROP_POLICY_DENY = 181",
        "CIL_DROP_POLICY_DENY = 182",
        1,
    );
    assert_ne!(changed, header);
    std::fs::write(dir.join("cilium_abi.h"), changed).unwrap();
    let elf = compile_checker("const-c-obj", &dir).expect("clang checked above");
    let _ = std::fs::remove_dir_all(&dir);
    let err = layout::check_all(&elf).unwrap_err();
    assert!(
        err.to_string()
            .contains("constant CIL_DROP_POLICY_DENY: 182 in C, 181 in Rust"),
        "{err}"
    );
}

#[test]
fn btf_reader_rejects_garbage() {
    assert!(matches!(
        Btf::parse(&[0x9f, 0xeb, 1, 0]),
        Err(cilium_maps::btf::BtfError::Truncated { .. })
    ));
    assert!(matches!(
        Btf::parse(&[0, 0, 0, 0]),
        Err(cilium_maps::btf::BtfError::BadMagic { magic: 0 })
    ));
    assert!(matches!(
        Btf::from_elf(b"not an elf"),
        Err(cilium_maps::btf::BtfError::Elf { .. })
    ));
}
