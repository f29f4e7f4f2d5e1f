//! Allocator configuration: ranges, GC grace period, random seed.

use std::ops::RangeInclusive;
use std::time::Duration;

use cilium_core::NumericIdentity;
use cilium_core::identity::{ClusterIdConfig, IdentityScope};

use crate::ConfigError;

/// What an allocator allocates from and how long unused identities live.
///
/// ```
/// use std::time::Duration;
/// use cilium_core::NumericIdentity;
/// use cilium_identity::AllocatorConfig;
///
/// let config = AllocatorConfig::new(1)?.with_gc_grace(Duration::from_secs(30));
/// assert_eq!(config.global_range(), NumericIdentity(65536)..=NumericIdentity(131071));
/// # Ok::<(), cilium_identity::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllocatorConfig {
    cluster: ClusterIdConfig,
    cluster_id: u32,
    global: RangeInclusive<NumericIdentity>,
    local: RangeInclusive<NumericIdentity>,
    remote_node: RangeInclusive<NumericIdentity>,
    gc_grace: Duration,
    seed: u64,
}

impl AllocatorConfig {
    /// How long an identity nobody references is kept before [`gc`](crate::Allocator::gc)
    /// collects it, by default: 15 minutes, Cilium's `identity-gc-interval`. A label set
    /// allocated again within the grace period gets its old identity back.
    pub const DEFAULT_GC_GRACE: Duration = Duration::from_secs(15 * 60);

    /// The default seed of the allocator's random choice of free identities.
    pub const DEFAULT_SEED: u64 = 0x5EED_0F1D_E471_7135;

    /// Cluster `cluster_id` with the default `max-connected-clusters` (255): global identities
    /// from `max(256, cluster_id << 16)` to `((cluster_id + 1) << 16) - 1`, local identities
    /// `0x01000001..=0x01FFFFFF`.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Cluster`] if `cluster_id` exceeds 255.
    pub fn new(cluster_id: u32) -> Result<AllocatorConfig, ConfigError> {
        AllocatorConfig::with_cluster_config(ClusterIdConfig::default(), cluster_id)
    }

    /// Cluster `cluster_id` of a mesh configured by `cluster`.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Cluster`] if `cluster_id` exceeds the configured maximum.
    pub fn with_cluster_config(
        cluster: ClusterIdConfig,
        cluster_id: u32,
    ) -> Result<AllocatorConfig, ConfigError> {
        let global = cluster
            .identity_range(cluster_id)
            .map_err(ConfigError::Cluster)?;
        let scope_range = |scope: IdentityScope| {
            scope
                .allocation_range()
                .expect("local and remote-node scopes have allocation ranges")
        };
        Ok(AllocatorConfig {
            cluster,
            cluster_id,
            global,
            local: scope_range(IdentityScope::Local),
            remote_node: scope_range(IdentityScope::RemoteNode),
            gc_grace: AllocatorConfig::DEFAULT_GC_GRACE,
            seed: AllocatorConfig::DEFAULT_SEED,
        })
    }

    /// Allocates global identities only from `range`, which must lie inside the cluster's
    /// range (to split a cluster's range between allocators, or to test exhaustion).
    ///
    /// # Errors
    ///
    /// [`ConfigError::EmptyRange`] or [`ConfigError::RangeOutsideCluster`].
    pub fn restrict_global(
        mut self,
        range: RangeInclusive<NumericIdentity>,
    ) -> Result<AllocatorConfig, ConfigError> {
        let (first, last) = (*range.start(), *range.end());
        if first > last {
            return Err(ConfigError::EmptyRange { first, last });
        }
        let cluster = self
            .cluster
            .identity_range(self.cluster_id)
            .map_err(ConfigError::Cluster)?;
        if first < *cluster.start() || last > *cluster.end() {
            return Err(ConfigError::RangeOutsideCluster {
                first,
                last,
                cluster_id: self.cluster_id,
                cluster_first: *cluster.start(),
                cluster_last: *cluster.end(),
            });
        }
        self.global = range;
        Ok(self)
    }

    /// Allocates node-local (CIDR/FQDN) identities only from `range`, which must lie inside
    /// `0x01000001..=0x01FFFFFF` (for example Cilium's newer BPF limit
    /// `CIDR_IDENTITY_RANGE_END = (1 << 24) + (1 << 16) - 1`).
    ///
    /// # Errors
    ///
    /// [`ConfigError::EmptyRange`] or [`ConfigError::RangeOutsideScope`].
    pub fn restrict_local(
        mut self,
        range: RangeInclusive<NumericIdentity>,
    ) -> Result<AllocatorConfig, ConfigError> {
        let (first, last) = (*range.start(), *range.end());
        if first > last {
            return Err(ConfigError::EmptyRange { first, last });
        }
        let scope = IdentityScope::Local;
        let full = scope
            .allocation_range()
            .expect("the local scope has an allocation range");
        if first < *full.start() || last > *full.end() {
            return Err(ConfigError::RangeOutsideScope { scope, first, last });
        }
        self.local = range;
        Ok(self)
    }

    /// Sets the GC grace period (see [`AllocatorConfig::DEFAULT_GC_GRACE`]).
    pub fn with_gc_grace(mut self, grace: Duration) -> AllocatorConfig {
        self.gc_grace = grace;
        self
    }

    /// Sets the seed of the random choice among free identities. Allocators sharing a store
    /// should use different seeds so they rarely race for the same identity.
    pub fn with_seed(mut self, seed: u64) -> AllocatorConfig {
        self.seed = seed;
        self
    }

    /// The cluster mesh configuration.
    pub fn cluster_config(&self) -> ClusterIdConfig {
        self.cluster
    }

    /// The cluster id.
    pub fn cluster_id(&self) -> u32 {
        self.cluster_id
    }

    /// The global identities this allocator hands out.
    pub fn global_range(&self) -> RangeInclusive<NumericIdentity> {
        self.global.clone()
    }

    /// The node-local (CIDR/FQDN) identities this allocator hands out.
    pub fn local_range(&self) -> RangeInclusive<NumericIdentity> {
        self.local.clone()
    }

    /// The remote-node scope identities this allocator hands out.
    pub fn remote_node_range(&self) -> RangeInclusive<NumericIdentity> {
        self.remote_node.clone()
    }

    /// The GC grace period.
    pub fn gc_grace(&self) -> Duration {
        self.gc_grace
    }

    /// The random seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_the_cluster_id() {
        let c0 = AllocatorConfig::new(0).unwrap();
        assert_eq!(
            c0.global_range(),
            NumericIdentity(256)..=NumericIdentity(65535)
        );
        assert_eq!(
            c0.local_range(),
            NumericIdentity(0x0100_0001)..=NumericIdentity(0x01FF_FFFF)
        );
        assert_eq!(
            c0.remote_node_range(),
            NumericIdentity(0x0200_0001)..=NumericIdentity(0x02FF_FFFF)
        );
        let wide = ClusterIdConfig::new(511).unwrap();
        let c = AllocatorConfig::with_cluster_config(wide, 3).unwrap();
        assert_eq!(
            c.global_range(),
            NumericIdentity(3 << 15)..=NumericIdentity((4 << 15) - 1)
        );
    }

    #[test]
    fn bad_configs_name_the_problem() {
        assert!(matches!(
            AllocatorConfig::new(256),
            Err(ConfigError::Cluster(_))
        ));
        let c = AllocatorConfig::new(1).unwrap();
        assert_eq!(
            c.clone()
                .restrict_global(NumericIdentity(300)..=NumericIdentity(400)),
            Err(ConfigError::RangeOutsideCluster {
                first: NumericIdentity(300),
                last: NumericIdentity(400),
                cluster_id: 1,
                cluster_first: NumericIdentity(65536),
                cluster_last: NumericIdentity(131071),
            })
        );
        assert_eq!(
            c.clone()
                .restrict_global(NumericIdentity(70000)..=NumericIdentity(69999)),
            Err(ConfigError::EmptyRange {
                first: NumericIdentity(70000),
                last: NumericIdentity(69999),
            })
        );
        let err = c
            .restrict_local(NumericIdentity(5)..=NumericIdentity(6))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "range 5..=6 is not inside the Local scope's range"
        );
    }
}
