//! A map of maps keyed by `u32` (e.g. the per-endpoint policy maps, keyed by endpoint id).
//!
//! User space writes an inner map's file descriptor; the kernel stores a reference to the map
//! and answers lookups with the inner map's id. Replacing an inner map is one update, so the
//! datapath switches from the old map to the new one atomically.

use std::os::fd::{AsFd, AsRawFd};
use std::path::Path;

use aya::maps::MapData;

use crate::error::MapError;
use crate::kernel::{KernelMap, map_info, open_pinned};
use crate::store::{MapKind, MapSpec, MapStore, UpdateFlags};

/// A `BPF_MAP_TYPE_HASH_OF_MAPS` keyed by `u32`.
#[derive(Debug)]
pub struct MapOfMaps {
    store: KernelMap,
}

impl MapOfMaps {
    /// Wraps a map-of-maps aya loaded (from an object or a pin).
    pub fn from_map_data(name: &str, data: MapData) -> Result<Self, MapError> {
        let (info, t) = map_info(name, &data)?;
        if t != 13 || info.key_size() != 4 {
            return Err(MapError::Kind {
                map: name.to_owned(),
                actual: format!("type {t} with {}-byte keys", info.key_size()),
                expected: "hash_of_maps with 4-byte keys".into(),
            });
        }
        let spec = MapSpec {
            name: name.to_owned(),
            kind: MapKind::Hash,
            key_size: 4,
            value_size: 4,
            max_entries: info.max_entries(),
        };
        Ok(Self {
            store: KernelMap::from_map_data_raw(spec, data)?,
        })
    }

    /// Opens a pinned map-of-maps.
    pub fn from_pin(path: impl AsRef<Path>) -> Result<Self, MapError> {
        let (name, data) = open_pinned(path.as_ref())?;
        Self::from_map_data(&name, data)
    }

    /// Pins the map at `path`.
    pub fn pin(&self, path: impl AsRef<Path>) -> Result<(), MapError> {
        self.store.pin(path)
    }

    /// Points `key` at `inner` (which must match the outer map's inner template: type, sizes,
    /// flags and capacity), replacing any previous inner map atomically.
    pub fn set(&mut self, key: u32, inner: &KernelMap) -> Result<(), MapError> {
        let fd = inner.map_data().fd().as_fd().as_raw_fd() as u32;
        self.store
            .update(&key.to_ne_bytes(), &fd.to_ne_bytes(), UpdateFlags::Any)
    }

    /// Points each key at its inner map, in order, in batches (`BPF_MAP_UPDATE_BATCH`): the
    /// kernel waits for running programs to let go of replaced inner maps once per batch
    /// instead of once per update. Stops at the first failure
    /// ([`MapError::BatchIncomplete`] says how many were applied).
    pub fn set_batch(&mut self, entries: &[(u32, &KernelMap)]) -> Result<(), MapError> {
        let raw: Vec<(Vec<u8>, Vec<u8>)> = entries
            .iter()
            .map(|(key, inner)| {
                let fd = inner.map_data().fd().as_fd().as_raw_fd() as u32;
                (key.to_ne_bytes().to_vec(), fd.to_ne_bytes().to_vec())
            })
            .collect();
        self.store.update_batch(&raw)
    }

    /// The kernel id of the inner map at `key`.
    pub fn inner_id(&self, key: u32) -> Result<Option<u32>, MapError> {
        Ok(self
            .store
            .lookup(&key.to_ne_bytes())?
            .map(|v| u32::from_ne_bytes([v[0], v[1], v[2], v[3]])))
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: u32) -> Result<(), MapError> {
        self.store.delete(&key.to_ne_bytes())
    }

    /// Every key.
    pub fn keys(&self) -> Result<Vec<u32>, MapError> {
        Ok(self
            .store
            .keys()?
            .iter()
            .map(|k| u32::from_ne_bytes([k[0], k[1], k[2], k[3]]))
            .collect())
    }

    /// How many keys the map can hold.
    pub fn capacity(&self) -> u32 {
        self.store.spec().max_entries
    }

    /// The map's name (for messages).
    pub fn name(&self) -> &str {
        &self.store.spec().name
    }
}
