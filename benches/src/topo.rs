//! The three-namespace topology of the system benchmarks: a client "pod", a "node" that
//! routes (where kube-proxy rules or our TC programs sit) and a server "pod", joined by veths.
//!
//! Pods have a /32 on `eth0` and a default route via a link-local gateway whose MAC is the
//! node-side veth's, with permanent neighbour entries on both sides (no ARP). The node has a
//! /32 route per pod and nothing else: traffic to a service VIP that no load balancer
//! translated is unroutable in the node namespace and dies there. Every namespace is deleted
//! on drop, which removes the veths, the TC attachments and any iptables rules.

use std::net::Ipv4Addr;

use anyhow::{Context, Result};

use crate::sys::{in_netns, ip, sysctl, unique_name};

/// One pod: its address and the veth pair joining it to the node.
#[derive(Debug, Clone, Copy)]
pub struct Pod {
    /// The pod's address (a /32 on its `eth0`).
    pub addr: Ipv4Addr,
    /// The node-side veth's name (in the node namespace).
    pub veth: &'static str,
    /// The pod-side MAC.
    pub mac: &'static str,
    /// The node-side MAC (the pod's gateway).
    pub node_mac: &'static str,
}

/// The client pod, inside the cluster CIDR (so kube-proxy rules do not masquerade it).
pub const CLIENT: Pod = Pod {
    addr: Ipv4Addr::new(10, 244, 1, 2),
    veth: "cilc",
    mac: "02:00:0a:f4:01:02",
    node_mac: "02:00:00:00:01:01",
};

/// The server pod (the backend of every service).
pub const SERVER: Pod = Pod {
    addr: Ipv4Addr::new(10, 244, 2, 2),
    veth: "cils",
    mac: "02:00:0a:f4:02:02",
    node_mac: "02:00:00:00:02:01",
};

/// The cluster (pod) CIDR that `CLIENT` and `SERVER` are in.
pub const CLUSTER_CIDR: &str = "10.244.0.0/16";

const GATEWAY: &str = "169.254.1.1";

/// Network namespaces `client`, `node`, `server`; all deleted on drop.
#[derive(Debug)]
pub struct Topology {
    /// The client pod's namespace.
    pub client: String,
    /// The node's namespace (router).
    pub node: String,
    /// The server pod's namespace.
    pub server: String,
    created: Vec<String>,
}

impl Drop for Topology {
    fn drop(&mut self) {
        for ns in self.created.iter().rev() {
            if let Err(e) = ip(&["netns", "del", ns]) {
                eprintln!("warning: {e}");
            }
        }
    }
}

impl Topology {
    /// Builds the topology with namespaces named `cilrs-bench-<pid>-<tag>-{client,node,server}`.
    pub fn build(tag: &str) -> Result<Self> {
        let mut topo = Topology {
            client: unique_name(&format!("{tag}-client")),
            node: unique_name(&format!("{tag}-node")),
            server: unique_name(&format!("{tag}-server")),
            created: Vec::new(),
        };
        let node = topo.node.clone();
        ip(&["netns", "add", &node])?;
        topo.created.push(node.clone());
        ip(&["-n", &node, "link", "set", "lo", "up"])?;
        for (pod, ns) in [(CLIENT, topo.client.clone()), (SERVER, topo.server.clone())] {
            ip(&["netns", "add", &ns])?;
            topo.created.push(ns.clone());
            add_pod(&node, &ns, &pod)?;
        }
        in_netns(&node, || sysctl("net/ipv4/ip_forward", "1"))?;
        // Many short connections to one destination: a wide port range, and reuse of
        // TIME_WAIT ports (as a busy client would be configured).
        in_netns(&topo.client, || {
            sysctl("net/ipv4/ip_local_port_range", "1024 65535")?;
            sysctl("net/ipv4/tcp_tw_reuse", "1")
        })?;
        Ok(topo)
    }

    /// The ifindex of a pod's node-side veth.
    pub fn node_ifindex(&self, pod: &Pod) -> Result<u32> {
        let out = ip(&["-n", &self.node, "-o", "link", "show", pod.veth])?;
        out.split(':')
            .next()
            .and_then(|s| s.trim().parse().ok())
            .with_context(|| format!("ifindex of {} in {}: {out}", pod.veth, self.node))
    }
}

fn add_pod(node: &str, ns: &str, pod: &Pod) -> Result<()> {
    let addr = pod.addr.to_string();
    let addr32 = format!("{addr}/32");
    ip(&[
        "-n",
        node,
        "link",
        "add",
        pod.veth,
        "address",
        pod.node_mac,
        "type",
        "veth",
        "peer",
        "name",
        "eth0",
        "netns",
        ns,
    ])?;
    ip(&["-n", ns, "link", "set", "eth0", "address", pod.mac])?;
    ip(&["-n", ns, "link", "set", "lo", "up"])?;
    ip(&["-n", ns, "link", "set", "eth0", "up"])?;
    ip(&["-n", ns, "addr", "add", &addr32, "dev", "eth0"])?;
    ip(&[
        "-n", ns, "route", "add", GATEWAY, "dev", "eth0", "scope", "link",
    ])?;
    ip(&[
        "-n", ns, "route", "add", "default", "via", GATEWAY, "dev", "eth0",
    ])?;
    ip(&[
        "-n",
        ns,
        "neigh",
        "add",
        GATEWAY,
        "lladdr",
        pod.node_mac,
        "dev",
        "eth0",
        "nud",
        "permanent",
    ])?;
    ip(&["-n", node, "link", "set", pod.veth, "up"])?;
    ip(&["-n", node, "route", "add", &addr32, "dev", pod.veth])?;
    ip(&[
        "-n",
        node,
        "neigh",
        "add",
        &addr,
        "lladdr",
        pod.mac,
        "dev",
        pod.veth,
        "nud",
        "permanent",
    ])?;
    Ok(())
}
