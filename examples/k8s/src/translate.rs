//! Pure translations of single Kubernetes objects into [`Change`]s: no I/O, no state.
//!
//! The [`Cache`](crate::Cache) decides *when* to translate (and what else an object affects);
//! these functions decide *what* an object means.

use std::collections::BTreeMap;

use cilium_core::{Label, LabelSet};
use cilium_lb::k8s::NodeContext;
use cilium_policy::api::{PolicyError, parse_value};
use cilium_policy::compile::{
    CLUSTER_LABEL, CompileOptions, NAMESPACE_LABELS_PREFIX, POD_NAMESPACE_LABEL, compile,
};
use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::NetworkPolicy;
use serde::Serialize;

use crate::change::{Change, Kind};
use crate::crd::{CiliumClusterwideNetworkPolicy, CiliumNetworkPolicy};

/// The pod label holding the pod's service account (Cilium's `PolicyLabelServiceAccount`).
#[doc(alias = "PolicyLabelServiceAccount")]
pub const SERVICE_ACCOUNT_LABEL: &str = "io.cilium.k8s.policy.serviceaccount";

/// The label source of everything read from Kubernetes.
const K8S: &str = "k8s";

/// The namespace of namespaced objects that name none.
const DEFAULT_NAMESPACE: &str = "default";

/// The policy source of a policy object: `k8s/<Kind>/<namespace>/<name>`, or
/// `k8s/<Kind>/<name>` for a cluster-scoped one.
///
/// ```
/// use cilium_agent_k8s::{Kind, translate::policy_source};
/// assert_eq!(
///     policy_source(Kind::CiliumNetworkPolicy, Some("shop"), "allow-web"),
///     "k8s/CiliumNetworkPolicy/shop/allow-web"
/// );
/// assert_eq!(
///     policy_source(Kind::CiliumClusterwideNetworkPolicy, None, "deny-all"),
///     "k8s/CiliumClusterwideNetworkPolicy/deny-all"
/// );
/// ```
pub fn policy_source(kind: Kind, namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("k8s/{kind}/{ns}/{name}"),
        None => format!("k8s/{kind}/{name}"),
    }
}

/// `Kind namespace/name` (or `Kind name`), as policy errors name objects.
fn describe(kind: Kind, namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("{kind} {ns}/{name}"),
        None => format!("{kind} {name}"),
    }
}

/// Parses `object` (serialized as the document a user would write) with `cilium-policy` and
/// validates it by compiling it with `opts`: a [`Change::Policy`], or a
/// [`Change::PolicyInvalid`] naming the object and the field.
fn policy_change(
    kind: Kind,
    namespace: Option<&str>,
    name: &str,
    object: &impl Serialize,
    opts: &CompileOptions,
) -> Change {
    let source = policy_source(kind, namespace, name);
    let invalid = |error: String| Change::PolicyInvalid {
        source: source.clone(),
        error,
    };
    let value = match serde_yaml::to_value(object) {
        Ok(v) => v,
        Err(e) => return invalid(format!("{}: {e}", describe(kind, namespace, name))),
    };
    let parsed = match parse_value(value) {
        Ok(p) => p,
        Err(e) => {
            return invalid(
                PolicyError {
                    object: Some(describe(kind, namespace, name)),
                    ..e
                }
                .to_string(),
            );
        }
    };
    match compile(std::slice::from_ref(&parsed), opts) {
        Ok(_) => Change::Policy {
            source,
            objects: vec![parsed],
        },
        Err(errors) => invalid(errors.to_string()),
    }
}

/// The change for a CiliumNetworkPolicy: its rules, or why they are invalid. Policies are
/// validated by compiling them with `opts`.
pub fn cilium_network_policy(cnp: &CiliumNetworkPolicy, opts: &CompileOptions) -> Change {
    let namespace = cnp
        .metadata
        .namespace
        .as_deref()
        .unwrap_or(DEFAULT_NAMESPACE);
    let name = cnp.metadata.name.as_deref().unwrap_or_default();
    policy_change(Kind::CiliumNetworkPolicy, Some(namespace), name, cnp, opts)
}

/// The change for a CiliumClusterwideNetworkPolicy: its rules, or why they are invalid.
pub fn cilium_clusterwide_network_policy(
    ccnp: &CiliumClusterwideNetworkPolicy,
    opts: &CompileOptions,
) -> Change {
    let name = ccnp.metadata.name.as_deref().unwrap_or_default();
    policy_change(Kind::CiliumClusterwideNetworkPolicy, None, name, ccnp, opts)
}

/// The change for a Kubernetes NetworkPolicy: its rules, or why they are invalid.
pub fn network_policy(np: &NetworkPolicy, opts: &CompileOptions) -> Change {
    let namespace = np
        .metadata
        .namespace
        .as_deref()
        .unwrap_or(DEFAULT_NAMESPACE);
    let name = np.metadata.name.as_deref().unwrap_or_default();
    policy_change(Kind::NetworkPolicy, Some(namespace), name, np, opts)
}

/// Cilium's identity labels of a pod, all with source `k8s`:
///
/// - the pod's labels;
/// - `io.kubernetes.pod.namespace=<namespace>`;
/// - each namespace label as `io.cilium.k8s.namespace.labels.<key>=<value>`;
/// - `io.cilium.k8s.policy.serviceaccount=<service account>`, when the pod names one;
/// - `io.cilium.k8s.policy.cluster=<cluster>` (what the `cluster` entity selects).
///
/// The last four replace pod labels of the same key, as in Cilium.
///
/// ```
/// use std::collections::BTreeMap;
/// use cilium_agent_k8s::translate::pod_labels;
/// let pod = BTreeMap::from([("app".to_owned(), "web".to_owned())]);
/// let ns = BTreeMap::from([("team".to_owned(), "a".to_owned())]);
/// let labels = pod_labels("shop", &pod, &ns, Some("web-sa"), "default");
/// assert_eq!(
///     labels.sorted_list(),
///     "k8s:app=web;\
///      k8s:io.cilium.k8s.namespace.labels.team=a;\
///      k8s:io.cilium.k8s.policy.cluster=default;\
///      k8s:io.cilium.k8s.policy.serviceaccount=web-sa;\
///      k8s:io.kubernetes.pod.namespace=shop;"
/// );
/// ```
pub fn pod_labels(
    namespace: &str,
    pod_labels: &BTreeMap<String, String>,
    namespace_labels: &BTreeMap<String, String>,
    service_account: Option<&str>,
    cluster: &str,
) -> LabelSet {
    let mut set = LabelSet::from_key_values(pod_labels, K8S);
    set.insert(Label::from_parts(K8S, POD_NAMESPACE_LABEL, namespace));
    for (k, v) in namespace_labels {
        set.insert(Label::from_parts(
            K8S,
            format!("{NAMESPACE_LABELS_PREFIX}{k}"),
            v,
        ));
    }
    if let Some(sa) = service_account.filter(|sa| !sa.is_empty()) {
        set.insert(Label::from_parts(K8S, SERVICE_ACCOUNT_LABEL, sa));
    }
    set.insert(Label::from_parts(K8S, CLUSTER_LABEL, cluster));
    set
}

/// What the agent needs of a pod, projected out of the `Pod` object (everything else is
/// dropped before caching).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodView {
    /// `metadata.labels`.
    pub labels: BTreeMap<String, String>,
    /// `spec.serviceAccountName`.
    pub service_account: Option<String>,
    /// `status.podIP`, unless the pod has terminated.
    pub ip: Option<String>,
    /// `spec.nodeName`.
    pub node: Option<String>,
}

impl PodView {
    /// The projection of `pod`, or `None` for a pod on the host network (it is not an
    /// endpoint, and its address is the node's).
    pub fn of(pod: &Pod) -> Option<PodView> {
        let spec = pod.spec.as_ref();
        if spec.and_then(|s| s.host_network).unwrap_or(false) {
            return None;
        }
        let status = pod.status.as_ref();
        let terminated = matches!(
            status.and_then(|s| s.phase.as_deref()),
            Some("Succeeded" | "Failed")
        );
        Some(PodView {
            labels: pod.metadata.labels.clone().unwrap_or_default(),
            service_account: spec
                .and_then(|s| s.service_account_name.clone())
                .filter(|s| !s.is_empty()),
            ip: status
                .and_then(|s| s.pod_ip.clone())
                .filter(|ip| !ip.is_empty() && !terminated),
            node: spec
                .and_then(|s| s.node_name.clone())
                .filter(|n| !n.is_empty()),
        })
    }

    /// The [`Change::Pod`] of this pod, named `namespace/name`, in a namespace labelled
    /// `namespace_labels`, in the cluster `cluster`.
    pub fn change(
        &self,
        namespace: &str,
        name: &str,
        namespace_labels: &BTreeMap<String, String>,
        cluster: &str,
    ) -> Change {
        Change::Pod {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            labels: pod_labels(
                namespace,
                &self.labels,
                namespace_labels,
                self.service_account.as_deref(),
                cluster,
            ),
            ip: self.ip.clone(),
            node: self.node.clone(),
        }
    }
}

/// The change for the Service `svc` with the EndpointSlices `slices` (those of other
/// Services are ignored), converted by [`cilium_lb::k8s::services_from_k8s`] for `node`.
pub fn services(svc: &Service, slices: &[EndpointSlice], node: &NodeContext) -> Change {
    let namespace = svc
        .metadata
        .namespace
        .as_deref()
        .unwrap_or(DEFAULT_NAMESPACE);
    let key = format!(
        "{namespace}/{}",
        svc.metadata.name.as_deref().unwrap_or_default()
    );
    match cilium_lb::k8s::services_from_k8s(svc, slices, node) {
        Ok(services) => Change::Services { key, services },
        Err(e) => Change::ServicesInvalid {
            error: format!("Service {key}: {e}"),
            key,
        },
    }
}

#[cfg(test)]
mod tests;
