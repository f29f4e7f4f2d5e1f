//! The in-memory twin of a kernel map: same API, same semantics, no kernel.
//!
//! Used by pure-logic tests and golden tests that must run without root: a hash map refuses a
//! new key when full, an LRU map evicts its least recently written entry, an LPM trie answers
//! lookups with the longest matching prefix and updates/deletes by exact prefix, an array has
//! every index and refuses deletes, per-CPU values come as one padded slot per CPU.

use std::collections::BTreeMap;

use crate::error::MapError;
use crate::store::{MapKind, MapSpec, MapStore, UpdateFlags};

/// An LPM entry's identity: prefix length and the key data with host bits cleared.
type LpmIndex = (u32, Vec<u8>);

/// An in-memory map with a kernel map's semantics.
#[derive(Debug, Clone)]
pub struct MemoryMap {
    spec: MapSpec,
    cpus: usize,
    /// Hash, LRU, per-CPU and array entries by exact key bytes.
    exact: BTreeMap<Vec<u8>, Vec<u8>>,
    /// LRU: write tick per key, and the clock.
    lru_ticks: BTreeMap<Vec<u8>, u64>,
    tick: u64,
    /// LPM: (prefixlen, masked data) -> (key as written, value).
    lpm: BTreeMap<LpmIndex, (Vec<u8>, Vec<u8>)>,
    /// LPM: prefix lengths present, for longest-first probing.
    lpm_lens: BTreeMap<u32, usize>,
}

fn mask(data: &[u8], bits: u32) -> Vec<u8> {
    let mut out = data.to_vec();
    crate::abi::clear_host_bits(&mut out, bits);
    out
}

impl MemoryMap {
    /// An empty map described by `spec`, with one CPU for per-CPU kinds.
    pub fn new(spec: MapSpec) -> Self {
        Self::with_cpus(spec, 1)
    }

    /// An empty map whose per-CPU values have `cpus` slots.
    pub fn with_cpus(spec: MapSpec, cpus: usize) -> Self {
        Self {
            spec,
            cpus: cpus.max(1),
            exact: BTreeMap::new(),
            lru_ticks: BTreeMap::new(),
            tick: 0,
            lpm: BTreeMap::new(),
            lpm_lens: BTreeMap::new(),
        }
    }

    fn lpm_parts<'k>(&self, key: &'k [u8]) -> Result<(u32, &'k [u8]), MapError> {
        if key.len() < 4 {
            return Err(MapError::InvalidKey {
                map: self.spec.name.clone(),
                reason: "LPM key shorter than 4 bytes".into(),
            });
        }
        let plen = u32::from_ne_bytes([key[0], key[1], key[2], key[3]]);
        Ok((plen, &key[4..]))
    }

    fn full(&self) -> MapError {
        MapError::Full {
            map: self.spec.name.clone(),
            capacity: self.spec.max_entries,
        }
    }

    /// Number of entries (for arrays: `max_entries`).
    pub fn len(&self) -> usize {
        match self.spec.kind {
            MapKind::LpmTrie => self.lpm.len(),
            MapKind::Array => self.spec.max_entries as usize,
            _ => self.exact.len(),
        }
    }

    /// Whether the map holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl MapStore for MemoryMap {
    fn spec(&self) -> &MapSpec {
        &self.spec
    }

    fn value_slots(&self) -> usize {
        if self.spec.kind.is_per_cpu() {
            self.cpus
        } else {
            1
        }
    }

    fn lookup(&self, key: &[u8]) -> Result<Option<Vec<u8>>, MapError> {
        self.spec.check_key(key)?;
        match self.spec.kind {
            MapKind::LpmTrie => {
                let (plen, data) = self.lpm_parts(key)?;
                let max = (data.len() * 8) as u32;
                let plen = plen.min(max);
                for (&len, _) in self.lpm_lens.range(..=plen).rev() {
                    if let Some((_, v)) = self.lpm.get(&(len, mask(data, len))) {
                        return Ok(Some(v.clone()));
                    }
                }
                Ok(None)
            }
            MapKind::Array => {
                self.spec.array_index(key)?;
                Ok(Some(self.exact.get(key).cloned().unwrap_or_else(|| {
                    vec![0; self.spec.stored_value_len(self.value_slots())]
                })))
            }
            _ => Ok(self.exact.get(key).cloned()),
        }
    }

    fn update(&mut self, key: &[u8], value: &[u8], flags: UpdateFlags) -> Result<(), MapError> {
        self.spec.check_key(key)?;
        self.spec.check_value(value, self.value_slots())?;
        let name = self.spec.name.clone();
        match self.spec.kind {
            MapKind::LpmTrie => {
                let (plen, data) = self.lpm_parts(key)?;
                let max = (data.len() * 8) as u32;
                if plen > max {
                    return Err(MapError::InvalidKey {
                        map: name,
                        reason: format!("prefix length {plen} longer than the key's {max} bits"),
                    });
                }
                let k = (plen, mask(data, plen));
                let exists = self.lpm.contains_key(&k);
                match (flags, exists) {
                    (UpdateFlags::NoExist, true) => return Err(MapError::Exists { map: name }),
                    (UpdateFlags::Exist, false) => return Err(MapError::NotFound { map: name }),
                    _ => {}
                }
                if !exists {
                    if self.lpm.len() >= self.spec.max_entries as usize {
                        return Err(self.full());
                    }
                    *self.lpm_lens.entry(plen).or_default() += 1;
                }
                self.lpm.insert(k, (key.to_vec(), value.to_vec()));
            }
            MapKind::Array => {
                self.spec.array_index(key)?;
                if flags == UpdateFlags::NoExist {
                    return Err(MapError::Exists { map: name });
                }
                self.exact.insert(key.to_vec(), value.to_vec());
            }
            MapKind::Hash | MapKind::PerCpuHash | MapKind::LruHash => {
                let exists = self.exact.contains_key(key);
                match (flags, exists) {
                    (UpdateFlags::NoExist, true) => return Err(MapError::Exists { map: name }),
                    (UpdateFlags::Exist, false) => return Err(MapError::NotFound { map: name }),
                    _ => {}
                }
                if !exists && self.exact.len() >= self.spec.max_entries as usize {
                    if self.spec.kind != MapKind::LruHash {
                        return Err(self.full());
                    }
                    // Evict the least recently written entry.
                    let oldest = self
                        .lru_ticks
                        .iter()
                        .min_by_key(|(_, t)| **t)
                        .map(|(k, _)| k.clone());
                    if let Some(old) = oldest {
                        self.exact.remove(&old);
                        self.lru_ticks.remove(&old);
                    }
                }
                self.exact.insert(key.to_vec(), value.to_vec());
                if self.spec.kind == MapKind::LruHash {
                    self.tick += 1;
                    self.lru_ticks.insert(key.to_vec(), self.tick);
                }
            }
        }
        Ok(())
    }

    fn delete(&mut self, key: &[u8]) -> Result<(), MapError> {
        self.spec.check_key(key)?;
        let name = self.spec.name.clone();
        match self.spec.kind {
            MapKind::LpmTrie => {
                let (plen, data) = self.lpm_parts(key)?;
                let k = (plen, mask(data, plen));
                if self.lpm.remove(&k).is_none() {
                    return Err(MapError::NotFound { map: name });
                }
                if let Some(n) = self.lpm_lens.get_mut(&plen) {
                    *n -= 1;
                    if *n == 0 {
                        self.lpm_lens.remove(&plen);
                    }
                }
                Ok(())
            }
            MapKind::Array => Err(self.spec.array_delete_error()),
            _ => {
                self.lru_ticks.remove(key);
                self.exact
                    .remove(key)
                    .map(|_| ())
                    .ok_or(MapError::NotFound { map: name })
            }
        }
    }

    fn keys(&self) -> Result<Vec<Vec<u8>>, MapError> {
        Ok(match self.spec.kind {
            MapKind::LpmTrie => self.lpm.values().map(|(k, _)| k.clone()).collect(),
            MapKind::Array => (0..self.spec.max_entries)
                .map(|i| i.to_ne_bytes().to_vec())
                .collect(),
            _ => self.exact.keys().cloned().collect(),
        })
    }
}
