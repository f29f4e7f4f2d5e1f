//! EndpointSlices to backends: which slices belong to the service, which endpoints may take
//! connections and in which state, and which port each slice resolved a service port to.

use std::collections::BTreeMap;
use std::net::IpAddr;

use cilium_core::Protocol;
use k8s_openapi::api::discovery::v1::{EndpointConditions, EndpointSlice};

use super::{
    K8sError, NodeContext, SERVICE_NAME_LABEL, address_problem, parse_protocol, port_number,
};
use crate::model::{AddressFamily, Backend, BackendState};

/// An EndpointSlice of the service, checked once: its family, the endpoints that may take
/// connections and its ports.
#[derive(Debug)]
pub(super) struct OwnSlice<'a> {
    family: AddressFamily,
    endpoints: Vec<SliceEndpoint<'a>>,
    ports: Vec<SlicePort<'a>>,
}

#[derive(Debug)]
struct SliceEndpoint<'a> {
    addr: IpAddr,
    state: BackendState,
    node_local: bool,
    zone: Option<&'a str>,
}

#[derive(Debug)]
struct SlicePort<'a> {
    /// Position in the slice's `ports`, for errors.
    index: usize,
    /// `""` for the unnamed port.
    name: &'a str,
    protocol: Protocol,
    /// The number the slice resolved the service's target port to.
    port: u16,
}

/// The backend state of an endpoint, or `None` when it must not get connections.
///
/// Kubernetes semantics: `ready` absent means ready, `serving` absent means the same as
/// `ready`, `terminating` absent means not terminating. A ready endpoint is active; one that
/// is terminating but still serving is terminating (picked only when no active backend is
/// left, see [`Service::selectable_backends`](crate::model::Service::selectable_backends));
/// any other (starting, failing its readiness probe, terminating and no longer serving) is
/// left out.
pub(super) fn endpoint_state(conditions: Option<&EndpointConditions>) -> Option<BackendState> {
    let ready = conditions.and_then(|c| c.ready).unwrap_or(true);
    let serving = conditions.and_then(|c| c.serving).unwrap_or(ready);
    let terminating = conditions.and_then(|c| c.terminating).unwrap_or(false);
    if ready {
        Some(BackendState::Active)
    } else if serving && terminating {
        Some(BackendState::Terminating)
    } else {
        None
    }
}

/// The slices of the service `namespace/name` among `slices` (by the
/// `kubernetes.io/service-name` label and the namespace), checked; FQDN slices are left out.
pub(super) fn own_slices<'a>(
    namespace: &str,
    name: &str,
    slices: &'a [EndpointSlice],
    node: &NodeContext,
) -> Result<Vec<OwnSlice<'a>>, K8sError> {
    let mut out = Vec::new();
    for (i, slice) in slices.iter().enumerate() {
        let meta = &slice.metadata;
        let slice_ns = meta.namespace.as_deref().filter(|n| !n.is_empty());
        let owner = meta.labels.as_ref().and_then(|l| l.get(SERVICE_NAME_LABEL));
        if slice_ns.unwrap_or(super::DEFAULT_NAMESPACE) != namespace
            || owner.map(String::as_str) != Some(name)
        {
            continue;
        }
        let label = match meta.name.as_deref() {
            Some(n) if !n.is_empty() => format!("{namespace}/{n}"),
            _ => format!("#{i}"),
        };
        let err = |field: String, reason: String| K8sError::slice(label.clone(), field, reason);
        let family = match slice.address_type.as_str() {
            "IPv4" => AddressFamily::Ipv4,
            "IPv6" => AddressFamily::Ipv6,
            "FQDN" => continue,
            other => {
                return Err(err(
                    "addressType".into(),
                    format!("{other:?} is not IPv4, IPv6 or FQDN"),
                ));
            }
        };

        let mut endpoints = Vec::with_capacity(slice.endpoints.len());
        for (j, ep) in slice.endpoints.iter().enumerate() {
            // Kubernetes defines no meaning for addresses after the first; kube-proxy uses
            // only the first, and so do we.
            let Some(text) = ep.addresses.first() else {
                return Err(err(
                    format!("endpoints[{j}].addresses"),
                    "needs at least one address".into(),
                ));
            };
            let field = || format!("endpoints[{j}].addresses[0]");
            let addr: IpAddr = text
                .parse()
                .map_err(|_| err(field(), format!("{text:?} is not an IP address")))?;
            if AddressFamily::of(&addr) != family {
                return Err(err(
                    field(),
                    format!("{addr} is not an {family} address like the slice's addressType"),
                ));
            }
            if let Some(problem) = address_problem(addr) {
                return Err(err(field(), format!("{addr} {problem}")));
            }
            let Some(state) = endpoint_state(ep.conditions.as_ref()) else {
                continue;
            };
            endpoints.push(SliceEndpoint {
                addr,
                state,
                node_local: !node.name.is_empty() && ep.node_name.as_deref() == Some(&node.name),
                zone: ep.zone.as_deref(),
            });
        }

        let mut ports = Vec::new();
        for (j, p) in slice.ports.iter().flatten().enumerate() {
            let protocol = parse_protocol(p.protocol.as_deref())
                .map_err(|reason| err(format!("ports[{j}].protocol"), reason))?;
            let name = p.name.as_deref().unwrap_or("");
            let Some(number) = p.port else {
                return Err(err(
                    format!("ports[{j}].port"),
                    "required in a slice of a service".into(),
                ));
            };
            let port = port_number(number).ok_or_else(|| {
                err(
                    format!("ports[{j}].port"),
                    format!("{number} is not a port number (1..=65535)"),
                )
            })?;
            if let Some(first) = ports
                .iter()
                .find(|q: &&SlicePort<'_>| q.name == name && q.protocol == protocol)
            {
                return Err(err(
                    format!("ports[{j}]"),
                    format!(
                        "duplicates ports[{}] (name {name:?}, {protocol})",
                        first.index
                    ),
                ));
            }
            ports.push(SlicePort {
                index: j,
                name,
                protocol,
                port,
            });
        }

        out.push(OwnSlice {
            family,
            endpoints,
            ports,
        });
    }
    Ok(out)
}

/// The backends of one service port in one family: every endpoint that may take connections,
/// at the number its slice resolved the port to (slice port of the same name, `""` for the
/// unnamed port, and protocol). A slice without such a port gives none. An address listed by
/// several slices (which Kubernetes allows while endpoints move between slices) counts once,
/// in its best state. Sorted by address and port, whatever the order of the slices.
pub(super) fn backends(
    slices: &[OwnSlice<'_>],
    family: AddressFamily,
    port_name: &str,
    protocol: Protocol,
) -> Vec<Backend> {
    let mut out: BTreeMap<(IpAddr, u16), Backend> = BTreeMap::new();
    for slice in slices.iter().filter(|s| s.family == family) {
        let Some(port) = slice
            .ports
            .iter()
            .find(|p| p.name == port_name && p.protocol == protocol)
        else {
            continue;
        };
        for ep in &slice.endpoints {
            let mut backend = Backend::new(ep.addr, port.port, protocol)
                .with_state(ep.state)
                .with_node_local(ep.node_local);
            backend.zone = ep.zone.map(str::to_owned);
            let key = (ep.addr, port.port);
            match out.get(&key) {
                // Active beats terminating; between equals the first slice wins.
                Some(seen) if seen.state <= backend.state => {}
                _ => {
                    out.insert(key, backend);
                }
            }
        }
    }
    out.into_values().collect()
}
