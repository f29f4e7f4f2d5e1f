//! The reference CNI agent of the cilium-rs family: the crates assembled the way an
//! embedding product would.
//!
//! - [`daemon`]: loads the datapath (restart-safe pins), restores endpoints, reads the source
//!   of truth, starts the L7 proxies, the flow observer (Hubble gRPC, metrics) and the local
//!   API.
//! - [`agent`]: the state and its operations — endpoints (IPAM, identity, endpoint map,
//!   programs, policy: fail closed), policy import and trace, services, DNS-learned addresses.
//! - [`ipam`]: the per-node pool, persisted.
//! - [`identities`]: identities in memory (persisted) or in etcd.
//! - [`standalone`]: a directory of YAML as the source of truth, validated file by file.
//! - [`server`]: the local API on a unix socket (hyper).
//!
//! The binaries: `cilium-agent` (this crate), `cilium-cni` (the CNI plugin) and `cilium-dbg`
//! (the CLI) in their own crates, talking to the agent through `cilium-agent-api`.
//!
//! What it is not: a library to embed. Embed the `cilium-*` crates; this is how they fit.

pub mod agent;
pub mod cluster;
pub mod daemon;
pub mod identities;
pub mod ipam;
pub mod server;
pub mod standalone;
