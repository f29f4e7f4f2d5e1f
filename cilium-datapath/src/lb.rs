//! Service map sync: a `cilium-lb` state applied to the service, backend, reverse-NAT and
//! Maglev maps as the ordered operations [`cilium_lb::diff`] computes.
//!
//! Two ways in, sharing one writer:
//!
//! - [`LbSync::apply`] takes a whole next [`LbState`] and writes `diff(current, next)` — for a
//!   first sync and for resyncs, O(services);
//! - [`LbSync::upsert_service`] and [`LbSync::remove_service`] change one service in place
//!   and write only its operations — O(that service), however many services there are.
//!
//! Each frontend gets a reverse-NAT index (`rev_nat_index`, 1..=65535) for as long as it
//! exists: the reverse-NAT entry (what replies must appear to come from) and the frontend's
//! Maglev table are keyed by it. Backends are written first, then each frontend's reverse-NAT
//! entry, Maglev table and backend slots, then slot 0 (what the programs look up, so it is
//! the switch); slots, tables and backends no longer needed are removed after. So the
//! programs never meet a dangling id mid-sync. Writes of one kind go to the kernel in batches
//! (`BPF_MAP_UPDATE_BATCH`), in that order.
//!
//! A failed write stops the sync and returns the error. For [`apply`](LbSync::apply) the
//! recorded state stays the previous one, so the next `apply` rewrites whatever the failed
//! one left half-done. For an in-place change the service is put back as it was (state and,
//! best effort, maps); if putting the maps back fails too, the next call of either kind first
//! rewrites every map entry from the recorded state and removes what it does not hold.
//!
//! The writer works on any [`MapStore`]: [`LbSync::new`] on a loaded datapath's pinned maps,
//! [`LbSync::in_memory`] on in-memory twins whose [`dump`](LbSync::dump) golden tests compare.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;
use std::net::IpAddr;

use cilium_lb::diff::{BackendEntry, FrontendEntry, LbOp, LbState, TableKey};
use cilium_lb::model::{
    Algorithm, Frontend, Service, ServiceId, ServiceType, SessionAffinity, TrafficPolicy,
};
use cilium_lb::{MaglevConfig, Scope, diff};
use cilium_maps::abi::{self, consts::*};
use cilium_maps::{
    BackendMap, KernelMap, MaglevMap, MapError, MapStore, MemoryMap, RevNatMap, ServiceMap,
};

use crate::error::DatapathError;
use crate::loader::Datapath;

/// What one sync wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LbSyncStats {
    /// Operations of the diff.
    pub operations: usize,
    /// Map entries written (service slots, backends, reverse NAT, Maglev tables).
    pub writes: usize,
    /// Map entries removed.
    pub removals: usize,
}

/// What the maps hold for one frontend.
#[derive(Debug, Clone, Copy)]
struct Written {
    rev_nat_index: u16,
    /// Backend slots that may be in the map (`1..=slots`).
    slots: u16,
    has_table: bool,
}

/// The maps and what they hold, apart from the desired state.
#[derive(Debug)]
struct Writer<S: MapStore + Send> {
    services: ServiceMap<S>,
    backends: BackendMap<S>,
    rev_nat: RevNatMap<S>,
    maglev: MaglevMap,
    written: HashMap<Frontend, Written>,
    used_rev_nat: BTreeSet<u16>,
    next_rev_nat: u16,
}

/// Applies load-balancing states to the datapath's maps (or to in-memory twins of them).
#[derive(Debug)]
pub struct LbSync<S: MapStore + Send = KernelMap> {
    maps: Writer<S>,
    state: LbState,
    /// The maps may hold entries the state does not explain: a previous instance's
    /// leftovers, or a failed change that could not be put back. The next `apply` rewrites
    /// every entry and sweeps the rest.
    dirty: bool,
    /// A failed change could not be put back: in-place changes resync first.
    broken: bool,
}

fn sync_error(what: String, source: MapError) -> DatapathError {
    let reason = if source.is_full() {
        "map full".to_owned()
    } else {
        source.to_string()
    };
    DatapathError::Sync {
        what,
        reason,
        source: Some(source),
    }
}

fn service_key(f: &Frontend, slot: u16) -> abi::ServiceKey {
    abi::ServiceKey::new(f.addr, f.port, f.protocol.as_u8(), f.scope.as_u8(), slot)
}

fn ignore_missing(r: Result<(), MapError>) -> Result<bool, MapError> {
    match r {
        Ok(()) => Ok(true),
        Err(MapError::NotFound { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Slot 0 of a frontend: the service as the programs see it.
fn service_value(entry: &FrontendEntry, rev_nat_index: u16) -> abi::ServiceValue {
    let mut flags = match entry.service_type {
        ServiceType::NodePort => CIL_SVC_F_NODEPORT,
        ServiceType::ExternalIps => CIL_SVC_F_EXTERNAL_IP,
        ServiceType::LoadBalancer => CIL_SVC_F_LOADBALANCER,
        ServiceType::HostPort => CIL_SVC_F_HOSTPORT,
        _ => 0,
    };
    let mut flags2 = 0;
    if entry.service_type == ServiceType::LocalRedirect {
        flags2 |= CIL_SVC_F2_LOCALREDIRECT;
    }
    if entry.ext_traffic_policy == TrafficPolicy::Local {
        flags |= CIL_SVC_F_EXT_LOCAL_SCOPE;
    }
    if entry.int_traffic_policy == TrafficPolicy::Local {
        flags2 |= CIL_SVC_F2_INT_LOCAL_SCOPE;
    }
    if entry.two_scopes {
        flags2 |= CIL_SVC_F2_TWO_SCOPES;
    }
    let mut affinity_timeout = 0;
    if let SessionAffinity::ClientIp { timeout_secs } = entry.affinity {
        flags |= CIL_SVC_F_AFFINITY;
        affinity_timeout = timeout_secs;
    }
    abi::ServiceValue {
        affinity_timeout,
        count: entry.backends.len() as u16,
        rev_nat_index,
        flags,
        flags2,
        algorithm: match entry.algorithm {
            Algorithm::Maglev => CIL_LB_ALG_MAGLEV,
            _ => CIL_LB_ALG_RANDOM,
        },
        ..bytemuck::Zeroable::zeroed()
    }
}

fn backend_value(b: &BackendEntry) -> abi::Backend {
    let mut value = abi::Backend::new(b.key.addr, b.key.port, b.key.protocol.as_u8());
    value.state = b.state.as_u8();
    value
}

fn batch_error(what: &str, e: MapError) -> DatapathError {
    sync_error(what.to_owned(), e)
}

impl LbSync<KernelMap> {
    /// A sync over `dp`'s maps, starting from what they hold: frontends a previous instance
    /// wrote keep their reverse-NAT index (also through in-place changes), and the first
    /// [`apply`](LbSync::apply) — the whole desired state, which a restarted agent should
    /// hand over first — rewrites every entry and removes the frontends and backends that
    /// state does not have.
    pub fn new(dp: &Datapath) -> Result<Self, DatapathError> {
        Self::from_maps(dp.services()?, dp.backends()?, dp.rev_nat()?, dp.maglev()?)
    }
}

impl LbSync<MemoryMap> {
    /// A sync over empty in-memory twins of the maps, with Maglev tables of `table_size`
    /// entries: what a datapath would hold, without a kernel (see [`LbSync::dump`]).
    pub fn in_memory(table_size: u32) -> Self {
        Self::from_maps(
            ServiceMap::in_memory("cil_lb_services", 0),
            BackendMap::in_memory("cil_lb_backends", 0),
            RevNatMap::in_memory("cil_lb_rev_nat", 0),
            MaglevMap::in_memory("cil_lb_maglev", table_size, 0),
        )
        .expect("empty in-memory maps read back")
    }
}

impl<S: MapStore + Send> LbSync<S> {
    /// A sync over these maps, starting from what they hold (see [`LbSync::new`]).
    pub fn from_maps(
        services: ServiceMap<S>,
        backends: BackendMap<S>,
        rev_nat: RevNatMap<S>,
        maglev: MaglevMap,
    ) -> Result<Self, DatapathError> {
        let mut written = HashMap::new();
        let mut next_rev_nat = 1u16;
        for (key, value) in services.entries()? {
            if key.backend_slot != 0 {
                continue;
            }
            let Some(frontend) = frontend_of(&key) else {
                continue;
            };
            written.insert(
                frontend,
                Written {
                    rev_nat_index: value.rev_nat_index,
                    slots: value.count,
                    has_table: value.algorithm == CIL_LB_ALG_MAGLEV,
                },
            );
            next_rev_nat = next_rev_nat.max(value.rev_nat_index.wrapping_add(1).max(1));
        }
        let dirty = !written.is_empty() || !backends.keys()?.is_empty();
        let table_size = maglev.table_size();
        Ok(Self {
            maps: Writer {
                services,
                backends,
                rev_nat,
                maglev,
                used_rev_nat: written.values().map(|w| w.rev_nat_index).collect(),
                written,
                next_rev_nat,
            },
            state: LbState::new(MaglevConfig::new(table_size, None).unwrap_or_default()),
            dirty,
            broken: false,
        })
    }

    /// The state the maps hold.
    pub fn state(&self) -> &LbState {
        &self.state
    }

    /// The reverse-NAT index of a frontend in the maps.
    pub fn rev_nat_index(&self, frontend: &Frontend) -> Option<u16> {
        self.maps.written.get(frontend).map(|w| w.rev_nat_index)
    }

    /// The service map.
    pub fn service_map(&self) -> &ServiceMap<S> {
        &self.maps.services
    }

    /// The backend map.
    pub fn backend_map(&self) -> &BackendMap<S> {
        &self.maps.backends
    }

    /// The reverse-NAT map.
    pub fn rev_nat_map(&self) -> &RevNatMap<S> {
        &self.maps.rev_nat
    }

    /// The Maglev tables.
    pub fn maglev_map(&self) -> &MaglevMap {
        &self.maps.maglev
    }

    /// Makes the maps hold `new`: computes the diff from the state they hold and writes it in
    /// order. Frontends and backends found in the maps that `new` does not have are removed.
    /// `new` must use the maps' Maglev table size.
    pub fn apply(&mut self, new: LbState) -> Result<LbSyncStats, DatapathError> {
        self.check_table_size(&new)?;
        let mut stats = if self.dirty {
            self.maps.rewrite(&new)?
        } else if self.state.services().is_empty() {
            // A first sync: everything is new, no diff to compute.
            self.maps.write_all(&new)?
        } else {
            let ops = diff(&self.state, &new);
            let mut stats = LbSyncStats {
                operations: ops.len(),
                ..LbSyncStats::default()
            };
            self.maps.write(&ops, &new, &mut stats)?;
            stats
        };
        self.maps.sweep_frontends(&new, &mut stats)?;
        self.dirty = false;
        self.broken = false;
        self.state = new;
        Ok(stats)
    }

    /// Adds `service` or replaces the service of the same id, writing only its operations.
    /// An invalid or conflicting service is refused before anything is written; a failed
    /// write puts the service back as it was (and, if even that fails, the next call resyncs).
    pub fn upsert_service(&mut self, service: Service) -> Result<LbSyncStats, DatapathError> {
        self.resync_if_dirty()?;
        let id = service.id();
        let old = self.state.services().get(&id).cloned();
        let ops = self.state.upsert_service(service)?;
        self.write_or_restore(&id, old, &ops)
    }

    /// Removes the service `id` (nothing if it is not there), writing only its operations.
    pub fn remove_service(&mut self, id: &ServiceId) -> Result<LbSyncStats, DatapathError> {
        self.resync_if_dirty()?;
        let old = self.state.services().get(id).cloned();
        let ops = self.state.remove_service(id);
        self.write_or_restore(id, old, &ops)
    }

    /// A text dump of every map entry, deterministic (sorted; Maglev tables as the number of
    /// slots of each backend id), for golden tests.
    pub fn dump(&self) -> Result<String, DatapathError> {
        let mut out = String::new();
        out.push_str(&self.maps.services.dump()?);
        out.push_str(&self.maps.backends.dump()?);
        out.push_str(&self.maps.rev_nat.dump()?);
        let maglev = &self.maps.maglev;
        let indices = maglev.services()?;
        let _ = writeln!(
            out,
            "# maglev tables ({} tables of {} slots)",
            indices.len(),
            maglev.table_size()
        );
        for index in indices {
            let table = maglev.get_table(index)?.unwrap_or_default();
            let mut counts: BTreeMap<u32, usize> = BTreeMap::new();
            for id in table {
                *counts.entry(id).or_default() += 1;
            }
            let counts: Vec<String> = counts
                .iter()
                .map(|(id, n)| format!("backend {id} x{n}"))
                .collect();
            let _ = writeln!(out, "rev_nat {index} => {}", counts.join(", "));
        }
        Ok(out)
    }

    fn check_table_size(&self, new: &LbState) -> Result<(), DatapathError> {
        let (want, have) = (new.maglev().table_size(), self.maps.maglev.table_size());
        if want != have {
            return Err(DatapathError::Config {
                field: "maglev table size",
                reason: format!("the state's tables have {want} entries, the map's {have}"),
            });
        }
        Ok(())
    }

    fn resync_if_dirty(&mut self) -> Result<(), DatapathError> {
        if self.broken {
            let state = self.state.clone();
            self.apply(state)?;
        }
        Ok(())
    }

    fn write_or_restore(
        &mut self,
        id: &ServiceId,
        old: Option<Service>,
        ops: &[LbOp],
    ) -> Result<LbSyncStats, DatapathError> {
        let mut stats = LbSyncStats {
            operations: ops.len(),
            ..LbSyncStats::default()
        };
        let Err(error) = self.maps.write(ops, &self.state, &mut stats) else {
            return Ok(stats);
        };
        // Put the service back: the operations that undo the change, written best effort.
        let back = match old {
            Some(old) => self.state.upsert_service(old),
            None => Ok(self.state.remove_service(id)),
        };
        let restored = back.map_err(DatapathError::from).and_then(|ops| {
            self.maps
                .write(&ops, &self.state, &mut LbSyncStats::default())
        });
        if restored.is_err() {
            self.dirty = true;
            self.broken = true;
        }
        Err(error)
    }
}

impl<S: MapStore + Send> Writer<S> {
    fn allocate_rev_nat(&mut self) -> Result<u16, DatapathError> {
        for _ in 0..u16::MAX {
            let candidate = self.next_rev_nat.max(1);
            self.next_rev_nat = candidate.wrapping_add(1);
            if !self.used_rev_nat.contains(&candidate) {
                self.used_rev_nat.insert(candidate);
                return Ok(candidate);
            }
        }
        Err(DatapathError::Sync {
            what: "services".into(),
            reason: "all 65535 reverse-NAT indices are in use".into(),
            source: None,
        })
    }

    /// Writes `ops` (in the order of [`cilium_lb::diff`]) towards `new`. Writes are gathered
    /// and sent in batches, kind by kind, keeping the order the programs rely on: backends,
    /// then tables, then frontends (slots, then slot 0), then removals.
    fn write(
        &mut self,
        ops: &[LbOp],
        new: &LbState,
        stats: &mut LbSyncStats,
    ) -> Result<(), DatapathError> {
        let mut backends = Vec::new();
        let mut tables: Vec<(u16, &[u32])> = Vec::new();
        let mut frontends = Vec::new();
        let rewritten: HashSet<Frontend> = ops
            .iter()
            .filter_map(|op| match op {
                LbOp::UpsertFrontend { frontend, .. } => Some(*frontend),
                _ => None,
            })
            .collect();
        for op in ops {
            match op {
                LbOp::UpsertBackend { id, backend } => backends.push((
                    abi::BackendKey {
                        backend_id: id.get(),
                    },
                    backend_value(backend),
                )),
                LbOp::UpsertMaglevTable { table, entries } => {
                    // Frontends already written and not rewritten by this sync switch
                    // tables here; the others get theirs with their own upsert, before
                    // their slot 0 (one write each: every Maglev write waits for the
                    // kernel's RCU grace period).
                    for frontend in table_users(new, table) {
                        if let Some(w) = self.written.get(&frontend)
                            && !rewritten.contains(&frontend)
                        {
                            tables.push((w.rev_nat_index, entries));
                        }
                    }
                }
                LbOp::UpsertFrontend { frontend, entry } => frontends.push((*frontend, &**entry)),
                LbOp::DeleteFrontend { frontend } => {
                    self.flush(&mut backends, &mut tables, &mut frontends, new, stats)?;
                    self.delete_frontend(frontend, stats)?;
                }
                LbOp::DeleteMaglevTable { .. } => {
                    // Tables are per frontend: removed with the frontend, or when it stops
                    // using one (flush_frontends).
                }
                LbOp::DeleteBackend { id } => {
                    self.flush(&mut backends, &mut tables, &mut frontends, new, stats)?;
                    let key = abi::BackendKey {
                        backend_id: id.get(),
                    };
                    if ignore_missing(self.backends.remove(&key))
                        .map_err(|e| sync_error(format!("backend {id}"), e))?
                    {
                        stats.removals += 1;
                    }
                }
            }
        }
        self.flush(&mut backends, &mut tables, &mut frontends, new, stats)
    }

    /// Sends what `write` gathered: backends, then table switches, then frontends.
    fn flush<'a>(
        &mut self,
        backends: &mut Vec<(abi::BackendKey, abi::Backend)>,
        tables: &mut Vec<(u16, &'a [u32])>,
        frontends: &mut Vec<(Frontend, &'a FrontendEntry)>,
        new: &'a LbState,
        stats: &mut LbSyncStats,
    ) -> Result<(), DatapathError> {
        if !backends.is_empty() {
            self.backends
                .insert_batch(backends)
                .map_err(|e| batch_error("backends", e))?;
            stats.writes += backends.len();
            backends.clear();
        }
        if !tables.is_empty() {
            self.maglev
                .set_tables(tables)
                .map_err(|e| batch_error("maglev tables", e))?;
            stats.writes += tables.len();
            tables.clear();
        }
        self.flush_frontends(frontends, new, stats)
    }

    /// Every entry of `new` written: what `diff` from an empty state would write, without
    /// making the operations.
    fn write_all(&mut self, new: &LbState) -> Result<LbSyncStats, DatapathError> {
        let mut backends: Vec<_> = new
            .backends()
            .iter()
            .map(|(id, b)| {
                (
                    abi::BackendKey {
                        backend_id: id.get(),
                    },
                    backend_value(b),
                )
            })
            .collect();
        let mut frontends: Vec<_> = new.frontends().iter().map(|(f, e)| (*f, e)).collect();
        let mut stats = LbSyncStats {
            operations: backends.len() + new.tables().len() + frontends.len(),
            ..LbSyncStats::default()
        };
        self.flush(
            &mut backends,
            &mut Vec::new(),
            &mut frontends,
            new,
            &mut stats,
        )?;
        Ok(stats)
    }

    /// Every entry of `new` rewritten from scratch, then every backend the maps hold that
    /// `new` does not have removed (frontends are swept by the caller).
    fn rewrite(&mut self, new: &LbState) -> Result<LbSyncStats, DatapathError> {
        let mut stats = self.write_all(new)?;
        let keep: BTreeSet<u32> = new.backends().keys().map(|id| id.get()).collect();
        for key in self.backends.keys()? {
            if !keep.contains(&key.backend_id) {
                ignore_missing(self.backends.remove(&key))
                    .map_err(|e| sync_error(format!("backend {}", key.backend_id), e))?;
                stats.removals += 1;
            }
        }
        Ok(stats)
    }

    /// Removes the frontends the maps hold that `new` does not have.
    fn sweep_frontends(
        &mut self,
        new: &LbState,
        stats: &mut LbSyncStats,
    ) -> Result<(), DatapathError> {
        let stale: Vec<Frontend> = self
            .written
            .keys()
            .filter(|f| !new.frontends().contains_key(f))
            .copied()
            .collect();
        for frontend in stale {
            self.delete_frontend(&frontend, stats)?;
        }
        Ok(())
    }

    /// Writes frontends: reverse-NAT entries, Maglev tables and backend slots of all of
    /// them, then their slots 0 (the switch), then the slots and tables they stopped using.
    fn flush_frontends(
        &mut self,
        frontends: &mut Vec<(Frontend, &FrontendEntry)>,
        new: &LbState,
        stats: &mut LbSyncStats,
    ) -> Result<(), DatapathError> {
        if frontends.is_empty() {
            return Ok(());
        }
        let mut rev_nat = Vec::with_capacity(frontends.len());
        let mut tables: Vec<(u16, &[u32])> = Vec::new();
        let mut slots = Vec::new();
        let mut slot0 = Vec::with_capacity(frontends.len());
        let mut previous = Vec::with_capacity(frontends.len());
        for (frontend, entry) in frontends.iter() {
            let what = || {
                format!(
                    "service {} frontend {}",
                    entry.service,
                    frontend_name(frontend)
                )
            };
            let prev = self.written.get(frontend).copied();
            let rev_nat_index = match prev {
                Some(w) => w.rev_nat_index,
                None => self.allocate_rev_nat()?,
            };
            let count = u16::try_from(entry.backends.len()).map_err(|_| DatapathError::Sync {
                what: what(),
                reason: format!("{} backends, at most 65535 fit", entry.backends.len()),
                source: None,
            })?;
            rev_nat.push((
                abi::RevNatKey {
                    rev_nat_index,
                    pad: 0,
                },
                abi::RevNatValue::new(frontend.addr, frontend.port),
            ));
            let table = entry.table.as_ref().and_then(|t| new.tables().get(t));
            if let Some(table) = table {
                tables.push((rev_nat_index, table));
            }
            for (i, id) in entry.backends.iter().enumerate() {
                let value = abi::ServiceValue {
                    backend_id: id.get(),
                    ..bytemuck::Zeroable::zeroed()
                };
                slots.push((service_key(frontend, i as u16 + 1), value));
            }
            slot0.push((
                service_key(frontend, 0),
                service_value(entry, rev_nat_index),
            ));
            // Recorded before the switch: from here on the maps may hold this frontend.
            self.written.insert(
                *frontend,
                Written {
                    rev_nat_index,
                    slots: count.max(prev.map_or(0, |p| p.slots)),
                    has_table: table.is_some() || prev.is_some_and(|p| p.has_table),
                },
            );
            previous.push((*frontend, count, table.is_some()));
        }
        // The reverse-NAT entries and tables, and the backend slots, go to different maps: in
        // parallel when there are many.
        let (rev, slot) = if rev_nat.len() + slots.len() >= PARALLEL_WRITES {
            let (rev_nat_map, maglev, services) =
                (&mut self.rev_nat, &mut self.maglev, &mut self.services);
            std::thread::scope(|scope| {
                let other = scope.spawn(|| services.insert_batch(&slots));
                let rev = write_rev_nat(rev_nat_map, maglev, &rev_nat, &tables);
                (rev, other.join().expect("a map write does not panic"))
            })
        } else {
            (
                write_rev_nat(&mut self.rev_nat, &mut self.maglev, &rev_nat, &tables),
                self.services.insert_batch(&slots),
            )
        };
        rev?;
        slot.map_err(|e| batch_error("service backend slots", e))?;
        self.services
            .insert_batch(&slot0)
            .map_err(|e| batch_error("services", e))?;
        stats.writes += rev_nat.len() + tables.len() + slots.len() + slot0.len();
        frontends.clear();
        for (frontend, count, has_table) in previous {
            let what = || format!("frontend {}", frontend_name(&frontend));
            let w = self.written.get_mut(&frontend).expect("recorded above");
            let (index, extra_slots) = (w.rev_nat_index, count + 1..=w.slots);
            let drop_table = w.has_table && !has_table;
            for slot in extra_slots {
                if ignore_missing(self.services.remove(&service_key(&frontend, slot)))
                    .map_err(|e| sync_error(what(), e))?
                {
                    stats.removals += 1;
                }
            }
            if drop_table
                && ignore_missing(self.maglev.remove(index)).map_err(|e| sync_error(what(), e))?
            {
                stats.removals += 1;
            }
            let w = self.written.get_mut(&frontend).expect("recorded above");
            w.slots = count;
            w.has_table = has_table;
        }
        Ok(())
    }

    fn delete_frontend(
        &mut self,
        frontend: &Frontend,
        stats: &mut LbSyncStats,
    ) -> Result<(), DatapathError> {
        let Some(w) = self.written.get(frontend).copied() else {
            return Ok(());
        };
        let what = || format!("frontend {}", frontend_name(frontend));
        // Slot 0 first: from then on the programs no longer see the service.
        for slot in 0..=w.slots {
            if ignore_missing(self.services.remove(&service_key(frontend, slot)))
                .map_err(|e| sync_error(what(), e))?
            {
                stats.removals += 1;
            }
        }
        self.written.remove(frontend);
        self.used_rev_nat.remove(&w.rev_nat_index);
        if w.has_table
            && ignore_missing(self.maglev.remove(w.rev_nat_index))
                .map_err(|e| sync_error(what(), e))?
        {
            stats.removals += 1;
        }
        let key = abi::RevNatKey {
            rev_nat_index: w.rev_nat_index,
            pad: 0,
        };
        if ignore_missing(self.rev_nat.remove(&key)).map_err(|e| sync_error(what(), e))? {
            stats.removals += 1;
        }
        Ok(())
    }
}

/// Writes at least this many entries split over two threads.
const PARALLEL_WRITES: usize = 8192;

fn write_rev_nat<S: MapStore>(
    rev_nat: &mut RevNatMap<S>,
    maglev: &mut MaglevMap,
    entries: &[(abi::RevNatKey, abi::RevNatValue)],
    tables: &[(u16, &[u32])],
) -> Result<(), DatapathError> {
    rev_nat
        .insert_batch(entries)
        .map_err(|e| batch_error("reverse-NAT entries", e))?;
    if !tables.is_empty() {
        maglev
            .set_tables(tables)
            .map_err(|e| batch_error("maglev tables", e))?;
    }
    Ok(())
}

/// The frontends of `new` that use `table`: the service's lookup frontends in its scope.
fn table_users(new: &LbState, table: &TableKey) -> Vec<Frontend> {
    let Some(service) = new.services().get(&table.service) else {
        return Vec::new();
    };
    service
        .lookup_frontends()
        .into_iter()
        .filter(|f| f.scope == table.scope)
        .filter(|f| new.frontends().get(f).and_then(|e| e.table.as_ref()) == Some(table))
        .collect()
}

fn frontend_name(f: &Frontend) -> String {
    match f.addr {
        IpAddr::V4(a) => format!("{a}:{}/{}", f.port, f.protocol),
        IpAddr::V6(a) => format!("[{a}]:{}/{}", f.port, f.protocol),
    }
}

/// The frontend a slot-0 service key stands for.
fn frontend_of(key: &abi::ServiceKey) -> Option<Frontend> {
    let addr = match key.family {
        CIL_FAMILY_IPV4 => IpAddr::from([key.addr[0], key.addr[1], key.addr[2], key.addr[3]]),
        CIL_FAMILY_IPV6 => IpAddr::from(key.addr),
        _ => return None,
    };
    let protocol = cilium_core::Protocol::try_from(key.protocol).ok()?;
    let scope = if key.scope == CIL_LB_SCOPE_INT {
        Scope::Internal
    } else {
        Scope::External
    };
    Some(Frontend::new(addr, key.dport.get(), protocol).with_scope(scope))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cilium_core::Protocol;
    use cilium_lb::model::{Backend, BackendState};

    const M: u32 = 251;

    fn state() -> LbState {
        LbState::new(MaglevConfig::new(M, None).unwrap())
    }

    fn service(name: &str, vip: u8, backends: &[u8], maglev: bool) -> Service {
        let mut s = Service::new("default", name, ServiceType::ClusterIp);
        if maglev {
            s.algorithm = Algorithm::Maglev;
        }
        s.frontends.push(Frontend::new(
            IpAddr::from([10, 96, 0, vip]),
            80,
            Protocol::Tcp,
        ));
        s.backends = backends
            .iter()
            .map(|&i| Backend::new(IpAddr::from([10, 0, 0, i]), 8080, Protocol::Tcp))
            .collect();
        s
    }

    /// The maps hold exactly what the recorded state says, entry for entry.
    fn assert_maps_hold_state<S: MapStore + Send>(sync: &LbSync<S>) {
        let st = sync.state();
        let m = &sync.maps;
        let mut service_entries = 0;
        for (f, entry) in st.frontends() {
            let index = sync.rev_nat_index(f).expect("frontend written");
            let slot0 = m.services.get(&service_key(f, 0)).unwrap().unwrap();
            assert_eq!(slot0, service_value(entry, index), "{f}");
            for (i, id) in entry.backends.iter().enumerate() {
                let slot = m.services.get(&service_key(f, i as u16 + 1)).unwrap();
                assert_eq!(slot.unwrap().backend_id, id.get(), "{f} slot {}", i + 1);
            }
            service_entries += 1 + entry.backends.len();
            let rn = m
                .rev_nat
                .get(&abi::RevNatKey {
                    rev_nat_index: index,
                    pad: 0,
                })
                .unwrap();
            assert_eq!(rn, Some(abi::RevNatValue::new(f.addr, f.port)));
            let table = entry.table.as_ref().map(|t| st.tables()[t].clone());
            assert_eq!(m.maglev.get_table(index).unwrap(), table, "{f}");
        }
        assert_eq!(m.services.keys().unwrap().len(), service_entries);
        assert_eq!(m.rev_nat.keys().unwrap().len(), st.frontends().len());
        let with_table = st.frontends().values().filter(|e| e.table.is_some());
        assert_eq!(m.maglev.services().unwrap().len(), with_table.count());
        let mut ids: Vec<u32> = m
            .backends
            .keys()
            .unwrap()
            .iter()
            .map(|k| k.backend_id)
            .collect();
        ids.sort_unstable();
        let want: Vec<u32> = st.backends().keys().map(|id| id.get()).collect();
        assert_eq!(ids, want);
        for (id, b) in st.backends() {
            let v = m
                .backends
                .get(&abi::BackendKey {
                    backend_id: id.get(),
                })
                .unwrap()
                .unwrap();
            assert_eq!(v.state, b.state.as_u8());
        }
    }

    #[test]
    fn in_place_changes_and_whole_states_leave_the_same_maps() {
        let mut x: u64 = 0x5151_7e57_a11c_e5ed;
        let mut rand = move |n: u64| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            x.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
        };
        let mut sync = LbSync::in_memory(M);
        for round in 0..300u32 {
            let which = rand(6) as u8;
            let name = format!("svc{which}");
            if rand(5) == 0 {
                sync.remove_service(&ServiceId::new("default", &name))
                    .unwrap();
            } else {
                let backends: Vec<u8> = (1..=10u8).filter(|_| rand(2) == 0).collect();
                let mut svc = service(&name, which + 1, &backends, rand(2) == 0);
                for b in &mut svc.backends {
                    if let IpAddr::V4(a) = b.addr
                        && (u32::from(a.octets()[3]) + round / 50) % 4 == 0
                    {
                        b.state = BackendState::Terminating;
                    }
                }
                match sync.upsert_service(svc) {
                    Ok(_) | Err(DatapathError::Service(_)) => {}
                    Err(e) => panic!("round {round}: {e}"),
                }
            }
            assert_maps_hold_state(&sync);
            if round % 37 == 0 {
                // A whole state applied over the in-place history changes nothing.
                let again = sync.state().clone();
                let stats = sync.apply(again).unwrap();
                assert_eq!(stats.operations, 0);
                assert_maps_hold_state(&sync);
            }
        }
        // And a whole-state sync to something else.
        let next = state()
            .update([
                service("svc1", 2, &[1, 2, 3], true),
                service("other", 9, &[4], false),
            ])
            .unwrap();
        sync.apply(next).unwrap();
        assert_maps_hold_state(&sync);
    }

    #[test]
    fn failed_in_place_change_is_put_back() {
        // Room for 2 frontends' entries (slot 0 + 2 slots each) and no more.
        let mut sync = LbSync::from_maps(
            ServiceMap::in_memory("svc", 6),
            BackendMap::in_memory("be", 0),
            RevNatMap::in_memory("rn", 0),
            MaglevMap::in_memory("mg", M, 0),
        )
        .unwrap();
        sync.upsert_service(service("a", 1, &[1, 2], true)).unwrap();
        sync.upsert_service(service("b", 2, &[3, 4], false))
            .unwrap();
        let before = sync.dump().unwrap();
        let state = sync.state().clone();
        let err = sync
            .upsert_service(service("b", 2, &[3, 4, 5], false))
            .unwrap_err();
        assert!(err.to_string().contains("map full"), "{err}");
        assert_eq!(sync.state().services(), state.services());
        assert_eq!(sync.state().frontends(), state.frontends());
        assert_eq!(sync.state().backends(), state.backends());
        assert_eq!(sync.dump().unwrap(), before);
        assert_maps_hold_state(&sync);
        let err = sync
            .upsert_service(service("c", 3, &[6], false))
            .unwrap_err();
        assert!(err.to_string().contains("map full"), "{err}");
        assert_eq!(sync.dump().unwrap(), before);
        // A refused service writes nothing.
        let err = sync
            .upsert_service(service("c", 1, &[6], false))
            .unwrap_err();
        assert!(matches!(err, DatapathError::Service(_)), "{err}");
        assert_eq!(sync.dump().unwrap(), before);
    }

    #[test]
    fn leftovers_of_a_previous_instance_are_swept() {
        let mut first = LbSync::in_memory(M);
        first
            .apply(
                state()
                    .update([service("a", 1, &[1, 2], true), service("b", 2, &[3], false)])
                    .unwrap(),
            )
            .unwrap();
        let maps = first.maps;
        let mut second =
            LbSync::from_maps(maps.services, maps.backends, maps.rev_nat, maps.maglev).unwrap();
        // A kept frontend keeps its reverse-NAT index.
        let a = Frontend::new(IpAddr::from([10, 96, 0, 1]), 80, Protocol::Tcp);
        let index = second.rev_nat_index(&a).unwrap();
        second
            .upsert_service(service("a", 1, &[2, 7], true))
            .unwrap();
        assert_eq!(second.rev_nat_index(&a), Some(index));
        // Service b and backends 1 and 3 are still there until the first whole sync.
        assert_eq!(second.service_map().keys().unwrap().len(), 3 + 2);
        let whole = second.state().clone();
        second.apply(whole).unwrap();
        assert_eq!(second.rev_nat_index(&a), Some(index));
        assert_maps_hold_state(&second);
    }

    #[test]
    fn table_size_must_match_the_map() {
        let mut sync = LbSync::in_memory(M);
        let other = LbState::new(MaglevConfig::new(1021, None).unwrap());
        let err = sync.apply(other).unwrap_err();
        assert_eq!(
            err.to_string(),
            "config maglev table size: the state's tables have 1021 entries, the map's 251"
        );
    }
}
