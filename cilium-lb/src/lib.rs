//! Service load balancing for the cilium-rs family, as a **pure** library: a model of
//! services, frontends and backends with their states, traffic policies and session affinity
//! ([`model`]); a Maglev table builder that is table-compatible with Cilium ([`maglev`]); and
//! diffs from one load-balancing state to the next as ordered datapath operations ([`mod@diff`]).
//!
//! What it is not: it writes no BPF map, opens no socket and reads no clock, file or
//! environment (no tokio, aya or libc). `cilium-datapath` turns the operations of [`diff()`]
//! into map updates. With the `k8s` feature, `k8s` converts a Kubernetes Service and its
//! EndpointSlices (the `k8s-openapi` types) into [`model::Service`]s, still without I/O;
//! watching the API server for them is the caller's job.
//!
//! Maglev here builds the same table as Cilium for the same table size, seed and backends
//! (checked against Cilium's `TestReproducible` vector), in O(M + N) memory instead of
//! Cilium's O(M × N) permutation array.
//!
//! ```
//! use cilium_core::Protocol;
//! use cilium_lb::diff::{diff, LbOp, LbState};
//! use cilium_lb::maglev::{build_table, MaglevBackend, MaglevConfig};
//! use cilium_lb::model::{Algorithm, Backend, Frontend, Scope, Service, ServiceType};
//!
//! // A Maglev table, as Cilium would build it on any node.
//! let config = MaglevConfig::new(251, None).unwrap();
//! let backends = [
//!     MaglevBackend::new(0, "0.0.0.1".parse().unwrap(), 1, Protocol::Tcp).with_weight(2),
//!     MaglevBackend::new(1, "0.0.0.3".parse().unwrap(), 3, Protocol::Tcp).with_weight(13),
//!     MaglevBackend::new(2, "0.0.0.4".parse().unwrap(), 4, Protocol::Tcp).with_weight(111),
//!     MaglevBackend::new(3, "0.0.0.5".parse().unwrap(), 5, Protocol::Tcp).with_weight(10),
//! ];
//! let table = build_table(&config, &backends).unwrap();
//! assert_eq!(&table[..6], &[2, 2, 2, 2, 2, 3]);
//!
//! // A service, and what the datapath must do to serve it.
//! let mut svc = Service::new("default", "web", ServiceType::ClusterIp);
//! svc.algorithm = Algorithm::Maglev;
//! svc.frontends.push(Frontend::new("10.96.0.10".parse().unwrap(), 80, Protocol::Tcp));
//! svc.backends.push(Backend::new("10.0.1.5".parse().unwrap(), 8080, Protocol::Tcp));
//! svc.validate().unwrap();
//! assert_eq!(svc.selectable_backends(Scope::External).len(), 1);
//!
//! let empty = LbState::default();
//! let next = empty.update([svc]).unwrap();
//! let ops = diff(&empty, &next);
//! assert!(matches!(ops[0], LbOp::UpsertBackend { .. }));
//! assert!(matches!(ops[1], LbOp::UpsertMaglevTable { .. }));
//! assert!(matches!(ops[2], LbOp::UpsertFrontend { .. }));
//! ```

pub mod cli;
pub mod diff;
#[cfg(feature = "k8s")]
pub mod k8s;
pub mod maglev;
pub mod model;
pub mod murmur3;

pub use diff::{LbOp, LbState, diff};
pub use maglev::{MaglevBackend, MaglevConfig, build_table};
pub use model::{Backend, BackendState, Frontend, Scope, Service, ServiceId, ServiceType};

/// The README's example, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
