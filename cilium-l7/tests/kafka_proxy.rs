//! The Kafka proxy between a test client and a small Kafka-protocol server written for the
//! test (it answers ApiVersions, Metadata and Produce), all on loopback without privileges:
//! the client is endpoint 127.0.0.1, the server 127.0.0.2; the policy is CiliumNetworkPolicy
//! text resolved by a real `cilium_policy::PolicyEngine`.

use std::sync::{Arc, Mutex};

use cilium_core::{LabelSet, NumericIdentity, Protocol};
use cilium_hubble::proto::flow::{L7FlowType, Verdict, layer7};
use cilium_l7::kafka::TOPIC_AUTHORIZATION_FAILED;
use cilium_l7::kafka_proxy::{KafkaProxy, KafkaProxyConfig, KafkaProxyError};
use cilium_l7::records::L7Record;
use cilium_l7::{ConnInfo, LocalEndpoint, PolicySnapshot};
use cilium_policy::{Direction, EndpointInfo, EngineConfig, NamedPortTable, PolicyEngine};
use kafka_protocol::messages::{self as km, ApiKey, TopicName};
use kafka_protocol::protocol::StrBytes;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

mod common;
use common::kafka::*;

const CLIENT_IP: &str = "127.0.0.1";

fn policy_text(port: u16, rules: &str) -> String {
    format!(
        r#"
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {{name: kafka, namespace: empire}}
spec:
  endpointSelector: {{matchLabels: {{app: client}}}}
  egress:
  - toEndpoints: [{{matchLabels: {{app: kafka}}}}]
    toPorts:
    - ports: [{{port: "{port}", protocol: TCP}}]
      rules:
        kafka:
{rules}
"#
    )
}

/// Produce to `allowed`, consume `consumable` as client `reader`. ApiVersions (no topic) is
/// in both roles and passes on api key alone, as in Cilium.
const RULES: &str = "        - {role: produce, topic: allowed}
        - {role: consume, topic: consumable, clientID: reader}";

fn snapshot(port: u16, rules: &str) -> Arc<PolicySnapshot> {
    let ns = "k8s:io.kubernetes.pod.namespace=empire";
    let client = LabelSet::parse_list(&["k8s:app=client", ns]);
    let server = LabelSet::parse_list(&["k8s:app=kafka", ns]);
    let mut engine = PolicyEngine::new(EngineConfig::default());
    engine
        .load_text("kafka.yaml", &policy_text(port, rules))
        .unwrap();
    engine.upsert_identity(NumericIdentity::new(1000), client.clone());
    engine.upsert_identity(NumericIdentity::new(1001), server);
    let ep = EndpointInfo::new(NumericIdentity::new(1000), client);
    let policy = engine.resolve(&ep, &NamedPortTable::new()).unwrap();
    let mut snap = PolicySnapshot::new(Arc::new(engine.cache().clone()));
    snap.insert_endpoint(
        CLIENT_IP.parse().unwrap(),
        LocalEndpoint {
            id: 7,
            identity: NumericIdentity::new(1000),
            policy: Arc::new(policy),
        },
    );
    snap.insert_prefix(SERVER_IP.parse().unwrap(), 32, NumericIdentity::new(1001));
    Arc::new(snap)
}

// ---- the proxy -------------------------------------------------------------------------

type Records = Arc<Mutex<Vec<L7Record>>>;

struct Setup {
    broker: Broker,
    policy: watch::Sender<Arc<PolicySnapshot>>,
    proxy: Arc<KafkaProxy>,
    listener: TcpListener,
    records: Records,
}

impl Setup {
    async fn new(rules: &str) -> Setup {
        let broker = Broker::start().await;
        let (policy, rx) = watch::channel(snapshot(broker.addr.port(), rules));
        let records: Records = Arc::default();
        let sink = Arc::clone(&records);
        let config = KafkaProxyConfig {
            mark_upstream: false,
            ..KafkaProxyConfig::new(Direction::Egress)
        };
        let proxy = Arc::new(KafkaProxy::new(
            config,
            rx,
            Arc::new(move |r: L7Record| sink.lock().unwrap().push(r)),
        ));
        let listener = TcpListener::bind((CLIENT_IP, 0)).await.unwrap();
        Setup {
            broker,
            policy,
            proxy,
            listener,
            records,
        }
    }

    /// A client connection served by `serve_connection` as if the datapath had redirected a
    /// connection to the broker (the original destination).
    async fn connect(&self) -> (Client, JoinHandle<Result<(), KafkaProxyError>>) {
        let (c, accepted) = tokio::join!(
            TcpStream::connect(self.listener.local_addr().unwrap()),
            self.listener.accept()
        );
        let (stream, peer) = accepted.unwrap();
        let conn = ConnInfo {
            client: peer,
            server: self.broker.addr,
            protocol: Protocol::Tcp,
        };
        let task = tokio::spawn(Arc::clone(&self.proxy).serve_connection(stream, conn));
        (Client { s: c.unwrap() }, task)
    }

    fn kafka_records(&self) -> Vec<(L7FlowType, Verdict, String, String, i32, i32)> {
        self.records
            .lock()
            .unwrap()
            .iter()
            .map(|r| {
                let layer7::Record::Kafka(k) = &r.record else {
                    panic!("not a Kafka record: {r:?}");
                };
                (
                    r.kind,
                    r.verdict,
                    k.api_key.clone(),
                    k.topic.clone(),
                    k.correlation_id,
                    k.error_code,
                )
            })
            .collect()
    }
}

#[tokio::test]
async fn allowed_produce_passes_and_denied_is_refused_on_the_same_connection() {
    let setup = Setup::new(RULES).await;
    let (mut c, task) = setup.connect().await;

    // The produce role allows ApiVersions and Metadata of its topic.
    c.send(
        ApiKey::ApiVersions,
        3,
        1,
        "writer",
        &km::ApiVersionsRequest::default(),
    )
    .await;
    let (corr, versions) = c
        .recv::<km::ApiVersionsResponse>(ApiKey::ApiVersions, 3)
        .await;
    assert_eq!(
        (corr, versions.error_code, versions.api_keys.len()),
        (1, 0, 3)
    );
    c.send(ApiKey::Metadata, 9, 2, "writer", &metadata(&["allowed"]))
        .await;
    let (corr, meta) = c.recv::<km::MetadataResponse>(ApiKey::Metadata, 9).await;
    assert_eq!(corr, 2);
    assert_eq!(meta.brokers[0].port, i32::from(setup.broker.addr.port()));

    // Produce to the allowed topic reaches the server; the client gets its answer.
    c.send(ApiKey::Produce, 9, 3, "writer", &produce(1, &["allowed"]))
        .await;
    let (corr, resp) = c.recv::<km::ProduceResponse>(ApiKey::Produce, 9).await;
    assert_eq!(corr, 3);
    assert_eq!(partition_codes(&resp), vec![("allowed".into(), 0)]);
    assert_eq!(resp.responses[0].partition_responses[0].base_offset, 3);

    // Another topic: refused by the proxy with TOPIC_AUTHORIZATION_FAILED.
    c.send(ApiKey::Produce, 9, 4, "writer", &produce(1, &["secret"]))
        .await;
    let (corr, resp) = c.recv::<km::ProduceResponse>(ApiKey::Produce, 9).await;
    assert_eq!(corr, 4);
    assert_eq!(
        partition_codes(&resp),
        vec![("secret".into(), TOPIC_AUTHORIZATION_FAILED)]
    );
    // A request naming an allowed and a denied topic is refused whole (non-flexible v3).
    c.send(
        ApiKey::Produce,
        3,
        5,
        "writer",
        &produce(-1, &["allowed", "secret"]),
    )
    .await;
    let (corr, resp) = c.recv::<km::ProduceResponse>(ApiKey::Produce, 3).await;
    assert_eq!(corr, 5);
    assert_eq!(
        partition_codes(&resp),
        vec![
            ("allowed".into(), TOPIC_AUTHORIZATION_FAILED),
            ("secret".into(), TOPIC_AUTHORIZATION_FAILED)
        ]
    );

    // The connection keeps working: pipelined, a refused request between two forwarded
    // ones is answered in request order.
    c.send(ApiKey::Produce, 9, 6, "writer", &produce(1, &["allowed"]))
        .await;
    c.send(ApiKey::Produce, 9, 7, "writer", &produce(1, &["secret"]))
        .await;
    c.send(ApiKey::Metadata, 9, 8, "writer", &metadata(&["allowed"]))
        .await;
    let (corr, resp) = c.recv::<km::ProduceResponse>(ApiKey::Produce, 9).await;
    assert_eq!((corr, partition_codes(&resp)[0].1), (6, 0));
    let (corr, resp) = c.recv::<km::ProduceResponse>(ApiKey::Produce, 9).await;
    assert_eq!(
        (corr, partition_codes(&resp)[0].1),
        (7, TOPIC_AUTHORIZATION_FAILED)
    );
    let (corr, _) = c.recv::<km::MetadataResponse>(ApiKey::Metadata, 9).await;
    assert_eq!(corr, 8);
    assert_eq!(setup.broker.produced(), vec!["allowed", "allowed"]);

    // acks=0: an allowed produce only goes upstream (the next answered request shows the
    // server got it); a denied one closes the connection, as a broker does.
    c.send(ApiKey::Produce, 9, 9, "writer", &produce(0, &["allowed"]))
        .await;
    c.send(ApiKey::Metadata, 9, 10, "writer", &metadata(&["allowed"]))
        .await;
    let (corr, _) = c.recv::<km::MetadataResponse>(ApiKey::Metadata, 9).await;
    assert_eq!(corr, 10);
    assert_eq!(setup.broker.produced(), vec!["allowed"; 3]);
    c.send(ApiKey::Produce, 9, 11, "writer", &produce(0, &["secret"]))
        .await;
    assert!(c.closed().await);
    let err = task.await.unwrap().unwrap_err();
    assert!(
        matches!(
            err,
            KafkaProxyError::ClosedOnDenial {
                api_key: 0,
                correlation_id: 11,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(setup.broker.produced(), vec!["allowed"; 3]);

    // Records: request and response of each, with verdicts, topics and error codes.
    let recs = setup.kafka_records();
    let find = |kind, corr: i32, topic: &str| {
        recs.iter()
            .find(|r| r.0 == kind && r.4 == corr && r.3 == topic)
            .unwrap_or_else(|| panic!("no {kind:?} record for {corr} {topic}: {recs:#?}"))
            .clone()
    };
    let req = find(L7FlowType::Request, 3, "allowed");
    assert_eq!((req.1, req.2.as_str()), (Verdict::Forwarded, "produce"));
    let resp = find(L7FlowType::Response, 3, "allowed");
    assert_eq!((resp.1, resp.5), (Verdict::Forwarded, 0));
    assert_eq!(find(L7FlowType::Request, 4, "secret").1, Verdict::Dropped);
    let refused = find(L7FlowType::Response, 4, "secret");
    assert_eq!((refused.1, refused.5), (Verdict::Dropped, 29));
    // Two records (one per topic) for the two-topic request.
    assert_eq!(find(L7FlowType::Request, 5, "allowed").1, Verdict::Dropped);
    assert_eq!(find(L7FlowType::Request, 5, "secret").1, Verdict::Dropped);
    assert_eq!(find(L7FlowType::Request, 11, "secret").1, Verdict::Dropped);
    assert_eq!(find(L7FlowType::Response, 1, "").5, 0);
    let full = setup.records.lock().unwrap()[0].clone();
    assert_eq!(
        (
            full.source_identity,
            full.destination_identity,
            full.endpoint_id
        ),
        (1000, 1001, 7)
    );
    setup.broker.task.abort();
}

#[tokio::test]
async fn consume_role_and_client_id() {
    let setup = Setup::new(RULES).await;
    let (mut c, _task) = setup.connect().await;
    // The consume rule needs client id "reader": Metadata of its topic passes for it...
    c.send(ApiKey::Metadata, 9, 1, "reader", &metadata(&["consumable"]))
        .await;
    let (_, meta) = c.recv::<km::MetadataResponse>(ApiKey::Metadata, 9).await;
    assert_eq!(meta.topics[0].error_code, 0);
    assert_eq!(meta.brokers.len(), 1);
    // ... but producing is not in the consume role.
    c.send(
        ApiKey::Produce,
        9,
        2,
        "reader",
        &produce(1, &["consumable"]),
    )
    .await;
    let (_, resp) = c.recv::<km::ProduceResponse>(ApiKey::Produce, 9).await;
    assert_eq!(partition_codes(&resp)[0].1, TOPIC_AUTHORIZATION_FAILED);
    // Another client id gets the topic refused in the Metadata answer (no brokers).
    c.send(
        ApiKey::Metadata,
        9,
        3,
        "someone",
        &metadata(&["consumable"]),
    )
    .await;
    let (corr, meta) = c.recv::<km::MetadataResponse>(ApiKey::Metadata, 9).await;
    assert_eq!(corr, 3);
    assert_eq!(meta.topics.len(), 1);
    assert_eq!(meta.topics[0].error_code, TOPIC_AUTHORIZATION_FAILED);
    assert!(meta.brokers.is_empty());
    // Fetch (consume role) by another client id: refused per partition.
    let fetch = km::FetchRequest::default().with_topics(vec![
        km::fetch_request::FetchTopic::default()
            .with_topic(TopicName(StrBytes::from_static_str("consumable")))
            .with_partitions(vec![
                km::fetch_request::FetchPartition::default().with_partition(2),
            ]),
    ]);
    c.send(ApiKey::Fetch, 12, 4, "someone", &fetch).await;
    let (corr, resp) = c.recv::<km::FetchResponse>(ApiKey::Fetch, 12).await;
    assert_eq!(corr, 4);
    let p = &resp.responses[0].partitions[0];
    assert_eq!(
        (p.partition_index, p.error_code),
        (2, TOPIC_AUTHORIZATION_FAILED)
    );
    // The server saw only the allowed Metadata request.
    let got = setup.broker.received.lock().unwrap().clone();
    assert_eq!(got, vec![(3, "reader".to_owned(), "consumable".to_owned())]);
    setup.broker.task.abort();
}

#[tokio::test]
async fn a_policy_change_applies_to_the_next_request() {
    let setup = Setup::new(RULES).await;
    let (mut c, _task) = setup.connect().await;
    c.send(ApiKey::Produce, 9, 1, "writer", &produce(1, &["secret"]))
        .await;
    let (_, resp) = c.recv::<km::ProduceResponse>(ApiKey::Produce, 9).await;
    assert_eq!(partition_codes(&resp)[0].1, TOPIC_AUTHORIZATION_FAILED);
    let port = setup.broker.addr.port();
    setup
        .policy
        .send(snapshot(port, "        - {role: produce, topic: secret}"))
        .unwrap();
    c.send(ApiKey::Produce, 9, 2, "writer", &produce(1, &["secret"]))
        .await;
    let (_, resp) = c.recv::<km::ProduceResponse>(ApiKey::Produce, 9).await;
    assert_eq!(partition_codes(&resp), vec![("secret".into(), 0)]);
    // And the old topic is no longer allowed.
    c.send(ApiKey::Produce, 9, 3, "writer", &produce(1, &["allowed"]))
        .await;
    let (_, resp) = c.recv::<km::ProduceResponse>(ApiKey::Produce, 9).await;
    assert_eq!(partition_codes(&resp)[0].1, TOPIC_AUTHORIZATION_FAILED);
    assert_eq!(setup.broker.produced(), vec!["secret"]);
    setup.broker.task.abort();
}

#[tokio::test]
async fn malformed_frames_close_with_an_error_record() {
    let setup = Setup::new(RULES).await;

    // A size prefix beyond the bound.
    let (mut c, task) = setup.connect().await;
    c.s.write_all(&[0x7f, 0xff, 0xff, 0xff, 0, 0])
        .await
        .unwrap();
    assert!(c.closed().await);
    let err = task.await.unwrap().unwrap_err();
    assert!(matches!(err, KafkaProxyError::Malformed(_)), "{err}");

    // A Produce v9 whose body ends inside its first topic name, after an answered request.
    let (mut c, task) = setup.connect().await;
    c.send(ApiKey::Metadata, 9, 1, "writer", &metadata(&["allowed"]))
        .await;
    let mut bad = request(ApiKey::Produce, 9, 2, "writer", &produce(1, &["allowed"]));
    bad.truncate(bad.len() - 12);
    let size = (bad.len() - 4) as i32;
    bad[..4].copy_from_slice(&size.to_be_bytes());
    c.s.write_all(&bad).await.unwrap();
    // The answer owed before the bad frame still arrives, then the connection closes.
    let (corr, _) = c.recv::<km::MetadataResponse>(ApiKey::Metadata, 9).await;
    assert_eq!(corr, 1);
    assert!(c.closed().await);
    match task.await.unwrap() {
        Err(KafkaProxyError::Malformed(e)) => {
            assert!(
                e.to_string().starts_with("topic_data[].name at byte 29"),
                "{e}"
            );
        }
        other => panic!("{other:?}"),
    }
    let errors: Vec<_> = setup
        .kafka_records()
        .into_iter()
        .filter(|r| r.1 == Verdict::Error)
        .collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!((errors[0].2.as_str(), errors[0].5), ("", 42));
    assert_eq!(
        (errors[1].2.as_str(), errors[1].4, errors[1].5),
        ("produce", 2, 42)
    );
    assert!(setup.broker.produced().is_empty());
    setup.broker.task.abort();
}
