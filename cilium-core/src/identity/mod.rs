//! Numeric security identities (Cilium's `pkg/identity` numbering and `bpf/lib/identity.h`):
//! the reserved identities, the well-known and user-reserved ranges, scopes, and the
//! per-cluster allocation ranges.
//!
//! This module only names and classifies numbers; allocating them for label sets is the job
//! of `cilium-identity`.

mod cluster;
mod error;
mod numeric;
mod scope;

pub use cluster::ClusterIdConfig;
pub use error::IdentityError;
pub use numeric::NumericIdentity;
pub use scope::IdentityScope;
