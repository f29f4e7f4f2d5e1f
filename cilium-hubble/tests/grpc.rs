//! gRPC round trip: the Observer service on a loopback port, a tonic client generated from
//! the same proto. Covers `number`, `first`, `since`/`until`, allowlist minus denylist,
//! `follow` (new flows and a lapped follower told what it lost), `ServerStatus`, `GetNodes`
//! and the errors for bad requests.

#![cfg(feature = "server")]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use cilium_hubble::observer::Observer;
use cilium_hubble::proto::flow::{
    Endpoint, Flow, FlowFilter, Layer4, LostEventSource, Tcp, Verdict, layer4,
};
use cilium_hubble::proto::observer::observer_client::ObserverClient;
use cilium_hubble::proto::observer::{
    GetFlowsRequest, GetFlowsResponse, GetNodesRequest, ServerStatusRequest, get_flows_response,
};
use cilium_hubble::server::{ObserverService, bind, serve};
use tokio::sync::oneshot;
use tonic::transport::Channel;

/// Flow `n`: time n seconds, TCP to port 8000 + n, DROPPED when n is odd.
fn flow(n: u32) -> Flow {
    Flow {
        time: Some(pbjson_types::Timestamp {
            seconds: 1_700_000_000 + i64::from(n),
            nanos: 0,
        }),
        verdict: if n % 2 == 1 {
            Verdict::Dropped
        } else {
            Verdict::Forwarded
        } as i32,
        l4: Some(Layer4 {
            protocol: Some(layer4::Protocol::Tcp(Tcp {
                source_port: 40000,
                destination_port: 8000 + n,
                flags: None,
            })),
        }),
        source: Some(Endpoint {
            namespace: "default".into(),
            pod_name: format!("client-{n}"),
            ..Endpoint::default()
        }),
        proxy_port: n,
        ..Flow::default()
    }
}

struct Server {
    observer: Arc<Observer>,
    client: ObserverClient<Channel>,
    _stop: oneshot::Sender<()>,
}

async fn start(capacity: usize) -> Server {
    let observer = Observer::new(capacity);
    let (listener, addr): (_, SocketAddr) = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let service =
        ObserverService::new(Arc::clone(&observer), "node-1").with_address(addr.to_string());
    tokio::spawn(serve(service, listener, async {
        let _ = stopped.await;
    }));
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .expect("connect to the observer");
    Server {
        observer,
        client: ObserverClient::new(channel),
        _stop: stop,
    }
}

/// Reads the whole (finite) stream.
async fn collect(
    client: &mut ObserverClient<Channel>,
    req: GetFlowsRequest,
) -> Vec<GetFlowsResponse> {
    let mut stream = client.get_flows(req).await.expect("GetFlows").into_inner();
    let mut out = Vec::new();
    while let Some(r) = stream.message().await.expect("stream") {
        out.push(r);
    }
    out
}

fn ports(rs: &[GetFlowsResponse]) -> Vec<u32> {
    rs.iter()
        .map(|r| match &r.response_types {
            Some(get_flows_response::ResponseTypes::Flow(f)) => f.proxy_port,
            other => panic!("expected a flow, got {other:?}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_number_first_and_time_window() {
    let mut s = start(100).await;
    for n in 0..10 {
        s.observer.push_flow(flow(n));
    }
    let last3 = collect(
        &mut s.client,
        GetFlowsRequest {
            number: 3,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(ports(&last3), [7, 8, 9]);
    assert!(last3.iter().all(|r| r.node_name == "node-1"));
    assert_eq!(last3[0].time.unwrap().seconds, 1_700_000_007);

    let first2 = collect(
        &mut s.client,
        GetFlowsRequest {
            number: 2,
            first: true,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(ports(&first2), [0, 1]);

    let all = collect(&mut s.client, GetFlowsRequest::default()).await;
    assert_eq!(ports(&all), (0..10).collect::<Vec<_>>());

    let window = collect(
        &mut s.client,
        GetFlowsRequest {
            since: Some(pbjson_types::Timestamp {
                seconds: 1_700_000_003,
                nanos: 0,
            }),
            until: Some(pbjson_types::Timestamp {
                seconds: 1_700_000_005,
                nanos: 0,
            }),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(ports(&window), [3, 4, 5]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowlist_minus_denylist() {
    let mut s = start(100).await;
    for n in 0..10 {
        s.observer.push_flow(flow(n));
    }
    // Dropped flows, except those to port 8003 or 8007.
    let got = collect(
        &mut s.client,
        GetFlowsRequest {
            whitelist: vec![FlowFilter {
                verdict: vec![Verdict::Dropped as i32],
                ..Default::default()
            }],
            blacklist: vec![FlowFilter {
                destination_port: vec!["8003".into(), "8007".into()],
                ..Default::default()
            }],
            ..Default::default()
        },
    )
    .await;
    assert_eq!(ports(&got), [1, 5, 9]);
    // Two allowlist filters are OR-ed; fields within one are AND-ed.
    let got = collect(
        &mut s.client,
        GetFlowsRequest {
            whitelist: vec![
                FlowFilter {
                    verdict: vec![Verdict::Forwarded as i32],
                    destination_port: vec!["8002".into()],
                    ..Default::default()
                },
                FlowFilter {
                    source_pod: vec!["default/client-9".into()],
                    ..Default::default()
                },
            ],
            ..Default::default()
        },
    )
    .await;
    assert_eq!(ports(&got), [2, 9]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_streams_new_flows_after_the_last_n() {
    let mut s = start(100).await;
    for n in 0..4 {
        s.observer.push_flow(flow(n));
    }
    let mut stream = s
        .client
        .get_flows(GetFlowsRequest {
            number: 2,
            follow: true,
            whitelist: vec![FlowFilter {
                verdict: vec![Verdict::Forwarded as i32],
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut got = Vec::new();
    for _ in 0..2 {
        got.push(stream.message().await.unwrap().unwrap());
    }
    assert_eq!(ports(&got), [0, 2], "history: the last 2 forwarded flows");
    let obs = Arc::clone(&s.observer);
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        for n in 4..8 {
            obs.push_flow(flow(n));
        }
    });
    let mut live = Vec::new();
    for _ in 0..2 {
        let r = tokio::time::timeout(Duration::from_secs(5), stream.message())
            .await
            .expect("a followed flow in time")
            .unwrap()
            .unwrap();
        live.push(r);
    }
    assert_eq!(ports(&live), [4, 6], "followed: new forwarded flows only");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_follower_is_told_what_it_lost() {
    let mut s = start(16).await;
    let mut stream = s
        .client
        .get_flows(GetFlowsRequest {
            follow: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    // The client reads nothing while far more than the ring and the stream buffers hold is
    // written; the writer must not wait for it.
    let started = std::time::Instant::now();
    for n in 0..50_000 {
        s.observer.push_flow(flow(n));
    }
    assert!(started.elapsed() < Duration::from_secs(20));
    let mut lost = 0u64;
    let mut flows = 0u64;
    while let Ok(Some(r)) = tokio::time::timeout(Duration::from_millis(500), stream.message())
        .await
        .map(|m| m.unwrap())
    {
        match r.response_types {
            Some(get_flows_response::ResponseTypes::LostEvents(l)) => {
                assert_eq!(l.source, LostEventSource::HubbleRingBuffer as i32);
                lost += l.num_events_lost;
            }
            Some(get_flows_response::ResponseTypes::Flow(_)) => flows += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(lost > 0, "a lapped follower gets a lost-events response");
    assert_eq!(
        lost + flows,
        50_000,
        "every flow is either delivered or counted lost"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_nodes_and_bad_requests() {
    let mut s = start(5).await;
    for n in 0..7 {
        s.observer.push_flow(flow(n));
    }
    let st = s
        .client
        .server_status(ServerStatusRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!((st.num_flows, st.max_flows, st.seen_flows), (5, 5, 7));
    assert_eq!(st.num_connected_nodes.map(|v| v.value), Some(1));
    assert!(st.version.starts_with("cilium-rs"));

    let nodes = s
        .client
        .get_nodes(GetNodesRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(nodes.nodes.len(), 1);
    assert_eq!(nodes.nodes[0].name, "node-1");
    assert_eq!(nodes.nodes[0].seen_flows, 7);

    let err = s
        .client
        .get_flows(GetFlowsRequest {
            first: true,
            follow: true,
            ..Default::default()
        })
        .await
        .expect_err("first with follow is refused");
    assert_eq!(err.code(), tonic::Code::InvalidArgument);

    let err = s
        .client
        .get_flows(GetFlowsRequest {
            whitelist: vec![FlowFilter {
                source_ip: vec!["10.0.0.300".into()],
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .expect_err("a bad IP filter is refused");
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    assert!(err.message().contains("source_ip"), "{}", err.message());
}
