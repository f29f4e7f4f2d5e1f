//! Identity allocation for the cilium-rs family: identity-relevant label sets to
//! [`NumericIdentity`](cilium_core::NumericIdentity), as Cilium numbers them.
//!
//! - Reserved label sets get reserved identities (`reserved:host` is 1, `reserved:world` 2,
//!   ... up to `reserved:world-ipv6` 10); see [`IdentityClass`].
//! - Other label sets get global identities from the cluster's range (256..=65535 for
//!   cluster 0, the cluster id in bits 16..24 otherwise; see [`AllocatorConfig`]).
//! - CIDR and FQDN label sets get node-local identities in scope `1 << 24`.
//! - References are counted per [`UserId`]; an identity nobody references is collected
//!   after a grace period; every change is an [`IdentityEvent`] for the selector cache;
//!   exhaustion is [`AllocatorError::Exhausted`] and shows in [`IdentityPressure`].
//!
//! The allocator core ([`AllocatorCore`], wrapped by the in-memory [`Allocator`]) is pure:
//! no tokio, no I/O, no clock (time is an argument), seeded randomness. With
//! `default-features = false` that is all this crate builds. The default features add two
//! store backends, thin I/O shells around the same core:
//!
//! - `etcd`: [`etcd::EtcdAllocator`], Cilium's kvstore layout with compare-and-create
//!   transactions and per-node references under a lease; plus [`etcd::LocalEtcd`], a
//!   throwaway etcd server for tests and benchmarks;
//! - `k8s`: [`k8s::CrdAllocator`], `CiliumIdentity` objects through `kube`.
//!
//! What it is not: it does not decide which labels are identity-relevant (that is
//! [`cilium_core::labels::LabelFilter`]; filter before allocating) and it does not map IPs to
//! identities (the ipcache, in `cilium-maps` and the agent).
//!
//! ```
//! use std::time::Duration;
//! use cilium_core::LabelSet;
//! use cilium_core::labels::LabelFilter;
//! use cilium_identity::{Allocator, AllocatorConfig, UserId};
//!
//! let pod = LabelSet::parse_list(&["k8s:app=web", "k8s:pod-template-hash=5d4f8"]);
//! let relevant = LabelFilter::default().filter(&pod);
//! let mut alloc = Allocator::new(AllocatorConfig::new(0)?);
//! let id = alloc.allocate(&relevant, &UserId::new("ep-1")?, Duration::ZERO)?.id;
//! assert_eq!(alloc.labels_of(id), Some(relevant));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod class;
mod config;
mod core;
mod error;
mod event;
pub mod layout;
mod memory;
mod pool;
mod pressure;
mod user;

#[cfg(feature = "etcd")]
pub mod etcd;
#[cfg(feature = "k8s")]
pub mod k8s;

pub use class::{IdentityClass, identity_key, labels_from_key, reserved_labels};
pub use config::AllocatorConfig;
pub use core::{Acquire, Allocation, AllocatorCore, Collected, GlobalRequest};
pub use error::{AllocatorError, ConfigError};
pub use event::IdentityEvent;
pub use memory::Allocator;
pub use pressure::IdentityPressure;
pub use user::UserId;

/// The README's examples, compiled (and the in-memory one run) as doc tests. The etcd example
/// needs the `etcd` feature.
#[cfg(all(doctest, feature = "etcd"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
