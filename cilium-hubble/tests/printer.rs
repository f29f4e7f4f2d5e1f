//! Golden tests of the printer: flows built by hand, the exact text `hubble observe` prints for
//! them. The first cases are the flows of Hubble's own `hubble/pkg/printer/printer_test.go`
//! (with the TCP flags in the flow, since this crate derives the summary from them).

use cilium_hubble::printer::{Format, Printer, PrinterOptions, flow_type, summary};
use cilium_hubble::proto::flow::{
    self, AuthType, CiliumEventType, Endpoint, Flow, FlowType, Ip, IpVersion, L7FlowType, Layer4,
    Layer7, LostEvent, LostEventSource, Service, TcpFlags, TrafficDirection, Verdict, layer4,
    layer7,
};
use cilium_hubble::proto::observer::{GetFlowsResponse, get_flows_response::ResponseTypes};
use cilium_hubble::proto::relay::{NodeState, NodeStatusEvent};
use pbjson_types::{BoolValue, Int32Value, Timestamp};

fn ts() -> Option<Timestamp> {
    Some(Timestamp {
        seconds: 1234,
        nanos: 567_800_000,
    })
}

fn tcp(source_port: u32, destination_port: u32, flags: TcpFlags) -> Option<Layer4> {
    Some(Layer4 {
        protocol: Some(layer4::Protocol::Tcp(flow::Tcp {
            source_port,
            destination_port,
            flags: Some(flags),
        })),
    })
}

fn udp(source_port: u32, destination_port: u32) -> Option<Layer4> {
    Some(Layer4 {
        protocol: Some(layer4::Protocol::Udp(flow::Udp {
            source_port,
            destination_port,
        })),
    })
}

fn ip(source: &str, destination: &str) -> Option<Ip> {
    Some(Ip {
        source: source.into(),
        destination: destination.into(),
        ..Default::default()
    })
}

fn identity(identity: u32) -> Option<Endpoint> {
    Some(Endpoint {
        identity,
        ..Default::default()
    })
}

fn pod(identity: u32, namespace: &str, pod_name: &str) -> Option<Endpoint> {
    Some(Endpoint {
        identity,
        namespace: namespace.into(),
        pod_name: pod_name.into(),
        ..Default::default()
    })
}

fn event(r#type: i32, sub_type: i32) -> Option<CiliumEventType> {
    Some(CiliumEventType { r#type, sub_type })
}

fn reply(value: bool) -> Option<BoolValue> {
    Some(BoolValue { value })
}

/// Hubble's test flow: a TCP SYN from 1.1.1.1 (health) to 2.2.2.2 dropped by policy.
fn dropped() -> Flow {
    Flow {
        time: ts(),
        r#type: FlowType::L3L4 as i32,
        node_name: "k8s1".into(),
        verdict: Verdict::Dropped as i32,
        ip: ip("1.1.1.1", "2.2.2.2"),
        source: identity(4),
        destination: identity(12345),
        l4: tcp(
            31793,
            8080,
            TcpFlags {
                syn: true,
                ..Default::default()
            },
        ),
        event_type: event(1, 133),
        is_reply: reply(false),
        ..Default::default()
    }
}

fn resp(flow: Flow) -> GetFlowsResponse {
    GetFlowsResponse {
        response_types: Some(ResponseTypes::Flow(flow)),
        ..Default::default()
    }
}

fn lost(source: LostEventSource, n: u64, cpu: Option<i32>) -> GetFlowsResponse {
    GetFlowsResponse {
        response_types: Some(ResponseTypes::LostEvents(LostEvent {
            source: source as i32,
            num_events_lost: n,
            cpu: cpu.map(|value| Int32Value { value }),
        })),
        ..Default::default()
    }
}

fn print_with(format: Format, opts: PrinterOptions, resps: &[GetFlowsResponse]) -> String {
    let mut out = Vec::new();
    let mut printer = Printer::new(format, opts);
    for r in resps {
        printer.write_response(&mut out, r).unwrap();
    }
    printer.finish(&mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn print(format: Format, resps: &[GetFlowsResponse]) -> String {
    print_with(format, PrinterOptions::default(), resps)
}

fn with_node() -> PrinterOptions {
    PrinterOptions {
        node_name: true,
        ..Default::default()
    }
}

fn compact(flow: Flow) -> String {
    print(Format::Compact, &[resp(flow)])
}

#[test]
fn compact_matches_hubble() {
    assert_eq!(
        compact(dropped()),
        "Jan  1 00:20:34.567: 1.1.1.1:31793 (health) -> 2.2.2.2:8080 (ID:12345) Policy denied DROPPED (TCP Flags: SYN)\n"
    );
    assert_eq!(
        print_with(Format::Compact, with_node(), &[resp(dropped())]),
        "Jan  1 00:20:34.567 [k8s1]: 1.1.1.1:31793 (health) -> 2.2.2.2:8080 (ID:12345) Policy denied DROPPED (TCP Flags: SYN)\n"
    );
}

#[test]
fn compact_reply_flips_the_sides_and_the_arrow() {
    let flow = Flow {
        is_reply: reply(true),
        ..dropped()
    };
    assert_eq!(
        compact(flow),
        "Jan  1 00:20:34.567: 2.2.2.2:8080 (ID:12345) <- 1.1.1.1:31793 (health) Policy denied DROPPED (TCP Flags: SYN)\n"
    );
}

#[test]
fn compact_unknown_direction_is_a_double_arrow() {
    let flow = Flow {
        is_reply: None,
        ..dropped()
    };
    assert_eq!(
        compact(flow),
        "Jan  1 00:20:34.567: 1.1.1.1:31793 (health) <> 2.2.2.2:8080 (ID:12345) Policy denied DROPPED (TCP Flags: SYN)\n"
    );
}

#[test]
fn policy_verdicts_print_allowed_denied_audited() {
    let denied = Flow {
        event_type: event(5, 0),
        is_reply: None,
        traffic_direction: TrafficDirection::Egress as i32,
        ..dropped()
    };
    assert_eq!(
        compact(denied.clone()),
        "Jan  1 00:20:34.567: 1.1.1.1:31793 (health) <> 2.2.2.2:8080 (ID:12345) policy-verdict:none EGRESS DENIED (TCP Flags: SYN)\n"
    );
    let allowed = Flow {
        verdict: Verdict::Forwarded as i32,
        policy_match_type: 2,
        traffic_direction: TrafficDirection::Ingress as i32,
        ..denied.clone()
    };
    assert_eq!(flow_type(&allowed), "policy-verdict:L3-L4 INGRESS");
    assert!(compact(allowed).ends_with(" policy-verdict:L3-L4 INGRESS ALLOWED (TCP Flags: SYN)\n"));
    let audited = Flow {
        verdict: Verdict::Audit as i32,
        ..denied
    };
    assert!(compact(audited).ends_with(" AUDITED (TCP Flags: SYN)\n"));
}

#[test]
fn pods_services_and_names_replace_addresses() {
    let flow = Flow {
        verdict: Verdict::Forwarded as i32,
        source: pod(7001, "default", "client-5d9c"),
        destination: pod(2, "", ""),
        destination_names: vec!["api.example.com".into(), "www.example.com".into()],
        l4: tcp(
            41234,
            443,
            TcpFlags {
                syn: true,
                ack: true,
                ..Default::default()
            },
        ),
        event_type: event(4, 11),
        ..dropped()
    };
    assert_eq!(
        compact(flow.clone()),
        "Jan  1 00:20:34.567: default/client-5d9c:41234 (ID:7001) -> api.example.com,www.example.com:443 (world) to-network FORWARDED (TCP Flags: SYN, ACK)\n"
    );
    // --numeric: addresses only.
    let numeric = PrinterOptions {
        ip_translation: false,
        ..Default::default()
    };
    assert_eq!(
        print_with(Format::Compact, numeric, &[resp(flow.clone())]),
        "Jan  1 00:20:34.567: 1.1.1.1:41234 (ID:7001) -> 2.2.2.2:443 (world) to-network FORWARDED (TCP Flags: SYN, ACK)\n"
    );
    // A service name, with the service's namespace.
    let to_service = Flow {
        destination_service: Some(Service {
            name: "api".into(),
            namespace: "prod".into(),
        }),
        ..flow
    };
    assert!(compact(to_service).contains(" -> prod/api:443 (world) "));
}

#[test]
fn reserved_identities_by_name() {
    for (id, name) in [
        (0, "(unknown)"),
        (1, "(host)"),
        (2, "(world)"),
        (6, "(remote-node)"),
        (256, "(ID:256)"),
    ] {
        let flow = Flow {
            destination: identity(id),
            ..dropped()
        };
        assert!(
            compact(flow).contains(&format!(" -> 2.2.2.2:8080 {name} ")),
            "{id}"
        );
    }
}

#[test]
fn ipv6_addresses_are_bracketed_before_the_port() {
    let flow = Flow {
        ip: Some(Ip {
            source: "fd00::1".into(),
            destination: "fd00::2".into(),
            ip_version: IpVersion::IPv6 as i32,
            ..Default::default()
        }),
        ..dropped()
    };
    assert!(compact(flow).contains(": [fd00::1]:31793 (health) -> [fd00::2]:8080 (ID:12345) "));
}

#[test]
fn summaries_of_l3_l4() {
    let icmp = Flow {
        l4: Some(Layer4 {
            protocol: Some(layer4::Protocol::IcmPv4(flow::IcmPv4 {
                r#type: 8,
                code: 0,
            })),
        }),
        verdict: Verdict::Forwarded as i32,
        event_type: event(4, 5),
        ..dropped()
    };
    // No port for ICMP.
    assert_eq!(
        compact(icmp),
        "Jan  1 00:20:34.567: 1.1.1.1 (health) -> 2.2.2.2 (ID:12345) from-endpoint FORWARDED (ICMPv4 EchoRequest)\n"
    );
    let udp = Flow {
        l4: udp(53000, 53),
        verdict: Verdict::Forwarded as i32,
        event_type: event(4, 0),
        ..dropped()
    };
    assert_eq!(
        compact(udp),
        "Jan  1 00:20:34.567: 1.1.1.1:53000 (health) -> 2.2.2.2:53 (ID:12345) to-endpoint FORWARDED (UDP)\n"
    );
    let no_l4 = Flow {
        l4: None,
        ..dropped()
    };
    assert_eq!(summary(&no_l4), "IPv4");
    let icmp6 = Flow {
        l4: Some(Layer4 {
            protocol: Some(layer4::Protocol::IcmPv6(flow::IcmPv6 {
                r#type: 1,
                code: 4,
            })),
        }),
        ..dropped()
    };
    assert_eq!(
        summary(&icmp6),
        "ICMPv6 DestinationUnreachable(PortUnreachable)"
    );
    let all_flags = Flow {
        l4: tcp(
            1,
            2,
            TcpFlags {
                fin: true,
                syn: true,
                rst: true,
                psh: true,
                ack: true,
                urg: true,
                ece: true,
                cwr: true,
                ns: true,
            },
        ),
        ..dropped()
    };
    assert_eq!(
        summary(&all_flags),
        "TCP Flags: SYN, ACK, RST, FIN, PSH, URG, ECE, CWR, NS"
    );
}

#[test]
fn trace_sock_flows() {
    let flow = Flow {
        verdict: Verdict::Translated as i32,
        event_type: event(7, 0),
        sock_xlate_point: flow::SocketTranslationPoint::SockXlatePointPostDirectionFwd as i32,
        l4: tcp(0, 80, TcpFlags::default()),
        is_reply: None,
        ..dropped()
    };
    assert_eq!(flow_type(&flow), "post-xlate-fwd");
    assert_eq!(summary(&flow), "TCP");
    assert!(compact(flow).ends_with(" post-xlate-fwd TRANSLATED (TCP)\n"));
}

#[test]
fn unknown_event_types_and_sub_types() {
    assert_eq!(flow_type(&Flow::default()), "UNKNOWN");
    let trace = Flow {
        event_type: event(4, 123),
        ..Default::default()
    };
    assert_eq!(flow_type(&trace), "123");
    let drop = Flow {
        event_type: event(1, 159),
        ..Default::default()
    };
    assert_eq!(flow_type(&drop), "159");
}

/// An L7 record between default/client (port 41000) and default/server (port 80): a request
/// goes from the client, a response from the server.
fn l7(kind: L7FlowType, latency_ns: u64, record: layer7::Record) -> Flow {
    let (client, server) = (
        pod(7001, "default", "client"),
        pod(7002, "default", "server"),
    );
    let response = kind == L7FlowType::Response;
    let (source, destination) = if response {
        (server, client)
    } else {
        (client, server)
    };
    Flow {
        r#type: FlowType::L7 as i32,
        verdict: Verdict::Forwarded as i32,
        ip: if response {
            ip("2.2.2.2", "1.1.1.1")
        } else {
            ip("1.1.1.1", "2.2.2.2")
        },
        source,
        destination,
        l4: if response {
            tcp(80, 41000, TcpFlags::default())
        } else {
            tcp(41000, 80, TcpFlags::default())
        },
        event_type: event(129, 0),
        is_reply: reply(response),
        l7: Some(Layer7 {
            r#type: kind as i32,
            latency_ns,
            record: Some(record),
        }),
        ..dropped()
    }
}

#[test]
fn http_flows() {
    let http = |code| flow::Http {
        code,
        method: "GET".into(),
        url: "http://server/api/v1?x=1".into(),
        protocol: "HTTP/1.1".into(),
        headers: vec![],
    };
    let request = l7(L7FlowType::Request, 0, layer7::Record::Http(http(0)));
    assert_eq!(
        compact(request),
        "Jan  1 00:20:34.567: default/client:41000 (ID:7001) -> default/server:80 (ID:7002) http-request FORWARDED (HTTP/1.1 GET http://server/api/v1?x=1)\n"
    );
    let response = l7(
        L7FlowType::Response,
        3_999_999,
        layer7::Record::Http(http(200)),
    );
    assert_eq!(
        compact(response),
        "Jan  1 00:20:34.567: default/client:41000 (ID:7001) <- default/server:80 (ID:7002) http-response FORWARDED (HTTP/1.1 200 3ms (GET http://server/api/v1?x=1))\n"
    );
}

#[test]
fn dns_flows() {
    let dns = |ips: Vec<&str>, cnames: Vec<&str>, rcode| flow::Dns {
        query: "example.com.".into(),
        ips: ips.into_iter().map(String::from).collect(),
        ttl: 30,
        cnames: cnames.into_iter().map(String::from).collect(),
        observation_source: "proxy".into(),
        rcode,
        qtypes: vec!["A".into()],
        rrtypes: vec!["A".into()],
    };
    let request = l7(
        L7FlowType::Request,
        0,
        layer7::Record::Dns(dns(vec![], vec![], 0)),
    );
    assert_eq!(flow_type(&request), "dns-request proxy");
    assert_eq!(summary(&request), "DNS Query example.com. A");
    let response = l7(
        L7FlowType::Response,
        0,
        layer7::Record::Dns(dns(
            vec!["93.184.216.34", "93.184.216.35"],
            vec!["edge.example.net."],
            0,
        )),
    );
    assert_eq!(
        summary(&response),
        r#"DNS Answer "93.184.216.34,93.184.216.35" CNAMEs: "edge.example.net." TTL: 30 (Proxy example.com. A)"#
    );
    let nxdomain = l7(
        L7FlowType::Response,
        0,
        layer7::Record::Dns(dns(vec![], vec![], 3)),
    );
    assert_eq!(
        summary(&nxdomain),
        "DNS Answer RCode: Non-Existent Domain TTL: 30 (Proxy example.com. A)"
    );
    assert!(compact(nxdomain).contains(" dns-response proxy FORWARDED (DNS Answer RCode: "));
}

#[test]
fn kafka_flows() {
    let kafka = flow::Kafka {
        error_code: 0,
        api_version: 2,
        api_key: "produce".into(),
        correlation_id: 7,
        topic: "orders".into(),
    };
    let request = l7(L7FlowType::Request, 0, layer7::Record::Kafka(kafka.clone()));
    assert_eq!(flow_type(&request), "kafka-request");
    assert_eq!(
        summary(&request),
        "Kafka request produce correlation id 7 topic 'orders'"
    );
    let response = l7(L7FlowType::Response, 0, layer7::Record::Kafka(kafka));
    assert_eq!(
        summary(&response),
        "Kafka response produce correlation id 7 topic 'orders' return code 0"
    );
}

#[test]
fn terminal_control_from_flows_is_escaped() {
    let kafka = flow::Kafka {
        api_key: "1234".into(),
        correlation_id: 1,
        topic: "my-topic\x1b[30mblack\x1b[0m\x1b\r".into(),
        ..Default::default()
    };
    let flow = Flow {
        verdict: Verdict::Dropped as i32,
        l7: Some(Layer7 {
            r#type: L7FlowType::Request as i32,
            latency_ns: 10,
            record: Some(layer7::Record::Kafka(kafka)),
        }),
        ..dropped()
    };
    assert_eq!(
        compact(flow.clone()),
        "Jan  1 00:20:34.567: 1.1.1.1:31793 (health) -> 2.2.2.2:8080 (ID:12345) kafka-request DROPPED (Kafka request 1234 correlation id 1 topic 'my-topic^[[30mblack^[[0m^[\\r')\n"
    );
    // JSON keeps the bytes, escaped as JSON.
    assert!(
        print(Format::JsonPb, &[resp(flow)])
            .contains(r#""topic":"my-topic\u001b[30mblack\u001b[0m\u001b\r""#)
    );
}

#[test]
fn colors_match_hubble() {
    let color = PrinterOptions {
        color: true,
        ..Default::default()
    };
    assert_eq!(
        print_with(Format::Compact, color, &[resp(dropped())]),
        "Jan  1 00:20:34.567: \x1b[36m1.1.1.1:\x1b[33m31793\x1b[0m\x1b[0m \x1b[35m(health)\x1b[0m -> \x1b[36m2.2.2.2:\x1b[33m8080\x1b[0m\x1b[0m \x1b[35m(ID:12345)\x1b[0m Policy denied \x1b[31mDROPPED\x1b[0m (TCP Flags: SYN)\n"
    );
    let forwarded = Flow {
        verdict: Verdict::Forwarded as i32,
        ..dropped()
    };
    assert!(
        print_with(Format::Compact, color, &[resp(forwarded)])
            .contains(" \x1b[32mFORWARDED\x1b[0m ")
    );
    // The table is never coloured.
    assert!(!print_with(Format::Table, color, &[resp(dropped())]).contains('\x1b'));
}

#[test]
fn auth_type_follows_the_summary() {
    let flow = Flow {
        auth_type: AuthType::Spire as i32,
        ..dropped()
    };
    assert!(compact(flow).ends_with(" DROPPED (TCP Flags: SYN; SPIRE)\n"));
}

#[test]
fn json_and_jsonpb_print_the_whole_response() {
    let response = GetFlowsResponse {
        node_name: "k8s1".into(),
        time: ts(),
        ..resp(dropped())
    };
    let expected = concat!(
        r#"{"flow":{"time":"1970-01-01T00:20:34.567800Z","verdict":"DROPPED","#,
        r#""IP":{"source":"1.1.1.1","destination":"2.2.2.2"},"#,
        r#""l4":{"TCP":{"source_port":31793,"destination_port":8080,"flags":{"SYN":true}}},"#,
        r#""source":{"identity":4},"destination":{"identity":12345},"#,
        r#""Type":"L3_L4","node_name":"k8s1","#,
        r#""event_type":{"type":1,"sub_type":133},"#,
        r#""is_reply":false},"#,
        r#""node_name":"k8s1","time":"1970-01-01T00:20:34.567800Z"}"#,
        "\n"
    );
    assert_eq!(
        print(Format::JsonPb, std::slice::from_ref(&response)),
        expected
    );
    assert_eq!(print(Format::Json, &[response]), expected);
}

#[test]
fn json_escapes_html_and_keeps_whole_second_times_short() {
    let flow = Flow {
        time: Some(Timestamp {
            seconds: 60,
            nanos: 0,
        }),
        verdict: Verdict::Forwarded as i32,
        l7: Some(Layer7 {
            r#type: L7FlowType::Request as i32,
            latency_ns: 0,
            record: Some(layer7::Record::Http(flow::Http {
                method: "GET".into(),
                url: "http://x/?a=<b>&c".into(),
                ..Default::default()
            })),
        }),
        ..Default::default()
    };
    assert_eq!(
        print(Format::Json, &[resp(flow)]),
        concat!(
            r#"{"flow":{"time":"1970-01-01T00:01:00Z","verdict":"FORWARDED","#,
            r#""l7":{"type":"REQUEST","http":{"method":"GET","url":"http://x/?a=\u003cb\u003e\u0026c"}}}}"#,
            "\n"
        )
    );
}

#[test]
fn table_matches_hubble() {
    assert_eq!(
        print(Format::Table, &[resp(dropped())]),
        "TIMESTAMP             SOURCE          DESTINATION    TYPE            VERDICT   SUMMARY\n\
         Jan  1 00:20:34.567   1.1.1.1:31793   2.2.2.2:8080   Policy denied   DROPPED   TCP Flags: SYN\n"
    );
    assert_eq!(
        print_with(Format::Table, with_node(), &[resp(dropped())]),
        "TIMESTAMP             NODE   SOURCE          DESTINATION    TYPE            VERDICT   SUMMARY\n\
         Jan  1 00:20:34.567   k8s1   1.1.1.1:31793   2.2.2.2:8080   Policy denied   DROPPED   TCP Flags: SYN\n"
    );
}

#[test]
fn table_aligns_all_rows_including_lost_events() {
    let forwarded = Flow {
        verdict: Verdict::Forwarded as i32,
        source: pod(7001, "default", "client-5d9c"),
        event_type: event(4, 0),
        ..dropped()
    };
    assert_eq!(
        print(
            Format::Table,
            &[
                resp(dropped()),
                resp(forwarded),
                lost(LostEventSource::HubbleRingBuffer, 12, Some(0)),
            ]
        ),
        "TIMESTAMP             SOURCE                      DESTINATION    TYPE            VERDICT     SUMMARY\n\
         Jan  1 00:20:34.567   1.1.1.1:31793               2.2.2.2:8080   Policy denied   DROPPED     TCP Flags: SYN\n\
         Jan  1 00:20:34.567   default/client-5d9c:31793   2.2.2.2:8080   to-endpoint     FORWARDED   TCP Flags: SYN\n\
         \x20                     HUBBLE_RING_BUFFER                         EVENTS LOST                 CPU(0) - 12\n"
    );
}

#[test]
fn dict_matches_hubble() {
    assert_eq!(
        print(Format::Dict, &[resp(dropped())]),
        "  TIMESTAMP: Jan  1 00:20:34.567\n     SOURCE: 1.1.1.1:31793\nDESTINATION: 2.2.2.2:8080\n       TYPE: Policy denied\n    VERDICT: DROPPED\n    SUMMARY: TCP Flags: SYN\n"
    );
    assert_eq!(
        print_with(Format::Dict, with_node(), &[resp(dropped())]),
        "  TIMESTAMP: Jan  1 00:20:34.567\n       NODE: k8s1\n     SOURCE: 1.1.1.1:31793\nDESTINATION: 2.2.2.2:8080\n       TYPE: Policy denied\n    VERDICT: DROPPED\n    SUMMARY: TCP Flags: SYN\n"
    );
}

#[test]
fn dict_blocks_are_separated() {
    assert_eq!(
        print(
            Format::Dict,
            &[
                resp(dropped()),
                lost(LostEventSource::PerfEventRingBuffer, 3, Some(1))
            ]
        ),
        "  TIMESTAMP: Jan  1 00:20:34.567\n     SOURCE: 1.1.1.1:31793\nDESTINATION: 2.2.2.2:8080\n       TYPE: Policy denied\n    VERDICT: DROPPED\n    SUMMARY: TCP Flags: SYN\n\
         ------------\n\
         \x20 TIMESTAMP: \n     SOURCE: PERF_EVENT_RING_BUFFER\n       TYPE: EVENTS LOST\n    VERDICT: \n    SUMMARY: CPU(1) - 3\n"
    );
}

#[test]
fn lost_events() {
    let l = lost(LostEventSource::HubbleRingBuffer, 12, Some(0));
    assert_eq!(
        print(Format::Compact, std::slice::from_ref(&l)),
        "EVENTS LOST: HUBBLE_RING_BUFFER CPU(0) 12\n"
    );
    assert_eq!(
        print(
            Format::Compact,
            &[lost(LostEventSource::ObserverEventsQueue, 5, None)]
        ),
        "EVENTS LOST: OBSERVER_EVENTS_QUEUE CPU(0) 5\n"
    );
    assert_eq!(
        print(Format::JsonPb, &[l]),
        "{\"lost_events\":{\"source\":\"HUBBLE_RING_BUFFER\",\"num_events_lost\":\"12\",\"cpu\":0}}\n"
    );
}

#[test]
fn node_status_goes_to_the_error_stream() {
    let status = |state: NodeState, message: &str| GetFlowsResponse {
        response_types: Some(ResponseTypes::NodeStatus(NodeStatusEvent {
            state_change: state as i32,
            node_names: vec!["node-a".into(), "node-b".into()],
            message: message.into(),
        })),
        node_name: "relay".into(),
        time: ts(),
    };
    let run = |opts: PrinterOptions, r: &GetFlowsResponse| {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut printer = Printer::new(Format::Compact, opts);
        printer.write_response_to(&mut out, &mut err, r).unwrap();
        printer.finish(&mut out).unwrap();
        (
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    };
    assert_eq!(
        run(
            PrinterOptions::default(),
            &status(NodeState::NodeUnavailable, "")
        ),
        (
            String::new(),
            "Jan  1 00:20:34.567 [relay]: 2 nodes are unavailable: node-a, node-b\n".into()
        )
    );
    assert_eq!(
        run(
            PrinterOptions::default(),
            &status(NodeState::NodeError, "dial \"x\"")
        ),
        (
            String::new(),
            "Jan  1 00:20:34.567 [relay]: Error \"dial \\\"x\\\"\" on 2 nodes: node-a, node-b\n"
                .into()
        )
    );
    // Informational events only with debug.
    assert_eq!(
        run(
            PrinterOptions::default(),
            &status(NodeState::NodeConnected, "")
        ),
        (String::new(), String::new())
    );
    let debug = PrinterOptions {
        debug: true,
        ..Default::default()
    };
    assert_eq!(
        run(debug, &status(NodeState::NodeConnected, "")).1,
        "Jan  1 00:20:34.567 [relay]: Receiving flows from 2 nodes: node-a, node-b\n"
    );
    // write_response leaves them out.
    let mut out = Vec::new();
    Printer::new(Format::Compact, debug)
        .write_response(&mut out, &status(NodeState::NodeError, "x"))
        .unwrap();
    assert!(out.is_empty());
}

#[test]
fn missing_or_invalid_times_print_as_not_available() {
    let flow = Flow {
        time: None,
        ..dropped()
    };
    assert!(compact(flow).starts_with("N/A: 1.1.1.1:31793 "));
}

#[test]
fn ethernet_only_flows_show_mac_addresses() {
    let flow = Flow {
        ip: None,
        l4: None,
        ethernet: Some(flow::Ethernet {
            source: "00:01:02:03:04:05".into(),
            destination: "06:07:08:09:0a:0b".into(),
        }),
        ..dropped()
    };
    assert_eq!(
        compact(flow),
        "Jan  1 00:20:34.567: 00:01:02:03:04:05 (health) -> 06:07:08:09:0a:0b (ID:12345) Policy denied DROPPED (Ethernet)\n"
    );
}

#[test]
fn format_names() {
    for (name, format) in [
        ("compact", Format::Compact),
        ("json", Format::Json),
        ("JSON", Format::Json),
        ("jsonpb", Format::JsonPb),
        ("table", Format::Table),
        ("tab", Format::Table),
        ("dict", Format::Dict),
    ] {
        assert_eq!(name.parse::<Format>(), Ok(format));
    }
    let err = "yaml".parse::<Format>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid output format: \"yaml\" (expected compact, dict, json, jsonpb or table)"
    );
}
