//! The L7 redirect through the real datapath, with plain transparent listeners as proxies:
//! a "node" namespace routing between two "pods", the endpoint programs on the node-side
//! veths, policy entries carrying proxy ports, the proxy routing installed in the node.
//!
//! Checks: an egress redirect reaches the listener with the original destination as the
//! accepted socket's local address (even for a destination that does not exist), the client
//! sees the reply from that destination; an ingress redirect does the same on the server's
//! side; UDP datagrams reach the proxy socket with their original destination and the answer
//! sent from it reaches the client; a proxy's upstream connection carries the client's
//! identity in its mark (the server's ingress policy allows that identity, drops another);
//! after the ingress proxy the policy is not applied again; no listener: the flow is dropped
//! with reason 178; the routing rule and route are removed exactly.
//!
//! Privileged: with `CILIUM_PRIVILEGED_TESTS=1` a missing capability is a failure. The
//! namespaces, veths, pins and routing the test creates are removed when it ends.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::time::Duration;

use cilium_datapath::{Datapath, DatapathConfig, ProxyRouting, proxy_route};
use cilium_l7::transparent;
use cilium_maps::abi::{consts::*, *};
use cilium_maps::events::Event;
use common::support::*;
use common::{NODE_ADDR, node_runtime, tcp_listener_in, udp_socket_in};

const EGRESS_PROXY: u16 = 15001;
const INGRESS_PROXY: u16 = 15002;
const DNS_PROXY: u16 = 15003;

/// A transparent TCP "proxy" in the node: each connection answers every line with
/// `<tag> <local address> <peer address>`, and `up <identity>` lines make it connect to the
/// original destination with that identity's proxy mark and relay one line from there.
fn tcp_proxy(
    rt: &tokio::runtime::Runtime,
    node: &str,
    port: u16,
    tag: &'static str,
    ingress: bool,
) {
    let listener = tcp_listener_in(node, rt, port);
    rt.spawn(async move {
        loop {
            let Ok((conn, peer)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
                let local = conn.local_addr().unwrap();
                let (r, mut w) = conn.into_split();
                let mut lines = tokio::io::BufReader::new(r).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    let answer = if let Some(id) = line.strip_prefix("up ") {
                        let mark = proxy_upstream_mark(id.trim().parse().unwrap(), ingress);
                        match relay_once(local, mark).await {
                            Ok(s) => format!("{tag} upstream {s}"),
                            Err(e) => format!("{tag} upstream-failed {e}"),
                        }
                    } else {
                        format!("{tag} {local} {peer}")
                    };
                    if w.write_all(format!("{answer}\n").as_bytes()).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
}

async fn relay_once(dst: SocketAddr, mark: Option<u32>) -> Result<String, String> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let s = tokio::time::timeout(
        Duration::from_millis(700),
        transparent::connect_marked(dst, mark),
    )
    .await
    .map_err(|_| "timeout".to_owned())?
    .map_err(|e| e.to_string())?;
    let (r, mut w) = s.into_split();
    w.write_all(b"who\n").await.map_err(|e| e.to_string())?;
    let mut line = String::new();
    tokio::time::timeout(
        Duration::from_secs(2),
        tokio::io::BufReader::new(r).read_line(&mut line),
    )
    .await
    .map_err(|_| "read timeout".to_owned())?
    .map_err(|e| e.to_string())?;
    Ok(line.trim().to_owned())
}

/// One line exchange on a fresh connection from `pod`.
fn exchange(pod: &Pod, to: SocketAddr, line: &str) -> Result<(String, SocketAddr), String> {
    in_netns(&pod.ns, || {
        let mut s = std::net::TcpStream::connect_timeout(&to, Duration::from_millis(700))
            .map_err(|e| e.to_string())?;
        let peer = s.peer_addr().map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        s.write_all(format!("{line}\n").as_bytes())
            .map_err(|e| e.to_string())?;
        let mut out = String::new();
        BufReader::new(s)
            .read_line(&mut out)
            .map_err(|e| e.to_string())?;
        Ok((out.trim().to_owned(), peer))
    })
}

#[test]
fn redirected_flows_reach_transparent_proxies_with_their_original_destination() {
    let Some(topo) = or_skip(
        "the test topology cannot be built",
        build("l7redir", &["a", "b"]),
    ) else {
        return;
    };
    let (pod_a, pod_b) = (&topo.pods[0], &topo.pods[1]);
    let mut dp = Datapath::load(&DatapathConfig::new(&topo.pin_dir)).expect("load datapath");
    let mut events = dp.take_events().unwrap();
    // The node needs an address of its own to originate the proxies' upstream connections.
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
    let routing = ProxyRouting::default();
    in_netns(&topo.node, || proxy_route::install(routing)).expect("install proxy routing");
    // Installing again (a restarted agent) is not an error.
    in_netns(&topo.node, || proxy_route::install(routing)).expect("install proxy routing twice");

    let ready = CIL_ENDPOINT_F_POLICY_READY
        | CIL_ENDPOINT_F_ENFORCE_INGRESS
        | CIL_ENDPOINT_F_ENFORCE_EGRESS;
    let (id_a, id_b) = (1000u32, 2000u32);
    add_endpoint(&dp, pod_a, 1, id_a, ready);
    add_endpoint(&dp, pod_b, 2, id_b, ready);
    let mut pa = dp.endpoint_policy(1).unwrap();
    // A's egress: B:8080 and 192.0.2.1:80 (world) through the egress proxy, B:53/UDP through
    // the DNS proxy, B:9090 plain, B:7070 to a proxy port nobody listens on.
    for (id, proto, port, proxy) in [
        (id_b, 6, 8080, EGRESS_PROXY),
        (CIL_ID_WORLD, 6, 80, EGRESS_PROXY),
        (id_b, 17, 53, DNS_PROXY),
        (id_b, 6, 9090, 0),
        (id_b, 6, 7070, 15999),
    ] {
        pa.insert(
            &PolicyKey::new(id, CIL_DIR_EGRESS, proto, port, 16),
            &PolicyEntry::allow(proxy),
        )
        .unwrap();
    }
    // B's ingress: A on 8080 plain (the egress proxy's upstream arrives with A's identity),
    // A on 9090 through the ingress proxy.
    let mut pb = dp.endpoint_policy(2).unwrap();
    pb.insert(
        &PolicyKey::new(id_a, CIL_DIR_INGRESS, 6, 8080, 16),
        &PolicyEntry::allow(0),
    )
    .unwrap();
    pb.insert(
        &PolicyKey::new(id_a, CIL_DIR_INGRESS, 6, 9090, 16),
        &PolicyEntry::allow(INGRESS_PROXY),
    )
    .unwrap();
    in_netns(&topo.node, || {
        for pod in [pod_a, pod_b] {
            dp.attach_endpoint(pod.ifindex)
                .expect("attach endpoint programs");
        }
    });
    name_servers(pod_b, 8080);
    name_servers(pod_b, 9090);

    let rt = node_runtime(&topo.node);
    tcp_proxy(&rt, &topo.node, EGRESS_PROXY, "egress", false);
    tcp_proxy(&rt, &topo.node, INGRESS_PROXY, "ingress", true);
    let udp = udp_socket_in(&topo.node, &rt, DNS_PROXY);
    rt.spawn(async move {
        let mut buf = [0u8; 512];
        while let Ok((n, from, to)) = transparent::recv_original_dst(&udp, &mut buf).await {
            let answer = format!("dns {to} {from} {}", String::from_utf8_lossy(&buf[..n]));
            let _ = transparent::send_from(to, from, answer.as_bytes()).await;
        }
    });
    while events.next().is_some() {}

    // Egress redirect: the proxy sees A as the peer and B:8080 as its own address; A sees
    // the answer coming from B:8080.
    let (answer, peer) = exchange(pod_a, pod_b.sock(8080), "hello").expect("A -> B:8080 via proxy");
    let words: Vec<&str> = answer.split(' ').collect();
    assert_eq!(words[..2], ["egress", "10.200.0.2:8080"], "{answer}");
    assert!(words[2].starts_with("10.200.0.1:"), "{answer}");
    assert_eq!(peer, pod_b.sock(8080));
    // A destination that does not exist: only the proxy can have answered.
    let world: SocketAddr = "192.0.2.1:80".parse().unwrap();
    let (answer, _) = exchange(pod_a, world, "hello").expect("A -> 192.0.2.1:80 via proxy");
    assert!(
        answer.starts_with("egress 192.0.2.1:80 10.200.0.1:"),
        "{answer}"
    );
    // Several lines on one redirected connection: every packet of the flow goes to the proxy.
    in_netns(&pod_a.ns, || {
        let s = std::net::TcpStream::connect_timeout(&pod_b.sock(8080), Duration::from_millis(700))
            .unwrap();
        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let mut r = BufReader::new(s.try_clone().unwrap());
        let mut w = s;
        for _ in 0..3 {
            w.write_all(b"again\n").unwrap();
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            assert!(line.starts_with("egress 10.200.0.2:8080"), "{line}");
        }
    });

    // The proxy's upstream connection with A's identity passes B's ingress policy; with an
    // identity B does not allow it is dropped.
    let (answer, _) = exchange(pod_a, pod_b.sock(8080), &format!("up {id_a}")).unwrap();
    assert_eq!(answer, "egress upstream b");
    let (answer, _) = exchange(pod_a, pod_b.sock(8080), "up 3000").unwrap();
    assert!(answer.starts_with("egress upstream-failed"), "{answer}");

    // Ingress redirect at B: the ingress proxy sees B:9090 as its own address and A as the
    // peer; its upstream (marked as ingress-proxy traffic) reaches B without a second redirect.
    let (answer, peer) = exchange(pod_a, pod_b.sock(9090), "hello").expect("A -> B:9090 via proxy");
    assert!(
        answer.starts_with("ingress 10.200.0.2:9090 10.200.0.1:"),
        "{answer}"
    );
    assert_eq!(peer, pod_b.sock(9090));
    let (answer, _) = exchange(pod_a, pod_b.sock(9090), &format!("up {id_a}")).unwrap();
    assert_eq!(answer, "ingress upstream b");

    // UDP: the datagram reaches the proxy with its original destination, the answer comes
    // back from that destination.
    let (answer, from) =
        in_netns(&pod_a.ns, || udp_ask(pod_b.sock(53))).expect("A -> B:53/UDP via proxy");
    assert!(
        answer.starts_with("dns 10.200.0.2:53 10.200.0.1:"),
        "{answer}"
    );
    assert_eq!(from, pod_b.sock(53));

    // A proxy port nobody listens on: the flow is dropped (fail closed) with reason 178.
    assert!(exchange(pod_a, pod_b.sock(7070), "hello").is_err());
    let seen: Vec<Event> =
        std::iter::from_fn(|| events.next().map(|i| Event::parse(&i).unwrap())).collect();
    assert!(
        seen.iter()
            .any(|e| matches!(e, Event::Drop(d) if d.hdr.subtype == CIL_DROP_PROXY_LOOKUP_FAILED)),
        "no drop with reason 178 among {} events",
        seen.len()
    );
    // Redirected verdicts carry the proxy port and the redirect flag.
    assert!(seen.iter().any(|e| matches!(e, Event::PolicyVerdict(v)
        if v.hdr.endpoint_id == 1 && v.flags & CIL_VERDICT_F_REDIRECT != 0
            && v.proxy_port.get() == EGRESS_PROXY)));

    // Teardown removes exactly the rule and the route.
    in_netns(&topo.node, || proxy_route::remove(routing)).expect("remove proxy routing");
    let rules = ip(&["-n", &topo.node, "rule", "show"]).unwrap();
    assert!(!rules.contains("lookup 2004"), "{rules}");
    let routes = ip(&["-n", &topo.node, "route", "show", "table", "all"]).unwrap();
    assert!(!routes.contains("table 2004"), "{routes}");
    in_netns(&topo.node, || proxy_route::remove(routing)).expect("removing twice is fine");
    rt.shutdown_background();
}
