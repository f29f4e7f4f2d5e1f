//! Errors of the pure allocator.

use cilium_core::NumericIdentity;
use cilium_core::identity::{IdentityError, IdentityScope};

/// Why a label set, a release or an allocation was refused by the allocator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllocatorError {
    /// An identity needs at least one label.
    #[error("label set is empty; an identity needs at least one identity-relevant label")]
    EmptyLabels,
    /// A label cannot be stored under the allocator's key (`source:key=value;`) and read back.
    #[error("label {label:?} cannot be part of an identity key: {reason}")]
    InvalidLabel {
        /// The label, as `source:key=value`.
        label: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A `reserved:` label that names no reserved identity.
    #[error(
        "label {label:?} names no reserved identity (expected one of host, world, unmanaged, health, init, remote-node, kube-apiserver, ingress, world-ipv4, world-ipv6)"
    )]
    UnknownReservedLabel {
        /// The label, as `source:key=value`.
        label: String,
    },
    /// A reserved label combined with labels it cannot be combined with.
    #[error(
        "label set {labels:?} mixes reserved label {reserved:?} with other labels; only reserved:host takes extra labels, and reserved labels otherwise only accompany cidr:/fqdn: labels"
    )]
    ReservedMixed {
        /// The reserved label.
        reserved: String,
        /// The whole label set.
        labels: String,
    },
    /// No free identity is left in a range.
    #[error(
        "identity range {first}..={last} ({scope:?} scope) is exhausted: all {total} identities are in use"
    )]
    Exhausted {
        /// The scope of the range.
        scope: IdentityScope,
        /// First identity of the range.
        first: NumericIdentity,
        /// Last identity of the range.
        last: NumericIdentity,
        /// How many identities the range holds.
        total: u32,
    },
    /// The identity is not allocated here.
    #[error("identity {id} is not allocated")]
    UnknownIdentity {
        /// The identity given.
        id: NumericIdentity,
    },
    /// The user holds no reference to the identity.
    #[error("user {user:?} holds no reference to identity {id}")]
    NotHeld {
        /// The identity given.
        id: NumericIdentity,
        /// The user given.
        user: String,
    },
    /// User names must not be empty.
    #[error("user name is empty; every reference names its user (an endpoint, a cache, ...)")]
    EmptyUser,
    /// A backend reported an identity that lies outside every range of this allocator.
    #[error("identity {id} lies outside the allocator's global range {first}..={last}")]
    OutOfRange {
        /// The identity given.
        id: NumericIdentity,
        /// First identity of the global range.
        first: NumericIdentity,
        /// Last identity of the global range.
        last: NumericIdentity,
    },
}

/// Why an [`AllocatorConfig`](crate::AllocatorConfig) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The cluster id or `max-connected-clusters` is invalid.
    #[error("invalid cluster configuration")]
    Cluster(#[source] IdentityError),
    /// A restricted global range must lie inside the cluster's range.
    #[error(
        "global range {first}..={last} is not inside cluster {cluster_id}'s range {cluster_first}..={cluster_last}"
    )]
    RangeOutsideCluster {
        /// First identity requested.
        first: NumericIdentity,
        /// Last identity requested.
        last: NumericIdentity,
        /// The cluster id.
        cluster_id: u32,
        /// First identity of the cluster's range.
        cluster_first: NumericIdentity,
        /// Last identity of the cluster's range.
        cluster_last: NumericIdentity,
    },
    /// A range whose end is below its start.
    #[error("identity range {first}..={last} is empty")]
    EmptyRange {
        /// First identity requested.
        first: NumericIdentity,
        /// Last identity requested.
        last: NumericIdentity,
    },
    /// A restricted local range must lie inside the local scope's range.
    #[error("range {first}..={last} is not inside the {scope:?} scope's range")]
    RangeOutsideScope {
        /// The scope.
        scope: IdentityScope,
        /// First identity requested.
        first: NumericIdentity,
        /// Last identity requested.
        last: NumericIdentity,
    },
}
