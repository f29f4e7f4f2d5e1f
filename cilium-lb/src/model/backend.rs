//! Backends: where a service's connections go, and the states a backend goes through.

use std::fmt;
use std::net::IpAddr;

use cilium_core::Protocol;

use crate::maglev::MaglevBackend;

/// The lifecycle state of a backend, with the datapath's numbers (`BE_STATE_*`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BackendState {
    /// Serving: new connections may be sent to it (`BE_STATE_ACTIVE`, 0).
    #[doc(alias = "BE_STATE_ACTIVE")]
    #[default]
    Active,
    /// Shutting down: established connections keep working, new ones go elsewhere unless no
    /// active backend is left (`BE_STATE_TERMINATING`, 1).
    #[doc(alias = "BE_STATE_TERMINATING")]
    Terminating,
    /// Failed a health check: no new connections (`BE_STATE_QUARANTINED`, 2).
    #[doc(alias = "BE_STATE_QUARANTINED")]
    Quarantined,
    /// Taken out by an operator: no new connections (`BE_STATE_MAINTENANCE`, 3).
    #[doc(alias = "BE_STATE_MAINTENANCE")]
    Maintenance,
}

impl BackendState {
    /// The datapath's number for the state (`lb4_backend.flags`).
    pub const fn as_u8(self) -> u8 {
        match self {
            BackendState::Active => 0,
            BackendState::Terminating => 1,
            BackendState::Quarantined => 2,
            BackendState::Maintenance => 3,
        }
    }
}

impl fmt::Display for BackendState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BackendState::Active => "active",
            BackendState::Terminating => "terminating",
            BackendState::Quarantined => "quarantined",
            BackendState::Maintenance => "maintenance",
        })
    }
}

/// One backend of a service.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Backend {
    /// The backend's address (a pod IP, or a node IP for host-network backends).
    pub addr: IpAddr,
    /// The backend's port; never 0.
    pub port: u16,
    /// The protocol; the same as the service's frontends.
    pub protocol: Protocol,
    /// Relative weight for Maglev; 0 is allowed only for a backend that is not active.
    pub weight: u16,
    /// Lifecycle state.
    pub state: BackendState,
    /// Whether the backend runs on this node (what traffic policy `Local` keeps).
    pub node_local: bool,
    /// The topology zone of the backend, when known. Carried for topology-aware routing; the
    /// selection here does not use it.
    pub zone: Option<String>,
}

impl Backend {
    /// An active backend of weight 1, not on this node, without a zone.
    pub fn new(addr: IpAddr, port: u16, protocol: Protocol) -> Self {
        Backend {
            addr,
            port,
            protocol,
            weight: 1,
            state: BackendState::Active,
            node_local: false,
            zone: None,
        }
    }

    /// The same backend in another state.
    #[must_use]
    pub fn with_state(mut self, state: BackendState) -> Self {
        self.state = state;
        self
    }

    /// The same backend with another weight.
    #[must_use]
    pub fn with_weight(mut self, weight: u16) -> Self {
        self.weight = weight;
        self
    }

    /// The same backend, marked as running on this node (or not).
    #[must_use]
    pub fn with_node_local(mut self, node_local: bool) -> Self {
        self.node_local = node_local;
        self
    }

    /// The backend as the Maglev builder sees it, with the given table id.
    pub fn to_maglev(&self, id: u32) -> MaglevBackend {
        MaglevBackend {
            id,
            addr: self.addr,
            port: self.port,
            protocol: self.protocol,
            weight: self.weight,
            internal_scope: false,
        }
    }
}

/// `ADDR:PORT/PROTO`, IPv6 in brackets.
impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.addr {
            IpAddr::V4(a) => write!(f, "{a}:{}/{}", self.port, self.protocol),
            IpAddr::V6(a) => write!(f, "[{a}]:{}/{}", self.port, self.protocol),
        }
    }
}
