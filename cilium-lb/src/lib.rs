//! Service load balancing for the cilium-rs family (not yet built).
//!
//! What it will be: a pure model of services (ClusterIP, NodePort, LoadBalancer, ExternalIPs,
//! HostPort), frontends and backends with their states, session affinity and traffic
//! policies; conversion from Kubernetes Services and EndpointSlices; a Maglev table builder
//! that produces the same table as Cilium for the same backends (O(M + N) memory); and diffs
//! from one model to the next as ordered operations for the datapath.
//!
//! What it is not: it writes no BPF map and opens no socket. `cilium-datapath` turns its
//! output into map updates.
//!
//! Status: placeholder; the work is tracked in the load-balancing issue.
