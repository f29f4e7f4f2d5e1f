//! Network policy engine for the cilium-rs family (not yet built).
//!
//! What it will be: parsing and validation of CiliumNetworkPolicy,
//! CiliumClusterwideNetworkPolicy and Kubernetes NetworkPolicy with errors that name the field
//! path; a selector cache fed by identity events; a policy repository; the per-endpoint
//! `MapState` (ingress and egress) with Cilium's semantics (deny wins and is pushed down to
//! more specific keys, L7 redirects, one parser per port); and a policy trace.
//!
//! What it is not: it does not depend on `cilium-maps` and knows nothing of the kernel's key
//! layout; `cilium-datapath` converts its `MapState` into policy-map entries.
//!
//! Status: placeholder; the work is tracked in the identity and policy issue.
