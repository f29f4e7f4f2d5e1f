//! Typed handles: a map whose key and value are ABI structs, over a kernel map or its
//! in-memory twin.
//!
//! `Map<D, S>` is generic over a [`MapDef`] (which key, which value, which kind, which default
//! capacity) and a [`MapStore`] (kernel or memory). The constructor checks the key and value
//! sizes against the store, so a Rust struct that drifted from the C struct fails at the
//! boundary with [`MapError::KeySize`]/[`MapError::ValueSize`] instead of writing garbage.
//! Reads take `&self`, writes `&mut self`.
//!
//! The store parameter defaults to `KernelMap` with the `kernel` feature and has no default
//! without it (write `PolicyMap<MemoryMap>`): see the crate's "Features" section for why.

use std::fmt::{self, Display, Write as _};
use std::marker::PhantomData;
#[cfg(feature = "kernel")]
use std::path::Path;

use bytemuck::Pod;

use crate::abi::*;
use crate::error::MapError;
#[cfg(feature = "kernel")]
use crate::kernel::KernelMap;
use crate::memory::MemoryMap;
use crate::store::{MapKind, MapSpec, MapStore, UpdateFlags};

/// What a typed map holds.
pub trait MapDef {
    /// Key type (an ABI struct).
    type Key: Pod + Display;
    /// Value type (an ABI struct; per CPU for per-CPU kinds).
    type Value: Pod + Display;
    /// Kind of map.
    const KIND: MapKind;
    /// Default `max_entries` (Cilium's default where it has one).
    const DEFAULT_MAX_ENTRIES: u32;
    /// Short description for docs and dumps.
    const WHAT: &'static str;

    /// Fills fields of the value that derive from the key, before every write.
    fn prepare(_key: &Self::Key, value: Self::Value) -> Self::Value {
        value
    }
}

macro_rules! map_def {
    ($(#[$m:meta])* $def:ident, $alias:ident, $k:ty, $v:ty, $kind:expr, $max:expr, $what:literal) => {
        map_def!($(#[$m])* $def, $alias, $k, $v, $kind, $max, $what, |_k, v| v);
    };
    ($(#[$m:meta])* $def:ident, $alias:ident, $k:ty, $v:ty, $kind:expr, $max:expr, $what:literal, |$pk:ident, $pv:ident| $prep:expr) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy)]
        pub struct $def;
        impl MapDef for $def {
            type Key = $k;
            type Value = $v;
            const KIND: MapKind = $kind;
            const DEFAULT_MAX_ENTRIES: u32 = $max;
            const WHAT: &'static str = $what;
            fn prepare($pk: &$k, $pv: $v) -> $v {
                $prep
            }
        }
        #[doc = concat!("Typed handle of the ", $what, " (`", stringify!($k), "` → `", stringify!($v), "`).")]
        #[cfg(feature = "kernel")]
        pub type $alias<S = KernelMap> = Map<$def, S>;
        #[doc = concat!("Typed handle of the ", $what, " (`", stringify!($k), "` → `", stringify!($v), "`).")]
        ///
        /// Without the `kernel` feature the store is always written out: `<MemoryMap>` (or
        /// another [`MapStore`]).
        #[cfg(not(feature = "kernel"))]
        pub type $alias<S> = Map<$def, S>;
    };
}

map_def!(
    /// Per-endpoint policy map: LPM trie over identity, direction, protocol and port prefix.
    PolicyMapDef, PolicyMap, PolicyKey, PolicyEntry, MapKind::LpmTrie,
    consts::CIL_POLICY_MAP_DEFAULT_MAX, "policy map",
    |key, value| PolicyEntry { lpm_prefix_length: key.prefixlen as u8, ..value }
);
map_def!(
    /// IP cache: LPM trie from address/CIDR to identity.
    IpCacheDef, IpCache, IpCacheKey, IpCacheValue, MapKind::LpmTrie,
    consts::CIL_IPCACHE_MAP_DEFAULT_MAX, "ipcache"
);
map_def!(
    /// XDP prefilter deny list: LPM trie of source CIDRs.
    PrefilterDef, PrefilterMap, IpCacheKey, PrefilterValue, MapKind::LpmTrie, 65536, "prefilter map"
);
map_def!(
    /// Local endpoints by address.
    EndpointMapDef, EndpointMap, EndpointKey, EndpointInfo, MapKind::Hash, 65535, "endpoint map"
);
map_def!(
    /// Service frontends and their backend slots.
    ServiceMapDef, ServiceMap, ServiceKey, ServiceValue, MapKind::Hash,
    consts::CIL_LB_MAP_DEFAULT_MAX, "service map"
);
map_def!(
    /// Backends by id.
    BackendMapDef, BackendMap, BackendKey, Backend, MapKind::Hash,
    consts::CIL_LB_MAP_DEFAULT_MAX, "backend map"
);
map_def!(
    /// Reverse NAT by index.
    RevNatMapDef, RevNatMap, RevNatKey, RevNatValue, MapKind::Hash,
    consts::CIL_LB_MAP_DEFAULT_MAX, "reverse-NAT map"
);
map_def!(
    /// Session affinity (LRU).
    AffinityMapDef, AffinityMap, AffinityKey, AffinityValue, MapKind::LruHash,
    consts::CIL_LB_MAP_DEFAULT_MAX, "affinity map"
);
map_def!(
    /// Socket-LB reverse translation (LRU).
    SockRevNatMapDef, SockRevNatMap, SockRevNatKey, SockRevNatValue, MapKind::LruHash,
    262_144, "socket reverse-NAT map"
);
map_def!(
    /// Connection tracking (LRU).
    ConntrackMapDef, ConntrackMap, CtKey, CtEntry, MapKind::LruHash,
    consts::CIL_CT_TCP_MAX_DEFAULT, "conntrack map"
);
map_def!(
    /// Per-CPU forward/drop counters.
    MetricsMapDef, MetricsMap, MetricsKey, MetricsValue, MapKind::PerCpuHash, 1024, "metrics map"
);

/// A key and its value.
pub type Entry<D> = (<D as MapDef>::Key, <D as MapDef>::Value);

/// A typed map: `D` says what it holds, `S` where ([`KernelMap`] or [`MemoryMap`]).
#[cfg(feature = "kernel")]
#[derive(Debug)]
pub struct Map<D: MapDef, S = KernelMap> {
    store: S,
    _def: PhantomData<D>,
}

/// A typed map: `D` says what it holds, `S` where (a [`MemoryMap`], or kernel maps with the
/// `kernel` feature, which also makes them the default `S`).
#[cfg(not(feature = "kernel"))]
#[derive(Debug)]
pub struct Map<D: MapDef, S> {
    store: S,
    _def: PhantomData<D>,
}

/// The spec of a `D` map named `name` with `max_entries` (0 = the default).
pub fn spec_of<D: MapDef>(name: &str, max_entries: u32) -> MapSpec {
    MapSpec {
        name: name.to_owned(),
        kind: D::KIND,
        key_size: size_of::<D::Key>() as u32,
        value_size: size_of::<D::Value>() as u32,
        max_entries: if max_entries == 0 {
            D::DEFAULT_MAX_ENTRIES
        } else {
            max_entries
        },
    }
}

#[cfg(feature = "kernel")]
impl<D: MapDef> Map<D, KernelMap> {
    /// Creates the kernel map `name` with `max_entries` (0 = the default).
    pub fn create(name: &str, max_entries: u32) -> Result<Self, MapError> {
        Self::new(KernelMap::create(spec_of::<D>(name, max_entries))?)
    }

    /// Opens a pinned kernel map, checking its kind and sizes.
    pub fn from_pin(path: impl AsRef<Path>) -> Result<Self, MapError> {
        Self::new(KernelMap::from_pin(path)?)
    }

    /// Wraps a map aya loaded from an object, checking its kind and sizes.
    pub fn from_map_data(name: &str, data: aya::maps::MapData) -> Result<Self, MapError> {
        Self::new(KernelMap::from_map_data(name, data)?)
    }

    /// Pins the map at `path`.
    pub fn pin(&self, path: impl AsRef<Path>) -> Result<(), MapError> {
        self.store.pin(path)
    }
}

impl<D: MapDef> Map<D, MemoryMap> {
    /// An empty in-memory twin named `name` with `max_entries` (0 = the default).
    pub fn in_memory(name: &str, max_entries: u32) -> Self {
        Self {
            store: MemoryMap::new(spec_of::<D>(name, max_entries)),
            _def: PhantomData,
        }
    }

    /// An in-memory twin whose per-CPU values have `cpus` slots.
    pub fn in_memory_with_cpus(name: &str, max_entries: u32, cpus: usize) -> Self {
        Self {
            store: MemoryMap::with_cpus(spec_of::<D>(name, max_entries), cpus),
            _def: PhantomData,
        }
    }
}

impl<D: MapDef, S: MapStore> Map<D, S> {
    /// Wraps `store`, checking that its kind and key/value sizes are those of `D`.
    pub fn new(store: S) -> Result<Self, MapError> {
        let spec = store.spec();
        if spec.kind != D::KIND {
            return Err(MapError::Kind {
                map: spec.name.clone(),
                actual: spec.kind.name().into(),
                expected: D::KIND.name().into(),
            });
        }
        if spec.key_size as usize != size_of::<D::Key>() {
            return Err(MapError::KeySize {
                map: spec.name.clone(),
                size: size_of::<D::Key>(),
                expected: spec.key_size as usize,
            });
        }
        if spec.value_size as usize != size_of::<D::Value>() {
            return Err(MapError::ValueSize {
                map: spec.name.clone(),
                size: size_of::<D::Value>(),
                expected: spec.value_size as usize,
            });
        }
        Ok(Self {
            store,
            _def: PhantomData,
        })
    }

    /// The store (kernel or memory).
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The map's name.
    pub fn name(&self) -> &str {
        &self.store.spec().name
    }

    /// The map's `max_entries`.
    pub fn capacity(&self) -> u32 {
        self.store.spec().max_entries
    }

    fn per_cpu_values(&self, raw: &[u8]) -> Vec<D::Value> {
        let stride = size_of::<D::Value>().next_multiple_of(8);
        raw.chunks(stride)
            .map(|c| bytemuck::pod_read_unaligned(&c[..size_of::<D::Value>()]))
            .collect()
    }

    fn encode_value(&self, value: &D::Value) -> Vec<u8> {
        if D::KIND.is_per_cpu() {
            let stride = size_of::<D::Value>().next_multiple_of(8);
            let mut out = vec![0u8; stride * self.store.value_slots()];
            for c in out.chunks_mut(stride) {
                c[..size_of::<D::Value>()].copy_from_slice(bytemuck::bytes_of(value));
            }
            out
        } else {
            bytemuck::bytes_of(value).to_vec()
        }
    }

    /// Looks `key` up (longest-prefix match for LPM maps). For per-CPU maps this is the value
    /// of the first CPU; use [`Map::get_per_cpu`].
    pub fn get(&self, key: &D::Key) -> Result<Option<D::Value>, MapError> {
        Ok(self
            .store
            .lookup(bytemuck::bytes_of(key))?
            .map(|raw| bytemuck::pod_read_unaligned(&raw[..size_of::<D::Value>()])))
    }

    /// The value of every CPU (one element for other kinds).
    pub fn get_per_cpu(&self, key: &D::Key) -> Result<Option<Vec<D::Value>>, MapError> {
        Ok(self
            .store
            .lookup(bytemuck::bytes_of(key))?
            .map(|raw| self.per_cpu_values(&raw)))
    }

    /// Inserts or replaces. For per-CPU maps every CPU gets `value`.
    pub fn insert(&mut self, key: &D::Key, value: &D::Value) -> Result<(), MapError> {
        self.insert_with(key, value, UpdateFlags::Any)
    }

    /// Inserts with explicit `BPF_ANY`/`BPF_NOEXIST`/`BPF_EXIST` semantics.
    pub fn insert_with(
        &mut self,
        key: &D::Key,
        value: &D::Value,
        flags: UpdateFlags,
    ) -> Result<(), MapError> {
        let v = self.encode_value(&D::prepare(key, *value));
        self.store.update(bytemuck::bytes_of(key), &v, flags)
    }

    /// Inserts every entry in order, with batch syscalls where the kernel has them. Stops at
    /// the first failure with [`MapError::BatchIncomplete`] saying how many were applied.
    pub fn insert_batch(&mut self, entries: &[Entry<D>]) -> Result<(), MapError> {
        let mut keys = Vec::with_capacity(entries.len() * size_of::<D::Key>());
        let mut values = Vec::with_capacity(entries.len() * size_of::<D::Value>());
        for (k, v) in entries {
            keys.extend_from_slice(bytemuck::bytes_of(k));
            if D::KIND.is_per_cpu() {
                values.extend_from_slice(&self.encode_value(&D::prepare(k, *v)));
            } else {
                values.extend_from_slice(bytemuck::bytes_of(&D::prepare(k, *v)));
            }
        }
        self.store.update_batch_flat(&keys, &values)
    }

    /// Removes `key` (exact match); [`MapError::NotFound`] if absent.
    pub fn remove(&mut self, key: &D::Key) -> Result<(), MapError> {
        self.store.delete(bytemuck::bytes_of(key))
    }

    /// Every key.
    pub fn keys(&self) -> Result<Vec<D::Key>, MapError> {
        Ok(self
            .store
            .keys()?
            .iter()
            .map(|k| bytemuck::pod_read_unaligned(k))
            .collect())
    }

    /// Every entry. For LPM maps each key is looked up with its own prefix, which returns its
    /// own value (an exact entry is the longest prefix of itself). Per-CPU values are summed
    /// per field by the caller; this returns the first CPU's value.
    pub fn entries(&self) -> Result<Vec<Entry<D>>, MapError> {
        let mut out = Vec::new();
        for k in self.store.keys()? {
            if let Some(raw) = self.store.lookup(&k)? {
                out.push((
                    bytemuck::pod_read_unaligned(&k),
                    bytemuck::pod_read_unaligned(&raw[..size_of::<D::Value>()]),
                ));
            }
        }
        Ok(out)
    }

    /// A deterministic text dump for golden tests: a header line, then one `key => value` line
    /// per entry, sorted by the key's text.
    pub fn dump(&self) -> Result<String, MapError> {
        let mut lines: Vec<String> = self
            .entries()?
            .iter()
            .map(|(k, v)| format!("{k} => {v}"))
            .collect();
        lines.sort();
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# {} {} ({} entries)",
            D::WHAT,
            self.name(),
            lines.len()
        );
        for l in lines {
            let _ = writeln!(out, "{l}");
        }
        Ok(out)
    }
}

impl<S: MapStore> Map<MetricsMapDef, S> {
    /// The counters of `key` summed over every CPU.
    pub fn get_sum(&self, key: &MetricsKey) -> Result<Option<MetricsValue>, MapError> {
        Ok(self.get_per_cpu(key)?.map(|vs| {
            vs.iter()
                .fold(MetricsValue::default(), |acc, v| MetricsValue {
                    packets: acc.packets + v.packets,
                    bytes: acc.bytes + v.bytes,
                })
        }))
    }
}

impl Default for MetricsValue {
    fn default() -> Self {
        bytemuck::Zeroable::zeroed()
    }
}

impl<D: MapDef, S: MapStore> fmt::Display for Map<D, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.dump() {
            Ok(s) => f.write_str(&s),
            Err(e) => write!(f, "# {} {}: {e}", D::WHAT, self.name()),
        }
    }
}
