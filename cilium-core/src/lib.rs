//! The shared vocabulary of the cilium-rs crate family: labels and the identity-relevant label
//! filter, numeric security identities with their reserved values, scopes and per-cluster
//! ranges, IPv4/IPv6 CIDRs, and L4 protocols, ports, port ranges and port prefixes.
//!
//! It is **not** an allocator, a policy engine or a datapath: it holds no state beyond the
//! values it defines and does no I/O (no tokio, aya, libc, filesystem, clock, environment or
//! randomness), so it builds and tests anywhere. Use `cilium-identity` to allocate identities
//! for label sets, `cilium-policy` to turn policies into per-endpoint map state,
//! `cilium-maps` for the kernel ABI and `cilium-datapath` to load programs.
//!
//! The semantics follow Cilium (`pkg/labels`, `pkg/labelsfilter`, `pkg/identity`,
//! `pkg/policy/api`), and the data-driven tests in `tests/` check them against vectors taken
//! from Cilium's own tests.
//!
//! ```
//! use cilium_core::{Label, LabelSet, NumericIdentity};
//! use cilium_core::labels::LabelFilter;
//!
//! let labels = LabelSet::parse_list(&[
//!     "k8s:app=web",
//!     "k8s:io.kubernetes.pod.namespace=default",
//!     "k8s:pod-template-hash=5d4f8",
//! ]);
//! let relevant = LabelFilter::default().filter(&labels);
//! assert_eq!(
//!     relevant.sorted_list(),
//!     "k8s:app=web;k8s:io.kubernetes.pod.namespace=default;"
//! );
//! assert!(relevant.has(&Label::parse_select("app=web")));
//! assert_eq!("world".parse::<NumericIdentity>(), Ok(NumericIdentity::WORLD));
//! ```

pub mod cidr;
pub mod identity;
pub mod l4;
pub mod labels;

pub use cidr::Cidr;
pub use identity::NumericIdentity;
pub use l4::{PortPrefix, PortRange, Protocol};
pub use labels::{Label, LabelSet};

/// The README's example, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
