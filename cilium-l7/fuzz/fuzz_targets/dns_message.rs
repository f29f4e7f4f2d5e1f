//! `cargo +nightly fuzz run dns_message` (from `cilium-l7/`; seeds in
//! `fuzz/corpus/dns_message/`, the conformance vectors and a few hand-made messages): the DNS
//! proxy's query and answer handling on any bytes gives a message or an error, never a panic,
//! and what it answers is itself a valid answer. `tests/dns_fuzz.rs` runs the same checks on
//! stable Rust over the seeds, their truncations and mutations, and random bytes.

#![no_main]

use cilium_l7::dns::RejectCode;
use cilium_l7::dns_proxy::{
    answer_records, dns_record, error_response, parse_answer, parse_query, reject_response,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| check(data));

fn check(data: &[u8]) {
    // As a query: parsed, or refused with an answer that carries its id.
    match parse_query(data) {
        Ok(q) => {
            for code in [RejectCode::Refused, RejectCode::NameError] {
                let r = reject_response(&q, code);
                let a = parse_answer(&q, &r).expect("the proxy's own answer answers the query");
                assert_eq!((a.id, a.rcode), (q.id(), code.rcode()));
                assert!(a.ips.is_empty());
            }
            assert_eq!(q.canonical_name(), q.canonical_name().to_ascii_lowercase());
            assert!(q.canonical_name().ends_with('.'));
            let _ = dns_record(Some(&q), None, 0);
        }
        Err(e) => {
            if let Some(rcode) = e.query_rcode() {
                let r = error_response(data, rcode).expect("an id to answer");
                assert_eq!(r.len(), 12);
                assert_eq!((r[0], r[1], r[3] & 0x0F), (data[0], data[1], rcode));
                assert!(r[2] & 0x80 != 0);
            }
            assert!(!e.to_string().is_empty());
        }
    }
    // As an answer to the question it carries (the QR bit cleared makes it the query).
    if data.len() >= 3 {
        let mut as_query = data.to_vec();
        as_query[2] &= 0x07;
        if let Ok(q) = parse_query(&as_query) {
            let answer = parse_answer(&q, data);
            // The property holds when the bytes are a response of opcode QUERY that parses
            // as it is (compression pointers into the header read other flag bytes in the
            // query made from it).
            if data[2] & 0xF8 == 0x80
                && !name_points_into_header(data)
                && answer_records(data).is_ok()
            {
                let a = answer.expect("a response with the query's own question");
                assert_eq!(a.id, q.id());
                if a.rcode != 0 {
                    assert!(a.ips.is_empty());
                }
                assert!(a.ips.iter().all(|(_, ttl)| *ttl >= a.ttl));
                let mut ips: Vec<_> = a.ips.iter().map(|(ip, _)| *ip).collect();
                ips.sort();
                ips.dedup();
                assert_eq!(ips.len(), a.ips.len(), "each address once");
                let _ = dns_record(Some(&q), Some(&a), a.rcode);
            }
        }
    }
    let _ = answer_records(data);
}

/// Whether the question's name follows a compression pointer into the header (whose flag
/// bytes differ between the query and the answer made from the same bytes).
fn name_points_into_header(data: &[u8]) -> bool {
    let mut at = 12;
    for _ in 0..128 {
        match data.get(at) {
            Some(&len) if len & 0xC0 == 0xC0 => {
                let Some(&low) = data.get(at + 1) else {
                    return false;
                };
                let target = (usize::from(len & 0x3F) << 8) | usize::from(low);
                if target < 12 {
                    return true;
                }
                at = target;
            }
            Some(&0) | None => return false,
            Some(&len) => at += 1 + usize::from(len),
        }
    }
    false
}
