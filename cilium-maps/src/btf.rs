//! A small reader of BTF (BPF Type Format), enough to check struct layouts and constants.
//!
//! It reads the `.BTF` section of an object compiled with `clang -g -target bpf` and exposes
//! structs (size, members with byte offsets and sizes) and enumerators (name and value). It is
//! not a general BTF library: no relocation, no sanitising, no writing (aya does those when it
//! loads programs).

use std::collections::BTreeMap;

use object::{Object as _, ObjectSection as _};

/// Errors of the BTF reader.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BtfError {
    /// The ELF file could not be parsed.
    #[error("not an ELF object: {reason}")]
    Elf {
        /// What the ELF parser said.
        reason: String,
    },
    /// The object has no `.BTF` section (compiled without `-g`?).
    #[error("object has no .BTF section (compile with clang -g)")]
    NoBtfSection,
    /// The data ends before a structure it announces.
    #[error("BTF truncated at byte {offset}: {what}")]
    Truncated {
        /// Byte offset in the BTF data.
        offset: usize,
        /// What was being read.
        what: &'static str,
    },
    /// Wrong magic number or byte order.
    #[error("bad BTF magic {magic:#06x} (only little-endian BTF is supported)")]
    BadMagic {
        /// The magic read.
        magic: u16,
    },
    /// A type kind this reader does not know.
    #[error("unknown BTF kind {kind} for type id {id}")]
    UnknownKind {
        /// Kind number.
        kind: u32,
        /// Type id.
        id: u32,
    },
    /// A reference to a type id that does not exist.
    #[error("BTF type id {id} out of range")]
    BadTypeId {
        /// Type id.
        id: u32,
    },
}

/// One BTF type, reduced to what the layout check needs.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Int { size: u32 },
    Ptr,
    Array { elem: u32, nelems: u32 },
    Struct { size: u32, members: Vec<RawMember> },
    Union { size: u32, members: Vec<RawMember> },
    Enum { size: u32, values: Vec<(u32, i64)> },
    Alias { target: u32 },
    Float { size: u32 },
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct RawMember {
    name_off: u32,
    type_id: u32,
    bit_offset: u32,
    bitfield_size: u32,
}

#[derive(Debug, Clone)]
struct Type {
    name_off: u32,
    kind: Kind,
}

/// A struct member as read from BTF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Field name.
    pub name: String,
    /// Byte offset.
    pub offset: usize,
    /// Size in bytes.
    pub size: usize,
    /// Bit-field width, 0 when the member is not a bit field.
    pub bitfield_size: u32,
}

/// A struct as read from BTF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CStruct {
    /// Struct tag.
    pub name: String,
    /// `sizeof`.
    pub size: usize,
    /// Members in declaration order.
    pub members: Vec<Member>,
}

/// Parsed BTF.
#[derive(Debug, Clone)]
pub struct Btf {
    types: Vec<Type>,
    strings: Vec<u8>,
}

fn u32_at(data: &[u8], off: usize, what: &'static str) -> Result<u32, BtfError> {
    data.get(off..off + 4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or(BtfError::Truncated { offset: off, what })
}

impl Btf {
    /// Reads the `.BTF` section of an ELF object.
    pub fn from_elf(elf: &[u8]) -> Result<Self, BtfError> {
        let file = object::File::parse(elf).map_err(|e| BtfError::Elf {
            reason: e.to_string(),
        })?;
        let section = file.section_by_name(".BTF").ok_or(BtfError::NoBtfSection)?;
        let data = section.data().map_err(|e| BtfError::Elf {
            reason: e.to_string(),
        })?;
        Self::parse(data)
    }

    /// Parses raw BTF data (the contents of a `.BTF` section).
    pub fn parse(data: &[u8]) -> Result<Self, BtfError> {
        let magic = data
            .get(0..2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .ok_or(BtfError::Truncated {
                offset: 0,
                what: "header",
            })?;
        if magic != 0xeb9f {
            return Err(BtfError::BadMagic { magic });
        }
        let hdr_len = u32_at(data, 4, "header")? as usize;
        let type_off = u32_at(data, 8, "header")? as usize;
        let type_len = u32_at(data, 12, "header")? as usize;
        let str_off = u32_at(data, 16, "header")? as usize;
        let str_len = u32_at(data, 20, "header")? as usize;
        let types_start = hdr_len + type_off;
        let types_end = types_start + type_len;
        let str_start = hdr_len + str_off;
        let strings = data
            .get(str_start..str_start + str_len)
            .ok_or(BtfError::Truncated {
                offset: str_start,
                what: "string section",
            })?
            .to_vec();
        if data.len() < types_end {
            return Err(BtfError::Truncated {
                offset: types_end,
                what: "type section",
            });
        }

        // Type id 0 is void.
        let mut types = vec![Type {
            name_off: 0,
            kind: Kind::Other,
        }];
        let mut off = types_start;
        while off < types_end {
            let id = types.len() as u32;
            let name_off = u32_at(data, off, "type header")?;
            let info = u32_at(data, off + 4, "type header")?;
            let size_or_type = u32_at(data, off + 8, "type header")?;
            off += 12;
            let vlen = (info & 0xffff) as usize;
            let kind_num = (info >> 24) & 0x1f;
            let kind_flag = info >> 31 == 1;
            let kind = match kind_num {
                1 => {
                    off += 4;
                    Kind::Int { size: size_or_type }
                }
                2 => Kind::Ptr,
                3 => {
                    let elem = u32_at(data, off, "array")?;
                    let nelems = u32_at(data, off + 8, "array")?;
                    off += 12;
                    Kind::Array { elem, nelems }
                }
                4 | 5 => {
                    let mut members = Vec::with_capacity(vlen);
                    for _ in 0..vlen {
                        let m_name = u32_at(data, off, "member")?;
                        let m_type = u32_at(data, off + 4, "member")?;
                        let m_off = u32_at(data, off + 8, "member")?;
                        off += 12;
                        let (bit_offset, bitfield_size) = if kind_flag {
                            (m_off & 0xff_ffff, m_off >> 24)
                        } else {
                            (m_off, 0)
                        };
                        members.push(RawMember {
                            name_off: m_name,
                            type_id: m_type,
                            bit_offset,
                            bitfield_size,
                        });
                    }
                    if kind_num == 4 {
                        Kind::Struct {
                            size: size_or_type,
                            members,
                        }
                    } else {
                        Kind::Union {
                            size: size_or_type,
                            members,
                        }
                    }
                }
                6 => {
                    let mut values = Vec::with_capacity(vlen);
                    for _ in 0..vlen {
                        let n = u32_at(data, off, "enumerator")?;
                        let raw = u32_at(data, off + 4, "enumerator")?;
                        off += 8;
                        // kind_flag set = signed enum; otherwise unsigned.
                        let v = if kind_flag {
                            i64::from(raw as i32)
                        } else {
                            i64::from(raw)
                        };
                        values.push((n, v));
                    }
                    Kind::Enum {
                        size: size_or_type,
                        values,
                    }
                }
                19 => {
                    let mut values = Vec::with_capacity(vlen);
                    for _ in 0..vlen {
                        let n = u32_at(data, off, "enumerator")?;
                        let lo = u32_at(data, off + 4, "enumerator")?;
                        let hi = u32_at(data, off + 8, "enumerator")?;
                        off += 12;
                        values.push((n, ((u64::from(hi) << 32) | u64::from(lo)) as i64));
                    }
                    Kind::Enum {
                        size: size_or_type,
                        values,
                    }
                }
                7 | 12 | 18 => Kind::Other,
                8..=11 => Kind::Alias {
                    target: size_or_type,
                },
                13 => {
                    off += 8 * vlen;
                    Kind::Other
                }
                14 | 17 => {
                    off += 4;
                    Kind::Other
                }
                15 => {
                    off += 12 * vlen;
                    Kind::Other
                }
                16 => Kind::Float { size: size_or_type },
                kind => return Err(BtfError::UnknownKind { kind, id }),
            };
            types.push(Type { name_off, kind });
        }
        Ok(Self { types, strings })
    }

    fn string(&self, off: u32) -> String {
        let start = off as usize;
        let rest = self.strings.get(start..).unwrap_or_default();
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        String::from_utf8_lossy(&rest[..end]).into_owned()
    }

    fn type_by_id(&self, id: u32) -> Result<&Type, BtfError> {
        self.types
            .get(id as usize)
            .ok_or(BtfError::BadTypeId { id })
    }

    /// Size in bytes of type `id`, following typedefs and qualifiers.
    fn size_of(&self, id: u32) -> Result<usize, BtfError> {
        let mut id = id;
        for _ in 0..64 {
            return Ok(match &self.type_by_id(id)?.kind {
                Kind::Int { size } | Kind::Float { size } => *size as usize,
                Kind::Struct { size, .. } | Kind::Union { size, .. } | Kind::Enum { size, .. } => {
                    *size as usize
                }
                Kind::Ptr => 8,
                Kind::Array { elem, nelems } => self.size_of(*elem)? * *nelems as usize,
                Kind::Alias { target } => {
                    id = *target;
                    continue;
                }
                Kind::Other => 0,
            });
        }
        Err(BtfError::BadTypeId { id })
    }

    /// The struct named `name`, if the BTF has one.
    pub fn struct_by_name(&self, name: &str) -> Result<Option<CStruct>, BtfError> {
        for t in &self.types {
            if let Kind::Struct { size, members } = &t.kind
                && self.string(t.name_off) == name
            {
                let mut out = Vec::with_capacity(members.len());
                for m in members {
                    out.push(Member {
                        name: self.string(m.name_off),
                        offset: (m.bit_offset / 8) as usize,
                        size: self.size_of(m.type_id)?,
                        bitfield_size: m.bitfield_size,
                    });
                }
                return Ok(Some(CStruct {
                    name: name.to_owned(),
                    size: *size as usize,
                    members: out,
                }));
            }
        }
        Ok(None)
    }

    /// Names of every named struct.
    pub fn struct_names(&self) -> Vec<String> {
        self.types
            .iter()
            .filter(|t| matches!(t.kind, Kind::Struct { .. }) && t.name_off != 0)
            .map(|t| self.string(t.name_off))
            .collect()
    }

    /// Every enumerator of every named enum: name → (enum name, value).
    pub fn enumerators(&self) -> BTreeMap<String, (String, i64)> {
        let mut out = BTreeMap::new();
        for t in &self.types {
            if let Kind::Enum { values, .. } = &t.kind {
                let enum_name = self.string(t.name_off);
                for (n, v) in values {
                    out.insert(self.string(*n), (enum_name.clone(), *v));
                }
            }
        }
        out
    }
}
