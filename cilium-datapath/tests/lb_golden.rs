//! Golden tests of the service path from Kubernetes to the maps: each case under
//! `tests/data/lb/<case>/` has an `input.yaml` — a `NodeContext` document (the node the
//! conversion runs for), then Services and EndpointSlices — which is converted with
//! `cilium_lb::k8s::services_from_k8s`, loaded into an `LbState` (Maglev tables of 251 slots),
//! applied to in-memory maps with `LbSync::in_memory`, and written out as text: the model
//! services (frontends, backends with state and locality, which backends each scope selects)
//! and the map dump. The text must equal the committed `expected.txt`.
//!
//! `UPDATE_GOLDEN=1 cargo test -p cilium-datapath --test lb_golden` rewrites the expected
//! files; review their diff before committing, they are the truth the tests hold us to.
//!
//! The `NodeContext` document:
//!
//! ```yaml
//! kind: NodeContext
//! name: node-a                  # endpoints with this nodeName are node-local
//! addresses: [192.168.1.10]     # NodePort frontends, besides 0.0.0.0 / ::
//! algorithm: random             # optional: the default algorithm (random | maglev)
//! algorithmAnnotation: true     # optional: honour service.cilium.io/lb-algorithm
//! ```
//!
//! No privileges needed: nothing touches the kernel.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use cilium_datapath::LbSync;
use cilium_lb::LbState;
use cilium_lb::k8s::{NodeContext, services_from_k8s};
use cilium_lb::maglev::MaglevConfig;
use cilium_lb::model::{Algorithm, Scope, Service, SessionAffinity};
use k8s_openapi::api::core::v1::Service as K8sService;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::serde::Deserialize;

const TABLE_SIZE: u32 = 251;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/lb")
}

/// What one `input.yaml` holds.
struct Input {
    node: NodeContext,
    services: Vec<K8sService>,
    slices: Vec<EndpointSlice>,
}

fn parse_node(doc: &serde_yaml::Value) -> NodeContext {
    let name = doc["name"].as_str().expect("NodeContext: name");
    let addresses: Vec<IpAddr> = doc["addresses"]
        .as_sequence()
        .into_iter()
        .flatten()
        .map(|a| {
            let text = a.as_str().expect("NodeContext: addresses are strings");
            text.parse()
                .unwrap_or_else(|_| panic!("NodeContext: {text:?} is not an address"))
        })
        .collect();
    let mut node = NodeContext::new(name, addresses);
    match doc["algorithm"].as_str() {
        None | Some("random") => {}
        Some("maglev") => node.algorithm = Algorithm::Maglev,
        Some(other) => panic!("NodeContext: algorithm {other:?} is not random or maglev"),
    }
    if let Some(honour) = doc["algorithmAnnotation"].as_bool() {
        node.algorithm_annotation = honour;
    }
    node
}

fn read_input(path: &Path) -> Input {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut node = None;
    let mut services = Vec::new();
    let mut slices = Vec::new();
    for (i, doc) in serde_yaml::Deserializer::from_str(&text).enumerate() {
        let value = serde_yaml::Value::deserialize(doc)
            .unwrap_or_else(|e| panic!("{} document {i}: {e}", path.display()));
        let at = || format!("{} document {i}", path.display());
        match value["kind"].as_str() {
            Some("NodeContext") => node = Some(parse_node(&value)),
            Some("Service") => services
                .push(serde_yaml::from_value(value).unwrap_or_else(|e| panic!("{}: {e}", at()))),
            Some("EndpointSlice") => slices
                .push(serde_yaml::from_value(value).unwrap_or_else(|e| panic!("{}: {e}", at()))),
            other => panic!(
                "{}: kind {other:?} is not NodeContext, Service or EndpointSlice",
                at()
            ),
        }
    }
    Input {
        node: node.unwrap_or_else(|| panic!("{}: no NodeContext document", path.display())),
        services,
        slices,
    }
}

fn algorithm_name(a: Algorithm) -> &'static str {
    match a {
        Algorithm::Random => "random",
        Algorithm::Maglev => "maglev",
    }
}

/// The model services, one block each.
fn describe(services: &[Service]) -> String {
    let mut out = String::new();
    for s in services {
        let affinity = match s.affinity {
            SessionAffinity::None => "none".to_owned(),
            SessionAffinity::ClientIp { timeout_secs } => format!("client-ip {timeout_secs}s"),
        };
        let _ = writeln!(
            out,
            "service {} type={} ext={} int={} affinity={} algorithm={}",
            s.id(),
            s.service_type,
            s.ext_traffic_policy,
            s.int_traffic_policy,
            affinity,
            algorithm_name(s.algorithm),
        );
        for f in &s.frontends {
            let _ = writeln!(out, "  frontend {f}");
        }
        for b in &s.backends {
            let _ = writeln!(
                out,
                "  backend {b} {} weight={} {} zone={}",
                b.state,
                b.weight,
                if b.node_local { "local" } else { "remote" },
                b.zone.as_deref().unwrap_or("-"),
            );
        }
        if !s.source_ranges.is_empty() {
            let ranges: Vec<String> = s.source_ranges.iter().map(|r| r.to_string()).collect();
            let _ = writeln!(out, "  source ranges {}", ranges.join(", "));
        }
        let scopes: &[Scope] = if s.has_two_scopes() {
            &[Scope::External, Scope::Internal]
        } else {
            &[Scope::External]
        };
        for &scope in scopes {
            let chosen: Vec<String> = s
                .selectable_backends(scope)
                .iter()
                .map(|b| b.to_string())
                .collect();
            let label = if s.has_two_scopes() {
                format!("selected ({scope})")
            } else {
                "selected".to_owned()
            };
            let list = if chosen.is_empty() {
                "none".to_owned()
            } else {
                chosen.join(", ")
            };
            let _ = writeln!(out, "  {label}: {list}");
        }
    }
    out
}

/// The text of one case: node, model services, maps.
fn render(case: &str) -> String {
    let input = read_input(&data_dir().join(case).join("input.yaml"));
    let mut services = Vec::new();
    for svc in &input.services {
        let name = svc.metadata.name.as_deref().unwrap_or("?");
        let converted = services_from_k8s(svc, &input.slices, &input.node)
            .unwrap_or_else(|e| panic!("{case}: Service {name}: {e}"));
        services.extend(converted);
    }
    let state = LbState::new(MaglevConfig::new(TABLE_SIZE, None).unwrap())
        .update(services.clone())
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    let mut sync = LbSync::in_memory(TABLE_SIZE);
    sync.apply(state)
        .unwrap_or_else(|e| panic!("{case}: apply: {e}"));

    let mut out = String::new();
    let _ = writeln!(
        out,
        "# lb golden case {case}: tests/data/lb/{case}/input.yaml through services_from_k8s, \
         LbState and LbSync::in_memory({TABLE_SIZE})"
    );
    let addrs: Vec<String> = input.node.addresses.iter().map(|a| a.to_string()).collect();
    let _ = writeln!(
        out,
        "# node {} addresses [{}] algorithm={} annotation={}",
        input.node.name,
        addrs.join(", "),
        algorithm_name(input.node.algorithm),
        if input.node.algorithm_annotation {
            "honoured"
        } else {
            "ignored"
        },
    );
    let _ = writeln!(out, "\n## model services: {}", services.len());
    out.push_str(&describe(&services));
    let _ = writeln!(out, "\n## maps");
    out.push_str(&sync.dump().unwrap_or_else(|e| panic!("{case}: dump: {e}")));
    out
}

/// A line diff of `want` and `got` (longest common subsequence), `-` for lines only in the
/// expected file, `+` for lines only in the output.
fn line_diff(want: &str, got: &str) -> String {
    let a: Vec<&str> = want.lines().collect();
    let b: Vec<&str> = got.lines().collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            let _ = writeln!(out, "  {}", a[i]);
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            let _ = writeln!(out, "- {}", a[i]);
            i += 1;
        } else {
            let _ = writeln!(out, "+ {}", b[j]);
            j += 1;
        }
    }
    out
}

fn check(case: &str) {
    let got = render(case);
    // Rendering twice gives the same text: nothing depends on hash order or timing.
    assert_eq!(got, render(case), "{case}: the output is not deterministic");
    let path = data_dir().join(case).join("expected.txt");
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::write(&path, &got).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (UPDATE_GOLDEN=1 writes it; review it before committing)",
            path.display()
        )
    });
    if got != want {
        panic!(
            "{case}: the output differs from {} (- expected, + got; UPDATE_GOLDEN=1 rewrites \
             it):\n{}",
            path.display(),
            line_diff(&want, &got)
        );
    }
}

macro_rules! cases {
    ($($test:ident => $dir:literal,)*) => {
        $(
            #[test]
            fn $test() {
                check($dir);
            }
        )*

        const CASES: &[&str] = &[$($dir),*];
    };
}

cases! {
    clusterip => "clusterip",
    nodeport => "nodeport",
    multi_port => "multi-port",
    named_ports => "named-ports",
    terminating => "terminating",
    terminating_only => "terminating-only",
    affinity => "affinity",
    traffic_policy_local => "traffic-policy-local",
    traffic_policy_local_none => "traffic-policy-local-none",
    loadbalancer => "loadbalancer",
    maglev => "maglev",
    dual_stack => "dual-stack",
}

#[test]
fn every_case_directory_is_a_test() {
    let mut on_disk: Vec<String> = std::fs::read_dir(data_dir())
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = CASES.iter().map(|c| (*c).to_owned()).collect();
    listed.sort();
    assert_eq!(on_disk, listed, "tests/data/lb and the cases! list differ");
}

#[test]
fn the_diff_marks_changed_lines() {
    assert_eq!(
        line_diff("a\nb\nc\n", "a\nx\nc\nd\n"),
        "  a\n- b\n+ x\n  c\n+ d\n"
    );
}
