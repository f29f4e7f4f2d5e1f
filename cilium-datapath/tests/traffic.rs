//! Real traffic through the endpoint programs: two "pods" in network namespaces behind a
//! "node" namespace that routes between them, the programs attached with TC (TCX on this
//! kernel) to the node-side veths, TCP connections allowed or dropped by policy.
//!
//! Privileged: with `CILIUM_PRIVILEGED_TESTS=1` a missing capability is a failure. Every
//! namespace the test creates is deleted when it ends (which removes the veths and the
//! attachments); the pins are removed too. No traffic leaves the test's namespaces.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use cilium_datapath::{Datapath, DatapathConfig};
use cilium_maps::abi::{consts::*, *};
use cilium_maps::events::Event;

fn ip(args: &[&str]) -> Result<String, String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("run ip: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs `f` on a thread that has entered network namespace `ns`.
fn in_netns<T: Send>(ns: &str, f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        s.spawn(|| {
            let file = File::open(format!("/var/run/netns/{ns}")).expect("open netns");
            // SAFETY: setns on this thread only, with a valid namespace fd we keep open.
            let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(rc, 0, "setns {ns}: {}", std::io::Error::last_os_error());
            f()
        })
        .join()
        .expect("netns thread")
    })
}

/// Namespaces and pins of one test, removed on drop.
struct Topology {
    node: String,
    pods: Vec<String>,
    pin_dir: PathBuf,
}

impl Drop for Topology {
    fn drop(&mut self) {
        for ns in self.pods.iter().chain(std::iter::once(&self.node)) {
            let _ = ip(&["netns", "del", ns]);
        }
        let _ = std::fs::remove_dir_all(&self.pin_dir);
    }
}

struct Pod {
    addr: &'static str,
    veth: &'static str,
    mac: &'static str,
    node_mac: &'static str,
}

const POD_A: Pod = Pod {
    addr: "10.200.0.1",
    veth: "cila",
    mac: "02:00:0a:c8:00:01",
    node_mac: "02:00:00:00:00:01",
};
const POD_B: Pod = Pod {
    addr: "10.200.0.2",
    veth: "cilb",
    mac: "02:00:0a:c8:00:02",
    node_mac: "02:00:00:00:00:02",
};

fn build(tag: &str) -> Result<Topology, String> {
    let pid = std::process::id();
    let topo = Topology {
        node: format!("cilrs-{tag}-node-{pid}"),
        pods: vec![
            format!("cilrs-{tag}-a-{pid}"),
            format!("cilrs-{tag}-b-{pid}"),
        ],
        pin_dir: PathBuf::from(format!("/sys/fs/bpf/cilium-rs-test-{tag}-{pid}")),
    };
    ip(&["netns", "add", &topo.node])?;
    let node = topo.node.as_str();
    ip(&["-n", node, "link", "set", "lo", "up"])?;
    for (pod, ns) in [POD_A, POD_B].iter().zip(&topo.pods) {
        ip(&["netns", "add", ns])?;
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
        ip(&[
            "-n",
            ns,
            "addr",
            "add",
            &format!("{}/32", pod.addr),
            "dev",
            "eth0",
        ])?;
        ip(&[
            "-n",
            ns,
            "route",
            "add",
            "169.254.1.1",
            "dev",
            "eth0",
            "scope",
            "link",
        ])?;
        ip(&[
            "-n",
            ns,
            "route",
            "add",
            "default",
            "via",
            "169.254.1.1",
            "dev",
            "eth0",
        ])?;
        ip(&[
            "-n",
            ns,
            "neigh",
            "add",
            "169.254.1.1",
            "lladdr",
            pod.node_mac,
            "dev",
            "eth0",
            "nud",
            "permanent",
        ])?;
        ip(&["-n", node, "link", "set", pod.veth, "up"])?;
        ip(&[
            "-n",
            node,
            "route",
            "add",
            &format!("{}/32", pod.addr),
            "dev",
            pod.veth,
        ])?;
        ip(&[
            "-n",
            node,
            "neigh",
            "add",
            pod.addr,
            "lladdr",
            pod.mac,
            "dev",
            pod.veth,
            "nud",
            "permanent",
        ])?;
    }
    in_netns(node, || {
        std::fs::write("/proc/sys/net/ipv4/ip_forward", "1")
    })
    .map_err(|e| format!("enable forwarding in the node namespace: {e}"))?;
    Ok(topo)
}

fn ifindex(ns: &str, dev: &str) -> u32 {
    let out = ip(&["-n", ns, "-o", "link", "show", dev]).unwrap();
    out.split(':').next().unwrap().trim().parse().unwrap()
}

/// Connects from `from_ns` to `to`, sends a line, expects it echoed back.
fn exchange(from_ns: &str, to: SocketAddr) -> Result<(), String> {
    in_netns(from_ns, || {
        let mut s = TcpStream::connect_timeout(&to, Duration::from_millis(700))
            .map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        s.write_all(b"hello\n").map_err(|e| e.to_string())?;
        let mut buf = [0u8; 6];
        s.read_exact(&mut buf).map_err(|e| e.to_string())?;
        (&buf == b"hello\n")
            .then_some(())
            .ok_or_else(|| "wrong echo".to_owned())
    })
}

/// An echo server in `ns` on `port`, serving until the test ends.
fn echo_server(ns: &str, addr: &'static str, port: u16) {
    let ns = ns.to_owned();
    let listener = in_netns(&ns, || {
        TcpListener::bind((addr, port)).expect("bind in pod namespace")
    });
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let mut buf = [0u8; 6];
            if conn.read_exact(&mut buf).is_ok() {
                let _ = conn.write_all(&buf);
            }
        }
    });
}

#[test]
fn policy_decides_real_tcp_connections_between_namespaces() {
    let strict = std::env::var("CILIUM_PRIVILEGED_TESTS").as_deref() == Ok("1");
    let topo = match build("traffic") {
        Ok(t) => t,
        Err(e) => {
            if strict {
                panic!("CILIUM_PRIVILEGED_TESTS=1 but the test topology cannot be built: {e}");
            }
            eprintln!("skipping: cannot build network namespaces ({e})");
            return;
        }
    };
    let mut dp = Datapath::load(&DatapathConfig::new(&topo.pin_dir)).expect("load datapath");
    let mut events = dp.take_events().unwrap();
    let node = topo.node.clone();

    // Endpoints and their policies: A may reach B on TCP 8080 only; B accepts A on 8080 only.
    let ready = CIL_ENDPOINT_F_POLICY_READY
        | CIL_ENDPOINT_F_ENFORCE_INGRESS
        | CIL_ENDPOINT_F_ENFORCE_EGRESS;
    let (id_a, id_b) = (1000u32, 2000u32);
    let mut eps = dp.endpoints().unwrap();
    for (pod, ep_id, identity) in [(&POD_A, 1u16, id_a), (&POD_B, 2u16, id_b)] {
        let info = EndpointInfo {
            ifindex: ifindex(&node, pod.veth),
            endpoint_id: ep_id,
            identity,
            flags: ready,
            ..bytemuck::Zeroable::zeroed()
        };
        eps.insert(&EndpointKey::new(pod.addr.parse().unwrap()), &info)
            .unwrap();
    }
    dp.endpoint_policy(1)
        .unwrap()
        .insert(
            &PolicyKey::new(id_b, CIL_DIR_EGRESS, 6, 8080, 16),
            &PolicyEntry::allow(0),
        )
        .unwrap();
    let mut policy_b = dp.endpoint_policy(2).unwrap();
    policy_b
        .insert(
            &PolicyKey::new(id_a, CIL_DIR_INGRESS, 6, 8080, 16),
            &PolicyEntry::allow(0),
        )
        .unwrap();
    // B may send to A on 8080 (so that A's own ingress policy is what stops it).
    policy_b
        .insert(
            &PolicyKey::new(id_a, CIL_DIR_EGRESS, 6, 8080, 16),
            &PolicyEntry::allow(0),
        )
        .unwrap();
    // B is also allowed to be reached on 9090 at B, but A's egress does not allow it.
    policy_b
        .insert(
            &PolicyKey::new(id_a, CIL_DIR_INGRESS, 6, 9090, 16),
            &PolicyEntry::allow(0),
        )
        .unwrap();

    // Attach in the node namespace (TCX links, pinned under the instance directory).
    in_netns(&node, || {
        for pod in [&POD_A, &POD_B] {
            dp.attach_endpoint(ifindex(&node, pod.veth))
                .expect("attach endpoint programs");
        }
    });
    assert_eq!(dp.links().unwrap().len(), 4, "{:?}", dp.links());

    let (ns_a, ns_b) = (&topo.pods[0], &topo.pods[1]);
    echo_server(ns_b, POD_B.addr, 8080);
    echo_server(ns_b, POD_B.addr, 9090);
    echo_server(ns_a, POD_A.addr, 8080);
    let b = |port| SocketAddr::new(POD_B.addr.parse::<IpAddr>().unwrap(), port);
    let a = |port| SocketAddr::new(POD_A.addr.parse::<IpAddr>().unwrap(), port);

    while events.next().is_some() {}
    exchange(ns_a, b(8080)).expect("A -> B:8080 is allowed both ways");
    // A's egress policy does not allow 9090, although B would accept it.
    assert!(
        exchange(ns_a, b(9090)).is_err(),
        "A -> B:9090 must be dropped by A's egress policy"
    );
    // B may not open connections to A: B's egress allows it, A has no ingress allow.
    assert!(
        exchange(ns_b, a(8080)).is_err(),
        "B -> A:8080 must be dropped by A's ingress policy"
    );

    let mut seen = Vec::new();
    while let Some(item) = events.next() {
        seen.push(Event::parse(&item).unwrap());
    }
    let verdict = |ep: u16, dir: u8, dport: u16| {
        seen.iter().find_map(|e| match e {
            Event::PolicyVerdict(v)
                if v.hdr.endpoint_id == ep
                    && v.direction == dir
                    && v.tuple.dport.get() == dport =>
            {
                Some(*v)
            }
            _ => None,
        })
    };
    let allowed = verdict(1, CIL_DIR_EGRESS, 8080).expect("verdict for A's egress to 8080");
    assert_eq!(
        (allowed.flags, allowed.match_type, allowed.remote_identity),
        (0, CIL_POLICY_MATCH_L3_L4, id_b)
    );
    let ingress_b = verdict(2, CIL_DIR_INGRESS, 8080).expect("verdict for B's ingress on 8080");
    assert_eq!((ingress_b.flags, ingress_b.remote_identity), (0, id_a));
    let denied = verdict(1, CIL_DIR_EGRESS, 9090).expect("verdict for A's egress to 9090");
    assert_eq!(
        (denied.flags, denied.drop_reason),
        (CIL_VERDICT_F_DENY, CIL_DROP_POLICY)
    );
    let denied_in = verdict(1, CIL_DIR_INGRESS, 8080).expect("verdict for A's ingress on 8080");
    assert_eq!(
        (denied_in.drop_reason, denied_in.remote_identity),
        (CIL_DROP_POLICY, id_b)
    );
    assert!(
        seen.iter()
            .any(|e| matches!(e, Event::Drop(d) if d.hdr.subtype == CIL_DROP_POLICY))
    );

    // The allowed connection left conntrack entries with traffic in both directions.
    let ct = dp.conntrack().unwrap();
    let flows: Vec<_> = ct
        .entries()
        .unwrap()
        .into_iter()
        .filter(|(k, _)| k.dport.get() == 8080)
        .collect();
    assert!(
        flows
            .iter()
            .any(|(k, e)| k.flags == CIL_CT_F_EGRESS && e.tx_packets > 0 && e.rx_packets > 0),
        "{flows:?}"
    );
    drop(dp);
    drop(topo);
}
