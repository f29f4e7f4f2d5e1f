//! What comes out of the watch: [`Change`]s, and what goes into the [`Cache`](crate::Cache):
//! [`Event`]s of the watched [`Kind`]s.

use std::fmt;

use cilium_core::LabelSet;
use cilium_policy::api::PolicyObject;
use k8s_openapi::api::core::v1::{Namespace, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::runtime::watcher;

use crate::crd::{CiliumClusterwideNetworkPolicy, CiliumNetworkPolicy};

/// One change to what the agent must enforce, in the order the agent must apply them.
///
/// Every change replaces (or removes) everything earlier changes said about the same
/// `source`, `key` or pod, so applying a change twice is harmless. Identical consecutive
/// changes for the same key are not sent: an object whose update does not change its
/// translation (a new annotation, a relist) produces nothing.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Replace the rules of `source` (e.g. `k8s/CiliumNetworkPolicy/ns/name`) with these
    /// objects (one today; a list so that sources holding several objects fit).
    Policy {
        /// Where the rules come from; see [`policy_source`](crate::translate::policy_source).
        source: String,
        /// The parsed and validated objects.
        objects: Vec<PolicyObject>,
    },
    /// The object of `source` failed to parse or validate: keep its previous rules (if any)
    /// and report `error`, which names the object and the field, e.g.
    /// `CiliumNetworkPolicy shop/bad: .spec.ingress[0].toPorts[0].ports[0].port: ...`.
    PolicyInvalid {
        /// Where the rules come from.
        source: String,
        /// What is wrong, naming the object and the field path.
        error: String,
    },
    /// The object of `source` is gone: drop its rules.
    PolicyDeleted {
        /// Where the rules came from.
        source: String,
    },
    /// Replace the load-balancer services made from the Kubernetes Service `key`
    /// (`namespace/name`) and its EndpointSlices with these (empty for a headless or
    /// ExternalName Service). See [`cilium_lb::k8s`] for the mapping.
    Services {
        /// `namespace/name` of the Kubernetes Service.
        key: String,
        /// The model services, each already validated.
        services: Vec<cilium_lb::Service>,
    },
    /// The Service `key` or one of its EndpointSlices could not be converted: keep the
    /// previous services of `key` (if any) and report `error`, which names the field.
    ServicesInvalid {
        /// `namespace/name` of the Kubernetes Service.
        key: String,
        /// What is wrong, naming the object and the field path.
        error: String,
    },
    /// The Service `key` is gone: remove its services.
    ServicesDeleted {
        /// `namespace/name` of the Kubernetes Service.
        key: String,
    },
    /// A pod's identity-relevant labels and addresses (see
    /// [`pod_labels`](crate::translate::pod_labels) for the labels). Sent again for every
    /// pod of a namespace whose labels change.
    Pod {
        /// The pod's namespace.
        namespace: String,
        /// The pod's name.
        name: String,
        /// `k8s:` pod labels, namespace, namespace labels, service account and cluster.
        labels: LabelSet,
        /// `status.podIP`; `None` before the pod has one and once the pod has terminated
        /// (phase `Succeeded` or `Failed`: its address may already belong to another pod).
        ip: Option<String>,
        /// `spec.nodeName`, once the pod is scheduled.
        node: Option<String>,
    },
    /// The pod is gone (or turned out to use the host network, whose pods are not sent).
    PodDeleted {
        /// The pod's namespace.
        namespace: String,
        /// The pod's name.
        name: String,
    },
    /// Every watched kind has finished its first initial list, and the changes for all the
    /// listed objects came before this one. Sent once: later relists only send differences.
    Synced,
    /// A watch failed; it is retried with backoff (and relisted after `410 Gone`). Reported
    /// so the agent can log it: nothing needs undoing.
    WatchError {
        /// The kind whose watch failed.
        kind: Kind,
        /// What failed.
        error: String,
    },
}

/// The watched kinds of objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// `v1` Pods.
    Pod,
    /// `v1` Namespaces.
    Namespace,
    /// `v1` Services.
    Service,
    /// `discovery.k8s.io/v1` EndpointSlices.
    EndpointSlice,
    /// `networking.k8s.io/v1` NetworkPolicies.
    NetworkPolicy,
    /// `cilium.io/v2` CiliumNetworkPolicies.
    CiliumNetworkPolicy,
    /// `cilium.io/v2` CiliumClusterwideNetworkPolicies.
    CiliumClusterwideNetworkPolicy,
}

impl Kind {
    /// Every kind, in declaration order.
    pub const ALL: [Kind; 7] = [
        Kind::Pod,
        Kind::Namespace,
        Kind::Service,
        Kind::EndpointSlice,
        Kind::NetworkPolicy,
        Kind::CiliumNetworkPolicy,
        Kind::CiliumClusterwideNetworkPolicy,
    ];

    /// The kind's name, e.g. `EndpointSlice`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Pod => "Pod",
            Kind::Namespace => "Namespace",
            Kind::Service => "Service",
            Kind::EndpointSlice => "EndpointSlice",
            Kind::NetworkPolicy => "NetworkPolicy",
            Kind::CiliumNetworkPolicy => "CiliumNetworkPolicy",
            Kind::CiliumClusterwideNetworkPolicy => "CiliumClusterwideNetworkPolicy",
        }
    }

    /// Position in [`Kind::ALL`].
    pub(crate) const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One watcher event of one of the watched kinds: the input of the
/// [`Cache`](crate::Cache).
#[derive(Debug, Clone)]
#[expect(
    clippy::large_enum_variant,
    reason = "kube's watcher yields `watcher::Event<Pod>` by value already; boxing would add an allocation per event and save no copy"
)]
pub enum Event {
    /// A Pod event.
    Pod(watcher::Event<Pod>),
    /// A Namespace event.
    Namespace(watcher::Event<Namespace>),
    /// A Service event.
    Service(watcher::Event<Service>),
    /// An EndpointSlice event.
    EndpointSlice(watcher::Event<EndpointSlice>),
    /// A NetworkPolicy event.
    NetworkPolicy(watcher::Event<NetworkPolicy>),
    /// A CiliumNetworkPolicy event.
    CiliumNetworkPolicy(watcher::Event<CiliumNetworkPolicy>),
    /// A CiliumClusterwideNetworkPolicy event.
    CiliumClusterwideNetworkPolicy(watcher::Event<CiliumClusterwideNetworkPolicy>),
}

impl Event {
    /// The kind of object the event is about.
    pub fn kind(&self) -> Kind {
        match self {
            Event::Pod(_) => Kind::Pod,
            Event::Namespace(_) => Kind::Namespace,
            Event::Service(_) => Kind::Service,
            Event::EndpointSlice(_) => Kind::EndpointSlice,
            Event::NetworkPolicy(_) => Kind::NetworkPolicy,
            Event::CiliumNetworkPolicy(_) => Kind::CiliumNetworkPolicy,
            Event::CiliumClusterwideNetworkPolicy(_) => Kind::CiliumClusterwideNetworkPolicy,
        }
    }
}
