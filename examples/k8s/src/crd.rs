//! The two Cilium policy custom resources (`cilium.io/v2`), with their rules kept as raw JSON.
//!
//! Written by hand rather than with kube's `CustomResource` derive: the derive wraps exactly one
//! `spec` struct, and a Cilium policy has a top-level `spec` **and** a `specs` list. The rules
//! stay `serde_json::Value` on purpose:
//!
//! - `cilium-policy` parses and validates them and reports the field path of a mistake
//!   (`.spec.ingress[0].toPorts[0].ports[0].port: ...`);
//! - a typed rule that failed to deserialize would fail the whole LIST or WATCH response, and the
//!   watcher would retry forever instead of reporting the one bad object.
//!
//! Deserializing ignores `apiVersion`, `kind` and `status`; serializing writes `apiVersion` and
//! `kind` back, so an object round-trips into the document `cilium_policy::api::parse_value`
//! reads.

use std::borrow::Cow;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::core::{ClusterResourceScope, NamespaceResourceScope};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

/// The API group of Cilium's resources.
pub const GROUP: &str = "cilium.io";
/// The API version of the policy resources.
pub const VERSION: &str = "v2";
/// `apiVersion` of the policy resources.
pub const API_VERSION: &str = "cilium.io/v2";

/// A namespaced `CiliumNetworkPolicy`: one rule in `spec` and/or a list of rules in `specs`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct CiliumNetworkPolicy {
    /// Name, namespace, labels, resource version.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// The rule, as the API server holds it (not validated).
    #[serde(default)]
    pub spec: Option<Value>,
    /// More rules, as the API server holds them (not validated).
    #[serde(default)]
    pub specs: Option<Value>,
}

/// A cluster-scoped `CiliumClusterwideNetworkPolicy`: `spec` and/or `specs`, like
/// [`CiliumNetworkPolicy`], without a namespace.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct CiliumClusterwideNetworkPolicy {
    /// Name, labels, resource version.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// The rule, as the API server holds it (not validated).
    #[serde(default)]
    pub spec: Option<Value>,
    /// More rules, as the API server holds them (not validated).
    #[serde(default)]
    pub specs: Option<Value>,
}

fn serialize_policy<S: Serializer>(
    serializer: S,
    kind: &'static str,
    metadata: &ObjectMeta,
    spec: Option<&Value>,
    specs: Option<&Value>,
) -> Result<S::Ok, S::Error> {
    let mut s = serializer.serialize_struct(kind, 5)?;
    s.serialize_field("apiVersion", API_VERSION)?;
    s.serialize_field("kind", kind)?;
    s.serialize_field("metadata", metadata)?;
    match spec {
        Some(spec) => s.serialize_field("spec", spec)?,
        None => s.skip_field("spec")?,
    }
    match specs {
        Some(specs) => s.serialize_field("specs", specs)?,
        None => s.skip_field("specs")?,
    }
    s.end()
}

impl Serialize for CiliumNetworkPolicy {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_policy(
            serializer,
            "CiliumNetworkPolicy",
            &self.metadata,
            self.spec.as_ref(),
            self.specs.as_ref(),
        )
    }
}

impl Serialize for CiliumClusterwideNetworkPolicy {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_policy(
            serializer,
            "CiliumClusterwideNetworkPolicy",
            &self.metadata,
            self.spec.as_ref(),
            self.specs.as_ref(),
        )
    }
}

impl kube::Resource for CiliumNetworkPolicy {
    type DynamicType = ();
    type Scope = NamespaceResourceScope;

    fn kind(_: &()) -> Cow<'_, str> {
        "CiliumNetworkPolicy".into()
    }
    fn group(_: &()) -> Cow<'_, str> {
        GROUP.into()
    }
    fn version(_: &()) -> Cow<'_, str> {
        VERSION.into()
    }
    fn api_version(_: &()) -> Cow<'_, str> {
        API_VERSION.into()
    }
    fn plural(_: &()) -> Cow<'_, str> {
        "ciliumnetworkpolicies".into()
    }
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

impl kube::Resource for CiliumClusterwideNetworkPolicy {
    type DynamicType = ();
    type Scope = ClusterResourceScope;

    fn kind(_: &()) -> Cow<'_, str> {
        "CiliumClusterwideNetworkPolicy".into()
    }
    fn group(_: &()) -> Cow<'_, str> {
        GROUP.into()
    }
    fn version(_: &()) -> Cow<'_, str> {
        VERSION.into()
    }
    fn api_version(_: &()) -> Cow<'_, str> {
        API_VERSION.into()
    }
    fn plural(_: &()) -> Cow<'_, str> {
        "ciliumclusterwidenetworkpolicies".into()
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
    use kube::Resource;
    use serde_json::json;

    #[test]
    fn urls_and_round_trip() {
        assert_eq!(
            CiliumNetworkPolicy::url_path(&(), Some("shop")),
            "/apis/cilium.io/v2/namespaces/shop/ciliumnetworkpolicies"
        );
        assert_eq!(
            CiliumClusterwideNetworkPolicy::url_path(&(), None),
            "/apis/cilium.io/v2/ciliumclusterwidenetworkpolicies"
        );
        let doc = json!({
            "apiVersion": "cilium.io/v2",
            "kind": "CiliumNetworkPolicy",
            "metadata": {"name": "a", "namespace": "shop"},
            "spec": {"endpointSelector": {}},
            "specs": [{"endpointSelector": {}}],
            "status": {"derivativePolicies": {}},
        });
        let cnp: CiliumNetworkPolicy = serde_json::from_value(doc.clone()).unwrap();
        assert_eq!(cnp.metadata.name.as_deref(), Some("a"));
        let mut back = doc;
        back.as_object_mut().unwrap().remove("status");
        assert_eq!(serde_json::to_value(&cnp).unwrap(), back);
        // Absent rules are left out, not written as null.
        let ccnp = CiliumClusterwideNetworkPolicy::default();
        assert_eq!(
            serde_json::to_value(&ccnp).unwrap(),
            json!({"apiVersion": "cilium.io/v2", "kind": "CiliumClusterwideNetworkPolicy", "metadata": {}})
        );
    }
}
