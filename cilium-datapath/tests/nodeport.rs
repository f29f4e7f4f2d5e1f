//! Services reached from outside the node through its node-facing interface, with real
//! traffic from a client namespace: NodePort (random and Maglev) reaches a backend and the
//! reply comes from the node address; Maglev keeps each 5-tuple on one backend (also once
//! conntrack forgot the flow) and spreads distinct 5-tuples over every backend; ClientIP
//! affinity keeps one client on one backend across connections; externalTrafficPolicy=Local
//! uses only node-local backends and, with none, drops with reason 158.
//!
//! Privileged: with `CILIUM_PRIVILEGED_TESTS=1` a missing capability is a failure.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::time::Duration;

use cilium_core::Protocol;
use cilium_datapath::{Datapath, DatapathConfig, LbSync};
use cilium_lb::model::{
    Algorithm, Backend, Frontend, Service, ServiceType, SessionAffinity, TrafficPolicy,
};
use cilium_maps::abi::consts::*;
use cilium_maps::events::Event;
use cilium_maps::{KernelMap, MapStore};
use support::*;

const NODE_ADDR: &str = "192.168.77.1";
const CLIENT_ADDR: &str = "192.168.77.2";

/// The client namespace and the veth that links it to the node (`cilnp` on the node side,
/// `eth0` in the client); deleting the namespace removes both ends.
struct Outside {
    ns: String,
    node_ifindex: u32,
}

impl Outside {
    fn new(topo: &Topology) -> Result<Self, String> {
        let ns = format!("cilrs-np-client-{}", std::process::id());
        ip(&["netns", "add", &ns])?;
        let mut out = Outside {
            ns: ns.clone(),
            node_ifindex: 0,
        };
        let node = topo.node.as_str();
        ip(&[
            "-n", node, "link", "add", "cilnp", "type", "veth", "peer", "name", "eth0", "netns",
            &ns,
        ])?;
        ip(&[
            "-n",
            node,
            "addr",
            "add",
            &format!("{NODE_ADDR}/24"),
            "dev",
            "cilnp",
        ])?;
        ip(&["-n", node, "link", "set", "cilnp", "up"])?;
        ip(&[
            "-n",
            &ns,
            "addr",
            "add",
            &format!("{CLIENT_ADDR}/24"),
            "dev",
            "eth0",
        ])?;
        ip(&["-n", &ns, "link", "set", "eth0", "up"])?;
        ip(&["-n", &ns, "link", "set", "lo", "up"])?;
        out.node_ifindex = ifindex(node, "cilnp");
        Ok(out)
    }
}

impl Drop for Outside {
    fn drop(&mut self) {
        let _ = ip(&["netns", "del", &self.ns]);
    }
}

fn node_frontend(port: u16, protocol: Protocol) -> Frontend {
    Frontend::new(NODE_ADDR.parse().unwrap(), port, protocol)
}

fn service(name: &str, frontend: Frontend, backends: &[&Pod], local: &[&str]) -> Service {
    let mut s = Service::new("default", name, ServiceType::NodePort);
    let protocol = frontend.protocol;
    s.frontends.push(frontend);
    for b in backends {
        let addr: IpAddr = b.addr.parse().unwrap();
        s.backends.push(
            Backend::new(addr, 8080, protocol).with_node_local(local.contains(&b.name.as_str())),
        );
    }
    s
}

/// One datagram from `from_port` (0: any) to `to`: the server's name and the reply's source.
fn udp_from(from_port: u16, to: SocketAddr) -> Result<(String, SocketAddr), String> {
    let s = UdpSocket::bind((CLIENT_ADDR, from_port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    s.send_to(b"who", to).map_err(|e| e.to_string())?;
    let mut buf = [0u8; 64];
    let (n, from) = s.recv_from(&mut buf).map_err(|e| e.to_string())?;
    Ok((String::from_utf8_lossy(&buf[..n]).trim().to_owned(), from))
}

/// Forgets every conntrack entry (the flows' backends then come from the algorithm again).
fn flush_conntrack(pin_dir: &std::path::Path) -> usize {
    let mut ct = KernelMap::from_pin(pin_dir.join("cil_ct")).expect("open the conntrack map");
    let keys = ct.keys().unwrap();
    for k in &keys {
        let _ = ct.delete(k);
    }
    keys.len()
}

#[test]
fn nodeport_from_outside_the_node() {
    let Some(topo) = or_skip(
        "the test topology cannot be built",
        build("np", &["b1", "b2", "b3"]),
    ) else {
        return;
    };
    let outside = Outside::new(&topo).expect("client namespace");
    let backends: Vec<&Pod> = topo.pods.iter().collect();
    for b in &backends {
        name_servers(b, 8080);
    }

    let dp = Datapath::load(&DatapathConfig::new(&topo.pin_dir)).expect("load datapath");
    for (i, pod) in topo.pods.iter().enumerate() {
        add_endpoint(
            &dp,
            pod,
            i as u16 + 1,
            1000 + i as u32,
            CIL_ENDPOINT_F_POLICY_READY,
        );
    }
    in_netns(&topo.node, || {
        for pod in &topo.pods {
            dp.attach_endpoint(pod.ifindex).expect("attach endpoint");
        }
        dp.attach_netdev(outside.node_ifindex)
            .expect("attach node interface");
    });
    let mut ring = events_ring(&topo.pin_dir);

    let mut web = service("web", node_frontend(30080, Protocol::Tcp), &backends, &[]);
    web.ext_traffic_policy = TrafficPolicy::Cluster;
    let mut dns = service("dns", node_frontend(30053, Protocol::Udp), &backends, &[]);
    dns.algorithm = Algorithm::Maglev;
    let mut sticky = service(
        "sticky",
        node_frontend(30081, Protocol::Tcp),
        &backends,
        &[],
    );
    sticky.affinity = SessionAffinity::ClientIp { timeout_secs: 60 };
    let mut local = service(
        "local",
        node_frontend(30082, Protocol::Tcp),
        &backends,
        &["b2"],
    );
    local.ext_traffic_policy = TrafficPolicy::Local;
    let mut nolocal = service(
        "nolocal",
        node_frontend(30083, Protocol::Tcp),
        &backends,
        &[],
    );
    nolocal.ext_traffic_policy = TrafficPolicy::Local;
    let mut lb = LbSync::new(&dp).unwrap();
    for svc in [web, dns, sticky, local, nolocal] {
        lb.upsert_service(svc).expect("sync service");
    }

    let at = |port: u16| SocketAddr::new(NODE_ADDR.parse().unwrap(), port);
    in_netns(&outside.ns, || {
        // NodePort TCP: reaches every backend; the connection's peer is the node address
        // (the handshake only completes if the replies come from it).
        let mut names = BTreeSet::new();
        for _ in 0..24 {
            let (name, peer) =
                tcp_ask(at(30080), Duration::from_millis(1500)).expect("NodePort TCP");
            assert_eq!(peer, at(30080));
            names.insert(name);
        }
        assert_eq!(names.len(), 3, "NodePort TCP spread: {names:?}");

        // NodePort UDP with Maglev: the reply's source is the node address; each 5-tuple
        // stays on one backend, also after conntrack forgot it; distinct ones reach all.
        let mut first: BTreeMap<u16, String> = BTreeMap::new();
        for port in 40000..40024u16 {
            let (name, from) = udp_from(port, at(30053)).expect("NodePort UDP");
            assert_eq!(from, at(30053), "reverse NAT to the node address");
            first.insert(port, name);
        }
        let spread: BTreeSet<&String> = first.values().collect();
        assert_eq!(spread.len(), 3, "Maglev spreads 24 5-tuples: {first:?}");
        for _ in 0..2 {
            for (&port, name) in &first {
                let (again, _) = udp_from(port, at(30053)).expect("NodePort UDP again");
                assert_eq!(
                    &again, name,
                    "5-tuple from port {port} stays on its backend"
                );
            }
        }
        assert!(flush_conntrack(&topo.pin_dir) > 0);
        for (&port, name) in &first {
            let (again, _) = udp_from(port, at(30053)).expect("NodePort UDP after CT flush");
            assert_eq!(
                &again, name,
                "Maglev alone keeps port {port} on its backend"
            );
        }

        // ClientIP affinity: every connection of this client on one backend.
        let names: BTreeSet<String> = (0..16)
            .map(|_| {
                tcp_ask(at(30081), Duration::from_millis(1500))
                    .expect("affinity")
                    .0
            })
            .collect();
        assert_eq!(
            names.len(),
            1,
            "affinity keeps the client on one backend: {names:?}"
        );

        // externalTrafficPolicy=Local: only the node-local backend.
        let names: BTreeSet<String> = (0..16)
            .map(|_| {
                tcp_ask(at(30082), Duration::from_millis(1500))
                    .expect("local")
                    .0
            })
            .collect();
        assert_eq!(names, BTreeSet::from(["b2".to_owned()]));
    });
    let _ = drain(&mut ring);
    // Local without a node-local backend: dropped with 158 at the node interface.
    let refused = in_netns(&outside.ns, || {
        std::net::TcpStream::connect_timeout(&at(30083), Duration::from_millis(500))
    });
    assert!(refused.is_err(), "no local backend: the SYN is dropped");
    let events = drain(&mut ring);
    assert!(
        events.iter().any(|e| matches!(e, Event::Drop(d)
            if d.hdr.subtype == CIL_DROP_NO_SERVICE && d.tuple.dport.get() == 30083
                && d.tuple.daddr[..4] == [192, 168, 77, 1])),
        "drop 158 for the Local service without local backends: {events:?}"
    );

    // Detaching the node programs: NodePort is gone, nothing else changed.
    let removed = in_netns(&topo.node, || dp.detach_netdev(outside.node_ifindex)).unwrap();
    assert_eq!(removed, 2);
    let gone = in_netns(&outside.ns, || {
        std::net::TcpStream::connect_timeout(&at(30080), Duration::from_millis(500))
    });
    assert!(
        gone.is_err(),
        "without the node programs nothing listens on the NodePort"
    );
    drop(lb);
    dp.teardown().expect("teardown");
    drop(outside);
    drop(topo);
}
