//! Benchmarks of the cilium-rs family.
//!
//! - `cargo bench -p cilium-benches --bench identity`: criterion, the in-memory identity
//!   allocator (new identities and references to existing ones).
//! - `cargo run --release -p cilium-benches --bin identity-etcd`: system benchmark, new
//!   identities per second with three allocators on one real etcd, and duplicates (0).
//! - `lb-connect`, `lb-program`, `tcp-rr`, `prog-cost` (root): system benchmarks of the
//!   datapath, each measuring ours and a peer (no load balancer, kube-proxy's iptables rules
//!   through iptables-legacy and iptables-nft, no programs, a trivial program) in the same
//!   run and printing the ratios; see `benches/README.md`.
//! - `cargo run --release -p cilium-benches --bin maglev-build`: Maglev table build time,
//!   extra memory, balance and disruption, ours against a straightforward reference (full
//!   permutation array) in the same run (no root).
//!
//! This library holds what the system benchmarks share: namespaces and CPU pinning
//! ([`sys`]), the three-namespace topology ([`topo`]), servers ([`servers`]), the benchmark
//! services and kube-proxy's ruleset for them ([`services`]), statistics and output
//! ([`report`]).
//!
//! What it is not: a test suite. Nothing here asserts a time; `cargo xtask test` never runs
//! benchmarks.

pub mod ours;
pub mod report;
pub mod servers;
pub mod services;
pub mod sys;
pub mod topo;
