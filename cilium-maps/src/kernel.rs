//! Kernel maps: aya's `MapData` for creating, opening and pinning, and thin `bpf(2)` element
//! operations that work the same for every map kind (including LPM keys that carry their
//! prefix length in the first four bytes, as the ABI structs do).

use std::io;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use aya::maps::MapData;

use crate::error::MapError;
use crate::store::{MapKind, MapSpec, MapStore, UpdateFlags};

// bpf(2) commands.
const BPF_MAP_CREATE: libc::c_long = 0;
const BPF_MAP_LOOKUP_ELEM: libc::c_long = 1;
const BPF_MAP_UPDATE_ELEM: libc::c_long = 2;
const BPF_MAP_DELETE_ELEM: libc::c_long = 3;
const BPF_MAP_GET_NEXT_KEY: libc::c_long = 4;
const BPF_MAP_UPDATE_BATCH: libc::c_long = 26;

/// Entries per `BPF_MAP_UPDATE_BATCH` call.
const BATCH_CHUNK: usize = 4096;

#[repr(C)]
#[derive(Default)]
struct MapCreateAttr {
    map_type: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    map_flags: u32,
    inner_map_fd: u32,
    numa_node: u32,
    map_name: [u8; 16],
}

#[repr(C)]
#[derive(Default)]
struct ElemAttr {
    map_fd: u32,
    pad: u32,
    key: u64,
    value_or_next_key: u64,
    flags: u64,
}

#[repr(C)]
#[derive(Default)]
struct BatchAttr {
    in_batch: u64,
    out_batch: u64,
    keys: u64,
    values: u64,
    count: u32,
    map_fd: u32,
    elem_flags: u64,
    flags: u64,
}

/// Calls bpf(2) with `attr`; returns the syscall's non-negative result.
fn sys_bpf<T>(cmd: libc::c_long, attr: &mut T) -> io::Result<libc::c_long> {
    // SAFETY: `attr` is a valid, initialised `#[repr(C)]` bpf_attr variant of the size passed;
    // every pointer inside it points to buffers the caller keeps alive for the call.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd,
            attr as *mut T,
            size_of::<T>() as libc::c_uint,
        )
    };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Creates a map with `BPF_MAP_CREATE`. `inner_map_fd` is the template of a map-of-maps.
pub(crate) fn create_map_fd(
    map_type: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    flags: u32,
    name: &str,
    inner_map_fd: Option<u32>,
) -> io::Result<OwnedFd> {
    let mut attr = MapCreateAttr {
        map_type,
        key_size,
        value_size,
        max_entries,
        map_flags: flags,
        inner_map_fd: inner_map_fd.unwrap_or(0),
        ..Default::default()
    };
    // The kernel accepts [A-Za-z0-9_.] and keeps 15 bytes.
    for (dst, src) in attr.map_name.iter_mut().zip(
        name.bytes()
            .filter(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'.')
            .take(15),
    ) {
        *dst = src;
    }
    let fd = sys_bpf(BPF_MAP_CREATE, &mut attr)?;
    // SAFETY: a successful BPF_MAP_CREATE returns a new file descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// A BPF map in the kernel.
#[derive(Debug)]
pub struct KernelMap {
    spec: MapSpec,
    data: MapData,
    cpus: usize,
}

impl KernelMap {
    /// Creates a map as `spec` describes (LPM tries get `BPF_F_NO_PREALLOC`).
    pub fn create(spec: MapSpec) -> Result<Self, MapError> {
        let fd = create_map_fd(
            spec.kind.bpf_type(),
            spec.key_size,
            spec.value_size,
            spec.max_entries,
            spec.kind.create_flags(),
            &spec.name,
            None,
        )
        .map_err(|source| MapError::Syscall {
            map: spec.name.clone(),
            call: "BPF_MAP_CREATE",
            source,
        })?;
        let data = MapData::from_fd(fd).map_err(|e| MapError::Aya {
            map: spec.name.clone(),
            action: "open",
            source: Box::new(e),
        })?;
        Self::with_data(spec, data)
    }

    /// Wraps a map aya loaded (from an object, a pin or an id), reading its kind and sizes
    /// from the kernel. `name` is used in messages.
    pub fn from_map_data(name: &str, data: MapData) -> Result<Self, MapError> {
        let (info, t) = map_info(name, &data)?;
        let raw_type = t;
        let kind = MapKind::from_bpf_type(raw_type).ok_or_else(|| MapError::Kind {
            map: name.to_owned(),
            actual: format!("type {raw_type}"),
            expected: "hash, lru_hash, lpm_trie, array or percpu_hash".into(),
        })?;
        let spec = MapSpec {
            name: name.to_owned(),
            kind,
            key_size: info.key_size(),
            value_size: info.value_size(),
            max_entries: info.max_entries(),
        };
        Self::with_data(spec, data)
    }

    /// Opens a pinned map.
    pub fn from_pin(path: impl AsRef<Path>) -> Result<Self, MapError> {
        let (name, data) = open_pinned(path.as_ref())?;
        Self::from_map_data(&name, data)
    }

    /// Wraps `data` with a spec the caller vouches for (maps this crate created itself).
    pub(crate) fn from_map_data_raw(spec: MapSpec, data: MapData) -> Result<Self, MapError> {
        Self::with_data(spec, data)
    }

    fn with_data(spec: MapSpec, data: MapData) -> Result<Self, MapError> {
        let cpus = if spec.kind.is_per_cpu() {
            aya::util::nr_cpus().map_err(|(_, source)| MapError::Syscall {
                map: spec.name.clone(),
                call: "read possible CPUs",
                source,
            })?
        } else {
            1
        };
        Ok(Self { spec, data, cpus })
    }

    /// Pins the map at `path` (on a bpffs).
    pub fn pin(&self, path: impl AsRef<Path>) -> Result<(), MapError> {
        self.data.pin(path).map_err(|e| MapError::Aya {
            map: self.spec.name.clone(),
            action: "pin",
            source: Box::new(e),
        })
    }

    /// aya's handle, e.g. to pass the map's fd to a map-of-maps.
    pub fn map_data(&self) -> &MapData {
        &self.data
    }

    fn fd(&self) -> u32 {
        self.data.fd().as_fd().as_raw_fd() as u32
    }

    fn stored_value_len(&self) -> usize {
        self.spec.stored_value_len(self.cpus)
    }

    fn check_sizes(&self, key: &[u8], value: Option<&[u8]>) -> Result<(), MapError> {
        self.spec.check_key(key)?;
        if let Some(v) = value {
            self.spec.check_value(v, self.cpus)?;
        }
        Ok(())
    }

    fn syscall_error(&self, call: &'static str, source: io::Error) -> MapError {
        MapError::Syscall {
            map: self.spec.name.clone(),
            call,
            source,
        }
    }

    /// Maps an update errno to our error kinds.
    fn update_error(&self, source: io::Error) -> MapError {
        let map = self.spec.name.clone();
        match source.raw_os_error() {
            // Hash maps say E2BIG, LPM tries ENOSPC, when a new key does not fit.
            Some(libc::E2BIG) | Some(libc::ENOSPC) => MapError::Full {
                map,
                capacity: self.spec.max_entries,
            },
            Some(libc::EEXIST) => MapError::Exists { map },
            Some(libc::ENOENT) => MapError::NotFound { map },
            Some(libc::EINVAL) if self.spec.kind == MapKind::LpmTrie => MapError::InvalidKey {
                map,
                reason: "rejected by the LPM trie (prefix length too long?)".into(),
            },
            _ => self.syscall_error("BPF_MAP_UPDATE_ELEM", source),
        }
    }
}

/// Opens the map pinned at `path`; the path names it in errors.
pub(crate) fn open_pinned(path: &Path) -> Result<(String, MapData), MapError> {
    let name = path.display().to_string();
    let data = MapData::from_pin(path).map_err(|e| MapError::Aya {
        map: name.clone(),
        action: "open pinned map",
        source: Box::new(e),
    })?;
    Ok((name, data))
}

/// The kernel's description of `data` and its `bpf_map_type` number (`u32::MAX` if aya does
/// not know the type); `name` is used in errors.
pub(crate) fn map_info(name: &str, data: &MapData) -> Result<(aya::maps::MapInfo, u32), MapError> {
    let info = data.info().map_err(|e| MapError::Aya {
        map: name.to_owned(),
        action: "read map info",
        source: Box::new(e),
    })?;
    // aya's MapType discriminants are the kernel's bpf_map_type numbers.
    let t = info.map_type().map_or(u32::MAX, |t| t as isize as u32);
    Ok((info, t))
}

impl MapStore for KernelMap {
    fn spec(&self) -> &MapSpec {
        &self.spec
    }

    fn value_slots(&self) -> usize {
        self.cpus
    }

    fn lookup(&self, key: &[u8]) -> Result<Option<Vec<u8>>, MapError> {
        self.check_sizes(key, None)?;
        let mut value = vec![0u8; self.stored_value_len()];
        let mut attr = ElemAttr {
            map_fd: self.fd(),
            key: key.as_ptr() as u64,
            value_or_next_key: value.as_mut_ptr() as u64,
            ..Default::default()
        };
        match sys_bpf(BPF_MAP_LOOKUP_ELEM, &mut attr) {
            Ok(_) => Ok(Some(value)),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
            Err(e) => Err(self.syscall_error("BPF_MAP_LOOKUP_ELEM", e)),
        }
    }

    fn update(&mut self, key: &[u8], value: &[u8], flags: UpdateFlags) -> Result<(), MapError> {
        self.check_sizes(key, Some(value))?;
        if self.spec.kind == MapKind::Array {
            self.spec.array_index(key)?;
        }
        let mut attr = ElemAttr {
            map_fd: self.fd(),
            key: key.as_ptr() as u64,
            value_or_next_key: value.as_ptr() as u64,
            flags: flags.bits(),
            ..Default::default()
        };
        sys_bpf(BPF_MAP_UPDATE_ELEM, &mut attr)
            .map(|_| ())
            .map_err(|e| self.update_error(e))
    }

    fn delete(&mut self, key: &[u8]) -> Result<(), MapError> {
        self.check_sizes(key, None)?;
        if self.spec.kind == MapKind::Array {
            return Err(self.spec.array_delete_error());
        }
        let mut attr = ElemAttr {
            map_fd: self.fd(),
            key: key.as_ptr() as u64,
            ..Default::default()
        };
        match sys_bpf(BPF_MAP_DELETE_ELEM, &mut attr) {
            Ok(_) => Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Err(MapError::NotFound {
                map: self.spec.name.clone(),
            }),
            Err(e) => Err(self.syscall_error("BPF_MAP_DELETE_ELEM", e)),
        }
    }

    fn keys(&self) -> Result<Vec<Vec<u8>>, MapError> {
        let ks = self.spec.key_size as usize;
        let mut out: Vec<Vec<u8>> = Vec::new();
        let mut next = vec![0u8; ks];
        loop {
            let mut attr = ElemAttr {
                map_fd: self.fd(),
                key: out.last().map_or(0, |k| k.as_ptr() as u64),
                value_or_next_key: next.as_mut_ptr() as u64,
                ..Default::default()
            };
            match sys_bpf(BPF_MAP_GET_NEXT_KEY, &mut attr) {
                Ok(_) => out.push(next.clone()),
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Ok(out),
                Err(e) => return Err(self.syscall_error("BPF_MAP_GET_NEXT_KEY", e)),
            }
            if out.len() > self.spec.max_entries as usize + 1 {
                // Concurrent deletes can make iteration restart; never loop forever.
                return Ok(out);
            }
        }
    }

    fn update_batch(&mut self, entries: &[(Vec<u8>, Vec<u8>)]) -> Result<(), MapError> {
        for (k, v) in entries {
            self.check_sizes(k, Some(v))?;
        }
        let mut keys = Vec::with_capacity(entries.len() * self.spec.key_size as usize);
        let mut values = Vec::with_capacity(entries.iter().map(|(_, v)| v.len()).sum());
        for (k, v) in entries {
            keys.extend_from_slice(k);
            values.extend_from_slice(v);
        }
        self.update_batch_flat(&keys, &values)
    }

    fn update_batch_flat(&mut self, keys: &[u8], values: &[u8]) -> Result<(), MapError> {
        let ks = self.spec.key_size as usize;
        let vs = self.spec.stored_value_len(self.value_slots());
        let total = keys.len() / ks.max(1);
        if keys.len() != total * ks || values.len() != total * vs {
            return Err(MapError::InvalidKey {
                map: self.spec.name.clone(),
                reason: format!(
                    "batch of {} key bytes and {} value bytes is not whole {ks}-byte keys and \
                     {vs}-byte values",
                    keys.len(),
                    values.len()
                ),
            });
        }
        // LPM tries have no batch operations; do them one by one.
        if self.spec.kind == MapKind::LpmTrie {
            for (i, (k, v)) in keys.chunks(ks).zip(values.chunks(vs)).enumerate() {
                self.update(k, v, UpdateFlags::Any)
                    .map_err(|e| MapError::BatchIncomplete {
                        map: self.spec.name.clone(),
                        written: i,
                        total,
                        source: Box::new(e),
                    })?;
            }
            return Ok(());
        }
        let mut written = 0usize;
        for (k, v) in keys
            .chunks(ks * BATCH_CHUNK)
            .zip(values.chunks(vs * BATCH_CHUNK))
        {
            let count = k.len() / ks;
            let mut attr = BatchAttr {
                keys: k.as_ptr() as u64,
                values: v.as_ptr() as u64,
                count: count as u32,
                map_fd: self.fd(),
                ..Default::default()
            };
            let res = sys_bpf(BPF_MAP_UPDATE_BATCH, &mut attr);
            // The kernel writes back how many elements it processed.
            let done = (attr.count as usize).min(count);
            match res {
                Ok(_) => written += count,
                Err(e) => {
                    written += done;
                    return Err(MapError::BatchIncomplete {
                        map: self.spec.name.clone(),
                        written,
                        total,
                        source: Box::new(self.update_error(e)),
                    });
                }
            }
        }
        Ok(())
    }
}
