//! Validation errors of the service model.

use std::net::IpAddr;

use cilium_core::{Cidr, Protocol};

use super::{AddressFamily, ServiceType};

/// Why a [`Service`](super::Service) is not valid. Each message starts with the path of the
/// offending field, e.g. `backends[2].weight: 0 is not allowed for an active backend`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceError {
    /// A name field is empty.
    #[error("{field}: must not be empty")]
    Empty {
        /// `name` or `namespace`.
        field: &'static str,
    },
    /// The service has no frontend.
    #[error("frontends: a service needs at least one frontend")]
    NoFrontends,
    /// A frontend or backend has port 0.
    #[error("{field}: 0 is not a valid port")]
    ZeroPort {
        /// The path of the field, e.g. `frontends[0].port`.
        field: String,
    },
    /// A protocol without ports (ICMP, ANY) was used.
    #[error("{field}: {protocol} has no ports; use TCP, UDP or SCTP")]
    ProtocolWithoutPorts {
        /// The path of the field.
        field: String,
        /// The protocol given.
        protocol: Protocol,
    },
    /// A frontend or backend protocol differs from the first frontend's.
    #[error(
        "{field}: {protocol} differs from the service's protocol {expected} (frontends[0].protocol)"
    )]
    ProtocolMismatch {
        /// The path of the field.
        field: String,
        /// The protocol given.
        protocol: Protocol,
        /// The protocol of `frontends[0]`.
        expected: Protocol,
    },
    /// An address has another family than the first frontend's.
    #[error("{field}: {addr} is not an {expected} address like frontends[0].addr")]
    FamilyMismatch {
        /// The path of the field.
        field: String,
        /// The address given.
        addr: IpAddr,
        /// The family of `frontends[0].addr`.
        expected: AddressFamily,
    },
    /// An address cannot be used where it is (unspecified, multicast, broadcast).
    #[error("{field}: {addr} {reason}")]
    InvalidAddress {
        /// The path of the field.
        field: String,
        /// The address given.
        addr: IpAddr,
        /// Why it cannot be used.
        reason: &'static str,
    },
    /// The same frontend is listed twice.
    #[error("frontends[{index}]: duplicates frontends[{first}] ({frontend})")]
    DuplicateFrontend {
        /// Position of the second occurrence.
        index: usize,
        /// Position of the first occurrence.
        first: usize,
        /// The frontend, as `ADDR:PORT/PROTO`.
        frontend: String,
    },
    /// The same backend (address, port, protocol) is listed twice.
    #[error("backends[{index}]: duplicates backends[{first}] ({backend})")]
    DuplicateBackend {
        /// Position of the second occurrence.
        index: usize,
        /// Position of the first occurrence.
        first: usize,
        /// The backend, as `ADDR:PORT/PROTO`.
        backend: String,
    },
    /// An active backend has weight 0.
    #[error("backends[{index}].weight: 0 is not allowed for an active backend")]
    ZeroWeight {
        /// Position of the backend.
        index: usize,
    },
    /// A backend of a service type whose backends must run on this node does not.
    #[error("backends[{index}].node_local: a {service_type} backend must run on this node")]
    NotNodeLocal {
        /// Position of the backend.
        index: usize,
        /// The service type.
        service_type: ServiceType,
    },
    /// The client-IP affinity timeout is out of range.
    #[error("affinity.timeout_secs: {timeout_secs} is outside 1..=86400")]
    AffinityTimeout {
        /// The timeout given.
        timeout_secs: u32,
    },
    /// `ext_traffic_policy` is `Local` on a service that is not reachable from outside.
    #[error(
        "ext_traffic_policy: Local applies only to externally reachable services, not {service_type}"
    )]
    ExternalPolicyNotApplicable {
        /// The service type.
        service_type: ServiceType,
    },
    /// A frontend has the internal scope on a service that has one scope only.
    #[error(
        "frontends[{index}].scope: the internal scope is only looked up for an externally reachable service whose ext_traffic_policy and int_traffic_policy differ"
    )]
    InternalScopeUnused {
        /// Position of the frontend.
        index: usize,
    },
    /// Source ranges on a service that is not a LoadBalancer.
    #[error(
        "source_ranges: only a LoadBalancer service may have source ranges, not {service_type}"
    )]
    SourceRangesNotApplicable {
        /// The service type.
        service_type: ServiceType,
    },
    /// A source range of another family than the service's.
    #[error("source_ranges[{index}]: {range} is not an {expected} range like the frontends")]
    SourceRangeFamily {
        /// Position of the range.
        index: usize,
        /// The range given.
        range: Cidr,
        /// The service's family.
        expected: AddressFamily,
    },
}
