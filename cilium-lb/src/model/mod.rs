//! The service model: services, their frontends and backends, backend states, traffic
//! policies, session affinity and the load-balancing algorithm (Cilium's `pkg/loadbalancer`
//! vocabulary, projected to what the datapath needs).
//!
//! A [`Service`] here is the unit that shares **one backend set**: one port of a Kubernetes
//! Service, for one kind of frontend ([`ServiceType`]) and one address family. Its frontends
//! (several node addresses of a NodePort, several load-balancer IPs) all lead to the same
//! backends. A converter from Kubernetes objects makes one `Service` per such unit and names
//! them apart.

mod backend;
mod error;
mod frontend;
mod service;

pub use backend::{Backend, BackendState};
pub use error::ServiceError;
pub use frontend::{Frontend, Scope};
pub use service::{
    AFFINITY_TIMEOUT_MAX_SECS, AddressFamily, Algorithm, Service, ServiceId, ServiceType,
    SessionAffinity, TrafficPolicy,
};
