//! Kafka request frames from the network: the parser must never panic or allocate beyond
//! what the input can describe, and whatever it accepts must convert to a policy request and
//! either build a refusal whose frame is consistent or say why not. The response readers
//! (correlation id, error code) get the same bytes as if they were a response.
//!
//! `cargo +nightly fuzz run kafka_request` (seeds: `corpus/kafka_request/`, one file per
//! vector of `shared/conformance/l7/kafka_request_vectors.json`).
#![no_main]

use cilium_l7::kafka::{
    frame_len, parse_header, parse_request, response_correlation_id, response_error_code,
};
use cilium_policy::l7::KafkaRule;

const MAX: usize = 1 << 20;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = frame_len(data, MAX);
    let _ = parse_header(data);
    if let Ok(req) = parse_request(data, MAX) {
        let policy = req.to_policy_request();
        let rule = KafkaRule {
            topic: Some("deathstar-plans".into()),
            ..KafkaRule::default()
        };
        let _ = rule.matches(&policy);
        if let Ok(refusal) = req.refusal() {
            let size = i32::from_be_bytes(refusal.frame[..4].try_into().unwrap());
            assert_eq!(size as usize, refusal.frame.len() - 4);
            assert_eq!(
                response_correlation_id(&refusal.frame),
                Ok(req.header.correlation_id)
            );
        }
    }
    if data.len() >= 4 {
        let key = i16::from_be_bytes([data[0], data[1]]) & 0x3f;
        let version = i16::from_be_bytes([data[2], data[3]]) & 0x1f;
        let _ = response_error_code(key, version, &data[4..]);
    }
    let _ = response_correlation_id(data);
});
