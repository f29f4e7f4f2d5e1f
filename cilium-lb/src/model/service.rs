//! Services: a named set of frontends leading to one set of backends, with the policies that
//! decide which backends a connection may reach.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use cilium_core::{Cidr, Protocol};

use super::{Backend, BackendState, Frontend, Scope, ServiceError};

/// The longest client-IP affinity timeout, in seconds (one day, as Kubernetes allows).
pub const AFFINITY_TIMEOUT_MAX_SECS: u32 = 86_400;

/// The kind of frontend a service has (Cilium's `SVCType`); it decides the datapath flags.
#[doc(alias = "SVCType")]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServiceType {
    /// A virtual IP reachable inside the cluster.
    #[doc(alias = "ClusterIP")]
    #[default]
    ClusterIp,
    /// A port on every node address (`SVC_FLAG_NODEPORT`).
    NodePort,
    /// A load-balancer IP (`SVC_FLAG_LOADBALANCER`).
    LoadBalancer,
    /// An external IP given in the service (`SVC_FLAG_EXTERNAL_IP`).
    #[doc(alias = "ExternalIPs")]
    ExternalIps,
    /// A pod's host port (`SVC_FLAG_HOSTPORT`).
    HostPort,
    /// A local redirect policy: traffic to the frontend goes to pods on this node
    /// (`SVC_FLAG_LOCALREDIRECT`).
    LocalRedirect,
}

impl ServiceType {
    /// Cilium's spelling: `ClusterIP`, `NodePort`, `LoadBalancer`, `ExternalIPs`, `HostPort`,
    /// `LocalRedirect`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ServiceType::ClusterIp => "ClusterIP",
            ServiceType::NodePort => "NodePort",
            ServiceType::LoadBalancer => "LoadBalancer",
            ServiceType::ExternalIps => "ExternalIPs",
            ServiceType::HostPort => "HostPort",
            ServiceType::LocalRedirect => "LocalRedirect",
        }
    }

    /// Whether clients outside the cluster reach the frontends, so that the external traffic
    /// policy applies: NodePort, LoadBalancer, ExternalIPs and HostPort.
    pub const fn is_externally_reachable(self) -> bool {
        matches!(
            self,
            ServiceType::NodePort
                | ServiceType::LoadBalancer
                | ServiceType::ExternalIps
                | ServiceType::HostPort
        )
    }

    /// Whether a frontend address may be unspecified (`0.0.0.0` / `::`), meaning "every node
    /// address": NodePort and HostPort.
    pub const fn allows_unspecified_frontend(self) -> bool {
        matches!(self, ServiceType::NodePort | ServiceType::HostPort)
    }

    /// Whether every backend must run on this node: HostPort and LocalRedirect.
    pub const fn requires_node_local_backends(self) -> bool {
        matches!(self, ServiceType::HostPort | ServiceType::LocalRedirect)
    }
}

impl fmt::Display for ServiceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which backends traffic may reach (Kubernetes' `externalTrafficPolicy` and
/// `internalTrafficPolicy`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TrafficPolicy {
    /// Any backend in the cluster.
    #[default]
    Cluster,
    /// Only backends on this node (`SVC_FLAG_EXT_LOCAL_SCOPE` / `SVC_FLAG_INT_LOCAL_SCOPE`).
    Local,
}

impl fmt::Display for TrafficPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TrafficPolicy::Cluster => "Cluster",
            TrafficPolicy::Local => "Local",
        })
    }
}

/// Session affinity (Kubernetes' `sessionAffinity`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum SessionAffinity {
    /// Every connection is balanced on its own.
    #[default]
    None,
    /// Connections from one client IP go to the same backend while it stays selectable and
    /// the client was seen within the timeout (`SVC_FLAG_AFFINITY`).
    #[doc(alias = "ClientIP")]
    ClientIp {
        /// Seconds since the client's last connection after which the choice is forgotten;
        /// `1..=86400`.
        timeout_secs: u32,
    },
}

/// How a backend is chosen for a new connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    /// A random backend slot.
    #[default]
    Random,
    /// Maglev consistent hashing of the flow (see [`crate::maglev`]).
    Maglev,
}

impl Algorithm {
    /// The datapath's number: 1 random, 2 Maglev.
    pub const fn as_u8(self) -> u8 {
        match self {
            Algorithm::Random => 1,
            Algorithm::Maglev => 2,
        }
    }
}

/// IPv4 or IPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AddressFamily {
    /// IPv4.
    Ipv4,
    /// IPv6.
    Ipv6,
}

impl AddressFamily {
    /// The family of an address.
    pub const fn of(addr: &IpAddr) -> Self {
        match addr {
            IpAddr::V4(_) => AddressFamily::Ipv4,
            IpAddr::V6(_) => AddressFamily::Ipv6,
        }
    }
}

impl fmt::Display for AddressFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AddressFamily::Ipv4 => "IPv4",
            AddressFamily::Ipv6 => "IPv6",
        })
    }
}

/// The name of a service: namespace and name. Ordered by namespace, then name.
#[doc(alias = "ServiceName")]
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServiceId {
    /// The namespace.
    pub namespace: String,
    /// The name.
    pub name: String,
}

impl ServiceId {
    /// A service id from its namespace and name.
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        ServiceId {
            namespace: namespace.into(),
            name: name.into(),
        }
    }
}

/// `namespace/name`.
impl fmt::Display for ServiceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// A load-balanced service: frontends, the backends behind them and the policies between.
///
/// All frontends and backends share one protocol and one address family (a dual-stack or
/// multi-protocol Kubernetes Service becomes several `Service`s). [`Service::validate`] checks
/// this and the other rules; [`Service::selectable_backends`] says which backends new
/// connections may go to.
///
/// ```
/// use cilium_core::Protocol;
/// use cilium_lb::model::{Backend, BackendState, Frontend, Scope, Service, ServiceType};
///
/// let mut svc = Service::new("default", "web", ServiceType::ClusterIp);
/// svc.frontends.push(Frontend::new("10.96.0.10".parse().unwrap(), 80, Protocol::Tcp));
/// svc.backends.push(Backend::new("10.0.1.5".parse().unwrap(), 8080, Protocol::Tcp));
/// svc.backends.push(
///     Backend::new("10.0.2.7".parse().unwrap(), 8080, Protocol::Tcp)
///         .with_state(BackendState::Terminating),
/// );
/// svc.validate().unwrap();
/// let chosen: Vec<String> = svc
///     .selectable_backends(Scope::External)
///     .iter()
///     .map(|b| b.to_string())
///     .collect();
/// assert_eq!(chosen, ["10.0.1.5:8080/TCP"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// The service's name.
    pub name: String,
    /// The service's namespace.
    pub namespace: String,
    /// The kind of frontend.
    pub service_type: ServiceType,
    /// Where clients connect.
    pub frontends: Vec<Frontend>,
    /// Where connections go.
    pub backends: Vec<Backend>,
    /// Policy for traffic from outside the cluster (externally reachable services only).
    pub ext_traffic_policy: TrafficPolicy,
    /// Policy for traffic from inside the cluster.
    pub int_traffic_policy: TrafficPolicy,
    /// Session affinity.
    pub affinity: SessionAffinity,
    /// How backends are chosen.
    pub algorithm: Algorithm,
    /// Client ranges allowed to connect (LoadBalancer only); empty allows every client.
    pub source_ranges: Vec<Cidr>,
}

impl Service {
    /// A service without frontends or backends, with cluster-wide traffic policies, no
    /// affinity, the random algorithm and no source ranges.
    pub fn new(
        namespace: impl Into<String>,
        name: impl Into<String>,
        service_type: ServiceType,
    ) -> Self {
        Service {
            name: name.into(),
            namespace: namespace.into(),
            service_type,
            frontends: Vec::new(),
            backends: Vec::new(),
            ext_traffic_policy: TrafficPolicy::Cluster,
            int_traffic_policy: TrafficPolicy::Cluster,
            affinity: SessionAffinity::None,
            algorithm: Algorithm::Random,
            source_ranges: Vec::new(),
        }
    }

    /// The service's id (namespace and name).
    pub fn id(&self) -> ServiceId {
        ServiceId::new(self.namespace.clone(), self.name.clone())
    }

    /// The address family of the service (that of `frontends[0]`), if it has a frontend.
    pub fn family(&self) -> Option<AddressFamily> {
        self.frontends.first().map(|f| AddressFamily::of(&f.addr))
    }

    /// The protocol of the service (that of `frontends[0]`), if it has a frontend.
    pub fn protocol(&self) -> Option<Protocol> {
        self.frontends.first().map(|f| f.protocol)
    }

    /// Whether the service has separate internal-scope lookups: it is externally reachable
    /// and its external and internal traffic policies differ (`SVC_FLAG_TWO_SCOPES`).
    pub fn has_two_scopes(&self) -> bool {
        self.service_type.is_externally_reachable()
            && self.ext_traffic_policy != self.int_traffic_policy
    }

    /// The traffic policy that applies to lookups in `scope`.
    ///
    /// A service that is not externally reachable (ClusterIP, LocalRedirect) only carries
    /// in-cluster traffic: its internal policy applies. An externally reachable one uses its
    /// external policy for the external scope and its internal policy for the internal scope;
    /// with one scope only (both policies equal) the two are the same.
    pub fn traffic_policy(&self, scope: Scope) -> TrafficPolicy {
        if !self.service_type.is_externally_reachable() {
            return self.int_traffic_policy;
        }
        match scope {
            Scope::External => self.ext_traffic_policy,
            Scope::Internal => self.int_traffic_policy,
        }
    }

    /// The frontends the datapath needs entries for: the listed ones and, when the service
    /// has two scopes, an internal-scope twin of every external-scope frontend (unless it is
    /// listed already). Sorted, without duplicates.
    pub fn lookup_frontends(&self) -> Vec<Frontend> {
        let mut out: Vec<Frontend> = self.frontends.clone();
        if self.has_two_scopes() {
            out.extend(
                self.frontends
                    .iter()
                    .filter(|f| f.scope == Scope::External)
                    .map(|f| f.with_scope(Scope::Internal)),
            );
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The backends a new connection looked up in `scope` may go to, in the order listed.
    ///
    /// Kubernetes semantics: with traffic policy `Local` (see [`Service::traffic_policy`])
    /// only node-local backends count; among those, the active ones are selectable; only when
    /// none is active do the terminating ones become selectable (so a service whose pods are
    /// all shutting down keeps answering). Quarantined and maintenance backends never are,
    /// and neither is a backend of weight 0.
    pub fn selectable_backends(&self, scope: Scope) -> Vec<&Backend> {
        let local_only = self.traffic_policy(scope) == TrafficPolicy::Local;
        let candidates = || {
            self.backends
                .iter()
                .filter(move |b| !local_only || b.node_local)
                .filter(|b| b.weight > 0)
        };
        let active: Vec<&Backend> = candidates()
            .filter(|b| b.state == BackendState::Active)
            .collect();
        if !active.is_empty() {
            return active;
        }
        candidates()
            .filter(|b| b.state == BackendState::Terminating)
            .collect()
    }

    /// Checks the service; the error names the first offending field.
    ///
    /// Rules: `name` and `namespace` are not empty; there is at least one frontend; ports are
    /// not 0; protocols are TCP, UDP or SCTP and all equal to `frontends[0].protocol`;
    /// addresses all have the family of `frontends[0].addr`; no address is multicast or
    /// broadcast, and only NodePort and HostPort frontends may be unspecified (no backend may);
    /// no frontend or backend is listed twice; an internal-scope frontend needs
    /// [`Service::has_two_scopes`]; an active backend has a weight above 0; HostPort and
    /// LocalRedirect backends are node-local; a client-IP affinity timeout is in
    /// `1..=86400`; `ext_traffic_policy` `Local` needs an externally reachable service;
    /// source ranges are for LoadBalancer services and have the service's family.
    pub fn validate(&self) -> Result<(), ServiceError> {
        if self.name.is_empty() {
            return Err(ServiceError::Empty { field: "name" });
        }
        if self.namespace.is_empty() {
            return Err(ServiceError::Empty { field: "namespace" });
        }
        let Some(first) = self.frontends.first() else {
            return Err(ServiceError::NoFrontends);
        };
        let protocol = first.protocol;
        let family = AddressFamily::of(&first.addr);

        let mut seen_frontends: BTreeMap<&Frontend, usize> = BTreeMap::new();
        for (index, f) in self.frontends.iter().enumerate() {
            let at = |field: &str| format!("frontends[{index}].{field}");
            check_endpoint(
                &at,
                f.addr,
                f.port,
                f.protocol,
                protocol,
                family,
                self.service_type.allows_unspecified_frontend(),
            )?;
            if f.scope == Scope::Internal && !self.has_two_scopes() {
                return Err(ServiceError::InternalScopeUnused { index });
            }
            if let Some(&first) = seen_frontends.get(f) {
                return Err(ServiceError::DuplicateFrontend {
                    index,
                    first,
                    frontend: f.to_string(),
                });
            }
            seen_frontends.insert(f, index);
        }

        let mut seen_backends: BTreeMap<(IpAddr, u16, Protocol), usize> = BTreeMap::new();
        for (index, b) in self.backends.iter().enumerate() {
            let at = |field: &str| format!("backends[{index}].{field}");
            check_endpoint(&at, b.addr, b.port, b.protocol, protocol, family, false)?;
            if b.state == BackendState::Active && b.weight == 0 {
                return Err(ServiceError::ZeroWeight { index });
            }
            if self.service_type.requires_node_local_backends() && !b.node_local {
                return Err(ServiceError::NotNodeLocal {
                    index,
                    service_type: self.service_type,
                });
            }
            if let Some(&first) = seen_backends.get(&(b.addr, b.port, b.protocol)) {
                return Err(ServiceError::DuplicateBackend {
                    index,
                    first,
                    backend: b.to_string(),
                });
            }
            seen_backends.insert((b.addr, b.port, b.protocol), index);
        }

        if let SessionAffinity::ClientIp { timeout_secs } = self.affinity
            && !(1..=AFFINITY_TIMEOUT_MAX_SECS).contains(&timeout_secs)
        {
            return Err(ServiceError::AffinityTimeout { timeout_secs });
        }
        if self.ext_traffic_policy == TrafficPolicy::Local
            && !self.service_type.is_externally_reachable()
        {
            return Err(ServiceError::ExternalPolicyNotApplicable {
                service_type: self.service_type,
            });
        }
        if !self.source_ranges.is_empty() && self.service_type != ServiceType::LoadBalancer {
            return Err(ServiceError::SourceRangesNotApplicable {
                service_type: self.service_type,
            });
        }
        for (index, range) in self.source_ranges.iter().enumerate() {
            if AddressFamily::of(&range.addr()) != family {
                return Err(ServiceError::SourceRangeFamily {
                    index,
                    range: *range,
                    expected: family,
                });
            }
        }
        Ok(())
    }
}

/// The checks frontends and backends share: protocol, port, family, address.
fn check_endpoint(
    at: &dyn Fn(&str) -> String,
    addr: IpAddr,
    port: u16,
    proto: Protocol,
    expected_proto: Protocol,
    expected_family: AddressFamily,
    allow_unspecified: bool,
) -> Result<(), ServiceError> {
    if !proto.has_ports() {
        return Err(ServiceError::ProtocolWithoutPorts {
            field: at("protocol"),
            protocol: proto,
        });
    }
    if proto != expected_proto {
        return Err(ServiceError::ProtocolMismatch {
            field: at("protocol"),
            protocol: proto,
            expected: expected_proto,
        });
    }
    if port == 0 {
        return Err(ServiceError::ZeroPort { field: at("port") });
    }
    if AddressFamily::of(&addr) != expected_family {
        return Err(ServiceError::FamilyMismatch {
            field: at("addr"),
            addr,
            expected: expected_family,
        });
    }
    let reason = if addr.is_multicast() {
        Some("is a multicast address")
    } else if addr == IpAddr::from([255, 255, 255, 255]) {
        Some("is the broadcast address")
    } else if addr.is_unspecified() && !allow_unspecified {
        Some("is unspecified; only NodePort and HostPort frontends may be")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(ServiceError::InvalidAddress {
            field: at("addr"),
            addr,
            reason,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn svc() -> Service {
        let mut s = Service::new("default", "web", ServiceType::NodePort);
        s.frontends
            .push(Frontend::new(ip("10.96.0.10"), 80, Protocol::Tcp));
        s.frontends
            .push(Frontend::new(ip("0.0.0.0"), 30080, Protocol::Tcp));
        for i in 1..=3u8 {
            s.backends.push(Backend::new(
                IpAddr::from([10, 0, i, 1]),
                8080,
                Protocol::Tcp,
            ));
        }
        s
    }

    fn err(s: &Service) -> String {
        s.validate().unwrap_err().to_string()
    }

    #[test]
    fn valid_service() {
        assert_eq!(svc().validate(), Ok(()));
        assert_eq!(svc().id().to_string(), "default/web");
        assert_eq!(svc().family(), Some(AddressFamily::Ipv4));
        assert_eq!(svc().protocol(), Some(Protocol::Tcp));
    }

    #[test]
    fn errors_name_the_field() {
        let mut s = svc();
        s.backends[2].weight = 0;
        assert_eq!(
            err(&s),
            "backends[2].weight: 0 is not allowed for an active backend"
        );
        s.backends[2].state = BackendState::Maintenance;
        assert_eq!(s.validate(), Ok(()));

        let mut s = svc();
        s.frontends[1].port = 0;
        assert_eq!(err(&s), "frontends[1].port: 0 is not a valid port");

        let mut s = svc();
        s.backends[0].addr = ip("fd00::1");
        assert_eq!(
            err(&s),
            "backends[0].addr: fd00::1 is not an IPv4 address like frontends[0].addr"
        );

        let mut s = svc();
        s.backends[1].protocol = Protocol::Udp;
        assert_eq!(
            err(&s),
            "backends[1].protocol: UDP differs from the service's protocol TCP (frontends[0].protocol)"
        );

        let mut s = svc();
        s.frontends[0].protocol = Protocol::Icmp;
        assert_eq!(
            err(&s),
            "frontends[0].protocol: ICMP has no ports; use TCP, UDP or SCTP"
        );

        let mut s = svc();
        s.service_type = ServiceType::ClusterIp;
        assert_eq!(
            err(&s),
            "frontends[1].addr: 0.0.0.0 is unspecified; only NodePort and HostPort frontends may be"
        );

        let mut s = svc();
        s.backends[1].addr = ip("224.0.0.1");
        assert_eq!(
            err(&s),
            "backends[1].addr: 224.0.0.1 is a multicast address"
        );

        let mut s = svc();
        s.backends.push(s.backends[0].clone());
        assert_eq!(
            err(&s),
            "backends[3]: duplicates backends[0] (10.0.1.1:8080/TCP)"
        );

        let mut s = svc();
        s.frontends.push(s.frontends[1]);
        assert_eq!(
            err(&s),
            "frontends[2]: duplicates frontends[1] (0.0.0.0:30080/TCP)"
        );

        let mut s = svc();
        s.affinity = SessionAffinity::ClientIp { timeout_secs: 0 };
        assert_eq!(err(&s), "affinity.timeout_secs: 0 is outside 1..=86400");
        s.affinity = SessionAffinity::ClientIp {
            timeout_secs: 86_401,
        };
        assert!(s.validate().is_err());
        s.affinity = SessionAffinity::ClientIp {
            timeout_secs: 10_800,
        };
        assert_eq!(s.validate(), Ok(()));

        let mut s = svc();
        s.source_ranges.push("192.168.0.0/16".parse().unwrap());
        assert_eq!(
            err(&s),
            "source_ranges: only a LoadBalancer service may have source ranges, not NodePort"
        );
        s.service_type = ServiceType::LoadBalancer;
        s.frontends.remove(1);
        assert_eq!(s.validate(), Ok(()));
        s.source_ranges.push("2001:db8::/32".parse().unwrap());
        assert_eq!(
            err(&s),
            "source_ranges[1]: 2001:db8::/32 is not an IPv4 range like the frontends"
        );

        let mut s = svc();
        s.frontends[0] = s.frontends[0].with_scope(Scope::Internal);
        assert!(err(&s).starts_with("frontends[0].scope: "));
        s.ext_traffic_policy = TrafficPolicy::Local;
        assert_eq!(s.validate(), Ok(()));

        let mut s = svc();
        s.service_type = ServiceType::ClusterIp;
        s.frontends.truncate(1);
        s.ext_traffic_policy = TrafficPolicy::Local;
        assert_eq!(
            err(&s),
            "ext_traffic_policy: Local applies only to externally reachable services, not ClusterIP"
        );

        let mut s = svc();
        s.service_type = ServiceType::LocalRedirect;
        s.frontends.truncate(1);
        assert_eq!(
            err(&s),
            "backends[0].node_local: a LocalRedirect backend must run on this node"
        );

        let mut s = svc();
        s.name.clear();
        assert_eq!(err(&s), "name: must not be empty");
        let mut s = svc();
        s.frontends.clear();
        assert_eq!(err(&s), "frontends: a service needs at least one frontend");
    }

    fn addrs(backends: Vec<&Backend>) -> Vec<String> {
        backends.iter().map(|b| b.addr.to_string()).collect()
    }

    #[test]
    fn selection_prefers_active_then_terminating() {
        let mut s = svc();
        s.backends[0].state = BackendState::Terminating;
        s.backends[1].state = BackendState::Quarantined;
        assert_eq!(addrs(s.selectable_backends(Scope::External)), ["10.0.3.1"]);
        s.backends[2].state = BackendState::Maintenance;
        // No active backend left: the terminating one serves.
        assert_eq!(addrs(s.selectable_backends(Scope::External)), ["10.0.1.1"]);
        s.backends[0].state = BackendState::Quarantined;
        assert!(s.selectable_backends(Scope::External).is_empty());
    }

    #[test]
    fn selection_honours_traffic_policy() {
        let mut s = svc();
        s.backends[1].node_local = true;
        s.ext_traffic_policy = TrafficPolicy::Local;
        assert!(s.has_two_scopes());
        assert_eq!(addrs(s.selectable_backends(Scope::External)), ["10.0.2.1"]);
        assert_eq!(s.selectable_backends(Scope::Internal).len(), 3);

        // The local backend terminates: it still serves external traffic, as no local
        // backend is active; in-cluster traffic goes to the active ones.
        s.backends[1].state = BackendState::Terminating;
        assert_eq!(addrs(s.selectable_backends(Scope::External)), ["10.0.2.1"]);
        assert_eq!(
            addrs(s.selectable_backends(Scope::Internal)),
            ["10.0.1.1", "10.0.3.1"]
        );

        // A ClusterIP service follows its internal policy in either scope.
        let mut c = svc();
        c.service_type = ServiceType::ClusterIp;
        c.int_traffic_policy = TrafficPolicy::Local;
        c.backends[0].node_local = true;
        assert!(!c.has_two_scopes());
        assert_eq!(addrs(c.selectable_backends(Scope::External)), ["10.0.1.1"]);
    }

    #[test]
    fn lookup_frontends_add_internal_twins() {
        let mut s = svc();
        assert_eq!(s.lookup_frontends().len(), 2);
        s.int_traffic_policy = TrafficPolicy::Local;
        let fronts = s.lookup_frontends();
        assert_eq!(fronts.len(), 4);
        assert_eq!(
            fronts.iter().filter(|f| f.scope == Scope::Internal).count(),
            2
        );
        assert_eq!(fronts[0].to_string(), "0.0.0.0:30080/TCP");
        assert_eq!(fronts[1].to_string(), "0.0.0.0:30080/TCP/i");
    }
}
