//! Frontends: the address, port and protocol clients connect to.

use std::fmt;
use std::net::IpAddr;

use cilium_core::Protocol;

/// Which lookup a frontend entry answers (`LB_LOOKUP_SCOPE_EXT` / `LB_LOOKUP_SCOPE_INT`).
///
/// Traffic from outside the cluster is looked up with the external scope. When a service's
/// external and internal traffic policies differ, it also gets internal-scope entries, which
/// traffic from inside the cluster finds first (see [`Service::has_two_scopes`]).
///
/// [`Service::has_two_scopes`]: crate::model::Service::has_two_scopes
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// The default lookup (`LB_LOOKUP_SCOPE_EXT`, 0).
    #[doc(alias = "LB_LOOKUP_SCOPE_EXT", alias = "ScopeExternal")]
    #[default]
    External,
    /// The lookup for in-cluster traffic of a two-scope service (`LB_LOOKUP_SCOPE_INT`, 1).
    #[doc(alias = "LB_LOOKUP_SCOPE_INT", alias = "ScopeInternal")]
    Internal,
}

impl Scope {
    /// The datapath's number for the scope: 0 external, 1 internal.
    pub const fn as_u8(self) -> u8 {
        match self {
            Scope::External => 0,
            Scope::Internal => 1,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Scope::External => "external",
            Scope::Internal => "internal",
        })
    }
}

/// An address, port and protocol that clients connect to, with the lookup scope it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Frontend {
    /// The address: a ClusterIP, a node address (unspecified for "every node address" of a
    /// NodePort or HostPort), a load-balancer IP or an external IP.
    pub addr: IpAddr,
    /// The port; never 0.
    pub port: u16,
    /// TCP, UDP or SCTP.
    pub protocol: Protocol,
    /// The lookup scope.
    pub scope: Scope,
}

impl Frontend {
    /// A frontend of external scope.
    pub fn new(addr: IpAddr, port: u16, protocol: Protocol) -> Self {
        Frontend {
            addr,
            port,
            protocol,
            scope: Scope::External,
        }
    }

    /// The same frontend with another scope.
    #[must_use]
    pub fn with_scope(mut self, scope: Scope) -> Self {
        self.scope = scope;
        self
    }
}

/// `ADDR:PORT/PROTO`, IPv6 in brackets, `/i` after the protocol for the internal scope (the
/// spelling of Cilium's `L3n4Addr`).
impl fmt::Display for Frontend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.addr {
            IpAddr::V4(a) => write!(f, "{a}:{}/{}", self.port, self.protocol)?,
            IpAddr::V6(a) => write!(f, "[{a}]:{}/{}", self.port, self.protocol)?,
        }
        if self.scope == Scope::Internal {
            f.write_str("/i")?;
        }
        Ok(())
    }
}
