//! The `CiliumIdentity` custom resource.

use std::borrow::Cow;
use std::collections::BTreeMap;

use cilium_core::{Label, LabelSet, NumericIdentity};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::core::ClusterResourceScope;
use serde::{Deserialize, Serialize};

use crate::layout::parse_decimal;

/// The JSON field holding the labels.
pub const SECURITY_LABELS: &str = "security-labels";

/// A `CiliumIdentity` (`cilium.io/v2`, cluster-scoped, `kubectl get ciliumid`): its name is
/// the numeric identity, `security-labels` maps `source:key` to the label value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CiliumIdentity {
    /// `cilium.io/v2`.
    #[serde(rename = "apiVersion", default = "api_version")]
    pub api_version: String,
    /// `CiliumIdentity`.
    #[serde(default = "kind")]
    pub kind: String,
    /// Object metadata; `name` is the numeric identity.
    pub metadata: ObjectMeta,
    /// The identity's labels, `source:key` → value.
    #[serde(rename = "security-labels", default)]
    pub security_labels: BTreeMap<String, String>,
}

fn api_version() -> String {
    "cilium.io/v2".to_owned()
}

fn kind() -> String {
    "CiliumIdentity".to_owned()
}

impl CiliumIdentity {
    /// The object for identity `id` with `labels`.
    pub fn new(id: NumericIdentity, labels: &LabelSet) -> CiliumIdentity {
        CiliumIdentity {
            api_version: api_version(),
            kind: kind(),
            metadata: ObjectMeta {
                name: Some(id.to_string()),
                ..ObjectMeta::default()
            },
            security_labels: labels
                .iter()
                .map(|l| (format!("{}:{}", l.source(), l.key()), l.value().to_owned()))
                .collect(),
        }
    }

    /// The numeric identity in the name, if it is one.
    pub fn id(&self) -> Option<NumericIdentity> {
        self.metadata.name.as_deref().and_then(parse_decimal)
    }

    /// The labels; `None` if a key has no `source:` part.
    pub fn labels(&self) -> Option<LabelSet> {
        self.security_labels
            .iter()
            .map(|(k, v)| {
                let (source, key) = k.split_once(':')?;
                Some(Label::from_parts(source, key, v.as_str()))
            })
            .collect()
    }
}

impl kube::Resource for CiliumIdentity {
    type DynamicType = ();
    type Scope = ClusterResourceScope;

    fn kind(_: &()) -> Cow<'_, str> {
        Cow::Borrowed("CiliumIdentity")
    }

    fn group(_: &()) -> Cow<'_, str> {
        Cow::Borrowed("cilium.io")
    }

    fn version(_: &()) -> Cow<'_, str> {
        Cow::Borrowed("v2")
    }

    fn plural(_: &()) -> Cow<'_, str> {
        Cow::Borrowed("ciliumidentities")
    }

    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }

    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_json() {
        let labels = LabelSet::parse_list(&["k8s:app=web", "k8s:io.kubernetes.pod.namespace=prod"]);
        let obj = CiliumIdentity::new(NumericIdentity(4242), &labels);
        let json = serde_json::to_value(&obj).unwrap();
        assert_eq!(json["apiVersion"], "cilium.io/v2");
        assert_eq!(json["metadata"]["name"], "4242");
        assert_eq!(json[SECURITY_LABELS]["k8s:app"], "web");
        let back: CiliumIdentity = serde_json::from_value(json).unwrap();
        assert_eq!(
            (back.id(), back.labels()),
            (Some(NumericIdentity(4242)), Some(labels))
        );
    }
}
