//! How full each identity range is.

use cilium_core::NumericIdentity;
use cilium_core::identity::IdentityScope;

/// Use of one identity range (Cilium's `cilium_identity` gauge, per range): how many
/// identities are in use out of how many the range holds, and how many allocations failed
/// because it was full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdentityPressure {
    /// The scope of the range.
    pub scope: IdentityScope,
    /// First identity of the range.
    pub first: NumericIdentity,
    /// Last identity of the range.
    pub last: NumericIdentity,
    /// Identities in use (allocated here or, for a shared store, anywhere in the cluster).
    pub used: u32,
    /// Identities the range holds.
    pub total: u32,
    /// Allocations refused with [`AllocatorError::Exhausted`](crate::AllocatorError::Exhausted).
    pub exhausted: u64,
}

impl IdentityPressure {
    /// `used / total`, from 0.0 to 1.0.
    pub fn ratio(&self) -> f64 {
        if self.total == 0 {
            return 1.0;
        }
        f64::from(self.used) / f64::from(self.total)
    }
}
