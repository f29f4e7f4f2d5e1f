//! Per-cluster identity ranges (`max-connected-clusters`).

use std::ops::RangeInclusive;

use super::{IdentityError, IdentityScope, NumericIdentity};

/// How global identities are split between the clusters of a cluster mesh.
///
/// The cluster id sits in the bits just below the scope byte: with
/// `max-connected-clusters = 255` (the default) it takes 8 bits and is shifted by 16, with
/// 511 it takes 9 bits and is shifted by 15. Cluster `c` allocates from
/// [`min_identity`](Self::min_identity) to [`max_identity`](Self::max_identity); cluster 0
/// starts at 256 to skip the reserved ranges.
///
/// ```
/// use cilium_core::identity::ClusterIdConfig;
/// use cilium_core::NumericIdentity;
/// let cfg = ClusterIdConfig::default();
/// assert_eq!(cfg.identity_range(0)?, NumericIdentity(256)..=NumericIdentity(65535));
/// assert_eq!(NumericIdentity(0x2A0000).cluster_id(&cfg), 42);
/// # Ok::<(), cilium_core::identity::IdentityError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClusterIdConfig {
    max_connected_clusters: u32,
}

impl Default for ClusterIdConfig {
    /// `max-connected-clusters = 255`.
    fn default() -> Self {
        ClusterIdConfig {
            max_connected_clusters: ClusterIdConfig::DEFAULT_MAX_CONNECTED_CLUSTERS,
        }
    }
}

impl ClusterIdConfig {
    /// The default `max-connected-clusters` (255).
    pub const DEFAULT_MAX_CONNECTED_CLUSTERS: u32 = 255;
    /// The alternative `max-connected-clusters` (511).
    pub const EXTENDED_MAX_CONNECTED_CLUSTERS: u32 = 511;

    /// A configuration for `max_connected_clusters` (Cilium's `ClusterIDMax`).
    ///
    /// # Errors
    ///
    /// [`IdentityError::UnsupportedMaxConnectedClusters`] unless it is 255 or 511.
    #[doc(alias = "ClusterIDMax", alias = "max-connected-clusters")]
    pub const fn new(max_connected_clusters: u32) -> Result<ClusterIdConfig, IdentityError> {
        match max_connected_clusters {
            ClusterIdConfig::DEFAULT_MAX_CONNECTED_CLUSTERS
            | ClusterIdConfig::EXTENDED_MAX_CONNECTED_CLUSTERS => Ok(ClusterIdConfig {
                max_connected_clusters,
            }),
            value => Err(IdentityError::UnsupportedMaxConnectedClusters { value }),
        }
    }

    /// The largest cluster id (255 or 511).
    pub const fn max_connected_clusters(&self) -> u32 {
        self.max_connected_clusters
    }

    /// How many bits the cluster id takes: `log2(max + 1)`, 8 or 9.
    #[doc(alias = "clusterIDLen")]
    pub const fn cluster_id_len(&self) -> u32 {
        (self.max_connected_clusters + 1).trailing_zeros()
    }

    /// How far the cluster id is shifted: `24 - cluster_id_len()`, 16 or 15.
    #[doc(alias = "clusterIDShift", alias = "ClusterIDShift")]
    pub const fn shift(&self) -> u32 {
        NumericIdentity::BIT_LENGTH - self.cluster_id_len()
    }

    fn check(&self, cluster_id: u32) -> Result<(), IdentityError> {
        if cluster_id > self.max_connected_clusters {
            return Err(IdentityError::ClusterIdOutOfRange {
                cluster_id,
                max: self.max_connected_clusters,
            });
        }
        Ok(())
    }

    /// The first identity cluster `cluster_id` allocates: 256 for cluster 0, otherwise
    /// `cluster_id << shift`.
    ///
    /// # Errors
    ///
    /// [`IdentityError::ClusterIdOutOfRange`] if `cluster_id` exceeds the maximum.
    #[doc(alias = "GetMinimalAllocationIdentity")]
    pub fn min_identity(&self, cluster_id: u32) -> Result<NumericIdentity, IdentityError> {
        self.check(cluster_id)?;
        if cluster_id == 0 {
            Ok(NumericIdentity::MINIMAL_GLOBAL)
        } else {
            Ok(NumericIdentity(cluster_id << self.shift()))
        }
    }

    /// The last identity cluster `cluster_id` allocates: `((cluster_id + 1) << shift) - 1`.
    ///
    /// # Errors
    ///
    /// [`IdentityError::ClusterIdOutOfRange`] if `cluster_id` exceeds the maximum.
    #[doc(alias = "GetMaximumAllocationIdentity")]
    pub fn max_identity(&self, cluster_id: u32) -> Result<NumericIdentity, IdentityError> {
        self.check(cluster_id)?;
        Ok(NumericIdentity(((cluster_id + 1) << self.shift()) - 1))
    }

    /// `min_identity(cluster_id)..=max_identity(cluster_id)`.
    ///
    /// # Errors
    ///
    /// [`IdentityError::ClusterIdOutOfRange`] if `cluster_id` exceeds the maximum.
    pub fn identity_range(
        &self,
        cluster_id: u32,
    ) -> Result<RangeInclusive<NumericIdentity>, IdentityError> {
        Ok(self.min_identity(cluster_id)?..=self.max_identity(cluster_id)?)
    }

    /// The cluster id held in `id`: `(id >> shift) & max`. Meaningful for global identities.
    pub const fn cluster_id_of(&self, id: NumericIdentity) -> u32 {
        (id.0 >> self.shift()) & self.max_connected_clusters
    }

    /// The range of node-local (CIDR/FQDN) identities, `0x01000001..=0x01FFFFFF`, which does
    /// not depend on the cluster.
    pub fn local_range() -> RangeInclusive<NumericIdentity> {
        NumericIdentity(IdentityScope::Local.bits() | 1)
            ..=NumericIdentity(IdentityScope::Local.bits() | 0x00FF_FFFF)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors() {
        assert_eq!(
            ClusterIdConfig::new(256),
            Err(IdentityError::UnsupportedMaxConnectedClusters { value: 256 })
        );
        let cfg = ClusterIdConfig::default();
        assert_eq!(
            cfg.min_identity(256),
            Err(IdentityError::ClusterIdOutOfRange {
                cluster_id: 256,
                max: 255
            })
        );
        assert_eq!(
            cfg.max_identity(300).unwrap_err().to_string(),
            "cluster id 300 exceeds max-connected-clusters 255"
        );
        let wide = ClusterIdConfig::new(511).unwrap();
        assert_eq!(wide.shift(), 15);
        assert_eq!(
            wide.identity_range(511).unwrap().end().as_u32(),
            0x00FF_FFFF
        );
    }

    #[test]
    fn local_range_matches_scope() {
        assert_eq!(
            Some(ClusterIdConfig::local_range()),
            IdentityScope::Local.allocation_range()
        );
    }
}
