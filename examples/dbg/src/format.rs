//! The tables and texts of each command, from the agent's answers.
//!
//! Pure functions of the API values (and, for times, of the current time), so that each
//! output is checked against a fixed string. Column names and order are Cilium's.

use std::time::{Duration, SystemTime};

use cilium_agent_api::{
    BpfPolicyEntry, Endpoint, FqdnEntry, Identity, IpCacheEntry, Metric, PolicyInfo, ServiceInfo,
    Status, TraceResult, Validation,
};

use crate::table::Table;

/// `status`: `Key: value` lines as `cilium status` prints them.
pub fn status(s: &Status) -> String {
    let mut t = Table::default();
    let kubernetes = s.source.starts_with("kubernetes");
    t.row(["KVStore:", "Disabled"]);
    if kubernetes {
        let state = if s.source_error.is_some() {
            "Error"
        } else {
            "Ok"
        };
        t.row(["Kubernetes:", state, &s.source]);
    } else {
        t.row(["Kubernetes:", "Disabled", &s.source]);
    }
    if let Some(e) = &s.source_error {
        t.row(["Source error:", e]);
    }
    if s.ready {
        t.row([
            "Cilium:".to_owned(),
            "Ok".to_owned(),
            format!("{} (node {})", s.version, s.node),
        ]);
    } else {
        t.row(["Cilium:", "Not ready", &s.message]);
    }
    t.row([
        "IPAM:".to_owned(),
        format!(
            "IPv4: {}/{} allocated from {}",
            s.ipam_used, s.ipam_capacity, s.pod_cidr
        ),
    ]);
    t.row(["Endpoints:".to_owned(), s.endpoints.to_string()]);
    t.row(["Identities:".to_owned(), s.identities.to_string()]);
    t.row(["Policy revision:".to_owned(), s.policy_revision.to_string()]);
    t.row(["Services:".to_owned(), s.services.to_string()]);
    for (key, addr) in [("Hubble:", &s.hubble), ("Metrics:", &s.metrics)] {
        match addr {
            Some(a) => t.row([key, "Ok", a]),
            None => t.row([key, "Disabled"]),
        }
    }
    t.row([
        "Datapath:".to_owned(),
        format!(
            "pins at {}, links replaced at start: {}",
            s.pin_dir, s.replaced_links
        ),
    ]);
    t.row(["Events lost:".to_owned(), s.events_lost.to_string()]);
    t.render()
}

/// `status --brief`: `OK`, or what is not ready.
pub fn status_brief(s: &Status) -> String {
    if s.ready {
        "OK\n".to_owned()
    } else {
        format!("{}\n", s.message)
    }
}

fn enforcement(on: bool) -> &'static str {
    if on { "Enabled" } else { "Disabled" }
}

/// `endpoint list`: Cilium's columns, by endpoint id, labels one per line.
pub fn endpoints(eps: &[Endpoint]) -> String {
    let mut t = Table::new(&[
        "ENDPOINT",
        "POLICY (ingress)",
        "POLICY (egress)",
        "IDENTITY",
        "LABELS (source:key[=value])",
        "IPv6",
        "IPv4",
        "STATUS",
    ]);
    t.row(["", "ENFORCEMENT", "ENFORCEMENT", "", "", "", "", ""]);
    let mut eps: Vec<&Endpoint> = eps.iter().collect();
    eps.sort_by_key(|e| e.id);
    for e in eps {
        let cells = vec![
            e.id.to_string(),
            enforcement(e.ingress_enforced).to_owned(),
            enforcement(e.egress_enforced).to_owned(),
            e.identity.to_string(),
            String::new(),
            String::new(),
            e.ip.clone(),
            e.state.clone(),
        ];
        t.row_with_lines(cells, 4, &e.labels);
    }
    t.render()
}

/// `identity list` and `identity get`: ID and labels, one per line.
pub fn identities(ids: &[Identity]) -> String {
    let mut t = Table::new(&["ID", "LABELS"]);
    let mut ids: Vec<&Identity> = ids.iter().collect();
    ids.sort_by_key(|i| i.id);
    for i in ids {
        t.row_with_lines(vec![i.id.to_string()], 1, &i.labels);
    }
    t.render()
}

/// `service list`: frontend, type and numbered backends (`1 => 10.0.0.1:80/TCP (active)`),
/// one per line, by service id.
pub fn services(svcs: &[ServiceInfo]) -> String {
    let mut t = Table::new(&["ID", "Frontend", "Service Type", "Backend"]);
    let mut svcs: Vec<&ServiceInfo> = svcs.iter().collect();
    svcs.sort_by_key(|s| s.id);
    for s in svcs {
        // Backends are `ip:port`; Cilium shows them with the frontend's protocol.
        let proto = s
            .frontend
            .rsplit_once('/')
            .map(|(_, p)| format!("/{p}"))
            .unwrap_or_default();
        let backends: Vec<String> = s
            .backends
            .iter()
            .enumerate()
            .map(|(i, b)| format!("{} => {}{} ({})", i + 1, b.address, proto, b.state))
            .collect();
        let cells = vec![s.id.to_string(), s.frontend.clone(), s.kind.clone()];
        t.row_with_lines(cells, 3, &backends);
    }
    t.render()
}

/// `bpf policy get`: Cilium's columns, the peer's labels one per line.
pub fn bpf_policy(entries: &[BpfPolicyEntry]) -> String {
    let mut t = Table::new(&[
        "POLICY",
        "DIRECTION",
        "LABELS (source:key[=value])",
        "PORT/PROTO",
        "PROXY PORT",
        "AUTH TYPE",
        "BYTES",
        "PACKETS",
        "PREFIX",
    ]);
    for e in entries {
        let proxy = if e.proxy_port == 0 {
            "NONE".to_owned()
        } else {
            e.proxy_port.to_string()
        };
        let cells = vec![
            e.policy.clone(),
            e.direction.clone(),
            String::new(),
            e.port_proto.clone(),
            proxy,
            e.auth_type.clone(),
            e.bytes.to_string(),
            e.packets.to_string(),
            e.prefix.to_string(),
        ];
        t.row_with_lines(cells, 2, &e.labels);
    }
    t.render()
}

/// `map get ipcache`: Cilium's `Key`, `Value`, `State`, `Error` columns.
pub fn ipcache(entries: &[IpCacheEntry]) -> String {
    let mut t = Table::new(&["Key", "Value", "State", "Error"]);
    for e in entries {
        t.row([
            e.prefix.clone(),
            format!(
                "identity={} encryptkey={} tunnelendpoint={}",
                e.identity, e.encrypt_key, e.tunnel_endpoint
            ),
            "sync".to_owned(),
            String::new(),
        ]);
    }
    t.render()
}

/// `fqdn cache list`: the expiration time is `now` plus the entry's remaining seconds, in
/// UTC with milliseconds as Cilium prints it.
pub fn fqdn_cache(entries: &[FqdnEntry], now: SystemTime) -> String {
    let mut t = Table::new(&["Endpoint", "Source", "FQDN", "TTL", "ExpirationTime", "IPs"]);
    for e in entries {
        let expires = now + Duration::from_secs(e.expires_in);
        t.row([
            e.endpoint.to_string(),
            e.source.clone(),
            e.fqdn.clone(),
            e.ttl.to_string(),
            rfc3339_millis(expires),
            e.ips.join(","),
        ]);
    }
    t.render()
}

/// `2024-05-01T10:00:00.000Z`.
fn rfc3339_millis(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t)
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// `metrics list`: name, labels, value with six decimals (Go's `%f`).
pub fn metrics(metrics: &[Metric]) -> String {
    let mut t = Table::new(&["Metric", "Labels", "Value"]);
    for m in metrics {
        t.row([m.name.clone(), m.labels.clone(), format!("{:.6}", m.value)]);
    }
    t.render()
}

/// `policy get`: the rules as indented JSON, then `Revision: N`.
pub fn policy(p: &PolicyInfo) -> String {
    let rules = serde_json::to_string_pretty(&p.rules).unwrap_or_else(|_| p.rules.to_string());
    format!("{rules}\nRevision: {}\n", p.revision)
}

/// `policy import`: `Revision: N`.
pub fn revision(p: &PolicyInfo) -> String {
    format!("Revision: {}\n", p.revision)
}

/// `policy validate`: `Valid: N rules` when valid; otherwise each error on a line of its own
/// (the caller writes them to stderr and fails).
pub fn validation(v: &Validation) -> String {
    if v.ok {
        format!("Valid: {} rules\n", v.rules)
    } else if v.errors.is_empty() {
        "Invalid policy\n".to_owned()
    } else {
        let mut out = v.errors.join("\n");
        out.push('\n');
        out
    }
}

/// `policy trace`: the agent's trace, ending in `Final verdict: ALLOWED|DENIED` (added when
/// the trace does not end in it already).
pub fn trace(r: &TraceResult) -> String {
    let mut out = r.trace.trim_end().to_owned();
    let last = out.lines().last().unwrap_or_default();
    if !last.starts_with("Final verdict:") {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str("Final verdict: ");
        out.push_str(&r.verdict);
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use cilium_agent_api::{Attachment, BackendInfo};

    fn status_value() -> Status {
        Status {
            ready: true,
            message: "ok".into(),
            node: "node-1".into(),
            version: "0.1.0".into(),
            source: "standalone /etc/cilium-rs".into(),
            pod_cidr: "10.200.0.0/24".into(),
            ipam_used: 3,
            ipam_capacity: 254,
            endpoints: 2,
            identities: 2,
            policy_revision: 7,
            services: 1,
            pin_dir: "/sys/fs/bpf/cilium-rs".into(),
            replaced_links: 4,
            events_lost: 0,
            hubble: Some("127.0.0.1:4245".into()),
            metrics: None,
            source_error: None,
        }
    }

    fn endpoint(id: u16, identity: u32, ip: &str, labels: &[&str]) -> Endpoint {
        Endpoint {
            id,
            attachment: Attachment {
                container_id: format!("c{id}"),
                ifname: "eth0".into(),
            },
            pod: Some(format!("default/pod-{id}")),
            ip: ip.into(),
            identity,
            labels: labels.iter().map(|l| (*l).to_owned()).collect(),
            netns: format!("/var/run/netns/c{id}"),
            host_ifname: format!("lxc{id}"),
            host_ifindex: u32::from(id) + 10,
            state: "ready".into(),
            policy_revision: 7,
            ingress_enforced: id == 2,
            egress_enforced: false,
        }
    }

    #[test]
    fn status_ready() {
        assert_eq!(
            status(&status_value()),
            "\
KVStore:           Disabled
Kubernetes:        Disabled   standalone /etc/cilium-rs
Cilium:            Ok         0.1.0 (node node-1)
IPAM:              IPv4: 3/254 allocated from 10.200.0.0/24
Endpoints:         2
Identities:        2
Policy revision:   7
Services:          1
Hubble:            Ok         127.0.0.1:4245
Metrics:           Disabled
Datapath:          pins at /sys/fs/bpf/cilium-rs, links replaced at start: 4
Events lost:       0
"
        );
        assert_eq!(status_brief(&status_value()), "OK\n");
    }

    #[test]
    fn status_not_ready_on_kubernetes() {
        let s = Status {
            ready: false,
            message: "waiting for the first policy sync".into(),
            source: "kubernetes".into(),
            source_error: Some("k8s/default/deny: spec.ingress[0]: bad port".into()),
            hubble: None,
            metrics: Some("0.0.0.0:9962".into()),
            ..status_value()
        };
        assert_eq!(
            status(&s),
            "\
KVStore:           Disabled
Kubernetes:        Error       kubernetes
Source error:      k8s/default/deny: spec.ingress[0]: bad port
Cilium:            Not ready   waiting for the first policy sync
IPAM:              IPv4: 3/254 allocated from 10.200.0.0/24
Endpoints:         2
Identities:        2
Policy revision:   7
Services:          1
Hubble:            Disabled
Metrics:           Ok          0.0.0.0:9962
Datapath:          pins at /sys/fs/bpf/cilium-rs, links replaced at start: 4
Events lost:       0
"
        );
        assert_eq!(status_brief(&s), "waiting for the first policy sync\n");
    }

    #[test]
    fn endpoint_table() {
        let eps = [
            endpoint(
                2,
                20001,
                "10.200.0.12",
                &["k8s:app=web", "k8s:io.kubernetes.pod.namespace=default"],
            ),
            endpoint(1, 20000, "10.200.0.11", &["k8s:app=client"]),
        ];
        assert_eq!(
            endpoints(&eps),
            "\
ENDPOINT   POLICY (ingress)   POLICY (egress)   IDENTITY   LABELS (source:key[=value])               IPv6   IPv4          STATUS
           ENFORCEMENT        ENFORCEMENT
1          Disabled           Disabled          20000      k8s:app=client                                   10.200.0.11   ready
2          Enabled            Disabled          20001      k8s:app=web                                      10.200.0.12   ready
                                                           k8s:io.kubernetes.pod.namespace=default
"
        );
    }

    #[test]
    fn identity_table() {
        let ids = [
            Identity {
                id: 20000,
                labels: vec![
                    "k8s:app=client".into(),
                    "k8s:io.kubernetes.pod.namespace=default".into(),
                ],
                refs: 1,
            },
            Identity {
                id: 1,
                labels: vec!["reserved:host".into()],
                refs: 0,
            },
        ];
        assert_eq!(
            identities(&ids),
            "\
ID      LABELS
1       reserved:host
20000   k8s:app=client
        k8s:io.kubernetes.pod.namespace=default
"
        );
    }

    #[test]
    fn service_table() {
        let backend = |a: &str, s: &str| BackendInfo {
            address: a.into(),
            state: s.into(),
            weight: 100,
        };
        let svcs = [
            ServiceInfo {
                id: 2,
                frontend: "10.96.0.10:53/UDP".into(),
                kind: "ClusterIP".into(),
                name: "kube-system/kube-dns".into(),
                algorithm: "random".into(),
                backends: vec![
                    backend("10.200.0.21:53", "active"),
                    backend("10.200.0.22:53", "terminating"),
                ],
            },
            ServiceInfo {
                id: 1,
                frontend: "10.96.0.1:80/TCP".into(),
                kind: "ClusterIP".into(),
                name: "default/web".into(),
                algorithm: "maglev".into(),
                backends: vec![backend("10.200.0.12:80", "active")],
            },
            ServiceInfo {
                id: 3,
                frontend: "0.0.0.0:30080/TCP".into(),
                kind: "NodePort".into(),
                name: "default/empty".into(),
                algorithm: "random".into(),
                backends: vec![],
            },
        ];
        assert_eq!(
            services(&svcs),
            "\
ID   Frontend            Service Type   Backend
1    10.96.0.1:80/TCP    ClusterIP      1 => 10.200.0.12:80/TCP (active)
2    10.96.0.10:53/UDP   ClusterIP      1 => 10.200.0.21:53/UDP (active)
                                        2 => 10.200.0.22:53/UDP (terminating)
3    0.0.0.0:30080/TCP   NodePort
"
        );
    }

    #[test]
    fn bpf_policy_table() {
        let entry =
            |policy: &str, dir: &str, labels: &[&str], port: &str, proxy: u16| BpfPolicyEntry {
                policy: policy.into(),
                direction: dir.into(),
                identity: 0,
                labels: labels.iter().map(|l| (*l).to_owned()).collect(),
                port_proto: port.into(),
                proxy_port: proxy,
                auth_type: "disabled".into(),
                bytes: 0,
                packets: 0,
                prefix: 0,
            };
        let entries = [
            entry("Allow", "Ingress", &["reserved:host"], "ANY", 0),
            entry(
                "Allow",
                "Ingress",
                &["k8s:app=client", "k8s:io.kubernetes.pod.namespace=default"],
                "8080/TCP",
                15001,
            ),
            entry("Deny", "Egress", &["reserved:unknown"], "9090/TCP", 0),
        ];
        assert_eq!(
            bpf_policy(&entries),
            "\
POLICY   DIRECTION   LABELS (source:key[=value])               PORT/PROTO   PROXY PORT   AUTH TYPE   BYTES   PACKETS   PREFIX
Allow    Ingress     reserved:host                             ANY          NONE         disabled    0       0         0
Allow    Ingress     k8s:app=client                            8080/TCP     15001        disabled    0       0         0
                     k8s:io.kubernetes.pod.namespace=default
Deny     Egress      reserved:unknown                          9090/TCP     NONE         disabled    0       0         0
"
        );
    }

    #[test]
    fn ipcache_table() {
        let entries = [
            IpCacheEntry {
                prefix: "10.200.0.11/32".into(),
                identity: 20000,
                encrypt_key: 0,
                tunnel_endpoint: "0.0.0.0".into(),
            },
            IpCacheEntry {
                prefix: "0.0.0.0/0".into(),
                identity: 2,
                encrypt_key: 0,
                tunnel_endpoint: "0.0.0.0".into(),
            },
        ];
        assert_eq!(
            ipcache(&entries),
            "\
Key              Value                                                State   Error
10.200.0.11/32   identity=20000 encryptkey=0 tunnelendpoint=0.0.0.0   sync
0.0.0.0/0        identity=2 encryptkey=0 tunnelendpoint=0.0.0.0       sync
"
        );
    }

    #[test]
    fn fqdn_table() {
        let entries = [FqdnEntry {
            endpoint: 1,
            source: "lookup".into(),
            fqdn: "api.example.com.".into(),
            ttl: 60,
            expires_in: 42,
            ips: vec!["192.0.2.10".into(), "192.0.2.11".into()],
        }];
        let now = SystemTime::UNIX_EPOCH + Duration::from_millis(1_714_557_600_250);
        assert_eq!(
            fqdn_cache(&entries, now),
            "\
Endpoint   Source   FQDN               TTL   ExpirationTime             IPs
1          lookup   api.example.com.   60    2024-05-01T10:00:42.250Z   192.0.2.10,192.0.2.11
"
        );
    }

    #[test]
    fn metrics_table() {
        let ms = [
            Metric {
                name: "cilium_endpoint_state".into(),
                labels: "endpoint_state=ready".into(),
                value: 2.0,
            },
            Metric {
                name: "cilium_policy".into(),
                labels: String::new(),
                value: 0.5,
            },
        ];
        assert_eq!(
            metrics(&ms),
            "\
Metric                  Labels                 Value
cilium_endpoint_state   endpoint_state=ready   2.000000
cilium_policy                                  0.500000
"
        );
    }

    #[test]
    fn policy_texts() {
        let p = PolicyInfo {
            revision: 7,
            sources: vec![("policy.yaml".into(), 1)],
            rules: serde_json::json!([{"endpointSelector": {"matchLabels": {"app": "web"}}}]),
        };
        assert_eq!(
            policy(&p),
            "\
[
  {
    \"endpointSelector\": {
      \"matchLabels\": {
        \"app\": \"web\"
      }
    }
  }
]
Revision: 7
"
        );
        assert_eq!(revision(&p), "Revision: 7\n");
        let ok = Validation {
            ok: true,
            rules: 2,
            errors: vec![],
        };
        assert_eq!(validation(&ok), "Valid: 2 rules\n");
        let bad = Validation {
            ok: false,
            rules: 1,
            errors: vec![
                "p.yaml: spec.ingress[0].toPorts[0].ports[0].port: \"http\" is not a port".into(),
                "p.yaml: spec.egress[1]: unknown field \"toFoo\"".into(),
            ],
        };
        assert_eq!(
            validation(&bad),
            "\
p.yaml: spec.ingress[0].toPorts[0].ports[0].port: \"http\" is not a port
p.yaml: spec.egress[1]: unknown field \"toFoo\"
"
        );
    }

    #[test]
    fn trace_ends_in_the_verdict() {
        let r = TraceResult {
            verdict: "DENIED".into(),
            trace: "Tracing From: [k8s:app=a] => To: [k8s:app=b] Ports: [9090/TCP]\n\
                    1/1 rules selected\n"
                .into(),
        };
        assert_eq!(
            trace(&r),
            "Tracing From: [k8s:app=a] => To: [k8s:app=b] Ports: [9090/TCP]\n\
             1/1 rules selected\n\
             Final verdict: DENIED\n"
        );
        let already = TraceResult {
            verdict: "ALLOWED".into(),
            trace: "x\nFinal verdict: ALLOWED".into(),
        };
        assert_eq!(trace(&already), "x\nFinal verdict: ALLOWED\n");
    }
}
