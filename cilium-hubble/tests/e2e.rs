//! End to end, privileged: real programs, real TCP between two pod namespaces, the datapath's
//! events read by `EventStream`, turned into flows by the ingest path, served over gRPC and
//! counted in the metrics endpoint.
//!
//! Pod A (identity 1000) may reach pod B (identity 2000) on TCP 8080; A's egress policy has
//! no entry for 9090. The test checks that the denied connection shows up as a DROPPED /
//! POLICY_DENIED flow with both pods and identities, the allowed one as FORWARDED policy
//! verdicts and traces, and that the counters moved by the expected amounts.
//!
//! With `CILIUM_PRIVILEGED_TESTS=1` a missing capability is a failure. Everything the test
//! creates (namespaces, veths, attachments, pins) is removed when it ends.

#![cfg(feature = "server")]

mod exposition;
#[path = "../../cilium-datapath/tests/support/mod.rs"]
mod support;

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use cilium_datapath::{Datapath, DatapathConfig, EventStream};
use cilium_hubble::metrics::{AgentMetrics, DatapathCounter, HubbleMetrics};
use cilium_hubble::observer::{FlowSink, Ingest, Observer};
use cilium_hubble::parser::{EndpointInfo, Lookups, Parser};
use cilium_hubble::proto::flow::{
    DropReason, Flow, FlowFilter, TraceObservationPoint, TrafficDirection, Verdict, layer4,
};
use cilium_hubble::proto::observer::observer_client::ObserverClient;
use cilium_hubble::proto::observer::{GetFlowsRequest, get_flows_response};
use cilium_hubble::server::ObserverService;
use cilium_maps::abi::{PolicyEntry, PolicyKey, consts::*};
use cilium_maps::events::Event;
use prometheus_client::registry::Registry;
use support::*;

struct PodLookups {
    by_ip: HashMap<IpAddr, EndpointInfo>,
}

impl Lookups for PodLookups {
    fn endpoint_by_id(&self, id: u32) -> Option<EndpointInfo> {
        self.by_ip.values().find(|e| e.id == id).cloned()
    }
    fn endpoint_by_ip(&self, ip: IpAddr) -> Option<EndpointInfo> {
        self.by_ip.get(&ip).cloned()
    }
}

/// Wall-clock nanoseconds at monotonic time 0 (what the parser needs for `bpf_ktime_get_ns`).
fn boot_unix_ns() -> i64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec we own.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    assert_eq!(rc, 0);
    let mono = ts.tv_sec * 1_000_000_000 + ts.tv_nsec;
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64;
    now - mono
}

fn scrape(addr: SocketAddr) -> BTreeMap<String, f64> {
    exposition::parse(exposition::body(&exposition::http_get(addr, "/metrics")))
}

fn delta(before: &BTreeMap<String, f64>, after: &BTreeMap<String, f64>, key: &str) -> f64 {
    after.get(key).copied().unwrap_or(0.0) - before.get(key).copied().unwrap_or(0.0)
}

fn dport(f: &Flow) -> u32 {
    match f.l4.as_ref().and_then(|l| l.protocol.as_ref()) {
        Some(layer4::Protocol::Tcp(t)) => t.destination_port,
        _ => 0,
    }
}

#[test]
fn denied_and_allowed_traffic_become_flows_and_metrics() {
    let Some(topo) = or_skip(
        "the test topology cannot be built",
        build("hubble", &["a", "b"]),
    ) else {
        return;
    };
    let (pod_a, pod_b) = (&topo.pods[0], &topo.pods[1]);
    let mut config = DatapathConfig::new(&topo.pin_dir);
    config.trace_new_flows = true;
    let mut dp = Datapath::load(&config).expect("load datapath");
    let ready = CIL_ENDPOINT_F_POLICY_READY
        | CIL_ENDPOINT_F_ENFORCE_INGRESS
        | CIL_ENDPOINT_F_ENFORCE_EGRESS;
    let (id_a, id_b) = (1000u32, 2000u32);
    add_endpoint(&dp, pod_a, 1, id_a, ready);
    add_endpoint(&dp, pod_b, 2, id_b, ready);
    dp.endpoint_policy(1)
        .unwrap()
        .insert(
            &PolicyKey::new(id_b, CIL_DIR_EGRESS, 6, 8080, 16),
            &PolicyEntry::allow(0),
        )
        .unwrap();
    dp.endpoint_policy(2)
        .unwrap()
        .insert(
            &PolicyKey::new(id_a, CIL_DIR_INGRESS, 6, 8080, 16),
            &PolicyEntry::allow(0),
        )
        .unwrap();
    in_netns(&topo.node, || {
        for pod in [pod_a, pod_b] {
            dp.attach_endpoint(pod.ifindex).expect("attach");
        }
    });
    name_servers(pod_b, 8080);
    name_servers(pod_b, 9090);

    let info = |pod: &Pod, id: u32, identity: u32| EndpointInfo {
        id,
        identity,
        namespace: "default".into(),
        pod_name: format!("pod-{}", pod.name),
        labels: vec![format!("k8s:app={}", pod.name)],
        workloads: vec![],
    };
    let lookups = PodLookups {
        by_ip: [
            (pod_a.addr.parse().unwrap(), info(pod_a, 1, id_a)),
            (pod_b.addr.parse().unwrap(), info(pod_b, 2, id_b)),
        ]
        .into_iter()
        .collect(),
    };

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let observer = Observer::new(4095);
        let mut registry = Registry::default();
        let hubble = HubbleMetrics::register(&mut registry);
        let agent = AgentMetrics::register(&mut registry);
        let registry = Arc::new(registry);
        let sinks: Vec<Arc<dyn FlowSink>> = vec![Arc::new(hubble)];
        let ingest = Arc::new(Ingest::start(
            Arc::clone(&observer),
            Parser::new("node-e2e", boot_unix_ns(), 7),
            lookups,
            sinks,
            8192,
        ));
        let mut stream = EventStream::new(&mut dp).expect("event stream");
        let recorded = Arc::new(std::sync::Mutex::new(Vec::new()));
        let reader = {
            let ingest = Arc::clone(&ingest);
            let recorded = Arc::clone(&recorded);
            tokio::spawn(async move {
                while let Ok(e) = stream.next().await {
                    recorded.lock().unwrap().push(e);
                    ingest.offer(e);
                }
            })
        };

        let (grpc_listener, grpc_addr) = cilium_hubble::server::bind("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        tokio::spawn(cilium_hubble::server::serve(
            ObserverService::new(Arc::clone(&observer), "node-e2e"),
            grpc_listener,
            std::future::pending(),
        ));
        let (metrics_listener, metrics_addr) =
            cilium_hubble::metrics::bind("127.0.0.1:0".parse().unwrap())
                .await
                .unwrap();
        tokio::spawn(cilium_hubble::metrics::serve(
            Arc::clone(&registry),
            metrics_listener,
            std::future::pending(),
        ));
        let update_agent = |agent: &AgentMetrics| {
            let m = dp.metrics().unwrap();
            let counters: Vec<DatapathCounter> = m
                .keys()
                .unwrap()
                .into_iter()
                .filter_map(|k| {
                    m.get_sum(&k).unwrap().map(|v| DatapathCounter {
                        reason: k.reason,
                        direction: k.direction,
                        packets: v.packets,
                        bytes: v.bytes,
                    })
                })
                .collect();
            agent.set_datapath_counters(counters);
        };
        update_agent(&agent);
        let before = tokio::task::spawn_blocking(move || scrape(metrics_addr))
            .await
            .unwrap();

        let (a, b) = (pod_a.clone(), pod_b.clone());
        let (allowed, denied) = tokio::task::spawn_blocking(move || {
            let ask = |port| {
                in_netns(&a.ns, || tcp_ask(b.sock(port), Duration::from_millis(700)))
            };
            (ask(8080), ask(9090))
        })
        .await
        .unwrap();
        assert_eq!(allowed.map(|(n, _)| n), Ok("b".to_owned()), "A -> B:8080 is allowed");
        assert!(denied.is_err(), "A -> B:9090 is denied by A's egress policy");

        // Wait until the denied connection's flow is in the ring.
        let client = ObserverClient::new(
            tonic::transport::Endpoint::from_shared(format!("http://{grpc_addr}"))
                .unwrap()
                .connect()
                .await
                .unwrap(),
        );
        let get = |req: GetFlowsRequest| {
            let mut client = client.clone();
            async move {
                let mut s = client.get_flows(req).await.unwrap().into_inner();
                let mut out = Vec::new();
                while let Some(r) = s.message().await.unwrap() {
                    if let Some(get_flows_response::ResponseTypes::Flow(f)) = r.response_types {
                        out.push(f);
                    }
                }
                out
            }
        };
        let dropped_filter = GetFlowsRequest {
            whitelist: vec![FlowFilter {
                verdict: vec![Verdict::Dropped as i32],
                event_type: vec![cilium_hubble::proto::flow::EventTypeFilter {
                    r#type: 1,
                    match_sub_type: false,
                    sub_type: 0,
                }],
                ..FlowFilter::default()
            }],
            ..GetFlowsRequest::default()
        };
        let mut drops = Vec::new();
        for _ in 0..50 {
            drops = get(dropped_filter.clone()).await;
            if !drops.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let drop = drops.first().expect("a DROPPED flow for A -> B:9090");
        assert_eq!(drop.drop_reason_desc, DropReason::PolicyDenied as i32);
        assert_eq!(drop.drop_reason, 133);
        assert_eq!(dport(drop), 9090);
        assert_eq!(drop.traffic_direction, TrafficDirection::Egress as i32);
        let (src, dst) = (drop.source.as_ref().unwrap(), drop.destination.as_ref().unwrap());
        assert_eq!(
            (src.namespace.as_str(), src.pod_name.as_str(), src.identity, src.id),
            ("default", "pod-a", id_a, 1)
        );
        assert_eq!((dst.pod_name.as_str(), dst.identity), ("pod-b", id_b));
        assert_eq!(src.labels, ["k8s:app=a"]);
        assert_eq!(drop.node_name, "node-e2e");
        let age = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
            - drop.time.unwrap().seconds;
        assert!((0..60).contains(&age), "flow time is wall-clock now ({age} s old)");

        // The allowed connection: policy verdicts at A's egress and B's ingress, and traces.
        let allowed_flows = get(GetFlowsRequest {
            whitelist: vec![FlowFilter {
                source_pod: vec!["default/pod-a".into()],
                destination_port: vec!["8080".into()],
                verdict: vec![Verdict::Forwarded as i32],
                ..FlowFilter::default()
            }],
            ..GetFlowsRequest::default()
        })
        .await;
        let verdicts: Vec<&Flow> = allowed_flows
            .iter()
            .filter(|f| f.event_type.as_ref().is_some_and(|e| e.r#type == 5))
            .collect();
        assert_eq!(verdicts.len(), 2, "one verdict at each end: {allowed_flows:#?}");
        assert!(verdicts.iter().any(|f| f.traffic_direction == TrafficDirection::Egress as i32
            && f.policy_match_type == u32::from(CIL_POLICY_MATCH_L3_L4)));
        assert!(verdicts.iter().any(|f| f.traffic_direction == TrafficDirection::Ingress as i32
            && f.destination.as_ref().is_some_and(|d| d.pod_name == "pod-b")));
        let points: Vec<i32> = allowed_flows
            .iter()
            .filter(|f| f.event_type.as_ref().is_some_and(|e| e.r#type == 4))
            .map(|f| f.trace_observation_point)
            .collect();
        assert!(points.contains(&(TraceObservationPoint::FromEndpoint as i32)), "{points:?}");
        assert!(points.contains(&(TraceObservationPoint::ToEndpoint as i32)), "{points:?}");

        // Metrics moved by the expected amounts.
        update_agent(&agent);
        let after = tokio::task::spawn_blocking(move || scrape(metrics_addr))
            .await
            .unwrap();
        assert_eq!(
            delta(
                &before,
                &after,
                r#"hubble_policy_verdicts_total{direction="egress",match="l3-l4",action="forwarded"}"#
            ),
            1.0,
            "one new allowed connection at A's egress"
        );
        assert_eq!(
            delta(
                &before,
                &after,
                r#"hubble_policy_verdicts_total{direction="ingress",match="l3-l4",action="forwarded"}"#
            ),
            1.0,
            "one new allowed connection at B's ingress"
        );
        let drops_flows = drops.len() as f64;
        assert_eq!(
            delta(&before, &after, r#"hubble_drop_total{reason="POLICY_DENIED",protocol="TCP"}"#),
            drops_flows,
            "one hubble_drop_total per DROPPED drop-event flow"
        );
        let dropped_packets = delta(
            &before,
            &after,
            r#"cilium_drop_count_total{reason="Policy denied",direction="EGRESS"}"#,
        );
        assert!(
            dropped_packets >= drops_flows && dropped_packets >= 1.0,
            "every denied SYN is counted by the datapath ({dropped_packets} packets, {drops_flows} reported)"
        );
        assert!(
            delta(&before, &after, r#"cilium_forward_count_total{direction="EGRESS"}"#) >= 3.0,
            "the allowed connection's packets are counted"
        );
        assert_eq!(
            delta(
                &before,
                &after,
                r#"hubble_lost_events_total{source="observer_events_queue"}"#
            ),
            0.0
        );
        reader.abort();
        // `CILIUM_RECORD_EVENTS=1` refreshes the recorded events the golden decoding test reads.
        if std::env::var_os("CILIUM_RECORD_EVENTS").is_some() {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/events/recorded.hex");
            let lines: String = recorded
                .lock()
                .unwrap()
                .iter()
                .map(|e| {
                    let bytes: &[u8] = match e {
                        Event::Drop(d) => bytemuck::bytes_of(d),
                        Event::Trace(t) => bytemuck::bytes_of(t),
                        Event::PolicyVerdict(v) => bytemuck::bytes_of(v),
                        Event::Sock(s) => bytemuck::bytes_of(s),
                    };
                    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                    hex + "\n"
                })
                .collect();
            std::fs::write(path, lines).expect("write recorded events");
        }
    });
    drop(dp);
}
