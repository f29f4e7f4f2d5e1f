//! Cilium's distillery cases (`tests/data/distillery_cases.json`, a copy of
//! `../shared/conformance/policy/distillery_cases.json`): every Test_MergeRules case's ingress
//! map state and probe verdicts, every Test_MergeL3 case's map state and auth types, checked
//! with rules in every order for the L3 cases.

use std::collections::BTreeSet;

use cilium_core::NumericIdentity;
use cilium_policy::Direction;
use cilium_policy::offline::{CaseSpec, MapStateInput, MapStateRow, RuleRef};
use serde_json::Value;

fn data() -> Value {
    serde_json::from_str(include_str!("data/distillery_cases.json")).unwrap()
}

fn input(data: &Value, case: &Value) -> MapStateInput {
    serde_json::from_value(serde_json::json!({
        "rule_library": data["rule_library"],
        "identities": data["identities"],
        "case": {"rules": case["rules"], "subject": case["subject"]},
    }))
    .unwrap()
}

fn rows(expected: &Value) -> BTreeSet<(u32, u8, u16, String)> {
    expected
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["identity"].as_u64().unwrap() as u32,
                e["proto"].as_u64().unwrap() as u8,
                e["dport"].as_u64().unwrap() as u16,
                e["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn got(rows: &[MapStateRow]) -> BTreeSet<(u32, u8, u16, String)> {
    rows.iter()
        .map(|r| (r.identity, r.proto, r.dport, r.action.clone()))
        .collect()
}

#[test]
fn merge_rules_map_states_and_probes() {
    let data = data();
    let cases = data["cases_mergerules"].as_array().unwrap();
    assert_eq!(cases.len(), 128);
    let mut failures = Vec::new();
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let inp = input(&data, case);
        let state = inp.map_state_rows(Direction::Ingress).unwrap();
        if got(&state) != rows(&case["expected_ingress_mapstate"]) {
            failures.push(format!(
                "{id}: got {:?}, want {:?}",
                got(&state),
                rows(&case["expected_ingress_mapstate"])
            ));
            continue;
        }
        let (_, policy) = inp.evaluate(None).unwrap();
        for probe in case["probe_verdicts"].as_array().unwrap() {
            let proto = match probe["proto"].as_str().unwrap() {
                "TCP" => 6,
                "UDP" => 17,
                other => panic!("{other}"),
            };
            let r = policy.map_state.lookup(
                Direction::Ingress,
                NumericIdentity::new(probe["src_identity"].as_u64().unwrap() as u32),
                proto,
                probe["dport"].as_u64().unwrap() as u16,
            );
            let want = (
                probe["verdict"].as_str().unwrap(),
                probe["match_type"].as_str().unwrap(),
            );
            if (r.verdict_text(), r.match_type.as_str()) != want {
                failures.push(format!(
                    "{id} probe {probe}: got {} {}",
                    r.verdict_text(),
                    r.match_type.as_str()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![vec![]];
    }
    let mut out = Vec::new();
    for p in permutations(n - 1) {
        for i in 0..=p.len() {
            let mut q = p.clone();
            q.insert(i, n - 1);
            out.push(q);
        }
    }
    out
}

#[test]
fn merge_l3_cases_in_every_rule_order() {
    let data = data();
    let mut failures = Vec::new();
    for case in data["cases_mergel3"].as_array().unwrap() {
        let id = case["id"].as_str().unwrap();
        let base = input(&data, case);
        let n = base.case.rules.len();
        let want = rows(&case["expected_ingress_mapstate"]);
        for order in permutations(n) {
            let mut inp = base.clone();
            inp.case = CaseSpec {
                rules: order
                    .iter()
                    .map(|&i| base.case.rules[i].clone())
                    .collect::<Vec<RuleRef>>(),
                ..base.case.clone()
            };
            let state = inp.map_state_rows(Direction::Ingress).unwrap();
            if got(&state) != want {
                failures.push(format!(
                    "{id} order {order:?}: got {:?}, want {want:?}",
                    got(&state)
                ));
                continue;
            }
            // Explicit auth on an entry must be that entry's auth; derived values differ
            // between Cilium versions (see the case note) and are not compared.
            let (_, policy) = inp.evaluate(None).unwrap();
            for e in case["expected_ingress_mapstate"].as_array().unwrap() {
                let key = policy
                    .map_state
                    .iter()
                    .find(|(k, _)| {
                        k.identity.as_u32() == e["identity"].as_u64().unwrap() as u32
                            && k.protocol == e["proto"].as_u64().unwrap() as u8
                            && k.direction == Direction::Ingress
                            && (k.port.prefix_len() == 0) == (e["dport"].as_u64().unwrap() == 0)
                    })
                    .map(|(_, v)| v.auth);
                let auth = e["auth"].as_str().unwrap_or("");
                if let Some(name) = auth.strip_suffix("(explicit)") {
                    let name = if name == "always-fail" {
                        "test-always-fail"
                    } else {
                        name
                    };
                    if key.flatten().map(|a| a.name()) != Some(name) {
                        failures.push(format!("{id}: entry {e} has auth {key:?}"));
                    }
                } else if e["auth"].is_null() && key.flatten().is_some() {
                    failures.push(format!(
                        "{id}: entry {e} should have no explicit auth, has {key:?}"
                    ));
                }
            }
            for (peer, types) in case["expected_auth_types_by_remote"].as_object().unwrap() {
                let peer_id = data["identities"][peer]["id"].as_u64().unwrap() as u32;
                let got: BTreeSet<&str> = policy
                    .map_state
                    .auth_types_for(Direction::Ingress, NumericIdentity::new(peer_id))
                    .into_iter()
                    .map(|a| {
                        if a.name() == "test-always-fail" {
                            "always-fail"
                        } else {
                            a.name()
                        }
                    })
                    .collect();
                let want: BTreeSet<&str> = types
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t.as_str().unwrap())
                    .collect();
                if got != want {
                    failures.push(format!(
                        "{id}: auth types of {peer}: got {got:?}, want {want:?}"
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
