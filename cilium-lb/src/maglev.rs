//! Maglev consistent hashing, table-compatible with Cilium.
//!
//! Given the same table size, seed and backends, [`build_table`] produces the same lookup table
//! as Cilium's `pkg/maglev`, entry for entry, so a flow hashes to the same backend on every node,
//! whether that node runs this crate or Cilium. What has to agree, and does:
//!
//! - the table size `M`, a prime from [`SUPPORTED_TABLE_SIZES`] (default 16381);
//! - the seed, 12 bytes of base64 whose first four (big-endian) seed MurmurHash3 and whose other
//!   eight seed the datapath's jhash ([`MaglevConfig`]);
//! - the string each backend is known by ([`hash_string`]), and the order of backends (sorted by
//!   that string, whatever order the caller gives);
//! - each backend's permutation: `offset = h1 % M`, `skip = h2 % (M - 1) + 1` from
//!   MurmurHash3 x64_128 of the string, and `perm[j] = (offset + j * skip) % M`;
//! - the weighted round-robin fill (see [`build_table`]).
//!
//! # Memory
//!
//! Cilium materialises every backend's permutation (an `N × M` array, and at least
//! `(M / 100) × M` entries: about 20 MB at M = 16381). This builder never does: `perm[i][j]` is
//! only ever read at increasing `j`, so each backend keeps its current position and its skip and
//! steps `position = (position + skip) % M`. Working memory is the `M`-entry table plus, per
//! backend, its hash string and a few words: **O(M + N)**.

use std::fmt;
use std::net::IpAddr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cilium_core::Protocol;

use crate::murmur3;

/// The table sizes Cilium accepts (`--bpf-lb-maglev-table-size`): primes, so that every skip is
/// coprime with the size and each permutation visits every slot.
pub const SUPPORTED_TABLE_SIZES: [u32; 10] = [
    251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071,
];

/// Cilium's default table size.
#[doc(alias = "DefaultTableSize")]
pub const DEFAULT_TABLE_SIZE: u32 = 16381;

/// Cilium's default seed (`--bpf-lb-maglev-hash-seed`), base64 of 12 bytes.
#[doc(alias = "DefaultHashSeed")]
pub const DEFAULT_HASH_SEED: &str = "JLfvgnHc2kaSUFaI";

/// The value of a slot no backend has claimed yet. [`build_table`] fills every slot when it has
/// at least one backend, so it never returns this value; it is also refused as a backend id.
pub const EMPTY_SLOT: u32 = u32::MAX;

/// The length of the decoded seed.
const SEED_LEN: usize = 12;

/// An error in the Maglev configuration or in the backends given to [`build_table`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MaglevError {
    /// The table size is not one of [`SUPPORTED_TABLE_SIZES`].
    #[error("table_size: {size} is not a supported Maglev table size; use one of {allowed:?}")]
    TableSize {
        /// The size that was asked for.
        size: u64,
        /// The sizes that are accepted.
        allowed: &'static [u32],
    },
    /// The seed is not valid base64.
    #[error("seed: {seed:?} is not valid base64 ({reason})")]
    SeedBase64 {
        /// The seed as given.
        seed: String,
        /// What the decoder reported.
        reason: String,
    },
    /// The seed decodes to a number of bytes other than 12.
    #[error("seed: {seed:?} decodes to {len} bytes, not 12")]
    SeedLength {
        /// The seed as given.
        seed: String,
        /// The number of decoded bytes.
        len: usize,
    },
    /// Two backends have the same hash string, so their order (and the table) would depend on
    /// the caller's order.
    #[error("backends[{index}]: {hash_string} is the same backend as backends[{first}]")]
    DuplicateBackend {
        /// Position of the second occurrence in the caller's slice.
        index: usize,
        /// Position of the first occurrence.
        first: usize,
        /// The hash string both share.
        hash_string: String,
    },
    /// Two backends have the same id, so the table could not tell them apart.
    #[error("backends[{index}].id: {id} is already the id of backends[{first}]")]
    DuplicateId {
        /// Position of the second occurrence in the caller's slice.
        index: usize,
        /// Position of the first occurrence.
        first: usize,
        /// The id both share.
        id: u32,
    },
    /// A backend uses the id reserved for empty slots.
    #[error("backends[{index}].id: {id:#x} is reserved for empty slots")]
    ReservedId {
        /// Position of the backend in the caller's slice.
        index: usize,
        /// The reserved id ([`EMPTY_SLOT`]).
        id: u32,
    },
}

/// Table size and seeds of a Maglev table (Cilium's `maglev.Config`).
///
/// ```
/// use cilium_lb::maglev::MaglevConfig;
///
/// let config = MaglevConfig::default();
/// assert_eq!(config.table_size(), 16381);
/// assert_eq!(config.seed_murmur(), 0x24b7_ef82);
/// assert_eq!(config.seed_jhash0(), 0x71dc_da46);
/// assert_eq!(config.seed_jhash1(), 0x9250_5688);
/// assert!(MaglevConfig::new(1000, None).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MaglevConfig {
    table_size: u32,
    seed: [u8; SEED_LEN],
}

impl MaglevConfig {
    /// Checks the table size and decodes the base64 seed (`None` is [`DEFAULT_HASH_SEED`]).
    pub fn new(table_size: u32, seed_b64: Option<&str>) -> Result<Self, MaglevError> {
        if !SUPPORTED_TABLE_SIZES.contains(&table_size) {
            return Err(MaglevError::TableSize {
                size: u64::from(table_size),
                allowed: &SUPPORTED_TABLE_SIZES,
            });
        }
        let seed_b64 = seed_b64.unwrap_or(DEFAULT_HASH_SEED);
        let bytes = STANDARD
            .decode(seed_b64)
            .map_err(|e| MaglevError::SeedBase64 {
                seed: seed_b64.to_owned(),
                reason: e.to_string(),
            })?;
        let seed: [u8; SEED_LEN] =
            bytes
                .as_slice()
                .try_into()
                .map_err(|_| MaglevError::SeedLength {
                    seed: seed_b64.to_owned(),
                    len: bytes.len(),
                })?;
        Ok(MaglevConfig { table_size, seed })
    }

    /// The number of slots `M` of every table.
    pub fn table_size(&self) -> u32 {
        self.table_size
    }

    /// The 12 decoded seed bytes.
    pub fn seed_bytes(&self) -> [u8; SEED_LEN] {
        self.seed
    }

    /// The seed of MurmurHash3: bytes 0..4, big-endian.
    #[doc(alias = "SeedMurmur")]
    pub fn seed_murmur(&self) -> u32 {
        self.seed_word(0)
    }

    /// The first jhash seed of the datapath: bytes 4..8, big-endian.
    #[doc(alias = "SeedJhash0")]
    pub fn seed_jhash0(&self) -> u32 {
        self.seed_word(1)
    }

    /// The second jhash seed of the datapath: bytes 8..12, big-endian.
    #[doc(alias = "SeedJhash1")]
    pub fn seed_jhash1(&self) -> u32 {
        self.seed_word(2)
    }

    fn seed_word(&self, word: usize) -> u32 {
        let b = &self.seed[word * 4..word * 4 + 4];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    /// The permutation of the backend known by `hash_string`: the slots it tries, in order.
    ///
    /// It yields `M` distinct slots, computed on the fly (no storage).
    pub fn permutation(&self, hash_string: &str) -> Permutation {
        let (offset, skip) =
            offset_and_skip(hash_string.as_bytes(), self.seed_murmur(), self.table_size);
        Permutation {
            position: offset,
            step: Step::new(skip, self.table_size),
            remaining: self.table_size,
        }
    }
}

impl Default for MaglevConfig {
    /// Table size 16381 and the seed `JLfvgnHc2kaSUFaI`, as in Cilium.
    fn default() -> Self {
        // Decoding the default seed by hand keeps `default()` infallible.
        MaglevConfig {
            table_size: DEFAULT_TABLE_SIZE,
            seed: [
                0x24, 0xb7, 0xef, 0x82, 0x71, 0xdc, 0xda, 0x46, 0x92, 0x50, 0x56, 0x88,
            ],
        }
    }
}

/// One backend as the Maglev builder sees it (Cilium's `maglev.BackendInfo`).
#[doc(alias = "BackendInfo")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MaglevBackend {
    /// The value written into the slots this backend owns (a node-local backend id).
    pub id: u32,
    /// Backend address.
    pub addr: IpAddr,
    /// Backend port.
    pub port: u16,
    /// L4 protocol.
    pub protocol: Protocol,
    /// Relative weight; 0 leaves the backend out of the table.
    pub weight: u16,
    /// Whether the backend address has the internal lookup scope (adds `/i` to the hash string).
    pub internal_scope: bool,
}

impl MaglevBackend {
    /// An unweighted (weight 1) backend of external scope.
    pub fn new(id: u32, addr: IpAddr, port: u16, protocol: Protocol) -> Self {
        MaglevBackend {
            id,
            addr,
            port,
            protocol,
            weight: 1,
            internal_scope: false,
        }
    }

    /// The same backend with another weight.
    #[must_use]
    pub fn with_weight(mut self, weight: u16) -> Self {
        self.weight = weight;
        self
    }

    /// The string this backend is hashed by; see [`hash_string`].
    pub fn hash_string(&self) -> String {
        hash_string(self.addr, self.port, self.protocol, self.internal_scope)
    }
}

/// The string a backend is hashed by, exactly as Cilium spells it (it must never change, or
/// nodes would disagree): `[ADDR:PORT/PROTO,State:active]`, with an IPv6 address in its own
/// brackets and `/i` after the protocol for the internal scope.
///
/// ```
/// use cilium_core::Protocol;
/// use cilium_lb::maglev::hash_string;
///
/// let v4 = hash_string("0.0.0.1".parse().unwrap(), 1, Protocol::Tcp, false);
/// assert_eq!(v4, "[0.0.0.1:1/TCP,State:active]");
/// let v6 = hash_string("2001:db8::1".parse().unwrap(), 53, Protocol::Udp, true);
/// assert_eq!(v6, "[[2001:db8::1]:53/UDP/i,State:active]");
/// ```
pub fn hash_string(addr: IpAddr, port: u16, protocol: Protocol, internal_scope: bool) -> String {
    let mut out = Vec::with_capacity(48);
    push_hash_string(&mut out, addr, port, protocol, internal_scope);
    // Always ASCII: digits, punctuation, hex digits of IPv6 and protocol names.
    String::from_utf8_lossy(&out).into_owned()
}

/// Appends [`hash_string`]'s bytes to `out`: the builder spells up to thousands of these per
/// table into one buffer. IPv4 addresses and ports are written digit by digit; IPv6 goes
/// through `Display`, whose compressed form is Cilium's spelling too.
fn push_hash_string(
    out: &mut Vec<u8>,
    addr: IpAddr,
    port: u16,
    protocol: Protocol,
    internal_scope: bool,
) {
    out.push(b'[');
    match addr {
        IpAddr::V4(a) => {
            let [a0, a1, a2, a3] = a.octets();
            push_decimal(out, a0.into());
            for octet in [a1, a2, a3] {
                out.push(b'.');
                push_decimal(out, octet.into());
            }
        }
        IpAddr::V6(a) => {
            use fmt::Write as _;
            // Writing into a `Vec` cannot fail.
            let _ = write!(ByteSink(out), "[{a}]");
        }
    }
    out.push(b':');
    push_decimal(out, port.into());
    out.push(b'/');
    out.extend_from_slice(protocol.as_str().as_bytes());
    if internal_scope {
        out.extend_from_slice(b"/i");
    }
    out.extend_from_slice(b",State:active]");
}

/// Appends `v` in decimal, no padding.
fn push_decimal(out: &mut Vec<u8>, mut v: u32) {
    let mut digits = [0u8; 10];
    let mut start = digits.len();
    loop {
        start -= 1;
        // A single digit: `v % 10` is below 10.
        digits[start] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[start..]);
}

/// `fmt::Write` into a byte buffer.
struct ByteSink<'a>(&'a mut Vec<u8>);

impl fmt::Write for ByteSink<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// `offset = h1 % M` and `skip = h2 % (M - 1) + 1`.
fn offset_and_skip(hash_string: &[u8], seed: u32, size: u32) -> (u32, u32) {
    let (h1, h2) = murmur3::hash128(hash_string, seed);
    let m = u64::from(size);
    // Both results are below `size`, itself a `u32`.
    let offset = (h1 % m) as u32;
    let skip = (h2 % (m - 1) + 1) as u32;
    (offset, skip)
}

/// The slots one backend tries, in order: `(offset + j * skip) % M` for `j` in `0..M`.
///
/// Made by [`MaglevConfig::permutation`].
#[derive(Debug, Clone)]
pub struct Permutation {
    position: u32,
    step: Step,
    remaining: u32,
}

impl Permutation {
    /// The slot at `j = 0`.
    pub fn offset(&self) -> u32 {
        self.position
    }

    /// The step between two slots, `skip` in Cilium's terms, in `1..M`.
    #[doc(alias = "skip")]
    pub fn step(&self) -> u32 {
        self.step.skip
    }
}

impl Iterator for Permutation {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let slot = self.position;
        self.position = self.step.after(slot);
        Some(slot)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.remaining as usize;
        (n, Some(n))
    }
}

impl ExactSizeIterator for Permutation {}

impl fmt::Display for MaglevConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "maglev(table_size={}, seed={})",
            self.table_size,
            STANDARD.encode(self.seed)
        )
    }
}

/// Per-backend state of the fill: the backend's id and weight, and where it is in its
/// permutation: the slot it tries next, its step `skip`, and `M - skip` (see [`Step`]).
struct Slotter {
    id: u32,
    weight: u64,
    position: u32,
    step: Step,
}

/// One step of a permutation, `position -> (position + skip) % M`, taken as
/// `position - (M - skip)` when `position >= M - skip` and as `position + skip` otherwise:
/// both candidates and the comparison depend only on `position`, so a step costs the fill's
/// probe loop one add and one select (`(position + skip) % M` would chain add, compare and
/// select, and the loop waits on that chain).
#[derive(Debug, Clone, Copy)]
struct Step {
    skip: u32,
    wrap_at: u32,
}

impl Step {
    fn new(skip: u32, size: u32) -> Self {
        Step {
            skip,
            wrap_at: size - skip,
        }
    }

    fn after(self, position: u32) -> u32 {
        if position >= self.wrap_at {
            position - self.wrap_at
        } else {
            position + self.skip
        }
    }
}

/// Builds the Maglev lookup table: `M` entries, each the id of the backend owning that slot.
///
/// Backends of weight 0 are left out. With no backend left, the table is **empty** (`Ok` of an
/// empty `Vec`), not an error: a service without backends has no table, and the datapath drops
/// its traffic as "backend not found". Otherwise every slot holds a backend id (none is
/// [`EMPTY_SLOT`]); with more backends than slots, some backends own no slot.
///
/// The fill, as in Cilium's `computeLookupTable`: backends are sorted by [`hash_string`]; with
/// `len` backends and `weight_sum` their total weight, weights are used only when
/// `weight_sum / len > 1` in integer arithmetic (so all-ones means unweighted). Each backend
/// keeps a float counter starting at `weight / len`. For each turn `n` in `0..M` the candidate
/// is `n % len`; when weights are used, the candidate passes to the next backend while
/// `(n + 1) * weight < counter as u64`, and the chosen one adds `weight_sum` to its counter.
/// The chosen backend then claims the first slot of its permutation not yet claimed.
///
/// Errors: two backends with the same hash string or the same id, or an id of [`EMPTY_SLOT`].
///
/// Memory: the returned table plus O(N) of state (the hash strings in one buffer, their
/// order, a few words per backend); see the [module documentation](self).
///
/// ```
/// use cilium_core::Protocol;
/// use cilium_lb::maglev::{build_table, MaglevBackend, MaglevConfig};
///
/// let config = MaglevConfig::new(251, None).unwrap();
/// let backends: Vec<MaglevBackend> = (1..=3u8)
///     .map(|i| MaglevBackend::new(u32::from(i), [10, 0, 0, i].into(), 80, Protocol::Tcp))
///     .collect();
/// let table = build_table(&config, &backends).unwrap();
/// assert_eq!(table.len(), 251);
/// assert!(table.iter().all(|id| (1..=3).contains(id)));
/// ```
#[doc(alias = "GetLookupTable", alias = "computeLookupTable")]
pub fn build_table(
    config: &MaglevConfig,
    backends: &[MaglevBackend],
) -> Result<Vec<u32>, MaglevError> {
    // Hash strings, all in one buffer: backend `i`'s is `names[starts[i]..starts[i + 1]]`.
    let mut names: Vec<u8> = Vec::with_capacity(backends.len() * 40);
    let mut starts: Vec<usize> = Vec::with_capacity(backends.len() + 1);
    starts.push(0);
    for (index, b) in backends.iter().enumerate() {
        if b.id == EMPTY_SLOT {
            return Err(MaglevError::ReservedId { index, id: b.id });
        }
        push_hash_string(&mut names, b.addr, b.port, b.protocol, b.internal_scope);
        starts.push(names.len());
    }
    let name = |i: usize| &names[starts[i]..starts[i + 1]];

    // Backends in hash-string order, equal strings (duplicates, refused below) by index. The
    // first 16 bytes as a big-endian number order most pairs without reading the strings
    // (zero padding sorts a string before its extensions, as byte-wise order does); only
    // runs that agree on them are sorted again by the whole string, stably.
    let mut order: Vec<(u128, usize)> = (0..backends.len())
        .map(|i| (sort_prefix(name(i)), i))
        .collect();
    order.sort_unstable();
    for run in order.chunk_by_mut(|a, b| a.0 == b.0) {
        if run.len() > 1 {
            run.sort_by(|a, b| name(a.1).cmp(name(b.1)));
        }
    }
    for pair in order.windows(2) {
        let (i, j) = (pair[0].1, pair[1].1);
        if pair[0].0 == pair[1].0 && name(i) == name(j) {
            return Err(MaglevError::DuplicateBackend {
                index: i.max(j),
                first: i.min(j),
                hash_string: String::from_utf8_lossy(name(j)).into_owned(),
            });
        }
    }
    let mut by_id: Vec<(u32, usize)> = backends
        .iter()
        .enumerate()
        .map(|(i, b)| (b.id, i))
        .collect();
    by_id.sort_unstable();
    for pair in by_id.windows(2) {
        if pair[0].0 == pair[1].0 {
            return Err(MaglevError::DuplicateId {
                index: pair[0].1.max(pair[1].1),
                first: pair[0].1.min(pair[1].1),
                id: pair[0].0,
            });
        }
    }
    drop(by_id);

    let size_u32 = config.table_size;
    let seed = config.seed_murmur();
    let mut slotters: Vec<Slotter> = order
        .iter()
        .map(|&(_, i)| (i, &backends[i]))
        .filter(|(_, b)| b.weight > 0)
        .map(|(i, b)| {
            let (offset, skip) = offset_and_skip(name(i), seed, size_u32);
            Slotter {
                id: b.id,
                weight: u64::from(b.weight),
                position: offset,
                step: Step::new(skip, size_u32),
            }
        })
        .collect();
    drop(order);
    drop(starts);
    drop(names);
    if slotters.is_empty() {
        return Ok(Vec::new());
    }

    let size = size_u32 as usize;
    let len = slotters.len();
    let len_u64 = len as u64;
    let weight_sum: u64 = slotters.iter().map(|s| s.weight).sum();
    let weights_used = weight_sum / len_u64 > 1;
    // Floats on purpose: the truncation of these counters decides ties, and Cilium uses f64.
    let mut counters: Vec<f64> = if weights_used {
        slotters
            .iter()
            .map(|s| s.weight as f64 / len as f64)
            .collect()
    } else {
        Vec::new()
    };
    let weight_sum_f = weight_sum as f64;

    let mut table = vec![EMPTY_SLOT; size];
    // The candidate of turn `n`, `n % len`, kept without a division.
    let mut candidate = 0;
    for n in 0..size {
        let mut i = candidate;
        candidate = if candidate + 1 == len {
            0
        } else {
            candidate + 1
        };
        if weights_used {
            let turn = n as u64 + 1;
            // Terminates: the backend with the smallest counter relative to its weight passes.
            while turn * slotters[i].weight < counters[i] as u64 {
                i = if i + 1 == len { 0 } else { i + 1 };
            }
            counters[i] += weight_sum_f;
        }
        let slotter = &mut slotters[i];
        let step = slotter.step;
        let mut position = slotter.position;
        // Terminates within M steps: fewer than M slots are taken and the permutation
        // visits all M.
        loop {
            let slot = position as usize;
            position = step.after(position);
            if table[slot] == EMPTY_SLOT {
                table[slot] = slotter.id;
                break;
            }
        }
        slotter.position = position;
    }
    Ok(table)
}

/// The first 16 bytes of `s`, zero-padded, as a big-endian number: ordering these orders the
/// strings, except between strings that agree on their first 16 bytes.
fn sort_prefix(s: &[u8]) -> u128 {
    let mut bytes = [0u8; 16];
    let n = s.len().min(16);
    bytes[..n].copy_from_slice(&s[..n]);
    u128::from_be_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_seed_words() {
        let c = MaglevConfig::new(DEFAULT_TABLE_SIZE, Some(DEFAULT_HASH_SEED)).unwrap();
        assert_eq!(c, MaglevConfig::default());
        assert_eq!(c.seed_murmur(), 616_034_178);
        assert_eq!(c.seed_jhash0(), 1_910_299_206);
        assert_eq!(c.seed_jhash1(), 2_454_738_568);
        assert_eq!(
            c.to_string(),
            "maglev(table_size=16381, seed=JLfvgnHc2kaSUFaI)"
        );
    }

    #[test]
    fn config_errors() {
        assert_eq!(
            MaglevConfig::new(1000, None),
            Err(MaglevError::TableSize {
                size: 1000,
                allowed: &SUPPORTED_TABLE_SIZES
            })
        );
        let msg = MaglevConfig::new(1000, None).unwrap_err().to_string();
        assert!(msg.starts_with("table_size: 1000 is not"), "{msg}");
        assert!(msg.contains("251, 509"), "{msg}");

        assert!(matches!(
            MaglevConfig::new(251, Some("not base64!")),
            Err(MaglevError::SeedBase64 { .. })
        ));
        assert_eq!(
            MaglevConfig::new(251, Some("AAAA")),
            Err(MaglevError::SeedLength {
                seed: "AAAA".into(),
                len: 3
            })
        );
        for size in SUPPORTED_TABLE_SIZES {
            assert!(MaglevConfig::new(size, None).is_ok());
        }
    }

    #[test]
    fn permutation_visits_every_slot() {
        let c = MaglevConfig::new(251, None).unwrap();
        let perm = c.permutation("[0.0.0.1:1/TCP,State:active]");
        let (offset, skip) = (perm.offset(), perm.step());
        assert!((1..251).contains(&skip));
        let slots: Vec<u32> = perm.collect();
        assert_eq!(slots.len(), 251);
        assert_eq!(slots[0], offset);
        let mut sorted = slots.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..251).collect::<Vec<_>>());
    }

    #[test]
    fn backend_errors() {
        let c = MaglevConfig::new(251, None).unwrap();
        let a = MaglevBackend::new(1, [10, 0, 0, 1].into(), 80, Protocol::Tcp);
        let b = MaglevBackend::new(2, [10, 0, 0, 2].into(), 80, Protocol::Tcp);
        assert_eq!(build_table(&c, &[]), Ok(vec![]));
        assert_eq!(build_table(&c, &[a.with_weight(0)]), Ok(vec![]));
        assert_eq!(
            build_table(&c, &[a, b, MaglevBackend { id: 3, ..a }]),
            Err(MaglevError::DuplicateBackend {
                index: 2,
                first: 0,
                hash_string: "[10.0.0.1:80/TCP,State:active]".into()
            })
        );
        assert_eq!(
            build_table(&c, &[a, MaglevBackend { id: 1, ..b }]),
            Err(MaglevError::DuplicateId {
                index: 1,
                first: 0,
                id: 1
            })
        );
        assert_eq!(
            build_table(
                &c,
                &[MaglevBackend {
                    id: EMPTY_SLOT,
                    ..a
                }]
            ),
            Err(MaglevError::ReservedId {
                index: 0,
                id: EMPTY_SLOT
            })
        );
    }

    #[test]
    fn order_of_input_does_not_matter() {
        let c = MaglevConfig::new(1021, None).unwrap();
        let backends: Vec<MaglevBackend> = (1..=5u8)
            .map(|i| {
                MaglevBackend::new(u32::from(i), [10, 0, 0, i].into(), 80, Protocol::Tcp)
                    .with_weight(u16::from(i))
            })
            .collect();
        let mut reversed = backends.clone();
        reversed.reverse();
        assert_eq!(build_table(&c, &backends), build_table(&c, &reversed));
    }

    #[test]
    fn hash_strings_are_spelled_as_by_display() {
        let cases = [
            ("0.0.0.0", 0),
            ("255.255.255.255", 65535),
            ("10.0.1.245", 8080),
            ("1.20.100.9", 9),
            ("::", 1),
            ("2001:db8::1", 53),
            ("::ffff:10.0.0.1", 80),
        ];
        for (addr, port) in cases {
            let a: IpAddr = addr.parse().unwrap();
            for (scope, suffix) in [(false, ""), (true, "/i")] {
                for protocol in Protocol::ALL {
                    let expected = match a {
                        IpAddr::V4(v) => format!("[{v}:{port}/{protocol}{suffix},State:active]"),
                        IpAddr::V6(v) => format!("[[{v}]:{port}/{protocol}{suffix},State:active]"),
                    };
                    assert_eq!(hash_string(a, port, protocol, scope), expected);
                }
            }
        }
    }

    #[test]
    fn order_past_the_first_16_bytes_does_not_depend_on_input_order() {
        // `[[2001:db8::1]:8080/…` and `[[2001:db8::1]:80/…` agree on their first 16 bytes, so
        // their order comes from comparing the whole strings.
        let c = MaglevConfig::new(1021, None).unwrap();
        let mut backends = Vec::new();
        for addr in ["2001:db8::1", "2001:db8::10"] {
            for port in [8080, 80, 8, 88] {
                let id = backends.len() as u32;
                backends.push(MaglevBackend::new(
                    id,
                    addr.parse().unwrap(),
                    port,
                    Protocol::Tcp,
                ));
            }
        }
        let table = build_table(&c, &backends).unwrap();
        let mut sorted = backends.clone();
        sorted.sort_by_key(MaglevBackend::hash_string);
        assert_eq!(build_table(&c, &sorted).unwrap(), table);
        for k in 1..backends.len() {
            let mut rotated = backends.clone();
            rotated.rotate_left(k);
            assert_eq!(build_table(&c, &rotated).unwrap(), table, "rotation {k}");
        }
    }

    #[test]
    fn single_backend_owns_everything() {
        let c = MaglevConfig::new(251, None).unwrap();
        let a = MaglevBackend::new(7, [10, 0, 0, 1].into(), 80, Protocol::Tcp).with_weight(9);
        assert_eq!(build_table(&c, &[a]).unwrap(), vec![7; 251]);
    }
}
