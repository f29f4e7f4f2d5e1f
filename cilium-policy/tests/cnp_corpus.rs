//! The CiliumNetworkPolicy corpus (`tests/data/cnp/`, a copy of `../shared/conformance/cnp/`):
//! every file is accepted or rejected as `INDEX.json` says, rejected files name the field the
//! index names, and a rejected load leaves the previous policy in force.

use std::path::Path;

use cilium_core::{LabelSet, NumericIdentity};
use cilium_policy::{
    CompileOptions, Direction, EndpointInfo, EngineConfig, NamedPortTable, PolicyEngine,
    compile_text,
};
use serde_json::Value;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/cnp");

#[test]
fn corpus_verdicts_match_the_index() {
    let index: Value =
        serde_json::from_str(&std::fs::read_to_string(Path::new(DIR).join("INDEX.json")).unwrap())
            .unwrap();
    let files = index["files"].as_array().unwrap();
    assert_eq!(files.len(), 30);
    let mut failures = Vec::new();
    for f in files {
        let name = f["file"].as_str().unwrap();
        let verdict = f["verdict"].as_str().unwrap();
        let text = std::fs::read_to_string(Path::new(DIR).join(name)).unwrap();
        let result = compile_text(&text, &CompileOptions::default());
        // How each verdict reads for this project (DESIGN.md: Kafka rules as in Cilium 1.18;
        // fromRequires follows the 1.20 CRD; node selectors need the agent option).
        let (want_valid, with_node_labels) = if verdict == "valid"
            || verdict.starts_with("valid for Cilium <= 1.18")
        {
            (true, None)
        } else if verdict.starts_with("valid-crd; agent rejects unless enable-node-selector-labels")
        {
            (false, Some(true))
        } else if verdict.starts_with("invalid") {
            (false, None)
        } else {
            panic!("{name}: verdict {verdict:?} is not handled by this test");
        };
        match (&result, want_valid) {
            (Ok(_), true) => {}
            (Err(e), false) => {
                // The error names a field the index names.
                let paths: Vec<String> = f["crd_unknown_or_dropped_fields"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .chain(f["sanitize_issues"].as_array().unwrap())
                    .chain(f["crd_structural_errors"].as_array().unwrap())
                    .map(|p| p.as_str().unwrap().split(':').next().unwrap().to_owned())
                    .collect();
                let text = e.to_string();
                if !paths.iter().any(|p| text.contains(p.as_str())) {
                    failures.push(format!("{name}: error {text:?} names none of {paths:?}"));
                }
            }
            (r, _) => failures.push(format!("{name}: verdict {verdict:?} but got {r:?}")),
        }
        if let Some(valid) = with_node_labels {
            let opts = CompileOptions {
                enable_node_selector_labels: true,
                ..CompileOptions::default()
            };
            if compile_text(&text, &opts).is_ok() != valid {
                failures.push(format!(
                    "{name}: with enable_node_selector_labels expected valid={valid}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn shared_corpus_has_not_drifted() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance");
    let pairs = [
        ("cnp/INDEX.json", "cnp/INDEX.json"),
        ("distillery_cases.json", "policy/distillery_cases.json"),
        ("netpol_cases.json", "netpol/netpol_cases.json"),
        ("matchpattern_cases.json", "fqdn/matchpattern_cases.json"),
    ];
    for (ours, theirs) in pairs {
        let theirs = shared.join(theirs);
        if !theirs.exists() {
            println!("skip drift check of {ours}: {} is absent", theirs.display());
            continue;
        }
        let ours_path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(ours);
        assert_eq!(
            std::fs::read(&ours_path).unwrap(),
            std::fs::read(&theirs).unwrap(),
            "tests/data/{ours} differs from {}",
            theirs.display()
        );
    }
}

const GOOD: &str = r#"
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  endpointSelector: {matchLabels: {app: web}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: client}}]
    toPorts: [{ports: [{port: "80", protocol: TCP}]}]
"#;

const BAD: &str = r#"
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  endpointSelector: {matchLabels: {app: web}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: client}}]
    toPorts: [{ports: [{port: "http-x-very-long-name", protocol: TCP}]}]
"#;

#[test]
fn invalid_policy_leaves_the_previous_policy_in_force() {
    let mut engine = PolicyEngine::new(EngineConfig::default());
    engine.load_text("web.yaml", GOOD).unwrap();
    let ns = "k8s:io.kubernetes.pod.namespace=shop";
    let web = LabelSet::parse_list(&["k8s:app=web", ns]);
    engine.upsert_identity(NumericIdentity::new(1000), web.clone());
    engine.upsert_identity(
        NumericIdentity::new(1001),
        LabelSet::parse_list(&["k8s:app=client", ns]),
    );
    let before = engine.revision();
    let err = engine.load_text("web.yaml", BAD).unwrap_err();
    assert_eq!(err.0.len(), 1);
    assert_eq!(err.0[0].path, ".spec.ingress[0].toPorts[0].ports[0].port");
    assert!(
        err.0[0].message.contains("longer than 15"),
        "{}",
        err.0[0].message
    );
    assert_eq!(engine.revision(), before);
    let policy = engine
        .resolve(
            &EndpointInfo::new(NumericIdentity::new(1000), web),
            &NamedPortTable::new(),
        )
        .unwrap();
    assert!(
        policy
            .map_state
            .lookup(Direction::Ingress, NumericIdentity::new(1001), 6, 80)
            .allowed()
    );
}
