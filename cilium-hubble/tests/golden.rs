//! Golden decoding: event records recorded from the real datapath (the privileged `e2e`
//! test writes them with `CILIUM_RECORD_EVENTS=1`: two pods, an allowed and a denied TCP
//! connection) decoded into flows and compared, as `-o jsonpb`-style JSON, with the committed
//! expected output. `UPDATE_GOLDEN=1` rewrites the expected file.

use std::collections::HashMap;
use std::net::IpAddr;

use cilium_hubble::parser::{EndpointInfo, Lookups, Parser};
use cilium_hubble::printer::{Format, Printer, PrinterOptions};
use cilium_hubble::proto::observer::{GetFlowsResponse, get_flows_response};

const RECORDED: &str = "tests/data/events/recorded.hex";
const EXPECTED: &str = "tests/data/events/recorded.expected.jsonl";
const EXPECTED_COMPACT: &str = "tests/data/events/recorded.expected.compact";

/// The pods of the e2e topology (`10.200.0.1` is pod a, `.2` pod b).
struct Pods(HashMap<IpAddr, EndpointInfo>);

impl Lookups for Pods {
    fn endpoint_by_id(&self, id: u32) -> Option<EndpointInfo> {
        self.0.values().find(|e| e.id == id).cloned()
    }
    fn endpoint_by_ip(&self, ip: IpAddr) -> Option<EndpointInfo> {
        self.0.get(&ip).cloned()
    }
    fn interface_name(&self, ifindex: u32) -> Option<String> {
        Some(format!("lxc{ifindex}"))
    }
}

fn pods() -> Pods {
    let pod = |name: &str, id: u32, identity: u32| EndpointInfo {
        id,
        identity,
        namespace: "default".into(),
        pod_name: format!("pod-{name}"),
        labels: vec![format!("k8s:app={name}")],
        workloads: vec![],
    };
    Pods(
        [
            ("10.200.0.1".parse().unwrap(), pod("a", 1, 1000)),
            ("10.200.0.2".parse().unwrap(), pod("b", 2, 2000)),
        ]
        .into_iter()
        .collect(),
    )
}

fn unhex(line: &str) -> Vec<u8> {
    (0..line.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&line[i..i + 2], 16).expect("hex"))
        .collect()
}

#[test]
fn recorded_events_decode_to_the_expected_flows() {
    // Boot at 2023-11-14T22:13:20Z, so times read like real ones and never change.
    let parser = Parser::new("node-golden", 1_700_000_000_000_000_000, 1);
    let lookups = pods();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let recorded = std::fs::read_to_string(root.join(RECORDED)).expect("read the recording");
    let lines: Vec<&str> = recorded.lines().filter(|l| !l.is_empty()).collect();
    assert!(
        lines.len() >= 6,
        "the recording holds {} events",
        lines.len()
    );
    let mut out = String::new();
    let mut printer = Printer::new(Format::Compact, PrinterOptions::default());
    let mut compact = Vec::new();
    for line in &lines {
        let flow = parser
            .parse_bytes(&unhex(line), &lookups)
            .expect("a recorded event decodes");
        out.push_str(&serde_json::to_string(&flow).expect("json"));
        out.push('\n');
        let resp = GetFlowsResponse {
            node_name: flow.node_name.clone(),
            time: flow.time,
            response_types: Some(get_flows_response::ResponseTypes::Flow(flow)),
        };
        printer.write_response(&mut compact, &resp).expect("print");
    }
    printer.finish(&mut compact).expect("print");
    let compact = String::from_utf8(compact).expect("utf-8");
    let compact_path = root.join(EXPECTED_COMPACT);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&compact_path, &compact).expect("write expected compact");
    }
    assert_eq!(
        compact,
        std::fs::read_to_string(&compact_path).expect("read expected compact"),
        "`observe` compact output of the recorded flows"
    );
    let path = root.join(EXPECTED);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &out).expect("write expected");
    }
    let expected =
        std::fs::read_to_string(&path).expect("read expected (UPDATE_GOLDEN=1 writes it)");
    for (i, (got, want)) in out.lines().zip(expected.lines()).enumerate() {
        assert_eq!(got, want, "event {i} ({})", lines[i]);
    }
    assert_eq!(out.lines().count(), expected.lines().count());
    // The recording has what the e2e scenario produces: a denied and an allowed connection.
    assert!(expected.contains(r#""drop_reason_desc":"POLICY_DENIED""#));
    assert!(expected.contains(r#""verdict":"FORWARDED""#));
    assert!(expected.contains(r#""pod_name":"pod-a""#));
}
