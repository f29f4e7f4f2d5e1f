//! The DNS message vectors of the conformance data (`../shared/conformance/l7/
//! dns_message_vectors.json`, generated with dnspython; a copy is embedded below so the test
//! also runs from a packaged crate, and `embedded_copy_matches_the_shared_file` checks it has
//! not drifted): every vector is parsed as it says, and handled by the proxy as a query or
//! as an upstream answer.
//!
//! Skipped cases: none. Each vector's `expect` fields are all checked (`edns` against
//! hickory-proto's reading of the OPT record, since the proxy forwards EDNS untouched).

#![cfg(feature = "proxy")]

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cilium_core::{LabelSet, NumericIdentity, Protocol};
use cilium_hubble::proto::flow::{Verdict, layer7};
use cilium_l7::dns_proxy::{
    DnsMessageError, DnsProxy, DnsProxyConfig, NoFqdnUpdates, answer_records, parse_answer,
    parse_query,
};
use cilium_l7::records::L7Record;
use cilium_l7::{ConnInfo, LocalEndpoint, PolicySnapshot};
use cilium_policy::{EndpointInfo, EngineConfig, NamedPortTable, PolicyEngine};
use hickory_proto::op::{Message, Query};
use hickory_proto::rr::{Name, RecordType};
use serde_json::Value;
use tokio::net::UdpSocket;
use tokio::sync::watch;

const SHARED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/conformance/l7/dns_message_vectors.json"
);

/// The vectors, as of the shared file.
const VECTORS: &str = r#"{
 "generator": "dnspython 2.9.2 (PyPI)",
 "vectors": [
  {
   "kind": "query",
   "note": "A query, RD set",
   "hex": "1001010000010000000000000663696c69756d02696f0000010001",
   "len": 27,
   "expect": {
    "id": 4097,
    "qr": false,
    "qname": "cilium.io.",
    "qtype": "A",
    "rcode": "NOERROR",
    "answers": []
   }
  },
  {
   "kind": "query",
   "note": "AAAA query with EDNS0 OPT (udp payload 1232? dnspython default)",
   "hex": "100201000001000000000001037375620663696c69756d02696f00001c000100002904d0000000000000",
   "len": 42,
   "expect": {
    "id": 4098,
    "qr": false,
    "qname": "sub.cilium.io.",
    "qtype": "AAAA",
    "rcode": "NOERROR",
    "answers": [],
    "edns": 0
   }
  },
  {
   "kind": "response",
   "note": "two A records, name compression to question",
   "hex": "10038100000100020000000003617069077477697474657203636f6d0000010001c00c000100010000012c0004c000020ac00c000100010000012c0004c000020b",
   "len": 65,
   "expect": {
    "id": 4099,
    "qr": true,
    "qname": "api.twitter.com.",
    "qtype": "A",
    "rcode": "NOERROR",
    "answers": [
     [
      "api.twitter.com.",
      "A",
      300,
      "192.0.2.10"
     ],
     [
      "api.twitter.com.",
      "A",
      300,
      "192.0.2.11"
     ]
    ]
   }
  },
  {
   "kind": "response",
   "note": "CNAME chain: FQDN policy must allow the A record IP of the chain target (Cilium toFQDNs semantics)",
   "hex": "100481000001000200000000087365727669636531036170690663696c69756d02696f0000010001c00c000500010000001e0014026c620b63696c69756d2d65646765036e657400c034000100010000003c0004c6336407",
   "len": 88,
   "expect": {
    "id": 4100,
    "qr": true,
    "qname": "service1.api.cilium.io.",
    "qtype": "A",
    "rcode": "NOERROR",
    "answers": [
     [
      "service1.api.cilium.io.",
      "CNAME",
      30,
      "lb.cilium-edge.net."
     ],
     [
      "lb.cilium-edge.net.",
      "A",
      60,
      "198.51.100.7"
     ]
    ]
   }
  },
  {
   "kind": "response",
   "note": "NXDOMAIN with SOA in authority",
   "hex": "1005810300010000000100000b6e6f6e6578697374656e740663696c69756d02696f0000010001c018000600010000012c0027036e7331c0180a686f73746d6173746572c0180000000100001c2000000e10001275000000012c",
   "len": 90,
   "expect": {
    "id": 4101,
    "qr": true,
    "qname": "nonexistent.cilium.io.",
    "qtype": "A",
    "rcode": "NXDOMAIN",
    "answers": []
   }
  },
  {
   "kind": "response",
   "note": "AAAA answer; name matches matchPattern 'special*service.api.cilium.io'",
   "hex": "100681000001000100000000117370656369616c2d782d73657276696365036170690663696c69756d02696f00001c0001c00c001c000100000078001020010db8000000000000000000000007",
   "len": 77,
   "expect": {
    "id": 4102,
    "qr": true,
    "qname": "special-x-service.api.cilium.io.",
    "qtype": "AAAA",
    "rcode": "NOERROR",
    "answers": [
     [
      "special-x-service.api.cilium.io.",
      "AAAA",
      120,
      "2001:db8::7"
     ]
    ]
   }
  },
  {
   "kind": "response",
   "note": "authoritative cluster.local answer, TTL 5",
   "hex": "100785000001000100000000086b7562652d646e730b6b7562652d73797374656d0373766307636c7573746572056c6f63616c0000010001c00c000100010000000500040a60000a",
   "len": 72,
   "expect": {
    "id": 4103,
    "qr": true,
    "qname": "kube-dns.kube-system.svc.cluster.local.",
    "qtype": "A",
    "rcode": "NOERROR",
    "answers": [
     [
      "kube-dns.kube-system.svc.cluster.local.",
      "A",
      5,
      "10.96.0.10"
     ]
    ]
   }
  },
  {
   "kind": "query",
   "note": "mixed-case qname (0x20 encoding); matching must be case-insensitive",
   "hex": "1008010000010000000000000643694c69556d02496f0000010001",
   "len": 27,
   "expect": {
    "id": 4104,
    "qr": false,
    "qname": "CiLiUm.Io.",
    "qtype": "A",
    "rcode": "NOERROR",
    "answers": []
   }
  },
  {
   "kind": "response",
   "note": "truncated (TC=1) response with empty answer: client must retry over TCP",
   "hex": "100983000001000000000000036269670663696c69756d02696f0000100001",
   "len": 31,
   "expect": {
    "id": 4105,
    "qr": true,
    "qname": "big.cilium.io.",
    "qtype": "TXT",
    "rcode": "NOERROR",
    "answers": [],
    "tc": true
   }
  },
  {
   "kind": "response",
   "note": "REFUSED (what Cilium's DNS proxy returns for a policy-denied query by default: --tofqdns-dns-reject-response-code=refused)",
   "hex": "100a810500010000000000000772656675736564076578616d706c650000010001",
   "len": 33,
   "expect": {
    "id": 4106,
    "qr": true,
    "qname": "refused.example.",
    "qtype": "A",
    "rcode": "REFUSED",
    "answers": []
   }
  }
 ]
}"#;

fn vectors() -> Vec<Value> {
    let v: Value = serde_json::from_str(VECTORS).unwrap();
    v["vectors"].as_array().unwrap().clone()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn rcode_number(name: &str) -> u16 {
    match name {
        "NOERROR" => 0,
        "FORMERR" => 1,
        "SERVFAIL" => 2,
        "NXDOMAIN" => 3,
        "NOTIMP" => 4,
        "REFUSED" => 5,
        other => panic!("rcode {other} is not in the table of this test"),
    }
}

fn query_for(id: u16, qname: &str, qtype: &str) -> Vec<u8> {
    let mut m = Message::new();
    m.set_id(id).set_recursion_desired(true);
    let qtype: RecordType = qtype.parse().unwrap();
    m.add_query(Query::query(Name::from_ascii(qname).unwrap(), qtype));
    m.to_vec().unwrap()
}

/// The addresses the proxy should learn from a vector's answers: A/AAAA records, each with
/// the smallest TTL of the CNAMEs before it and its own (these vectors list the chain in
/// order), only for NOERROR.
fn expected_ips(expect: &Value) -> Vec<(IpAddr, u32)> {
    if expect["rcode"] != "NOERROR" {
        return Vec::new();
    }
    let mut chain_ttl = u32::MAX;
    let mut out = Vec::new();
    for a in expect["answers"].as_array().unwrap() {
        let ttl = a[2].as_u64().unwrap() as u32;
        match a[1].as_str().unwrap() {
            "CNAME" => chain_ttl = chain_ttl.min(ttl),
            "A" | "AAAA" => {
                out.push((a[3].as_str().unwrap().parse().unwrap(), ttl.min(chain_ttl)));
            }
            _ => {}
        }
    }
    out
}

#[test]
fn embedded_copy_matches_the_shared_file() {
    let Ok(shared) = std::fs::read_to_string(SHARED) else {
        eprintln!("skipped: {SHARED} is not here (packaged crate); the embedded copy is used");
        return;
    };
    let shared: Value = serde_json::from_str(&shared).unwrap();
    let embedded: Value = serde_json::from_str(VECTORS).unwrap();
    assert_eq!(
        shared, embedded,
        "update the copy in this file from {SHARED}"
    );
}

#[test]
fn every_vector_parses_as_it_says() {
    let vectors = vectors();
    assert_eq!(vectors.len(), 10);
    for v in &vectors {
        let note = v["note"].as_str().unwrap();
        let bytes = unhex(v["hex"].as_str().unwrap());
        assert_eq!(bytes.len() as u64, v["len"].as_u64().unwrap(), "{note}");
        let e = &v["expect"];
        let id = e["id"].as_u64().unwrap() as u16;
        let qname = e["qname"].as_str().unwrap();
        let qtype = e["qtype"].as_str().unwrap();
        let rcode = rcode_number(e["rcode"].as_str().unwrap());
        let answers: Vec<(String, String, u32, String)> = answer_records(&bytes)
            .unwrap()
            .into_iter()
            .map(|r| (r.name, r.rtype, r.ttl, r.data))
            .collect();
        let want: Vec<(String, String, u32, String)> = e["answers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a[0].as_str().unwrap().to_owned(),
                    a[1].as_str().unwrap().to_owned(),
                    a[2].as_u64().unwrap() as u32,
                    a[3].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(answers, want, "{note}");
        let edns = Message::from_vec(&bytes)
            .unwrap()
            .extensions()
            .as_ref()
            .map(|x| u64::from(x.version()));
        assert_eq!(edns, e["edns"].as_u64(), "{note}: edns");
        match v["kind"].as_str().unwrap() {
            "query" => {
                assert_eq!(e["qr"], false, "{note}");
                let q = parse_query(&bytes).unwrap();
                assert_eq!(
                    (q.id(), q.name(), q.qtype_name().as_str()),
                    (id, qname, qtype),
                    "{note}"
                );
                assert_eq!(q.canonical_name(), qname.to_ascii_lowercase(), "{note}");
                assert_eq!(u16::from(bytes[3] & 0x0F), rcode, "{note}");
            }
            "response" => {
                assert_eq!(e["qr"], true, "{note}");
                assert_eq!(
                    parse_query(&bytes),
                    Err(DnsMessageError::NotAQuery { id }),
                    "{note}: an answer is never taken for a query"
                );
                let q = parse_query(&query_for(id, qname, qtype)).unwrap();
                let a = parse_answer(&q, &bytes).unwrap();
                assert_eq!((a.id, a.rcode), (id, rcode), "{note}");
                assert_eq!(a.truncated, e["tc"] == true, "{note}");
                assert_eq!(a.ips, expected_ips(e), "{note}");
                let cnames: Vec<&str> = e["answers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|a| a[1] == "CNAME")
                    .map(|a| a[3].as_str().unwrap())
                    .collect();
                assert_eq!(a.cnames, cnames, "{note}");
                // The answer to another question or id is refused.
                let other = parse_query(&query_for(id, "other.example.", qtype)).unwrap();
                assert!(matches!(
                    parse_answer(&other, &bytes),
                    Err(DnsMessageError::QuestionMismatch { .. })
                ));
                let other = parse_query(&query_for(id ^ 1, qname, qtype)).unwrap();
                assert!(matches!(
                    parse_answer(&other, &bytes),
                    Err(DnsMessageError::IdMismatch { .. })
                ));
            }
            other => panic!("vector kind {other:?} is not handled by this test"),
        }
    }
}

const DNS_POLICY: &str = r#"
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: dns, namespace: default}
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress:
  - toPorts:
    - ports: [{port: "53", protocol: ANY}]
      rules:
        dns:
        - matchName: cilium.io
        - matchPattern: "*.cilium.io"
        - matchName: api.twitter.com
        - matchPattern: "*.api.cilium.io"
        - matchPattern: "special*service.api.cilium.io"
        - matchPattern: "**.cluster.local"
        - matchName: refused.example
"#;

const DENY_ALL_BUT_ONE: &str = r#"
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: dns, namespace: default}
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress:
  - toPorts:
    - ports: [{port: "53", protocol: ANY}]
      rules:
        dns: [{matchName: only.example}]
"#;

fn snapshot(policy: &str) -> PolicySnapshot {
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

/// A UDP upstream that answers a query whose id is a response vector's with that vector,
/// and any other query with itself turned into an empty NOERROR answer; it keeps what it
/// received.
async fn fake_upstream(answers: HashMap<u16, Vec<u8>>) -> (SocketAddr, Arc<Mutex<Vec<Vec<u8>>>>) {
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = sock.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let keep = Arc::clone(&seen);
    tokio::spawn(async move {
        let mut buf = vec![0u8; 65_535];
        loop {
            let Ok((n, from)) = sock.recv_from(&mut buf).await else {
                return;
            };
            let q = buf[..n].to_vec();
            keep.lock().unwrap().push(q.clone());
            let id = u16::from_be_bytes([q[0], q[1]]);
            let reply = answers.get(&id).cloned().unwrap_or_else(|| {
                let mut r = q.clone();
                r[2] |= 0x80;
                r
            });
            let _ = sock.send_to(&reply, from).await;
        }
    });
    (addr, seen)
}

fn proxy(policy: &str, upstream: SocketAddr) -> (DnsProxy, Arc<Mutex<Vec<L7Record>>>) {
    let (_tx, rx) = watch::channel(Arc::new(snapshot(policy)));
    let records = Arc::new(Mutex::new(Vec::new()));
    let sink = {
        let records = Arc::clone(&records);
        move |r: L7Record| records.lock().unwrap().push(r)
    };
    let config = DnsProxyConfig {
        upstream: Some(upstream),
        upstream_timeout: Duration::from_secs(10),
        mark_upstream: false,
        ..DnsProxyConfig::default()
    };
    let p = DnsProxy::new(config, rx, Arc::new(sink), Arc::new(NoFqdnUpdates));
    (p, records)
}

const CONN: &str = "10.1.0.1:40000";
const SERVER: &str = "10.96.0.10:53";

fn conn() -> ConnInfo {
    ConnInfo {
        client: CONN.parse().unwrap(),
        server: SERVER.parse().unwrap(),
        protocol: Protocol::Udp,
    }
}

#[tokio::test]
async fn every_vector_is_handled_by_the_proxy() {
    let vectors = vectors();
    let responses: HashMap<u16, Vec<u8>> = vectors
        .iter()
        .filter(|v| v["kind"] == "response")
        .map(|v| {
            (
                v["expect"]["id"].as_u64().unwrap() as u16,
                unhex(v["hex"].as_str().unwrap()),
            )
        })
        .collect();
    let (upstream, seen) = fake_upstream(responses).await;
    let (allowing, records) = proxy(DNS_POLICY, upstream);
    let (denying, _) = proxy(DENY_ALL_BUT_ONE, upstream);
    for v in &vectors {
        let note = v["note"].as_str().unwrap();
        let e = &v["expect"];
        let bytes = unhex(v["hex"].as_str().unwrap());
        let id = e["id"].as_u64().unwrap() as u16;
        let qname = e["qname"].as_str().unwrap();
        let qtype = e["qtype"].as_str().unwrap();
        match v["kind"].as_str().unwrap() {
            "query" => {
                // Allowed: forwarded byte for byte (same id, EDNS, case).
                seen.lock().unwrap().clear();
                let reply = allowing.handle(conn(), &bytes).await.unwrap();
                assert_eq!(
                    *seen.lock().unwrap(),
                    std::slice::from_ref(&bytes),
                    "{note}"
                );
                assert_eq!(reply[..2], bytes[..2], "{note}");
                // Denied: REFUSED with the id and the question as sent, not forwarded.
                seen.lock().unwrap().clear();
                let reply = denying.handle(conn(), &bytes).await.unwrap();
                assert!(seen.lock().unwrap().is_empty(), "{note}");
                let msg = Message::from_vec(&reply).unwrap();
                assert_eq!(msg.id(), id, "{note}");
                assert_eq!(u16::from(msg.response_code()), 5, "{note}");
                assert_eq!(msg.queries()[0].name().to_ascii(), qname, "{note}");
            }
            "response" => {
                // The proxy asks upstream and passes the vector through unchanged.
                let before = records.lock().unwrap().len();
                let reply = allowing
                    .handle(conn(), &query_for(id, qname, qtype))
                    .await
                    .unwrap();
                assert_eq!(reply, bytes, "{note}");
                let cache = allowing.fqdn_cache();
                let cache = cache.lock().unwrap();
                let mut want: Vec<IpAddr> = expected_ips(e).iter().map(|(i, _)| *i).collect();
                want.sort();
                assert_eq!(cache.ips_of(qname), want, "{note}");
                drop(cache);
                let recs = records.lock().unwrap()[before..].to_vec();
                assert_eq!(recs.len(), 2, "{note}: request and response records");
                let resp = &recs[1];
                assert_eq!(resp.verdict, Verdict::Forwarded, "{note}");
                let layer7::Record::Dns(dns) = &resp.record else {
                    panic!("{note}: a DNS record");
                };
                assert_eq!(
                    u16::try_from(dns.rcode).unwrap(),
                    rcode_number(e["rcode"].as_str().unwrap()),
                    "{note}"
                );
                assert_eq!(dns.query, qname.to_ascii_lowercase(), "{note}");
                assert_eq!(dns.qtypes, [qtype], "{note}");
                let ips: Vec<String> = expected_ips(e).iter().map(|(i, _)| i.to_string()).collect();
                assert_eq!(dns.ips, ips, "{note}");
                assert_eq!(
                    dns.ttl,
                    expected_ips(e).iter().map(|(_, t)| *t).min().unwrap_or(0),
                    "{note}"
                );
            }
            other => panic!("vector kind {other:?} is not handled by this test"),
        }
    }
    assert_eq!(allowing.stats().denied, 0);
    assert_eq!(denying.stats().denied, 3);
}
