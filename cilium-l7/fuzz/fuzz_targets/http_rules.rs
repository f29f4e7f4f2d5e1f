//! Arbitrary bytes as an HTTP request stream: strict head parse, the framing guard fed whole
//! and in pieces, target normalisation, rule check and header edits. Panics (a finding) when
//! an invariant of `cilium_l7::http::fuzz_request_bytes` breaks. `cargo +nightly fuzz run
//! http_rules corpus/http_rules`; the stable test `tests/http_rules.rs` replays the corpus.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    cilium_l7::http::fuzz_request_bytes(data);
});
