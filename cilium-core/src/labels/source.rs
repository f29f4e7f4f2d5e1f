//! The sources a label can come from.

use std::fmt;
use std::str::FromStr;

use super::LabelError;

/// Where a label comes from: the part before the `:` in `k8s:app=web`.
///
/// These are the sources Cilium defines. A [`Label`](super::Label) stores its source as a
/// string, so labels with any other source (for example `source1:key1`) can still be parsed
/// and compared; this enum names the well-known ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LabelSource {
    /// `unspec`: no source was given when parsing a label.
    #[doc(alias = "LabelSourceUnspec")]
    Unspec,
    /// `any`: only meaningful in selectors, where it matches a label of every source.
    #[doc(alias = "LabelSourceAny")]
    Any,
    /// `k8s`: a label imported from Kubernetes (pod, namespace or service labels).
    #[doc(alias = "LabelSourceK8s")]
    K8s,
    /// `container`: a label imported from the container runtime.
    #[doc(alias = "LabelSourceContainer")]
    Container,
    /// `cni`: a label passed by the CNI plugin.
    #[doc(alias = "LabelSourceCNI")]
    Cni,
    /// `reserved`: a label of a reserved identity, such as `reserved:host`.
    #[doc(alias = "LabelSourceReserved")]
    Reserved,
    /// `cidr`: a label generated for a CIDR, such as `cidr:10.0.0.0/8`.
    #[doc(alias = "LabelSourceCIDR")]
    Cidr,
    /// `cidrgroup`: a label of a CiliumCIDRGroup.
    #[doc(alias = "LabelSourceCIDRGroup")]
    CidrGroup,
    /// `node`: a label of a node.
    #[doc(alias = "LabelSourceNode")]
    Node,
    /// `fqdn`: a label generated for a `toFQDNs` selector.
    #[doc(alias = "LabelSourceFQDN")]
    Fqdn,
    /// `directory`: a label of a policy read from a directory.
    #[doc(alias = "LabelSourceDirectory")]
    Directory,
}

impl LabelSource {
    /// Every source, in the order Cilium lists them.
    pub const ALL: [LabelSource; 11] = [
        LabelSource::Unspec,
        LabelSource::Any,
        LabelSource::K8s,
        LabelSource::Container,
        LabelSource::Cni,
        LabelSource::Reserved,
        LabelSource::Cidr,
        LabelSource::CidrGroup,
        LabelSource::Node,
        LabelSource::Fqdn,
        LabelSource::Directory,
    ];

    /// The spelling used in label strings, e.g. `"k8s"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            LabelSource::Unspec => "unspec",
            LabelSource::Any => "any",
            LabelSource::K8s => "k8s",
            LabelSource::Container => "container",
            LabelSource::Cni => "cni",
            LabelSource::Reserved => "reserved",
            LabelSource::Cidr => "cidr",
            LabelSource::CidrGroup => "cidrgroup",
            LabelSource::Node => "node",
            LabelSource::Fqdn => "fqdn",
            LabelSource::Directory => "directory",
        }
    }

    /// The well-known source spelled `s` (case-sensitive), or `None` for any other string.
    pub fn from_name(s: &str) -> Option<LabelSource> {
        LabelSource::ALL.into_iter().find(|src| src.as_str() == s)
    }
}

impl AsRef<str> for LabelSource {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for LabelSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LabelSource {
    type Err = LabelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LabelSource::from_name(s).ok_or_else(|| LabelError::UnknownSource {
            input: s.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for src in LabelSource::ALL {
            assert_eq!(src.as_str().parse::<LabelSource>(), Ok(src));
            assert_eq!(src.to_string(), src.as_str());
        }
    }

    #[test]
    fn unknown_source_is_an_error() {
        assert_eq!(
            "K8s".parse::<LabelSource>(),
            Err(LabelError::UnknownSource {
                input: "K8s".to_owned()
            })
        );
    }
}
