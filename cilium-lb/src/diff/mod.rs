//! From one load-balancing state to the next as ordered datapath operations.
//!
//! [`LbState`] holds the services of a node and what the datapath must hold for them;
//! [`diff`] compares two states and returns the [`LbOp`]s that turn the maps of the first into
//! the maps of the second. It is a pure function: `cilium-datapath` applies the operations.
//!
//! # Ordering guarantee
//!
//! The operations come in six phases, always in this order (see [`LbOp::phase`]):
//!
//! 1. [`LbOp::UpsertBackend`]: new backends, and backends whose state changed;
//! 2. [`LbOp::UpsertMaglevTable`]: new and changed Maglev tables;
//! 3. [`LbOp::UpsertFrontend`]: new and changed frontend entries — the switch;
//! 4. [`LbOp::DeleteFrontend`]: frontends no service has any more;
//! 5. [`LbOp::DeleteMaglevTable`]: tables no longer used;
//! 6. [`LbOp::DeleteBackend`]: backends no service lists any more.
//!
//! Within a phase, operations are sorted by their key (backend id, table key, frontend).
//! When the new state was made from the old one with [`LbState::update`] (so backend ids carry
//! over and are not reused at once), applying the operations in order keeps the maps
//! consistent **after every single operation**: each backend id that a frontend slot or a
//! Maglev table holds is in the backend map, and each table a frontend names exists. Traffic
//! never meets a dangling id mid-sync.
//!
//! A backend that turns terminating (or quarantined, or is put in maintenance) stays in the
//! backend map with its new state, so established connections to it keep working; it only
//! leaves the frontend slots and the Maglev tables (unless, being terminating, it is the last
//! one left). It is deleted only when no service lists it any more.

mod state;

pub use state::{
    BackendEntry, BackendId, BackendKey, FrontendEntry, LbState, LbStateError, TableKey,
};

use crate::model::Frontend;

/// One datapath operation; see the [module documentation](self) for their order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LbOp {
    /// Write a backend-map entry.
    UpsertBackend {
        /// The backend id (the map key).
        id: BackendId,
        /// The entry.
        backend: BackendEntry,
    },
    /// Write a Maglev table.
    UpsertMaglevTable {
        /// Which table.
        table: TableKey,
        /// Its `M` entries, each a [`BackendId`] value.
        entries: Vec<u32>,
    },
    /// Write the service-map entries of a frontend (slot 0 and the backend slots).
    UpsertFrontend {
        /// The frontend (the service-map key).
        frontend: Frontend,
        /// What it leads to.
        entry: Box<FrontendEntry>,
    },
    /// Remove the service-map entries of a frontend.
    DeleteFrontend {
        /// The frontend.
        frontend: Frontend,
    },
    /// Remove a Maglev table.
    DeleteMaglevTable {
        /// Which table.
        table: TableKey,
    },
    /// Remove a backend-map entry.
    DeleteBackend {
        /// The backend id.
        id: BackendId,
    },
}

impl LbOp {
    /// The phase of the operation, 1 to 6, in the order [`diff`] emits them.
    pub const fn phase(&self) -> u8 {
        match self {
            LbOp::UpsertBackend { .. } => 1,
            LbOp::UpsertMaglevTable { .. } => 2,
            LbOp::UpsertFrontend { .. } => 3,
            LbOp::DeleteFrontend { .. } => 4,
            LbOp::DeleteMaglevTable { .. } => 5,
            LbOp::DeleteBackend { .. } => 6,
        }
    }
}

/// The operations that turn the datapath's maps for `old` into those for `new`, in the order
/// of the [module documentation](self). Equal states give no operation.
///
/// ```
/// use cilium_core::Protocol;
/// use cilium_lb::diff::{diff, LbOp, LbState};
/// use cilium_lb::model::{Algorithm, Backend, Frontend, Service, ServiceType};
///
/// let mut svc = Service::new("default", "web", ServiceType::ClusterIp);
/// svc.algorithm = Algorithm::Maglev;
/// svc.frontends.push(Frontend::new("10.96.0.10".parse().unwrap(), 80, Protocol::Tcp));
/// svc.backends.push(Backend::new("10.0.1.5".parse().unwrap(), 8080, Protocol::Tcp));
///
/// let old = LbState::default();
/// let new = old.update([svc]).unwrap();
/// let phases: Vec<u8> = diff(&old, &new).iter().map(LbOp::phase).collect();
/// assert_eq!(phases, [1, 2, 3]);
/// assert!(diff(&new, &new).is_empty());
/// ```
pub fn diff(old: &LbState, new: &LbState) -> Vec<LbOp> {
    let mut ops = Vec::new();
    for (&id, backend) in new.backends() {
        if old.backends().get(&id) != Some(backend) {
            ops.push(LbOp::UpsertBackend {
                id,
                backend: *backend,
            });
        }
    }
    for (table, entries) in new.tables() {
        if old.tables().get(table) != Some(entries) {
            ops.push(LbOp::UpsertMaglevTable {
                table: table.clone(),
                entries: entries.clone(),
            });
        }
    }
    for (frontend, entry) in new.frontends() {
        if old.frontends().get(frontend) != Some(entry) {
            ops.push(LbOp::UpsertFrontend {
                frontend: *frontend,
                entry: Box::new(entry.clone()),
            });
        }
    }
    for frontend in old.frontends().keys() {
        if !new.frontends().contains_key(frontend) {
            ops.push(LbOp::DeleteFrontend {
                frontend: *frontend,
            });
        }
    }
    for table in old.tables().keys() {
        if !new.tables().contains_key(table) {
            ops.push(LbOp::DeleteMaglevTable {
                table: table.clone(),
            });
        }
    }
    for &id in old.backends().keys() {
        if !new.backends().contains_key(&id) {
            ops.push(LbOp::DeleteBackend { id });
        }
    }
    ops
}

#[cfg(test)]
mod tests;
