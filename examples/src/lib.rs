//! Reference CNI agent of the cilium-rs family (not yet built).
//!
//! What it will be: a daemon that assembles every crate of the family (identity allocation,
//! policy, load balancing, the eBPF datapath, L7 proxies and flow observability), a CNI plugin
//! that container runtimes call, a CLI, and a demo topology of network namespaces.
//!
//! What it is not: a library. Embed the `cilium-*` crates instead; this is the worked example
//! of how they fit together.
//!
//! Status: placeholder; the work is tracked in the reference-agent issue.
