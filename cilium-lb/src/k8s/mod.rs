//! From Kubernetes: a Service and its EndpointSlices (the `k8s-openapi` types) to model
//! [`Service`]s, with Kubernetes semantics. Behind the `k8s` feature.
//!
//! Still pure: [`services_from_k8s`] reads the objects it is handed and the [`NodeContext`],
//! nothing else. Watching the API server (a kube-runtime reflector, for instance) and handing
//! the model services to a datapath are the caller's job.
//!
//! # Mapping
//!
//! A model [`Service`] has one protocol, one address family and one kind of frontend, and all
//! its frontends share one backend set (see [`crate::model`]). A Kubernetes Service therefore
//! becomes **one model service per service port, address family and kind of frontend**,
//! named `NAME:PORT:TYPE:FAMILY` in the Service's namespace, e.g. `web:http:NodePort:IPv4`
//! (`PORT` is the port's name, or its number for the unnamed port; see [`model_name`] and
//! [`is_converted_from`]). Every port has its own backends because every port resolves its
//! own target port per endpoint.
//!
//! Frontends, for each family the Service has a cluster IP of (`spec.clusterIPs`, else
//! `spec.clusterIP`):
//!
//! | kind | frontends | port |
//! |---|---|---|
//! | `ClusterIP` | the cluster IP of the family | `port` |
//! | `NodePort` (types NodePort and LoadBalancer) | each [`NodeContext::addresses`] of the family, and the unspecified address (`0.0.0.0` / `::`, "any address of this node", as Cilium does) | `nodePort` |
//! | `ExternalIPs` | `spec.externalIPs` of the family | `port` |
//! | `LoadBalancer` | `status.loadBalancer.ingress[].ip` of the family (not those of `ipMode: Proxy`, whose traffic the load balancer delivers to a node port) | `port` |
//!
//! Addresses of a family the Service has no cluster IP of are left out (they would have no
//! endpoints: slices are per family), as kube-proxy does. A Service of type
//! LoadBalancer without node ports (`allocateLoadBalancerNodePorts: false`) gets no NodePort
//! frontends. Headless Services (`clusterIP: None`), Services without a cluster IP yet, and
//! ExternalName Services give no model service; that is not an error.
//!
//! Policies:
//!
//! - `externalTrafficPolicy` is the external policy of the NodePort, ExternalIPs and
//!   LoadBalancer services (a ClusterIP service keeps `Cluster`, which the model requires);
//!   `internalTrafficPolicy` is the internal policy of every one. Absent means `Cluster`.
//! - `sessionAffinity: ClientIP` gives client-IP affinity with
//!   `sessionAffinityConfig.clientIP.timeoutSeconds` (default
//!   [`DEFAULT_AFFINITY_TIMEOUT_SECS`], 3 hours).
//! - `spec.loadBalancerSourceRanges` go to the LoadBalancer services, split by family. When
//!   a Service has ranges but none of a family, no client of that family is allowed, and as
//!   the model cannot say "nobody" with an empty list, that family gets **no** LoadBalancer
//!   service (its node ports and cluster IP stay).
//! - The algorithm is [`NodeContext::algorithm`], unless the Service's annotation
//!   [`LB_ALGORITHM_ANNOTATION`] (`service.cilium.io/lb-algorithm: maglev` or `random`) says
//!   otherwise and [`NodeContext::algorithm_annotation`] is on (Cilium's
//!   `bpf-lb-algorithm` and `bpf-lb-algorithm-annotation`).
//!
//! Backends come from the EndpointSlices labelled `kubernetes.io/service-name: NAME` in the
//! Service's namespace (other slices in the list are ignored; FQDN slices too):
//!
//! - the endpoint's first address (Kubernetes gives the others no meaning) and the slice's
//!   port of the same name (`""` for the unnamed port) and protocol. That port already holds
//!   the number the Service's `targetPort` resolved to for the endpoints of that slice, so a
//!   named target port is resolved per slice: two slices may resolve it to different numbers.
//!   A slice without that port gives the service port no backends.
//! - the state from the conditions (`ready` absent = true, `serving` absent = `ready`,
//!   `terminating` absent = false): ready → [`BackendState::Active`]; not ready but serving
//!   and terminating → [`BackendState::Terminating`]; otherwise left out. The model picks
//!   terminating backends only when no active one is left (in the scope's traffic policy).
//! - node-local when the endpoint's `nodeName` is [`NodeContext::name`]; the zone is kept.
//! - an address listed in several slices counts once, in its best state; backends are sorted
//!   by address and port.
//!
//! Not used: `targetPort` itself (the slices carry its resolution), `healthCheckNodePort`,
//! `spec.loadBalancerIP` (the status holds the addresses in use), `publishNotReadyAddresses`
//! (the slices already mark such endpoints ready), `trafficDistribution` and topology hints
//! (the zone is carried, selection ignores it), `ipFamilies` (the cluster IPs decide).
//!
//! Errors ([`K8sError`]) name the field, e.g. `spec.ports[1].nodePort: 70000 is not a port
//! number (1..=65535)` or `endpointslice default/web-abc: endpoints[0].addresses[0]: "x" is
//! not an IP address`. Every service returned has passed [`Service::validate`].
//!
//! [`BackendState::Active`]: crate::model::BackendState::Active
//! [`BackendState::Terminating`]: crate::model::BackendState::Terminating
//!
//! ```
//! use cilium_lb::k8s::{services_from_k8s, NodeContext};
//! use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
//! use k8s_openapi::api::discovery::v1::{Endpoint, EndpointPort, EndpointSlice};
//! use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
//!
//! let svc = Service {
//!     metadata: ObjectMeta {
//!         name: Some("web".into()),
//!         namespace: Some("shop".into()),
//!         ..Default::default()
//!     },
//!     spec: Some(ServiceSpec {
//!         cluster_ip: Some("10.96.0.10".into()),
//!         ports: Some(vec![ServicePort {
//!             port: 80,
//!             ..Default::default()
//!         }]),
//!         ..Default::default()
//!     }),
//!     ..Default::default()
//! };
//! let slice = EndpointSlice {
//!     metadata: ObjectMeta {
//!         name: Some("web-x1".into()),
//!         namespace: Some("shop".into()),
//!         labels: Some([("kubernetes.io/service-name".into(), "web".into())].into()),
//!         ..Default::default()
//!     },
//!     address_type: "IPv4".into(),
//!     endpoints: vec![Endpoint {
//!         addresses: vec!["10.0.1.5".into()],
//!         ..Default::default()
//!     }],
//!     ports: Some(vec![EndpointPort {
//!         port: Some(8080),
//!         ..Default::default()
//!     }]),
//! };
//! let node = NodeContext::new("node-a", ["192.168.1.10".parse()?]);
//! let services = services_from_k8s(&svc, &[slice], &node)?;
//! assert_eq!(services.len(), 1);
//! assert_eq!(services[0].id().to_string(), "shop/web:80:ClusterIP:IPv4");
//! assert_eq!(services[0].frontends[0].to_string(), "10.96.0.10:80/TCP");
//! assert_eq!(services[0].backends[0].to_string(), "10.0.1.5:8080/TCP");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod endpoints;
mod error;
#[cfg(test)]
mod tests;

pub use error::K8sError;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use cilium_core::{Cidr, Protocol};
use k8s_openapi::api::core::v1::{Service as K8sService, ServiceSpec};
use k8s_openapi::api::discovery::v1::EndpointSlice;

use crate::model::{
    AFFINITY_TIMEOUT_MAX_SECS, AddressFamily, Algorithm, Backend, Frontend, Service, ServiceId,
    ServiceType, SessionAffinity, TrafficPolicy,
};

/// The label that ties an EndpointSlice to its Service (by the Service's name).
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// The Service annotation that chooses the load-balancing algorithm (`random` or `maglev`),
/// honoured when [`NodeContext::algorithm_annotation`] is on.
pub const LB_ALGORITHM_ANNOTATION: &str = "service.cilium.io/lb-algorithm";

/// Kubernetes' default client-IP affinity timeout, in seconds (3 hours).
pub const DEFAULT_AFFINITY_TIMEOUT_SECS: u32 = 10_800;

/// The namespace of an object that names none.
const DEFAULT_NAMESPACE: &str = "default";

/// What the conversion needs to know about the node it runs for, and its defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeContext {
    /// This node's name, as endpoints' `nodeName` spell it: their backends are node-local.
    pub name: String,
    /// This node's addresses: NodePort frontends are made on each of them (of the Service's
    /// families), besides the unspecified address, which is always made. An unspecified
    /// address listed here is ignored, and duplicates count once.
    pub addresses: Vec<IpAddr>,
    /// The algorithm of services that do not choose one (Cilium's `bpf-lb-algorithm`).
    pub algorithm: Algorithm,
    /// Whether the [`LB_ALGORITHM_ANNOTATION`] of a Service chooses its algorithm (Cilium's
    /// `bpf-lb-algorithm-annotation`).
    pub algorithm_annotation: bool,
}

impl NodeContext {
    /// The node `name` with `addresses`, the random algorithm by default, and the algorithm
    /// annotation honoured.
    pub fn new(name: impl Into<String>, addresses: impl IntoIterator<Item = IpAddr>) -> Self {
        NodeContext {
            name: name.into(),
            addresses: addresses.into_iter().collect(),
            algorithm: Algorithm::Random,
            algorithm_annotation: true,
        }
    }

    /// The same context with another default algorithm.
    #[must_use]
    pub fn with_algorithm(mut self, algorithm: Algorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// The same context, honouring the algorithm annotation or not.
    #[must_use]
    pub fn with_algorithm_annotation(mut self, honour: bool) -> Self {
        self.algorithm_annotation = honour;
        self
    }
}

/// The name of the model service made for one port (`port_key`: its name, or its number when
/// unnamed), kind of frontend and family of the Kubernetes Service `service`:
/// `service:port_key:TYPE:FAMILY`, e.g. `web:http:NodePort:IPv6`.
pub fn model_name(
    service: &str,
    port_key: &str,
    service_type: ServiceType,
    family: AddressFamily,
) -> String {
    format!("{service}:{port_key}:{service_type}:{family}")
}

/// Whether the model service `id` is one that [`services_from_k8s`] makes from the Kubernetes
/// Service `namespace/name` — for removing them all when the Service goes away. (Kubernetes
/// names have no `:`, so no other Service's model services match.)
pub fn is_converted_from(id: &ServiceId, namespace: &str, name: &str) -> bool {
    id.namespace == namespace
        && id
            .name
            .strip_prefix(name)
            .is_some_and(|rest| rest.starts_with(':'))
}

/// The model services of the Kubernetes Service `svc`, with backends from its slices among
/// `slices`, for the node `node`. See the [module docs](self) for the mapping.
///
/// Ordered by service port, then family (IPv4 first), then kind (ClusterIP, NodePort,
/// ExternalIPs, LoadBalancer). Empty for a headless or ExternalName Service, or one without
/// a cluster IP or ports.
///
/// # Errors
///
/// [`K8sError`], naming the first field that cannot be used.
pub fn services_from_k8s(
    svc: &K8sService,
    slices: &[EndpointSlice],
    node: &NodeContext,
) -> Result<Vec<Service>, K8sError> {
    let name = match svc.metadata.name.as_deref() {
        Some(n) if !n.is_empty() => n,
        _ => return Err(K8sError::service("metadata.name", "required")),
    };
    let namespace = svc
        .metadata
        .namespace
        .as_deref()
        .filter(|n| !n.is_empty())
        .unwrap_or(DEFAULT_NAMESPACE);
    let Some(spec) = svc.spec.as_ref() else {
        return Err(K8sError::service("spec", "required"));
    };
    let service_type = match spec.type_.as_deref().unwrap_or("ClusterIP") {
        "ClusterIP" => ServiceType::ClusterIp,
        "NodePort" => ServiceType::NodePort,
        "LoadBalancer" => ServiceType::LoadBalancer,
        "ExternalName" => return Ok(Vec::new()),
        other => {
            return Err(K8sError::service(
                "spec.type",
                format!("{other:?} is not ClusterIP, NodePort, LoadBalancer or ExternalName"),
            ));
        }
    };
    let cluster_ips = cluster_ips(spec)?;
    if cluster_ips.is_empty() {
        return Ok(Vec::new());
    }
    let mut families: Vec<AddressFamily> = cluster_ips.iter().map(AddressFamily::of).collect();
    families.sort_unstable();
    let ports = service_ports(spec, service_type)?;

    let ext_policy = traffic_policy(
        "spec.externalTrafficPolicy",
        spec.external_traffic_policy.as_deref(),
    )?;
    let int_policy = traffic_policy(
        "spec.internalTrafficPolicy",
        spec.internal_traffic_policy.as_deref(),
    )?;
    let affinity = affinity(spec)?;
    let algorithm = algorithm(svc, node)?;
    let external_ips = addresses(
        spec.external_ips.iter().flatten().map(|s| Some(s.as_str())),
        |i| format!("spec.externalIPs[{i}]"),
    )?;
    let (lb_ips, source_ranges) = if service_type == ServiceType::LoadBalancer {
        (load_balancer_ips(svc)?, source_ranges(spec)?)
    } else {
        (Vec::new(), Vec::new())
    };
    let mut node_addrs: Vec<IpAddr> = Vec::new();
    for a in &node.addresses {
        if !a.is_unspecified() && !node_addrs.contains(a) {
            node_addrs.push(*a);
        }
    }
    let slices = endpoints::own_slices(namespace, name, slices, node)?;

    let mut out = Vec::new();
    for port in &ports {
        for &family in &families {
            let backends = endpoints::backends(&slices, family, &port.name, port.protocol);
            let of_family = |addrs: &[IpAddr]| -> Vec<IpAddr> {
                addrs
                    .iter()
                    .filter(|a| AddressFamily::of(a) == family)
                    .copied()
                    .collect()
            };
            let common = Common {
                namespace,
                name,
                port,
                family,
                backends: &backends,
                ext_policy,
                int_policy,
                affinity,
                algorithm,
            };
            common.push(
                &mut out,
                ServiceType::ClusterIp,
                &of_family(&cluster_ips),
                port.port,
                Vec::new(),
            );
            if let Some(node_port) = port.node_port {
                let mut addrs = of_family(&node_addrs);
                addrs.push(unspecified(family));
                common.push(
                    &mut out,
                    ServiceType::NodePort,
                    &addrs,
                    node_port,
                    Vec::new(),
                );
            }
            common.push(
                &mut out,
                ServiceType::ExternalIps,
                &of_family(&external_ips),
                port.port,
                Vec::new(),
            );
            let ranges: Vec<Cidr> = source_ranges
                .iter()
                .filter(|r| AddressFamily::of(&r.addr()) == family)
                .copied()
                .collect();
            if source_ranges.is_empty() || !ranges.is_empty() {
                common.push(
                    &mut out,
                    ServiceType::LoadBalancer,
                    &of_family(&lb_ips),
                    port.port,
                    ranges,
                );
            }
        }
    }
    for s in &out {
        s.validate().map_err(|error| K8sError::Model {
            service: s.id(),
            error,
        })?;
    }
    Ok(out)
}

/// What the model services of one service port and family share.
struct Common<'a> {
    namespace: &'a str,
    name: &'a str,
    port: &'a PortSpec,
    family: AddressFamily,
    backends: &'a [Backend],
    ext_policy: TrafficPolicy,
    int_policy: TrafficPolicy,
    affinity: SessionAffinity,
    algorithm: Algorithm,
}

impl Common<'_> {
    /// Adds the model service of `service_type` to `out`, if it has frontends.
    fn push(
        &self,
        out: &mut Vec<Service>,
        service_type: ServiceType,
        addrs: &[IpAddr],
        frontend_port: u16,
        source_ranges: Vec<Cidr>,
    ) {
        if addrs.is_empty() {
            return;
        }
        let name = model_name(self.name, &self.port.key, service_type, self.family);
        let mut s = Service::new(self.namespace, name, service_type);
        s.frontends = addrs
            .iter()
            .map(|&a| Frontend::new(a, frontend_port, self.port.protocol))
            .collect();
        s.backends = self.backends.to_vec();
        if service_type.is_externally_reachable() {
            s.ext_traffic_policy = self.ext_policy;
        }
        s.int_traffic_policy = self.int_policy;
        s.affinity = self.affinity;
        s.algorithm = self.algorithm;
        s.source_ranges = source_ranges;
        out.push(s);
    }
}

/// One port of the Service, checked.
#[derive(Debug)]
struct PortSpec {
    /// The name, `""` when unnamed.
    name: String,
    /// What model names use: the name, or the port number when unnamed.
    key: String,
    port: u16,
    protocol: Protocol,
    /// The node port, for types NodePort and LoadBalancer.
    node_port: Option<u16>,
}

fn service_ports(spec: &ServiceSpec, service_type: ServiceType) -> Result<Vec<PortSpec>, K8sError> {
    let ports = spec.ports.as_deref().unwrap_or_default();
    let mut out: Vec<PortSpec> = Vec::with_capacity(ports.len());
    for (i, p) in ports.iter().enumerate() {
        let at = |field: &str| format!("spec.ports[{i}].{field}");
        let port = port_number(p.port).ok_or_else(|| {
            K8sError::service(
                at("port"),
                format!("{} is not a port number (1..=65535)", p.port),
            )
        })?;
        let protocol = parse_protocol(p.protocol.as_deref())
            .map_err(|reason| K8sError::service(at("protocol"), reason))?;
        let name = p.name.clone().unwrap_or_default();
        if name.is_empty() && ports.len() > 1 {
            return Err(K8sError::service(
                at("name"),
                "required when a service has more than one port",
            ));
        }
        for (j, q) in out.iter().enumerate() {
            if !name.is_empty() && q.name == name {
                return Err(K8sError::service(
                    at("name"),
                    format!("{name:?} duplicates spec.ports[{j}].name"),
                ));
            }
            if q.port == port && q.protocol == protocol {
                return Err(K8sError::service(
                    at("port"),
                    format!("{port}/{protocol} duplicates spec.ports[{j}]"),
                ));
            }
        }
        let node_port = if matches!(
            service_type,
            ServiceType::NodePort | ServiceType::LoadBalancer
        ) {
            match p.node_port {
                // 0 is "not set" in the API.
                None | Some(0) => None,
                Some(n) => Some(port_number(n).ok_or_else(|| {
                    K8sError::service(
                        at("nodePort"),
                        format!("{n} is not a port number (1..=65535)"),
                    )
                })?),
            }
        } else {
            None
        };
        if service_type == ServiceType::NodePort && node_port.is_none() {
            return Err(K8sError::service(
                at("nodePort"),
                "required for a NodePort service",
            ));
        }
        if let Some(np) = node_port
            && let Some(j) = out
                .iter()
                .position(|q| q.node_port == Some(np) && q.protocol == protocol)
        {
            return Err(K8sError::service(
                at("nodePort"),
                format!("{np}/{protocol} duplicates spec.ports[{j}].nodePort"),
            ));
        }
        let key = if name.is_empty() {
            port.to_string()
        } else {
            name.clone()
        };
        out.push(PortSpec {
            name,
            key,
            port,
            protocol,
            node_port,
        });
    }
    Ok(out)
}

/// The cluster IPs, at most one per family; empty for a headless Service (`None`) or one
/// without a cluster IP yet.
fn cluster_ips(spec: &ServiceSpec) -> Result<Vec<IpAddr>, K8sError> {
    let from_list = spec.cluster_ips.as_ref().is_some_and(|l| !l.is_empty());
    let texts: Vec<&str> = if from_list {
        spec.cluster_ips
            .iter()
            .flatten()
            .map(String::as_str)
            .collect()
    } else {
        spec.cluster_ip.as_deref().into_iter().collect()
    };
    let field = |i: usize| {
        if from_list {
            format!("spec.clusterIPs[{i}]")
        } else {
            "spec.clusterIP".to_owned()
        }
    };
    if matches!(texts.first(), None | Some(&"" | &"None")) {
        return Ok(Vec::new());
    }
    let mut ips: Vec<IpAddr> = Vec::with_capacity(texts.len());
    for (i, text) in texts.iter().enumerate() {
        let ip = parse_addr(text, || field(i))?;
        let family = AddressFamily::of(&ip);
        if ips.iter().any(|o| AddressFamily::of(o) == family) {
            return Err(K8sError::service(
                field(i),
                format!(
                    "{ip} is a second {family} cluster IP; a service has at most one per family"
                ),
            ));
        }
        ips.push(ip);
    }
    Ok(ips)
}

/// The load-balancer IPs of the status (not hostnames, not those of `ipMode: Proxy`).
fn load_balancer_ips(svc: &K8sService) -> Result<Vec<IpAddr>, K8sError> {
    let ingress = svc
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.as_deref())
        .unwrap_or_default();
    addresses(
        ingress.iter().map(|i| {
            if i.ip_mode.as_deref() == Some("Proxy") {
                None
            } else {
                i.ip.as_deref().filter(|ip| !ip.is_empty())
            }
        }),
        |i| format!("status.loadBalancer.ingress[{i}].ip"),
    )
}

fn source_ranges(spec: &ServiceSpec) -> Result<Vec<Cidr>, K8sError> {
    let mut out: Vec<Cidr> = Vec::new();
    for (i, text) in spec
        .load_balancer_source_ranges
        .iter()
        .flatten()
        .enumerate()
    {
        let range: Cidr = text.trim().parse().map_err(|_| {
            K8sError::service(
                format!("spec.loadBalancerSourceRanges[{i}]"),
                format!("{text:?} is not a CIDR"),
            )
        })?;
        if !out.contains(&range) {
            out.push(range);
        }
    }
    Ok(out)
}

/// Parses addresses (`None` entries are skipped), refusing unusable ones; duplicates count
/// once. `field` names entry `i`.
fn addresses<'a>(
    texts: impl Iterator<Item = Option<&'a str>>,
    field: impl Fn(usize) -> String,
) -> Result<Vec<IpAddr>, K8sError> {
    let mut out = Vec::new();
    for (i, text) in texts.enumerate() {
        let Some(text) = text else {
            continue;
        };
        let addr = parse_addr(text, || field(i))?;
        if !out.contains(&addr) {
            out.push(addr);
        }
    }
    Ok(out)
}

/// Parses a frontend address, refusing unusable ones; `field` names it.
fn parse_addr(text: &str, field: impl Fn() -> String) -> Result<IpAddr, K8sError> {
    let addr: IpAddr = text
        .parse()
        .map_err(|_| K8sError::service(field(), format!("{text:?} is not an IP address")))?;
    match address_problem(addr) {
        Some(problem) => Err(K8sError::service(field(), format!("{addr} {problem}"))),
        None => Ok(addr),
    }
}

/// Why an address cannot be a frontend or backend address, if it cannot.
fn address_problem(addr: IpAddr) -> Option<&'static str> {
    if addr.is_unspecified() {
        Some("is unspecified")
    } else if addr.is_multicast() {
        Some("is a multicast address")
    } else if addr == IpAddr::V4(Ipv4Addr::BROADCAST) {
        Some("is the broadcast address")
    } else {
        None
    }
}

fn unspecified(family: AddressFamily) -> IpAddr {
    match family {
        AddressFamily::Ipv4 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        AddressFamily::Ipv6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    }
}

/// A Kubernetes port number (`i32`) as a port, if it is in `1..=65535`.
fn port_number(n: i32) -> Option<u16> {
    u16::try_from(n).ok().filter(|&p| p != 0)
}

/// A Kubernetes protocol (`TCP` when absent); the reason is the error message.
fn parse_protocol(value: Option<&str>) -> Result<Protocol, String> {
    match value.unwrap_or("TCP") {
        "TCP" => Ok(Protocol::Tcp),
        "UDP" => Ok(Protocol::Udp),
        "SCTP" => Ok(Protocol::Sctp),
        other => Err(format!("{other:?} is not TCP, UDP or SCTP")),
    }
}

fn traffic_policy(field: &str, value: Option<&str>) -> Result<TrafficPolicy, K8sError> {
    match value {
        None | Some("Cluster") => Ok(TrafficPolicy::Cluster),
        Some("Local") => Ok(TrafficPolicy::Local),
        Some(other) => Err(K8sError::service(
            field,
            format!("{other:?} is not Cluster or Local"),
        )),
    }
}

fn affinity(spec: &ServiceSpec) -> Result<SessionAffinity, K8sError> {
    match spec.session_affinity.as_deref() {
        None | Some("None") => Ok(SessionAffinity::None),
        Some("ClientIP") => {
            let timeout = spec
                .session_affinity_config
                .as_ref()
                .and_then(|c| c.client_ip.as_ref())
                .and_then(|c| c.timeout_seconds);
            let timeout_secs = match timeout {
                None => DEFAULT_AFFINITY_TIMEOUT_SECS,
                Some(t) => u32::try_from(t)
                    .ok()
                    .filter(|t| (1..=AFFINITY_TIMEOUT_MAX_SECS).contains(t))
                    .ok_or_else(|| {
                        K8sError::service(
                            "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
                            format!("{t} is outside 1..={AFFINITY_TIMEOUT_MAX_SECS}"),
                        )
                    })?,
            };
            Ok(SessionAffinity::ClientIp { timeout_secs })
        }
        Some(other) => Err(K8sError::service(
            "spec.sessionAffinity",
            format!("{other:?} is not None or ClientIP"),
        )),
    }
}

fn algorithm(svc: &K8sService, node: &NodeContext) -> Result<Algorithm, K8sError> {
    if !node.algorithm_annotation {
        return Ok(node.algorithm);
    }
    let value = svc
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(LB_ALGORITHM_ANNOTATION));
    match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None => Ok(node.algorithm),
        Some("random") => Ok(Algorithm::Random),
        Some("maglev") => Ok(Algorithm::Maglev),
        Some(_) => Err(K8sError::service(
            format!("metadata.annotations[{LB_ALGORITHM_ANNOTATION}]"),
            format!(
                "{:?} is not random or maglev",
                value.map(String::as_str).unwrap_or_default()
            ),
        )),
    }
}
