//! Benchmarks of the cilium-rs family (not yet built).
//!
//! What it will be: criterion benches per subsystem (policy computation, Maglev, identity
//! allocation, map writes, event decoding) with inputs from a fixed seed, and system benches
//! that run real traffic through our datapath and through a peer (iptables kube-proxy rules,
//! haproxy) in the same run and print the ratio.
//!
//! What it is not: a test suite. Nothing here asserts a time; `cargo xtask test` never runs
//! benchmarks.
