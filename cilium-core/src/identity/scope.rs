//! Identity scopes: the top byte of a numeric identity.

use std::ops::RangeInclusive;

use super::NumericIdentity;
use crate::labels::{LabelSet, LabelSource};

/// The scope of an identity, held in its top byte (`IdentityScopeMask = 0xFF000000`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IdentityScope {
    /// Top byte 0: reserved, well-known and cluster-wide allocated identities.
    #[doc(alias = "IdentityScopeGlobal")]
    Global,
    /// Top byte 1: node-local identities of CIDRs and FQDNs.
    #[doc(alias = "IdentityScopeLocal")]
    Local,
    /// Top byte 2: node-local identities of remote nodes.
    #[doc(alias = "IdentityScopeRemoteNode")]
    RemoteNode,
    /// Any other top byte, which Cilium does not assign.
    Other(u8),
}

impl IdentityScope {
    /// The scope of `id`.
    pub const fn of(id: NumericIdentity) -> IdentityScope {
        match (id.0 >> NumericIdentity::BIT_LENGTH) as u8 {
            0 => IdentityScope::Global,
            1 => IdentityScope::Local,
            2 => IdentityScope::RemoteNode,
            other => IdentityScope::Other(other),
        }
    }

    /// The top byte of identities in this scope.
    pub const fn top_byte(self) -> u8 {
        match self {
            IdentityScope::Global => 0,
            IdentityScope::Local => 1,
            IdentityScope::RemoteNode => 2,
            IdentityScope::Other(b) => b,
        }
    }

    /// The scope bits as they appear in an identity: `0`, `1 << 24` or `2 << 24`.
    pub const fn bits(self) -> u32 {
        (self.top_byte() as u32) << NumericIdentity::BIT_LENGTH
    }

    /// The identities a node-local allocator hands out in this scope: `1..=0xFFFFFF` with the
    /// scope bits (`0x01000001..=0x01FFFFFF` for [`IdentityScope::Local`]). `None` for
    /// [`IdentityScope::Global`], whose range depends on the cluster (see
    /// [`ClusterIdConfig`](super::ClusterIdConfig)), and for scopes Cilium does not assign.
    pub const fn allocation_range(self) -> Option<RangeInclusive<NumericIdentity>> {
        match self {
            IdentityScope::Local | IdentityScope::RemoteNode => {
                Some(NumericIdentity(self.bits() | 1)..=NumericIdentity(self.bits() | 0x00FF_FFFF))
            }
            IdentityScope::Global | IdentityScope::Other(_) => None,
        }
    }

    /// The scope an identity for `labels` is allocated in (Cilium's `ScopeForLabels`):
    /// remote-node scope if the set has `reserved:remote-node`; local scope if it is not
    /// empty and every label has source `cidr`, `fqdn` or `reserved`; global otherwise.
    #[doc(alias = "ScopeForLabels")]
    pub fn for_labels(labels: &LabelSet) -> IdentityScope {
        if labels.has_reserved_key("remote-node") {
            return IdentityScope::RemoteNode;
        }
        let local_source = |l: &crate::labels::Label| {
            l.has_source(LabelSource::Cidr)
                || l.has_source(LabelSource::Fqdn)
                || l.has_source(LabelSource::Reserved)
        };
        if !labels.is_empty() && labels.iter().all(local_source) {
            IdentityScope::Local
        } else {
            IdentityScope::Global
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_from_top_byte() {
        assert_eq!(NumericIdentity(0x00FF_FFFF).scope(), IdentityScope::Global);
        assert_eq!(NumericIdentity(0x0100_0001).scope(), IdentityScope::Local);
        assert_eq!(
            NumericIdentity(0x0200_0001).scope(),
            IdentityScope::RemoteNode
        );
        assert_eq!(
            NumericIdentity(0x0300_0000).scope(),
            IdentityScope::Other(3)
        );
        assert_eq!(IdentityScope::Other(3).bits(), 0x0300_0000);
    }

    #[test]
    fn scope_for_labels() {
        let scope = |l: &[&str]| IdentityScope::for_labels(&LabelSet::parse_list(l));
        assert_eq!(
            scope(&["cidr:10.0.0.0/8", "reserved:world"]),
            IdentityScope::Local
        );
        assert_eq!(scope(&["fqdn:example.com"]), IdentityScope::Local);
        assert_eq!(
            scope(&["cidr:10.0.0.0/8", "k8s:a=b"]),
            IdentityScope::Global
        );
        assert_eq!(
            scope(&["reserved:remote-node", "reserved:kube-apiserver"]),
            IdentityScope::RemoteNode
        );
        assert_eq!(scope(&[]), IdentityScope::Global);
    }
}
