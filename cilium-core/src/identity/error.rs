//! Errors of the `identity` module.

/// An error parsing an identity or configuring cluster ranges.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    /// The string is neither a decimal `u32` nor the name of a reserved identity.
    #[error("identity {input:?} is neither a number nor a reserved identity name")]
    InvalidIdentity {
        /// The string that was parsed.
        input: String,
    },
    /// `max-connected-clusters` must be 255 or 511.
    #[error("max-connected-clusters {value} is not supported (expected 255 or 511)")]
    UnsupportedMaxConnectedClusters {
        /// The value given.
        value: u32,
    },
    /// The cluster id is larger than `max-connected-clusters`.
    #[error("cluster id {cluster_id} exceeds max-connected-clusters {max}")]
    ClusterIdOutOfRange {
        /// The cluster id given.
        cluster_id: u32,
        /// The configured `max-connected-clusters`.
        max: u32,
    },
}
