//! The event decoder on hostile input, on stable Rust: random bytes, truncations and
//! single-byte mutations of valid records must give a flow or an error, never a panic, and
//! every flow must survive a protobuf and a JSON round trip. (`fuzz/` has the same target
//! for cargo-fuzz, which needs nightly.)

use cilium_hubble::parser::{NoLookups, Parser};
use cilium_hubble::proto::flow::Flow;
use prost::Message;

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// One record of each type, valid, built by hand in the ABI's byte layout.
fn seeds() -> Vec<Vec<u8>> {
    [(1u8, 72usize), (4, 96), (5, 72), (7, 72)]
        .iter()
        .map(|&(ty, len)| {
            let mut v = vec![0u8; len];
            v[0] = ty;
            v[1] = 133;
            v[16] = 10; // saddr 10.0.0.1
            v[19] = 1;
            v[32] = 10; // daddr 10.0.0.2
            v[35] = 2;
            v[48..50].copy_from_slice(&8080u16.to_be_bytes()); // sport
            v[50..52].copy_from_slice(&80u16.to_be_bytes()); // dport
            v[52] = 6; // TCP
            v[53] = 1; // IPv4
            v
        })
        .collect()
}

fn check(parser: &Parser, bytes: &[u8]) -> bool {
    match parser.parse_bytes(bytes, &NoLookups) {
        Ok(flow) => {
            let wire = flow.encode_to_vec();
            assert_eq!(
                Flow::decode(wire.as_slice()).expect("protobuf round trip"),
                flow
            );
            let json = serde_json::to_string(&flow).expect("json");
            let back: Flow = serde_json::from_str(&json).expect("json round trip");
            assert_eq!(back, flow);
            true
        }
        Err(e) => {
            assert!(!e.to_string().is_empty());
            false
        }
    }
}

#[test]
fn decoder_never_panics_and_flows_round_trip() {
    let parser = Parser::new("fuzz", 0, 1);
    let mut rng = 0x1234_5678_9ABC_DEF0u64;
    let (mut ok, mut err) = (0u32, 0u32);
    for seed in seeds() {
        assert!(check(&parser, &seed), "a valid seed record decodes");
        for cut in 0..seed.len() {
            if check(&parser, &seed[..cut]) {
                ok += 1;
            } else {
                err += 1;
            }
        }
        for _ in 0..20_000 {
            let mut m = seed.clone();
            for _ in 0..1 + xorshift(&mut rng) % 4 {
                let i = (xorshift(&mut rng) % m.len() as u64) as usize;
                m[i] = xorshift(&mut rng) as u8;
            }
            if check(&parser, &m) {
                ok += 1;
            } else {
                err += 1;
            }
        }
    }
    for _ in 0..20_000 {
        let len = (xorshift(&mut rng) % 200) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| xorshift(&mut rng) as u8).collect();
        if check(&parser, &bytes) {
            ok += 1;
        } else {
            err += 1;
        }
    }
    // Both outcomes must have happened, or the inputs were not hostile enough.
    assert!(ok > 1000 && err > 1000, "ok {ok}, errors {err}");
}
