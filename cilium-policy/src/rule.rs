//! The engine's own rule model: what every policy kind (CiliumNetworkPolicy,
//! CiliumClusterwideNetworkPolicy, Kubernetes NetworkPolicy) compiles to.
//!
//! Selectors are compiled (namespace scoping applied), ports parsed, L7 rules validated, and
//! per-direction enforcement decided. Build rules with [`crate::compile()`].

use std::fmt;
use std::sync::Arc;

use cilium_core::l4::NamedPort;
use cilium_core::{LabelSet, PortRange, Protocol};

use crate::l7::L7Rules;
use crate::selector::{LabelSelector, Selector};

/// Where a rule came from, as trace output names it: `kind namespace/name`, plus the index in
/// `specs` when the object holds several rules.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleOrigin {
    /// `CiliumNetworkPolicy`, `CiliumClusterwideNetworkPolicy` or `NetworkPolicy` (or the
    /// caller's own word for rules built by hand).
    pub kind: String,
    /// Namespace (none for clusterwide policies).
    pub namespace: Option<String>,
    /// Object name.
    pub name: String,
    /// Index in `specs`, if the object used `specs`.
    pub spec_index: Option<usize>,
}

impl fmt::Display for RuleOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.kind)?;
        if let Some(ns) = &self.namespace {
            write!(f, "{ns}/")?;
        }
        f.write_str(&self.name)?;
        if let Some(i) = self.spec_index {
            write!(f, " specs[{i}]")?;
        }
        Ok(())
    }
}

/// Which endpoints a rule applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// Endpoints whose identity labels match.
    Endpoints(LabelSelector),
    /// The host endpoint of nodes whose labels match (host firewall).
    Nodes(LabelSelector),
}

/// Mutual authentication required by an allow rule (Cilium's `AuthType` numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AuthType {
    /// Authentication explicitly disabled (0).
    Disabled = 0,
    /// SPIFFE/SPIRE mutual authentication (1, mode `required`).
    Spire = 1,
    /// Always fails (2, mode `test-always-fail`).
    AlwaysFail = 2,
}

impl AuthType {
    /// Cilium's name of the type (`disabled`, `spire`, `test-always-fail`).
    pub fn name(self) -> &'static str {
        match self {
            AuthType::Disabled => "disabled",
            AuthType::Spire => "spire",
            AuthType::AlwaysFail => "test-always-fail",
        }
    }
}

/// Which ports of a protocol a port entry covers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PortMatch {
    /// A range of port numbers ([`PortRange::ALL`] for every port).
    Range(PortRange),
    /// A named container port, resolved per peer (egress) or per subject (ingress).
    Named(NamedPort),
    /// An ICMP or ICMPv6 type.
    IcmpType(u8),
}

impl fmt::Display for PortMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortMatch::Range(r) if *r == PortRange::ALL => f.write_str("*"),
            PortMatch::Range(r) => r.fmt(f),
            PortMatch::Named(n) => n.fmt(f),
            PortMatch::IcmpType(t) => write!(f, "type {t}"),
        }
    }
}

/// An explicit proxy listener (`toPorts[].listener`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Listener {
    /// `kind/name` of the Envoy config.
    pub envoy_config: String,
    /// Listener name.
    pub name: String,
    /// 1..=100, lower wins (0 = unset).
    pub priority: u8,
}

/// One protocol/port of a rule, with its L7 rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortEntry {
    /// The protocol (`Any` stands for TCP, UDP and SCTP when a port is given).
    pub protocol: Protocol,
    /// The ports.
    pub port: PortMatch,
    /// L7 rules: traffic is redirected to the proxy, which checks each request.
    pub l7: Option<L7Rules>,
    /// Explicit listener redirect.
    pub listener: Option<Listener>,
    /// Allowed TLS server names (checked by the proxy; recorded here).
    pub server_names: Vec<String>,
}

/// One entry of `ingress`, `ingressDeny`, `egress` or `egressDeny`: peers AND ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerRule {
    /// The field path of the entry, e.g. `specs[1].ingress[0]`, for trace output.
    pub path: String,
    /// Peer selectors (OR). Empty: the entry selects no peer.
    pub peers: Vec<Arc<Selector>>,
    /// Ports (OR); `None`: every protocol and port (L3 only).
    pub ports: Option<Vec<PortEntry>>,
    /// Authentication required (allow entries only).
    pub auth: Option<AuthType>,
}

/// A rule's content for one direction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirectionRules {
    /// Allow entries.
    pub allow: Vec<PeerRule>,
    /// Deny entries.
    pub deny: Vec<PeerRule>,
    /// Whether the rule puts a selected endpoint into default deny for this direction.
    pub enforce: bool,
}

impl DirectionRules {
    /// Whether the rule says anything for this direction.
    pub fn is_empty(&self) -> bool {
        self.allow.is_empty() && self.deny.is_empty() && !self.enforce
    }
}

/// A compiled policy rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Where it came from.
    pub origin: Arc<RuleOrigin>,
    /// The rule's labels (`labels` field plus Cilium's derived policy labels).
    pub labels: LabelSet,
    /// The endpoints it applies to.
    pub subject: Subject,
    /// Ingress.
    pub ingress: DirectionRules,
    /// Egress.
    pub egress: DirectionRules,
}

impl Rule {
    /// The rules for `direction`.
    pub fn direction(&self, direction: Direction) -> &DirectionRules {
        match direction {
            Direction::Ingress => &self.ingress,
            Direction::Egress => &self.egress,
        }
    }

    /// Whether the rule applies to an endpoint with `labels` (host endpoints match node
    /// subjects, other endpoints endpoint subjects).
    pub fn selects(&self, labels: &LabelSet, is_host: bool) -> bool {
        match &self.subject {
            Subject::Endpoints(s) => s.matches(labels),
            Subject::Nodes(s) => is_host && s.matches(labels),
        }
    }

    /// Every selector the rule uses for peers.
    pub fn peer_selectors(&self) -> impl Iterator<Item = &Arc<Selector>> {
        [&self.ingress, &self.egress]
            .into_iter()
            .flat_map(|d| d.allow.iter().chain(d.deny.iter()))
            .flat_map(|p| p.peers.iter())
    }
}

/// Traffic direction, seen from the endpoint the policy belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    /// Traffic to the endpoint.
    Ingress,
    /// Traffic from the endpoint.
    Egress,
}

impl Direction {
    /// Both directions.
    pub const BOTH: [Direction; 2] = [Direction::Ingress, Direction::Egress];

    /// `ingress` or `egress`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
