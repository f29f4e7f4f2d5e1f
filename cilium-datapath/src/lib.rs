//! The eBPF datapath of the cilium-rs family.
//!
//! What it is: the C programs under `bpf/` (one entry file per attach point, shared logic in
//! `bpf/lib/*.h`), compiled by `build.rs` with clang and embedded in this crate; a [`Datapath`]
//! loader that pins the shared maps under an instance's bpffs directory (so a restarted agent
//! finds them again) and sets run-time configuration as load-time globals; and typed access
//! to the maps the programs use (endpoints, ipcache, per-endpoint policy, conntrack, metrics).
//!
//! What it is not: it holds no policy or load-balancing logic (`cilium-policy` and `cilium-lb`
//! compute what goes into the maps) and it does not define the ABI (`cilium-maps`, whose C
//! header the programs include).
//!
//! Status: the endpoint programs (`cil_from_endpoint`, `cil_to_endpoint`: parsing, anti-spoofing,
//! conntrack, peer identity, six-level policy lookup with deny, metrics, drop and policy-verdict
//! events) are built and verified with `BPF_PROG_TEST_RUN`. Service translation, socket LB,
//! sock_ops, the XDP prefilter, attachment and atomic replacement are the next steps of the
//! datapath issue.

mod error;
mod loader;

pub use error::DatapathError;
pub use loader::{Datapath, DatapathConfig, Program};

/// The compiled endpoint programs (`bpf/bpf_lxc.c`).
pub static LXC_OBJECT: &[u8] = aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/bpf_lxc.o"));
