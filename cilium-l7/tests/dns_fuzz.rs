//! The DNS proxy's message handling on hostile input, on stable Rust: the checks of the
//! cargo-fuzz target `fuzz/fuzz_targets/dns_message.rs` (kept in step with it) over its seed
//! corpus, every truncation and single-byte mutation of the seeds, and random bytes; then
//! `DnsProxy::handle` itself over the same inputs, as queries (policy allowing and denying)
//! and as answers of an upstream that corrupts what it sends back. Never a panic; every
//! query that carries an id gets an answer with that id.

#![cfg(feature = "proxy")]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use cilium_core::{LabelSet, NumericIdentity, Protocol};
use cilium_l7::dns::{RejectCode, check_rules};
use cilium_l7::dns_proxy::{
    DnsProxy, DnsProxyConfig, NoFqdnUpdates, answer_records, dns_record, error_response,
    parse_answer, parse_query, reject_response,
};
use cilium_l7::records::NoRecords;
use cilium_l7::{ConnInfo, LocalEndpoint, PolicySnapshot};
use cilium_policy::fqdn::FqdnPattern;
use cilium_policy::l7::DnsRule;
use cilium_policy::{EndpointInfo, EngineConfig, NamedPortTable, PolicyEngine};
use tokio::net::UdpSocket;
use tokio::sync::watch;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/corpus/dns_message");

/// The fuzz target's body (see `fuzz/fuzz_targets/dns_message.rs`).
fn check(data: &[u8]) {
    match parse_query(data) {
        Ok(q) => {
            for code in [RejectCode::Refused, RejectCode::NameError] {
                let r = reject_response(&q, code);
                let a = parse_answer(&q, &r).expect("the proxy's own answer answers the query");
                assert_eq!((a.id, a.rcode), (q.id(), code.rcode()));
                assert!(a.ips.is_empty());
            }
            assert_eq!(q.canonical_name(), q.canonical_name().to_ascii_lowercase());
            assert!(q.canonical_name().ends_with('.'));
            let _ = dns_record(Some(&q), None, 0);
        }
        Err(e) => {
            if let Some(rcode) = e.query_rcode() {
                let r = error_response(data, rcode).expect("an id to answer");
                assert_eq!(r.len(), 12);
                assert_eq!((r[0], r[1], r[3] & 0x0F), (data[0], data[1], rcode));
                assert!(r[2] & 0x80 != 0);
            }
            assert!(!e.to_string().is_empty());
        }
    }
    if data.len() >= 3 {
        let mut as_query = data.to_vec();
        as_query[2] &= 0x07;
        if let Ok(q) = parse_query(&as_query) {
            let answer = parse_answer(&q, data);
            // The property holds when the bytes are a response of opcode QUERY that parses
            // as it is (compression pointers into the header read other flag bytes in the
            // query made from it).
            if data[2] & 0xF8 == 0x80
                && !name_points_into_header(data)
                && answer_records(data).is_ok()
            {
                let a = answer.expect("a response with the query's own question");
                assert_eq!(a.id, q.id());
                if a.rcode != 0 {
                    assert!(a.ips.is_empty());
                }
                assert!(a.ips.iter().all(|(_, ttl)| *ttl >= a.ttl));
                let mut ips: Vec<_> = a.ips.iter().map(|(ip, _)| *ip).collect();
                ips.sort();
                ips.dedup();
                assert_eq!(ips.len(), a.ips.len(), "each address once");
                let _ = dns_record(Some(&q), Some(&a), a.rcode);
            }
        }
    }
    let _ = answer_records(data);
}

/// Whether the question's name follows a compression pointer into the header (whose flag
/// bytes differ between the query and the answer made from the same bytes).
fn name_points_into_header(data: &[u8]) -> bool {
    let mut at = 12;
    for _ in 0..128 {
        match data.get(at) {
            Some(&len) if len & 0xC0 == 0xC0 => {
                let Some(&low) = data.get(at + 1) else {
                    return false;
                };
                let target = (usize::from(len & 0x3F) << 8) | usize::from(low);
                if target < 12 {
                    return true;
                }
                at = target;
            }
            Some(&0) | None => return false,
            Some(&len) => at += 1 + usize::from(len),
        }
    }
    false
}

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

fn seeds() -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(Path::new(CORPUS))
        .expect("the seed corpus")
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Seeds, every truncation and single-byte mutation (three values per position) of each,
/// and random messages (a random header with plausible counts, random length).
fn inputs() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rng = 0x5EED_D0D0_CAFE_F00Du64;
    for (_, s) in seeds() {
        for n in 0..s.len() {
            out.push(s[..n].to_vec());
        }
        for i in 0..s.len() {
            for x in [0xFFu8, 0x80, (xorshift(&mut rng) as u8) | 1] {
                let mut m = s.clone();
                m[i] ^= x;
                out.push(m);
            }
        }
        out.push(s);
    }
    for _ in 0..20_000 {
        let len = (xorshift(&mut rng) % 300) as usize;
        let mut m: Vec<u8> = (0..len).map(|_| xorshift(&mut rng) as u8).collect();
        if m.len() >= 12 && xorshift(&mut rng).is_multiple_of(2) {
            // Small section counts, so parsing goes past the header.
            for c in [4, 6, 8, 10] {
                m[c] = 0;
                m[c + 1] = (xorshift(&mut rng) % 3) as u8;
            }
        }
        out.push(m);
    }
    out
}

#[test]
fn the_seed_corpus_holds_every_conformance_vector() {
    let names: Vec<String> = seeds().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names.iter().filter(|n| n.starts_with("vector-")).count(),
        10
    );
    assert!(names.len() >= 14, "{names:?}");
}

#[test]
fn message_handling_never_panics() {
    let inputs = inputs();
    assert!(inputs.len() > 20_000);
    let (mut queries, mut answers) = (0, 0);
    for m in &inputs {
        check(m);
        queries += usize::from(parse_query(m).is_ok());
        answers += usize::from(m.len() > 2 && m[2] & 0x80 != 0 && answer_records(m).is_ok());
    }
    // Mutations keep part of the seeds valid, so the deep paths run too.
    assert!(queries > 150, "{queries} inputs parsed as queries");
    assert!(answers > 300, "{answers} inputs parsed as answers");
}

fn snapshot() -> PolicySnapshot {
    let policy = r#"
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: dns, namespace: default}
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress:
  - toPorts:
    - ports: [{port: "53", protocol: ANY}]
      rules:
        dns: [{matchPattern: "*.cilium.io"}, {matchName: cilium.io}]
"#;
    let labels =
        LabelSet::parse_list(&["k8s:app=client", "k8s:io.kubernetes.pod.namespace=default"]);
    let mut engine = PolicyEngine::new(EngineConfig::default());
    engine.load_text("dns.yaml", policy).unwrap();
    engine.upsert_identity(NumericIdentity::new(1000), labels.clone());
    let ep = EndpointInfo::new(NumericIdentity::new(1000), labels);
    let resolved = engine.resolve(&ep, &NamedPortTable::new()).unwrap();
    let mut snap = PolicySnapshot::new(Arc::new(engine.cache().clone()));
    snap.insert_endpoint(
        "10.1.0.1".parse().unwrap(),
        LocalEndpoint {
            id: 7,
            identity: NumericIdentity::new(1000),
            policy: Arc::new(resolved),
        },
    );
    snap
}

/// An upstream that answers each query twice: first with a corrupted copy (QR set, id
/// kept, one byte after the id flipped), then with the query itself turned into an empty
/// answer, so the proxy never waits out its timeout.
async fn corrupting_upstream() -> std::net::SocketAddr {
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = sock.local_addr().unwrap();
    tokio::spawn(async move {
        let mut rng = 0xBAD_5EEDu64;
        let mut buf = vec![0u8; 65_535];
        while let Ok((n, from)) = sock.recv_from(&mut buf).await {
            let mut good = buf[..n].to_vec();
            good[2] |= 0x80;
            let mut bad = good.clone();
            let i = 2 + (xorshift(&mut rng) as usize) % (bad.len() - 2);
            bad[i] ^= (xorshift(&mut rng) as u8) | 1;
            bad[..2].copy_from_slice(&good[..2]);
            let _ = sock.send_to(&bad, from).await;
            let _ = sock.send_to(&good, from).await;
        }
    });
    addr
}

#[tokio::test]
async fn the_proxy_answers_hostile_queries_and_answers_without_panicking() {
    let upstream = corrupting_upstream().await;
    let (_tx, rx) = watch::channel(Arc::new(snapshot()));
    let proxy = DnsProxy::new(
        DnsProxyConfig {
            upstream: Some(upstream),
            upstream_timeout: Duration::from_secs(10),
            mark_upstream: false,
            ..DnsProxyConfig::default()
        },
        rx,
        Arc::new(NoRecords),
        Arc::new(NoFqdnUpdates),
    );
    let conn = ConnInfo {
        client: "10.1.0.1:40000".parse().unwrap(),
        server: "10.96.0.10:53".parse().unwrap(),
        protocol: Protocol::Udp,
    };
    let mut forwarded = 0;
    // The policy's rules, to say which names must go upstream.
    let rules = [
        DnsRule::Pattern(FqdnPattern::new("*.cilium.io").unwrap()),
        DnsRule::Name("cilium.io.".into()),
    ];
    let inputs = inputs();
    for m in &inputs {
        let allowed_before = proxy.stats().allowed;
        let reply = proxy.handle(conn, m).await;
        match parse_query(m) {
            Ok(q) => {
                let reply = reply.expect("every query is answered");
                assert_eq!(reply[..2], m[..2], "with its id");
                assert!(reply[2] & 0x80 != 0, "as a response");
                let name = q.canonical_name();
                if check_rules(&rules, name).is_allow() {
                    // Forwarded; the answer is the upstream's (or SERVFAIL for its junk).
                    assert_eq!(proxy.stats().allowed, allowed_before + 1, "{name}");
                    forwarded += 1;
                } else {
                    assert_eq!(reply, reject_response(&q, RejectCode::Refused), "{name}");
                }
            }
            Err(e) => match e.query_rcode() {
                Some(r) => assert_eq!(reply.map(|v| v[3] & 0x0F), Some(r)),
                None => assert_eq!(reply, None),
            },
        }
    }
    assert!(forwarded > 50, "{forwarded} queries went upstream");
    let s = proxy.stats();
    assert_eq!(s.queries, s.allowed + s.denied + s.malformed);
}
