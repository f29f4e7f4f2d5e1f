//! `cargo +nightly fuzz run event_decoder` (from `cilium-hubble/`): any bytes handed to the
//! event decoder give a flow or an error, never a panic, and a flow encodes to protobuf and
//! JSON and back unchanged.

#![no_main]

use cilium_hubble::parser::{NoLookups, Parser};
use cilium_hubble::proto::flow::Flow;
use libfuzzer_sys::fuzz_target;
use prost::Message as _;

fuzz_target!(|data: &[u8]| {
    let parser = Parser::new("fuzz", 0, 1);
    if let Ok(flow) = parser.parse_bytes(data, &NoLookups) {
        let wire = flow.encode_to_vec();
        assert_eq!(Flow::decode(wire.as_slice()).unwrap(), flow);
        let json = serde_json::to_string(&flow).unwrap();
        assert_eq!(serde_json::from_str::<Flow>(&json).unwrap(), flow);
    }
});
