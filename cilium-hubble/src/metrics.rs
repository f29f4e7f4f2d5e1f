//! Prometheus metrics: Hubble's flow metrics (`hubble_*`, fed by every flow through
//! [`FlowSink`]) and the agent's (`cilium_*`, set by the embedder from the datapath's per-CPU
//! metrics map, the identity allocator and the policy repository), served as text
//! exposition over HTTP ([`serve`]).
//!
//! | metric | labels | from |
//! |---|---|---|
//! | `hubble_flows_processed_total` | type, subtype, verdict | every flow |
//! | `hubble_drop_total` | reason, protocol | dropped flows (drop events and L7 denials; a denied policy verdict comes with its drop event and is not counted twice) |
//! | `hubble_policy_verdicts_total` | direction, match, action | policy-verdict and L7 flows |
//! | `hubble_dns_queries_total`, `hubble_dns_responses_total` | rcode, qtypes, ips_returned | DNS L7 flows |
//! | `hubble_http_requests_total` | method, protocol, status, reporter | HTTP responses |
//! | `hubble_http_request_duration_seconds` | method, reporter | HTTP responses' latency |
//! | `hubble_tcp_flags_total` | flag, family | TCP flows |
//! | `hubble_lost_events_total` | source | lost events |
//! | `cilium_drop_count_total`, `cilium_drop_bytes_total` | reason, direction | [`AgentMetrics::set_datapath_counters`] |
//! | `cilium_forward_count_total`, `cilium_forward_bytes_total` | direction | same |
//! | `cilium_identity` | type | [`AgentMetrics::set_identities`] |
//! | `cilium_policy` | | [`AgentMetrics::set_policies`] |
//! | `cilium_endpoint_regeneration_time_stats_seconds` | scope | [`AgentMetrics::observe_regeneration`] |
//! | `cilium_bpf_map_pressure` | map_name | [`AgentMetrics::set_map_pressure`] |
//! | `cilium_policy_l7_total` | rule, proxy_type | [`AgentMetrics::inc_policy_l7`] |

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::names;
use crate::observer::FlowSink;
use crate::proto::flow::{
    DropReason, Flow, FlowType, IpVersion, L7FlowType, LostEventSource, TrafficDirection, Verdict,
    layer4, layer7,
};

type Labels = Vec<(&'static str, String)>;
type HistogramFamily = Family<Labels, Histogram, fn() -> Histogram>;

fn labels<const N: usize>(pairs: [(&'static str, String); N]) -> Labels {
    pairs.into_iter().collect()
}

fn latency_histogram() -> Histogram {
    // 1 ms .. ~16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

fn regeneration_histogram() -> Histogram {
    // 100 µs .. ~100 s.
    Histogram::new(exponential_buckets(0.0001, 4.0, 11))
}

/// Hubble's flow metrics; register once, then pass as a [`FlowSink`] to the ingest path.
#[derive(Debug, Clone)]
pub struct HubbleMetrics {
    flows_processed: Family<Labels, Counter>,
    drop: Family<Labels, Counter>,
    policy_verdicts: Family<Labels, Counter>,
    dns_queries: Family<Labels, Counter>,
    dns_responses: Family<Labels, Counter>,
    http_requests: Family<Labels, Counter>,
    http_duration: HistogramFamily,
    tcp_flags: Family<Labels, Counter>,
    lost_events: Family<Labels, Counter>,
}

impl HubbleMetrics {
    /// Creates the metrics and registers them in `registry` under the `hubble_` prefix.
    pub fn register(registry: &mut Registry) -> Self {
        let m = Self {
            flows_processed: Family::default(),
            drop: Family::default(),
            policy_verdicts: Family::default(),
            dns_queries: Family::default(),
            dns_responses: Family::default(),
            http_requests: Family::default(),
            http_duration: Family::new_with_constructor(latency_histogram),
            tcp_flags: Family::default(),
            lost_events: Family::default(),
        };
        let r = registry.sub_registry_with_prefix("hubble");
        r.register(
            "flows_processed",
            "Flows processed, by type, subtype and verdict",
            m.flows_processed.clone(),
        );
        r.register(
            "drop",
            "Dropped flows, by reason and protocol",
            m.drop.clone(),
        );
        r.register(
            "policy_verdicts",
            "Policy verdicts, by direction, match type and action",
            m.policy_verdicts.clone(),
        );
        r.register("dns_queries", "DNS queries observed", m.dns_queries.clone());
        r.register(
            "dns_responses",
            "DNS responses observed",
            m.dns_responses.clone(),
        );
        r.register(
            "http_requests",
            "HTTP requests, counted at their response",
            m.http_requests.clone(),
        );
        r.register(
            "http_request_duration_seconds",
            "HTTP request to response latency",
            m.http_duration.clone(),
        );
        r.register(
            "tcp_flags",
            "TCP packets by flag combination",
            m.tcp_flags.clone(),
        );
        r.register(
            "lost_events",
            "Events lost before they became flows, by where they were lost",
            m.lost_events.clone(),
        );
        m
    }
}

fn verdict_name(v: i32) -> &'static str {
    Verdict::try_from(v).map_or("VERDICT_UNKNOWN", |v| v.as_str_name())
}

fn l4_name(flow: &Flow) -> &'static str {
    match flow.l4.as_ref().and_then(|l| l.protocol.as_ref()) {
        Some(layer4::Protocol::Tcp(_)) => "TCP",
        Some(layer4::Protocol::Udp(_)) => "UDP",
        Some(layer4::Protocol::IcmPv4(_)) => "ICMPv4",
        Some(layer4::Protocol::IcmPv6(_)) => "ICMPv6",
        Some(layer4::Protocol::Sctp(_)) => "SCTP",
        None => "",
    }
}

fn family_name(flow: &Flow) -> &'static str {
    match flow.ip.as_ref().map(|ip| ip.ip_version) {
        Some(v) if v == IpVersion::IPv6 as i32 => "IPv6",
        Some(v) if v == IpVersion::IPv4 as i32 => "IPv4",
        _ => "",
    }
}

/// Hubble's type/subtype labels of a flow.
fn type_labels(flow: &Flow) -> (&'static str, &'static str) {
    if flow.r#type == FlowType::L7 as i32 {
        let sub = match flow.l7.as_ref().and_then(|l| l.record.as_ref()) {
            Some(layer7::Record::Http(_)) => "HTTP",
            Some(layer7::Record::Dns(_)) => "DNS",
            Some(layer7::Record::Kafka(_)) => "Kafka",
            None => "",
        };
        return ("L7", sub);
    }
    let et = flow.event_type.as_ref();
    match et.map(|e| e.r#type) {
        Some(names::MESSAGE_TYPE_DROP) => ("Drop", ""),
        Some(names::MESSAGE_TYPE_TRACE) => (
            "Trace",
            et.and_then(|e| names::trace_sub_type_name(e.sub_type))
                .unwrap_or(""),
        ),
        Some(names::MESSAGE_TYPE_POLICY_VERDICT) => ("PolicyVerdict", ""),
        Some(names::MESSAGE_TYPE_TRACE_SOCK) => ("SockTrace", ""),
        Some(names::MESSAGE_TYPE_CAPTURE) => ("Capture", ""),
        Some(names::MESSAGE_TYPE_DEBUG) => ("Debug", ""),
        _ => ("Unknown", ""),
    }
}

fn direction_label(d: i32) -> &'static str {
    match TrafficDirection::try_from(d) {
        Ok(TrafficDirection::Ingress) => "ingress",
        Ok(TrafficDirection::Egress) => "egress",
        _ => "unknown",
    }
}

impl FlowSink for HubbleMetrics {
    fn observe(&self, flow: &Flow) {
        let (ty, sub) = type_labels(flow);
        self.flows_processed
            .get_or_create(&labels([
                ("type", ty.to_owned()),
                ("subtype", sub.to_owned()),
                ("verdict", verdict_name(flow.verdict).to_owned()),
            ]))
            .inc();

        // Denied policy verdicts are reported with a drop event of their own; count that one.
        let event_type = flow.event_type.as_ref().map(|e| e.r#type);
        if flow.verdict == Verdict::Dropped as i32
            && event_type != Some(names::MESSAGE_TYPE_POLICY_VERDICT)
        {
            let reason = DropReason::try_from(flow.drop_reason_desc)
                .map_or("DROP_REASON_UNKNOWN", |r| r.as_str_name());
            self.drop
                .get_or_create(&labels([
                    ("reason", reason.to_owned()),
                    ("protocol", l4_name(flow).to_owned()),
                ]))
                .inc();
        }

        let is_verdict = event_type == Some(names::MESSAGE_TYPE_POLICY_VERDICT);
        let l7 = flow.l7.as_ref();
        let is_l7_request = l7.is_some_and(|l| l.r#type == L7FlowType::Request as i32);
        if is_verdict || is_l7_request {
            let matched = if is_verdict {
                names::policy_match_metric_label(flow.policy_match_type).to_owned()
            } else {
                format!("l7/{}", crate::parser::l7_protocol(flow).unwrap_or(""))
            };
            let action = match Verdict::try_from(flow.verdict) {
                Ok(Verdict::Forwarded) => "forwarded",
                Ok(Verdict::Dropped) => "dropped",
                Ok(Verdict::Redirected) => "redirected",
                Ok(Verdict::Audit) => "audit",
                _ => "unknown",
            };
            self.policy_verdicts
                .get_or_create(&labels([
                    (
                        "direction",
                        direction_label(flow.traffic_direction).to_owned(),
                    ),
                    ("match", matched),
                    ("action", action.to_owned()),
                ]))
                .inc();
        }

        if let Some(l) = l7 {
            let reporter = match TrafficDirection::try_from(flow.traffic_direction) {
                Ok(TrafficDirection::Egress) => "client",
                Ok(TrafficDirection::Ingress) => "server",
                _ => "unknown",
            };
            match l.record.as_ref() {
                Some(layer7::Record::Dns(dns)) => {
                    let set = labels([
                        ("rcode", dns_rcode_name(dns.rcode).to_owned()),
                        ("qtypes", dns.qtypes.join(",")),
                        ("ips_returned", dns.ips.len().to_string()),
                    ]);
                    if l.r#type == L7FlowType::Request as i32 {
                        self.dns_queries.get_or_create(&set).inc();
                    } else if l.r#type == L7FlowType::Response as i32 {
                        self.dns_responses.get_or_create(&set).inc();
                    }
                }
                Some(layer7::Record::Http(http)) if l.r#type == L7FlowType::Response as i32 => {
                    self.http_requests
                        .get_or_create(&labels([
                            ("method", http.method.clone()),
                            ("protocol", http.protocol.clone()),
                            ("status", http.code.to_string()),
                            ("reporter", reporter.to_owned()),
                        ]))
                        .inc();
                    self.http_duration
                        .get_or_create(&labels([
                            ("method", http.method.clone()),
                            ("reporter", reporter.to_owned()),
                        ]))
                        .observe(l.latency_ns as f64 / 1e9);
                }
                _ => {}
            }
        }

        if let Some(layer4::Protocol::Tcp(tcp)) = flow.l4.as_ref().and_then(|l| l.protocol.as_ref())
            && let Some(f) = tcp.flags.as_ref()
        {
            let family = family_name(flow);
            let count = |flag: &str| {
                self.tcp_flags
                    .get_or_create(&labels([
                        ("flag", flag.to_owned()),
                        ("family", family.to_owned()),
                    ]))
                    .inc();
            };
            if f.syn {
                count(if f.ack { "SYN-ACK" } else { "SYN" });
            }
            if f.fin {
                count("FIN");
            }
            if f.rst {
                count("RST");
            }
        }
    }

    fn lost(&self, source: LostEventSource, n: u64) {
        let name = match source {
            LostEventSource::PerfEventRingBuffer => "perf_event_ring_buffer",
            LostEventSource::ObserverEventsQueue => "observer_events_queue",
            LostEventSource::HubbleRingBuffer => "hubble_ring_buffer",
            LostEventSource::UnknownLostEventSource => "unknown",
        };
        self.lost_events
            .get_or_create(&labels([("source", name.to_owned())]))
            .inc_by(n);
    }
}

/// The DNS RCODE mnemonic (RFC 1035 / 6895) for the `rcode` label.
fn dns_rcode_name(rcode: u32) -> &'static str {
    match rcode {
        0 => "No Error",
        1 => "Format Error",
        2 => "Server Failure",
        3 => "Non-Existent Domain",
        4 => "Not Implemented",
        5 => "Query Refused",
        _ => "Other",
    }
}

/// The agent's metrics (`cilium_*`), set by the embedder.
#[derive(Debug, Clone)]
pub struct AgentMetrics {
    drop_count: Family<Labels, Counter>,
    drop_bytes: Family<Labels, Counter>,
    forward_count: Family<Labels, Counter>,
    forward_bytes: Family<Labels, Counter>,
    identity: Family<Labels, Gauge>,
    policy: Gauge,
    regeneration: HistogramFamily,
    map_pressure: Family<Labels, Gauge<f64, AtomicU64>>,
    policy_l7: Family<Labels, Counter>,
}

/// One entry of the datapath's metrics map, summed over CPUs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DatapathCounter {
    /// Drop reason (0 = forwarded).
    pub reason: u8,
    /// `CIL_DIR_*` (0 ingress, 1 egress).
    pub direction: u8,
    /// Packets.
    pub packets: u64,
    /// Bytes.
    pub bytes: u64,
}

impl AgentMetrics {
    /// Creates the metrics and registers them in `registry` under the `cilium_` prefix.
    pub fn register(registry: &mut Registry) -> Self {
        let m = Self {
            drop_count: Family::default(),
            drop_bytes: Family::default(),
            forward_count: Family::default(),
            forward_bytes: Family::default(),
            identity: Family::default(),
            policy: Gauge::default(),
            regeneration: Family::new_with_constructor(regeneration_histogram),
            map_pressure: Family::default(),
            policy_l7: Family::default(),
        };
        let r = registry.sub_registry_with_prefix("cilium");
        r.register(
            "drop_count",
            "Packets dropped by the datapath",
            m.drop_count.clone(),
        );
        r.register(
            "drop_bytes",
            "Bytes dropped by the datapath",
            m.drop_bytes.clone(),
        );
        r.register(
            "forward_count",
            "Packets forwarded by the datapath",
            m.forward_count.clone(),
        );
        r.register(
            "forward_bytes",
            "Bytes forwarded by the datapath",
            m.forward_bytes.clone(),
        );
        r.register(
            "identity",
            "Security identities allocated, by type",
            m.identity.clone(),
        );
        r.register("policy", "Policy rules loaded", m.policy.clone());
        r.register(
            "endpoint_regeneration_time_stats_seconds",
            "Endpoint regeneration time, by scope",
            m.regeneration.clone(),
        );
        r.register(
            "bpf_map_pressure",
            "Fill ratio of BPF maps (entries / max entries)",
            m.map_pressure.clone(),
        );
        r.register(
            "policy_l7",
            "L7 requests checked by the proxies, by rule outcome",
            m.policy_l7.clone(),
        );
        m
    }

    /// Sets the `cilium_drop_*` and `cilium_forward_*` counters from the datapath's metrics
    /// map (cumulative values; a value below the current one, e.g. after the map was
    /// recreated, leaves the counter as it is, since counters never go down).
    pub fn set_datapath_counters(&self, entries: impl IntoIterator<Item = DatapathCounter>) {
        fn set(c: &Counter, v: u64) {
            let cur = c.get();
            if v > cur {
                c.inc_by(v - cur);
            }
        }
        for e in entries {
            let dir = match e.direction {
                0 => "INGRESS",
                1 => "EGRESS",
                _ => "UNKNOWN",
            };
            if e.reason == 0 {
                let l = labels([("direction", dir.to_owned())]);
                set(&self.forward_count.get_or_create(&l), e.packets);
                set(&self.forward_bytes.get_or_create(&l), e.bytes);
            } else {
                let l = labels([
                    (
                        "reason",
                        names::drop_reason_text(u32::from(e.reason)).to_owned(),
                    ),
                    ("direction", dir.to_owned()),
                ]);
                set(&self.drop_count.get_or_create(&l), e.packets);
                set(&self.drop_bytes.get_or_create(&l), e.bytes);
            }
        }
    }

    /// `cilium_identity{type}`: e.g. `"cluster_local"`, `"node_local"`, `"reserved"`.
    pub fn set_identities(&self, kind: &str, count: i64) {
        self.identity
            .get_or_create(&labels([("type", kind.to_owned())]))
            .set(count);
    }

    /// `cilium_policy`: the number of policy rules loaded.
    pub fn set_policies(&self, count: i64) {
        self.policy.set(count);
    }

    /// `cilium_endpoint_regeneration_time_stats_seconds{scope}`.
    pub fn observe_regeneration(&self, scope: &str, seconds: f64) {
        self.regeneration
            .get_or_create(&labels([("scope", scope.to_owned())]))
            .observe(seconds);
    }

    /// `cilium_bpf_map_pressure{map_name}`: entries / max entries.
    pub fn set_map_pressure(&self, map_name: &str, ratio: f64) {
        self.map_pressure
            .get_or_create(&labels([("map_name", map_name.to_owned())]))
            .set(ratio);
    }

    /// `cilium_policy_l7_total{rule, proxy_type}`: rule is `"received"`, `"forwarded"`,
    /// `"denied"` or `"parse_errors"`; proxy type `"http"`, `"kafka"`, `"dns"`.
    pub fn inc_policy_l7(&self, rule: &str, proxy_type: &str) {
        self.policy_l7
            .get_or_create(&labels([
                ("rule", rule.to_owned()),
                ("proxy_type", proxy_type.to_owned()),
            ]))
            .inc();
    }
}

/// The text exposition of `registry`.
pub fn render(registry: &Registry) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = encode(&mut out, registry);
    out
}

/// Serves `GET /metrics` (any other path is 404) on `listener` until `shutdown` completes.
pub async fn serve(
    registry: Arc<Registry>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    use http_body_util::Full;
    use hyper::body::Bytes;
    use hyper::{Response, StatusCode};

    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => accepted?,
            () = &mut shutdown => return Ok(()),
        };
        let registry = Arc::clone(&registry);
        tokio::spawn(async move {
            let svc =
                hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let registry = Arc::clone(&registry);
                    async move {
                        let resp = if req.uri().path() == "/metrics" {
                            Response::builder()
                                .header(
                                    "content-type",
                                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                                )
                                .body(Full::new(Bytes::from(render(&registry))))
                        } else {
                            Response::builder()
                                .status(StatusCode::NOT_FOUND)
                                .body(Full::new(Bytes::from_static(b"not found; try /metrics\n")))
                        };
                        resp.map_err(std::io::Error::other)
                    }
                });
            let io = hyper_util::rt::TokioIo::new(stream);
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, svc)
                .await;
        });
    }
}

/// Binds the metrics listener (Hubble serves on `:9965`, the agent on `:9962`); the same
/// helper as the gRPC server's.
pub use crate::server::bind;
