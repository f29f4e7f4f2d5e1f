//! The agent's state and every operation on it: endpoints (with IPAM, identities and the
//! datapath), policy, services, FQDN-learned addresses.
//!
//! [`State`] is one value behind one lock; every operation runs on a blocking thread (the
//! datapath calls are system calls), takes the lock, and leaves the datapath consistent with
//! the state before it returns: an endpoint is written into the endpoint map *not ready*
//! (its programs drop everything), then its policy is synced, and only a successful sync
//! marks it ready — the datapath fails closed.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use cilium_agent_api as api;
use cilium_core::{LabelSet, NumericIdentity};
use cilium_datapath::{Datapath, LbSync};
use cilium_l7::{LocalEndpoint, PolicySnapshot};
use cilium_maps::abi::{EndpointInfo as EpInfo, EndpointKey, IpCacheKey, IpCacheValue, consts::*};
use cilium_policy::l7::L7Parser;
use cilium_policy::mapstate::Redirect;
use cilium_policy::{Direction, EndpointInfo, NamedPortTable, PolicyEngine, PolicyObject};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::identities::Identities;
use crate::ipam::{Ipam, write_atomic};

/// Proxy ports of the agent: one listener per parser and direction.
pub mod proxy_ports {
    /// HTTP, egress redirects.
    pub const HTTP_EGRESS: u16 = 15001;
    /// HTTP, ingress redirects.
    pub const HTTP_INGRESS: u16 = 15002;
    /// DNS (egress only).
    pub const DNS: u16 = 15053;
    /// Kafka, egress redirects.
    pub const KAFKA_EGRESS: u16 = 15090;
    /// Kafka, ingress redirects.
    pub const KAFKA_INGRESS: u16 = 15091;
}

/// The proxy port serving redirect `r` in direction `dir` (none: the datapath drops).
pub fn proxy_port(dir: Direction, r: &Redirect) -> Option<u16> {
    use proxy_ports::*;
    match (dir, &r.parser) {
        (Direction::Egress, L7Parser::Http) => Some(HTTP_EGRESS),
        (Direction::Ingress, L7Parser::Http) => Some(HTTP_INGRESS),
        (Direction::Egress, L7Parser::Dns) => Some(DNS),
        (Direction::Egress, L7Parser::Kafka) => Some(KAFKA_EGRESS),
        (Direction::Ingress, L7Parser::Kafka) => Some(KAFKA_INGRESS),
        _ => None,
    }
}

/// An API error: HTTP status and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// Message naming the object.
    pub message: String,
}

impl ApiError {
    /// 400.
    pub fn bad(message: impl Into<String>) -> ApiError {
        ApiError {
            status: 400,
            message: message.into(),
        }
    }
    /// 404.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError {
            status: 404,
            message: message.into(),
        }
    }
    /// 500.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError {
            status: 500,
            message: message.into(),
        }
    }
    /// 503 (not ready; the CNI plugin says "try again later").
    pub fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError {
            status: 503,
            message: message.into(),
        }
    }
}

/// What the agent remembers of an endpoint across restarts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointRecord {
    /// Endpoint id.
    pub id: u16,
    /// Its attachment.
    pub attachment: api::Attachment,
    /// Pod namespace, if given.
    pub pod_namespace: Option<String>,
    /// Pod name, if given.
    pub pod_name: Option<String>,
    /// Labels given with the request.
    pub extra_labels: Vec<String>,
    /// Address.
    pub ip: Ipv4Addr,
    /// Container netns path.
    pub netns: String,
    /// Host-side veth.
    pub host_ifname: String,
    /// Its ifindex.
    pub host_ifindex: u32,
    /// Its MAC.
    pub host_mac: String,
    /// Container-side MAC.
    pub container_mac: String,
}

/// An endpoint as the agent holds it.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// What is persisted.
    pub rec: EndpointRecord,
    /// Its identity.
    pub identity: NumericIdentity,
    /// The identity's labels.
    pub labels: LabelSet,
    /// `ready`, `not-ready`, `waiting-for-policy`.
    pub state: String,
    /// Policy revision synced.
    pub revision: u64,
    /// Ingress enforced.
    pub ingress: bool,
    /// Egress enforced.
    pub egress: bool,
    /// Why it is not ready.
    pub error: Option<String>,
}

impl Endpoint {
    fn user(&self) -> String {
        format!("endpoint-{}", self.rec.id)
    }

    /// The API view.
    pub fn to_api(&self) -> api::Endpoint {
        api::Endpoint {
            id: self.rec.id,
            attachment: self.rec.attachment.clone(),
            pod: match (&self.rec.pod_namespace, &self.rec.pod_name) {
                (Some(ns), Some(n)) => Some(format!("{ns}/{n}")),
                _ => None,
            },
            ip: self.rec.ip.to_string(),
            identity: self.identity.as_u32(),
            labels: self.labels.to_strings(),
            netns: self.rec.netns.clone(),
            host_ifname: self.rec.host_ifname.clone(),
            host_ifindex: self.rec.host_ifindex,
            state: self.state.clone(),
            policy_revision: self.revision,
            ingress_enforced: self.ingress,
            egress_enforced: self.egress,
        }
    }
}

/// Names and labels the flow parser looks up (shared with the Hubble ingest thread).
#[derive(Debug, Default)]
pub struct Tables {
    /// Endpoints by address.
    pub by_ip: BTreeMap<IpAddr, cilium_hubble::parser::EndpointInfo>,
    /// Endpoint addresses by id.
    pub by_id: BTreeMap<u32, IpAddr>,
    /// Identity labels.
    pub identities: BTreeMap<u32, Vec<String>>,
    /// Service frontends.
    pub services: BTreeMap<(IpAddr, u16), cilium_hubble::parser::ServiceName>,
    /// DNS names of learned addresses.
    pub names: BTreeMap<IpAddr, Vec<String>>,
    /// Interface names by index.
    pub ifnames: BTreeMap<u32, String>,
}

/// [`cilium_hubble::parser::Lookups`] over the shared [`Tables`].
#[derive(Debug, Clone, Default)]
pub struct SharedLookups(pub Arc<RwLock<Tables>>);

impl cilium_hubble::parser::Lookups for SharedLookups {
    fn endpoint_by_id(&self, id: u32) -> Option<cilium_hubble::parser::EndpointInfo> {
        let t = self.0.read().ok()?;
        t.by_id.get(&id).and_then(|ip| t.by_ip.get(ip)).cloned()
    }
    fn endpoint_by_ip(&self, ip: IpAddr) -> Option<cilium_hubble::parser::EndpointInfo> {
        self.0.read().ok()?.by_ip.get(&ip).cloned()
    }
    fn identity_labels(&self, identity: u32) -> Option<Vec<String>> {
        self.0.read().ok()?.identities.get(&identity).cloned()
    }
    fn service(&self, ip: IpAddr, port: u16) -> Option<cilium_hubble::parser::ServiceName> {
        self.0.read().ok()?.services.get(&(ip, port)).cloned()
    }
    fn names(&self, ip: IpAddr) -> Vec<String> {
        self.0
            .read()
            .ok()
            .and_then(|t| t.names.get(&ip).cloned())
            .unwrap_or_default()
    }
    fn interface_name(&self, ifindex: u32) -> Option<String> {
        self.0.read().ok()?.ifnames.get(&ifindex).cloned()
    }
}

/// What the sources of truth say (standalone directory or Kubernetes).
#[derive(Debug, Default)]
pub struct SourceState {
    /// Policy objects by source.
    pub policies: BTreeMap<String, Vec<PolicyObject>>,
    /// Their JSON by source (for display).
    pub policy_json: BTreeMap<String, Vec<serde_json::Value>>,
    /// Services by source.
    pub services: BTreeMap<String, Vec<cilium_lb::Service>>,
    /// Pod identity labels by `(namespace, name)`.
    pub pods: BTreeMap<(String, String), LabelSet>,
    /// Current errors.
    pub errors: Vec<String>,
}

/// The agent's state.
pub struct State {
    /// Node name.
    pub node: String,
    /// State directory.
    pub state_dir: PathBuf,
    /// The datapath.
    pub dp: Datapath,
    /// Links replaced at start.
    pub replaced_links: usize,
    /// Policy repository and selector cache.
    pub engine: PolicyEngine,
    /// Identity allocator.
    pub ids: Identities,
    /// Address pool.
    pub ipam: Ipam,
    /// Endpoints by id.
    pub endpoints: BTreeMap<u16, Endpoint>,
    /// The load balancer's datapath state.
    pub lb: LbSync,
    /// What the sources say.
    pub source: SourceState,
    /// Policies imported through the API (source → objects' JSON).
    pub api_policy_json: BTreeMap<String, Vec<serde_json::Value>>,
    /// Policy sources applied from the sources of truth.
    applied_sources: BTreeSet<String>,
    /// Addresses learned through DNS, with their local identity.
    pub learned: BTreeMap<IpAddr, (NumericIdentity, LabelSet)>,
    /// The proxies' policy snapshot.
    pub snapshot: watch::Sender<Arc<PolicySnapshot>>,
    /// The flow parser's lookups.
    pub tables: Arc<RwLock<Tables>>,
    /// Sources read once and datapath loaded.
    pub ready: bool,
    /// Last source error.
    pub source_error: Option<String>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("node", &self.node)
            .field("endpoints", &self.endpoints.len())
            .finish_non_exhaustive()
    }
}

fn parse_mac(s: &str) -> [u8; 6] {
    let mut mac = [0u8; 6];
    for (i, part) in s.split(':').take(6).enumerate() {
        mac[i] = u8::from_str_radix(part, 16).unwrap_or(0);
    }
    mac
}

/// The ipcache key of one address (/32 or /128).
fn host_key(ip: IpAddr) -> IpCacheKey {
    IpCacheKey::new(ip, if ip.is_ipv4() { 32 } else { 128 }, 0)
}

/// The index of interface `name` in the calling thread's namespace.
pub(crate) fn ifindex_of(name: &str) -> Option<u32> {
    let c = std::ffi::CString::new(name).ok()?;
    // SAFETY: if_nametoindex reads a NUL-terminated string we own.
    let idx = unsafe { libc::if_nametoindex(c.as_ptr()) };
    (idx != 0).then_some(idx)
}

impl State {
    /// A state over a loaded datapath.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        node: String,
        state_dir: PathBuf,
        dp: Datapath,
        engine: PolicyEngine,
        ids: Identities,
        ipam: Ipam,
        lb: LbSync,
        snapshot: watch::Sender<Arc<PolicySnapshot>>,
        tables: Arc<RwLock<Tables>>,
    ) -> State {
        let replaced_links = dp.replaced_links();
        State {
            node,
            state_dir,
            dp,
            replaced_links,
            engine,
            ids,
            ipam,
            endpoints: BTreeMap::new(),
            lb,
            source: SourceState::default(),
            api_policy_json: BTreeMap::new(),
            applied_sources: BTreeSet::new(),
            learned: BTreeMap::new(),
            snapshot,
            tables,
            ready: false,
            source_error: None,
        }
    }

    fn endpoints_path(&self) -> PathBuf {
        self.state_dir.join("endpoints.json")
    }

    fn save_endpoints(&self) {
        let recs: Vec<&EndpointRecord> = self.endpoints.values().map(|e| &e.rec).collect();
        if let Err(e) = write_atomic(
            &self.endpoints_path(),
            &serde_json::to_vec_pretty(&recs).expect("json"),
        ) {
            eprintln!("cilium-agent: persisting endpoints: {e}");
        }
    }

    /// The labels an endpoint gets: its pod's labels from the source of truth (or only its
    /// namespace while the pod is unknown), plus the labels of its request.
    fn labels_for(&self, rec: &EndpointRecord) -> Result<LabelSet, String> {
        let mut all: Vec<String> = Vec::new();
        if let (Some(ns), Some(name)) = (&rec.pod_namespace, &rec.pod_name) {
            match self.source.pods.get(&(ns.clone(), name.clone())) {
                Some(l) => all.extend(l.to_strings()),
                None => all.push(format!("k8s:io.kubernetes.pod.namespace={ns}")),
            }
        }
        for l in &rec.extra_labels {
            if !l.contains(':') && !l.contains('=') {
                return Err(format!("label {l:?} is not source:key[=value]"));
            }
            all.push(l.clone());
        }
        if all.is_empty() {
            // Nothing known about it: Cilium's identity for such endpoints.
            all.push("reserved:init".into());
        }
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        Ok(cilium_core::labels::LabelFilter::default().filter(&LabelSet::parse_list(&refs)))
    }

    fn free_endpoint_id(&self) -> Option<u16> {
        (1..=4095u16).find(|id| !self.endpoints.contains_key(id))
    }

    /// CNI ADD's registration: identity, endpoint map entry (not ready), programs, policy.
    /// Returns once the policy is in the datapath; on failure the endpoint stays in the
    /// state not ready (dropping everything) and the error says why.
    pub fn add_endpoint(&mut self, req: api::EndpointRequest) -> Result<api::Endpoint, ApiError> {
        if !self.ready {
            return Err(ApiError::unavailable(
                "agent is starting: sources not read yet",
            ));
        }
        let ip: Ipv4Addr = req
            .ip
            .parse()
            .map_err(|_| ApiError::bad(format!("ip: {:?} is not an IPv4 address", req.ip)))?;
        match self.ipam.lease_of(&req.attachment) {
            Some(leased) if leased == ip => {}
            Some(leased) => {
                return Err(ApiError::bad(format!(
                    "ip: {ip} is not the address leased to {}/{} ({leased})",
                    req.attachment.container_id, req.attachment.ifname
                )));
            }
            None => {
                return Err(ApiError::bad(format!(
                    "ip: no address is leased to {}/{}",
                    req.attachment.container_id, req.attachment.ifname
                )));
            }
        }
        if req.host_ifindex == 0 || req.host_ifname.is_empty() {
            return Err(ApiError::bad("host_ifindex/host_ifname: required"));
        }
        if let Some(existing) = self.endpoint_of(&req.attachment) {
            if existing.rec.host_ifindex == req.host_ifindex && existing.state == "ready" {
                return Ok(existing.to_api());
            }
            let id = existing.rec.id;
            self.remove_endpoint(id, false);
        }
        let id = self
            .free_endpoint_id()
            .ok_or_else(|| ApiError::internal("no free endpoint id (4095 endpoints)"))?;
        let rec = EndpointRecord {
            id,
            attachment: req.attachment.clone(),
            pod_namespace: req.pod_namespace.clone(),
            pod_name: req.pod_name.clone(),
            extra_labels: req.labels.clone(),
            ip,
            netns: req.netns.clone(),
            host_ifname: req.host_ifname.clone(),
            host_ifindex: req.host_ifindex,
            host_mac: req.host_mac.clone(),
            container_mac: req.container_mac.clone(),
        };
        self.install_endpoint(rec)?;
        self.save_endpoints();
        self.regenerate();
        let ep = &self.endpoints[&id];
        if ep.state != "ready" {
            return Err(ApiError::internal(format!(
                "endpoint {id}: policy not in place: {}",
                ep.error.clone().unwrap_or_default()
            )));
        }
        Ok(ep.to_api())
    }

    /// Identity, endpoint map entry (not ready) and programs for `rec`.
    fn install_endpoint(&mut self, rec: EndpointRecord) -> Result<(), ApiError> {
        let labels = self.labels_for(&rec).map_err(ApiError::bad)?;
        let user = format!("endpoint-{}", rec.id);
        let identity = self
            .ids
            .acquire(&labels, &user)
            .map_err(|e| ApiError::internal(format!("identity for {labels}: {e}")))?;
        self.engine.upsert_identity(identity, labels.clone());
        let info = EpInfo {
            ifindex: rec.host_ifindex,
            endpoint_id: rec.id,
            identity: identity.as_u32(),
            flags: 0, // not ready: its programs drop everything until the policy is in
            mac: parse_mac(&rec.container_mac),
            node_mac: parse_mac(&rec.host_mac),
            ..bytemuck::Zeroable::zeroed()
        };
        let key = EndpointKey::new(IpAddr::V4(rec.ip));
        let write = self
            .dp
            .endpoints()
            .and_then(|mut m| Ok(m.insert(&key, &info)?))
            .and_then(|()| self.dp.attach_endpoint(rec.host_ifindex));
        let id = rec.id;
        self.endpoints.insert(
            id,
            Endpoint {
                rec,
                identity,
                labels,
                state: "waiting-for-policy".into(),
                revision: 0,
                ingress: false,
                egress: false,
                error: None,
            },
        );
        if let Err(e) = write {
            let ep = self.endpoints.get_mut(&id).expect("just inserted");
            ep.state = "not-ready".into();
            ep.error = Some(e.to_string());
            return Err(ApiError::internal(format!("endpoint {id}: datapath: {e}")));
        }
        Ok(())
    }

    /// The endpoint of an attachment.
    pub fn endpoint_of(&self, a: &api::Attachment) -> Option<&Endpoint> {
        self.endpoints.values().find(|e| &e.rec.attachment == a)
    }

    /// Removes endpoint `id` from the datapath and the state (and its lease if `release_ip`).
    fn remove_endpoint(&mut self, id: u16, release_ip: bool) {
        let Some(ep) = self.endpoints.remove(&id) else {
            return;
        };
        let _ = self.dp.detach_endpoint(ep.rec.host_ifindex);
        if let Ok(mut m) = self.dp.endpoints() {
            let _ = m.remove(&EndpointKey::new(IpAddr::V4(ep.rec.ip)));
        }
        let _ = self.dp.remove_endpoint_policy(id);
        if self.ids.release(ep.identity, &ep.user())
            && !self.endpoints.values().any(|e| e.identity == ep.identity)
        {
            self.engine.remove_identity(ep.identity);
        }
        if release_ip {
            let _ = self.ipam.release(&ep.rec.attachment);
        }
    }

    /// CNI DEL: the attachment's endpoint and lease go (nothing there is fine).
    pub fn delete_attachment(&mut self, a: &api::Attachment) -> api::Deleted {
        let mut removed = false;
        if let Some(id) = self.endpoint_of(a).map(|e| e.rec.id) {
            self.remove_endpoint(id, true);
            removed = true;
            self.save_endpoints();
            self.regenerate();
        }
        if let Ok(Some(_)) = self.ipam.release(a) {
            removed = true;
        }
        api::Deleted { removed }
    }

    /// CNI GC: everything whose attachment is not listed goes.
    pub fn gc(&mut self, valid: &[api::Attachment]) -> api::GcResult {
        let mut owners: BTreeSet<api::Attachment> = self
            .endpoints
            .values()
            .map(|e| e.rec.attachment.clone())
            .collect();
        owners.extend(self.ipam.leases().map(|(_, a)| a.clone()));
        let mut result = api::GcResult {
            removed: Vec::new(),
            errors: Vec::new(),
        };
        for a in owners {
            if valid.contains(&a) {
                continue;
            }
            if let Some(id) = self.endpoint_of(&a).map(|e| e.rec.id) {
                self.remove_endpoint(id, false);
            }
            if let Err(e) = self.ipam.release(&a) {
                result.errors.push(e.to_string());
            }
            result.removed.push(a);
        }
        if !result.removed.is_empty() {
            self.save_endpoints();
            self.regenerate();
        }
        result
    }

    /// Endpoints persisted by a previous run whose interface still exists come back (same
    /// id, same identity number, programs switched in place, policy re-synced as a diff —
    /// no flush, no gap); the others are removed with their leases.
    pub fn restore(&mut self) -> Vec<String> {
        let mut notes = Vec::new();
        let recs: Vec<EndpointRecord> = match std::fs::read(self.endpoints_path()) {
            Ok(b) => serde_json::from_slice(&b).unwrap_or_else(|e| {
                notes.push(format!("endpoints.json unreadable, ignored: {e}"));
                Vec::new()
            }),
            Err(_) => Vec::new(),
        };
        for rec in recs {
            let id = rec.id;
            if ifindex_of(&rec.host_ifname) != Some(rec.host_ifindex) {
                notes.push(format!(
                    "endpoint {id}: {} is gone, removed",
                    rec.host_ifname
                ));
                if let Ok(mut m) = self.dp.endpoints() {
                    let _ = m.remove(&EndpointKey::new(IpAddr::V4(rec.ip)));
                }
                let _ = self.dp.detach_endpoint(rec.host_ifindex);
                let _ = self.dp.remove_endpoint_policy(id);
                let _ = self.ipam.release(&rec.attachment);
                continue;
            }
            // The endpoint map entry is still there (ready, with its policy): keep it so
            // enforcement goes on; `install_endpoint` rewrites it not-ready only if the
            // identity changed.
            let existing = self
                .dp
                .endpoints()
                .ok()
                .and_then(|m| m.get(&EndpointKey::new(IpAddr::V4(rec.ip))).ok().flatten());
            let labels = match self.labels_for(&rec) {
                Ok(l) => l,
                Err(e) => {
                    notes.push(format!("endpoint {id}: {e}"));
                    continue;
                }
            };
            let user = format!("endpoint-{id}");
            match self.ids.acquire(&labels, &user) {
                Ok(identity) if existing.is_some_and(|x| x.identity == identity.as_u32()) => {
                    self.engine.upsert_identity(identity, labels.clone());
                    let _ = self.dp.attach_endpoint(rec.host_ifindex);
                    self.endpoints.insert(
                        id,
                        Endpoint {
                            rec,
                            identity,
                            labels,
                            state: "ready".into(),
                            revision: 0,
                            ingress: false,
                            egress: false,
                            error: None,
                        },
                    );
                    notes.push(format!("endpoint {id}: restored with identity {identity}"));
                }
                Ok(identity) => {
                    self.ids.release(identity, &user);
                    if let Err(e) = self.install_endpoint(rec) {
                        notes.push(format!("endpoint {id}: {}", e.message));
                    }
                }
                Err(e) => notes.push(format!("endpoint {id}: identity: {e}")),
            }
        }
        self.save_endpoints();
        notes
    }

    /// Applies what the sources say: policies (a source whose objects do not compile keeps
    /// its previous rules and the error is reported), pod labels (endpoints whose labels
    /// change get their new identity), services; then every endpoint's policy.
    pub fn apply_source(&mut self, source: SourceState) -> Vec<String> {
        let mut errors = source.errors.clone();
        for (src, objects) in &source.policies {
            if let Err(e) = self.engine.load_objects(src, objects) {
                errors.push(format!("{src}: {e}"));
            }
        }
        let stale: Vec<String> = self
            .applied_sources
            .iter()
            .filter(|s| !source.policies.contains_key(*s))
            .cloned()
            .collect();
        for s in stale {
            self.engine.remove_source(&s);
        }
        self.applied_sources = source.policies.keys().cloned().collect();
        let services: Vec<cilium_lb::Service> =
            source.services.values().flatten().cloned().collect();
        self.source = source;
        match self.lb.state().update(services) {
            Ok(next) => {
                if let Err(e) = self.lb.apply(next) {
                    errors.push(format!("services: {e}"));
                }
            }
            Err(e) => errors.push(format!("services: {e}")),
        }
        self.relabel();
        self.regenerate();
        self.source_error = (!errors.is_empty()).then(|| errors.join("\n"));
        errors
    }

    /// Endpoints whose labels changed get the identity of their new labels.
    fn relabel(&mut self) {
        let ids: Vec<u16> = self.endpoints.keys().copied().collect();
        for id in ids {
            let ep = &self.endpoints[&id];
            let Ok(labels) = self.labels_for(&ep.rec) else {
                continue;
            };
            if labels == ep.labels {
                continue;
            }
            let user = ep.user();
            let old = ep.identity;
            let Ok(identity) = self.ids.acquire(&labels, &user) else {
                continue;
            };
            self.engine.upsert_identity(identity, labels.clone());
            let ep = self.endpoints.get_mut(&id).expect("listed");
            ep.identity = identity;
            ep.labels = labels;
            let key = EndpointKey::new(IpAddr::V4(ep.rec.ip));
            if let Ok(mut m) = self.dp.endpoints()
                && let Ok(Some(mut info)) = m.get(&key)
            {
                info.identity = identity.as_u32();
                let _ = m.insert(&key, &info);
            }
            if self.ids.release(old, &user) && !self.endpoints.values().any(|e| e.identity == old) {
                self.engine.remove_identity(old);
            }
        }
    }

    /// Imports policy text through the API (source `api/<name>`); nothing changes on error.
    pub fn import_policy(&mut self, text: &api::PolicyText) -> Result<api::PolicyInfo, ApiError> {
        let source = format!("api/{}", text.source.as_deref().unwrap_or("default"));
        let objects = cilium_policy::api::parse_documents(&text.text)
            .map_err(|e| ApiError::bad(format!("{source}: {e}")))?;
        self.engine
            .load_objects(&source, &objects)
            .map_err(|e| ApiError::bad(format!("{source}: {e}")))?;
        let json: Vec<serde_json::Value> = serde_yaml::Deserializer::from_str(&text.text)
            .filter_map(|d| serde_yaml::Value::deserialize(d).ok())
            .filter(|v| !v.is_null())
            .filter_map(|v| serde_json::to_value(v).ok())
            .collect();
        self.api_policy_json.insert(source, json);
        self.regenerate();
        Ok(self.policy_info())
    }

    /// The policy repository.
    pub fn policy_info(&self) -> api::PolicyInfo {
        let mut sources: BTreeMap<String, usize> = BTreeMap::new();
        for (s, objs) in self
            .source
            .policy_json
            .iter()
            .chain(self.api_policy_json.iter())
        {
            sources.insert(s.clone(), objs.len());
        }
        let rules: Vec<serde_json::Value> = self
            .source
            .policy_json
            .values()
            .chain(self.api_policy_json.values())
            .flatten()
            .cloned()
            .collect();
        api::PolicyInfo {
            revision: self.engine.revision(),
            sources: sources.into_iter().collect(),
            rules: serde_json::Value::Array(rules),
        }
    }

    /// Resolves and syncs every endpoint's policy, then publishes the proxies' snapshot and
    /// the flow parser's tables.
    pub fn regenerate(&mut self) {
        let revision = self.engine.revision();
        let mut snap = PolicySnapshot::new(Arc::new(self.engine.cache().clone()));
        let ids: Vec<u16> = self.endpoints.keys().copied().collect();
        for id in ids {
            let ep = &self.endpoints[&id];
            let info = EndpointInfo::new(ep.identity, ep.labels.clone());
            let result = self
                .engine
                .resolve(&info, &NamedPortTable::new())
                .map_err(|e| e.to_string())
                .and_then(|policy| {
                    self.dp
                        .sync_policy(
                            id,
                            &policy.map_state,
                            policy.ingress_enforced,
                            policy.egress_enforced,
                            &proxy_port,
                        )
                        .map_err(|e| e.to_string())
                        .map(|_| policy)
                });
            let ep = self.endpoints.get_mut(&id).expect("listed");
            match result {
                Ok(policy) => {
                    ep.state = "ready".into();
                    ep.error = None;
                    ep.revision = revision;
                    ep.ingress = policy.ingress_enforced;
                    ep.egress = policy.egress_enforced;
                    snap.insert_endpoint(
                        IpAddr::V4(ep.rec.ip),
                        LocalEndpoint {
                            id: u32::from(id),
                            identity: ep.identity,
                            policy: Arc::new(policy),
                        },
                    );
                }
                Err(e) => {
                    // sync_policy left it failing closed.
                    ep.state = "not-ready".into();
                    ep.error = Some(e);
                }
            }
        }
        for (ip, (id, _)) in &self.learned {
            snap.insert_prefix(*ip, if ip.is_ipv4() { 32 } else { 128 }, *id);
        }
        self.snapshot.send_replace(Arc::new(snap));
        self.refresh_tables();
    }

    fn refresh_tables(&self) {
        let mut t = Tables::default();
        for ep in self.endpoints.values() {
            let ip = IpAddr::V4(ep.rec.ip);
            t.by_id.insert(u32::from(ep.rec.id), ip);
            t.ifnames
                .insert(ep.rec.host_ifindex, ep.rec.host_ifname.clone());
            t.by_ip.insert(
                ip,
                cilium_hubble::parser::EndpointInfo {
                    id: u32::from(ep.rec.id),
                    identity: ep.identity.as_u32(),
                    namespace: ep.rec.pod_namespace.clone().unwrap_or_default(),
                    pod_name: ep
                        .rec
                        .pod_name
                        .clone()
                        .unwrap_or_else(|| ep.rec.attachment.container_id.clone()),
                    labels: ep.labels.to_strings(),
                    workloads: Vec::new(),
                },
            );
        }
        for (id, labels, _) in self.ids.list() {
            t.identities.insert(id.as_u32(), labels.to_strings());
        }
        for (ip, (id, labels)) in &self.learned {
            t.identities.insert(id.as_u32(), labels.to_strings());
            let names: Vec<String> = labels
                .iter()
                .filter(|l| l.source() == "fqdn")
                .map(|l| l.key().to_owned())
                .collect();
            t.names.insert(*ip, names);
        }
        for svc in self.lb.state().services().values() {
            for f in &svc.frontends {
                t.services.insert(
                    (f.addr, f.port),
                    cilium_hubble::parser::ServiceName {
                        namespace: svc.namespace.clone(),
                        name: svc.name.clone(),
                    },
                );
            }
        }
        if let Ok(mut shared) = self.tables.write() {
            *shared = t;
        }
    }

    /// DNS-learned addresses (one answer's): a local identity for each one's `cidr:`/`fqdn:`
    /// labels, its ipcache entry, then every endpoint's policy once — before the DNS answer
    /// is released.
    ///
    /// # Errors
    ///
    /// An identity or an ipcache write failed (addresses before it are learned).
    pub fn learn(&mut self, learned: Vec<(IpAddr, LabelSet)>) -> Result<(), String> {
        let result = learned
            .into_iter()
            .try_for_each(|(ip, labels)| self.learn_one(ip, labels));
        self.regenerate();
        result
    }

    fn learn_one(&mut self, ip: IpAddr, labels: LabelSet) -> Result<(), String> {
        let user = format!("fqdn-{ip}");
        let id = match self.learned.get(&ip) {
            Some((id, old)) if *old == labels => *id,
            Some((old_id, _)) => {
                let old_id = *old_id;
                let id = self.ids.acquire(&labels, &user)?;
                if self.ids.release(old_id, &user) {
                    self.engine.remove_identity(old_id);
                }
                id
            }
            None => self.ids.acquire(&labels, &user)?,
        };
        self.engine.upsert_identity(id, labels.clone());
        self.dp
            .ipcache()
            .map_err(|e| e.to_string())?
            .insert(&host_key(ip), &IpCacheValue::identity(id.as_u32()))
            .map_err(|e| e.to_string())?;
        self.learned.insert(ip, (id, labels));
        Ok(())
    }

    /// Addresses whose TTL passed: out of the ipcache, identities released, then every
    /// endpoint's policy once.
    pub fn forget(&mut self, ips: impl IntoIterator<Item = IpAddr>) {
        let mut changed = false;
        for ip in ips {
            let Some((id, _)) = self.learned.remove(&ip) else {
                continue;
            };
            changed = true;
            if self.ids.release(id, &format!("fqdn-{ip}")) {
                self.engine.remove_identity(id);
            }
            if let Ok(mut c) = self.dp.ipcache() {
                let _ = c.remove(&host_key(ip));
            }
        }
        if changed {
            self.regenerate();
        }
    }

    /// `bpf policy get <id>`: the endpoint's policy map with Cilium's columns.
    pub fn bpf_policy(&self, id: u16) -> Result<Vec<api::BpfPolicyEntry>, ApiError> {
        if !self.endpoints.contains_key(&id) {
            return Err(ApiError::not_found(format!("endpoint {id} not found")));
        }
        let map = self
            .dp
            .endpoint_policy(id)
            .map_err(|e| ApiError::internal(e.to_string()))?;
        let entries = map
            .entries()
            .map_err(|e| ApiError::internal(e.to_string()))?;
        let labels_of: BTreeMap<u32, Vec<String>> = self
            .ids
            .list()
            .into_iter()
            .map(|(id, l, _)| (id.as_u32(), l.to_strings()))
            .chain(
                self.learned
                    .values()
                    .map(|(id, l)| (id.as_u32(), l.to_strings())),
            )
            .collect();
        let mut out: Vec<api::BpfPolicyEntry> = entries
            .into_iter()
            .map(|(k, v)| {
                let proto = match k.protocol {
                    6 => "TCP",
                    17 => "UDP",
                    1 => "ICMP",
                    58 => "ICMPv6",
                    132 => "SCTP",
                    _ => "ANY",
                };
                let bits = k.port_prefix_len();
                let port_proto = if k.protocol == 0 {
                    "ANY".to_owned()
                } else if bits == 0 {
                    format!("ANY/{proto}")
                } else if bits == 16 {
                    format!("{}/{proto}", k.dport.get())
                } else {
                    let lo = k.dport.get();
                    let hi = lo | (u16::MAX >> bits);
                    format!("{lo}-{hi}/{proto}")
                };
                let labels = if k.identity == 0 {
                    vec!["reserved:unknown".to_owned()]
                } else {
                    labels_of
                        .get(&k.identity)
                        .cloned()
                        .or_else(|| {
                            NumericIdentity::new(k.identity)
                                .reserved_name()
                                .map(|n| vec![format!("reserved:{n}")])
                        })
                        .unwrap_or_else(|| vec![format!("identity:{}", k.identity)])
                };
                api::BpfPolicyEntry {
                    policy: if v.flags & CIL_POLICY_F_DENY != 0 {
                        "Deny".into()
                    } else {
                        "Allow".into()
                    },
                    direction: if k.egress == CIL_DIR_EGRESS {
                        "Egress".into()
                    } else {
                        "Ingress".into()
                    },
                    identity: k.identity,
                    labels,
                    port_proto,
                    proxy_port: v.proxy_port.get(),
                    auth_type: "disabled".into(),
                    bytes: v.bytes,
                    packets: v.packets,
                    prefix: (k.prefixlen) as u8,
                }
            })
            .collect();
        out.sort_by(|a, b| {
            (&a.direction, a.identity, &a.port_proto).cmp(&(
                &b.direction,
                b.identity,
                &b.port_proto,
            ))
        });
        Ok(out)
    }

    /// The ipcache (learned addresses and anything else written there).
    pub fn ipcache(&self) -> Result<Vec<api::IpCacheEntry>, ApiError> {
        let map = self
            .dp
            .ipcache()
            .map_err(|e| ApiError::internal(e.to_string()))?;
        let entries = map
            .entries()
            .map_err(|e| ApiError::internal(e.to_string()))?;
        let mut out: Vec<api::IpCacheEntry> = entries
            .into_iter()
            .map(|(k, v)| api::IpCacheEntry {
                prefix: match k.ip() {
                    Some(ip) => format!("{ip}/{}", k.cidr_len()),
                    None => format!("{k}"),
                },
                identity: v.identity,
                encrypt_key: v.encrypt_key,
                tunnel_endpoint: "0.0.0.0".into(),
            })
            .collect();
        // Local endpoints are found through the endpoint map; list them too, as Cilium does.
        for ep in self.endpoints.values() {
            out.push(api::IpCacheEntry {
                prefix: format!("{}/32", ep.rec.ip),
                identity: ep.identity.as_u32(),
                encrypt_key: 0,
                tunnel_endpoint: "0.0.0.0".into(),
            });
        }
        out.sort_by(|a, b| a.prefix.cmp(&b.prefix));
        Ok(out)
    }

    /// Services as programmed.
    pub fn services(&self) -> Vec<api::ServiceInfo> {
        let mut out = Vec::new();
        for svc in self.lb.state().services().values() {
            for f in &svc.frontends {
                out.push(api::ServiceInfo {
                    id: self.lb.rev_nat_index(f).unwrap_or(0),
                    frontend: format!("{}:{}/{}", f.addr, f.port, f.protocol),
                    kind: svc.service_type.to_string(),
                    name: format!("{}/{}", svc.namespace, svc.name),
                    algorithm: format!("{:?}", svc.algorithm).to_lowercase(),
                    backends: svc
                        .backends
                        .iter()
                        .map(|b| api::BackendInfo {
                            address: format!("{}:{}", b.addr, b.port),
                            state: b.state.to_string(),
                            weight: b.weight,
                        })
                        .collect(),
                });
            }
        }
        out.sort_by_key(|s| s.id);
        out
    }

    /// Identities known here.
    pub fn identities(&self) -> Vec<api::Identity> {
        let mut out: Vec<api::Identity> = self
            .ids
            .list()
            .into_iter()
            .map(|(id, labels, refs)| api::Identity {
                id: id.as_u32(),
                labels: labels.to_strings(),
                refs,
            })
            .collect();
        out.sort_by_key(|i| i.id);
        out
    }

    /// `policy trace`.
    pub fn trace(&self, req: &api::TraceRequest) -> Result<api::TraceResult, ApiError> {
        use cilium_policy::trace::TracePeer;
        let peer = |labels: &[String], what: &str| -> Result<TracePeer, ApiError> {
            if let [one] = labels
                && let Some(id) = one.strip_prefix("endpoint:")
            {
                let id: u16 = id
                    .parse()
                    .map_err(|_| ApiError::bad(format!("{what}: {one:?} is not endpoint:N")))?;
                let ep = self.endpoints.get(&id).ok_or_else(|| {
                    ApiError::not_found(format!("{what}: endpoint {id} not found"))
                })?;
                return Ok(TracePeer::Endpoint(EndpointInfo::new(
                    ep.identity,
                    ep.labels.clone(),
                )));
            }
            if labels.is_empty() {
                return Err(ApiError::bad(format!("{what}: labels required")));
            }
            let refs: Vec<&str> = labels.iter().map(String::as_str).collect();
            let set = LabelSet::parse_list(&refs);
            // A label set of a local endpoint is that endpoint; otherwise a peer with those
            // labels, evaluated as an endpoint with a fresh identity.
            if let Some(ep) = self.endpoints.values().find(|e| e.labels == set) {
                return Ok(TracePeer::Endpoint(EndpointInfo::new(
                    ep.identity,
                    ep.labels.clone(),
                )));
            }
            Ok(TracePeer::Endpoint(EndpointInfo::new(
                NumericIdentity::new(0xFFFF),
                set,
            )))
        };
        let src = peer(&req.src, "src")?;
        let dst = peer(&req.dst, "dst")?;
        // Trace on a copy of the engine that knows the traced label sets.
        let mut engine = self.engine.clone();
        for p in [&src, &dst] {
            if let TracePeer::Endpoint(e) = p {
                engine.upsert_identity(e.identity, e.labels.clone());
            }
        }
        let protocol = match req
            .protocol
            .as_deref()
            .unwrap_or("TCP")
            .to_ascii_uppercase()
            .as_str()
        {
            "TCP" => cilium_core::Protocol::Tcp,
            "UDP" => cilium_core::Protocol::Udp,
            "ICMP" => cilium_core::Protocol::Icmp,
            "ANY" => cilium_core::Protocol::Any,
            other => {
                return Err(ApiError::bad(format!(
                    "protocol: {other:?} is not TCP, UDP, ICMP or ANY"
                )));
            }
        };
        let trace = engine
            .trace(
                &src,
                &dst,
                protocol,
                req.dport.unwrap_or(0),
                None,
                &NamedPortTable::new(),
            )
            .map_err(|e| ApiError::bad(e.to_string()))?;
        Ok(api::TraceResult {
            verdict: if trace.allowed() { "ALLOWED" } else { "DENIED" }.into(),
            trace: trace.to_string(),
        })
    }
}
