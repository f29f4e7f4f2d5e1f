//! The layout check: compares the Rust mirrors with the C header as the compiler laid it out.
//!
//! In the spirit of Cilium's "alignchecker": `bpf/abi_check.c` names every ABI type; compiled
//! with `clang -g -target bpf`, its BTF records the size of every struct, the offset and size
//! of every field and the value of every constant. [`check_all`] compares all of that with
//! [`crate::abi`] (sizes, offsets with `core::mem::offset_of!`, constants) and also fails when
//! the header has a struct or constant the Rust side does not mirror.
//!
//! No root is needed, only the object file. `cilium-datapath` runs the same check against the
//! BTF of its real program objects.

use std::fmt;

use crate::btf::{Btf, BtfError};

/// One field of a Rust mirror.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldLayout {
    /// Field name (the C name; a raw identifier's `r#` is ignored).
    pub name: &'static str,
    /// `offset_of!`.
    pub offset: usize,
    /// `size_of` the field's type.
    pub size: usize,
}

/// The layout of a Rust mirror.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructLayout {
    /// The C struct tag it mirrors.
    pub c_name: &'static str,
    /// The Rust type name.
    pub rust_name: &'static str,
    /// `size_of`.
    pub size: usize,
    /// Fields in declaration order.
    pub fields: Vec<FieldLayout>,
}

/// A Rust type that mirrors a C struct of the ABI.
pub trait AbiType {
    /// The C struct tag.
    const C_NAME: &'static str;
    /// The Rust side's layout.
    fn layout() -> StructLayout;
}

/// One disagreement between C and Rust.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// The Rust type mirrors a struct the header does not define.
    MissingCStruct {
        /// C struct tag.
        c_name: String,
    },
    /// The header defines a `cil_*` struct no Rust type mirrors.
    UnmirroredStruct {
        /// C struct tag.
        c_name: String,
    },
    /// `sizeof` differs.
    Size {
        /// C struct tag.
        c_name: String,
        /// C size.
        c: usize,
        /// Rust size.
        rust: usize,
    },
    /// A C field has no Rust field of the same name.
    MissingRustField {
        /// C struct tag.
        c_name: String,
        /// Field.
        field: String,
    },
    /// A Rust field has no C field of the same name.
    MissingCField {
        /// C struct tag.
        c_name: String,
        /// Field.
        field: String,
    },
    /// Same field, different offset.
    Offset {
        /// C struct tag.
        c_name: String,
        /// Field.
        field: String,
        /// C offset.
        c: usize,
        /// Rust offset.
        rust: usize,
    },
    /// Same field, different size.
    FieldSize {
        /// C struct tag.
        c_name: String,
        /// Field.
        field: String,
        /// C size.
        c: usize,
        /// Rust size.
        rust: usize,
    },
    /// The C struct uses a bit field (forbidden in the ABI).
    Bitfield {
        /// C struct tag.
        c_name: String,
        /// Field.
        field: String,
    },
    /// A Rust constant has no C enumerator of the same name.
    MissingCConstant {
        /// Constant.
        name: String,
    },
    /// A `CIL_*` enumerator of the header has no Rust constant.
    UnmirroredConstant {
        /// Constant.
        name: String,
    },
    /// Same constant, different value.
    ConstantValue {
        /// Constant.
        name: String,
        /// C value.
        c: i64,
        /// Rust value.
        rust: i64,
    },
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingCStruct { c_name } => {
                write!(f, "struct {c_name}: not in the header's BTF")
            }
            Self::UnmirroredStruct { c_name } => write!(f, "struct {c_name}: no Rust mirror"),
            Self::Size { c_name, c, rust } => {
                write!(f, "struct {c_name}: size is {c} in C, {rust} in Rust")
            }
            Self::MissingRustField { c_name, field } => {
                write!(f, "{c_name}.{field}: no such Rust field")
            }
            Self::MissingCField { c_name, field } => write!(f, "{c_name}.{field}: no such C field"),
            Self::Offset {
                c_name,
                field,
                c,
                rust,
            } => {
                write!(f, "{c_name}.{field}: offset is {c} in C, {rust} in Rust")
            }
            Self::FieldSize {
                c_name,
                field,
                c,
                rust,
            } => {
                write!(f, "{c_name}.{field}: size is {c} in C, {rust} in Rust")
            }
            Self::Bitfield { c_name, field } => {
                write!(f, "{c_name}.{field}: bit fields are not allowed in the ABI")
            }
            Self::MissingCConstant { name } => {
                write!(f, "constant {name}: not in the header's BTF")
            }
            Self::UnmirroredConstant { name } => write!(f, "constant {name}: no Rust mirror"),
            Self::ConstantValue { name, c, rust } => {
                write!(f, "constant {name}: {c} in C, {rust} in Rust")
            }
        }
    }
}

/// Errors of the layout check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    /// The object's BTF could not be read.
    #[error("cannot read the ABI object's BTF")]
    Btf(#[source] BtfError),
    /// C and Rust disagree.
    #[error("C and Rust disagree on the datapath ABI:\n{}", list(.0))]
    Mismatches(Vec<Mismatch>),
}

fn list(m: &[Mismatch]) -> String {
    m.iter()
        .map(|m| format!("  - {m}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn rust_field_name(name: &str) -> &str {
    name.strip_prefix("r#").unwrap_or(name)
}

/// Compares one Rust layout with the struct of the same C name in `btf`.
pub fn check_struct(btf: &Btf, rust: &StructLayout) -> Result<Vec<Mismatch>, BtfError> {
    let c_name = rust.c_name.to_owned();
    let Some(c) = btf.struct_by_name(rust.c_name)? else {
        return Ok(vec![Mismatch::MissingCStruct { c_name }]);
    };
    let mut out = Vec::new();
    if c.size != rust.size {
        out.push(Mismatch::Size {
            c_name: c_name.clone(),
            c: c.size,
            rust: rust.size,
        });
    }
    for m in &c.members {
        if m.bitfield_size != 0 {
            out.push(Mismatch::Bitfield {
                c_name: c_name.clone(),
                field: m.name.clone(),
            });
        }
        match rust
            .fields
            .iter()
            .find(|f| rust_field_name(f.name) == m.name)
        {
            None => out.push(Mismatch::MissingRustField {
                c_name: c_name.clone(),
                field: m.name.clone(),
            }),
            Some(f) => {
                if f.offset != m.offset {
                    out.push(Mismatch::Offset {
                        c_name: c_name.clone(),
                        field: m.name.clone(),
                        c: m.offset,
                        rust: f.offset,
                    });
                }
                if f.size != m.size {
                    out.push(Mismatch::FieldSize {
                        c_name: c_name.clone(),
                        field: m.name.clone(),
                        c: m.size,
                        rust: f.size,
                    });
                }
            }
        }
    }
    for f in &rust.fields {
        let name = rust_field_name(f.name);
        if !c.members.iter().any(|m| m.name == name) {
            out.push(Mismatch::MissingCField {
                c_name: c_name.clone(),
                field: name.to_owned(),
            });
        }
    }
    Ok(out)
}

/// Compares `(C enum, C name, value)` constants with the enumerators in `btf`.
///
/// Also reports every `CIL_*` enumerator of a `cil_*` enum that `constants` lacks.
pub fn check_constants(btf: &Btf, constants: &[(&str, &str, i64)]) -> Vec<Mismatch> {
    let c = btf.enumerators();
    let mut out = Vec::new();
    for (_, name, rust) in constants {
        match c.get(*name) {
            None => out.push(Mismatch::MissingCConstant {
                name: (*name).to_owned(),
            }),
            // Every ABI constant fits in 32 bits; compare as u32 so that the signedness clang
            // chose for the enum does not matter.
            Some((_, v)) if *v as u32 != *rust as u32 => out.push(Mismatch::ConstantValue {
                name: (*name).to_owned(),
                c: *v,
                rust: *rust,
            }),
            Some(_) => {}
        }
    }
    for (name, (enum_name, _)) in &c {
        if enum_name.starts_with("cil_") && !constants.iter().any(|(_, n, _)| n == name) {
            out.push(Mismatch::UnmirroredConstant { name: name.clone() });
        }
    }
    out
}

/// Checks every layout in `layouts` and every constant in `constants` against `btf`, and that
/// every `cil_*` struct of the BTF is mirrored.
pub fn check(
    btf: &Btf,
    layouts: &[StructLayout],
    constants: &[(&str, &str, i64)],
) -> Result<(), LayoutError> {
    let mut out = Vec::new();
    for l in layouts {
        out.extend(check_struct(btf, l).map_err(LayoutError::Btf)?);
    }
    for name in btf.struct_names() {
        if name.starts_with("cil_") && !layouts.iter().any(|l| l.c_name == name) {
            out.push(Mismatch::UnmirroredStruct { c_name: name });
        }
    }
    out.extend(check_constants(btf, constants));
    if out.is_empty() {
        Ok(())
    } else {
        Err(LayoutError::Mismatches(out))
    }
}

/// Checks the whole ABI ([`crate::abi`]) against the BTF of an ELF object compiled from the
/// header (such as `bpf/abi_check.c`, or any datapath program that includes the header).
pub fn check_all(elf: &[u8]) -> Result<(), LayoutError> {
    let btf = Btf::from_elf(elf).map_err(LayoutError::Btf)?;
    check(&btf, &crate::abi::all_layouts(), crate::abi::consts::ALL)
}
