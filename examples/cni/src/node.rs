//! What the plugin does to the node's and the pod's network namespaces, behind the [`Node`]
//! trait so the command handlers can be tested without root ([`LinuxNode`] is the real one).
//!
//! The wiring of one attachment (Cilium's, for IPv4):
//!
//! ```text
//!  pod netns                                  node netns (where the runtime runs us)
//!  eth0  ip/32                     <-veth->   lxcXXXXXXXXXXX  (up, rp_filter=0)
//!   route 169.254.1.1 dev eth0 scope link      route ip/32 dev lxc… scope link
//!   default via 169.254.1.1 dev eth0           neigh ip lladdr <eth0 MAC> PERMANENT
//!   neigh 169.254.1.1 lladdr <lxc MAC> PERMANENT
//! ```
//!
//! The gateway address is nobody's: the datapath on the host veth takes every packet, so
//! nothing answers ARP, and both neighbour entries are permanent.

use std::fs;
use std::io;
use std::net::Ipv4Addr;
use std::os::fd::AsFd;

use crate::netlink::{Link, MacAddr, Neigh, Netlink, NetlinkError, RT_SCOPE_LINK, Route};
use crate::netns::NetNs;

/// What [`Node::plumb`] builds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plumbing {
    /// `CNI_NETNS`.
    pub netns: String,
    /// `CNI_IFNAME`: the pod side's name.
    pub ifname: String,
    /// The host side's name ([`crate::naming::host_ifname`]).
    pub host_ifname: String,
    /// MTU of both ends.
    pub mtu: u32,
    /// The pod's address.
    pub ip: Ipv4Addr,
    /// Its prefix length (32).
    pub prefix_len: u8,
    /// The pod's next hop ([`cilium_agent_api::GATEWAY`]).
    pub gateway: Ipv4Addr,
}

/// What [`Node::plumb`] built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plumbed {
    /// The host side's index in the node namespace.
    pub host_ifindex: u32,
    /// The host side's MAC.
    pub host_mac: MacAddr,
    /// The pod side's MAC.
    pub container_mac: MacAddr,
}

/// An interface with its addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkState {
    /// The interface.
    pub link: Link,
    /// Its IPv4 addresses.
    pub addrs: Vec<(Ipv4Addr, u8)>,
}

/// What CHECK compares with the ADD result: both sides as they are now.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LiveState {
    /// The pod side (`None`: no interface of that name in the namespace).
    pub container: Option<LinkState>,
    /// Main-table routes of the pod namespace.
    pub container_routes: Vec<Route>,
    /// Neighbours of the pod namespace.
    pub container_neighs: Vec<Neigh>,
    /// The host side (`None`: missing).
    pub host: Option<LinkState>,
    /// Main-table routes of the node namespace.
    pub host_routes: Vec<Route>,
    /// Neighbours of the node namespace.
    pub host_neighs: Vec<Neigh>,
}

/// What can go wrong on the node.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// `CNI_NETNS` cannot be opened or is not a network namespace.
    #[error("network namespace {path}")]
    Netns {
        /// `CNI_NETNS`.
        path: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// `CNI_IFNAME` is taken in the pod namespace.
    #[error("interface {ifname} already exists in {netns}")]
    IfnameExists {
        /// `CNI_IFNAME`.
        ifname: String,
        /// `CNI_NETNS`.
        netns: String,
        /// The host veth of this attachment exists too: most likely this very attachment
        /// was added before (a repeated ADD), so its address must not be released.
        ours: bool,
    },
    /// A netlink request failed.
    #[error(transparent)]
    Netlink(#[from] NetlinkError),
    /// Writing a sysctl failed.
    #[error("sysctl {path}")]
    Sysctl {
        /// The `/proc/sys` path.
        path: String,
        /// Why.
        #[source]
        source: io::Error,
    },
}

/// The node operations the command handlers need.
pub trait Node {
    /// Creates the veth pair and configures both sides (see the module doc). Fails with
    /// [`NodeError::IfnameExists`] before changing anything if `CNI_IFNAME` is taken; a
    /// leftover host veth of the same name (an earlier attachment whose cleanup did not
    /// happen) is replaced. On any later failure the veth is deleted again.
    ///
    /// # Errors
    ///
    /// See [`NodeError`].
    fn plumb(&self, p: &Plumbing) -> Result<Plumbed, NodeError>;

    /// Deletes the host veth `host_ifname` (and with it the pod side, its routes and
    /// neighbours). `Ok(false)` when it did not exist.
    ///
    /// # Errors
    ///
    /// A netlink error other than "no such device".
    fn unplumb(&self, host_ifname: &str) -> Result<bool, NodeError>;

    /// Reads both sides back.
    ///
    /// # Errors
    ///
    /// The namespace cannot be entered, or a netlink dump failed.
    fn inspect(&self, netns: &str, ifname: &str, host_ifname: &str)
    -> Result<LiveState, NodeError>;
}

/// The real node: rtnetlink in the node namespace and in `CNI_NETNS`.
#[derive(Debug, Default)]
pub struct LinuxNode {
    /// The node namespace; `None` = the process's own (what the runtime gave us).
    node_ns: Option<NetNs>,
}

impl LinuxNode {
    /// The node is the namespace the plugin runs in (the CNI contract).
    pub fn current() -> LinuxNode {
        LinuxNode { node_ns: None }
    }

    /// The node is `ns` (tests: a namespace they created, so nothing touches the real
    /// host's links or sysctls).
    pub fn in_netns(ns: NetNs) -> LinuxNode {
        LinuxNode { node_ns: Some(ns) }
    }

    fn host_netlink(&self) -> Result<Netlink, NetlinkError> {
        match &self.node_ns {
            None => Netlink::open(),
            Some(ns) => Netlink::open_in(ns),
        }
    }

    /// Writes the node-side sysctls: `rp_filter=0` on the host veth (replies come back
    /// through a different path than the kernel would choose), and `ip_forward=1` when it
    /// is 0 (pod traffic is routed by the node).
    fn node_sysctls(&self, host_ifname: &str) -> Result<(), NodeError> {
        let write = || -> Result<(), NodeError> {
            let rp = format!("/proc/sys/net/ipv4/conf/{host_ifname}/rp_filter");
            write_sysctl(&rp, "0")?;
            let fwd = "/proc/sys/net/ipv4/ip_forward";
            let now = fs::read_to_string(fwd).map_err(|source| NodeError::Sysctl {
                path: fwd.into(),
                source,
            })?;
            if now.trim() == "0" {
                write_sysctl(fwd, "1")?;
            }
            Ok(())
        };
        match &self.node_ns {
            None => write(),
            Some(ns) => ns.run(write).map_err(|source| NodeError::Netns {
                path: ns.path().to_owned(),
                source,
            })?,
        }
    }

    /// Everything after the veth exists; the caller deletes it if this fails.
    fn configure(
        &self,
        p: &Plumbing,
        host_nl: &Netlink,
        pod_nl: &Netlink,
    ) -> Result<Plumbed, NodeError> {
        let host = must_link(host_nl, &p.host_ifname)?;
        let pod = must_link(pod_nl, &p.ifname)?;
        let host_mac = host.mac.ok_or_else(|| no_mac(&host.name))?;
        let pod_mac = pod.mac.ok_or_else(|| no_mac(&pod.name))?;

        self.node_sysctls(&p.host_ifname)?;
        host_nl.link_up(&host)?;
        host_nl.route_replace(&Route {
            dst: p.ip,
            dst_len: 32,
            gateway: None,
            oif: Some(host.index),
            scope: RT_SCOPE_LINK,
        })?;
        host_nl.neigh_replace(&host, p.ip, pod_mac)?;

        let lo = must_link(pod_nl, "lo")?;
        pod_nl.link_up(&lo)?;
        pod_nl.link_up(&pod)?;
        pod_nl.addr_add(&pod, p.ip, p.prefix_len)?;
        pod_nl.route_replace(&Route {
            dst: p.gateway,
            dst_len: 32,
            gateway: None,
            oif: Some(pod.index),
            scope: RT_SCOPE_LINK,
        })?;
        pod_nl.route_replace(&Route {
            dst: Ipv4Addr::UNSPECIFIED,
            dst_len: 0,
            gateway: Some(p.gateway),
            oif: Some(pod.index),
            scope: crate::netlink::RT_SCOPE_UNIVERSE,
        })?;
        pod_nl.neigh_replace(&pod, p.gateway, host_mac)?;
        Ok(Plumbed {
            host_ifindex: host.index,
            host_mac,
            container_mac: pod_mac,
        })
    }
}

fn write_sysctl(path: &str, value: &str) -> Result<(), NodeError> {
    fs::write(path, value).map_err(|source| NodeError::Sysctl {
        path: path.into(),
        source,
    })
}

fn must_link(nl: &Netlink, name: &str) -> Result<Link, NodeError> {
    nl.link(name)?.ok_or_else(|| {
        NodeError::Netlink(NetlinkError::Kernel {
            op: format!("look up link {name}"),
            errno: libc::ENODEV,
            ext: Some("it vanished right after it was created".into()),
        })
    })
}

fn no_mac(name: &str) -> NodeError {
    NodeError::Netlink(NetlinkError::Malformed {
        op: format!("look up link {name}"),
        what: "the interface has no MAC address",
    })
}

fn open_netns(path: &str) -> Result<NetNs, NodeError> {
    NetNs::open(path).map_err(|source| NodeError::Netns {
        path: path.to_owned(),
        source,
    })
}

fn pod_netlink(ns: &NetNs) -> Result<Netlink, NodeError> {
    Netlink::open_in(ns).map_err(|e| match e {
        NetlinkError::Socket { source, .. } => NodeError::Netns {
            path: ns.path().to_owned(),
            source,
        },
        other => other.into(),
    })
}

fn link_state(nl: &Netlink, name: &str) -> Result<Option<LinkState>, NodeError> {
    let Some(link) = nl.link(name)? else {
        return Ok(None);
    };
    let addrs = nl.addrs(link.index)?;
    Ok(Some(LinkState { link, addrs }))
}

impl Node for LinuxNode {
    fn plumb(&self, p: &Plumbing) -> Result<Plumbed, NodeError> {
        let ns = open_netns(&p.netns)?;
        let pod_nl = pod_netlink(&ns)?;
        let host_nl = self.host_netlink()?;
        if pod_nl.link(&p.ifname)?.is_some() {
            return Err(NodeError::IfnameExists {
                ifname: p.ifname.clone(),
                netns: p.netns.clone(),
                ours: host_nl.link(&p.host_ifname)?.is_some(),
            });
        }
        // The name is this attachment's; a leftover one has its peer elsewhere (or
        // nowhere), since CNI_IFNAME is free in CNI_NETNS.
        if host_nl.link_del(&p.host_ifname)? {
            eprintln!(
                "cilium-cni: replaced a leftover host veth {} of this attachment",
                p.host_ifname
            );
        }
        host_nl.veth_add(&p.host_ifname, &p.ifname, p.mtu, ns.as_fd())?;
        self.configure(p, &host_nl, &pod_nl).inspect_err(|_| {
            if let Err(e) = host_nl.link_del(&p.host_ifname) {
                eprintln!("cilium-cni: undoing a failed ADD: {e}");
            }
        })
    }

    fn unplumb(&self, host_ifname: &str) -> Result<bool, NodeError> {
        Ok(self.host_netlink()?.link_del(host_ifname)?)
    }

    fn inspect(
        &self,
        netns: &str,
        ifname: &str,
        host_ifname: &str,
    ) -> Result<LiveState, NodeError> {
        let ns = open_netns(netns)?;
        let pod_nl = pod_netlink(&ns)?;
        let host_nl = self.host_netlink()?;
        Ok(LiveState {
            container: link_state(&pod_nl, ifname)?,
            container_routes: pod_nl.routes()?,
            container_neighs: pod_nl.neighs()?,
            host: link_state(&host_nl, host_ifname)?,
            host_routes: host_nl.routes()?,
            host_neighs: host_nl.neighs()?,
        })
    }
}
