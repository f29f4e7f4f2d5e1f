//! Hubble's flow filter semantics, field by field, as tables of (filter, flow, expected).
//!
//! Filters and flows are written as Hubble's JSON (`hubble observe -o json`, proto field
//! names), decoded with the crate's serde.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::BTreeMap;

use cilium_hubble::filter::{CompiledFilter, FilterError, FlowFilterSet};
use cilium_hubble::proto::flow::{EventTypeFilter, Flow, FlowFilter, TcpFlags, Workload};

fn flow(json: &str) -> Flow {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("flow {json}: {e}"))
}

fn filter(json: &str) -> FlowFilter {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("filter {json}: {e}"))
}

/// (filter, flow, expected)
const CASES: &[(&str, &str, bool)] = &[
    // uuid: exact
    (r#"{"uuid":["a-1","b-2"]}"#, r#"{"uuid":"b-2"}"#, true),
    (r#"{"uuid":["a-1","b-2"]}"#, r#"{"uuid":"c-3"}"#, false),
    // source_ip: address or CIDR
    (
        r#"{"source_ip":["10.0.0.1"]}"#,
        r#"{"IP":{"source":"10.0.0.1"}}"#,
        true,
    ),
    (
        r#"{"source_ip":["10.9.9.9","10.0.0.0/24"]}"#,
        r#"{"IP":{"source":"10.0.0.77"}}"#,
        true,
    ),
    (
        r#"{"source_ip":["10.0.0.0/24"]}"#,
        r#"{"IP":{"source":"10.0.1.1"}}"#,
        false,
    ),
    (
        r#"{"source_ip":["10.0.0.1"]}"#,
        r#"{"IP":{"destination":"10.0.0.1"}}"#,
        false,
    ),
    (r#"{"source_ip":["0.0.0.0/0"]}"#, r#"{}"#, false),
    (
        r#"{"source_ip":["2001:db8::1"]}"#,
        r#"{"IP":{"source":"2001:0db8:0::1"}}"#,
        true,
    ),
    (
        r#"{"source_ip":["10.0.0.0/8"]}"#,
        r#"{"IP":{"source":"::ffff:10.1.2.3"}}"#,
        true,
    ),
    // destination_ip
    (
        r#"{"destination_ip":["fd00::/64"]}"#,
        r#"{"IP":{"destination":"fd00::5"}}"#,
        true,
    ),
    (
        r#"{"destination_ip":["fd00::/64"]}"#,
        r#"{"IP":{"source":"fd00::5","destination":"fd01::5"}}"#,
        false,
    ),
    // source_pod: ns/prefix, ns/, or a prefix in namespace "default"
    (
        r#"{"source_pod":["kube-system/coredns"]}"#,
        r#"{"source":{"namespace":"kube-system","pod_name":"coredns-5d78c-abcde"}}"#,
        true,
    ),
    (
        r#"{"source_pod":["kube-system/coredns"]}"#,
        r#"{"source":{"namespace":"default","pod_name":"coredns-1"}}"#,
        false,
    ),
    (
        r#"{"source_pod":["kube-system/"]}"#,
        r#"{"source":{"namespace":"kube-system","pod_name":"etcd-0"}}"#,
        true,
    ),
    (r#"{"source_pod":["kube-system/"]}"#, r#"{}"#, false),
    (
        r#"{"source_pod":["frontend"]}"#,
        r#"{"source":{"namespace":"default","pod_name":"frontend-1"}}"#,
        true,
    ),
    (
        r#"{"source_pod":["frontend"]}"#,
        r#"{"source":{"namespace":"shop","pod_name":"frontend-1"}}"#,
        false,
    ),
    (
        r#"{"source_pod":["shop/cart"]}"#,
        r#"{"destination":{"namespace":"shop","pod_name":"cart-1"}}"#,
        false,
    ),
    // destination_pod
    (
        r#"{"destination_pod":["shop/cart","shop/web"]}"#,
        r#"{"destination":{"namespace":"shop","pod_name":"web-0"}}"#,
        true,
    ),
    (
        r#"{"destination_pod":["shop/cart"]}"#,
        r#"{"destination":{"namespace":"shop","pod_name":"checkout-0"}}"#,
        false,
    ),
    // source_fqdn: patterns, * = [-.0-9a-z]*, canonicalized
    (
        r#"{"source_fqdn":["*.cilium.io"]}"#,
        r#"{"source_names":["docs.cilium.io"]}"#,
        true,
    ),
    (
        r#"{"source_fqdn":["*.cilium.io"]}"#,
        r#"{"source_names":["cilium.io"]}"#,
        false,
    ),
    (
        r#"{"source_fqdn":[" Example.COM. "]}"#,
        r#"{"source_names":["example.com"]}"#,
        true,
    ),
    (
        r#"{"source_fqdn":["example.com"]}"#,
        r#"{"source_names":["www.example.com"]}"#,
        false,
    ),
    // destination_fqdn
    (
        r#"{"destination_fqdn":["api.*"]}"#,
        r#"{"destination_names":["www.example.com","api.github.com"]}"#,
        true,
    ),
    (
        r#"{"destination_fqdn":["api.*"]}"#,
        r#"{"source_names":["api.github.com"]}"#,
        false,
    ),
    // source_label: Kubernetes selectors; a key without a source matches every source
    (
        r#"{"source_label":["app=web"]}"#,
        r#"{"source":{"labels":["k8s:app=web","k8s:io.kubernetes.pod.namespace=shop"]}}"#,
        true,
    ),
    (
        r#"{"source_label":["k8s:app=web"]}"#,
        r#"{"source":{"labels":["k8s:app=web"]}}"#,
        true,
    ),
    (
        r#"{"source_label":["container:app=web"]}"#,
        r#"{"source":{"labels":["k8s:app=web"]}}"#,
        false,
    ),
    (
        r#"{"source_label":["app==web"]}"#,
        r#"{"source":{"labels":["k8s:app=web"]}}"#,
        true,
    ),
    (
        r#"{"source_label":["app=web"]}"#,
        r#"{"source":{"labels":["k8s:app=webshop"]}}"#,
        false,
    ),
    (
        r#"{"source_label":["app!=web"]}"#,
        r#"{"source":{"labels":["k8s:app=api"]}}"#,
        true,
    ),
    (
        r#"{"source_label":["app!=web"]}"#,
        r#"{"source":{"labels":["k8s:app=web"]}}"#,
        false,
    ),
    (
        r#"{"source_label":["app!=web"]}"#,
        r#"{"source":{"labels":["k8s:tier=db"]}}"#,
        true,
    ),
    (
        r#"{"source_label":["app"]}"#,
        r#"{"source":{"labels":["k8s:app=anything"]}}"#,
        true,
    ),
    (
        r#"{"source_label":["app"]}"#,
        r#"{"source":{"labels":["k8s:tier=db"]}}"#,
        false,
    ),
    (
        r#"{"source_label":["!app"]}"#,
        r#"{"source":{"labels":["k8s:app=web"]}}"#,
        false,
    ),
    (
        r#"{"source_label":["!app"]}"#,
        r#"{"source":{"labels":["k8s:tier=db"]}}"#,
        true,
    ),
    (
        r#"{"source_label":["app in (web, api)"]}"#,
        r#"{"source":{"labels":["k8s:app=api"]}}"#,
        true,
    ),
    (
        r#"{"source_label":["app in (web, api)"]}"#,
        r#"{"source":{"labels":["k8s:app=db"]}}"#,
        false,
    ),
    (
        r#"{"source_label":["app notin (web)"]}"#,
        r#"{"source":{"labels":["k8s:app=web"]}}"#,
        false,
    ),
    (
        r#"{"source_label":["app notin (web)"]}"#,
        r#"{"source":{"labels":["k8s:app=api"]}}"#,
        true,
    ),
    (
        r#"{"source_label":["app=web,tier=front"]}"#,
        r#"{"source":{"labels":["k8s:app=web","k8s:tier=back"]}}"#,
        false,
    ),
    (
        r#"{"source_label":["app=web, tier=front"]}"#,
        r#"{"source":{"labels":["k8s:tier=front","k8s:app=web"]}}"#,
        true,
    ),
    (
        r#"{"source_label":["io.kubernetes.pod.namespace=shop"]}"#,
        r#"{"source":{"labels":["k8s:io.kubernetes.pod.namespace=shop"]}}"#,
        true,
    ),
    (
        r#"{"source_label":["app.kubernetes.io/name=web"]}"#,
        r#"{"source":{"labels":["k8s:app.kubernetes.io/name=web"]}}"#,
        true,
    ),
    (
        r#"{"source_label":["reserved:world"]}"#,
        r#"{"source":{"labels":["reserved:world"]}}"#,
        true,
    ),
    (
        r#"{"source_label":["reserved:host"]}"#,
        r#"{"source":{"labels":["reserved:world"]}}"#,
        false,
    ),
    (
        r#"{"source_label":["cidr:10.0.0.0/8"]}"#,
        r#"{"source":{"labels":["reserved:world","cidr:10.1.2.3/32"]}}"#,
        true,
    ),
    (
        r#"{"source_label":["cidr:10.0.0.0/8"]}"#,
        r#"{"source":{"labels":["cidr:11.1.2.3/32"]}}"#,
        false,
    ),
    (
        r#"{"source_label":["replicas>2"]}"#,
        r#"{"source":{"labels":["k8s:replicas=3"]}}"#,
        true,
    ),
    (
        r#"{"source_label":["replicas<2"]}"#,
        r#"{"source":{"labels":["k8s:replicas=3"]}}"#,
        false,
    ),
    (
        r#"{"source_label":["app=db","app=web"]}"#,
        r#"{"source":{"labels":["k8s:app=web"]}}"#,
        true,
    ),
    (
        r#"{"source_label":["app=web"]}"#,
        r#"{"destination":{"labels":["k8s:app=web"]}}"#,
        false,
    ),
    (r#"{"source_label":[""]}"#, r#"{}"#, true),
    // destination_label
    (
        r#"{"destination_label":["k8s:app=db"]}"#,
        r#"{"destination":{"labels":["k8s:app=db"]}}"#,
        true,
    ),
    (
        r#"{"destination_label":["k8s:app=db"]}"#,
        r#"{"destination":{"labels":["any:app=db"]}}"#,
        false,
    ),
    // source_service: like pods, against source_service
    (
        r#"{"source_service":["shop/cart"]}"#,
        r#"{"source_service":{"namespace":"shop","name":"cart-v2"}}"#,
        true,
    ),
    (
        r#"{"source_service":["cart"]}"#,
        r#"{"source_service":{"namespace":"shop","name":"cart"}}"#,
        false,
    ),
    (
        r#"{"source_service":["cart"]}"#,
        r#"{"source_service":{"namespace":"default","name":"cart"}}"#,
        true,
    ),
    // destination_service
    (
        r#"{"destination_service":["kube-system/"]}"#,
        r#"{"destination_service":{"namespace":"kube-system","name":"kube-dns"}}"#,
        true,
    ),
    (
        r#"{"destination_service":["kube-system/"]}"#,
        r#"{}"#,
        false,
    ),
    // source_workload: empty name or kind matches any
    (
        r#"{"source_workload":[{"name":"web","kind":"Deployment"}]}"#,
        r#"{"source":{"workloads":[{"name":"web","kind":"Deployment"}]}}"#,
        true,
    ),
    (
        r#"{"source_workload":[{"kind":"StatefulSet"}]}"#,
        r#"{"source":{"workloads":[{"name":"web","kind":"Deployment"}]}}"#,
        false,
    ),
    (
        r#"{"source_workload":[{"name":"web"}]}"#,
        r#"{"source":{"workloads":[{"name":"web","kind":"Deployment"}]}}"#,
        true,
    ),
    // destination_workload
    (
        r#"{"destination_workload":[{"name":"db"},{"kind":"DaemonSet"}]}"#,
        r#"{"destination":{"workloads":[{"name":"agent","kind":"DaemonSet"}]}}"#,
        true,
    ),
    (
        r#"{"destination_workload":[{"name":"db"}]}"#,
        r#"{"destination":{"workloads":[{"name":"api","kind":"Deployment"}]}}"#,
        false,
    ),
    // traffic_direction
    (
        r#"{"traffic_direction":["INGRESS"]}"#,
        r#"{"traffic_direction":"INGRESS"}"#,
        true,
    ),
    (
        r#"{"traffic_direction":["INGRESS"]}"#,
        r#"{"traffic_direction":"EGRESS"}"#,
        false,
    ),
    // verdict
    (
        r#"{"verdict":["DROPPED","AUDIT"]}"#,
        r#"{"verdict":"AUDIT"}"#,
        true,
    ),
    (
        r#"{"verdict":["DROPPED","AUDIT"]}"#,
        r#"{"verdict":"FORWARDED"}"#,
        false,
    ),
    // event_type: type 0 is any type; sub_type only with match_sub_type
    (
        r#"{"event_type":[{"type":4}]}"#,
        r#"{"event_type":{"type":4,"sub_type":5}}"#,
        true,
    ),
    (
        r#"{"event_type":[{"type":1}]}"#,
        r#"{"event_type":{"type":4}}"#,
        false,
    ),
    (
        r#"{"event_type":[{"type":4,"match_sub_type":true,"sub_type":0}]}"#,
        r#"{"event_type":{"type":4,"sub_type":5}}"#,
        false,
    ),
    (
        r#"{"event_type":[{"type":4,"match_sub_type":true,"sub_type":0}]}"#,
        r#"{"event_type":{"type":4,"sub_type":0}}"#,
        true,
    ),
    (
        r#"{"event_type":[{"type":0,"match_sub_type":true,"sub_type":5}]}"#,
        r#"{"event_type":{"type":4,"sub_type":5}}"#,
        true,
    ),
    (r#"{"event_type":[{"type":4}]}"#, r#"{}"#, false),
    // http_status_code: full codes and 1- or 2-digit prefixes; requests (code 0) never match
    (
        r#"{"http_status_code":["404"]}"#,
        r#"{"l7":{"http":{"code":404}}}"#,
        true,
    ),
    (
        r#"{"http_status_code":["4+"]}"#,
        r#"{"l7":{"http":{"code":403}}}"#,
        true,
    ),
    (
        r#"{"http_status_code":["4+"]}"#,
        r#"{"l7":{"http":{"code":503}}}"#,
        false,
    ),
    (
        r#"{"http_status_code":["40+"]}"#,
        r#"{"l7":{"http":{"code":410}}}"#,
        false,
    ),
    (
        r#"{"http_status_code":["200","40+"]}"#,
        r#"{"l7":{"http":{"code":404}}}"#,
        true,
    ),
    (
        r#"{"http_status_code":["2+"]}"#,
        r#"{"l7":{"http":{"method":"GET"}}}"#,
        false,
    ),
    (
        r#"{"http_status_code":["2+"],"event_type":[{"type":129}]}"#,
        r#"{"event_type":{"type":129},"l7":{"http":{"code":201}}}"#,
        true,
    ),
    // protocol: case-insensitive; L7 protocols match the L7 record
    (
        r#"{"protocol":["TCP"]}"#,
        r#"{"l4":{"TCP":{"destination_port":80}}}"#,
        true,
    ),
    (
        r#"{"protocol":["udp"]}"#,
        r#"{"l4":{"TCP":{"destination_port":80}}}"#,
        false,
    ),
    (
        r#"{"protocol":["icmp"]}"#,
        r#"{"l4":{"ICMPv6":{"type":128}}}"#,
        true,
    ),
    (
        r#"{"protocol":["icmpv4"]}"#,
        r#"{"l4":{"ICMPv6":{"type":128}}}"#,
        false,
    ),
    (
        r#"{"protocol":["icmpv6"]}"#,
        r#"{"l4":{"ICMPv6":{"type":128}}}"#,
        true,
    ),
    (
        r#"{"protocol":["sctp"]}"#,
        r#"{"l4":{"SCTP":{"destination_port":5000}}}"#,
        true,
    ),
    (
        r#"{"protocol":["dns"]}"#,
        r#"{"l4":{"UDP":{"destination_port":53}},"l7":{"dns":{"query":"a.b."}}}"#,
        true,
    ),
    (
        r#"{"protocol":["http"]}"#,
        r#"{"l4":{"UDP":{"destination_port":53}},"l7":{"dns":{"query":"a.b."}}}"#,
        false,
    ),
    (
        r#"{"protocol":["Kafka"]}"#,
        r#"{"l7":{"kafka":{"topic":"orders"}}}"#,
        true,
    ),
    (r#"{"protocol":["tcp"]}"#, r#"{}"#, false),
    // source_port: TCP, UDP, SCTP; never ICMP
    (
        r#"{"source_port":["8080"]}"#,
        r#"{"l4":{"TCP":{"source_port":8080}}}"#,
        true,
    ),
    (
        r#"{"source_port":["1","53"]}"#,
        r#"{"l4":{"UDP":{"source_port":53}}}"#,
        true,
    ),
    (
        r#"{"source_port":["53"]}"#,
        r#"{"l4":{"UDP":{"destination_port":53}}}"#,
        false,
    ),
    (
        r#"{"source_port":["0"]}"#,
        r#"{"l4":{"ICMPv4":{"type":8}}}"#,
        false,
    ),
    // destination_port
    (
        r#"{"destination_port":["5000"]}"#,
        r#"{"l4":{"SCTP":{"destination_port":5000}}}"#,
        true,
    ),
    (
        r#"{"destination_port":["443"]}"#,
        r#"{"l4":{"TCP":{"destination_port":80}}}"#,
        false,
    ),
    // reply: against is_reply; a dropped flow without it counts as not a reply
    (r#"{"reply":[true]}"#, r#"{"is_reply":true}"#, true),
    (r#"{"reply":[false]}"#, r#"{"is_reply":true}"#, false),
    (r#"{"reply":[true,false]}"#, r#"{"is_reply":false}"#, true),
    (r#"{"reply":[false]}"#, r#"{"verdict":"DROPPED"}"#, true),
    (r#"{"reply":[true]}"#, r#"{"verdict":"DROPPED"}"#, false),
    (r#"{"reply":[false]}"#, r#"{"verdict":"FORWARDED"}"#, false),
    (
        r#"{"reply":[false]}"#,
        r#"{"verdict":"FORWARDED","reply":false}"#,
        false,
    ),
    // dns_query: regex against l7.dns.query
    (
        r#"{"dns_query":["^api\\..*\\.com\\.$"]}"#,
        r#"{"l7":{"dns":{"query":"api.example.com."}}}"#,
        true,
    ),
    (
        r#"{"dns_query":["cilium"]}"#,
        r#"{"l7":{"dns":{"query":"example.com."}}}"#,
        false,
    ),
    (
        r#"{"dns_query":[".*"]}"#,
        r#"{"l7":{"http":{"code":200}}}"#,
        false,
    ),
    // source_identity
    (
        r#"{"source_identity":[2,12345]}"#,
        r#"{"source":{"identity":12345}}"#,
        true,
    ),
    (
        r#"{"source_identity":[12345]}"#,
        r#"{"destination":{"identity":12345}}"#,
        false,
    ),
    // destination_identity
    (
        r#"{"destination_identity":[2]}"#,
        r#"{"destination":{"identity":2}}"#,
        true,
    ),
    (
        r#"{"destination_identity":[2]}"#,
        r#"{"destination":{"identity":3}}"#,
        false,
    ),
    // http_method: case-insensitive
    (
        r#"{"http_method":["get"]}"#,
        r#"{"l7":{"http":{"method":"GET"}}}"#,
        true,
    ),
    (
        r#"{"http_method":["get"]}"#,
        r#"{"l7":{"http":{"method":"POST"}}}"#,
        false,
    ),
    (r#"{"http_method":["get"]}"#, r#"{}"#, false),
    // http_path: regex against the URL's decoded path
    (
        r#"{"http_path":["^/api/v[0-9]+/"]}"#,
        r#"{"l7":{"http":{"url":"http://shop.svc:8080/api/v1/cart?id=1"}}}"#,
        true,
    ),
    (
        r#"{"http_path":["^/api/v[0-9]+/"]}"#,
        r#"{"l7":{"http":{"url":"http://shop.svc/healthz"}}}"#,
        false,
    ),
    (
        r#"{"http_path":["^/a b$"]}"#,
        r#"{"l7":{"http":{"url":"http://h/a%20b"}}}"#,
        true,
    ),
    (
        r#"{"http_path":["cart"]}"#,
        r#"{"l7":{"http":{"url":"http://h/?q=cart"}}}"#,
        false,
    ),
    (
        r#"{"http_path":["^/x$"]}"#,
        r#"{"l7":{"http":{"url":"/x"}}}"#,
        true,
    ),
    // tcp_flags: every flag of a value set in the flow; values OR
    (
        r#"{"tcp_flags":[{"SYN":true}]}"#,
        r#"{"l4":{"TCP":{"flags":{"SYN":true,"ACK":true}}}}"#,
        true,
    ),
    (
        r#"{"tcp_flags":[{"SYN":true,"ACK":true}]}"#,
        r#"{"l4":{"TCP":{"flags":{"SYN":true}}}}"#,
        false,
    ),
    (
        r#"{"tcp_flags":[{"FIN":true},{"RST":true}]}"#,
        r#"{"l4":{"TCP":{"flags":{"RST":true}}}}"#,
        true,
    ),
    (
        r#"{"tcp_flags":[{"SYN":true}]}"#,
        r#"{"l4":{"UDP":{"source_port":1}}}"#,
        false,
    ),
    // node_name: [cluster/]node patterns; a flow's node without a cluster is in "default"
    (r#"{"node_name":["k8s*"]}"#, r#"{"node_name":"k8s1"}"#, true),
    (
        r#"{"node_name":["k8s*"]}"#,
        r#"{"node_name":"kind-worker"}"#,
        false,
    ),
    (
        r#"{"node_name":["prod/*.example.com"]}"#,
        r#"{"node_name":"prod/node1.example.com"}"#,
        true,
    ),
    (
        r#"{"node_name":["prod/*.example.com"]}"#,
        r#"{"node_name":"node1.example.com"}"#,
        false,
    ),
    (
        r#"{"node_name":["prod/"]}"#,
        r#"{"node_name":"prod/anything"}"#,
        true,
    ),
    (
        r#"{"node_name":["prod/"]}"#,
        r#"{"node_name":"staging/anything"}"#,
        false,
    ),
    (
        r#"{"node_name":["default/"]}"#,
        r#"{"node_name":"k8s1"}"#,
        true,
    ),
    (
        r#"{"node_name":["k8s1"]}"#,
        r#"{"node_name":"c1/k8s1"}"#,
        true,
    ),
    (r#"{"node_name":["*"]}"#, r#"{}"#, false),
    // ip_version
    (
        r#"{"ip_version":["IPv6"]}"#,
        r#"{"IP":{"ipVersion":"IPv6"}}"#,
        true,
    ),
    (
        r#"{"ip_version":["IPv6"]}"#,
        r#"{"IP":{"ipVersion":"IPv4"}}"#,
        false,
    ),
    (r#"{"ip_version":["IP_NOT_USED"]}"#, r#"{}"#, true),
    // trace_id
    (
        r#"{"trace_id":["4bf92f3577b34da6"]}"#,
        r#"{"trace_context":{"parent":{"trace_id":"4bf92f3577b34da6"}}}"#,
        true,
    ),
    (r#"{"trace_id":["4bf92f3577b34da6"]}"#, r#"{}"#, false),
    // AND across fields
    (
        r#"{"source_pod":["shop/"],"verdict":["DROPPED"]}"#,
        r#"{"source":{"namespace":"shop","pod_name":"a"},"verdict":"FORWARDED"}"#,
        false,
    ),
    (
        r#"{"source_pod":["shop/"],"verdict":["DROPPED"]}"#,
        r#"{"source":{"namespace":"shop","pod_name":"a"},"verdict":"DROPPED"}"#,
        true,
    ),
    (
        r#"{"protocol":["tcp"],"destination_port":["80"],"tcp_flags":[{"SYN":true}]}"#,
        r#"{"l4":{"TCP":{"destination_port":80,"flags":{"ACK":true}}}}"#,
        false,
    ),
    // an empty filter matches everything
    (r#"{}"#, r#"{}"#, true),
];

/// Every field of `FlowFilter`, as the proto names it.
const FIELDS: &[&str] = &[
    "uuid",
    "source_ip",
    "source_pod",
    "source_fqdn",
    "source_label",
    "source_service",
    "source_workload",
    "destination_ip",
    "destination_pod",
    "destination_fqdn",
    "destination_label",
    "destination_service",
    "destination_workload",
    "traffic_direction",
    "verdict",
    "event_type",
    "http_status_code",
    "protocol",
    "source_port",
    "destination_port",
    "reply",
    "dns_query",
    "source_identity",
    "destination_identity",
    "http_method",
    "http_path",
    "tcp_flags",
    "node_name",
    "ip_version",
    "trace_id",
];

#[test]
fn every_case_matches_as_hubble_does() {
    let mut wrong = Vec::new();
    for (f, fl, want) in CASES {
        let compiled = CompiledFilter::new(&filter(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        let got = compiled.matches(&flow(fl));
        if got != *want {
            wrong.push(format!("filter {f} flow {fl}: got {got}, want {want}"));
        }
        // The same answer through a set with the filter as the only allowlist entry.
        let set = FlowFilterSet::new(&[filter(f)], &[]).unwrap();
        assert_eq!(set.matches(&flow(fl)), got, "{f} {fl}");
    }
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn the_table_covers_every_field_both_ways() {
    // Decoding proves the field names exist; a typo would fail in `filter`.
    let mut seen: BTreeMap<String, (bool, bool)> = BTreeMap::new();
    for (f, _, want) in CASES {
        let value: serde_json::Value = serde_json::from_str(f).unwrap();
        for key in value.as_object().unwrap().keys() {
            let entry = seen.entry(key.clone()).or_default();
            if *want {
                entry.0 = true;
            } else {
                entry.1 = true;
            }
        }
    }
    for field in FIELDS {
        assert_eq!(
            seen.get(*field),
            Some(&(true, true)),
            "{field} needs a matching and a non-matching case"
        );
    }
    // FIELDS is every field: this literal names each one (adding a field to the proto breaks
    // the build here), and its JSON has exactly FIELDS as keys.
    let s = || vec!["x".to_owned()];
    let w = || {
        vec![Workload {
            name: "x".into(),
            kind: "y".into(),
        }]
    };
    let every = FlowFilter {
        uuid: s(),
        source_ip: s(),
        source_pod: s(),
        source_fqdn: s(),
        source_label: s(),
        source_service: s(),
        source_workload: w(),
        destination_ip: s(),
        destination_pod: s(),
        destination_fqdn: s(),
        destination_label: s(),
        destination_service: s(),
        destination_workload: w(),
        traffic_direction: vec![1],
        verdict: vec![1],
        event_type: vec![EventTypeFilter {
            r#type: 1,
            match_sub_type: false,
            sub_type: 0,
        }],
        http_status_code: s(),
        protocol: s(),
        source_port: s(),
        destination_port: s(),
        reply: vec![true],
        dns_query: s(),
        source_identity: vec![1],
        destination_identity: vec![1],
        http_method: s(),
        http_path: s(),
        tcp_flags: vec![TcpFlags::default()],
        node_name: s(),
        ip_version: vec![1],
        trace_id: s(),
    };
    let json = serde_json::to_value(&every).unwrap();
    let mut keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut fields = FIELDS.to_vec();
    keys.sort_unstable();
    fields.sort_unstable();
    assert_eq!(keys, fields);
}

/// (filter, field named by the error, value named by the error)
const ERRORS: &[(&str, &str, &str)] = &[
    (r#"{"source_ip":["10.0.0.300"]}"#, "source_ip", "10.0.0.300"),
    (
        r#"{"destination_ip":["10.0.0.1","10.0.0.0/33"]}"#,
        "destination_ip",
        "10.0.0.0/33",
    ),
    (
        r#"{"destination_ip":["10.0.0.0/x"]}"#,
        "destination_ip",
        "10.0.0.0/x",
    ),
    (r#"{"source_pod":[""]}"#, "source_pod", ""),
    (r#"{"destination_pod":["/"]}"#, "destination_pod", "/"),
    (r#"{"source_service":["/"]}"#, "source_service", "/"),
    (r#"{"destination_service":[""]}"#, "destination_service", ""),
    (
        r#"{"source_fqdn":["exa mple.com"]}"#,
        "source_fqdn",
        "exa mple.com",
    ),
    (
        r#"{"destination_fqdn":["example.com.."]}"#,
        "destination_fqdn",
        "example.com..",
    ),
    (r#"{"destination_fqdn":["."]}"#, "destination_fqdn", "."),
    (
        r#"{"source_label":["app in web"]}"#,
        "source_label",
        "app in web",
    ),
    (
        r#"{"source_label":["app=-web"]}"#,
        "source_label",
        "app=-web",
    ),
    (
        r#"{"source_label":["app=web,"]}"#,
        "source_label",
        "app=web,",
    ),
    (
        r#"{"destination_label":["!app=web"]}"#,
        "destination_label",
        "!app=web",
    ),
    (
        r#"{"destination_label":["k8s:a:b=c"]}"#,
        "destination_label",
        "k8s:a:b=c",
    ),
    (
        r#"{"destination_label":["replicas>many"]}"#,
        "destination_label",
        "replicas>many",
    ),
    (r#"{"http_status_code":["600"]}"#, "http_status_code", "600"),
    (r#"{"http_status_code":["4++"]}"#, "http_status_code", "4++"),
    (r#"{"http_status_code":["4xx"]}"#, "http_status_code", "4xx"),
    (r#"{"protocol":["quic"]}"#, "protocol", "quic"),
    (r#"{"source_port":["http"]}"#, "source_port", "http"),
    (r#"{"source_port":["65536"]}"#, "source_port", "65536"),
    (r#"{"destination_port":["+80"]}"#, "destination_port", "+80"),
    (r#"{"dns_query":["(unclosed"]}"#, "dns_query", "(unclosed"),
    (r#"{"http_path":["[a-"]}"#, "http_path", "[a-"),
    (r#"{"node_name":["a/b/c"]}"#, "node_name", "a/b/c"),
    (r#"{"node_name":[""]}"#, "node_name", ""),
    (
        r#"{"node_name":["prod/no_de!"]}"#,
        "node_name",
        "prod/no_de!",
    ),
];

#[test]
fn invalid_values_name_their_field_and_value() {
    for (f, field, value) in ERRORS {
        let err = CompiledFilter::new(&filter(f)).expect_err(f);
        assert_eq!(err.field(), *field, "{f}: {err}");
        match &err {
            FilterError::Invalid { value: v, .. } => assert_eq!(v, value, "{f}"),
            other => panic!("{f}: {other:?}"),
        }
        let text = err.to_string();
        assert!(text.starts_with(&format!("{field}: {value:?}")), "{text}");
        // Sets report the same error, from either list.
        assert_eq!(FlowFilterSet::new(&[filter(f)], &[]).unwrap_err(), err);
        assert_eq!(
            FlowFilterSet::new(&[], &[filter("{}"), filter(f)]).unwrap_err(),
            err
        );
    }
}

#[test]
fn http_fields_need_an_event_type_that_allows_l7() {
    for field in ["http_status_code", "http_method", "http_path"] {
        let value = if field == "http_status_code" {
            "200"
        } else {
            "x"
        };
        let f = format!(r#"{{"{field}":["{value}"],"event_type":[{{"type":1}},{{"type":4}}]}}"#);
        let err = CompiledFilter::new(&filter(&f)).unwrap_err();
        assert_eq!(
            err,
            FilterError::NeedsL7EventType {
                field: match field {
                    "http_status_code" => "http_status_code",
                    "http_method" => "http_method",
                    _ => "http_path",
                }
            }
        );
        let ok = format!(r#"{{"{field}":["{value}"],"event_type":[{{"type":1}},{{"type":129}}]}}"#);
        CompiledFilter::new(&filter(&ok)).unwrap();
    }
}

#[test]
fn allowlist_minus_denylist() {
    let shop_fwd =
        flow(r#"{"source":{"namespace":"shop","pod_name":"web-1"},"verdict":"FORWARDED"}"#);
    let shop_drop =
        flow(r#"{"source":{"namespace":"shop","pod_name":"web-1"},"verdict":"DROPPED"}"#);
    let other_fwd =
        flow(r#"{"source":{"namespace":"other","pod_name":"web-1"},"verdict":"FORWARDED"}"#);
    let dns = flow(r#"{"l7":{"dns":{"query":"a."}},"verdict":"FORWARDED"}"#);

    let set = FlowFilterSet::new(
        &[filter(r#"{"source_pod":["shop/"]}"#)],
        &[filter(r#"{"verdict":["DROPPED"]}"#)],
    )
    .unwrap();
    assert!(!set.is_empty());
    assert!(set.matches(&shop_fwd));
    assert!(!set.matches(&shop_drop));
    assert!(!set.matches(&other_fwd));

    // No allowlist: everything but the denylist.
    let set = FlowFilterSet::new(&[], &[filter(r#"{"protocol":["dns"]}"#)]).unwrap();
    assert!(!set.is_empty());
    assert!(set.matches(&shop_fwd));
    assert!(!set.matches(&dns));

    // Several allowlist filters are OR-ed, several denylist filters too.
    let set = FlowFilterSet::new(
        &[
            filter(r#"{"source_pod":["other/"]}"#),
            filter(r#"{"protocol":["dns"]}"#),
        ],
        &[
            filter(r#"{"verdict":["DROPPED"]}"#),
            filter(r#"{"source_pod":["other/web-1"]}"#),
        ],
    )
    .unwrap();
    assert!(set.matches(&dns));
    assert!(!set.matches(&other_fwd));
    assert!(!set.matches(&shop_fwd));

    // Nothing at all: everything passes.
    let set = FlowFilterSet::new(&[], &[]).unwrap();
    assert!(set.is_empty());
    assert!(
        [&shop_fwd, &shop_drop, &other_fwd, &dns]
            .iter()
            .all(|f| set.matches(f))
    );
    assert!(FlowFilterSet::default().is_empty());

    // An empty FlowFilter matches every flow: allowing it allows all, denying it denies all.
    let set = FlowFilterSet::new(&[FlowFilter::default()], &[]).unwrap();
    assert!(
        [&shop_fwd, &shop_drop, &other_fwd, &dns]
            .iter()
            .all(|f| set.matches(f))
    );
    let set = FlowFilterSet::new(&[], &[FlowFilter::default()]).unwrap();
    assert!(
        ![&shop_fwd, &shop_drop, &other_fwd, &dns]
            .iter()
            .any(|f| set.matches(f))
    );
}

// ---- matching does not allocate ----

struct CountingAlloc;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

#[test]
fn matching_does_not_allocate() {
    // Every case's filter in one allowlist, plus a denylist: all fields are exercised.
    let filters: Vec<FlowFilter> = CASES.iter().map(|(f, _, _)| filter(f)).collect();
    let set = FlowFilterSet::new(&filters, &filters[..10]).unwrap();
    let compiled: Vec<CompiledFilter> = filters
        .iter()
        .map(|f| CompiledFilter::new(f).unwrap())
        .collect();
    let flows: Vec<Flow> = CASES.iter().map(|(_, fl, _)| flow(fl)).collect();
    let run = || {
        let mut hits = 0usize;
        for fl in &flows {
            hits += usize::from(set.matches(fl));
            hits += compiled.iter().filter(|c| c.matches(fl)).count();
        }
        hits
    };
    // Warm up: the regex engines set up their per-thread caches on first use.
    let expected = run();
    let before = ALLOCATIONS.with(Cell::get);
    let hits = run();
    let after = ALLOCATIONS.with(Cell::get);
    assert_eq!(hits, expected);
    assert!(hits > 0);
    assert_eq!(
        after - before,
        0,
        "matching allocated {} times",
        after - before
    );
}
