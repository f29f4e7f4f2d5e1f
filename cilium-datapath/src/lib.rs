//! eBPF datapath of the cilium-rs family (not yet built).
//!
//! What it will be: the C programs under `bpf/` (one entry file per attach point:
//! endpoint TC/TCX, cgroup v2 socket load balancing, `sock_ops`, XDP prefilter), compiled by
//! `build.rs` with clang and embedded in the crate; a loader that pins programs and maps under
//! an instance's bpffs directory and replaces programs atomically on restart; the sync that
//! turns a `cilium-policy` `MapState`, load-balancer entries and the ipcache into ordered,
//! atomic map updates; and the reader of datapath events.
//!
//! What it is not: it holds no policy or load-balancing logic (see `cilium-policy` and
//! `cilium-lb`), and it does not define the ABI (see `cilium-maps`, whose C header the programs
//! include). It is the only crate that sees both the policy engine's output and the kernel's
//! map layout.
//!
//! Status: placeholder; the work is tracked in the datapath issue.
