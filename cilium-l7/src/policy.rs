//! The policy a proxy consults: which local endpoint a redirected connection belongs to, the
//! identity of the peer, and the L7 rules that apply. Built by the embedding agent from the
//! policy engine and published to the proxies through a `tokio::sync::watch` channel, so a
//! policy change applies to the next request on an open connection.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use cilium_core::{NumericIdentity, Protocol};
use cilium_policy::l7::{L7Policy, L7Request};
use cilium_policy::{Direction, EndpointPolicy, SelectorCache};

/// A redirected connection as the proxy sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnInfo {
    /// The client (source) address and port.
    pub client: SocketAddr,
    /// The original destination (for a transparent socket: its local address).
    pub server: SocketAddr,
    /// TCP or UDP.
    pub protocol: Protocol,
}

/// A local endpoint as the proxies need it.
#[derive(Debug, Clone)]
pub struct LocalEndpoint {
    /// Endpoint id (as in the datapath's endpoint map).
    pub id: u32,
    /// Security identity.
    pub identity: NumericIdentity,
    /// The endpoint's resolved policy.
    pub policy: Arc<EndpointPolicy>,
}

/// Who a redirected connection belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolved {
    /// The local endpoint the proxy acts for.
    pub endpoint_id: u32,
    /// Identity of the client.
    pub source_identity: NumericIdentity,
    /// Identity of the server.
    pub destination_identity: NumericIdentity,
    /// Egress: the endpoint is the client; ingress: the endpoint is the server.
    pub direction: Direction,
}

impl Resolved {
    /// The identity of the peer (the side that is not the local endpoint).
    pub fn remote_identity(&self) -> NumericIdentity {
        match self.direction {
            Direction::Egress => self.destination_identity,
            Direction::Ingress => self.source_identity,
        }
    }
}

/// A consistent view of endpoints, address identities and the selector cache.
#[derive(Debug, Clone, Default)]
pub struct PolicySnapshot {
    endpoints: HashMap<IpAddr, LocalEndpoint>,
    /// Prefixes by length, longest first: (prefix length, network address, identity).
    prefixes: Vec<(u8, IpAddr, NumericIdentity)>,
    cache: Arc<SelectorCache>,
}

impl PolicySnapshot {
    /// An empty snapshot over `cache` (the selector cache the endpoint policies were resolved
    /// with).
    pub fn new(cache: Arc<SelectorCache>) -> PolicySnapshot {
        PolicySnapshot {
            endpoints: HashMap::new(),
            prefixes: Vec::new(),
            cache,
        }
    }

    /// Adds (or replaces) the local endpoint with address `ip`.
    pub fn insert_endpoint(&mut self, ip: IpAddr, endpoint: LocalEndpoint) {
        self.endpoints.insert(ip, endpoint);
    }

    /// Maps `ip/len` to `identity` (the ipcache of the datapath, as the proxies need it).
    /// The host bits of `ip` are ignored.
    pub fn insert_prefix(&mut self, ip: IpAddr, len: u8, identity: NumericIdentity) {
        let net = mask(ip, len);
        self.prefixes.retain(|(l, n, _)| !(*l == len && *n == net));
        self.prefixes.push((len, net, identity));
        self.prefixes.sort_by_key(|p| std::cmp::Reverse(p.0));
    }

    /// The local endpoint with address `ip`.
    pub fn endpoint(&self, ip: IpAddr) -> Option<&LocalEndpoint> {
        self.endpoints.get(&ip)
    }

    /// The selector cache.
    pub fn cache(&self) -> &SelectorCache {
        &self.cache
    }

    /// Identity of an address: a local endpoint, else the longest matching prefix, else
    /// `world`.
    pub fn identity_of(&self, ip: IpAddr) -> NumericIdentity {
        if let Some(ep) = self.endpoints.get(&ip) {
            return ep.identity;
        }
        self.prefixes
            .iter()
            .find(|(len, net, _)| mask(ip, *len) == *net && ip.is_ipv4() == net.is_ipv4())
            .map_or(NumericIdentity::WORLD, |(_, _, id)| *id)
    }

    /// The endpoint and identities of a connection redirected in `direction`; `None` when
    /// the local side is not a known endpoint.
    pub fn resolve(&self, direction: Direction, conn: &ConnInfo) -> Option<Resolved> {
        self.local(direction, conn).map(|(_, r)| r)
    }

    /// The local endpoint of `conn` (the client for egress, the server for ingress) and who
    /// the connection belongs to.
    fn local(&self, direction: Direction, conn: &ConnInfo) -> Option<(&LocalEndpoint, Resolved)> {
        let (local, remote) = match direction {
            Direction::Egress => (conn.client.ip(), conn.server.ip()),
            Direction::Ingress => (conn.server.ip(), conn.client.ip()),
        };
        let ep = self.endpoints.get(&local)?;
        let peer = self.identity_of(remote);
        let (source_identity, destination_identity) = match direction {
            Direction::Egress => (ep.identity, peer),
            Direction::Ingress => (peer, ep.identity),
        };
        let resolved = Resolved {
            endpoint_id: ep.id,
            source_identity,
            destination_identity,
            direction,
        };
        Some((ep, resolved))
    }

    /// The L7 policies that apply to `conn` (one per selector selecting the peer on the
    /// original destination port), with who the connection belongs to. An empty list means
    /// nothing allows the connection at L7 (every request is denied); `None` means the local
    /// endpoint is unknown (deny as well).
    pub fn policies(
        &self,
        direction: Direction,
        conn: &ConnInfo,
    ) -> Option<(Resolved, Vec<&L7Policy>)> {
        let (ep, resolved) = self.local(direction, conn)?;
        let list = ep.policy.l7_policies(
            &self.cache,
            direction,
            resolved.remote_identity(),
            conn.protocol,
            conn.server.port(),
        );
        Some((resolved, list))
    }

    /// Whether `request` on `conn` is allowed, with who the connection belongs to.
    pub fn allows(
        &self,
        direction: Direction,
        conn: &ConnInfo,
        request: &L7Request,
    ) -> (Option<Resolved>, bool) {
        match self.policies(direction, conn) {
            Some((r, list)) => (Some(r), list.iter().any(|p| p.allows(request))),
            None => (None, false),
        }
    }
}

fn mask(ip: IpAddr, len: u8) -> IpAddr {
    match ip {
        IpAddr::V4(a) => {
            let bits = u32::from(a);
            let m = if len == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(len.min(32)))
            };
            IpAddr::V4((bits & m).into())
        }
        IpAddr::V6(a) => {
            let bits = u128::from(a);
            let m = if len == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(len.min(128)))
            };
            IpAddr::V6((bits & m).into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cilium_core::LabelSet;
    use cilium_policy::l7::HttpRequest;
    use cilium_policy::{EndpointInfo, EngineConfig, NamedPortTable, PolicyEngine};

    const POLICY: &str = r#"
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: api, namespace: shop}
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress:
  - toEndpoints: [{matchLabels: {app: server}}]
    toPorts:
    - ports: [{port: "80", protocol: TCP}]
      rules:
        http: [{method: GET, path: "/api/.*"}]
"#;

    #[test]
    fn snapshot_resolves_endpoint_peer_and_rules() {
        let ns = "k8s:io.kubernetes.pod.namespace=shop";
        let client = LabelSet::parse_list(&["k8s:app=client", ns]);
        let server = LabelSet::parse_list(&["k8s:app=server", ns]);
        let mut engine = PolicyEngine::new(EngineConfig::default());
        engine.load_text("p.yaml", POLICY).unwrap();
        engine.upsert_identity(NumericIdentity::new(1000), client.clone());
        engine.upsert_identity(NumericIdentity::new(1001), server);
        let ep = EndpointInfo::new(NumericIdentity::new(1000), client);
        let policy = engine.resolve(&ep, &NamedPortTable::new()).unwrap();
        let mut snap = PolicySnapshot::new(Arc::new(engine.cache().clone()));
        snap.insert_endpoint(
            "10.1.0.1".parse().unwrap(),
            LocalEndpoint {
                id: 7,
                identity: NumericIdentity::new(1000),
                policy: Arc::new(policy),
            },
        );
        snap.insert_prefix("10.1.0.2".parse().unwrap(), 32, NumericIdentity::new(1001));
        let conn = ConnInfo {
            client: "10.1.0.1:40000".parse().unwrap(),
            server: "10.1.0.2:80".parse().unwrap(),
            protocol: Protocol::Tcp,
        };
        let get = |m: &str, p: &str| {
            L7Request::Http(HttpRequest {
                method: m.into(),
                path: p.into(),
                ..HttpRequest::default()
            })
        };
        let (r, ok) = snap.allows(Direction::Egress, &conn, &get("GET", "/api/x"));
        assert!(ok);
        let r = r.unwrap();
        assert_eq!(r.endpoint_id, 7);
        assert_eq!(r.destination_identity, NumericIdentity::new(1001));
        assert!(
            !snap
                .allows(Direction::Egress, &conn, &get("DELETE", "/api/x"))
                .1
        );
        // Another peer (world): no selector selects it, nothing is allowed.
        let other = ConnInfo {
            server: "192.0.2.1:80".parse().unwrap(),
            ..conn
        };
        assert!(
            !snap
                .allows(Direction::Egress, &other, &get("GET", "/api/x"))
                .1
        );
        // An unknown local endpoint resolves to nothing.
        assert!(snap.resolve(Direction::Ingress, &conn).is_none());
    }
}
