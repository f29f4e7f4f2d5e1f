//! The single writer: applies watcher events of every watched kind, in the order they arrive,
//! to small projections of the objects, and says what changed. Pure: no I/O, no clock.
//!
//! # Rules
//!
//! - **Relists.** Between a kind's `Init` and `InitDone` the listed objects are applied as they
//!   come (each is a replace); at `InitDone`, objects known before but not listed are deleted,
//!   with their `*Deleted` changes. So an object deleted while the watch was disconnected (the
//!   `410 Gone` case) is removed at the end of the relist.
//! - **No repeats.** The last change sent for each policy source, Service and pod is kept; a
//!   new one is sent only if it differs. A relist of unchanged objects sends nothing.
//! - **Pods wait for their namespace.** A pod's labels include its namespace's labels, so a
//!   pod is sent once its Namespace is known, and sent again (if its labels change) whenever
//!   the namespace's labels change. Sending it earlier would allocate an identity for a label
//!   set that is about to change.
//! - **Services wait for EndpointSlices.** Until the EndpointSlices have been listed once,
//!   Services are held back: sending a Service before its slices would briefly give it no
//!   backends (on an agent restart, a live service would drop traffic). At that first
//!   `InitDone` every Service is sent.
//! - **Invalid objects** produce [`Change::PolicyInvalid`] / [`Change::ServicesInvalid`]; the
//!   receiver keeps what it had.

use std::collections::{BTreeMap, BTreeSet};

use cilium_lb::k8s::SERVICE_NAME_LABEL;
use k8s_openapi::api::core::v1::{Namespace, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::runtime::watcher;

use crate::change::{Change, Event, Kind};
use crate::config::Config;
use crate::translate::{self, PodView};

/// `(namespace, name)` of an object; the namespace is empty for cluster-scoped objects.
type Key = (String, String);

fn key_of(meta: &ObjectMeta) -> Key {
    (
        meta.namespace.clone().unwrap_or_default(),
        meta.name.clone().unwrap_or_default(),
    )
}

/// What a watcher event asks of one kind's cache.
enum Step<K> {
    Upsert(K),
    Delete(Key),
    /// The end of a listing, with the keys listed (`None` if no `Init` came first).
    Listed(Option<BTreeSet<Key>>),
    Nothing,
}

/// Listing state of one kind.
#[derive(Debug, Default)]
struct Tracker {
    /// Keys listed since `Init`, while a listing is under way.
    listing: Option<BTreeSet<Key>>,
    /// Whether a listing has finished once.
    synced: bool,
}

impl Tracker {
    fn step<K: kube::Resource>(&mut self, event: watcher::Event<K>) -> Step<K> {
        match event {
            watcher::Event::Init => {
                self.listing = Some(BTreeSet::new());
                Step::Nothing
            }
            watcher::Event::InitApply(object) => {
                if let Some(seen) = &mut self.listing {
                    seen.insert(key_of(object.meta()));
                }
                Step::Upsert(object)
            }
            watcher::Event::InitDone => Step::Listed(self.listing.take()),
            watcher::Event::Apply(object) => Step::Upsert(object),
            watcher::Event::Delete(object) => Step::Delete(key_of(object.meta())),
        }
    }
}

#[derive(Debug)]
struct PodEntry {
    /// `None` for a host-network pod.
    view: Option<PodView>,
    /// The last [`Change::Pod`] sent.
    sent: Option<Change>,
}

#[derive(Debug)]
struct ServiceEntry {
    service: Service,
    /// The last [`Change::Services`] or [`Change::ServicesInvalid`] sent.
    sent: Option<Change>,
}

#[derive(Debug)]
struct SliceEntry {
    /// The Service (in the slice's namespace) named by the slice's
    /// `kubernetes.io/service-name` label.
    owner: Option<String>,
    slice: EndpointSlice,
}

/// Sends `change` unless it is what `sent` already holds.
fn send_if_changed(sent: &mut Option<Change>, change: Change, out: &mut Vec<Change>) {
    if sent.as_ref() != Some(&change) {
        *sent = Some(change.clone());
        out.push(change);
    }
}

/// (Re)sends the pod `namespace/name` held in `entry`, if its namespace is known.
fn send_pod(
    namespace: &str,
    name: &str,
    entry: &mut PodEntry,
    namespace_labels: Option<&BTreeMap<String, String>>,
    cluster: &str,
    out: &mut Vec<Change>,
) {
    match &entry.view {
        None => {
            if entry.sent.take().is_some() {
                out.push(Change::PodDeleted {
                    namespace: namespace.to_owned(),
                    name: name.to_owned(),
                });
            }
        }
        Some(view) => {
            if let Some(labels) = namespace_labels {
                let change = view.change(namespace, name, labels, cluster);
                send_if_changed(&mut entry.sent, change, out);
            }
        }
    }
}

/// The translated state of the watched objects; see the [module docs](self).
///
/// ```
/// use cilium_agent_k8s::{Cache, Change, Config, Event};
/// use k8s_openapi::api::core::v1::Namespace;
/// use kube::runtime::watcher;
///
/// let mut cache = Cache::new(Config::new(Some("node-a".into())));
/// let ns: Namespace = serde_json::from_value(serde_json::json!({"metadata": {"name": "shop"}}))?;
/// assert_eq!(cache.apply(Event::Namespace(watcher::Event::Apply(ns))), vec![]);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug)]
pub struct Cache {
    config: Config,
    trackers: [Tracker; 7],
    synced_sent: bool,
    /// Namespace name → its labels.
    namespaces: BTreeMap<String, BTreeMap<String, String>>,
    /// Namespace → pod name → pod.
    pods: BTreeMap<String, BTreeMap<String, PodEntry>>,
    services: BTreeMap<Key, ServiceEntry>,
    slices: BTreeMap<Key, SliceEntry>,
    /// Service key → names of its slices (in its namespace).
    slices_by_service: BTreeMap<Key, BTreeSet<String>>,
    /// The last change sent for each policy object.
    policies: BTreeMap<(Kind, Key), Change>,
}

impl Cache {
    /// An empty cache.
    pub fn new(config: Config) -> Cache {
        Cache {
            config,
            trackers: Default::default(),
            synced_sent: false,
            namespaces: BTreeMap::new(),
            pods: BTreeMap::new(),
            services: BTreeMap::new(),
            slices: BTreeMap::new(),
            slices_by_service: BTreeMap::new(),
            policies: BTreeMap::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Whether every kind has finished its first listing ([`Change::Synced`] was sent).
    pub fn is_synced(&self) -> bool {
        self.synced_sent
    }

    /// Applies one watcher event; returns the changes it causes, in order.
    pub fn apply(&mut self, event: Event) -> Vec<Change> {
        let mut out = Vec::new();
        let kind = event.kind();
        let tracker = &mut self.trackers[kind.index()];
        match event {
            Event::Pod(e) => {
                let step = tracker.step(e);
                self.run(kind, step, &mut out, Cache::upsert_pod, Cache::pod_keys);
            }
            Event::Namespace(e) => {
                let step = tracker.step(e);
                self.run(
                    kind,
                    step,
                    &mut out,
                    Cache::upsert_namespace,
                    Cache::namespace_keys,
                );
            }
            Event::Service(e) => {
                let step = tracker.step(e);
                self.run(
                    kind,
                    step,
                    &mut out,
                    Cache::upsert_service,
                    Cache::service_keys,
                );
            }
            Event::EndpointSlice(e) => {
                let step = tracker.step(e);
                self.run(kind, step, &mut out, Cache::upsert_slice, Cache::slice_keys);
            }
            Event::NetworkPolicy(e) => {
                let step = tracker.step(e);
                self.run(
                    kind,
                    step,
                    &mut out,
                    |c, np, out| {
                        let change = translate::network_policy(&np, &c.config.policy);
                        c.upsert_policy(Kind::NetworkPolicy, key_of(&np.metadata), change, out);
                    },
                    |c| c.policy_keys(Kind::NetworkPolicy),
                );
            }
            Event::CiliumNetworkPolicy(e) => {
                let step = tracker.step(e);
                self.run(
                    kind,
                    step,
                    &mut out,
                    |c, cnp, out| {
                        let change = translate::cilium_network_policy(&cnp, &c.config.policy);
                        let key = key_of(&cnp.metadata);
                        c.upsert_policy(Kind::CiliumNetworkPolicy, key, change, out);
                    },
                    |c| c.policy_keys(Kind::CiliumNetworkPolicy),
                );
            }
            Event::CiliumClusterwideNetworkPolicy(e) => {
                let step = tracker.step(e);
                self.run(
                    kind,
                    step,
                    &mut out,
                    |c, ccnp, out| {
                        let change =
                            translate::cilium_clusterwide_network_policy(&ccnp, &c.config.policy);
                        let key = key_of(&ccnp.metadata);
                        c.upsert_policy(Kind::CiliumClusterwideNetworkPolicy, key, change, out);
                    },
                    |c| c.policy_keys(Kind::CiliumClusterwideNetworkPolicy),
                );
            }
        }
        out
    }

    /// Carries out one step of `kind`: `upsert` an object, delete one, or finish a listing
    /// (deleting the known `keys` that were not listed).
    fn run<K>(
        &mut self,
        kind: Kind,
        step: Step<K>,
        out: &mut Vec<Change>,
        upsert: impl FnOnce(&mut Cache, K, &mut Vec<Change>),
        keys: impl FnOnce(&Cache) -> Vec<Key>,
    ) {
        match step {
            Step::Upsert(object) => upsert(self, object, out),
            Step::Delete(key) => self.delete(kind, &key, out),
            Step::Listed(seen) => {
                if let Some(seen) = seen {
                    for key in keys(self) {
                        if !seen.contains(&key) {
                            self.delete(kind, &key, out);
                        }
                    }
                }
                self.listed(kind, out);
            }
            Step::Nothing => {}
        }
    }

    fn delete(&mut self, kind: Kind, key: &Key, out: &mut Vec<Change>) {
        match kind {
            Kind::Pod => self.delete_pod(key, out),
            Kind::Namespace => {
                // Its pods go with their own events; until then they keep what was sent.
                self.namespaces.remove(&key.1);
            }
            Kind::Service => {
                if let Some(ServiceEntry {
                    sent: Some(sent), ..
                }) = self.services.remove(key)
                {
                    let key = match sent {
                        Change::Services { key, .. } | Change::ServicesInvalid { key, .. } => key,
                        _ => format!("{}/{}", key.0, key.1),
                    };
                    out.push(Change::ServicesDeleted { key });
                }
            }
            Kind::EndpointSlice => self.delete_slice(key, out),
            Kind::NetworkPolicy
            | Kind::CiliumNetworkPolicy
            | Kind::CiliumClusterwideNetworkPolicy => {
                if let Some(sent) = self.policies.remove(&(kind, key.clone())) {
                    let source = match sent {
                        Change::Policy { source, .. } | Change::PolicyInvalid { source, .. } => {
                            source
                        }
                        _ => translate::policy_source(kind, Some(&key.0), &key.1),
                    };
                    out.push(Change::PolicyDeleted { source });
                }
            }
        }
    }

    /// A listing of `kind` finished.
    fn listed(&mut self, kind: Kind, out: &mut Vec<Change>) {
        let first = !self.trackers[kind.index()].synced;
        self.trackers[kind.index()].synced = true;
        if first && kind == Kind::EndpointSlice {
            let keys: Vec<Key> = self.services.keys().cloned().collect();
            for key in keys {
                self.send_service(&key, out);
            }
        }
        if !self.synced_sent && self.trackers.iter().all(|t| t.synced) {
            self.synced_sent = true;
            out.push(Change::Synced);
        }
    }

    // Namespaces and pods.

    fn upsert_namespace(&mut self, ns: Namespace, out: &mut Vec<Change>) {
        let name = ns.metadata.name.unwrap_or_default();
        let labels = ns.metadata.labels.unwrap_or_default();
        if self.namespaces.get(&name) == Some(&labels) {
            return;
        }
        self.namespaces.insert(name.clone(), labels);
        let labels = self.namespaces.get(&name);
        if let Some(pods) = self.pods.get_mut(&name) {
            for (pod, entry) in pods {
                send_pod(
                    &name,
                    pod,
                    entry,
                    labels,
                    &self.config.policy.cluster_name,
                    out,
                );
            }
        }
    }

    fn namespace_keys(&self) -> Vec<Key> {
        self.namespaces
            .keys()
            .map(|n| (String::new(), n.clone()))
            .collect()
    }

    fn upsert_pod(&mut self, pod: Pod, out: &mut Vec<Change>) {
        let (namespace, name) = key_of(&pod.metadata);
        let view = PodView::of(&pod);
        let entry = self
            .pods
            .entry(namespace.clone())
            .or_default()
            .entry(name.clone())
            .or_insert(PodEntry {
                view: None,
                sent: None,
            });
        entry.view = view;
        send_pod(
            &namespace,
            &name,
            entry,
            self.namespaces.get(&namespace),
            &self.config.policy.cluster_name,
            out,
        );
    }

    fn delete_pod(&mut self, (namespace, name): &Key, out: &mut Vec<Change>) {
        let Some(pods) = self.pods.get_mut(namespace) else {
            return;
        };
        let entry = pods.remove(name);
        if pods.is_empty() {
            self.pods.remove(namespace);
        }
        if let Some(PodEntry {
            sent: Some(Change::Pod {
                namespace, name, ..
            }),
            ..
        }) = entry
        {
            out.push(Change::PodDeleted { namespace, name });
        }
    }

    fn pod_keys(&self) -> Vec<Key> {
        self.pods
            .iter()
            .flat_map(|(ns, pods)| pods.keys().map(|name| (ns.clone(), name.clone())))
            .collect()
    }

    // Services and EndpointSlices.

    fn upsert_service(&mut self, service: Service, out: &mut Vec<Change>) {
        let key = key_of(&service.metadata);
        match self.services.get_mut(&key) {
            Some(entry) => entry.service = service,
            None => {
                self.services.insert(
                    key.clone(),
                    ServiceEntry {
                        service,
                        sent: None,
                    },
                );
            }
        }
        self.send_service(&key, out);
    }

    fn service_keys(&self) -> Vec<Key> {
        self.services.keys().cloned().collect()
    }

    /// Converts the Service `key` with its slices and sends the result if it changed; held
    /// back until the EndpointSlices have been listed once.
    fn send_service(&mut self, key: &Key, out: &mut Vec<Change>) {
        if !self.trackers[Kind::EndpointSlice.index()].synced {
            return;
        }
        let Some(entry) = self.services.get_mut(key) else {
            return;
        };
        let slices: Vec<EndpointSlice> = self
            .slices_by_service
            .get(key)
            .into_iter()
            .flatten()
            .filter_map(|name| self.slices.get(&(key.0.clone(), name.clone())))
            .map(|s| s.slice.clone())
            .collect();
        let change = translate::services(&entry.service, &slices, &self.config.node);
        send_if_changed(&mut entry.sent, change, out);
    }

    fn upsert_slice(&mut self, slice: EndpointSlice, out: &mut Vec<Change>) {
        let key = key_of(&slice.metadata);
        let owner = slice
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(SERVICE_NAME_LABEL))
            .cloned();
        let old = self.slices.insert(
            key.clone(),
            SliceEntry {
                owner: owner.clone(),
                slice,
            },
        );
        if let Some(old_owner) = old.and_then(|o| o.owner)
            && Some(&old_owner) != owner.as_ref()
        {
            let service = (key.0.clone(), old_owner);
            self.unindex_slice(&service, &key.1);
            self.send_service(&service, out);
        }
        if let Some(owner) = owner {
            let service = (key.0.clone(), owner);
            self.slices_by_service
                .entry(service.clone())
                .or_default()
                .insert(key.1.clone());
            self.send_service(&service, out);
        }
    }

    fn delete_slice(&mut self, key: &Key, out: &mut Vec<Change>) {
        if let Some(owner) = self.slices.remove(key).and_then(|s| s.owner) {
            let service = (key.0.clone(), owner);
            self.unindex_slice(&service, &key.1);
            self.send_service(&service, out);
        }
    }

    fn unindex_slice(&mut self, service: &Key, slice: &str) {
        if let Some(names) = self.slices_by_service.get_mut(service) {
            names.remove(slice);
            if names.is_empty() {
                self.slices_by_service.remove(service);
            }
        }
    }

    fn slice_keys(&self) -> Vec<Key> {
        self.slices.keys().cloned().collect()
    }

    // Policies.

    fn upsert_policy(&mut self, kind: Kind, key: Key, change: Change, out: &mut Vec<Change>) {
        let slot = self.policies.entry((kind, key));
        match slot {
            std::collections::btree_map::Entry::Occupied(mut o) => {
                if *o.get() != change {
                    o.insert(change.clone());
                    out.push(change);
                }
            }
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(change.clone());
                out.push(change);
            }
        }
    }

    fn policy_keys(&self, kind: Kind) -> Vec<Key> {
        self.policies
            .keys()
            .filter(|(k, _)| *k == kind)
            .map(|(_, key)| key.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests;
