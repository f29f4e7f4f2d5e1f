//! The I/O shell: one kube-runtime watcher per kind, each feeding a reflector store, merged
//! into one stream that drives the [`Cache`] and sends its [`Change`]s.

use std::fmt::Debug;
use std::pin::pin;

use futures_util::future::{self, Either};
use futures_util::stream::{self, BoxStream, StreamExt};
use k8s_openapi::api::core::v1::{Namespace, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::runtime::reflector::{self, Store, store::Writer};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, ResourceExt};
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

use crate::cache::Cache;
use crate::change::{Change, Event, Kind};
use crate::config::Config;
use crate::crd::{CiliumClusterwideNetworkPolicy, CiliumNetworkPolicy};
use crate::error::K8sError;

/// Read access to the watched objects as the API server last listed or sent them (without
/// `managedFields`): the reflector stores, one per kind. Cheap to clone; each
/// [`Store`] can [`wait_until_ready`](Store::wait_until_ready).
#[derive(Debug, Clone)]
pub struct Stores {
    /// All Pods.
    pub pods: Store<Pod>,
    /// All Namespaces.
    pub namespaces: Store<Namespace>,
    /// All Services.
    pub services: Store<Service>,
    /// All EndpointSlices.
    pub endpoint_slices: Store<EndpointSlice>,
    /// All NetworkPolicies.
    pub network_policies: Store<NetworkPolicy>,
    /// All CiliumNetworkPolicies.
    pub cilium_network_policies: Store<CiliumNetworkPolicy>,
    /// All CiliumClusterwideNetworkPolicies.
    pub cilium_clusterwide_network_policies: Store<CiliumClusterwideNetworkPolicy>,
}

struct Writers {
    pods: Writer<Pod>,
    namespaces: Writer<Namespace>,
    services: Writer<Service>,
    endpoint_slices: Writer<EndpointSlice>,
    network_policies: Writer<NetworkPolicy>,
    cilium_network_policies: Writer<CiliumNetworkPolicy>,
    cilium_clusterwide_network_policies: Writer<CiliumClusterwideNetworkPolicy>,
}

/// Watches Pods, Namespaces, Services, EndpointSlices, NetworkPolicies,
/// CiliumNetworkPolicies and CiliumClusterwideNetworkPolicies (cluster-wide, all
/// namespaces) and turns them into one ordered stream of [`Change`]s.
///
/// Each kind has a kube-runtime [`watcher()`] (LIST, then WATCH with bookmarks, relisting
/// after `410 Gone`) with kube's default backoff after errors, feeding a reflector
/// [`Store`] (see [`K8sWatcher::stores`]). The seven streams are merged and applied, one
/// event at a time, to a [`Cache`], whose changes are sent in order; when the receiver is
/// slow, the watches wait.
pub struct K8sWatcher {
    client: Client,
    config: Config,
    stores: Stores,
    writers: Writers,
}

impl Debug for K8sWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("K8sWatcher")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl K8sWatcher {
    /// A watcher over `client` (nothing is requested before [`K8sWatcher::run`]).
    pub fn new(client: Client, config: Config) -> K8sWatcher {
        let (pods, pods_w) = reflector::store();
        let (namespaces, namespaces_w) = reflector::store();
        let (services, services_w) = reflector::store();
        let (endpoint_slices, endpoint_slices_w) = reflector::store();
        let (network_policies, network_policies_w) = reflector::store();
        let (cnps, cnps_w) = reflector::store();
        let (ccnps, ccnps_w) = reflector::store();
        K8sWatcher {
            client,
            config,
            stores: Stores {
                pods,
                namespaces,
                services,
                endpoint_slices,
                network_policies,
                cilium_network_policies: cnps,
                cilium_clusterwide_network_policies: ccnps,
            },
            writers: Writers {
                pods: pods_w,
                namespaces: namespaces_w,
                services: services_w,
                endpoint_slices: endpoint_slices_w,
                network_policies: network_policies_w,
                cilium_network_policies: cnps_w,
                cilium_clusterwide_network_policies: ccnps_w,
            },
        }
    }

    /// The reflector stores, filled while [`K8sWatcher::run`] runs.
    pub fn stores(&self) -> Stores {
        self.stores.clone()
    }

    /// Watches until `tx`'s receiver is dropped (then returns `Ok`). Watch failures are
    /// retried and reported as [`Change::WatchError`].
    ///
    /// # Errors
    ///
    /// [`K8sError::WatchesEnded`] if every watch stream ends (kube's do not).
    pub async fn run(self, tx: mpsc::Sender<Change>) -> Result<(), K8sError> {
        let K8sWatcher {
            client,
            config,
            writers: w,
            ..
        } = self;
        let streams = vec![
            kind_stream(Api::all(client.clone()), w.pods, Kind::Pod, Event::Pod),
            kind_stream(
                Api::all(client.clone()),
                w.namespaces,
                Kind::Namespace,
                Event::Namespace,
            ),
            kind_stream(
                Api::all(client.clone()),
                w.services,
                Kind::Service,
                Event::Service,
            ),
            kind_stream(
                Api::all(client.clone()),
                w.endpoint_slices,
                Kind::EndpointSlice,
                Event::EndpointSlice,
            ),
            kind_stream(
                Api::all(client.clone()),
                w.network_policies,
                Kind::NetworkPolicy,
                Event::NetworkPolicy,
            ),
            kind_stream(
                Api::all(client.clone()),
                w.cilium_network_policies,
                Kind::CiliumNetworkPolicy,
                Event::CiliumNetworkPolicy,
            ),
            kind_stream(
                Api::all(client),
                w.cilium_clusterwide_network_policies,
                Kind::CiliumClusterwideNetworkPolicy,
                Event::CiliumClusterwideNetworkPolicy,
            ),
        ];
        let mut events = stream::select_all(streams);
        let mut cache = Cache::new(config);
        loop {
            // Stop as soon as the receiver goes away, not only at the next send.
            let item = match future::select(pin!(tx.closed()), events.next()).await {
                Either::Left(((), _)) => return Ok(()),
                Either::Right((Some(item), _)) => item,
                Either::Right((None, _)) => return Err(K8sError::WatchesEnded),
            };
            let changes = match item {
                Ok(event) => cache.apply(event),
                Err((kind, error)) => vec![Change::WatchError {
                    kind,
                    error: error.to_string(),
                }],
            };
            for change in changes {
                if tx.send(change).await.is_err() {
                    return Ok(());
                }
            }
        }
    }
}

/// Watches Pods, Namespaces, Services, EndpointSlices, NetworkPolicies and Cilium policies
/// through `client` and sends the [`Change`]s to `tx` until its receiver is dropped:
/// [`K8sWatcher::run`] with [`Config::new`]`(node_name)`.
///
/// # Errors
///
/// See [`K8sWatcher::run`].
pub async fn run(
    client: Client,
    node_name: Option<String>,
    tx: mpsc::Sender<Change>,
) -> Result<(), K8sError> {
    K8sWatcher::new(client, Config::new(node_name))
        .run(tx)
        .await
}

type Item = Result<Event, (Kind, watcher::Error)>;

/// The events of one kind: a [`restarting_watcher`] without `managedFields`, with backoff,
/// through the reflector `writer`, wrapped into [`Event`]s.
fn kind_stream<K>(
    api: Api<K>,
    writer: Writer<K>,
    kind: Kind,
    wrap: fn(watcher::Event<K>) -> Event,
) -> BoxStream<'static, Item>
where
    K: kube::Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    let events = restarting_watcher(api)
        .modify(|o: &mut K| o.managed_fields_mut().clear())
        .default_backoff();
    reflector::reflector(writer, events)
        .map(move |item| item.map(wrap).map_err(|e| (kind, e)))
        .boxed()
}

/// Whether a watcher error carries `410 Gone` (the resource version expired).
fn is_gone(error: &watcher::Error) -> bool {
    match error {
        watcher::Error::WatchError(status) => status.code == 410,
        watcher::Error::WatchStartFailed(kube::Error::Api(status))
        | watcher::Error::WatchFailed(kube::Error::Api(status))
        | watcher::Error::InitialListFailed(kube::Error::Api(status)) => status.code == 410,
        _ => false,
    }
}

/// A [`watcher()`] that starts over (relists) after any `410 Gone`.
///
/// kube's watcher relists when `410` arrives as an `ERROR` event in the watch stream (what an
/// API server sends for an expired resource version), but when the WATCH request itself is
/// answered with HTTP 410 it retries the same resource version forever. This wrapper drops
/// the watcher after such an error, and the next poll starts a new one, which lists again.
fn restarting_watcher<K>(
    api: Api<K>,
) -> impl futures_util::Stream<Item = watcher::Result<watcher::Event<K>>> + Send
where
    K: kube::Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    stream::unfold((api, None), |(api, current)| async move {
        let mut events: BoxStream<'static, _> = match current {
            Some(events) => events,
            None => watcher(api.clone(), watcher::Config::default()).boxed(),
        };
        let item = events.next().await?;
        let keep = match &item {
            Err(e) if is_gone(e) => None,
            _ => Some(events),
        };
        Some((item, (api, keep)))
    })
}
