//! The semantic cases of the distillery data (`cases_semantic`): enforcement modes, default
//! deny, deny precedence, port ranges, protocol ANY, CIDR exceptions, entities, empty
//! selectors, and L7 redirects traced down to HTTP requests.

use std::collections::BTreeMap;

use cilium_core::{Cidr, LabelSet, NumericIdentity, Protocol};
use cilium_policy::Direction;
use cilium_policy::engine::NamedPortTable;
use cilium_policy::l7::{HttpRequest, L7Request};
use cilium_policy::offline::{IdentitySpec, MapStateInput};
use cilium_policy::trace::TracePeer;
use serde_json::{Value, json};

const CIDR_8: u32 = 0x0100_0001;
const CIDR_12: u32 = 0x0100_0002;

fn identities() -> BTreeMap<String, IdentitySpec> {
    let mut m = BTreeMap::new();
    let mut add = |name: &str, id: u32, labels: &[&str]| {
        m.insert(
            name.to_owned(),
            IdentitySpec {
                id,
                labels: labels.iter().map(|s| s.to_string()).collect(),
            },
        );
    };
    add("foo", 100, &["any:foo", "any:blue"]);
    add("bar", 200, &["any:bar", "any:blue"]);
    add("baz", 300, &["any:baz"]);
    add(
        "pod",
        400,
        &[
            "k8s:app=x",
            "k8s:io.kubernetes.pod.namespace=default",
            "k8s:io.cilium.k8s.policy.cluster=default",
        ],
    );
    add("init", 5, &["reserved:init"]);
    add("cidr8", CIDR_8, &["cidr:10.0.0.0/8", "reserved:world"]);
    add("cidr12", CIDR_12, &["cidr:10.96.0.0/12", "reserved:world"]);
    m
}

/// The identities a probe's peer text stands for.
fn peer_ids(text: &str) -> Vec<u32> {
    if let Ok(addr) = text.parse::<std::net::IpAddr>() {
        // ipcache longest-prefix match over the prefixes the policies allocated.
        let prefixes = [("10.96.0.0/12", CIDR_12), ("10.0.0.0/8", CIDR_8)];
        return vec![
            prefixes
                .iter()
                .find(|(c, _)| c.parse::<Cidr>().unwrap().contains_addr(addr))
                .map_or(2, |(_, id)| *id),
        ];
    }
    match text.split_whitespace().next().unwrap() {
        "foo" => vec![100],
        "bar" => vec![200],
        "baz" => vec![300],
        "any" => vec![100, 200, 300],
        "world" | "8.8.8.8" => vec![2],
        "in-cluster" => vec![400],
        "host" => vec![1],
        "remote-node" => vec![6],
        "anything" => vec![100, 200, 300, 400, 1, 2, 6],
        other => panic!("unknown peer {other:?}"),
    }
}

fn port(text: &str) -> (u8, u16) {
    if text == "any" {
        return (6, 80);
    }
    let (n, p) = text.split_once('/').unwrap();
    let proto = match p {
        "TCP" => 6,
        "UDP" => 17,
        "SCTP" => 132,
        other => panic!("{other}"),
    };
    (proto, n.parse().unwrap())
}

#[test]
fn semantic_cases() {
    let data: Value = serde_json::from_str(include_str!("data/distillery_cases.json")).unwrap();
    let cases = data["cases_semantic"].as_array().unwrap();
    assert_eq!(cases.len(), 19);
    let mut failures = Vec::new();
    let mut probes_run = 0;
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let direction = if case["direction"] == "egress" {
            Direction::Egress
        } else {
            Direction::Ingress
        };
        let probes: Vec<(String, String, String)> = match case["probes"].as_array() {
            Some(list) => list
                .iter()
                .map(|p| {
                    (
                        p[0].as_str().unwrap().into(),
                        p[1].as_str().unwrap().into(),
                        p[2].as_str().unwrap().into(),
                    )
                })
                .collect(),
            None => {
                let peer = if direction == Direction::Ingress {
                    &case["src"]
                } else {
                    &case["dst"]
                };
                vec![(
                    peer.as_str().unwrap().into(),
                    case["dport"].as_str().unwrap().into(),
                    case["expected"].as_str().unwrap().into(),
                )]
            }
        };
        let subject = if direction == Direction::Ingress {
            case["dst"].as_str()
        } else {
            case["src"].as_str()
        };
        let subject = match subject {
            Some(s) if s.starts_with("reserved:init") => "init",
            _ => "foo",
        };
        let input: MapStateInput = serde_json::from_value(json!({
            "rule_library": data["rule_library"],
            "identities": identities(),
            "case": {"rules": case["rules"], "subject": subject, "mode": case["mode"]},
        }))
        .unwrap();
        let (engine, policy) = input.evaluate(None).unwrap();
        for (peer, p, expected) in &probes {
            let (proto, dport) = port(p);
            for peer_id in peer_ids(peer) {
                probes_run += 1;
                let r =
                    policy
                        .map_state
                        .lookup(direction, NumericIdentity::new(peer_id), proto, dport);
                let ok = if expected.starts_with("ALLOWED") {
                    r.allowed()
                } else if expected.starts_with("DENIED_POLICY_DENY") {
                    r.verdict_text() == "DENIED_POLICY_DENY(-181)"
                } else if expected.starts_with("DENIED") {
                    !r.allowed()
                } else if expected.starts_with("REDIRECTED_TO_PROXY") {
                    r.verdict_text() == "REDIRECTED_TO_PROXY"
                } else {
                    panic!("{id}: unknown expectation {expected}")
                };
                if !ok {
                    failures.push(format!(
                        "{id}: {peer} ({peer_id}) {p}: got {}, want {expected}",
                        r.verdict_text()
                    ));
                }
            }
        }
        // HTTP requests through the trace (bar for the redirect case, foo for the merge case).
        for (field, from) in [("http_probes", 200), ("http_probes_from_foo", 100)] {
            let Some(list) = case[field].as_array() else {
                continue;
            };
            let subject = policy.endpoint.clone();
            for probe in list {
                let req = L7Request::Http(HttpRequest {
                    method: probe[0].as_str().unwrap().into(),
                    path: probe[1].as_str().unwrap().into(),
                    ..HttpRequest::default()
                });
                let want = probe[2].as_str().unwrap();
                let want_allowed = want.starts_with("200") || want.starts_with("ALLOWED");
                let trace = engine
                    .trace(
                        &TracePeer::Remote(NumericIdentity::new(from)),
                        &TracePeer::Endpoint(subject.clone()),
                        Protocol::Tcp,
                        80,
                        Some(&req),
                        &NamedPortTable::new(),
                    )
                    .unwrap();
                probes_run += 1;
                if trace.ingress.l7_allowed != Some(want_allowed) || trace.allowed() != want_allowed
                {
                    failures.push(format!("{id}: {probe}: trace\n{trace}"));
                }
                if trace.ingress.rules.is_empty() {
                    failures.push(format!("{id}: trace names no rule:\n{trace}"));
                }
            }
        }
    }
    assert!(probes_run > 40, "{probes_run}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn trace_names_the_deciding_rules_on_both_sides() {
    let mut engine = cilium_policy::PolicyEngine::new(cilium_policy::EngineConfig::default());
    engine
        .load_text(
            "t.yaml",
            r#"
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: client-egress, namespace: app}
spec:
  endpointSelector: {matchLabels: {role: client}}
  egress:
  - toEndpoints: [{matchLabels: {role: server}}]
    toPorts: [{ports: [{port: "8080", protocol: TCP}]}]
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: server-ingress, namespace: app}
spec:
  endpointSelector: {matchLabels: {role: server}}
  ingressDeny:
  - fromEndpoints: [{matchLabels: {role: client}}]
    toPorts: [{ports: [{port: "8080", protocol: TCP}]}]
  ingress:
  - fromEndpoints: [{}]
"#,
        )
        .unwrap();
    let ns = "k8s:io.kubernetes.pod.namespace=app";
    let client = LabelSet::parse_list(&["k8s:role=client", ns]);
    let server = LabelSet::parse_list(&["k8s:role=server", ns]);
    engine.upsert_identity(NumericIdentity::new(1000), client.clone());
    engine.upsert_identity(NumericIdentity::new(1001), server.clone());
    let src = TracePeer::Endpoint(cilium_policy::EndpointInfo::new(
        NumericIdentity::new(1000),
        client,
    ));
    let dst = TracePeer::Endpoint(cilium_policy::EndpointInfo::new(
        NumericIdentity::new(1001),
        server,
    ));
    let t = engine
        .trace(
            &src,
            &dst,
            Protocol::Tcp,
            8080,
            None,
            &NamedPortTable::new(),
        )
        .unwrap();
    assert!(t.egress.allowed, "{t}");
    assert_eq!(
        t.egress.rules,
        vec!["CiliumNetworkPolicy app/client-egress".to_owned()]
    );
    assert_eq!(t.ingress.verdict, "DENIED_POLICY_DENY(-181)");
    assert_eq!(
        t.ingress.rules,
        vec!["CiliumNetworkPolicy app/server-ingress".to_owned()]
    );
    assert!(!t.allowed());
    // Another port: the client's egress has no match and names its default-deny rule.
    let t = engine
        .trace(
            &src,
            &dst,
            Protocol::Tcp,
            9090,
            None,
            &NamedPortTable::new(),
        )
        .unwrap();
    assert_eq!(t.egress.verdict, "DENIED_NO_MATCH(-133)");
    assert_eq!(
        t.egress.rules,
        vec!["CiliumNetworkPolicy app/client-egress (default deny)".to_owned()]
    );
    assert!(t.ingress.allowed);
}
