//! The Kafka parser on hostile input, on stable (the cargo-fuzz target `kafka_request` needs
//! nightly): the seed corpus (`fuzz/corpus/kafka_request/`, the conformance vectors), every
//! truncation of every seed (with the original and with a rewritten size prefix), seeds with
//! single bytes changed, and random bytes. Nothing panics; whatever parses converts to a policy
//! request and builds a consistent refusal or says why not; a truncated frame is an error.

use std::path::Path;

use cilium_l7::kafka::{
    KafkaError, RefusalError, frame_len, parse_header, parse_request, response_correlation_id,
    response_error_code,
};

const MAX: usize = 1 << 20;

fn seeds() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/kafka_request");
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Runs every entry point on `data`; returns whether the frame parsed.
fn exercise(data: &[u8]) -> bool {
    let _ = frame_len(data, MAX);
    let _ = parse_header(data);
    let _ = response_correlation_id(data);
    for key in [0, 1, 10, 11, 12, 13, 14, 18] {
        for version in [0, 3, 7, 9, 13] {
            let _ = response_error_code(key, version, data);
        }
    }
    let Ok(req) = parse_request(data, MAX) else {
        return false;
    };
    let policy = req.to_policy_request();
    assert_eq!(policy.api_key, req.header.api_key);
    match req.refusal() {
        Ok(r) => {
            let size = i32::from_be_bytes(r.frame[..4].try_into().unwrap());
            assert_eq!(size as usize, r.frame.len() - 4);
            assert_eq!(
                response_correlation_id(&r.frame),
                Ok(req.header.correlation_id)
            );
        }
        Err(RefusalError::NoResponse) => assert!(!req.expects_response()),
        Err(_) => {}
    }
    true
}

#[test]
fn seeds_parse() {
    let seeds = seeds();
    assert_eq!(seeds.len(), 66);
    for (name, data) in &seeds {
        assert!(exercise(data), "{name}: {:?}", parse_request(data, MAX));
    }
}

#[test]
fn every_truncation_is_an_error() {
    for (name, data) in seeds() {
        for cut in 0..data.len() {
            let short = &data[..cut];
            assert!(!exercise(short), "{name} cut at {cut} parsed");
            // The same bytes with a size prefix that agrees: the body ends early.
            if cut >= 12 {
                let mut fixed = short.to_vec();
                fixed[..4].copy_from_slice(&((cut - 4) as i32).to_be_bytes());
                match parse_request(&fixed, MAX) {
                    // Some bodies end early yet still read as a shorter request of the same
                    // API (an array count that happens to be short); they must still be sane.
                    Ok(_) => {
                        exercise(&fixed);
                    }
                    Err(
                        KafkaError::Truncated { .. }
                        | KafkaError::BadLength { .. }
                        | KafkaError::UnexpectedNull { .. }
                        | KafkaError::BadUtf8 { .. }
                        | KafkaError::BadVarint { .. }
                        | KafkaError::TrailingBytes { .. },
                    ) => {}
                    Err(e) => panic!("{name} cut at {cut}: unexpected {e}"),
                }
            }
        }
    }
}

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[test]
fn changed_bytes_and_random_input_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let seeds = seeds();
    let mut parsed = 0;
    for (_, data) in &seeds {
        for _ in 0..300 {
            let mut m = data.clone();
            for _ in 0..(1 + rng.next() % 3) {
                let i = (rng.next() % m.len() as u64) as usize;
                m[i] = rng.next() as u8;
            }
            parsed += usize::from(exercise(&m));
        }
    }
    // Changing a byte inside a name or an offset keeps most frames valid.
    assert!(parsed > 1000, "{parsed}");
    for _ in 0..20_000 {
        let len = (rng.next() % 64) as usize;
        let mut data: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        // Half of them with a consistent size prefix and a known API key, to get past the
        // framing.
        if len >= 12 && rng.next().is_multiple_of(2) {
            data[..4].copy_from_slice(&((len - 4) as i32).to_be_bytes());
            data[4] = 0;
            data[5] = (rng.next() % 30) as u8;
            data[6] = 0;
            data[7] = (rng.next() % 14) as u8;
        }
        exercise(&data);
    }
}

#[test]
fn bounded_frames_and_named_fields() {
    // A size above the bound is refused from the prefix alone.
    assert_eq!(
        frame_len(&[0, 0x10, 0, 0], MAX),
        Err(KafkaError::FrameSize {
            size: 0x0010_0000,
            max: MAX - 4
        })
    );
    // Fetch v4 whose topic name claims 0x7fff bytes.
    let mut f = vec![0, 0, 0, 0, 0, 1, 0, 4, 0, 0, 0, 9, 0, 0];
    f.extend_from_slice(&[0; 17]); // replica, wait, min, max bytes, isolation
    f.extend_from_slice(&[0, 0, 0, 1, 0x7f, 0xff]);
    let n = (f.len() - 4) as i32;
    f[..4].copy_from_slice(&n.to_be_bytes());
    let err = parse_request(&f, MAX).unwrap_err();
    assert_eq!(
        err,
        KafkaError::BadLength {
            field: "topics[].topic",
            offset: 35,
            len: 0x7fff,
            remaining: 0
        }
    );
    assert_eq!(
        err.to_string(),
        "topics[].topic at byte 35: length 32767 does not fit the 0 bytes left"
    );
}
