//! The endpoint programs under `BPF_PROG_TEST_RUN` on crafted packets (privileged).
//!
//! Runs whenever BPF is usable; with `CILIUM_PRIVILEGED_TESTS=1` (CI) a missing BPF or bpffs is
//! a failure, not a skip.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use aya::programs::{TestRun, TestRunOptions};
use cilium_datapath::{Datapath, DatapathConfig, Program};
use cilium_maps::abi::{consts::*, *};
use cilium_maps::events::Event;

const TC_ACT_OK: u32 = 0;
const TC_ACT_SHOT: u32 = 2;
/// A redirect towards the endpoint: handed back to the veth's ingress for the ingress proxy.
const TC_ACT_REDIRECT: u32 = 7;

struct Env {
    dp: Datapath,
    events: aya::maps::RingBuf<aya::maps::MapData>,
    dir: PathBuf,
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn privileged_env(test: &str) -> Option<Env> {
    let strict = std::env::var("CILIUM_PRIVILEGED_TESTS").as_deref() == Ok("1");
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    let bpffs = mounts.lines().any(|l| {
        let mut f = l.split_whitespace();
        f.nth(1) == Some("/sys/fs/bpf") && f.next() == Some("bpf")
    });
    let dir = PathBuf::from(format!(
        "/sys/fs/bpf/cilium-rs-test-{test}-{}",
        std::process::id()
    ));
    let loaded = if bpffs {
        let _ = std::fs::remove_dir_all(&dir);
        Datapath::load(&DatapathConfig::new(&dir))
            .map_err(|e| format!("{e}: {:?}", std::error::Error::source(&e)))
    } else {
        Err("/sys/fs/bpf is not a bpffs".to_owned())
    };
    match loaded {
        Ok(mut dp) => {
            let events = dp.take_events().expect("events ring buffer");
            Some(Env { dp, events, dir })
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            if strict {
                panic!("{test}: CILIUM_PRIVILEGED_TESTS=1 but the datapath cannot be loaded: {e}");
            }
            eprintln!("skipping {test}: {e}");
            None
        }
    }
}

fn v4(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

/// Ethernet + IPv4 + TCP/UDP/ICMP header, no payload; checksums are not checked by the programs.
fn packet(
    src: Ipv4Addr,
    sport: u16,
    dst: Ipv4Addr,
    dport: u16,
    proto: u8,
    tcp_flags: u8,
) -> Vec<u8> {
    let mut p = vec![0u8; 14];
    p[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
    let l4_len = match proto {
        6 => 20,
        _ => 8,
    };
    let total = 20 + l4_len;
    let mut ip = [0u8; 20];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    ip[8] = 64;
    ip[9] = proto;
    ip[12..16].copy_from_slice(&src.octets());
    ip[16..20].copy_from_slice(&dst.octets());
    p.extend_from_slice(&ip);
    let mut l4 = vec![0u8; l4_len];
    match proto {
        6 | 17 => {
            l4[0..2].copy_from_slice(&sport.to_be_bytes());
            l4[2..4].copy_from_slice(&dport.to_be_bytes());
            if proto == 6 {
                l4[12] = 5 << 4;
                l4[13] = tcp_flags;
            } else {
                l4[4..6].copy_from_slice(&(l4_len as u16).to_be_bytes());
            }
        }
        _ => {
            l4[0] = (dport >> 8) as u8; // ICMP type
            l4[4..6].copy_from_slice(&sport.to_be_bytes()); // echo id
        }
    }
    p.extend_from_slice(&l4);
    p
}

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;

/// Runs `prog` of `dp` once on `pkt` with `BPF_PROG_TEST_RUN`; returns the TC action.
fn run(dp: &Datapath, prog: Program, pkt: &[u8]) -> u32 {
    let opts = TestRunOptions {
        data_in: Some(pkt),
        ..Default::default()
    };
    dp.program(prog)
        .unwrap()
        .test_run(opts)
        .expect("BPF_PROG_TEST_RUN")
        .return_value
}

impl Env {
    fn run(&self, prog: Program, pkt: &[u8]) -> u32 {
        run(&self.dp, prog, pkt)
    }

    fn drain(&mut self) -> Vec<Event> {
        let mut out = Vec::new();
        while let Some(item) = self.events.next() {
            out.push(Event::parse(&item).expect("well-formed event"));
        }
        out
    }

    fn add_endpoint(&self, ip: &str, id: u16, identity: u32, flags: u16) {
        let mut eps = self.dp.endpoints().unwrap();
        let info = EndpointInfo {
            ifindex: 1,
            endpoint_id: id,
            identity,
            flags,
            ..bytemuck::Zeroable::zeroed()
        };
        eps.insert(&EndpointKey::new(IpAddr::V4(v4(ip))), &info)
            .unwrap();
    }

    fn add_ipcache(&self, ip: &str, identity: u32) {
        let mut c = self.dp.ipcache().unwrap();
        c.insert(
            &IpCacheKey::new(IpAddr::V4(v4(ip)), 32, 0),
            &IpCacheValue::identity(identity),
        )
        .unwrap();
    }
}

const READY: u16 =
    CIL_ENDPOINT_F_POLICY_READY | CIL_ENDPOINT_F_ENFORCE_INGRESS | CIL_ENDPOINT_F_ENFORCE_EGRESS;

/// Every Test_MergeRules case of the distillery data: the expected ingress map state goes into
/// the endpoint's policy map, and each probe's verdict, drop reason and match type must be
/// what Cilium's lookup order gives.
#[test]
fn distillery_probes_get_ciliums_verdicts() {
    let Some(mut env) = privileged_env("distillery") else {
        return;
    };
    let data: serde_json::Value =
        serde_json::from_str(include_str!("data/distillery_cases.json")).unwrap();
    let ids = &data["identities"];
    let foo = ids["foo"]["id"].as_u64().unwrap() as u32;
    let bar = ids["bar"]["id"].as_u64().unwrap() as u32;
    env.add_endpoint("10.0.0.1", 42, foo, READY);
    env.add_ipcache("10.0.1.1", foo);
    env.add_ipcache("10.0.2.1", bar);
    let cases = data["cases_mergerules"].as_array().unwrap();
    assert_eq!(cases.len(), 128);
    let mut probes = 0;
    for (ci, case) in cases.iter().enumerate() {
        let mut policy = env.dp.endpoint_policy(42).unwrap();
        for k in policy.keys().unwrap() {
            policy.remove(&k).unwrap();
        }
        for e in case["expected_ingress_mapstate"].as_array().unwrap() {
            assert_eq!(e["direction"], "ingress");
            let proto = e["proto"].as_u64().unwrap() as u8;
            let dport = e["dport"].as_u64().unwrap() as u16;
            let key = PolicyKey::new(
                e["identity"].as_u64().unwrap() as u32,
                CIL_DIR_INGRESS,
                proto,
                dport,
                if dport == 0 { 0 } else { 16 },
            );
            let entry = match e["action"].as_str().unwrap() {
                "allow" => PolicyEntry::allow(0),
                "deny" => PolicyEntry::deny(),
                "redirect" => PolicyEntry::allow(15001),
                other => panic!("unknown action {other}"),
            };
            policy.insert(&key, &entry).unwrap();
        }
        env.drain();
        for (pi, p) in case["probe_verdicts"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
        {
            let src = if p["src"] == "foo" {
                v4("10.0.1.1")
            } else {
                v4("10.0.2.1")
            };
            let proto = if p["proto"] == "TCP" { 6 } else { 17 };
            let sport = 10000 + (ci * 8 + pi) as u16; // a new flow every time
            let pkt = packet(
                src,
                sport,
                v4("10.0.0.1"),
                p["dport"].as_u64().unwrap() as u16,
                proto,
                SYN,
            );
            let ret = env.run(Program::ToEndpoint, &pkt);
            let verdict = p["verdict"].as_str().unwrap();
            let ctx = format!("{} probe {pi} {p}", case["id"]);
            let (want_ret, want_reason, want_flags) = match verdict {
                "ALLOWED" => (TC_ACT_OK, 0, 0),
                "REDIRECTED_TO_PROXY" => (TC_ACT_REDIRECT, 0, CIL_VERDICT_F_REDIRECT),
                "DENIED_NO_MATCH(-133)" => (TC_ACT_SHOT, CIL_DROP_POLICY, CIL_VERDICT_F_DENY),
                "DENIED_POLICY_DENY(-181)" => {
                    (TC_ACT_SHOT, CIL_DROP_POLICY_DENY, CIL_VERDICT_F_DENY)
                }
                other => panic!("unknown verdict {other}"),
            };
            assert_eq!(ret, want_ret, "{ctx}");
            let events = env.drain();
            let verdicts: Vec<_> = events
                .iter()
                .filter_map(|e| {
                    if let Event::PolicyVerdict(v) = e {
                        Some(*v)
                    } else {
                        None
                    }
                })
                .collect();
            assert_eq!(verdicts.len(), 1, "{ctx}: {events:?}");
            let v = verdicts[0];
            assert_eq!(v.drop_reason, want_reason, "{ctx}");
            assert_eq!(v.flags, want_flags, "{ctx}");
            let want_match = match p["match_type"].as_str().unwrap() {
                "NONE" => CIL_POLICY_MATCH_NONE,
                "L3_ONLY" => CIL_POLICY_MATCH_L3_ONLY,
                "L3_L4" => CIL_POLICY_MATCH_L3_L4,
                "L4_ONLY" => CIL_POLICY_MATCH_L4_ONLY,
                "L3_PROTO" => CIL_POLICY_MATCH_L3_PROTO,
                "PROTO_ONLY" => CIL_POLICY_MATCH_PROTO_ONLY,
                "ALL" => CIL_POLICY_MATCH_ALL,
                other => panic!("unknown match type {other}"),
            };
            assert_eq!(v.match_type, want_match, "{ctx}");
            assert_eq!(
                v.remote_identity,
                if p["src"] == "foo" { foo } else { bar },
                "{ctx}"
            );
            if want_reason != 0 {
                assert!(
                    events
                        .iter()
                        .any(|e| matches!(e, Event::Drop(d) if d.hdr.subtype == want_reason)),
                    "{ctx}: drop event"
                );
            }
            probes += 1;
        }
    }
    assert_eq!(probes, 640);
}

#[test]
fn conntrack_lets_replies_through_and_fails_closed() {
    let Some(mut env) = privileged_env("ct") else {
        return;
    };
    let (a, b) = (v4("10.0.0.1"), v4("10.0.0.2"));
    env.add_endpoint("10.0.0.1", 7, 1000, READY);
    env.add_ipcache("10.0.0.2", 2000);
    let mut policy = env.dp.endpoint_policy(7).unwrap();
    // Egress TCP/80 to identity 2000 only; nothing allowed on ingress.
    policy
        .insert(
            &PolicyKey::new(2000, CIL_DIR_EGRESS, 6, 80, 16),
            &PolicyEntry::allow(0),
        )
        .unwrap();

    let syn = packet(a, 40000, b, 80, 6, SYN);
    assert_eq!(
        env.run(Program::FromEndpoint, &syn),
        TC_ACT_OK,
        "allowed egress"
    );
    let synack = packet(b, 80, a, 40000, 6, SYN | ACK);
    assert_eq!(
        env.run(Program::ToEndpoint, &synack),
        TC_ACT_OK,
        "reply follows the conntrack entry"
    );
    let ct = env.dp.conntrack().unwrap();
    let key = CtKey::new(IpAddr::V4(a), 40000, IpAddr::V4(b), 80, 6, CIL_CT_F_EGRESS);
    let entry = ct.get(&key).unwrap().expect("conntrack entry");
    assert_eq!(
        (entry.tx_packets, entry.rx_packets, entry.src_identity),
        (1, 1, 1000)
    );
    assert!(entry.flags & CIL_CT_ENTRY_F_SEEN_NON_SYN != 0);

    // A new inbound connection is not a reply: default deny.
    let inbound = packet(b, 5555, a, 22, 6, SYN);
    assert_eq!(env.run(Program::ToEndpoint, &inbound), TC_ACT_SHOT);
    // Other egress ports are denied, and the verdict says so.
    env.drain();
    assert_eq!(
        env.run(Program::FromEndpoint, &packet(a, 40001, b, 443, 6, SYN)),
        TC_ACT_SHOT
    );
    assert!(
        env.drain()
            .iter()
            .any(|e| matches!(e, Event::Drop(d) if d.hdr.subtype == CIL_DROP_POLICY))
    );

    // Anti-spoofing: a source address that is not the endpoint's.
    assert_eq!(
        env.run(
            Program::FromEndpoint,
            &packet(v4("10.9.9.9"), 1, b, 80, 6, SYN)
        ),
        TC_ACT_SHOT
    );
    assert!(
        env.drain()
            .iter()
            .any(|e| matches!(e, Event::Drop(d) if d.hdr.subtype == CIL_DROP_INVALID_SIP))
    );

    // Fail closed: an endpoint whose policy is not ready drops, as does one whose policy map
    // is missing.
    env.add_endpoint("10.0.0.3", 8, 1001, CIL_ENDPOINT_F_ENFORCE_EGRESS);
    assert_eq!(
        env.run(
            Program::FromEndpoint,
            &packet(v4("10.0.0.3"), 1, b, 80, 6, SYN)
        ),
        TC_ACT_SHOT
    );
    env.add_endpoint("10.0.0.4", 9, 1002, READY);
    assert_eq!(
        env.run(
            Program::FromEndpoint,
            &packet(v4("10.0.0.4"), 1, b, 80, 6, SYN)
        ),
        TC_ACT_SHOT
    );
    let drops: Vec<u8> = env
        .drain()
        .iter()
        .filter_map(|e| {
            if let Event::Drop(d) = e {
                Some(d.hdr.subtype)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(drops, vec![CIL_DROP_EP_NOT_READY, CIL_DROP_EP_NOT_READY]);

    // An endpoint without enforcement forwards; ARP passes untouched.
    env.add_endpoint("10.0.0.5", 10, 1003, CIL_ENDPOINT_F_POLICY_READY);
    assert_eq!(
        env.run(
            Program::FromEndpoint,
            &packet(v4("10.0.0.5"), 1, b, 80, 6, SYN)
        ),
        TC_ACT_OK
    );
    let mut arp = vec![0u8; 42];
    arp[12..14].copy_from_slice(&0x0806u16.to_be_bytes());
    assert_eq!(env.run(Program::FromEndpoint, &arp), TC_ACT_OK);

    // Metrics count forwards and drops per reason and direction.
    let m = env.dp.metrics().unwrap();
    let packets = |reason, direction| {
        let key = MetricsKey {
            reason,
            direction,
            pad: 0,
            pad2: 0,
        };
        m.get_sum(&key).unwrap().map_or(0, |v| v.packets)
    };
    assert!(packets(CIL_DROP_POLICY, CIL_DIR_INGRESS) >= 1);
    assert!(packets(CIL_DROP_EP_NOT_READY, CIL_DIR_EGRESS) >= 2);
    assert!(packets(CIL_REASON_FORWARDED, CIL_DIR_INGRESS) >= 1);
}

#[test]
fn a_second_load_reuses_the_pinned_maps() {
    let Some(env) = privileged_env("reload") else {
        return;
    };
    env.add_endpoint("10.0.0.1", 5, 1234, READY);
    env.dp
        .endpoint_policy(5)
        .unwrap()
        .insert(
            &PolicyKey::new(0, CIL_DIR_EGRESS, 17, 53, 16),
            &PolicyEntry::allow(0),
        )
        .unwrap();
    // A "restarted agent": a new load over the same pin directory sees the same state and
    // enforces it with the new programs.
    let again = Datapath::load(&DatapathConfig::new(env.dp.pin_dir())).unwrap();
    assert!(
        again
            .endpoints()
            .unwrap()
            .get(&EndpointKey::new(IpAddr::V4(v4("10.0.0.1"))))
            .unwrap()
            .is_some()
    );
    assert_eq!(again.policy_maps().unwrap().keys().unwrap(), vec![5]);
    let dns = packet(v4("10.0.0.1"), 3333, v4("10.96.0.10"), 53, 17, 0);
    assert_eq!(run(&again, Program::FromEndpoint, &dns), TC_ACT_OK);
    let other = packet(v4("10.0.0.1"), 3334, v4("10.96.0.10"), 54, 17, 0);
    assert_eq!(run(&again, Program::FromEndpoint, &other), TC_ACT_SHOT);
}

/// One crafted packet per drop reason the endpoint programs use, each checked against the
/// drop event it reports (reason, identities, tuple).
#[test]
fn every_drop_reason_on_crafted_packets() {
    let Some(mut env) = privileged_env("reasons") else {
        return;
    };
    let (a, b, c) = (v4("10.0.0.1"), v4("10.0.0.2"), v4("10.0.0.3"));
    env.add_endpoint("10.0.0.1", 7, 1000, READY);
    env.add_endpoint("10.0.0.3", 9, 3000, CIL_ENDPOINT_F_ENFORCE_INGRESS); // not ready
    env.add_ipcache("10.0.0.2", 2000);
    let mut policy = env.dp.endpoint_policy(7).unwrap();
    policy
        .insert(
            &PolicyKey::new(2000, CIL_DIR_EGRESS, 6, 0, 0),
            &PolicyEntry::allow(0),
        )
        .unwrap();
    policy
        .insert(
            &PolicyKey::new(2000, CIL_DIR_EGRESS, 6, 22, 16),
            &PolicyEntry::deny(),
        )
        .unwrap();
    let _ = env.drain();
    let mut frag = packet(a, 1, b, 80, 6, SYN);
    frag[14 + 6] = 0x00;
    frag[14 + 7] = 0x10; // fragment offset 16: a non-first fragment
    let cases: Vec<(&str, Program, Vec<u8>, u8)> = vec![
        (
            "no allow for UDP",
            Program::FromEndpoint,
            packet(a, 1, b, 53, 17, 0),
            133,
        ),
        (
            "explicit deny of TCP/22",
            Program::FromEndpoint,
            packet(a, 2, b, 22, 6, SYN),
            181,
        ),
        (
            "spoofed source",
            Program::FromEndpoint,
            packet(v4("10.9.9.9"), 3, b, 80, 6, SYN),
            132,
        ),
        (
            "not a local endpoint",
            Program::ToEndpoint,
            packet(b, 4, v4("10.9.9.8"), 80, 6, SYN),
            150,
        ),
        (
            "policy not ready",
            Program::ToEndpoint,
            packet(b, 5, c, 80, 6, SYN),
            203,
        ),
        ("non-first fragment", Program::FromEndpoint, frag, 157),
        (
            "truncated TCP header",
            Program::FromEndpoint,
            packet(a, 6, v4("10.0.0.4"), 80, 6, SYN)[..44].to_vec(),
            135,
        ),
    ];
    for (what, prog, pkt, reason) in cases {
        let opts = TestRunOptions {
            data_in: Some(&pkt),
            ..Default::default()
        };
        let r = env.dp.program(prog).unwrap().test_run(opts);
        assert_eq!(
            r.map(|r| r.return_value).map_err(|e| format!("{e:?}")),
            Ok(TC_ACT_SHOT),
            "{what}"
        );
        let drops: Vec<_> = env
            .drain()
            .into_iter()
            .filter_map(|e| match e {
                Event::Drop(d) => Some(d),
                _ => None,
            })
            .collect();
        assert_eq!(drops.len(), 1, "{what}: one drop event");
        assert_eq!(drops[0].hdr.subtype, reason, "{what}");
        if reason == 133 || reason == 181 {
            let d = drops[0];
            assert_eq!((d.src_identity, d.dst_identity), (1000, 2000), "{what}");
            assert_eq!(d.tuple.daddr[..4], b.octets(), "{what}");
            assert_eq!(d.direction, CIL_DIR_EGRESS);
        }
    }
}

/// A flow that keeps being dropped reports once per interval, not once per packet; the
/// metrics still count every packet.
#[test]
fn drop_events_are_rate_limited_per_flow() {
    let Some(mut env) = privileged_env("ratelimit") else {
        return;
    };
    env.add_endpoint("10.0.0.1", 7, 1000, READY);
    env.add_ipcache("10.0.0.2", 2000);
    env.dp.endpoint_policy(7).unwrap();
    let _ = env.drain();
    let syn = packet(v4("10.0.0.1"), 40001, v4("10.0.0.2"), 443, 6, SYN);
    for _ in 0..5 {
        assert_eq!(env.run(Program::FromEndpoint, &syn), TC_ACT_SHOT);
    }
    let other = packet(v4("10.0.0.1"), 40002, v4("10.0.0.2"), 443, 6, SYN);
    assert_eq!(env.run(Program::FromEndpoint, &other), TC_ACT_SHOT);
    let events = env.drain();
    let drops = events
        .iter()
        .filter(|e| matches!(e, Event::Drop(_)))
        .count();
    let verdicts = events
        .iter()
        .filter(|e| matches!(e, Event::PolicyVerdict(_)))
        .count();
    assert_eq!((drops, verdicts), (2, 2), "one report per flow: {events:?}");
    let m = env
        .dp
        .metrics()
        .unwrap()
        .get_sum(&MetricsKey {
            reason: CIL_DROP_POLICY,
            direction: CIL_DIR_EGRESS,
            pad: 0,
            pad2: 0,
        })
        .unwrap()
        .unwrap();
    assert_eq!(m.packets, 6, "every drop is counted");
}

/// The ones'-complement sum of 16-bit words (an IP header with a valid checksum sums to
/// 0xffff).
fn ones_sum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = bytes
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// The TC service path rewrites the frontend to a backend (fixing checksums) and keeps the
/// flow on it; a frontend without backends drops with 158.
#[test]
fn tc_service_translation_rewrites_and_sticks() {
    let Some(mut env) = privileged_env("xlate") else {
        return;
    };
    env.add_endpoint("10.0.0.1", 7, 1000, CIL_ENDPOINT_F_POLICY_READY);
    let mut lb = cilium_datapath::LbSync::new(&env.dp).unwrap();
    let mut svc = cilium_lb::Service::new("default", "web", cilium_lb::ServiceType::ClusterIp);
    svc.frontends.push(cilium_lb::Frontend::new(
        "10.96.0.1".parse().unwrap(),
        80,
        cilium_core::Protocol::Tcp,
    ));
    for last in [11u8, 12, 13] {
        svc.backends.push(cilium_lb::Backend::new(
            IpAddr::V4(Ipv4Addr::new(10, 0, 1, last)),
            8080,
            cilium_core::Protocol::Tcp,
        ));
    }
    let mut empty = cilium_lb::Service::new("default", "empty", cilium_lb::ServiceType::ClusterIp);
    empty.frontends.push(cilium_lb::Frontend::new(
        "10.96.0.2".parse().unwrap(),
        80,
        cilium_core::Protocol::Tcp,
    ));
    lb.apply(cilium_lb::LbState::default().update([svc, empty]).unwrap())
        .unwrap();

    let prog = env.dp.program(Program::FromEndpoint).unwrap();
    let mut out = vec![0u8; 128];
    let mut first = None;
    for i in 0..3 {
        let mut pkt = packet(
            v4("10.0.0.1"),
            40000,
            v4("10.96.0.1"),
            80,
            6,
            if i == 0 { SYN } else { ACK },
        );
        let csum = !ones_sum(&pkt[14..34]);
        pkt[24..26].copy_from_slice(&csum.to_be_bytes());
        let opts = TestRunOptions {
            data_in: Some(&pkt),
            data_out: Some(&mut out),
            ..Default::default()
        };
        let r = prog.test_run(opts).unwrap();
        assert_eq!(r.return_value, TC_ACT_OK);
        let ip = &out[14..34];
        let dst = [ip[16], ip[17], ip[18], ip[19]];
        let dport = u16::from_be_bytes([out[36], out[37]]);
        assert_eq!(&dst[..3], &[10, 0, 1], "rewritten to a backend: {dst:?}");
        assert_eq!(dport, 8080);
        // The IP header checksum (valid before) is still valid after the rewrite.
        assert_eq!(ones_sum(ip), 0xffff, "IP checksum after the rewrite");
        match first {
            None => first = Some(dst),
            Some(f) => assert_eq!(f, dst, "the flow sticks to its backend"),
        }
    }
    let _ = env.drain();
    let none = packet(v4("10.0.0.1"), 40000, v4("10.96.0.2"), 80, 6, SYN);
    assert_eq!(env.run(Program::FromEndpoint, &none), TC_ACT_SHOT);
    assert!(
        env.drain()
            .iter()
            .any(|e| matches!(e, Event::Drop(d) if d.hdr.subtype == CIL_DROP_NO_SERVICE))
    );
}

/// The XDP prefilter drops sources in its CIDR list, counts them, and passes the rest.
#[test]
fn xdp_prefilter_drops_listed_sources() {
    let Some(env) = privileged_env("xdp") else {
        return;
    };
    let mut list = env.dp.prefilter().unwrap();
    let key = IpCacheKey::new("192.0.2.0".parse().unwrap(), 24, 0);
    list.insert(&key, &PrefilterValue { drops: 0 }).unwrap();
    let xdp = env.dp.xdp_program().unwrap();
    let run = |src: &str| {
        let pkt = packet(v4(src), 1, v4("10.0.0.1"), 80, 6, SYN);
        xdp.test_run(TestRunOptions {
            data_in: Some(&pkt),
            ..Default::default()
        })
        .unwrap()
        .return_value
    };
    const XDP_DROP: u32 = 1;
    const XDP_PASS: u32 = 2;
    assert_eq!(run("192.0.2.77"), XDP_DROP);
    assert_eq!(run("192.0.2.78"), XDP_DROP);
    assert_eq!(run("198.51.100.1"), XDP_PASS);
    assert_eq!(list.get(&key).unwrap().unwrap().drops, 2);
}

/// A map state from the policy engine, synced: the programs decide as it says; a state the
/// datapath cannot enforce (a redirect without a proxy port) leaves the endpoint failing
/// closed.
#[test]
fn synced_map_state_decides_and_failures_fail_closed() {
    use cilium_core::{LabelSet, NumericIdentity};
    use cilium_policy::engine::{EndpointInfo as PolicyEndpoint, EngineConfig, NamedPortTable};
    let Some(mut env) = privileged_env("sync") else {
        return;
    };
    // Syncs an engine-resolved policy into endpoint 7, with a proxy-port lookup.
    let sync = |dp: &Datapath,
                p: &cilium_policy::engine::EndpointPolicy,
                proxy: &dyn Fn(
        cilium_policy::Direction,
        &cilium_policy::mapstate::Redirect,
    ) -> Option<u16>| {
        dp.sync_policy(
            7,
            &p.map_state,
            p.ingress_enforced,
            p.egress_enforced,
            proxy,
        )
    };
    let mut engine = cilium_policy::engine::PolicyEngine::new(EngineConfig::default());
    engine
        .load_text(
            "web.yaml",
            r#"
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: web, namespace: default}
spec:
  endpointSelector: {matchLabels: {app: web}}
  egress:
  - toEndpoints: [{matchLabels: {app: db}}]
    toPorts: [{ports: [{port: "5432", protocol: TCP}]}]
"#,
        )
        .unwrap();
    let web = LabelSet::parse_list(&["k8s:app=web", "k8s:io.kubernetes.pod.namespace=default"]);
    let db = LabelSet::parse_list(&["k8s:app=db", "k8s:io.kubernetes.pod.namespace=default"]);
    engine.upsert_identity(NumericIdentity::new(1000), web.clone());
    engine.upsert_identity(NumericIdentity::new(2000), db);
    let policy = engine
        .resolve(
            &PolicyEndpoint::new(NumericIdentity::new(1000), web),
            &NamedPortTable::new(),
        )
        .unwrap();
    env.add_endpoint("10.0.0.1", 7, 1000, 0); // not ready until synced
    env.add_ipcache("10.0.0.2", 2000);
    let stats = sync(&env.dp, &policy, &|_, _| None).unwrap();
    assert_eq!(stats.entries, policy.map_state.len());
    let (a, b) = (v4("10.0.0.1"), v4("10.0.0.2"));
    assert_eq!(
        env.run(Program::FromEndpoint, &packet(a, 1, b, 5432, 6, SYN)),
        TC_ACT_OK
    );
    assert_eq!(
        env.run(Program::FromEndpoint, &packet(a, 2, b, 5433, 6, SYN)),
        TC_ACT_SHOT
    );
    // A second sync of the same state writes nothing.
    let again = sync(&env.dp, &policy, &|_, _| None).unwrap();
    assert_eq!((again.writes, again.removals), (0, 0));

    // A redirect with no proxy port cannot be enforced: the endpoint fails closed.
    engine
        .load_text(
            "web.yaml",
            r#"
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: web, namespace: default}
spec:
  endpointSelector: {matchLabels: {app: web}}
  egress:
  - toEndpoints: [{matchLabels: {app: db}}]
    toPorts: [{ports: [{port: "80", protocol: TCP}], rules: {http: [{method: GET}]}}]
"#,
        )
        .unwrap();
    let web = LabelSet::parse_list(&["k8s:app=web", "k8s:io.kubernetes.pod.namespace=default"]);
    let l7 = engine
        .resolve(
            &PolicyEndpoint::new(NumericIdentity::new(1000), web),
            &NamedPortTable::new(),
        )
        .unwrap();
    let err = sync(&env.dp, &l7, &|_, _| None).unwrap_err();
    assert!(err.to_string().contains("endpoint 7 policy"), "{err}");
    let _ = env.drain();
    assert_eq!(
        env.run(Program::FromEndpoint, &packet(a, 3, b, 5432, 6, SYN)),
        TC_ACT_SHOT
    );
    assert!(
        env.drain()
            .iter()
            .any(|e| matches!(e, Event::Drop(d) if d.hdr.subtype == CIL_DROP_EP_NOT_READY))
    );
    // With a proxy port the same state syncs, and the verdict carries the redirect. No proxy
    // listens here, so the flow is then dropped (fail closed) as "proxy lookup failed".
    sync(&env.dp, &l7, &|_, _| Some(15001)).unwrap();
    assert_eq!(
        env.run(Program::FromEndpoint, &packet(a, 4, b, 80, 6, SYN)),
        TC_ACT_SHOT
    );
    let events = env.drain();
    assert!(events.iter().any(|e| matches!(e, Event::PolicyVerdict(v)
        if v.flags & CIL_VERDICT_F_REDIRECT != 0 && v.proxy_port.get() == 15001)));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Drop(d) if d.hdr.subtype == CIL_DROP_PROXY_LOOKUP_FAILED))
    );
}

/// The async reader decodes what the programs emit and accounts for losses.
#[test]
fn event_stream_reads_decoded_events() {
    let strict = std::env::var("CILIUM_PRIVILEGED_TESTS").as_deref() == Ok("1");
    let dir = PathBuf::from(format!(
        "/sys/fs/bpf/cilium-rs-test-stream-{}",
        std::process::id()
    ));
    let mut dp = match Datapath::load(&DatapathConfig::new(&dir)) {
        Ok(dp) => dp,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            assert!(
                !strict,
                "CILIUM_PRIVILEGED_TESTS=1 but the datapath cannot load: {e}"
            );
            return;
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut stream = cilium_datapath::EventStream::new(&mut dp).unwrap();
        assert!(dp.take_events().is_none(), "one reader per instance");
        let spoofed = packet(v4("10.9.9.9"), 1, v4("10.0.0.2"), 80, 6, SYN);
        assert_eq!(run(&dp, Program::FromEndpoint, &spoofed), TC_ACT_SHOT);
        let event = tokio::time::timeout(std::time::Duration::from_secs(2), stream.next())
            .await
            .expect("an event within 2 s")
            .unwrap();
        match event {
            Event::Drop(d) => assert_eq!(d.hdr.subtype, CIL_DROP_INVALID_SIP),
            other => panic!("expected a drop, got {other:?}"),
        }
        assert_eq!(
            stream.lost().unwrap(),
            cilium_datapath::LostEvents::default()
        );
        assert_eq!(dp.events_lost().unwrap(), 0);
    });
    dp.teardown().unwrap();
    assert!(!dir.exists());
}
