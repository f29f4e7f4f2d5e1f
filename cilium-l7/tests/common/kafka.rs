//! A small Kafka-protocol server and client for the tests (the server answers ApiVersions,
//! Metadata and Produce; no broker package exists here), built on `kafka-protocol`.

#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::{Buf, Bytes, BytesMut};
use kafka_protocol::messages::{self as km, ApiKey, BrokerId, TopicName};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Where `Broker::start` listens.
pub const SERVER_IP: &str = "127.0.0.2";

// ---- the test server -------------------------------------------------------------------

/// What the server received: (api key, client id, topic, partition) of every produced
/// partition, and the api keys of other requests.
pub type Received = Arc<Mutex<Vec<(i16, String, String)>>>;

pub struct Broker {
    pub addr: SocketAddr,
    pub received: Received,
    pub task: JoinHandle<()>,
}

impl Broker {
    pub async fn start() -> Broker {
        Broker::start_at(SocketAddr::new(SERVER_IP.parse().unwrap(), 0)).await
    }

    /// A broker listening on `at` (port 0: any).
    pub async fn start_at(at: SocketAddr) -> Broker {
        let listener = TcpListener::bind(at).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received: Received = Arc::default();
        let r = Arc::clone(&received);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(serve_broker(stream, addr, Arc::clone(&r)));
            }
        });
        Broker {
            addr,
            received,
            task,
        }
    }

    pub fn produced(&self) -> Vec<String> {
        let got = self.received.lock().unwrap();
        got.iter()
            .filter(|(k, _, _)| *k == 0)
            .map(|(_, _, t)| t.clone())
            .collect()
    }
}

pub async fn read_frame(s: &mut TcpStream) -> Option<Bytes> {
    let mut size = [0u8; 4];
    s.read_exact(&mut size).await.ok()?;
    let mut body = vec![0u8; i32::from_be_bytes(size) as usize];
    s.read_exact(&mut body).await.ok()?;
    Some(Bytes::from(body))
}

pub fn frame(header: impl FnOnce(&mut BytesMut), body: impl FnOnce(&mut BytesMut)) -> Vec<u8> {
    let mut b = BytesMut::new();
    header(&mut b);
    body(&mut b);
    let mut out = (b.len() as i32).to_be_bytes().to_vec();
    out.extend_from_slice(&b);
    out
}

pub fn response<M: Encodable>(key: ApiKey, v: i16, corr: i32, msg: &M) -> Vec<u8> {
    frame(
        |b| {
            km::ResponseHeader::default()
                .with_correlation_id(corr)
                .encode(b, key.response_header_version(v))
                .unwrap()
        },
        |b| msg.encode(b, v).unwrap(),
    )
}

pub async fn serve_broker(mut s: TcpStream, me: SocketAddr, received: Received) {
    while let Some(mut body) = read_frame(&mut s).await {
        let key = ApiKey::try_from(i16::from_be_bytes([body[0], body[1]])).unwrap();
        let v = i16::from_be_bytes([body[2], body[3]]);
        let h = km::RequestHeader::decode(&mut body, key.request_header_version(v)).unwrap();
        let client = h.client_id.as_deref().unwrap_or("").to_owned();
        let corr = h.correlation_id;
        let out = match key {
            ApiKey::ApiVersions => {
                received.lock().unwrap().push((18, client, String::new()));
                let mut resp = km::ApiVersionsResponse::default();
                for (k, max) in [(0, 9), (3, 9), (18, 3)] {
                    resp.api_keys.push(
                        km::api_versions_response::ApiVersion::default()
                            .with_api_key(k)
                            .with_max_version(max),
                    );
                }
                response(key, v, corr, &resp)
            }
            ApiKey::Metadata => {
                let req = km::MetadataRequest::decode(&mut body, v).unwrap();
                let mut resp = km::MetadataResponse::default();
                resp.brokers.push(
                    km::metadata_response::MetadataResponseBroker::default()
                        .with_node_id(BrokerId(0))
                        .with_host(StrBytes::from_string(me.ip().to_string()))
                        .with_port(i32::from(me.port())),
                );
                for t in req.topics.iter().flatten() {
                    let name = t.name.clone().unwrap();
                    received
                        .lock()
                        .unwrap()
                        .push((3, client.clone(), name.0.to_string()));
                    let p = km::metadata_response::MetadataResponsePartition::default()
                        .with_leader_id(BrokerId(0))
                        .with_replica_nodes(vec![BrokerId(0)])
                        .with_isr_nodes(vec![BrokerId(0)]);
                    resp.topics.push(
                        km::metadata_response::MetadataResponseTopic::default()
                            .with_name(Some(name))
                            .with_partitions(vec![p]),
                    );
                }
                response(key, v, corr, &resp)
            }
            ApiKey::Produce => {
                let req = km::ProduceRequest::decode(&mut body, v).unwrap();
                let mut resp = km::ProduceResponse::default();
                for t in &req.topic_data {
                    let mut tr = km::produce_response::TopicProduceResponse::default()
                        .with_name(t.name.clone());
                    for p in &t.partition_data {
                        let mut got = received.lock().unwrap();
                        got.push((0, client.clone(), t.name.0.to_string()));
                        tr.partition_responses.push(
                            km::produce_response::PartitionProduceResponse::default()
                                .with_index(p.index)
                                .with_base_offset(got.len() as i64),
                        );
                    }
                    resp.responses.push(tr);
                }
                if req.acks == 0 {
                    continue;
                }
                response(key, v, corr, &resp)
            }
            other => panic!("the test server does not answer {other:?}"),
        };
        if s.write_all(&out).await.is_err() {
            return;
        }
    }
}

// ---- the test client -------------------------------------------------------------------

pub struct Client {
    pub s: TcpStream,
}

impl Client {
    pub async fn send<M: Encodable>(&mut self, key: ApiKey, v: i16, corr: i32, id: &str, msg: &M) {
        let f = request(key, v, corr, id, msg);
        self.s.write_all(&f).await.unwrap();
    }

    /// The next response: its correlation id and body.
    pub async fn recv<M: Decodable>(&mut self, key: ApiKey, v: i16) -> (i32, M) {
        let mut body = read_frame(&mut self.s).await.expect("a response");
        let h = km::ResponseHeader::decode(&mut body, key.response_header_version(v)).unwrap();
        let m = M::decode(&mut body, v).unwrap();
        assert!(
            !body.has_remaining(),
            "{} bytes after the response",
            body.remaining()
        );
        (h.correlation_id, m)
    }

    /// Whether the proxy closed the connection (reads end of stream).
    pub async fn closed(&mut self) -> bool {
        let mut b = [0u8; 1];
        matches!(self.s.read(&mut b).await, Ok(0) | Err(_))
    }
}

pub fn request<M: Encodable>(key: ApiKey, v: i16, corr: i32, id: &str, msg: &M) -> Vec<u8> {
    frame(
        |b| {
            km::RequestHeader::default()
                .with_request_api_key(key as i16)
                .with_request_api_version(v)
                .with_correlation_id(corr)
                .with_client_id(Some(StrBytes::from_string(id.to_owned())))
                .encode(b, key.request_header_version(v))
                .unwrap()
        },
        |b| msg.encode(b, v).unwrap(),
    )
}

pub fn produce(acks: i16, topics: &[&str]) -> km::ProduceRequest {
    let mut req = km::ProduceRequest::default()
        .with_acks(acks)
        .with_timeout_ms(1000);
    for t in topics {
        req.topic_data.push(
            km::produce_request::TopicProduceData::default()
                .with_name(TopicName(StrBytes::from_string((*t).to_owned())))
                .with_partition_data(vec![
                    km::produce_request::PartitionProduceData::default()
                        .with_index(0)
                        .with_records(Some(Bytes::new())),
                ]),
        );
    }
    req
}

pub fn metadata(topics: &[&str]) -> km::MetadataRequest {
    km::MetadataRequest::default().with_topics(Some(
        topics
            .iter()
            .map(|t| {
                km::metadata_request::MetadataRequestTopic::default()
                    .with_name(Some(TopicName(StrBytes::from_string((*t).to_owned()))))
            })
            .collect(),
    ))
}

pub fn partition_codes(resp: &km::ProduceResponse) -> Vec<(String, i16)> {
    resp.responses
        .iter()
        .flat_map(|t| {
            t.partition_responses
                .iter()
                .map(move |p| (t.name.0.to_string(), p.error_code))
        })
        .collect()
}
