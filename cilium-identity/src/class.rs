//! Which kind of identity a label set gets, and the key it is stored under.

use cilium_core::identity::IdentityScope;
use cilium_core::labels::LabelSource;
use cilium_core::{Label, LabelSet, NumericIdentity};

use crate::AllocatorError;

/// The kind of identity a label set is given (see [`IdentityClass::of`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdentityClass {
    /// A fixed reserved identity (1..=10); never allocated, never collected.
    Reserved(NumericIdentity),
    /// A cluster-wide identity from the cluster's range (shared through the backend).
    Global,
    /// A node-local identity in scope `1 << 24` (CIDR and FQDN label sets).
    Local,
    /// A node-local identity in scope `2 << 24` (remote-node label sets with CIDR labels).
    RemoteNode,
}

impl IdentityClass {
    /// Classifies identity-relevant `labels`:
    ///
    /// 1. a set with `reserved:host` is the host (1), whatever else it holds;
    /// 2. a set of one reserved label is that reserved identity (`reserved:world` is 2, ...);
    ///    `{reserved:kube-apiserver, reserved:remote-node}` is kube-apiserver (7);
    /// 3. otherwise the scope follows Cilium's `ScopeForLabels`
    ///    ([`IdentityScope::for_labels`]): only `cidr:`, `fqdn:` and `reserved:` labels make
    ///    a local identity; `reserved:remote-node` with such labels a remote-node one; any
    ///    other set a global one.
    ///
    /// # Errors
    ///
    /// Every label is checked as by [`identity_key`]; a `reserved:` label must name a
    /// reserved identity ([`AllocatorError::UnknownReservedLabel`]) and may not be mixed with
    /// labels of other sources unless it is `reserved:host`
    /// ([`AllocatorError::ReservedMixed`]).
    pub fn of(labels: &LabelSet) -> Result<IdentityClass, AllocatorError> {
        check_labels(labels)?;
        let reserved = labels.iter().filter(|l| l.is_reserved_source());
        if labels.has_reserved_key("host") {
            return Ok(IdentityClass::Reserved(NumericIdentity::HOST));
        }
        for label in reserved.clone() {
            if reserved_identity(label).is_none() {
                return Err(AllocatorError::UnknownReservedLabel {
                    label: label.to_string(),
                });
            }
        }
        if labels.len() == 1
            && let Some(id) = reserved.clone().next().and_then(reserved_identity)
        {
            return Ok(IdentityClass::Reserved(id));
        }
        if labels.len() == 2
            && labels.has_reserved_key("kube-apiserver")
            && labels.has_reserved_key("remote-node")
        {
            return Ok(IdentityClass::Reserved(NumericIdentity::KUBE_APISERVER));
        }
        let local_source = |l: &Label| {
            l.has_source(LabelSource::Cidr)
                || l.has_source(LabelSource::Fqdn)
                || l.has_source(LabelSource::Reserved)
        };
        let first_reserved = reserved.clone().next();
        let mixed = |labels: &LabelSet| -> Result<(), AllocatorError> {
            match first_reserved {
                Some(r) if !labels.iter().all(local_source) => Err(AllocatorError::ReservedMixed {
                    reserved: r.to_string(),
                    labels: labels.to_string(),
                }),
                _ => Ok(()),
            }
        };
        match IdentityScope::for_labels(labels) {
            IdentityScope::Local => Ok(IdentityClass::Local),
            IdentityScope::RemoteNode => {
                mixed(labels)?;
                Ok(IdentityClass::RemoteNode)
            }
            _ => {
                mixed(labels)?;
                Ok(IdentityClass::Global)
            }
        }
    }

    /// The scope of identities of this class.
    pub fn scope(self) -> IdentityScope {
        match self {
            IdentityClass::Reserved(_) | IdentityClass::Global => IdentityScope::Global,
            IdentityClass::Local => IdentityScope::Local,
            IdentityClass::RemoteNode => IdentityScope::RemoteNode,
        }
    }
}

/// The reserved identity a `reserved:` label names; `reserved:unknown` names none (identity 0
/// is "no identity", not something to allocate).
fn reserved_identity(label: &Label) -> Option<NumericIdentity> {
    NumericIdentity::from_reserved_name(label.key()).filter(|id| *id != NumericIdentity::UNKNOWN)
}

/// The labels of the reserved identity `id` (`reserved:<name>`), `None` for 0 and for
/// identities that are not reserved.
pub fn reserved_labels(id: NumericIdentity) -> Option<LabelSet> {
    if id == NumericIdentity::UNKNOWN {
        return None;
    }
    let name = id.reserved_name()?;
    Some(std::iter::once(Label::from_parts(LabelSource::Reserved.as_str(), name, "")).collect())
}

fn check_labels(labels: &LabelSet) -> Result<(), AllocatorError> {
    if labels.is_empty() {
        return Err(AllocatorError::EmptyLabels);
    }
    for label in labels {
        let reason = if label.source().is_empty() {
            Some("the source is empty")
        } else if label.source().contains([':', ';', '=', '/']) {
            Some("the source contains ':', ';', '=' or '/'")
        } else if label.key().is_empty() {
            Some("the key is empty")
        } else if label.key().contains(['=', ';']) {
            Some("the key contains '=' or ';'")
        } else if label.value().contains(';') {
            Some("the value contains ';'")
        } else if label.to_string().chars().any(char::is_control) {
            Some("it contains a control character")
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(AllocatorError::InvalidLabel {
                label: label.to_string(),
                reason,
            });
        }
    }
    Ok(())
}

/// The key an identity is stored under: [`LabelSet::sorted_list`] (`source:key=value;` per
/// label, in key order), after checking that it reads back into the same set.
///
/// # Errors
///
/// [`AllocatorError::EmptyLabels`], or [`AllocatorError::InvalidLabel`] for a label with an
/// empty source or key, a source with `:`, `;`, `=` or `/`, a key with `=` or `;`, a value
/// with `;`, or a control character.
pub fn identity_key(labels: &LabelSet) -> Result<String, AllocatorError> {
    check_labels(labels)?;
    Ok(labels.sorted_list())
}

/// The label set stored under `key` (the inverse of [`identity_key`]), or `None` if `key` is
/// not the key of a valid label set.
pub fn labels_from_key(key: &str) -> Option<LabelSet> {
    let body = key.strip_suffix(';')?;
    let mut set = LabelSet::new();
    for item in body.split(';') {
        let (source, rest) = item.split_once(':')?;
        let (k, v) = rest.split_once('=')?;
        if set.insert(Label::from_parts(source, k, v)).is_some() {
            return None;
        }
    }
    (identity_key(&set).ok()? == key).then_some(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(l: &[&str]) -> Result<IdentityClass, AllocatorError> {
        IdentityClass::of(&LabelSet::parse_list(l))
    }

    #[test]
    fn reserved_sets() {
        assert_eq!(
            class(&["reserved:host", "k8s:node=a"]),
            Ok(IdentityClass::Reserved(NumericIdentity::HOST))
        );
        assert_eq!(
            class(&["reserved:world"]),
            Ok(IdentityClass::Reserved(NumericIdentity::WORLD))
        );
        assert_eq!(
            class(&["reserved:kube-apiserver", "reserved:remote-node"]),
            Ok(IdentityClass::Reserved(NumericIdentity::KUBE_APISERVER))
        );
        for (id, name) in NumericIdentity::reserved().skip(1) {
            assert_eq!(
                class(&[&format!("reserved:{name}")]),
                Ok(IdentityClass::Reserved(id)),
                "{name}"
            );
            assert_eq!(reserved_labels(id).unwrap().len(), 1);
        }
        assert_eq!(reserved_labels(NumericIdentity::UNKNOWN), None);
        assert_eq!(reserved_labels(NumericIdentity(256)), None);
    }

    #[test]
    fn scopes() {
        assert_eq!(
            class(&["cidr:10.0.0.0/8", "reserved:world"]),
            Ok(IdentityClass::Local)
        );
        assert_eq!(class(&["fqdn:example.com"]), Ok(IdentityClass::Local));
        assert_eq!(
            class(&["reserved:remote-node", "cidr:10.0.0.1/32"]),
            Ok(IdentityClass::RemoteNode)
        );
        assert_eq!(class(&["k8s:app=web"]), Ok(IdentityClass::Global));
        assert_eq!(
            class(&["k8s:app=web", "cidr:10.0.0.0/8"]),
            Ok(IdentityClass::Global)
        );
    }

    #[test]
    fn bad_sets_are_named() {
        assert_eq!(class(&[]), Err(AllocatorError::EmptyLabels));
        assert_eq!(
            class(&["reserved:nosuch"]),
            Err(AllocatorError::UnknownReservedLabel {
                label: "reserved:nosuch".into()
            })
        );
        assert_eq!(
            class(&["reserved:unknown"]),
            Err(AllocatorError::UnknownReservedLabel {
                label: "reserved:unknown".into()
            })
        );
        assert_eq!(
            class(&["reserved:init", "k8s:app=web"]),
            Err(AllocatorError::ReservedMixed {
                reserved: "reserved:init".into(),
                labels: "k8s:app=web,reserved:init".into()
            })
        );
        assert_eq!(
            class(&["reserved:remote-node", "k8s:app=web"]),
            Err(AllocatorError::ReservedMixed {
                reserved: "reserved:remote-node".into(),
                labels: "k8s:app=web,reserved:remote-node".into()
            })
        );
        let bad_value = LabelSet::from_iter([Label::from_parts("k8s", "a", "x;y")]);
        assert_eq!(
            identity_key(&bad_value),
            Err(AllocatorError::InvalidLabel {
                label: "k8s:a=x;y".into(),
                reason: "the value contains ';'"
            })
        );
        let bad_source = LabelSet::from_iter([Label::from_parts("a/b", "k", "v")]);
        assert!(matches!(
            identity_key(&bad_source),
            Err(AllocatorError::InvalidLabel { .. })
        ));
        let bad_key = LabelSet::from_iter([Label::from_parts("k8s", "a=b", "v")]);
        assert_eq!(
            identity_key(&bad_key).unwrap_err().to_string(),
            "label \"k8s:a=b=v\" cannot be part of an identity key: the key contains '=' or ';'"
        );
    }

    #[test]
    fn keys_round_trip() {
        let set = LabelSet::parse_list(&[
            "k8s:app.kubernetes.io/name=web",
            "k8s:io.kubernetes.pod.namespace=prod",
            "cidr:10.0.0.0/8",
            "k8s:empty=",
        ]);
        let key = identity_key(&set).unwrap();
        assert_eq!(labels_from_key(&key), Some(set));
        for bad in [
            "",
            "k8s:a=1",
            "k8s:a;",
            "k8s:a=1;k8s:a=2;",
            ":a=1;",
            "k8s:b=1;k8s:a=1;",
        ] {
            assert_eq!(labels_from_key(bad), None, "{bad:?}");
        }
    }
}
