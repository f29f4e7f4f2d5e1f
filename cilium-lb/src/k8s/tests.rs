//! One test per conversion rule, on Services and slices written as JSON.

use std::net::IpAddr;

use k8s_openapi::api::core::v1::Service as K8sService;
use k8s_openapi::api::discovery::v1::{EndpointConditions, EndpointSlice};
use serde_json::{Value, json};

use super::endpoints::endpoint_state;
use super::*;
use crate::model::{BackendState, Scope};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// `base` with the keys of `patch` set (recursively for objects; `null` removes a key).
fn merge(base: &mut Value, patch: Value) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    b.remove(&k);
                } else {
                    merge(b.entry(k).or_insert(Value::Null), v);
                }
            }
        }
        (b, p) => *b = p,
    }
}

/// The Service `shop/web` (ClusterIP 10.96.0.10, port `http` 80/TCP), patched.
fn web(patch: Value) -> K8sService {
    let mut v = json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "clusterIP": "10.96.0.10",
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
        },
    });
    merge(&mut v, patch);
    serde_json::from_value(v).unwrap()
}

/// A slice of `shop/<service>` with these endpoints and ports.
fn slice(
    name: &str,
    service: &str,
    address_type: &str,
    endpoints: Value,
    ports: Value,
) -> EndpointSlice {
    serde_json::from_value(json!({
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": name,
            "namespace": "shop",
            "labels": {"kubernetes.io/service-name": service},
        },
        "addressType": address_type,
        "endpoints": endpoints,
        "ports": ports,
    }))
    .unwrap()
}

/// A slice of `shop/web` with the IPv4 endpoints `addrs` (ready) and port `http` → 8080.
fn web_slice(name: &str, addrs: &[&str]) -> EndpointSlice {
    let eps: Vec<Value> = addrs.iter().map(|a| json!({"addresses": [a]})).collect();
    slice(
        name,
        "web",
        "IPv4",
        json!(eps),
        json!([{"name": "http", "port": 8080}]),
    )
}

fn node() -> NodeContext {
    NodeContext::new("node-a", [ip("192.168.1.10"), ip("fd00::10")])
}

fn convert(svc: &K8sService, slices: &[EndpointSlice]) -> Vec<Service> {
    services_from_k8s(svc, slices, &node()).unwrap()
}

fn err(svc: &K8sService, slices: &[EndpointSlice]) -> String {
    services_from_k8s(svc, slices, &node())
        .unwrap_err()
        .to_string()
}

fn names(services: &[Service]) -> Vec<String> {
    services.iter().map(|s| s.name.clone()).collect()
}

fn fronts(s: &Service) -> Vec<String> {
    s.frontends.iter().map(|f| f.to_string()).collect()
}

fn backs(s: &Service) -> Vec<String> {
    s.backends
        .iter()
        .map(|b| {
            let local = if b.node_local { " local" } else { "" };
            format!("{b} {}{local}", b.state)
        })
        .collect()
}

fn selected(s: &Service, scope: Scope) -> Vec<String> {
    s.selectable_backends(scope)
        .iter()
        .map(|b| b.to_string())
        .collect()
}

#[test]
fn cluster_ip_service() {
    let out = convert(
        &web(json!({})),
        &[web_slice("web-1", &["10.0.1.5", "10.0.2.7"])],
    );
    assert_eq!(names(&out), ["web:http:ClusterIP:IPv4"]);
    let s = &out[0];
    assert_eq!(s.namespace, "shop");
    assert_eq!(s.service_type, ServiceType::ClusterIp);
    assert_eq!(fronts(s), ["10.96.0.10:80/TCP"]);
    assert_eq!(
        backs(s),
        ["10.0.1.5:8080/TCP active", "10.0.2.7:8080/TCP active"]
    );
    assert_eq!(s.ext_traffic_policy, TrafficPolicy::Cluster);
    assert_eq!(s.int_traffic_policy, TrafficPolicy::Cluster);
    assert_eq!(s.affinity, SessionAffinity::None);
    assert_eq!(s.algorithm, Algorithm::Random);
    assert!(s.source_ranges.is_empty());
}

#[test]
fn services_without_a_cluster_ip_give_nothing() {
    let slices = [web_slice("web-1", &["10.0.1.5"])];
    for patch in [
        json!({"spec": {"clusterIP": "None"}}),
        json!({"spec": {"clusterIP": "None", "clusterIPs": ["None"]}}),
        json!({"spec": {"clusterIP": ""}}),
        json!({"spec": {"clusterIP": null}}),
        json!({"spec": {"type": "ExternalName", "externalName": "db.example.com", "clusterIP": null}}),
    ] {
        assert_eq!(convert(&web(patch.clone()), &slices), [], "{patch}");
    }
    // A Service without ports has nothing to balance.
    assert_eq!(convert(&web(json!({"spec": {"ports": null}})), &slices), []);
}

#[test]
fn unknown_type_is_an_error() {
    assert_eq!(
        err(&web(json!({"spec": {"type": "Magic"}})), &[]),
        r#"spec.type: "Magic" is not ClusterIP, NodePort, LoadBalancer or ExternalName"#
    );
    assert_eq!(
        err(&web(json!({"metadata": {"name": null}})), &[]),
        "metadata.name: required"
    );
    assert_eq!(err(&web(json!({"spec": null})), &[]), "spec: required");
}

#[test]
fn cluster_ips_are_checked() {
    assert_eq!(
        err(&web(json!({"spec": {"clusterIP": "10.96.0.300"}})), &[]),
        r#"spec.clusterIP: "10.96.0.300" is not an IP address"#
    );
    assert_eq!(
        err(
            &web(json!({"spec": {"clusterIPs": ["10.96.0.10", "10.96.0.11"]}})),
            &[]
        ),
        "spec.clusterIPs[1]: 10.96.0.11 is a second IPv4 cluster IP; a service has at most one per family"
    );
    assert_eq!(
        err(&web(json!({"spec": {"clusterIP": "0.0.0.0"}})), &[]),
        "spec.clusterIP: 0.0.0.0 is unspecified"
    );
}

#[test]
fn dual_stack_gives_one_service_per_family_present() {
    let v6 = slice(
        "web-v6",
        "web",
        "IPv6",
        json!([{"addresses": ["fd00:10::5"]}]),
        json!([{"name": "http", "port": 8080}]),
    );
    let slices = [web_slice("web-v4", &["10.0.1.5"]), v6];
    let dual = web(json!({"spec": {
        "clusterIPs": ["fd00:96::10", "10.96.0.10"],
        "ipFamilies": ["IPv6", "IPv4"],
    }}));
    let out = convert(&dual, &slices);
    assert_eq!(
        names(&out),
        ["web:http:ClusterIP:IPv4", "web:http:ClusterIP:IPv6"]
    );
    assert_eq!(fronts(&out[0]), ["10.96.0.10:80/TCP"]);
    assert_eq!(backs(&out[0]), ["10.0.1.5:8080/TCP active"]);
    assert_eq!(fronts(&out[1]), ["[fd00:96::10]:80/TCP"]);
    assert_eq!(backs(&out[1]), ["[fd00:10::5]:8080/TCP active"]);

    // Single-stack IPv6: the IPv4 slice is not used.
    let v6only = web(json!({"spec": {"clusterIP": "fd00:96::10", "clusterIPs": ["fd00:96::10"]}}));
    assert_eq!(
        names(&convert(&v6only, &slices)),
        ["web:http:ClusterIP:IPv6"]
    );
}

#[test]
fn node_port_frontends_on_node_addresses_and_the_unspecified_address() {
    let svc = web(json!({"spec": {
        "type": "NodePort",
        "ports": [{"name": "http", "port": 80, "nodePort": 30080}],
    }}));
    let ctx = NodeContext::new(
        "node-a",
        [
            ip("192.168.1.10"),
            ip("10.1.0.10"),
            ip("192.168.1.10"),
            ip("0.0.0.0"),
            ip("fd00::10"),
        ],
    );
    let out = services_from_k8s(&svc, &[web_slice("web-1", &["10.0.1.5"])], &ctx).unwrap();
    assert_eq!(
        names(&out),
        ["web:http:ClusterIP:IPv4", "web:http:NodePort:IPv4"]
    );
    let np = &out[1];
    assert_eq!(np.service_type, ServiceType::NodePort);
    assert_eq!(
        fronts(np),
        [
            "192.168.1.10:30080/TCP",
            "10.1.0.10:30080/TCP",
            "0.0.0.0:30080/TCP"
        ]
    );
    assert_eq!(backs(np), backs(&out[0]));

    // A node without addresses still gets the unspecified frontend.
    let bare = NodeContext::new("node-a", []);
    let out = services_from_k8s(&svc, &[], &bare).unwrap();
    assert_eq!(fronts(&out[1]), ["0.0.0.0:30080/TCP"]);
}

#[test]
fn node_ports_are_checked() {
    let two = |np: Value| {
        web(json!({"spec": {
            "type": "NodePort",
            "ports": [
                {"name": "http", "port": 80, "nodePort": 30080},
                {"name": "https", "port": 443, "nodePort": np},
            ],
        }}))
    };
    assert_eq!(
        err(&two(json!(70000)), &[]),
        "spec.ports[1].nodePort: 70000 is not a port number (1..=65535)"
    );
    assert_eq!(
        err(&two(json!(null)), &[]),
        "spec.ports[1].nodePort: required for a NodePort service"
    );
    assert_eq!(
        err(&two(json!(30080)), &[]),
        "spec.ports[1].nodePort: 30080/TCP duplicates spec.ports[0].nodePort"
    );
    // A ClusterIP service ignores node ports.
    let cip = web(json!({"spec": {"ports": [{"name": "http", "port": 80, "nodePort": 70000}]}}));
    assert_eq!(names(&convert(&cip, &[])), ["web:http:ClusterIP:IPv4"]);
}

#[test]
fn load_balancer_ips_node_ports_and_source_ranges() {
    let svc = web(json!({
        "spec": {
            "type": "LoadBalancer",
            "ports": [{"name": "http", "port": 80, "nodePort": 30080}],
            "loadBalancerSourceRanges": ["203.0.113.0/24", " 198.51.100.7/32 ", "2001:db8::/32"],
        },
        "status": {"loadBalancer": {"ingress": [
            {"ip": "172.18.0.100"},
            {"hostname": "lb.example.com"},
            {"ip": "172.18.0.101", "ipMode": "Proxy"},
            {"ip": "172.18.0.102", "ipMode": "VIP"},
            {"ip": "2001:db8:1::100"},
        ]}},
    }));
    let out = convert(&svc, &[web_slice("web-1", &["10.0.1.5"])]);
    assert_eq!(
        names(&out),
        [
            "web:http:ClusterIP:IPv4",
            "web:http:NodePort:IPv4",
            "web:http:LoadBalancer:IPv4"
        ]
    );
    let lb = &out[2];
    assert_eq!(lb.service_type, ServiceType::LoadBalancer);
    assert_eq!(fronts(lb), ["172.18.0.100:80/TCP", "172.18.0.102:80/TCP"]);
    let ranges: Vec<String> = lb.source_ranges.iter().map(|r| r.to_string()).collect();
    assert_eq!(ranges, ["203.0.113.0/24", "198.51.100.7/32"]);
    // Only the LoadBalancer service has them.
    assert!(out[0].source_ranges.is_empty() && out[1].source_ranges.is_empty());

    // Ranges, but none of IPv4: no IPv4 client is allowed, so no LoadBalancer service.
    let v6_ranges = web(json!({
        "spec": {
            "type": "LoadBalancer",
            "ports": [{"name": "http", "port": 80, "nodePort": 30080}],
            "loadBalancerSourceRanges": ["2001:db8::/32"],
        },
        "status": {"loadBalancer": {"ingress": [{"ip": "172.18.0.100"}]}},
    }));
    assert_eq!(
        names(&convert(&v6_ranges, &[])),
        ["web:http:ClusterIP:IPv4", "web:http:NodePort:IPv4"]
    );

    // No node ports allocated: no NodePort service.
    let no_np = web(json!({
        "spec": {"type": "LoadBalancer", "allocateLoadBalancerNodePorts": false},
        "status": {"loadBalancer": {"ingress": [{"ip": "172.18.0.100"}]}},
    }));
    assert_eq!(
        names(&convert(&no_np, &[])),
        ["web:http:ClusterIP:IPv4", "web:http:LoadBalancer:IPv4"]
    );

    // No status yet: the node ports work, the load-balancer IP is not there.
    let pending = web(json!({"spec": {
        "type": "LoadBalancer",
        "ports": [{"name": "http", "port": 80, "nodePort": 30080}],
    }}));
    assert_eq!(
        names(&convert(&pending, &[])),
        ["web:http:ClusterIP:IPv4", "web:http:NodePort:IPv4"]
    );

    let bad = web(
        json!({"spec": {"type": "LoadBalancer", "loadBalancerSourceRanges": ["10.0.0.0/8", "ten"]}}),
    );
    assert_eq!(
        err(&bad, &[]),
        r#"spec.loadBalancerSourceRanges[1]: "ten" is not a CIDR"#
    );
    let bad = web(json!({
        "spec": {"type": "LoadBalancer"},
        "status": {"loadBalancer": {"ingress": [{"ip": "172.18.0.100"}, {"ip": "x"}]}},
    }));
    assert_eq!(
        err(&bad, &[]),
        r#"status.loadBalancer.ingress[1].ip: "x" is not an IP address"#
    );
}

#[test]
fn external_ips() {
    let svc = web(json!({"spec": {
        "externalIPs": ["198.51.100.20", "2001:db8::20", "198.51.100.20"],
        "externalTrafficPolicy": "Local",
    }}));
    let out = convert(&svc, &[web_slice("web-1", &["10.0.1.5"])]);
    assert_eq!(
        names(&out),
        ["web:http:ClusterIP:IPv4", "web:http:ExternalIPs:IPv4"]
    );
    // The IPv6 address is left out (the service has no IPv6 cluster IP), the duplicate too.
    assert_eq!(fronts(&out[1]), ["198.51.100.20:80/TCP"]);
    assert_eq!(out[1].ext_traffic_policy, TrafficPolicy::Local);
    assert_eq!(out[0].ext_traffic_policy, TrafficPolicy::Cluster);

    let bad = web(json!({"spec": {"externalIPs": ["198.51.100.20", "224.0.0.1"]}}));
    assert_eq!(
        err(&bad, &[]),
        "spec.externalIPs[1]: 224.0.0.1 is a multicast address"
    );
}

#[test]
fn traffic_policies() {
    let svc = web(json!({
        "spec": {
            "type": "LoadBalancer",
            "ports": [{"name": "http", "port": 80, "nodePort": 30080}],
            "externalTrafficPolicy": "Local",
            "internalTrafficPolicy": "Local",
        },
        "status": {"loadBalancer": {"ingress": [{"ip": "172.18.0.100"}]}},
    }));
    let out = convert(&svc, &[]);
    let policies: Vec<(TrafficPolicy, TrafficPolicy)> = out
        .iter()
        .map(|s| (s.ext_traffic_policy, s.int_traffic_policy))
        .collect();
    use TrafficPolicy::{Cluster, Local};
    // ClusterIP keeps Cluster as its external policy (the model requires it).
    assert_eq!(policies, [(Cluster, Local), (Local, Local), (Local, Local)]);

    let internal_only = web(json!({"spec": {"internalTrafficPolicy": "Local"}}));
    assert_eq!(convert(&internal_only, &[])[0].int_traffic_policy, Local);

    assert_eq!(
        err(
            &web(json!({"spec": {"externalTrafficPolicy": "Global"}})),
            &[]
        ),
        r#"spec.externalTrafficPolicy: "Global" is not Cluster or Local"#
    );
    assert_eq!(
        err(
            &web(json!({"spec": {"internalTrafficPolicy": "local"}})),
            &[]
        ),
        r#"spec.internalTrafficPolicy: "local" is not Cluster or Local"#
    );
}

#[test]
fn external_local_keeps_node_local_backends() {
    let svc = web(json!({"spec": {
        "type": "NodePort",
        "ports": [{"name": "http", "port": 80, "nodePort": 30080}],
        "externalTrafficPolicy": "Local",
    }}));
    let s = slice(
        "web-1",
        "web",
        "IPv4",
        json!([
            {"addresses": ["10.0.1.5"], "nodeName": "node-a"},
            {"addresses": ["10.0.2.7"], "nodeName": "node-b"},
            {"addresses": ["10.0.3.9"]},
        ]),
        json!([{"name": "http", "port": 8080}]),
    );
    let out = convert(&svc, &[s]);
    let np = &out[1];
    assert_eq!(
        backs(np),
        [
            "10.0.1.5:8080/TCP active local",
            "10.0.2.7:8080/TCP active",
            "10.0.3.9:8080/TCP active"
        ]
    );
    assert_eq!(selected(np, Scope::External), ["10.0.1.5:8080/TCP"]);
    assert_eq!(selected(np, Scope::Internal).len(), 3);

    // A node with another name has no local backend: external traffic has none.
    let other = NodeContext::new("node-z", []);
    let out = services_from_k8s(&svc, &[web_slice("web-1", &["10.0.1.5"])], &other).unwrap();
    assert!(out[1].selectable_backends(Scope::External).is_empty());
    // An empty node name matches no endpoint, not even one without a node name.
    let unnamed = NodeContext::new("", []);
    let out = services_from_k8s(&svc, &[web_slice("web-1", &["10.0.1.5"])], &unnamed).unwrap();
    assert!(!out[1].backends[0].node_local);
}

#[test]
fn session_affinity() {
    let client_ip = |config: Value| {
        web(json!({"spec": {"sessionAffinity": "ClientIP", "sessionAffinityConfig": config}}))
    };
    let out = convert(&client_ip(json!(null)), &[]);
    assert_eq!(
        out[0].affinity,
        SessionAffinity::ClientIp {
            timeout_secs: 10_800
        }
    );
    let out = convert(&client_ip(json!({"clientIP": {"timeoutSeconds": 60}})), &[]);
    assert_eq!(
        out[0].affinity,
        SessionAffinity::ClientIp { timeout_secs: 60 }
    );
    let out = convert(&client_ip(json!({"clientIP": {}})), &[]);
    assert_eq!(
        out[0].affinity,
        SessionAffinity::ClientIp {
            timeout_secs: DEFAULT_AFFINITY_TIMEOUT_SECS
        }
    );
    for bad in [0, -5, 86_401] {
        assert_eq!(
            err(
                &client_ip(json!({"clientIP": {"timeoutSeconds": bad}})),
                &[]
            ),
            format!(
                "spec.sessionAffinityConfig.clientIP.timeoutSeconds: {bad} is outside 1..=86400"
            )
        );
    }
    let none = web(json!({"spec": {"sessionAffinity": "None"}}));
    assert_eq!(convert(&none, &[])[0].affinity, SessionAffinity::None);
    assert_eq!(
        err(&web(json!({"spec": {"sessionAffinity": "Cookie"}})), &[]),
        r#"spec.sessionAffinity: "Cookie" is not None or ClientIP"#
    );
}

#[test]
fn algorithm_from_node_default_and_annotation() {
    let plain = web(json!({}));
    let annotated =
        |v: &str| web(json!({"metadata": {"annotations": {LB_ALGORITHM_ANNOTATION: v}}}));
    let maglev_node = node().with_algorithm(Algorithm::Maglev);
    let alg = |svc: &K8sService, ctx: &NodeContext| {
        services_from_k8s(svc, &[], ctx).unwrap()[0].algorithm
    };

    assert_eq!(alg(&plain, &node()), Algorithm::Random);
    assert_eq!(alg(&plain, &maglev_node), Algorithm::Maglev);
    assert_eq!(alg(&annotated("maglev"), &node()), Algorithm::Maglev);
    assert_eq!(alg(&annotated("Random"), &maglev_node), Algorithm::Random);
    // Not honoured: the node's default.
    let ignoring = node().with_algorithm_annotation(false);
    assert_eq!(alg(&annotated("maglev"), &ignoring), Algorithm::Random);
    assert_eq!(alg(&annotated("nonsense"), &ignoring), Algorithm::Random);
    assert_eq!(
        err(&annotated("least-conn"), &[]),
        r#"metadata.annotations[service.cilium.io/lb-algorithm]: "least-conn" is not random or maglev"#
    );
}

#[test]
fn endpoint_conditions() {
    let c = |ready: Option<bool>, serving: Option<bool>, terminating: Option<bool>| {
        endpoint_state(Some(&EndpointConditions {
            ready,
            serving,
            terminating,
        }))
    };
    use BackendState::{Active, Terminating};
    assert_eq!(endpoint_state(None), Some(Active));
    assert_eq!(c(None, None, None), Some(Active));
    assert_eq!(c(Some(true), None, None), Some(Active));
    assert_eq!(c(Some(true), Some(true), Some(false)), Some(Active));
    // Not ready, not terminating: starting up or failing its probe.
    assert_eq!(c(Some(false), None, None), None);
    assert_eq!(c(Some(false), Some(false), Some(false)), None);
    // Shutting down but still serving.
    assert_eq!(c(Some(false), Some(true), Some(true)), Some(Terminating));
    // Shutting down and no longer serving; `serving` absent means `ready`, i.e. false.
    assert_eq!(c(Some(false), Some(false), Some(true)), None);
    assert_eq!(c(Some(false), None, Some(true)), None);
}

#[test]
fn terminating_endpoints_only_when_no_ready_one() {
    let eps = |first_ready: bool| {
        slice(
            "web-1",
            "web",
            "IPv4",
            json!([
                {"addresses": ["10.0.1.5"], "conditions": {"ready": first_ready}},
                {"addresses": ["10.0.2.7"], "conditions": {"ready": false, "serving": true, "terminating": true}},
                {"addresses": ["10.0.3.9"], "conditions": {"ready": false, "serving": false, "terminating": true}},
                {"addresses": ["10.0.4.1"], "conditions": {"ready": false}},
            ]),
            json!([{"name": "http", "port": 8080}]),
        )
    };
    let out = convert(&web(json!({})), &[eps(true)]);
    assert_eq!(
        backs(&out[0]),
        ["10.0.1.5:8080/TCP active", "10.0.2.7:8080/TCP terminating"]
    );
    assert_eq!(selected(&out[0], Scope::External), ["10.0.1.5:8080/TCP"]);

    let out = convert(&web(json!({})), &[eps(false)]);
    assert_eq!(backs(&out[0]), ["10.0.2.7:8080/TCP terminating"]);
    assert_eq!(selected(&out[0], Scope::External), ["10.0.2.7:8080/TCP"]);
}

#[test]
fn multi_port_services_get_one_service_per_port() {
    let svc = web(json!({"spec": {"ports": [
        {"name": "http", "port": 80, "targetPort": 8080},
        {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 5353},
        {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 5353},
    ]}}));
    let s = slice(
        "web-1",
        "web",
        "IPv4",
        json!([{"addresses": ["10.0.1.5"]}]),
        json!([
            {"name": "dns-tcp", "port": 5353, "protocol": "TCP"},
            {"name": "http", "port": 8080},
            {"name": "dns", "port": 5353, "protocol": "UDP"},
            // Same name, other protocol: not the dns port.
            {"name": "dns", "port": 9999, "protocol": "SCTP"},
        ]),
    );
    let out = convert(&svc, &[s]);
    assert_eq!(
        names(&out),
        [
            "web:http:ClusterIP:IPv4",
            "web:dns:ClusterIP:IPv4",
            "web:dns-tcp:ClusterIP:IPv4"
        ]
    );
    assert_eq!(fronts(&out[1]), ["10.96.0.10:53/UDP"]);
    assert_eq!(backs(&out[1]), ["10.0.1.5:5353/UDP active"]);
    assert_eq!(fronts(&out[2]), ["10.96.0.10:53/TCP"]);
    assert_eq!(backs(&out[2]), ["10.0.1.5:5353/TCP active"]);
    assert_eq!(backs(&out[0]), ["10.0.1.5:8080/TCP active"]);
}

#[test]
fn service_ports_are_checked() {
    let ports = |p: Value| web(json!({"spec": {"ports": p}}));
    assert_eq!(
        err(
            &ports(json!([{"name": "a", "port": 80}, {"port": 81}])),
            &[]
        ),
        "spec.ports[1].name: required when a service has more than one port"
    );
    assert_eq!(
        err(
            &ports(json!([{"name": "a", "port": 80}, {"name": "a", "port": 81}])),
            &[]
        ),
        r#"spec.ports[1].name: "a" duplicates spec.ports[0].name"#
    );
    assert_eq!(
        err(
            &ports(json!([{"name": "a", "port": 80}, {"name": "b", "port": 80}])),
            &[]
        ),
        "spec.ports[1].port: 80/TCP duplicates spec.ports[0]"
    );
    assert_eq!(
        err(&ports(json!([{"name": "a", "port": 0}])), &[]),
        "spec.ports[0].port: 0 is not a port number (1..=65535)"
    );
    assert_eq!(
        err(
            &ports(json!([{"name": "a", "port": 80, "protocol": "ICMP"}])),
            &[]
        ),
        r#"spec.ports[0].protocol: "ICMP" is not TCP, UDP or SCTP"#
    );
    // An unnamed single port: the slice port without a name, and the number in the name.
    let unnamed = ports(json!([{"port": 80, "targetPort": 8080}]));
    let s = slice(
        "web-1",
        "web",
        "IPv4",
        json!([{"addresses": ["10.0.1.5"]}]),
        json!([{"port": 8080}]),
    );
    let out = convert(&unnamed, &[s]);
    assert_eq!(names(&out), ["web:80:ClusterIP:IPv4"]);
    assert_eq!(backs(&out[0]), ["10.0.1.5:8080/TCP active"]);
}

#[test]
fn named_target_port_resolves_per_slice() {
    // Two versions of the pods name the port "http" on different numbers; the controller
    // puts them in different slices, each with its own number.
    let a = web_slice("web-a", &["10.0.1.5", "10.0.1.6"]);
    let b = slice(
        "web-b",
        "web",
        "IPv4",
        json!([{"addresses": ["10.0.2.7"]}]),
        json!([{"name": "http", "port": 9090}]),
    );
    let out = convert(&web(json!({})), &[b, a]);
    assert_eq!(
        backs(&out[0]),
        [
            "10.0.1.5:8080/TCP active",
            "10.0.1.6:8080/TCP active",
            "10.0.2.7:9090/TCP active"
        ]
    );
    // A slice whose pods do not have the port contributes nothing to it.
    let c = slice(
        "web-c",
        "web",
        "IPv4",
        json!([{"addresses": ["10.0.3.9"]}]),
        json!([{"name": "metrics", "port": 9100}]),
    );
    let out = convert(&web(json!({})), &[c]);
    assert!(out[0].backends.is_empty());
}

#[test]
fn only_the_services_own_slices_count() {
    let other_service = slice(
        "api-1",
        "api",
        "IPv4",
        json!([{"addresses": ["10.0.9.9"]}]),
        json!([{"name": "http", "port": 8080}]),
    );
    let mut other_namespace = web_slice("web-elsewhere", &["10.0.8.8"]);
    other_namespace.metadata.namespace = Some("other".into());
    let mut unlabelled = web_slice("web-nolabel", &["10.0.7.7"]);
    unlabelled.metadata.labels = None;
    let fqdn = slice(
        "web-fqdn",
        "web",
        "FQDN",
        json!([{"addresses": ["db.example.com"]}]),
        json!([{"name": "http", "port": 8080}]),
    );
    let out = convert(
        &web(json!({})),
        &[
            other_service,
            other_namespace,
            unlabelled,
            fqdn,
            web_slice("web-1", &["10.0.1.5"]),
        ],
    );
    assert_eq!(backs(&out[0]), ["10.0.1.5:8080/TCP active"]);

    // Without namespaces, both are in "default".
    let mut svc = web(json!({"metadata": {"namespace": null}}));
    let mut s = web_slice("web-1", &["10.0.1.5"]);
    s.metadata.namespace = None;
    let out = convert(&svc, std::slice::from_ref(&s));
    assert_eq!(out[0].namespace, "default");
    assert_eq!(out[0].backends.len(), 1);
    svc.metadata.namespace = Some("default".into());
    assert_eq!(convert(&svc, &[s])[0].backends.len(), 1);
}

#[test]
fn an_address_in_two_slices_counts_once_in_its_best_state() {
    let terminating = slice(
        "web-old",
        "web",
        "IPv4",
        json!([{"addresses": ["10.0.1.5"], "conditions": {"ready": false, "serving": true, "terminating": true}}]),
        json!([{"name": "http", "port": 8080}]),
    );
    let ready = web_slice("web-new", &["10.0.1.5"]);
    for slices in [[terminating.clone(), ready.clone()], [ready, terminating]] {
        let out = convert(&web(json!({})), &slices);
        assert_eq!(backs(&out[0]), ["10.0.1.5:8080/TCP active"]);
    }
}

#[test]
fn slice_errors_name_the_slice_and_field() {
    let bad = |endpoints: Value, ports: Value| {
        err(
            &web(json!({})),
            &[slice("web-1", "web", "IPv4", endpoints, ports)],
        )
    };
    let http = json!([{"name": "http", "port": 8080}]);
    assert_eq!(
        bad(
            json!([{"addresses": ["10.0.1.5"]}, {"addresses": ["10.0.1.x"]}]),
            http.clone()
        ),
        r#"endpointslice shop/web-1: endpoints[1].addresses[0]: "10.0.1.x" is not an IP address"#
    );
    assert_eq!(
        bad(json!([{"addresses": ["fd00::5"]}]), http.clone()),
        "endpointslice shop/web-1: endpoints[0].addresses[0]: fd00::5 is not an IPv4 address like the slice's addressType"
    );
    assert_eq!(
        bad(json!([{"addresses": []}]), http.clone()),
        "endpointslice shop/web-1: endpoints[0].addresses: needs at least one address"
    );
    assert_eq!(
        bad(json!([{"addresses": ["0.0.0.0"]}]), http.clone()),
        "endpointslice shop/web-1: endpoints[0].addresses[0]: 0.0.0.0 is unspecified"
    );
    let eps = json!([{"addresses": ["10.0.1.5"]}]);
    assert_eq!(
        bad(eps.clone(), json!([{"name": "http"}])),
        "endpointslice shop/web-1: ports[0].port: required in a slice of a service"
    );
    assert_eq!(
        bad(eps.clone(), json!([{"name": "http", "port": 65536}])),
        "endpointslice shop/web-1: ports[0].port: 65536 is not a port number (1..=65535)"
    );
    assert_eq!(
        bad(
            eps.clone(),
            json!([{"name": "http", "port": 1}, {"name": "http", "port": 2, "protocol": "TCP"}])
        ),
        r#"endpointslice shop/web-1: ports[1]: duplicates ports[0] (name "http", TCP)"#
    );
    assert_eq!(
        bad(
            eps.clone(),
            json!([{"name": "http", "port": 1, "protocol": "tcp"}])
        ),
        r#"endpointslice shop/web-1: ports[0].protocol: "tcp" is not TCP, UDP or SCTP"#
    );
    let weird = slice("web-1", "web", "IPX", eps, http);
    assert_eq!(
        err(&web(json!({})), &[weird]),
        r#"endpointslice shop/web-1: addressType: "IPX" is not IPv4, IPv6 or FQDN"#
    );
}

#[test]
fn backends_are_sorted_and_carry_the_zone() {
    let s = slice(
        "web-1",
        "web",
        "IPv4",
        json!([
            {"addresses": ["10.0.2.7"], "zone": "b"},
            {"addresses": ["10.0.1.5", "10.0.1.99"], "zone": "a"},
        ]),
        json!([{"name": "http", "port": 8080}]),
    );
    let out = convert(&web(json!({})), &[s]);
    let zones: Vec<(String, Option<String>)> = out[0]
        .backends
        .iter()
        .map(|b| (b.to_string(), b.zone.clone()))
        .collect();
    // Only the first address of an endpoint is used.
    assert_eq!(
        zones,
        [
            ("10.0.1.5:8080/TCP".to_owned(), Some("a".to_owned())),
            ("10.0.2.7:8080/TCP".to_owned(), Some("b".to_owned()))
        ]
    );
}

#[test]
fn the_model_refuses_what_the_conversion_does_not_check() {
    let svc = web(json!({"spec": {
        "type": "NodePort",
        "ports": [{"name": "http", "port": 80, "nodePort": 30080}],
    }}));
    let ctx = NodeContext::new("node-a", [ip("224.0.0.1")]);
    assert_eq!(
        services_from_k8s(&svc, &[], &ctx).unwrap_err(),
        K8sError::Model {
            service: ServiceId::new("shop", "web:http:NodePort:IPv4"),
            error: crate::model::ServiceError::InvalidAddress {
                field: "frontends[0].addr".into(),
                addr: ip("224.0.0.1"),
                reason: "is a multicast address",
            },
        }
    );
}

#[test]
fn model_names_tie_back_to_the_kubernetes_service() {
    assert_eq!(
        model_name(
            "web",
            "http",
            ServiceType::LoadBalancer,
            AddressFamily::Ipv6
        ),
        "web:http:LoadBalancer:IPv6"
    );
    let svc = web(json!({"spec": {
        "type": "NodePort",
        "ports": [{"name": "http", "port": 80, "nodePort": 30080}],
    }}));
    for s in convert(&svc, &[]) {
        assert!(is_converted_from(&s.id(), "shop", "web"));
        assert!(!is_converted_from(&s.id(), "shop", "we"));
        assert!(!is_converted_from(&s.id(), "other", "web"));
    }
    assert!(!is_converted_from(
        &ServiceId::new("shop", "web"),
        "shop",
        "web"
    ));
}

#[test]
fn converted_services_load_into_a_state() {
    // Every kind at once, with two scopes: the state accepts the set as a whole.
    let svc = web(json!({
        "spec": {
            "type": "LoadBalancer",
            "clusterIPs": ["10.96.0.10", "fd00:96::10"],
            "ports": [
                {"name": "http", "port": 80, "nodePort": 30080},
                {"name": "https", "port": 443, "nodePort": 30443},
            ],
            "externalIPs": ["198.51.100.20"],
            "externalTrafficPolicy": "Local",
            "sessionAffinity": "ClientIP",
        },
        "status": {"loadBalancer": {"ingress": [{"ip": "172.18.0.100"}, {"ip": "2001:db8::100"}]}},
    }));
    let s = slice(
        "web-1",
        "web",
        "IPv4",
        json!([{"addresses": ["10.0.1.5"], "nodeName": "node-a"}]),
        json!([{"name": "http", "port": 8080}, {"name": "https", "port": 8443}]),
    );
    let out = convert(&svc, &[s]);
    assert_eq!(out.len(), 2 * 2 * 4 - 2); // no IPv6 external IP
    let state = crate::diff::LbState::default().update(out).unwrap();
    assert!(!state.frontends().is_empty());
}
