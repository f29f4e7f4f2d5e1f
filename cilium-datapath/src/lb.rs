//! Service map sync: a `cilium-lb` state applied to the service, backend, reverse-NAT and
//! Maglev maps as the ordered diff [`cilium_lb::diff`] computes.
//!
//! Each frontend gets a reverse-NAT index (`rev_nat_index`, 1..=65535) for as long as it
//! exists: the reverse-NAT entry (what replies must appear to come from) and the frontend's
//! Maglev table are keyed by it. A frontend is written slots first and slot 0 last (slot 0 is
//! what the programs look up, so it is the switch), and its Maglev table before slot 0; slots
//! it no longer needs are removed after. Backends are written before any frontend that names
//! them and removed after the last frontend that named them, so the programs never meet a
//! dangling id mid-sync.
//!
//! A failed write stops the sync and returns the error; the recorded state stays the previous
//! one, so the next [`LbSync::apply`] rewrites whatever the failed one left half-done.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use cilium_lb::diff::{FrontendEntry, LbOp, LbState, TableKey};
use cilium_lb::model::{Algorithm, Frontend, ServiceType, SessionAffinity, TrafficPolicy};
use cilium_lb::{Scope, diff};
use cilium_maps::abi::{self, consts::*};
use cilium_maps::{BackendMap, MaglevMap, MapError, RevNatMap, ServiceMap};

use crate::error::DatapathError;
use crate::loader::Datapath;

/// What one [`LbSync::apply`] wrote.
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
    slots: u16,
    has_table: bool,
}

/// Applies load-balancing states to the datapath's maps.
#[derive(Debug)]
pub struct LbSync {
    services: ServiceMap,
    backends: BackendMap,
    rev_nat: RevNatMap,
    maglev: MaglevMap,
    state: LbState,
    written: BTreeMap<Frontend, Written>,
    used_rev_nat: BTreeSet<u16>,
    next_rev_nat: u16,
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

impl LbSync {
    /// A sync over `dp`'s maps, starting from what they hold: frontends a previous instance
    /// wrote keep their reverse-NAT index, and the first [`apply`](Self::apply) removes those
    /// the new state no longer has.
    pub fn new(dp: &Datapath) -> Result<Self, DatapathError> {
        let services = dp.services()?;
        let mut written = BTreeMap::new();
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
        Ok(Self {
            services,
            backends: dp.backends()?,
            rev_nat: dp.rev_nat()?,
            maglev: dp.maglev()?,
            state: LbState::new(cilium_lb::MaglevConfig::default()),
            used_rev_nat: written.values().map(|w| w.rev_nat_index).collect(),
            written,
            next_rev_nat,
        })
    }

    /// The state last applied completely.
    pub fn state(&self) -> &LbState {
        &self.state
    }

    /// The reverse-NAT index of a frontend in the maps.
    pub fn rev_nat_index(&self, frontend: &Frontend) -> Option<u16> {
        self.written.get(frontend).map(|w| w.rev_nat_index)
    }

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

    /// Makes the maps hold `new`: computes the diff from the last applied state and writes it
    /// in order. Frontends found in the maps at [`new`](Self::new) that `new` does not have
    /// are removed.
    pub fn apply(&mut self, new: LbState) -> Result<LbSyncStats, DatapathError> {
        let ops = diff(&self.state, &new);
        let mut stats = LbSyncStats {
            operations: ops.len(),
            ..LbSyncStats::default()
        };
        // Which frontends of the new state use each table, gathered once (not per table).
        let mut table_users: BTreeMap<&TableKey, Vec<&Frontend>> = BTreeMap::new();
        if ops
            .iter()
            .any(|op| matches!(op, LbOp::UpsertMaglevTable { .. }))
        {
            for (frontend, entry) in new.frontends() {
                if let Some(table) = &entry.table {
                    table_users.entry(table).or_default().push(frontend);
                }
            }
        }
        for op in &ops {
            match op {
                LbOp::UpsertBackend { id, backend } => {
                    let key = abi::BackendKey {
                        backend_id: id.get(),
                    };
                    let mut value = abi::Backend::new(
                        backend.key.addr,
                        backend.key.port,
                        backend.key.protocol.as_u8(),
                    );
                    value.state = backend.state.as_u8();
                    self.backends
                        .insert(&key, &value)
                        .map_err(|e| sync_error(format!("backend {id} {}", backend.key), e))?;
                    stats.writes += 1;
                }
                LbOp::UpsertMaglevTable { table, entries } => {
                    // Frontends already written switch tables here; new ones get theirs
                    // with their own upsert, before their slot 0.
                    for frontend in table_users.get(table).into_iter().flatten() {
                        if let Some(w) = self.written.get(*frontend) {
                            self.maglev
                                .set_table(w.rev_nat_index, entries)
                                .map_err(|e| sync_error(table_name(table), e))?;
                            stats.writes += 1;
                        }
                    }
                }
                LbOp::UpsertFrontend { frontend, entry } => {
                    self.write_frontend(frontend, entry, &new, &mut stats)?;
                }
                LbOp::DeleteFrontend { frontend } => {
                    self.delete_frontend(frontend, &mut stats)?;
                }
                LbOp::DeleteMaglevTable { .. } => {
                    // Tables are per frontend: removed with the frontend, or when it stops
                    // using one (write_frontend).
                }
                LbOp::DeleteBackend { id } => {
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
        // Frontends a previous instance left that the new state does not have.
        let stale: Vec<Frontend> = self
            .written
            .keys()
            .filter(|f| !new.frontends().contains_key(f))
            .copied()
            .collect();
        for frontend in stale {
            self.delete_frontend(&frontend, &mut stats)?;
        }
        self.state = new;
        Ok(stats)
    }

    fn write_frontend(
        &mut self,
        frontend: &Frontend,
        entry: &FrontendEntry,
        new: &LbState,
        stats: &mut LbSyncStats,
    ) -> Result<(), DatapathError> {
        let what = || {
            format!(
                "service {} frontend {}",
                entry.service,
                frontend_name(frontend)
            )
        };
        let previous = self.written.get(frontend).copied();
        let rev_nat_index = match previous {
            Some(w) => w.rev_nat_index,
            None => self.allocate_rev_nat()?,
        };
        let count = u16::try_from(entry.backends.len()).map_err(|_| DatapathError::Sync {
            what: what(),
            reason: format!("{} backends, at most 65535 fit", entry.backends.len()),
            source: None,
        })?;
        self.rev_nat
            .insert(
                &abi::RevNatKey {
                    rev_nat_index,
                    pad: 0,
                },
                &abi::RevNatValue::new(frontend.addr, frontend.port),
            )
            .map_err(|e| sync_error(what(), e))?;
        stats.writes += 1;
        let table = entry.table.as_ref().and_then(|t| new.tables().get(t));
        if let Some(table) = table {
            self.maglev
                .set_table(rev_nat_index, table)
                .map_err(|e| sync_error(what(), e))?;
            stats.writes += 1;
        }
        for (i, id) in entry.backends.iter().enumerate() {
            let value = abi::ServiceValue {
                backend_id: id.get(),
                ..bytemuck::Zeroable::zeroed()
            };
            self.services
                .insert(&service_key(frontend, i as u16 + 1), &value)
                .map_err(|e| sync_error(what(), e))?;
            stats.writes += 1;
        }
        self.services
            .insert(
                &service_key(frontend, 0),
                &service_value(entry, rev_nat_index),
            )
            .map_err(|e| sync_error(what(), e))?;
        stats.writes += 1;
        // Recorded now: from here on the maps hold this frontend.
        self.written.insert(
            *frontend,
            Written {
                rev_nat_index,
                slots: count,
                has_table: table.is_some(),
            },
        );
        if let Some(prev) = previous {
            for slot in count + 1..=prev.slots {
                if ignore_missing(self.services.remove(&service_key(frontend, slot)))
                    .map_err(|e| sync_error(what(), e))?
                {
                    stats.removals += 1;
                }
            }
            if prev.has_table
                && table.is_none()
                && ignore_missing(self.maglev.remove(rev_nat_index))
                    .map_err(|e| sync_error(what(), e))?
            {
                stats.removals += 1;
            }
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

fn frontend_name(f: &Frontend) -> String {
    match f.addr {
        IpAddr::V4(a) => format!("{a}:{}/{}", f.port, f.protocol),
        IpAddr::V6(a) => format!("[{a}]:{}/{}", f.port, f.protocol),
    }
}

fn table_name(t: &TableKey) -> String {
    format!("maglev table of {} ({})", t.service, t.scope)
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
