//! The Kafka proxy through the real datapath: a client pod whose egress policy allows the
//! broker pod on TCP 9092 with `kafka: [{role: produce, topic: allowed}]`; the broker is a
//! small Kafka-protocol server written for the tests (no broker package exists here).
//!
//! Checks: the client's connection to the broker is redirected to the egress proxy; a produce
//! to the allowed topic reaches the broker and its answer comes back; a produce to another
//! topic is refused with TOPIC_AUTHORIZATION_FAILED by the proxy and never reaches the
//! broker; the same connection keeps working; the broker sees the connection from the node
//! (the proxy), carrying the client's identity through the mark (the broker's own ingress
//! policy allows only the client).
//!
//! Privileged: with `CILIUM_PRIVILEGED_TESTS=1` a missing capability is a failure.

mod common;

use std::sync::Arc;

use cilium_l7::kafka::TOPIC_AUTHORIZATION_FAILED;
use cilium_l7::kafka_proxy::{KafkaProxy, KafkaProxyConfig};
use cilium_policy::Direction;
use common::kafka::*;
use common::*;
use kafka_protocol::messages::{self as km, ApiKey};

const POLICY: &str = r#"
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: client-kafka, namespace: default}
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress:
  - toEndpoints: [{matchLabels: {app: broker}}]
    toPorts:
    - ports: [{port: "9092", protocol: TCP}]
      rules:
        kafka: [{role: produce, topic: allowed}]
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: broker, namespace: default}
spec:
  endpointSelector: {matchLabels: {app: broker}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: client}}]
    toPorts:
    - ports: [{port: "9092", protocol: TCP}]
"#;

#[test]
fn kafka_proxy_refuses_unlisted_topics_on_redirected_connections() {
    let Some(env) = L7Env::new(
        "l7kafka",
        &[("client", &["app=client"]), ("broker", &["app=broker"])],
    ) else {
        return;
    };
    let (client, broker_pod) = (env.pod("client"), env.pod("broker"));
    env.set_policy(POLICY);
    let proxy = Arc::new(KafkaProxy::new(
        KafkaProxyConfig::new(Direction::Egress),
        env.snapshot.clone(),
        Arc::new(cilium_l7::records::NoRecords),
    ));
    let listener = env.listener(KAFKA_EGRESS);
    let p = Arc::clone(&proxy);
    env.rt.spawn(async move { p.serve(listener).await });

    let broker_rt = node_runtime(&broker_pod.ns);
    // Futures run on the runtimes' worker threads, which live in the pods' namespaces.
    let at = broker_pod.sock(9092);
    let broker = broker_rt
        .block_on(broker_rt.spawn(Broker::start_at(at)))
        .unwrap();
    let client_rt = node_runtime(&client.ns);
    let to = broker_pod.sock(9092);
    let done = client_rt.spawn(async move {
        let s = tokio::time::timeout(
            std::time::Duration::from_secs(2),
            tokio::net::TcpStream::connect(to),
        )
        .await
        .expect("connect in time")
        .expect("connect");
        let mut c = Client { s };
        // ApiVersions (produce role, no topic) is forwarded and answered by the broker.
        c.send(
            ApiKey::ApiVersions,
            3,
            1,
            "producer",
            &km::ApiVersionsRequest::default(),
        )
        .await;
        let (corr, v): (i32, km::ApiVersionsResponse) = c.recv(ApiKey::ApiVersions, 3).await;
        assert_eq!((corr, v.error_code), (1, 0));
        // Produce to the allowed topic: the broker's answer.
        c.send(ApiKey::Produce, 9, 2, "producer", &produce(1, &["allowed"]))
            .await;
        let (corr, r): (i32, km::ProduceResponse) = c.recv(ApiKey::Produce, 9).await;
        assert_eq!(
            (corr, partition_codes(&r)),
            (2, vec![("allowed".to_owned(), 0)])
        );
        // Another topic: the proxy's refusal.
        c.send(ApiKey::Produce, 9, 3, "producer", &produce(1, &["secret"]))
            .await;
        let (corr, r): (i32, km::ProduceResponse) = c.recv(ApiKey::Produce, 9).await;
        assert_eq!(
            (corr, partition_codes(&r)),
            (3, vec![("secret".to_owned(), TOPIC_AUTHORIZATION_FAILED)])
        );
        // The connection keeps working.
        c.send(ApiKey::Produce, 9, 4, "producer", &produce(1, &["allowed"]))
            .await;
        let (corr, r): (i32, km::ProduceResponse) = c.recv(ApiKey::Produce, 9).await;
        assert_eq!(
            (corr, partition_codes(&r)),
            (4, vec![("allowed".to_owned(), 0)])
        );
    });
    client_rt.block_on(done).expect("the client's exchanges");
    assert_eq!(
        broker.produced(),
        vec!["allowed".to_owned(), "allowed".to_owned()]
    );
    broker_rt.shutdown_background();
    client_rt.shutdown_background();
}
