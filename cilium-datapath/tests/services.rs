//! ClusterIP services over real TCP and UDP between namespaces, once through socket LB (the
//! client in a cgroup with the socket programs) and once through the TC endpoint programs with
//! socket LB off: spread over three backends, the client sees the frontend as its peer, a
//! service without backends refuses with drop reason 158, and removing one backend leaves the
//! connections to the others intact.
//!
//! Privileged: with `CILIUM_PRIVILEGED_TESTS=1` a missing capability is a failure.

mod support;

use std::collections::BTreeSet;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use cilium_core::Protocol;
use cilium_datapath::{Datapath, DatapathConfig, LbSync};
use cilium_lb::LbState;
use cilium_lb::model::{Algorithm, Backend, Frontend, Service, ServiceType};
use cilium_maps::abi::consts::*;
use cilium_maps::events::Event;
use support::*;

const CHILD: &str = "client_child_entry";

/// Not a test: the client child process of `services_balance_through_socket_lb_and_tc`.
#[test]
#[ignore = "entry point of the client child process the service test spawns"]
fn client_child_entry() {
    child_main();
}

const WEB: &str = "10.96.0.10:80";
const DNS: &str = "10.96.0.10:53";
const EMPTY: &str = "10.96.0.11:80";

fn services(backends: &[&Pod]) -> Vec<Service> {
    let mut web = Service::new("default", "web", ServiceType::ClusterIp);
    web.frontends.push(Frontend::new(
        "10.96.0.10".parse().unwrap(),
        80,
        Protocol::Tcp,
    ));
    let mut dns = Service::new("default", "dns", ServiceType::ClusterIp);
    dns.algorithm = Algorithm::Maglev;
    dns.frontends.push(Frontend::new(
        "10.96.0.10".parse().unwrap(),
        53,
        Protocol::Udp,
    ));
    for b in backends {
        let addr = b.addr.parse().unwrap();
        web.backends.push(Backend::new(addr, 8080, Protocol::Tcp));
        dns.backends.push(Backend::new(addr, 8080, Protocol::Udp));
    }
    let mut empty = Service::new("default", "empty", ServiceType::ClusterIp);
    empty.frontends.push(Frontend::new(
        "10.96.0.11".parse().unwrap(),
        80,
        Protocol::Tcp,
    ));
    vec![web, dns, empty]
}

fn no_service_drop(events: &[Event], port: u16) -> bool {
    events.iter().any(|e| {
        matches!(e, Event::Drop(d)
            if d.hdr.subtype == CIL_DROP_NO_SERVICE && d.tuple.dport.get() == port
                && d.tuple.daddr[..4] == [10, 96, 0, 11])
    })
}

#[test]
fn services_balance_through_socket_lb_and_tc() {
    let Some(topo) = or_skip(
        "the test topology cannot be built",
        build("svc", &["client", "b1", "b2", "b3"]),
    ) else {
        return;
    };
    let cgroup = Cgroup::new("svc").expect("cgroup v2");
    let client = topo.pods[0].clone();
    let backends: Vec<&Pod> = topo.pods[1..].iter().collect();
    for b in &backends {
        name_servers(b, 8080);
    }

    // Phase 1: socket LB only (the TC programs do not translate).
    let mut config = DatapathConfig::new(&topo.pin_dir);
    config.tc_service_lb = false;
    let dp = Datapath::load(&config).expect("load datapath");
    let mut ring = events_ring(&topo.pin_dir);
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
    });
    dp.attach_cgroup(&cgroup.path).expect("attach socket LB");
    let mut lb = LbSync::new(&dp).unwrap();
    let all = LbState::default().update(services(&backends)).unwrap();
    let stats = lb.apply(all.clone()).expect("sync services");
    assert!(stats.writes > 0);

    let mut c = Client::spawn(CHILD, &client.ns, Some(&cgroup.path));
    let mut names = BTreeSet::new();
    let mut kept = Vec::new(); // (index, backend name) of connections kept open
    for _ in 0..24 {
        let a = c.ask(&format!("tcp {WEB}"));
        assert_eq!(a[0], "ok", "socket LB TCP connect: {a:?}");
        assert_eq!(a[3], WEB, "getpeername must show the frontend: {a:?}");
        names.insert(a[2].clone());
        kept.push((a[1].clone(), a[2].clone()));
    }
    assert_eq!(names.len(), 3, "TCP spread over the 3 backends: {names:?}");
    let mut udp_names = BTreeSet::new();
    for _ in 0..24 {
        let a = c.ask(&format!("udp {DNS}"));
        assert_eq!(a[0], "ok", "socket LB UDP: {a:?}");
        assert_eq!(
            a[2], DNS,
            "recvmsg must show the frontend as the source: {a:?}"
        );
        udp_names.insert(a[1].clone());
    }
    assert!(udp_names.len() >= 2, "UDP (Maglev) spread: {udp_names:?}");
    // sock_ops saw the client's connections established, with their socket cookies.
    let established: Vec<_> = drain(&mut ring)
        .into_iter()
        .filter_map(|e| match e {
            Event::Sock(s) if s.hdr.subtype == CIL_SOCK_ESTABLISHED => Some(s),
            _ => None,
        })
        .collect();
    assert!(
        established.len() >= 24
            && established.iter().all(|s| s.cookie != 0)
            && established
                .iter()
                .any(|s| s.tuple.dport.get() == 8080 && s.tuple.saddr[..4] == [10, 200, 0, 1]),
        "sock_ops established events: {established:?}"
    );
    let a = c.ask(&format!("tcp {EMPTY}"));
    assert_eq!(a[0], "err", "{a:?}");
    assert!(a.join(" ").contains("refused"), "no backend refuses: {a:?}");
    assert!(no_service_drop(&drain(&mut ring), 80), "drop event 158");

    // Remove b3: the connections to b1 and b2 go on, new ones avoid b3.
    let without_b3 = all.update(services(&backends[..2])).unwrap();
    lb.apply(without_b3).expect("remove a backend");
    for (idx, name) in kept.iter().filter(|(_, n)| n != "b3") {
        let a = c.ask(&format!("again {idx}"));
        assert_eq!(a, ["ok", name.as_str()], "kept connection to {name}");
    }
    for _ in 0..12 {
        let a = c.ask(&format!("tcp {WEB}"));
        assert_eq!(a[0], "ok", "{a:?}");
        assert_ne!(a[2], "b3", "a removed backend gets no new connection");
    }
    drop(c);
    assert_eq!(dp.detach_cgroup(&cgroup.path).unwrap(), 5);

    // Phase 2: the TC path (no socket LB), loaded over the same pins: links are switched.
    config.tc_service_lb = true;
    let dp2 = Datapath::load(&config).expect("reload datapath");
    assert_eq!(dp2.replaced_links(), 8, "every endpoint link switched");
    drop(dp);
    let mut lb = LbSync::new(&dp2).unwrap();
    lb.apply(LbState::default().update(services(&backends)).unwrap())
        .expect("sync services");
    let web: SocketAddr = WEB.parse().unwrap();
    let dns: SocketAddr = DNS.parse().unwrap();
    let (tcp_names, udp_names, streams) = in_netns(&client.ns, || {
        let mut t = BTreeSet::new();
        let mut u = BTreeSet::new();
        let mut streams: Vec<TcpStream> = Vec::new();
        for _ in 0..24 {
            let (name, peer) = tcp_ask(web, Duration::from_millis(3000)).expect("TC path TCP");
            assert_eq!(peer, web);
            t.insert(name.clone());
            let s = TcpStream::connect_timeout(&web, Duration::from_millis(3000)).unwrap();
            streams.push(s);
        }
        for _ in 0..24 {
            let (name, from) = udp_ask(dns).expect("TC path UDP");
            assert_eq!(from, dns, "reverse NAT gives the frontend as the source");
            u.insert(name);
        }
        (t, u, streams)
    });
    assert_eq!(tcp_names.len(), 3, "{tcp_names:?}");
    assert!(udp_names.len() >= 2, "{udp_names:?}");
    let mut streams: Vec<(std::io::BufReader<TcpStream>, String)> = streams
        .into_iter()
        .map(|s| {
            s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
            let mut r = std::io::BufReader::new(s);
            let name = ask_kept(&mut r).expect("kept TC connection answers");
            (r, name)
        })
        .collect();
    let _ = drain(&mut ring);
    let empty: SocketAddr = EMPTY.parse().unwrap();
    let refused = in_netns(&client.ns, || {
        TcpStream::connect_timeout(&empty, Duration::from_millis(500))
    });
    assert!(refused.is_err(), "no backend: the SYN is dropped");
    assert!(no_service_drop(&drain(&mut ring), 80), "TC drop event 158");

    let backends2: Vec<&Pod> = topo.pods[1..3].iter().collect();
    let state = lb.state().update(services(&backends2)).unwrap();
    lb.apply(state).expect("remove a backend");
    for (r, name) in streams.iter_mut().filter(|(_, n)| n != "b3") {
        assert_eq!(
            ask_kept(r).as_deref(),
            Ok(name.as_str()),
            "kept TC connection"
        );
    }
    in_netns(&client.ns, || {
        for _ in 0..12 {
            let (name, _) = tcp_ask(web, Duration::from_millis(3000)).expect("TC path TCP");
            assert_ne!(name, "b3");
        }
    });
    drop(streams);
    dp2.teardown().expect("teardown");
    assert!(!topo.pin_dir.exists(), "teardown removes the pin directory");
    drop(topo);
}

fn ask_kept(r: &mut std::io::BufReader<TcpStream>) -> Result<String, String> {
    use std::io::{BufRead, Write};
    r.get_mut().write_all(b"who\n").map_err(|e| e.to_string())?;
    let mut line = String::new();
    match r.read_line(&mut line) {
        Ok(n) if n > 0 => Ok(line.trim().to_owned()),
        Ok(_) => Err("closed".into()),
        Err(e) => Err(e.to_string()),
    }
}
