//! The load-balancing state of a node: services, backend ids, and what the datapath must hold.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::net::IpAddr;

use cilium_core::{Cidr, Protocol};

use super::LbOp;
use crate::maglev::{self, MaglevConfig, MaglevError};
use crate::model::{
    Algorithm, Backend, BackendState, Frontend, Scope, Service, ServiceError, ServiceId,
    ServiceType, SessionAffinity, TrafficPolicy,
};

/// A node-local backend id: the value the service slots and Maglev tables hold and the key of
/// the backend map. Ids start at 1 (0 means "none" in the datapath) and never reach
/// [`maglev::EMPTY_SLOT`].
#[doc(alias = "BackendID")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BackendId(u32);

impl BackendId {
    /// The smallest id.
    pub const MIN: BackendId = BackendId(1);
    /// The largest id.
    pub const MAX: BackendId = BackendId(maglev::EMPTY_SLOT - 1);

    /// The id `id`, if it is in `MIN..=MAX`.
    pub const fn new(id: u32) -> Option<BackendId> {
        if id >= BackendId::MIN.0 && id <= BackendId::MAX.0 {
            Some(BackendId(id))
        } else {
            None
        }
    }

    /// The id as a number.
    pub const fn get(self) -> u32 {
        self.0
    }

    /// The id that follows, wrapping from [`BackendId::MAX`] to [`BackendId::MIN`].
    const fn next_wrapping(self) -> BackendId {
        if self.0 >= BackendId::MAX.0 {
            BackendId::MIN
        } else {
            BackendId(self.0 + 1)
        }
    }
}

impl fmt::Display for BackendId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What identifies a backend across services: address, port and protocol. Services that list
/// the same backend share its id and its backend-map entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BackendKey {
    /// The backend's address.
    pub addr: IpAddr,
    /// The backend's port.
    pub port: u16,
    /// The backend's protocol.
    pub protocol: Protocol,
}

impl BackendKey {
    /// The key of a model backend.
    pub fn of(backend: &Backend) -> BackendKey {
        BackendKey {
            addr: backend.addr,
            port: backend.port,
            protocol: backend.protocol,
        }
    }
}

/// `ADDR:PORT/PROTO`, IPv6 in brackets.
impl fmt::Display for BackendKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.addr {
            IpAddr::V4(a) => write!(f, "{a}:{}/{}", self.port, self.protocol),
            IpAddr::V6(a) => write!(f, "[{a}]:{}/{}", self.port, self.protocol),
        }
    }
}

/// A backend-map entry (`lb4_backend` / `lb6_backend`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BackendEntry {
    /// Address, port and protocol.
    pub key: BackendKey,
    /// The state flag.
    pub state: BackendState,
}

/// Which Maglev table: one per service and lookup scope. Every frontend of the service in that
/// scope uses it (the datapath may copy it per frontend).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TableKey {
    /// The service.
    pub service: ServiceId,
    /// The lookup scope.
    pub scope: Scope,
}

/// What the datapath holds for one frontend: the service-map entries of its key (slot 0 and
/// the backend slots), with what it needs to set the flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrontendEntry {
    /// The service the frontend belongs to.
    pub service: ServiceId,
    /// The service's type.
    pub service_type: ServiceType,
    /// The backend slots `1..=count`, in order: the ids of the service's selectable backends
    /// in the frontend's scope.
    pub backends: Vec<BackendId>,
    /// The service's external traffic policy.
    pub ext_traffic_policy: TrafficPolicy,
    /// The service's internal traffic policy.
    pub int_traffic_policy: TrafficPolicy,
    /// Whether the service has internal-scope entries too (`SVC_FLAG_TWO_SCOPES`).
    pub two_scopes: bool,
    /// Session affinity.
    pub affinity: SessionAffinity,
    /// The algorithm.
    pub algorithm: Algorithm,
    /// The Maglev table the frontend uses: set for the Maglev algorithm when the table has
    /// backends.
    pub table: Option<TableKey>,
    /// Allowed client ranges (empty: every client).
    pub source_ranges: Vec<Cidr>,
}

/// Why a set of services cannot become an [`LbState`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LbStateError {
    /// A service is not valid.
    #[error("service {service}: {error}")]
    Service {
        /// The service.
        service: ServiceId,
        /// What is wrong with it.
        error: ServiceError,
    },
    /// Two services have the same id.
    #[error("service {service}: given twice")]
    DuplicateService {
        /// The service.
        service: ServiceId,
    },
    /// Two services claim the same frontend.
    #[error("service {service}: frontend {frontend} already belongs to service {other}")]
    FrontendConflict {
        /// The service that claims it second (in id order).
        service: ServiceId,
        /// The frontend.
        frontend: String,
        /// The service that claims it first.
        other: ServiceId,
    },
    /// Two services list the same backend in different states; the backend map holds one.
    #[error(
        "service {service}: backend {backend} is {state} here but {other_state} in service {other}"
    )]
    BackendStateConflict {
        /// The service that lists it second (in id order).
        service: ServiceId,
        /// The backend.
        backend: BackendKey,
        /// Its state in `service`.
        state: BackendState,
        /// The service that lists it first.
        other: ServiceId,
        /// Its state in `other`.
        other_state: BackendState,
    },
    /// Every backend id is taken.
    #[error("backend {backend}: no backend id is free")]
    BackendIdsExhausted {
        /// The backend that got none.
        backend: BackendKey,
    },
    /// A Maglev table could not be built.
    #[error("service {service}: maglev table of the {scope} scope: {error}")]
    Maglev {
        /// The service.
        service: ServiceId,
        /// The scope of the table.
        scope: Scope,
        /// What the builder reported.
        error: MaglevError,
    },
}

/// The load-balancing state of a node: the services, the backend ids assigned to their
/// backends, and what the datapath must hold for them (backend entries, frontend entries,
/// Maglev tables), derived once when the state is made.
///
/// Two ways to move on:
///
/// - whole sets: make the next state from the current one with [`LbState::update`] (or
///   [`LbState::with_service`] / [`LbState::without_service`]) and hand both to
///   [`diff`](crate::diff::diff) — O(services);
/// - one service at a time, in place: [`LbState::upsert_service`] and
///   [`LbState::remove_service`] change the state and return the same operations `diff` would,
///   in time proportional to that one service (its backends and Maglev tables), whatever the
///   number of other services.
///
/// Backend ids are assigned deterministically: a backend keeps its id as long as some service
/// lists it; new backends get ids in [`BackendKey`] order from a counter that only moves
/// forward (wrapping after [`BackendId::MAX`]) and skips every id in use in the current or the
/// next state. So an id is never reused in the update that frees it, where connections
/// tracked with the old backend could still be sent to the new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LbState {
    maglev: MaglevConfig,
    services: BTreeMap<ServiceId, Service>,
    backend_ids: BTreeMap<BackendKey, BackendId>,
    next_backend_id: BackendId,
    backends: BTreeMap<BackendId, BackendEntry>,
    frontends: BTreeMap<Frontend, FrontendEntry>,
    tables: BTreeMap<TableKey, Vec<u32>>,
    /// How many services list each backend.
    refs: HashMap<BackendKey, u32>,
}

impl Default for LbState {
    /// An empty state with the default Maglev configuration.
    fn default() -> Self {
        LbState::new(MaglevConfig::default())
    }
}

impl LbState {
    /// An empty state whose Maglev tables will use `maglev`.
    pub fn new(maglev: MaglevConfig) -> Self {
        LbState {
            maglev,
            services: BTreeMap::new(),
            backend_ids: BTreeMap::new(),
            next_backend_id: BackendId::MIN,
            backends: BTreeMap::new(),
            frontends: BTreeMap::new(),
            tables: BTreeMap::new(),
            refs: HashMap::new(),
        }
    }

    /// The next state: exactly `services`, with backend ids carried over from `self`.
    ///
    /// Every service is validated, and the set as a whole must be consistent: no id twice, no
    /// frontend claimed by two services, no backend listed in two states.
    pub fn update(
        &self,
        services: impl IntoIterator<Item = Service>,
    ) -> Result<LbState, LbStateError> {
        let mut map = BTreeMap::new();
        for service in services {
            let id = service.id();
            if map.contains_key(&id) {
                return Err(LbStateError::DuplicateService { service: id });
            }
            map.insert(id, service);
        }
        self.rebuild(map)
    }

    /// The next state: this one with `service` added or replaced.
    pub fn with_service(&self, service: Service) -> Result<LbState, LbStateError> {
        let mut map = self.services.clone();
        map.insert(service.id(), service);
        self.rebuild(map)
    }

    /// The next state: this one without the service `id` (unchanged if it is not there).
    pub fn without_service(&self, id: &ServiceId) -> Result<LbState, LbStateError> {
        let mut map = self.services.clone();
        map.remove(id);
        self.rebuild(map)
    }

    /// The Maglev configuration.
    pub fn maglev(&self) -> &MaglevConfig {
        &self.maglev
    }

    /// The services, by id.
    pub fn services(&self) -> &BTreeMap<ServiceId, Service> {
        &self.services
    }

    /// The id of every backend some service lists.
    pub fn backend_ids(&self) -> &BTreeMap<BackendKey, BackendId> {
        &self.backend_ids
    }

    /// The id of one backend, if some service lists it.
    pub fn backend_id(&self, key: &BackendKey) -> Option<BackendId> {
        self.backend_ids.get(key).copied()
    }

    /// The backend map: every listed backend, whatever its state, by id.
    pub fn backends(&self) -> &BTreeMap<BackendId, BackendEntry> {
        &self.backends
    }

    /// The frontend entries, by frontend (the service-map key).
    pub fn frontends(&self) -> &BTreeMap<Frontend, FrontendEntry> {
        &self.frontends
    }

    /// The Maglev tables (entries are [`BackendId`] values).
    pub fn tables(&self) -> &BTreeMap<TableKey, Vec<u32>> {
        &self.tables
    }

    /// Adds `service` or replaces the service of the same id, in place, and returns the
    /// operations that move the datapath along — the ones [`diff`](crate::diff::diff) of the
    /// state before and after would give, in the same order. On error nothing changes.
    ///
    /// The work is that of the one service (validation, its backend ids, its Maglev tables,
    /// its frontends), plus logarithmic lookups in the rest of the state.
    ///
    /// ```
    /// use cilium_core::Protocol;
    /// use cilium_lb::diff::{diff, LbState};
    /// use cilium_lb::model::{Backend, Frontend, Service, ServiceType};
    ///
    /// let mut svc = Service::new("default", "web", ServiceType::ClusterIp);
    /// svc.frontends.push(Frontend::new("10.96.0.10".parse()?, 80, Protocol::Tcp));
    /// svc.backends.push(Backend::new("10.0.1.5".parse()?, 8080, Protocol::Tcp));
    ///
    /// let mut state = LbState::default();
    /// let before = state.clone();
    /// let ops = state.upsert_service(svc)?;
    /// assert_eq!(ops, diff(&before, &state));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn upsert_service(&mut self, service: Service) -> Result<Vec<LbOp>, LbStateError> {
        let id = service.id();
        service.validate().map_err(|error| LbStateError::Service {
            service: id.clone(),
            error,
        })?;
        let old = self.services.get(&id);
        let old_keys: BTreeSet<BackendKey> = old
            .map(|o| o.backends.iter().map(BackendKey::of).collect())
            .unwrap_or_default();

        // Conflicts with the other services.
        let frontends = service.lookup_frontends();
        for f in &frontends {
            if let Some(entry) = self.frontends.get(f)
                && entry.service != id
            {
                return Err(conflict(&id, f, &entry.service));
            }
        }
        let mut new_keys: BTreeMap<BackendKey, BackendState> = BTreeMap::new();
        for b in &service.backends {
            let key = BackendKey::of(b);
            new_keys.insert(key, b.state);
            let Some(bid) = self.backend_ids.get(&key) else {
                continue;
            };
            let listed_elsewhere = self.refs[&key] > u32::from(old_keys.contains(&key));
            let entry = self.backends[bid];
            if listed_elsewhere && entry.state != b.state {
                let other = self
                    .services
                    .iter()
                    .find(|(other, s)| {
                        **other != id && s.backends.iter().any(|o| BackendKey::of(o) == key)
                    })
                    .map(|(other, _)| other.clone())
                    .expect("a listed backend has a service");
                return Err(order_state_conflict(
                    (&id, b.state),
                    (&other, entry.state),
                    key,
                ));
            }
        }

        // Ids for the new backends, in key order; ids of backends this update frees stay
        // taken (they are still in `backend_ids`), so none is reused at once.
        let mut ids: HashMap<BackendKey, BackendId> = HashMap::new();
        let mut fresh: HashSet<BackendId> = HashSet::new();
        let mut next = self.next_backend_id;
        for key in new_keys.keys() {
            let id = match self.backend_ids.get(key) {
                Some(&id) => id,
                None => {
                    let start = next;
                    while self.backends.contains_key(&next) || fresh.contains(&next) {
                        next = next.next_wrapping();
                        if next == start {
                            return Err(LbStateError::BackendIdsExhausted { backend: *key });
                        }
                    }
                    let id = next;
                    fresh.insert(id);
                    next = next.next_wrapping();
                    id
                }
            };
            ids.insert(*key, id);
        }
        let (tables, entries) = derive(&self.maglev, &id, &service, &|b| ids[&BackendKey::of(b)])?;

        // Everything is known: compute the operations, then change the state.
        let mut ops = Vec::new();
        for (key, &state) in &new_keys {
            let bid = ids[key];
            let backend = BackendEntry { key: *key, state };
            if self.backends.get(&bid) != Some(&backend) {
                ops.push(LbOp::UpsertBackend { id: bid, backend });
            }
        }
        // In id order, as `diff` walks the backend map.
        ops.sort_unstable_by_key(|op| match op {
            LbOp::UpsertBackend { id, .. } => *id,
            _ => unreachable!("only backends so far"),
        });
        for (table, entries) in &tables {
            if self.tables.get(table) != Some(entries) {
                ops.push(LbOp::UpsertMaglevTable {
                    table: table.clone(),
                    entries: entries.clone(),
                });
            }
        }
        for (frontend, entry) in &entries {
            if self.frontends.get(frontend) != Some(entry) {
                ops.push(LbOp::UpsertFrontend {
                    frontend: *frontend,
                    entry: Box::new(entry.clone()),
                });
            }
        }
        let mut old_frontends = Vec::new();
        let mut old_tables = Vec::new();
        if let Some(old) = old {
            old_frontends = old.lookup_frontends();
            old_frontends.retain(|f| !entries.contains_key(f));
            for f in &old_frontends {
                ops.push(LbOp::DeleteFrontend { frontend: *f });
            }
            for scope in [Scope::External, Scope::Internal] {
                let table = TableKey {
                    service: id.clone(),
                    scope,
                };
                if self.tables.contains_key(&table) && !tables.contains_key(&table) {
                    ops.push(LbOp::DeleteMaglevTable {
                        table: table.clone(),
                    });
                    old_tables.push(table);
                }
            }
        }
        let mut freed: Vec<BackendId> = old_keys
            .iter()
            .filter(|k| !new_keys.contains_key(k) && self.refs[k] == 1)
            .map(|k| self.backend_ids[k])
            .collect();
        freed.sort_unstable();
        ops.extend(freed.iter().map(|&id| LbOp::DeleteBackend { id }));

        for key in &old_keys {
            if !new_keys.contains_key(key) {
                self.release(key);
            }
        }
        for (key, &state) in &new_keys {
            if !old_keys.contains(key) {
                *self.refs.entry(*key).or_insert(0) += 1;
            }
            let bid = ids[key];
            self.backend_ids.insert(*key, bid);
            self.backends.insert(bid, BackendEntry { key: *key, state });
        }
        for f in old_frontends {
            self.frontends.remove(&f);
        }
        for t in old_tables {
            self.tables.remove(&t);
        }
        self.frontends.extend(entries);
        self.tables.extend(tables);
        self.services.insert(id, service);
        self.next_backend_id = next;
        Ok(ops)
    }

    /// Removes the service `id` in place and returns the operations [`diff`](crate::diff::diff)
    /// would give (none if it is not there). The work is that of the one service.
    pub fn remove_service(&mut self, id: &ServiceId) -> Vec<LbOp> {
        let Some(old) = self.services.remove(id) else {
            return Vec::new();
        };
        let mut ops = Vec::new();
        for f in old.lookup_frontends() {
            if self.frontends.remove(&f).is_some() {
                ops.push(LbOp::DeleteFrontend { frontend: f });
            }
        }
        for scope in [Scope::External, Scope::Internal] {
            let table = TableKey {
                service: id.clone(),
                scope,
            };
            if self.tables.remove(&table).is_some() {
                ops.push(LbOp::DeleteMaglevTable { table });
            }
        }
        let keys: BTreeSet<BackendKey> = old.backends.iter().map(BackendKey::of).collect();
        let mut freed: Vec<BackendId> = keys.iter().filter_map(|k| self.release(k)).collect();
        freed.sort_unstable();
        ops.extend(freed.into_iter().map(|id| LbOp::DeleteBackend { id }));
        ops
    }

    /// One service less lists `key`; drops the backend when none does and returns its id.
    fn release(&mut self, key: &BackendKey) -> Option<BackendId> {
        let refs = self.refs.get_mut(key).expect("a listed backend is counted");
        *refs -= 1;
        if *refs > 0 {
            return None;
        }
        self.refs.remove(key);
        let id = self
            .backend_ids
            .remove(key)
            .expect("a listed backend has an id");
        self.backends.remove(&id);
        Some(id)
    }

    fn rebuild(&self, services: BTreeMap<ServiceId, Service>) -> Result<LbState, LbStateError> {
        // Validate, and collect every backend with its state.
        let mut states: BTreeMap<BackendKey, (BackendState, &ServiceId)> = BTreeMap::new();
        let mut refs: HashMap<BackendKey, u32> = HashMap::new();
        let mut frontend_owner: HashMap<Frontend, &ServiceId> = HashMap::new();
        for (id, svc) in &services {
            svc.validate().map_err(|error| LbStateError::Service {
                service: id.clone(),
                error,
            })?;
            for f in svc.lookup_frontends() {
                if let Some(other) = frontend_owner.insert(f, id) {
                    return Err(conflict(id, &f, other));
                }
            }
            let mut seen = BTreeSet::new();
            for b in &svc.backends {
                let key = BackendKey::of(b);
                if seen.insert(key) {
                    *refs.entry(key).or_insert(0) += 1;
                }
                match states.get(&key) {
                    Some(&(other_state, other)) if other_state != b.state => {
                        return Err(order_state_conflict(
                            (id, b.state),
                            (other, other_state),
                            key,
                        ));
                    }
                    Some(_) => {}
                    None => {
                        states.insert(key, (b.state, id));
                    }
                }
            }
        }

        // Ids: keep the old ones, allocate the rest.
        let mut used: BTreeSet<BackendId> = self.backend_ids.values().copied().collect();
        let mut backend_ids = BTreeMap::new();
        let mut next = self.next_backend_id;
        for key in states.keys() {
            let id = match self.backend_ids.get(key) {
                Some(&id) => id,
                None => {
                    let start = next;
                    while used.contains(&next) {
                        next = next.next_wrapping();
                        if next == start {
                            return Err(LbStateError::BackendIdsExhausted { backend: *key });
                        }
                    }
                    let id = next;
                    used.insert(id);
                    next = next.next_wrapping();
                    id
                }
            };
            backend_ids.insert(*key, id);
        }
        let backends = states
            .iter()
            .map(|(key, &(state, _))| (backend_ids[key], BackendEntry { key: *key, state }))
            .collect();

        let mut tables = BTreeMap::new();
        let mut frontends = BTreeMap::new();
        for (id, svc) in &services {
            let (t, f) = derive(&self.maglev, id, svc, &|b| backend_ids[&BackendKey::of(b)])?;
            tables.extend(t);
            frontends.extend(f);
        }

        Ok(LbState {
            maglev: self.maglev,
            services,
            backend_ids,
            next_backend_id: next,
            backends,
            frontends,
            tables,
            refs,
        })
    }
}

fn conflict(service: &ServiceId, frontend: &Frontend, other: &ServiceId) -> LbStateError {
    // Named in id order, as a whole-set update (which visits services in id order) names them.
    let (service, other) = if other < service {
        (service, other)
    } else {
        (other, service)
    };
    LbStateError::FrontendConflict {
        service: service.clone(),
        frontend: frontend.to_string(),
        other: other.clone(),
    }
}

fn order_state_conflict(
    a: (&ServiceId, BackendState),
    b: (&ServiceId, BackendState),
    backend: BackendKey,
) -> LbStateError {
    let (second, first) = if b.0 < a.0 { (a, b) } else { (b, a) };
    LbStateError::BackendStateConflict {
        service: second.0.clone(),
        backend,
        state: second.1,
        other: first.0.clone(),
        other_state: first.1,
    }
}

/// What the datapath holds for one service: its Maglev tables and its frontend entries.
type Derived = (
    BTreeMap<TableKey, Vec<u32>>,
    BTreeMap<Frontend, FrontendEntry>,
);

fn derive(
    config: &MaglevConfig,
    id: &ServiceId,
    svc: &Service,
    id_of: &dyn Fn(&Backend) -> BackendId,
) -> Result<Derived, LbStateError> {
    let mut scopes = vec![Scope::External];
    if svc.has_two_scopes() {
        scopes.push(Scope::Internal);
    }
    let mut tables = BTreeMap::new();
    if svc.algorithm == Algorithm::Maglev {
        for &scope in &scopes {
            let input: Vec<_> = svc
                .selectable_backends(scope)
                .into_iter()
                .map(|b| b.to_maglev(id_of(b).get()))
                .collect();
            let table =
                maglev::build_table(config, &input).map_err(|error| LbStateError::Maglev {
                    service: id.clone(),
                    scope,
                    error,
                })?;
            if !table.is_empty() {
                let key = TableKey {
                    service: id.clone(),
                    scope,
                };
                tables.insert(key, table);
            }
        }
    }
    let mut selectable: [Option<Vec<BackendId>>; 2] = [None, None];
    let mut frontends = BTreeMap::new();
    for f in svc.lookup_frontends() {
        let table = TableKey {
            service: id.clone(),
            scope: f.scope,
        };
        let backends = selectable[f.scope as usize]
            .get_or_insert_with(|| {
                svc.selectable_backends(f.scope)
                    .into_iter()
                    .map(id_of)
                    .collect()
            })
            .clone();
        let entry = FrontendEntry {
            service: id.clone(),
            service_type: svc.service_type,
            backends,
            ext_traffic_policy: svc.ext_traffic_policy,
            int_traffic_policy: svc.int_traffic_policy,
            two_scopes: svc.has_two_scopes(),
            affinity: svc.affinity,
            algorithm: svc.algorithm,
            table: tables.contains_key(&table).then_some(table),
            source_ranges: svc.source_ranges.clone(),
        };
        frontends.insert(f, entry);
    }
    Ok((tables, frontends))
}
