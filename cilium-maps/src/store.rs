//! The byte-level store behind every typed handle: a kernel map or its in-memory twin.

use crate::error::MapError;

/// Kind of BPF map (the subset the datapath uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MapKind {
    /// `BPF_MAP_TYPE_HASH`: exact match; a full map refuses new keys.
    Hash,
    /// `BPF_MAP_TYPE_LRU_HASH`: exact match; a full map evicts the least recently used entry.
    LruHash,
    /// `BPF_MAP_TYPE_LPM_TRIE`: longest-prefix match on lookup, exact on update and delete.
    LpmTrie,
    /// `BPF_MAP_TYPE_ARRAY`: `u32` index keys, every index exists.
    Array,
    /// `BPF_MAP_TYPE_PERCPU_HASH`: one value per possible CPU.
    PerCpuHash,
}

impl MapKind {
    /// The kernel's `bpf_map_type` number.
    pub const fn bpf_type(self) -> u32 {
        match self {
            Self::Hash => 1,
            Self::Array => 2,
            Self::PerCpuHash => 5,
            Self::LruHash => 9,
            Self::LpmTrie => 11,
        }
    }

    /// The kind for a kernel `bpf_map_type`, if it is one of ours.
    pub const fn from_bpf_type(t: u32) -> Option<Self> {
        Some(match t {
            1 => Self::Hash,
            2 => Self::Array,
            5 => Self::PerCpuHash,
            9 => Self::LruHash,
            11 => Self::LpmTrie,
            _ => return None,
        })
    }

    /// Flags the map must be created with (`BPF_F_NO_PREALLOC` for LPM tries).
    pub const fn create_flags(self) -> u32 {
        match self {
            Self::LpmTrie => 1, // BPF_F_NO_PREALLOC
            _ => 0,
        }
    }

    /// Whether values are per CPU.
    pub const fn is_per_cpu(self) -> bool {
        matches!(self, Self::PerCpuHash)
    }

    /// Lower-case name for messages.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Hash => "hash",
            Self::LruHash => "lru_hash",
            Self::LpmTrie => "lpm_trie",
            Self::Array => "array",
            Self::PerCpuHash => "percpu_hash",
        }
    }
}

/// What a map is: name, kind, sizes, capacity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapSpec {
    /// Map name (the kernel keeps the first 15 bytes).
    pub name: String,
    /// Kind.
    pub kind: MapKind,
    /// Key size in bytes.
    pub key_size: u32,
    /// Value size in bytes (per CPU for per-CPU maps).
    pub value_size: u32,
    /// `max_entries`.
    pub max_entries: u32,
}

impl MapSpec {
    /// Bytes one value occupies in a lookup or update buffer: per-CPU maps hold `slots`
    /// values, each padded to a multiple of 8 bytes, as the kernel lays them out.
    pub fn stored_value_len(&self, slots: usize) -> usize {
        if self.kind.is_per_cpu() {
            (self.value_size as usize).next_multiple_of(8) * slots
        } else {
            self.value_size as usize
        }
    }

    /// [`MapError::KeySize`] unless `key` has the map's key size.
    pub(crate) fn check_key(&self, key: &[u8]) -> Result<(), MapError> {
        if key.len() != self.key_size as usize {
            return Err(MapError::KeySize {
                map: self.name.clone(),
                size: key.len(),
                expected: self.key_size as usize,
            });
        }
        Ok(())
    }

    /// [`MapError::ValueSize`] unless `value` has the stored length for `slots` CPUs.
    pub(crate) fn check_value(&self, value: &[u8], slots: usize) -> Result<(), MapError> {
        let expected = self.stored_value_len(slots);
        if value.len() != expected {
            return Err(MapError::ValueSize {
                map: self.name.clone(),
                size: value.len(),
                expected,
            });
        }
        Ok(())
    }

    /// The index an array key names, or [`MapError::InvalidKey`] when it is out of range.
    pub(crate) fn array_index(&self, key: &[u8]) -> Result<u32, MapError> {
        let idx = u32::from_ne_bytes([key[0], key[1], key[2], key[3]]);
        if idx >= self.max_entries {
            return Err(MapError::InvalidKey {
                map: self.name.clone(),
                reason: format!(
                    "index {idx} out of range (max_entries {})",
                    self.max_entries
                ),
            });
        }
        Ok(idx)
    }

    /// The error for deleting from an array, whose elements always exist.
    pub(crate) fn array_delete_error(&self) -> MapError {
        MapError::InvalidKey {
            map: self.name.clone(),
            reason: "array elements cannot be deleted".into(),
        }
    }
}

/// `flags` of `bpf_map_update_elem`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UpdateFlags {
    /// `BPF_ANY`: create or replace.
    #[default]
    Any,
    /// `BPF_NOEXIST`: create only.
    NoExist,
    /// `BPF_EXIST`: replace only.
    Exist,
}

impl UpdateFlags {
    /// The kernel's flag value.
    pub const fn bits(self) -> u64 {
        match self {
            Self::Any => 0,
            Self::NoExist => 1,
            Self::Exist => 2,
        }
    }
}

/// A map's storage at the byte level. Implemented by [`crate::KernelMap`] and
/// [`crate::MemoryMap`] with the same semantics, so typed handles and the code above them are
/// tested without root against the in-memory twin.
///
/// Values of per-CPU maps are `ncpus` values, each padded to a multiple of 8 bytes, as the
/// kernel returns them.
#[cfg_attr(
    not(feature = "kernel"),
    doc = "",
    doc = "[`crate::KernelMap`]: crate#features \"needs the kernel feature\""
)]
pub trait MapStore {
    /// The map's description.
    fn spec(&self) -> &MapSpec;

    /// Number of per-CPU value slots (1 for other maps).
    fn value_slots(&self) -> usize {
        1
    }

    /// Looks `key` up: exact match, or longest-prefix match for LPM tries.
    fn lookup(&self, key: &[u8]) -> Result<Option<Vec<u8>>, MapError>;

    /// Inserts or replaces as `flags` says. A new key in a full map is [`MapError::Full`]
    /// (LRU maps evict instead).
    fn update(&mut self, key: &[u8], value: &[u8], flags: UpdateFlags) -> Result<(), MapError>;

    /// Deletes `key` (exact match, also for LPM tries); [`MapError::NotFound`] if absent.
    fn delete(&mut self, key: &[u8]) -> Result<(), MapError>;

    /// Every key, in the store's iteration order.
    fn keys(&self) -> Result<Vec<Vec<u8>>, MapError>;

    /// [`update_batch`](Self::update_batch) of entries given as two contiguous buffers: the
    /// keys back to back and the (stored-size) values back to back, in the same order.
    fn update_batch_flat(&mut self, keys: &[u8], values: &[u8]) -> Result<(), MapError> {
        let ks = self.spec().key_size as usize;
        let vs = self.spec().stored_value_len(self.value_slots());
        let entries: Vec<(Vec<u8>, Vec<u8>)> = keys
            .chunks(ks.max(1))
            .zip(values.chunks(vs.max(1)))
            .map(|(k, v)| (k.to_vec(), v.to_vec()))
            .collect();
        self.update_batch(&entries)
    }

    /// Applies `entries` in order with `BPF_ANY`; where the kernel offers batch updates for
    /// the map kind this is one syscall per chunk. Stops at the first failure and reports how
    /// many entries were applied ([`MapError::BatchIncomplete`]).
    fn update_batch(&mut self, entries: &[(Vec<u8>, Vec<u8>)]) -> Result<(), MapError> {
        for (i, (k, v)) in entries.iter().enumerate() {
            if let Err(e) = self.update(k, v, UpdateFlags::Any) {
                return Err(MapError::BatchIncomplete {
                    map: self.spec().name.clone(),
                    written: i,
                    total: entries.len(),
                    source: Box::new(e),
                });
            }
        }
        Ok(())
    }
}
