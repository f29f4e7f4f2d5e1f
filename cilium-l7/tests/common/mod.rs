//! What the privileged L7 tests share: the datapath's test topology (a "node" namespace
//! routing between "pods"), the real datapath with its proxy routing, a policy engine whose
//! per-endpoint results are synced into the policy maps with proxy ports, and the policy
//! snapshot the proxies read, published through a watch channel — the wiring an embedding
//! agent does, in small.

#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use cilium_core::{LabelSet, NumericIdentity};
use cilium_datapath::{Datapath, DatapathConfig, ProxyRouting, proxy_route};
use cilium_l7::{LocalEndpoint, PolicySnapshot};
use cilium_maps::abi::{IpCacheKey, IpCacheValue};
use cilium_policy::l7::L7Parser;
use cilium_policy::mapstate::Redirect;
use cilium_policy::{Direction, EndpointInfo, EngineConfig, NamedPortTable, PolicyEngine};
use tokio::sync::watch;

#[path = "../../../cilium-datapath/tests/support/mod.rs"]
pub mod support;
use support::*;

/// Proxy ports of the test agent: one listener per parser and direction.
pub const HTTP_EGRESS: u16 = 15001;
pub const HTTP_INGRESS: u16 = 15002;
pub const DNS_EGRESS: u16 = 15053;
pub const KAFKA_EGRESS: u16 = 15090;

pub fn proxy_port(dir: Direction, r: &Redirect) -> Option<u16> {
    match (dir, &r.parser) {
        (Direction::Egress, L7Parser::Http) => Some(HTTP_EGRESS),
        (Direction::Ingress, L7Parser::Http) => Some(HTTP_INGRESS),
        (Direction::Egress, L7Parser::Dns) => Some(DNS_EGRESS),
        (Direction::Egress, L7Parser::Kafka) => Some(KAFKA_EGRESS),
        _ => None,
    }
}

/// One pod as the policy sees it.
#[derive(Debug, Clone)]
pub struct PodInfo {
    pub pod: Pod,
    pub endpoint_id: u16,
    pub identity: NumericIdentity,
    pub labels: LabelSet,
}

/// The policy side of the test agent (shared with the DNS proxy's updater).
pub struct PolicyState {
    pub dp: Datapath,
    pub engine: PolicyEngine,
    pub pods: Vec<PodInfo>,
    /// Addresses learned through DNS and the local identities allocated for them.
    pub learned: BTreeMap<IpAddr, NumericIdentity>,
    next_local: u32,
    snapshot: watch::Sender<Arc<PolicySnapshot>>,
}

impl PolicyState {
    /// Resolves every pod's policy, syncs it into its policy map, and publishes the snapshot.
    pub fn apply(&mut self) -> Result<(), String> {
        let mut snap = PolicySnapshot::new(Arc::new(self.engine.cache().clone()));
        for p in &self.pods {
            let ep = EndpointInfo::new(p.identity, p.labels.clone());
            let policy = self
                .engine
                .resolve(&ep, &NamedPortTable::new())
                .map_err(|e| format!("resolve {}: {e}", p.pod.name))?;
            self.dp
                .sync_policy(
                    p.endpoint_id,
                    &policy.map_state,
                    policy.ingress_enforced,
                    policy.egress_enforced,
                    &proxy_port,
                )
                .map_err(|e| format!("sync {}: {e}", p.pod.name))?;
            snap.insert_endpoint(
                p.pod.addr.parse().unwrap(),
                LocalEndpoint {
                    id: u32::from(p.endpoint_id),
                    identity: p.identity,
                    policy: Arc::new(policy),
                },
            );
        }
        for (ip, id) in &self.learned {
            snap.insert_prefix(*ip, if ip.is_ipv4() { 32 } else { 128 }, *id);
        }
        self.snapshot.send_replace(Arc::new(snap));
        Ok(())
    }

    /// Replaces the policy text and applies it.
    pub fn set_policy(&mut self, yaml: &str) -> Result<(), String> {
        self.engine
            .load_text("test.yaml", yaml)
            .map_err(|e| format!("policy: {e}"))?;
        self.apply()
    }

    /// A DNS-learned address: a local identity with `labels` (the FQDN cache's `cidr:` and
    /// `fqdn:` labels), the ipcache entry, and every endpoint's policy again.
    pub fn learn(&mut self, ip: IpAddr, labels: LabelSet) -> Result<NumericIdentity, String> {
        let id = match self.learned.get(&ip) {
            Some(id) => *id,
            None => {
                self.next_local += 1;
                NumericIdentity::new((1 << 24) | self.next_local)
            }
        };
        self.engine.upsert_identity(id, labels);
        self.dp
            .ipcache()
            .map_err(|e| e.to_string())?
            .insert(
                &IpCacheKey::new(ip, 32, 0),
                &IpCacheValue::identity(id.as_u32()),
            )
            .map_err(|e| e.to_string())?;
        self.learned.insert(ip, id);
        self.apply()?;
        Ok(id)
    }

    /// An address whose DNS TTL passed: out of the ipcache, identity gone, policy again.
    pub fn forget(&mut self, ip: IpAddr) -> Result<(), String> {
        if let Some(id) = self.learned.remove(&ip) {
            self.engine.remove_identity(id);
            let _ = self
                .dp
                .ipcache()
                .map_err(|e| e.to_string())?
                .remove(&IpCacheKey::new(ip, 32, 0));
        }
        self.apply()
    }
}

/// The test agent: topology, datapath, policy, a runtime in the node for the proxies.
pub struct L7Env {
    pub state: Arc<Mutex<PolicyState>>,
    pub snapshot: watch::Receiver<Arc<PolicySnapshot>>,
    pub rt: tokio::runtime::Runtime,
    pub node: String,
    routing: ProxyRouting,
    // Dropped last: the namespaces and pins.
    pub topo: Topology,
}

impl Drop for L7Env {
    fn drop(&mut self) {
        let routing = self.routing;
        let _ = in_netns(&self.node, || proxy_route::remove(routing));
    }
}

/// The node's own address (it originates the proxies' upstream connections).
pub const NODE_ADDR: &str = "10.200.255.254";

impl L7Env {
    /// Pods `(name, labels)`; every pod is an endpoint with identity `1000 + i`, in namespace
    /// `default`, except pods named `ext*`: addresses outside the cluster (no programs). `None` when the test is skipped (not privileged, not strict).
    pub fn new(tag: &str, pods: &[(&str, &[&str])]) -> Option<L7Env> {
        let names: Vec<&str> = pods.iter().map(|(n, _)| *n).collect();
        let topo = or_skip("the test topology cannot be built", build(tag, &names))?;
        ip(&[
            "-n",
            &topo.node,
            "addr",
            "add",
            &format!("{NODE_ADDR}/32"),
            "dev",
            "lo",
        ])
        .unwrap();
        let dp = Datapath::load(&DatapathConfig::new(&topo.pin_dir)).expect("load datapath");
        let routing = ProxyRouting::default();
        in_netns(&topo.node, || proxy_route::install(routing)).expect("proxy routing");
        let mut engine = PolicyEngine::new(EngineConfig::default());
        let mut infos = Vec::new();
        for (i, ((name, labels), pod)) in pods.iter().zip(&topo.pods).enumerate() {
            if name.starts_with("ext") {
                continue; // outside the cluster: no endpoint, no programs
            }
            let mut l: Vec<String> = labels.iter().map(|s| format!("k8s:{s}")).collect();
            l.push("k8s:io.kubernetes.pod.namespace=default".into());
            let refs: Vec<&str> = l.iter().map(String::as_str).collect();
            let labels = LabelSet::parse_list(&refs);
            let identity = NumericIdentity::new(1000 + i as u32);
            engine.upsert_identity(identity, labels.clone());
            add_endpoint(&dp, pod, (i + 1) as u16, identity.as_u32(), 0);
            infos.push(PodInfo {
                pod: pod.clone(),
                endpoint_id: (i + 1) as u16,
                identity,
                labels,
            });
        }
        in_netns(&topo.node, || {
            for pod in topo.pods.iter().filter(|p| !p.name.starts_with("ext")) {
                dp.attach_endpoint(pod.ifindex)
                    .expect("attach endpoint programs");
            }
        });
        let (tx, rx) = watch::channel(Arc::new(PolicySnapshot::default()));
        let node = topo.node.clone();
        let mut state = PolicyState {
            dp,
            engine,
            pods: infos,
            learned: BTreeMap::new(),
            next_local: 0,
            snapshot: tx,
        };
        state.apply().expect("initial policy");
        Some(L7Env {
            state: Arc::new(Mutex::new(state)),
            snapshot: rx,
            rt: node_runtime(&node),
            node,
            routing,
            topo,
        })
    }

    pub fn pod(&self, name: &str) -> Pod {
        self.topo
            .pods
            .iter()
            .find(|p| p.name == name)
            .unwrap()
            .clone()
    }

    pub fn set_policy(&self, yaml: &str) {
        self.state.lock().unwrap().set_policy(yaml).unwrap();
    }

    /// A transparent TCP listener in the node for proxy `port`, registered with the node's
    /// runtime.
    pub fn listener(&self, port: u16) -> tokio::net::TcpListener {
        tcp_listener_in(&self.node, &self.rt, port)
    }

    /// A transparent UDP socket in the node for proxy `port`.
    pub fn udp_socket(&self, port: u16) -> tokio::net::UdpSocket {
        udp_socket_in(&self.node, &self.rt, port)
    }
}

/// A transparent TCP listener on `0.0.0.0:port` in namespace `ns`, registered with `rt`.
pub fn tcp_listener_in(
    ns: &str,
    rt: &tokio::runtime::Runtime,
    port: u16,
) -> tokio::net::TcpListener {
    in_netns(ns, || {
        let _g = rt.enter();
        cilium_l7::transparent::tcp_listener(SocketAddr::from(([0, 0, 0, 0], port)))
            .expect("proxy listener")
    })
}

/// A transparent UDP socket on `0.0.0.0:port` in namespace `ns`, registered with `rt`.
pub fn udp_socket_in(ns: &str, rt: &tokio::runtime::Runtime, port: u16) -> tokio::net::UdpSocket {
    in_netns(ns, || {
        let _g = rt.enter();
        cilium_l7::transparent::udp_socket(SocketAddr::from(([0, 0, 0, 0], port)))
            .expect("proxy socket")
    })
}

/// A runtime whose threads live in network namespace `ns`, so every socket opened on it
/// (listeners and upstream connections) belongs to that namespace.
pub fn node_runtime(ns: &str) -> tokio::runtime::Runtime {
    let path = format!("/var/run/netns/{ns}");
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(2)
        .on_thread_start(move || {
            use std::os::fd::AsRawFd;
            let f = std::fs::File::open(&path).expect("open netns");
            // SAFETY: setns on the calling (runtime) thread with a valid namespace fd.
            let rc = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
        })
        .enable_all()
        .build()
        .unwrap()
}
pub mod kafka;
