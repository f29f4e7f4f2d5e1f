//! The eBPF datapath of the cilium-rs family.
//!
//! What it is: the C programs under `bpf/` (one entry file per attach point, shared logic in
//! `bpf/lib/*.h`), compiled by `build.rs` with clang and embedded in this crate; a [`Datapath`]
//! loader that pins the shared maps and every attachment (as a BPF link) under an instance's
//! bpffs directory, so a restarted agent re-opens them and swaps its programs in atomically;
//! map sync from `cilium-policy` map states ([`Datapath::sync_policy`]) and `cilium-lb` states
//! ([`LbSync`]); and an async reader of the events ring buffer ([`EventStream`]).
//!
//! What it is not: it holds no policy or load-balancing logic (`cilium-policy` and `cilium-lb`
//! compute what goes into the maps) and it does not define the ABI (`cilium-maps`, whose C
//! header the programs include).
//!
//! | program | attach point | does |
//! |---|---|---|
//! | `cil_from_endpoint` | TCX ingress of an endpoint's host-side veth | parse, anti-spoofing, service translation (when socket LB did not), conntrack, egress policy, events |
//! | `cil_to_endpoint` | TCX egress of the same veth | conntrack, reverse NAT of replies, ingress policy, events |
//! | `cil_sock4_connect`, `cil_sock4_sendmsg` | cgroup `connect4`, `sendmsg4` | socket LB: frontend → backend once per connection / datagram |
//! | `cil_sock4_recvmsg`, `cil_sock4_getpeername` | cgroup `recvmsg4`, `getpeername4` | backend → frontend for UDP replies and `getpeername` |
//! | `cil_sockops` | cgroup `sock_ops` | established/closed events with the socket cookie |
//! | `cil_xdp_prefilter` | XDP on a node interface | drop sources in a CIDR deny list |

mod error;
mod events;
mod lb;
mod link;
mod loader;
mod policy;
pub mod proxy_route;

pub use error::DatapathError;
pub use events::{EventStream, LostEvents};
pub use lb::{LbSync, LbSyncStats};
pub use loader::{Datapath, DatapathConfig, Program};
pub use policy::{PolicySyncStats, mark_not_ready, policy_entries, policy_entry, policy_key};
pub use proxy_route::ProxyRouting;

/// The Maglev table sizes the datapath accepts (Cilium's primes).
pub const MAGLEV_TABLE_SIZES: [u32; 10] = cilium_lb::maglev::SUPPORTED_TABLE_SIZES;

/// The compiled endpoint programs (`bpf/bpf_lxc.c`).
pub static LXC_OBJECT: &[u8] = aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/bpf_lxc.o"));
/// The compiled socket-LB programs (`bpf/bpf_sock.c`).
pub static SOCK_OBJECT: &[u8] =
    aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/bpf_sock.o"));
/// The compiled sock_ops program (`bpf/bpf_sockops.c`).
pub static SOCKOPS_OBJECT: &[u8] =
    aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/bpf_sockops.o"));
/// The compiled XDP prefilter (`bpf/bpf_xdp.c`).
pub static XDP_OBJECT: &[u8] = aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/bpf_xdp.o"));

/// The compiled node-interface object (`bpf_host.c`: NodePort translation and its reverse NAT).
pub static HOST_OBJECT: &[u8] =
    aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/bpf_host.o"));
