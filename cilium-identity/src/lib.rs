//! Identity allocation for the cilium-rs family (not yet built).
//!
//! What it will be: the allocator that maps an identity-relevant label set to a
//! [`NumericIdentity`](cilium_core::NumericIdentity): reserved identities for reserved labels,
//! global identities from the cluster's range, local-scope identities for CIDR and FQDN label
//! sets, reference counting per user, garbage collection after a grace period and a watch of
//! allocation events. The allocator core is pure; the etcd and Kubernetes `CiliumIdentity`
//! backends are thin I/O shells around it.
//!
//! What it is not: it does not decide which labels are identity-relevant (that is
//! [`cilium_core::labels::LabelFilter`]) and it does not map IPs to identities (that is the
//! ipcache, in `cilium-maps` and the agent).
//!
//! Status: placeholder; the work is tracked in the identity and policy issue.
