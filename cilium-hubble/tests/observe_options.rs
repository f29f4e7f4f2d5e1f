//! `hubble observe` flags to `GetFlowsRequest`s, compared as protojson. The cases follow
//! Hubble's own `hubble/cmd/observe/flows_filter_test.go` where it has them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cilium_hubble::observe::{FilterFlag, ObserveError, ObserveOptions, filters_yaml};
use cilium_hubble::printer::Format;
use cilium_hubble::proto::observer::GetFlowsRequest;
use pbjson_types::Timestamp;
use serde_json::{Value, json};

/// 2023-11-14T22:13:20Z.
fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

/// Options from flags given in command-line order, `--not` included.
fn flags(args: &[(&str, &str)]) -> ObserveOptions {
    let mut opts = ObserveOptions::default();
    let mut negate = false;
    for &(name, value) in args {
        if name == "not" {
            negate = true;
            continue;
        }
        let flag = FilterFlag::from_name(name).unwrap_or_else(|| panic!("no flag --{name}"));
        if negate {
            opts.not.push((flag, value.to_owned()));
            negate = false;
        } else {
            opts.push(flag, value);
        }
    }
    opts
}

fn request(opts: &ObserveOptions) -> GetFlowsRequest {
    opts.to_request(now()).unwrap_or_else(|e| panic!("{e}"))
}

/// (allowlist, denylist) as JSON.
fn lists(args: &[(&str, &str)]) -> (Value, Value) {
    let req = request(&flags(args));
    (
        serde_json::to_value(&req.whitelist).unwrap(),
        serde_json::to_value(&req.blacklist).unwrap(),
    )
}

fn allow(args: &[(&str, &str)]) -> Value {
    let (allow, deny) = lists(args);
    assert_eq!(deny, json!([]), "no denylist expected for {args:?}");
    allow
}

fn error(args: &[(&str, &str)]) -> ObserveError {
    flags(args)
        .to_request(now())
        .expect_err("flags should be refused")
}

#[test]
fn plain_observe_asks_for_the_last_20_flows() {
    let req = request(&ObserveOptions::default());
    assert_eq!(serde_json::to_value(&req).unwrap(), json!({"number": "20"}));
}

#[test]
fn non_directional_flags_make_two_filters() {
    assert_eq!(
        allow(&[("pod", "default/web")]),
        json!([{"source_pod": ["default/web"]}, {"destination_pod": ["default/web"]}])
    );
    assert_eq!(
        allow(&[("ip", "10.0.0.1"), ("ip", "10.1.0.0/16")]),
        json!([
            {"source_ip": ["10.0.0.1", "10.1.0.0/16"]},
            {"destination_ip": ["10.0.0.1", "10.1.0.0/16"]}
        ])
    );
    assert_eq!(
        allow(&[("label", "k1=v1,k2=v2"), ("label", "k3")]),
        json!([{"source_label": ["k1=v1,k2=v2", "k3"]}, {"destination_label": ["k1=v1,k2=v2", "k3"]}])
    );
    assert_eq!(
        allow(&[("fqdn", "*.cilium.io")]),
        json!([{"source_fqdn": ["*.cilium.io"]}, {"destination_fqdn": ["*.cilium.io"]}])
    );
    assert_eq!(
        allow(&[("service", "kube-system/kube-dns")]),
        json!([{"source_service": ["kube-system/kube-dns"]}, {"destination_service": ["kube-system/kube-dns"]}])
    );
    assert_eq!(
        allow(&[("port", "53")]),
        json!([{"source_port": ["53"]}, {"destination_port": ["53"]}])
    );
}

#[test]
fn directional_flags_make_one_filter() {
    assert_eq!(
        allow(&[("from-pod", "cilium"), ("to-identity", "42")]),
        json!([{"source_pod": ["cilium"], "destination_identity": [42]}])
    );
    assert_eq!(
        allow(&[("from-pod", "cilium"), ("to-workload", "app")]),
        json!([{"source_pod": ["cilium"], "destination_workload": [{"name": "app"}]}])
    );
}

#[test]
fn other_flags_go_into_both_filters() {
    // Hubble's TestFilterLeftRight.
    let (allow, deny) = lists(&[
        ("ip", "1.2.3.4"),
        ("ip", "5.6.7.8"),
        ("verdict", "DROPPED"),
        ("not", ""),
        ("pod", "deathstar"),
        ("not", ""),
        ("http-status", "200"),
        ("http-method", "get"),
        ("http-path", "/page/\\d+"),
        ("node-name", "k8s*"),
    ]);
    assert_eq!(
        allow,
        json!([
            {
                "source_ip": ["1.2.3.4", "5.6.7.8"],
                "verdict": ["DROPPED"],
                "http_method": ["get"],
                "http_path": ["/page/\\d+"],
                "node_name": ["k8s*"]
            },
            {
                "destination_ip": ["1.2.3.4", "5.6.7.8"],
                "verdict": ["DROPPED"],
                "http_method": ["get"],
                "http_path": ["/page/\\d+"],
                "node_name": ["k8s*"]
            }
        ])
    );
    assert_eq!(
        deny,
        json!([
            {"source_pod": ["deathstar"], "http_status_code": ["200"]},
            {"destination_pod": ["deathstar"], "http_status_code": ["200"]}
        ])
    );
    assert_eq!(
        self::allow(&[("pod", "cilium"), ("to-workload", "Deployment/app")]),
        json!([
            {"source_pod": ["cilium"], "destination_workload": [{"name": "app", "kind": "Deployment"}]},
            {"destination_pod": ["cilium"], "destination_workload": [{"name": "app", "kind": "Deployment"}]}
        ])
    );
}

#[test]
fn not_applies_to_the_next_flag_only() {
    // Hubble's TestFilterDispatch.
    let (allow, deny) = lists(&[
        ("from-ip", "1.2.3.4"),
        ("from-ip", "5.6.7.8"),
        ("not", ""),
        ("to-ip", "5.5.5.5"),
        ("verdict", "DROPPED"),
        ("type", "l7"),
    ]);
    assert_eq!(
        allow,
        json!([{"source_ip": ["1.2.3.4", "5.6.7.8"], "verdict": ["DROPPED"], "event_type": [{"type": 129}]}])
    );
    assert_eq!(deny, json!([{"destination_ip": ["5.5.5.5"]}]));
}

#[test]
fn negated_flags_combine_into_one_denylist() {
    // `--not --http-method put --not --http-method get --not --to-namespace foo` leaves out
    // PUT and GET requests to foo (the example of `hubble observe --help`).
    let (allow, deny) = lists(&[
        ("not", ""),
        ("http-method", "put"),
        ("not", ""),
        ("http-method", "get"),
        ("not", ""),
        ("to-namespace", "foo"),
    ]);
    assert_eq!(allow, json!([]));
    assert_eq!(
        deny,
        json!([{"destination_pod": ["foo/"], "http_method": ["put", "get"]}])
    );
}

#[test]
fn event_types() {
    // Hubble's TestFilterType.
    assert_eq!(
        allow(&[
            ("type", "254"),
            ("type", "255:127"),
            ("type", "trace:to-endpoint"),
            ("type", "trace:from-endpoint"),
            ("type", "4:2"),
            ("type", "agent"),
            ("type", "agent:3"),
            ("type", "agent:policy-updated"),
            ("type", "drop"),
            ("type", "policy-verdict"),
            ("type", "trace-sock"),
            ("type", "capture"),
        ]),
        json!([{"event_type": [
            {"type": 254},
            {"type": 255, "match_sub_type": true, "sub_type": 127},
            {"type": 4, "match_sub_type": true},
            {"type": 4, "match_sub_type": true, "sub_type": 5},
            {"type": 4, "match_sub_type": true, "sub_type": 2},
            {"type": 130},
            {"type": 130, "match_sub_type": true, "sub_type": 3},
            {"type": 130, "match_sub_type": true, "sub_type": 5},
            {"type": 1},
            {"type": 5},
            {"type": 7},
            {"type": 3}
        ]}])
    );
    for bad in [
        "some-invalid-type",
        "trace:some-invalid-sub-type",
        "agent:Policy updated",
        "4:to-host",
        "-1",
    ] {
        let err = error(&[("type", bad)]);
        assert!(
            matches!(&err, ObserveError::InvalidValue { flag: "type", value, .. } if value == bad),
            "{bad}: {err}"
        );
        assert!(
            err.to_string()
                .starts_with(&format!("--type: invalid value {bad:?}: ")),
            "{err}"
        );
    }
}

#[test]
fn verdicts_are_upper_case_names() {
    assert_eq!(
        allow(&[("verdict", "DROPPED"), ("verdict", "AUDIT")]),
        json!([{"verdict": ["DROPPED", "AUDIT"]}])
    );
    assert_eq!(
        error(&[("verdict", "dropped")]).to_string(),
        "--verdict: invalid value \"dropped\": expected FORWARDED, DROPPED, AUDIT, REDIRECTED, ERROR, TRACED or TRANSLATED"
    );
}

#[test]
fn identities_by_number_or_reserved_name() {
    // Hubble's TestIdentity and TestFromIdentity / TestToIdentity.
    assert_eq!(
        allow(&[("identity", "1"), ("identity", "2")]),
        json!([{"source_identity": [1, 2]}, {"destination_identity": [1, 2]}])
    );
    for (name, id) in [
        ("host", 1),
        ("world", 2),
        ("unmanaged", 3),
        ("health", 4),
        ("init", 5),
        ("remote-node", 6),
        ("kube-apiserver", 7),
        ("ingress", 8),
        ("world-ipv4", 9),
        ("world-ipv6", 10),
    ] {
        assert_eq!(
            allow(&[("from-identity", name)]),
            json!([{"source_identity": [id]}])
        );
        assert_eq!(
            allow(&[("to-identity", name)]),
            json!([{"destination_identity": [id]}])
        );
    }
    // Go's base-0 numbers.
    assert_eq!(
        allow(&[("from-identity", "0x10")]),
        json!([{"source_identity": [16]}])
    );
    for flag in ["identity", "from-identity", "to-identity"] {
        let err = error(&[(flag, "bad")]);
        assert!(
            err.to_string().starts_with(&format!(
                "--{flag}: invalid value \"bad\": expected one of host, world"
            )),
            "{err}"
        );
    }
}

#[test]
fn tcp_flags() {
    // Hubble's TestTcpFlags.
    for valid in [
        "SYN", "syn", "FIN", "RST", "PSH", "ACK", "URG", "ECE", "CWR", "NS", "syn,ack",
    ] {
        flags(&[("tcp-flags", valid)]).to_request(now()).unwrap();
        flags(&[("tcp-flags", valid), ("not", ""), ("tcp-flags", "NS")])
            .to_request(now())
            .unwrap();
    }
    assert_eq!(
        allow(&[("tcp-flags", "syn,ack"), ("tcp-flags", "fin")]),
        json!([{"tcp_flags": [{"SYN": true, "ACK": true}, {"FIN": true}]}])
    );
    for invalid in ["unknown", "syn,unknown", "unknown,syn", "syn,", ",syn"] {
        let err = error(&[("tcp-flags", invalid)]);
        assert!(
            matches!(
                err,
                ObserveError::InvalidValue {
                    flag: "tcp-flags",
                    ..
                }
            ),
            "{invalid}: {err}"
        );
    }
}

#[test]
fn traffic_direction() {
    // Hubble's TestTrafficDirection.
    assert_eq!(
        allow(&[("traffic-direction", "ingress")]),
        json!([{"traffic_direction": ["INGRESS"]}])
    );
    assert_eq!(
        allow(&[
            ("traffic-direction", "INGRESS"),
            ("traffic-direction", "EgrEss")
        ]),
        json!([{"traffic_direction": ["INGRESS", "EGRESS"]}])
    );
    assert_eq!(
        error(&[("traffic-direction", "to the moon")]).to_string(),
        "--traffic-direction: invalid value \"to the moon\": expected ingress or egress"
    );
}

#[test]
fn uuid_protocol_trace_id_and_ip_version() {
    assert_eq!(
        allow(&[("uuid", "b9fab269-04ae-495c-9d12-b6c36d41de0d")]),
        json!([{"uuid": ["b9fab269-04ae-495c-9d12-b6c36d41de0d"]}])
    );
    assert_eq!(
        allow(&[
            ("protocol", "tcp"),
            ("protocol", "dns"),
            ("trace-id", "abc")
        ]),
        json!([{"protocol": ["tcp", "dns"], "trace_id": ["abc"]}])
    );
    assert_eq!(
        allow(&[
            ("ip-version", "v4"),
            ("ip-version", "6"),
            ("ip-version", "none")
        ]),
        json!([{"ip_version": ["IPv4", "IPv6", "IP_NOT_USED"]}])
    );
    assert!(matches!(
        error(&[("ip-version", "v5")]),
        ObserveError::InvalidValue {
            flag: "ip-version",
            ..
        }
    ));
}

#[test]
fn namespaces() {
    // Hubble's TestNamespace.
    let cases: &[(&[(&str, &str)], Value)] = &[
        (
            &[("namespace", "cilium"), ("port", "443")],
            json!([
                {"source_pod": ["cilium/"], "source_port": ["443"]},
                {"destination_pod": ["cilium/"], "destination_port": ["443"]}
            ]),
        ),
        (
            &[("from-namespace", "cilium"), ("from-port", "443")],
            json!([{"source_pod": ["cilium/"], "source_port": ["443"]}]),
        ),
        (
            &[("to-namespace", "cilium")],
            json!([{"destination_pod": ["cilium/"]}]),
        ),
        (
            &[("to-namespace", "cilium"), ("port", "443")],
            json!([
                {"destination_pod": ["cilium/"], "source_port": ["443"]},
                {"destination_pod": ["cilium/"], "destination_port": ["443"]}
            ]),
        ),
        (
            &[("namespace", "cilium"), ("pod", "foo-9c76d6c95-tf788")],
            json!([
                {"source_pod": ["cilium/foo-9c76d6c95-tf788"]},
                {"destination_pod": ["cilium/foo-9c76d6c95-tf788"]}
            ]),
        ),
        (
            &[("namespace", "cilium"), ("service", "foo")],
            json!([{"source_service": ["cilium/foo"]}, {"destination_service": ["cilium/foo"]}]),
        ),
        (
            &[
                ("namespace", "cilium"),
                ("namespace", "kube-system"),
                ("service", "foo"),
                ("service", "bar"),
            ],
            json!([
                {"source_service": ["cilium/foo", "kube-system/foo", "cilium/bar", "kube-system/bar"]},
                {"destination_service": ["cilium/foo", "kube-system/foo", "cilium/bar", "kube-system/bar"]}
            ]),
        ),
        (
            &[
                ("to-namespace", "cilium"),
                ("to-pod", "cilium/foo-9c76d6c95-tf788"),
            ],
            json!([{"destination_pod": ["cilium/foo-9c76d6c95-tf788"]}]),
        ),
        (
            &[
                ("from-namespace", "kube-system"),
                ("to-pod", "cilium/foo-9c76d6c95-tf788"),
            ],
            json!([{"source_pod": ["kube-system/"], "destination_pod": ["cilium/foo-9c76d6c95-tf788"]}]),
        ),
        (
            &[("to-all-namespaces", ""), ("port", "443")],
            json!([
                {"destination_pod": ["/"], "source_port": ["443"]},
                {"destination_pod": ["/"], "destination_port": ["443"]}
            ]),
        ),
        (
            &[("to-all-namespaces", ""), ("to-pod", "foo")],
            json!([{"destination_pod": ["/foo"]}]),
        ),
        (
            &[("to-all-namespaces", ""), ("to-service", "bar")],
            json!([{"destination_service": ["/bar"]}]),
        ),
        (
            &[("all-namespaces", ""), ("pod", "foo")],
            json!([{"source_pod": ["/foo"]}, {"destination_pod": ["/foo"]}]),
        ),
        (
            &[("all-namespaces", ""), ("service", "bar")],
            json!([{"source_service": ["/bar"]}, {"destination_service": ["/bar"]}]),
        ),
        (
            &[("namespace", "kube-system")],
            json!([{"source_pod": ["kube-system/"]}, {"destination_pod": ["kube-system/"]}]),
        ),
    ];
    for (args, expected) in cases {
        assert_eq!(&allow(args), expected, "{args:?}");
    }
}

#[test]
fn namespace_conflicts_name_the_flag() {
    assert_eq!(
        error(&[
            ("to-namespace", "kube-system"),
            ("to-pod", "cilium/foo-9c76d6c95-tf788")
        ]),
        ObserveError::NamespaceConflict {
            flag: "to-namespace",
            namespace: "kube-system".into(),
            name: "cilium/foo-9c76d6c95-tf788".into(),
        }
    );
    assert_eq!(
        error(&[
            ("from-namespace", "kube-system"),
            ("from-service", "cilium/foo")
        ])
        .to_string(),
        "--from-namespace \"kube-system\" conflicts with \"cilium/foo\", which is in another namespace"
    );
    assert_eq!(
        error(&[
            ("from-service", "cilium/foo"),
            ("from-pod", "kube-system/hubble")
        ]),
        ObserveError::ServiceNamespace {
            service: "cilium/foo".into(),
            namespace: "kube-system".into(),
        }
    );
}

/// A valid value for a flag, so that only the combination can be refused.
fn value_for(flag: &str) -> &'static str {
    match flag {
        f if f.ends_with("ip") => "10.0.0.1",
        f if f.ends_with("port") => "80",
        f if f.ends_with("identity") => "1",
        f if f.ends_with("all-namespaces") => "",
        _ => "foo",
    }
}

#[test]
fn conflicting_flags() {
    // Hubble's TestConflicts_Table (the pairs of flags this crate has).
    let pairs = [
        ("port", "to-port"),
        ("port", "from-port"),
        ("identity", "to-identity"),
        ("identity", "from-identity"),
        ("workload", "to-workload"),
        ("workload", "from-workload"),
        ("fqdn", "from-fqdn"),
        ("fqdn", "to-fqdn"),
        ("ip", "from-ip"),
        ("ip", "to-ip"),
        ("label", "from-label"),
        ("label", "to-label"),
        ("service", "from-service"),
        ("service", "to-service"),
        ("pod", "from-pod"),
        ("pod", "to-pod"),
        ("namespace", "from-namespace"),
        ("namespace", "to-namespace"),
        ("all-namespaces", "from-all-namespaces"),
        ("all-namespaces", "to-all-namespaces"),
        ("ip", "fqdn"),
        ("ip", "from-fqdn"),
        ("ip", "to-fqdn"),
        ("from-ip", "from-fqdn"),
        ("from-ip", "fqdn"),
        ("to-ip", "fqdn"),
        ("to-ip", "to-fqdn"),
        ("ip", "pod"),
        ("ip", "from-pod"),
        ("ip", "to-pod"),
        ("from-ip", "from-pod"),
        ("from-ip", "pod"),
        ("to-ip", "pod"),
        ("to-ip", "to-pod"),
        ("ip", "namespace"),
        ("ip", "all-namespaces"),
        ("ip", "from-namespace"),
        ("ip", "from-all-namespaces"),
        ("ip", "to-namespace"),
        ("ip", "to-all-namespaces"),
        ("from-ip", "from-namespace"),
        ("from-ip", "from-all-namespaces"),
        ("from-ip", "namespace"),
        ("from-ip", "all-namespaces"),
        ("to-ip", "namespace"),
        ("to-ip", "all-namespaces"),
        ("to-ip", "to-namespace"),
        ("to-ip", "to-all-namespaces"),
        ("pod", "fqdn"),
        ("pod", "from-fqdn"),
        ("pod", "to-fqdn"),
        ("from-pod", "from-fqdn"),
        ("from-pod", "fqdn"),
        ("from-pod", "namespace"),
        ("from-pod", "all-namespaces"),
        ("to-pod", "fqdn"),
        ("to-pod", "to-fqdn"),
        ("to-pod", "namespace"),
        ("to-pod", "all-namespaces"),
        ("namespace", "fqdn"),
        ("namespace", "from-fqdn"),
        ("namespace", "to-fqdn"),
        ("namespace", "from-service"),
        ("namespace", "to-service"),
        ("namespace", "all-namespaces"),
        ("namespace", "from-all-namespaces"),
        ("namespace", "to-all-namespaces"),
        ("from-namespace", "from-fqdn"),
        ("from-namespace", "fqdn"),
        ("from-namespace", "from-all-namespaces"),
        ("from-namespace", "all-namespaces"),
        ("to-namespace", "fqdn"),
        ("to-namespace", "to-fqdn"),
        ("to-namespace", "to-all-namespaces"),
        ("to-namespace", "all-namespaces"),
        ("all-namespaces", "fqdn"),
        ("all-namespaces", "from-fqdn"),
        ("all-namespaces", "to-fqdn"),
        ("all-namespaces", "from-service"),
        ("all-namespaces", "to-service"),
        ("from-all-namespaces", "from-fqdn"),
        ("from-all-namespaces", "fqdn"),
        ("to-all-namespaces", "fqdn"),
        ("to-all-namespaces", "to-fqdn"),
    ];
    for (a, b) in pairs {
        let err = error(&[(a, value_for(a)), (b, value_for(b))]);
        match &err {
            ObserveError::Conflict { first, second } => {
                assert!(
                    [*first, *second].contains(&a) || [*first, *second].contains(&b),
                    "--{a} --{b}: {err}"
                );
            }
            other => panic!("--{a} --{b}: expected a conflict, got {other}"),
        }
    }
    // The message names the flags in Hubble's order.
    assert_eq!(
        error(&[("from-service", "foo"), ("service", "bar")]).to_string(),
        "filters --service and --from-service cannot be combined"
    );
    assert_eq!(
        error(&[("from-ip", "1.2.3.4"), ("from-fqdn", "doesnt.work")]).to_string(),
        "filters --from-fqdn and --from-ip cannot be combined"
    );
}

#[test]
fn combinations_hubble_accepts() {
    // Hubble's TestConflicts, the cases without a conflict.
    let ok: &[&[(&str, &str)]] = &[
        &[("to-service", "foo"), ("from-service", "bar")],
        &[
            ("to-service", "foo"),
            ("from-service", "bar"),
            ("from-identity", "world"),
            ("to-identity", "world"),
            ("to-ip", "1.2.3.4"),
            ("from-pod", "blib"),
            ("from-port", "1172"),
            ("to-port", "11245"),
            ("workload", "buzz"),
        ],
        &[
            ("to-service", "foo"),
            ("from-service", "bar"),
            ("from-identity", "world"),
            ("to-identity", "world"),
            ("to-ip", "1.2.3.4"),
            ("from-fqdn", "blib.example.com"),
            ("from-port", "1172"),
            ("to-port", "11245"),
            ("workload", "buzz"),
        ],
        &[
            ("to-service", "foo"),
            ("from-service", "bar"),
            ("from-identity", "world"),
            ("to-identity", "world"),
            ("to-fqdn", "example.com"),
            ("from-pod", "blib"),
            ("from-namespace", "test"),
            ("from-port", "1172"),
            ("to-port", "11245"),
            ("workload", "buzz"),
        ],
        &[
            ("service", "bar"),
            ("from-identity", "world"),
            ("to-identity", "world"),
            ("pod", "blib"),
            ("namespace", "test"),
            ("from-port", "1172"),
            ("to-port", "11245"),
            ("workload", "buzz"),
        ],
    ];
    for args in ok {
        flags(args)
            .to_request(now())
            .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    }
    // A flag in the allowlist and a conflicting one in the denylist are fine.
    let (allow, deny) = lists(&[("ip", "1.2.3.4"), ("not", ""), ("pod", "x")]);
    assert_eq!(
        allow,
        json!([{"source_ip": ["1.2.3.4"]}, {"destination_ip": ["1.2.3.4"]}])
    );
    assert_eq!(
        deny,
        json!([{"source_pod": ["x"]}, {"destination_pod": ["x"]}])
    );
}

#[test]
fn addresses_and_ports_are_checked() {
    for (flag, value) in [
        ("ip", "10.0.0.256"),
        ("from-ip", "10.0.0.0/33"),
        ("to-ip", "pod-a"),
        ("port", "http"),
        ("from-port", "65536"),
        ("to-port", "-1"),
    ] {
        let err = error(&[(flag, value)]);
        assert!(
            err.to_string()
                .starts_with(&format!("--{flag}: invalid value {value:?}: expected")),
            "{err}"
        );
    }
    assert_eq!(
        allow(&[("from-ip", "fd00::/64"), ("to-port", "65535")]),
        json!([{"source_ip": ["fd00::/64"], "destination_port": ["65535"]}])
    );
}

#[test]
fn selectors() {
    let with = |f: fn(&mut ObserveOptions)| {
        let mut opts = ObserveOptions::default();
        f(&mut opts);
        opts
    };
    let json_of = |opts: &ObserveOptions| serde_json::to_value(request(opts)).unwrap();
    assert_eq!(json_of(&with(|o| o.last = Some(5))), json!({"number": "5"}));
    assert_eq!(
        json_of(&with(|o| o.first = Some(3))),
        json!({"number": "3", "first": true})
    );
    assert_eq!(
        json_of(&with(|o| o.all = true)),
        json!({"number": "18446744073709551615"})
    );
    assert_eq!(json_of(&with(|o| o.follow = true)), json!({"follow": true}));
    assert_eq!(
        json_of(&with(|o| {
            o.follow = true;
            o.last = Some(10);
        })),
        json!({"number": "10", "follow": true})
    );

    for (opts, first, second) in [
        (
            with(|o| {
                o.first = Some(1);
                o.last = Some(1);
            }),
            "first",
            "last",
        ),
        (
            with(|o| {
                o.first = Some(1);
                o.all = true;
            }),
            "first",
            "all",
        ),
        (
            with(|o| {
                o.first = Some(1);
                o.follow = true;
            }),
            "first",
            "follow",
        ),
        (
            with(|o| {
                o.last = Some(1);
                o.all = true;
            }),
            "last",
            "all",
        ),
    ] {
        assert_eq!(
            opts.to_request(now()),
            Err(ObserveError::Selectors { first, second })
        );
    }
    assert_eq!(
        with(|o| {
            o.first = Some(1);
            o.last = Some(1);
        })
        .to_request(now())
        .unwrap_err()
        .to_string(),
        "cannot set both --first and --last"
    );
    assert_eq!(
        with(|o| {
            o.follow = true;
            o.output = Format::Table;
        })
        .to_request(now()),
        Err(ObserveError::TableFollow)
    );
}

#[test]
fn since_and_until() {
    let opts = ObserveOptions {
        since: Some("5m".into()),
        until: Some("2023-11-14T22:10:00.5+01:00".into()),
        ..Default::default()
    };
    let req = request(&opts);
    assert_eq!(
        req.since,
        Some(Timestamp {
            seconds: 1_699_999_700,
            nanos: 0
        })
    );
    assert_eq!(
        req.until,
        Some(Timestamp {
            seconds: 1_699_996_200,
            nanos: 500_000_000
        })
    );
    // With a time range, no default count.
    assert_eq!(req.number, 0);

    let relative = |s: &str| {
        request(&ObserveOptions {
            since: Some(s.into()),
            ..Default::default()
        })
        .since
        .unwrap()
    };
    assert_eq!(relative("1h30m").seconds, 1_700_000_000 - 5400);
    assert_eq!(
        relative("1.5s"),
        Timestamp {
            seconds: 1_699_999_998,
            nanos: 500_000_000
        }
    );
    assert_eq!(relative("2023-11-01").seconds, 1_698_796_800);
    assert_eq!(relative("2023-11-01T10Z").seconds, 1_698_796_800 + 36_000);

    // until is not sent when following.
    let follow = request(&ObserveOptions {
        follow: true,
        until: Some("1m".into()),
        ..Default::default()
    });
    assert_eq!(follow.until, None);

    assert_eq!(
        ObserveOptions {
            since: Some("yesterday".into()),
            ..Default::default()
        }
        .to_request(now())
        .unwrap_err()
        .to_string(),
        "--since: cannot read \"yesterday\" as a time: expected RFC 3339 (2024-05-01T10:00:00Z), a date (2024-05-01) or a duration ago (5m, 1h30m)"
    );
    assert!(matches!(
        ObserveOptions {
            until: Some("5".into()),
            ..Default::default()
        }
        .to_request(now()),
        Err(ObserveError::Time { flag: "until", .. })
    ));
}

#[test]
fn raw_allowlist_and_denylist() {
    let mut opts = flags(&[("verdict", "DROPPED")]);
    opts.allowlist =
        vec![r#"{"source_pod":["kube-system/"]}{"destination_pod":["kube-system/"]}"#.into()];
    opts.denylist = vec![r#"{"protocol":["dns"]}"#.into()];
    let req = request(&opts);
    assert_eq!(
        serde_json::to_value(&req.whitelist).unwrap(),
        json!([
            {"verdict": ["DROPPED"]},
            {"source_pod": ["kube-system/"]},
            {"destination_pod": ["kube-system/"]}
        ])
    );
    assert_eq!(
        serde_json::to_value(&req.blacklist).unwrap(),
        json!([{"protocol": ["dns"]}])
    );

    opts.denylist = vec!["{\"verdict\":[\"NOPE\"]}".into()];
    let err = opts.to_request(now()).unwrap_err();
    assert!(
        err.to_string().starts_with(
            "--denylist: cannot decode \"{\\\"verdict\\\":[\\\"NOPE\\\"]}\" as FlowFilter JSON: "
        ),
        "{err}"
    );
}

#[test]
fn raw_filters_print_as_hubble_prints_them() {
    let req = request(&flags(&[
        ("type", "drop"),
        ("namespace", "kube-system"),
        ("not", ""),
        ("http-path", "/a'b&c"),
    ]));
    assert_eq!(
        filters_yaml(&req).unwrap(),
        concat!(
            "allowlist:\n",
            "    - '{\"source_pod\":[\"kube-system/\"],\"event_type\":[{\"type\":1}]}'\n",
            "    - '{\"destination_pod\":[\"kube-system/\"],\"event_type\":[{\"type\":1}]}'\n",
            "denylist:\n",
            "    - '{\"http_path\":[\"/a''b\\u0026c\"]}'\n",
        )
    );
    assert_eq!(
        filters_yaml(&request(&ObserveOptions::default())).unwrap(),
        "{}\n"
    );
}

#[test]
fn flag_names_round_trip() {
    for &flag in FilterFlag::ALL {
        assert_eq!(FilterFlag::from_name(flag.name()), Some(flag));
    }
    assert_eq!(FilterFlag::from_name("not"), None);
}
