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
//! steps `position = (position + skip) % M`. Working memory is the `M`-entry table plus a few
//! words and the hash string per backend: **O(M + N)**.

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
        let (offset, skip) = offset_and_skip(hash_string, self.seed_murmur(), self.table_size);
        Permutation {
            position: offset,
            skip,
            size: self.table_size,
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
    let scope = if internal_scope { "/i" } else { "" };
    match addr {
        IpAddr::V4(a) => format!("[{a}:{port}/{protocol}{scope},State:active]"),
        IpAddr::V6(a) => format!("[[{a}]:{port}/{protocol}{scope},State:active]"),
    }
}

/// `offset = h1 % M` and `skip = h2 % (M - 1) + 1`.
fn offset_and_skip(hash_string: &str, seed: u32, size: u32) -> (u32, u32) {
    let (h1, h2) = murmur3::hash128(hash_string.as_bytes(), seed);
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
    skip: u32,
    size: u32,
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
        self.skip
    }

    /// The slot the backend is at now.
    fn current(&self) -> u32 {
        self.position
    }

    /// Moves to the next slot (`position + skip`, reduced once: both are below `M`).
    fn advance(&mut self) {
        let next = u64::from(self.position) + u64::from(self.skip);
        let size = u64::from(self.size);
        // Below 2M, so one subtraction reduces it; the result is below M, a `u32`.
        self.position = if next >= size { next - size } else { next } as u32;
    }
}

impl Iterator for Permutation {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let slot = self.current();
        self.advance();
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

/// Per-backend state of the fill: the backend's id, weight and where it is in its permutation.
struct Slotter {
    id: u32,
    weight: u64,
    perm: Permutation,
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
/// Memory: the returned table plus O(N) of state; see the [module documentation](self).
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
    // Hash strings, checked for duplicates, in the caller's order first.
    let mut keyed: Vec<(String, usize)> = Vec::with_capacity(backends.len());
    for (index, b) in backends.iter().enumerate() {
        if b.id == EMPTY_SLOT {
            return Err(MaglevError::ReservedId { index, id: b.id });
        }
        keyed.push((b.hash_string(), index));
    }
    keyed.sort();
    for pair in keyed.windows(2) {
        let ((first_hs, i), (second_hs, j)) = (&pair[0], &pair[1]);
        if first_hs == second_hs {
            return Err(MaglevError::DuplicateBackend {
                index: (*i).max(*j),
                first: (*i).min(*j),
                hash_string: second_hs.clone(),
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

    let mut slotters: Vec<Slotter> = keyed
        .iter()
        .map(|(hs, index)| (hs, &backends[*index]))
        .filter(|(_, b)| b.weight > 0)
        .map(|(hs, b)| Slotter {
            id: b.id,
            weight: u64::from(b.weight),
            perm: config.permutation(hs),
        })
        .collect();
    drop(keyed);
    if slotters.is_empty() {
        return Ok(Vec::new());
    }

    let size = config.table_size as usize;
    let len = slotters.len();
    let len_u64 = len as u64;
    let weight_sum: u64 = slotters.iter().map(|s| s.weight).sum();
    let weights_used = weight_sum / len_u64 > 1;
    // Floats on purpose: the truncation of these counters decides ties, and Cilium uses f64.
    let mut counters: Vec<f64> = slotters
        .iter()
        .map(|s| s.weight as f64 / len as f64)
        .collect();
    let weight_sum_f = weight_sum as f64;

    let mut table = vec![EMPTY_SLOT; size];
    for n in 0..size {
        let mut i = n % len;
        if weights_used {
            let turn = n as u64 + 1;
            // Terminates: the backend with the smallest counter relative to its weight passes.
            while turn * slotters[i].weight < counters[i] as u64 {
                i = (i + 1) % len;
            }
            counters[i] += weight_sum_f;
        }
        let slotter = &mut slotters[i];
        // Terminates within M steps: fewer than M slots are taken and the permutation
        // visits all M.
        loop {
            let slot = slotter.perm.current() as usize;
            slotter.perm.advance();
            if table[slot] == EMPTY_SLOT {
                table[slot] = slotter.id;
                break;
            }
        }
    }
    Ok(table)
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
    fn single_backend_owns_everything() {
        let c = MaglevConfig::new(251, None).unwrap();
        let a = MaglevBackend::new(7, [10, 0, 0, 1].into(), 80, Protocol::Tcp).with_weight(9);
        assert_eq!(build_table(&c, &[a]).unwrap(), vec![7; 251]);
    }
}
