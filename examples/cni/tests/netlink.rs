//! The rtnetlink code against the kernel, in two network namespaces this test creates
//! (`cilrs-cnitest-<pid>-<test>-node` plays the node, `…-pod` the pod), checked with
//! `ip -n … addr/route/neigh show` and a ping between them.
//!
//! Needs root (`CAP_NET_ADMIN` + `CAP_SYS_ADMIN`) and `ip` from iproute2; see `support` for
//! the skip-or-fail rule and the namespace guard.

use std::net::Ipv4Addr;
use std::process::Command;

use cilium_cni::commands::{compare, expected_from_prev};
use cilium_cni::netns::NetNs;
use cilium_cni::node::{NodeError, Plumbing};
use cilium_cni::result::{AddOutput, add_result};
use cilium_cni::{LinuxNode, Node, SpecVersion, host_ifname};

mod support;

use support::Namespaces;

fn linux_node(ns: &Namespaces) -> LinuxNode {
    LinuxNode::in_netns(NetNs::open(&ns.node_path()).expect("open node netns"))
}

/// `ip -n <ns> <args>`'s stdout; panics on failure.
fn ip(ns: &str, args: &[&str]) -> String {
    let out = Command::new("ip")
        .arg("-n")
        .arg(ns)
        .args(args)
        .output()
        .expect("run ip");
    assert!(
        out.status.success(),
        "ip -n {ns} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn ip_fails(ns: &str, args: &[&str]) -> bool {
    !Command::new("ip")
        .arg("-n")
        .arg(ns)
        .args(args)
        .output()
        .expect("run ip")
        .status
        .success()
}

fn in_ns(ns: &str, cmd: &[&str]) -> (bool, String) {
    let out = Command::new("ip")
        .args(["netns", "exec", ns])
        .args(cmd)
        .output()
        .expect("run ip netns exec");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn assert_has(text: &str, want: &str, what: &str) {
    assert!(text.contains(want), "{what}: {want:?} not in\n{text}");
}

#[test]
fn veth_addresses_routes_neighbours_and_back() {
    let Some(ns) = Namespaces::create("wire") else {
        return;
    };
    let node = linux_node(&ns);
    let ip_addr = Ipv4Addr::new(10, 211, 0, 5);
    let host = host_ifname(&format!("cilrs-cnitest-{}", std::process::id()), "eth0");
    let plumbing = Plumbing {
        netns: ns.pod_path(),
        ifname: "eth0".into(),
        host_ifname: host.clone(),
        mtu: 1400,
        ip: ip_addr,
        prefix_len: 32,
        gateway: Ipv4Addr::new(169, 254, 1, 1),
    };
    let done = node.plumb(&plumbing).expect("plumb");

    // The pod side.
    let pod_link = ip(&ns.pod, &["-o", "link", "show", "eth0"]);
    assert_has(&pod_link, "mtu 1400", "pod link");
    assert_has(&pod_link, &done.container_mac.to_string(), "pod link");
    assert_has(&pod_link, "UP", "pod link");
    assert_has(
        &ip(&ns.pod, &["-o", "-4", "addr", "show", "dev", "eth0"]),
        "inet 10.211.0.5/32",
        "pod address",
    );
    let routes = ip(&ns.pod, &["-4", "route", "show"]);
    assert_has(&routes, "default via 169.254.1.1 dev eth0", "pod routes");
    assert_has(&routes, "169.254.1.1 dev eth0 scope link", "pod routes");
    assert_has(
        &ip(&ns.pod, &["-4", "neigh", "show"]),
        &format!("169.254.1.1 dev eth0 lladdr {} PERMANENT", done.host_mac),
        "pod neighbours",
    );
    assert_has(
        &ip(&ns.pod, &["-o", "link", "show", "lo"]),
        "UP",
        "pod loopback",
    );

    // The node side.
    let host_link = ip(&ns.node, &["-o", "link", "show", &host]);
    assert_has(&host_link, "mtu 1400", "host link");
    assert_has(&host_link, &done.host_mac.to_string(), "host link");
    assert_has(
        &host_link,
        &format!("{}: {host}@", done.host_ifindex),
        "host link",
    );
    assert_has(
        &ip(&ns.node, &["-4", "route", "show"]),
        &format!("10.211.0.5 dev {host} scope link"),
        "node routes",
    );
    assert_has(
        &ip(&ns.node, &["-4", "neigh", "show"]),
        &format!(
            "10.211.0.5 dev {host} lladdr {} PERMANENT",
            done.container_mac
        ),
        "node neighbours",
    );
    let rp = format!("/proc/sys/net/ipv4/conf/{host}/rp_filter");
    assert_eq!(in_ns(&ns.node, &["cat", &rp]).1.trim(), "0", "rp_filter");
    assert_eq!(
        in_ns(&ns.node, &["cat", "/proc/sys/net/ipv4/ip_forward"])
            .1
            .trim(),
        "1",
        "ip_forward"
    );
    assert!(
        !Command::new("ip")
            .args(["link", "show", &host])
            .output()
            .expect("ip")
            .status
            .success(),
        "the veth must not be in the test runner's own namespace"
    );

    // Traffic between the two namespaces: no ARP, both neighbours are permanent.
    ip(&ns.node, &["addr", "add", "10.211.0.1/32", "dev", "lo"]);
    ip(&ns.node, &["link", "set", "lo", "up"]);
    if Command::new("ping").arg("-V").output().is_ok() {
        let (ok, out) = in_ns(&ns.node, &["ping", "-c", "1", "-W", "2", "10.211.0.5"]);
        assert!(ok && out.contains("1 received"), "ping node → pod: {out}");
    } else {
        eprintln!("no ping installed: skipping the traffic check");
    }

    // Read back, as CHECK does: nothing differs from the ADD result.
    let result = add_result(
        SpecVersion::V1_1_0,
        &AddOutput {
            host_ifname: host.clone(),
            host_mac: done.host_mac,
            ifname: "eth0".into(),
            container_mac: done.container_mac,
            sandbox: plumbing.netns.clone(),
            mtu: 1400,
            ip: ip_addr,
            prefix_len: 32,
            gateway: plumbing.gateway,
        },
        None,
    );
    let (expected, problems) = expected_from_prev(result.as_object().expect("object"), "eth0");
    assert!(problems.is_empty(), "{problems:?}");
    let live = node
        .inspect(&plumbing.netns, "eth0", &host)
        .expect("inspect");
    let diff = compare(&expected, &live, "eth0", &plumbing.netns, &host);
    assert!(diff.is_empty(), "{diff:?}");

    // A second ADD of the same attachment: refused, and recognised as ours.
    match node.plumb(&plumbing) {
        Err(NodeError::IfnameExists { ours: true, .. }) => {}
        other => panic!("second plumb: {other:?}"),
    }

    // DEL: the veth goes, its peer with it; a second DEL finds nothing.
    assert!(node.unplumb(&host).expect("unplumb"));
    assert!(
        ip_fails(&ns.pod, &["link", "show", "eth0"]),
        "pod side gone"
    );
    assert!(
        ip_fails(&ns.node, &["link", "show", &host]),
        "host side gone"
    );
    assert!(!ip(&ns.node, &["-4", "route", "show"]).contains("10.211.0.5"));
    assert!(!node.unplumb(&host).expect("second unplumb"));
    let live = node
        .inspect(&plumbing.netns, "eth0", &host)
        .expect("inspect");
    assert!(live.container.is_none() && live.host.is_none());
    let diff = compare(&expected, &live, "eth0", &plumbing.netns, &host);
    assert!(diff.iter().any(|d| d.contains("is missing")), "{diff:?}");
}

#[test]
fn a_taken_ifname_or_a_bad_netns_change_nothing() {
    let Some(ns) = Namespaces::create("taken") else {
        return;
    };
    let node = linux_node(&ns);
    ip(
        &ns.pod,
        &[
            "link", "add", "eth0", "type", "veth", "peer", "name", "other0",
        ],
    );
    let host = host_ifname("taken", "eth0");
    let mut plumbing = Plumbing {
        netns: ns.pod_path(),
        ifname: "eth0".into(),
        host_ifname: host.clone(),
        mtu: 1500,
        ip: Ipv4Addr::new(10, 211, 0, 6),
        prefix_len: 32,
        gateway: Ipv4Addr::new(169, 254, 1, 1),
    };
    match node.plumb(&plumbing) {
        Err(NodeError::IfnameExists { ours: false, .. }) => {}
        other => panic!("plumb over an existing eth0: {other:?}"),
    }
    assert!(
        ip_fails(&ns.node, &["link", "show", &host]),
        "nothing created"
    );

    plumbing.netns = format!("/run/netns/{}-absent", ns.pod);
    assert!(matches!(
        node.plumb(&plumbing),
        Err(NodeError::Netns { .. })
    ));
    plumbing.netns = "/etc/hostname".into();
    match node.plumb(&plumbing) {
        Err(e @ NodeError::Netns { .. }) => {
            let text = cilium_cni::error::chain(&e);
            assert!(text.contains("not a network namespace"), "{text}");
        }
        other => panic!("plumb into a regular file: {other:?}"),
    }
    assert_eq!(
        ip(&ns.node, &["-o", "link", "show"]).lines().count(),
        1,
        "only lo in the node namespace"
    );
}

#[test]
fn a_leftover_host_veth_is_replaced() {
    let Some(ns) = Namespaces::create("stale") else {
        return;
    };
    let node = linux_node(&ns);
    let host = host_ifname("stale", "eth0");
    // A veth of our name whose peer is somewhere else (here: still in the node namespace).
    ip(
        &ns.node,
        &[
            "link", "add", &host, "type", "veth", "peer", "name", "orphan0",
        ],
    );
    let plumbing = Plumbing {
        netns: ns.pod_path(),
        ifname: "eth0".into(),
        host_ifname: host.clone(),
        mtu: 1500,
        ip: Ipv4Addr::new(10, 211, 0, 7),
        prefix_len: 32,
        gateway: Ipv4Addr::new(169, 254, 1, 1),
    };
    node.plumb(&plumbing).expect("plumb over a leftover");
    assert!(
        ip_fails(&ns.node, &["link", "show", "orphan0"]),
        "old pair gone"
    );
    assert_has(
        &ip(&ns.pod, &["-o", "-4", "addr", "show", "dev", "eth0"]),
        "inet 10.211.0.7/32",
        "pod address",
    );
    assert!(node.unplumb(&host).expect("unplumb"));
}
