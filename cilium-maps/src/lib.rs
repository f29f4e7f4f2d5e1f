//! The datapath ABI of the cilium-rs family, and typed handles over BPF maps.
//!
//! What it is:
//! - **One C header**, `include/cilium_abi.h`, shipped in this crate: every map key and value
//!   and every event record the eBPF programs share with user space, with Cilium's drop-reason
//!   and event numbers. Build scripts of dependent crates find it through
//!   `DEP_CILIUM_MAPS_ABI_INCLUDE`.
//! - **Rust mirrors** of those types ([`abi`]): `#[repr(C)]`, byte order in the type
//!   ([`abi::Be16`]), [`bytemuck::Pod`] (and [`aya::Pod`] with the `kernel` feature), sizes
//!   asserted at compile time.
//! - **A layout check** ([`layout`]): reads the BTF of an object compiled from the header and
//!   compares every struct size, field offset and constant with the Rust side.
//! - **Typed handles** ([`PolicyMap`], [`IpCache`], [`EndpointMap`], [`ServiceMap`],
//!   [`BackendMap`], [`RevNatMap`], [`ConntrackMap`], [`AffinityMap`], [`MetricsMap`],
//!   [`MaglevMap`], ...) over kernel maps ([`KernelMap`], via aya, with the `kernel` feature)
//!   **or** an in-memory twin ([`MemoryMap`]) with the same semantics, longest-prefix match
//!   included, and a deterministic [`Map::dump`] for golden tests.
//! - **Event decoding** ([`events::Event::parse`]) of ring-buffer records.
//!
//! What it is not: it loads no program and attaches nothing (that is `cilium-datapath`), and
//! it holds no policy or load-balancing logic (`cilium-policy`, `cilium-lb`). The policy
//! engine does not depend on this crate: `cilium-datapath` converts its `MapState` into
//! [`abi::PolicyKey`]s.
//!
//! ```
//! use cilium_maps::{PolicyMap, MemoryMap, abi::{PolicyKey, PolicyEntry, consts::*}};
//!
//! // The in-memory twin behaves like the kernel's LPM trie.
//! let mut policy: PolicyMap<MemoryMap> = PolicyMap::in_memory("cil_policy_00042", 0);
//! // Allow TCP to ports 8080-8083 (a /14 port prefix) from identity 1234.
//! policy.insert(&PolicyKey::new(1234, CIL_DIR_INGRESS, 6, 8080, 14), &PolicyEntry::allow(0))?;
//! let hit = policy.get(&PolicyKey::lookup(1234, CIL_DIR_INGRESS, 6, 8082))?;
//! assert!(hit.is_some_and(|e| !e.is_deny()));
//! assert!(policy.get(&PolicyKey::lookup(1234, CIL_DIR_INGRESS, 6, 8084))?.is_none());
//! # Ok::<(), cilium_maps::MapError>(())
//! ```
//!
//! ## Features
//!
//! - `kernel` (default): kernel maps through aya and `bpf(2)` — `KernelMap`, `MapOfMaps`,
//!   `MaglevMap::create`/`from_pin`/`pin`, the typed handles' `create`/`from_pin`/
//!   `from_map_data`/`pin`, and `aya::Pod` for every ABI struct. It pulls in `aya` and `libc`.
//!
//! Without `kernel` the crate is pure (no aya, libc, tokio, file system, clock or environment):
//! ABI mirrors, the BTF layout check, event decoding and the in-memory twins, which is what a
//! pure consumer such as `cilium-hubble`'s flow parser needs. Every item present without the
//! feature is the same item with it, so enabling `kernel` elsewhere in a build (feature
//! unification) never breaks a crate that was written without it. That is why the store
//! parameter of [`Map`] and the typed aliases defaults to `KernelMap` only with `kernel`;
//! without it the parameter has no default and is written out (`PolicyMap<MemoryMap>`), since
//! a `MemoryMap` default would silently turn into `KernelMap` once another crate in the build
//! enabled `kernel`.
#![cfg_attr(
    not(feature = "kernel"),
    doc = "",
    doc = "[`KernelMap`]: #features \"needs the kernel feature\"",
    doc = "[`aya::Pod`]: #features \"needs the kernel feature\""
)]

pub mod abi;
pub mod btf;
mod error;
pub mod events;
#[cfg(feature = "kernel")]
mod kernel;
pub mod layout;
mod maglev;
mod memory;
#[cfg(feature = "kernel")]
mod outer;
mod store;
mod typed;

pub use error::MapError;
#[cfg(feature = "kernel")]
pub use kernel::KernelMap;
pub use maglev::MaglevMap;
pub use memory::MemoryMap;
#[cfg(feature = "kernel")]
pub use outer::MapOfMaps;
pub use store::{MapKind, MapSpec, MapStore, UpdateFlags};
pub use typed::{
    AffinityMap, AffinityMapDef, BackendMap, BackendMapDef, ConntrackMap, ConntrackMapDef,
    EndpointMap, EndpointMapDef, Entry, IpCache, IpCacheDef, Map, MapDef, MetricsMap,
    MetricsMapDef, PolicyMap, PolicyMapDef, PrefilterDef, PrefilterMap, RevNatMap, RevNatMapDef,
    ServiceMap, ServiceMapDef, SockRevNatMap, SockRevNatMapDef, spec_of,
};

/// Re-exports for this crate's exported macros (not public API).
#[doc(hidden)]
pub mod __private {
    #[cfg(feature = "kernel")]
    pub use aya;
}

/// Directory of `cilium_abi.h` in this crate's source (for tests and tools; build scripts use
/// `DEP_CILIUM_MAPS_ABI_INCLUDE`).
pub const ABI_INCLUDE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/include");

/// This crate's README example, compiled as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct CrateReadmeDoctests;

/// The workspace README's examples, compiled as doctests (they use kernel maps).
#[cfg(all(doctest, feature = "kernel"))]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
