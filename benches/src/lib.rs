//! Benchmarks of the cilium-rs family.
//!
//! - `cargo bench -p cilium-benches --bench identity`: criterion, the in-memory identity
//!   allocator (new identities and references to existing ones).
//! - `cargo run --release -p cilium-benches --bin identity-etcd`: system benchmark, new
//!   identities per second with three allocators on one real etcd, and duplicates (0).
//!
//! Planned: criterion benches per subsystem (policy computation, Maglev, map writes, event
//! decoding) with inputs from a fixed seed, and system benches that run real traffic through
//! our datapath and through a peer (iptables kube-proxy rules, haproxy) in the same run and
//! print the ratio.
//!
//! What it is not: a test suite. Nothing here asserts a time; `cargo xtask test` never runs
//! benchmarks.
