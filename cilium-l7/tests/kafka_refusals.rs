//! Refusals and the walker across versions: requests encoded by `kafka-protocol` at every
//! version it has (Produce with acks=1 3-13, Fetch 4-18, Metadata 0-13), with unknown tagged
//! fields in the flexible ones, parse to their topics and partitions and get a refusal that
//! decodes as the API's response with the authorization error on every partition; the
//! refusals `kafka.rs` encodes by hand (versions `kafka-protocol` 0.18 dropped) are checked
//! byte for byte.

use std::collections::BTreeMap;

use bytes::{Buf, Bytes, BytesMut};
use cilium_l7::kafka::{
    DEFAULT_MAX_FRAME_BYTES, RequestBody, TOPIC_AUTHORIZATION_FAILED, TopicPartitions, TopicRef,
    parse_request,
};
use kafka_protocol::messages::{self as km, ApiKey, TopicName};
use kafka_protocol::protocol::{Decodable, Encodable, Message, StrBytes};

fn frame<M: Encodable>(key: ApiKey, v: i16, corr: i32, msg: &M) -> Vec<u8> {
    let mut b = BytesMut::new();
    km::RequestHeader::default()
        .with_request_api_key(key as i16)
        .with_request_api_version(v)
        .with_correlation_id(corr)
        .with_client_id(Some(StrBytes::from_static_str("c")))
        .encode(&mut b, key.request_header_version(v))
        .unwrap();
    msg.encode(&mut b, v).unwrap();
    let mut out = (b.len() as i32).to_be_bytes().to_vec();
    out.extend_from_slice(&b);
    out
}

fn tagged() -> BTreeMap<i32, Bytes> {
    BTreeMap::from([(77, Bytes::from_static(b"xyz"))])
}

fn name(s: &str) -> TopicName {
    TopicName(StrBytes::from_string(s.to_owned()))
}

fn decode_response<M: Decodable>(key: ApiKey, v: i16, corr: i32, frame: &[u8]) -> M {
    let mut b = Bytes::copy_from_slice(&frame[4..]);
    let h = km::ResponseHeader::decode(&mut b, key.response_header_version(v)).unwrap();
    assert_eq!(h.correlation_id, corr);
    let m = M::decode(&mut b, v).unwrap();
    assert!(!b.has_remaining(), "v{v}: {} bytes left", b.remaining());
    m
}

fn expected_topics(by_id: bool) -> Vec<TopicPartitions> {
    let t = |n: &str, id: u8, parts: Vec<i32>| TopicPartitions {
        topic: if by_id {
            TopicRef::Id([id; 16])
        } else {
            TopicRef::Name(n.to_owned())
        },
        partitions: parts,
    };
    vec![t("alpha", 1, vec![0, 5]), t("beta", 2, vec![3])]
}

#[test]
fn produce_every_version() {
    for v in km::ProduceRequest::VERSIONS.min..=km::ProduceRequest::VERSIONS.max {
        let flexible = v >= 9;
        let by_id = v >= 13;
        let mut req = km::ProduceRequest::default()
            .with_acks(1)
            .with_timeout_ms(5);
        for (n, id, parts) in [("alpha", 1u8, vec![0, 5]), ("beta", 2, vec![3])] {
            let mut t = km::produce_request::TopicProduceData::default().with_name(name(n));
            if by_id {
                t.topic_id = format!("{:02x}", id).repeat(16).parse().unwrap();
            }
            for p in parts {
                let mut pd = km::produce_request::PartitionProduceData::default()
                    .with_index(p)
                    .with_records(Some(Bytes::from_static(b"records")));
                if flexible {
                    pd.unknown_tagged_fields = tagged();
                }
                t.partition_data.push(pd);
            }
            req.topic_data.push(t);
        }
        if flexible {
            req.unknown_tagged_fields = tagged();
        }
        let f = frame(ApiKey::Produce, v, 40 + i32::from(v), &req);
        let parsed = parse_request(&f, DEFAULT_MAX_FRAME_BYTES)
            .unwrap_or_else(|e| panic!("produce v{v}: {e}"));
        let RequestBody::Produce { acks, topics, .. } = &parsed.body else {
            panic!("v{v}: {:?}", parsed.body);
        };
        assert_eq!((*acks, topics), (1, &expected_topics(by_id)), "v{v}");
        let refusal = parsed.refusal().unwrap();
        let resp: km::ProduceResponse =
            decode_response(ApiKey::Produce, v, 40 + i32::from(v), &refusal.frame);
        let mut got = Vec::new();
        for t in &resp.responses {
            let topic = if by_id {
                t.topic_id.as_bytes()[0].to_string()
            } else {
                t.name.0.to_string()
            };
            for p in &t.partition_responses {
                got.push((topic.clone(), p.index, p.error_code, p.base_offset));
            }
        }
        let want_names = if by_id { ["1", "2"] } else { ["alpha", "beta"] };
        assert_eq!(
            got,
            vec![
                (want_names[0].to_owned(), 0, TOPIC_AUTHORIZATION_FAILED, -1),
                (want_names[0].to_owned(), 5, TOPIC_AUTHORIZATION_FAILED, -1),
                (want_names[1].to_owned(), 3, TOPIC_AUTHORIZATION_FAILED, -1),
            ],
            "v{v}"
        );
    }
}

#[test]
fn fetch_every_version() {
    for v in km::FetchRequest::VERSIONS.min..=km::FetchRequest::VERSIONS.max {
        let flexible = v >= 12;
        let by_id = v >= 13;
        let mut req = km::FetchRequest::default().with_max_wait_ms(10);
        for (n, id, parts) in [("alpha", 1u8, vec![0, 5]), ("beta", 2, vec![3])] {
            let mut t = km::fetch_request::FetchTopic::default();
            if by_id {
                t.topic_id = format!("{:02x}", id).repeat(16).parse().unwrap();
            } else {
                t.topic = name(n);
            }
            for p in parts {
                t.partitions
                    .push(km::fetch_request::FetchPartition::default().with_partition(p));
            }
            req.topics.push(t);
        }
        if v >= 7 {
            let mut gone = km::fetch_request::ForgottenTopic::default().with_partitions(vec![9]);
            if by_id {
                gone.topic_id = "09".repeat(16).parse().unwrap();
            } else {
                gone.topic = name("gone");
            }
            req.forgotten_topics_data.push(gone);
        }
        if v >= 11 {
            req.rack_id = StrBytes::from_static_str("rack-1");
        }
        if flexible {
            req.unknown_tagged_fields = tagged();
            req.cluster_id = Some(StrBytes::from_static_str("cluster"));
        }
        let f = frame(ApiKey::Fetch, v, 7, &req);
        let parsed = parse_request(&f, DEFAULT_MAX_FRAME_BYTES)
            .unwrap_or_else(|e| panic!("fetch v{v}: {e}"));
        let RequestBody::Fetch { topics, forgotten } = &parsed.body else {
            panic!("v{v}");
        };
        assert_eq!(topics, &expected_topics(by_id), "v{v}");
        assert_eq!(forgotten.len(), usize::from(v >= 7), "v{v}");
        // Forgotten topics are not policy topics.
        assert!(!parsed.topic_names().contains(&"gone".to_owned()));
        let refusal = parsed.refusal().unwrap();
        let resp: km::FetchResponse = decode_response(ApiKey::Fetch, v, 7, &refusal.frame);
        let codes: Vec<(i32, i16)> = resp
            .responses
            .iter()
            .flat_map(|t| {
                t.partitions
                    .iter()
                    .map(|p| (p.partition_index, p.error_code))
            })
            .collect();
        let e = TOPIC_AUTHORIZATION_FAILED;
        assert_eq!(codes, vec![(0, e), (5, e), (3, e)], "v{v}");
        assert_eq!(resp.error_code, 0, "v{v}");
    }
}

#[test]
fn metadata_every_version() {
    for v in km::MetadataRequest::VERSIONS.min..=km::MetadataRequest::VERSIONS.max {
        let topics = ["alpha", "beta"]
            .iter()
            .map(|n| km::metadata_request::MetadataRequestTopic::default().with_name(Some(name(n))))
            .collect();
        let mut req = km::MetadataRequest::default().with_topics(Some(topics));
        if v >= 9 {
            req.unknown_tagged_fields = tagged();
        }
        let parsed = parse_request(
            &frame(ApiKey::Metadata, v, 3, &req),
            DEFAULT_MAX_FRAME_BYTES,
        )
        .unwrap_or_else(|e| panic!("metadata v{v}: {e}"));
        assert_eq!(parsed.topic_names(), vec!["alpha", "beta"], "v{v}");
        let refusal = parsed.refusal().unwrap();
        let resp: km::MetadataResponse = decode_response(ApiKey::Metadata, v, 3, &refusal.frame);
        let got: Vec<(String, i16)> = resp
            .topics
            .iter()
            .map(|t| (t.name.as_ref().unwrap().0.to_string(), t.error_code))
            .collect();
        let e = TOPIC_AUTHORIZATION_FAILED;
        assert_eq!(got, vec![("alpha".into(), e), ("beta".into(), e)], "v{v}");
        // All topics (null from v1, empty at v0): no topic names, an empty answer.
        let all = if v == 0 {
            km::MetadataRequest::default().with_topics(Some(Vec::new()))
        } else {
            km::MetadataRequest::default().with_topics(None)
        };
        let parsed = parse_request(
            &frame(ApiKey::Metadata, v, 4, &all),
            DEFAULT_MAX_FRAME_BYTES,
        )
        .unwrap();
        assert_eq!(parsed.body, RequestBody::Metadata { topics: None }, "v{v}");
        let resp: km::MetadataResponse =
            decode_response(ApiKey::Metadata, v, 4, &parsed.refusal().unwrap().frame);
        assert!(resp.topics.is_empty() && resp.brokers.is_empty(), "v{v}");
    }
}

/// A frame: the hex bytes after the size prefix, with the prefix computed.
fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    let body: Vec<u8> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect();
    let mut out = (body.len() as i32).to_be_bytes().to_vec();
    out.extend_from_slice(&body);
    out
}

#[test]
fn hand_encoded_refusals_byte_for_byte() {
    // Produce v2, acks=1, topic "t" partitions 0 and 1.
    let req = unhex(
        "0000 0002 00000009 0001 63 0001 00000064 00000001 0001 74 00000002
         00000000 ffffffff 00000001 ffffffff",
    );
    let parsed = parse_request(&req, DEFAULT_MAX_FRAME_BYTES).unwrap();
    assert_eq!(parsed.topic_names(), vec!["t"]);
    let want = unhex(
        "00000009 00000001 0001 74 00000002
         00000000 001d ffffffffffffffff ffffffffffffffff
         00000001 001d ffffffffffffffff ffffffffffffffff
         00000000",
    );
    assert_eq!(parsed.refusal().unwrap().frame, want);

    // Fetch v0: replica -1, wait 100, min 1, topic "t" partition 4.
    let req = unhex(
        "0001 0000 0000000a 0001 63 ffffffff 00000064 00000001 00000001 0001 74
         00000001 00000004 0000000000000000 00100000",
    );
    let parsed = parse_request(&req, DEFAULT_MAX_FRAME_BYTES).unwrap();
    let want = unhex("0000000a 00000001 0001 74 00000001 00000004 001d ffffffffffffffff 00000000");
    assert_eq!(parsed.refusal().unwrap().frame, want);

    // OffsetFetch v0: group "g", topic "t" partition 2.
    let req = unhex("0009 0000 0000000b 0001 63 0001 67 00000001 0001 74 00000001 00000002");
    let parsed = parse_request(&req, DEFAULT_MAX_FRAME_BYTES).unwrap();
    let want = unhex("0000000b 00000001 0001 74 00000001 00000002 ffffffffffffffff 0000 001d");
    assert_eq!(parsed.refusal().unwrap().frame, want);
}
