//! The numeric security identity.

use std::fmt;
use std::str::FromStr;

use super::{ClusterIdConfig, IdentityError, IdentityScope};

/// A numeric security identity: the number the datapath sees for a set of labels.
///
/// The top byte is the [scope](IdentityScope); global identities carry the cluster id in the
/// bits below it (see [`ClusterIdConfig`]). The low numbers are fixed:
///
/// | range | meaning |
/// |---|---|
/// | 0..=10 | reserved identities ([`NumericIdentity::reserved_name`]) |
/// | 100..=115 | well-known identities of cluster components |
/// | 128..=255 | reserved for users |
/// | 256.. | allocated ([`NumericIdentity::MINIMAL_GLOBAL`]) |
///
/// Upstream Cilium also reserves 11 (`overlay-to-encrypt`, `ReservedEncryptedOverlay`), and
/// the newest BPF code reuses 11 and 12 as policy aggregates (`POLICY_CLUSTER_ID`,
/// `POLICY_CLUSTER_MESH_ID`). This crate reserves 0..=10 only; 11 and 12 have no name here.
#[doc(alias = "sec_label")]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(transparent)]
pub struct NumericIdentity(pub u32);

/// The reserved identities and their names, in numeric order.
const RESERVED: [(&str, NumericIdentity); 11] = [
    ("unknown", NumericIdentity::UNKNOWN),
    ("host", NumericIdentity::HOST),
    ("world", NumericIdentity::WORLD),
    ("unmanaged", NumericIdentity::UNMANAGED),
    ("health", NumericIdentity::HEALTH),
    ("init", NumericIdentity::INIT),
    ("remote-node", NumericIdentity::REMOTE_NODE),
    ("kube-apiserver", NumericIdentity::KUBE_APISERVER),
    ("ingress", NumericIdentity::INGRESS),
    ("world-ipv4", NumericIdentity::WORLD_IPV4),
    ("world-ipv6", NumericIdentity::WORLD_IPV6),
];

/// Components with well-known identities; 100 + i without and 108 + i with the
/// `io.cilium.k8s.namespace.labels` namespace label.
const WELL_KNOWN: [&str; 8] = [
    "etcd-operator",
    "cilium-kvstore",
    "kube-dns",
    "eks-kube-dns",
    "core-dns",
    "cilium-operator",
    "eks-coredns",
    "cilium-etcd-operator",
];

impl NumericIdentity {
    /// 0: the identity is not known (`UNKNOWN_ID`).
    #[doc(alias = "IdentityUnknown", alias = "UNKNOWN_ID")]
    pub const UNKNOWN: NumericIdentity = NumericIdentity(0);
    /// 1: the local host (`HOST_ID`).
    #[doc(alias = "ReservedIdentityHost", alias = "HOST_ID")]
    pub const HOST: NumericIdentity = NumericIdentity(1);
    /// 2: outside the cluster (`WORLD_ID`).
    #[doc(alias = "ReservedIdentityWorld", alias = "WORLD_ID")]
    pub const WORLD: NumericIdentity = NumericIdentity(2);
    /// 3: endpoints not managed by Cilium (`UNMANAGED_ID`).
    #[doc(alias = "ReservedIdentityUnmanaged", alias = "UNMANAGED_ID")]
    pub const UNMANAGED: NumericIdentity = NumericIdentity(3);
    /// 4: the local health endpoint (`HEALTH_ID`).
    #[doc(alias = "ReservedIdentityHealth", alias = "HEALTH_ID")]
    pub const HEALTH: NumericIdentity = NumericIdentity(4);
    /// 5: endpoints whose labels are not yet known (`INIT_ID`).
    #[doc(alias = "ReservedIdentityInit", alias = "INIT_ID")]
    pub const INIT: NumericIdentity = NumericIdentity(5);
    /// 6: other nodes of the cluster (`REMOTE_NODE_ID`).
    #[doc(alias = "ReservedIdentityRemoteNode", alias = "REMOTE_NODE_ID")]
    pub const REMOTE_NODE: NumericIdentity = NumericIdentity(6);
    /// 7: the Kubernetes API server (`KUBE_APISERVER_NODE_ID`).
    #[doc(
        alias = "ReservedIdentityKubeAPIServer",
        alias = "KUBE_APISERVER_NODE_ID"
    )]
    pub const KUBE_APISERVER: NumericIdentity = NumericIdentity(7);
    /// 8: the ingress proxy (`INGRESS_ID`).
    #[doc(alias = "ReservedIdentityIngress", alias = "INGRESS_ID")]
    pub const INGRESS: NumericIdentity = NumericIdentity(8);
    /// 9: IPv4 world in dual-stack clusters (`WORLD_IPV4_ID`).
    #[doc(alias = "ReservedIdentityWorldIPv4", alias = "WORLD_IPV4_ID")]
    pub const WORLD_IPV4: NumericIdentity = NumericIdentity(9);
    /// 10: IPv6 world in dual-stack clusters (`WORLD_IPV6_ID`).
    #[doc(alias = "ReservedIdentityWorldIPv6", alias = "WORLD_IPV6_ID")]
    pub const WORLD_IPV6: NumericIdentity = NumericIdentity(10);

    /// The first well-known identity (100).
    pub const WELL_KNOWN_FIRST: NumericIdentity = NumericIdentity(100);
    /// The last well-known identity (115).
    pub const WELL_KNOWN_LAST: NumericIdentity = NumericIdentity(115);
    /// The first identity reserved for users (128).
    #[doc(alias = "UserReservedNumericIdentity")]
    pub const USER_RESERVED_FIRST: NumericIdentity = NumericIdentity(128);
    /// The last identity reserved for users (255).
    pub const USER_RESERVED_LAST: NumericIdentity = NumericIdentity(255);
    /// The first identity that can be allocated (256).
    #[doc(alias = "MinimalNumericIdentity")]
    pub const MINIMAL_GLOBAL: NumericIdentity = NumericIdentity(256);
    /// How many low bits identify within a scope (24).
    #[doc(alias = "NumericIdentityBitlength")]
    pub const BIT_LENGTH: u32 = 24;
    /// The bits that hold the scope.
    #[doc(alias = "IdentityScopeMask")]
    pub const SCOPE_MASK: u32 = 0xFF00_0000;

    /// The identity numbered `id`.
    pub const fn new(id: u32) -> NumericIdentity {
        NumericIdentity(id)
    }

    /// The number.
    pub const fn as_u32(self) -> u32 {
        self.0
    }

    /// Whether this is one of the reserved identities 0..=10.
    pub const fn is_reserved(self) -> bool {
        self.0 <= NumericIdentity::WORLD_IPV6.0
    }

    /// The name of a reserved identity (`"host"`, `"remote-node"`, ...).
    pub fn reserved_name(self) -> Option<&'static str> {
        RESERVED
            .iter()
            .find(|(_, id)| *id == self)
            .map(|(name, _)| *name)
    }

    /// The reserved identity named `name`.
    pub fn from_reserved_name(name: &str) -> Option<NumericIdentity> {
        RESERVED.iter().find(|(n, _)| *n == name).map(|(_, id)| *id)
    }

    /// Every reserved identity with its name, in numeric order.
    pub fn reserved() -> impl Iterator<Item = (NumericIdentity, &'static str)> {
        RESERVED.iter().map(|(name, id)| (*id, *name))
    }

    /// Whether this is a well-known identity (100..=115).
    pub const fn is_well_known(self) -> bool {
        self.0 >= NumericIdentity::WELL_KNOWN_FIRST.0
            && self.0 <= NumericIdentity::WELL_KNOWN_LAST.0
    }

    /// The component a well-known identity belongs to (`"kube-dns"`, ...). 100..=107 and
    /// 108..=115 name the same components, the second set for endpoints that also carry the
    /// `io.cilium.k8s.namespace.labels` namespace label.
    pub fn well_known_name(self) -> Option<&'static str> {
        if !self.is_well_known() {
            return None;
        }
        let offset = (self.0 - NumericIdentity::WELL_KNOWN_FIRST.0) as usize;
        WELL_KNOWN.get(offset % WELL_KNOWN.len()).copied()
    }

    /// Whether this identity is reserved for users (128..=255).
    pub const fn is_user_reserved(self) -> bool {
        self.0 >= NumericIdentity::USER_RESERVED_FIRST.0
            && self.0 <= NumericIdentity::USER_RESERVED_LAST.0
    }

    /// The scope, from the top byte.
    pub const fn scope(self) -> IdentityScope {
        IdentityScope::of(self)
    }

    /// Whether this is a node-local identity (CIDR and FQDN identities, scope `1 << 24`).
    #[doc(alias = "HasLocalScope")]
    pub const fn is_local(self) -> bool {
        matches!(self.scope(), IdentityScope::Local)
    }

    /// Whether this is a global identity (scope 0: reserved, well-known or allocated).
    pub const fn is_global(self) -> bool {
        matches!(self.scope(), IdentityScope::Global)
    }

    /// The cluster id in the bits below the scope (Cilium's `ClusterID()`). Meaningful for
    /// global identities only.
    #[doc(alias = "ClusterID")]
    pub const fn cluster_id(self, config: &ClusterIdConfig) -> u32 {
        config.cluster_id_of(self)
    }
}

impl From<u32> for NumericIdentity {
    fn from(id: u32) -> Self {
        NumericIdentity(id)
    }
}

impl From<NumericIdentity> for u32 {
    fn from(id: NumericIdentity) -> Self {
        id.0
    }
}

/// The decimal number.
impl fmt::Display for NumericIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// A decimal number (`"256"`) or the name of a reserved identity (`"world"`).
impl FromStr for NumericIdentity {
    type Err = IdentityError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || IdentityError::InvalidIdentity {
            input: s.to_owned(),
        };
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            return s.parse::<u32>().map(NumericIdentity).map_err(|_| invalid());
        }
        NumericIdentity::from_reserved_name(s).ok_or_else(invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_numbers_and_names() {
        assert_eq!("0".parse(), Ok(NumericIdentity::UNKNOWN));
        assert_eq!("remote-node".parse(), Ok(NumericIdentity::REMOTE_NODE));
        assert_eq!("16777217".parse(), Ok(NumericIdentity(0x0100_0001)));
        for bad in [
            "",
            "-1",
            "+5",
            "4294967296",
            "World",
            "overlay-to-encrypt",
            " 1",
        ] {
            assert_eq!(
                bad.parse::<NumericIdentity>(),
                Err(IdentityError::InvalidIdentity {
                    input: bad.to_owned()
                }),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn classification() {
        assert!(NumericIdentity(10).is_reserved());
        assert!(!NumericIdentity(11).is_reserved());
        assert_eq!(NumericIdentity(11).reserved_name(), None);
        assert_eq!(NumericIdentity(102).well_known_name(), Some("kube-dns"));
        assert_eq!(NumericIdentity(110).well_known_name(), Some("kube-dns"));
        assert_eq!(NumericIdentity(116).well_known_name(), None);
        assert!(NumericIdentity(128).is_user_reserved());
        assert!(!NumericIdentity(256).is_user_reserved());
        assert_eq!(NumericIdentity::WORLD.to_string(), "2");
    }
}
