//! Kafka request vectors (`../shared/conformance/l7/kafka_request_vectors.json`: kafka-python's
//! schema-driven encoder plus two frames captured from kcat/librdkafka): every vector decodes to
//! its header fields and topics; where `kafka-protocol` decodes the version (exactly the
//! vectors the data marks `ok` in its own cross-check) both decoders agree; every refusal that
//! can be built decodes with `kafka-protocol` as the API's response with the same correlation
//! id and the authorization error on every topic and partition.

use std::collections::BTreeSet;
use std::path::Path;

use bytes::{Buf, Bytes};
use cilium_l7::kafka::{
    CLUSTER_AUTHORIZATION_FAILED, DEFAULT_MAX_FRAME_BYTES, GROUP_AUTHORIZATION_FAILED,
    KafkaRequestFrame, RefusalError, RequestBody, TOPIC_AUTHORIZATION_FAILED, parse_request,
    request_header_version, response_header_version,
};
use kafka_protocol::messages as km;
use kafka_protocol::protocol::{Decodable, Message};
use serde_json::Value;

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/conformance/l7/kafka_request_vectors.json"
);

fn vectors() -> Vec<Value> {
    let path = Path::new(VECTORS);
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (the conformance data sits beside the repository)",
            path.display()
        )
    });
    let v: Value = serde_json::from_str(&text).unwrap();
    v["vectors"].as_array().unwrap().clone()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn covered<M: Message>(v: i16) -> bool {
    (M::VERSIONS.min..=M::VERSIONS.max).contains(&v)
}

fn decode<M: Decodable>(body: &mut Bytes, v: i16) -> anyhow::Result<M> {
    let m = M::decode(body, v)?;
    anyhow::ensure!(!body.has_remaining(), "{} bytes left", body.remaining());
    Ok(m)
}

fn names<'a>(it: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    it.into_iter()
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The topic names `kafka-protocol` decodes from a request body; `None` when it does not
/// decode that API at that version.
fn kafka_protocol_topics(
    key: i16,
    v: i16,
    body: &mut Bytes,
) -> Option<anyhow::Result<Vec<String>>> {
    macro_rules! try_decode {
        ($t:ty, |$m:ident| $names:expr) => {{
            if !covered::<$t>(v) {
                return None;
            }
            Some(decode::<$t>(body, v).map(|$m| $names))
        }};
    }
    match key {
        0 => try_decode!(km::ProduceRequest, |m| names(
            m.topic_data.iter().map(|t| &*t.name.0)
        )),
        1 => try_decode!(km::FetchRequest, |m| names(
            m.topics.iter().map(|t| &*t.topic.0)
        )),
        2 => try_decode!(km::ListOffsetsRequest, |m| names(
            m.topics.iter().map(|t| &*t.name.0)
        )),
        3 => try_decode!(km::MetadataRequest, |m| names(
            m.topics
                .iter()
                .flatten()
                .filter_map(|t| t.name.as_ref().map(|n| &*n.0))
        )),
        8 => try_decode!(km::OffsetCommitRequest, |m| names(
            m.topics.iter().map(|t| &*t.name.0)
        )),
        9 => try_decode!(km::OffsetFetchRequest, |m| {
            let mut out = names(m.topics.iter().flatten().map(|t| &*t.name.0));
            for g in &m.groups {
                out.extend(names(g.topics.iter().flatten().map(|t| &*t.name.0)));
            }
            out
        }),
        10 => try_decode!(km::FindCoordinatorRequest, |_m| Vec::new()),
        11 => try_decode!(km::JoinGroupRequest, |_m| Vec::new()),
        12 => try_decode!(km::HeartbeatRequest, |_m| Vec::new()),
        13 => try_decode!(km::LeaveGroupRequest, |_m| Vec::new()),
        14 => try_decode!(km::SyncGroupRequest, |_m| Vec::new()),
        18 => try_decode!(km::ApiVersionsRequest, |_m| Vec::new()),
        19 => try_decode!(km::CreateTopicsRequest, |m| names(
            m.topics.iter().map(|t| &*t.name.0)
        )),
        20 => try_decode!(km::DeleteTopicsRequest, |m| {
            let mut out = names(m.topic_names.iter().map(|t| &*t.0));
            out.extend(names(
                m.topics
                    .iter()
                    .filter_map(|t| t.name.as_ref().map(|n| &*n.0)),
            ));
            out
        }),
        _ => None,
    }
}

#[test]
fn every_vector_decodes_to_its_fields() {
    let vectors = vectors();
    assert_eq!(vectors.len(), 66);
    let mut failures = Vec::new();
    for (i, v) in vectors.iter().enumerate() {
        let name = format!(
            "#{i} {} v{}",
            v["api_name"].as_str().unwrap(),
            v["api_version"]
        );
        let frame = unhex(v["hex"].as_str().unwrap());
        assert_eq!(frame.len() as u64, v["len"].as_u64().unwrap(), "{name}");
        let req = match parse_request(&frame, DEFAULT_MAX_FRAME_BYTES) {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        let h = &req.header;
        let want_topics: Vec<String> = v["topics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_owned())
            .collect();
        let checks = [
            (
                i64::from(h.api_key),
                v["api_key"].as_i64().unwrap(),
                "api_key",
            ),
            (
                i64::from(h.api_version),
                v["api_version"].as_i64().unwrap(),
                "api_version",
            ),
            (
                i64::from(h.correlation_id),
                v["correlation_id"].as_i64().unwrap(),
                "correlation_id",
            ),
            (
                i64::from(h.header_version == Some(2)),
                i64::from(v["flexible"].as_bool().unwrap()),
                "flexible",
            ),
        ];
        for (got, want, field) in checks {
            if got != want {
                failures.push(format!("{name}: {field} {got}, want {want}"));
            }
        }
        if h.client_id.as_deref() != v["client_id"].as_str() {
            failures.push(format!("{name}: client_id {:?}", h.client_id));
        }
        if req.topic_names() != want_topics {
            failures.push(format!(
                "{name}: topics {:?}, want {want_topics:?}",
                req.topic_names()
            ));
        }
        if req.body == RequestBody::NotParsed {
            failures.push(format!("{name}: body not read"));
        }
        let policy = req.to_policy_request();
        assert_eq!(policy.topics, want_topics, "{name}");
        assert_eq!(policy.client_id, "empire-hq", "{name}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn kafka_protocol_agrees_where_it_decodes_the_version() {
    let mut compared = 0;
    let mut failures = Vec::new();
    for (i, v) in vectors().iter().enumerate() {
        let name = format!(
            "#{i} {} v{}",
            v["api_name"].as_str().unwrap(),
            v["api_version"]
        );
        let frame = unhex(v["hex"].as_str().unwrap());
        let ours = parse_request(&frame, DEFAULT_MAX_FRAME_BYTES).unwrap();
        let (key, ver) = (ours.header.api_key, ours.header.api_version);
        let mut bytes = Bytes::from(frame[4..].to_vec());
        let hv = request_header_version(key, ver).unwrap();
        let header = km::RequestHeader::decode(&mut bytes, hv).unwrap();
        assert_eq!(header.correlation_id, ours.header.correlation_id, "{name}");
        assert_eq!(
            header.client_id.as_deref(),
            ours.header.client_id.as_deref(),
            "{name}"
        );
        // The data's own cross-check used kafka-protocol 0.18.0 as well: the versions it could
        // not decode are exactly those the crate's schemas lack.
        let data_ok = v["cross_check_kafka_protocol_0_18_0"] == "ok";
        match kafka_protocol_topics(key, ver, &mut bytes) {
            None => {
                if data_ok {
                    failures.push(format!("{name}: kafka-protocol should cover this version"));
                }
            }
            Some(Err(e)) => failures.push(format!("{name}: kafka-protocol: {e}")),
            Some(Ok(topics)) => {
                compared += 1;
                if !data_ok {
                    failures.push(format!("{name}: data says kafka-protocol cannot decode it"));
                }
                if topics != ours.topic_names() {
                    failures.push(format!("{name}: {topics:?} vs {:?}", ours.topic_names()));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(compared >= 50, "only {compared} vectors compared");
}

/// Decodes a refusal with kafka-protocol and returns every error code it carries.
fn refusal_codes(req: &KafkaRequestFrame, frame: &[u8]) -> Option<anyhow::Result<Vec<i16>>> {
    let (key, v) = (req.header.api_key, req.header.api_version);
    let size = i32::from_be_bytes(frame[..4].try_into().unwrap());
    assert_eq!(size as usize, frame.len() - 4, "size prefix");
    let mut bytes = Bytes::from(frame[4..].to_vec());
    let hv = response_header_version(key, v).unwrap();
    let header = km::ResponseHeader::decode(&mut bytes, hv).unwrap();
    assert_eq!(header.correlation_id, req.header.correlation_id);
    macro_rules! codes {
        ($t:ty, |$m:ident| $codes:expr) => {{
            if !covered::<$t>(v) {
                return None;
            }
            Some(decode::<$t>(&mut bytes, v).map(|$m| $codes))
        }};
    }
    match key {
        0 => codes!(km::ProduceResponse, |m| m
            .responses
            .iter()
            .flat_map(|t| t.partition_responses.iter().map(|p| p.error_code))
            .collect()),
        1 => codes!(km::FetchResponse, |m| m
            .responses
            .iter()
            .flat_map(|t| t.partitions.iter().map(|p| p.error_code))
            .collect()),
        2 => codes!(km::ListOffsetsResponse, |m| m
            .topics
            .iter()
            .flat_map(|t| t.partitions.iter().map(|p| p.error_code))
            .collect()),
        3 => codes!(km::MetadataResponse, |m| m
            .topics
            .iter()
            .map(|t| t.error_code)
            .collect()),
        8 => codes!(km::OffsetCommitResponse, |m| m
            .topics
            .iter()
            .flat_map(|t| t.partitions.iter().map(|p| p.error_code))
            .collect()),
        9 => codes!(km::OffsetFetchResponse, |m| {
            let mut c: Vec<i16> = m
                .topics
                .iter()
                .flat_map(|t| t.partitions.iter().map(|p| p.error_code))
                .collect();
            for g in &m.groups {
                c.extend(
                    g.topics
                        .iter()
                        .flat_map(|t| t.partitions.iter().map(|p| p.error_code)),
                );
            }
            c
        }),
        10 => codes!(km::FindCoordinatorResponse, |m| if v <= 3 {
            vec![m.error_code]
        } else {
            m.coordinators.iter().map(|c| c.error_code).collect()
        }),
        11 => codes!(km::JoinGroupResponse, |m| vec![m.error_code]),
        12 => codes!(km::HeartbeatResponse, |m| vec![m.error_code]),
        13 => codes!(km::LeaveGroupResponse, |m| vec![m.error_code]),
        14 => codes!(km::SyncGroupResponse, |m| vec![m.error_code]),
        18 => codes!(km::ApiVersionsResponse, |m| vec![m.error_code]),
        19 => codes!(km::CreateTopicsResponse, |m| m
            .topics
            .iter()
            .map(|t| t.error_code)
            .collect()),
        20 => codes!(km::DeleteTopicsResponse, |m| m
            .responses
            .iter()
            .map(|t| t.error_code)
            .collect()),
        _ => None,
    }
}

#[test]
fn refusals_are_the_apis_responses_with_the_authorization_error() {
    let mut built = 0;
    let mut hand_made = BTreeSet::new();
    let mut not_built = BTreeSet::new();
    let mut failures = Vec::new();
    for (i, v) in vectors().iter().enumerate() {
        let name = format!(
            "#{i} {} v{}",
            v["api_name"].as_str().unwrap(),
            v["api_version"]
        );
        let frame = unhex(v["hex"].as_str().unwrap());
        let req = parse_request(&frame, DEFAULT_MAX_FRAME_BYTES).unwrap();
        let (key, ver) = (req.header.api_key, req.header.api_version);
        let refusal = match req.refusal() {
            Ok(r) => r,
            Err(RefusalError::NoResponse) => {
                assert_eq!(key, 0, "{name}");
                continue;
            }
            Err(e) => {
                not_built.insert(format!("{name}: {e}"));
                continue;
            }
        };
        built += 1;
        let want = match key {
            10..=14 => GROUP_AUTHORIZATION_FAILED,
            18 => CLUSTER_AUTHORIZATION_FAILED,
            _ => TOPIC_AUTHORIZATION_FAILED,
        };
        assert_eq!(refusal.error_code, want, "{name}");
        match refusal_codes(&req, &refusal.frame) {
            None => {
                hand_made.insert((key, ver));
            }
            Some(Err(e)) => failures.push(format!("{name}: refusal does not decode: {e}")),
            Some(Ok(codes)) => {
                // One code per partition (topic-scoped), or the one group/cluster code.
                let partitions: usize = match &req.body {
                    RequestBody::Produce { topics, .. }
                    | RequestBody::Fetch { topics, .. }
                    | RequestBody::ListOffsets { topics }
                    | RequestBody::OffsetCommit { topics, .. } => {
                        topics.iter().map(|t| t.partitions.len()).sum()
                    }
                    RequestBody::OffsetFetch { groups } => groups
                        .iter()
                        .flat_map(|g| g.topics.iter().flatten())
                        .map(|t| t.partitions.len())
                        .sum(),
                    _ => codes.len(),
                };
                if codes.len() != partitions || codes.iter().any(|c| *c != want) {
                    failures.push(format!(
                        "{name}: codes {codes:?}, want {partitions} x {want}"
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Every vector gets a refusal but ListOffsets 11, which no schema here describes.
    assert_eq!(
        not_built
            .iter()
            .map(|s| s.split(':').next().unwrap().to_owned())
            .collect::<Vec<_>>(),
        vec!["#13 ListOffsetsRequest v11".to_owned()],
        "{not_built:?}"
    );
    // The versions kafka-protocol 0.18 dropped are encoded by hand (checked byte for byte in
    // kafka_refusals.rs).
    assert_eq!(
        hand_made.into_iter().collect::<Vec<_>>(),
        vec![(1, 0), (2, 0), (8, 0), (9, 0), (19, 0), (20, 0)]
    );
    assert!(built >= 60);
}
