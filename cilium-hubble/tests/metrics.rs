//! Metrics: flows fed through the sink move the `hubble_*` counters by the expected amounts,
//! the agent's setters move the `cilium_*` ones, and the HTTP endpoint serves the text
//! exposition a scraper parses.

#![cfg(feature = "server")]

mod exposition;

use std::sync::Arc;

use exposition::{body, get, http_get, parse};

use cilium_hubble::metrics::{AgentMetrics, DatapathCounter, HubbleMetrics, bind, render, serve};
use cilium_hubble::observer::FlowSink;
use cilium_hubble::proto::flow::{
    CiliumEventType, DropReason, Flow, FlowType, Http, Ip, IpVersion, L7FlowType, Layer4, Layer7,
    LostEventSource, Tcp, TcpFlags, TrafficDirection, Verdict, layer4, layer7,
};
use prometheus_client::registry::Registry;

fn tcp_flow(verdict: Verdict, flags: TcpFlags) -> Flow {
    Flow {
        verdict: verdict as i32,
        r#type: FlowType::L3L4 as i32,
        ip: Some(Ip {
            source: "10.0.0.1".into(),
            destination: "10.0.0.2".into(),
            ip_version: IpVersion::IPv4 as i32,
            encrypted: false,
        }),
        l4: Some(Layer4 {
            protocol: Some(layer4::Protocol::Tcp(Tcp {
                source_port: 1,
                destination_port: 2,
                flags: Some(flags),
            })),
        }),
        ..Flow::default()
    }
}

#[test]
fn flows_move_the_hubble_counters() {
    let mut registry = Registry::default();
    let hubble = HubbleMetrics::register(&mut registry);
    let syn = TcpFlags {
        syn: true,
        ..TcpFlags::default()
    };
    // A trace to an endpoint, twice.
    let mut trace = tcp_flow(Verdict::Forwarded, syn);
    trace.event_type = Some(CiliumEventType {
        r#type: 4,
        sub_type: 0,
    });
    hubble.observe(&trace);
    hubble.observe(&trace);
    // A policy drop.
    let mut drop = tcp_flow(Verdict::Dropped, syn);
    drop.event_type = Some(CiliumEventType {
        r#type: 1,
        sub_type: 133,
    });
    drop.drop_reason_desc = DropReason::PolicyDenied as i32;
    hubble.observe(&drop);
    // A policy verdict (egress, L3-L4, allowed).
    let mut verdict = tcp_flow(Verdict::Forwarded, syn);
    verdict.event_type = Some(CiliumEventType {
        r#type: 5,
        sub_type: 0,
    });
    verdict.policy_match_type = 2;
    verdict.traffic_direction = TrafficDirection::Egress as i32;
    hubble.observe(&verdict);
    // An HTTP response seen by the client side, 25 ms after its request.
    let http = Flow {
        verdict: Verdict::Forwarded as i32,
        r#type: FlowType::L7 as i32,
        traffic_direction: TrafficDirection::Egress as i32,
        event_type: Some(CiliumEventType {
            r#type: 129,
            sub_type: 0,
        }),
        l7: Some(Layer7 {
            r#type: L7FlowType::Response as i32,
            latency_ns: 25_000_000,
            record: Some(layer7::Record::Http(Http {
                code: 200,
                method: "GET".into(),
                url: "http://web/".into(),
                protocol: "HTTP/1.1".into(),
                headers: vec![],
            })),
        }),
        ..Flow::default()
    };
    hubble.observe(&http);
    hubble.lost(LostEventSource::PerfEventRingBuffer, 7);

    let m = parse(&render(&registry));
    assert_eq!(
        get(
            &m,
            r#"hubble_flows_processed_total{type="Trace",subtype="to-endpoint",verdict="FORWARDED"}"#
        ),
        2.0
    );
    assert_eq!(
        get(
            &m,
            r#"hubble_flows_processed_total{type="Drop",subtype="",verdict="DROPPED"}"#
        ),
        1.0
    );
    assert_eq!(
        get(
            &m,
            r#"hubble_drop_total{reason="POLICY_DENIED",protocol="TCP"}"#
        ),
        1.0
    );
    assert_eq!(
        get(
            &m,
            r#"hubble_policy_verdicts_total{direction="egress",match="l3-l4",action="forwarded"}"#
        ),
        1.0
    );
    assert_eq!(
        get(
            &m,
            r#"hubble_http_requests_total{method="GET",protocol="HTTP/1.1",status="200",reporter="client"}"#
        ),
        1.0
    );
    assert_eq!(
        get(
            &m,
            r#"hubble_http_request_duration_seconds_count{method="GET",reporter="client"}"#
        ),
        1.0
    );
    assert!(
        (get(
            &m,
            r#"hubble_http_request_duration_seconds_sum{method="GET",reporter="client"}"#
        ) - 0.025)
            .abs()
            < 1e-9
    );
    // Four SYN packets: two traces, the drop and the verdict.
    assert_eq!(
        get(&m, r#"hubble_tcp_flags_total{flag="SYN",family="IPv4"}"#),
        4.0
    );
    assert_eq!(
        get(
            &m,
            r#"hubble_lost_events_total{source="perf_event_ring_buffer"}"#
        ),
        7.0
    );
}

#[test]
fn agent_setters_move_the_cilium_metrics() {
    let mut registry = Registry::default();
    let agent = AgentMetrics::register(&mut registry);
    let snapshot = |fwd: u64, drop: u64| {
        [
            DatapathCounter {
                reason: 0,
                direction: 1,
                packets: fwd,
                bytes: fwd * 100,
            },
            DatapathCounter {
                reason: 133,
                direction: 0,
                packets: drop,
                bytes: drop * 60,
            },
        ]
    };
    agent.set_datapath_counters(snapshot(10, 2));
    agent.set_datapath_counters(snapshot(15, 3));
    // A lower value (a recreated map) never makes a counter go down.
    agent.set_datapath_counters(snapshot(1, 1));
    agent.set_identities("node_local", 4);
    agent.set_policies(3);
    agent.observe_regeneration("total", 0.002);
    agent.set_map_pressure("cil_ct4_global", 0.25);
    agent.inc_policy_l7("denied", "http");
    let m = parse(&render(&registry));
    assert_eq!(
        get(&m, r#"cilium_forward_count_total{direction="EGRESS"}"#),
        15.0
    );
    assert_eq!(
        get(&m, r#"cilium_forward_bytes_total{direction="EGRESS"}"#),
        1500.0
    );
    assert_eq!(
        get(
            &m,
            r#"cilium_drop_count_total{reason="Policy denied",direction="INGRESS"}"#
        ),
        3.0
    );
    assert_eq!(get(&m, r#"cilium_identity{type="node_local"}"#), 4.0);
    assert_eq!(get(&m, "cilium_policy"), 3.0);
    assert_eq!(
        get(
            &m,
            r#"cilium_endpoint_regeneration_time_stats_seconds_count{scope="total"}"#
        ),
        1.0
    );
    assert_eq!(
        get(&m, r#"cilium_bpf_map_pressure{map_name="cil_ct4_global"}"#),
        0.25
    );
    assert_eq!(
        get(
            &m,
            r#"cilium_policy_l7_total{rule="denied",proxy_type="http"}"#
        ),
        1.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_endpoint_serves_the_exposition() {
    let mut registry = Registry::default();
    let agent = AgentMetrics::register(&mut registry);
    agent.set_policies(5);
    let registry = Arc::new(registry);
    let (listener, addr) = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(Arc::clone(&registry), listener, async {
        let _ = stopped.await;
    }));
    let scrape = move |path: &'static str| {
        std::thread::spawn(move || http_get(addr, path))
            .join()
            .unwrap()
    };
    let (ok, missing) = tokio::task::spawn_blocking(move || (scrape("/metrics"), scrape("/nope")))
        .await
        .unwrap();
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    let body = body(&ok);
    assert_eq!(get(&parse(body), "cilium_policy"), 5.0);
    assert!(body.contains("# TYPE cilium_policy gauge"), "{body}");
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
