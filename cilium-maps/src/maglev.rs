//! The Maglev map: per service, a lookup table of backend ids.
//!
//! In the kernel this is a hash-of-maps keyed by [`MaglevKey`] whose values are inner arrays
//! with a single element, `u32 backend_ids[table_size]`. A new table is written into a fresh
//! inner array which then replaces the old one in a single update of the outer map, so the
//! datapath never sees a half-written table. The in-memory twin keeps the tables in a map.

use std::collections::BTreeMap;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::Path;

use aya::maps::MapData;

use crate::abi::{MaglevKey, consts};
use crate::error::MapError;
use crate::kernel::{KernelMap, create_map_fd};
use crate::store::{MapKind, MapSpec, MapStore, UpdateFlags};

const BPF_MAP_TYPE_ARRAY: u32 = 2;
const BPF_MAP_TYPE_HASH_OF_MAPS: u32 = 13;

#[derive(Debug)]
enum Tables {
    Kernel { outer: OwnedFd, _template: OwnedFd },
    Memory(BTreeMap<u16, Vec<u32>>),
}

/// Per-service Maglev lookup tables.
#[derive(Debug)]
pub struct MaglevMap {
    name: String,
    table_size: u32,
    max_services: u32,
    tables: Tables,
}

fn key_bytes(rev_nat_index: u16) -> [u8; 4] {
    bytemuck::cast(MaglevKey {
        rev_nat_index,
        pad: 0,
    })
}

impl MaglevMap {
    /// Creates the kernel maps: an outer hash-of-maps for `max_services` services (0 = the
    /// default) whose inner arrays hold `table_size` backend ids.
    pub fn create(name: &str, table_size: u32, max_services: u32) -> Result<Self, MapError> {
        let max_services = if max_services == 0 {
            consts::CIL_LB_MAP_DEFAULT_MAX
        } else {
            max_services
        };
        let sys = |call, source| MapError::Syscall {
            map: name.to_owned(),
            call,
            source,
        };
        let template = create_map_fd(
            BPF_MAP_TYPE_ARRAY,
            4,
            table_size * 4,
            1,
            0,
            &format!("{name}_in"),
            None,
        )
        .map_err(|e| sys("BPF_MAP_CREATE (inner template)", e))?;
        let outer = create_map_fd(
            BPF_MAP_TYPE_HASH_OF_MAPS,
            4,
            4,
            max_services,
            0,
            name,
            Some(template.as_fd().as_raw_fd() as u32),
        )
        .map_err(|e| sys("BPF_MAP_CREATE", e))?;
        Ok(Self {
            name: name.to_owned(),
            table_size,
            max_services,
            tables: Tables::Kernel {
                outer,
                _template: template,
            },
        })
    }

    /// An in-memory twin.
    pub fn in_memory(name: &str, table_size: u32, max_services: u32) -> Self {
        let max_services = if max_services == 0 {
            consts::CIL_LB_MAP_DEFAULT_MAX
        } else {
            max_services
        };
        Self {
            name: name.to_owned(),
            table_size,
            max_services,
            tables: Tables::Memory(BTreeMap::new()),
        }
    }

    /// Entries per table.
    pub fn table_size(&self) -> u32 {
        self.table_size
    }

    fn outer_store(&self, outer: &OwnedFd) -> Result<KernelMap, MapError> {
        let fd = outer.try_clone().map_err(|source| MapError::Syscall {
            map: self.name.clone(),
            call: "dup",
            source,
        })?;
        let data = MapData::from_fd(fd).map_err(|e| MapError::Aya {
            map: self.name.clone(),
            action: "open",
            source: Box::new(e),
        })?;
        KernelMap::from_map_data_raw(
            MapSpec {
                name: self.name.clone(),
                kind: MapKind::Hash,
                key_size: 4,
                value_size: 4,
                max_entries: self.max_services,
            },
            data,
        )
    }

    /// Installs `table` for the service `rev_nat_index`, replacing any previous table
    /// atomically. The table must have exactly `table_size` entries.
    pub fn set_table(&mut self, rev_nat_index: u16, table: &[u32]) -> Result<(), MapError> {
        if table.len() != self.table_size as usize {
            return Err(MapError::ValueSize {
                map: self.name.clone(),
                size: table.len() * 4,
                expected: self.table_size as usize * 4,
            });
        }
        match &mut self.tables {
            Tables::Memory(m) => {
                if !m.contains_key(&rev_nat_index) && m.len() >= self.max_services as usize {
                    return Err(MapError::Full {
                        map: self.name.clone(),
                        capacity: self.max_services,
                    });
                }
                m.insert(rev_nat_index, table.to_vec());
                Ok(())
            }
            Tables::Kernel { outer, .. } => {
                let inner_fd = create_map_fd(
                    BPF_MAP_TYPE_ARRAY,
                    4,
                    self.table_size * 4,
                    1,
                    0,
                    &format!("{}_in", self.name),
                    None,
                )
                .map_err(|source| MapError::Syscall {
                    map: self.name.clone(),
                    call: "BPF_MAP_CREATE",
                    source,
                })?;
                let inner_data = MapData::from_fd(inner_fd).map_err(|e| MapError::Aya {
                    map: self.name.clone(),
                    action: "open",
                    source: Box::new(e),
                })?;
                let mut inner = KernelMap::from_map_data_raw(
                    MapSpec {
                        name: format!("{}[{rev_nat_index}]", self.name),
                        kind: MapKind::Array,
                        key_size: 4,
                        value_size: self.table_size * 4,
                        max_entries: 1,
                    },
                    inner_data,
                )?;
                inner.update(
                    &0u32.to_ne_bytes(),
                    bytemuck::cast_slice(table),
                    UpdateFlags::Any,
                )?;
                let raw_fd = inner.map_data().fd().as_fd().as_raw_fd() as u32;
                let outer = outer.try_clone().map_err(|source| MapError::Syscall {
                    map: self.name.clone(),
                    call: "dup",
                    source,
                })?;
                let mut store = self.outer_store(&outer)?;
                store.update(
                    &key_bytes(rev_nat_index),
                    &raw_fd.to_ne_bytes(),
                    UpdateFlags::Any,
                )
            }
        }
    }

    /// The table of the service `rev_nat_index`.
    pub fn get_table(&self, rev_nat_index: u16) -> Result<Option<Vec<u32>>, MapError> {
        match &self.tables {
            Tables::Memory(m) => Ok(m.get(&rev_nat_index).cloned()),
            Tables::Kernel { outer, .. } => {
                let store = self.outer_store(outer)?;
                let Some(id) = store.lookup(&key_bytes(rev_nat_index))? else {
                    return Ok(None);
                };
                let id = u32::from_ne_bytes([id[0], id[1], id[2], id[3]]);
                let data = MapData::from_id(id).map_err(|e| MapError::Aya {
                    map: self.name.clone(),
                    action: "open inner map by id",
                    source: Box::new(e),
                })?;
                let inner =
                    KernelMap::from_map_data(&format!("{}[{rev_nat_index}]", self.name), data)?;
                Ok(inner.lookup(&0u32.to_ne_bytes())?.map(|raw| {
                    raw.chunks_exact(4)
                        .map(|c| u32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
                        .collect()
                }))
            }
        }
    }

    /// Removes the table of `rev_nat_index`.
    pub fn remove(&mut self, rev_nat_index: u16) -> Result<(), MapError> {
        match &mut self.tables {
            Tables::Memory(m) => m
                .remove(&rev_nat_index)
                .map(|_| ())
                .ok_or(MapError::NotFound {
                    map: self.name.clone(),
                }),
            Tables::Kernel { outer, .. } => {
                let outer = outer.try_clone().map_err(|source| MapError::Syscall {
                    map: self.name.clone(),
                    call: "dup",
                    source,
                })?;
                self.outer_store(&outer)?.delete(&key_bytes(rev_nat_index))
            }
        }
    }

    /// The services that have a table.
    pub fn services(&self) -> Result<Vec<u16>, MapError> {
        match &self.tables {
            Tables::Memory(m) => Ok(m.keys().copied().collect()),
            Tables::Kernel { outer, .. } => {
                let mut out: Vec<u16> = self
                    .outer_store(outer)?
                    .keys()?
                    .iter()
                    .map(|k| bytemuck::pod_read_unaligned::<MaglevKey>(k).rev_nat_index)
                    .collect();
                out.sort_unstable();
                Ok(out)
            }
        }
    }

    /// Pins the outer map at `path` (kernel maps only).
    pub fn pin(&self, path: impl AsRef<Path>) -> Result<(), MapError> {
        match &self.tables {
            Tables::Memory(_) => Err(MapError::InvalidKey {
                map: self.name.clone(),
                reason: "an in-memory map cannot be pinned".into(),
            }),
            Tables::Kernel { outer, .. } => self.outer_store(outer)?.pin(path),
        }
    }
}
