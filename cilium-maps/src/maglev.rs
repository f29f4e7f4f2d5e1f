//! The Maglev map: per service, a lookup table of backend ids.
//!
//! In the kernel this is a hash-of-maps keyed by [`MaglevKey`] whose values are inner arrays
//! with a single element, `u32 backend_ids[table_size]`. A new table is written into a fresh
//! inner array which then replaces the old one in a single update of the outer map, so the
//! datapath never sees a half-written table. The in-memory twin keeps the tables in a map.
//! The kernel variant needs the `kernel` feature.

use std::collections::BTreeMap;
#[cfg(feature = "kernel")]
use std::os::fd::{AsFd, AsRawFd};
#[cfg(feature = "kernel")]
use std::path::Path;

#[cfg(feature = "kernel")]
use aya::maps::MapData;

#[cfg(feature = "kernel")]
use crate::abi::MaglevKey;
use crate::abi::consts;
use crate::error::MapError;
#[cfg(feature = "kernel")]
use crate::kernel::{KernelMap, create_map_fd};
#[cfg(feature = "kernel")]
use crate::outer::MapOfMaps;
#[cfg(feature = "kernel")]
use crate::store::{MapKind, MapSpec, MapStore, UpdateFlags};

#[cfg(feature = "kernel")]
const BPF_MAP_TYPE_ARRAY: u32 = 2;
#[cfg(feature = "kernel")]
const BPF_MAP_TYPE_HASH_OF_MAPS: u32 = 13;

#[derive(Debug)]
enum Tables {
    #[cfg(feature = "kernel")]
    Kernel(MapOfMaps),
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

/// The outer map's `u32` key of a service (the bytes of a [`MaglevKey`]).
#[cfg(feature = "kernel")]
fn outer_key(rev_nat_index: u16) -> u32 {
    u32::from_ne_bytes(bytemuck::cast(MaglevKey {
        rev_nat_index,
        pad: 0,
    }))
}

#[cfg(feature = "kernel")]
fn aya_error(
    map: &str,
    action: &'static str,
    e: impl std::error::Error + Send + Sync + 'static,
) -> MapError {
    MapError::Aya {
        map: map.to_owned(),
        action,
        source: Box::new(e),
    }
}

/// A new single-element array holding one table of `table_size` backend ids.
#[cfg(feature = "kernel")]
fn inner_array(name: &str, table_size: u32) -> Result<KernelMap, MapError> {
    let fd = create_map_fd(
        BPF_MAP_TYPE_ARRAY,
        4,
        table_size * 4,
        1,
        0,
        &format!("{name}_in"),
        None,
    )
    .map_err(|source| MapError::Syscall {
        map: name.to_owned(),
        call: "BPF_MAP_CREATE",
        source,
    })?;
    let data = MapData::from_fd(fd).map_err(|e| aya_error(name, "open", e))?;
    let spec = MapSpec {
        name: name.to_owned(),
        kind: MapKind::Array,
        key_size: 4,
        value_size: table_size * 4,
        max_entries: 1,
    };
    KernelMap::from_map_data_raw(spec, data)
}

impl MaglevMap {
    /// Creates the kernel maps: an outer hash-of-maps for `max_services` services (0 = the
    /// default) whose inner arrays hold `table_size` backend ids.
    #[cfg(feature = "kernel")]
    pub fn create(name: &str, table_size: u32, max_services: u32) -> Result<Self, MapError> {
        let max_services = if max_services == 0 {
            consts::CIL_LB_MAP_DEFAULT_MAX
        } else {
            max_services
        };
        // The kernel copies the template's properties when the outer map is created.
        let template = inner_array(name, table_size)?;
        let fd = create_map_fd(
            BPF_MAP_TYPE_HASH_OF_MAPS,
            4,
            4,
            max_services,
            0,
            name,
            Some(template.map_data().fd().as_fd().as_raw_fd() as u32),
        )
        .map_err(|source| MapError::Syscall {
            map: name.to_owned(),
            call: "BPF_MAP_CREATE",
            source,
        })?;
        let outer = MapOfMaps::from_map_data(
            name,
            MapData::from_fd(fd).map_err(|e| aya_error(name, "open", e))?,
        )?;
        Ok(Self {
            name: name.to_owned(),
            table_size,
            max_services,
            tables: Tables::Kernel(outer),
        })
    }

    /// Re-opens an outer map pinned at `path` whose tables hold `table_size` entries. A table
    /// already in it must have that size (the kernel fixed it when the map was made), else
    /// this is a [`MapError::ValueSize`] naming the size found.
    #[cfg(feature = "kernel")]
    pub fn from_pin(path: impl AsRef<Path>, table_size: u32) -> Result<Self, MapError> {
        let outer = MapOfMaps::from_pin(path)?;
        let name = outer.name().to_owned();
        let max_services = outer.capacity();
        let map = Self {
            name,
            table_size,
            max_services,
            tables: Tables::Kernel(outer),
        };
        if let Some(&first) = map.services()?.first() {
            let Tables::Kernel(outer) = &map.tables else {
                unreachable!("opened from a pin");
            };
            if let Some(id) = outer.inner_id(outer_key(first))? {
                let data = MapData::from_id(id)
                    .map_err(|e| aya_error(&map.name, "open inner map by id", e))?;
                let inner = KernelMap::from_map_data(&map.name, data)?;
                let found = inner.spec().value_size as usize;
                if found != table_size as usize * 4 {
                    return Err(MapError::ValueSize {
                        map: map.name.clone(),
                        size: found,
                        expected: table_size as usize * 4,
                    });
                }
            }
        }
        Ok(map)
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
            #[cfg(feature = "kernel")]
            Tables::Kernel(outer) => {
                let mut inner =
                    inner_array(&format!("{}[{rev_nat_index}]", self.name), self.table_size)?;
                inner.update(
                    &0u32.to_ne_bytes(),
                    bytemuck::cast_slice(table),
                    UpdateFlags::Any,
                )?;
                outer.set(outer_key(rev_nat_index), &inner)
            }
        }
    }

    /// Installs several tables (as [`set_table`](Self::set_table) each), the kernel's outer
    /// map written in batches: one wait for running programs per batch rather than one per
    /// table. Stops at the first failure.
    pub fn set_tables(&mut self, tables: &[(u16, &[u32])]) -> Result<(), MapError> {
        if let Some((_, t)) = tables
            .iter()
            .find(|(_, t)| t.len() != self.table_size as usize)
        {
            return Err(MapError::ValueSize {
                map: self.name.clone(),
                size: t.len() * 4,
                expected: self.table_size as usize * 4,
            });
        }
        #[cfg(feature = "kernel")]
        if let Tables::Kernel(_) = self.tables {
            return self.set_tables_kernel(tables);
        }
        for (index, table) in tables {
            self.set_table(*index, table)?;
        }
        Ok(())
    }

    /// The kernel part of [`set_tables`](Self::set_tables), sizes already checked.
    #[cfg(feature = "kernel")]
    fn set_tables_kernel(&mut self, tables: &[(u16, &[u32])]) -> Result<(), MapError> {
        let mut inner = Vec::with_capacity(tables.len());
        for (index, table) in tables {
            let mut map = inner_array(&format!("{}[{index}]", self.name), self.table_size)?;
            map.update(
                &0u32.to_ne_bytes(),
                bytemuck::cast_slice(table),
                UpdateFlags::Any,
            )?;
            inner.push((outer_key(*index), map));
        }
        let Tables::Kernel(outer) = &mut self.tables else {
            unreachable!("called for kernel tables only");
        };
        let refs: Vec<(u32, &KernelMap)> = inner.iter().map(|(k, m)| (*k, m)).collect();
        outer.set_batch(&refs)
    }

    /// The table of the service `rev_nat_index`.
    pub fn get_table(&self, rev_nat_index: u16) -> Result<Option<Vec<u32>>, MapError> {
        match &self.tables {
            Tables::Memory(m) => Ok(m.get(&rev_nat_index).cloned()),
            #[cfg(feature = "kernel")]
            Tables::Kernel(outer) => {
                let Some(id) = outer.inner_id(outer_key(rev_nat_index))? else {
                    return Ok(None);
                };
                let data = MapData::from_id(id)
                    .map_err(|e| aya_error(&self.name, "open inner map by id", e))?;
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
            #[cfg(feature = "kernel")]
            Tables::Kernel(outer) => outer.remove(outer_key(rev_nat_index)),
        }
    }

    /// The services that have a table.
    pub fn services(&self) -> Result<Vec<u16>, MapError> {
        match &self.tables {
            Tables::Memory(m) => Ok(m.keys().copied().collect()),
            #[cfg(feature = "kernel")]
            Tables::Kernel(outer) => {
                let mut out: Vec<u16> = outer
                    .keys()?
                    .into_iter()
                    .map(|k| bytemuck::cast::<[u8; 4], MaglevKey>(k.to_ne_bytes()).rev_nat_index)
                    .collect();
                out.sort_unstable();
                Ok(out)
            }
        }
    }

    /// Pins the outer map at `path` (kernel maps only).
    #[cfg(feature = "kernel")]
    pub fn pin(&self, path: impl AsRef<Path>) -> Result<(), MapError> {
        match &self.tables {
            Tables::Memory(_) => Err(MapError::InvalidKey {
                map: self.name.clone(),
                reason: "an in-memory map cannot be pinned".into(),
            }),
            Tables::Kernel(outer) => outer.pin(path),
        }
    }
}
