//! Flow observability for the cilium-rs family (not yet built).
//!
//! What it will be: a flow model with Hubble's fields and enum numbers, a parser from
//! datapath events and L7 records to flows, filters with Hubble's semantics, a bounded flow
//! ring with followers, the gRPC Observer API and Prometheus metrics. The model, parser and
//! filters are pure; the ring, API server and metrics endpoint are the I/O shell.
//!
//! What it is not: it does not read the kernel ring buffer itself (`cilium-datapath` does and
//! hands it the records).
//!
//! Status: placeholder; the work is tracked in the observability issue.
